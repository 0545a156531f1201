// The HTTP/2 sessions against each other (client and server over loopback, h2c and TLS with
// ALPN) and against raw peers that send what no well-behaved server would: concurrency on one
// connection, FIFO queueing under SETTINGS_MAX_CONCURRENT_STREAMS, flow control with large
// bodies, trailers, deadlines and cancellation (RST_STREAM CANCEL), resets and GOAWAY from the
// server, limits, PING, malformed frames.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "otlp/net/internal/h2_client.h"
#include "otlp/net/internal/h2_server.h"
#include "otlp/net/internal/runtime_impl.h"
#include "otlp/net/internal/tls.h"
#include "otlp/net/runtime.h"
#include "tests/support/h2_test_server.h"
#include "tests/support/raw_tcp_server.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace otlp::net::internal {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;

constexpr auto kWait = std::chrono::seconds(30);

Clock::time_point Deadline(std::chrono::milliseconds after = std::chrono::seconds(30)) {
  return Clock::now() + after;
}

// Waits until `cond` holds, polling; fails the test after kWait.
template <typename Cond>
bool WaitFor(Cond cond) {
  const auto end = Clock::now() + kWait;
  while (!cond()) {
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// Replies held back by a handler until the test releases them.
class HeldReplies {
 public:
  void Add(H2ServerRequest request, H2Reply reply) {
    std::lock_guard lock(mu_);
    requests_.push_back(std::move(request));
    replies_.push_back(std::move(reply));
    cv_.notify_all();
  }
  bool WaitCount(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return replies_.size() >= n; });
  }
  H2Reply reply(size_t i) {
    std::lock_guard lock(mu_);
    return replies_.at(i);
  }
  H2ServerRequest request(size_t i) {
    std::lock_guard lock(mu_);
    return requests_.at(i);
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return replies_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<H2ServerRequest> requests_;
  std::vector<H2Reply> replies_;
};

class H2SessionTest : public ::testing::Test {
 protected:
  void StartServer(H2ServerSession::Handler handler, test::H2TestServer::Options options = {}) {
    auto server = test::H2TestServer::Start(runtime_, std::move(options), std::move(handler));
    ASSERT_OK(server);
    server_ = std::move(*server);
  }

  std::shared_ptr<H2ClientSession> Connect(uint16_t port, H2ClientSession::Options options = {},
                                           std::shared_ptr<const TlsContext> tls = nullptr) {
    auto result = ConnectResult(port, options, std::move(tls));
    EXPECT_OK(result);
    return result.ok() ? *result : nullptr;
  }

  Result<std::shared_ptr<H2ClientSession>> ConnectResult(
      uint16_t port, H2ClientSession::Options options = {},
      std::shared_ptr<const TlsContext> tls = nullptr) {
    auto promise = std::make_shared<std::promise<Result<std::shared_ptr<H2ClientSession>>>>();
    H2ClientSession::Connect(asio::make_strand(IoContext(*runtime_)), std::move(tls), "127.0.0.1",
                             port, Deadline(), options,
                             [promise](Result<std::shared_ptr<H2ClientSession>> r) {
                               promise->set_value(std::move(r));
                             });
    auto future = promise->get_future();
    if (future.wait_for(kWait) != std::future_status::ready) {
      return Status(StatusCode::kDeadlineExceeded, "test: connect did not complete");
    }
    return future.get();
  }

  // Submits and returns a future of the result.
  static std::future<Result<HttpResponse>> SubmitAsync(
      H2ClientSession& session, HttpRequest request, Clock::time_point deadline = Deadline(),
      H2ClientSession::BodySink sink = {}, uint64_t* id = nullptr) {
    auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
    auto future = promise->get_future();
    const uint64_t call = session.Submit(
        std::move(request), deadline,
        [promise](Result<HttpResponse> r) { promise->set_value(std::move(r)); }, std::move(sink));
    if (id != nullptr) *id = call;
    return future;
  }

  static Result<HttpResponse> Await(std::future<Result<HttpResponse>> future) {
    if (future.wait_for(kWait) != std::future_status::ready) {
      return Status(StatusCode::kDeadlineExceeded, "test: the request never completed");
    }
    return future.get();
  }

  Result<HttpResponse> Fetch(H2ClientSession& session, HttpRequest request,
                             Clock::time_point deadline = Deadline()) {
    return Await(SubmitAsync(session, std::move(request), deadline));
  }

  std::string Url(const std::string& path, bool tls = false) const {
    return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(server_->port()) +
           path;
  }

  static Status Ping(H2ClientSession& session) {
    auto promise = std::make_shared<std::promise<Status>>();
    session.Ping([promise](Status s) { promise->set_value(std::move(s)); });
    auto future = promise->get_future();
    if (future.wait_for(kWait) != std::future_status::ready) {
      return Status(StatusCode::kDeadlineExceeded, "test: no PING answer");
    }
    return future.get();
  }

  std::shared_ptr<Runtime> runtime_ = Runtime::Create();
  std::unique_ptr<test::H2TestServer> server_;
};

H2ServerSession::Handler Echo() {
  return [](H2ServerRequest req, H2Reply reply) {
    H2ServerResponse resp;
    resp.status = 200;
    resp.headers = {{"content-type", "text/plain"},
                    {"x-method", req.method},
                    {"x-path", req.path},
                    {"x-authority", req.authority},
                    {"x-scheme", req.scheme},
                    {"x-test", std::string(req.headers.Find("x-test").value_or("none"))}};
    resp.body = req.body;
    reply.Send(std::move(resp));
  };
}

TEST_F(H2SessionTest, GetAndPostOverH2c) {
  StartServer(Echo());
  auto session = Connect(server_->port());
  ASSERT_NE(session, nullptr);
  EXPECT_FALSE(session->is_tls());

  auto get = Fetch(*session, {.method = "GET", .url = Url("/a/b?x=1"),
                              .headers = {{"X-Test", "yes"}, {"Connection", "keep-alive"}}});
  ASSERT_OK(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->Header("x-method"), "GET");
  EXPECT_EQ(get->Header("x-path"), "/a/b?x=1");
  EXPECT_EQ(get->Header("x-authority"), "127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_EQ(get->Header("x-scheme"), "http");
  EXPECT_EQ(get->Header("X-Test"), "yes");
  EXPECT_EQ(get->body, "");

  auto post = Fetch(*session, {.method = "POST", .url = Url("/v1/traces"), .body = "payload"});
  ASSERT_OK(post);
  EXPECT_EQ(post->body, "payload");
  EXPECT_EQ(post->Header("x-method"), "POST");
  EXPECT_EQ(server_->connections(), 1u);
  // The response completes on END_STREAM; the stream closes right after, on the I/O thread.
  EXPECT_TRUE(WaitFor([&] { return session->active_streams() == 0; }));
  EXPECT_TRUE(session->CanTakeRequest());
}

TEST_F(H2SessionTest, BadRequestsFailWithoutTouchingTheConnection) {
  StartServer(Echo());
  auto session = Connect(server_->port());
  ASSERT_NE(session, nullptr);
  auto bad_url = Fetch(*session, {.url = "ws://127.0.0.1/x"});
  EXPECT_THAT(bad_url, StatusIs(StatusCode::kInvalidArgument, HasSubstr("http:// or https://")));
  auto bad_header = Fetch(*session, {.url = Url("/"), .headers = {{"X-Bad", "a\r\nb"}}});
  EXPECT_THAT(bad_header, StatusIs(StatusCode::kInvalidArgument, HasSubstr("X-Bad")));
  auto bad_method = Fetch(*session, {.method = "GE T", .url = Url("/")});
  EXPECT_THAT(bad_method, StatusIs(StatusCode::kInvalidArgument, HasSubstr("method")));
  EXPECT_OK(Fetch(*session, {.url = Url("/")}));
}

TEST_F(H2SessionTest, TrailersReachTheClient) {
  StartServer([](H2ServerRequest req, H2Reply reply) {
    H2ServerResponse resp{.status = 200,
                          .headers = {{"content-type", "application/grpc"}},
                          .body = req.path == "/empty" ? "" : "message",
                          .trailers = {{"grpc-status", "0"}, {"Grpc-Message", "fine"}}};
    reply.Send(std::move(resp));
  });
  auto session = Connect(server_->port());
  ASSERT_NE(session, nullptr);
  for (std::string path : {"/body", "/empty"}) {
    auto r = Fetch(*session, {.url = Url(path)});
    ASSERT_OK(r);
    EXPECT_EQ(r->body, path == "/body" ? "message" : "");
    EXPECT_EQ(r->Trailer("grpc-status"), "0");
    EXPECT_EQ(r->Trailer("grpc-message"), "fine");
    EXPECT_FALSE(r->headers.Contains("grpc-status"));
    EXPECT_EQ(r->Header("content-type"), "application/grpc");
  }
}

TEST_F(H2SessionTest, HundredConcurrentRequestsShareOneConnection) {
  HeldReplies held;
  StartServer([&](H2ServerRequest req, H2Reply reply) { held.Add(std::move(req), reply); });
  auto session = Connect(server_->port());
  ASSERT_NE(session, nullptr);
  std::vector<std::future<Result<HttpResponse>>> futures;
  for (int i = 0; i < 100; ++i) {
    futures.push_back(SubmitAsync(*session, {.url = Url("/item/" + std::to_string(i))}));
  }
  // All 100 are open at once on the server before any is answered.
  ASSERT_TRUE(held.WaitCount(100));
  EXPECT_TRUE(WaitFor([&] { return session->active_streams() == 100; }));
  for (size_t i = 0; i < 100; ++i) {
    H2ServerRequest req = held.request(i);
    held.reply(i).Send({.status = 200, .body = req.path});
  }
  for (int i = 0; i < 100; ++i) {
    auto r = Await(std::move(futures[static_cast<size_t>(i)]));
    ASSERT_OK(r);
    EXPECT_EQ(r->body, "/item/" + std::to_string(i));
  }
  EXPECT_EQ(server_->connections(), 1u);
  EXPECT_EQ(server_->sessions().front()->requests_received(), 100u);
}

// Several I/O threads: every session runs on its own strand; requests come from many threads.
class H2SessionThreadsTest : public H2SessionTest {
 protected:
  H2SessionThreadsTest() { runtime_ = Runtime::Create({.threads = 4}); }
};

TEST_F(H2SessionThreadsTest, ManyThreadsManySessions) {
  StartServer(Echo());
  std::vector<std::shared_ptr<H2ClientSession>> sessions;
  for (int i = 0; i < 4; ++i) {
    sessions.push_back(Connect(server_->port()));
    ASSERT_NE(sessions.back(), nullptr);
  }
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto& session = *sessions[static_cast<size_t>((t + i) % 4)];
        const std::string body = std::to_string(t) + "/" + std::to_string(i);
        auto r = Await(SubmitAsync(session, {.method = "POST", .url = Url("/t"), .body = body}));
        if (r.ok() && r->body == body) ok.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(server_->connections(), 4u);
  for (auto& session : sessions) session->Close();
  EXPECT_TRUE(WaitFor([&] { return server_->closed_sessions() == 4; }));
}

TEST_F(H2SessionTest, PeerConcurrencyLimitQueuesRequestsInOrder) {
  HeldReplies held;
  test::H2TestServer::Options options;
  options.session.max_concurrent_streams = 2;
  StartServer([&](H2ServerRequest req, H2Reply reply) { held.Add(std::move(req), reply); },
              options);
  auto session = Connect(server_->port());
  ASSERT_NE(session, nullptr);
  ASSERT_OK(Ping(*session));  // the server's SETTINGS have arrived
  std::vector<std::future<Result<HttpResponse>>> futures;
  for (int i = 0; i < 10; ++i) {
    futures.push_back(SubmitAsync(*session, {.url = Url("/" + std::to_string(i))}));
  }
  ASSERT_TRUE(held.WaitCount(2));
  EXPECT_TRUE(WaitFor([&] { return session->queued_requests() == 8; }));
  EXPECT_EQ(session->active_streams(), 2u);
  EXPECT_FALSE(session->CanTakeRequest());
  // Answer one at a time: the next queued request starts only when a stream closes.
  for (size_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(held.WaitCount(std::min<size_t>(i + 2, 10)));
    EXPECT_LE(held.size(), i + 2);
    held.reply(i).Send({.status = 200, .body = held.request(i).path});
  }
  for (int i = 0; i < 10; ++i) {
    auto r = Await(std::move(futures[static_cast<size_t>(i)]));
    ASSERT_OK(r);
    EXPECT_EQ(r->body, "/" + std::to_string(i));
    EXPECT_EQ(held.request(static_cast<size_t>(i)).path, "/" + std::to_string(i));  // FIFO
  }
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245 + 12345;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

TEST_F(H2SessionTest, LargeBodiesFlowBothWays) {
  const std::string big = Pattern(40 * 1024 * 1024);
  test::H2TestServer::Options options;
  options.session.max_request_body = 64 * 1024 * 1024;
  StartServer(
      [&big](H2ServerRequest req, H2Reply reply) {
        if (req.method == "POST") {
          reply.Send({.status = 200, .body = std::to_string(req.body.size()) + " " +
                                             (req.body == big ? "same" : "different")});
        } else {
          reply.Send({.status = 200, .body = big});
        }
      },
      options);
  H2ClientSession::Options client_options;
  client_options.max_response_body = 64 * 1024 * 1024;
  auto session = Connect(server_->port(), client_options);
  ASSERT_NE(session, nullptr);

  auto down = Fetch(*session, {.url = Url("/big")});
  ASSERT_OK(down);
  EXPECT_EQ(down->body.size(), big.size());
  EXPECT_TRUE(down->body == big);

  // Streamed to a sink: the body never collects in the response.
  size_t streamed = 0;
  bool same = true;
  auto sunk = Await(SubmitAsync(*session, {.url = Url("/big")}, Deadline(),
                                [&](std::string_view chunk) {
                                  same = same && big.compare(streamed, chunk.size(), chunk) == 0;
                                  streamed += chunk.size();
                                }));
  ASSERT_OK(sunk);
  EXPECT_EQ(streamed, big.size());
  EXPECT_TRUE(same);
  EXPECT_TRUE(sunk->body.empty());

  auto up = Fetch(*session, {.method = "POST", .url = Url("/upload"), .body = big});
  ASSERT_OK(up);
  EXPECT_EQ(up->body, std::to_string(big.size()) + " same");
  EXPECT_EQ(server_->connections(), 1u);
}

TEST_F(H2SessionTest, ResponseBodyOverTheLimitFails) {
  StartServer([](H2ServerRequest, H2Reply reply) {
    reply.Send({.status = 200, .body = std::string(100000, 'x')});
  });
  H2ClientSession::Options options;
  options.max_response_body = 1000;
  auto session = Connect(server_->port(), options);
  ASSERT_NE(session, nullptr);
  auto r = Fetch(*session, {.url = Url("/")});
  EXPECT_THAT(r, StatusIs(StatusCode::kResourceExhausted, HasSubstr("exceeds 1000 bytes")));
  EXPECT_EQ(H2ErrorKindOf(r.status()), H2ErrorKind::kTooLarge);
  // The connection survives (only the stream was reset).
  options.max_response_body = 0;
  EXPECT_TRUE(session->is_open());
}

TEST_F(H2SessionTest, DeadlineResetsTheStreamWithCancel) {
  HeldReplies held;
  StartServer([&](H2ServerRequest req, H2Reply reply) {
    if (req.path == "/slow") return held.Add(std::move(req), reply);
    reply.Send({.status = 204});
  });
  auto session = Connect(server_->port());
  ASSERT_NE(session, nullptr);
  auto r = Fetch(*session, {.url = Url("/slow")}, Deadline(std::chrono::milliseconds(100)));
  EXPECT_THAT(r, StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("timed out")));
  EXPECT_EQ(H2ErrorKindOf(r.status()), H2ErrorKind::kTimeout);
  EXPECT_TRUE(r.status().retryable());
  // The server saw the stream end (RST_STREAM CANCEL), and the connection goes on.
  ASSERT_TRUE(held.WaitCount(1));
  EXPECT_TRUE(WaitFor([&] { return server_->sessions().front()->active_streams() == 0; }));
  auto next = Fetch(*session, {.url = Url("/fast")});
  ASSERT_OK(next);
  EXPECT_EQ(next->status, 204);
  held.reply(0).Send({.status = 200});  // a late reply to a reset stream does nothing
  EXPECT_OK(Ping(*session));
}

TEST_F(H2SessionTest, CancelResetsTheStream) {
  HeldReplies held;
  StartServer([&](H2ServerRequest req, H2Reply reply) { held.Add(std::move(req), reply); });
  auto session = Connect(server_->port());
  ASSERT_NE(session, nullptr);
  uint64_t id = 0;
  auto future = SubmitAsync(*session, {.url = Url("/wait")}, Deadline(), {}, &id);
  ASSERT_TRUE(held.WaitCount(1));
  session->Cancel(id);
  auto r = Await(std::move(future));
  EXPECT_THAT(r, StatusIs(StatusCode::kCancelled));
  EXPECT_EQ(H2ErrorKindOf(r.status()), H2ErrorKind::kCancelled);
  EXPECT_TRUE(WaitFor([&] { return server_->sessions().front()->active_streams() == 0; }));
  EXPECT_TRUE(WaitFor([&] { return session->active_streams() == 0; }));
  session->Cancel(id);  // completed: no-op
}

TEST_F(H2SessionTest, CancellingAQueuedRequestRemovesItFromTheQueue) {
  HeldReplies held;
  test::H2TestServer::Options options;
  options.session.max_concurrent_streams = 1;
  StartServer([&](H2ServerRequest req, H2Reply reply) { held.Add(std::move(req), reply); },
              options);
  auto session = Connect(server_->port());
  ASSERT_NE(session, nullptr);
  ASSERT_OK(Ping(*session));
  auto first = SubmitAsync(*session, {.url = Url("/1")});
  auto second = SubmitAsync(*session, {.url = Url("/2")});
  uint64_t third_id = 0;
  auto third = SubmitAsync(*session, {.url = Url("/3")}, Deadline(), {}, &third_id);
  ASSERT_TRUE(held.WaitCount(1));
  EXPECT_TRUE(WaitFor([&] { return session->queued_requests() == 2; }));
  session->Cancel(third_id);
  EXPECT_THAT(Await(std::move(third)), StatusIs(StatusCode::kCancelled));
  EXPECT_EQ(session->queued_requests(), 1u);
  held.reply(0).Send({.status = 200});
  ASSERT_TRUE(held.WaitCount(2));
  held.reply(1).Send({.status = 202});
  EXPECT_OK(Await(std::move(first)));
  auto r = Await(std::move(second));
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(held.size(), 2u);  // the cancelled request never reached the server
}

TEST_F(H2SessionTest, ServerDropsResponseFieldsHttp2CannotCarry) {
  StartServer([](H2ServerRequest, H2Reply reply) {
    reply.Send({.status = 200,
                .headers = {{"Upper-Case", "kept"},
                            {"Connection", "close"},
                            {"x-bad", "a\r\nb"},
                            {"bad name", "x"}},
                .body = "ok"});
  });
  auto session = Connect(server_->port());
  ASSERT_NE(session, nullptr);
  auto r = Fetch(*session, {.url = Url("/")});
  ASSERT_OK(r);
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(r->Header("upper-case"), "kept");
  EXPECT_FALSE(r->headers.Contains("connection"));
  EXPECT_FALSE(r->headers.Contains("x-bad"));
  EXPECT_FALSE(r->headers.Contains("bad name"));
}

TEST_F(H2SessionTest, ResetFromThePeerNamesTheErrorCode) {
  StartServer([](H2ServerRequest req, H2Reply reply) {
    reply.Reset(req.path == "/refused" ? NGHTTP2_REFUSED_STREAM : NGHTTP2_INTERNAL_ERROR);
  });
  auto session = Connect(server_->port());
  ASSERT_NE(session, nullptr);
  auto refused = Fetch(*session, {.url = Url("/refused")});
  EXPECT_THAT(refused, StatusIs(StatusCode::kUnavailable, HasSubstr("REFUSED_STREAM")));
  EXPECT_TRUE(refused.status().retryable());
  EXPECT_EQ(H2ErrorKindOf(refused.status()), H2ErrorKind::kStreamReset);
  auto internal = Fetch(*session, {.url = Url("/internal")});
  EXPECT_THAT(internal, StatusIs(StatusCode::kUnavailable, HasSubstr("INTERNAL_ERROR")));
  EXPECT_FALSE(internal.status().retryable());
  EXPECT_EQ(H2ErrorKindOf(internal.status()), H2ErrorKind::kStreamReset);
  EXPECT_TRUE(session->is_open());
}

TEST_F(H2SessionTest, GoAwayFailsUnprocessedStreamsRetryably) {
  HeldReplies held;
  StartServer([&](H2ServerRequest req, H2Reply reply) { held.Add(std::move(req), reply); });
  auto session = Connect(server_->port());
  ASSERT_NE(session, nullptr);
  std::vector<std::future<Result<HttpResponse>>> futures;
  for (int i = 0; i < 3; ++i) futures.push_back(SubmitAsync(*session, {.url = Url("/" + std::to_string(i))}));
  ASSERT_TRUE(held.WaitCount(3));
  // Streams 1, 3, 5: the server processes only stream 1.
  auto server_session = server_->sessions().front();
  server_session->GoAway(1, NGHTTP2_NO_ERROR);
  held.reply(0).Send({.status = 200, .body = "processed"});

  auto first = Await(std::move(futures[0]));
  ASSERT_OK(first);
  EXPECT_EQ(first->body, "processed");
  for (size_t i = 1; i < 3; ++i) {
    auto r = Await(std::move(futures[i]));
    EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable, HasSubstr("GOAWAY")));
    EXPECT_TRUE(r.status().retryable());
    EXPECT_EQ(H2ErrorKindOf(r.status()), H2ErrorKind::kGoAway);
  }
  EXPECT_TRUE(session->IsDraining());
  EXPECT_FALSE(session->CanTakeRequest());
  auto late = Fetch(*session, {.url = Url("/late")});
  EXPECT_THAT(late, StatusIs(StatusCode::kUnavailable));
  EXPECT_TRUE(late.status().retryable());
  // Both ends close the connection once nothing is in flight.
  EXPECT_TRUE(WaitFor([&] { return !session->is_open(); }));
  EXPECT_TRUE(WaitFor([&] { return server_->closed_sessions() == 1; }));
}

