// Short byte copies and compares for the hot paths (span attributes, OTLP encoding).
//
// Most strings there are a few dozen bytes: they are moved with two fixed-size loads and
// stores that overlap in the middle (n = 11: bytes 0-7 and 3-10), a few register moves where a
// call to memcpy/memcmp would cost more than the work. Longer ones go to the library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace otlp::internal {

inline void CopyShortBytes(char* dst, const char* src, size_t n) noexcept {
  if (n > 32) {
    std::memcpy(dst, src, n);
  } else if (n >= 16) {
    char a[16], b[16];
    std::memcpy(a, src, 16);
    std::memcpy(b, src + n - 16, 16);
    std::memcpy(dst, a, 16);
    std::memcpy(dst + n - 16, b, 16);
  } else if (n >= 8) {
    uint64_t a, b;
    std::memcpy(&a, src, 8);
    std::memcpy(&b, src + n - 8, 8);
    std::memcpy(dst, &a, 8);
    std::memcpy(dst + n - 8, &b, 8);
  } else if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, src, 4);
    std::memcpy(&b, src + n - 4, 4);
    std::memcpy(dst, &a, 4);
    std::memcpy(dst + n - 4, &b, 4);
  } else {
    for (size_t i = 0; i < n; ++i) dst[i] = src[i];
  }
}

// a[0..n) == b[0..n).
inline bool ShortBytesEqual(const char* a, const char* b, size_t n) noexcept {
  if (n >= 8 && n <= 16) {
    uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a, 8);
    std::memcpy(&b0, b, 8);
    std::memcpy(&a1, a + n - 8, 8);
    std::memcpy(&b1, b + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  return std::memcmp(a, b, n) == 0;
}

}  // namespace otlp::internal
