#include "otlp/propagation/carriers.h"

#include <algorithm>
#include <exception>

#include "otlp/core/internal/ascii.h"

namespace otlp::propagation {

namespace {
using otlp::internal::EqualsIgnoreCase;

std::string LowercaseKey(std::string_view s) { return otlp::internal::AsciiLower(s); }

bool HasUpper(std::string_view s) noexcept {
  return std::any_of(s.begin(), s.end(), otlp::internal::AsciiIsUpper);
}
}  // namespace

// ---- MapCarrier ----

MapCarrier::MapCarrier(std::initializer_list<std::pair<std::string_view, std::string_view>> init) {
  for (const auto& [k, v] : init) values_.insert_or_assign(LowercaseKey(k), std::string(v));
}

std::string_view MapCarrier::Get(std::string_view key) const noexcept {
  try {
    auto it = HasUpper(key) ? values_.find(LowercaseKey(key)) : values_.find(key);
    if (it == values_.end()) return {};
    return it->second;
  } catch (const std::exception&) {
    return {};
  }
}

void MapCarrier::Set(std::string_view key, std::string_view value) noexcept {
  try {
    values_.insert_or_assign(LowercaseKey(key), std::string(value));
  } catch (const std::exception&) {
    // Out of memory: the header is not written.
  }
}

void MapCarrier::Keys(const std::function<void(std::string_view)>& f) const noexcept {
  try {
    for (const auto& kv : values_) f(kv.first);
  } catch (...) {
    // A throwing callback ends the iteration.
  }
}

// ---- HeaderVectorCarrier ----

std::string_view HeaderVectorCarrier::Get(std::string_view key) const noexcept {
  const std::string* first = nullptr;
  size_t count = 0;
  for (const auto& [name, value] : *read_) {
    if (!EqualsIgnoreCase(name, key)) continue;
    if (count++ == 0) first = &value;
  }
  if (count == 0) return {};
  if (count == 1) return *first;
  try {
    std::string joined;
    bool first_value = true;
    for (const auto& [name, value] : *read_) {
      if (!EqualsIgnoreCase(name, key)) continue;
      if (!first_value) joined.push_back(',');
      first_value = false;
      joined.append(value);
    }
    return joined_.emplace_back(std::move(joined));
  } catch (const std::exception&) {
    return {};
  }
}

void HeaderVectorCarrier::Set(std::string_view key, std::string_view value) noexcept {
  if (write_ == nullptr) return;
  try {
    std::erase_if(*write_,
                  [key](const auto& h) { return EqualsIgnoreCase(h.first, key); });
    write_->emplace_back(LowercaseKey(key), std::string(value));
  } catch (const std::exception&) {
    // Out of memory: the header is not written.
  }
}

void HeaderVectorCarrier::Keys(const std::function<void(std::string_view)>& f) const noexcept {
  try {
    for (const auto& kv : *read_) f(kv.first);
  } catch (...) {
    // A throwing callback ends the iteration.
  }
}

}  // namespace otlp::propagation