TEST_F(H2SessionTest, GoAwayWithAnErrorCodeIsReported) {
  HeldReplies held;
  StartServer([&](H2ServerRequest req, H2Reply reply) { held.Add(std::move(req), reply); });
  auto session = Connect(server_->port());
  ASSERT_NE(session, nullptr);
  auto future = SubmitAsync(*session, {.url = Url("/x")});
  ASSERT_TRUE(held.WaitCount(1));
  server_->sessions().front()->GoAway(0, NGHTTP2_ENHANCE_YOUR_CALM);
  auto r = Await(std::move(future));
  EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable, HasSubstr("GOAWAY")));
  EXPECT_EQ(H2ErrorKindOf(r.status()), H2ErrorKind::kGoAway);
  EXPECT_TRUE(WaitFor([&] { return !session->is_open(); }));
}

TEST_F(H2SessionTest, ServerShutdownLetsInFlightStreamsFinish) {
  HeldReplies held;
  StartServer([&](H2ServerRequest req, H2Reply reply) { held.Add(std::move(req), reply); });
  auto session = Connect(server_->port());
  ASSERT_NE(session, nullptr);
  auto future = SubmitAsync(*session, {.url = Url("/x")});
  ASSERT_TRUE(held.WaitCount(1));
  server_->sessions().front()->Shutdown();
  EXPECT_TRUE(WaitFor([&] { return session->IsDraining(); }));
  held.reply(0).Send({.status = 200, .body = "done"});
  auto r = Await(std::move(future));
  ASSERT_OK(r);
  EXPECT_EQ(r->body, "done");
  EXPECT_TRUE(WaitFor([&] { return server_->closed_sessions() == 1; }));
  EXPECT_OK(server_->last_close_status());
  EXPECT_TRUE(WaitFor([&] { return !session->is_open(); }));
}

