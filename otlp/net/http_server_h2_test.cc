// net::HttpServer over HTTP/2: our H2ClientSession (h2c with prior knowledge, and h2 over TLS
// with the test CA) and the nghttp command-line client (Debian nghttp2-client; those tests are
// skipped without it), HTTP/1.1 on the same port, and broken prefaces.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/strand.hpp>
#include <cstdio>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "otlp/net/http_client.h"
#include "otlp/net/http_server.h"
#include "otlp/net/internal/h2_client.h"
#include "otlp/net/internal/runtime_impl.h"
#include "otlp/net/internal/tls.h"
#include "tests/support/raw_tcp_server.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace otlp::net {
namespace {

namespace asio = boost::asio;
using internal::H2ClientSession;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

constexpr auto kWait = std::chrono::seconds(30);

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245 + 12345;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

// Polls `done` until true or a generous bound passes.
template <typename F>
bool Eventually(F done) {
  const auto end = Clock::now() + kWait;
  while (Clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

class HttpServerH2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok()) << dir_.error();
    runtime_ = Runtime::Create({.threads = 2});
    client_runtime_ = Runtime::Create();
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  void StartServer(HttpServer::Handler handler, HttpServer::Options options = {}) {
    auto server = HttpServer::Start(runtime_, std::move(options), std::move(handler));
    ASSERT_OK(server);
    server_ = std::move(*server);
  }

  HttpServer::Options TlsOptions() {
    auto pki = test::GenerateTestPki(dir_.path());
    EXPECT_OK(pki);
    pki_ = *pki;
    HttpServer::Options options;
    options.tls = ServerTlsOptions{.certificate_file = pki_.server_cert_file,
                                   .key_file = pki_.server_key_file};
    return options;
  }

  std::shared_ptr<H2ClientSession> Connect(bool tls = false) {
    std::shared_ptr<const internal::TlsContext> context;
    if (tls) {
      auto made = internal::TlsContext::Client(
          {.ca_file = pki_.ca_cert_file, .alpn_protocols = {"h2", "http/1.1"}});
      EXPECT_OK(made);
      if (!made.ok()) return nullptr;
      context = *made;
    }
    auto promise = std::make_shared<std::promise<Result<std::shared_ptr<H2ClientSession>>>>();
    H2ClientSession::Options options;
    options.max_response_body = 64 * 1024 * 1024;
    H2ClientSession::Connect(asio::make_strand(internal::IoContext(*client_runtime_)), context,
                             "127.0.0.1", server_->port(), Clock::now() + kWait, options,
                             [promise](Result<std::shared_ptr<H2ClientSession>> r) {
                               promise->set_value(std::move(r));
                             });
    auto future = promise->get_future();
    if (future.wait_for(kWait) != std::future_status::ready) return nullptr;
    auto result = future.get();
    EXPECT_OK(result);
    return result.ok() ? *result : nullptr;
  }

  static std::future<Result<HttpResponse>> Submit(H2ClientSession& session, HttpRequest request) {
    auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
    session.Submit(std::move(request), Clock::now() + kWait,
                   [promise](Result<HttpResponse> r) { promise->set_value(std::move(r)); });
    return promise->get_future();
  }
  static Result<HttpResponse> Await(std::future<Result<HttpResponse>> future) {
    if (future.wait_for(kWait) != std::future_status::ready) {
      return Status(StatusCode::kDeadlineExceeded, "test: the request never completed");
    }
    return future.get();
  }

  std::string Url(const std::string& path) const { return server_->base_url() + path; }

  // Runs the nghttp client (bounded by coreutils' timeout); its output, stderr included.
  std::string RunNghttp(const std::string& args) {
    const std::string command = "timeout 60 nghttp " + args + " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return "popen failed";
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    const int rc = ::pclose(pipe);
    EXPECT_EQ(rc, 0) << out;
    return out;
  }

  test::TempDir dir_;
  test::TestPki pki_;
  std::shared_ptr<Runtime> runtime_;
  std::shared_ptr<Runtime> client_runtime_;
  std::unique_ptr<HttpServer> server_;
};

// Echoes what it saw: method, target, version, scheme, host, x-test, body size; trailers back.
void Describe(const ServerRequest& req, ServerResponse& res) {
  res.status = req.method == "POST" ? 201 : 200;
  res.headers = {{"Content-Type", "text/plain"}, {"X-Reply", "yes"}};
  res.body = req.method + " " + req.target + " v=" + req.version + " " + req.scheme +
             " host=" + std::string(req.Header("host").value_or("-")) +
             " x-test=" + std::string(req.Header("x-test").value_or("-")) +
             " body=" + std::to_string(req.body.size()) + "\n";
  res.trailers = {{"grpc-status", "0"}, {"grpc-message", "ok"}};
}

TEST_F(HttpServerH2Test, H2cRequestReachesTheHandlerAndTrailersComeBack) {
  ServerRequest seen;
  StartServer([&](const ServerRequest& req, ServerResponse& res) {
    seen = req;
    Describe(req, res);
  });
  auto session = Connect();
  ASSERT_NE(session, nullptr);
  auto r = Await(Submit(*session, {.method = "POST",
                                   .url = Url("/a/b?c=d"),
                                   .headers = {{"X-Test", "value"}},
                                   .body = "the body"}));
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "POST /a/b?c=d v=2 http host=" + server_->base_url().substr(7) +
                         " x-test=value body=8\n");
  EXPECT_EQ(r->Header("x-reply"), "yes");
  EXPECT_EQ(r->Header("server"), kUserAgent);
  EXPECT_EQ(r->Header("content-length"), std::to_string(r->body.size()));
  EXPECT_EQ(r->trailers.Find("grpc-status"), "0");
  EXPECT_EQ(r->trailers.Find("grpc-message"), "ok");
  EXPECT_EQ(seen.version, "2");
  EXPECT_EQ(seen.scheme, "http");
  EXPECT_FALSE(seen.tls);
  EXPECT_EQ(seen.body, "the body");
  EXPECT_EQ(server_->http2_connections(), 1u);
  EXPECT_EQ(server_->requests_received(), 1u);
}

