// otlp/core/attributes.h — attribute values: the non-owning view used on the hot path and the
// owning value used where data must outlive the call (resources, test exporters).
//
//   span.SetAttribute("http.request.method", "GET");
//   span.SetAttribute("http.response.status_code", 200);
//   const std::string_view tags[] = {"a", "b"};
//   span.SetAttribute("tags", std::span<const std::string_view>(tags));
//
// AttributeValue never owns memory: the SDK copies what it keeps before the call returns.
// Thread-safety: value types.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "otlp/core/export.h"

namespace otlp {

enum class AttributeType : unsigned char {
  kBool,
  kInt,
  kDouble,
  kString,
  kBoolArray,
  kIntArray,
  kDoubleArray,
  kStringArray,
};

// A non-owning view of one attribute value (24 bytes, trivially copyable).
class OTLP_EXPORT AttributeValue {
 public:
  constexpr AttributeValue() noexcept : type_(AttributeType::kString) { u_.s = {"", 0}; }
  constexpr AttributeValue(bool v) noexcept : type_(AttributeType::kBool) {  // NOLINT
    u_.b = v;
  }
  template <typename I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool> &&
                                             !std::is_same_v<I, char>,
                                         int> = 0>
  constexpr AttributeValue(I v) noexcept : type_(AttributeType::kInt) {  // NOLINT
    u_.i = static_cast<int64_t>(v);
  }
  constexpr AttributeValue(double v) noexcept : type_(AttributeType::kDouble) {  // NOLINT
    u_.d = v;
  }
  constexpr AttributeValue(float v) noexcept : type_(AttributeType::kDouble) {  // NOLINT
    u_.d = static_cast<double>(v);
  }
  constexpr AttributeValue(std::string_view v) noexcept : type_(AttributeType::kString) {  // NOLINT
    u_.s = {v.data(), v.size()};
  }
  constexpr AttributeValue(const char* v) noexcept  // NOLINT
      : AttributeValue(std::string_view(v ? v : "")) {}
  AttributeValue(const std::string& v) noexcept  // NOLINT
      : AttributeValue(std::string_view(v)) {}
  constexpr AttributeValue(std::span<const bool> v) noexcept  // NOLINT
      : type_(AttributeType::kBoolArray) {
    u_.s = {v.data(), v.size()};
  }
  constexpr AttributeValue(std::span<const int64_t> v) noexcept  // NOLINT
      : type_(AttributeType::kIntArray) {
    u_.s = {v.data(), v.size()};
  }
  constexpr AttributeValue(std::span<const double> v) noexcept  // NOLINT
      : type_(AttributeType::kDoubleArray) {
    u_.s = {v.data(), v.size()};
  }
  constexpr AttributeValue(std::span<const std::string_view> v) noexcept  // NOLINT
      : type_(AttributeType::kStringArray) {
    u_.s = {v.data(), v.size()};
  }

  constexpr AttributeType type() const noexcept { return type_; }
  constexpr bool is_array() const noexcept { return type_ >= AttributeType::kBoolArray; }

  // Accessors; calling the one that does not match type() is a programming error.
  constexpr bool as_bool() const noexcept { return u_.b; }
  constexpr int64_t as_int() const noexcept { return u_.i; }
  constexpr double as_double() const noexcept { return u_.d; }
  constexpr std::string_view as_string() const noexcept {
    return {static_cast<const char*>(u_.s.p), u_.s.n};
  }
  constexpr std::span<const bool> as_bool_array() const noexcept {
    return {static_cast<const bool*>(u_.s.p), u_.s.n};
  }
  constexpr std::span<const int64_t> as_int_array() const noexcept {
    return {static_cast<const int64_t*>(u_.s.p), u_.s.n};
  }
  constexpr std::span<const double> as_double_array() const noexcept {
    return {static_cast<const double*>(u_.s.p), u_.s.n};
  }
  constexpr std::span<const std::string_view> as_string_array() const noexcept {
    return {static_cast<const std::string_view*>(u_.s.p), u_.s.n};
  }
  // Number of elements of an array value; 0 for scalars.
  constexpr size_t array_size() const noexcept { return is_array() ? u_.s.n : 0; }

 private:
  struct Ptr {
    const void* p;
    size_t n;
  };
  union U {
    constexpr U() noexcept : s{nullptr, 0} {}
    bool b;
    int64_t i;
    double d;
    Ptr s;
  } u_;
  AttributeType type_;
};

// A key and a value view. The key and any string data must outlive the call they are given to.
struct OTLP_EXPORT KeyValue {
  std::string_view key;
  AttributeValue value;
};

// An owning attribute value.
using OwnedAttributeValue =
    std::variant<bool, int64_t, double, std::string, std::vector<bool>, std::vector<int64_t>,
                 std::vector<double>, std::vector<std::string>>;

OTLP_EXPORT OwnedAttributeValue ToOwned(const AttributeValue& v);

// Calls f(AttributeValue) with a view of an owned value (valid only during the call).
template <typename F>
void WithView(const OwnedAttributeValue& v, F&& f) {
  switch (v.index()) {
    case 0: f(AttributeValue(std::get<bool>(v))); return;
    case 1: f(AttributeValue(std::get<int64_t>(v))); return;
    case 2: f(AttributeValue(std::get<double>(v))); return;
    case 3: f(AttributeValue(std::string_view(std::get<std::string>(v)))); return;
    case 4: {
      const auto& src = std::get<std::vector<bool>>(v);
      std::vector<char> tmp(src.begin(), src.end());
      f(AttributeValue(
          std::span<const bool>(reinterpret_cast<const bool*>(tmp.data()), tmp.size())));
      return;
    }
    case 5: f(AttributeValue(std::span<const int64_t>(std::get<std::vector<int64_t>>(v)))); return;
    case 6: f(AttributeValue(std::span<const double>(std::get<std::vector<double>>(v)))); return;
    default: {
      const auto& src = std::get<std::vector<std::string>>(v);
      std::vector<std::string_view> tmp(src.begin(), src.end());
      f(AttributeValue(std::span<const std::string_view>(tmp)));
      return;
    }
  }
}

// Readable form for logs and the console exporter: "GET", 200, true, ["a","b"].
OTLP_EXPORT std::string AttributeValueToString(const AttributeValue& v);

// An ordered list of owned attributes with unique keys (setting an existing key replaces it).
class OTLP_EXPORT OwnedAttributes {
 public:
  // Set("k", "v"), Set("n", 42), Set("k", attribute_value_view) …
  template <typename V>
  requires std::is_constructible_v<AttributeValue, V&&>
  void Set(std::string_view key, V&& value) {
    SetView(key, AttributeValue(std::forward<V>(value)));
  }
  void Set(std::string key, OwnedAttributeValue value);
  const OwnedAttributeValue* Find(std::string_view key) const noexcept;
  bool Erase(std::string_view key);
  size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  const std::vector<std::pair<std::string, OwnedAttributeValue>>& items() const noexcept {
    return items_;
  }
  auto begin() const noexcept { return items_.begin(); }
  auto end() const noexcept { return items_.end(); }

 private:
  void SetView(std::string_view key, const AttributeValue& value);
  std::vector<std::pair<std::string, OwnedAttributeValue>> items_;
};

}  // namespace otlp
