// net::HttpRequest's hooks for the layers above the transport: on_headers (the final response's
// head, once, before any body chunk; never for interim 1xx responses) and cancel (CancelSignal),
// over HTTP/1.1 and HTTP/2 (h2c, hand-written by tests/support/raw_h2).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "otlp/net/http_client.h"
#include "otlp/net/runtime.h"
#include "tests/support/raw_h2.h"
#include "tests/support/raw_tcp_server.h"
#include "tests/support/status_matchers.h"

namespace otlp::net {
namespace {

using test::RawH2;
using test::RawTcpServer;

std::string Url(const RawTcpServer& server) {
  return "http://127.0.0.1:" + std::to_string(server.port()) + "/";
}

// What the hooks saw, in order: "head 200 x-a=b", "body hello", ...
struct Recorder {
  std::vector<std::string> events;
  void Hook(HttpRequest& request) {
    request.on_headers = [this](int status, const Headers& headers) {
      std::string e = "head " + std::to_string(status);
      if (auto a = headers.Find("x-a")) e += " x-a=" + std::string(*a);
      events.push_back(std::move(e));
    };
    request.on_body = [this](std::string_view chunk) {
      events.push_back("body " + std::string(chunk));
      return Status::Ok();
    };
  }
};

TEST(HttpClientHooksTest, OnHeadersComesOnceBeforeTheBodyAndNotForInterimResponses) {
  ASSERT_OK_AND_ASSIGN(auto server, RawTcpServer::Start(RawTcpServer::ReplyAfterRequest(
                                        "HTTP/1.1 100 Continue\r\n\r\n"
                                        "HTTP/1.1 200 OK\r\nX-A: b\r\nContent-Length: 5\r\n\r\n"
                                        "hello")));
  auto client = HttpClient::Create(Runtime::Create(), {});
  ASSERT_OK(client);
  Recorder recorder;
  HttpRequest request{.url = Url(*server)};
  recorder.Hook(request);
  ASSERT_OK_AND_ASSIGN(HttpResponse r, (*client)->Send(std::move(request)));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("X-A"), "b");  // still on the response
  EXPECT_EQ(recorder.events, (std::vector<std::string>{"head 200 x-a=b", "body hello"}));
}

TEST(HttpClientHooksTest, OnHeadersOverHttp2) {
  ASSERT_OK_AND_ASSIGN(
      auto server, RawTcpServer::Start(RawH2::Serve({}, [](RawH2& h2, uint32_t stream) {
        return h2.Headers(stream, 200, {{"x-a", "b"}}) && h2.Data(stream, "hel") &&
               h2.Data(stream, "lo", true) && h2.WaitForClose(std::chrono::seconds(30));
      })));
  auto client = HttpClient::Create(Runtime::Create(),
                                   {.http_version = HttpVersionPolicy::kHttp2PriorKnowledge});
  ASSERT_OK(client);
  Recorder recorder;
  HttpRequest request{.url = Url(*server)};
  recorder.Hook(request);
  ASSERT_OK_AND_ASSIGN(HttpResponse r, (*client)->Send(std::move(request)));
  EXPECT_EQ(r.version, "2");
  EXPECT_EQ(recorder.events, (std::vector<std::string>{"head 200 x-a=b", "body hel", "body lo"}));
}

TEST(HttpClientHooksTest, AnAlreadyCancelledSignalFailsAtOnceWithoutConnecting) {
  ASSERT_OK_AND_ASSIGN(auto server, RawTcpServer::Start(RawTcpServer::CloseAfterRequest()));
  auto client = HttpClient::Create(Runtime::Create(), {});
  ASSERT_OK(client);
  auto cancel = CancelSignal::Create();
  cancel->Cancel();
  EXPECT_TRUE(cancel->cancelled());
  Result<HttpResponse> r = (*client)->Send({.url = Url(*server), .cancel = cancel});
  EXPECT_THAT(r, StatusIs(StatusCode::kCancelled, ::testing::HasSubstr("request cancelled")));
  EXPECT_EQ(HttpErrorKindOf(r.status()), HttpErrorKind::kCancelled);
  EXPECT_EQ((*client)->connections_opened(), 0u);
}

}  // namespace
}  // namespace otlp::net
