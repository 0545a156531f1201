// The OTLP/gRPC transport: sends each export request as the unary call
// /opentelemetry.proto.collector.trace.v1.TraceService/Export through net::HttpClient over one
// HTTP/2 connection (h2c with prior knowledge for http://, TLS with ALPN "h2" for https://),
// reused across exports and reopened when it closed or the server sent GOAWAY (a call the server
// did not process is sent again on the new one), and classifies the gRPC status as the OTLP
// specification says. Internal: used by OtlpHttpExporter when the protocol is grpc. The pieces
// of the gRPC wire format (message framing, grpc-timeout, status details) are exposed for their
// unit tests.
//
//   GrpcTransport::Options o{.endpoint = "http://collector:4317"};
//   auto t = GrpcTransport::Create(std::move(o));          // no I/O yet
//   Result<TransportResponse> r = (*t)->Send(request);     // connects on first use
//
// Threading: as Transport (transport.h): Send from several threads at once (their calls share
// the connection as concurrent streams), Cancel from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/core/status.h"
#include "otlp/exporter/transport.h"
#include "otlp/net/headers.h"
#include "otlp/net/runtime.h"
#include "otlp/net/tls.h"

namespace otlp::exporter::internal {

// The gRPC method path of an OTLP trace export.
inline constexpr std::string_view kGrpcTraceExportPath =
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

// gRPC status codes (grpc/doc/statuscodes.md) that matter here.
enum class GrpcCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// "UNAVAILABLE", ...; "code 42" for numbers gRPC does not define.
std::string GrpcCodeName(int code);
// The codes OTLP/gRPC retries unconditionally: CANCELLED, DEADLINE_EXCEEDED, ABORTED,
// OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS. (RESOURCE_EXHAUSTED only with RetryInfo; see Send.)
bool IsRetryableGrpcCode(int code) noexcept;
// The gRPC code for an HTTP response without grpc-status (grpc/doc/http-grpc-status-mapping.md).
int GrpcCodeFromHttpStatus(int http_status) noexcept;

// The 5-byte length-prefixed message: compressed flag, big-endian length, message.
std::string FrameGrpcMessage(std::string_view message, bool compressed);
struct GrpcMessage {
  std::string_view data;
  bool compressed = false;
};
// The messages of a response body (a unary response has at most one). A truncated prefix or
// message, or a flag other than 0 or 1, is kInvalidArgument naming what is wrong.
Result<std::vector<GrpcMessage>> ParseGrpcMessages(std::string_view body);

// The grpc-timeout value for `timeout`: at most 8 digits and a unit, in the finest unit that
// fits ("1500m", "100000S"); at least "1m".
std::string FormatGrpcTimeout(std::chrono::milliseconds timeout);

// RFC 4648 base64, standard or URL-safe alphabet, padding optional (gRPC sends binary header
// values unpadded). nullopt for anything else.
std::optional<std::string> DecodeBase64(std::string_view in);

// grpc-message is percent-encoded (grpc/doc/PROTOCOL-HTTP2.md); invalid escapes are kept as is.
std::string PercentDecodeGrpcMessage(std::string_view value);

// What grpc-status-details-bin says: the google.rpc.Status, and the retry_delay of a
// google.rpc.RetryInfo among its details.
struct GrpcStatusDetails {
  int code = 0;
  std::string message;
  std::optional<std::chrono::milliseconds> retry_delay;
};
// Decodes the header value (base64 of a google.rpc.Status). Malformed base64, protobuf, or a
// RetryInfo with a negative or out-of-range delay is kInvalidArgument with the reason.
Result<GrpcStatusDetails> DecodeGrpcStatusDetails(std::string_view header_value);

class GrpcTransport final : public Transport {
 public:
  struct Options {
    // http(s)://host[:port][/prefix]: the call goes to <prefix> + kGrpcTraceExportPath.
    std::string endpoint;
    net::Headers headers;  // extra request metadata (OTEL_EXPORTER_OTLP_HEADERS)
    std::string user_agent;
    net::TlsOptions tls;  // ALPN is the client's: "h2", "http/1.1"; an HTTP/1.1 answer is an error
    std::chrono::milliseconds connect_timeout{10000};
    // The I/O runtime. Null: a caller-driven one (net::Runtime::CreateCallerDriven), so that
    // each Send runs its request's I/O on the sending thread.
    std::shared_ptr<net::Runtime> runtime;
  };
  // Fails for an endpoint that is not an absolute http(s) URL, or TLS files that cannot be
  // loaded. Does not connect.
  static Result<std::unique_ptr<GrpcTransport>> Create(Options options);
  ~GrpcTransport() override;

  // The message is request.body framed (compressed flag set when request.gzip, which must be
  // protobuf: JSON is refused with kInvalidArgument), grpc-timeout from the request deadline.
  // grpc-status 0: kAccepted, body = the ExportTraceServiceResponse (decompressed). Retryable
  // codes (IsRetryableGrpcCode), and RESOURCE_EXHAUSTED carrying RetryInfo: kRetryable, with
  // retry_after = RetryInfo's delay when present. Every other code: kRejected. `detail` names
  // the code and the server's grpc-message; `code` is the gRPC status code. A connection lost
  // before the status arrived is a retryable error, as for HTTP (net::HttpClient's errors); a
  // TLS server that chose HTTP/1.1 by ALPN is kFailedPrecondition.
  Result<TransportResponse> Send(const TransportRequest& request) override;
  void Cancel() noexcept override;
  std::string_view endpoint() const noexcept override { return endpoint_for_messages_; }

  struct Impl;

 private:
  explicit GrpcTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string endpoint_for_messages_;
};

}  // namespace otlp::exporter::internal
