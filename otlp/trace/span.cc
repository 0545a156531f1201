#include "otlp/trace/span.h"

#include <cxxabi.h>

#include <cstdlib>
#include <cstring>
#include <typeinfo>

#include "otlp/trace/internal/batch_enqueue.h"
#include "otlp/trace/internal/fast_clock.h"
#include "otlp/trace/internal/span_record.h"
#include "otlp/trace/internal/tracer_impl.h"

namespace otlp::trace {

using internal::SpanRecord;

namespace {

int64_t ToNanos(SystemTime t) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

const SpanLimits& LimitsOf(const SpanRecord* r) noexcept { return r->provider->limits; }

}  // namespace

Span& Span::SetAttributes(std::initializer_list<KeyValue> attributes) noexcept {
  return SetAttributes(std::span<const KeyValue>(attributes.begin(), attributes.size()));
}

Span& Span::SetAttributes(std::span<const KeyValue> attributes) noexcept {
  if (rec_ == nullptr) return *this;
  for (const KeyValue& kv : attributes) rec_->SetAttribute(kv.key, kv.value);
  return *this;
}

Span& Span::AddEvent(std::string_view name, std::initializer_list<KeyValue> attributes,
                     std::optional<SystemTime> timestamp) noexcept {
  return AddEvent(name, std::span<const KeyValue>(attributes.begin(), attributes.size()),
                  timestamp);
}

Span& Span::AddEvent(std::string_view name, std::span<const KeyValue> attributes,
                     std::optional<SystemTime> timestamp) noexcept {
  if (rec_ == nullptr) return *this;
  rec_->AddEvent(LimitsOf(rec_), name, timestamp ? ToNanos(*timestamp) : internal::NowUnixNanos(),
                 attributes);
  return *this;
}

Span& Span::RecordException(std::string_view type, std::string_view message,
                            std::string_view stacktrace,
                            std::initializer_list<KeyValue> attributes) noexcept {
  if (rec_ == nullptr) return *this;
  KeyValue kvs[3 + 16];
  size_t n = 0;
  if (!type.empty()) kvs[n++] = {"exception.type", type};
  if (!message.empty()) kvs[n++] = {"exception.message", message};
  if (!stacktrace.empty()) kvs[n++] = {"exception.stacktrace", stacktrace};
  for (const KeyValue& kv : attributes) {
    if (n == std::size(kvs)) break;
    kvs[n++] = kv;
  }
  return AddEvent("exception", std::span<const KeyValue>(kvs, n));
}

Span& Span::RecordException(const std::exception& e,
                            std::initializer_list<KeyValue> attributes) noexcept {
  if (rec_ == nullptr) return *this;
  const char* mangled = typeid(e).name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  RecordException(status == 0 && demangled ? demangled : mangled, e.what(), {}, attributes);
  std::free(demangled);
  return *this;
}

Span& Span::AddLink(const SpanContext& context,
                    std::initializer_list<KeyValue> attributes) noexcept {
  return AddLink(context, std::span<const KeyValue>(attributes.begin(), attributes.size()));
}

Span& Span::AddLink(const SpanContext& context, std::span<const KeyValue> attributes) noexcept {
  if (rec_ != nullptr) rec_->AddLink(LimitsOf(rec_), context, attributes);
  return *this;
}

Span& Span::SetStatus(SpanStatusCode code, std::string_view description) noexcept {
  if (rec_ == nullptr || rec_->status_final || code == SpanStatusCode::kUnset) return *this;
  rec_->h.status = static_cast<uint8_t>(code);
  if (code == SpanStatusCode::kOk) {
    rec_->status_final = true;
    rec_->SetStatusMessage({});
  } else {
    rec_->SetStatusMessage(description);
  }
  return *this;
}

Span& Span::UpdateName(std::string_view name) noexcept {
  if (rec_ != nullptr) rec_->SetName(name);
  return *this;
}

void Span::EndImpl(int64_t end_unix_nano) noexcept {
  SpanRecord* r = rec_;
  rec_ = nullptr;
  internal::ProviderState* ps = r->provider;
  int64_t end = end_unix_nano;
  if (ps->batch != nullptr && (r->h.trace_flags & TraceFlags::kSampled) != 0 &&
      internal::PoolTakesRecord() && (end != kNow || internal::TryNowUnixNanos(end))) [[likely]] {
    if (end < r->h.start) end = r->h.start;
    // The common case: no virtual call, and every call a tail call (no stack frame): the
    // enqueue returns the record to the pool once it has copied it. The end time travels in a
    // register: stored here and read back at once as part of a wider copy, it would stall the
    // load.
    return internal::BatchEnqueueAndRelease(*ps->batch, r, end);
  }
  return EndGeneral(r, end_unix_nano);
}

void Span::EndGeneral(SpanRecord* r, int64_t end_unix_nano) noexcept {
  int64_t end = end_unix_nano != kNow ? end_unix_nano : internal::NowUnixNanos();
  if (end < r->h.start) end = r->h.start;
  internal::ProviderState* ps = r->provider;
  const bool sampled = (r->h.trace_flags & TraceFlags::kSampled) != 0;
  if (ps->batch != nullptr && sampled) {
    // (The clock's slow path, or the pool full or closing.)
    internal::BatchEnqueue(*ps->batch, *r, end);
  } else {
    r->h.end = end;
    SpanProcessor* p = ps->processor.get();
    if (ps->batch == nullptr && p != nullptr) {  // (a batch processor exports sampled spans only)
      EndedSpan ended(*r, sampled);
      p->OnEnd(ended);
    }
  }
  internal::ReleaseRecord(r);
}

}  // namespace otlp::trace

namespace otlp::trace {

std::string_view SpanKindName(SpanKind kind) noexcept {
  switch (kind) {
    case SpanKind::kInternal: return "internal";
    case SpanKind::kServer: return "server";
    case SpanKind::kClient: return "client";
    case SpanKind::kProducer: return "producer";
    case SpanKind::kConsumer: return "consumer";
  }
  return "internal";
}

}  // namespace otlp::trace
