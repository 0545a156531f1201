include(GNUInstallDirs)

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

# otlp_add_module(<name>
#   [SOURCES <files...>]            sources, relative to the calling folder
#   [PUBLIC_DEPS <targets...>]      what users of the module also need
#   [PRIVATE_DEPS <targets...>]     what only the module's own sources need
#   [HEADER_DIRS <dirs...>]         folders under otlp/ whose headers are the module's public API
#                                   (default: the calling folder); internal/ subfolders are not
#                                   installed
#   [HEADERS <files...>]            single headers under otlp/ that belong to it (e.g. otlp.h)
#   [INTERNAL_HEADERS <files...>]   internal headers that public ones include (installed, not API)
#   [TESTS <names...>]              unit tests: <name>.cc in the calling folder, one executable
#                                   each, linked with the module (+ TEST_LIBS)
#   [TEST_LIBS <targets...>])
# Declares the library otlp_<name> (alias and exported name otlp::<name>): C++20,
# position-independent, hidden symbols unless marked OTLP_EXPORT (otlp/core/export.h), the
# project's warnings. OtlpInstall.cmake installs every declared module with its headers.
function(otlp_add_module name)
  cmake_parse_arguments(M ""
    "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS;HEADER_DIRS;HEADERS;INTERNAL_HEADERS;TESTS;TEST_LIBS"
    ${ARGN})
  set(t otlp_${name})
  add_library(${t} ${M_SOURCES})
  add_library(otlp::${name} ALIAS ${t})
  set_target_properties(${t} PROPERTIES
    EXPORT_NAME ${name} OUTPUT_NAME ${t} POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_include_directories(${t} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(${t} PUBLIC cxx_std_20)
  target_compile_definitions(${t} PRIVATE OTLP_VERSION="${PROJECT_VERSION}" OTLP_BUILDING_LIBRARY)
  target_link_libraries(${t}
    PUBLIC ${M_PUBLIC_DEPS}
    PRIVATE ${M_PRIVATE_DEPS} $<BUILD_INTERFACE:otlp_warnings>)

  if(NOT M_HEADER_DIRS AND NOT M_HEADERS)
    file(RELATIVE_PATH M_HEADER_DIRS ${PROJECT_SOURCE_DIR}/otlp ${CMAKE_CURRENT_SOURCE_DIR})
  endif()
  set_property(GLOBAL APPEND PROPERTY OTLP_MODULES ${t})
  set_property(TARGET ${t} PROPERTY OTLP_HEADER_DIRS ${M_HEADER_DIRS})
  set_property(TARGET ${t} PROPERTY OTLP_HEADERS ${M_HEADERS} ${M_INTERNAL_HEADERS})

  if(OTLP_BUILD_TESTS)
    foreach(test IN LISTS M_TESTS)
      otlp_add_test(NAME ${test} SOURCES ${test}.cc LIBS ${t} ${M_TEST_LIBS})
    endforeach()
  endif()
endfunction()
