include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Every module declared with otlp_add_module, with the headers it declared: a build without the
# network layer installs neither its libraries nor its headers.
get_property(_otlp_modules GLOBAL PROPERTY OTLP_MODULES)
install(TARGETS ${_otlp_modules} EXPORT otlpTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(_otlp_pc_libs "")
foreach(_module IN LISTS _otlp_modules)
  get_property(_dirs TARGET ${_module} PROPERTY OTLP_HEADER_DIRS)
  foreach(_dir IN LISTS _dirs)
    install(DIRECTORY otlp/${_dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/otlp/${_dir}
      FILES_MATCHING PATTERN "*.h" PATTERN "internal" EXCLUDE PATTERN "ui" EXCLUDE
      PATTERN "*_test*.h" EXCLUDE)  # test helpers beside the code are not API
  endforeach()
  get_property(_files TARGET ${_module} PROPERTY OTLP_HEADERS)
  foreach(_file IN LISTS _files)
    get_filename_component(_subdir ${_file} DIRECTORY)
    install(FILES otlp/${_file} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/otlp/${_subdir})
  endforeach()
  string(PREPEND _otlp_pc_libs "-l${_module} ")  # dependents first for static linking
endforeach()

set(_otlp_pc_requires "")
if(TARGET otlp_net)
  set(_otlp_pc_requires "Requires.private: openssl zlib libbrotlidec libzstd libnghttp2 sqlite3")
endif()

install(EXPORT otlpTargets NAMESPACE otlp:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/otlp)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/otlpConfig.cmake.in
  ${PROJECT_BINARY_DIR}/otlpConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/otlp)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/otlpConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/otlpConfig.cmake ${PROJECT_BINARY_DIR}/otlpConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/otlp)
configure_file(${PROJECT_SOURCE_DIR}/cmake/otlp.pc.in ${PROJECT_BINARY_DIR}/otlp.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/otlp.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
