// Fault injection through the user-facing clients (http::Client, http::AsyncClient), over
// HTTP/1.1 and HTTP/2 (h2c with prior knowledge): the project's scripted server (delays, drops,
// 503 with Retry-After, redirect loops, huge headers), the raw TCP server (resets, slow and
// truncated bodies, malformed responses) and hand-written HTTP/2 (tests/support/raw_h2.h: GOAWAY,
// RST_STREAM, connections dropped without GOAWAY, truncated and malformed frames). Each fault
// must end in its own ErrorKind with a message that names it, be retried exactly where the
// RetryPolicy says (seen in the spans' http.request.resend_count), and never hang: every request
// has a generous timeout and the assertions are about outcomes, not durations.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "otlp/http/async_client.h"
#include "otlp/http/client.h"
#include "otlp/http/client_test_helpers.h"
#include "otlp/trace/in_memory_exporter.h"
#include "otlp/trace/processor.h"
#include "otlp/trace/provider.h"
#include "tests/support/raw_h2.h"
#include "tests/support/raw_tcp_server.h"
#include "tests/support/scripted_http_server.h"
#include "tests/support/status_matchers.h"

namespace otlp::http {
namespace {

using std::chrono::milliseconds;
using test::RawH2;
using test::RawTcpServer;
using test::ScriptedHttpServer;
using test::ScriptedReply;
using testing::FastRetry;
using ::testing::HasSubstr;
using trace::RecordedSpan;

constexpr auto kGenerous = std::chrono::seconds(30);
constexpr uint32_t kRefusedStream = 0x7;
constexpr uint32_t kInternalError = 0x2;

enum class Protocol { kHttp1, kHttp2 };

std::string Name(const ::testing::TestParamInfo<Protocol>& info) {
  return info.param == Protocol::kHttp1 ? "Http1" : "Http2";
}

// Spans recorded in memory, and clients that trace into them.
class FaultsBase {
 protected:
  FaultsBase() {
    store_ = std::make_shared<trace::InMemorySpanStore>();
    provider_ =
        trace::TracerProvider::Create({.processor = std::make_unique<trace::SimpleSpanProcessor>(
                                           std::make_unique<trace::InMemorySpanExporter>(store_))});
  }
  ~FaultsBase() { provider_->Shutdown(); }

  ClientOptions Options(Protocol protocol, RetryPolicy retry = FastRetry()) {
    ClientOptions options;
    options.transport.http_version = protocol == Protocol::kHttp2
                                         ? net::HttpVersionPolicy::kHttp2PriorKnowledge
                                         : net::HttpVersionPolicy::kHttp1Only;
    options.transport.default_timeout = kGenerous;
    options.retry = std::move(retry);
    options.tracing.tracer = provider_->GetTracer("otlp.http");
    options.metrics = false;
    options.proxy = ProxyConfig();
    return options;
  }
  std::unique_ptr<Client> MakeClient(ClientOptions options) {
    auto client = Client::Create(std::move(options));
    EXPECT_OK(client);
    return client.ok() ? std::move(*client) : nullptr;
  }
  std::unique_ptr<AsyncClient> MakeAsyncClient(ClientOptions options) {
    auto client = AsyncClient::Create(std::move(options));
    EXPECT_OK(client);
    return client.ok() ? std::move(*client) : nullptr;
  }

  // http.request.resend_count of each attempt span (0 when absent), in the order they ended.
  std::vector<int64_t> ResendCounts() const {
    std::vector<int64_t> out;
    for (const RecordedSpan& span : store_->Spans()) {
      const OwnedAttributeValue* v = span.Attribute("http.request.resend_count");
      out.push_back(v != nullptr && std::holds_alternative<int64_t>(*v) ? std::get<int64_t>(*v)
                                                                        : 0);
    }
    return out;
  }
  // error.type of each attempt span ("" when absent).
  std::vector<std::string> ErrorTypes() const {
    std::vector<std::string> out;
    for (const RecordedSpan& span : store_->Spans()) {
      const OwnedAttributeValue* v = span.Attribute("error.type");
      out.push_back(
          v != nullptr && std::holds_alternative<std::string>(*v) ? std::get<std::string>(*v) : "");
    }
    return out;
  }

