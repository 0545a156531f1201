#include "otlp/http/error.h"

#include <string>
#include <utility>

namespace otlp::http {
namespace {

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// The transport of today sets no detail: the kind follows from the code and, where one code
// covers several kinds, from the wording of otlp::net's messages (net/http_client.cc,
// net/internal/stream.cc). Engines that set Status::detail() never reach this.
ErrorKind InferKind(const Status& status) {
  const std::string& m = status.message();
  switch (status.code()) {
    case StatusCode::kOk: return ErrorKind::kNone;
    case StatusCode::kCancelled: return ErrorKind::kCancelled;
    case StatusCode::kInvalidArgument: return ErrorKind::kInvalidRequest;
    case StatusCode::kDeadlineExceeded:
      if (m.starts_with("connect to ") || m.starts_with("resolving ") ||
          m.starts_with("TLS handshake with ")) {
        return ErrorKind::kConnectTimeout;
      }
      return ErrorKind::kRequestTimeout;
    case StatusCode::kPermissionDenied: return ErrorKind::kCertificate;
    case StatusCode::kResourceExhausted: return ErrorKind::kTooLarge;
    case StatusCode::kInternal: return ErrorKind::kProtocol;
    case StatusCode::kUnavailable:
      if (m.starts_with("connection refused")) return ErrorKind::kConnectionRefused;
      if (m.starts_with("cannot resolve host")) return ErrorKind::kDnsFailure;
      if (Contains(m, "during the TLS handshake") || m.starts_with("TLS ")) {
        return ErrorKind::kTlsHandshake;
      }
      if (Contains(m, "closed") || Contains(m, "reset")) return ErrorKind::kConnectionReset;
      return ErrorKind::kOther;
    default: return ErrorKind::kOther;
  }
}

}  // namespace

ErrorKind ErrorKindOf(const Status& status) noexcept {
  if (status.ok()) return ErrorKind::kNone;
  if (status.detail() != 0) return static_cast<ErrorKind>(status.detail());
  return InferKind(status);
}

std::string_view ErrorKindName(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::kNone: return "";
    case ErrorKind::kConnectTimeout: return "connect_timeout";
    case ErrorKind::kRequestTimeout: return "request_timeout";
    case ErrorKind::kIdleTimeout: return "idle_timeout";
    case ErrorKind::kConnectionRefused: return "connection_refused";
    case ErrorKind::kDnsFailure: return "dns_failure";
    case ErrorKind::kTlsHandshake: return "tls_handshake";
    case ErrorKind::kCertificate: return "certificate";
    case ErrorKind::kConnectionReset: return "connection_reset";
    case ErrorKind::kProtocol: return "protocol_error";
    case ErrorKind::kTooLarge: return "too_large";
    case ErrorKind::kCancelled: return "cancelled";
    case ErrorKind::kProxy: return "proxy";
    case ErrorKind::kStreamReset: return "stream_reset";
    case ErrorKind::kGoAway: return "goaway";
    case ErrorKind::kTooManyRedirects: return "too_many_redirects";
    case ErrorKind::kDecoding: return "decoding";
    case ErrorKind::kInvalidRequest: return "invalid_request";
    case ErrorKind::kOther: break;
  }
  return "_OTHER";
}

bool NothingWasSent(ErrorKind kind) noexcept {
  return kind == ErrorKind::kConnectTimeout || kind == ErrorKind::kConnectionRefused ||
         kind == ErrorKind::kDnsFailure;
}

Status MakeError(StatusCode code, ErrorKind kind, std::string message, bool retryable) {
  return Status(code, std::move(message), retryable).WithDetail(static_cast<uint16_t>(kind));
}

}  // namespace otlp::http
