file(REMOVE_RECURSE
  "libmc_engine.a"
)
