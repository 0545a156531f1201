#include "otlp/trace/internal/span_record.h"

#include <chrono>
#include <cstring>
#include <new>

#include "otlp/trace/internal/tracer_impl.h"
#include "otlp/trace/provider.h"

namespace otlp::trace::internal {

// ---- ByteBuffer ----

char* ByteBuffer::ExtendSlow(size_t n) noexcept {
  size_t need = size_t{size_} + n;
  if (need > UINT32_MAX) return nullptr;
  size_t cap = cap_ == 0 ? 256 : size_t{cap_} * 2;
  while (cap < need) cap *= 2;
  if (cap > UINT32_MAX) cap = UINT32_MAX;
  auto* p = static_cast<char*>(std::realloc(data_, cap));
  if (p == nullptr) return nullptr;
  data_ = p;
  cap_ = static_cast<uint32_t>(cap);
  char* out = data_ + size_;
  size_ = static_cast<uint32_t>(need);
  return out;
}

void ByteBuffer::Erase(size_t off, size_t n) noexcept {
  std::memmove(data_ + off, data_ + off + n, size_ - off - n);
  size_ -= static_cast<uint32_t>(n);
}

char* ByteBuffer::Insert(size_t off, size_t n) noexcept {
  const size_t tail = size_ - off;
  if (Extend(n) == nullptr) return nullptr;
  std::memmove(data_ + off + n, data_ + off, tail);
  return data_ + off;
}

bool ByteBuffer::Reserve(size_t n) noexcept {
  if (n <= cap_) return true;
  const uint32_t size = size_;
  if (Extend(n - size_) == nullptr) return false;
  size_ = size;
  return true;
}

// ---- SpanRecord ----

namespace {

// Sets key=value among the `n` packed attributes that start at `begin` in `buf` (they run to
// the end of the buffer): replaces an existing key, else appends unless `count_limit` is
// reached (then counts it in `dropped`). Empty keys are ignored.
void SetPackedAttr(ByteBuffer& buf, size_t begin, uint32_t& n, uint32_t& dropped,
                   uint32_t count_limit, uint32_t length_limit, std::string_view key,
                   const AttributeValue& value) noexcept {
  if (key.empty()) [[unlikely]] return;
  const size_t size = PackedAttrSize(key, value, length_limit);
  if (n != 0) {
    char* b = buf.data() + begin;
    PackedAttr* old = FindPackedAttr(b, buf.data() + buf.size(), key);
    if (old != nullptr) {
      if (old->size() == size) {
        WritePackedAttr(reinterpret_cast<char*>(old), key, value, length_limit);
        return;
      }
      buf.Erase(static_cast<size_t>(reinterpret_cast<char*>(old) - buf.data()), old->size());
      --n;
    } else if (n >= count_limit) {
      ++dropped;
      return;
    }
  } else if (count_limit == 0) {
    ++dropped;
    return;
  }
  char* dst = buf.Extend(size);
  if (dst == nullptr) [[unlikely]] {
    ++dropped;
    return;
  }
  WritePackedAttr(dst, key, value, length_limit);
  ++n;
}

char* CopyInto(char* p, std::string_view s) noexcept {
  CopyBytes(p, s.data(), s.size());
  return p + Pad8(s.size());
}

}  // namespace

void SpanRecord::SetName(std::string_view name) noexcept {
  const size_t old_pad = Pad8(h.name_len);
  const size_t new_pad = Pad8(name.size());
  if (new_pad > old_pad) {
    if (body.Insert(old_pad, new_pad - old_pad) == nullptr) [[unlikely]] return;
  } else if (new_pad < old_pad) {
    body.Erase(new_pad, old_pad - new_pad);
  }
  CopyBytes(body.data(), name.data(), name.size());
  h.name_len = static_cast<uint32_t>(name.size());
}

void SpanRecord::SetStatusMessage(std::string_view message) noexcept {
  status.clear();
  h.status_len = 0;
  if (message.empty()) return;
  char* p = status.Extend(Pad8(message.size()));
  if (p == nullptr) [[unlikely]] return;
  CopyBytes(p, message.data(), message.size());
  h.status_len = static_cast<uint32_t>(message.size());
  extras = true;
}

void SpanRecord::SetAttributeSlow(std::string_view key, const AttributeValue& v) noexcept {
  if (key.empty()) [[unlikely]] return;
  const SpanLimits& limits = provider->limits;
  SetPackedAttr(body, Pad8(h.name_len), h.n_attrs, h.dropped_attrs, limits.attribute_count,
                limits.attribute_value_length, key, v);
  key_filter |= KeyFilterBit(key);
}

void SpanRecord::AddEvent(const SpanLimits& l, std::string_view name, int64_t time_unix_nano,
                          std::span<const KeyValue> attributes) noexcept {
  extras = true;
  if (h.n_events >= l.event_count) {
    ++h.dropped_events;
    return;
  }
  const size_t begin = events.size();
  char* p = events.Extend(sizeof(PackedEvent) + Pad8(name.size()));
  if (p == nullptr) {
    ++h.dropped_events;
    return;
  }
  auto* e = reinterpret_cast<PackedEvent*>(p);
  e->name_len = static_cast<uint32_t>(name.size());
  e->time = time_unix_nano;
  CopyInto(p + sizeof(PackedEvent), name);
  uint32_t n = 0, dropped = 0;
  const size_t attrs_begin = events.size();
  for (const KeyValue& kv : attributes) {
    SetPackedAttr(events, attrs_begin, n, dropped, l.event_attribute_count,
                  l.attribute_value_length, kv.key, kv.value);
  }
  e = reinterpret_cast<PackedEvent*>(events.data() + begin);  // the buffer may have moved
  e->n_attrs = n;
  e->dropped = dropped;
  e->size = static_cast<uint32_t>(events.size() - begin);
  ++h.n_events;
  h.n_event_attrs += n;
}

void SpanRecord::AddLink(const SpanLimits& l, const SpanContext& ctx,
                         std::span<const KeyValue> attributes) noexcept {
  if (!ctx.IsValid() && ctx.trace_state().empty()) return;
  extras = true;
  if (h.n_links >= l.link_count) {
    ++h.dropped_links;
    return;
  }
  const bool has_state = !ctx.trace_state().empty();
  if (has_state) {
    try {
      link_states.push_back(ctx.trace_state());
    } catch (...) {
      ++h.dropped_links;
      return;
    }
  }
  const size_t begin = links.size();
  char* p = links.Extend(sizeof(PackedLink));
  if (p == nullptr) {
    if (has_state) link_states.pop_back();
    ++h.dropped_links;
    return;
  }
  auto* k = reinterpret_cast<PackedLink*>(p);
  k->trace_id = ctx.trace_id();
  k->span_id = ctx.span_id();
  k->flags = ctx.trace_flags().value();
  k->bits = static_cast<uint8_t>((ctx.IsRemote() ? kLinkRemote : 0) |
                                 (has_state ? kLinkHasTraceState : 0));
  k->pad = 0;
  uint32_t n = 0, dropped = 0;
  for (const KeyValue& kv : attributes) {
    SetPackedAttr(links, begin + sizeof(PackedLink), n, dropped, l.link_attribute_count,
                  l.attribute_value_length, kv.key, kv.value);
  }
  k = reinterpret_cast<PackedLink*>(links.data() + begin);
  k->n_attrs = n;
  k->dropped = dropped;
  k->size = static_cast<uint32_t>(links.size() - begin);
  ++h.n_links;
  h.n_link_attrs += n;
}

void SpanRecord::ClearExtras() noexcept {
  if (!trace_state.empty()) trace_state = TraceState();
  status.clear();
  events.clear();
  links.clear();
  link_states.clear();
  extras = false;
}

size_t SpanRecord::ExtrasSize() const noexcept {
  const size_t states = ((h.bits & kHasTraceState) != 0 ? 1 : 0) + link_states.size();
  return Pad8(h.status_len) + events.size() + links.size() + states * sizeof(TraceState);
}

void SpanRecord::PackExtras(char* p, PackedHeader& out) const noexcept {
  p = CopyInto(p, status_message());
  if (events.size() != 0) {
    std::memcpy(p, events.data(), events.size());
    p += events.size();
  }
  if (links.size() != 0) {
    std::memcpy(p, links.data(), links.size());
    p += links.size();
  }
  uint32_t states = 0;
  if ((h.bits & kHasTraceState) != 0) {
    new (p) TraceState(trace_state);
    p += sizeof(TraceState);
    ++states;
  }
  for (const TraceState& ts : link_states) {
    new (p) TraceState(ts);
    p += sizeof(TraceState);
    ++states;
  }
  out.n_states = states;
}

// ---- Per-thread record pool ----

thread_local constinit RecordPool t_record_pool{nullptr, 0, kPoolUnregistered};

namespace {

struct PoolCleanup {
  ~PoolCleanup() {
    t_record_pool.state = kPoolDead;
    while (t_record_pool.head != nullptr) {
      delete std::exchange(t_record_pool.head, t_record_pool.head->next_free);
    }
    t_record_pool.count = 0;
  }
};
void EnsureCleanup() noexcept {
  static thread_local PoolCleanup cleanup;
  (void)cleanup;
  t_record_pool.state = kPoolActive;
}

// What a new record's body can hold before it first grows: the name and a handful of
// attributes.
constexpr size_t kInitialBody = 512;

}  // namespace

SpanRecord* NewRecord() noexcept {
  if (t_record_pool.state == kPoolUnregistered) EnsureCleanup();
  auto* r = new (std::nothrow) SpanRecord;
  if (r != nullptr && !r->body.Reserve(kInitialBody)) {
    delete r;
    return nullptr;
  }
  return r;
}

bool ReleaseRecordSlow(SpanRecord* rec) noexcept {
  if (t_record_pool.state == kPoolDead || t_record_pool.count >= kMaxPooledRecords) {
    delete rec;
    return true;
  }
  EnsureCleanup();
  return false;
}

}  // namespace otlp::trace::internal
