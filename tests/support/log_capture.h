// tests/support/log_capture.h — collects otlp-cpp's diagnostics (otlp/core/log.h) while it
// lives, for assertions on what was logged.
//
//   otlp::test::LogCapture logs;
//   ... code that logs ...
//   EXPECT_THAT(logs.text(), HasSubstr("spans not delivered"));
//
// Installs a process-wide log handler and removes it in its destructor: one at a time. The
// handler may be called from any thread. Header-only.
#pragma once

#include <string>
#include <string_view>

#include "otlp/core/internal/mutex.h"
#include "otlp/core/log.h"

namespace otlp::test {

class LogCapture {
 public:
  LogCapture() {
    SetLogHandler([this](LogLevel, std::string_view msg) {
      otlp::internal::MutexLock lock(mu_);
      text_ += std::string(msg) + "\n";
    });
  }
  ~LogCapture() { SetLogHandler(nullptr); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Every message so far, one per line.
  std::string text() const {
    otlp::internal::MutexLock lock(mu_);
    return text_;
  }

 private:
  mutable otlp::internal::Mutex mu_;
  std::string text_ OTLP_GUARDED_BY(mu_);
};

}  // namespace otlp::test
