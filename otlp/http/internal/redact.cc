#include "otlp/http/internal/redact.h"

#include <array>

namespace otlp::http::internal {

bool IsSensitiveQueryKey(std::string_view key) noexcept {
  static constexpr std::array<std::string_view, 7> kKeys = {
      "AWSAccessKeyId",   "Signature",           "sig", "X-Goog-Signature", "X-Amz-Signature",
      "X-Amz-Credential", "X-Amz-Security-Token"};
  for (std::string_view k : kKeys) {
    if (key == k) return true;
  }
  return false;
}

std::string RedactUrl(std::string_view url) {
  std::string out;
  out.reserve(url.size() + 16);

  // Authority: after "scheme://" (or a network-path reference's "//"), up to the path, query
  // or fragment. User info is everything before its last '@'.
  size_t authority = std::string_view::npos;
  if (const size_t sep = url.find("://");
      sep != std::string_view::npos &&
      url.substr(0, sep).find_first_of("/?#") == std::string_view::npos) {
    authority = sep + 3;
  } else if (url.substr(0, 2) == "//") {
    authority = 2;
  }
  size_t pos = 0;
  if (authority != std::string_view::npos) {
    const size_t end = std::min(url.find_first_of("/?#", authority), url.size());
    const size_t at = url.substr(authority, end - authority).rfind('@');
    out += url.substr(0, authority);
    if (at != std::string_view::npos) {
      out += "REDACTED:REDACTED@";
      pos = authority + at + 1;
    } else {
      pos = authority;
    }
  }

  const size_t hash = std::min(url.find('#', pos), url.size());
  const size_t query = url.substr(0, hash).find('?', pos);
  if (query == std::string_view::npos) {
    out += url.substr(pos);
    return out;
  }
  out += url.substr(pos, query + 1 - pos);
  std::string_view rest = url.substr(query + 1, hash - query - 1);
  bool first = true;
  while (true) {
    const size_t amp = rest.find('&');
    const std::string_view piece = rest.substr(0, amp);
    if (!first) out += '&';
    first = false;
    const size_t eq = piece.find('=');
    if (eq != std::string_view::npos && IsSensitiveQueryKey(piece.substr(0, eq))) {
      out += piece.substr(0, eq + 1);
      out += "REDACTED";
    } else {
      out += piece;
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  out += url.substr(hash);
  return out;
}

}  // namespace otlp::http::internal
