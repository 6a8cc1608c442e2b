file(REMOVE_RECURSE
  "libkreek.a"
)
