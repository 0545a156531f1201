#include "otlp/http/error.h"

#include <string>
#include <utility>

#include "otlp/http/websocket.h"

namespace otlp::http {
namespace {

constexpr bool SameValue(ErrorKind a, WebSocketErrorKind b) {
  return static_cast<uint16_t>(a) == static_cast<uint16_t>(b);
}
static_assert(SameValue(ErrorKind::kWebSocketUpgradeRefused, WebSocketErrorKind::kUpgradeRefused) &&
              SameValue(ErrorKind::kWebSocketMessageTooBig, WebSocketErrorKind::kMessageTooBig) &&
              SameValue(ErrorKind::kWebSocketClosed, WebSocketErrorKind::kClosed) &&
              SameValue(ErrorKind::kWebSocketProtocol, WebSocketErrorKind::kProtocol));
static_assert(static_cast<uint16_t>(ErrorKind::kBodySink) ==
                  static_cast<uint16_t>(net::HttpErrorKind::kBodySink),
              "ErrorKind takes the transport's numbering");

bool IsTransportKind(uint16_t detail) {
  return detail >= static_cast<uint16_t>(ErrorKind::kInvalidRequest) &&
         detail <= static_cast<uint16_t>(ErrorKind::kBodySink);
}

}  // namespace

ErrorKind ErrorKindOf(const Status& status) noexcept {
  if (status.ok()) return ErrorKind::kNone;
  if (status.detail() != 0) return static_cast<ErrorKind>(status.detail());
  switch (status.code()) {
    case StatusCode::kCancelled: return ErrorKind::kCancelled;
    case StatusCode::kInvalidArgument: return ErrorKind::kInvalidRequest;
    case StatusCode::kDeadlineExceeded: return ErrorKind::kRequestTimeout;
    case StatusCode::kUnavailable: return ErrorKind::kNetwork;
    default: return ErrorKind::kOther;
  }
}

std::string_view ErrorKindName(ErrorKind kind) noexcept {
  const auto value = static_cast<uint16_t>(kind);
  if (IsTransportKind(value)) return net::HttpErrorKindName(static_cast<net::HttpErrorKind>(value));
  switch (kind) {
    case ErrorKind::kNone: return "";
    case ErrorKind::kWebSocketUpgradeRefused: return "websocket_upgrade_refused";
    case ErrorKind::kWebSocketMessageTooBig: return "websocket_message_too_big";
    case ErrorKind::kWebSocketClosed: return "websocket_closed";
    case ErrorKind::kWebSocketProtocol: return "websocket_protocol";
    case ErrorKind::kTooManyRedirects: return "too_many_redirects";
    case ErrorKind::kDecoding: return "decoding";
    case ErrorKind::kBodyNotReplayable: return "body_not_replayable";
    default: break;
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