TEST_F(HttpServerH2Test, HundredConcurrentStreamsAnsweredOutOfOrderFromAnotherThread) {
  // Every response is deferred; a worker answers them in reverse order once all arrived.
  std::mutex mu;
  std::vector<std::pair<std::string, std::shared_ptr<Responder>>> pending;
  std::promise<void> all_in;
  constexpr int kStreams = 100;
  StartServer([&](const ServerRequest& req, ServerResponse& res) {
    std::lock_guard lock(mu);
    pending.emplace_back(req.target, res.Defer());
    if (pending.size() == kStreams) all_in.set_value();
  });
  auto session = Connect();
  ASSERT_NE(session, nullptr);
  std::vector<std::future<Result<HttpResponse>>> futures;
  for (int i = 0; i < kStreams; ++i) {
    futures.push_back(Submit(*session, {.url = Url("/n/" + std::to_string(i))}));
  }
  ASSERT_EQ(all_in.get_future().wait_for(kWait), std::future_status::ready);
  std::thread worker([&] {
    std::lock_guard lock(mu);
    for (auto it = pending.rbegin(); it != pending.rend(); ++it) {
      it->second->SendWithTrailers(200, {{"X-Target", it->first}}, "for " + it->first,
                                   {{"x-done", "1"}});
    }
  });
  worker.join();
  for (int i = 0; i < kStreams; ++i) {
    auto r = Await(std::move(futures[i]));
    ASSERT_OK(r);
    EXPECT_EQ(r->body, "for /n/" + std::to_string(i));
    EXPECT_EQ(r->trailers.Find("x-done"), "1");
  }
  EXPECT_EQ(server_->connections_accepted(), 1u);
  EXPECT_EQ(server_->requests_received(), static_cast<uint64_t>(kStreams));
}

TEST_F(HttpServerH2Test, LargeBodiesBothWays) {
  StartServer([](const ServerRequest& req, ServerResponse& res) { res.body = req.body; });
  auto session = Connect();
  ASSERT_NE(session, nullptr);
  const std::string big = Pattern(12 * 1024 * 1024);
  auto r = Await(Submit(*session, {.method = "PUT", .url = Url("/echo"), .body = big}));
  ASSERT_OK(r);
  EXPECT_EQ(r->body.size(), big.size());
  EXPECT_TRUE(r->body == big);
}

