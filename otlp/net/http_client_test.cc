#include "otlp/net/http_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "otlp/net/http_server.h"
#include "tests/support/raw_tcp_server.h"
#include "tests/support/scripted_http_server.h"
#include "tests/support/status_matchers.h"

namespace otlp::net {
namespace {

using std::chrono::milliseconds;
using test::RawTcpServer;
using test::ScriptedHttpServer;
using test::ScriptedReply;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kWait = std::chrono::seconds(20);

// Polls a condition that another thread makes true; the timeout only guards against hangs.
template <typename Pred>
bool WaitUntil(Pred pred, std::chrono::milliseconds timeout = kWait) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// Echoes the request: status 200, body = request body, and what the client sent in X- headers.
void Echo(const ServerRequest& req, ServerResponse& res) {
  res.status = 200;
  res.headers = {{"X-Method", req.method},
                 {"X-Target", req.target},
                 {"X-Host", std::string(req.Header("Host").value_or("<none>"))},
                 {"X-User-Agent", std::string(req.Header("User-Agent").value_or("<none>"))},
                 {"X-Content-Length", std::string(req.Header("Content-Length").value_or("<none>"))},
                 {"X-Custom", std::string(req.Header("X-Custom").value_or("<none>"))}};
  res.body = req.body;
}

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_runtime_ = Runtime::Create();
    client_runtime_ = Runtime::Create();
  }

  std::unique_ptr<HttpServer> StartServer(HttpServer::Handler handler,
                                          HttpServer::Options options = {}) {
    auto server = HttpServer::Start(server_runtime_, std::move(options), std::move(handler));
    EXPECT_OK(server);
    return server.ok() ? std::move(*server) : nullptr;
  }

  std::unique_ptr<HttpClient> MakeClient(HttpClient::Options options = {}) {
    auto client = HttpClient::Create(client_runtime_, std::move(options));
    EXPECT_OK(client);
    return client.ok() ? std::move(*client) : nullptr;
  }

  std::shared_ptr<Runtime> server_runtime_;
  std::shared_ptr<Runtime> client_runtime_;
};

TEST_F(HttpClientTest, GetSetsHostAndUserAgent) {
  auto server = StartServer(Echo);
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  ASSERT_OK_AND_ASSIGN(auto resp, client->Send({.url = server->base_url() + "/hello?x=1"}));
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.Header("X-Method"), "GET");
  EXPECT_EQ(resp.Header("X-Target"), "/hello?x=1");
  EXPECT_EQ(resp.Header("X-Host"), "127.0.0.1:" + std::to_string(server->port()));
  EXPECT_EQ(resp.Header("X-User-Agent"), kUserAgent);
  EXPECT_EQ(resp.Header("X-Content-Length"), "<none>");  // GET without a body
  EXPECT_EQ(resp.Header("content-length"), "0");
  EXPECT_EQ(resp.body, "");
}

TEST_F(HttpClientTest, PostSendsBodyWithContentLength) {
  auto server = StartServer(Echo);
  auto client = MakeClient({.user_agent = "custom-agent/1"});
  ASSERT_TRUE(server && client);
  ASSERT_OK_AND_ASSIGN(auto resp,
                       client->Send({.method = "POST",
                                     .url = server->base_url() + "/v1/traces",
                                     .headers = {{"Content-Type", "application/x-protobuf"},
                                                 {"X-Custom", "yes"},
                                                 {"Content-Length", "999"}},  // ignored: computed
                                     .body = "payload-bytes"}));
  EXPECT_EQ(resp.Header("X-Method"), "POST");
  EXPECT_EQ(resp.Header("X-Content-Length"), "13");
  EXPECT_EQ(resp.Header("X-User-Agent"), "custom-agent/1");
  EXPECT_EQ(resp.Header("X-Custom"), "yes");
  EXPECT_EQ(resp.body, "payload-bytes");
}

TEST_F(HttpClientTest, EmptyPostHasContentLengthZero) {
  auto server = StartServer(Echo);
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  ASSERT_OK_AND_ASSIGN(auto resp,
                       client->Send({.method = "POST", .url = server->base_url() + "/"}));
  EXPECT_EQ(resp.Header("X-Content-Length"), "0");
}