  std::shared_ptr<trace::InMemorySpanStore> store_;
  std::shared_ptr<trace::TracerProvider> provider_;
};

// --- Faults of the scripted server, over both protocols ---

class ScriptedFaultsTest : public FaultsBase, public ::testing::TestWithParam<Protocol> {
 protected:
  bool h2() const { return GetParam() == Protocol::kHttp2; }
  std::string Version() const { return h2() ? "2" : "1.1"; }
};

TEST_P(ScriptedFaultsTest, ServiceUnavailableWithRetryAfterIsRetriedAfterTheWait) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  server->EnqueueAll({{.status = 503, .headers = {{"Retry-After", "1"}}}, {.status = 200}});
  RetryPolicy retry = FastRetry();
  retry.initial_backoff = milliseconds(0);  // any wait is the server's
  auto client = MakeClient(Options(GetParam(), retry));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_OK_AND_ASSIGN(Response r, client->Get(server->Url("/busy")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.protocol_version, Version());
  EXPECT_EQ(r.attempts, 2);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(990));
  EXPECT_EQ(ResendCounts(), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(ErrorTypes(), (std::vector<std::string>{"503", ""}));

  // A POST is not idempotent: its 503 is the answer.
  server->Enqueue({.status = 503, .headers = {{"Retry-After", "1"}}});
  ASSERT_OK_AND_ASSIGN(Response post, client->Post(server->Url("/busy"), std::string("x")));
  EXPECT_EQ(post.status, 503);
  EXPECT_EQ(post.attempts, 1);
  EXPECT_EQ(server->request_count(), 3u);
}

TEST_P(ScriptedFaultsTest, RetryableStatusesUntilTheAttemptsRunOutAndOthersNever) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  server->EnqueueAll({{.status = 502}, {.status = 429}, {.status = 504}, {.status = 500}});
  auto client = MakeClient(Options(GetParam(), FastRetry(3)));
  ASSERT_OK_AND_ASSIGN(Response r, client->Get(server->Url("/flaky")));
  EXPECT_EQ(r.status, 504);  // the last answer
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(ResendCounts(), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(ErrorTypes(), (std::vector<std::string>{"502", "429", "504"}));
  ASSERT_OK_AND_ASSIGN(Response e, client->Get(server->Url("/broken")));
  EXPECT_EQ(e.status, 500);  // not a retried status
  EXPECT_EQ(e.attempts, 1);
  EXPECT_EQ(server->request_count(), 4u);
}

TEST_P(ScriptedFaultsTest, ADelayPastTheTimeoutIsARequestTimeoutAndAShorterOneIsNot) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  server->EnqueueAll({{.status = 200, .delay = std::chrono::seconds(5)},
                      {.status = 200, .body = "late", .delay = milliseconds(100)}});
  auto client = MakeClient(Options(GetParam()));
  Result<Response> r = client->Get(server->Url("/slow"), Timeout{milliseconds(300)});
  EXPECT_THAT(r, StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("timed out")));
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kRequestTimeout);
  // The deadline covers the retries: there is no time left for one.
  EXPECT_EQ(ErrorTypes(), std::vector<std::string>{"request_timeout"});
  ASSERT_OK_AND_ASSIGN(Response ok, client->Get(server->Url("/slow"), Timeout{kGenerous}));
  EXPECT_EQ(ok.body, "late");
}

TEST_P(ScriptedFaultsTest, ADroppedRequestIsRetriedOnlyWhereThePolicySays) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  auto client = MakeClient(Options(GetParam()));
  server->EnqueueAll({ScriptedReply::Drop(), {.status = 200, .body = "second"}});
  Result<Response> get = client->Get(server->Url("/drop"));
  if (h2()) {
    // On HTTP/2 the server resets the stream (INTERNAL_ERROR): not retryable.
    EXPECT_THAT(get, StatusIs(StatusCode::kUnavailable, HasSubstr("RST_STREAM INTERNAL_ERROR")));
    EXPECT_EQ(ErrorKindOf(get.status()), ErrorKind::kStreamReset);
    EXPECT_EQ(ErrorTypes(), std::vector<std::string>{"stream_reset"});
    server->ClearRequests();
    ASSERT_OK(client->Get(server->Url("/next")));  // takes the queued 200
  } else {
    // On HTTP/1.1 the connection closes before the response: retried for a GET.
    ASSERT_OK(get);
    EXPECT_EQ(get->body, "second");
    EXPECT_EQ(ResendCounts(), (std::vector<int64_t>{0, 1}));
    EXPECT_EQ(ErrorTypes(), (std::vector<std::string>{"connection_reset", ""}));
  }
  // A fresh client: a request that fails on a reused keep-alive connection before any byte of
  // the response is sent once more by the transport (the server may have closed it while idle).
  client = MakeClient(Options(GetParam()));
  store_->Clear();
  server->EnqueueAll({ScriptedReply::Drop(), {.status = 200}});
  const size_t before = server->request_count();
  Result<Response> post = client->Post(server->Url("/drop"), std::string("once"));
  EXPECT_THAT(post, StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(ErrorKindOf(post.status()),
            h2() ? ErrorKind::kStreamReset : ErrorKind::kConnectionReset);
  EXPECT_EQ(server->request_count(), before + 1);  // never resent
  EXPECT_EQ(ResendCounts(), std::vector<int64_t>{0});
}