TEST_F(H2SessionTest, ClientCloseFailsPendingRequests) {
  HeldReplies held;
  StartServer([&](H2ServerRequest req, H2Reply reply) { held.Add(std::move(req), reply); });
  auto session = Connect(server_->port());
  ASSERT_NE(session, nullptr);
  auto future = SubmitAsync(*session, {.url = Url("/x")});
  ASSERT_TRUE(held.WaitCount(1));
  session->Close();
  auto r = Await(std::move(future));
  EXPECT_THAT(r, StatusIs(StatusCode::kCancelled, HasSubstr("closed")));
  EXPECT_TRUE(WaitFor([&] { return !session->is_open(); }));
  EXPECT_TRUE(WaitFor([&] { return server_->closed_sessions() == 1; }));
}

TEST_F(H2SessionTest, ServerLimitsAnswer431And413) {
  test::H2TestServer::Options options;
  options.session.max_header_list_size = 4096;
  options.session.max_request_body = 1000;
  StartServer(Echo(), options);
  auto session = Connect(server_->port());
  ASSERT_NE(session, nullptr);
  auto big_header = Fetch(*session, {.url = Url("/"), .headers = {{"x-big", std::string(8000, 'a')}}});
  ASSERT_OK(big_header);
  EXPECT_EQ(big_header->status, 431);
  auto big_body = Fetch(*session, {.method = "POST", .url = Url("/"), .body = std::string(5000, 'b')});
  ASSERT_OK(big_body);
  EXPECT_EQ(big_body->status, 413);
  auto fine = Fetch(*session, {.method = "POST", .url = Url("/"), .body = "small"});
  ASSERT_OK(fine);
  EXPECT_EQ(fine->body, "small");
  EXPECT_EQ(server_->sessions().front()->requests_received(), 1u);
}

