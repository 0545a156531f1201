// The synchronous client against the project's scripted server on loopback: bodies, headers,
// retries, redirects, timeouts and the free functions.
#include "otlp/http/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "otlp/http/async_client.h"
#include "otlp/http/client_test_helpers.h"
#include "otlp/net/http_server.h"
#include "tests/support/scripted_http_server.h"
#include "tests/support/status_matchers.h"

namespace otlp::http {
namespace {

using ::testing::HasSubstr;
using test::ScriptedHttpServer;
using test::ScriptedReply;
using std::chrono::milliseconds;

using testing::FastRetry;
using testing::MakeClient;

TEST(ClientTest, GetSendsHeadersQueryAndReturnsResponse) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  server->Enqueue({.status = 200, .headers = {{"Content-Type", "application/json"}},
                   .body = R"({"ok":true})"});
  auto client = MakeClient({.default_headers = {{"X-Default", "d"}, {"Accept", "*/*"}},
                            .user_agent = "test-agent/1"});
  ASSERT_OK_AND_ASSIGN(Response r, client->Get(server->Url("/items"), Query{"q", "a b"},
                                               Header{"Accept", "application/json"}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "application/json");
  ASSERT_OK_AND_ASSIGN(nlohmann::json j, r.Json());
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(r.url, server->Url("/items?q=a%20b"));
  EXPECT_EQ(r.protocol_version, "1.1");
  EXPECT_EQ(r.attempts, 1);
  EXPECT_GT(r.timings.total.count(), 0);
  ASSERT_EQ(server->request_count(), 1u);
  const auto req = server->requests()[0];
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/items?q=a%20b");
  EXPECT_EQ(req.Header("X-Default"), "d");
  EXPECT_EQ(req.Header("Accept"), "application/json");  // the request's own wins
  EXPECT_EQ(req.Header("User-Agent"), "test-agent/1");
}

TEST(ClientTest, PostJsonAndFormBodies) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  auto client = MakeClient();
  ASSERT_OK(client->Post(server->Url("/j"), Json{{"name", "Ada"}}, Bearer{"t0k"}));
  ASSERT_OK(client->Put(server->Url("/f"), Form{{"a", "1 2"}}));
  ASSERT_OK(client->Patch(server->Url("/p"), std::string("raw")));
  ASSERT_OK(client->Delete(server->Url("/d")));
  ASSERT_OK_AND_ASSIGN(Response head, client->Head(server->Url("/h")));
  EXPECT_EQ(head.status, 200);
  const auto reqs = server->requests();
  ASSERT_EQ(reqs.size(), 5u);
  EXPECT_EQ(reqs[0].body, R"({"name":"Ada"})");
  EXPECT_EQ(reqs[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(reqs[0].Header("Authorization"), "Bearer t0k");
  EXPECT_EQ(reqs[1].method, "PUT");
  EXPECT_EQ(reqs[1].body, "a=1+2");
  EXPECT_EQ(reqs[1].Header("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(reqs[2].method, "PATCH");
  EXPECT_EQ(reqs[2].body, "raw");
  EXPECT_EQ(reqs[3].method, "DELETE");
  EXPECT_EQ(reqs[4].method, "HEAD");
}

TEST(ClientTest, ErrorStatusIsAResponseNotAnError) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  server->Enqueue({.status = 404, .body = "nope"});
  auto client = MakeClient();
  ASSERT_OK_AND_ASSIGN(Response r, client->Get(server->Url("/missing")));
  EXPECT_EQ(r.status, 404);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.StatusError(), StatusIs(StatusCode::kNotFound));
}

TEST(ClientTest, RetriesIdempotentRequestOnRetryableStatus) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  server->EnqueueAll({{.status = 503, .headers = {{"Retry-After", "0"}}},
                      {.status = 429},
                      {.status = 200, .body = "third time"}});
  auto client = MakeClient({.retry = FastRetry()});
  ASSERT_OK_AND_ASSIGN(Response r, client->Get(server->Url("/flaky")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "third time");
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(server->request_count(), 3u);
}

TEST(ClientTest, GivesUpAfterMaxAttemptsWithTheLastResponse) {
  ASSERT_OK_AND_ASSIGN(auto server,
                       ScriptedHttpServer::Start({.default_reply = {.status = 502}}));
  auto client = MakeClient({.retry = FastRetry(2)});
  ASSERT_OK_AND_ASSIGN(Response r, client->Get(server->Url("/down")));
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(server->request_count(), 2u);
}

TEST(ClientTest, PostIsNotRetriedOnStatusUnlessConfigured) {
  ASSERT_OK_AND_ASSIGN(auto server,
                       ScriptedHttpServer::Start({.default_reply = {.status = 503}}));
  auto client = MakeClient({.retry = FastRetry()});
  ASSERT_OK_AND_ASSIGN(Response r, client->Post(server->Url("/create"), std::string("x")));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(server->request_count(), 1u);
  RetryPolicy with_post = FastRetry();
  with_post.methods.push_back("POST");
  ASSERT_OK_AND_ASSIGN(Response again,
                       client->Post(server->Url("/create"), std::string("x"), with_post));
  EXPECT_EQ(again.attempts, 3);
  EXPECT_EQ(server->request_count(), 4u);
  const auto reqs = server->requests();
  EXPECT_EQ(reqs[3].body, "x");  // the body is sent again
}

TEST(ClientTest, RetryAfterBeyondTheCapReturnsTheResponse) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  server->Enqueue({.status = 503, .headers = {{"Retry-After", "3600"}}});
  RetryPolicy policy = FastRetry();
  policy.max_retry_after = milliseconds(1000);
  auto client = MakeClient({.retry = policy});
  ASSERT_OK_AND_ASSIGN(Response r, client->Get(server->Url("/busy")));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(server->request_count(), 1u);
}

TEST(ClientTest, RetryAfterIsWaitedFor) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  server->EnqueueAll({{.status = 429, .headers = {{"Retry-After", "1"}}}, {.status = 200}});
  auto client = MakeClient({.retry = FastRetry()});
  const auto start = std::chrono::steady_clock::now();
  ASSERT_OK_AND_ASSIGN(Response r, client->Get(server->Url("/slowdown")));
  EXPECT_EQ(r.status, 200);
  // The server asked for a second; the policy's own backoff is at most 20 ms.
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(990));
}

