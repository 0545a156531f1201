#include "otlp/net/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "otlp/core/log.h"
#include "otlp/net/http_client.h"
#include "tests/support/raw_tcp_server.h"
#include "tests/support/status_matchers.h"

namespace otlp::net {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr auto kWait = std::chrono::seconds(20);

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    runtime_ = Runtime::Create();
    client_runtime_ = Runtime::Create();
    ASSERT_OK_AND_ASSIGN(client_, HttpClient::Create(client_runtime_, {}));
  }

  std::unique_ptr<HttpServer> StartServer(HttpServer::Handler handler,
                                          HttpServer::Options options = {}) {
    auto server = HttpServer::Start(runtime_, std::move(options), std::move(handler));
    EXPECT_OK(server);
    return server.ok() ? std::move(*server) : nullptr;
  }

  static void Hello(const ServerRequest&, ServerResponse& res) {
    res.headers = {{"Content-Type", "text/plain"}};
    res.body = "hello";
  }

  std::shared_ptr<Runtime> runtime_;
  std::shared_ptr<Runtime> client_runtime_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(HttpServerTest, PassesRequestPartsToHandler) {
  ServerRequest seen;
  auto server = StartServer([&](const ServerRequest& req, ServerResponse& res) {
    seen = req;
    res.status = 201;
    res.headers = {{"X-Reply", "1"}};
    res.body = "created";
  });
  ASSERT_TRUE(server);
  ASSERT_OK_AND_ASSIGN(auto resp, client_->Send({.method = "PUT",
                                                 .url = server->base_url() + "/a/b?c=d",
                                                 .headers = {{"X-Test", "value"}},
                                                 .body = "the body"}));
  EXPECT_EQ(resp.status, 201);
  EXPECT_EQ(resp.Header("X-Reply"), "1");
  EXPECT_EQ(resp.Header("Server"), kUserAgent);
  EXPECT_EQ(resp.body, "created");
  EXPECT_EQ(seen.method, "PUT");
  EXPECT_EQ(seen.target, "/a/b?c=d");
  EXPECT_EQ(seen.Header("x-test"), "value");
  EXPECT_EQ(seen.body, "the body");
  EXPECT_THAT(seen.remote_address, StartsWith("127.0.0.1:"));
  EXPECT_FALSE(seen.tls);
  EXPECT_EQ(server->requests_received(), 1u);
}

TEST_F(HttpServerTest, AResponseHeaderTooLargeToSendBecomesA500) {
  auto server = StartServer(
      [](const ServerRequest&, ServerResponse& res) {
        res.headers = {{"X-Huge", std::string(70000, 'h')}};
        res.body = "never sent";
      },
      {.enable_http2 = false});
  ASSERT_TRUE(server);
  ASSERT_OK_AND_ASSIGN(auto resp, client_->Send({.url = server->base_url() + "/",
                                                 .timeout = std::chrono::seconds(20)}));
  EXPECT_EQ(resp.status, 500);
  EXPECT_THAT(resp.body, HasSubstr("response header 'X-Huge' too large"));
  // The connection lives on.
  ASSERT_OK_AND_ASSIGN(auto again, client_->Send({.url = server->base_url() + "/"}));
  EXPECT_EQ(again.status, 500);
}

TEST_F(HttpServerTest, KeepAliveOverRawSocket) {
  auto server = StartServer(Hello);
  ASSERT_TRUE(server);
  ASSERT_OK_AND_ASSIGN(auto fd, test::RawConnect(server->port()));
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(auto out,
                         test::RawExchange(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "hello"));
    EXPECT_THAT(out, StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_THAT(out, HasSubstr("Content-Length: 5\r\n"));
  }
  ::close(fd);
  EXPECT_EQ(server->connections_accepted(), 1u);
  EXPECT_EQ(server->requests_received(), 3u);
}

