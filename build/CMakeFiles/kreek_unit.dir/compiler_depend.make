# Empty compiler generated dependencies file for kreek_unit.
# This may be replaced when dependencies are built.
