#include "otlp/net/headers.h"

#include <algorithm>

#include "otlp/core/internal/ascii.h"

namespace otlp::net {

using otlp::internal::EqualsIgnoreCase;

std::optional<std::string_view> Headers::Find(std::string_view name) const noexcept {
  for (const auto& [key, value] : fields_) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

std::vector<std::string_view> Headers::FindAll(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [key, value] : fields_) {
    if (EqualsIgnoreCase(key, name)) out.emplace_back(value);
  }
  return out;
}

void Headers::Set(std::string_view name, std::string value) {
  auto first = std::find_if(fields_.begin(), fields_.end(),
                            [&](const value_type& f) { return EqualsIgnoreCase(f.first, name); });
  if (first == fields_.end()) {
    fields_.emplace_back(std::string(name), std::move(value));
    return;
  }
  first->first.assign(name);
  first->second = std::move(value);
  fields_.erase(
      std::remove_if(std::next(first), fields_.end(),
                     [&](const value_type& f) { return EqualsIgnoreCase(f.first, name); }),
      fields_.end());
}

size_t Headers::Remove(std::string_view name) {
  const size_t before = fields_.size();
  std::erase_if(fields_, [&](const value_type& f) { return EqualsIgnoreCase(f.first, name); });
  return before - fields_.size();
}

std::optional<std::string_view> FindHeader(const Headers& headers, std::string_view name) noexcept {
  return headers.Find(name);
}

}  // namespace otlp::net