TEST_F(HttpServerTest, ConnectionCloseAndHttp10AreHonoured) {
  auto server = StartServer(Hello);
  ASSERT_TRUE(server);
  // RawExchange reads until the server closes: it returns only because the server does.
  ASSERT_OK_AND_ASSIGN(
      auto a,
      test::RawExchange(server->port(), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_THAT(a, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(a, HasSubstr("Connection: close\r\n"));
  ASSERT_OK_AND_ASSIGN(auto b, test::RawExchange(server->port(), "GET / HTTP/1.0\r\n\r\n"));
  EXPECT_THAT(b, HasSubstr("hello"));
}

TEST_F(HttpServerTest, MalformedRequestsGet400AndNeverCrash) {
  auto server = StartServer(Hello);
  ASSERT_TRUE(server);
  const std::string bad[] = {
      "GARBAGE\r\n\r\n",
      std::string("\x00\x01\x02\xff\r\n\r\n", 8),
      "GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Header Name: x\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
  };
  for (const std::string& request : bad) {
    ASSERT_OK_AND_ASSIGN(auto out, test::RawExchange(server->port(), request));
    EXPECT_THAT(out, StartsWith("HTTP/1.1 400 Bad Request\r\n")) << "for: " << request;
    EXPECT_THAT(out, HasSubstr("malformed request"));
  }
  // Still serving.
  ASSERT_OK_AND_ASSIGN(auto resp, client_->Send({.url = server->base_url() + "/"}));
  EXPECT_EQ(resp.body, "hello");
}

TEST_F(HttpServerTest, ClientVanishingMidRequestIsHarmless) {
  auto server = StartServer(Hello);
  ASSERT_TRUE(server);
  ASSERT_OK_AND_ASSIGN(auto fd, test::RawConnect(server->port()));
  const std::string partial = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc";
  ASSERT_EQ(::write(fd, partial.data(), partial.size()), static_cast<ssize_t>(partial.size()));
  ::close(fd);
  auto resp = client_->Send({.url = server->base_url() + "/"});
  ASSERT_OK(resp);
}

TEST_F(HttpServerTest, OversizedBodyGets413) {
  auto server = StartServer(Hello, {.max_request_body = 1000});
  ASSERT_TRUE(server);
  ASSERT_OK_AND_ASSIGN(auto ok, client_->Send({.method = "POST",
                                               .url = server->base_url() + "/",
                                               .body = std::string(1000, 'a')}));
  EXPECT_EQ(ok.status, 200);
  ASSERT_OK_AND_ASSIGN(auto big, client_->Send({.method = "POST",
                                                .url = server->base_url() + "/",
                                                .body = std::string(200'000, 'a')}));
  EXPECT_EQ(big.status, 413);
  EXPECT_THAT(big.body, HasSubstr("exceeds 1000 bytes"));
  EXPECT_EQ(big.Header("Connection"), "close");
}

TEST_F(HttpServerTest, OversizedHeadersGet431) {
  auto server = StartServer(Hello, {.max_header_bytes = 1024});
  ASSERT_TRUE(server);
  ASSERT_OK_AND_ASSIGN(auto resp, client_->Send({.url = server->base_url() + "/",
                                                 .headers = {{"X-Big", std::string(4000, 'h')}}}));
  EXPECT_EQ(resp.status, 431);
}

TEST_F(HttpServerTest, ExpectContinueIsAnswered) {
  ServerRequest seen;
  auto server = StartServer([&](const ServerRequest& req, ServerResponse& res) {
    seen = req;
    res.body = "got it";
  });
  ASSERT_TRUE(server);
  ASSERT_OK_AND_ASSIGN(auto fd, test::RawConnect(server->port()));
  ASSERT_OK_AND_ASSIGN(
      auto interim,
      test::RawExchange(
          fd,
          "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n"
          "Connection: close\r\n\r\n",
          "\r\n\r\n"));
  EXPECT_THAT(interim, StartsWith("HTTP/1.1 100 Continue\r\n"));
  auto final_response = test::RawExchange(fd, "data", "");
  ::close(fd);
  ASSERT_OK(final_response);
  EXPECT_THAT(*final_response, HasSubstr("200 OK"));
  EXPECT_THAT(*final_response, HasSubstr("got it"));
  EXPECT_EQ(seen.body, "data");
}

TEST_F(HttpServerTest, HeadResponseHasLengthButNoBody) {
  auto server = StartServer(Hello);
  ASSERT_TRUE(server);
  ASSERT_OK_AND_ASSIGN(
      auto out,
      test::RawExchange(server->port(), "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_THAT(out, HasSubstr("Content-Length: 5\r\n"));
  EXPECT_THAT(out, ::testing::EndsWith("\r\n\r\n"));
}

TEST_F(HttpServerTest, DeferredResponseFromAnotherThread) {
  auto handed_over = std::make_shared<std::promise<std::shared_ptr<Responder>>>();
  auto server = StartServer([handed_over](const ServerRequest& req, ServerResponse& res) {
    if (req.target != "/later") return Hello(req, res);
    handed_over->set_value(res.Defer());
  });
  ASSERT_TRUE(server);
  auto reply = std::async(std::launch::async,
                          [&] { return client_->Send({.url = server->base_url() + "/later"}); });
  auto future = handed_over->get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  std::shared_ptr<Responder> responder = future.get();
  std::thread([responder] { responder->Send(202, {{"X-Late", "yes"}}, "finally"); }).join();
  responder->Send(500, {}, "ignored: only the first answer counts");
  ASSERT_OK_AND_ASSIGN(auto resp, reply.get());
  EXPECT_EQ(resp.status, 202);
  EXPECT_EQ(resp.Header("X-Late"), "yes");
  EXPECT_EQ(resp.body, "finally");
  // The same connection carries the next request.
  ASSERT_OK_AND_ASSIGN(auto next, client_->Send({.url = server->base_url() + "/"}));
  EXPECT_EQ(next.body, "hello");
  EXPECT_EQ(client_->connections_opened(), 1u);
}

TEST_F(HttpServerTest, AbandonedResponderClosesConnection) {
  auto server = StartServer([](const ServerRequest&, ServerResponse& res) {
    res.Defer();  // dropped at once
  });
  ASSERT_TRUE(server);
  auto resp = client_->Send({.url = server->base_url() + "/"});
  EXPECT_THAT(resp, StatusIs(StatusCode::kUnavailable));
}

TEST_F(HttpServerTest, CloseConnectionWithoutAnswer) {
  auto server =
      StartServer([](const ServerRequest&, ServerResponse& res) { res.close_connection = true; });
  ASSERT_TRUE(server);
  ASSERT_OK_AND_ASSIGN(auto out,
                       test::RawExchange(server->port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(out, "");
}

TEST_F(HttpServerTest, HandlerExceptionGives500) {
  SetLogLevel(LogLevel::kNone);
  auto server = StartServer(
      [](const ServerRequest&, ServerResponse&) { throw std::runtime_error("handler bug"); });
  ASSERT_TRUE(server);
  auto resp = client_->Send({.url = server->base_url() + "/"});
  SetLogLevel(LogLevel::kInfo);
  ASSERT_OK(resp);
  EXPECT_EQ(resp->status, 500);
  EXPECT_THAT(resp->body, HasSubstr("handler bug"));
}

TEST_F(HttpServerTest, InvalidStatusBecomes500) {
  auto server = StartServer([](const ServerRequest&, ServerResponse& res) { res.status = 42; });
  ASSERT_TRUE(server);
  ASSERT_OK_AND_ASSIGN(auto resp, client_->Send({.url = server->base_url() + "/"}));
  EXPECT_EQ(resp.status, 500);
}

TEST_F(HttpServerTest, StopClosesListenerAndParkedRequests) {
  auto parked = std::make_shared<std::promise<std::shared_ptr<Responder>>>();
  auto server = StartServer(
      [parked](const ServerRequest&, ServerResponse& res) { parked->set_value(res.Defer()); });
  ASSERT_TRUE(server);
  const std::string url = server->base_url() + "/";
  auto pending = std::async(std::launch::async, [&] { return client_->Send({.url = url}); });
  auto future = parked->get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  std::shared_ptr<Responder> responder = future.get();
  server->Stop();
  server->Stop();  // idempotent
  auto resp = pending.get();
  EXPECT_THAT(resp, StatusIs(StatusCode::kUnavailable));
  responder->Send(200, {}, "too late");  // harmless after Stop
  auto refused = client_->Send({.url = url});
  EXPECT_THAT(refused, StatusIs(StatusCode::kUnavailable, HasSubstr("refused")));
}

TEST_F(HttpServerTest, CloseIdleConnectionsLeavesBusyOnesAlone) {
  auto parked = std::make_shared<std::promise<std::shared_ptr<Responder>>>();
  auto server = StartServer([parked](const ServerRequest& req, ServerResponse& res) {
    if (req.target == "/park") {
      parked->set_value(res.Defer());
    } else {
      res.body = "quick";
    }
  });
  ASSERT_TRUE(server);
  auto pending = std::async(std::launch::async,
                            [&] { return client_->Send({.url = server->base_url() + "/park"}); });
  auto future = parked->get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  std::shared_ptr<Responder> responder = future.get();
  server->CloseIdleConnections();
  responder->Send(200, {}, "parked reply");
  ASSERT_OK_AND_ASSIGN(auto resp, pending.get());
  EXPECT_EQ(resp.body, "parked reply");
}

TEST_F(HttpServerTest, PortInUseAndBadHostAreClearErrors) {
  auto first = StartServer(Hello);
  ASSERT_TRUE(first);
  auto second = HttpServer::Start(runtime_, {.port = first->port()}, Hello);
  EXPECT_THAT(second, StatusIs(StatusCode::kUnavailable, HasSubstr("bind")));
  auto bad_host = HttpServer::Start(runtime_, {.host = "not an address"}, Hello);
  EXPECT_THAT(bad_host, StatusIs(StatusCode::kInvalidArgument));
  auto no_handler = HttpServer::Start(runtime_, {}, nullptr);
  EXPECT_THAT(no_handler, StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(HttpServerTest, LocalhostBindsLoopback) {
  auto server = StartServer(Hello, {.host = "localhost"});
  ASSERT_TRUE(server);
  EXPECT_EQ(server->base_url(), "http://127.0.0.1:" + std::to_string(server->port()));
  EXPECT_OK(client_->Send({.url = server->base_url()}));
}

}  // namespace
}  // namespace otlp::net
