// End-to-end conformance of the whole pipeline: spans made with the public SDK API go through the
// BatchSpanProcessor and the real OtlpHttpExporter, over loopback HTTP, to receiver.js, which
// decodes every request with the official OpenTelemetry JS protobuf definitions
// (@opentelemetry/otlp-transformer). Each combination of http/protobuf or http/json, with or
// without gzip, must deliver every field exactly as the test set it: ids, parents, kinds, times,
// attributes of every type, events, links, statuses, tracestate, flags, dropped counts (small
// SpanLimits), resource and scope. The request headers (Content-Type, Content-Encoding,
// User-Agent) are checked too.
//
// Needs node and `npm ci` in tests/conformance; skipped with a message otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/core/attributes.h"
#include "otlp/core/version.h"
#include "otlp/exporter/otlp_http_exporter.h"
#include "otlp/propagation/carriers.h"
#include "otlp/propagation/trace_context_propagator.h"
#include "otlp/trace/batch_processor.h"
#include "otlp/trace/context.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/resource.h"
#include "otlp/trace/sampler.h"
#include "otlp/trace/span.h"
#include "otlp/trace/tracer.h"

#ifndef OTLP_CONFORMANCE_DIR
#error "OTLP_CONFORMANCE_DIR must name the tests/conformance source directory"
#endif

extern char** environ;

namespace otlp::exporter {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using trace::SpanContext;
using trace::SpanKind;
using trace::SpanStatusCode;
using trace::SystemTime;

namespace fs = std::filesystem;

constexpr const char* kDir = OTLP_CONFORMANCE_DIR;
// Generous upper bounds so that a stuck child or exporter fails the test instead of hanging it.
constexpr auto kStartLimit = 60s;
constexpr auto kStopLimit = 30s;
constexpr auto kFlushLimit = 60s;

std::string SkipReason() {
  const std::string dir = kDir;
  if (!fs::exists(dir +
                  "/node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js")) {
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

// ---- receiver.js as a child process ----

// Runs `node receiver.js --out=<file> --exit-on-stdin-eof`: its stdin is a pipe we hold (closing
// it stops the receiver), its stdout a pipe that first carries the port, then closes at exit.
class Receiver {
 public:
  Receiver() = default;
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;
  ~Receiver() { Stop(); }

  // Starts the receiver; an empty string on success, else what went wrong.
  std::string Start(const std::string& out_file, const std::string& err_file) {
    err_file_ = err_file;
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0) return "pipe2 failed";
    if (pipe2(out, O_CLOEXEC) != 0) {
      close(in[0]);
      close(in[1]);
      return "pipe2 failed";
    }
    std::vector<std::string> args = {"node", std::string(kDir) + "/receiver.js",
                                     "--out=" + out_file, "--exit-on-stdin-eof"};
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
        return "receiver.js printed no port (" + line + "); stderr: " + ReadAll(err_file_);
      }
    }
    const int port = std::atoi(line.c_str());
    if (port <= 0 || port > 65535) return "receiver.js printed a bad port: " + line;
    port_ = port;
    return {};
  }

  int port() const { return port_; }
  std::string stderr_text() const { return ReadAll(err_file_); }

  // Closes the receiver's stdin, which makes it exit; waits for that (its stdout reaching EOF),
  // killing it only if it does not exit within kStopLimit. Idempotent.
  void Stop() {
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
        ADD_FAILURE() << "receiver.js did not exit when its stdin closed; killing it";
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

 private:
  // Appends what stdout has to `out`. False at EOF (stdout is then closed) or at the deadline.
  bool ReadSome(Clock::time_point deadline, std::string& out) {
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

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
  std::string err_file_;
};

// ---- decoding the receiver's log ----

// Runs e2e_spans.js on the receiver's output: "path=value" lines keyed by span name.
std::map<std::string, std::string> FlatSpans(const std::string& receiver_out) {
  std::map<std::string, std::string> m;
  const std::string cmd =
      std::string("node '") + kDir + "/e2e_spans.js' '" + receiver_out + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "popen failed: " << cmd;
    return m;
  }
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
  const int status = pclose(p);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << text;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) {
      ADD_FAILURE() << "bad line from e2e_spans.js: " << line;
      continue;
    }
    // A repeated path means two spans of the same name: each span must arrive exactly once.
    EXPECT_TRUE(m.emplace(line.substr(0, eq), line.substr(eq + 1)).second) << "repeated " << line;
  }
  return m;
}

