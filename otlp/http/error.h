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
// kDeadlineExceeded but not their kind. The transport kinds (connect timeout ... GOAWAY) are set
// by the protocol engines in Status::detail(); the API-level kinds (kTooManyRedirects,
// kDecoding, kInvalidRequest) by this module. For a Status without a detail (from a transport
// that does not set one yet) ErrorKindOf infers the kind from the code.
//
// ErrorKindName gives the low-cardinality identifier used as `error.type` on spans and metrics.
//
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "otlp/core/export.h"
#include "otlp/core/status.h"

namespace otlp::http {

enum class ErrorKind : uint16_t {
  kNone = 0,  // not an error
  // Transport kinds, in the numbering of the engines' Status::detail().
  kConnectTimeout = 1,     // resolve + TCP connect + TLS handshake took too long
  kRequestTimeout = 2,     // the whole request (or its per-request timeout) expired
  kIdleTimeout = 3,        // no byte arrived for too long in the middle of a response
  kConnectionRefused = 4,  // nothing listens on that port
  kDnsFailure = 5,         // the host name does not resolve
  kTlsHandshake = 6,       // TLS failed before any request byte (protocol, version, alert)
  kCertificate = 7,        // the server certificate failed verification
  kConnectionReset = 8,    // the peer closed or reset the connection
  kProtocol = 9,           // the peer sent something that is not valid HTTP
  kTooLarge = 10,          // response headers or body beyond the configured limits
  kCancelled = 11,         // cancelled by the caller, or the client shut down
  kProxy = 12,             // the proxy refused or failed the CONNECT
  kStreamReset = 13,       // HTTP/2 RST_STREAM
  kGoAway = 14,            // HTTP/2 GOAWAY before the stream was processed
  kOther = 15,             // a transport failure without a finer kind
  // API-level kinds (this module).
  kTooManyRedirects = 0x100,  // the redirect limit was reached
  kDecoding = 0x101,          // the body could not be decoded (JSON, content encoding)
  kInvalidRequest = 0x102,    // bad URL, method, header or option; nothing was sent
};

// The kind of `status`: kNone for OK, the detail it carries, else inferred from its code.
OTLP_EXPORT ErrorKind ErrorKindOf(const Status& status) noexcept;

// "connect_timeout", "too_many_redirects", ...; "_OTHER" for kOther (semantic conventions'
// fallback); "" for kNone.
OTLP_EXPORT std::string_view ErrorKindName(ErrorKind kind) noexcept;

// True for kinds where no byte of the request reached the server (a retry cannot repeat a
// side effect): connect timeout, refused, DNS failure.
OTLP_EXPORT bool NothingWasSent(ErrorKind kind) noexcept;

// A Status of `code` carrying `kind` as its detail.
OTLP_EXPORT Status MakeError(StatusCode code, ErrorKind kind, std::string message,
                             bool retryable = false);

}  // namespace otlp::http
