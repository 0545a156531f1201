// The OTLP/gRPC transport: the wire-format pieces (framing, grpc-timeout, status details), and
// calls against our own HTTP/2 server scripting gRPC answers (statuses in trailers and
// trailers-only, RESOURCE_EXHAUSTED with and without RetryInfo, gzip, GOAWAY, cancellation),
// and the exporter over gRPC.
#include "otlp/exporter/internal/grpc_transport.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "otlp/core/internal/gzip.h"
#include "otlp/exporter/otlp_http_exporter.h"
#include "otlp/exporter/otlp_response.h"
#include "otlp/net/internal/base64.h"
#include "otlp/net/internal/h2_server.h"
#include "tests/support/h2_test_server.h"
#include "tests/support/span_fixtures.h"
#include "tests/support/status_matchers.h"

namespace otlp::exporter::internal {
namespace {

using net::internal::H2Reply;
using net::internal::H2ServerRequest;
using net::internal::H2ServerResponse;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using ::testing::HasSubstr;

// ---- protobuf bits for building google.rpc.Status by hand ----
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Len(int field, std::string_view bytes) {
  return Varint(static_cast<uint64_t>(field) << 3 | 2) + Varint(bytes.size()) + std::string(bytes);
}
std::string VarintField(int field, uint64_t v) {
  return Varint(static_cast<uint64_t>(field) << 3) + Varint(v);
}
std::string RetryInfoAny(int64_t seconds, int32_t nanos) {
  const std::string duration =
      VarintField(1, static_cast<uint64_t>(seconds)) +
      VarintField(2, static_cast<uint64_t>(static_cast<int64_t>(nanos)));
  return Len(1, "type.googleapis.com/google.rpc.RetryInfo") + Len(2, Len(1, duration));
}
std::string RpcStatus(int code, std::string_view message, const std::vector<std::string>& anys) {
  std::string s = VarintField(1, static_cast<uint64_t>(code)) + Len(2, message);
  for (const auto& a : anys) s += Len(3, a);
  return s;
}
std::string Unpadded(std::string b64) {
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return b64;
}

TEST(GrpcWire, FramingRoundTrips) {
  const std::string framed = FrameGrpcMessage("hello", false);
  EXPECT_EQ(framed, std::string("\0\0\0\0\5hello", 10));
  EXPECT_EQ(FrameGrpcMessage("", true), std::string("\1\0\0\0\0", 5));
  const std::string two = framed + FrameGrpcMessage("xy", true);
  ASSERT_OK_AND_ASSIGN(auto msgs, ParseGrpcMessages(two));
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].data, "hello");
  EXPECT_FALSE(msgs[0].compressed);
  EXPECT_EQ(msgs[1].data, "xy");
  EXPECT_TRUE(msgs[1].compressed);
  const std::string big(70000, 'a');
  const std::string big_framed = FrameGrpcMessage(big, false);
  ASSERT_OK_AND_ASSIGN(auto one, ParseGrpcMessages(big_framed));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].data.size(), big.size());
}

TEST(GrpcWire, MalformedFramesAreRejectedWithReasons) {
  EXPECT_THAT(ParseGrpcMessages(std::string("\0\0\0", 3)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("truncated gRPC message prefix")));
  EXPECT_THAT(ParseGrpcMessages(std::string("\0\0\0\0\x09" "abc", 8)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("truncated gRPC message (3 of 9")));
  EXPECT_THAT(ParseGrpcMessages(std::string("\2\0\0\0\0", 5)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("bad gRPC compressed flag 2")));
}

TEST(GrpcWire, TimeoutUsesAtMostEightDigits) {
  EXPECT_EQ(FormatGrpcTimeout(milliseconds(1500)), "1500m");
  EXPECT_EQ(FormatGrpcTimeout(milliseconds(0)), "1m");
  EXPECT_EQ(FormatGrpcTimeout(milliseconds(-5)), "1m");
  EXPECT_EQ(FormatGrpcTimeout(milliseconds(99999999)), "99999999m");
  EXPECT_EQ(FormatGrpcTimeout(milliseconds(100000000)), "100000S");
  EXPECT_EQ(FormatGrpcTimeout(std::chrono::hours(24 * 365 * 10)), "5256000M");
  EXPECT_EQ(FormatGrpcTimeout(std::chrono::hours(2000000)), "2000000H");
}

