// Protobuf wire format pieces shared by the OTLP encoder and the OTLP decoders: wire types,
// one-byte tags and a bounds-checked field reader. Internal: not an API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "otlp/core/internal/varint.h"

namespace otlp::exporter::internal {

enum : uint8_t {
  kWireVarint = 0,
  kWireFixed64 = 1,
  kWireLen = 2,
  kWireFixed32 = 5,
};

// The tag byte of a field numbered below 16.
constexpr uint8_t Tag(uint8_t field, uint8_t wire) {
  return static_cast<uint8_t>(field << 3 | wire);
}

// "varint", "length-delimited", ... for error messages.
constexpr std::string_view WireTypeName(uint32_t wire) noexcept {
  switch (wire) {
    case kWireVarint: return "varint";
    case kWireFixed64: return "fixed64";
    case kWireLen: return "length-delimited";
    case kWireFixed32: return "fixed32";
    case 3: return "group start";
    case 4: return "group end";
    default: return "invalid";
  }
}

// Reads the fields of one message, never past its end. Every method returns false on malformed
// input (and leaves the reader where the problem starts).
class ProtoReader {
 public:
  explicit ProtoReader(std::string_view in) noexcept : in_(in) {}
  bool done() const noexcept { return in_.empty(); }
  // Where the next read starts (for error offsets).
  const char* position() const noexcept { return in_.data(); }
  size_t left() const noexcept { return in_.size(); }

  // The next field key. Field 0 and numbers above 2^29 - 1 are malformed.
  bool Next(uint32_t& field, uint32_t& wire) noexcept {
    uint64_t key;
    if (!otlp::internal::ReadVarint(in_, key)) return false;
    field = static_cast<uint32_t>(key >> 3);
    wire = static_cast<uint32_t>(key & 7);
    return field != 0 && (key >> 3) <= 0x1FFFFFFF;
  }
  bool Varint(uint64_t& v) noexcept { return otlp::internal::ReadVarint(in_, v); }
  bool Fixed64(uint64_t& v) noexcept {
    if (in_.size() < 8) return false;
    uint64_t x = 0;
    for (int i = 7; i >= 0; --i) x = x << 8 | static_cast<uint8_t>(in_[static_cast<size_t>(i)]);
    v = x;
    in_.remove_prefix(8);
    return true;
  }
  bool Fixed32(uint32_t& v) noexcept {
    if (in_.size() < 4) return false;
    uint32_t x = 0;
    for (int i = 3; i >= 0; --i) x = x << 8 | static_cast<uint8_t>(in_[static_cast<size_t>(i)]);
    v = x;
    in_.remove_prefix(4);
    return true;
  }
  // A length-delimited payload. Reads nothing when the length runs past the end.
  bool Len(std::string_view& v) noexcept {
    std::string_view at = in_;
    uint64_t n;
    if (!otlp::internal::ReadVarint(at, n) || n > at.size()) return false;
    v = at.substr(0, static_cast<size_t>(n));
    in_ = at.substr(static_cast<size_t>(n));
    return true;
  }
  // Skips a field of an unknown number.
  bool Skip(uint32_t wire) noexcept {
    switch (wire) {
      case kWireVarint: {
        uint64_t v;
        return Varint(v);
      }
      case kWireFixed64: return Advance(8);
      case kWireLen: {
        std::string_view v;
        return Len(v);
      }
      case kWireFixed32: return Advance(4);
      default: return false;  // groups (3, 4) are not used by OTLP; 6, 7 do not exist
    }
  }

 private:
  bool Advance(size_t n) noexcept {
    if (in_.size() < n) return false;
    in_.remove_prefix(n);
    return true;
  }
  std::string_view in_;
};

}  // namespace otlp::exporter::internal