TEST_P(ScriptedFaultsTest, AnOversizedRequestHeaderFailsWithoutBeingSent) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  auto client = MakeClient(Options(GetParam()));
  Result<Response> r = client->Get(server->Url("/"), Header{"X-Big", std::string(70 * 1024, 'b')});
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, HasSubstr("'X-Big'")));
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kInvalidRequest);
  EXPECT_EQ(server->request_count(), 0u);
}

TEST_P(ScriptedFaultsTest, ARedirectLoopEndsWithTooManyRedirects) {
  ASSERT_OK_AND_ASSIGN(
      auto server, ScriptedHttpServer::Start({.on_request = [](const test::RecordedRequest& req) {
        return std::optional<ScriptedReply>(ScriptedReply{
            .status = 302, .headers = {{"Location", req.target == "/a" ? "/b" : "/a"}}});
      }}));
  auto client = MakeClient(Options(GetParam()));
  Result<Response> r = client->Get(server->Url("/a"), RedirectPolicy{.max_redirects = 3});
  EXPECT_THAT(r, StatusIs(StatusCode::kAborted, HasSubstr("too many redirects")));
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kTooManyRedirects);
  EXPECT_EQ(server->request_count(), 4u);
  EXPECT_EQ(ResendCounts(), (std::vector<int64_t>{0, 1, 2, 3}));
}

// Concurrent requests, each meeting its own fault; on HTTP/2 they share one connection and a
// fault on one stream leaves the others alone.
TEST_P(ScriptedFaultsTest, AsyncRequestsEachGetTheirOwnOutcome) {
  std::atomic<int> busy{0};
  ASSERT_OK_AND_ASSIGN(
      auto server,
      ScriptedHttpServer::Start(
          {.on_request = [&busy](const test::RecordedRequest& req) -> std::optional<ScriptedReply> {
            if (req.target == "/slow") {
              return ScriptedReply{.status = 200, .delay = std::chrono::seconds(5)};
            }
            if (req.target == "/busy" && busy.fetch_add(1) == 0) {
              return ScriptedReply{.status = 503, .headers = {{"Retry-After", "0"}}};
            }
            if (req.target == "/missing") return ScriptedReply{.status = 404};
            return ScriptedReply{.status = 200, .body = req.target};
          }}));
  auto client = MakeAsyncClient(Options(GetParam()));
  auto ok = client->Send(Request::Get(server->Url("/ok")));
  auto slow = client->Send(Request::Get(server->Url("/slow")).With(Timeout{milliseconds(300)}));
  auto retried = client->Send(Request::Get(server->Url("/busy")));
  auto missing = client->Send(Request::Get(server->Url("/missing")));
  Result<Response> r_ok = ok.get();
  Result<Response> r_slow = slow.get();
  Result<Response> r_retried = retried.get();
  Result<Response> r_missing = missing.get();
  ASSERT_OK(r_ok);
  EXPECT_EQ(r_ok->body, "/ok");
  EXPECT_EQ(r_ok->protocol_version, Version());
  EXPECT_EQ(ErrorKindOf(r_slow.status()), ErrorKind::kRequestTimeout);
  ASSERT_OK(r_retried);
  EXPECT_EQ(r_retried->body, "/busy");
  EXPECT_EQ(r_retried->attempts, 2);
  ASSERT_OK(r_missing);
  EXPECT_EQ(r_missing->status, 404);
  EXPECT_EQ(client->connections_opened(), h2() ? 1u : client->connections_opened());
}