TEST_F(HttpServerH2Test, LimitsAnswer413And431OnTheStream) {
  StartServer(Describe, {.max_request_body = 1000, .max_header_bytes = 2000});
  auto session = Connect();
  ASSERT_NE(session, nullptr);
  auto body = Await(Submit(*session, {.method = "POST", .url = Url("/"), .body = Pattern(5000)}));
  ASSERT_OK(body);
  EXPECT_EQ(body->status, 413);
  auto headers = Await(Submit(*session, {.url = Url("/"),
                                         .headers = {{"x-big", std::string(3000, 'a')}}}));
  ASSERT_OK(headers);
  EXPECT_EQ(headers->status, 431);
  // The connection goes on.
  auto ok = Await(Submit(*session, {.method = "POST", .url = Url("/"), .body = "small"}));
  ASSERT_OK(ok);
  EXPECT_EQ(ok->status, 201);
  EXPECT_EQ(server_->http2_connections(), 1u);
}

TEST_F(HttpServerH2Test, HeadThrowCloseAndAbandonedResponder) {
  StartServer([](const ServerRequest& req, ServerResponse& res) {
    if (req.target == "/throw") throw std::runtime_error("boom");
    if (req.target == "/close") {
      res.close_connection = true;
      return;
    }
    if (req.target == "/abandon") {
      res.Defer();  // dropped unanswered
      return;
    }
    res.body = "twelve bytes";
  });
  auto session = Connect();
  ASSERT_NE(session, nullptr);
  auto head = Await(Submit(*session, {.method = "HEAD", .url = Url("/x")}));
  ASSERT_OK(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-length"), "12");
  EXPECT_EQ(head->body, "");
  auto thrown = Await(Submit(*session, {.url = Url("/throw")}));
  ASSERT_OK(thrown);
  EXPECT_EQ(thrown->status, 500);
  EXPECT_THAT(thrown->body, HasSubstr("boom"));
  auto closed = Await(Submit(*session, {.url = Url("/close")}));
  EXPECT_EQ(internal::H2ErrorKindOf(closed.status()), internal::H2ErrorKind::kStreamReset)
      << closed.status().ToString();
  auto abandoned = Await(Submit(*session, {.url = Url("/abandon")}));
  EXPECT_EQ(internal::H2ErrorKindOf(abandoned.status()), internal::H2ErrorKind::kStreamReset)
      << abandoned.status().ToString();
  // Resets touch one stream only.
  auto after = Await(Submit(*session, {.url = Url("/x")}));
  ASSERT_OK(after);
  EXPECT_EQ(after->body, "twelve bytes");
  EXPECT_EQ(server_->http2_connections(), 1u);
}

TEST_F(HttpServerH2Test, TlsAlpnChoosesH2AndHttp11SharesThePort) {
  ServerRequest seen;
  std::mutex mu;
  StartServer(
      [&](const ServerRequest& req, ServerResponse& res) {
        {
          std::lock_guard lock(mu);
          seen = req;
        }
        Describe(req, res);
      },
      TlsOptions());
  auto session = Connect(/*tls=*/true);
  ASSERT_NE(session, nullptr);
  EXPECT_TRUE(session->is_tls());
  auto r = Await(Submit(*session, {.url = Url("/secure")}));
  ASSERT_OK(r);
  EXPECT_THAT(r->body, HasSubstr("GET /secure v=2 https"));
  EXPECT_EQ(r->trailers.Find("grpc-status"), "0");
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(seen.tls);
    EXPECT_EQ(seen.tls_session.alpn_protocol, "h2");
  }
  // An HTTP/1.1 client (ALPN http/1.1 or none) on the same port.
  ASSERT_OK_AND_ASSIGN(auto client, HttpClient::Create(client_runtime_,
                                                       {.tls = {.ca_file = pki_.ca_cert_file}}));
  ASSERT_OK_AND_ASSIGN(auto resp, client->Send({.url = Url("/old")}));
  EXPECT_THAT(resp.body, HasSubstr("GET /old v=1.1 https"));
  EXPECT_EQ(server_->http2_connections(), 1u);
  EXPECT_EQ(server_->connections_accepted(), 2u);
}

