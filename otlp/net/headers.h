// otlp/net/headers.h — an ordered list of header fields (name, value) whose lookups ignore the
// case of names, as HTTP field names (and NATS header keys, when looked up) are compared.
//
//   otlp::net::Headers headers = {{"Content-Type", "application/json"}, {"Accept", "*/*"}};
//   headers.Add("Cookie", "a=1");
//   headers.Add("Cookie", "b=2");               // repeated names are kept, in order
//   headers.Set("accept", "text/plain");        // replaces every "Accept", keeps its position
//   std::optional<std::string_view> type = headers.Find("content-type");  // "application/json"
//   for (const auto& [name, value] : headers) Print(name, value);        // as given, in order
//
// Names keep the case they were given in (HTTP/1.1 peers see them as written; HTTP/2 lower-cases
// them on the wire). Iteration, size() and the vector-like members see every field in order, so
// a Headers is also what to build a request from or copy a response into. Equality compares
// names and values exactly (case included) and in order.
//
// Threading: a value type; distinct objects may be used from distinct threads.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/core/export.h"

namespace otlp::net {

class OTLP_EXPORT Headers {
 public:
  using value_type = std::pair<std::string, std::string>;
  using Fields = std::vector<value_type>;
  using iterator = Fields::iterator;
  using const_iterator = Fields::const_iterator;
  using size_type = Fields::size_type;

  Headers() = default;
  Headers(std::initializer_list<value_type> fields) : fields_(fields) {}
  // From a plain list of (name, value) pairs, e.g. parsed from OTEL_EXPORTER_OTLP_HEADERS.
  Headers(Fields fields) : fields_(std::move(fields)) {}  // NOLINT(google-explicit-constructor)
  template <typename It>
  Headers(It first, It last) : fields_(first, last) {}

  // The value of the first field named `name` (any case), or nullopt.
  std::optional<std::string_view> Find(std::string_view name) const noexcept;
  bool Contains(std::string_view name) const noexcept { return Find(name).has_value(); }
  // Every value of the fields named `name` (any case), in order.
  std::vector<std::string_view> FindAll(std::string_view name) const;
  // Appends a field (a repeated name is kept as another field).
  void Add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }
  // Makes `value` the only value of `name`: the first field of that name (any case) takes the
  // new name and value, later ones are removed; appended when absent.
  void Set(std::string_view name, std::string value);
  // Removes every field named `name` (any case); returns how many were removed.
  size_t Remove(std::string_view name);

  // The fields, in order.
  const Fields& fields() const noexcept { return fields_; }
  Fields& fields() noexcept { return fields_; }

  // Vector-like access, in order.
  iterator begin() noexcept { return fields_.begin(); }
  iterator end() noexcept { return fields_.end(); }
  const_iterator begin() const noexcept { return fields_.begin(); }
  const_iterator end() const noexcept { return fields_.end(); }
  size_t size() const noexcept { return fields_.size(); }
  bool empty() const noexcept { return fields_.empty(); }
  void reserve(size_t n) { fields_.reserve(n); }
  void clear() noexcept { fields_.clear(); }
  value_type& operator[](size_t i) { return fields_[i]; }
  const value_type& operator[](size_t i) const { return fields_[i]; }
  template <typename... Args>
  value_type& emplace_back(Args&&... args) {
    return fields_.emplace_back(std::forward<Args>(args)...);
  }
  void push_back(value_type field) { fields_.push_back(std::move(field)); }
  template <typename It>
  iterator insert(const_iterator pos, It first, It last) {
    return fields_.insert(pos, first, last);
  }
  iterator erase(const_iterator pos) { return fields_.erase(pos); }

  friend bool operator==(const Headers&, const Headers&) = default;

 private:
  Fields fields_;
};

// headers.Find(name): the first field with that name (case-insensitive), or nullopt.
OTLP_EXPORT std::optional<std::string_view> FindHeader(const Headers& headers,
                                                       std::string_view name) noexcept;

}  // namespace otlp::net
