// http::Server driven by the existing net::HttpClient (and raw sockets for malformed requests).
#include "otlp/http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "otlp/net/http_client.h"
#include "otlp/trace/context.h"
#include "otlp/trace/in_memory_exporter.h"
#include "otlp/trace/processor.h"
#include "otlp/trace/provider.h"
#include "tests/support/status_matchers.h"

namespace otlp::http {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr auto kWait = 20s;
constexpr std::string_view kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kParentId = "00f067aa0ba902b7";

OwnedAttributeValue Str(std::string s) { return s; }
OwnedAttributeValue Int(int64_t v) { return v; }
OwnedAttributeValue AttrOf(const trace::RecordedSpan& s, std::string_view key) {
  const OwnedAttributeValue* v = s.Attribute(key);
  return v ? *v : OwnedAttributeValue(std::string("<missing>"));
}

// Sends raw bytes, returns everything the server answers until it closes.
std::string RawExchange(uint16_t port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "connect failed";
  }
  timeval tv{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)!write(fd, request.data(), request.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    provider_ = trace::TracerProvider::Create(
        {.processor = std::make_unique<trace::SimpleSpanProcessor>(
             std::make_unique<trace::InMemorySpanExporter>(store_))});
    trace::SetTracerProvider(provider_);
    client_runtime_ = net::Runtime::Create();
    auto client = net::HttpClient::Create(client_runtime_, {});
    ASSERT_OK(client);
    client_ = std::move(*client);
  }
  void TearDown() override {
    if (server_) server_->Stop();
    for (auto& t : threads_) t.join();
    trace::SetTracerProvider(nullptr);
  }

  void StartServer(Server::Options options = {}) {
    server_ = Server::Create(std::move(options));
    ASSERT_OK(server_->Get("/users/{id}", [](const ServerRequest& req, ServerResponse& res) {
      const trace::Context ctx = trace::Context::Current();
      res.headers = {{"Content-Type", "text/plain"}};
      res.body = "user " + std::string(req.PathParam("id").value_or("?")) + " trace " +
                 ctx.span_context().trace_id().ToHex() + " span " +
                 ctx.span_context().span_id().ToHex() + " baggage " +
                 std::string(ctx.baggage().Get("tenant").value_or("-"));
    }));
    ASSERT_OK(server_->Get("/files/{path...}", [](const ServerRequest& req, ServerResponse& res) {
      res.body = std::string(req.PathParam("path").value_or("?")) + "|" + std::string(req.route());
    }));
    ASSERT_OK(server_->Post("/items", [](const ServerRequest& req, ServerResponse& res) {
      res.status = 201;
      res.body = req.body();
    }));
    ASSERT_OK(server_->Get("/search", [](const ServerRequest& req, ServerResponse& res) {
      res.body = std::string(req.query());
    }));
    ASSERT_OK(server_->Get("/fail", [](const ServerRequest&, ServerResponse& res) {
      res.status = 503;
    }));
    ASSERT_OK(server_->Get("/throw", [](const ServerRequest&, ServerResponse&) {
      throw std::runtime_error("boom");
    }));
    ASSERT_OK(server_->Get("/async", [this](const ServerRequest& req, ServerResponse& res) {
      std::shared_ptr<ServerResponder> later = res.Defer();
      EXPECT_EQ(res.Defer(), later);
      std::lock_guard lock(mu_);
      threads_.emplace_back([later, ctx = req.context()] {
        trace::Scope scope(ctx);
        later->Send(202, {}, "later " + trace::Context::Current().span_context().trace_id().ToHex());
      });
    }));
    ASSERT_OK(server_->Start());
  }

  Result<net::HttpResponse> Send(std::string method, std::string path, net::Headers headers = {},
                                 std::string body = {}) {
    return client_->Send({.method = std::move(method),
                          .url = server_->base_url() + path,
                          .headers = std::move(headers),
                          .body = std::move(body)});
  }

