#include "otlp/trace/internal/packed_span.h"

#include <cstdint>
#include <cstring>
#include <new>
#include <utility>

#include "otlp/trace/provider.h"

namespace otlp::trace::internal {

namespace {

inline std::string_view Cut(std::string_view s, uint32_t limit) noexcept {
  if (limit == SpanLimits::kNoLimit || s.size() <= limit) [[likely]] return s;
  return s.substr(0, Utf8Prefix(s, limit));
}

// Bytes after the key: the value's payload.
size_t PayloadSize(const AttributeValue& v, uint32_t limit) noexcept {
  switch (v.type()) {
    case AttributeType::kBool:
    case AttributeType::kInt:
    case AttributeType::kDouble: return 0;
    case AttributeType::kString: return Pad8(Cut(v.as_string(), limit).size());
    case AttributeType::kBoolArray: return Pad8(v.as_bool_array().size());
    case AttributeType::kIntArray: return v.as_int_array().size() * 8;
    case AttributeType::kDoubleArray: return v.as_double_array().size() * 8;
    case AttributeType::kStringArray: {
      // A 16-byte slot per element (its length now, its string_view once unpacked), then chars.
      auto a = v.as_string_array();
      size_t n = a.size() * sizeof(std::string_view);
      for (std::string_view s : a) n += Cut(s, limit).size();
      return Pad8(n);
    }
  }
  return 0;
}

// Reads the attribute at `p` into `out`, making its views point into the block.
inline void UnpackAttr(PackedAttr* a, KeyValue& out) noexcept {
  out.key = a->key();
  char* p = a->payload();
  switch (a->type()) {
    case AttributeType::kBool: out.value = a->value != 0; break;
    case AttributeType::kInt: out.value = static_cast<int64_t>(a->value); break;
    case AttributeType::kDouble: {
      double d;
      std::memcpy(&d, &a->value, 8);
      out.value = d;
      break;
    }
    case AttributeType::kString: out.value = std::string_view(p, a->value); break;
    case AttributeType::kBoolArray:
      out.value = std::span<const bool>(reinterpret_cast<const bool*>(p), a->value);
      break;
    case AttributeType::kIntArray:
      out.value = std::span<const int64_t>(reinterpret_cast<const int64_t*>(p), a->value);
      break;
    case AttributeType::kDoubleArray:
      out.value = std::span<const double>(reinterpret_cast<const double*>(p), a->value);
      break;
    case AttributeType::kStringArray: {
      const size_t n = a->value;
      char* chars = p + n * sizeof(std::string_view);
      for (size_t i = 0; i < n; ++i) {
        char* slot = p + i * sizeof(std::string_view);
        uint64_t len;
        std::memcpy(&len, slot, 8);
        new (slot) std::string_view(chars, len);
        chars += len;
      }
      out.value = std::span<const std::string_view>(
          std::launder(reinterpret_cast<const std::string_view*>(p)), n);
      break;
    }
  }
}

// Unpacks `n` attributes at `p` into `out` (capacity reserved); returns the end.
char* UnpackAttrs(char* p, uint32_t n, std::vector<KeyValue>& out) noexcept {
  for (uint32_t i = 0; i < n; ++i) {
    auto* a = reinterpret_cast<PackedAttr*>(p);
    out.emplace_back();
    UnpackAttr(a, out.back());
    p += a->size();
  }
  return p;
}

TraceState TakeTraceState(TraceState* ts) noexcept {
  TraceState out = std::move(*ts);
  ts->~TraceState();
  return out;
}

}  // namespace

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

size_t PackedAttrSize(std::string_view key, const AttributeValue& v,
                      uint32_t length_limit) noexcept {
  return sizeof(PackedAttr) + Pad8(key.size()) + PayloadSize(v, length_limit);
}

void WritePackedAttr(char* dst, std::string_view key, const AttributeValue& v,
                     uint32_t limit) noexcept {
  auto* a = reinterpret_cast<PackedAttr*>(dst);
  a->key_len = static_cast<uint32_t>(key.size());
  char* p = dst + sizeof(PackedAttr);
  CopyBytes(p, key.data(), key.size());
  p += Pad8(key.size());
  switch (v.type()) {
    case AttributeType::kBool:
    case AttributeType::kInt:
    case AttributeType::kDouble: a->value = ScalarBits(v); break;
    case AttributeType::kString: {
      std::string_view s = Cut(v.as_string(), limit);
      a->value = s.size();
      CopyBytes(p, s.data(), s.size());
      p += Pad8(s.size());
      break;
    }
    case AttributeType::kBoolArray: {
      auto s = v.as_bool_array();
      a->value = s.size();
      if (!s.empty()) std::memcpy(p, s.data(), s.size());
      p += Pad8(s.size());
      break;
    }
    case AttributeType::kIntArray: {
      auto s = v.as_int_array();
      a->value = s.size();
      if (!s.empty()) std::memcpy(p, s.data(), s.size() * 8);
      p += s.size() * 8;
      break;
    }
    case AttributeType::kDoubleArray: {
      auto s = v.as_double_array();
      a->value = s.size();
      if (!s.empty()) std::memcpy(p, s.data(), s.size() * 8);
      p += s.size() * 8;
      break;
    }
    case AttributeType::kStringArray: {
      auto s = v.as_string_array();
      a->value = s.size();
      char* chars = p + s.size() * sizeof(std::string_view);
      size_t used = 0;
      for (size_t i = 0; i < s.size(); ++i) {
        std::string_view e = Cut(s[i], limit);
        uint64_t len = e.size();
        std::memcpy(p + i * sizeof(std::string_view), &len, 8);
        CopyBytes(chars + used, e.data(), e.size());
        used += e.size();
      }
      p += Pad8(s.size() * sizeof(std::string_view) + used);
      break;
    }
  }
  a->size_type = static_cast<uint32_t>(p - dst) | static_cast<uint32_t>(v.type());
}

void Unpack(char* src, SpanData& out) {
  auto* h = reinterpret_cast<PackedHeader*>(src);
  // Everything that can throw comes first, so a failure leaves the block intact.
  out.attributes.clear();
  out.events.clear();
  out.event_attributes.clear();
  out.links.clear();
  out.link_attributes.clear();
  out.attributes.reserve(h->n_attrs);
  out.events.reserve(h->n_events);
  out.event_attributes.reserve(h->n_event_attrs);
  out.links.reserve(h->n_links);
  out.link_attributes.reserve(h->n_link_attrs);

  auto* states = reinterpret_cast<TraceState*>(src + h->size - h->n_states * sizeof(TraceState));
  char* p = src + sizeof(PackedHeader);
  TraceState ts;
  if (h->bits & kHasTraceState) ts = TakeTraceState(std::launder(states++));
  out.context = SpanContext(h->trace_id, h->span_id, TraceFlags(h->trace_flags), false,
                            std::move(ts));
  out.parent_span_id = h->parent_span_id;
  out.parent_is_remote = (h->bits & kParentRemote) != 0;
  out.name = std::string_view(p, h->name_len);
  p += Pad8(h->name_len);
  out.kind = static_cast<SpanKind>(h->kind);
  out.status_code = static_cast<SpanStatusCode>(h->status);
  out.start_unix_nano = h->start;
  out.end_unix_nano = h->end;
  out.scope = h->scope;
  out.resource = h->resource;
  out.dropped_attributes_count = h->dropped_attrs;
  out.dropped_events_count = h->dropped_events;
  out.dropped_links_count = h->dropped_links;
  p = UnpackAttrs(p, h->n_attrs, out.attributes);
  out.status_message = std::string_view(p, h->status_len);
  p += Pad8(h->status_len);
  for (uint32_t i = 0; i < h->n_events; ++i) {
    const auto* pe = reinterpret_cast<const PackedEvent*>(p);
    p += sizeof(PackedEvent);
    EventData e;
    e.name = std::string_view(p, pe->name_len);
    p += Pad8(pe->name_len);
    e.time_unix_nano = pe->time;
    e.attr_begin = static_cast<uint32_t>(out.event_attributes.size());
    e.attr_count = pe->n_attrs;
    e.dropped_attributes_count = pe->dropped;
    p = UnpackAttrs(p, pe->n_attrs, out.event_attributes);
    out.events.push_back(e);
  }
  for (uint32_t i = 0; i < h->n_links; ++i) {
    const auto* pl = reinterpret_cast<const PackedLink*>(p);
    p += sizeof(PackedLink);
    TraceState lts;
    if (pl->bits & kLinkHasTraceState) lts = TakeTraceState(std::launder(states++));
    LinkData l;
    l.context = SpanContext(pl->trace_id, pl->span_id, TraceFlags(pl->flags),
                            (pl->bits & kLinkRemote) != 0, std::move(lts));
    l.attr_begin = static_cast<uint32_t>(out.link_attributes.size());
    l.attr_count = pl->n_attrs;
    l.dropped_attributes_count = pl->dropped;
    p = UnpackAttrs(p, pl->n_attrs, out.link_attributes);
    out.links.push_back(std::move(l));
  }
}

void DestroyPacked(char* src) noexcept {
  const auto* h = reinterpret_cast<const PackedHeader*>(src);
  auto* states = reinterpret_cast<TraceState*>(src + h->size - h->n_states * sizeof(TraceState));
  for (uint32_t i = 0; i < h->n_states; ++i) std::launder(states + i)->~TraceState();
}

}  // namespace otlp::trace::internal
