
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/lib/base/clock_test.cpp" "CMakeFiles/kreek_unit.dir/lib/base/clock_test.cpp.o" "gcc" "CMakeFiles/kreek_unit.dir/lib/base/clock_test.cpp.o.d"
  "/work/main/lib/base/crc32c_test.cpp" "CMakeFiles/kreek_unit.dir/lib/base/crc32c_test.cpp.o" "gcc" "CMakeFiles/kreek_unit.dir/lib/base/crc32c_test.cpp.o.d"
  "/work/main/tests/unit_main.cpp" "CMakeFiles/kreek_unit.dir/tests/unit_main.cpp.o" "gcc" "CMakeFiles/kreek_unit.dir/tests/unit_main.cpp.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build/CMakeFiles/kreek.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
