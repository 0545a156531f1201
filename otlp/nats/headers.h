// otlp/nats/headers.h — the header block of a NATS message (HPUB / HMSG): ordered, case-preserving
// keys, repeated keys as several values, and the optional status on the version line
// ("NATS/1.0 503", "NATS/1.0 408 Request Timeout").
//
//   otlp::nats::Headers h;
//   h.Add("Nats-Msg-Id", "order-42");
//   h.Add("X-Tag", "a");
//   h.Add("X-Tag", "b");                       // two values, two lines, in order
//   conn->Publish("orders.created", h, body);
//
//   std::optional<std::string_view> id = msg.headers().Find("Nats-Msg-Id");
//   if (msg.headers().status() == 503) ...     // no responders
//
// Keys are compared exactly (NATS keys are case-sensitive; "X-Tag" and "x-tag" are two keys);
// FindIgnoringCase is there for peers that change the case. Keys are printable ASCII without ':'
// or spaces, values have no CR or LF: Validate() says which rule a header breaks, and a publish
// with an invalid header fails with kInvalidArgument before anything is sent.
//
// Threading: a value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/status.h"

namespace otlp::nats {

class OTLP_EXPORT Headers {
 public:
  using Field = std::pair<std::string, std::string>;
  using Fields = std::vector<Field>;

  Headers() = default;
  Headers(std::initializer_list<Field> fields) : fields_(fields) {}

  // Parses a header block as it is on the wire: "NATS/1.0[ <code>[ <description>]]\r\n",
  // "Key: Value\r\n" lines, and the blank line. kInvalidArgument (with what is wrong) for a
  // block that is not one.
  static Result<Headers> Parse(std::string_view block);

  void Add(std::string key, std::string value) {
    fields_.emplace_back(std::move(key), std::move(value));
  }
  // Replaces every value of `key` by `value` (at the first one's position, else appended).
  void Set(std::string_view key, std::string value);
  // Removes every value of `key`; returns how many.
  size_t Remove(std::string_view key);

  std::optional<std::string_view> Find(std::string_view key) const noexcept;
  std::optional<std::string_view> FindIgnoringCase(std::string_view key) const noexcept;
  std::vector<std::string_view> FindAll(std::string_view key) const;

  const Fields& fields() const noexcept { return fields_; }
  Fields& fields() noexcept { return fields_; }
  bool empty() const noexcept { return fields_.empty() && status_ == 0; }
  size_t size() const noexcept { return fields_.size(); }
  Fields::const_iterator begin() const noexcept { return fields_.begin(); }
  Fields::const_iterator end() const noexcept { return fields_.end(); }

  // The status on the version line (0: none) and its description.
  int status() const noexcept { return status_; }
  const std::string& description() const noexcept { return description_; }
  void SetStatus(int code, std::string description = {}) {
    status_ = code;
    description_ = std::move(description);
  }

  // OK, or kInvalidArgument naming the first key or value that cannot go on the wire.
  Status Validate() const;
  // The wire form: version line, one line per value, the blank line.
  std::string Encode() const;
  void EncodeTo(std::string& out) const;
  // Bytes Encode() produces.
  size_t EncodedSize() const noexcept;

  friend bool operator==(const Headers&, const Headers&) = default;

 private:
  Fields fields_;
  int status_ = 0;
  std::string description_;
};

// The status line of a raw header block without parsing the rest ("NATS/1.0 503\r\n..." → 503;
// 0 when there is none or the block is malformed).
OTLP_EXPORT int HeaderBlockStatus(std::string_view block) noexcept;
// The first value of `key` in a raw header block (exact key, then ignoring case), without
// building a Headers; empty when absent.
OTLP_EXPORT std::string_view FindInHeaderBlock(std::string_view block, std::string_view key) noexcept;

}  // namespace otlp::nats
