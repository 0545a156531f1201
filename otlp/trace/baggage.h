// otlp/trace/baggage.h — W3C Baggage: name/value pairs (with optional properties) that travel
// with the context across process boundaries.
//
//   Baggage b = Baggage().Set("tenant", "acme");
//   otlp::trace::Scope scope(Context::Current().WithBaggage(b));
//
// Thread-safety: immutable; copies share storage. The empty Baggage allocates nothing.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/core/export.h"

namespace otlp::trace {

class OTLP_EXPORT Baggage {
 public:
  // W3C limits: at most 180 list-members and 8192 bytes in a serialized header.
  static constexpr size_t kMaxEntries = 180;
  static constexpr size_t kMaxHeaderSize = 8192;

  struct Entry {
    std::string name;      // as received (an RFC 7230 token in headers)
    std::string value;     // percent-decoded (invalid UTF-8 replaced by U+FFFD)
    std::string metadata;  // the properties after the value, "p1;p2=v" (without the first ';')
  };

  Baggage() noexcept = default;

  // Parses a W3C baggage header. Malformed list-members (bad key, bad characters, bad
  // percent-encoding or property) are skipped, each one alone; values are percent-decoded; for a
  // repeated name the last value wins. The result honours the limits: the first 180 members are
  // kept, then members that would push the serialized size past 8192 bytes are dropped.
  static Baggage FromHeader(std::string_view header) noexcept;
  // Serializes with percent-encoding, keeping within the limits (entries that would exceed
  // them are left out, as are names that are not RFC 7230 tokens; malformed metadata given to
  // Set is not written).
  std::string ToHeader() const;

  bool empty() const noexcept { return !impl_ || impl_->entries.empty(); }
  size_t size() const noexcept { return impl_ ? impl_->entries.size() : 0; }
  std::optional<std::string_view> Get(std::string_view name) const noexcept;
  const std::vector<Entry>& entries() const noexcept;

  // Returns a copy with name set (replacing an existing entry of that name, in place). Any
  // non-empty name is accepted; an empty name returns *this unchanged.
  Baggage Set(std::string_view name, std::string_view value, std::string_view metadata = {}) const;
  Baggage Remove(std::string_view name) const;

  friend bool operator==(const Baggage& a, const Baggage& b) noexcept;

 private:
  struct Impl {
    std::vector<Entry> entries;
  };
  explicit Baggage(std::shared_ptr<const Impl> impl) noexcept : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace otlp::trace
