#include "tests/support/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

extern char** environ;

namespace otlp::test {

ChildProcess::ChildProcess(const std::string& path, std::vector<std::string> args,
                           const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv_s{path};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (entry.starts_with("OTEL_") || entry.starts_with("TRACEPARENT=") ||
        entry.starts_with("TRACESTATE=")) {
      continue;
    }
    env_s.emplace_back(entry);
  }
  for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  for (auto& s : env_s) envp.push_back(s.data());
  envp.push_back(nullptr);

  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return;
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  close(err[1]);
  out_fd_ = out[0];
  err_fd_ = err[0];
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !waited_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

void ChildProcess::Signal(int sig) {
  if (pid_ > 0 && !waited_) kill(pid_, sig);
}

std::optional<std::string> ChildProcess::ReadLine(std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (true) {
    const size_t nl = out_.find('\n', consumed_);
    if (nl != std::string::npos) {
      std::string line = out_.substr(consumed_, nl - consumed_);
      consumed_ = nl + 1;
      return line;
    }
    if (out_fd_ < 0 || !Pump(deadline)) return std::nullopt;
  }
}

bool ChildProcess::WaitForOut(std::string_view needle, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (out_.find(needle) == std::string::npos) {
    if (out_fd_ < 0 || !Pump(deadline)) return false;
  }
  return true;
}

bool ChildProcess::WaitForErr(std::string_view needle, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (err_.find(needle) == std::string::npos) {
    if (err_fd_ < 0 || !Pump(deadline)) return false;
  }
  return true;
}

bool ChildProcess::Finish(std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  bool in_time = true;
  while (out_fd_ >= 0 || err_fd_ >= 0) {
    if (!Pump(deadline)) {
      in_time = false;
      Signal(SIGKILL);
      break;
    }
  }
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  waited_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return in_time;
}

bool ChildProcess::Pump(Clock::time_point deadline) {
  pollfd fds[2];
  int n = 0;
  if (out_fd_ >= 0) fds[n++] = {out_fd_, POLLIN, 0};
  if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
  if (n == 0) return true;
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return false;
  const int r = poll(fds, static_cast<nfds_t>(n), static_cast<int>(left.count()));
  if (r < 0) return errno == EINTR;
  if (r == 0) return false;
  for (int i = 0; i < n; ++i) {
    if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    int& fd = fds[i].fd == out_fd_ ? out_fd_ : err_fd_;
    std::string& buf = fds[i].fd == out_fd_ ? out_ : err_;
    char chunk[4096];
    const ssize_t got = read(fd, chunk, sizeof chunk);
    if (got > 0) {
      buf.append(chunk, static_cast<size_t>(got));
    } else if (got == 0 || errno != EINTR) {
      close(fd);
      fd = -1;
    }
  }
  return true;
}

}  // namespace otlp::test
