include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_otlp_targets otlp_core)
if(OTLP_WITH_NET)
  list(APPEND _otlp_targets otlp_net otlp_exporter)
endif()
install(TARGETS ${_otlp_targets} EXPORT otlpTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY otlp/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/otlp
  FILES_MATCHING PATTERN "*.h" PATTERN "internal" EXCLUDE)
# The internal headers that public ones include: the span record, so that Span::SetAttribute
# is inlined at the caller. Not an API: they change with the library.
install(FILES otlp/trace/internal/span_record.h otlp/trace/internal/packed_span.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/otlp/trace/internal)
install(FILES otlp/core/internal/bytes.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/otlp/core/internal)
install(EXPORT otlpTargets NAMESPACE otlp:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/otlp)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/otlpConfig.cmake.in
  ${PROJECT_BINARY_DIR}/otlpConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/otlp)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/otlpConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/otlpConfig.cmake ${PROJECT_BINARY_DIR}/otlpConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/otlp)
configure_file(${PROJECT_SOURCE_DIR}/cmake/otlp.pc.in ${PROJECT_BINARY_DIR}/otlp.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/otlp.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