INSTANTIATE_TEST_SUITE_P(Protocols, ScriptedFaultsTest,
                         ::testing::Values(Protocol::kHttp1, Protocol::kHttp2), Name);

// --- HTTP/1.1 faults no real server commits (raw TCP) ---

class Http1RawFaultsTest : public FaultsBase, public ::testing::Test {
 protected:
  static std::string Url(const RawTcpServer& server, std::string_view path = "/") {
    return "http://127.0.0.1:" + std::to_string(server.port()) + std::string(path);
  }
};

TEST_F(Http1RawFaultsTest, ATcpResetIsConnectionResetRetriedForGetOnly) {
  ASSERT_OK_AND_ASSIGN(auto server, RawTcpServer::Start(RawTcpServer::ResetAfterRequest()));
  auto client = MakeClient(Options(Protocol::kHttp1, FastRetry(3)));
  Result<Response> get = client->Get(Url(*server));
  EXPECT_THAT(get, StatusIs(StatusCode::kUnavailable, HasSubstr("reset")));
  EXPECT_EQ(ErrorKindOf(get.status()), ErrorKind::kConnectionReset);
  EXPECT_EQ(server->connections(), 3u);
  EXPECT_EQ(ResendCounts(), (std::vector<int64_t>{0, 1, 2}));
  store_->Clear();
  Result<Response> post = client->Post(Url(*server), std::string("x"));
  EXPECT_EQ(ErrorKindOf(post.status()), ErrorKind::kConnectionReset);
  EXPECT_EQ(server->connections(), 4u);
  EXPECT_EQ(ResendCounts(), std::vector<int64_t>{0});
}

TEST_F(Http1RawFaultsTest, ATruncatedBodyIsConnectionReset) {
  ASSERT_OK_AND_ASSIGN(auto server,
                       RawTcpServer::Start(RawTcpServer::ReplyAfterRequest(
                           "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")));
  auto client = MakeClient(Options(Protocol::kHttp1, FastRetry(2)));
  Result<Response> r = client->Get(Url(*server));
  EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable, HasSubstr("in the middle of the response")));
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kConnectionReset);
  EXPECT_EQ(server->connections(), 2u);  // a GET: retried
}

TEST_F(Http1RawFaultsTest, HugeResponseHeadersAreTooLarge) {
  ASSERT_OK_AND_ASSIGN(auto server,
                       RawTcpServer::Start(RawTcpServer::ReplyAfterRequest(
                           "HTTP/1.1 200 OK\r\nX-Huge: " + std::string(100 * 1024, 'h') +
                           "\r\nContent-Length: 0\r\n\r\n")));
  auto client = MakeClient(Options(Protocol::kHttp1));
  Result<Response> r = client->Get(Url(*server));
  EXPECT_THAT(r, StatusIs(StatusCode::kResourceExhausted, HasSubstr("headers exceed")));
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kTooLarge);
  EXPECT_EQ(server->connections(), 1u);  // not retried
}

TEST_F(Http1RawFaultsTest, MalformedResponsesAreProtocolErrorsAndNotRetried) {
  for (std::string reply : {std::string("NOT HTTP AT ALL\r\n\r\n"),
                            std::string("HTTP/1.1 2000 Huge\r\nContent-Length: 0\r\n\r\n"),
                            std::string("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"),
                            std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                        "zz\r\nabc\r\n0\r\n\r\n")}) {
    store_->Clear();
    ASSERT_OK_AND_ASSIGN(auto server, RawTcpServer::Start(RawTcpServer::ReplyAfterRequest(reply)));
    auto client = MakeClient(Options(Protocol::kHttp1));
    Result<Response> r = client->Get(Url(*server));
    EXPECT_THAT(r, StatusIs(StatusCode::kInternal, HasSubstr("malformed"))) << reply;
    EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kProtocol) << reply;
    EXPECT_EQ(server->connections(), 1u) << reply;
    EXPECT_EQ(ErrorTypes(), std::vector<std::string>{"protocol"}) << reply;
  }
}

