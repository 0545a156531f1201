// otlp/core/log.h — otlp-cpp's own diagnostics: one hook, a level, and rate-free formatting.
//
//   otlp::SetLogHandler([](otlp::LogLevel l, std::string_view msg) { MyLogger(l, msg); });
//   otlp::SetLogLevel(otlp::LogLevel::kWarn);
//
// By default messages at or above the level from OTEL_LOG_LEVEL (info) go to stderr as
// "otlp-cpp: warn: <message>". Thread-safety: all functions are thread-safe; the handler may be
// called from any thread (export thread, I/O thread) and must not call back into otlp-cpp.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "otlp/core/export.h"

namespace otlp {

enum class LogLevel : unsigned char { kDebug, kInfo, kWarn, kError, kNone };

using LogHandler = std::function<void(LogLevel, std::string_view)>;

// Replaces the handler (nullptr restores the stderr default).
OTLP_EXPORT void SetLogHandler(LogHandler handler);
OTLP_EXPORT void SetLogLevel(LogLevel level) noexcept;
OTLP_EXPORT LogLevel GetLogLevel() noexcept;
// Parses "debug", "info", "warn", "error", "none" (case-insensitive).
OTLP_EXPORT bool ParseLogLevel(std::string_view text, LogLevel& out) noexcept;
OTLP_EXPORT std::string_view LogLevelName(LogLevel level) noexcept;

namespace internal {
OTLP_EXPORT bool LogEnabled(LogLevel level) noexcept;
OTLP_EXPORT void LogMessage(LogLevel level, std::string_view message) noexcept;
}  // namespace internal

}  // namespace otlp

#define OTLP_LOG(level, msg_expr)                                        \
  do {                                                                   \
    if (::otlp::internal::LogEnabled(::otlp::LogLevel::level)) {         \
      ::otlp::internal::LogMessage(::otlp::LogLevel::level, (msg_expr)); \
    }                                                                    \
  } while (false)