  // The spans with kind SERVER.
  std::vector<trace::RecordedSpan> ServerSpans(size_t expected) {
    EXPECT_TRUE(store_->WaitForSpans(expected, kWait));
    std::vector<trace::RecordedSpan> out;
    for (auto& s : store_->Spans()) {
      if (s.kind == trace::SpanKind::kServer) out.push_back(std::move(s));
    }
    return out;
  }

  std::shared_ptr<trace::InMemorySpanStore> store_ = std::make_shared<trace::InMemorySpanStore>();
  std::shared_ptr<trace::TracerProvider> provider_;
  std::shared_ptr<net::Runtime> client_runtime_;
  std::unique_ptr<net::HttpClient> client_;
  std::unique_ptr<Server> server_;
  std::mutex mu_;
  std::vector<std::thread> threads_;
};

TEST_F(ServerTest, RoutesWithPathParameters) {
  StartServer();
  ASSERT_OK_AND_ASSIGN(auto r, Send("GET", "/users/42"));
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("user 42 "));
  ASSERT_OK_AND_ASSIGN(r, Send("GET", "/users/a%20b"));
  EXPECT_THAT(r.body, HasSubstr("user a b "));
  ASSERT_OK_AND_ASSIGN(r, Send("GET", "/files/a/b/c.txt"));
  EXPECT_EQ(r.body, "a/b/c.txt|/files/{path...}");
  ASSERT_OK_AND_ASSIGN(r, Send("POST", "/items", {}, "payload"));
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "payload");
}

TEST_F(ServerTest, TraceparentBecomesTheParentOfTheServerSpan) {
  StartServer();
  const std::string traceparent =
      "00-" + std::string(kTraceId) + "-" + std::string(kParentId) + "-01";
  ASSERT_OK_AND_ASSIGN(auto r, Send("GET", "/users/42",
                                    {{"traceparent", traceparent},
                                     {"baggage", "tenant=acme"},
                                     {"User-Agent", "test-agent/1.0"}}));
  ASSERT_EQ(r.status, 200);
  auto spans = ServerSpans(1);
  ASSERT_EQ(spans.size(), 1u);
  const trace::RecordedSpan& s = spans[0];
  EXPECT_EQ(s.name, "GET /users/{id}");
  EXPECT_EQ(s.context.trace_id().ToHex(), kTraceId);
  EXPECT_EQ(s.parent_span_id.ToHex(), kParentId);
  EXPECT_TRUE(s.parent_is_remote);
  EXPECT_EQ(s.status_code, trace::SpanStatusCode::kUnset);
  // The handler ran inside the SERVER span, with the request's baggage.
  EXPECT_EQ(r.body, "user 42 trace " + std::string(kTraceId) + " span " +
                        s.context.span_id().ToHex() + " baggage acme");

  EXPECT_EQ(AttrOf(s, "http.request.method"), Str("GET"));
  EXPECT_EQ(AttrOf(s, "http.route"), Str("/users/{id}"));
  EXPECT_EQ(AttrOf(s, "url.path"), Str("/users/42"));
  EXPECT_EQ(AttrOf(s, "url.scheme"), Str("http"));
  EXPECT_EQ(AttrOf(s, "client.address"), Str("127.0.0.1"));
  ASSERT_NE(s.Attribute("client.port"), nullptr);
  EXPECT_GT(std::get<int64_t>(*s.Attribute("client.port")), 0);
  EXPECT_EQ(AttrOf(s, "server.address"), Str("127.0.0.1"));
  EXPECT_EQ(AttrOf(s, "server.port"), Int(server_->port()));
  EXPECT_EQ(AttrOf(s, "network.protocol.version"), Str("1.1"));
  EXPECT_EQ(AttrOf(s, "user_agent.original"), Str("test-agent/1.0"));
  EXPECT_EQ(AttrOf(s, "http.response.status_code"), Int(200));
  EXPECT_EQ(s.Attribute("error.type"), nullptr);
  EXPECT_EQ(s.Attribute("url.query"), nullptr);
}

