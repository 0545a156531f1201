#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <string>
#include <string_view>

#include "otlp/net/http_client.h"
#include "otlp/core/internal/ascii.h"

namespace otlp::net {
namespace {

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

Status Bad(std::string_view text, std::string_view why) {
  std::string msg = "invalid URL '";
  msg += text;
  msg += "': ";
  msg += why;
  return InvalidArgumentError(std::move(msg));
}

}  // namespace

std::optional<std::string_view> FindHeader(const Headers& headers, std::string_view name) noexcept {
  for (const auto& [key, value] : headers) {
    if (otlp::internal::EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

Result<Url> Url::Parse(std::string_view text) {
  if (text.empty()) return InvalidArgumentError("invalid URL: empty string");
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return Bad(text, "contains whitespace or control characters");
  }
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    return Bad(text, "missing scheme (expected http:// or https://)");
  }
  Url url;
  url.scheme = otlp::internal::AsciiLower(text.substr(0, sep));
  if (url.scheme == "http") {
    url.port = 80;
  } else if (url.scheme == "https") {
    url.port = 443;
  } else {
    return Bad(text, "unsupported scheme '" + url.scheme + "' (expected http or https)");
  }

  std::string_view rest = text.substr(sep + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.empty()) return Bad(text, "missing host");
  if (authority.find('@') != std::string_view::npos) {
    return Bad(text, "user credentials in URLs are not supported");
  }

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Bad(text, "unterminated '[' in IPv6 host");
    host = authority.substr(1, close - 1);
    in6_addr addr{};
    const std::string host_str(host);
    if (host.empty() || inet_pton(AF_INET6, host_str.c_str(), &addr) != 1) {
      return Bad(text, "'" + host_str + "' is not a valid IPv6 address");
    }
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Bad(text, "unexpected characters after ']'");
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
      if (port_text.find(':') != std::string_view::npos) {
        return Bad(text, "IPv6 addresses must be enclosed in brackets, e.g. http://[::1]:4318");
      }
    }
    if (host.empty()) return Bad(text, "missing host");
    for (char c : host) {
      if (!IsHostChar(c)) {
        return Bad(text, std::string("invalid character '") + c + "' in host");
      }
    }
  }
  // An empty port ("http://host:/") means the default, as RFC 3986 allows.
  if (has_port && !port_text.empty()) {
    unsigned value = 0;
    const char* begin = port_text.data();
    const char* end = begin + port_text.size();
    auto [ptr, ec] = std::from_chars(begin, end, value);
    if (ec != std::errc() || ptr != end || port_text.size() > 5) {
      return Bad(text, "port '" + std::string(port_text) + "' is not a number from 1 to 65535");
    }
    if (value == 0 || value > 65535) {
      return Bad(text, "port " + std::string(port_text) + " is out of range (1-65535)");
    }
    url.port = static_cast<uint16_t>(value);
  }
  url.host = otlp::internal::AsciiLower(host);

  const size_t hash = tail.find('#');
  if (hash != std::string_view::npos) tail = tail.substr(0, hash);
  if (tail.empty()) {
    url.target = "/";
  } else if (tail.front() == '?') {
    url.target = "/" + std::string(tail);
  } else {
    url.target = std::string(tail);
  }
  return url;
}

std::string Url::Authority() const {
  std::string out;
  if (host.find(':') != std::string::npos) {
    out = "[" + host + "]";
  } else {
    out = host;
  }
  const uint16_t default_port = scheme == "https" ? 443 : 80;
  if (port != default_port && port != 0) out += ":" + std::to_string(port);
  return out;
}

std::string Url::ToString() const {
  return scheme + "://" + Authority() + (target.empty() ? "/" : target);
}

}  // namespace otlp::net