TEST_F(HttpServerH2Test, Http11AndH2cShareAPlainPort) {
  StartServer(Describe);
  ASSERT_OK_AND_ASSIGN(auto client, HttpClient::Create(client_runtime_, {}));
  ASSERT_OK_AND_ASSIGN(auto resp, client->Send({.method = "POST", .url = Url("/one"), .body = "abc"}));
  EXPECT_THAT(resp.body, HasSubstr("POST /one v=1.1 http"));
  auto session = Connect();
  ASSERT_NE(session, nullptr);
  auto r = Await(Submit(*session, {.url = Url("/two")}));
  ASSERT_OK(r);
  EXPECT_THAT(r->body, HasSubstr("GET /two v=2 http"));
  // An HTTP/1.0 request reports its version too.
  ASSERT_OK_AND_ASSIGN(auto old, test::RawExchange(server_->port(), "GET /three HTTP/1.0\r\n\r\n"));
  EXPECT_THAT(old, HasSubstr("v=1.0"));
  EXPECT_EQ(server_->http2_connections(), 1u);
}

TEST_F(HttpServerH2Test, GarbagePrefacesAreRefusedWithoutHarm) {
  StartServer(Describe);
  // Starts like the preface, then is not: parsed as HTTP/1.1, which it is not either.
  {
    ASSERT_OK_AND_ASSIGN(auto answer,
                         test::RawExchange(server_->port(), "PRI * HTTP/2.0\r\n\r\nXY\r\n\r\n"));
    EXPECT_THAT(answer, HasSubstr("400"));
  }
  // The whole preface, then bytes that are no HTTP/2 frames: GOAWAY and the connection ends.
  {
    std::string bad(internal::kH2ClientPreface);
    bad += std::string(64, '\xff');
    // Returns when the server closes (an error after 10 s if it never did).
    ASSERT_OK_AND_ASSIGN(auto answer, test::RawExchange(server_->port(), bad));
    EXPECT_FALSE(answer.empty());  // at least SETTINGS and GOAWAY
  }
  // Part of the preface, then the client goes away.
  {
    ASSERT_OK_AND_ASSIGN(auto fd, test::RawConnect(server_->port()));
    ASSERT_EQ(::write(fd, "PRI * HT", 8), 8);
    ::close(fd);
  }
  auto session = Connect();
  ASSERT_NE(session, nullptr);
  auto r = Await(Submit(*session, {.url = Url("/still")}));
  ASSERT_OK(r);
  EXPECT_THAT(r->body, HasSubstr("GET /still v=2"));
}

TEST_F(HttpServerH2Test, WithoutHttp2ThePrefaceIsJustABadRequest) {
  StartServer(Describe, {.enable_http2 = false});
  ASSERT_OK_AND_ASSIGN(auto answer,
                       test::RawExchange(server_->port(), internal::kH2ClientPreface));
  EXPECT_THAT(answer, HasSubstr("400"));
  EXPECT_EQ(server_->http2_connections(), 0u);
  // And ALPN "h2" cannot be configured then.
  auto tls = TlsOptions();
  tls.enable_http2 = false;
  tls.tls->alpn_protocols = {"h2", "http/1.1"};
  auto refused = HttpServer::Start(runtime_, tls, Describe);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("'h2'"));
}

