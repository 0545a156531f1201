// otlp/http/error.h — telling HTTP failures apart: the kind of error behind a Status returned by
// otlp::http (and by the otlp::net transport underneath).
//
//   otlp::Result<otlp::http::Response> r = client.Get("http://127.0.0.1:8080/");
//   if (!r.ok()) {
//     switch (otlp::http::ErrorKindOf(r.status())) {
//       case otlp::http::ErrorKind::kConnectTimeout: ...   // nothing was sent
//       case otlp::http::ErrorKind::kTooManyRedirects: ...
//       default: std::cerr << r.status().ToString() << "\n";
//     }
//   }
//
// A Status keeps its code (kDeadlineExceeded, kUnavailable, ...) and says whether retrying can
// help; the kind is finer: a connect timeout and a whole-request timeout share
// kDeadlineExceeded but not their kind. The kind lives in Status::detail() and ErrorKind uses
// one numbering with the layers that set it, so a detail is read as it is, never translated:
//   1..18      the transport's net::HttpErrorKind (otlp/net/http_client.h), same values;
//   100..103   the WebSocket client's WebSocketErrorKind (websocket.h), same values;
//   0x100...   this module's own (redirect limit, content decoding, a body that cannot be resent).
// A Status without a detail (not from an HTTP layer) gets a kind from its code alone.
//
// ErrorKindName gives the low-cardinality identifier used as `error.type` on spans and metrics
// (the transport's own names, net::HttpErrorKindName, for the transport kinds).
//
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/net/http_client.h"

namespace otlp::http {

namespace internal {
constexpr uint16_t NetKind(net::HttpErrorKind kind) { return static_cast<uint16_t>(kind); }
}  // namespace internal

enum class ErrorKind : uint16_t {
  kNone = 0,  // not an error
  // The transport's kinds (net::HttpErrorKind, documented there).
  kInvalidRequest = internal::NetKind(net::HttpErrorKind::kInvalidRequest),  // nothing sent
  kConnectTimeout = internal::NetKind(net::HttpErrorKind::kConnectTimeout),
  kRequestTimeout = internal::NetKind(net::HttpErrorKind::kRequestTimeout),
  kIdleTimeout = internal::NetKind(net::HttpErrorKind::kIdleTimeout),
  kDnsFailure = internal::NetKind(net::HttpErrorKind::kDnsFailure),
  kConnectionRefused = internal::NetKind(net::HttpErrorKind::kConnectionRefused),
  kConnectionReset = internal::NetKind(net::HttpErrorKind::kConnectionReset),
  kTlsHandshake = internal::NetKind(net::HttpErrorKind::kTlsHandshake),  // protocol, alert
  kCertificate = internal::NetKind(net::HttpErrorKind::kCertificate),    // verification
  kNetwork = internal::NetKind(net::HttpErrorKind::kNetwork),            // other socket error
  kProtocol = internal::NetKind(net::HttpErrorKind::kProtocol),
  kTooLarge = internal::NetKind(net::HttpErrorKind::kTooLarge),
  kCancelled = internal::NetKind(net::HttpErrorKind::kCancelled),
  kProxy = internal::NetKind(net::HttpErrorKind::kProxy),
  kStreamReset = internal::NetKind(net::HttpErrorKind::kStreamReset),  // HTTP/2 RST_STREAM
  kGoAway = internal::NetKind(net::HttpErrorKind::kGoAway),            // HTTP/2 GOAWAY
  kBodySource = internal::NetKind(net::HttpErrorKind::kBodySource),  // the upload source failed
  kBodySink = internal::NetKind(net::HttpErrorKind::kBodySink),  // the download sink failed
  // The WebSocket client's kinds (WebSocketErrorKind in websocket.h).
  kWebSocketUpgradeRefused = 100,
  kWebSocketMessageTooBig = 101,
  kWebSocketClosed = 102,
  kWebSocketProtocol = 103,
  // This module's kinds.
  kTooManyRedirects = 0x100,  // the redirect limit was reached
  kDecoding = 0x101,          // the body could not be decoded (JSON, content encoding)
  // A redirect or retry would resend a streamed request body that was already consumed and
  // cannot be rewound (see BodyStream in request.h).
  kBodyNotReplayable = 0x102,
  kOther = 0x1FF,  // a failure without a finer kind (a Status from elsewhere)
};

// The kind of `status`: kNone for OK, the detail it carries; without a detail, from its code
// (kCancelled, kInvalidArgument → kInvalidRequest, kDeadlineExceeded → kRequestTimeout,
// kUnavailable → kNetwork, anything else kOther).
OTLP_EXPORT ErrorKind ErrorKindOf(const Status& status) noexcept;

// "connect_timeout", "too_many_redirects", ...; "_OTHER" for kOther and unknown values
// (semantic conventions' fallback); "" for kNone.
OTLP_EXPORT std::string_view ErrorKindName(ErrorKind kind) noexcept;

// True for kinds where no byte of the request reached the server (a retry cannot repeat a
// side effect): connect timeout, refused, DNS failure.
OTLP_EXPORT bool NothingWasSent(ErrorKind kind) noexcept;

// A Status of `code` carrying `kind` as its detail.
OTLP_EXPORT Status MakeError(StatusCode code, ErrorKind kind, std::string message,
                             bool retryable = false);

}  // namespace otlp::http
