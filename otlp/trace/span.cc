#include "otlp/trace/span.h"

#include <cxxabi.h>

#include <cstdlib>
#include <cstring>
#include <typeinfo>

#include "otlp/trace/internal/fast_clock.h"
#include "otlp/trace/internal/span_ops.h"
#include "otlp/trace/internal/span_record.h"
#include "otlp/trace/internal/tracer_impl.h"

namespace otlp::trace {

using internal::SpanRecord;

namespace internal {

namespace {

// Byte length of the first `max_chars` UTF-8 characters of s (s itself when shorter).
size_t Utf8Prefix(std::string_view s, uint32_t max_chars) noexcept {
  if (s.size() <= max_chars) return s.size();
  size_t i = 0;
  uint32_t chars = 0;
  while (i < s.size() && chars < max_chars) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (i + len > s.size()) len = s.size() - i;
    i += len;
    ++chars;
  }
  return i;
}

std::string_view CopyString(Arena& a, std::string_view s, uint32_t limit) noexcept {
  if (limit != SpanLimits::kNoLimit) s = s.substr(0, Utf8Prefix(s, limit));
  return a.Copy(s);
}

template <typename T>
const T* CopyArray(Arena& a, std::span<const T> v) noexcept {
  if (v.empty()) return nullptr;
  auto* p = static_cast<T*>(a.Allocate(sizeof(T) * v.size(), alignof(T)));
  if (p == nullptr) return nullptr;
  std::memcpy(static_cast<void*>(p), v.data(), sizeof(T) * v.size());
  return p;
}

}  // namespace

AttributeValue CopyValue(Arena& a, const AttributeValue& v, uint32_t limit) noexcept {
  switch (v.type()) {
    case AttributeType::kBool:
    case AttributeType::kInt:
    case AttributeType::kDouble: return v;
    case AttributeType::kString: return CopyString(a, v.as_string(), limit);
    case AttributeType::kBoolArray: {
      auto s = v.as_bool_array();
      const bool* p = CopyArray(a, s);
      return std::span<const bool>(p, p ? s.size() : 0);
    }
    case AttributeType::kIntArray: {
      auto s = v.as_int_array();
      const int64_t* p = CopyArray(a, s);
      return std::span<const int64_t>(p, p ? s.size() : 0);
    }
    case AttributeType::kDoubleArray: {
      auto s = v.as_double_array();
      const double* p = CopyArray(a, s);
      return std::span<const double>(p, p ? s.size() : 0);
    }
    case AttributeType::kStringArray: {
      auto s = v.as_string_array();
      if (s.empty()) return std::span<const std::string_view>();
      auto* p = static_cast<std::string_view*>(
          a.Allocate(sizeof(std::string_view) * s.size(), alignof(std::string_view)));
      if (p == nullptr) return std::span<const std::string_view>();
      for (size_t i = 0; i < s.size(); ++i) new (&p[i]) std::string_view(CopyString(a, s[i], limit));
      return std::span<const std::string_view>(p, s.size());
    }
  }
  return v;
}

void SetAttributeIn(Arena& a, std::vector<KeyValue>& attrs, size_t begin, uint32_t& dropped,
                    uint32_t count_limit, uint32_t length_limit, std::string_view key,
                    const AttributeValue& value) noexcept {
  if (key.empty()) return;
  for (size_t i = begin; i < attrs.size(); ++i) {
    if (attrs[i].key == key) {
      attrs[i].value = CopyValue(a, value, length_limit);
      return;
    }
  }
  if (attrs.size() - begin >= count_limit) {
    ++dropped;
    return;
  }
  try {
    attrs.push_back(KeyValue{a.Copy(key), CopyValue(a, value, length_limit)});
  } catch (...) {
    ++dropped;
  }
}

void AddLinkTo(SpanRecord& r, const SpanLimits& l, const SpanContext& ctx,
               std::span<const KeyValue> attributes) noexcept {
  SpanData& d = r.data;
  if (!ctx.IsValid() && ctx.trace_state().empty()) return;
  if (d.links.size() >= l.link_count) {
    ++d.dropped_links_count;
    return;
  }
  try {
    LinkData link;
    link.context = ctx;
    link.attr_begin = static_cast<uint32_t>(d.link_attributes.size());
    for (const KeyValue& kv : attributes) {
      SetAttributeIn(r.arena, d.link_attributes, link.attr_begin, link.dropped_attributes_count,
                     l.link_attribute_count, l.attribute_value_length, kv.key, kv.value);
    }
    link.attr_count = static_cast<uint32_t>(d.link_attributes.size()) - link.attr_begin;
    d.links.push_back(std::move(link));
  } catch (...) {
    ++d.dropped_links_count;
  }
}

}  // namespace internal

namespace {

int64_t ToNanos(SystemTime t) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

const SpanLimits& LimitsOf(const SpanRecord* r) noexcept { return r->tracer->provider->limits; }

}  // namespace

