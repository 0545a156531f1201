// End-to-end tests of the `otlp` command-line tool: the built binary (OTLP_CLI_PATH) runs as a
// child process with a controlled environment and exports, as OTLP/JSON, to an in-process
// otlp::net::HttpServer on 127.0.0.1 that records the request bodies (or, for slow and silent
// collectors, to the project's ScriptedHttpServer).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/net/http_server.h"
#include "tests/support/child_process.h"
#include "tests/support/scripted_http_server.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"


namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Generous bound so that a hung CLI fails the test instead of hanging it (not a timing check).
constexpr auto kProcessLimit = 120s;

// ---- child processes ----

class Process : public otlp::test::ChildProcess {
 public:
  Process(std::vector<std::string> args, const std::map<std::string, std::string>& env)
      : ChildProcess(OTLP_CLI_PATH, std::move(args), env) {}
};

struct RunResult {
  bool finished = false;
  int exit_code = -1;
  std::string out, err;
};

RunResult RunCli(std::vector<std::string> args,
                 const std::map<std::string, std::string>& env = {}) {
  Process p(std::move(args), env);
  RunResult r;
  if (!p.started()) return r;
  r.finished = p.Finish();
  r.exit_code = p.exit_code();
  r.out = p.out();
  r.err = p.err();
  return r;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

size_t CountLines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// ---- OTLP/JSON receiver ----

struct JsonSpan {
  std::string trace_id, span_id, parent_span_id, name;
  std::string text;  // the span's JSON (attributes, status …) for substring checks
};

// The value of the first "key":"value" string member in `text`.
std::string StringField(std::string_view text, std::string_view key) {
  std::string needle = "\"" + std::string(key) + "\":\"";
  size_t p = text.find(needle);
  if (p == std::string_view::npos) return "";
  p += needle.size();
  size_t e = text.find('"', p);
  return std::string(text.substr(p, e - p));
}

// Splits an OTLP/JSON request into spans. Each span object starts with "traceId" (the encoder
// writes it first); the spans in these tests have no links, whose objects would start alike.
std::vector<JsonSpan> ParseSpans(const std::string& body) {
  std::vector<JsonSpan> spans;
  const std::string marker = "{\"traceId\":\"";
  size_t p = body.find(marker);
  while (p != std::string::npos) {
    size_t next = body.find(marker, p + 1);
    JsonSpan s;
    s.text = body.substr(p, next == std::string::npos ? std::string::npos : next - p);
    s.trace_id = StringField(s.text, "traceId");
    s.span_id = StringField(s.text, "spanId");
    s.parent_span_id = StringField(s.text, "parentSpanId");
    s.name = StringField(s.text, "name");
    spans.push_back(std::move(s));
    p = next;
  }
  return spans;
}

class Receiver {
 public:
  // The first `fail_first` requests are answered 503 (retryable) and not recorded.
  explicit Receiver(int fail_first = 0) : fail_left_(fail_first) {
    runtime_ = otlp::net::Runtime::Create();
    auto server = otlp::net::HttpServer::Start(
        runtime_, {.host = "127.0.0.1", .port = 0},
        [this](const otlp::net::ServerRequest& req, otlp::net::ServerResponse& res) {
          {
            std::lock_guard<std::mutex> lock(mu_);
            if (fail_left_ > 0) {
              --fail_left_;
              ++failed_;
              res.status = 503;
              return;
            }
            bodies_.push_back(req.body);
            content_types_.emplace_back(req.Header("Content-Type").value_or(""));
            for (JsonSpan& s : ParseSpans(req.body)) spans_.push_back(std::move(s));
          }
          cv_.notify_all();
          res.status = 200;
          res.headers = {{"Content-Type", "application/json"}};
          res.body = "{}";
        });
    if (server.ok()) server_ = std::move(*server);
  }
  ~Receiver() {
    if (server_) server_->Stop();
  }
  bool ok() const { return server_ != nullptr; }
  std::string endpoint() const { return server_->base_url() + "/v1/traces"; }

  // The environment that sends a CLI's spans here, as JSON.
  std::map<std::string, std::string> Env() const {
    return {{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", endpoint()},
            {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"}};
  }

  std::vector<JsonSpan> spans() const {
    std::lock_guard<std::mutex> lock(mu_);
    return spans_;
  }
  int failed_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failed_;
  }
  size_t request_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_.size();
  }
  std::vector<std::string> content_types() const {
    std::lock_guard<std::mutex> lock(mu_);
    return content_types_;
  }
  // The span with that span id, once it arrived (the CLI flushes before it exits, so callers
  // normally find it at once; the wait is a bound, not a synchronisation).
  std::optional<JsonSpan> WaitForSpan(const std::string& span_id,
                                      std::chrono::milliseconds limit = 30s) const {
    std::unique_lock<std::mutex> lock(mu_);
    std::optional<JsonSpan> found;
    cv_.wait_for(lock, limit, [&] {
      for (const JsonSpan& s : spans_) {
        if (s.span_id == span_id) {
          found = s;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  // True once `n` requests were recorded; false after `limit`.
  bool WaitForRequests(size_t n, std::chrono::milliseconds limit = 60s) const {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return bodies_.size() >= n; });
  }
  std::optional<JsonSpan> WaitForName(const std::string& name,
                                      std::chrono::milliseconds limit = 30s) const {
    std::unique_lock<std::mutex> lock(mu_);
    std::optional<JsonSpan> found;
    cv_.wait_for(lock, limit, [&] {
      for (const JsonSpan& s : spans_) {
        if (s.name == name) {
          found = s;
          return true;
        }
      }
      return false;
    });
    return found;
  }

 private:
  std::shared_ptr<otlp::net::Runtime> runtime_;
  std::unique_ptr<otlp::net::HttpServer> server_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  int fail_left_ = 0;
  int failed_ = 0;
  std::vector<std::string> bodies_, content_types_;
  std::vector<JsonSpan> spans_;
};

struct Traceparent {
  std::string trace_id, span_id, flags;
};
std::optional<Traceparent> ParseTp(const std::string& s) {
  std::string t = Trim(s);
  if (t.size() != 55 || t.substr(0, 3) != "00-" || t[35] != '-' || t[52] != '-')
    return std::nullopt;
  return Traceparent{t.substr(3, 32), t.substr(36, 16), t.substr(53, 2)};
}

std::map<std::string, std::string> Merge(std::map<std::string, std::string> a,
                                         const std::map<std::string, std::string>& b) {
  for (const auto& [k, v] : b) a[k] = v;
  return a;
}

// A loopback port nothing listens on (bound, then closed).
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return 9;  // discard port; nothing listens there on a test machine
  }
  close(fd);
  return ntohs(addr.sin_port);
}

constexpr const char* kParentTp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

// ---- general ----

TEST(CliTest, HelpAndVersion) {
  RunResult help = RunCli({"--help"});
  ASSERT_TRUE(help.finished);
  EXPECT_EQ(help.exit_code, 0);
  for (const char* cmd : {"span", "exec", "bench", "config"}) {
    EXPECT_NE(help.out.find(std::string("  ") + cmd), std::string::npos) << cmd;
  }
  RunResult version = RunCli({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("otlp ", 0), 0u) << version.out;
  RunResult none = RunCli({});
  EXPECT_EQ(none.exit_code, 2);
}

TEST(CliTest, CommandHelpListsEveryFlagAndExamples) {
  const std::map<std::vector<std::string>, std::vector<std::string>> cases = {
      {{"span", "--help"},
       {"--name", "--kind", "--attr", "--status", "--status-message", "--start", "--end",
        "--traceparent", "--tracestate", "--service", "--endpoint", "--protocol", "k:int=5",
        "url:path:string=/x"}},
      {{"exec", "--help"},
       {"--name", "--kind", "--attr", "--traceparent", "--endpoint", "127", "SIGINT"}},
      {{"bench", "trace", "--help"},
       {"--seconds", "--attrs", "--rate", "--threads", "--queue", "--batch", "--endpoint",
        "OTEL_BSP_MAX_QUEUE_SIZE", "SIGINT", "130"}},
      {{"bench", "sink", "--help"}, {"--port", "--host", "--seconds"}},
      {{"config", "--help"}, {"--markdown", "--service"}},
      {{"help", "span"}, {"--name"}},
  };
  for (const auto& [args, needles] : cases) {
    RunResult r = RunCli(args);
    ASSERT_TRUE(r.finished);
    EXPECT_EQ(r.exit_code, 0) << args[0];
    EXPECT_NE(r.out.find("Usage: otlp"), std::string::npos) << args[0];
    EXPECT_NE(r.out.find("Examples:"), std::string::npos) << args[0];
    for (const std::string& n : needles) EXPECT_NE(r.out.find(n), std::string::npos) << n;
  }
}

TEST(CliTest, BadUsageExitsTwoWithOneLine) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"span", "--foo"}, "otlp span: unknown flag --foo (see otlp span --help)\n"},
      {{"span", "--name", "x", "--foo=1"},
       "otlp span: unknown flag --foo (see otlp span --help)\n"},
      {{"span"}, "otlp span: --name is required (see otlp span --help)\n"},
      {{"span", "--name"}, "otlp span: flag --name needs a value (NAME) (see otlp span --help)\n"},
      {{"span", "--name", "x", "--kind", "weird"}, "otlp span: invalid --kind 'weird'"},
      {{"span", "--name", "x", "--attr", "n:int=abc"}, "otlp span: --attr 'n:int=abc': not a"},
      {{"span", "--name", "x", "--attr", "n:integer=5"},
       "otlp span: --attr 'n:integer=5': unknown type 'integer' (types: string, int, double, "
       "bool, string[], int[], double[], bool[];"},
      {{"exec", "--attr", "http:x=1", "--", "true"}, "otlp exec: --attr 'http:x=1': unknown type"},
      {{"span", "--name", "x", "--start", "yesterday"}, "otlp span: --start: invalid time"},
      {{"span", "--name", "x", "--status", "fine"}, "otlp span: invalid --status 'fine'"},
      {{"span", "--name", "x", "--protocol", "grpc2"}, "otlp span: invalid --protocol 'grpc2'"},
      {{"span", "--name", "x", "--endpoint", "ftp://h"}, "otlp span: invalid --endpoint"},
      {{"span", "--name", "x", "--name", "y"}, "otlp span: flag --name given more than once"},
      {{"span", "--name", "x", "stray"}, "otlp span: unexpected argument 'stray'"},
      {{"exec"}, "otlp exec: missing command to run"},
      {{"exec", "--bogus", "--", "true"}, "otlp exec: unknown flag --bogus"},
      {{"bench", "trace", "--threads", "0"}, "otlp bench trace: invalid --threads '0'"},
      {{"bench", "sink", "--port", "70000"}, "otlp bench sink: invalid --port '70000'"},
      {{"bench", "nope"}, "otlp bench: unknown subcommand 'nope'"},
      {{"config", "--markdown=yes"}, "otlp config: flag --markdown takes no value"},
      {{"frobnicate"}, "otlp: unknown command 'frobnicate' (see otlp --help)\n"},
  };
  for (const auto& [args, expected] : cases) {
    RunResult r = RunCli(args);
    ASSERT_TRUE(r.finished) << args[0];
    EXPECT_EQ(r.exit_code, 2) << expected;
    EXPECT_EQ(r.err.rfind(expected, 0), 0u) << "got: " << r.err;
    EXPECT_EQ(CountLines(r.err), 1u) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

// ---- span ----

TEST(SpanTest, ExportsTypedAttributesAndPrintsTraceparent) {
  Receiver rx;
  ASSERT_TRUE(rx.ok());
  RunResult r = RunCli({"span",
                        "--name",
                        "deploy",
                        "--kind",
                        "server",
                        "--attr",
                        "env=prod",
                        "--attr",
                        "count:int=5",
                        "--attr",
                        "ratio:double=1.5",
                        "--attr",
                        "dry:bool=true",
                        "--attr",
                        "tags:string[]=a,b",
                        "--status",
                        "error",
                        "--status-message",
                        "rollout timed out",
                        "--service",
                        "pipeline"},
                       rx.Env());
  ASSERT_TRUE(r.finished);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto tp = ParseTp(r.out);
  ASSERT_TRUE(tp) << r.out;
  EXPECT_EQ(tp->flags, "03");  // sampled, and a random trace id (W3C Level 2)
  auto span = rx.WaitForSpan(tp->span_id);
  ASSERT_TRUE(span);
  EXPECT_EQ(span->trace_id, tp->trace_id);
  EXPECT_EQ(span->name, "deploy");
  EXPECT_EQ(span->parent_span_id, "");
  const std::string& t = span->text;
  EXPECT_NE(t.find(R"("kind":2)"), std::string::npos) << t;
  EXPECT_NE(t.find(R"({"key":"env","value":{"stringValue":"prod"}})"), std::string::npos) << t;
  EXPECT_NE(t.find(R"({"key":"count","value":{"intValue":"5"}})"), std::string::npos) << t;
  EXPECT_NE(t.find(R"({"key":"ratio","value":{"doubleValue":1.5}})"), std::string::npos) << t;
  EXPECT_NE(t.find(R"({"key":"dry","value":{"boolValue":true}})"), std::string::npos) << t;
  EXPECT_NE(t.find(R"("arrayValue":{"values":[{"stringValue":"a"},{"stringValue":"b"}]})"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find(R"("message":"rollout timed out")"), std::string::npos) << t;
  EXPECT_NE(t.find(R"("code":2)"), std::string::npos) << t;
  auto types = rx.content_types();
  ASSERT_FALSE(types.empty());
  EXPECT_EQ(types[0], "application/json");
}

TEST(SpanTest, ProtocolFlagOverridesEnvironment) {
  Receiver rx;
  ASSERT_TRUE(rx.ok());
  // The environment says JSON; the flag says protobuf and wins.
  RunResult r = RunCli({"span", "--name", "p", "--protocol", "http/protobuf"}, rx.Env());
  ASSERT_TRUE(r.finished);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto types = rx.content_types();
  ASSERT_EQ(types.size(), 1u);
  EXPECT_EQ(types[0], "application/x-protobuf");
}

TEST(SpanTest, EndpointFlagWithoutPathGetsV1Traces) {
  Receiver rx;
  ASSERT_TRUE(rx.ok());
  std::string base = rx.endpoint().substr(0, rx.endpoint().size() - std::strlen("/v1/traces"));
  RunResult r = RunCli({"span", "--name", "e", "--endpoint", base, "--protocol", "http/json"},
                       {{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:9/elsewhere"}});
  ASSERT_TRUE(r.finished);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto tp = ParseTp(r.out);
  ASSERT_TRUE(tp);
  EXPECT_TRUE(rx.WaitForSpan(tp->span_id));
}

TEST(SpanTest, ChainingGivesSameTraceAndCorrectParent) {
  Receiver rx;
  ASSERT_TRUE(rx.ok());
  RunResult first = RunCli({"span", "--name", "step1"}, rx.Env());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto tp1 = ParseTp(first.out);
  ASSERT_TRUE(tp1);
  // As --traceparent …
  RunResult second =
      RunCli({"span", "--name", "step2", "--traceparent", Trim(first.out)}, rx.Env());
  ASSERT_EQ(second.exit_code, 0) << second.err;
  auto tp2 = ParseTp(second.out);
  ASSERT_TRUE(tp2);
  // … and as TRACEPARENT in the environment (TRACEPARENT=$(otlp span …)).
  RunResult third =
      RunCli({"span", "--name", "step3"}, Merge(rx.Env(), {{"TRACEPARENT", Trim(second.out)}}));
  ASSERT_EQ(third.exit_code, 0) << third.err;
  auto tp3 = ParseTp(third.out);
  ASSERT_TRUE(tp3);

  EXPECT_EQ(tp2->trace_id, tp1->trace_id);
  EXPECT_EQ(tp3->trace_id, tp1->trace_id);
  EXPECT_NE(tp2->span_id, tp1->span_id);
  auto s2 = rx.WaitForSpan(tp2->span_id);
  auto s3 = rx.WaitForSpan(tp3->span_id);
  ASSERT_TRUE(s2 && s3);
  EXPECT_EQ(s2->parent_span_id, tp1->span_id);
  EXPECT_EQ(s3->parent_span_id, tp2->span_id);
  EXPECT_EQ(s3->trace_id, tp1->trace_id);
}

TEST(SpanTest, TransientCollectorErrorIsRetriedBeforeExit) {
  Receiver rx(/*fail_first=*/1);
  ASSERT_TRUE(rx.ok());
  RunResult r = RunCli({"span", "--name", "retried"}, rx.Env());
  ASSERT_TRUE(r.finished);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto tp = ParseTp(r.out);
  ASSERT_TRUE(tp);
  // The CLI has exited, so the retry (if any) has already arrived.
  EXPECT_EQ(rx.failed_count(), 1);
  EXPECT_TRUE(rx.WaitForSpan(tp->span_id, 0ms)) << r.err;
}

TEST(SpanTest, UnsampledParentIsPropagatedNotExported) {
  Receiver rx;
  ASSERT_TRUE(rx.ok());
  RunResult r = RunCli({"span", "--name", "quiet", "--traceparent",
                        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"},
                       rx.Env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto tp = ParseTp(r.out);
  ASSERT_TRUE(tp) << r.out;
  EXPECT_EQ(tp->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(tp->flags, "00");
  EXPECT_EQ(rx.request_count(), 0u);  // the CLI has exited: anything it sends has arrived
}

TEST(SpanTest, InvalidTraceparentStartsNewTraceWithWarning) {
  Receiver rx;
  ASSERT_TRUE(rx.ok());
  RunResult r = RunCli({"span", "--name", "orphan"}, Merge(rx.Env(), {{"TRACEPARENT", "garbage"}}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto tp = ParseTp(r.out);
  ASSERT_TRUE(tp) << r.out;
  EXPECT_NE(r.err.find("otlp span: warning: invalid traceparent 'garbage' (from TRACEPARENT)"),
            std::string::npos)
      << r.err;
  auto s = rx.WaitForSpan(tp->span_id);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->parent_span_id, "");
}

TEST(SpanTest, ExplicitStartAndEndTimes) {
  Receiver rx;
  ASSERT_TRUE(rx.ok());
  RunResult r = RunCli(
      {"span", "--name", "timed", "--start", "1714564800.25", "--end", "2024-05-01T12:00:01.5Z"},
      rx.Env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto tp = ParseTp(r.out);
  ASSERT_TRUE(tp);
  auto s = rx.WaitForSpan(tp->span_id);
  ASSERT_TRUE(s);
  EXPECT_EQ(StringField(s->text, "startTimeUnixNano"), "1714564800250000000");
  EXPECT_EQ(StringField(s->text, "endTimeUnixNano"), "1714564801500000000");

  RunResult backwards =
      RunCli({"span", "--name", "t", "--start", "1714564801", "--end", "1714564800"});
  EXPECT_EQ(backwards.exit_code, 2);
  EXPECT_EQ(CountLines(backwards.err), 1u);
}

TEST(SpanTest, ConsoleExporterPrintsLineOnStderr) {
  RunResult r = RunCli({"span", "--name", "hello-console", "--attr", "n:int=7"},
                       {{"OTEL_TRACES_EXPORTER", "console"}});
  ASSERT_TRUE(r.finished);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto tp = ParseTp(r.out);
  ASSERT_TRUE(tp);
  EXPECT_NE(r.err.find("span \"hello-console\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("span=" + tp->span_id), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("n=7"), std::string::npos) << r.err;
}

TEST(SpanTest, EnvironmentWarningsArePrinted) {
  RunResult r = RunCli({"span", "--name", "w"},
                       {{"OTEL_TRACES_EXPORTER", "none"}, {"OTEL_TRACES_SAMPLER", "sometimes"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(ParseTp(r.out));
  EXPECT_NE(r.err.find("OTEL_TRACES_SAMPLER=sometimes"), std::string::npos) << r.err;
}

// ---- exec ----

TEST(ExecTest, PassesTraceparentToChild) {
  Receiver rx;
  ASSERT_TRUE(rx.ok());
  RunResult r = RunCli({"exec", "--attr", "job=nightly", "--", "sh", "-c",
                        "echo $TRACEPARENT; echo \"state=$TRACESTATE\""},
                       Merge(rx.Env(), {{"TRACEPARENT", kParentTp}, {"TRACESTATE", "vendor=abc"}}));
  ASSERT_TRUE(r.finished);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t nl = r.out.find('\n');
  ASSERT_NE(nl, std::string::npos) << r.out;
  auto child_tp = ParseTp(r.out.substr(0, nl));
  ASSERT_TRUE(child_tp) << r.out;
  EXPECT_NE(r.out.find("state=vendor=abc"), std::string::npos) << r.out;
  EXPECT_EQ(child_tp->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");

  // The child's parent is the exported span.
  auto s = rx.WaitForSpan(child_tp->span_id);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->name, "sh");
  EXPECT_EQ(s->trace_id, child_tp->trace_id);
  EXPECT_EQ(s->parent_span_id, "00f067aa0ba902b7");
  const std::string& t = s->text;
  EXPECT_NE(t.find(R"({"key":"process.exit.code","value":{"intValue":"0"}})"), std::string::npos)
      << t;
  EXPECT_NE(t.find(R"({"key":"process.command","value":{"stringValue":"sh"}})"), std::string::npos)
      << t;
  EXPECT_NE(t.find(R"({"key":"process.command_args","value":{"arrayValue":{"values":[)"
                   R"({"stringValue":"sh"},{"stringValue":"-c"},)"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find(R"("key":"process.pid")"), std::string::npos) << t;
  EXPECT_NE(t.find(R"({"key":"job","value":{"stringValue":"nightly"}})"), std::string::npos) << t;
  EXPECT_EQ(t.find(R"("status":{"code":2)"), std::string::npos) << t;
}

TEST(ExecTest, ReturnsExitCodeAndMarksErrors) {
  Receiver rx;
  ASSERT_TRUE(rx.ok());
  RunResult ok = RunCli({"exec", "--name", "ok-cmd", "true"}, rx.Env());
  ASSERT_TRUE(ok.finished);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  RunResult three = RunCli({"exec", "--name", "three", "--", "sh", "-c", "exit 3"}, rx.Env());
  ASSERT_TRUE(three.finished);
  EXPECT_EQ(three.exit_code, 3) << three.err;

  auto s_ok = rx.WaitForName("ok-cmd");
  auto s3 = rx.WaitForName("three");
  ASSERT_TRUE(s_ok && s3);
  EXPECT_EQ(s_ok->text.find(R"("code":2)"), std::string::npos) << s_ok->text;
  EXPECT_NE(s3->text.find(R"({"key":"process.exit.code","value":{"intValue":"3"}})"),
            std::string::npos)
      << s3->text;
  EXPECT_NE(s3->text.find(R"("status":{"message":"exit code 3","code":2})"), std::string::npos)
      << s3->text;
}

TEST(ExecTest, CommandNotFoundIs127WithErrorSpan) {
  Receiver rx;
  ASSERT_TRUE(rx.ok());
  RunResult r = RunCli({"exec", "--", "otlp-test-no-such-command-xyz", "arg"}, rx.Env());
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_EQ(r.err.rfind("otlp exec: otlp-test-no-such-command-xyz: command not found\n", 0), 0u)
      << r.err;
  auto s = rx.WaitForName("otlp-test-no-such-command-xyz");
  ASSERT_TRUE(s);
  EXPECT_NE(s->text.find(R"("code":2)"), std::string::npos) << s->text;
  EXPECT_NE(s->text.find(R"({"key":"process.exit.code","value":{"intValue":"127"}})"),
            std::string::npos);
}

TEST(ExecTest, NotExecutableIs126WithErrorSpan) {
  Receiver rx;
  ASSERT_TRUE(rx.ok());
  char dir_template[] = "/tmp/otlp-cli-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string file = std::string(dir_template) + "/not-executable";
  { std::ofstream(file) << "#!/bin/sh\nexit 0\n"; }
  ASSERT_EQ(chmod(file.c_str(), 0644), 0);  // no x bit: even root may not execute it

  RunResult r = RunCli({"exec", "--", file}, rx.Env());
  unlink(file.c_str());
  rmdir(dir_template);
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.exit_code, 126);
  EXPECT_EQ(r.err.rfind("otlp exec: " + file + ": Permission denied\n", 0), 0u) << r.err;
  auto s = rx.WaitForName("not-executable");
  ASSERT_TRUE(s);
  EXPECT_NE(s->text.find(R"({"key":"process.exit.code","value":{"intValue":"126"}})"),
            std::string::npos);
}

TEST(ExecTest, KilledBySignalIs128PlusSignal) {
  Receiver rx;
  ASSERT_TRUE(rx.ok());
  RunResult r = RunCli({"exec", "--name", "killed", "--", "sh", "-c", "kill -TERM $$"}, rx.Env());
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
  auto s = rx.WaitForName("killed");
  ASSERT_TRUE(s);
  EXPECT_NE(s->text.find(R"("message":"killed by SIGTERM")"), std::string::npos) << s->text;
  EXPECT_NE(s->text.find(R"({"key":"process.exit.signal","value":{"intValue":"15"}})"),
            std::string::npos)
      << s->text;
}

TEST(ExecTest, ForwardsSigtermToChild) {
  Receiver rx;
  ASSERT_TRUE(rx.ok());
  // The child announces itself, then waits; SIGTERM sent to otlp must reach it.
  Process p({"exec", "--name", "forwarded", "--", "sh", "-c", "echo ready; exec sleep 60"},
            rx.Env());
  ASSERT_TRUE(p.started());
  auto line = p.ReadLine(std::chrono::duration_cast<std::chrono::milliseconds>(kProcessLimit));
  ASSERT_EQ(line, "ready");
  p.Signal(SIGTERM);
  ASSERT_TRUE(p.Finish());
  EXPECT_EQ(p.exit_code(), 128 + SIGTERM) << p.err();
  auto s = rx.WaitForName("forwarded");
  ASSERT_TRUE(s);
  EXPECT_NE(s->text.find("killed by SIGTERM"), std::string::npos) << s->text;
}

TEST(ExecTest, CollectorDownStillReturnsChildCodeAndFinishes) {
  std::string endpoint = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/v1/traces";
  RunResult r = RunCli(
      {"exec", "--", "sh", "-c", "exit 3"},
      {{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", endpoint}, {"OTEL_EXPORTER_OTLP_TIMEOUT", "1000"}});
  ASSERT_TRUE(r.finished) << "otlp exec did not finish with the collector down";
  EXPECT_EQ(r.exit_code, 3) << r.err;
}

// A collector that never answers, for flushes that cannot end by themselves.
std::unique_ptr<otlp::test::ScriptedHttpServer> SilentCollector() {
  auto server =
      otlp::test::ScriptedHttpServer::Start({.default_reply = otlp::test::ScriptedReply::Hang()});
  return server.ok() ? std::move(*server) : nullptr;
}

TEST(ExecTest, SignalDuringTheFlushCutsItShort) {
  auto collector = SilentCollector();
  ASSERT_NE(collector, nullptr);
  // The export timeout (10 min) is far beyond the test's wait: only the signal can end the
  // flush before it.
  Process p({"exec", "--name", "cut", "--", "sh", "-c", "exit 3"},
            {{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", collector->Url("/v1/traces")},
             {"OTEL_EXPORTER_OTLP_TIMEOUT", "600000"}});
  ASSERT_TRUE(p.started());
  // The span's export reaches the collector once the command has ended: the flush is on.
  ASSERT_TRUE(collector->WaitForRequests(1, 60s));
  p.Signal(SIGINT);
  ASSERT_TRUE(p.Finish()) << "otlp exec ignored SIGINT during its flush";
  EXPECT_EQ(p.exit_code(), 3) << p.err();  // still the command's status
  EXPECT_NE(
      p.err().find("otlp exec: warning: 1 span not exported (unconfirmed 1); the flush was cut "
                   "short by SIGINT\n"),
      std::string::npos)
      << p.err();
}

TEST(ExecTest, SdkDisabledStillPassesTraceparentThrough) {
  Receiver rx;
  ASSERT_TRUE(rx.ok());
  RunResult r =
      RunCli({"exec", "--", "sh", "-c", "echo $TRACEPARENT"},
             Merge(rx.Env(), {{"OTEL_SDK_DISABLED", "true"}, {"TRACEPARENT", kParentTp}}));
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Trim(r.out), kParentTp);
  EXPECT_EQ(rx.request_count(), 0u);  // nothing exported by a disabled SDK
}

TEST(SpanTest, SdkDisabledPrintsTheParentsTraceparent) {
  RunResult r = RunCli({"span", "--name", "off", "--traceparent", kParentTp},
                       {{"OTEL_SDK_DISABLED", "true"}});
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Trim(r.out), kParentTp);
}

// ---- bench ----

// Reads the number after `key` in `text` ("exported/s: 123 (456 spans …" → key "(" …).
std::optional<uint64_t> NumberAfter(const std::string& text, const std::string& key) {
  size_t p = text.find(key);
  if (p == std::string::npos) return std::nullopt;
  p += key.size();
  size_t e = p;
  while (e < text.size() && text[e] >= '0' && text[e] <= '9') ++e;
  if (e == p) return std::nullopt;
  return std::stoull(text.substr(p, e - p));
}

TEST(BenchTest, TraceIntoSinkCountsAgree) {
  Process sink({"bench", "sink", "--port", "0", "--quiet"}, {});
  ASSERT_TRUE(sink.started());
  auto port = sink.ReadLine(std::chrono::duration_cast<std::chrono::milliseconds>(kProcessLimit));
  ASSERT_TRUE(port) << sink.err();
  RunResult bench = RunCli({"bench", "trace", "--seconds", "0.3", "--attrs", "5", "--queue",
                            "65536", "--batch", "8192", "--endpoint", "http://127.0.0.1:" + *port});
  sink.Signal(SIGTERM);
  ASSERT_TRUE(sink.Finish());
  ASSERT_TRUE(bench.finished);
  ASSERT_EQ(bench.exit_code, 0) << bench.out << bench.err;

  const std::string lines = "\n" + bench.out;
  for (const char* metric : {"created/s: ", "exported/s: ", "dropped: ", "producer ns/span: "}) {
    EXPECT_NE(lines.find(std::string("\n") + metric), std::string::npos) << metric;
  }
  // "created/s: R (N spans in T s)", "exported/s: R (N spans accepted in …"
  size_t created_line = bench.out.find("created/s: ");
  size_t exported_line = bench.out.find("exported/s: ");
  ASSERT_NE(created_line, std::string::npos) << bench.out;
  ASSERT_NE(exported_line, std::string::npos) << bench.out;
  auto created = NumberAfter(bench.out.substr(created_line), "(");
  auto exported = NumberAfter(bench.out.substr(exported_line), "(");
  auto dropped = NumberAfter(bench.out, "dropped: ");
  auto received = NumberAfter(sink.out(), "total: ");
  ASSERT_TRUE(created && exported && dropped && received) << bench.out << sink.out();
  EXPECT_GT(*exported, 0u);
  EXPECT_EQ(*created, *exported + *dropped) << bench.out;
  EXPECT_EQ(*received, *exported) << bench.out << sink.out();
}

// The numbers of a `bench trace` summary.
struct BenchSummary {
  uint64_t created = 0, exported = 0, dropped = 0, unconfirmed = 0;
};
std::optional<BenchSummary> ParseBenchSummary(const std::string& out) {
  size_t created_line = out.find("created/s: ");
  size_t exported_line = out.find("exported/s: ");
  if (created_line == std::string::npos || exported_line == std::string::npos) return std::nullopt;
  auto created = NumberAfter(out.substr(created_line), "(");
  auto exported = NumberAfter(out.substr(exported_line), "(");
  auto dropped = NumberAfter(out, "dropped: ");
  if (!created || !exported || !dropped) return std::nullopt;
  return BenchSummary{*created, *exported, *dropped,
                      NumberAfter(out, ", unconfirmed ").value_or(0)};
}

// Spans in the OTLP/JSON requests a ScriptedHttpServer recorded.
size_t SpansReceived(const otlp::test::ScriptedHttpServer& server) {
  size_t n = 0;
  for (const auto& req : server.requests()) n += ParseSpans(req.body).size();
  return n;
}

TEST(BenchTest, SmallQueueDropsAndTheSummaryStillAddsUp) {
  // Answers come 20 ms late, so a queue of 64 spans overflows while the producer runs at full
  // speed.
  ASSERT_OK_AND_ASSIGN(auto collector, otlp::test::ScriptedHttpServer::Start(
                                           {.default_reply = {.status = 200, .delay = 20ms}}));
  RunResult r = RunCli({"bench", "trace", "--seconds", "0.3", "--queue", "64", "--batch", "32",
                        "--protocol", "http/json", "--endpoint", collector->Url("/v1/traces")});
  ASSERT_TRUE(r.finished);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto summary = ParseBenchSummary(r.out);
  ASSERT_TRUE(summary) << r.out;
  EXPECT_GT(summary->dropped, 0u) << r.out;
  EXPECT_GT(summary->exported, 0u) << r.out;
  EXPECT_EQ(summary->created, summary->exported + summary->dropped) << r.out;
  EXPECT_EQ(summary->unconfirmed, 0u) << r.out;
  EXPECT_EQ(SpansReceived(*collector), summary->exported) << r.out;
}

TEST(BenchTest, QueueAndBatchComeFromFlagThenEnvironmentThenDefault) {
  Receiver rx;
  ASSERT_TRUE(rx.ok());
  struct Case {
    std::vector<std::string> flags;
    std::map<std::string, std::string> env;
    std::string expected;
  };
  const std::map<std::string, std::string> both = {{"OTEL_BSP_MAX_QUEUE_SIZE", "1000"},
                                                   {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "100"}};
  const std::vector<Case> cases = {
      {{}, {}, "queue 65536, batch 8192"},
      {{}, both, "queue 1000, batch 100"},
      {{"--queue", "3000", "--batch", "300"}, both, "queue 3000, batch 300"},
      {{"--queue", "3000"}, both, "queue 3000, batch 100"},
      {{"--batch", "50"}, both, "queue 1000, batch 50"},
      // The bench's default batch is lowered to a smaller queue (without a warning).
      {{}, {{"OTEL_BSP_MAX_QUEUE_SIZE", "1000"}}, "queue 1000, batch 1000"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"bench", "trace",      "--seconds",
                                     "0",     "--endpoint", rx.endpoint()};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    RunResult r = RunCli(args, c.env);
    ASSERT_TRUE(r.finished);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find(c.expected + "\n"), std::string::npos)
        << "expected " << c.expected << ", got: " << r.err;
    EXPECT_EQ(r.err.find("warn"), std::string::npos) << r.err;
  }
}

TEST(BenchTest, StopSignalEndsTheRunWithFlushSummaryAndStatus) {
  for (int sig : {SIGINT, SIGTERM}) {
    Receiver rx;
    ASSERT_TRUE(rx.ok());
    Process p({"bench", "trace", "--seconds", "600", "--rate", "5000", "--batch", "100",
               "--protocol", "http/json", "--endpoint", rx.endpoint()},
              {});
    ASSERT_TRUE(p.started());
    ASSERT_TRUE(rx.WaitForRequests(1)) << "no export from bench trace";
    p.Signal(sig);
    ASSERT_TRUE(p.Finish()) << "bench trace did not end on " << sig;
    EXPECT_EQ(p.exit_code(), 128 + sig) << p.out() << p.err();
    const std::string name = sig == SIGINT ? "SIGINT" : "SIGTERM";
    EXPECT_NE(p.out().find("interrupted: " + name + " stopped the generation\n"), std::string::npos)
        << p.out();
    EXPECT_NE(p.err().find(name + ": generation stopped after"), std::string::npos) << p.err();
    auto summary = ParseBenchSummary(p.out());
    ASSERT_TRUE(summary) << p.out();
    EXPECT_GT(summary->exported, 0u) << p.out();
    EXPECT_EQ(summary->created, summary->exported + summary->dropped) << p.out();
    // Flushed before the summary: everything the collector got is counted, and nothing else.
    EXPECT_EQ(rx.spans().size(), summary->exported) << p.out();
  }
}

TEST(BenchTest, SecondSignalCutsTheFlushShort) {
  auto collector = SilentCollector();
  ASSERT_NE(collector, nullptr);
  Process p({"bench", "trace", "--seconds", "600", "--batch", "100", "--endpoint",
             collector->Url("/v1/traces")},
            {{"OTEL_EXPORTER_OTLP_TIMEOUT", "600000"}});
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(collector->WaitForRequests(1, 60s));
  p.Signal(SIGINT);
  // The first signal was taken: generation stopped, the flush waits on the silent collector.
  ASSERT_TRUE(p.WaitForErr("flushing for up to 600 s", 60s)) << p.err();
  p.Signal(SIGTERM);
  ASSERT_TRUE(p.Finish()) << "a second signal did not cut the flush short";
  EXPECT_EQ(p.exit_code(), 128 + SIGINT) << p.out() << p.err();
  EXPECT_NE(
      p.out().find("interrupted: SIGINT stopped the generation; SIGTERM cut the flush short\n"),
      std::string::npos)
      << p.out();
  auto summary = ParseBenchSummary(p.out());
  ASSERT_TRUE(summary) << p.out();
  EXPECT_EQ(summary->exported, 0u);
  // At least the batch on the wire has no answer; every span is still accounted for.
  EXPECT_GE(summary->unconfirmed, 100u) << p.out();
  EXPECT_EQ(summary->created, summary->exported + summary->dropped) << p.out();
}

// ---- the final flush's bound ----
// OTEL_EXPORTER_OTLP_TIMEOUT=0 means no export timeout; the commands then bound their flush by
// OTEL_BSP_EXPORT_TIMEOUT (30 s by default; 1 s here to keep the tests short). Against a
// collector that never answers, each command must still end, and say what was not exported.

std::map<std::string, std::string> NoExportTimeout(const otlp::test::ScriptedHttpServer& c) {
  return {{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", c.Url("/v1/traces")},
          {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
          {"OTEL_EXPORTER_OTLP_TIMEOUT", "0"},
          {"OTEL_BSP_EXPORT_TIMEOUT", "1000"}};
}

TEST(FlushBoundTest, SpanEndsAgainstSilentCollector) {
  auto collector = SilentCollector();
  ASSERT_NE(collector, nullptr);
  RunResult r = RunCli({"span", "--name", "silent"}, NoExportTimeout(*collector));
  ASSERT_TRUE(r.finished) << "otlp span did not end against a silent collector";
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(ParseTp(r.out)) << r.out;
  EXPECT_NE(r.err.find("otlp span: warning: 1 span not exported ("), std::string::npos) << r.err;
}

TEST(FlushBoundTest, ExecEndsAgainstSilentCollector) {
  auto collector = SilentCollector();
  ASSERT_NE(collector, nullptr);
  RunResult r = RunCli({"exec", "--", "sh", "-c", "exit 3"}, NoExportTimeout(*collector));
  ASSERT_TRUE(r.finished) << "otlp exec did not end against a silent collector";
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("otlp exec: warning: 1 span not exported ("), std::string::npos) << r.err;
}

TEST(FlushBoundTest, BenchEndsAgainstSilentCollectorAndItsNumbersAddUp) {
  auto collector = SilentCollector();
  ASSERT_NE(collector, nullptr);
  RunResult r =
      RunCli({"bench", "trace", "--seconds", "0.2", "--batch", "100"}, NoExportTimeout(*collector));
  ASSERT_TRUE(r.finished) << "otlp bench trace did not end against a silent collector";
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // nothing was exported
  auto summary = ParseBenchSummary(r.out);
  ASSERT_TRUE(summary) << r.out;
  EXPECT_GT(summary->created, 0u);
  EXPECT_EQ(summary->exported, 0u);
  EXPECT_EQ(summary->created, summary->exported + summary->dropped) << r.out;
}

// ---- config ----

TEST(ConfigTest, ShowsValuesAndSources) {
  RunResult r = RunCli({"config", "--endpoint", "http://127.0.0.1:4999"},
                       {{"OTEL_SERVICE_NAME", "checkout"},
                        {"OTEL_ATTRIBUTE_COUNT_LIMIT", "64"},
                        {"OTEL_BSP_MAX_QUEUE_SIZE", "abc"}});
  ASSERT_TRUE(r.finished);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto line_of = [&](const std::string& name) {
    size_t p = r.out.find(name + " ");
    if (p == std::string::npos) return std::string();
    return r.out.substr(p, r.out.find('\n', p) - p);
  };
  EXPECT_NE(line_of("OTEL_SERVICE_NAME").find("checkout"), std::string::npos) << r.out;
  EXPECT_NE(line_of("OTEL_SERVICE_NAME").find("(environment)"), std::string::npos) << r.out;
  EXPECT_NE(line_of("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT").find("from OTEL_ATTRIBUTE_COUNT_LIMIT"),
            std::string::npos)
      << r.out;
  EXPECT_NE(line_of("OTEL_BSP_SCHEDULE_DELAY").find("(default)"), std::string::npos) << r.out;
  EXPECT_NE(line_of("OTEL_BSP_MAX_QUEUE_SIZE").find("INVALID"), std::string::npos) << r.out;
  EXPECT_NE(line_of("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").find("flag --endpoint"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("endpoint:         http://127.0.0.1:4999/v1/traces"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("service.name:     checkout"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("OTEL_BSP_MAX_QUEUE_SIZE=abc"), std::string::npos) << r.err;
}

TEST(ConfigTest, MarkdownReference) {
  RunResult r = RunCli({"config", "--markdown"});
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("# Configuration", 0), 0u);
  EXPECT_NE(r.out.find("| `OTEL_EXPORTER_OTLP_ENDPOINT` |"), std::string::npos);
}

// ---- http ----

TEST(HttpTest, GetPrintsBodyAndExportsTheClientSpanItsTraceparentNames) {
  Receiver rx;
  ASSERT_TRUE(rx.ok());
  ASSERT_OK_AND_ASSIGN(auto server, otlp::test::ScriptedHttpServer::Start());
  server->Enqueue({.status = 200, .headers = {{"X-Answer", "42"}}, .body = "hello\n"});
  RunResult r = RunCli({"http", server->Url("/greeting"), "-v"}, rx.Env());
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\n");
  EXPECT_NE(r.err.find("> GET " + server->Url("/greeting")), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("< HTTP/1.1 200"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("< X-Answer: 42"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("* total "), std::string::npos) << r.err;
  const std::string marker = "* traceparent sent: ";
  const size_t at = r.err.find(marker);
  ASSERT_NE(at, std::string::npos) << r.err;
  const std::string sent = r.err.substr(at + marker.size(), 55);
  auto tp = ParseTp(sent);
  ASSERT_TRUE(tp.has_value()) << sent;
  ASSERT_EQ(server->request_count(), 1u);
  EXPECT_EQ(server->requests()[0].Header("traceparent"), sent);
  auto span = rx.WaitForSpan(tp->span_id);
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->name, "GET");
  EXPECT_EQ(span->trace_id, tp->trace_id);
  EXPECT_NE(span->text.find("http.response.status_code"), std::string::npos);
  EXPECT_NE(span->text.find("\"kind\":3"), std::string::npos);  // CLIENT
}

TEST(HttpTest, ParentFromTraceparentJsonBodyHeadersRetriesAndOutputFile) {
  Receiver rx;
  ASSERT_TRUE(rx.ok());
  ASSERT_OK_AND_ASSIGN(auto server, otlp::test::ScriptedHttpServer::Start());
  server->EnqueueAll({{.status = 503, .headers = {{"Retry-After", "0"}}},
                      {.status = 201, .body = "stored"}});
  otlp::test::TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string out = dir.Join("body.out");
  RunResult r = RunCli({"http", "PUT", server->Url("/items/1"), "--json", R"({"a":1})", "-H",
                        "X-Trace-Me: yes", "--retries", "2", "--timeout", "10", "-o", out},
                       Merge(rx.Env(), {{"TRACEPARENT", kParentTp}}));
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(dir.ReadFile("body.out"), "stored");
  const auto reqs = server->requests();
  ASSERT_EQ(reqs.size(), 2u);
  for (const auto& req : reqs) {
    EXPECT_EQ(req.method, "PUT");
    EXPECT_EQ(req.body, R"({"a":1})");
    EXPECT_EQ(req.Header("Content-Type"), "application/json");
    EXPECT_EQ(req.Header("X-Trace-Me"), "yes");
  }
  // Both attempts are children of the given parent, each sent with its own span.
  auto first = ParseTp(std::string(reqs[0].Header("traceparent").value_or("")));
  auto second = ParseTp(std::string(reqs[1].Header("traceparent").value_or("")));
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_NE(first->span_id, second->span_id);
  auto retried = rx.WaitForSpan(second->span_id);
  ASSERT_TRUE(retried.has_value());
  EXPECT_EQ(retried->parent_span_id, "00f067aa0ba902b7");
  EXPECT_NE(retried->text.find("http.request.resend_count"), std::string::npos);
}

TEST(HttpTest, Http2SpeaksH2cWithPriorKnowledge) {
  auto runtime = otlp::net::Runtime::Create();
  ASSERT_OK_AND_ASSIGN(
      auto server,
      otlp::net::HttpServer::Start(runtime, {},
                                   [](const otlp::net::ServerRequest& req,
                                      otlp::net::ServerResponse& res) {
                                     res.body = "over HTTP/" + req.version;
                                   }));
  const std::string url = "http://127.0.0.1:" + std::to_string(server->port()) + "/";
  const std::map<std::string, std::string> no_export = {{"OTEL_TRACES_EXPORTER", "none"}};
  RunResult h2 = RunCli({"http", url, "--http2", "-v"}, no_export);
  ASSERT_TRUE(h2.finished);
  EXPECT_EQ(h2.exit_code, 0) << h2.err;
  EXPECT_EQ(h2.out, "over HTTP/2");
  EXPECT_NE(h2.err.find("< HTTP/2 200"), std::string::npos) << h2.err;
  RunResult h1 = RunCli({"http", url}, no_export);
  EXPECT_EQ(h1.exit_code, 0) << h1.err;
  EXPECT_EQ(h1.out, "over HTTP/1.1");
}

TEST(HttpTest, ExitCodesAndUsageErrors) {
  ASSERT_OK_AND_ASSIGN(auto server, otlp::test::ScriptedHttpServer::Start());
  server->Enqueue({.status = 404, .body = "missing"});
  const std::map<std::string, std::string> no_export = {{"OTEL_TRACES_EXPORTER", "none"}};
  RunResult not_found = RunCli({"http", server->Url("/nope")}, no_export);
  EXPECT_EQ(not_found.exit_code, 3) << not_found.err;
  EXPECT_EQ(not_found.out, "missing");
  RunResult refused =
      RunCli({"http", "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/"}, no_export);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("otlp http: UNAVAILABLE: connection refused"), std::string::npos)
      << refused.err;
  const std::vector<std::pair<std::vector<std::string>, std::string>> usage = {
      {{"http"}, "otlp http: a URL is required"},
      {{"http", "GET", "http://h/", "extra"}, "otlp http: unexpected argument 'extra'"},
      {{"http", "http://h/", "-d", "x", "--json", "{}"}, "otlp http: --data and --json exclude"},
      {{"http", "http://h/", "--json", "{nope"}, "otlp http: --json: the body is not valid JSON"},
      {{"http", "http://h/", "--retries", "-1"}, "otlp http: invalid --retries '-1'"},
      {{"http", "http://h/", "--timeout", "0"}, "otlp http: invalid --timeout '0'"},
      {{"http", "http://h/", "-H", "novalue"}, "otlp http: invalid --header 'novalue'"},
  };
  for (const auto& [args, expected] : usage) {
    RunResult r = RunCli(args, no_export);
    ASSERT_TRUE(r.finished);
    EXPECT_EQ(r.exit_code, 2) << expected;
    EXPECT_EQ(r.err.rfind(expected, 0), 0u) << "got: " << r.err;
  }
  RunResult help = RunCli({"http", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag : {"--header", "--data", "--json", "--http2", "--retries", "--timeout",
                           "--output", "--verbose", "Examples:"}) {
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
  }
}

// ---- view ----

TEST(ViewTest, ReceivesDrawsStoresAcrossRestartAndExports) {
  otlp::test::TempDir dir("otlp-view-cli-");
  const std::string db = dir.Join("traces.db");
  {
    Process view({"view", "--db", db, "--http", "0", "--grpc", "0", "--ui", "0", "--quiet",
                  "0.2", "--color", "never"},
                 {});
    ASSERT_TRUE(view.started());
    std::string endpoint;
    for (int i = 0; i < 6 && endpoint.empty(); ++i) {
      auto line = view.ReadLine(30s);
      ASSERT_TRUE(line.has_value()) << view.err();
      const std::string prefix = "otlp view: OTLP/HTTP on ";
      if (line->starts_with(prefix)) endpoint = line->substr(prefix.size());
    }
    ASSERT_FALSE(endpoint.empty());
    RunResult span = RunCli({"span", "--name", "deploy", "--service", "ci", "--attr",
                             "http.route=/deploy", "--endpoint", endpoint});
    ASSERT_EQ(span.exit_code, 0) << span.err;
    const std::string traceparent = Trim(span.out);
    // The waterfall of the quiet trace: its id, the service and span, the key attribute.
    std::string waterfall;
    for (int i = 0; i < 20 && waterfall.find("http.route=/deploy") == std::string::npos; ++i) {
      auto line = view.ReadLine(30s);
      ASSERT_TRUE(line.has_value()) << view.out();
      waterfall += *line + "\n";
    }
    EXPECT_NE(waterfall.find("trace " + traceparent.substr(3, 32)), std::string::npos) << waterfall;
    EXPECT_NE(waterfall.find("ci: deploy"), std::string::npos) << waterfall;
    EXPECT_EQ(waterfall.find("\x1b["), std::string::npos);  // --color never
    view.Signal(SIGINT);
    ASSERT_TRUE(view.Finish());
    EXPECT_EQ(view.exit_code(), 0) << view.err();
    EXPECT_NE(view.out().find("stopped (1 traces, 1 spans stored)"), std::string::npos);
  }
  // The file keeps what was stored; --export writes it as OTLP/JSON lines.
  const std::string out = dir.Join("traces.jsonl");
  RunResult exported = RunCli({"view", "--db", db, "--export", out});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_NE(exported.err.find("wrote 1 trace to"), std::string::npos) << exported.err;
  std::ifstream in(out);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_NE(line.find("\"name\":\"deploy\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"stringValue\":\"ci\""), std::string::npos) << line;
  EXPECT_FALSE(std::getline(in, line));
}

TEST(ViewTest, BadUsageAndBadDatabasesAreOneLine) {
  otlp::test::TempDir dir("otlp-view-cli-");
  for (const auto& [args, expected] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"view", "--http", "70000"}, "otlp view: invalid --http '70000' (expected an integer in [0, 65535])"},
           {{"view", "--quiet", "0"}, "otlp view: --quiet takes a positive number"},
           {{"view", "--color", "rainbow"}, "otlp view: --color takes auto, always or never"},
           {{"view", "--export", "x.jsonl"}, "otlp view: --export reads the database given with --db"},
       }) {
    RunResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 2) << expected;
    EXPECT_EQ(r.err.rfind(expected, 0), 0u) << r.err;
    EXPECT_EQ(CountLines(r.err), 1u) << r.err;
  }
  ASSERT_OK(dir.WriteFile("garbage.db", std::string(8192, 'g')));
  RunResult garbage = RunCli({"view", "--db", dir.Join("garbage.db"), "--http", "0", "--grpc",
                              "0", "--ui", "0"});
  EXPECT_EQ(garbage.exit_code, 1);
  EXPECT_NE(garbage.err.find("garbage.db"), std::string::npos) << garbage.err;
  EXPECT_EQ(CountLines(garbage.err), 1u) << garbage.err;
  RunResult help = RunCli({"view", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag : {"--listen", "--http", "--grpc", "--ui", "--db", "--max-db-mb",
                           "--forward", "--export", "Examples:"}) {
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