TEST(GrpcWire, CodesAndNames) {
  for (int c : {1, 4, 10, 11, 14, 15}) EXPECT_TRUE(IsRetryableGrpcCode(c)) << c;
  for (int c : {0, 2, 3, 5, 7, 8, 9, 12, 13, 16, 99}) EXPECT_FALSE(IsRetryableGrpcCode(c)) << c;
  EXPECT_EQ(GrpcCodeName(8), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(GrpcCodeName(42), "code 42");
  EXPECT_EQ(GrpcCodeFromHttpStatus(503), 14);
  EXPECT_EQ(GrpcCodeFromHttpStatus(404), 12);
  EXPECT_EQ(GrpcCodeFromHttpStatus(500), 2);
}

TEST(GrpcWire, PercentDecodesGrpcMessage) {
  EXPECT_EQ(PercentDecodeGrpcMessage("span%20too%20old"), "span too old");
  EXPECT_EQ(PercentDecodeGrpcMessage("100%"), "100%");
  EXPECT_EQ(PercentDecodeGrpcMessage("%zz%4"), "%zz%4");
  EXPECT_EQ(PercentDecodeGrpcMessage("%C3%A9"), "\xC3\xA9");
}

TEST(GrpcWire, Base64AcceptsPaddedAndUnpadded) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    const std::string b64 = net::internal::Base64Encode(s);
    EXPECT_EQ(DecodeBase64(b64), s);
    EXPECT_EQ(DecodeBase64(Unpadded(b64)), s);
  }
  EXPECT_EQ(DecodeBase64("a"), std::nullopt);
  EXPECT_EQ(DecodeBase64("ab$d"), std::nullopt);
}

TEST(GrpcWire, StatusDetailsWithRetryInfo) {
  const std::string status = RpcStatus(8, "slow down", {Len(1, "type.example/Other") + Len(2, "x"),
                                                        RetryInfoAny(1, 500000000)});
  ASSERT_OK_AND_ASSIGN(auto d,
                       DecodeGrpcStatusDetails(Unpadded(net::internal::Base64Encode(status))));
  EXPECT_EQ(d.code, 8);
  EXPECT_EQ(d.message, "slow down");
  EXPECT_EQ(d.retry_delay, milliseconds(1500));

  ASSERT_OK_AND_ASSIGN(auto none, DecodeGrpcStatusDetails(
                                      net::internal::Base64Encode(RpcStatus(8, "full", {}))));
  EXPECT_EQ(none.retry_delay, std::nullopt);
}

TEST(GrpcWire, MalformedStatusDetailsAreRejected) {
  EXPECT_THAT(DecodeGrpcStatusDetails("not base64!"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not base64")));
  // A length that runs past the end.
  EXPECT_THAT(DecodeGrpcStatusDetails(net::internal::Base64Encode("\x12\x10" "ab")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("google.rpc.Status.message")));
  EXPECT_THAT(
      DecodeGrpcStatusDetails(net::internal::Base64Encode(RpcStatus(8, "", {RetryInfoAny(-1, 0)}))),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("retry_delay out of range")));
  EXPECT_THAT(DecodeGrpcStatusDetails(
                  net::internal::Base64Encode(RpcStatus(8, "", {RetryInfoAny(0, 1000000000)}))),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("retry_delay out of range")));
}

// ---- against our HTTP/2 server ----

// What the handler saw of one call.
struct Seen {
  std::string path, content_type, te, timeout, encoding, user_header;
  bool compressed = false;
  std::string message;  // decompressed
};

class GrpcTransportTest : public ::testing::Test {
 protected:
  using Script = std::function<H2ServerResponse(const Seen&)>;

  void SetUp() override { runtime_ = net::Runtime::Create(); }
  void TearDown() override {
    transport_.reset();
    if (server_) server_->Stop();
  }

  void StartServer(Script script) {
    script_ = std::move(script);
    ASSERT_OK_AND_ASSIGN(
        server_, test::H2TestServer::Start(runtime_, {}, [this](H2ServerRequest req, H2Reply reply) {
          Seen s;
          s.path = req.path;
          s.content_type = req.headers.Find("content-type").value_or("");
          s.te = req.headers.Find("te").value_or("");
          s.timeout = req.headers.Find("grpc-timeout").value_or("");
          s.encoding = req.headers.Find("grpc-encoding").value_or("");
          s.user_header = req.headers.Find("x-tenant").value_or("");
          auto msgs = ParseGrpcMessages(req.body);
          if (msgs.ok() && msgs->size() == 1) {
            s.compressed = (*msgs)[0].compressed;
            if (s.compressed) {
              auto plain = otlp::internal::GzipDecompress((*msgs)[0].data, 1 << 20);
              s.message = plain.ok() ? *plain : "<bad gzip>";
            } else {
              s.message.assign((*msgs)[0].data);
            }
          }
          {
            std::lock_guard<std::mutex> lock(mu_);
            seen_.push_back(s);
          }
          cv_.notify_all();
          if (hold_.exchange(false)) return held_.set_value(reply);
          reply.Send(script_(s));
        }));
  }

