// otlp/exporter/transport.h — how an OTLP exporter hands one encoded export request to the
// network. The exporter's delivery logic (retries, backoff, partial success, timeouts, shutdown)
// talks only to this interface, so it is the same over every transport: OTLP/HTTP today
// (OtlpHttpExporter), OTLP/gRPC beside it later.
//
//   TransportRequest request{.body = encoded, .json = false, .gzip = true,
//                            .deadline = std::chrono::steady_clock::now() + 10s};
//   Result<TransportResponse> r = transport.Send(request);
//   if (!r.ok()) {
//     // No answer: refused, reset, timed out or cancelled. r.status().retryable() says whether
//     // sending again can help.
//   } else if (r->outcome == TransportResponse::Outcome::kAccepted) {
//     // r->body is the Export*ServiceResponse (partial success), encoded as r->body_json says.
//   } else {
//     // kRetryable (wait r->retry_after if set) or kRejected (final); r->detail says why.
//   }
//
// A transport classifies its protocol's answers (HTTP status codes, gRPC status) into the three
// outcomes, as the OTLP specification says for that protocol, and reads the server's requested
// delay (Retry-After, RetryInfo); the exporter does the rest.
//
// Threading: Send may run on several threads at once (one per request in flight) and blocks the
// calling thread; Cancel may be called from any thread at any time, also while Sends block.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "otlp/core/status.h"
#include "otlp/net/http_client.h"

namespace otlp::exporter {

struct TransportRequest {
  // The encoded ExportTraceServiceRequest, gzip-compressed when `gzip`. Valid during Send.
  std::string_view body;
  bool json = false;  // OTLP/JSON, else protobuf
  bool gzip = false;
  // The attempt ends by then: an answer that has not arrived is kDeadlineExceeded.
  std::chrono::steady_clock::time_point deadline;
};

struct TransportResponse {
  enum class Outcome : unsigned char {
    kAccepted,   // the receiver took the data (HTTP 2xx); not to be sent again
    kRetryable,  // the receiver asks to try again later (HTTP 429, 502, 503, 504)
    kRejected,   // final: sending the same data again cannot help (HTTP 400, 413, ...)
  };
  Outcome outcome = Outcome::kAccepted;
  int code = 0;  // the protocol's own status (the HTTP status code)
  // kAccepted: the Export*ServiceResponse, possibly empty, encoded as `body_json` says.
  std::string body;
  bool body_json = false;
  // kAccepted: the connection ended inside the body; `body` is the part that arrived. The status
  // had arrived, so the data was delivered.
  bool body_truncated = false;
  // kRetryable: the delay the receiver asked for (HTTP Retry-After), not capped.
  std::optional<std::chrono::milliseconds> retry_after;
  // kRetryable and kRejected: what the receiver said, for logs ("HTTP 400: span too old").
  std::string detail;
  net::Headers headers;  // the response headers, as received
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Sends one request and waits for the answer, an error, the request's deadline or Cancel().
  // Errors: the transport's own (kUnavailable, kDeadlineExceeded ..., retryable() set when
  // sending again can help); kCancelled after Cancel().
  virtual Result<TransportResponse> Send(const TransportRequest& request) = 0;

  // Makes every Send in progress return kCancelled at once and every later one fail with
  // kCancelled. For shutdown deadlines. Idempotent.
  virtual void Cancel() noexcept = 0;

  // Where requests go, for messages ("http://collector:4318/v1/traces").
  virtual std::string_view endpoint() const noexcept = 0;
};

}  // namespace otlp::exporter
