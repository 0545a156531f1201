// tests/conformance/conformance_support.h — what the conformance tests share to run the node
// scripts of this folder (the official OpenTelemetry JS decoder, @opentelemetry/otlp-transformer)
// and compare what they decoded with expectations written out by hand.
//
//   if (std::string why = otlp::test::NodeSkipReason(); !why.empty()) GTEST_SKIP() << why;
//   otlp::test::ReceiverProcess receiver;  // receiver.js, stopped by its destructor
//   ASSERT_EQ(receiver.Start(out_file, err_file), "");
//   ... send OTLP to http://127.0.0.1:<receiver.port()>/v1/traces ...
//   receiver.Stop();
//   auto got = otlp::test::ParseFlatOutput(
//       otlp::test::RunNodeScript("e2e_spans.js", "'" + out_file + "'"), "e2e_spans.js");
//   otlp::test::ExpectedFields x;
//   x.Add("span[root].name", otlp::test::Q("root"));
//   x.Check(got, "request[");
//
// Failures are reported with GoogleTest (ADD_FAILURE / EXPECT_*) from the calling test.
// Threading: not thread-safe; use from the test's thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otlp::test {

// Why the node scripts cannot run here (node or the npm packages missing), empty when they can.
std::string NodeSkipReason();

// The whole contents of a file; empty when it cannot be read.
std::string ReadAll(const std::string& path);

struct NodeResult {
  int exit_code = -1;  // -1 when node could not be run or did not exit normally
  std::string output;  // stdout and stderr
};

// Runs `node <this folder>/<script> <args>` through the shell and waits for it. `args` are shell
// words: quote file names.
NodeResult RunNodeScript(std::string_view script, std::string_view args);

// The "path=value" lines a script printed (decode.js --flat, e2e_spans.js), as path -> value.
// A non-zero exit, a line without '=' or a repeated path is a test failure naming `script`.
std::map<std::string, std::string> ParseFlatOutput(const NodeResult& result,
                                                   std::string_view script);

// `s` as decode.js prints a string value: in double quotes (the tests use no escapes here).
std::string Q(std::string_view s);

// The scripts' flat form of values read back by our decoders: JSON.stringify of a string (",
// \ and control characters escaped), bytes as lowercase hex, a double as its shortest text.
std::string JsonQuote(std::string_view s);
std::string Hex(const uint8_t* bytes, size_t n);
std::string Number(double d);

// The fields a decoded request must have, path -> the JSON text the scripts print for it
// (strings quoted, numbers and booleans bare).
class ExpectedFields {
 public:
  // A duplicate path is a test failure (a bug in the test).
  void Add(const std::string& path, const std::string& value);
  void Str(const std::string& path, std::string_view s) { Add(path, Q(s)); }
  // KeyValue `i` of the list at `list`: its key, and value.<member> (stringValue, intValue, …).
  void Attr(const std::string& list, int i, std::string_view key, const std::string& member,
            const std::string& value);
  // Array attribute `i` of `list`, its elements given as (member, value); none gives `{}`.
  void ArrayAttr(const std::string& list, int i, std::string_view key,
                 const std::vector<std::pair<std::string, std::string>>& elements);
  // The same with every element of one `member`.
  void ArrayAttr(const std::string& list, int i, std::string_view key, const std::string& member,
                 const std::vector<std::string>& values);

  // Every expected field was decoded with its value, and nothing else was: every decoded path,
  // except those starting with `ignored_prefix` (when not empty), is expected.
  void Check(const std::map<std::string, std::string>& got,
             std::string_view ignored_prefix = {}) const;

 private:
  std::map<std::string, std::string> fields_;
};

// `node receiver.js --out=<file> --exit-on-stdin-eof` as a child process: an OTLP/HTTP receiver
// on a loopback port that logs every request it decoded to <file>. Its stdin is a pipe held
// here (closing it stops the receiver); its stdout first carries the port, then closes at exit.
class ReceiverProcess {
 public:
  // Generous upper bounds, so that a stuck child fails the test instead of hanging it.
  static constexpr std::chrono::seconds kStartLimit{60};
  static constexpr std::chrono::seconds kStopLimit{30};

  // `script`: receiver.js (OTLP/HTTP) or grpc_receiver.js (OTLP/gRPC); both take the same
  // arguments and print the port first.
  explicit ReceiverProcess(std::string script = "receiver.js") : script_(std::move(script)) {}
  ReceiverProcess(const ReceiverProcess&) = delete;
  ReceiverProcess& operator=(const ReceiverProcess&) = delete;
  ~ReceiverProcess() { Stop(); }

  // Starts the receiver, its stderr going to `err_file`, with `extra_args` after the usual ones
  // (e.g. grpc_receiver.js --tls-cert=…); empty on success, else what went wrong.
  std::string Start(const std::string& out_file, const std::string& err_file,
                    const std::vector<std::string>& extra_args = {});

  int port() const { return port_; }
  std::string stderr_text() const { return ReadAll(err_file_); }

  // Closes the receiver's stdin, which makes it exit, and waits for that (its stdout reaching
  // EOF); kills it, as a test failure, only if it has not exited within kStopLimit. Idempotent.
  void Stop();

 private:
  // Appends what stdout has to `out`. False at EOF (stdout is then closed) or at the deadline.
  bool ReadSome(std::chrono::steady_clock::time_point deadline, std::string& out);

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
  std::string err_file_;
  std::string script_;
};

}  // namespace otlp::test
