# Empty dependencies file for kreek.
# This may be replaced when dependencies are built.
