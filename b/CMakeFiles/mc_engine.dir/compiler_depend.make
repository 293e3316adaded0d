# Empty compiler generated dependencies file for mc_engine.
# This may be replaced when dependencies are built.
