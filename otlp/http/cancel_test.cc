// CancelToken through the user-facing clients: a cancelled request completes with kCancelled
// and its attempt on the wire is aborted: on HTTP/1.1 its connection is closed (the server sees
// it go, the pool does not keep it), on HTTP/2 its stream is reset with CANCEL while the session
// and its other streams go on. Requests waiting for a connection slot, for a max_in_flight
// slot or in a retry backoff are cancelled too. Sync Client and AsyncClient both.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

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
using ::testing::HasSubstr;

constexpr auto kGenerous = std::chrono::seconds(30);
constexpr uint32_t kCancelCode = 0x8;

// Counts events of a server thread for the test thread to wait on.
class Events {
 public:
  void Add(int& counter) {
    std::lock_guard lock(mu_);
    ++counter;
    cv_.notify_all();
  }
  bool WaitFor(const int& counter, int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kGenerous, [&] { return counter >= n; });
  }
  int requests = 0;  // guarded by mu_
  int closes = 0;    // guarded by mu_

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

// Reads a request's headers, reports it, then waits for the client to close the connection
// and reports that.
RawTcpServer::Behavior HangUntilClosed(Events& events) {
  return [&events](int fd) {
    std::string data;
    char buf[4096];
    while (data.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) return;
      data.append(buf, static_cast<size_t>(n));
    }
    events.Add(events.requests);
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break;
    }
    events.Add(events.closes);
  };
}

ClientOptions Options(net::HttpVersionPolicy version = net::HttpVersionPolicy::kHttp1Only) {
  ClientOptions options;
  options.transport.http_version = version;
  // Far beyond the waits below: only the cancellation can end a request in time.
  options.transport.default_timeout = std::chrono::seconds(300);
  options.proxy = ProxyConfig();
  options.metrics = false;
  return options;
}

std::string Url(const RawTcpServer& server, std::string_view path = "/") {
  return "http://127.0.0.1:" + std::to_string(server.port()) + std::string(path);
}

TEST(CancelTest, Http1CancelClosesTheConnectionSyncAndAsync) {
  Events events;
  ASSERT_OK_AND_ASSIGN(auto server, RawTcpServer::Start(HangUntilClosed(events)));
  {
    ASSERT_OK_AND_ASSIGN(auto client, Client::Create(Options()));
    CancelToken cancel;
    std::thread canceller([&] {
      EXPECT_TRUE(events.WaitFor(events.requests, 1));
      cancel.Cancel();
    });
    Result<Response> r = client->Get(Url(*server), cancel);
    canceller.join();
    EXPECT_THAT(r, StatusIs(StatusCode::kCancelled, HasSubstr("cancelled")));
    EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kCancelled);
    // The server sees the connection go while the client lives on; nothing is pooled.
    EXPECT_TRUE(events.WaitFor(events.closes, 1));
    EXPECT_EQ(client->idle_connections(), 0u);
  }
  {
    ASSERT_OK_AND_ASSIGN(auto client, AsyncClient::Create(Options()));
    CancelToken cancel;
    auto future = client->Send(Request::Get(Url(*server)).With(cancel));
    ASSERT_TRUE(events.WaitFor(events.requests, 2));
    cancel.Cancel();
    Result<Response> r = future.get();
    EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kCancelled);
    EXPECT_TRUE(events.WaitFor(events.closes, 2));
    EXPECT_EQ(client->idle_connections(), 0u);
  }
}

// One HTTP/2 connection: the first request is held by the server, the second is answered only
// once the first's RST_STREAM CANCEL arrived.
struct H2Script {
  std::mutex mu;
  std::condition_variable cv;
  uint32_t held = 0;
  uint32_t pending = 0;
  bool reset_seen = false;
  uint32_t reset_code = 0;
  int requests = 0;

  RawTcpServer::Behavior Behavior() {
    RawH2::Options options;
    options.on_frame = [this](RawH2& h2, const RawH2::Frame& frame) {
      if (frame.type != 0x3) return true;  // RST_STREAM
      std::unique_lock lock(mu);
      if (frame.stream_id != held || frame.payload.size() != 4) return true;
      reset_seen = true;
      reset_code = (uint32_t{static_cast<uint8_t>(frame.payload[2])} << 8) |
                   static_cast<uint8_t>(frame.payload[3]);
      cv.notify_all();
      if (pending != 0) return Answer(h2, std::exchange(pending, 0));
      return true;
    };
    return RawH2::Serve(options, [this](RawH2& h2, uint32_t stream) {
      std::unique_lock lock(mu);
      ++requests;
      cv.notify_all();
      if (held == 0) {
        held = stream;  // never answered
        return true;
      }
      if (reset_seen) return Answer(h2, stream);
      pending = stream;
      return true;
    });
  }
  static bool Answer(RawH2& h2, uint32_t stream) {
    return h2.Headers(stream, 200) && h2.Data(stream, "still here", /*end_stream=*/true);
  }
  bool WaitRequests(int n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, kGenerous, [&] { return requests >= n; });
  }
  bool WaitReset() {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, kGenerous, [&] { return reset_seen; });
  }
};

