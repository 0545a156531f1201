// `otlp demo` end to end: the built binary (OTLP_CLI_PATH) runs the whole demo — four service
// processes and the client flow — against receiver.js, an OTLP/HTTP receiver decoding with the
// official OpenTelemetry JS definitions. The test reads the decoded spans back and checks the
// trace the demo promises (examples/demo/demo.h): one trace id, the spans of every service with
// its service.name, each span's parent, the retried call to orders (503 then
// http.request.resend_count 1), the WebSocket hop, the out-of-stock error span — and that no
// process the demo started is left, after --once, after Ctrl-C, and after a failure.
//
// Needs node and `npm ci` in tests/conformance; skipped with a message otherwise.
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/conformance/conformance_support.h"
#include "tests/support/child_process.h"
#include "tests/support/raw_tcp_server.h"


namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nlohmann::json;
namespace fs = std::filesystem;

// Generous bound so that a hung demo fails the test instead of hanging it (not a timing check).
constexpr auto kProcessLimit = 120s;

// ---- the otlp process ----

// OTLP_CLI_PATH with `args`, read through pipes (tests/support/child_process.h).
class Cli : public otlp::test::ChildProcess {
 public:
  explicit Cli(const std::vector<std::string>& args) : ChildProcess(OTLP_CLI_PATH, args) {}
};

// The pids of the services the demo printed ("  orders   http://127.0.0.1:N   pid P").
std::map<std::string, pid_t> ServicePids(const std::string& out) {
  std::map<std::string, pid_t> pids;
  static const std::regex line(
      R"(^  (frontend|orders|inventory|notifications|fulfillment|nats-server) +.+ +pid (\d+)$)");
  std::istringstream in(out);
  std::string l;
  std::smatch m;
  while (std::getline(in, l)) {
    if (std::regex_match(l, m, line)) pids[m[1]] = std::stoi(m[2]);
  }
  return pids;
}

// Processes still running a demo service whose arguments mention `endpoint` (unique to the
// test), as "pid cmdline" strings.
std::vector<std::string> LeftoverServices(const std::string& endpoint) {
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = otlp::test::ReadAll("/proc/" + pid + "/cmdline");
    for (char& c : cmdline) {
      if (c == '\0') c = ' ';
    }
    if (cmdline.find("--run-service") != std::string::npos &&
        cmdline.find(endpoint) != std::string::npos) {
      // A zombie has ended; only its parent has not reaped it.
      const std::string stat = otlp::test::ReadAll("/proc/" + pid + "/stat");
      const size_t paren = stat.rfind(')');
      if (paren != std::string::npos && stat.compare(paren, 4, ") Z ") == 0) continue;
      left.push_back(pid + " " + cmdline);
    }
  }
  return left;
}

// ---- the decoded spans ----

struct DecodedSpan {
  std::string service;  // the resource's service.name
  std::string service_namespace;
  json span;  // the canonical Span of otlp_decode.js

  std::string name() const { return span.value("name", ""); }
  int kind() const { return span.value("kind", 0); }  // 1 internal, 2 server, 3 client
  std::string trace_id() const { return span.value("traceId", ""); }
  std::string span_id() const { return span.value("spanId", ""); }
  std::string parent() const { return span.value("parentSpanId", ""); }
  int status_code() const { return span.contains("status") ? span["status"].value("code", 0) : 0; }
  std::string status_message() const {
    return span.contains("status") ? span["status"].value("message", "") : "";
  }
  // An attribute's value as JSON text of its one member ("\"GET\"", "\"200\"" for ints, as
  // otlp_decode.js keeps 64-bit integers in strings); "" when absent.
  std::string Attr(std::string_view key) const {
    for (const json& a : span.value("attributes", json::array())) {
      if (a.value("key", "") != key) continue;
      const json& v = a["value"];
      return v.empty() ? "{}" : v.begin().value().dump();
    }
    return "";
  }
  std::string Describe() const { return service + " " + name() + " (" + span_id() + ")"; }
};

std::string S(std::string_view s) {
  return json(s).dump();
}

