// otlp/core/version.h — the library version (also read by CMake's project()).
#pragma once

#define OTLP_VERSION_MAJOR 0
#define OTLP_VERSION_MINOR 1
#define OTLP_VERSION_PATCH 0
#define OTLP_VERSION_STRING "0.1.0"

namespace otlp {
inline constexpr const char* kVersion = OTLP_VERSION_STRING;
inline constexpr const char* kUserAgent = "otlp-cpp/" OTLP_VERSION_STRING;
}  // namespace otlp
