file(REMOVE_RECURSE
  "CMakeFiles/kreek_unit.dir/lib/base/clock_test.cpp.o"
  "CMakeFiles/kreek_unit.dir/lib/base/clock_test.cpp.o.d"
  "CMakeFiles/kreek_unit.dir/lib/base/crc32c_test.cpp.o"
  "CMakeFiles/kreek_unit.dir/lib/base/crc32c_test.cpp.o.d"
  "CMakeFiles/kreek_unit.dir/tests/unit_main.cpp.o"
  "CMakeFiles/kreek_unit.dir/tests/unit_main.cpp.o.d"
  "kreek_unit"
  "kreek_unit.pdb"
  "kreek_unit_tests-b858cb2.cmake"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/kreek_unit.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
