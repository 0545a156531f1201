// otlp/trace/span.h — a span: one timed operation in a trace.
//
//   otlp::trace::Span span = tracer.StartSpan("GET /users", {.kind = SpanKind::kClient});
//   span.SetAttribute("http.request.method", "GET")
//       .SetAttribute("http.response.status_code", 200);
//   if (failed) span.SetStatus(SpanStatusCode::kError, "timeout");
//   span.End();   // or let the destructor end it
//
// A Span is a move-only handle, like std::unique_ptr: the handle that started a span ends it
// (explicitly or in its destructor). Every method is noexcept and a no-op on a span that is not
// recording (unsampled, disabled SDK, or already ended), so instrumentation never needs checks.
//
// Threading: a Span handle may be moved to and ended on another thread, but it must not be
// used by two threads at once (like std::string). This keeps start+end free of locks and
// atomic read-modify-writes (bench/RESULTS.md has its cost); share a span between threads by
// passing its Context instead (docs/ARCHITECTURE.md, "Deviations").
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "otlp/core/attributes.h"
#include "otlp/core/export.h"
#include "otlp/trace/internal/span_record.h"
#include "otlp/trace/span_context.h"
#include "otlp/trace/span_data.h"

namespace otlp::trace {

// Wall-clock timestamp for explicit start/end/event times.
using SystemTime = std::chrono::system_clock::time_point;

class OTLP_EXPORT Span {
 public:
  // A span that records nothing and has an invalid context.
  Span() noexcept = default;
  Span(Span&& other) noexcept
      : rec_(std::exchange(other.rec_, nullptr)), ctx_(std::move(other.ctx_)) {}
  Span& operator=(Span&& other) noexcept {
    if (this != &other) {
      End();
      rec_ = std::exchange(other.rec_, nullptr);
      ctx_ = std::move(other.ctx_);
    }
    return *this;
  }
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  ~Span() { End(); }

  // A non-recording span that carries `context` (e.g. a remote parent) so it can be made current
  // and propagated.
  static Span Wrap(SpanContext context) noexcept {
    Span s;
    s.ctx_ = std::move(context);
    return s;
  }

  // True until End() for a sampled span of an enabled SDK.
  bool IsRecording() const noexcept { return rec_ != nullptr; }
  // Valid for every span the SDK started, recording or not, also after End().
  const SpanContext& GetContext() const noexcept { return ctx_; }

  // Sets (or replaces) an attribute. Past the count limit it is dropped and counted; strings
  // longer than the value-length limit are truncated.
  // Inline: with a literal key and a value of known type, the common append compiles down to a
  // few fixed-size stores at the call site.
  [[gnu::always_inline]] Span& SetAttribute(std::string_view key,
                                            const AttributeValue& value) noexcept {
    if (rec_ != nullptr) rec_->SetAttribute(key, value);
    return *this;
  }
  Span& SetAttributes(std::initializer_list<KeyValue> attributes) noexcept;
  Span& SetAttributes(std::span<const KeyValue> attributes) noexcept;

  Span& AddEvent(std::string_view name, std::initializer_list<KeyValue> attributes = {},
                 std::optional<SystemTime> timestamp = std::nullopt) noexcept;
  Span& AddEvent(std::string_view name, std::span<const KeyValue> attributes,
                 std::optional<SystemTime> timestamp = std::nullopt) noexcept;

  // Adds an "exception" event with exception.type / exception.message / exception.stacktrace.
  Span& RecordException(std::string_view type, std::string_view message,
                        std::string_view stacktrace = {},
                        std::initializer_list<KeyValue> attributes = {}) noexcept;
  // The type is the demangled dynamic type of `e`, the message e.what().
  Span& RecordException(const std::exception& e,
                        std::initializer_list<KeyValue> attributes = {}) noexcept;

  Span& AddLink(const SpanContext& context,
                std::initializer_list<KeyValue> attributes = {}) noexcept;
  Span& AddLink(const SpanContext& context, std::span<const KeyValue> attributes) noexcept;

  // Error carries the description; Ok is final (later calls are ignored); Unset is ignored.
  Span& SetStatus(SpanStatusCode code, std::string_view description = {}) noexcept;
  Span& UpdateName(std::string_view name) noexcept;

  // Ends the span now, or at `end_time`. Later calls do nothing.
  void End() noexcept {
    if (rec_ != nullptr) EndImpl(kNow);
  }
  void End(SystemTime end_time) noexcept {
    if (rec_ != nullptr) EndImpl(ToUnixNanos(end_time));
  }
  void End(std::optional<SystemTime> end_time) noexcept {
    if (rec_ != nullptr) EndImpl(end_time ? ToUnixNanos(*end_time) : kNow);
  }

 private:
  friend class Tracer;
  // The tracer's start paths fill the caller's default-constructed Span (so they return
  // nothing, and their uncommon cases can be tail calls).
  void Fill(internal::SpanRecord* rec, const TraceId& trace_id, const SpanId& span_id,
            TraceFlags flags) noexcept {
    rec_ = rec;
    ctx_.SetLocal(trace_id, span_id, flags);
  }
  void Fill(internal::SpanRecord* rec, const TraceId& trace_id, const SpanId& span_id,
            TraceFlags flags, TraceState&& state) noexcept {
    rec_ = rec;
    ctx_ = SpanContext(trace_id, span_id, flags, false, std::move(state));
  }
  // A time as nanoseconds since the epoch; INT64_MIN (kNow) reads the clock. (Scalars, not an
  // optional: a one-byte "engaged" flag read back as part of a wider load stalls the CPU.)
  static constexpr int64_t kNow = INT64_MIN;
  static int64_t ToUnixNanos(SystemTime t) noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  void EndImpl(int64_t end_unix_nano) noexcept;
  // Everything but a sampled span of a batch processor ending with the clock's fast path.
  [[gnu::noinline]] static void EndGeneral(internal::SpanRecord* r, int64_t end_unix_nano) noexcept;

  internal::SpanRecord* rec_ = nullptr;
  SpanContext ctx_;
};

}  // namespace otlp::trace