std::string Q(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

// The fields the receiver must have decoded, with their canonical values ("path" -> JSON text).
class Expected {
 public:
  void Add(const std::string& path, const std::string& value) {
    EXPECT_TRUE(fields_.emplace(path, value).second) << "test bug: duplicate " << path;
  }
  // Attribute `i` of the list at `list`: `member` is stringValue, intValue, boolValue, …
  void Attr(const std::string& list, int i, std::string_view key, const std::string& member,
            const std::string& value) {
    const std::string p = list + "[" + std::to_string(i) + "]";
    Add(p + ".key", Q(key));
    Add(p + ".value." + member, value);
  }
  void ArrayAttr(const std::string& list, int i, std::string_view key, const std::string& member,
                 const std::vector<std::string>& values) {
    const std::string p = list + "[" + std::to_string(i) + "]";
    Add(p + ".key", Q(key));
    if (values.empty()) Add(p + ".value.arrayValue", "{}");
    for (size_t j = 0; j < values.size(); ++j) {
      Add(p + ".value.arrayValue.values[" + std::to_string(j) + "]." + member, values[j]);
    }
  }

  // Every expected span field arrived with its value, and no span field arrived that the test
  // did not expect. Lines about requests (request[…]) are checked separately.
  void CheckSpans(const std::map<std::string, std::string>& got) const {
    for (const auto& [path, value] : fields_) {
      auto it = got.find(path);
      if (it == got.end()) {
        ADD_FAILURE() << "missing " << path << " (expected " << value << ")";
      } else {
        EXPECT_EQ(it->second, value) << path;
      }
    }
    for (const auto& [path, value] : got) {
      if (path.starts_with("request[")) continue;
      EXPECT_TRUE(fields_.count(path)) << "unexpected " << path << "=" << value;
    }
  }

 private:
  std::map<std::string, std::string> fields_;
};

// ---- the scenario ----

constexpr int64_t kT0 = 1700000000123456789;  // start of the server span, in ns since the epoch

SystemTime At(int64_t offset_ns) {
  return SystemTime(
      std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds(kT0 + offset_ns)));
}
std::string Ns(int64_t offset_ns) {
  return Q(std::to_string(kT0 + offset_ns));
}

constexpr std::string_view kRemoteTrace = "0af7651916cd43dd8448eb211c80319c";
constexpr std::string_view kRemoteParent = "b7ad6b7169203331";
constexpr std::string_view kTraceState = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
constexpr std::string_view kLinkTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kLinkSpan = "00f067aa0ba902b7";
constexpr std::string_view kLinkTraceState = "vendor=abc,other=x";
constexpr std::string_view kResourceSchema = "https://opentelemetry.io/schemas/1.24.0";
constexpr std::string_view kScopeSchema = "https://example.com/e2e-scope";

trace::SpanLimits SmallLimits() {
  trace::SpanLimits l;
  l.attribute_count = 10;
  l.attribute_value_length = 16;
  l.event_count = 3;
  l.link_count = 2;
  l.event_attribute_count = 2;
  l.link_attribute_count = 2;
  return l;
}

trace::Resource MakeResource() {
  OwnedAttributes a;
  a.Set("service.name", "e2e-service");
  a.Set("deployment.environment.name", "test");
  a.Set("res.count", 3);
  a.Set("res.ratio", 0.5);
  a.Set("res.enabled", true);
  a.Set("res.tags", OwnedAttributeValue(std::vector<std::string>{"x", "y"}));
  return trace::Resource(std::move(a), std::string(kResourceSchema));
}

// Span ids the SDK generated, for the expectations.
struct Ids {
  std::string server, client, producer, grandchild, root, root_trace;
};

