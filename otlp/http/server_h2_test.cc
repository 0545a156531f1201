// http::Server over HTTP/2 (h2c with prior knowledge and h2 over TLS), driven by the net module's
// H2ClientSession and the nghttp command-line client: the SERVER span's protocol version and
// parent, deferred responses and trailers on streams, HTTP/1.1 on the same port.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/strand.hpp>
#include <cstdio>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "otlp/http/server.h"
#include "otlp/net/http_client.h"
#include "otlp/net/internal/h2_client.h"
#include "otlp/net/internal/runtime_impl.h"
#include "otlp/net/internal/tls.h"
#include "otlp/trace/in_memory_exporter.h"
#include "otlp/trace/processor.h"
#include "otlp/trace/provider.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace otlp::http {
namespace {

namespace asio = boost::asio;
using net::internal::H2ClientSession;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

constexpr auto kWait = std::chrono::seconds(30);
constexpr std::string_view kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kParentId = "00f067aa0ba902b7";

OwnedAttributeValue AttrOf(const trace::RecordedSpan& s, std::string_view key) {
  const OwnedAttributeValue* v = s.Attribute(key);
  return v ? *v : OwnedAttributeValue(std::string("<missing>"));
}
OwnedAttributeValue Str(std::string s) { return s; }
OwnedAttributeValue Int(int64_t v) { return v; }

class ServerH2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok()) << dir_.error();
    provider_ = trace::TracerProvider::Create(
        {.processor = std::make_unique<trace::SimpleSpanProcessor>(
             std::make_unique<trace::InMemorySpanExporter>(store_))});
    trace::SetTracerProvider(provider_);
    client_runtime_ = net::Runtime::Create();
  }
  void TearDown() override {
    if (server_) server_->Stop();
    for (auto& t : threads_) t.join();
    trace::SetTracerProvider(nullptr);
  }

  void StartServer(bool tls) {
    Server::Options options{.threads = 2};
    if (tls) {
      ASSERT_OK_AND_ASSIGN(pki_, test::GenerateTestPki(dir_.path()));
      options.tls = net::ServerTlsOptions{.certificate_file = pki_.server_cert_file,
                                          .key_file = pki_.server_key_file};
    }
    server_ = Server::Create(std::move(options));
    ASSERT_OK(server_->Get("/users/{id}", [](const ServerRequest& req, ServerResponse& res) {
      res.body = "user " + std::string(req.PathParam("id").value_or("?")) + " v" +
                 std::string(req.protocol_version()) + " trace " +
                 trace::Context::Current().span_context().trace_id().ToHex();
      res.trailers = {{"grpc-status", "0"}};
    }));
    ASSERT_OK(server_->Get("/async/{n}", [this](const ServerRequest& req, ServerResponse& res) {
      std::shared_ptr<ServerResponder> later = res.Defer();
      std::lock_guard lock(mu_);
      threads_.emplace_back([later, n = std::string(req.PathParam("n").value_or("?"))] {
        later->Send(202, {{"X-N", n}}, "later " + n);
      });
    }));
    ASSERT_OK(server_->Start());
  }

  std::shared_ptr<H2ClientSession> Connect(bool tls) {
    std::shared_ptr<const net::internal::TlsContext> context;
    if (tls) {
      auto made = net::internal::TlsContext::Client(
          {.ca_file = pki_.ca_cert_file, .alpn_protocols = {"h2", "http/1.1"}});
      EXPECT_OK(made);
      if (!made.ok()) return nullptr;
      context = *made;
    }
    auto promise = std::make_shared<std::promise<Result<std::shared_ptr<H2ClientSession>>>>();
    H2ClientSession::Connect(asio::make_strand(net::internal::IoContext(*client_runtime_)),
                             context, "127.0.0.1", server_->port(), Clock::now() + kWait, {},
                             [promise](Result<std::shared_ptr<H2ClientSession>> r) {
                               promise->set_value(std::move(r));
                             });
    auto future = promise->get_future();
    if (future.wait_for(kWait) != std::future_status::ready) return nullptr;
    auto result = future.get();
    EXPECT_OK(result);
    return result.ok() ? *result : nullptr;
  }

  static std::future<Result<net::HttpResponse>> Submit(H2ClientSession& session,
                                                       net::HttpRequest request) {
    auto promise = std::make_shared<std::promise<Result<net::HttpResponse>>>();
    session.Submit(std::move(request), Clock::now() + kWait,
                   [promise](Result<net::HttpResponse> r) { promise->set_value(std::move(r)); });
    return promise->get_future();
  }
  static Result<net::HttpResponse> Await(std::future<Result<net::HttpResponse>> future) {
    if (future.wait_for(kWait) != std::future_status::ready) {
      return Status(StatusCode::kDeadlineExceeded, "test: the request never completed");
    }
    return future.get();
  }

  std::vector<trace::RecordedSpan> ServerSpans(size_t expected) {
    EXPECT_TRUE(store_->WaitForSpans(expected, kWait));
    std::vector<trace::RecordedSpan> out;
    for (auto& s : store_->Spans()) {
      if (s.kind == trace::SpanKind::kServer) out.push_back(std::move(s));
    }
    return out;
  }

  void CheckTracedH2Request(bool tls) {
    auto session = Connect(tls);
    ASSERT_NE(session, nullptr);
    const std::string traceparent =
        "00-" + std::string(kTraceId) + "-" + std::string(kParentId) + "-01";
    auto r = Await(Submit(*session, {.url = server_->base_url() + "/users/7",
                                     .headers = {{"traceparent", traceparent}}}));
    ASSERT_OK(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "user 7 v2 trace " + std::string(kTraceId));
    EXPECT_EQ(r->trailers.Find("grpc-status"), "0");
    auto spans = ServerSpans(1);
    ASSERT_EQ(spans.size(), 1u);
    const trace::RecordedSpan& s = spans[0];
    EXPECT_EQ(s.name, "GET /users/{id}");
    EXPECT_EQ(s.context.trace_id().ToHex(), kTraceId);
    EXPECT_EQ(s.parent_span_id.ToHex(), kParentId);
    EXPECT_EQ(AttrOf(s, "network.protocol.version"), Str("2"));
    EXPECT_EQ(AttrOf(s, "url.scheme"), Str(tls ? "https" : "http"));
    EXPECT_EQ(AttrOf(s, "http.route"), Str("/users/{id}"));
    EXPECT_EQ(AttrOf(s, "server.port"), Int(server_->port()));  // from :authority
    EXPECT_EQ(AttrOf(s, "http.response.status_code"), Int(200));
  }

  // Runs the nghttp client (bounded by coreutils' timeout); its output, stderr included.
  static std::string RunNghttp(const std::string& args) {
    const std::string command = "timeout 60 nghttp " + args + " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return "popen failed";
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    EXPECT_EQ(::pclose(pipe), 0) << out;
    return out;
  }

  test::TempDir dir_;
  test::TestPki pki_;
  std::shared_ptr<trace::InMemorySpanStore> store_ = std::make_shared<trace::InMemorySpanStore>();
  std::shared_ptr<trace::TracerProvider> provider_;
  std::shared_ptr<net::Runtime> client_runtime_;
  std::unique_ptr<Server> server_;
  std::mutex mu_;
  std::vector<std::thread> threads_;
};

