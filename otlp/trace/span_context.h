// otlp/trace/span_context.h — TraceId, SpanId, TraceFlags, TraceState and SpanContext: the part
// of a span that crosses process boundaries.
//
//   SpanContext ctx = span.GetContext();
//   std::string tp = ctx.ToTraceparent();   // "00-4bf9…-00f0…-01"
//
// Thread-safety: value types. TraceState is immutable and shares its storage between copies.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/core/export.h"

namespace otlp::trace {

namespace internal {
// Writes 2*n lowercase hex digits of `bytes` to `out`.
OTLP_EXPORT void HexEncode(const uint8_t* bytes, size_t n, char* out) noexcept;
// Parses exactly 2*n hex digits (either case); false on any other character.
OTLP_EXPORT bool HexDecode(std::string_view hex, uint8_t* out, size_t n) noexcept;
}  // namespace internal

// 16-byte trace id. All zeros is the invalid id.
class OTLP_EXPORT TraceId {
 public:
  static constexpr size_t kSize = 16;
  constexpr TraceId() noexcept = default;
  explicit TraceId(std::span<const uint8_t, kSize> bytes) noexcept {
    std::memcpy(b_.data(), bytes.data(), kSize);
  }
  // From 32 hex digits; nullopt when malformed (all-zero is accepted here; check IsValid()).
  static std::optional<TraceId> FromHex(std::string_view hex) noexcept;

  bool IsValid() const noexcept {
    uint64_t a, b;
    std::memcpy(&a, b_.data(), 8);
    std::memcpy(&b, b_.data() + 8, 8);
    return (a | b) != 0;
  }
  const std::array<uint8_t, kSize>& bytes() const noexcept { return b_; }
  std::array<uint8_t, kSize>& mutable_bytes() noexcept { return b_; }
  std::string ToHex() const;
  void ToHex(char out[32]) const noexcept { internal::HexEncode(b_.data(), kSize, out); }
  // The low 8 bytes read big-endian, as the traceidratio sampler uses them.
  uint64_t Low64() const noexcept;

  friend bool operator==(const TraceId& a, const TraceId& b) noexcept { return a.b_ == b.b_; }

 private:
  std::array<uint8_t, kSize> b_{};
};

// 8-byte span id. All zeros is the invalid id.
class OTLP_EXPORT SpanId {
 public:
  static constexpr size_t kSize = 8;
  constexpr SpanId() noexcept = default;
  explicit SpanId(std::span<const uint8_t, kSize> bytes) noexcept {
    std::memcpy(b_.data(), bytes.data(), kSize);
  }
  static std::optional<SpanId> FromHex(std::string_view hex) noexcept;

  bool IsValid() const noexcept {
    uint64_t a;
    std::memcpy(&a, b_.data(), 8);
    return a != 0;
  }
  const std::array<uint8_t, kSize>& bytes() const noexcept { return b_; }
  std::array<uint8_t, kSize>& mutable_bytes() noexcept { return b_; }
  std::string ToHex() const;
  void ToHex(char out[16]) const noexcept { internal::HexEncode(b_.data(), kSize, out); }

  friend bool operator==(const SpanId& a, const SpanId& b) noexcept { return a.b_ == b.b_; }

 private:
  std::array<uint8_t, kSize> b_{};
};

// W3C trace flags (Trace Context Level 2, §3.2.2.5). Two bits are defined:
//   kSampled (0x01)  the caller may have recorded trace data;
//   kRandom  (0x02)  the random-trace-id flag: at least the right-most 7 bytes of the trace id
//                    are random. Set by the SDK on every trace it starts (its ids are random)
//                    and inherited by every span of that trace, local or remote.
// Other bits are kept as received on an extracted context, but a new span never carries them.
class OTLP_EXPORT TraceFlags {
 public:
  static constexpr uint8_t kSampled = 0x01;
  static constexpr uint8_t kRandom = 0x02;
  constexpr TraceFlags() noexcept = default;
  constexpr explicit TraceFlags(uint8_t v) noexcept : v_(v) {}
  constexpr bool IsSampled() const noexcept { return (v_ & kSampled) != 0; }
  constexpr bool IsRandom() const noexcept { return (v_ & kRandom) != 0; }
  constexpr uint8_t value() const noexcept { return v_; }
  friend constexpr bool operator==(TraceFlags a, TraceFlags b) noexcept { return a.v_ == b.v_; }