// Every span in receiver.js's output file; failures for lines that are not decoded requests.
std::vector<DecodedSpan> ReadSpans(const std::string& file) {
  std::vector<DecodedSpan> spans;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const json rec = json::parse(line, nullptr, false);
    if (!rec.is_object() || !rec.contains("request")) {
      ADD_FAILURE() << "receiver.js logged: " << line;
      continue;
    }
    for (const json& rs : rec["request"].value("resourceSpans", json::array())) {
      DecodedSpan base;
      for (const json& a :
           rs.value("resource", json::object()).value("attributes", json::array())) {
        const std::string value = a["value"].value("stringValue", "");
        if (a.value("key", "") == "service.name") base.service = value;
        if (a.value("key", "") == "service.namespace") base.service_namespace = value;
      }
      for (const json& ss : rs.value("scopeSpans", json::array())) {
        for (const json& s : ss.value("spans", json::array())) {
          DecodedSpan d = base;
          d.span = s;
          spans.push_back(std::move(d));
        }
      }
    }
  }
  return spans;
}

class DemoTest : public testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = otlp::test::NodeSkipReason(); !why.empty()) GTEST_SKIP() << why;
  }
  // Starts receiver.js with `extra_args` (see its header) and points endpoint_ at it.
  void StartReceiver(const std::vector<std::string>& extra_args = {}) {
    const std::string base = testing::TempDir() + "otlp_demo_" + std::to_string(getpid()) + "_" +
                             testing::UnitTest::GetInstance()->current_test_info()->name();
    out_file_ = base + ".jsonl";
    err_file_ = base + ".stderr";
    fs::remove(out_file_);
    const std::string error = receiver_.Start(out_file_, err_file_, extra_args);
    ASSERT_TRUE(error.empty()) << error;
    endpoint_ = "http://127.0.0.1:" + std::to_string(receiver_.port());
  }
  void TearDown() override {
    receiver_.Stop();
    if (HasFailure() && !err_file_.empty()) {
      std::cerr << "receiver.js stderr:\n" << otlp::test::ReadAll(err_file_);
    }
    if (!out_file_.empty()) fs::remove(out_file_);
    if (!err_file_.empty()) fs::remove(err_file_);
  }

  // No service the demo started still runs: neither the pids it printed nor any process with
  // this test's endpoint in its arguments.
  void ExpectNoServiceLeft(const std::string& out) {
    const std::map<std::string, pid_t> pids = ServicePids(out);
    EXPECT_EQ(pids.size(), 6u) << out;  // five services and the NATS server
    for (const auto& [name, pid] : pids) {
      const std::string cmdline =
          kill(pid, 0) == 0 ? otlp::test::ReadAll("/proc/" + std::to_string(pid) + "/cmdline")
                            : std::string();
      EXPECT_FALSE(cmdline.find("--run-service") != std::string::npos ||
                   cmdline.find("nats-server") != std::string::npos)
          << name << " (pid " << pid << ") is still running";
    }
    for (const std::string& p : LeftoverServices(endpoint_)) ADD_FAILURE() << "left running: " << p;
  }

  otlp::test::ReceiverProcess receiver_;
  std::string out_file_;
  std::string err_file_;
  std::string endpoint_;
};

// Finds the one span of `service` named `name` with `kind` for which `match` holds.
template <typename Match>
const DecodedSpan* Find(const std::vector<DecodedSpan>& spans, std::string_view service,
                        std::string_view name, int kind, Match match) {
  const DecodedSpan* found = nullptr;
  for (const DecodedSpan& s : spans) {
    if (s.service != service || s.name() != name || s.kind() != kind || !match(s)) continue;
    EXPECT_EQ(found, nullptr) << "two spans match " << service << " " << name;
    found = &s;
  }
  EXPECT_NE(found, nullptr) << "no span " << service << " " << name << " (kind " << kind << ")";
  return found;
}
const DecodedSpan* Find(const std::vector<DecodedSpan>& spans, std::string_view service,
                        std::string_view name, int kind) {
  return Find(spans, service, name, kind, [](const DecodedSpan&) { return true; });
}
auto WithStatus(int status) {
  return [status](const DecodedSpan& s) {
    return s.Attr("http.response.status_code") == S(std::to_string(status));
  };
}

constexpr int kInternal = 1;
constexpr int kServer = 2;
constexpr int kClient = 3;
constexpr int kProducer = 4;
constexpr int kConsumer = 5;
constexpr int kError = 2;  // Status.code STATUS_CODE_ERROR