// Creates the spans through the public API (see Expect() for what each must look like).
Ids MakeSpans(trace::TracerProvider& provider) {
  trace::Tracer lib = provider.GetTracer("e2e.lib", "1.2.3", kScopeSchema);
  trace::Tracer other = provider.GetTracer("e2e.other");
  Ids ids;

  // The incoming request: W3C headers of a remote, sampled parent with a tracestate.
  const std::string traceparent =
      "00-" + std::string(kRemoteTrace) + "-" + std::string(kRemoteParent) + "-01";
  propagation::MapCarrier headers{{"traceparent", traceparent}, {"tracestate", kTraceState}};
  const trace::Context incoming = propagation::TraceContextPropagator().Extract(headers);
  EXPECT_TRUE(incoming.span_context().IsValid());
  EXPECT_TRUE(incoming.span_context().IsRemote());

  // A new trace, unrelated to the request; the server span links to it.
  trace::Span root = other.StartSpan(
      "root-consumer", {.kind = SpanKind::kConsumer, .root = true, .start_time = At(0)});
  ids.root = root.GetContext().span_id().ToHex();
  ids.root_trace = root.GetContext().trace_id().ToHex();

  const SpanContext start_links[] = {root.GetContext()};
  trace::Span server =
      lib.StartSpan("server", {{"http.request.method", "GET"}, {"http.response.status_code", 200}},
                    {.kind = SpanKind::kServer,
                     .parent = incoming.span_context(),
                     .start_time = At(0),
                     .links = start_links});
  ids.server = server.GetContext().span_id().ToHex();

  const std::string_view tags[] = {"a", "b\xc3\xa9ta", "", "abcdefghijklmnopqrstuvwxyz"};
  const bool flags[] = {true, false, true};
  const int64_t codes[] = {1, -2, int64_t{1} << 40};
  const double weights[] = {0.5, -1.25, 1e300};
  // 20 two-byte characters: the limit of 16 counts characters, not bytes.
  std::string long_value;
  for (int i = 0; i < 20; ++i) long_value += "\xc3\xa9";
  server.SetAttribute("ok", true)
      .SetAttribute("ratio", -2.5)
      .SetAttribute("big", std::numeric_limits<int64_t>::max())
      .SetAttribute("tags", std::span<const std::string_view>(tags))
      .SetAttribute("flags", std::span<const bool>(flags))
      .SetAttribute("codes", std::span<const int64_t>(codes))
      .SetAttribute("weights", std::span<const double>(weights))
      .SetAttribute("long", long_value)
      // Past the count limit of 10: dropped and counted.
      .SetAttribute("dropped.1", 1)
      .SetAttribute("dropped.2", "x")
      // Replacing an existing key is not an addition: kept in place even at the limit.
      .SetAttribute("ok", false);

  server.AddEvent("request.received", {{"bytes", 512}, {"peer", "10.0.0.1"}}, At(1000));
  server.AddEvent("cache.miss", std::span<const KeyValue>(), At(2000));
  server.AddEvent("retry", {{"attempt", 2}, {"backoff_ms", 1.5}, {"final", false}}, At(3000));
  server.AddEvent("one.too.many", {{"x", 1}}, At(4000));  // past the event limit of 3

  const SpanContext remote_link(*trace::TraceId::FromHex(kLinkTrace),
                                *trace::SpanId::FromHex(kLinkSpan), trace::TraceFlags(0), true,
                                trace::TraceState::FromHeader(kLinkTraceState));
  server.AddLink(remote_link, {{"link.kind", "follows"}, {"n", 1}, {"over", true}});
  server.AddLink(remote_link, {{"past", "limit"}});  // past the link limit of 2

  {
    trace::Span client = lib.StartSpan(
        "child-client",
        {.kind = SpanKind::kClient, .parent = server.GetContext(), .start_time = At(10)});
    ids.client = client.GetContext().span_id().ToHex();
    trace::Span grandchild =
        lib.StartSpan("grandchild", {.parent = client.GetContext(), .start_time = At(12)});
    ids.grandchild = grandchild.GetContext().span_id().ToHex();
    grandchild.End(At(15));
    client.SetStatus(SpanStatusCode::kOk, "description ignored for ok");
    client.SetStatus(SpanStatusCode::kError, "ok is final");
    client.End(At(20));
  }
  {
    trace::Scope scope(server);  // implicit parent
    trace::Span producer = other.StartSpan("child-producer", {{"messaging.system", "kafka"}},
                                           {.kind = SpanKind::kProducer, .start_time = At(30)});
    ids.producer = producer.GetContext().span_id().ToHex();
    producer.End(At(40));
  }
  server.SetStatus(SpanStatusCode::kError, "upstream timeout");
  server.End(At(100000000));
  root.End(At(5));
  return ids;
}