TEST_F(HttpServerH2Test, StopSendsGoAwayAndLetsTheStreamInFlightFinish) {
  std::promise<std::shared_ptr<Responder>> parked;
  StartServer([&](const ServerRequest&, ServerResponse& res) { parked.set_value(res.Defer()); });
  auto session = Connect();
  ASSERT_NE(session, nullptr);
  auto in_flight = Submit(*session, {.url = Url("/slow")});
  auto parked_future = parked.get_future();
  ASSERT_EQ(parked_future.wait_for(kWait), std::future_status::ready);
  std::shared_ptr<Responder> responder = parked_future.get();
  auto stopped = std::async(std::launch::async, [&] { server_->Stop(); });
  // The client learns of the GOAWAY; its request is still being served.
  ASSERT_TRUE(Eventually([&] { return session->IsDraining(); }));
  EXPECT_EQ(stopped.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  responder->Send(200, {}, "finished after GOAWAY");
  auto r = Await(std::move(in_flight));
  ASSERT_OK(r);
  EXPECT_EQ(r->body, "finished after GOAWAY");
  ASSERT_EQ(stopped.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(Eventually([&] { return !session->is_open(); }));
}

TEST_F(HttpServerH2Test, StopClosesStreamsThatOutliveTheShutdownTimeout) {
  std::promise<std::shared_ptr<Responder>> parked;
  StartServer([&](const ServerRequest&, ServerResponse& res) { parked.set_value(res.Defer()); },
              {.shutdown_timeout = std::chrono::milliseconds(100)});
  auto session = Connect();
  ASSERT_NE(session, nullptr);
  auto in_flight = Submit(*session, {.url = Url("/never")});
  auto parked_future = parked.get_future();
  ASSERT_EQ(parked_future.wait_for(kWait), std::future_status::ready);
  auto responder = parked_future.get();
  server_->Stop();  // returns once the connection is closed
  auto r = Await(std::move(in_flight));
  EXPECT_FALSE(r.ok());
  responder->Send(200, {}, "too late");  // harmless
}

TEST_F(HttpServerH2Test, IdleConnectionsGetGoAway) {
  StartServer(Describe, {.io_timeout = std::chrono::milliseconds(200)});
  auto session = Connect();
  ASSERT_NE(session, nullptr);
  auto r = Await(Submit(*session, {.url = Url("/once")}));
  ASSERT_OK(r);
  EXPECT_TRUE(Eventually([&] { return session->IsDraining() || !session->is_open(); }));
}

TEST_F(HttpServerH2Test, CloseIdleConnectionsSendsGoAway) {
  StartServer(Describe);
  auto session = Connect();
  ASSERT_NE(session, nullptr);
  ASSERT_OK(Await(Submit(*session, {.url = Url("/once")})));
  server_->CloseIdleConnections();
  EXPECT_TRUE(Eventually([&] { return session->IsDraining() || !session->is_open(); }));
}

// --- the nghttp command-line client ---

class HttpServerNghttpTest : public HttpServerH2Test {
 protected:
  void SetUp() override {
    HttpServerH2Test::SetUp();
    if (::access("/usr/bin/nghttp", X_OK) != 0) {
      GTEST_SKIP() << "nghttp is not installed (Debian: nghttp2-client)";
    }
  }
};

TEST_F(HttpServerNghttpTest, H2cManyStreamsUploadAndTrailers) {
  StartServer(Describe);
  const std::string one = RunNghttp("-v -H 'x-test: cli' '" + Url("/path?q=1") + "'");
  EXPECT_THAT(one, HasSubstr("GET /path?q=1 v=2 http"));
  EXPECT_THAT(one, HasSubstr("x-test=cli"));
  EXPECT_THAT(one, HasSubstr("grpc-status: 0"));  // the trailing HEADERS frame, as nghttp logs it
  ASSERT_OK(dir_.WriteFile("upload.bin", Pattern(3 * 1024 * 1024)));
  const std::string up = RunNghttp("-d '" + dir_.Join("upload.bin") + "' '" + Url("/up") + "'");
  EXPECT_THAT(up, HasSubstr("POST /up v=2 http"));
  EXPECT_THAT(up, HasSubstr("body=3145728"));
  const std::string many = RunNghttp("-m 60 '" + Url("/many") + "'");
  size_t count = 0;
  for (size_t pos = 0; (pos = many.find("GET /many v=2", pos)) != std::string::npos; ++pos) ++count;
  EXPECT_EQ(count, 60u);
  EXPECT_EQ(server_->http2_connections(), 3u);
}

TEST_F(HttpServerNghttpTest, H2OverTls) {
  StartServer(Describe, TlsOptions());
  const std::string out = RunNghttp("-v '" + Url("/secure") + "'");
  EXPECT_THAT(out, HasSubstr("GET /secure v=2 https"));
  EXPECT_THAT(out, HasSubstr("grpc-status: 0"));
  EXPECT_EQ(server_->http2_connections(), 1u);
}

}  // namespace
}  // namespace otlp::net