TEST_F(DemoTest, OnceSendsOneLinkedTraceFromEveryServiceAndLeavesNothingRunning) {
  ASSERT_NO_FATAL_FAILURE(StartReceiver());
  Cli demo({"demo", "--once", "--endpoint", endpoint_});
  ASSERT_TRUE(demo.started());
  ASSERT_TRUE(demo.Finish()) << demo.out() << demo.err();
  ASSERT_EQ(demo.exit_code(), 0) << demo.out() << demo.err();
  EXPECT_EQ(demo.err(), "");
  ExpectNoServiceLeft(demo.out());

  std::smatch m;
  ASSERT_TRUE(std::regex_search(demo.out(), m, std::regex(R"(\ntrace ([0-9a-f]{32})\n)")))
      << demo.out();
  const std::string trace_id = m[1];

  // The demo exited after its services did, and each flushed its spans on the way out;
  // receiver.js logs a request before answering it: every span is in the file.
  const std::vector<DecodedSpan> spans = ReadSpans(out_file_);
  ASSERT_FALSE(HasFailure());
  std::string all;
  for (const DecodedSpan& s : spans) all += "  " + s.Describe() + "\n";
  SCOPED_TRACE("spans:\n" + all);
  ASSERT_EQ(spans.size(), 28u);
  for (const DecodedSpan& s : spans) {
    EXPECT_EQ(s.trace_id(), trace_id) << s.Describe();
    EXPECT_EQ(s.service_namespace, "otlp-demo") << s.Describe();
    EXPECT_FALSE(s.span.value("attributes", json::array()).empty()) << s.Describe();
  }

  // demo-client: the root and its request.
  const DecodedSpan* root = Find(spans, "demo-client", "place order", kInternal);
  const DecodedSpan* checkout_c = Find(spans, "demo-client", "POST /checkout", kClient);
  // frontend: the request, the two attempts at the order, the two reservations.
  const DecodedSpan* checkout_s = Find(spans, "frontend", "POST /checkout", kServer);
  const DecodedSpan* order_c1 =
      Find(spans, "frontend", "PUT /orders/{id}", kClient, WithStatus(503));
  const DecodedSpan* order_c2 =
      Find(spans, "frontend", "PUT /orders/{id}", kClient, WithStatus(201));
  const DecodedSpan* apple_c =
      Find(spans, "frontend", "POST /stock/{sku}/reserve", kClient, WithStatus(200));
  const DecodedSpan* pear_c =
      Find(spans, "frontend", "POST /stock/{sku}/reserve", kClient, WithStatus(409));
  // orders, notifications, inventory.
  const DecodedSpan* order_s1 = Find(spans, "orders", "PUT /orders/{id}", kServer, WithStatus(503));
  const DecodedSpan* order_s2 = Find(spans, "orders", "PUT /orders/{id}", kServer, WithStatus(201));
  const DecodedSpan* upgrade_c = Find(spans, "orders", "GET", kClient);
  const DecodedSpan* upgrade_s = Find(spans, "notifications", "GET /notifications", kServer);
  const DecodedSpan* deliver = Find(spans, "notifications", "deliver notification", kInternal);
  const DecodedSpan* apple_s =
      Find(spans, "inventory", "POST /stock/{sku}/reserve", kServer, WithStatus(200));
  const DecodedSpan* pear_s =
      Find(spans, "inventory", "POST /stock/{sku}/reserve", kServer, WithStatus(409));
  const DecodedSpan* apple_reserve =
      Find(spans, "inventory", "reserve stock", kInternal,
           [](const DecodedSpan& s) { return s.status_code() == 0; });
  const DecodedSpan* pear_reserve =
      Find(spans, "inventory", "reserve stock", kInternal,
           [](const DecodedSpan& s) { return s.status_code() == kError; });
  // The messaging half (NATS): orders publishes, the fulfillment worker takes it.
  const DecodedSpan* created = Find(spans, "orders", "send orders.created", kProducer);
  const DecodedSpan* process = Find(spans, "fulfillment", "process orders.created", kConsumer);
  const DecodedSpan* check_c = Find(spans, "fulfillment", "request inventory.check", kClient);
  const DecodedSpan* check_s = Find(spans, "inventory", "process inventory.check", kConsumer);
  const DecodedSpan* check_work = Find(spans, "inventory", "check stock", kInternal);
  const DecodedSpan* check_reply = Find(spans, "inventory", "send (temporary)", kProducer);
  const DecodedSpan* logged = Find(spans, "fulfillment", "send orders.log.1001", kProducer);
  const DecodedSpan* kv_put = Find(spans, "fulfillment", "kv put orders", kClient);
  const DecodedSpan* kv_send = Find(spans, "fulfillment", "send $KV.orders.1001", kProducer);
  const DecodedSpan* obj_put = Find(spans, "fulfillment", "obj put receipts", kClient);
  const DecodedSpan* fulfilled = Find(spans, "fulfillment", "send orders.fulfilled", kProducer);
  ASSERT_FALSE(HasFailure());

  // Every hop is linked: each span's parent.
  EXPECT_EQ(root->parent(), "");
  const std::pair<const DecodedSpan*, const DecodedSpan*> child_parent[] = {
      {checkout_c, root},     {checkout_s, checkout_c}, {order_c1, checkout_s},
      {order_c2, checkout_s}, {apple_c, checkout_s},    {pear_c, checkout_s},
      {order_s1, order_c1},   {order_s2, order_c2},     {upgrade_c, order_s2},
      {upgrade_s, upgrade_c}, {deliver, upgrade_s},     {apple_s, apple_c},
      {pear_s, pear_c},       {apple_reserve, apple_s}, {pear_reserve, pear_s},
      {created, order_s2},    {process, created},       {check_c, process},
      {check_s, check_c},     {check_work, check_s},    {check_reply, check_s},
      {logged, process},      {kv_put, process},        {kv_send, kv_put},
      {obj_put, process},     {fulfilled, process},
  };
  for (const auto& [child, parent] : child_parent) {
    EXPECT_EQ(child->parent(), parent->span_id())
        << child->Describe() << " should be a child of " << parent->Describe();
  }

  // Messaging conventions on the NATS spans.
  for (const DecodedSpan* s : {created, process, check_c, check_s, check_reply, logged, kv_send,
                               fulfilled}) {
    EXPECT_EQ(s->Attr("messaging.system"), S("nats")) << s->Describe();
    EXPECT_NE(s->Attr("messaging.destination.name"), "") << s->Describe();
    EXPECT_NE(s->Attr("messaging.operation.type"), "") << s->Describe();
    EXPECT_NE(s->Attr("server.port"), "") << s->Describe();
  }
  EXPECT_EQ(process->Attr("messaging.consumer.group.name"), S("fulfillment"));
  EXPECT_EQ(check_s->Attr("messaging.consumer.group.name"), S("inventory"));
  EXPECT_EQ(logged->Attr("messaging.nats.jetstream.stream"), S("ORDERS"));
  EXPECT_EQ(kv_put->Attr("messaging.nats.kv.key"), S("1001"));
  EXPECT_EQ(obj_put->Attr("messaging.nats.obj.name"), S("1001.json"));
  EXPECT_EQ(check_work->Attr("app.stock.answer"), S("short: pear"));

  // HTTP semantic conventions on every CLIENT and SERVER span.
  for (const DecodedSpan& s : spans) {
    if ((s.kind() != kClient && s.kind() != kServer) || !s.Attr("messaging.system").empty()) {
      continue;
    }
    EXPECT_NE(s.Attr("http.request.method"), "") << s.Describe();
    EXPECT_NE(s.Attr("http.response.status_code"), "") << s.Describe();
    EXPECT_NE(s.Attr("server.port"), "") << s.Describe();
    EXPECT_NE(s.Attr(s.kind() == kClient ? "url.full" : "url.path"), "") << s.Describe();
  }
  // The protocols of each HTTP hop: HTTP/2 to orders, HTTP/1.1 elsewhere.
  for (const DecodedSpan* s : {order_c1, order_c2, order_s1, order_s2}) {
    EXPECT_EQ(s->Attr("network.protocol.version"), S("2")) << s->Describe();
  }
  for (const DecodedSpan* s :
       {checkout_c, checkout_s, apple_c, apple_s, pear_c, pear_s, upgrade_s}) {
    EXPECT_EQ(s->Attr("network.protocol.version"), S("1.1")) << s->Describe();
  }
  EXPECT_EQ(checkout_s->Attr("http.route"), S("/checkout"));
  EXPECT_EQ(order_s2->Attr("http.route"), S("/orders/{id}"));
  EXPECT_EQ(order_c2->Attr("url.template"), S("/orders/{id}"));

  // The retry: the first attempt failed with 503, the second is resend 1.
  EXPECT_EQ(order_c1->Attr("error.type"), S("503"));
  EXPECT_EQ(order_c1->status_code(), kError);
  EXPECT_EQ(order_c1->Attr("http.request.resend_count"), "");
  EXPECT_EQ(order_c2->Attr("http.request.resend_count"), S("1"));
  EXPECT_EQ(order_c2->Attr("error.type"), "");
  EXPECT_EQ(order_s1->Attr("error.type"), S("503"));  // a 5xx is the server's error too

  // The WebSocket hop.
  EXPECT_EQ(upgrade_c->Attr("http.response.status_code"), S("101"));
  EXPECT_TRUE(upgrade_c->Attr("url.full").starts_with("\"ws://127.0.0.1:"))
      << upgrade_c->Attr("url.full");
  EXPECT_EQ(upgrade_s->Attr("http.route"), S("/notifications"));
  EXPECT_EQ(upgrade_s->Attr("http.response.status_code"), S("101"));
  EXPECT_EQ(deliver->Attr("network.protocol.name"), S("websocket"));
  EXPECT_EQ(deliver->Attr("app.order.id"), S("1001"));

  // The error span: pear out of stock. Its SERVER span stays Unset (a 4xx is the caller's
  // error); the frontend's CLIENT span records the 409.
  EXPECT_EQ(pear_reserve->status_message(), "pear is out of stock");
  EXPECT_EQ(pear_reserve->Attr("error.type"), S("out_of_stock"));
  EXPECT_EQ(pear_reserve->Attr("app.product.sku"), S("pear"));
  EXPECT_EQ(pear_s->status_code(), 0);
  EXPECT_EQ(pear_c->status_code(), kError);
  EXPECT_EQ(pear_c->Attr("error.type"), S("409"));
  // No other span failed than these and the 503 attempt.
  std::set<const DecodedSpan*> errors;
  for (const DecodedSpan& s : spans) {
    if (s.status_code() == kError) errors.insert(&s);
  }
  EXPECT_EQ(errors, (std::set<const DecodedSpan*>{order_c1, order_s1, pear_c, pear_reserve}));

  // What the demo printed.
  EXPECT_NE(demo.out().find("spans to " + endpoint_ + "/v1/traces"), std::string::npos);
  EXPECT_EQ(demo.out().find("Ctrl-C"), std::string::npos);  // --once does not wait
}