TEST_F(Http1RawFaultsTest, ASlowBodyWithinTheLimitsArrivesAndBeyondThemTimesOut) {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  const std::vector<std::string> pieces = {"a", "b", "c", "d", "e"};
  {
    ASSERT_OK_AND_ASSIGN(auto server, RawTcpServer::Start(RawTcpServer::TrickleAfterRequest(
                                          head, pieces, milliseconds(50))));
    ClientOptions options = Options(Protocol::kHttp1);
    options.transport.idle_timeout_between_bytes = std::chrono::seconds(10);
    auto client = MakeClient(std::move(options));
    ASSERT_OK_AND_ASSIGN(Response r, client->Get(Url(*server)));
    EXPECT_EQ(r.body, "abcde");
  }
  {
    // Silence between bytes longer than the idle timeout.
    ASSERT_OK_AND_ASSIGN(auto server, RawTcpServer::Start(RawTcpServer::TrickleAfterRequest(
                                          head, pieces, milliseconds(500))));
    ClientOptions options = Options(Protocol::kHttp1, RetryPolicy::Disabled());
    options.transport.idle_timeout_between_bytes = milliseconds(100);
    auto client = MakeClient(std::move(options));
    Result<Response> r = client->Get(Url(*server));
    EXPECT_THAT(r, StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("idle timeout")));
    EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kIdleTimeout);
  }
  {
    // A steady trickle that outlasts the whole-request timeout.
    ASSERT_OK_AND_ASSIGN(auto server, RawTcpServer::Start(RawTcpServer::TrickleAfterRequest(
                                          head, pieces, milliseconds(200))));
    auto client = MakeClient(Options(Protocol::kHttp1));
    Result<Response> r = client->Get(Url(*server), Timeout{milliseconds(500)});
    EXPECT_THAT(r, StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("timed out")));
    EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kRequestTimeout);
  }
}

// --- HTTP/2 faults, written frame by frame ---

class Http2RawFaultsTest : public FaultsBase, public ::testing::Test {
 protected:
  static std::string Url(const RawTcpServer& server, std::string_view path = "/") {
    return "http://127.0.0.1:" + std::to_string(server.port()) + std::string(path);
  }
};

TEST_F(Http2RawFaultsTest, ASlowBodyArrivesWholeAndOneOutlastingTheDeadlineTimesOut) {
  auto trickle = [](milliseconds pause) {
    return RawH2::Serve({}, [pause](RawH2& h2, uint32_t stream) {
      h2.Headers(stream, 200);
      for (const char* piece : {"a", "b", "c", "d"}) {
        std::this_thread::sleep_for(pause);
        if (!h2.Data(stream, piece)) return false;
      }
      h2.Data(stream, "e", /*end_stream=*/true);
      return true;
    });
  };
  {
    ASSERT_OK_AND_ASSIGN(auto server, RawTcpServer::Start(trickle(milliseconds(50))));
    auto client = MakeClient(Options(Protocol::kHttp2));
    ASSERT_OK_AND_ASSIGN(Response r, client->Get(Url(*server)));
    EXPECT_EQ(r.body, "abcde");
    EXPECT_EQ(r.protocol_version, "2");
  }
  {
    ASSERT_OK_AND_ASSIGN(auto server, RawTcpServer::Start(trickle(milliseconds(300))));
    auto client = MakeClient(Options(Protocol::kHttp2));
    Result<Response> r = client->Get(Url(*server), Timeout{milliseconds(500)});
    EXPECT_THAT(r, StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("timed out")));
    EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kRequestTimeout);
  }
}

TEST_F(Http2RawFaultsTest, AResponseCutOffAfterItsHeadersIsConnectionReset) {
  ASSERT_OK_AND_ASSIGN(auto server,
                       RawTcpServer::Start(RawH2::Serve({}, [](RawH2& h2, uint32_t stream) {
                         h2.Headers(stream, 200, {{"content-length", "100"}});
                         h2.Data(stream, "partial");
                         return false;  // the connection ends, no GOAWAY
                       })));
  auto client = MakeClient(Options(Protocol::kHttp2, FastRetry(2)));
  Result<Response> r = client->Get(Url(*server));
  // Closed, or reset when the client's last frames were still unread at the server's close.
  EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable,
                          ::testing::AnyOf(HasSubstr("closed"), HasSubstr("reset"))));
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kConnectionReset);
  EXPECT_EQ(server->connections(), 2u);  // a GET: retried once by the policy
  EXPECT_EQ(ResendCounts(), (std::vector<int64_t>{0, 1}));
}