void Span::SetAttributeImpl(std::string_view key, const AttributeValue& value) noexcept {
  const SpanLimits& l = LimitsOf(rec_);
  internal::SetAttributeIn(rec_->arena, rec_->data.attributes, 0,
                           rec_->data.dropped_attributes_count, l.attribute_count,
                           l.attribute_value_length, key, value);
}

Span& Span::SetAttributes(std::initializer_list<KeyValue> attributes) noexcept {
  return SetAttributes(std::span<const KeyValue>(attributes.begin(), attributes.size()));
}

Span& Span::SetAttributes(std::span<const KeyValue> attributes) noexcept {
  for (const KeyValue& kv : attributes) SetAttribute(kv.key, kv.value);
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
  SpanData& d = rec_->data;
  const SpanLimits& l = LimitsOf(rec_);
  if (d.events.size() >= l.event_count) {
    ++d.dropped_events_count;
    return *this;
  }
  EventData e;
  e.name = rec_->arena.Copy(name);
  e.time_unix_nano = timestamp ? ToNanos(*timestamp) : internal::NowUnixNanos();
  e.attr_begin = static_cast<uint32_t>(d.event_attributes.size());
  for (const KeyValue& kv : attributes) {
    internal::SetAttributeIn(rec_->arena, d.event_attributes, e.attr_begin,
                             e.dropped_attributes_count, l.event_attribute_count,
                             l.attribute_value_length, kv.key, kv.value);
  }
  e.attr_count = static_cast<uint32_t>(d.event_attributes.size()) - e.attr_begin;
  try {
    d.events.push_back(e);
  } catch (...) {
    ++d.dropped_events_count;
  }
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
  if (rec_ == nullptr) return *this;
  internal::AddLinkTo(*rec_, LimitsOf(rec_), context, attributes);
  return *this;
}

Span& Span::SetStatus(SpanStatusCode code, std::string_view description) noexcept {
  if (rec_ == nullptr || rec_->status_final || code == SpanStatusCode::kUnset) return *this;
  rec_->data.status_code = code;
  if (code == SpanStatusCode::kOk) {
    rec_->status_final = true;
    rec_->data.status_message = {};
  } else {
    rec_->data.status_message = rec_->arena.Copy(description);
  }
  return *this;
}

Span& Span::UpdateName(std::string_view name) noexcept {
  if (rec_ != nullptr) rec_->data.name = rec_->arena.Copy(name);
  return *this;
}

void Span::EndImpl(std::optional<SystemTime> end_time) noexcept {
  SpanRecord* r = rec_;
  rec_ = nullptr;
  int64_t end = end_time ? ToNanos(*end_time) : internal::NowUnixNanos();
  if (end < r->data.start_unix_nano) end = r->data.start_unix_nano;
  r->data.end_unix_nano = end;
  SpanProcessor* p = r->tracer->provider->processor.get();
  if (p != nullptr) {
    EndedSpan ended(r);
    p->OnEnd(ended);
  }
  if (r != nullptr) internal::ReleaseRecord(r);
}

}  // namespace otlp::trace

namespace otlp::trace::internal {

SpanRecord* CloneRecord(const SpanRecord& src) noexcept {
  SpanRecord* r = AcquireRecord();
  if (r == nullptr) return nullptr;
  try {
    const SpanData& s = src.data;
    SpanData& d = r->data;
    Arena& a = r->arena;
    constexpr uint32_t kNoLimit = SpanLimits::kNoLimit;
    r->tracer = src.tracer;
    r->status_final = src.status_final;
    d.context = s.context;
    d.parent_span_id = s.parent_span_id;
    d.parent_is_remote = s.parent_is_remote;
    d.name = a.Copy(s.name);
    d.kind = s.kind;
    d.start_unix_nano = s.start_unix_nano;
    d.end_unix_nano = s.end_unix_nano;
    for (const KeyValue& kv : s.attributes)
      d.attributes.push_back({a.Copy(kv.key), CopyValue(a, kv.value, kNoLimit)});
    d.dropped_attributes_count = s.dropped_attributes_count;
    for (EventData e : s.events) {
      e.name = a.Copy(e.name);
      d.events.push_back(e);
    }
    for (const KeyValue& kv : s.event_attributes)
      d.event_attributes.push_back({a.Copy(kv.key), CopyValue(a, kv.value, kNoLimit)});
    d.dropped_events_count = s.dropped_events_count;
    d.links = s.links;
    for (const KeyValue& kv : s.link_attributes)
      d.link_attributes.push_back({a.Copy(kv.key), CopyValue(a, kv.value, kNoLimit)});
    d.dropped_links_count = s.dropped_links_count;
    d.status_code = s.status_code;
    d.status_message = a.Copy(s.status_message);
    d.scope = s.scope;
    d.resource = s.resource;
    return r;
  } catch (...) {
    ReleaseRecord(r);
    return nullptr;
  }
}

}  // namespace otlp::trace::internal

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