TEST_F(DemoTest, CtrlCStopsEveryService) {
  ASSERT_NO_FATAL_FAILURE(StartReceiver());
  Cli demo({"demo", "--endpoint", endpoint_});
  ASSERT_TRUE(demo.started());
  ASSERT_TRUE(demo.WaitForOut("Ctrl-C stops them", kProcessLimit)) << demo.out() << demo.err();
  const std::map<std::string, pid_t> pids = ServicePids(demo.out());
  ASSERT_EQ(pids.size(), 6u) << demo.out();
  for (const auto& [name, pid] : pids) EXPECT_EQ(kill(pid, 0), 0) << name << " is not running";

  demo.Signal(SIGINT);  // the demo's process only: it stops its services itself
  ASSERT_TRUE(demo.Finish()) << demo.out() << demo.err();
  EXPECT_EQ(demo.exit_code(), 0) << demo.err();
  ExpectNoServiceLeft(demo.out());
}

TEST_F(DemoTest, CollectorRefusingSpansFailsAndStopsEveryService) {
  // Every export request is answered 400 (not retried); the services run, the spans are lost.
  ASSERT_NO_FATAL_FAILURE(StartReceiver({"--fail=400:1000"}));
  Cli demo({"demo", "--once", "--endpoint", endpoint_});
  ASSERT_TRUE(demo.started());
  ASSERT_TRUE(demo.Finish()) << demo.out() << demo.err();
  EXPECT_EQ(demo.exit_code(), 1) << demo.out() << demo.err();
  EXPECT_NE(demo.err().find("\notlp demo: the collector at " + endpoint_ +
                            "/v1/traces did not take 2 span(s) of demo-client"),
            std::string::npos)
      << demo.err();
  EXPECT_EQ(demo.out(), "");
  for (const std::string& p : LeftoverServices(endpoint_)) ADD_FAILURE() << "left running: " << p;
}