void AddResourceAndScope(Expected& x, const std::string& span, bool lib_scope) {
  const std::string r = span + ".resource.attributes";
  x.Attr(r, 0, "service.name", "stringValue", Q("e2e-service"));
  x.Attr(r, 1, "deployment.environment.name", "stringValue", Q("test"));
  x.Attr(r, 2, "res.count", "intValue", Q("3"));
  x.Attr(r, 3, "res.ratio", "doubleValue", "0.5");
  x.Attr(r, 4, "res.enabled", "boolValue", "true");
  x.ArrayAttr(r, 5, "res.tags", "stringValue", {Q("x"), Q("y")});
  x.Add(span + ".resourceSchemaUrl", Q(kResourceSchema));
  if (lib_scope) {
    x.Add(span + ".scope.name", Q("e2e.lib"));
    x.Add(span + ".scope.version", Q("1.2.3"));
    x.Add(span + ".scopeSchemaUrl", Q(kScopeSchema));
  } else {
    x.Add(span + ".scope.name", Q("e2e.other"));
  }
}

Expected Expect(const Ids& ids) {
  Expected x;
  const std::string sampled_local = "257";  // sampled | 0x100 (is-remote known), local parent

  // server: remote parent from traceparent/tracestate; everything set.
  {
    const std::string s = "span[server]";
    x.Add(s + ".traceId", Q(kRemoteTrace));
    x.Add(s + ".spanId", Q(ids.server));
    x.Add(s + ".parentSpanId", Q(kRemoteParent));
    x.Add(s + ".traceState", Q(kTraceState));
    x.Add(s + ".flags", "769");  // sampled | 0x100 | 0x200 (parent is remote)
    x.Add(s + ".kind", "2");
    x.Add(s + ".startTimeUnixNano", Ns(0));
    x.Add(s + ".endTimeUnixNano", Ns(100000000));
    const std::string a = s + ".attributes";
    x.Attr(a, 0, "http.request.method", "stringValue", Q("GET"));
    x.Attr(a, 1, "http.response.status_code", "intValue", Q("200"));
    x.Attr(a, 2, "ok", "boolValue", "false");
    x.Attr(a, 3, "ratio", "doubleValue", "-2.5");
    x.Attr(a, 4, "big", "intValue", Q("9223372036854775807"));
    x.ArrayAttr(a, 5, "tags", "stringValue",
                {Q("a"), Q("b\xc3\xa9ta"), Q(""), Q("abcdefghijklmnop")});
    x.ArrayAttr(a, 6, "flags", "boolValue", {"true", "false", "true"});
    x.ArrayAttr(a, 7, "codes", "intValue", {Q("1"), Q("-2"), Q("1099511627776")});
    x.ArrayAttr(a, 8, "weights", "doubleValue", {"0.5", "-1.25", "1e+300"});
    std::string truncated;
    for (int i = 0; i < 16; ++i) truncated += "\xc3\xa9";
    x.Attr(a, 9, "long", "stringValue", Q(truncated));
    x.Add(s + ".droppedAttributesCount", "2");

    const std::string e = s + ".events";
    x.Add(e + "[0].name", Q("request.received"));
    x.Add(e + "[0].timeUnixNano", Ns(1000));
    x.Attr(e + "[0].attributes", 0, "bytes", "intValue", Q("512"));
    x.Attr(e + "[0].attributes", 1, "peer", "stringValue", Q("10.0.0.1"));
    x.Add(e + "[1].name", Q("cache.miss"));
    x.Add(e + "[1].timeUnixNano", Ns(2000));
    x.Add(e + "[2].name", Q("retry"));
    x.Add(e + "[2].timeUnixNano", Ns(3000));
    x.Attr(e + "[2].attributes", 0, "attempt", "intValue", Q("2"));
    x.Attr(e + "[2].attributes", 1, "backoff_ms", "doubleValue", "1.5");
    x.Add(e + "[2].droppedAttributesCount", "1");
    x.Add(s + ".droppedEventsCount", "1");

    const std::string l = s + ".links";
    x.Add(l + "[0].traceId", Q(ids.root_trace));  // given at start, local, no tracestate
    x.Add(l + "[0].spanId", Q(ids.root));
    x.Add(l + "[0].flags", sampled_local);
    x.Add(l + "[1].traceId", Q(kLinkTrace));
    x.Add(l + "[1].spanId", Q(kLinkSpan));
    x.Add(l + "[1].traceState", Q(kLinkTraceState));
    x.Add(l + "[1].flags", "768");  // not sampled | 0x100 | 0x200 (remote)
    x.Attr(l + "[1].attributes", 0, "link.kind", "stringValue", Q("follows"));
    x.Attr(l + "[1].attributes", 1, "n", "intValue", Q("1"));
    x.Add(l + "[1].droppedAttributesCount", "1");
    x.Add(s + ".droppedLinksCount", "1");

    x.Add(s + ".status.code", "2");
    x.Add(s + ".status.message", Q("upstream timeout"));
    AddResourceAndScope(x, s, true);
  }
  // child-client: explicit local parent, status ok (its description dropped, later error ignored).
  {
    const std::string s = "span[child-client]";
    x.Add(s + ".traceId", Q(kRemoteTrace));
    x.Add(s + ".spanId", Q(ids.client));
    x.Add(s + ".parentSpanId", Q(ids.server));
    x.Add(s + ".traceState", Q(kTraceState));
    x.Add(s + ".flags", sampled_local);
    x.Add(s + ".kind", "3");
    x.Add(s + ".startTimeUnixNano", Ns(10));
    x.Add(s + ".endTimeUnixNano", Ns(20));
    x.Add(s + ".status.code", "1");
    AddResourceAndScope(x, s, true);
  }
  // grandchild: default kind (internal), nothing else.
  {
    const std::string s = "span[grandchild]";
    x.Add(s + ".traceId", Q(kRemoteTrace));
    x.Add(s + ".spanId", Q(ids.grandchild));
    x.Add(s + ".parentSpanId", Q(ids.client));
    x.Add(s + ".traceState", Q(kTraceState));
    x.Add(s + ".flags", sampled_local);
    x.Add(s + ".kind", "1");
    x.Add(s + ".startTimeUnixNano", Ns(12));
    x.Add(s + ".endTimeUnixNano", Ns(15));
    AddResourceAndScope(x, s, true);
  }
  // child-producer: parent from the current Scope, second scope.
  {
    const std::string s = "span[child-producer]";
    x.Add(s + ".traceId", Q(kRemoteTrace));
    x.Add(s + ".spanId", Q(ids.producer));
    x.Add(s + ".parentSpanId", Q(ids.server));
    x.Add(s + ".traceState", Q(kTraceState));
    x.Add(s + ".flags", sampled_local);
    x.Add(s + ".kind", "4");
    x.Add(s + ".startTimeUnixNano", Ns(30));
    x.Add(s + ".endTimeUnixNano", Ns(40));
    x.Attr(s + ".attributes", 0, "messaging.system", "stringValue", Q("kafka"));
    AddResourceAndScope(x, s, false);
  }
  // root-consumer: a new trace, no parent, no tracestate.
  {
    const std::string s = "span[root-consumer]";
    x.Add(s + ".traceId", Q(ids.root_trace));
    x.Add(s + ".spanId", Q(ids.root));
    x.Add(s + ".flags", sampled_local);
    x.Add(s + ".kind", "5");
    x.Add(s + ".startTimeUnixNano", Ns(0));
    x.Add(s + ".endTimeUnixNano", Ns(5));
    AddResourceAndScope(x, s, false);
  }
  return x;
}
constexpr size_t kSpanCount = 5;