TEST_F(H2SessionTest, TlsWithAlpn) {
  test::TempDir dir("otlp-h2-test-");
  ASSERT_TRUE(dir.ok());
  ASSERT_OK_AND_ASSIGN(auto pki, test::GenerateTestPki(dir.path()));
  test::H2TestServer::Options options;
  options.tls = true;
  options.tls_options = {.certificate_file = pki.server_cert_file, .key_file = pki.server_key_file};
  StartServer(Echo(), options);
  ASSERT_OK_AND_ASSIGN(auto tls, TlsContext::Client({.ca_file = pki.ca_cert_file,
                                                     .alpn_protocols = {"h2", "http/1.1"}}));
  auto session = Connect(server_->port(), {}, tls);
  ASSERT_NE(session, nullptr);
  EXPECT_TRUE(session->is_tls());
  auto r = Fetch(*session, {.url = Url("/secure", true)});
  ASSERT_OK(r);
  EXPECT_EQ(r->Header("x-scheme"), "https");

  // A server that speaks only HTTP/1.1 is refused with a clear error.
  server_.reset();
  options.tls_options.alpn_protocols = {"http/1.1"};
  StartServer(Echo(), options);
  auto refused = ConnectResult(server_->port(), {}, tls);
  EXPECT_THAT(refused, StatusIs(StatusCode::kUnavailable, HasSubstr("did not choose HTTP/2")));
}