// ---- with otlp view ----

// The body of GET `path` on `base` ("http://127.0.0.1:PORT"); empty when nothing answered.
std::string HttpGet(const std::string& base, const std::string& path) {
  const auto port = static_cast<uint16_t>(std::stoi(base.substr(base.rfind(':') + 1)));
  auto answer = otlp::test::RawExchange(
      port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  const size_t body = answer.ok() ? answer->find("\r\n\r\n") : std::string::npos;
  return body == std::string::npos ? std::string() : answer->substr(body + 4);
}

// The demo's default: the built-in viewer draws the trace and names its page in the web UI.
TEST(DemoViewTest, OnceWithTheBuiltInViewerDrawsTheWholeTrace) {
  Cli demo({"demo", "--once"});
  ASSERT_TRUE(demo.started());
  ASSERT_TRUE(demo.Finish());
  EXPECT_EQ(demo.exit_code(), 0) << demo.err();
  const std::string& out = demo.out();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("\ntrace ([0-9a-f]{32})\n"))) << out;
  const std::string trace_id = m[1];
  EXPECT_NE(out.find("trace " + trace_id + "  "), std::string::npos) << out;  // the waterfall
  EXPECT_NE(out.find("28 spans  6 services  4 errors"), std::string::npos) << out;
  for (const char* line : {"demo-client: place order", "frontend: POST /checkout",
                           "orders: PUT /orders/{id}", "inventory: reserve stock",
                           "notifications: GET /notifications", "http.request.resend_count=1",
                           "ERROR pear is out of stock", "orders: send orders.created",
                           "fulfillment: kv put orders", "messaging.nats.jetstream.stream=ORDERS",
                           "messaging on nats://127.0.0.1:"}) {
    EXPECT_NE(out.find(line), std::string::npos) << line << "\n" << out;
  }
  EXPECT_TRUE(std::regex_search(
      out, std::regex("the trace in the web UI: http://127\\.0\\.0\\.1:[0-9]+/#/trace/" + trace_id)))
      << out;
  EXPECT_EQ(demo.err(), "");
}