TEST(ClientTest, ConnectionRefusedIsRetriedEvenForPost) {
  uint16_t port = 0;
  {
    ASSERT_OK_AND_ASSIGN(auto gone, ScriptedHttpServer::Start());
    port = gone->port();
  }
  auto histogram = std::make_shared<RequestDurationHistogram>();
  auto client = MakeClient({.retry = FastRetry(3), .duration_histogram = histogram});
  Result<Response> r =
      client->Post("http://127.0.0.1:" + std::to_string(port) + "/x", std::string("body"));
  ASSERT_THAT(r, StatusIs(StatusCode::kUnavailable, HasSubstr("refused")));
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kConnectionRefused);
  const auto points = histogram->Snapshot();
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].count, 3u);  // three attempts
  EXPECT_EQ(points[0].attributes.error_type, "connection_refused");
  EXPECT_EQ(points[0].attributes.method, "POST");
}

TEST(ClientTest, PostIsNotRetriedAfterTheConnectionDropped) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  server->EnqueueAll({ScriptedReply::Drop(), {.status = 200}});
  auto client = MakeClient({.retry = FastRetry()});
  Result<Response> r = client->Post(server->Url("/once"), std::string("x"));
  EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(server->request_count(), 1u);
  // A GET is.
  server->EnqueueAll({ScriptedReply::Drop(), {.status = 200}});
  ASSERT_OK_AND_ASSIGN(Response get, client->Get(server->Url("/again")));
  EXPECT_EQ(get.status, 200);
}

// Redirect server: /r/<status>/<to> answers <status> with Location <to> (URL-decoded '~' → '/').
ScriptedHttpServer::Options RedirectingServer() {
  return {.on_request = [](const test::RecordedRequest& req) -> std::optional<ScriptedReply> {
    if (req.target == "/loop") {
      return ScriptedReply{.status = 302, .headers = {{"Location", "/loop"}}};
    }
    if (req.target == "/see-other") {
      return ScriptedReply{.status = 303, .headers = {{"Location", "done?x=1"}}};
    }
    if (req.target == "/temp") {
      return ScriptedReply{.status = 307, .headers = {{"Location", "/done"}}};
    }
    if (req.target == "/found") {
      return ScriptedReply{.status = 302, .headers = {{"Location", "/done"}}};
    }
    return std::nullopt;
  }};
}

