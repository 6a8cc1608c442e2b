
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/lib/base/clock.cpp" "CMakeFiles/kreek.dir/lib/base/clock.cpp.o" "gcc" "CMakeFiles/kreek.dir/lib/base/clock.cpp.o.d"
  "/work/main/lib/base/crc32c.cpp" "CMakeFiles/kreek.dir/lib/base/crc32c.cpp.o" "gcc" "CMakeFiles/kreek.dir/lib/base/crc32c.cpp.o.d"
  "/work/main/lib/base/error_code.cpp" "CMakeFiles/kreek.dir/lib/base/error_code.cpp.o" "gcc" "CMakeFiles/kreek.dir/lib/base/error_code.cpp.o.d"
  "/work/main/lib/base/log.cpp" "CMakeFiles/kreek.dir/lib/base/log.cpp.o" "gcc" "CMakeFiles/kreek.dir/lib/base/log.cpp.o.d"
  "/work/main/lib/base/status.cpp" "CMakeFiles/kreek.dir/lib/base/status.cpp.o" "gcc" "CMakeFiles/kreek.dir/lib/base/status.cpp.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
