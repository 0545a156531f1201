#include "tests/conformance/conformance_support.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#ifndef OTLP_CONFORMANCE_DIR
#error "OTLP_CONFORMANCE_DIR must name the tests/conformance source directory"
#endif

extern char** environ;

namespace otlp::test {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kDir = OTLP_CONFORMANCE_DIR;

}  // namespace

std::string NodeSkipReason() {
  const std::string dir = kDir;
  if (!std::filesystem::exists(
          dir + "/node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js")) {
    return "node_modules missing: run `npm ci` in " + dir;
  }
  if (std::system("node --version >/dev/null 2>&1") != 0) return "node is not installed";
  return {};
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

NodeResult RunNodeScript(std::string_view script, std::string_view args) {
  std::string cmd = std::string("node '") + kDir + "/";
  cmd.append(script).append("' ").append(args).append(" 2>&1");
  NodeResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "popen failed: " << cmd;
    return r;
  }
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::map<std::string, std::string> ParseFlatOutput(const NodeResult& result,
                                                   std::string_view script) {
  EXPECT_EQ(result.exit_code, 0) << script << ": " << result.output;
  std::map<std::string, std::string> m;
  std::istringstream in(result.output);
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) {
      ADD_FAILURE() << "bad line from " << script << ": " << line;
      continue;
    }
    // A repeated path means a field decoded twice (in e2e_spans.js output, two spans of one name).
    EXPECT_TRUE(m.emplace(line.substr(0, eq), line.substr(eq + 1)).second) << "repeated " << line;
  }
  return m;
}

std::string Q(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.append("\"").append(s).append("\"");
  return out;
}

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string Hex(const uint8_t* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

std::string Number(double d) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, d).ptr);
}

// ---- ExpectedFields ----

void ExpectedFields::Add(const std::string& path, const std::string& value) {
  EXPECT_TRUE(fields_.emplace(path, value).second) << "test bug: duplicate " << path;
}

void ExpectedFields::Attr(const std::string& list, int i, std::string_view key,
                          const std::string& member, const std::string& value) {
  const std::string p = list + "[" + std::to_string(i) + "]";
  Add(p + ".key", Q(key));
  Add(p + ".value." + member, value);
}

void ExpectedFields::ArrayAttr(const std::string& list, int i, std::string_view key,
                               const std::vector<std::pair<std::string, std::string>>& elements) {
  const std::string p = list + "[" + std::to_string(i) + "]";
  Add(p + ".key", Q(key));
  if (elements.empty()) Add(p + ".value.arrayValue", "{}");
  for (size_t j = 0; j < elements.size(); ++j) {
    Add(p + ".value.arrayValue.values[" + std::to_string(j) + "]." + elements[j].first,
        elements[j].second);
  }
}

void ExpectedFields::ArrayAttr(const std::string& list, int i, std::string_view key,
                               const std::string& member, const std::vector<std::string>& values) {
  std::vector<std::pair<std::string, std::string>> elements;
  elements.reserve(values.size());
  for (const std::string& v : values) elements.emplace_back(member, v);
  ArrayAttr(list, i, key, elements);
}

void ExpectedFields::Check(const std::map<std::string, std::string>& got,
                           std::string_view ignored_prefix) const {
  for (const auto& [path, value] : fields_) {
    auto it = got.find(path);
    if (it == got.end()) {
      ADD_FAILURE() << "missing " << path << " (expected " << value << ")";
    } else {
      EXPECT_EQ(it->second, value) << path;
    }
  }
  size_t compared = 0;
  for (const auto& [path, value] : got) {
    if (!ignored_prefix.empty() && path.starts_with(ignored_prefix)) continue;
    ++compared;
    EXPECT_TRUE(fields_.count(path)) << "unexpected " << path << "=" << value;
  }
  EXPECT_EQ(compared, fields_.size());
}

// ---- ReceiverProcess ----

std::string ReceiverProcess::Start(const std::string& out_file, const std::string& err_file,
                                   const std::vector<std::string>& extra_args) {
  err_file_ = err_file;
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return "pipe2 failed";
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return "pipe2 failed";
  }
  std::vector<std::string> args = {"node", std::string(kDir) + "/" + script_, "--out=" + out_file,
                                   "--exit-on-stdin-eof"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);  // dup2 clears O_CLOEXEC on 0 and 1
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const int rc = posix_spawnp(&pid_, "node", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  stdin_fd_ = in[1];
  stdout_fd_ = out[0];
  if (rc != 0) {
    pid_ = -1;
    return std::string("cannot start node: ") + std::strerror(rc);
  }

  // The first line of stdout is the port.
  const auto deadline = Clock::now() + kStartLimit;
  std::string line;
  while (line.find('\n') == std::string::npos) {
    if (!ReadSome(deadline, line)) {
      return script_ + " printed no port (" + line + "); stderr: " + ReadAll(err_file_);
    }
  }
  const int port = std::atoi(line.c_str());
  if (port <= 0 || port > 65535) return script_ + " printed a bad port: " + line;
  port_ = port;
  return {};
}

void ReceiverProcess::Stop() {
  if (stdin_fd_ >= 0) {
    close(stdin_fd_);
    stdin_fd_ = -1;
  }
  if (pid_ > 0) {
    const auto deadline = Clock::now() + kStopLimit;
    std::string ignored;
    while (stdout_fd_ >= 0 && ReadSome(deadline, ignored)) {
    }
    if (stdout_fd_ >= 0) {  // still open: the deadline passed
      ADD_FAILURE() << script_ << " did not exit when its stdin closed; killing it";
      kill(pid_, SIGKILL);
    }
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  if (stdout_fd_ >= 0) {
    close(stdout_fd_);
    stdout_fd_ = -1;
  }
}

bool ReceiverProcess::ReadSome(Clock::time_point deadline, std::string& out) {
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= 0ms) return false;
    pollfd p{stdout_fd_, POLLIN, 0};
    const int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    char buf[512];
    const ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(stdout_fd_);
      stdout_fd_ = -1;
      return false;
    }
    out.append(buf, static_cast<size_t>(n));
    return true;
  }
}

}  // namespace otlp::test