TEST(ClientTest, FollowsRedirectsWithMethodRewrite) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start(RedirectingServer()));
  auto client = MakeClient();
  ASSERT_OK_AND_ASSIGN(Response r, client->Post(server->Url("/see-other"), std::string("b")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.url, server->Url("/done?x=1"));  // relative Location resolved
  EXPECT_EQ(r.redirects, 1);
  ASSERT_OK(client->Post(server->Url("/found"), std::string("b")));
  ASSERT_OK(client->Post(server->Url("/temp"), std::string("kept"),
                         Header{"Content-Type", "text/plain"}));
  const auto reqs = server->requests();
  ASSERT_EQ(reqs.size(), 6u);
  EXPECT_EQ(reqs[1].method, "GET");  // 303
  EXPECT_EQ(reqs[1].body, "");
  EXPECT_EQ(reqs[3].method, "GET");  // 302 POST → GET
  EXPECT_EQ(reqs[5].method, "POST");  // 307 keeps method and body
  EXPECT_EQ(reqs[5].body, "kept");
  EXPECT_EQ(reqs[5].Header("Content-Type"), "text/plain");
}

TEST(ClientTest, RedirectLimitAndPolicyNone) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start(RedirectingServer()));
  auto client = MakeClient({.redirects = {.max_redirects = 3}});
  Result<Response> r = client->Get(server->Url("/loop"));
  EXPECT_THAT(r, StatusIs(StatusCode::kAborted, HasSubstr("too many redirects")));
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kTooManyRedirects);
  EXPECT_EQ(server->request_count(), 4u);
  ASSERT_OK_AND_ASSIGN(Response none, client->Get(server->Url("/loop"), RedirectPolicy::None()));
  EXPECT_EQ(none.status, 302);
  EXPECT_EQ(none.Header("Location"), "/loop");
}

TEST(ClientTest, AuthorizationDroppedOnCrossOriginRedirectOnly) {
  ASSERT_OK_AND_ASSIGN(auto target, ScriptedHttpServer::Start());
  const std::string elsewhere = target->Url("/landing");
  ASSERT_OK_AND_ASSIGN(
      auto origin, ScriptedHttpServer::Start({.on_request = [elsewhere](const auto& req)
                                                  -> std::optional<ScriptedReply> {
        if (req.target == "/away") {
          return ScriptedReply{.status = 301, .headers = {{"Location", elsewhere}}};
        }
        if (req.target == "/here") {
          return ScriptedReply{.status = 301, .headers = {{"Location", "/landing"}}};
        }
        return std::nullopt;
      }}));
  auto client = MakeClient();
  ASSERT_OK(client->Get(origin->Url("/here"), Bearer{"secret"}));
  ASSERT_OK(client->Get(origin->Url("/away"), Bearer{"secret"}));
  const auto same = origin->requests();
  ASSERT_EQ(same.size(), 3u);
  EXPECT_EQ(same[1].target, "/landing");
  EXPECT_EQ(same[1].Header("Authorization"), "Bearer secret");
  const auto other = target->requests();
  ASSERT_EQ(other.size(), 1u);
  EXPECT_FALSE(other[0].Header("Authorization").has_value());
}

TEST(ClientTest, UrlCredentialsBecomeBasicAuth) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  auto client = MakeClient();
  const std::string url = "http://ada:s3cret@127.0.0.1:" + std::to_string(server->port()) + "/";
  ASSERT_OK_AND_ASSIGN(Response r, client->Get(url));
  EXPECT_EQ(r.url.find("s3cret"), std::string::npos);
  EXPECT_EQ(server->requests()[0].Header("Authorization"), "Basic YWRhOnMzY3JldA==");
}

TEST(ClientTest, TimeoutIsDistinctError) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  server->Enqueue(ScriptedReply::Hang());
  auto client = MakeClient({.retry = RetryPolicy::Disabled()});
  Result<Response> r = client->Get(server->Url("/hang"), Timeout{milliseconds(200)});
  EXPECT_THAT(r, StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kRequestTimeout);
}

