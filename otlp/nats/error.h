// otlp/nats/error.h — telling NATS failures apart. Every failing call of otlp::nats returns a
// Status whose code says what happened in general (kDeadlineExceeded, kUnavailable, ...) and
// whose detail() is one of these kinds; ErrorKindName gives the low-cardinality name recorded as
// `error.type` on spans.
//
//   otlp::Result<otlp::nats::Message> reply = conn->Request("svc.echo", "hi", 500ms);
//   if (!reply.ok() && otlp::nats::ErrorKindOf(reply.status()) == ErrorKind::kNoResponders) ...
//
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "otlp/core/export.h"
#include "otlp/core/status.h"

namespace otlp::nats {

enum class ErrorKind : uint16_t {
  kNone = 0,
  kInvalidSubject = 0x200,  // a subject (or queue group) that is not valid; nothing sent
  kInvalidArgument,         // another argument or option that is not valid
  kMaxPayload,              // headers + data above the server's max_payload; nothing sent
  kTimeout,                 // a request, flush, NextMsg or connect that ran out of time
  kNoResponders,            // a request nobody subscribes to (503 from the server)
  kConnectionClosed,        // the connection is closed (Close, Drain, or gave up reconnecting)
  kConnectionLost,          // the connection dropped while the call waited
  kBufferFull,              // the reconnect buffer (publishes while disconnected) is full
  kSlowConsumer,            // a subscription's pending limit was reached; messages dropped
  kAuthorization,           // the server refused the credentials
  kPermission,              // the server refused a publish or subscribe (-ERR Permissions ...)
  kServerError,             // another -ERR from the server
  kProtocol,                // the server sent something that is not the NATS protocol
  kTls,                     // TLS required, handshake or certificate failure
  kConnect,                 // no server could be reached
  kSubscriptionClosed,      // the subscription was unsubscribed, drained or reached its max
  kJetStream,               // a JetStream API error (see jetstream.h for its err_code)
  kNotFound,                // JetStream / KV / Object Store: no such stream, key, object
  kDigestMismatch,          // an object whose SHA-256 digest does not match its info
};

// The kind in a Status from otlp::nats (kNone for OK, and for a Status from elsewhere).
OTLP_EXPORT ErrorKind ErrorKindOf(const Status& status) noexcept;
// "timeout", "no_responders", ... (stable; used as error.type).
OTLP_EXPORT std::string_view ErrorKindName(ErrorKind kind) noexcept;
// A Status with `code`, `message` and `kind`.
OTLP_EXPORT Status MakeError(StatusCode code, ErrorKind kind, std::string message,
                             bool retryable = false);

}  // namespace otlp::nats
