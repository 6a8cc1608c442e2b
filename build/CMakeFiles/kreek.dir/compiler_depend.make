# Empty compiler generated dependencies file for kreek.
# This may be replaced when dependencies are built.