 private:
  uint8_t v_ = 0;
};

// W3C tracestate (Trace Context Level 2, §3.3): an immutable ordered list of vendor key=value
// entries (at most 32). Copies share storage; the empty state allocates nothing.
//
// Keys (§3.3.2.2.1): 1 to 256 characters; a lowercase letter or a digit, then lowercase letters,
// digits and `_ - * / @` in any order ("0vendor", "tenant@", "a@b@c" are keys; Level 1's
// tenant@system form with its 241/14 limits is gone). Values (§3.3.2.2.2): 1 to 256 printable
// ASCII characters except `,` and `=`, not ending in a space.
class OTLP_EXPORT TraceState {
 public:
  static constexpr size_t kMaxEntries = 32;
  static constexpr size_t kMaxKeySize = 256;
  static constexpr size_t kMaxValueSize = 256;
  // W3C asks to propagate at least 512 characters (§3.3.3.1). A parsed header that serializes
  // longer is truncated to fit: entries longer than 128 characters are dropped first, then
  // entries from the end (whole entries only).
  static constexpr size_t kMaxHeaderSize = 512;

  TraceState() noexcept = default;

  // Parses a (possibly combined) tracestate header value:
  // - list members are trimmed of OWS; empty and whitespace-only members are skipped (§3.3.2);
  // - a member that is not key=value by the rules above, or more than 32 members, means the
  //   header cannot be parsed: the whole header is discarded and the empty state returned
  //   (§4.3 "A traceparent is received" allows this; a list this process half-invented is
  //   not forwarded);
  // - a key that appears more than once is kept as received, each occurrence in its place.
  //   Keeping keys unique is the sender's duty (§3.5): a receiver MAY drop duplicates it did not
  //   write but need not, and a tracestate forwarded under an unchanged traceparent must not
  //   change (§3.4). (Level 1 discarded the whole header.) Get() finds the first, left-most
  //   occurrence; Set() and Delete() act on all of them.
  // The result is truncated to kMaxHeaderSize as described above.
  static TraceState FromHeader(std::string_view header) noexcept;
  static bool IsValidKey(std::string_view key) noexcept;
  static bool IsValidValue(std::string_view value) noexcept;

  // "k1=v1,k2=v2"; empty when there are no entries.
  std::string ToHeader() const;
  // The serialized form, kept from parsing/building (no allocation).
  std::string_view header() const noexcept;

  bool empty() const noexcept { return !impl_; }
  size_t size() const noexcept;
  std::optional<std::string_view> Get(std::string_view key) const noexcept;
  std::vector<std::pair<std::string_view, std::string_view>> Entries() const;

  // Returns a new state with `key` set once, at the front (§3.5: an added or updated key moves
  // left and is never left present twice; every earlier occurrence goes). Invalid key or value
  // returns *this unchanged. When that leaves 33 entries the last one is dropped.
  TraceState Set(std::string_view key, std::string_view value) const;
  // Returns a new state without any entry for `key`.
  TraceState Delete(std::string_view key) const;

  friend bool operator==(const TraceState& a, const TraceState& b) noexcept {
    return a.header() == b.header();
  }

 private:
  struct Impl;
  explicit TraceState(std::shared_ptr<const Impl> impl) noexcept : impl_(std::move(impl)) {}
  // From entries already known to be valid.
  static TraceState Build(const std::vector<std::pair<std::string_view, std::string_view>>& kvs);
  std::shared_ptr<const Impl> impl_;
};

// The identity of a span as seen by other spans and processes.
class OTLP_EXPORT SpanContext {
 public:
  SpanContext() noexcept = default;
  SpanContext(TraceId trace_id, SpanId span_id, TraceFlags flags, bool is_remote,
              TraceState trace_state = {}) noexcept
      : trace_id_(trace_id),
        span_id_(span_id),
        flags_(flags),
        is_remote_(is_remote),
        trace_state_(std::move(trace_state)) {}

  // Valid when both ids are non-zero.
  bool IsValid() const noexcept { return trace_id_.IsValid() && span_id_.IsValid(); }
  bool IsSampled() const noexcept { return flags_.IsSampled(); }
  // The W3C random-trace-id flag (TraceFlags::kRandom).
  bool IsRandom() const noexcept { return flags_.IsRandom(); }
  bool IsRemote() const noexcept { return is_remote_; }
  const TraceId& trace_id() const noexcept { return trace_id_; }
  const SpanId& span_id() const noexcept { return span_id_; }
  TraceFlags trace_flags() const noexcept { return flags_; }
  const TraceState& trace_state() const noexcept { return trace_state_; }

  // "00-<trace id>-<span id>-<flags>"; empty when invalid.
  std::string ToTraceparent() const;

  friend bool operator==(const SpanContext& a, const SpanContext& b) noexcept {
    return a.trace_id_ == b.trace_id_ && a.span_id_ == b.span_id_ && a.flags_ == b.flags_ &&
           a.is_remote_ == b.is_remote_ && a.trace_state_ == b.trace_state_;
  }

 private:
  friend class Span;
  // A new local span's identity, written over a default-constructed context.
  void SetLocal(const TraceId& trace_id, const SpanId& span_id, TraceFlags flags) noexcept {
    trace_id_ = trace_id;
    span_id_ = span_id;
    flags_ = flags;
  }

  TraceId trace_id_;
  SpanId span_id_;
  TraceFlags flags_;
  bool is_remote_ = false;
  TraceState trace_state_;
};

}  // namespace otlp::trace
