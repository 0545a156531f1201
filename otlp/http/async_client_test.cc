// The asynchronous client: callbacks, futures, co_await, cancellation, bounded concurrency and
// non-blocking retry waits, against the scripted server on loopback.
#include "otlp/http/async_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <coroutine>
#include <exception>
#include <thread>

#include "tests/support/scripted_http_server.h"
#include "tests/support/status_matchers.h"

namespace otlp::http {
namespace {

using ::testing::HasSubstr;
using std::chrono::milliseconds;
using test::ScriptedHttpServer;
using test::ScriptedReply;

std::unique_ptr<AsyncClient> MakeClient(ClientOptions options = {}) {
  auto client = AsyncClient::Create(std::move(options));
  EXPECT_OK(client);
  return client.ok() ? std::move(*client) : nullptr;
}

template <typename T>
bool Ready(std::future<T>& f) {
  return f.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
}

TEST(AsyncClientTest, CallbackRunsOnAnIoThread) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  server->Enqueue({.status = 200, .body = "hi"});
  auto client = MakeClient({.threads = 2});
  std::promise<std::pair<std::thread::id, Result<Response>>> done;
  client->SendAsync(Request::Get(server->Url("/")), [&](Result<Response> r) {
    done.set_value({std::this_thread::get_id(), std::move(r)});
  });
  auto [thread, result] = done.get_future().get();
  EXPECT_NE(thread, std::this_thread::get_id());
  ASSERT_OK(result);
  EXPECT_EQ(result->body, "hi");
}

TEST(AsyncClientTest, InvalidRequestStillCompletesOnAnIoThread) {
  auto client = MakeClient();
  std::promise<std::thread::id> done;
  client->SendAsync(Request::Get("nope"), [&](Result<Response> r) {
    EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument));
    done.set_value(std::this_thread::get_id());
  });
  EXPECT_NE(done.get_future().get(), std::this_thread::get_id());
}

TEST(AsyncClientTest, FuturesForConcurrentRequests) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  auto client = MakeClient({.threads = 2});
  std::vector<std::future<Result<Response>>> futures;
  for (int i = 0; i < 20; ++i) {
    futures.push_back(client->Send(Request::Get(server->Url("/n/" + std::to_string(i)))));
  }
  for (auto& f : futures) {
    ASSERT_TRUE(Ready(f));
    Result<Response> r = f.get();
    ASSERT_OK(r);
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(server->request_count(), 20u);
}

// A minimal eager coroutine type for the test: runs until its first suspension at once and
// reports the value it returns through a future.
struct TestTask {
  struct promise_type {
    std::promise<std::string> result;
    TestTask get_return_object() { return TestTask{result.get_future()}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_value(std::string v) { result.set_value(std::move(v)); }
    void unhandled_exception() { result.set_exception(std::current_exception()); }
  };
  std::future<std::string> value;
};

TestTask FetchTwo(AsyncClient& client, std::string url) {
  Result<Response> a = co_await client.Fetch(Request::Get(url + "/a"));
  if (!a.ok()) co_return "error: " + a.status().ToString();
  Result<Response> b = co_await client.Fetch(Request::Post(url + "/b").With(a->body));
  if (!b.ok()) co_return "error: " + b.status().ToString();
  co_return a->body + "+" + b->body;
}

TEST(AsyncClientTest, CoAwaitFetch) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  server->EnqueueAll({{.status = 200, .body = "one"}, {.status = 200, .body = "two"}});
  auto client = MakeClient();
  TestTask task = FetchTwo(*client, server->base_url());
  ASSERT_TRUE(Ready(task.value));
  EXPECT_EQ(task.value.get(), "one+two");
  EXPECT_EQ(server->requests()[1].body, "one");
}

TEST(AsyncClientTest, CancelInFlightAndBeforeSending) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  server->Enqueue(ScriptedReply::Hang());
  auto client = MakeClient();
  CancelToken cancel;
  auto hanging = client->Send(Request::Get(server->Url("/hang")).With(cancel));
  ASSERT_TRUE(server->WaitForRequests(1, std::chrono::seconds(10)));
  cancel.Cancel();
  ASSERT_TRUE(Ready(hanging));
  Result<Response> r = hanging.get();
  EXPECT_THAT(r, StatusIs(StatusCode::kCancelled));
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kCancelled);
  // An already cancelled token: nothing is sent.
  auto never = client->Send(Request::Get(server->Url("/never")).With(cancel));
  ASSERT_TRUE(Ready(never));
  EXPECT_THAT(never.get(), StatusIs(StatusCode::kCancelled));
  EXPECT_EQ(server->request_count(), 1u);
}

