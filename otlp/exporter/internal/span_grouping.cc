#include "otlp/exporter/internal/span_grouping.h"

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>
#include <variant>

namespace otlp::exporter::internal {

OwnedAttributeViews::OwnedAttributeViews(const OwnedAttributes& attrs) {
  kvs_.reserve(attrs.size());
  for (const auto& [key, value] : attrs) kvs_.push_back({key, View(value)});
}

AttributeValue OwnedAttributeViews::View(const OwnedAttributeValue& v) {
  switch (v.index()) {
    case 0: return std::get<bool>(v);
    case 1: return std::get<int64_t>(v);
    case 2: return std::get<double>(v);
    case 3: return std::string_view(std::get<std::string>(v));
    case 4: {
      const auto& src = std::get<std::vector<bool>>(v);
      auto copy = std::make_unique<bool[]>(src.size());
      std::copy(src.begin(), src.end(), copy.get());
      bools_.push_back(std::move(copy));
      return std::span<const bool>(bools_.back().get(), src.size());
    }
    case 5: return std::span<const int64_t>(std::get<std::vector<int64_t>>(v));
    case 6: return std::span<const double>(std::get<std::vector<double>>(v));
    default: {
      const auto& src = std::get<std::vector<std::string>>(v);
      // Moving the vector into strings_ keeps its heap buffer, so the span stays valid.
      strings_.emplace_back(src.begin(), src.end());
      return std::span<const std::string_view>(strings_.back());
    }
  }
}

size_t Grouping::PairHash::operator()(const std::pair<const void*, const void*>& p) const noexcept {
  const auto a = reinterpret_cast<uintptr_t>(p.first);
  const auto b = reinterpret_cast<uintptr_t>(p.second);
  return std::hash<uintptr_t>()(a * 0x9E3779B97F4A7C15ull ^ b);
}

void Grouping::Finish() {
  std::stable_sort(groups_.begin(), groups_.end(), [](const ScopeGroup& a, const ScopeGroup& b) {
    return a.resource_rank < b.resource_rank;
  });
  std::vector<uint32_t> next(groups_.size());  // by creation index: next free slot in order_
  uint32_t at = 0;
  for (ScopeGroup& g : groups_) {
    g.begin = at;
    next[g.id] = at;
    at += g.count;
  }
  order_.resize(total_);
  for (size_t i = 0; i < group_of_.size(); ++i) {
    if (group_of_[i] != kNone) order_[next[group_of_[i]]++] = static_cast<uint32_t>(i);
  }
}

// Up to this many groups a linear scan beats hashing; beyond it an index is built once.
constexpr size_t kLinearLimit = 16;

uint32_t Grouping::Find(const trace::Resource* r, const trace::InstrumentationScope* sc) {
  if (groups_.size() <= kLinearLimit) {
    for (const ScopeGroup& g : groups_) {
      if (g.resource == r && g.scope == sc) return g.id;
    }
  } else {
    if (index_.empty()) {
      for (const ScopeGroup& g : groups_) {
        index_.emplace(std::make_pair(g.resource, g.scope), g.id);
      }
    }
    if (auto it = index_.find({r, sc}); it != index_.end()) return it->second;
  }
  uint32_t rank = 0;
  while (rank < resources_.size() && resources_[rank] != r) ++rank;
  if (rank == resources_.size()) resources_.push_back(r);
  const auto id = static_cast<uint32_t>(groups_.size());
  groups_.push_back({r, sc, id, rank});
  if (!index_.empty()) index_.emplace(std::make_pair(r, sc), id);
  return id;
}

}  // namespace otlp::exporter::internal