TEST_F(H2SessionTest, PingIsAnswered) {
  StartServer(Echo());
  auto session = Connect(server_->port());
  ASSERT_NE(session, nullptr);
  EXPECT_OK(Ping(*session));
  EXPECT_OK(Ping(*session));
}

// --- raw peers ---

// A frame: 9-byte header and payload.
std::string Frame(uint8_t type, uint8_t flags, uint32_t stream_id, std::string_view payload) {
  std::string f;
  const size_t n = payload.size();
  f += static_cast<char>(n >> 16);
  f += static_cast<char>(n >> 8);
  f += static_cast<char>(n);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  f += static_cast<char>(stream_id >> 24);
  f += static_cast<char>(stream_id >> 16);
  f += static_cast<char>(stream_id >> 8);
  f += static_cast<char>(stream_id);
  f += payload;
  return f;
}

// HPACK "literal header field without indexing, new name" (RFC 7541 §6.2.2), short strings.
std::string Literal(std::string_view name, std::string_view value) {
  std::string out;
  out += '\0';
  out += static_cast<char>(name.size());
  out += name;
  out += static_cast<char>(value.size());
  out += value;
  return out;
}

// Reads the client's preface and frames until its first HEADERS frame (the request).
bool ReadUntilRequest(int fd) {
  std::string in;
  char buf[4096];
  for (;;) {
    size_t pos = kH2ClientPreface.size();
    while (pos + 9 <= in.size()) {
      if (in[pos + 3] == NGHTTP2_HEADERS) return true;
      pos += 9 + ((static_cast<uint8_t>(in[pos]) << 16) | (static_cast<uint8_t>(in[pos + 1]) << 8) |
                  static_cast<uint8_t>(in[pos + 2]));
    }
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    in.append(buf, static_cast<size_t>(n));
  }
}

