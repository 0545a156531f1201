// Grouping of a batch of spans by resource, then by instrumentation scope, in first-seen order
// (pointer identity), as both OTLP encoders write them; and the attribute views they share.
// Internal: not an API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "otlp/core/attributes.h"
#include "otlp/trace/span_data.h"

namespace otlp::trace {
class Resource;
}

namespace otlp::exporter::internal {

// The attributes of an event or link, clamped so that a malformed SpanData (an index range past
// the end of its attribute vector) cannot make an encoder read out of bounds.
inline std::span<const KeyValue> AttrRange(const std::vector<KeyValue>& all, uint32_t begin,
                                           uint32_t count) noexcept {
  if (begin > all.size()) return {};
  const size_t n = count < all.size() - begin ? count : all.size() - begin;
  return {all.data() + begin, n};
}
inline std::span<const KeyValue> EventAttrs(const trace::SpanData& s,
                                            const trace::EventData& e) noexcept {
  return AttrRange(s.event_attributes, e.attr_begin, e.attr_count);
}
inline std::span<const KeyValue> LinkAttrs(const trace::SpanData& s,
                                           const trace::LinkData& l) noexcept {
  return AttrRange(s.link_attributes, l.attr_begin, l.attr_count);
}

// Views over an OwnedAttributes (resource and scope attributes), built once per batch.
class OwnedAttributeViews {
 public:
  explicit OwnedAttributeViews(const OwnedAttributes& attrs);
  std::span<const KeyValue> kvs() const noexcept { return kvs_; }

 private:
  AttributeValue View(const OwnedAttributeValue& v);

  std::vector<KeyValue> kvs_;
  std::vector<std::unique_ptr<bool[]>> bools_;
  std::vector<std::vector<std::string_view>> strings_;
};

// Spans of one (resource, scope) pair; order()[begin, begin + count) are their indices.
struct ScopeGroup {
  const trace::Resource* resource;
  const trace::InstrumentationScope* scope;
  uint32_t id;             // creation index, for per-group data kept by the caller
  uint32_t resource_rank;  // first-seen rank of `resource`
  uint32_t count = 0;
  uint32_t begin = 0;
};

// Groups a batch by resource, then scope, in first-seen order: Add() every span, then Finish().
// A few allocations per batch, none per span.
class Grouping {
 public:
  explicit Grouping(size_t n) : group_of_(n, kNone) {}

  // Returns the group (creation index) of spans[i]. The common case, a span in the same group
  // as the previous one, stays inline.
  uint32_t Add(size_t i, const trace::SpanData& s) {
    if (s.resource != last_resource_ || s.scope != last_scope_ || last_ == kNone) [[unlikely]] {
      last_ = Find(s.resource, s.scope);
      last_resource_ = s.resource;
      last_scope_ = s.scope;
    }
    group_of_[i] = last_;
    ++groups_[last_].count;
    ++total_;
    return last_;
  }

  // Orders the groups: resources in first-seen order, then scopes in first-seen order within
  // each resource; then the span indices group by group.
  void Finish();

  // After Finish(): groups in output order (groups of one resource are adjacent) and span
  // indices in output order.
  const std::vector<ScopeGroup>& groups() const noexcept { return groups_; }
  const std::vector<uint32_t>& order() const noexcept { return order_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct PairHash {
    size_t operator()(const std::pair<const void*, const void*>& p) const noexcept;
  };

  uint32_t Find(const trace::Resource* r, const trace::InstrumentationScope* sc);

  std::vector<uint32_t> group_of_;
  std::vector<ScopeGroup> groups_;
  std::vector<const trace::Resource*> resources_;
  std::vector<uint32_t> order_;
  std::unordered_map<std::pair<const void*, const void*>, uint32_t, PairHash> index_;
  const trace::Resource* last_resource_ = nullptr;
  const trace::InstrumentationScope* last_scope_ = nullptr;
  uint32_t last_ = kNone;
  uint32_t total_ = 0;
};

}  // namespace otlp::exporter::internal
