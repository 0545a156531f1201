#include "otlp/nats/error.h"

namespace otlp::nats {

ErrorKind ErrorKindOf(const Status& status) noexcept {
  if (status.ok()) return ErrorKind::kNone;
  const uint16_t d = status.detail();
  if (d >= static_cast<uint16_t>(ErrorKind::kInvalidSubject) &&
      d <= static_cast<uint16_t>(ErrorKind::kDigestMismatch)) {
    return static_cast<ErrorKind>(d);
  }
  return ErrorKind::kNone;
}

std::string_view ErrorKindName(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::kNone: return "";
    case ErrorKind::kInvalidSubject: return "invalid_subject";
    case ErrorKind::kInvalidArgument: return "invalid_argument";
    case ErrorKind::kMaxPayload: return "max_payload";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kNoResponders: return "no_responders";
    case ErrorKind::kConnectionClosed: return "connection_closed";
    case ErrorKind::kConnectionLost: return "connection_lost";
    case ErrorKind::kBufferFull: return "buffer_full";
    case ErrorKind::kSlowConsumer: return "slow_consumer";
    case ErrorKind::kAuthorization: return "authorization";
    case ErrorKind::kPermission: return "permission";
    case ErrorKind::kServerError: return "server_error";
    case ErrorKind::kProtocol: return "protocol";
    case ErrorKind::kTls: return "tls";
    case ErrorKind::kConnect: return "connect";
    case ErrorKind::kSubscriptionClosed: return "subscription_closed";
    case ErrorKind::kJetStream: return "jetstream";
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kDigestMismatch: return "digest_mismatch";
  }
  return "unknown";
}

Status MakeError(StatusCode code, ErrorKind kind, std::string message, bool retryable) {
  return Status(code, std::move(message), retryable).WithDetail(static_cast<uint16_t>(kind));
}

}  // namespace otlp::nats