TEST_F(HttpClientTest, UserHostHeaderWins) {
  auto server = StartServer(Echo);
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  ASSERT_OK_AND_ASSIGN(auto resp, client->Send({.url = server->base_url() + "/",
                                                .headers = {{"host", "virtual.test"}}}));
  EXPECT_EQ(resp.Header("X-Host"), "virtual.test");
}

TEST_F(HttpClientTest, StatusAndHeadersOfErrorResponsesAreReturned) {
  auto server = StartServer([](const ServerRequest&, ServerResponse& res) {
    res.status = 503;
    res.headers = {{"Retry-After", "7"}};
    res.body = "busy";
  });
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  ASSERT_OK_AND_ASSIGN(auto resp, client->Send({.url = server->base_url() + "/"}));
  EXPECT_EQ(resp.status, 503);
  EXPECT_EQ(resp.Header("retry-after"), "7");
  EXPECT_EQ(resp.body, "busy");
}

TEST_F(HttpClientTest, HeadRequestReadsNoBody) {
  auto server = StartServer([](const ServerRequest&, ServerResponse& res) { res.body = "12345"; });
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  for (int i = 0; i < 2; ++i) {  // the second one reuses the connection: framing stayed right
    ASSERT_OK_AND_ASSIGN(auto resp,
                         client->Send({.method = "HEAD", .url = server->base_url() + "/"}));
    EXPECT_EQ(resp.Header("Content-Length"), "5");
    EXPECT_EQ(resp.body, "");
  }
  EXPECT_EQ(client->connections_opened(), 1u);
}

TEST_F(HttpClientTest, KeepAliveReusesOneConnection) {
  auto server = StartServer(Echo);
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  for (int i = 0; i < 50; ++i) {
    const std::string body = "request " + std::to_string(i);
    ASSERT_OK_AND_ASSIGN(
        auto resp, client->Send({.method = "POST", .url = server->base_url() + "/", .body = body}));
    EXPECT_EQ(resp.body, body);
  }
  EXPECT_EQ(client->connections_opened(), 1u);
  EXPECT_EQ(server->connections_accepted(), 1u);
  EXPECT_EQ(client->idle_connections(), 1u);
}

TEST_F(HttpClientTest, PoolIsPerHostAndPort) {
  auto a = StartServer(Echo);
  auto b = StartServer(Echo);
  auto client = MakeClient();
  ASSERT_TRUE(a && b && client);
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(client->Send({.url = a->base_url() + "/"}));
    ASSERT_OK(client->Send({.url = b->base_url() + "/"}));
  }
  EXPECT_EQ(client->connections_opened(), 2u);
  EXPECT_EQ(client->idle_connections(), 2u);
}

TEST_F(HttpClientTest, ConnectionCloseFromServerIsNotPooled) {
  auto server = StartServer([](const ServerRequest&, ServerResponse& res) {
    res.headers = {{"Connection", "close"}};
    res.body = "bye";
  });
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(auto resp, client->Send({.url = server->base_url() + "/"}));
    EXPECT_EQ(resp.body, "bye");
  }
  EXPECT_EQ(client->connections_opened(), 3u);
  EXPECT_EQ(client->idle_connections(), 0u);
}

TEST_F(HttpClientTest, ServerClosingIdleConnectionIsTransparent) {
  auto server = StartServer(Echo);
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  ASSERT_OK(client->Send({.url = server->base_url() + "/"}));
  server->CloseIdleConnections();
  ASSERT_OK_AND_ASSIGN(
      auto resp,
      client->Send({.method = "POST", .url = server->base_url() + "/", .body = "again"}));
  EXPECT_EQ(resp.body, "again");
  EXPECT_EQ(client->connections_opened(), 2u);
}