// `otlp demo --once` into a separate `otlp view`: the trace read back through its JSON API has
// every hop, each span's parent in the trace, and the calls linked across services.
TEST(DemoViewTest, TheStoredTraceReadBackThroughTheViewApiHasEveryHop) {
  // The view's waterfall says when the whole trace is stored (it is drawn again when more
  // spans arrive after a quiet period).
  Cli view({"view", "--http", "0", "--grpc", "0", "--ui", "0", "--quiet", "0.2", "--color",
            "never"});
  ASSERT_TRUE(view.started());
  ASSERT_TRUE(view.WaitForOut("storing in", kProcessLimit)) << view.err();
  std::smatch m;
  const std::string banner = view.out();
  ASSERT_TRUE(std::regex_search(banner, m, std::regex("OTLP/HTTP on (http://127\\.0\\.0\\.1:[0-9]+)")));
  const std::string otlp_url = m[1];
  ASSERT_TRUE(std::regex_search(banner, m, std::regex("UI on (http://127\\.0\\.0\\.1:[0-9]+)/")));
  const std::string ui = m[1];

  Cli demo({"demo", "--once", "--endpoint", otlp_url});
  ASSERT_TRUE(demo.Finish());
  ASSERT_EQ(demo.exit_code(), 0) << demo.err();
  ASSERT_TRUE(std::regex_search(demo.out(), m, std::regex("\ntrace ([0-9a-f]{32})\n")));
  const std::string trace_id = m[1];

  // The services export in batches: wait until the view has drawn the trace with every span.
  ASSERT_TRUE(view.WaitForOut("trace " + trace_id + "  ", kProcessLimit)) << view.out();
  ASSERT_TRUE(view.WaitForOut(" 28 spans  6 services", kProcessLimit)) << view.out();
  const json trace = json::parse(HttpGet(ui, "/api/traces/" + trace_id), nullptr, false);
  ASSERT_FALSE(trace.is_discarded());
  ASSERT_EQ(trace["spans"].size(), 28u) << trace.dump(1);
  std::map<std::string, const json*> by_id;
  std::set<std::string> services;
  for (const json& s : trace["spans"]) {
    by_id[s["span_id"]] = &s;
    services.insert(s["service"].get<std::string>());
  }
  EXPECT_EQ(services, (std::set<std::string>{"demo-client", "frontend", "orders", "inventory",
                                             "notifications", "fulfillment"}));
  size_t roots = 0;
  for (const json& s : trace["spans"]) {
    const std::string parent = s["parent_span_id"];
    if (parent.empty()) {
      ++roots;
      EXPECT_EQ(s["name"], "place order");
      continue;
    }
    ASSERT_TRUE(by_id.contains(parent)) << "the parent of " << s["name"] << " is not in the trace";
    const json& p = *by_id[parent];
    // Every SERVER span's parent is the CLIENT span of another service that called it.
    if (s["kind"] == "server") {
      EXPECT_EQ(p["kind"], "client") << s["service"] << " " << s["name"];
      EXPECT_NE(p["service"], s["service"]) << s["name"];
    }
    // Every CONSUMER span's parent is the PRODUCER (publish) or CLIENT (request) span of the
    // service that sent the message.
    if (s["kind"] == "consumer") {
      EXPECT_TRUE(p["kind"] == "producer" || p["kind"] == "client") << s["name"];
      EXPECT_NE(p["service"], s["service"]) << s["name"];
    }
  }
  EXPECT_EQ(roots, 1u);
  // The service map the UI draws from the same store.
  const json map = json::parse(HttpGet(ui, "/api/service-map"), nullptr, false);
  ASSERT_FALSE(map.is_discarded());
  std::set<std::pair<std::string, std::string>> edges;
  for (const json& e : map["edges"]) {
    edges.insert({e["parent"].get<std::string>(), e["child"].get<std::string>()});
  }
  EXPECT_EQ(edges, (std::set<std::pair<std::string, std::string>>{
                       {"demo-client", "frontend"},
                       {"frontend", "orders"},
                       {"frontend", "inventory"},
                       {"orders", "notifications"},
                       {"orders", "fulfillment"},
                       {"fulfillment", "inventory"}}));
  view.Signal(SIGINT);
  ASSERT_TRUE(view.Finish());
  EXPECT_EQ(view.exit_code(), 0) << view.err();
}

