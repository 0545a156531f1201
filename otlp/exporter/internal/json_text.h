// Byte-level helpers shared by the OTLP/JSON writer and the JSON and protobuf readers: UTF-8
// sequence checks and the word-at-a-time test for bytes a JSON string cannot hold as they are.
// Internal: not an API.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace otlp::exporter::internal {

// Length of the well-formed UTF-8 sequence at s[0..n) (n > 0, s[0] >= 0x80), or the negated
// length of its maximal ill-formed subpart (at least 1). RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF.
inline int Utf8Sequence(const unsigned char* s, size_t n) noexcept {
  const unsigned char c = s[0];
  int need;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return -1;
  }
  int got = 0;
  for (int k = 1; k <= need; ++k) {
    if (static_cast<size_t>(k) >= n) return -(1 + got);
    const unsigned char b = s[k];
    const bool ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok) return -(1 + got);
    ++got;
  }
  return 1 + need;
}

// Appends code point `cp` (at most U+10FFFF) as UTF-8.
inline void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Whether some byte of the word is special for JSON: a byte below 0x20, '"', '\\', or a byte
// with the high bit set (to be checked as UTF-8). The hasless / haszero bit tricks can flag a
// byte above a special one by mistake, never a word without one, so the answer for the whole
// word is exact.
inline bool HasSpecialByte(uint64_t x) noexcept {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  const uint64_t quote = x ^ (kOnes * '"'), backslash = x ^ (kOnes * '\\');
  const uint64_t special = ((x - kOnes * 0x20) & ~x) | ((quote - kOnes) & ~quote) |
                           ((backslash - kOnes) & ~backslash) | x;
  return (special & kHigh) != 0;
}

// The same test for one byte.
constexpr std::array<bool, 256> kJsonSpecial = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = true;
  t['"'] = t['\\'] = true;
  for (int c = 0x80; c < 0x100; ++c) t[c] = true;
  return t;
}();

// The length of the longest well-formed UTF-8 prefix of s: s.size() when all of s is UTF-8.
// ASCII is checked eight bytes at a time.
inline size_t ValidUtf8Prefix(std::string_view s) noexcept {
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    while (n - i >= 8) {
      uint64_t x;
      std::memcpy(&x, b + i, 8);
      if ((x & 0x8080808080808080ull) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    if (b[i] < 0x80) {
      ++i;
      continue;
    }
    const int len = Utf8Sequence(b + i, n - i);
    if (len < 0) return i;
    i += static_cast<size_t>(len);
  }
  return n;
}

// Appends `s` as a quoted JSON string: `"` `\` and control characters escaped, invalid UTF-8
// sequences replaced by U+FFFD (one per maximal ill-formed subpart, as WHATWG decoders do).
// (The OTLP/JSON writer's string writer, in json_writer.cc.)
void AppendJsonString(std::string_view s, std::string& out);

}  // namespace otlp::exporter::internal
