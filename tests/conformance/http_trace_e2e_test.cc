// End-to-end trace of traced HTTP, decoded by an independent OTLP decoder: an otlp::http::Client
// calls a traced otlp::http::Server ("GET /items/{id}") whose handler calls a second traced
// server ("GET /stock/{sku}") with an otlp::http::AsyncClient (handlers must not block). Every
// span goes through the BatchSpanProcessor and the real OtlpHttpExporter to receiver.js, which
// decodes it with the official OpenTelemetry JS protobuf definitions. Checked: one trace id, the
// CLIENT -> SERVER -> CLIENT -> SERVER parent/child chain, span kinds, names and the HTTP
// semantic-convention attributes of each span, over HTTP/1.1 and over HTTP/2 (h2c with prior
// knowledge).
//
// Needs node and `npm ci` in tests/conformance; skipped with a message otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "otlp/exporter/otlp_http_exporter.h"
#include "otlp/http/async_client.h"
#include "otlp/http/client.h"
#include "otlp/http/server.h"
#include "otlp/trace/batch_processor.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/sampler.h"
#include "tests/conformance/conformance_support.h"
#include "tests/support/status_matchers.h"

namespace otlp::http {
namespace {

using namespace std::chrono_literals;
using exporter::OtlpHttpExporter;
using test::Q;
using test::ReadAll;

namespace fs = std::filesystem;

// Generous upper bounds, so that a stuck component fails the test instead of hanging it.
constexpr auto kFlushLimit = 60s;
constexpr auto kSpansLimit = 60s;
constexpr uint64_t kSpanCount = 4;

// The decoded fields of one span (a "span[KIND NAME]." prefix of e2e_spans.js --by-kind).
class DecodedSpan {
 public:
  DecodedSpan(const std::map<std::string, std::string>& got, std::string prefix)
      : got_(got), prefix_(std::move(prefix)) {}

  bool exists() const { return got_.contains(prefix_ + "traceId"); }
  // A field as printed (strings JSON-quoted); "" when absent.
  std::string Field(const std::string& path) const {
    auto it = got_.find(prefix_ + path);
    return it == got_.end() ? "" : it->second;
  }
  // The value of attribute `key` as "<member>=<value>" (stringValue="GET", intValue="200");
  // "" when the span has no such attribute.
  std::string Attr(std::string_view key) const {
    for (int i = 0;; ++i) {
      const std::string a = prefix_ + "attributes[" + std::to_string(i) + "]";
      auto k = got_.find(a + ".key");
      if (k == got_.end()) return "";
      if (k->second != Q(key)) continue;
      // An AnyValue has one member: the first path under ".value.".
      const std::string value = a + ".value.";
      auto it = got_.lower_bound(value);
      if (it == got_.end() || !it->first.starts_with(value)) return "{}";
      return it->first.substr(value.size()) + "=" + it->second;
    }
  }

 private:
  const std::map<std::string, std::string>& got_;
  std::string prefix_;
};

std::string Str(std::string_view s) {
  return "stringValue=" + Q(s);
}
std::string Int(int64_t v) {
  return "intValue=" + Q(std::to_string(v));
}

struct Protocol {
  const char* name;
  net::HttpVersionPolicy policy;
  const char* version;  // network.protocol.version
};

void PrintTo(const Protocol& p, std::ostream* os) {
  *os << p.name;
}

class HttpTraceE2e : public testing::TestWithParam<Protocol> {
 protected:
  void SetUp() override {
    if (const std::string why = test::NodeSkipReason(); !why.empty()) GTEST_SKIP() << why;
    const std::string base =
        testing::TempDir() + "otlp_http_trace_" + std::to_string(getpid()) + "_" + GetParam().name;
    out_file_ = base + ".jsonl";
    err_file_ = base + ".stderr";
    fs::remove(out_file_);
    const std::string error = receiver_.Start(out_file_, err_file_);
    ASSERT_TRUE(error.empty()) << error;
  }
  void TearDown() override {
    trace::SetTracerProvider(nullptr);
    receiver_.Stop();
    if (HasFailure() && !err_file_.empty()) {
      std::cerr << "receiver.js stderr:\n"
                << ReadAll(err_file_) << "receiver.js log:\n"
                << ReadAll(out_file_);
    }
    if (!out_file_.empty()) fs::remove(out_file_);
    if (!err_file_.empty()) fs::remove(err_file_);
  }

