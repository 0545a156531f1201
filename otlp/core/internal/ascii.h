// ASCII helpers shared by every module: case-insensitive comparison and lower-casing (HTTP
// header names, URL schemes and hosts, propagation keys) and the HTTP token check (RFC 9110
// `token`: method names, header names, baggage keys). Locale-independent: bytes outside ASCII
// compare as themselves. Internal: not an API.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace otlp::internal {

constexpr char AsciiToLower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool AsciiIsUpper(char c) noexcept { return c >= 'A' && c <= 'Z'; }

constexpr bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiToLower(a[i]) != AsciiToLower(b[i])) return false;
  }
  return true;
}

// True when `needle` occurs in `haystack`, ignoring ASCII case (an empty needle always does).
constexpr bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) noexcept {
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (EqualsIgnoreCase(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiToLower(c);
  return out;
}

// RFC 9110 tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" /
// "|" / "~" / DIGIT / ALPHA.
constexpr bool IsTokenChar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// A non-empty run of tchar.
constexpr bool IsToken(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

}  // namespace otlp::internal
