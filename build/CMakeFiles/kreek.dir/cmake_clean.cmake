file(REMOVE_RECURSE
  "CMakeFiles/kreek.dir/lib/base/clock.cpp.o"
  "CMakeFiles/kreek.dir/lib/base/clock.cpp.o.d"
  "CMakeFiles/kreek.dir/lib/base/crc32c.cpp.o"
  "CMakeFiles/kreek.dir/lib/base/crc32c.cpp.o.d"
  "CMakeFiles/kreek.dir/lib/base/error_code.cpp.o"
  "CMakeFiles/kreek.dir/lib/base/error_code.cpp.o.d"
  "CMakeFiles/kreek.dir/lib/base/log.cpp.o"
  "CMakeFiles/kreek.dir/lib/base/log.cpp.o.d"
  "CMakeFiles/kreek.dir/lib/base/status.cpp.o"
  "CMakeFiles/kreek.dir/lib/base/status.cpp.o.d"
  "libkreek.a"
  "libkreek.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/kreek.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