  test::ReceiverProcess receiver_;
  std::string out_file_;
  std::string err_file_;
};

TEST_P(HttpTraceE2e, ClientServerClientServerChainIsDecodedWithItsAttributes) {
  const Protocol& p = GetParam();
  ASSERT_OK_AND_ASSIGN(
      auto created,
      OtlpHttpExporter::Create({
          .endpoint = "http://127.0.0.1:" + std::to_string(receiver_.port()) + "/v1/traces",
          .timeout = std::chrono::milliseconds(kFlushLimit),
      }));
  OtlpHttpExporter* exporter = created.get();  // owned by the processor from here on
  auto provider = trace::TracerProvider::Create({
      // The spans leave on ForceFlush, not on a timer.
      .processor = trace::BatchSpanProcessor::Create(std::move(created),
                                                     {.schedule_delay = std::chrono::hours(1)}),
      .sampler = trace::Sampler::AlwaysOn(),
  });
  // The servers' tracer and the clients' default tracer follow the global provider.
  trace::SetTracerProvider(provider);

  // The back end: GET /stock/{sku}.
  auto stock = Server::Create({});
  ASSERT_OK(stock->Get("/stock/{sku}", [](const ServerRequest& req, ServerResponse& res) {
    res.body = "sku " + std::string(req.PathParam("sku").value_or("?")) + " over " +
               std::string(req.protocol_version());
  }));
  ASSERT_OK(stock->Start());

  // The front end: GET /items/{id} asks the back end, answering once it has.
  ClientOptions inner_options;
  inner_options.transport.http_version = p.policy;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AsyncClient> inner, AsyncClient::Create(inner_options));
  const std::string stock_url = stock->base_url();
  auto items = Server::Create({});
  ASSERT_OK(items->Get("/items/{id}", [&](const ServerRequest& req, ServerResponse& res) {
    std::shared_ptr<ServerResponder> later = res.Defer();
    inner->SendAsync(Request::Get(stock_url + "/stock/" + std::string(*req.PathParam("id")))
                         .With(UrlTemplate{"/stock/{sku}"}),
                     [later](Result<Response> r) {
                       if (!r.ok()) return later->Send(502, {}, r.status().ToString());
                       later->Send(r->status, {}, "item: " + r->Text());
                     });
  }));
  ASSERT_OK(items->Start());

