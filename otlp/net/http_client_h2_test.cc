// HttpClient over HTTP/2: h2c with prior knowledge and h2 over TLS (ALPN) against the project's
// HTTP/2 test server (tests/support/h2_test_server.h), which scripts GOAWAY and stream resets.
// One shared connection per origin, replacement of a session that goes away, the one retry of
// requests the server did not process, error kinds, timeouts, streaming and Shutdown.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "otlp/net/http_client.h"
#include "otlp/net/internal/h2_server.h"
#include "otlp/net/runtime.h"
#include "tests/support/h2_test_server.h"
#include "tests/support/raw_tcp_server.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace otlp::net {
namespace {

using internal::H2Reply;
using internal::H2ServerRequest;
using internal::H2ServerResponse;
using internal::H2ServerSession;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

constexpr auto kWait = std::chrono::seconds(30);

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
    paths_.push_back(request.path);
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

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> paths_;
  std::vector<H2Reply> replies_;
};

H2ServerSession::Handler Echo() {
  return [](H2ServerRequest req, H2Reply reply) {
    reply.Send({.status = 200,
                .headers = {{"x-path", req.path}, {"x-method", req.method}},
                .body = req.body});
  };
}

class HttpClientH2Test : public ::testing::Test {
 protected:
  void StartServer(H2ServerSession::Handler handler, test::H2TestServer::Options options = {}) {
    auto server = test::H2TestServer::Start(runtime_, std::move(options), std::move(handler));
    ASSERT_OK(server);
    server_ = std::move(*server);
  }

  std::unique_ptr<HttpClient> MakeClient(HttpClient::Options options = {}) {
    if (options.http_version == HttpVersionPolicy::kHttp1Only) {
      options.http_version = HttpVersionPolicy::kHttp2PriorKnowledge;
    }
    auto client = HttpClient::Create(runtime_, std::move(options));
    EXPECT_OK(client);
    return client.ok() ? std::move(*client) : nullptr;
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }

  static std::future<Result<HttpResponse>> SendAsync(HttpClient& client, HttpRequest request) {
    auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
    auto future = promise->get_future();
    client.SendAsync(std::move(request),
                     [promise](Result<HttpResponse> r) { promise->set_value(std::move(r)); });
    return future;
  }

  static Result<HttpResponse> Await(std::future<Result<HttpResponse>>& future) {
    if (future.wait_for(kWait) != std::future_status::ready) {
      return Status(StatusCode::kDeadlineExceeded, "test: the request never completed");
    }
    return future.get();
  }

  std::shared_ptr<Runtime> runtime_ = Runtime::Create({.threads = 2});
  std::unique_ptr<test::H2TestServer> server_;
};

TEST_F(HttpClientH2Test, PriorKnowledgeGetAndPost) {
  StartServer(Echo());
  auto client = MakeClient();
  ASSERT_TRUE(client);
  ASSERT_OK_AND_ASSIGN(auto get, client->Send({.url = Url("/a?b=c")}));
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.version, "2");
  EXPECT_EQ(get.Header("x-path"), "/a?b=c");
  EXPECT_FALSE(get.connection_reused);
  EXPECT_GT(get.timings.connect.count(), 0);
  EXPECT_GT(get.timings.first_byte.count(), 0);
  EXPECT_GE(get.timings.total, get.timings.first_byte);
  ASSERT_OK_AND_ASSIGN(auto post,
                       client->Send({.method = "POST", .url = Url("/p"), .body = "payload"}));
  EXPECT_EQ(post.body, "payload");
  EXPECT_EQ(post.Header("x-method"), "POST");
  EXPECT_TRUE(post.connection_reused);
  EXPECT_EQ(post.timings.connect.count(), 0);
  EXPECT_EQ(client->connections_opened(), 1u);
  EXPECT_EQ(server_->connections(), 1u);
}

TEST_F(HttpClientH2Test, PerRequestPolicyOverridesTheClientDefault) {
  StartServer(Echo());
  auto client = HttpClient::Create(runtime_, {});  // kHttp1Only by default
  ASSERT_OK(client);
  ASSERT_OK_AND_ASSIGN(
      auto r,
      (*client)->Send({.url = Url("/x"), .http_version = HttpVersionPolicy::kHttp2PriorKnowledge}));
  EXPECT_EQ(r.version, "2");
  // kPreferHttp2 negotiates only over TLS: an http:// request stays HTTP/1.1, which this
  // HTTP/2-only server does not understand.
  auto h1 = (*client)->Send({.url = Url("/x"), .http_version = HttpVersionPolicy::kPreferHttp2});
  EXPECT_FALSE(h1.ok());
}

