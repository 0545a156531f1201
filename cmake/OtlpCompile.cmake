# Warnings, sanitizers and the test helper shared by every target.
add_library(otlp_warnings INTERFACE)
target_compile_options(otlp_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  # g++ 12 warns when a designated initializer leaves fields to their defaults, which is how
  # every options struct here is meant to be used.
  -Wno-missing-field-initializers
  # g++ 12 reports -Wrestrict inside libstdc++'s std::string operator+ (GCC bug 105651).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
  # g++ 12 -O2 false positives on std::string members of aggregates built with designated
  # initializers; clang's -Wuninitialized and the sanitizer runs still cover this ground.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>
  $<$<CXX_COMPILER_ID:Clang>:-Wthread-safety>)
if(DEFINED ENV{CI} OR OTLP_WERROR)
  target_compile_options(otlp_warnings INTERFACE -Werror)
endif()

if(OTLP_SANITIZE)
  add_compile_options(-fsanitize=${OTLP_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${OTLP_SANITIZE})
endif()

# otlp_add_test(NAME <name> SOURCES <files...> [LIBS <targets...>] [LABELS <labels...>])
# One executable per unit; every TEST becomes its own ctest entry.
function(otlp_add_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gmock GTest::gtest_main otlp_warnings)
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  gtest_discover_tests(${T_NAME} PROPERTIES LABELS "${T_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()