TEST(DemoFailureTest, NoCollectorFailsBeforeStartingAnything) {
  // A port that refuses connections: bound (so nobody else takes it) but not listening.
  const int sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(sock, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  Cli demo({"demo", "--once", "--endpoint", endpoint});
  ASSERT_TRUE(demo.started());
  ASSERT_TRUE(demo.Finish()) << demo.out() << demo.err();
  close(sock);
  EXPECT_EQ(demo.exit_code(), 1);
  EXPECT_TRUE(demo.err().starts_with("otlp demo: no OTLP collector answers at " + endpoint +
                                     "/v1/traces ("))
      << demo.err();
  EXPECT_EQ(std::count(demo.err().begin(), demo.err().end(), '\n'), 1) << demo.err();
  EXPECT_EQ(demo.out(), "");
}

TEST(DemoUsageTest, BadFlagsAreUsageErrors) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"demo", "--bogus"},
        std::vector<std::string>{"demo", "--endpoint", "ftp://127.0.0.1:1"},
        std::vector<std::string>{"demo", "--once=yes"},
        std::vector<std::string>{"demo", "stray"}}) {
    Cli demo(args);
    ASSERT_TRUE(demo.started());
    ASSERT_TRUE(demo.Finish());
    EXPECT_EQ(demo.exit_code(), 2) << args.back();
    EXPECT_NE(demo.err().find("otlp demo: "), std::string::npos) << demo.err();
    EXPECT_EQ(demo.out(), "");
  }
}

}  // namespace