TEST_F(ServerTest, WithoutTraceparentARootSpan) {
  StartServer();
  ASSERT_OK_AND_ASSIGN(auto r, Send("GET", "/users/1"));
  auto spans = ServerSpans(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_FALSE(spans[0].parent_span_id.IsValid());
  EXPECT_THAT(r.body, HasSubstr(spans[0].context.trace_id().ToHex()));
}

TEST_F(ServerTest, NotFoundAndMethodNotAllowed) {
  StartServer();
  ASSERT_OK_AND_ASSIGN(auto r, Send("GET", "/nope"));
  EXPECT_EQ(r.status, 404);
  ASSERT_OK_AND_ASSIGN(r, Send("DELETE", "/users/1"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("Allow"), "GET");
  ASSERT_OK_AND_ASSIGN(r, Send("PROPFIND", "/users/1"));
  EXPECT_EQ(r.status, 405);
  auto spans = ServerSpans(3);
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].name, "GET");
  EXPECT_EQ(spans[0].Attribute("http.route"), nullptr);
  EXPECT_EQ(AttrOf(spans[0], "http.response.status_code"), Int(404));
  EXPECT_EQ(spans[0].status_code, trace::SpanStatusCode::kUnset);  // 4xx: the client's error
  EXPECT_EQ(spans[0].Attribute("error.type"), nullptr);
  EXPECT_EQ(spans[1].name, "DELETE");
  EXPECT_EQ(AttrOf(spans[1], "http.response.status_code"), Int(405));
  EXPECT_EQ(spans[2].name, "HTTP");
  EXPECT_EQ(AttrOf(spans[2], "http.request.method"), Str("_OTHER"));
  EXPECT_EQ(AttrOf(spans[2], "http.request.method_original"), Str("PROPFIND"));
}

TEST_F(ServerTest, ServerErrorsMarkTheSpan) {
  StartServer();
  ASSERT_OK_AND_ASSIGN(auto r, Send("GET", "/fail"));
  EXPECT_EQ(r.status, 503);
  ASSERT_OK_AND_ASSIGN(r, Send("GET", "/throw"));
  EXPECT_EQ(r.status, 500);
  auto spans = ServerSpans(2);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].status_code, trace::SpanStatusCode::kError);
  EXPECT_EQ(AttrOf(spans[0], "error.type"), Str("503"));
  EXPECT_EQ(AttrOf(spans[1], "http.response.status_code"), Int(500));
  EXPECT_EQ(AttrOf(spans[1], "error.type"), Str("500"));
}

TEST_F(ServerTest, SensitiveQueryValuesAreRedacted) {
  StartServer();
  ASSERT_OK_AND_ASSIGN(auto r, Send("GET", "/search?q=x&sig=secret&AWSAccessKeyId=abc&n"));
  EXPECT_EQ(r.body, "q=x&sig=secret&AWSAccessKeyId=abc&n");  // the handler sees it all
  auto spans = ServerSpans(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(AttrOf(spans[0], "url.query"), Str("q=x&sig=REDACTED&AWSAccessKeyId=REDACTED&n"));
  EXPECT_EQ(AttrOf(spans[0], "url.path"), Str("/search"));
}

TEST_F(ServerTest, DeferredResponseEndsTheSpanWhenSent) {
  StartServer();
  const std::string traceparent =
      "00-" + std::string(kTraceId) + "-" + std::string(kParentId) + "-01";
  ASSERT_OK_AND_ASSIGN(auto r, Send("GET", "/async", {{"traceparent", traceparent}}));
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body, "later " + std::string(kTraceId));
  auto spans = ServerSpans(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].name, "GET /async");
  EXPECT_EQ(AttrOf(spans[0], "http.response.status_code"), Int(202));
}