TEST(CancelTest, Http2CancelResetsOnlyThatStreamAsync) {
  H2Script script;
  ASSERT_OK_AND_ASSIGN(auto server, RawTcpServer::Start(script.Behavior()));
  ASSERT_OK_AND_ASSIGN(auto client,
                       AsyncClient::Create(Options(net::HttpVersionPolicy::kHttp2PriorKnowledge)));
  CancelToken cancel;
  auto held = client->Send(Request::Get(Url(*server, "/held")).With(cancel));
  ASSERT_TRUE(script.WaitRequests(1));
  auto other = client->Send(Request::Get(Url(*server, "/other")));
  ASSERT_TRUE(script.WaitRequests(2));
  cancel.Cancel();
  Result<Response> r = held.get();
  EXPECT_THAT(r, StatusIs(StatusCode::kCancelled));
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kCancelled);
  ASSERT_TRUE(script.WaitReset());
  EXPECT_EQ(script.reset_code, kCancelCode);
  // The concurrent stream is answered on the same connection.
  ASSERT_OK_AND_ASSIGN(Response ok, other.get());
  EXPECT_EQ(ok.body, "still here");
  EXPECT_EQ(ok.protocol_version, "2");
  EXPECT_EQ(server->connections(), 1u);
  EXPECT_EQ(client->connections_opened(), 1u);
}

TEST(CancelTest, Http2CancelResetsOnlyThatStreamSync) {
  H2Script script;
  ASSERT_OK_AND_ASSIGN(auto server, RawTcpServer::Start(script.Behavior()));
  ASSERT_OK_AND_ASSIGN(auto client,
                       Client::Create(Options(net::HttpVersionPolicy::kHttp2PriorKnowledge)));
  CancelToken cancel;
  std::thread canceller([&] {
    EXPECT_TRUE(script.WaitRequests(1));
    cancel.Cancel();
  });
  Result<Response> r = client->Get(Url(*server, "/held"), cancel);
  canceller.join();
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kCancelled);
  ASSERT_TRUE(script.WaitReset());
  EXPECT_EQ(script.reset_code, kCancelCode);
  // The session lives on: the next request shares the connection.
  ASSERT_OK_AND_ASSIGN(Response ok, client->Get(Url(*server, "/other")));
  EXPECT_EQ(ok.body, "still here");
  EXPECT_EQ(server->connections(), 1u);
}

TEST(CancelTest, RequestsWaitingForASlotAreCancelled) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  // A transport slot (max_connections_per_host), then an engine slot (max_in_flight).
  for (bool engine_slot : {false, true}) {
    server->ClearRequests();
    server->Enqueue(ScriptedReply::Hang());
    ClientOptions options = Options();
    if (engine_slot) {
      options.max_in_flight = 1;
    } else {
      options.transport.max_connections_per_host = 1;
    }
    ASSERT_OK_AND_ASSIGN(auto client, AsyncClient::Create(std::move(options)));
    CancelToken first_cancel;
    CancelToken queued_cancel;
    auto first = client->Send(Request::Get(server->Url("/hang")).With(first_cancel));
    ASSERT_TRUE(server->WaitForRequests(1, kGenerous));
    auto queued = client->Send(Request::Get(server->Url("/queued")).With(queued_cancel));
    queued_cancel.Cancel();
    EXPECT_EQ(ErrorKindOf(queued.get().status()), ErrorKind::kCancelled) << engine_slot;
    first_cancel.Cancel();
    EXPECT_EQ(ErrorKindOf(first.get().status()), ErrorKind::kCancelled) << engine_slot;
    // The slot is free again: the next request goes through.
    ASSERT_OK_AND_ASSIGN(Response ok, client->Send(Request::Get(server->Url("/ok"))).get());
    EXPECT_EQ(ok.status, 200);
    const auto requests = server->requests();
    ASSERT_EQ(requests.size(), 2u) << engine_slot;
    EXPECT_EQ(requests[1].target, "/ok");  // the queued request was never sent
  }
}

TEST(CancelTest, ARetryBackoffIsCancelled) {
  auto store = std::make_shared<trace::InMemorySpanStore>();
  auto provider =
      trace::TracerProvider::Create({.processor = std::make_unique<trace::SimpleSpanProcessor>(
                                         std::make_unique<trace::InMemorySpanExporter>(store))});
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  server->Enqueue({.status = 503, .headers = {{"Retry-After", "120"}}});
  ClientOptions options = Options();
  options.transport.default_timeout = std::chrono::seconds(600);
  options.retry.max_retry_after = std::chrono::seconds(600);
  options.tracing.tracer = provider->GetTracer("otlp.http");
  ASSERT_OK_AND_ASSIGN(auto client, Client::Create(std::move(options)));
  CancelToken cancel;
  std::thread canceller([&] {
    // The first attempt's span ends when its 503 is handled: the retry wait has begun.
    store->WaitForSpans(1, kGenerous);
    cancel.Cancel();
  });
  // Without the cancellation this would wait two minutes, then fail the test's bounds.
  Result<Response> r = client->Get(server->Url("/busy"), cancel);
  canceller.join();
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kCancelled);
  EXPECT_EQ(server->request_count(), 1u);
  provider->Shutdown();
}

}  // namespace
}  // namespace otlp::http