// ---- the test ----

struct Combination {
  const char* name;
  OtlpProtocol protocol;
  Compression compression;
  const char* content_type;
  const char* content_encoding;
};

// Names the combination in test output (ctest would otherwise show the struct's bytes).
void PrintTo(const Combination& c, std::ostream* os) {
  *os << c.name;
}

class ExporterE2e : public testing::TestWithParam<Combination> {
 protected:
  void SetUp() override {
    if (const std::string why = SkipReason(); !why.empty()) GTEST_SKIP() << why;
    const std::string base =
        testing::TempDir() + "otlp_e2e_" + std::to_string(getpid()) + "_" + GetParam().name;
    out_file_ = base + ".jsonl";
    err_file_ = base + ".stderr";
    fs::remove(out_file_);
    const std::string error = receiver_.Start(out_file_, err_file_);
    ASSERT_TRUE(error.empty()) << error;
  }
  void TearDown() override {
    receiver_.Stop();
    if (HasFailure() && !err_file_.empty()) {
      std::cerr << "receiver.js stderr:\n"
                << ReadAll(err_file_) << "receiver.js log:\n"
                << ReadAll(out_file_);
    }
    if (!out_file_.empty()) fs::remove(out_file_);
    if (!err_file_.empty()) fs::remove(err_file_);
  }