TEST_F(HttpClientTest, ReusedConnectionDroppedBeforeResponseIsRetriedOnce) {
  std::atomic<int> seen{0};
  auto server = StartServer([&](const ServerRequest& req, ServerResponse& res) {
    // The 2nd request arrives on the reused connection and is dropped unanswered; the client
    // must resend it (3rd) on a fresh connection.
    if (seen.fetch_add(1) + 1 == 2) {
      res.close_connection = true;
      return;
    }
    res.body = req.body;
  });
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  ASSERT_OK(client->Send({.url = server->base_url() + "/"}));
  ASSERT_OK_AND_ASSIGN(
      auto resp, client->Send({.method = "POST", .url = server->base_url() + "/", .body = "B"}));
  EXPECT_EQ(resp.body, "B");
  EXPECT_EQ(seen.load(), 3);
  EXPECT_EQ(client->connections_opened(), 2u);
}

TEST_F(HttpClientTest, RetryHappensOnlyOnce) {
  std::atomic<int> seen{0};
  auto server = StartServer([&](const ServerRequest&, ServerResponse& res) {
    if (seen.fetch_add(1) > 0) res.close_connection = true;  // all but the first
  });
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  ASSERT_OK(client->Send({.url = server->base_url() + "/"}));
  auto resp = client->Send({.url = server->base_url() + "/"});
  EXPECT_THAT(resp, StatusIs(StatusCode::kUnavailable, HasSubstr("closed by the server")));
  EXPECT_TRUE(resp.status().retryable());
  EXPECT_EQ(seen.load(), 3);  // first, dropped on the reused connection, dropped on the fresh one
}

TEST_F(HttpClientTest, FreshConnectionDroppedIsNotRetried) {
  auto server =
      StartServer([](const ServerRequest&, ServerResponse& res) { res.close_connection = true; });
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  auto resp = client->Send({.url = server->base_url() + "/"});
  EXPECT_THAT(resp, StatusIs(StatusCode::kUnavailable));
  EXPECT_TRUE(resp.status().retryable());
  EXPECT_EQ(server->requests_received(), 1u);
}

TEST_F(HttpClientTest, TimeoutWhenServerNeverAnswers) {
  ASSERT_OK_AND_ASSIGN(auto server,
                       ScriptedHttpServer::Start({.default_reply = ScriptedReply::Hang()}));
  auto client = MakeClient();
  ASSERT_TRUE(client);
  auto resp = client->Send({.url = server->Url("/slow"), .timeout = milliseconds(200)});
  EXPECT_THAT(
      resp, StatusIs(StatusCode::kDeadlineExceeded, AllOf(HasSubstr("timed out after 200 ms"),
                                                          HasSubstr("waiting for the response"))));
  EXPECT_TRUE(resp.status().retryable());
  EXPECT_EQ(server->request_count(), 1u);
}

TEST_F(HttpClientTest, ClientDefaultTimeoutApplies) {
  ASSERT_OK_AND_ASSIGN(auto server,
                       ScriptedHttpServer::Start({.default_reply = ScriptedReply::Hang()}));
  auto client = MakeClient({.default_timeout = milliseconds(150)});
  ASSERT_TRUE(client);
  auto resp = client->Send({.url = server->Url("/")});
  EXPECT_THAT(resp, StatusIs(StatusCode::kDeadlineExceeded));
}

TEST_F(HttpClientTest, ConnectionRefused) {
  ASSERT_OK_AND_ASSIGN(auto port, test::PickUnusedPort());
  auto client = MakeClient();
  ASSERT_TRUE(client);
  auto resp = client->Send({.url = "http://127.0.0.1:" + std::to_string(port) + "/"});
  EXPECT_THAT(resp, StatusIs(StatusCode::kUnavailable, HasSubstr("connection refused")));
  EXPECT_TRUE(resp.status().retryable());
  EXPECT_EQ(client->connections_opened(), 0u);
}

TEST_F(HttpClientTest, OversizedResponseBody) {
  auto server = StartServer([](const ServerRequest& req, ServerResponse& res) {
    res.body.assign(req.target == "/big" ? 1001 : 1000, 'x');
  });
  auto client = MakeClient({.max_response_body = 1000});
  ASSERT_TRUE(server && client);
  ASSERT_OK_AND_ASSIGN(auto ok, client->Send({.url = server->base_url() + "/exact"}));
  EXPECT_EQ(ok.body.size(), 1000u);
  auto big = client->Send({.url = server->base_url() + "/big"});
  EXPECT_THAT(big, StatusIs(StatusCode::kResourceExhausted, HasSubstr("limit of 1000 bytes")));
  EXPECT_FALSE(big.status().retryable());
  // The client keeps working afterwards.
  EXPECT_OK(client->Send({.url = server->base_url() + "/exact"}));
}