TEST_F(HttpClientH2Test, FiftyConcurrentRequestsWaitForOneConnection) {
  StartServer(Echo());
  auto client = MakeClient();
  ASSERT_TRUE(client);
  constexpr int kRequests = 50;
  std::vector<std::future<Result<HttpResponse>>> futures;
  for (int i = 0; i < kRequests; ++i) {
    futures.push_back(SendAsync(*client, {.url = Url("/" + std::to_string(i))}));
  }
  int fresh = 0;
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_OK_AND_ASSIGN(auto r, Await(futures[i]));
    EXPECT_EQ(r.Header("x-path"), "/" + std::to_string(i));
    EXPECT_EQ(r.version, "2");
    if (!r.connection_reused) ++fresh;
  }
  EXPECT_EQ(fresh, 1);  // the request that opened the connection
  EXPECT_EQ(client->connections_opened(), 1u);
  EXPECT_EQ(server_->connections(), 1u);
}

TEST_F(HttpClientH2Test, ConcurrentRequestsToANonListeningPortAllFailWithItsError) {
  ASSERT_OK_AND_ASSIGN(uint16_t port, test::PickUnusedPort());
  auto client = MakeClient();
  ASSERT_TRUE(client);
  std::vector<std::future<Result<HttpResponse>>> futures;
  for (int i = 0; i < 10; ++i) {
    futures.push_back(SendAsync(*client, {.url = "http://127.0.0.1:" + std::to_string(port)}));
  }
  for (auto& f : futures) {
    auto r = Await(f);
    EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable));
    EXPECT_EQ(HttpErrorKindOf(r.status()), HttpErrorKind::kConnectionRefused);
  }
}

TEST_F(HttpClientH2Test, ASessionGoingAwayIsReplacedForNewRequests) {
  StartServer(Echo());
  auto client = MakeClient();
  ASSERT_TRUE(client);
  ASSERT_OK(client->Send({.url = Url("/1")}));
  server_->sessions().front()->Shutdown();  // GOAWAY NO_ERROR; the connection then closes
  ASSERT_TRUE(WaitFor([&] { return server_->closed_sessions() == 1; }));
  ASSERT_OK_AND_ASSIGN(auto r, client->Send({.url = Url("/2")}));
  EXPECT_EQ(r.Header("x-path"), "/2");
  EXPECT_FALSE(r.connection_reused);
  EXPECT_EQ(server_->connections(), 2u);
  EXPECT_EQ(client->connections_opened(), 2u);
}

TEST_F(HttpClientH2Test, RequestsNotProcessedBeforeGoAwayAreRetriedOnANewSession) {
  HeldReplies held;
  std::atomic<int> seen{0};
  StartServer([&](H2ServerRequest req, H2Reply reply) {
    if (seen.fetch_add(1) < 2) return held.Add(std::move(req), reply);  // first connection
    reply.Send({.status = 200, .body = "retried " + req.path});
  });
  auto client = MakeClient();
  ASSERT_TRUE(client);
  auto first = SendAsync(*client, {.url = Url("/first")});
  ASSERT_TRUE(held.WaitCount(1));
  auto second = SendAsync(*client, {.url = Url("/second")});
  ASSERT_TRUE(held.WaitCount(2));
  // Streams 1 and 3: the server says it processed only stream 1.
  server_->sessions().front()->GoAway(1, NGHTTP2_NO_ERROR);
  held.reply(0).Send({.status = 200, .body = "processed"});
  ASSERT_OK_AND_ASSIGN(auto r1, Await(first));
  EXPECT_EQ(r1.body, "processed");
  ASSERT_OK_AND_ASSIGN(auto r2, Await(second));
  EXPECT_EQ(r2.body, "retried /second");
  EXPECT_EQ(server_->connections(), 2u);
}