// A server that waits for the request, then sends `frames` and waits for the close.
test::RawTcpServer::Behavior SendFrames(std::string frames) {
  return [frames](int fd) {
    char buf[4096];
    if (!ReadUntilRequest(fd)) return;
    std::string out = Frame(NGHTTP2_SETTINGS, 0, 0, "") + frames;
    if (::write(fd, out.data(), out.size()) < 0) return;
    while (::read(fd, buf, sizeof buf) > 0) {
    }
  };
}

TEST_F(H2SessionTest, InvalidStatusFromThePeerIsAProtocolError) {
  for (std::string status : {"999", "abc", "101"}) {
    ASSERT_OK_AND_ASSIGN(auto raw, test::RawTcpServer::Start(SendFrames(Frame(
                                       NGHTTP2_HEADERS, NGHTTP2_FLAG_END_STREAM | NGHTTP2_FLAG_END_HEADERS,
                                       1, Literal(":status", status)))));
    auto session = Connect(raw->port());
    ASSERT_NE(session, nullptr);
    auto r = Fetch(*session, {.url = "http://127.0.0.1:" + std::to_string(raw->port()) + "/"});
    EXPECT_THAT(r, StatusIs(StatusCode::kInternal, HasSubstr("HTTP/2"))) << status;
    EXPECT_EQ(H2ErrorKindOf(r.status()), H2ErrorKind::kProtocol) << status;
    session->Close();
  }
}