TEST_F(HttpClientTest, GarbageResponseIsAClearError) {
  ASSERT_OK_AND_ASSIGN(
      auto raw,
      RawTcpServer::Start(RawTcpServer::ReplyAfterRequest("SSH-2.0-OpenSSH_9.2\r\n\r\n")));
  auto client = MakeClient();
  ASSERT_TRUE(client);
  auto resp = client->Send({.url = "http://127.0.0.1:" + std::to_string(raw->port()) + "/"});
  EXPECT_THAT(resp, StatusIs(StatusCode::kInternal, HasSubstr("malformed HTTP response")));
  EXPECT_FALSE(resp.status().retryable());
}

TEST_F(HttpClientTest, BadStatusLineIsAClearError) {
  ASSERT_OK_AND_ASSIGN(auto raw, RawTcpServer::Start(RawTcpServer::ReplyAfterRequest(
                                     "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n")));
  auto client = MakeClient();
  ASSERT_TRUE(client);
  auto resp = client->Send({.url = "http://127.0.0.1:" + std::to_string(raw->port()) + "/"});
  EXPECT_THAT(resp, StatusIs(StatusCode::kInternal, HasSubstr("malformed HTTP response")));
}

TEST_F(HttpClientTest, TruncatedResponseIsUnavailable) {
  ASSERT_OK_AND_ASSIGN(auto raw,
                       RawTcpServer::Start(RawTcpServer::ReplyAfterRequest(
                           "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a few bytes")));
  auto client = MakeClient();
  ASSERT_TRUE(client);
  auto resp = client->Send({.url = "http://127.0.0.1:" + std::to_string(raw->port()) + "/"});
  EXPECT_THAT(resp, StatusIs(StatusCode::kUnavailable, HasSubstr("middle of the response")));
}

