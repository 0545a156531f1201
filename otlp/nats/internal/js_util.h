// otlp/nats/internal/js_util.h — what JetStream, KV and the Object Store share: the API request
// with its error mapping, JSON of stream info, RFC 3339 times, base64 decoding, name checks,
// and the spans of the layers above the core. Not installed.
#pragma once

#include <type_traits>

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "otlp/core/status.h"
#include "otlp/nats/jetstream.h"
#include "otlp/trace/span.h"

namespace otlp::nats::internal {

using Json = nlohmann::json;

// kInternal / kProtocol: a reply that is not what the JetStream API sends.
Status JsProtocolError(std::string what);
// kJetStream (kNotFound for stream / consumer / message not found) with code and err_code in the
// message ("... (code 404, err_code 10059)").
Status JsApiError(int code, int err_code, std::string_view description);
// A JSON reply of the API: parsed, and its "error" object turned into a Status.
Result<Json> ParseApiReply(std::string_view data, std::string_view what);
// A request to `js`'s API prefix + subject with `body`; the reply parsed as above.
Result<Json> ApiJson(JetStream& js, std::string_view subject, std::string_view body,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

// "2026-12-07T21:31:01.123456789Z" (or with an offset) → ns since the epoch; nullopt when it is
// not one.
std::optional<int64_t> ParseRfc3339(std::string_view text);
// ns since the epoch → "2026-12-07T21:31:01.123456789Z" (fraction trimmed like Go's RFC3339Nano).
std::string FormatRfc3339(int64_t unix_nano);
// Standard or URL-safe base64, padded or not; nullopt for bad input.
std::optional<std::string> Base64Decode(std::string_view in);

// Stream and consumer names: non-empty, no '.', '*', '>', whitespace or control characters.
bool ValidJsName(std::string_view name) noexcept;

// Throws nlohmann::json exceptions on wrong types (callers catch them).
StreamInfo StreamInfoFromJson(const Json& j);
Json StreamConfigToJson(const StreamConfig& c);

// A CLIENT span for a KV or Object Store operation ("kv put <bucket>", "obj get <bucket>"): not
// recording when the connection does not trace. Attributes: messaging.system = "nats",
// messaging.operation.name = the operation ("kv.put", "obj.get"), messaging.destination.name
// (the stream), messaging.nats.kv.bucket / messaging.nats.obj.bucket, and the key or object
// name as messaging.nats.kv.key / messaging.nats.obj.name.
trace::Span StartStoreSpan(Connection& conn, std::string_view kind, std::string_view operation,
                           std::string_view bucket, std::string_view stream,
                           std::string_view item);
// Ends it (error.type and an error status for a failure).
void EndStoreSpan(Connection& conn, trace::Span& span, const Status& status);

// Runs `f` (returning a Status or a Result) inside such a span, current while it runs; on
// success `on_ok(span, result)` may add what the result says (a revision, a size).
template <typename F, typename OnOk>
auto TracedStoreOp(Connection& conn, std::string_view kind, std::string_view operation,
                   std::string_view bucket, std::string_view stream, std::string_view item, F f,
                   OnOk on_ok) -> decltype(f()) {
  trace::Span span = StartStoreSpan(conn, kind, operation, bucket, stream, item);
  if (!span.IsRecording()) return f();
  trace::Scope scope(trace::Context::Current().WithSpanContext(span.GetContext()));
  auto result = f();
  Status status;
  if constexpr (std::is_same_v<decltype(result), Status>) {
    status = result;
  } else {
    status = result.status();
    if (result.ok()) on_ok(span, result);
  }
  EndStoreSpan(conn, span, status);
  return result;
}

}  // namespace otlp::nats::internal