TEST_F(HttpClientH2Test, GoAwayTwiceFailsWithKindGoAway) {
  StartServer([](H2ServerRequest, H2Reply reply) {
    // Every session goes away at once, processing nothing.
    (void)reply;
  });
  auto client = MakeClient();
  ASSERT_TRUE(client);
  std::atomic<bool> stop{false};
  std::thread goaway([&] {
    size_t done = 0;
    while (!stop) {
      auto sessions = server_->sessions();
      for (; done < sessions.size(); ++done) sessions[done]->GoAway(0, NGHTTP2_NO_ERROR);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  auto r = client->Send({.url = Url("/x"), .timeout = std::chrono::seconds(20)});
  stop = true;
  goaway.join();
  EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable, HasSubstr("GOAWAY")));
  EXPECT_EQ(HttpErrorKindOf(r.status()), HttpErrorKind::kGoAway);
  EXPECT_EQ(server_->connections(), 2u);  // the first attempt and the one retry
}

TEST_F(HttpClientH2Test, RefusedStreamIsRetriedOnceOtherResetsAreErrors) {
  std::atomic<int> seen{0};
  StartServer([&](H2ServerRequest req, H2Reply reply) {
    const int n = seen.fetch_add(1);
    if (req.path == "/refused-once" && n == 0) return reply.Reset(NGHTTP2_REFUSED_STREAM);
    if (req.path == "/always-refused") return reply.Reset(NGHTTP2_REFUSED_STREAM);
    if (req.path == "/internal") return reply.Reset(NGHTTP2_INTERNAL_ERROR);
    reply.Send({.status = 200, .body = "ok"});
  });
  auto client = MakeClient();
  ASSERT_TRUE(client);
  ASSERT_OK_AND_ASSIGN(auto r, client->Send({.url = Url("/refused-once")}));
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(seen.load(), 2);

  seen = 0;
  auto refused = client->Send({.url = Url("/always-refused")});
  EXPECT_THAT(refused, StatusIs(StatusCode::kUnavailable, HasSubstr("REFUSED_STREAM")));
  EXPECT_EQ(HttpErrorKindOf(refused.status()), HttpErrorKind::kStreamReset);
  EXPECT_EQ(seen.load(), 2);  // sent twice, no more

  seen = 0;
  auto reset = client->Send({.url = Url("/internal")});
  EXPECT_THAT(reset, StatusIs(StatusCode::kUnavailable, HasSubstr("INTERNAL_ERROR")));
  EXPECT_EQ(HttpErrorKindOf(reset.status()), HttpErrorKind::kStreamReset);
  EXPECT_FALSE(reset.status().retryable());
  EXPECT_EQ(seen.load(), 1);
  EXPECT_EQ(server_->connections(), 1u);  // resets leave the connection up
}

TEST_F(HttpClientH2Test, RequestTimeoutResetsOnlyThatStream) {
  HeldReplies held;
  StartServer([&](H2ServerRequest req, H2Reply reply) {
    if (req.path == "/slow") return held.Add(std::move(req), reply);
    reply.Send({.status = 200, .body = "fast"});
  });
  auto client = MakeClient();
  ASSERT_TRUE(client);
  auto r = client->Send({.url = Url("/slow"), .timeout = std::chrono::milliseconds(200)});
  EXPECT_THAT(r, StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_EQ(HttpErrorKindOf(r.status()), HttpErrorKind::kRequestTimeout);
  ASSERT_OK_AND_ASSIGN(auto ok, client->Send({.url = Url("/fast")}));
  EXPECT_EQ(ok.body, "fast");
  EXPECT_TRUE(ok.connection_reused);
  EXPECT_EQ(server_->connections(), 1u);
}

TEST_F(HttpClientH2Test, StreamingDownloadBeyondTheBodyLimitAndSinkErrors) {
  const std::string big(3 * 1024 * 1024 + 17, 'z');
  StartServer([&](H2ServerRequest, H2Reply reply) { reply.Send({.status = 200, .body = big}); });
  auto client = MakeClient({.max_response_body = 1024 * 1024});
  ASSERT_TRUE(client);
  // Collected: over the limit.
  auto collected = client->Send({.url = Url("/big")});
  EXPECT_THAT(collected, StatusIs(StatusCode::kResourceExhausted));
  EXPECT_EQ(HttpErrorKindOf(collected.status()), HttpErrorKind::kTooLarge);
  // Streamed: no limit, never stored.
  size_t got = 0;
  size_t chunks = 0;
  std::vector<HttpProgress> progress;
  ASSERT_OK_AND_ASSIGN(
      auto streamed,
      client->Send({.url = Url("/big"),
                    .on_body =
                        [&](std::string_view chunk) {
                          got += chunk.size();
                          ++chunks;
                          return Status::Ok();
                        },
                    .on_progress = [&](const HttpProgress& p) { progress.push_back(p); }}));
  EXPECT_EQ(streamed.status, 200);
  EXPECT_TRUE(streamed.body.empty());
  EXPECT_EQ(got, big.size());
  EXPECT_GT(chunks, 1u);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().received, big.size());
  // A sink that fails stops the download with its own error.
  auto stopped = client->Send({.url = Url("/big"), .on_body = [](std::string_view) {
                                 return Status(StatusCode::kDataLoss, "disk full");
                               }});
  EXPECT_THAT(stopped, StatusIs(StatusCode::kDataLoss, HasSubstr("disk full")));
  EXPECT_EQ(HttpErrorKindOf(stopped.status()), HttpErrorKind::kBodySink);
  // The connection survives all of it.
  ASSERT_OK(
      client->Send({.url = Url("/big"), .on_body = [](std::string_view) { return Status::Ok(); }}));
  EXPECT_EQ(server_->connections(), 1u);
}

TEST_F(HttpClientH2Test, UploadFromABodySource) {
  StartServer(Echo());
  auto client = MakeClient();
  ASSERT_TRUE(client);
  const std::string payload(200'000, 's');
  size_t offset = 0;
  auto source = [&](char* buf, size_t cap) -> Result<size_t> {
    const size_t n = std::min(cap, payload.size() - offset);
    std::memcpy(buf, payload.data() + offset, n);
    offset += n;
    return n;
  };
  ASSERT_OK_AND_ASSIGN(auto r, client->Send({.method = "PUT",
                                             .url = Url("/up"),
                                             .body_source = source,
                                             .body_length = payload.size()}));
  EXPECT_TRUE(r.body == payload);
  offset = 0;
  auto short_body = client->Send({.method = "PUT",
                                  .url = Url("/up"),
                                  .body_source = source,
                                  .body_length = payload.size() + 1});
  EXPECT_EQ(HttpErrorKindOf(short_body.status()), HttpErrorKind::kBodySource);
  auto failing = client->Send(
      {.method = "PUT", .url = Url("/up"), .body_source = [](char*, size_t) -> Result<size_t> {
         return Status(StatusCode::kNotFound, "no such file");
       }});
  EXPECT_THAT(failing, StatusIs(StatusCode::kNotFound, HasSubstr("no such file")));
  EXPECT_EQ(HttpErrorKindOf(failing.status()), HttpErrorKind::kBodySource);
}

TEST_F(HttpClientH2Test, ShutdownCancelsStreamsInFlightAndWaiters) {
  HeldReplies held;
  StartServer([&](H2ServerRequest req, H2Reply reply) { held.Add(std::move(req), reply); });
  auto client = MakeClient();
  ASSERT_TRUE(client);
  std::vector<std::future<Result<HttpResponse>>> futures;
  for (int i = 0; i < 5; ++i) futures.push_back(SendAsync(*client, {.url = Url("/held")}));
  ASSERT_TRUE(held.WaitCount(5));
  client->Shutdown();
  for (auto& f : futures) {
    auto r = Await(f);
    EXPECT_THAT(r, StatusIs(StatusCode::kCancelled));
    EXPECT_EQ(HttpErrorKindOf(r.status()), HttpErrorKind::kCancelled);
  }
  auto late = client->Send({.url = Url("/late")});
  EXPECT_EQ(HttpErrorKindOf(late.status()), HttpErrorKind::kCancelled);
  EXPECT_TRUE(WaitFor([&] { return server_->closed_sessions() == 1; }));
}

TEST_F(HttpClientH2Test, TlsAlpnChoosesHttp2OrFallsBackToHttp11) {
  test::TempDir dir("otlp-h2-client-test-");
  ASSERT_TRUE(dir.ok());
  ASSERT_OK_AND_ASSIGN(auto pki, test::GenerateTestPki(dir.path()));
  test::H2TestServer::Options options;
  options.tls = true;
  options.tls_options = {.certificate_file = pki.server_cert_file, .key_file = pki.server_key_file};
  StartServer(Echo(), options);
  auto client = MakeClient(
      {.tls = {.ca_file = pki.ca_cert_file}, .http_version = HttpVersionPolicy::kPreferHttp2});
  ASSERT_TRUE(client);
  const std::string url = "https://127.0.0.1:" + std::to_string(server_->port()) + "/secure";
  ASSERT_OK_AND_ASSIGN(auto r, client->Send({.url = url}));
  EXPECT_EQ(r.version, "2");
  EXPECT_GT(r.timings.tls.count(), 0);
  // Certificate failures keep their kind on the HTTP/2 path.
  auto untrusted = MakeClient({.http_version = HttpVersionPolicy::kPreferHttp2});
  ASSERT_TRUE(untrusted);
  auto rejected = untrusted->Send({.url = url});
  EXPECT_EQ(HttpErrorKindOf(rejected.status()), HttpErrorKind::kCertificate);
}

}  // namespace
}  // namespace otlp::net