  ClientOptions outer_options;
  outer_options.transport.http_version = p.policy;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> outer, Client::Create(outer_options));
  const std::string item_url = items->base_url() + "/items/42";
  ASSERT_OK_AND_ASSIGN(Response resp,
                       outer->Send(Request::Get(item_url).With(UrlTemplate{"/items/{id}"})));
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.Text(), "item: sku 42 over " + std::string(p.version));
  EXPECT_EQ(resp.protocol_version, p.version);

  // A SERVER span ends when its response has been written, which may be just after the client
  // read it: flush until all four spans were exported.
  const auto deadline = std::chrono::steady_clock::now() + kSpansLimit;
  for (;;) {
    ASSERT_TRUE(provider->ForceFlush(kFlushLimit));
    if (exporter->stats().spans_exported >= kSpanCount) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << exporter->stats().spans_exported << " spans exported";
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(exporter->stats().spans_exported, kSpanCount);
  EXPECT_EQ(exporter->stats().spans_failed, 0u);

  const auto got = test::ParseFlatOutput(
      test::RunNodeScript("e2e_spans.js", "--by-kind '" + out_file_ + "'"), "e2e_spans.js");
  for (const auto& [path, value] : got) {
    ASSERT_TRUE(!path.starts_with("error[") && !path.starts_with("failed["))
        << path << "=" << value;
  }
  const DecodedSpan client1(got, "span[CLIENT GET /items/{id}].");
  const DecodedSpan server1(got, "span[SERVER GET /items/{id}].");
  const DecodedSpan client2(got, "span[CLIENT GET /stock/{sku}].");
  const DecodedSpan server2(got, "span[SERVER GET /stock/{sku}].");
  ASSERT_TRUE(client1.exists() && server1.exists() && client2.exists() && server2.exists());
  size_t spans = 0;
  for (const auto& [path, value] : got) {
    if (path.starts_with("request[") && path.ends_with("].spans")) spans += std::stoul(value);
  }
  EXPECT_EQ(spans, kSpanCount);

  // One trace; each span the child of the one before it; the first a root.
  const std::string trace_id = client1.Field("traceId");
  EXPECT_EQ(trace_id.size(), 34u) << trace_id;  // 32 hex digits, quoted
  for (const DecodedSpan* s : {&server1, &client2, &server2}) {
    EXPECT_EQ(s->Field("traceId"), trace_id);
  }
  EXPECT_EQ(client1.Field("parentSpanId"), "");
  EXPECT_EQ(server1.Field("parentSpanId"), client1.Field("spanId"));
  EXPECT_EQ(client2.Field("parentSpanId"), server1.Field("spanId"));
  EXPECT_EQ(server2.Field("parentSpanId"), client2.Field("spanId"));
  // SpanKind: 2 SERVER, 3 CLIENT (the keys say so too; the numbers are what was decoded).
  EXPECT_EQ(client1.Field("kind"), "3");
  EXPECT_EQ(server1.Field("kind"), "2");
  EXPECT_EQ(client2.Field("kind"), "3");
  EXPECT_EQ(server2.Field("kind"), "2");

  // CLIENT spans.
  const struct {
    const DecodedSpan& span;
    const Server& server;
    std::string url;
    std::string url_template;
  } clients[] = {{client1, *items, item_url, "/items/{id}"},
                 {client2, *stock, stock_url + "/stock/42", "/stock/{sku}"}};
  for (const auto& c : clients) {
    SCOPED_TRACE(c.url);
    EXPECT_EQ(c.span.Attr("http.request.method"), Str("GET"));
    EXPECT_EQ(c.span.Attr("url.full"), Str(c.url));
    EXPECT_EQ(c.span.Attr("url.template"), Str(c.url_template));
    EXPECT_EQ(c.span.Attr("server.address"), Str("127.0.0.1"));
    EXPECT_EQ(c.span.Attr("server.port"), Int(c.server.port()));
    EXPECT_EQ(c.span.Attr("http.response.status_code"), Int(200));
    EXPECT_EQ(c.span.Attr("network.protocol.version"), Str(p.version));
    EXPECT_EQ(c.span.Attr("error.type"), "");
    EXPECT_EQ(c.span.Field("status.code"), "");  // unset: 2xx
  }

  // SERVER spans.
  const struct {
    const DecodedSpan& span;
    const Server& server;
    std::string route;
    std::string path;
  } servers[] = {{server1, *items, "/items/{id}", "/items/42"},
                 {server2, *stock, "/stock/{sku}", "/stock/42"}};
  for (const auto& s : servers) {
    SCOPED_TRACE(s.path);
    EXPECT_EQ(s.span.Attr("http.request.method"), Str("GET"));
    EXPECT_EQ(s.span.Attr("http.route"), Str(s.route));
    EXPECT_EQ(s.span.Attr("url.path"), Str(s.path));
    EXPECT_EQ(s.span.Attr("url.scheme"), Str("http"));
    EXPECT_EQ(s.span.Attr("server.address"), Str("127.0.0.1"));
    EXPECT_EQ(s.span.Attr("server.port"), Int(s.server.port()));
    EXPECT_EQ(s.span.Attr("client.address"), Str("127.0.0.1"));
    EXPECT_EQ(s.span.Attr("http.response.status_code"), Int(200));
    EXPECT_EQ(s.span.Attr("network.protocol.version"), Str(p.version));
    EXPECT_EQ(s.span.Attr("error.type"), "");
  }

  outer.reset();
  items->Stop();
  inner.reset();
  stock->Stop();
  EXPECT_TRUE(provider->Shutdown(kFlushLimit));
}

INSTANTIATE_TEST_SUITE_P(
    Protocols, HttpTraceE2e,
    testing::Values(Protocol{"http1", net::HttpVersionPolicy::kHttp1Only, "1.1"},
                    Protocol{"h2c", net::HttpVersionPolicy::kHttp2PriorKnowledge, "2"}),
    [](const testing::TestParamInfo<Protocol>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace otlp::http
