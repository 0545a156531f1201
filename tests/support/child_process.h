// tests/support/child_process.h — a program run by a test (the `otlp` CLI, usually) with its
// stdout and stderr read through pipes, for tests that talk to it while it runs:
//
//   otlp::test::ChildProcess view(OTLP_CLI_PATH, {"view", "--http", "0"});
//   ASSERT_TRUE(view.WaitForOut("UI on", 30s));
//   view.Signal(SIGINT);
//   ASSERT_TRUE(view.Finish());            // reads both pipes to EOF, then reaps it
//   EXPECT_EQ(view.exit_code(), 0);
//
// The environment is the test's minus OTEL_*, TRACEPARENT and TRACESTATE, plus `env`; stdin is
// /dev/null. Finish() reads to EOF, which also waits for every process that inherited the
// pipes (children of the child). The destructor kills and reaps a process not yet finished.
// Limits passed to the waits are bounds against a hang, not timing checks.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otlp::test {

class ChildProcess {
 public:
  using Clock = std::chrono::steady_clock;

  ChildProcess(const std::string& path, std::vector<std::string> args,
               const std::map<std::string, std::string>& env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  void Signal(int sig);

  // The next complete line of stdout (without '\n'); nullopt at EOF or when `limit` passes.
  std::optional<std::string> ReadLine(std::chrono::milliseconds limit);
  // Reads until stdout (WaitForOut) or stderr (WaitForErr) contains `needle`; false at EOF or
  // when `limit` passes.
  bool WaitForOut(std::string_view needle, std::chrono::milliseconds limit);
  bool WaitForErr(std::string_view needle, std::chrono::milliseconds limit);
  // Reads both pipes to EOF and reaps the process; false when `limit` passed first (the process
  // is then killed).
  bool Finish(std::chrono::milliseconds limit = std::chrono::seconds(120));

  int exit_code() const { return exit_code_; }  // 128 + signal when killed by one
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  // Waits for output on the open pipes and appends it; false when the deadline passed.
  bool Pump(Clock::time_point deadline);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_, err_;
  size_t consumed_ = 0;  // of out_, by ReadLine
  bool waited_ = false;
  int exit_code_ = -1;
};

}  // namespace otlp::test