TEST_F(Http2RawFaultsTest, HugeResponseHeadersAreTooLarge) {
  ASSERT_OK_AND_ASSIGN(
      auto server, RawTcpServer::Start(RawH2::Serve({}, [](RawH2& h2, uint32_t stream) {
        // 100 × 4 KB decoded from a few hundred bytes (HPACK).
        return h2.RepeatedHeader(stream, 200, "x-huge", std::string(4000, 'h'), 100, true) &&
               h2.WaitForClose(kGenerous);
      })));
  auto client = MakeClient(Options(Protocol::kHttp2));
  Result<Response> r = client->Get(Url(*server));
  EXPECT_THAT(r, StatusIs(StatusCode::kResourceExhausted, HasSubstr("headers")));
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kTooLarge);
  EXPECT_EQ(server->connections(), 1u);  // not retried
}

TEST_F(Http2RawFaultsTest, GarbageAndAnInvalidStatusAreProtocolErrors) {
  {
    ASSERT_OK_AND_ASSIGN(auto server, RawTcpServer::Start(RawH2::Serve({}, [](RawH2& h2, uint32_t) {
                           h2.Write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                           return h2.WaitForClose(kGenerous);
                         })));
    auto client = MakeClient(Options(Protocol::kHttp2));
    Result<Response> r = client->Get(Url(*server));
    EXPECT_THAT(r, StatusIs(StatusCode::kInternal, HasSubstr("HTTP/2")));
    EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kProtocol);
    EXPECT_EQ(server->connections(), 1u);  // not retried
  }
  {
    ASSERT_OK_AND_ASSIGN(auto server,
                         RawTcpServer::Start(RawH2::Serve({}, [](RawH2& h2, uint32_t stream) {
                           return h2.HeadersRaw(stream, "abc", {}, /*end_stream=*/true);
                         })));
    auto client = MakeClient(Options(Protocol::kHttp2));
    Result<Response> r = client->Get(Url(*server));
    EXPECT_THAT(r, StatusIs(StatusCode::kInternal, HasSubstr("HTTP/2 protocol error")));
    EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kProtocol);
  }
}

TEST_F(Http2RawFaultsTest, GoAwayBeforeProcessingIsRetriedOnANewConnection) {
  std::atomic<int> connection{0};
  ASSERT_OK_AND_ASSIGN(auto server,
                       RawTcpServer::Start(RawH2::Serve({}, [&connection](RawH2& h2, uint32_t s) {
                         if (connection.fetch_add(1) == 0) {
                           h2.GoAway(0, 0);  // nothing processed
                           return h2.WaitForClose(kGenerous);
                         }
                         h2.Headers(s, 200);
                         return h2.Data(s, "fresh", true) && h2.WaitForClose(kGenerous);
                       })));
  auto client = MakeClient(Options(Protocol::kHttp2));
  // A POST too: the server said it did not process it.
  ASSERT_OK_AND_ASSIGN(Response r, client->Post(Url(*server), std::string("x")));
  EXPECT_EQ(r.body, "fresh");
  EXPECT_EQ(server->connections(), 2u);
  EXPECT_EQ(ResendCounts(), std::vector<int64_t>{0});  // the transport's resend, not a retry
}

TEST_F(Http2RawFaultsTest, GoAwayOnEveryConnectionIsGoAway) {
  ASSERT_OK_AND_ASSIGN(auto server, RawTcpServer::Start(RawH2::Serve({}, [](RawH2& h2, uint32_t) {
                         h2.GoAway(0, 0);
                         return h2.WaitForClose(kGenerous);
                       })));
  auto client = MakeClient(Options(Protocol::kHttp2, RetryPolicy::Disabled()));
  Result<Response> r = client->Post(Url(*server), std::string("x"));
  EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable, HasSubstr("GOAWAY")));
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kGoAway);
}