  Receiver receiver_;
  std::string out_file_;
  std::string err_file_;
};

TEST_P(ExporterE2e, EveryFieldRoundTrips) {
  const Combination& c = GetParam();
  auto created = OtlpHttpExporter::Create({
      .endpoint = "http://127.0.0.1:" + std::to_string(receiver_.port()) + "/v1/traces",
      .protocol = c.protocol,
      .timeout = std::chrono::milliseconds(kFlushLimit),
      .compression = c.compression,
  });
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  OtlpHttpExporter* exporter = created->get();  // owned by the processor from here on
  auto provider = trace::TracerProvider::Create({
      // A long schedule delay: the spans leave on ForceFlush, not on a timer.
      .processor = trace::BatchSpanProcessor::Create(std::move(*created),
                                                     {.schedule_delay = std::chrono::hours(1)}),
      .sampler = trace::Sampler::AlwaysOn(),
      .resource = MakeResource(),
      .limits = SmallLimits(),
  });

  const Ids ids = MakeSpans(*provider);
  ASSERT_TRUE(provider->ForceFlush(kFlushLimit));
  // The receiver logs each request before answering it, so after the flush the log is complete.
  const ExporterStats stats = exporter->stats();
  EXPECT_EQ(stats.spans_exported, kSpanCount);
  EXPECT_EQ(stats.spans_failed, 0u);
  EXPECT_EQ(stats.retries, 0u);

  const auto got = FlatSpans(out_file_);
  Expect(ids).CheckSpans(got);

  // Every request the exporter sent was decoded and logged, with the right headers.
  size_t requests = 0, spans = 0;
  for (const auto& [path, value] : got) {
    ASSERT_TRUE(!path.starts_with("error[") && !path.starts_with("failed["))
        << path << "=" << value;
    if (!path.starts_with("request[")) continue;
    const std::string field = path.substr(path.find("].") + 2);
    if (field == "contentType") {
      ++requests;
      EXPECT_EQ(value, Q(c.content_type)) << path;
    } else if (field == "contentEncoding") {
      EXPECT_EQ(value, Q(c.content_encoding)) << path;
    } else if (field == "userAgent") {
      EXPECT_EQ(value, Q(otlp::kUserAgent)) << path;
      EXPECT_EQ(value, Q(std::string("otlp-cpp/") + OTLP_VERSION_STRING)) << path;
    } else if (field == "spans") {
      spans += std::stoul(value);
    } else {
      ADD_FAILURE() << "unexpected " << path;
    }
  }
  EXPECT_GE(requests, 1u);
  EXPECT_EQ(requests, stats.requests);
  EXPECT_EQ(spans, kSpanCount);

  EXPECT_TRUE(provider->Shutdown(kFlushLimit));
}

INSTANTIATE_TEST_SUITE_P(
    AllEncodings, ExporterE2e,
    testing::Values(Combination{"proto", OtlpProtocol::kHttpProtobuf, Compression::kNone,
                                "application/x-protobuf", "identity"},
                    Combination{"proto_gzip", OtlpProtocol::kHttpProtobuf, Compression::kGzip,
                                "application/x-protobuf", "gzip"},
                    Combination{"json", OtlpProtocol::kHttpJson, Compression::kNone,
                                "application/json", "identity"},
                    Combination{"json_gzip", OtlpProtocol::kHttpJson, Compression::kGzip,
                                "application/json", "gzip"}),
    [](const testing::TestParamInfo<Combination>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace otlp::exporter