TEST_F(HttpClientTest, TruncatedBodyIsReturnedWhenTheCallerAcceptsIt) {
  ASSERT_OK_AND_ASSIGN(
      auto raw,
      RawTcpServer::Start(RawTcpServer::ReplyAfterRequest(
          "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nX-Seen: yes\r\n\r\nonly a few bytes")));
  auto client = MakeClient();
  ASSERT_TRUE(client);
  ASSERT_OK_AND_ASSIGN(auto resp,
                       client->Send({.url = "http://127.0.0.1:" + std::to_string(raw->port()) + "/",
                                     .accept_truncated_body = true}));
  EXPECT_EQ(resp.status, 200);
  EXPECT_TRUE(resp.body_truncated);
  EXPECT_EQ(resp.body, "only a few bytes");
  EXPECT_EQ(resp.Header("x-seen"), "yes");
  // A connection that ends before the headers are complete is still an error.
  ASSERT_OK_AND_ASSIGN(auto headless, RawTcpServer::Start(RawTcpServer::ReplyAfterRequest(
                                          "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n")));
  auto failed = client->Send({.url = "http://127.0.0.1:" + std::to_string(headless->port()) + "/",
                              .accept_truncated_body = true});
  EXPECT_FALSE(failed.ok());
  // A complete body is not marked.
  ASSERT_OK_AND_ASSIGN(auto whole, RawTcpServer::Start(RawTcpServer::ReplyAfterRequest(
                                       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")));
  ASSERT_OK_AND_ASSIGN(
      auto complete, client->Send({.url = "http://127.0.0.1:" + std::to_string(whole->port()) + "/",
                                   .accept_truncated_body = true}));
  EXPECT_FALSE(complete.body_truncated);
  EXPECT_EQ(complete.body, "ok");
}

TEST_F(HttpClientTest, BodyDelimitedByCloseAndChunkedBodies) {
  ASSERT_OK_AND_ASSIGN(auto until_close,
                       RawTcpServer::Start(RawTcpServer::ReplyAfterRequest(
                           "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil-eof")));
  ASSERT_OK_AND_ASSIGN(auto chunked, RawTcpServer::Start(RawTcpServer::ReplyAfterRequest(
                                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                                         "chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")));
  auto client = MakeClient();
  ASSERT_TRUE(client);
  ASSERT_OK_AND_ASSIGN(
      auto a, client->Send({.url = "http://127.0.0.1:" + std::to_string(until_close->port())}));
  EXPECT_EQ(a.body, "until-eof");
  ASSERT_OK_AND_ASSIGN(
      auto b, client->Send({.url = "http://127.0.0.1:" + std::to_string(chunked->port())}));
  EXPECT_EQ(b.body, "hello world");
}

TEST_F(HttpClientTest, ChunkedTrailersAreKeptApartFromHeaders) {
  ASSERT_OK_AND_ASSIGN(auto raw,
                       RawTcpServer::Start(RawTcpServer::ReplyAfterRequest(
                           "HTTP/1.1 200 OK\r\nContent-Type: application/grpc\r\nTrailer: "
                           "grpc-status, grpc-message\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\ngrpc-status: 0\r\n"
                           "grpc-message: all good\r\nContent-Type: text/late\r\n\r\n")));
  auto client = MakeClient();
  ASSERT_TRUE(client);
  ASSERT_OK_AND_ASSIGN(
      HttpResponse resp,
      client->Send({.url = "http://127.0.0.1:" + std::to_string(raw->port()) + "/"}));
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, "hello");
  EXPECT_EQ(resp.Trailer("GRPC-STATUS"), "0");
  EXPECT_EQ(resp.Trailer("grpc-message"), "all good");
  EXPECT_EQ(resp.Trailer("content-type"), "text/late");
  EXPECT_EQ(resp.trailers.size(), 3u);
  // Headers are what came before the body, nothing from the trailer.
  EXPECT_EQ(resp.Header("content-type"), "application/grpc");
  EXPECT_EQ(resp.headers.FindAll("content-type").size(), 1u);
  EXPECT_EQ(resp.Header("grpc-status"), std::nullopt);

  // Without a trailer section there are no trailers.
  ASSERT_OK_AND_ASSIGN(
      auto plain,
      RawTcpServer::Start(RawTcpServer::ReplyAfterRequest(
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")));
  ASSERT_OK_AND_ASSIGN(
      HttpResponse none,
      client->Send({.url = "http://127.0.0.1:" + std::to_string(plain->port()) + "/"}));
  EXPECT_EQ(none.body, "ok");
  EXPECT_TRUE(none.trailers.empty());
}

// A hostile or broken server answering "100 Continue" forever used to make the client loop on
// interim responses at full speed, past the request's deadline.
TEST_F(HttpClientTest, EndlessInterimResponsesAreAProtocolError) {
  ASSERT_OK_AND_ASSIGN(auto raw, RawTcpServer::Start(RawTcpServer::RepeatAfterRequest(
                                     "HTTP/1.1 100 Continue\r\n\r\n", milliseconds(0))));
  auto client = MakeClient();
  ASSERT_TRUE(client);
  const std::string url = "http://127.0.0.1:" + std::to_string(raw->port()) + "/v1/traces";
  auto resp = client->Send({.method = "POST", .url = url, .body = "batch", .timeout = kWait});
  EXPECT_THAT(resp, StatusIs(StatusCode::kInternal,
                             AllOf(HasSubstr("more than " + std::to_string(kMaxInterimResponses) +
                                             " interim (1xx) responses"),
                                   HasSubstr(url))));
  EXPECT_FALSE(resp.status().retryable());
  EXPECT_EQ(client->idle_connections(), 0u);  // that connection is not pooled
}

TEST_F(HttpClientTest, SlowInterimResponsesCountAgainstTheDeadline) {
  ASSERT_OK_AND_ASSIGN(auto raw, RawTcpServer::Start(RawTcpServer::RepeatAfterRequest(
                                     "HTTP/1.1 102 Processing\r\n\r\n", milliseconds(20))));
  auto client = MakeClient();
  ASSERT_TRUE(client);
  auto resp = client->Send({.url = "http://127.0.0.1:" + std::to_string(raw->port()) + "/",
                            .timeout = milliseconds(200)});
  EXPECT_THAT(resp,
              StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("request timed out after 200 ms")));
}

TEST_F(HttpClientTest, AFewInterimResponsesThenTheFinalOne) {
  ASSERT_OK_AND_ASSIGN(auto raw,
                       RawTcpServer::Start(RawTcpServer::ReplyAfterRequest(
                           "HTTP/1.1 100 Continue\r\n\r\n"
                           "HTTP/1.1 102 Processing\r\n\r\n"
                           "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                           "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Final: yes\r\n\r\nok")));
  auto client = MakeClient();
  ASSERT_TRUE(client);
  ASSERT_OK_AND_ASSIGN(
      HttpResponse resp,
      client->Send({.url = "http://127.0.0.1:" + std::to_string(raw->port()) + "/"}));
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, "ok");
  EXPECT_EQ(resp.Header("x-final"), "yes");
  EXPECT_EQ(resp.Header("link"), std::nullopt);  // interim headers are not the response's

  // Exactly the limit is still fine.
  std::string at_limit;
  for (int i = 0; i < kMaxInterimResponses; ++i) at_limit += "HTTP/1.1 100 Continue\r\n\r\n";
  ASSERT_OK_AND_ASSIGN(auto limit, RawTcpServer::Start(RawTcpServer::ReplyAfterRequest(
                                       at_limit + "HTTP/1.1 204 No Content\r\n\r\n")));
  ASSERT_OK_AND_ASSIGN(
      HttpResponse last,
      client->Send({.url = "http://127.0.0.1:" + std::to_string(limit->port()) + "/"}));
  EXPECT_EQ(last.status, 204);
}

TEST_F(HttpClientTest, UrlCredentialsAreSentAsBasicAuth) {
  auto server = StartServer([](const ServerRequest& req, ServerResponse& res) {
    res.body = std::string(req.Header("Authorization").value_or("<none>"));
  });
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  const std::string authority = "127.0.0.1:" + std::to_string(server->port());
  // "user:p@ss", percent-encoded in the URL.
  ASSERT_OK_AND_ASSIGN(HttpResponse basic,
                       client->Send({.url = "http://user:p%40ss@" + authority + "/"}));
  EXPECT_EQ(basic.body, "Basic dXNlcjpwQHNz");
  ASSERT_OK_AND_ASSIGN(HttpResponse token, client->Send({.url = "http://tok@" + authority}));
  EXPECT_EQ(token.body, "Basic dG9rOg==");  // "tok:"
  // The request's own Authorization header wins, whatever its case.
  ASSERT_OK_AND_ASSIGN(HttpResponse own,
                       client->Send({.url = "http://user:pass@" + authority + "/",
                                     .headers = {{"authorization", "Bearer abc"}}}));
  EXPECT_EQ(own.body, "Bearer abc");
  ASSERT_OK_AND_ASSIGN(HttpResponse anonymous, client->Send({.url = "http://" + authority}));
  EXPECT_EQ(anonymous.body, "<none>");
  // One pool per host: credentials do not split it.
  EXPECT_EQ(client->connections_opened(), 1u);
}

TEST_F(HttpClientTest, ErrorsNeverShowUrlCredentials) {
  auto client = MakeClient();
  ASSERT_TRUE(client);
  uint16_t closed_port = 0;
  {
    auto gone = StartServer(Echo);
    ASSERT_TRUE(gone);
    closed_port = gone->port();
  }
  auto refused =
      client->Send({.url = "http://user:hunter2@127.0.0.1:" + std::to_string(closed_port) + "/"});
  EXPECT_THAT(refused, StatusIs(StatusCode::kUnavailable,
                                AllOf(HasSubstr("connection refused"), Not(HasSubstr("hunter2")))));
  auto bad = client->Send({.url = "http://user:hunter2@127.0.0.1:0/"});
  EXPECT_THAT(bad, StatusIs(StatusCode::kInvalidArgument, Not(HasSubstr("hunter2"))));
}

TEST_F(HttpClientTest, OnlyHttp11MayBeOfferedByAlpn) {
  EXPECT_THAT(HttpClient::Create(client_runtime_, {.tls = {.alpn_protocols = {"h2"}}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("HTTP/1.1 only")));
  EXPECT_OK(HttpClient::Create(client_runtime_, {.tls = {.alpn_protocols = {"http/1.1"}}}));
}

TEST_F(HttpClientTest, InvalidRequestsFailWithoutNetworkIo) {
  auto client = MakeClient();
  ASSERT_TRUE(client);
  auto bad_url = client->Send({.url = "localhost:4318/v1/traces"});
  EXPECT_THAT(bad_url, StatusIs(StatusCode::kInvalidArgument, HasSubstr("missing scheme")));

  EXPECT_THAT(client->Send({.url = "wss://127.0.0.1:1/"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unsupported scheme 'wss'")));

  auto bad_method = client->Send({.method = "GET /x", .url = "http://127.0.0.1:1/"});
  EXPECT_THAT(bad_method, StatusIs(StatusCode::kInvalidArgument));

  auto injection =
      client->Send({.url = "http://127.0.0.1:1/", .headers = {{"X-A", "a\r\nX-Injected: 1"}}});
  EXPECT_THAT(injection, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(client->connections_opened(), 0u);
}

TEST_F(HttpClientTest, LargeBodyRoundTrip) {
  auto server = StartServer([](const ServerRequest& req, ServerResponse& res) {
    res.body = std::to_string(req.body.size()) + ":" + req.body.substr(req.body.size() - 8);
  });
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  std::string body(1'500'000, 'a');
  body.replace(body.size() - 8, 8, "THE-END!");
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(
        auto resp, client->Send({.method = "POST", .url = server->base_url() + "/", .body = body}));
    EXPECT_EQ(resp.body, "1500000:THE-END!");
  }
  EXPECT_EQ(client->connections_opened(), 1u);
}

TEST_F(HttpClientTest, ConcurrentSendsFromSeveralThreads) {
  server_runtime_ = Runtime::Create({.threads = 2});
  client_runtime_ = Runtime::Create({.threads = 2});
  auto server = StartServer(Echo);
  auto client = MakeClient({.max_idle_per_host = 8});
  ASSERT_TRUE(server && client);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string body = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto resp = client->Send({.method = "POST", .url = server->base_url() + "/", .body = body});
        if (resp.ok() && resp->body == body) ok.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_LE(client->connections_opened(), static_cast<uint64_t>(kThreads));
  EXPECT_GE(client->connections_opened(), 1u);
}

TEST_F(HttpClientTest, IdlePoolIsCappedPerHost) {
  std::mutex mu;
  std::vector<std::shared_ptr<Responder>> parked;
  // Holds replies until three requests are in flight, forcing three connections.
  auto server = StartServer([&](const ServerRequest&, ServerResponse& res) {
    std::lock_guard<std::mutex> lock(mu);
    parked.push_back(res.Defer());
    if (parked.size() == 3) {
      for (auto& r : parked) r->Send(200, {}, "ok");
      parked.clear();
    }
  });
  auto client = MakeClient({.max_idle_per_host = 1});
  ASSERT_TRUE(server && client);
  std::vector<std::future<Result<HttpResponse>>> results;
  for (int i = 0; i < 3; ++i) {
    results.push_back(std::async(std::launch::async,
                                 [&] { return client->Send({.url = server->base_url() + "/"}); }));
  }
  for (auto& f : results) {
    ASSERT_OK_AND_ASSIGN(auto resp, f.get());
    EXPECT_EQ(resp.body, "ok");
  }
  EXPECT_EQ(client->connections_opened(), 3u);
  EXPECT_EQ(client->idle_connections(), 1u);
}

TEST_F(HttpClientTest, IdleConnectionsExpire) {
  auto server = StartServer(Echo);
  auto client = MakeClient({.idle_timeout = milliseconds(20)});
  ASSERT_TRUE(server && client);
  ASSERT_OK(client->Send({.url = server->base_url() + "/"}));
  EXPECT_TRUE(WaitUntil([&] { return client->idle_connections() == 0; }));
  ASSERT_OK(client->Send({.url = server->base_url() + "/"}));
  EXPECT_EQ(client->connections_opened(), 2u);
}

TEST_F(HttpClientTest, SendAsyncCallsBackOnIoThread) {
  auto server = StartServer(Echo);
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  auto done = std::make_shared<std::promise<std::pair<bool, int>>>();
  client->SendAsync({.url = server->base_url() + "/"},
                    [done, rt = client_runtime_.get()](Result<HttpResponse> r) {
                      done->set_value({rt->InIoThread(), r.ok() ? r->status : -1});
                    });
  auto future = done->get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  auto [in_io, status] = future.get();
  EXPECT_TRUE(in_io);
  EXPECT_EQ(status, 200);
}

TEST_F(HttpClientTest, SendAsyncReportsBadUrlThroughCallback) {
  auto client = MakeClient();
  ASSERT_TRUE(client);
  auto done = std::make_shared<std::promise<StatusCode>>();
  client->SendAsync({.url = "nonsense"},
                    [done](Result<HttpResponse> r) { done->set_value(r.status().code()); });
  auto future = done->get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(future.get(), StatusCode::kInvalidArgument);
}

TEST_F(HttpClientTest, SendOnIoThreadFailsInsteadOfDeadlocking) {
  auto client = MakeClient();
  ASSERT_TRUE(client);
  auto done = std::make_shared<std::promise<Status>>();
  HttpClient* raw = client.get();
  client_runtime_->Post(
      [raw, done] { done->set_value(raw->Send({.url = "http://127.0.0.1:1/"}).status()); });
  auto future = done->get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  Status status = future.get();
  EXPECT_THAT(status, StatusIs(StatusCode::kFailedPrecondition, HasSubstr("SendAsync")));
}

TEST_F(HttpClientTest, DestroyingClientCancelsRequestsInFlight) {
  ASSERT_OK_AND_ASSIGN(auto server,
                       ScriptedHttpServer::Start({.default_reply = ScriptedReply::Hang()}));
  auto client = MakeClient();
  ASSERT_TRUE(client);
  auto done = std::make_shared<std::promise<StatusCode>>();
  client->SendAsync({.url = server->Url("/")},
                    [done](Result<HttpResponse> r) { done->set_value(r.status().code()); });
  ASSERT_TRUE(server->WaitForRequests(1, kWait));
  client.reset();
  auto future = done->get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(future.get(), StatusCode::kCancelled);
}

TEST_F(HttpClientTest, ShutdownCancelsRequestsInFlightAndRefusesNewOnes) {
  ASSERT_OK_AND_ASSIGN(auto server,
                       ScriptedHttpServer::Start({.default_reply = ScriptedReply::Hang()}));
  auto client = MakeClient();
  ASSERT_TRUE(client);
  auto done = std::make_shared<std::promise<StatusCode>>();
  client->SendAsync({.url = server->Url("/")},
                    [done](Result<HttpResponse> r) { done->set_value(r.status().code()); });
  ASSERT_TRUE(server->WaitForRequests(1, kWait));
  client->Shutdown();
  auto future = done->get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(future.get(), StatusCode::kCancelled);
  auto later = client->Send({.url = server->Url("/")});
  EXPECT_THAT(later, StatusIs(StatusCode::kCancelled));
  client->Shutdown();  // idempotent
}

TEST_F(HttpClientTest, Ipv6Loopback) {
  auto server = HttpServer::Start(server_runtime_, {.host = "::1"}, Echo);
  if (!server.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << server.status().ToString();
  auto client = MakeClient();
  ASSERT_TRUE(client);
  const std::string url = "http://[::1]:" + std::to_string((*server)->port()) + "/six";
  EXPECT_EQ((*server)->base_url(), "http://[::1]:" + std::to_string((*server)->port()));
  ASSERT_OK_AND_ASSIGN(auto resp, client->Send({.url = url}));
  EXPECT_EQ(resp.Header("X-Host"), "[::1]:" + std::to_string((*server)->port()));
  EXPECT_EQ(resp.Header("X-Target"), "/six");
}

TEST_F(HttpClientTest, LocalhostIsResolved) {
  auto server = StartServer(Echo);
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  auto resp = client->Send({.url = "http://localhost:" + std::to_string(server->port()) + "/"});
  // localhost may resolve to ::1 first; the client must fall back to 127.0.0.1.
  ASSERT_OK(resp);
  EXPECT_EQ(resp->status, 200);
}

}  // namespace
}  // namespace otlp::net