TEST_F(Http2RawFaultsTest, RefusedStreamIsResentAndOtherResetsAreStreamResets) {
  std::atomic<int> requests{0};
  ASSERT_OK_AND_ASSIGN(auto server,
                       RawTcpServer::Start(RawH2::Serve({}, [&requests](RawH2& h2, uint32_t s) {
                         switch (requests.fetch_add(1)) {
                           case 0: return h2.RstStream(s, kRefusedStream);
                           case 1: return h2.Headers(s, 200, {}, true);
                           default: return h2.RstStream(s, kInternalError);
                         }
                       })));
  auto client = MakeClient(Options(Protocol::kHttp2));
  ASSERT_OK_AND_ASSIGN(Response r, client->Post(Url(*server), std::string("x")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(ResendCounts(), std::vector<int64_t>{0});
  store_->Clear();
  Result<Response> reset = client->Get(Url(*server));
  EXPECT_THAT(reset, StatusIs(StatusCode::kUnavailable, HasSubstr("RST_STREAM INTERNAL_ERROR")));
  EXPECT_EQ(ErrorKindOf(reset.status()), ErrorKind::kStreamReset);
  EXPECT_EQ(requests.load(), 3);  // the reset was not retried
  EXPECT_EQ(server->connections(), 1u);
}

// The peer drops the connection (TCP reset, no GOAWAY) under a request it received: the request
// fails with kConnectionReset; a GET is retried by the policy on a new connection, a POST is not.
TEST_F(Http2RawFaultsTest, ADroppedConnectionFailsSentRequestsWithConnectionReset) {
  std::atomic<int> connection{0};
  ASSERT_OK_AND_ASSIGN(auto server,
                       RawTcpServer::Start(RawH2::Serve({}, [&connection](RawH2& h2, uint32_t s) {
                         if (connection.fetch_add(1) % 2 == 0) {
                           h2.ResetOnClose();
                           return false;
                         }
                         return h2.Headers(s, 200, {}, true) && h2.WaitForClose(kGenerous);
                       })));
  auto client = MakeClient(Options(Protocol::kHttp2));
  ASSERT_OK_AND_ASSIGN(Response get, client->Get(Url(*server)));
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(ResendCounts(), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(ErrorTypes(), (std::vector<std::string>{"connection_reset", ""}));
  store_->Clear();
  // The next connection is dropped too; the POST is not resent. (The old client goes first:
  // the raw server serves one connection at a time.)
  client = MakeClient(Options(Protocol::kHttp2));
  Result<Response> post = client->Post(Url(*server), std::string("x"));
  EXPECT_THAT(post, StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(ErrorKindOf(post.status()), ErrorKind::kConnectionReset);
  EXPECT_EQ(ResendCounts(), std::vector<int64_t>{0});
  EXPECT_EQ(server->connections(), 3u);
}

// The peer drops the connection while a second request waits for a stream slot (the server
// allows one stream at a time): the waiting request was never sent, so the transport sends it
// on a new connection, even a POST; the one on the wire fails.
TEST_F(Http2RawFaultsTest, ARequestNeverSentIsResentWhenTheConnectionDrops) {
  std::promise<void> first_arrived;
  std::promise<void> second_submitted;
  std::atomic<int> connection{0};
  ASSERT_OK_AND_ASSIGN(
      auto server,
      RawTcpServer::Start(RawH2::Serve({.max_concurrent_streams = 1}, [&](RawH2& h2, uint32_t s) {
        if (connection.fetch_add(1) == 0) {
          // The client has applied max_concurrent_streams = 1 once it acknowledged it.
          if (!h2.WaitForSettingsAck()) return false;
          first_arrived.set_value();
          // The second request is queued for the stream slot, or (not yet there) meets a
          // closed session or opens a new one: it is sent once either way.
          second_submitted.get_future().wait();
          h2.ResetOnClose();
          return false;
        }
        return h2.Headers(s, 200, {}, true) && h2.WaitForClose(kGenerous);
      })));
  auto client = MakeAsyncClient(Options(Protocol::kHttp2));
  auto first = client->Send(Request::Post(Url(*server, "/1")).With(std::string("one")));
  first_arrived.get_future().wait();
  auto second = client->Send(Request::Post(Url(*server, "/2")).With(std::string("two")));
  second_submitted.set_value();
  Result<Response> r1 = first.get();
  Result<Response> r2 = second.get();
  EXPECT_EQ(ErrorKindOf(r1.status()), ErrorKind::kConnectionReset) << r1.status().ToString();
  ASSERT_OK(r2);
  EXPECT_EQ(r2->status, 200);
  EXPECT_EQ(server->connections(), 2u);
}

}  // namespace
}  // namespace otlp::http