  void MakeTransport(std::string path = "") {
    GrpcTransport::Options o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(server_->port()) + path;
    o.headers = net::Headers{{"x-tenant", "t1"}};
    o.user_agent = "grpc-test";
    o.runtime = runtime_;
    ASSERT_OK_AND_ASSIGN(transport_, GrpcTransport::Create(std::move(o)));
  }

  Result<TransportResponse> Send(std::string_view body = "payload", bool gzip = false,
                                 milliseconds timeout = milliseconds(10000)) {
    std::string wire(body);
    if (gzip) {
      std::string z;
      EXPECT_OK(otlp::internal::GzipCompress(body, z));
      wire = z;
    }
    return transport_->Send({.body = wire, .json = false, .gzip = gzip,
                             .deadline = steady_clock::now() + timeout});
  }

  // Sends `body` from another thread to a server that holds the call unanswered; returns once
  // the server holds it, with the future of the call's result.
  std::future<Result<TransportResponse>> SendHeldCall(std::string body = "payload",
                                                      milliseconds timeout = milliseconds(10000)) {
    hold_ = true;
    StartServer([](const Seen&) { return Grpc(0); });
    MakeTransport();
    auto held = held_.get_future();
    auto result = std::async(std::launch::async,
                             [this, body, timeout] { return Send(body, false, timeout); });
    EXPECT_EQ(held.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    return result;
  }

  static H2ServerResponse Grpc(int code, std::string message = {}, std::string body = {},
                               net::Headers extra_trailers = {}) {
    H2ServerResponse r{.status = 200, .headers = {{"content-type", "application/grpc"}},
                       .body = std::move(body)};
    r.trailers = net::Headers{{"grpc-status", std::to_string(code)}};
    if (!message.empty()) r.trailers.emplace_back("grpc-message", message);
    for (auto& [k, v] : extra_trailers.fields()) r.trailers.emplace_back(k, v);
    return r;
  }
  static H2ServerResponse TrailersOnly(int code, std::string message = {},
                                       net::Headers extra = {}) {
    H2ServerResponse r{.status = 200, .headers = {{"content-type", "application/grpc"},
                                                  {"grpc-status", std::to_string(code)}}};
    if (!message.empty()) r.headers.emplace_back("grpc-message", message);
    for (auto& [k, v] : extra.fields()) r.headers.emplace_back(k, v);
    return r;
  }

  std::shared_ptr<net::Runtime> runtime_;
  std::unique_ptr<test::H2TestServer> server_;
  std::unique_ptr<GrpcTransport> transport_;
  Script script_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Seen> seen_;
  std::atomic<bool> hold_{false};  // keep the next reply in held_ instead of answering
  std::promise<H2Reply> held_;
};

TEST_F(GrpcTransportTest, OkCallCarriesGrpcHeadersAndPartialSuccess) {
  PartialSuccess ps;
  const std::string response = Len(1, VarintField(1, 3) + Len(2, "3 spans too old"));
  StartServer([&](const Seen&) { return Grpc(0, {}, FrameGrpcMessage(response, false)); });
  MakeTransport();
  ASSERT_OK_AND_ASSIGN(auto r, Send("request-bytes", false, milliseconds(1500)));
  EXPECT_EQ(r.outcome, TransportResponse::Outcome::kAccepted);
  EXPECT_EQ(r.code, 0);
  ASSERT_OK_AND_ASSIGN(ps, DecodeTraceResponseProto(r.body));
  EXPECT_EQ(ps.rejected_spans, 3);
  EXPECT_EQ(ps.error_message, "3 spans too old");

  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_EQ(seen_.size(), 1u);
  const Seen& s = seen_[0];
  EXPECT_EQ(s.path, kGrpcTraceExportPath);
  EXPECT_EQ(s.content_type, "application/grpc");
  EXPECT_EQ(s.te, "trailers");
  ASSERT_FALSE(s.timeout.empty());
  EXPECT_EQ(s.timeout.back(), 'm');
  const int ms = std::stoi(s.timeout);
  EXPECT_GT(ms, 0);
  EXPECT_LE(ms, 1500);
  EXPECT_EQ(s.encoding, "");
  EXPECT_EQ(s.user_header, "t1");
  EXPECT_FALSE(s.compressed);
  EXPECT_EQ(s.message, "request-bytes");
}

TEST_F(GrpcTransportTest, GzipSetsTheCompressedFlagAndEncoding) {
  StartServer([&](const Seen&) { return Grpc(0); });
  MakeTransport();
  ASSERT_OK_AND_ASSIGN(auto r, Send(std::string(5000, 'z'), /*gzip=*/true));
  EXPECT_EQ(r.outcome, TransportResponse::Outcome::kAccepted);
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_TRUE(seen_[0].compressed);
  EXPECT_EQ(seen_[0].encoding, "gzip");
  EXPECT_EQ(seen_[0].message, std::string(5000, 'z'));
}

TEST_F(GrpcTransportTest, CompressedResponseMessageIsDecompressed) {
  std::string z;
  ASSERT_OK(otlp::internal::GzipCompress(Len(1, VarintField(1, 2)), z));
  StartServer([&](const Seen&) {
    auto r = Grpc(0, {}, FrameGrpcMessage(z, true));
    r.headers.emplace_back("grpc-encoding", "gzip");
    return r;
  });
  MakeTransport();
  ASSERT_OK_AND_ASSIGN(auto r, Send());
  ASSERT_OK_AND_ASSIGN(auto ps, DecodeTraceResponseProto(r.body));
  EXPECT_EQ(ps.rejected_spans, 2);
}

TEST_F(GrpcTransportTest, EndpointPathIsAPrefixOfTheMethodPath) {
  StartServer([&](const Seen&) { return Grpc(0); });
  MakeTransport("/proxy/");
  ASSERT_OK(Send());
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(seen_.at(0).path, "/proxy" + std::string(kGrpcTraceExportPath));
}

TEST_F(GrpcTransportTest, StatusesAreClassified) {
  struct Case {
    H2ServerResponse response;
    TransportResponse::Outcome outcome;
    int code;
    std::string detail;
  };
  const std::string retry_info = Unpadded(
      net::internal::Base64Encode(RpcStatus(8, "quota", {RetryInfoAny(2, 250000000)})));
  const std::string no_retry_info =
      net::internal::Base64Encode(RpcStatus(8, "quota", {}));
  using O = TransportResponse::Outcome;
  std::vector<Case> cases = {
      {Grpc(14, "backend%20down"), O::kRetryable, 14, "UNAVAILABLE (14): backend down"},
      {TrailersOnly(14, "trailers only"), O::kRetryable, 14, "trailers only"},
      {TrailersOnly(4), O::kRetryable, 4, "DEADLINE_EXCEEDED"},
      {Grpc(10), O::kRetryable, 10, "ABORTED"},
      {Grpc(15), O::kRetryable, 15, "DATA_LOSS"},
      {Grpc(3, "bad span"), O::kRejected, 3, "INVALID_ARGUMENT (3): bad span"},
      {TrailersOnly(16), O::kRejected, 16, "UNAUTHENTICATED"},
      {Grpc(8, "quota", {}, {{"grpc-status-details-bin", no_retry_info}}), O::kRejected, 8,
       "RESOURCE_EXHAUSTED (8): quota"},
      {TrailersOnly(8, "quota", {{"grpc-status-details-bin", retry_info}}), O::kRetryable, 8,
       "RESOURCE_EXHAUSTED"},
      {Grpc(8, "quota", {}, {{"grpc-status-details-bin", "%%%"}}), O::kRejected, 8,
       "malformed grpc-status-details-bin: not base64"},
      {H2ServerResponse{.status = 503}, O::kRetryable, 14, "HTTP 503 without grpc-status"},
      {H2ServerResponse{.status = 404}, O::kRejected, 12, "HTTP 404"},
      {H2ServerResponse{.status = 200}, O::kRejected, 13, "no grpc-status"},
      {TrailersOnly(0) /* placeholder for malformed below */, O::kAccepted, 0, ""},
  };
  cases.back().response.headers = net::Headers{{"grpc-status", "x1"}};
  cases.back().outcome = O::kRejected;
  cases.back().code = 2;
  cases.back().detail = "malformed grpc-status 'x1'";

  size_t next = 0;
  StartServer([&](const Seen&) { return cases[next].response; });
  MakeTransport();
  for (next = 0; next < cases.size(); ++next) {
    SCOPED_TRACE(next);
    ASSERT_OK_AND_ASSIGN(auto r, Send());
    EXPECT_EQ(r.outcome, cases[next].outcome);
    EXPECT_EQ(r.code, cases[next].code);
    EXPECT_THAT(r.detail, HasSubstr(cases[next].detail));
    if (next == 8) {
      EXPECT_EQ(r.retry_after, milliseconds(2250));
    } else {
      EXPECT_EQ(r.retry_after, std::nullopt);
    }
  }
  // One connection for every call.
  EXPECT_EQ(server_->connections(), 1u);
}

TEST_F(GrpcTransportTest, GoAwayMidExportSendsTheUnprocessedCallAgainOnANewConnection) {
  auto result = SendHeldCall("first");
  // Last stream id 0: the call in flight was not processed, so the client may send it again.
  server_->sessions().front()->GoAway(0, 0);
  auto r = result.get();
  ASSERT_OK(r.status());
  EXPECT_EQ(r->outcome, TransportResponse::Outcome::kAccepted);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ASSERT_EQ(seen_.size(), 2u);
    EXPECT_EQ(seen_[1].message, "first");
  }
  EXPECT_EQ(server_->connections(), 2u);
  // The next call stays on the new connection.
  ASSERT_OK_AND_ASSIGN(auto again, Send());
  EXPECT_EQ(again.outcome, TransportResponse::Outcome::kAccepted);
  EXPECT_EQ(server_->connections(), 2u);
}