TEST_F(ServerH2Test, H2cRequestIsAServerSpanWithVersion2AndTheRemoteParent) {
  StartServer(false);
  CheckTracedH2Request(false);
}

TEST_F(ServerH2Test, H2OverTlsRequestIsAServerSpanWithVersion2) {
  StartServer(true);
  CheckTracedH2Request(true);
}

TEST_F(ServerH2Test, DeferredResponsesOnManyConcurrentStreams) {
  StartServer(false);
  auto session = Connect(false);
  ASSERT_NE(session, nullptr);
  constexpr int kStreams = 40;
  std::vector<std::future<Result<net::HttpResponse>>> futures;
  for (int i = 0; i < kStreams; ++i) {
    futures.push_back(
        Submit(*session, {.url = server_->base_url() + "/async/" + std::to_string(i)}));
  }
  for (int i = 0; i < kStreams; ++i) {
    auto r = Await(std::move(futures[i]));
    ASSERT_OK(r);
    EXPECT_EQ(r->status, 202);
    EXPECT_EQ(r->body, "later " + std::to_string(i));
    EXPECT_EQ(r->Header("x-n"), std::to_string(i));
  }
  auto spans = ServerSpans(kStreams);
  ASSERT_EQ(spans.size(), static_cast<size_t>(kStreams));
  for (const auto& s : spans) {
    EXPECT_EQ(AttrOf(s, "network.protocol.version"), Str("2"));
    EXPECT_EQ(AttrOf(s, "http.response.status_code"), Int(202));
  }
}

TEST_F(ServerH2Test, Http11OnTheSamePortStillSaysVersion11) {
  StartServer(false);
  ASSERT_OK_AND_ASSIGN(auto client, net::HttpClient::Create(client_runtime_, {}));
  ASSERT_OK_AND_ASSIGN(auto r, client->Send({.url = server_->base_url() + "/users/1"}));
  EXPECT_THAT(r.body, HasSubstr("user 1 v1.1"));
  auto spans = ServerSpans(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(AttrOf(spans[0], "network.protocol.version"), Str("1.1"));
}

TEST_F(ServerH2Test, NghttpClientGetsTracedResponses) {
  if (::access("/usr/bin/nghttp", X_OK) != 0) {
    GTEST_SKIP() << "nghttp is not installed (Debian: nghttp2-client)";
  }
  StartServer(false);
  const std::string traceparent =
      "00-" + std::string(kTraceId) + "-" + std::string(kParentId) + "-01";
  const std::string out = RunNghttp("-v -H 'traceparent: " + traceparent + "' '" +
                                    server_->base_url() + "/users/9'");
  EXPECT_THAT(out, HasSubstr("user 9 v2 trace " + std::string(kTraceId)));
  EXPECT_THAT(out, HasSubstr("grpc-status: 0"));
  const std::string many = RunNghttp("-m 30 '" + server_->base_url() + "/async/x'");
  size_t count = 0;
  for (size_t pos = 0; (pos = many.find("later x", pos)) != std::string::npos; ++pos) ++count;
  EXPECT_EQ(count, 30u);
  auto spans = ServerSpans(31);
  ASSERT_EQ(spans.size(), 31u);
  EXPECT_EQ(AttrOf(spans[0], "network.protocol.version"), Str("2"));
  EXPECT_EQ(spans[0].parent_span_id.ToHex(), kParentId);
}

}  // namespace
}  // namespace otlp::http
