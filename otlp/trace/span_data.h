// otlp/trace/span_data.h — the read-only picture of an ended span that processors and exporters
// see: everything the OTLP Span message carries.
//
// All string_views and spans point into storage owned by the SDK's span record. They are valid
// only while the exporter call that received them runs; an exporter that keeps data copies it
// (see RecordedSpan in in_memory_exporter.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/core/attributes.h"
#include "otlp/core/export.h"
#include "otlp/trace/span_context.h"

namespace otlp::trace {

class Resource;

enum class SpanKind : unsigned char {
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5,
};
OTLP_EXPORT std::string_view SpanKindName(SpanKind kind) noexcept;  // "internal", "server", …

// OTLP status codes (Status.code): unset, ok, error.
enum class SpanStatusCode : unsigned char { kUnset = 0, kOk = 1, kError = 2 };

// Instrumentation scope: the library that produced the spans. Owned by the TracerProvider and
// stable for its lifetime, so exporters may group spans by pointer identity.
struct OTLP_EXPORT InstrumentationScope {
  std::string name;
  std::string version;
  std::string schema_url;
  OwnedAttributes attributes;
};

struct OTLP_EXPORT EventData {
  std::string_view name;
  int64_t time_unix_nano = 0;
  // Index range in SpanData::event_attributes.
  uint32_t attr_begin = 0;
  uint32_t attr_count = 0;
  uint32_t dropped_attributes_count = 0;
};

struct OTLP_EXPORT LinkData {
  SpanContext context;
  uint32_t attr_begin = 0;  // index range in SpanData::link_attributes
  uint32_t attr_count = 0;
  uint32_t dropped_attributes_count = 0;
};

struct OTLP_EXPORT SpanData {
  SpanContext context;    // trace id, span id, flags, tracestate
  SpanId parent_span_id;  // invalid for a root span
  bool parent_is_remote = false;
  std::string_view name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = 0;

  std::vector<KeyValue> attributes;
  uint32_t dropped_attributes_count = 0;

  std::vector<EventData> events;
  std::vector<KeyValue> event_attributes;
  uint32_t dropped_events_count = 0;

  std::vector<LinkData> links;
  std::vector<KeyValue> link_attributes;
  uint32_t dropped_links_count = 0;

  SpanStatusCode status_code = SpanStatusCode::kUnset;
  std::string_view status_message;

  const InstrumentationScope* scope = nullptr;  // never null for spans from the SDK
  const Resource* resource = nullptr;           // never null for spans from the SDK

  std::span<const KeyValue> EventAttributes(const EventData& e) const noexcept {
    return {event_attributes.data() + e.attr_begin, e.attr_count};
  }
  std::span<const KeyValue> LinkAttributes(const LinkData& l) const noexcept {
    return {link_attributes.data() + l.attr_begin, l.attr_count};
  }
  bool HasParent() const noexcept { return parent_span_id.IsValid(); }

  // OTLP Span.flags: the W3C trace flags in bits 0-7, bit 8 (0x100) "has is_remote
  // information" always set, bit 9 (0x200) set when the parent is remote.
  uint32_t OtlpFlags() const noexcept {
    return uint32_t{context.trace_flags().value()} | 0x100u | (parent_is_remote ? 0x200u : 0u);
  }
  // OTLP Link.flags for a link: same layout, from the linked context.
  static uint32_t OtlpLinkFlags(const SpanContext& c) noexcept {
    return uint32_t{c.trace_flags().value()} | 0x100u | (c.IsRemote() ? 0x200u : 0u);
  }
};

}  // namespace otlp::trace
