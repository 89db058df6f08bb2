# redisfleet_library(NAME SOURCES a.cpp b.cpp DEPS target...)
#   A static library target `redisfleet_<NAME>` with src/ on its include path, so code includes
#   "common/status.h", "api/types.h", ...
function(redisfleet_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(redisfleet_${name} STATIC ${ARG_SOURCES})
  target_include_directories(redisfleet_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(redisfleet_${name} PUBLIC ${ARG_DEPS})
endfunction()

# redisfleet_test(NAME SOURCES a_test.cpp DEPS target... LABELS unit|integration|e2e)
#   A GoogleTest binary registered with ctest under the given label. Integration and e2e tests
#   receive the built binary's path in REDISFLEET_BIN.
function(redisfleet_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "REDISFLEET_BIN=$<TARGET_FILE:redis-fleet>;REDISFLEET_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

# Adds every direct subfolder of the current source dir that has a CMakeLists.txt (new folders
# are picked up at the next configure).
function(redisfleet_add_subfolders)
  file(GLOB children LIST_DIRECTORIES true ${CMAKE_CURRENT_SOURCE_DIR}/*)
  foreach(child ${children})
    if(IS_DIRECTORY ${child} AND EXISTS ${child}/CMakeLists.txt)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()
