# Empty compiler generated dependencies file for metallic-check.
# This may be replaced when dependencies are built.