TEST_F(H2SessionTest, ResetAfterHeadersGivesATruncatedResponseWhenAccepted) {
  const std::string rst_payload("\0\0\0\x02", 4);  // INTERNAL_ERROR
  const std::string frames =
      Frame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS, 1, Literal(":status", "200")) +
      Frame(NGHTTP2_DATA, 0, 1, "part") + Frame(NGHTTP2_RST_STREAM, 0, 1, rst_payload);
  for (bool accept : {false, true}) {
    ASSERT_OK_AND_ASSIGN(auto raw, test::RawTcpServer::Start(SendFrames(frames)));
    auto session = Connect(raw->port());
    ASSERT_NE(session, nullptr);
    auto r = Fetch(*session, {.url = "http://127.0.0.1:" + std::to_string(raw->port()) + "/",
                              .accept_truncated_body = accept});
    if (accept) {
      ASSERT_OK(r);
      EXPECT_EQ(r->status, 200);
      EXPECT_EQ(r->body, "part");
      EXPECT_TRUE(r->body_truncated);
    } else {
      EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable, HasSubstr("INTERNAL_ERROR")));
      EXPECT_EQ(H2ErrorKindOf(r.status()), H2ErrorKind::kStreamReset);
    }
    session->Close();
  }
}

TEST_F(H2SessionTest, GarbageFromTheServerIsAConnectionError) {
  ASSERT_OK_AND_ASSIGN(auto raw, test::RawTcpServer::Start(test::RawTcpServer::ReplyAfterRequest(
                                     "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")));
  auto session = Connect(raw->port());
  ASSERT_NE(session, nullptr);
  auto r = Fetch(*session, {.url = "http://127.0.0.1:" + std::to_string(raw->port()) + "/"});
  EXPECT_FALSE(r.ok());
  // kNotSent when the garbage arrived before the request's HEADERS went out.
  EXPECT_THAT(H2ErrorKindOf(r.status()),
              ::testing::AnyOf(H2ErrorKind::kProtocol, H2ErrorKind::kConnection,
                               H2ErrorKind::kNotSent));
  EXPECT_TRUE(WaitFor([&] { return !session->is_open(); }));
  // Later requests fail at once.
  auto later = Fetch(*session, {.url = "http://127.0.0.1:" + std::to_string(raw->port()) + "/"});
  EXPECT_FALSE(later.ok());
}

TEST_F(H2SessionTest, UnansweredPingsFailTheConnection) {
  // A peer that reads everything and never answers.
  ASSERT_OK_AND_ASSIGN(auto raw, test::RawTcpServer::Start([](int fd) {
                         char buf[4096];
                         while (::read(fd, buf, sizeof buf) > 0) {
                         }
                       }));
  H2ClientSession::Options options;
  options.ping_interval = std::chrono::milliseconds(20);
  options.ping_timeout = std::chrono::milliseconds(50);
  auto session = Connect(raw->port(), options);
  ASSERT_NE(session, nullptr);
  auto r = Fetch(*session, {.url = "http://127.0.0.1:" + std::to_string(raw->port()) + "/"},
                 Clock::time_point::max());
  EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable, HasSubstr("PING")));
  EXPECT_EQ(H2ErrorKindOf(r.status()), H2ErrorKind::kConnection);
  raw->Stop();
}