TEST(AsyncClientTest, MaxInFlightQueuesInOrder) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start(
                                        {.default_reply = ScriptedReply::Hang()}));
  auto client = MakeClient({.max_in_flight = 1});
  CancelToken first, second, third;
  auto f1 = client->Send(Request::Get(server->Url("/1")).With(first));
  auto f2 = client->Send(Request::Get(server->Url("/2")).With(second));
  auto f3 = client->Send(Request::Get(server->Url("/3")).With(third));
  ASSERT_TRUE(server->WaitForRequests(1, std::chrono::seconds(10)));
  EXPECT_EQ(server->request_count(), 1u);
  first.Cancel();
  ASSERT_TRUE(server->WaitForRequests(2, std::chrono::seconds(10)));
  EXPECT_EQ(server->request_count(), 2u);
  EXPECT_EQ(server->requests()[1].target, "/2");
  second.Cancel();
  ASSERT_TRUE(server->WaitForRequests(3, std::chrono::seconds(10)));
  EXPECT_EQ(server->requests()[2].target, "/3");
  third.Cancel();
  for (auto* f : {&f1, &f2, &f3}) {
    ASSERT_TRUE(Ready(*f));
    EXPECT_THAT(f->get(), StatusIs(StatusCode::kCancelled));
  }
}

TEST(AsyncClientTest, QueuedRequestTimesOutWhileWaiting) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start(
                                        {.default_reply = ScriptedReply::Hang()}));
  auto client = MakeClient({.max_in_flight = 1});
  CancelToken first;
  auto f1 = client->Send(Request::Get(server->Url("/1")).With(first));
  auto f2 = client->Send(Request::Get(server->Url("/2")).With(Timeout{milliseconds(100)}));
  ASSERT_TRUE(Ready(f2));
  Result<Response> r = f2.get();
  EXPECT_THAT(r, StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("free slot")));
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kRequestTimeout);
  first.Cancel();
  ASSERT_TRUE(Ready(f1));
}

TEST(AsyncClientTest, RetryWaitDoesNotBlockTheIoThread) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start(
      {.on_request = [](const test::RecordedRequest& req) -> std::optional<ScriptedReply> {
        if (req.target == "/slow-retry") {
          return ScriptedReply{.status = 503, .headers = {{"Retry-After", "2"}}};
        }
        return std::nullopt;
      }}));
  auto client = MakeClient({.threads = 1, .retry = {.max_attempts = 2}});
  auto waiting = client->Send(Request::Get(server->Url("/slow-retry")));
  ASSERT_TRUE(server->WaitForRequests(1, std::chrono::seconds(10)));
  // One I/O thread: this one is served while the other request waits for its retry.
  auto quick = client->Send(Request::Get(server->Url("/quick")));
  ASSERT_TRUE(Ready(quick));
  ASSERT_OK(quick.get());
  EXPECT_NE(waiting.wait_for(milliseconds(0)), std::future_status::ready);
  ASSERT_TRUE(Ready(waiting));
  ASSERT_OK_AND_ASSIGN(Response r, waiting.get());
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.attempts, 2);
}

TEST(AsyncClientTest, ShutdownCancelsEverything) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start(
                                        {.default_reply = ScriptedReply::Hang()}));
  auto client = MakeClient({.max_in_flight = 1});
  auto f1 = client->Send(Request::Get(server->Url("/1")));
  auto f2 = client->Send(Request::Get(server->Url("/2")));  // queued
  ASSERT_TRUE(server->WaitForRequests(1, std::chrono::seconds(10)));
  client->Shutdown();
  for (auto* f : {&f1, &f2}) {
    ASSERT_TRUE(Ready(*f));
    EXPECT_THAT(f->get(), StatusIs(StatusCode::kCancelled));
  }
  auto after = client->Send(Request::Get(server->Url("/3")));
  ASSERT_TRUE(Ready(after));
  EXPECT_THAT(after.get(), StatusIs(StatusCode::kCancelled));
}

TEST(AsyncClientTest, SharedRuntime) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  auto runtime = net::Runtime::Create();
  auto client = MakeClient({.runtime = runtime});
  std::promise<bool> on_runtime;
  client->SendAsync(Request::Get(server->Url("/")), [&](Result<Response> r) {
    EXPECT_OK(r);
    on_runtime.set_value(runtime->InIoThread());
  });
  EXPECT_TRUE(on_runtime.get_future().get());
}

}  // namespace
}  // namespace otlp::http