TEST(ClientTest, InvalidRequestsFailClearly) {
  auto client = MakeClient();
  Result<Response> bad_url = client->Get("not a url");
  EXPECT_THAT(bad_url, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(ErrorKindOf(bad_url.status()), ErrorKind::kInvalidRequest);
  EXPECT_THAT(client->Get("ws://127.0.0.1:1/"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("scheme")));
  EXPECT_THAT(client->Send(Request::Make("BAD METHOD", "http://127.0.0.1:1/")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("method")));
  EXPECT_THAT(Client::Create({.retry = {.max_attempts = 0}}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Client::Create({.threads = -1}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(AsyncClient::Create({.threads = 0}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("I/O thread")));
  EXPECT_THAT(AsyncClient::Create({.runtime = net::Runtime::CreateCallerDriven()}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("I/O thread")));
}

// By default a Client has no I/O thread: the sending thread runs its request. With several
// sending threads one runs the I/O of all, and each still gets its own response.
TEST(ClientTest, SendRunsTheIoOnTheSendingThreads) {
  auto runtime = net::Runtime::Create({.threads = 2});
  ASSERT_OK_AND_ASSIGN(auto server,
                       net::HttpServer::Start(runtime, {},
                                              [](const net::ServerRequest& req,
                                                 net::ServerResponse& res) {
                                                res.body = "echo " + req.target;
                                              }));
  const std::string base = "http://127.0.0.1:" + std::to_string(server->port());
  auto client = MakeClient();
  std::thread::id body_thread;
  ASSERT_OK_AND_ASSIGN(Response one,
                       client->Get(base + "/one", OnBody{[&](std::string_view) {
                                     body_thread = std::this_thread::get_id();
                                     return Status::Ok();
                                   }}));
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(body_thread, std::this_thread::get_id());
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(Response again, client->Get(base + "/again"));
    EXPECT_EQ(again.Text(), "echo /again");
  }
  EXPECT_EQ(client->connections_opened(), 1u);  // keep-alive: one connection throughout

  constexpr int kThreads = 6;
  constexpr int kEach = 25;
  std::atomic<int> right{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string path = "/t" + std::to_string(t) + "/" + std::to_string(i);
        Result<Response> r = client->Get(base + path);
        if (r.ok() && r->Text() == "echo " + path) right.fetch_add(1);
      }
    });
  }
  for (auto& s : senders) s.join();
  EXPECT_EQ(right.load(), kThreads * kEach);
  EXPECT_LT(client->connections_opened(), static_cast<uint64_t>(kThreads * kEach / 4));

  // With threads of its own the I/O (and OnBody) runs there instead.
  ASSERT_OK_AND_ASSIGN(auto threaded, Client::Create({.threads = 1}));
  ASSERT_OK_AND_ASSIGN(Response two,
                       threaded->Get(base + "/two", OnBody{[&](std::string_view) {
                                       body_thread = std::this_thread::get_id();
                                       return Status::Ok();
                                     }}));
  EXPECT_EQ(two.status, 200);
  EXPECT_NE(body_thread, std::this_thread::get_id());
}

TEST(ClientTest, CancelFromAnotherThreadUnblocksSend) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  server->Enqueue(ScriptedReply::Hang());
  auto client = MakeClient();
  CancelToken cancel;
  std::thread canceller([&] {
    EXPECT_TRUE(server->WaitForRequests(1, std::chrono::seconds(10)));
    cancel.Cancel();
  });
  Result<Response> r = client->Get(server->Url("/hang"), cancel);
  canceller.join();
  EXPECT_THAT(r, StatusIs(StatusCode::kCancelled));
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kCancelled);
}

TEST(ClientTest, KeepAliveReusesTheConnection) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  auto client = MakeClient();
  for (int i = 0; i < 5; ++i) ASSERT_OK(client->Get(server->Url("/")));
  EXPECT_EQ(client->connections_opened(), 1u);
  EXPECT_EQ(server->connections_accepted(), 1u);
}

TEST(ClientTest, FreeFunctionsUseTheDefaultClient) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  server->EnqueueAll({{.status = 200, .body = "got"}, {.status = 201, .body = "posted"}});
  ASSERT_OK_AND_ASSIGN(Response g, Get(server->Url("/free")));
  EXPECT_EQ(g.body, "got");
  ASSERT_OK_AND_ASSIGN(Response p, Post(server->Url("/free"), std::string("hello")));
  EXPECT_EQ(p.status, 201);
  EXPECT_EQ(server->requests()[1].body, "hello");
  ASSERT_OK_AND_ASSIGN(Client * a, DefaultClient());
  ASSERT_OK_AND_ASSIGN(Client * b, DefaultClient());
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace otlp::http
