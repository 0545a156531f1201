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

// n <= 32, without a library call.
inline void CopyUpTo32(char* dst, const char* src, size_t n) noexcept {
  if (n >= 16) {
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
  } else if (n != 0) {
    // 1-3 bytes: first, middle, last (some the same byte).
    const char a = src[0], b = src[n / 2], c = src[n - 1];
    dst[0] = a;
    dst[n / 2] = b;
    dst[n - 1] = c;
  }
}

inline void CopyShortBytes(char* dst, const char* src, size_t n) noexcept {
  if (n > 32) {
    std::memcpy(dst, src, n);
  } else {
    CopyUpTo32(dst, src, n);
  }
}

// n <= 64, without a library call.
inline void CopyUpTo64(char* dst, const char* src, size_t n) noexcept {
  if (n > 32) {
    char a[16], b[16], c[16], d[16];
    std::memcpy(a, src, 16);
    std::memcpy(b, src + 16, 16);
    std::memcpy(c, src + n - 32, 16);
    std::memcpy(d, src + n - 16, 16);
    std::memcpy(dst, a, 16);
    std::memcpy(dst + 16, b, 16);
    std::memcpy(dst + n - 32, c, 16);
    std::memcpy(dst + n - 16, d, 16);
  } else {
    CopyUpTo32(dst, src, n);
  }
}

// n <= 256, without a library call: 32-byte steps, then the last 32 bytes (overlapping).
inline void CopyUpTo256(char* dst, const char* src, size_t n) noexcept {
  if (n <= 64) return CopyUpTo64(dst, src, n);
  for (size_t i = 0; i + 32 < n; i += 32) {
    char a[32];
    std::memcpy(a, src + i, 32);
    std::memcpy(dst + i, a, 32);
  }
  char t[32];
  std::memcpy(t, src + n - 32, 32);
  std::memcpy(dst + n - 32, t, 32);
}

// Up to 64 bytes inline, longer copies by the library.
inline void CopyBytesInline64(char* dst, const char* src, size_t n) noexcept {
  if (n > 64) {
    std::memcpy(dst, src, n);
  } else {
    CopyUpTo64(dst, src, n);
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
  if (n > 16 && n <= 32) {
    uint64_t a0, a1, a2, a3, b0, b1, b2, b3;
    std::memcpy(&a0, a, 8);
    std::memcpy(&a1, a + 8, 8);
    std::memcpy(&a2, a + n - 16, 8);
    std::memcpy(&a3, a + n - 8, 8);
    std::memcpy(&b0, b, 8);
    std::memcpy(&b1, b + 8, 8);
    std::memcpy(&b2, b + n - 16, 8);
    std::memcpy(&b3, b + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1) | (a2 ^ b2) | (a3 ^ b3)) == 0;
  }
  return n == 0 || std::memcmp(a, b, n) == 0;  // (empty views may carry null pointers)
}

}  // namespace otlp::internal
