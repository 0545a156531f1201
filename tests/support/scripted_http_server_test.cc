#include "tests/support/scripted_http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>

#include "otlp/core/internal/gzip.h"
#include "otlp/net/http_client.h"
#include "tests/support/status_matchers.h"

namespace otlp::test {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr auto kWait = std::chrono::seconds(20);

std::string Gzip(const std::string& data) {
  std::string out;
  EXPECT_OK(otlp::internal::GzipCompress(data, out));
  return out;
}

class ScriptedHttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, ScriptedHttpServer::Start());
    ASSERT_OK_AND_ASSIGN(client_, net::HttpClient::Create(runtime_, {}));
  }

  std::shared_ptr<net::Runtime> runtime_ = net::Runtime::Create();
  std::unique_ptr<ScriptedHttpServer> server_;
  std::unique_ptr<net::HttpClient> client_;
};

TEST_F(ScriptedHttpServerTest, RepliesFollowTheScriptThenTheDefault) {
  server_->Enqueue({.status = 503, .headers = {{"Retry-After", "3"}}, .body = "busy"});
  server_->Enqueue({.status = 400, .body = "bad"});
  EXPECT_EQ(server_->pending_replies(), 2u);
  ASSERT_OK_AND_ASSIGN(auto a, client_->Send({.url = server_->Url("/v1/traces")}));
  ASSERT_OK_AND_ASSIGN(auto b, client_->Send({.url = server_->Url("v1/traces")}));
  ASSERT_OK_AND_ASSIGN(auto c, client_->Send({.url = server_->Url("/v1/traces")}));
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(a.Header("Retry-After"), "3");
  EXPECT_EQ(a.body, "busy");
  EXPECT_EQ(b.status, 400);
  EXPECT_EQ(c.status, 200);
  EXPECT_EQ(server_->pending_replies(), 0u);
  EXPECT_EQ(server_->request_count(), 3u);
}

TEST_F(ScriptedHttpServerTest, RecordsRequestsAndDecodesGzip) {
  const std::string payload(100'000, 'z');
  auto resp = client_->Send(
      {.method = "POST",
       .url = server_->Url("/v1/traces"),
       .headers = {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "gzip"}},
       .body = Gzip(payload)});
  ASSERT_OK(resp);
  ASSERT_OK(client_->Send({.method = "POST", .url = server_->Url("/plain"), .body = "p"}));
  auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v1/traces");
  EXPECT_TRUE(requests[0].gzip);
  EXPECT_EQ(requests[0].body, payload);
  EXPECT_LT(requests[0].wire_body_size, payload.size());
  EXPECT_EQ(requests[0].Header("content-type"), "application/x-protobuf");
  EXPECT_FALSE(requests[1].gzip);
  EXPECT_EQ(requests[1].body, "p");
  server_->ClearRequests();
  EXPECT_EQ(server_->request_count(), 0u);
}

TEST_F(ScriptedHttpServerTest, CorruptGzipIsRecordedNotFatal) {
  ASSERT_OK(client_->Send({.method = "POST",
                           .url = server_->Url("/"),
                           .headers = {{"Content-Encoding", "gzip"}},
                           .body = "definitely not gzip"}));
  auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(requests[0].gzip);
  EXPECT_THAT(requests[0].decode_error, HasSubstr("gzip"));
}

TEST_F(ScriptedHttpServerTest, DropClosesWithoutAnswer) {
  server_->Enqueue(ScriptedReply::Drop());
  auto resp = client_->Send({.url = server_->Url("/")});
  EXPECT_THAT(resp, StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(server_->request_count(), 1u);
}

TEST_F(ScriptedHttpServerTest, DelayedReplyDoesNotBlockOtherConnections) {
  server_->Enqueue({.status = 202, .delay = milliseconds(200)});
  auto slow =
      std::async(std::launch::async, [&] { return client_->Send({.url = server_->Url("/slow")}); });
  ASSERT_TRUE(server_->WaitForRequests(1, kWait));
  // Answered while the first one is still waiting for its delayed reply.
  ASSERT_OK_AND_ASSIGN(auto fast, client_->Send({.url = server_->Url("/fast")}));
  EXPECT_EQ(fast.status, 200);
  ASSERT_OK_AND_ASSIGN(auto slow_resp, slow.get());
  EXPECT_EQ(slow_resp.status, 202);
}

TEST_F(ScriptedHttpServerTest, DelayedDrop) {
  server_->Enqueue({.delay = milliseconds(50), .action = ScriptedReply::Action::kDrop});
  auto resp = client_->Send({.url = server_->Url("/")});
  EXPECT_THAT(resp, StatusIs(StatusCode::kUnavailable));
}

TEST_F(ScriptedHttpServerTest, HangIsReleasedByStop) {
  server_->Enqueue(ScriptedReply::Hang());
  auto hung =
      std::async(std::launch::async, [&] { return client_->Send({.url = server_->Url("/")}); });
  ASSERT_TRUE(server_->WaitForRequests(1, kWait));
  server_->Stop();
  auto resp = hung.get();
  EXPECT_THAT(resp, StatusIs(StatusCode::kUnavailable));
}

TEST_F(ScriptedHttpServerTest, OnRequestHookOverridesScript) {
  auto echo_hook = [](const RecordedRequest& r) -> std::optional<ScriptedReply> {
    if (r.target == "/echo") return ScriptedReply{.status = 200, .body = r.body};
    return std::nullopt;
  };
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start({.on_request = echo_hook}));
  server->Enqueue({.status = 418});
  ASSERT_OK_AND_ASSIGN(
      auto echo, client_->Send({.method = "POST", .url = server->Url("/echo"), .body = "abc"}));
  ASSERT_OK_AND_ASSIGN(auto scripted, client_->Send({.url = server->Url("/other")}));
  EXPECT_EQ(echo.body, "abc");
  EXPECT_EQ(scripted.status, 418);
}

TEST_F(ScriptedHttpServerTest, WaitForRequestsTimesOut) {
  EXPECT_FALSE(server_->WaitForRequests(1, milliseconds(10)));
}

}  // namespace
}  // namespace otlp::test