TEST_F(ServerTest, MalformedRequests) {
  StartServer();
  std::string out = RawExchange(server_->port(),
                                "GET /users/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(out, HasSubstr("HTTP/1.1 400"));
  EXPECT_THAT(out, HasSubstr("percent-encoding"));
  out = RawExchange(server_->port(),
                    "GET http://elsewhere/users/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(out, HasSubstr("HTTP/1.1 400"));
  out = RawExchange(server_->port(), "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_THAT(out, HasSubstr("400"));
  out = RawExchange(server_->port(), "GET /users/1 HTTP/1.1\r\nBad Header\r\n\r\n");
  EXPECT_THAT(out, HasSubstr("400"));
  // The server still answers.
  ASSERT_OK_AND_ASSIGN(auto r, Send("GET", "/users/7"));
  EXPECT_EQ(r.status, 200);
  auto spans = ServerSpans(3);
  ASSERT_GE(spans.size(), 2u);
  EXPECT_EQ(AttrOf(spans[0], "http.response.status_code"), Int(400));
  EXPECT_EQ(AttrOf(spans[0], "server.address"), Str("x"));
  EXPECT_EQ(AttrOf(spans[0], "server.port"), Int(80));
}

TEST_F(ServerTest, RequestDurationsPerRouteAndStatus) {
  StartServer();
  for (int i = 0; i < 3; ++i) ASSERT_OK(Send("GET", "/users/" + std::to_string(i)));
  ASSERT_OK(Send("GET", "/fail"));
  auto series = server_->RequestDurations();
  ASSERT_EQ(series.size(), 2u);
  const ServerDurationSeries* users = nullptr;
  const ServerDurationSeries* fail = nullptr;
  for (const auto& s : series) (s.route == "/users/{id}" ? users : fail) = &s;
  ASSERT_NE(users, nullptr);
  ASSERT_NE(fail, nullptr);
  EXPECT_EQ(users->method, "GET");
  EXPECT_EQ(users->status, 200);
  EXPECT_EQ(users->scheme, "http");
  EXPECT_EQ(users->error_type, "");
  EXPECT_EQ(users->count, 3u);
  EXPECT_GT(users->sum, 0);
  ASSERT_EQ(users->bucket_counts.size(), std::size(kServerDurationBuckets) + 1);
  uint64_t total = 0;
  for (uint64_t c : users->bucket_counts) total += c;
  EXPECT_EQ(total, 3u);
  EXPECT_EQ(fail->status, 503);
  EXPECT_EQ(fail->error_type, "503");
}

TEST_F(ServerTest, RouteErrors) {
  auto server = Server::Create();
  EXPECT_THAT(server->Get("no-slash", [](const ServerRequest&, ServerResponse&) {}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(server->Get("/a", nullptr), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK(server->Get("/a", [](const ServerRequest&, ServerResponse&) {}));
  EXPECT_THAT(server->Get("/a", [](const ServerRequest&, ServerResponse&) {}),
              StatusIs(StatusCode::kAlreadyExists));
  ASSERT_OK(server->Start());
  EXPECT_THAT(server->Get("/b", [](const ServerRequest&, ServerResponse&) {}),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_NE(server->port(), 0);
}

TEST_F(ServerTest, ConcurrentRequestsKeepTheirOwnParents) {
  StartServer({.threads = 4});
  constexpr int kThreads = 6, kPerThread = 20;
  std::vector<std::thread> clients;
  std::mutex mu;
  std::map<std::string, std::string> sent;  // parent span id -> trace id
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        char trace_id[33], span_id[17];
        snprintf(trace_id, sizeof trace_id, "%016x%016x", t + 1, i + 1);
        snprintf(span_id, sizeof span_id, "%08x%08x", t + 1, i + 100);
        {
          std::lock_guard lock(mu);
          sent[span_id] = trace_id;
        }
        auto r = Send("GET", "/users/" + std::to_string(i),
                      {{"traceparent", std::string("00-") + trace_id + "-" + span_id + "-01"}});
        EXPECT_OK(r);
        if (r.ok()) {
          EXPECT_THAT(r->body, HasSubstr(std::string("trace ") + trace_id));
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  auto spans = ServerSpans(kThreads * kPerThread);
  ASSERT_EQ(spans.size(), static_cast<size_t>(kThreads * kPerThread));
  for (const auto& s : spans) {
    auto it = sent.find(s.parent_span_id.ToHex());
    ASSERT_NE(it, sent.end());
    EXPECT_EQ(s.context.trace_id().ToHex(), it->second);
  }
  EXPECT_EQ(server_->RequestDurations().at(0).count, static_cast<uint64_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace otlp::http
