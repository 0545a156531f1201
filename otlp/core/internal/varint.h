// Protobuf base-128 varints: size, append and read. Shared by the OTLP encoder, the OTLP request
// and response decoders and anything else that walks protobuf wire format. Internal: not an API.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace otlp::internal {

// Bytes the varint encoding of `v` takes (1-10).
constexpr size_t VarintSize(uint64_t v) noexcept {
  // Bits needed (at least 1), 7 per byte: (bits * 9 + 64) / 64 == ceil(bits / 7) for 1..64.
  const int bits = 64 - std::countl_zero(v | 1);
  return static_cast<size_t>((bits * 9 + 64) / 64);
}

inline void AppendVarint(uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(static_cast<uint8_t>(v) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads one varint from the front of `in` and advances past it. False, with `in` unchanged,
// when `in` ends inside the varint, or the varint is longer than 10 bytes or overflows 64 bits.
inline bool ReadVarint(std::string_view& in, uint64_t& v) noexcept {
  uint64_t result = 0;
  for (size_t i = 0; i < in.size() && i < 10; ++i) {
    const auto byte = static_cast<uint8_t>(in[i]);
    // The tenth byte may only carry the top bit of a 64-bit value.
    if (i == 9 && byte > 1) return false;
    result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      v = result;
      in.remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

}  // namespace otlp::internal