TEST_F(H2SessionTest, MalformedFramesEndTheServerConnectionOnly) {
  StartServer(Echo());
  // A SETTINGS frame whose length is not a multiple of 6 is a connection error.
  const std::string bad = std::string(kH2ClientPreface) + Frame(NGHTTP2_SETTINGS, 0, 0, "12345");
  auto answer = test::RawExchange(server_->port(), bad);
  ASSERT_OK(answer);
  // The server answered with its SETTINGS and a GOAWAY (type 7) before closing.
  bool goaway = false;
  for (size_t i = 0; i + 9 <= answer->size();) {
    const size_t len = (static_cast<uint8_t>((*answer)[i]) << 16) |
                       (static_cast<uint8_t>((*answer)[i + 1]) << 8) |
                       static_cast<uint8_t>((*answer)[i + 2]);
    if ((*answer)[i + 3] == NGHTTP2_GOAWAY) goaway = true;
    i += 9 + len;
  }
  EXPECT_TRUE(goaway);
  EXPECT_TRUE(WaitFor([&] { return server_->closed_sessions() == 1; }));
  EXPECT_EQ(H2ErrorKindOf(server_->last_close_status()), H2ErrorKind::kProtocol);

  // Not HTTP/2 at all.
  auto http1 = test::RawExchange(server_->port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(WaitFor([&] { return server_->closed_sessions() == 2; }));
  EXPECT_FALSE(server_->last_close_status().ok());

  // A truncated frame, then the peer half-closes.
  ASSERT_OK_AND_ASSIGN(int fd, test::RawConnect(server_->port()));
  const std::string truncated =
      std::string(kH2ClientPreface) + Frame(NGHTTP2_SETTINGS, 0, 0, "").substr(0, 5);
  ASSERT_EQ(::write(fd, truncated.data(), truncated.size()),
            static_cast<ssize_t>(truncated.size()));
  ::shutdown(fd, SHUT_WR);
  EXPECT_OK(test::RawExchange(fd, "", ""));
  ::close(fd);
  EXPECT_TRUE(WaitFor([&] { return server_->closed_sessions() == 3; }));
  EXPECT_EQ(H2ErrorKindOf(server_->last_close_status()), H2ErrorKind::kConnection);

  // The server still serves well-behaved clients.
  auto session = Connect(server_->port());
  ASSERT_NE(session, nullptr);
  auto r = Fetch(*session, {.url = Url("/ok")});
  ASSERT_OK(r);
  EXPECT_EQ(r->Header("x-path"), "/ok");
}

TEST_F(H2SessionTest, RandomFramesNeverCrashTheServer) {
  StartServer(Echo());
  uint32_t x = 2024;
  auto next = [&x] {
    x = x * 1103515245 + 12345;
    return static_cast<uint8_t>(x >> 16);
  };
  constexpr int kRounds = 40;
  for (int round = 0; round < kRounds; ++round) {
    // A well-formed start (preface, SETTINGS), then frames with random types, flags, stream ids
    // and payloads, some with lengths that disagree with what follows.
    std::string bytes = std::string(kH2ClientPreface) + Frame(NGHTTP2_SETTINGS, 0, 0, "");
    for (int f = 0; f < 4; ++f) {
      std::string payload(next() % 40, '\0');
      for (char& c : payload) c = static_cast<char>(next());
      std::string frame = Frame(next() % 12, next(), next() % 8, payload);
      if (next() % 4 == 0) frame[2] = static_cast<char>(next());  // a lying length
      bytes += frame;
    }
    ASSERT_OK_AND_ASSIGN(int fd, test::RawConnect(server_->port()));
    if (::write(fd, bytes.data(), bytes.size()) < 0) ADD_FAILURE() << "write failed";
    ::shutdown(fd, SHUT_WR);
    EXPECT_OK(test::RawExchange(fd, "", ""));
    ::close(fd);
  }
  EXPECT_TRUE(WaitFor([&] { return server_->closed_sessions() == kRounds; }));
  auto session = Connect(server_->port());
  ASSERT_NE(session, nullptr);
  auto r = Fetch(*session, {.url = Url("/still-serving")});
  ASSERT_OK(r);
  EXPECT_EQ(r->Header("x-path"), "/still-serving");
}

TEST_F(H2SessionTest, RandomFramesNeverCrashTheClient) {
  auto seed = std::make_shared<std::atomic<uint32_t>>(99);
  // Per connection: SETTINGS, random frames (on stream 1 mostly), then end of stream.
  ASSERT_OK_AND_ASSIGN(auto raw, test::RawTcpServer::Start([seed](int fd) {
                         uint32_t x = seed->fetch_add(7919);
                         auto next = [&x] {
                           x = x * 1103515245 + 12345;
                           return static_cast<uint8_t>(x >> 16);
                         };
                         char buf[4096];
                         if (::read(fd, buf, sizeof buf) <= 0) return;
                         std::string out = Frame(NGHTTP2_SETTINGS, 0, 0, "");
                         for (int f = 0; f < 4; ++f) {
                           std::string payload(next() % 40, '\0');
                           for (char& c : payload) c = static_cast<char>(next());
                           out += Frame(next() % 12, next(), next() % 3, payload);
                         }
                         if (::write(fd, out.data(), out.size()) < 0) return;
                         ::shutdown(fd, SHUT_WR);
                         while (::read(fd, buf, sizeof buf) > 0) {
                         }
                       }));
  for (int round = 0; round < 30; ++round) {
    auto session = Connect(raw->port());
    ASSERT_NE(session, nullptr);
    auto r = Fetch(*session, {.url = "http://127.0.0.1:" + std::to_string(raw->port()) + "/"},
                   Deadline(std::chrono::seconds(10)));
    // Whatever the bytes were, the request ends (the peer's end of stream at the latest) with a
    // response or a clear error; the session ends with the connection.
    if (!r.ok()) {
      EXPECT_FALSE(r.status().message().empty());
    }
    EXPECT_TRUE(WaitFor([&] { return !session->is_open(); }));
  }
}

TEST(H2PrefaceTest, MatchesPrefixesOfThePreface) {
  EXPECT_TRUE(MatchesH2Preface("PRI * HT"));
  EXPECT_TRUE(MatchesH2Preface(kH2ClientPreface));
  EXPECT_TRUE(MatchesH2Preface(std::string(kH2ClientPreface) + "\x00\x00"));
  EXPECT_FALSE(MatchesH2Preface("GET / HTTP/1.1\r\n"));
  EXPECT_EQ(H2ErrorCodeName(NGHTTP2_REFUSED_STREAM), "REFUSED_STREAM");
  EXPECT_EQ(H2ErrorCodeName(0x1f), "error code 0x1f");
}

TEST(NvListTest, TraceparentIsNeverIndexedOtherFieldsAre) {
  // A new traceparent on every request must not enter the HPACK dynamic table.
  NvList nv;
  nv.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  nv.Add("user-agent", "otlp-cpp");
  ASSERT_EQ(nv.size(), 2u);
  EXPECT_EQ(nv.data()[0].flags, NGHTTP2_NV_FLAG_NO_INDEX);
  EXPECT_EQ(nv.data()[1].flags, NGHTTP2_NV_FLAG_NONE);
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(nv.data()[1].value), nv.data()[1].valuelen),
            "otlp-cpp");
}

}  // namespace
}  // namespace otlp::net::internal
