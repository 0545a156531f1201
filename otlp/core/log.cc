#include "otlp/core/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "otlp/core/internal/mutex.h"

namespace otlp {
namespace {

LogLevel InitialLevel() {
  LogLevel level = LogLevel::kInfo;
  if (const char* v = std::getenv("OTEL_LOG_LEVEL"); v != nullptr && *v != '\0') {
    if (!ParseLogLevel(v, level)) {
      std::fprintf(stderr, "otlp-cpp: warn: OTEL_LOG_LEVEL=%s: unknown level; using info\n", v);
      level = LogLevel::kInfo;
    }
  }
  return level;
}

std::atomic<LogLevel>& Level() {
  static std::atomic<LogLevel> level{InitialLevel()};
  return level;
}

struct HandlerSlot {
  internal::Mutex mu;
  LogHandler handler OTLP_GUARDED_BY(mu);  // called with `mu` held, so messages never interleave
};
HandlerSlot& Slot() {
  static auto* slot = new HandlerSlot;  // never destroyed: may be used during static teardown
  return *slot;
}

}  // namespace

void SetLogHandler(LogHandler handler) {
  auto& s = Slot();
  internal::MutexLock lock(s.mu);
  s.handler = std::move(handler);
}

void SetLogLevel(LogLevel level) noexcept { Level().store(level, std::memory_order_relaxed); }
LogLevel GetLogLevel() noexcept { return Level().load(std::memory_order_relaxed); }

bool ParseLogLevel(std::string_view text, LogLevel& out) noexcept {
  std::string l;
  for (char c : text) l.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
  if (l == "debug" || l == "trace") out = LogLevel::kDebug;
  else if (l == "info") out = LogLevel::kInfo;
  else if (l == "warn" || l == "warning") out = LogLevel::kWarn;
  else if (l == "error" || l == "fatal") out = LogLevel::kError;
  else if (l == "none" || l == "off") out = LogLevel::kNone;
  else return false;
  return true;
}

std::string_view LogLevelName(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kNone: return "none";
  }
  return "none";
}

namespace internal {

bool LogEnabled(LogLevel level) noexcept {
  LogLevel min = GetLogLevel();
  return min != LogLevel::kNone && level >= min;
}

void LogMessage(LogLevel level, std::string_view message) noexcept {
  try {
    auto& s = Slot();
    internal::MutexLock lock(s.mu);
    if (s.handler) {
      s.handler(level, message);
      return;
    }
    std::fprintf(stderr, "otlp-cpp: %.*s: %.*s\n", static_cast<int>(LogLevelName(level).size()),
                 LogLevelName(level).data(), static_cast<int>(message.size()), message.data());
  } catch (...) {
    // Diagnostics never throw into the caller.
  }
}

}  // namespace internal
}  // namespace otlp