TEST_F(GrpcTransportTest, ResetMidExportFailsRetryably) {
  auto result = SendHeldCall();
  // The call was processed as far as the server is concerned (last stream id 1), then the
  // connection goes: the exporter must be told to retry, not that the batch was delivered.
  server_->sessions().front()->GoAway(1, 2);
  server_->sessions().front()->Close();
  auto r = result.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_TRUE(r.status().retryable());
}

TEST_F(GrpcTransportTest, CancelEndsACallInFlight) {
  auto result = SendHeldCall("x", milliseconds(60000));
  transport_->Cancel();
  auto r = result.get();
  EXPECT_THAT(r, StatusIs(StatusCode::kCancelled));
  // Later calls fail at once.
  EXPECT_THAT(Send(), StatusIs(StatusCode::kCancelled));
}

TEST_F(GrpcTransportTest, JsonIsRefusedAndBadEndpointsFail) {
  StartServer([&](const Seen&) { return Grpc(0); });
  MakeTransport();
  EXPECT_THAT(transport_->Send({.body = "{}", .json = true,
                                .deadline = steady_clock::now() + std::chrono::seconds(5)}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("protobuf only")));
  EXPECT_THAT(GrpcTransport::Create({.endpoint = "nats://x:1"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("http:// or https://")));
  EXPECT_THAT(GrpcTransport::Create({.endpoint = "not a url"}),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(GrpcTransportTest, ConnectionRefusedIsRetryable) {
  StartServer([&](const Seen&) { return Grpc(0); });
  const uint16_t port = server_->port();
  server_->Stop();
  server_.reset();
  GrpcTransport::Options o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  o.runtime = runtime_;
  ASSERT_OK_AND_ASSIGN(transport_, GrpcTransport::Create(std::move(o)));
  auto r = Send();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_TRUE(r.status().retryable());
}

// The exporter over gRPC: UNAVAILABLE, then RESOURCE_EXHAUSTED with RetryInfo, then OK.
TEST_F(GrpcTransportTest, ExporterRetriesAndDelivers) {
  const std::string retry_info =
      net::internal::Base64Encode(RpcStatus(8, "quota", {RetryInfoAny(0, 1000000)}));
  int calls = 0;
  StartServer([&](const Seen&) {
    ++calls;
    if (calls == 1) return TrailersOnly(14);
    if (calls == 2) return TrailersOnly(8, "", {{"grpc-status-details-bin", retry_info}});
    return Grpc(0);
  });
  RetryPolicy retry;
  retry.initial_backoff = milliseconds(1);
  retry.max_backoff = milliseconds(5);
  ASSERT_OK_AND_ASSIGN(
      auto exporter,
      OtlpHttpExporter::Create({.endpoint = "http://127.0.0.1:" + std::to_string(server_->port()),
                                .protocol = OtlpProtocol::kGrpc,
                                .compression = Compression::kGzip,
                                .runtime = runtime_,
                                .retry = retry,
                                .synchronous = true}));
  trace::SpanData span = test::MinimalSpan();
  const trace::SpanData* spans[] = {&span};
  EXPECT_EQ(exporter->Export(spans), trace::ExportResult::kSuccess);
  EXPECT_EQ(exporter->stats().spans_exported, 1u);
  EXPECT_EQ(calls, 3);
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_EQ(seen_.size(), 3u);
  EXPECT_TRUE(seen_[2].compressed);
  EXPECT_FALSE(seen_[2].message.empty());
  EXPECT_TRUE(exporter->Shutdown(std::chrono::seconds(5)));
}

}  // namespace
}  // namespace otlp::exporter::internal
