#include "otlp/net/http_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "otlp/net/http_server.h"
#include "tests/support/connect_proxy.h"
#include "tests/support/raw_tcp_server.h"
#include "tests/support/scripted_http_server.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

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

TEST_F(HttpClientTest, OnlyHttp11AndH2MayBeOfferedByAlpn) {
  EXPECT_THAT(HttpClient::Create(client_runtime_, {.tls = {.alpn_protocols = {"spdy/3.1"}}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'spdy/3.1'")));
  EXPECT_OK(HttpClient::Create(client_runtime_, {.tls = {.alpn_protocols = {"http/1.1"}}}));
  EXPECT_OK(HttpClient::Create(client_runtime_, {.tls = {.alpn_protocols = {"h2", "http/1.1"}}}));
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

// ---------------------------------------------------------------------------------------------
// Error kinds, timeouts, response metadata, streaming, per-host limit, proxies.

namespace otlp::net {
namespace {

HttpErrorKind KindOf(const Result<HttpResponse>& result) {
  return HttpErrorKindOf(result.status());
}

std::string LocalUrl(uint16_t port, std::string_view path = "/") {
  return "http://127.0.0.1:" + std::to_string(port) + std::string(path);
}

bool SendAllTo(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string ReadRequestHead(int fd) {
  std::string data;
  char buf[4096];
  while (data.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

// Blocks until the client closes the connection (or the socket's 10 s timeout).
void WaitForClientToLeave(int fd) {
  char buf[256];
  while (::recv(fd, buf, sizeof(buf), 0) > 0) {
  }
}

TEST(HttpErrorKindTest, NamesAreStable) {
  EXPECT_EQ(HttpErrorKindName(HttpErrorKind::kConnectTimeout), "connect_timeout");
  EXPECT_EQ(HttpErrorKindName(HttpErrorKind::kIdleTimeout), "idle_timeout");
  EXPECT_EQ(HttpErrorKindName(HttpErrorKind::kProxy), "proxy");
  EXPECT_EQ(HttpErrorKindName(static_cast<HttpErrorKind>(999)), "unknown");
  EXPECT_EQ(HttpErrorKindOf(Status::Ok()), HttpErrorKind::kNone);
  EXPECT_EQ(static_cast<uint16_t>(HttpErrorKind::kRequestTimeout), 3);
}

TEST_F(HttpClientTest, EveryFailureCarriesItsKind) {
  auto client = MakeClient({.max_response_body = 10});
  ASSERT_TRUE(client);

  ASSERT_OK_AND_ASSIGN(uint16_t unused, test::PickUnusedPort());
  auto refused = client->Send({.url = LocalUrl(unused)});
  EXPECT_THAT(refused, StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(KindOf(refused), HttpErrorKind::kConnectionRefused);

  auto dns = client->Send({.url = "http://no-such-host.invalid/", .timeout = kWait});
  EXPECT_THAT(dns, StatusIs(StatusCode::kUnavailable, HasSubstr("no-such-host.invalid")));
  EXPECT_EQ(KindOf(dns), HttpErrorKind::kDnsFailure);

  ASSERT_OK_AND_ASSIGN(
      auto garbage,
      RawTcpServer::Start(RawTcpServer::ReplyAfterRequest("SSH-2.0-OpenSSH_9.2\r\n\r\n")));
  auto protocol = client->Send({.url = LocalUrl(garbage->port())});
  EXPECT_EQ(KindOf(protocol), HttpErrorKind::kProtocol);

  ASSERT_OK_AND_ASSIGN(auto big, RawTcpServer::Start(RawTcpServer::ReplyAfterRequest(
                                     "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n01234567890")));
  auto too_large = client->Send({.url = LocalUrl(big->port())});
  EXPECT_THAT(too_large, StatusIs(StatusCode::kResourceExhausted));
  EXPECT_EQ(KindOf(too_large), HttpErrorKind::kTooLarge);

  ASSERT_OK_AND_ASSIGN(auto closer, RawTcpServer::Start(RawTcpServer::CloseAfterRequest()));
  auto closed = client->Send({.url = LocalUrl(closer->port())});
  EXPECT_THAT(closed, StatusIs(StatusCode::kUnavailable, HasSubstr("before a response")));
  EXPECT_EQ(KindOf(closed), HttpErrorKind::kConnectionReset);

  // An abortive close (SO_LINGER 0) sends a TCP reset.
  ASSERT_OK_AND_ASSIGN(auto resetter, RawTcpServer::Start([](int fd) {
                         ReadRequestHead(fd);
                         linger hard{.l_onoff = 1, .l_linger = 0};
                         ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
                       }));
  auto reset = client->Send({.url = LocalUrl(resetter->port())});
  EXPECT_THAT(reset, StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(KindOf(reset), HttpErrorKind::kConnectionReset);

  auto invalid = client->Send({.url = "ftp://127.0.0.1/"});
  EXPECT_EQ(KindOf(invalid), HttpErrorKind::kInvalidRequest);
  auto bad_proxy = client->Send({.url = LocalUrl(1), .proxy = "socks5://127.0.0.1:1080"});
  EXPECT_THAT(bad_proxy, StatusIs(StatusCode::kInvalidArgument, HasSubstr("proxy")));
  EXPECT_EQ(KindOf(bad_proxy), HttpErrorKind::kInvalidRequest);

  client->Shutdown();
  auto cancelled = client->Send({.url = LocalUrl(unused)});
  EXPECT_EQ(KindOf(cancelled), HttpErrorKind::kCancelled);
}

TEST_F(HttpClientTest, RequestTimeoutAndConnectTimeoutAreDistinct) {
  ASSERT_OK_AND_ASSIGN(auto server,
                       ScriptedHttpServer::Start({.default_reply = ScriptedReply::Hang()}));
  auto client = MakeClient({.connect_timeout = milliseconds(200)});
  ASSERT_TRUE(client);
  auto whole = client->Send({.url = server->Url("/"), .timeout = milliseconds(200)});
  EXPECT_THAT(whole, StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("request timed out")));
  EXPECT_EQ(KindOf(whole), HttpErrorKind::kRequestTimeout);

  // A peer that accepts TCP but never answers the TLS ClientHello: the connect timeout (which
  // covers the handshake) fires long before the request's deadline.
  ASSERT_OK_AND_ASSIGN(auto silent, RawTcpServer::Start(WaitForClientToLeave));
  auto handshake = client->Send(
      {.url = "https://127.0.0.1:" + std::to_string(silent->port()) + "/", .timeout = kWait});
  EXPECT_THAT(handshake, StatusIs(StatusCode::kDeadlineExceeded,
                                  AllOf(HasSubstr("timed out after 200 ms"), HasSubstr("TLS"))));
  EXPECT_EQ(KindOf(handshake), HttpErrorKind::kConnectTimeout);
}

TEST_F(HttpClientTest, IdleTimeoutFiresOnSilenceNotOnASlowSteadyBody) {
  // Headers and half the body, then silence.
  ASSERT_OK_AND_ASSIGN(auto stalls, RawTcpServer::Start([](int fd) {
                         ReadRequestHead(fd);
                         SendAllTo(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345");
                         WaitForClientToLeave(fd);
                       }));
  // Ten bytes, 40 ms apart: slower in total than the idle timeout, but never silent that long.
  ASSERT_OK_AND_ASSIGN(auto trickles, RawTcpServer::Start([](int fd) {
                         ReadRequestHead(fd);
                         SendAllTo(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
                         for (char c = '0'; c <= '9'; ++c) {
                           std::this_thread::sleep_for(milliseconds(40));
                           if (!SendAllTo(fd, std::string_view(&c, 1))) return;
                         }
                       }));
  auto client = MakeClient({.idle_timeout_between_bytes = milliseconds(300)});
  ASSERT_TRUE(client);
  auto idle = client->Send({.url = LocalUrl(stalls->port()), .timeout = kWait});
  EXPECT_THAT(
      idle, StatusIs(StatusCode::kDeadlineExceeded, AllOf(HasSubstr("300 ms (idle timeout)"),
                                                          HasSubstr("waiting for the response"))));
  EXPECT_TRUE(idle.status().retryable());
  EXPECT_EQ(KindOf(idle), HttpErrorKind::kIdleTimeout);

  // The request's own idle timeout overrides the client's.
  auto per_request = client->Send(
      {.url = LocalUrl(stalls->port()), .timeout = kWait, .idle_timeout = milliseconds(100)});
  EXPECT_THAT(per_request, StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("100 ms")));
  EXPECT_EQ(KindOf(per_request), HttpErrorKind::kIdleTimeout);

  ASSERT_OK_AND_ASSIGN(auto slow, client->Send({.url = LocalUrl(trickles->port()),
                                                .timeout = kWait,
                                                .idle_timeout = milliseconds(300)}));
  EXPECT_EQ(slow.body, "0123456789");

  // When the whole deadline comes first, it is a request timeout.
  auto deadline = client->Send({.url = LocalUrl(stalls->port()), .timeout = milliseconds(150)});
  EXPECT_EQ(KindOf(deadline), HttpErrorKind::kRequestTimeout);
}

// A client on a caller-driven runtime (what otlp::http::Client and the OTLP exporter use): once
// a keep-alive connection is pooled, a request runs on the calling thread with blocking calls
// (HttpClient::SendFromCaller). The same behaviour as the asynchronous path is expected of it.
class CallerDrivenHttpClientTest : public HttpClientTest {
 protected:
  void SetUp() override {
    HttpClientTest::SetUp();
    client_runtime_ = Runtime::CreateCallerDriven();
  }

  // A request that pools a keep-alive connection to `url`'s server.
  static void Prime(HttpClient& client, const std::string& url) {
    ASSERT_OK_AND_ASSIGN(HttpResponse first, client.Send({.url = url}));
    EXPECT_EQ(first.status, 200);
    EXPECT_EQ(client.idle_connections(), 1u);
  }
};

TEST_F(CallerDrivenHttpClientTest, PooledRequestsFinishBeforeSendFromCallerReturns) {
  auto server = StartServer(Echo);
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  Prime(*client, server->base_url() + "/");
  for (int i = 0; i < 5; ++i) {
    std::optional<Result<HttpResponse>> result;
    client->SendFromCaller(
        {.method = "POST", .url = server->base_url() + "/x", .body = "body " + std::to_string(i)},
        [&](Result<HttpResponse> r) { result.emplace(std::move(r)); });
    ASSERT_TRUE(result.has_value()) << "request " << i << " did not run on the calling thread";
    ASSERT_OK(*result);
    EXPECT_EQ((*result)->body, "body " + std::to_string(i));
    EXPECT_EQ((*result)->Header("X-Target"), "/x");
    EXPECT_TRUE((*result)->connection_reused);
    EXPECT_GT((*result)->timings.first_byte.count(), 0);
  }
  EXPECT_EQ(client->connections_opened(), 1u);
  EXPECT_EQ(client->idle_connections(), 1u);
}

TEST_F(CallerDrivenHttpClientTest, DeadKeepAliveConnectionIsReplacedAndTheRequestResent) {
  std::atomic<int> seen{0};
  auto server = StartServer([&](const ServerRequest& req, ServerResponse& res) {
    // The 2nd request arrives on the reused connection and is dropped unanswered.
    if (seen.fetch_add(1) + 1 == 2) {
      res.close_connection = true;
      return;
    }
    res.body = req.body;
  });
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  Prime(*client, server->base_url() + "/");
  ASSERT_OK_AND_ASSIGN(
      auto resp, client->Send({.method = "POST", .url = server->base_url() + "/", .body = "B"}));
  EXPECT_EQ(resp.body, "B");
  EXPECT_EQ(seen.load(), 3);
  EXPECT_EQ(client->connections_opened(), 2u);

  // Closed by the server while idle: noticed (or failed before a response byte) and resent.
  server->CloseIdleConnections();
  ASSERT_OK_AND_ASSIGN(
      resp, client->Send({.method = "POST", .url = server->base_url() + "/", .body = "C"}));
  EXPECT_EQ(resp.body, "C");
  EXPECT_EQ(client->connections_opened(), 3u);
}

TEST_F(CallerDrivenHttpClientTest, RequestTimeoutAndIdleTimeoutStayDistinct) {
  // Each connection: one answered request, then the head and half the body of the second and
  // silence.
  ASSERT_OK_AND_ASSIGN(auto stalls, RawTcpServer::Start([](int fd) {
                         ReadRequestHead(fd);
                         SendAllTo(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                         ReadRequestHead(fd);
                         SendAllTo(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345");
                         WaitForClientToLeave(fd);
                       }));
  auto client = MakeClient({.idle_timeout_between_bytes = milliseconds(200)});
  ASSERT_TRUE(client);
  const std::string url = LocalUrl(stalls->port());
  Prime(*client, url);
  auto idle = client->Send({.url = url, .timeout = kWait});
  EXPECT_THAT(idle, StatusIs(StatusCode::kDeadlineExceeded,
                             AllOf(HasSubstr("200 ms (idle timeout)"),
                                   HasSubstr("waiting for the response"))));
  EXPECT_EQ(KindOf(idle), HttpErrorKind::kIdleTimeout);
  EXPECT_TRUE(idle.status().retryable());

  Prime(*client, url);
  const auto start = std::chrono::steady_clock::now();
  auto deadline = client->Send({.url = url, .timeout = milliseconds(100)});
  EXPECT_THAT(deadline, StatusIs(StatusCode::kDeadlineExceeded,
                                 AllOf(HasSubstr("timed out after 100 ms"),
                                       HasSubstr("waiting for the response"))));
  EXPECT_EQ(KindOf(deadline), HttpErrorKind::kRequestTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2000));
  EXPECT_EQ(client->idle_connections(), 0u);  // a timed-out connection is not pooled
}

TEST_F(CallerDrivenHttpClientTest, CancelAndShutdownWakeABlockedRequest) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  auto client = MakeClient();
  ASSERT_TRUE(client);
  Prime(*client, server->Url("/"));
  server->EnqueueAll({ScriptedReply{}, ScriptedReply::Hang(), ScriptedReply{}, ScriptedReply::Hang()});
  Prime(*client, server->Url("/"));

  auto cancel = CancelSignal::Create();
  std::thread canceller([&] {
    if (server->WaitForRequests(3, kWait)) cancel->Cancel();
  });
  auto start = std::chrono::steady_clock::now();
  auto cancelled = client->Send({.url = server->Url("/hang"), .timeout = kWait, .cancel = cancel});
  canceller.join();
  EXPECT_THAT(cancelled, StatusIs(StatusCode::kCancelled, HasSubstr("request cancelled")));
  EXPECT_EQ(KindOf(cancelled), HttpErrorKind::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(client->idle_connections(), 0u);

  Prime(*client, server->Url("/"));
  std::thread stopper([&] {
    if (server->WaitForRequests(5, kWait)) client->Shutdown();
  });
  start = std::chrono::steady_clock::now();
  auto shut = client->Send({.url = server->Url("/hang"), .timeout = kWait});
  stopper.join();
  EXPECT_THAT(shut, StatusIs(StatusCode::kCancelled));
  EXPECT_EQ(KindOf(shut), HttpErrorKind::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_THAT(client->Send({.url = server->Url("/")}), StatusIs(StatusCode::kCancelled));
}

TEST_F(CallerDrivenHttpClientTest, IdleConnectionsExpireWhenThePoolNextLooks) {
  auto server = StartServer(Echo);
  auto client = MakeClient({.idle_timeout = milliseconds(30)});
  ASSERT_TRUE(server && client);
  Prime(*client, server->base_url() + "/");
  std::this_thread::sleep_for(milliseconds(80));
  ASSERT_OK_AND_ASSIGN(auto resp, client->Send({.url = server->base_url() + "/"}));
  EXPECT_FALSE(resp.connection_reused);
  EXPECT_EQ(client->connections_opened(), 2u);
}

TEST_F(CallerDrivenHttpClientTest, TlsKeepAliveRequestsRunOnTheCallingThread) {
  test::TempDir dir("otlp-http-client-test-");
  ASSERT_TRUE(dir.ok()) << dir.error();
  ASSERT_OK_AND_ASSIGN(auto pki, test::GenerateTestPki(dir.path()));
  auto server = StartServer(Echo, {.tls = ServerTlsOptions{.certificate_file = pki.server_cert_file,
                                                           .key_file = pki.server_key_file}});
  auto client = MakeClient({.tls = {.ca_file = pki.ca_cert_file}});
  ASSERT_TRUE(server && client);
  const std::string url = "https://localhost:" + std::to_string(server->port()) + "/";
  Prime(*client, url);
  const std::string big(300 * 1024, 'b');  // many TLS records each way
  for (int i = 0; i < 3; ++i) {
    std::optional<Result<HttpResponse>> result;
    client->SendFromCaller({.method = "POST", .url = url, .body = big},
                           [&](Result<HttpResponse> r) { result.emplace(std::move(r)); });
    ASSERT_TRUE(result.has_value());
    ASSERT_OK(*result);
    EXPECT_EQ((*result)->body, big);
    EXPECT_TRUE((*result)->connection_reused);
  }
  EXPECT_EQ(client->connections_opened(), 1u);
}

class HttpClientTlsTest : public HttpClientTest {
 protected:
  void SetUp() override {
    HttpClientTest::SetUp();
    ASSERT_TRUE(dir_.ok()) << dir_.error();
    ASSERT_OK_AND_ASSIGN(pki_, test::GenerateTestPki(dir_.path()));
  }
  std::unique_ptr<HttpServer> StartTlsServer(HttpServer::Handler handler) {
    return StartServer(std::move(handler),
                       {.tls = ServerTlsOptions{.certificate_file = pki_.server_cert_file,
                                                .key_file = pki_.server_key_file}});
  }
  test::TempDir dir_{"otlp-http-client-test-"};
  test::TestPki pki_;
};

TEST_F(HttpClientTlsTest, TlsFailuresHaveTheirKinds) {
  auto tls_server = StartTlsServer(Echo);
  auto plain_server = StartServer(Echo);
  auto wrong_ca = MakeClient({.tls = {.ca_file = pki_.other_ca_cert_file}});
  ASSERT_TRUE(tls_server && plain_server && wrong_ca);
  const std::string port = std::to_string(tls_server->port());
  auto certificate = wrong_ca->Send({.url = "https://127.0.0.1:" + port + "/"});
  EXPECT_THAT(certificate, StatusIs(StatusCode::kPermissionDenied));
  EXPECT_EQ(KindOf(certificate), HttpErrorKind::kCertificate);

  auto handshake =
      wrong_ca->Send({.url = "https://127.0.0.1:" + std::to_string(plain_server->port()) + "/"});
  EXPECT_THAT(handshake, StatusIs(StatusCode::kUnavailable, HasSubstr("TLS")));
  EXPECT_FALSE(handshake.status().retryable());
  EXPECT_EQ(KindOf(handshake), HttpErrorKind::kTlsHandshake);
}

TEST_F(HttpClientTlsTest, ResponseCarriesVersionTimingsAndReuse) {
  auto server = StartTlsServer(Echo);
  auto client = MakeClient({.tls = {.ca_file = pki_.ca_cert_file}});
  ASSERT_TRUE(server && client);
  const std::string url = "https://localhost:" + std::to_string(server->port()) + "/";
  ASSERT_OK_AND_ASSIGN(HttpResponse first, client->Send({.url = url}));
  EXPECT_EQ(first.version, "1.1");
  EXPECT_FALSE(first.connection_reused);
  EXPECT_GT(first.timings.dns.count(), 0);
  EXPECT_GT(first.timings.connect.count(), 0);
  EXPECT_GT(first.timings.tls.count(), 0);
  EXPECT_GT(first.timings.first_byte.count(), 0);
  EXPECT_GE(first.timings.total, first.timings.first_byte);
  EXPECT_GE(first.timings.first_byte,
            first.timings.dns + first.timings.connect + first.timings.tls);

  ASSERT_OK_AND_ASSIGN(HttpResponse second, client->Send({.url = url}));
  EXPECT_TRUE(second.connection_reused);
  EXPECT_EQ(second.timings.dns.count(), 0);
  EXPECT_EQ(second.timings.connect.count(), 0);
  EXPECT_EQ(second.timings.tls.count(), 0);
  EXPECT_GT(second.timings.first_byte.count(), 0);
  EXPECT_EQ(client->connections_opened(), 1u);
}

TEST_F(HttpClientTest, PlainIpResponseHasNoDnsOrTlsTime) {
  auto server = StartServer(Echo);
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  ASSERT_OK_AND_ASSIGN(HttpResponse resp, client->Send({.url = server->base_url() + "/"}));
  EXPECT_EQ(resp.timings.dns.count(), 0);
  EXPECT_EQ(resp.timings.tls.count(), 0);
  EXPECT_GT(resp.timings.connect.count(), 0);
  ASSERT_OK_AND_ASSIGN(auto old, RawTcpServer::Start(RawTcpServer::ReplyAfterRequest(
                                     "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")));
  ASSERT_OK_AND_ASSIGN(HttpResponse ten, client->Send({.url = LocalUrl(old->port())}));
  EXPECT_EQ(ten.version, "1.0");
}

// A source handing out `total` bytes of a repeating pattern, `piece` at most per call.
HttpRequest::BodySource PatternSource(uint64_t total, size_t piece, std::atomic<int>* calls) {
  auto offset = std::make_shared<uint64_t>(0);
  return [=](char* buffer, size_t capacity) -> Result<size_t> {
    if (calls) calls->fetch_add(1);
    const size_t n = static_cast<size_t>(std::min<uint64_t>({total - *offset, capacity, piece}));
    for (size_t i = 0; i < n; ++i) buffer[i] = static_cast<char>('a' + (*offset + i) % 26);
    *offset += n;
    return n;
  };
}

std::string Pattern(size_t n) {
  std::string s(n, ' ');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

TEST_F(HttpClientTest, StreamedUploadWithKnownLengthAndChunked) {
  auto server = StartServer([](const ServerRequest& req, ServerResponse& res) {
    res.headers = {
        {"X-Content-Length", std::string(req.Header("Content-Length").value_or("<none>"))},
        {"X-Transfer-Encoding", std::string(req.Header("Transfer-Encoding").value_or("<none>"))}};
    res.body = req.body == Pattern(req.body.size()) ? std::to_string(req.body.size()) : "corrupt";
  });
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  constexpr uint64_t kSize = 1'000'003;
  std::atomic<int> calls{0};
  std::vector<HttpProgress> progress;
  ASSERT_OK_AND_ASSIGN(
      HttpResponse sized,
      client->Send({.method = "PUT",
                    .url = server->base_url() + "/",
                    .body_source = PatternSource(kSize, 10'000, &calls),
                    .body_length = kSize,
                    .on_progress = [&](const HttpProgress& p) { progress.push_back(p); }}));
  EXPECT_EQ(sized.body, std::to_string(kSize));
  EXPECT_EQ(sized.Header("X-Content-Length"), std::to_string(kSize));
  EXPECT_EQ(sized.Header("X-Transfer-Encoding"), "<none>");
  EXPECT_GE(calls.load(), 100);  // pulled piece by piece
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().sent, kSize);
  EXPECT_EQ(progress.back().send_total, kSize);
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end(),
                             [](const auto& a, const auto& b) { return a.sent < b.sent; }));

  ASSERT_OK_AND_ASSIGN(HttpResponse chunked,
                       client->Send({.method = "POST",
                                     .url = server->base_url() + "/",
                                     .body_source = PatternSource(kSize, 70'000, nullptr)}));
  EXPECT_EQ(chunked.body, std::to_string(kSize));
  EXPECT_EQ(chunked.Header("X-Content-Length"), "<none>");
  EXPECT_EQ(chunked.Header("X-Transfer-Encoding"), "chunked");
  // An empty chunked body is just the last chunk.
  ASSERT_OK_AND_ASSIGN(HttpResponse empty,
                       client->Send({.method = "POST",
                                     .url = server->base_url() + "/",
                                     .body_source = PatternSource(0, 1, nullptr)}));
  EXPECT_EQ(empty.body, "0");
  EXPECT_EQ(client->connections_opened(), 1u);  // framing stayed right for reuse
}

// A connection that went idle a moment ago is reused without peeking at its socket (the
// dropped-connection resend covers a server that closed it); a request whose body comes from a
// source cannot be resent, so it peeks and finds the close before sending.
TEST_F(HttpClientTest, StreamedBodyIsNotSentOnAConnectionTheServerClosedWhileIdle) {
  auto server = StartServer([](const ServerRequest& req, ServerResponse& res) {
    res.body = std::to_string(req.body.size());
  });
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  ASSERT_OK(client->Send({.url = server->base_url() + "/"}));
  server->CloseIdleConnections();
  std::atomic<int> calls{0};
  ASSERT_OK_AND_ASSIGN(HttpResponse resp,
                       client->Send({.method = "PUT",
                                     .url = server->base_url() + "/",
                                     .body_source = PatternSource(5000, 1000, &calls),
                                     .body_length = 5000}));
  EXPECT_EQ(resp.body, "5000");
  EXPECT_EQ(client->connections_opened(), 2u);
  EXPECT_EQ(server->requests_received(), 2u);  // nothing was sent on the closed connection
}

TEST_F(HttpClientTest, BrokenBodySourcesFailTheRequest) {
  auto server = StartServer(Echo);
  auto client = MakeClient();
  ASSERT_TRUE(server && client);
  auto failing = client->Send({.method = "POST",
                               .url = server->base_url() + "/",
                               .body_source = [](char*, size_t) -> Result<size_t> {
                                 return Status(StatusCode::kDataLoss, "disk read error");
                               }});
  EXPECT_THAT(failing, StatusIs(StatusCode::kDataLoss, HasSubstr("disk read error")));
  EXPECT_EQ(KindOf(failing), HttpErrorKind::kBodySource);

  auto short_source = client->Send({.method = "POST",
                                    .url = server->base_url() + "/",
                                    .body_source = PatternSource(10, 10, nullptr),
                                    .body_length = 20});
  EXPECT_THAT(short_source, StatusIs(StatusCode::kInvalidArgument, HasSubstr("10 of 20")));
  EXPECT_EQ(KindOf(short_source), HttpErrorKind::kBodySource);
  auto long_source = client->Send({.method = "POST",
                                   .url = server->base_url() + "/",
                                   .body_source = PatternSource(30, 30, nullptr),
                                   .body_length = 20});
  EXPECT_EQ(KindOf(long_source), HttpErrorKind::kBodySource);
  auto both = client->Send({.method = "POST",
                            .url = server->base_url() + "/",
                            .body = "x",
                            .body_source = PatternSource(1, 1, nullptr)});
  EXPECT_EQ(KindOf(both), HttpErrorKind::kInvalidRequest);
  // The client still works.
  EXPECT_OK(client->Send({.url = server->base_url() + "/"}));
}

// Serves `size` bytes of the pattern without ever holding them (Content-Length or chunked),
// then closes the connection.
RawTcpServer::Behavior StreamingServer(uint64_t size, bool chunked) {
  return [size, chunked](int fd) {
    ReadRequestHead(fd);
    std::string head = "HTTP/1.1 200 OK\r\nConnection: close\r\n";
    head += chunked ? "Transfer-Encoding: chunked\r\n\r\n"
                    : "Content-Length: " + std::to_string(size) + "\r\n\r\n";
    if (!SendAllTo(fd, head)) return;
    const std::string block = Pattern(26 * 2521);  // 65546 bytes, a whole number of patterns
    uint64_t sent = 0;
    while (sent < size) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(block.size(), size - sent));
      if (chunked) {
        char line[32];
        std::snprintf(line, sizeof(line), "%zx\r\n", n);
        if (!SendAllTo(fd, line)) return;
      }
      if (!SendAllTo(fd, std::string_view(block.data(), n))) return;
      if (chunked && !SendAllTo(fd, "\r\n")) return;
      sent += n;
    }
    if (chunked) SendAllTo(fd, "0\r\n\r\n");
  };
}

struct SinkStats {
  uint64_t bytes = 0;
  size_t chunks = 0;
  size_t largest = 0;
  bool pattern_ok = true;
};

HttpRequest::BodySink CountingSink(SinkStats& stats) {
  return [&stats](std::string_view chunk) {
    for (size_t i = 0; i < chunk.size(); i += 4093) {  // spot checks keep this fast
      if (chunk[i] != static_cast<char>('a' + (stats.bytes + i) % 26)) stats.pattern_ok = false;
    }
    stats.bytes += chunk.size();
    ++stats.chunks;
    stats.largest = std::max(stats.largest, chunk.size());
    return Status::Ok();
  };
}

TEST_F(HttpClientTest, StreamedDownloadIsNeverHeldInMemory) {
  constexpr uint64_t kSize = 300ull * 1024 * 1024;
  ASSERT_OK_AND_ASSIGN(auto server, RawTcpServer::Start(StreamingServer(kSize, false)));
  // max_response_body does not apply to a streamed body.
  auto client = MakeClient({.max_response_body = 1024});
  ASSERT_TRUE(client);
  SinkStats stats;
  HttpProgress last;
  size_t progress_calls = 0;
  ASSERT_OK_AND_ASSIGN(HttpResponse resp, client->Send({.url = LocalUrl(server->port(), "/big"),
                                                        .timeout = std::chrono::seconds(120),
                                                        .on_body = CountingSink(stats),
                                                        .on_progress = [&](const HttpProgress& p) {
                                                          last = p;
                                                          ++progress_calls;
                                                        }}));
  EXPECT_EQ(resp.status, 200);
  EXPECT_TRUE(resp.body.empty());
  EXPECT_EQ(stats.bytes, kSize);
  EXPECT_TRUE(stats.pattern_ok);
  // Delivered in pieces no larger than the connection's read buffer.
  EXPECT_GT(stats.chunks, 1000u);
  EXPECT_LE(stats.largest, 1024u * 1024u);
  EXPECT_EQ(last.received, kSize);
  EXPECT_EQ(last.receive_total, kSize);
  EXPECT_GT(progress_calls, 100u);
}

TEST_F(HttpClientTest, StreamedChunkedDownloadAndFailingSink) {
  constexpr uint64_t kSize = 8ull * 1024 * 1024 + 17;
  ASSERT_OK_AND_ASSIGN(auto server, RawTcpServer::Start(StreamingServer(kSize, true)));
  auto client = MakeClient();
  ASSERT_TRUE(client);
  SinkStats stats;
  HttpProgress last;
  ASSERT_OK_AND_ASSIGN(HttpResponse resp,
                       client->Send({.url = LocalUrl(server->port()),
                                     .on_body = CountingSink(stats),
                                     .on_progress = [&](const HttpProgress& p) { last = p; }}));
  EXPECT_TRUE(resp.body.empty());
  EXPECT_EQ(stats.bytes, kSize);
  EXPECT_TRUE(stats.pattern_ok);
  EXPECT_EQ(last.received, kSize);
  EXPECT_EQ(last.receive_total, std::nullopt);  // chunked: unknown until the end

  uint64_t taken = 0;
  auto stopped =
      client->Send({.url = LocalUrl(server->port()), .on_body = [&](std::string_view chunk) {
                      taken += chunk.size();
                      if (taken > 1024 * 1024) {
                        return Status(StatusCode::kResourceExhausted, "disk full");
                      }
                      return Status::Ok();
                    }});
  EXPECT_THAT(stopped, StatusIs(StatusCode::kResourceExhausted, HasSubstr("disk full")));
  EXPECT_EQ(KindOf(stopped), HttpErrorKind::kBodySink);
  EXPECT_EQ(client->idle_connections(), 0u);  // a half-read response is not reused
}

TEST_F(HttpClientTest, PerHostLimitQueuesRequestsInOrder) {
  std::mutex mu;
  std::vector<std::shared_ptr<Responder>> parked;
  std::vector<std::string> order;
  auto server = StartServer([&](const ServerRequest& req, ServerResponse& res) {
    std::lock_guard<std::mutex> lock(mu);
    order.emplace_back(req.Header("X-Index").value_or("?"));
    parked.push_back(res.Defer());
  });
  auto client = MakeClient({.max_connections_per_host = 2});
  ASSERT_TRUE(server && client);
  constexpr int kRequests = 6;
  std::vector<std::shared_ptr<std::promise<Result<HttpResponse>>>> results;
  for (int i = 0; i < kRequests; ++i) {
    auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
    results.push_back(promise);
    client->SendAsync(
        {.url = server->base_url() + "/", .headers = {{"X-Index", std::to_string(i)}}},
        [promise](Result<HttpResponse> r) { promise->set_value(std::move(r)); });
  }
  auto parked_count = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return parked.size();
  };
  ASSERT_TRUE(WaitUntil([&] { return parked_count() == 2; }));
  // Give a third connection the chance to appear if the limit did not hold.
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(parked_count(), 2u);
  EXPECT_EQ(server->connections_accepted(), 2u);
  for (int answered = 0; answered < kRequests; ++answered) {
    ASSERT_TRUE(WaitUntil([&] { return parked_count() > 0; }));
    std::shared_ptr<Responder> next;
    {
      std::lock_guard<std::mutex> lock(mu);
      next = parked.front();
      parked.erase(parked.begin());
    }
    next->Send(200, {}, "ok");
  }
  for (auto& promise : results) {
    auto future = promise->get_future();
    ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
    ASSERT_OK(future.get());
  }
  EXPECT_EQ(client->connections_opened(), 2u);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(order.size(), static_cast<size_t>(kRequests));
  // The first two went out at once; the rest in the order they were sent.
  EXPECT_EQ(std::vector<std::string>(order.begin() + 2, order.end()),
            (std::vector<std::string>{"2", "3", "4", "5"}));
}

TEST_F(HttpClientTest, WaitingForAConnectionCountsAgainstTheDeadline) {
  ASSERT_OK_AND_ASSIGN(auto server,
                       ScriptedHttpServer::Start({.default_reply = ScriptedReply::Hang()}));
  auto client = MakeClient({.max_connections_per_host = 1});
  ASSERT_TRUE(client);
  auto first = std::make_shared<std::promise<Status>>();
  client->SendAsync({.url = server->Url("/")},
                    [first](Result<HttpResponse> r) { first->set_value(r.status()); });
  ASSERT_TRUE(server->WaitForRequests(1, kWait));
  auto second = client->Send({.url = server->Url("/"), .timeout = milliseconds(150)});
  EXPECT_THAT(second,
              StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("waiting for a free connection")));
  EXPECT_EQ(KindOf(second), HttpErrorKind::kRequestTimeout);
  EXPECT_EQ(server->request_count(), 1u);
  // Shutting down cancels the one in flight and one that waits.
  auto third = std::make_shared<std::promise<Status>>();
  client->SendAsync({.url = server->Url("/")},
                    [third](Result<HttpResponse> r) { third->set_value(r.status()); });
  client->Shutdown();
  for (auto* p : {first.get(), third.get()}) {
    auto future = p->get_future();
    ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
    Status status = future.get();
    EXPECT_THAT(status, StatusIs(StatusCode::kCancelled));
    EXPECT_EQ(HttpErrorKindOf(status), HttpErrorKind::kCancelled);
  }
}

TEST_F(HttpClientTest, PlainHttpThroughAProxyUsesAbsoluteForm) {
  // The "proxy" is a server that records what it was asked.
  auto proxy = StartServer([](const ServerRequest& req, ServerResponse& res) {
    res.headers = {
        {"X-Target", req.target},
        {"X-Host", std::string(req.Header("Host").value_or("<none>"))},
        {"X-Proxy-Auth", std::string(req.Header("Proxy-Authorization").value_or("<none>"))}};
  });
  auto client = MakeClient();
  ASSERT_TRUE(proxy && client);
  const std::string proxy_url =
      "http://pu:pp@127.0.0.1:" + std::to_string(proxy->port());  // credentials: "pu:pp"
  ASSERT_OK_AND_ASSIGN(HttpResponse resp, client->Send({.url = "http://origin.test:8080/a/b?c=d",
                                                        .proxy = proxy_url}));
  EXPECT_EQ(resp.Header("X-Target"), "http://origin.test:8080/a/b?c=d");
  EXPECT_EQ(resp.Header("X-Host"), "origin.test:8080");
  EXPECT_EQ(resp.Header("X-Proxy-Auth"), "Basic cHU6cHA=");
  ASSERT_OK(client->Send({.url = "http://origin.test:8080/again", .proxy = proxy_url}));
  EXPECT_EQ(client->connections_opened(), 1u);  // the proxy connection is pooled
  // Errors name the origin URL, never the proxy's credentials.
  ASSERT_OK_AND_ASSIGN(uint16_t unused, test::PickUnusedPort());
  auto refused = client->Send({.url = "http://origin.test/",
                               .proxy = "http://pu:secret@127.0.0.1:" + std::to_string(unused)});
  EXPECT_THAT(refused, StatusIs(StatusCode::kUnavailable,
                                AllOf(HasSubstr("proxy 127.0.0.1"), Not(HasSubstr("secret")))));
}

TEST_F(HttpClientTlsTest, HttpsThroughAConnectTunnel) {
  auto server = StartTlsServer([](const ServerRequest& req, ServerResponse& res) {
    res.body = req.target + " " + std::string(req.Header("Host").value_or("<none>")) + " " +
               (req.Header("Proxy-Authorization") ? "leaked" : "clean");
  });
  ASSERT_OK_AND_ASSIGN(auto proxy,
                       test::ConnectProxy::Start({.required_authorization = "Basic cHU6cHA="}));
  auto client = MakeClient({.tls = {.ca_file = pki_.ca_cert_file}});
  ASSERT_TRUE(server && client);
  const std::string origin = "127.0.0.1:" + std::to_string(server->port());
  const std::string proxy_url = "http://pu:pp@127.0.0.1:" + std::to_string(proxy->port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(HttpResponse resp,
                         client->Send({.url = "https://" + origin + "/x", .proxy = proxy_url}));
    EXPECT_EQ(resp.status, 200);
    EXPECT_EQ(resp.body, "/x " + origin + " clean");
    if (i == 0) {
      EXPECT_GT(resp.timings.connect.count(), 0);
      EXPECT_GT(resp.timings.tls.count(), 0);
    } else {
      EXPECT_TRUE(resp.connection_reused);
    }
  }
  EXPECT_EQ(proxy->tunnels(), 1u);  // the tunnel is pooled like any connection
  EXPECT_EQ(client->connections_opened(), 1u);
  auto requests = proxy->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].request_line, "CONNECT " + origin + " HTTP/1.1");
  EXPECT_EQ(requests[0].headers.Find("Host"), origin);

  // Without the credentials the proxy answers 407.
  auto refused = client->Send({.url = "https://" + origin + "/x",
                               .proxy = "http://127.0.0.1:" + std::to_string(proxy->port())});
  EXPECT_THAT(refused, StatusIs(StatusCode::kUnavailable,
                                AllOf(HasSubstr("refused CONNECT"), HasSubstr("407"))));
  EXPECT_FALSE(refused.status().retryable());
  EXPECT_EQ(KindOf(refused), HttpErrorKind::kProxy);
}

TEST_F(HttpClientTlsTest, ProxyRefusingEveryTunnel) {
  ASSERT_OK_AND_ASSIGN(auto proxy, test::ConnectProxy::Start({.refuse_status = 503}));
  auto client = MakeClient({.tls = {.ca_file = pki_.ca_cert_file}});
  ASSERT_TRUE(client);
  auto resp = client->Send({.url = "https://127.0.0.1:1/", .proxy = proxy->url()});
  EXPECT_THAT(resp, StatusIs(StatusCode::kUnavailable, HasSubstr("HTTP 503")));
  EXPECT_TRUE(resp.status().retryable());
  EXPECT_EQ(KindOf(resp), HttpErrorKind::kProxy);
  EXPECT_EQ(client->idle_connections(), 0u);
}

}  // namespace
}  // namespace otlp::net
