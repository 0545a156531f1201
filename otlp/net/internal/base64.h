// otlp/net/internal/base64.h — RFC 4648 base64: the standard alphabet with padding (HTTP Basic
// authentication, the view's byte fields) and the URL-safe alphabet (NATS: NKey signatures
// without padding, Object Store names and digests). Not installed.
#pragma once

#include <string>
#include <string_view>

namespace otlp::net::internal {

inline std::string Base64EncodeWith(std::string_view in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16 |
                       static_cast<unsigned char>(in[i + 1]) << 8 |
                       static_cast<unsigned char>(in[i + 2]);
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (const size_t rest = in.size() - i; rest > 0) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) {
      out += alphabet[(v >> 6) & 63];
    } else if (pad) {
      out += '=';
    }
    if (pad) out += '=';
  }
  return out;
}

inline std::string Base64Encode(std::string_view in) {
  return Base64EncodeWith(
      in, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", true);
}

// The URL-safe alphabet ('-' and '_'); padded or not.
inline std::string Base64UrlEncode(std::string_view in, bool pad) {
  return Base64EncodeWith(
      in, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", pad);
}

}  // namespace otlp::net::internal
