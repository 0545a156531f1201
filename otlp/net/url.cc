#include "otlp/net/url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>

#include "otlp/core/internal/ascii.h"

namespace otlp::net {
namespace {

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// The URL as the message shows it: user info (which may hold a password) as "REDACTED".
std::string Redacted(std::string_view text) {
  const size_t sep = text.find("://");
  const size_t start = sep == std::string_view::npos ? 0 : sep + 3;
  const size_t end = std::min(text.find_first_of("/?#", start), text.size());
  const size_t at = text.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(text);
  std::string out(text.substr(0, start));
  out += "REDACTED";
  out += text.substr(at);
  return out;
}

Status Bad(std::string_view text, std::string_view why) {
  std::string msg = "invalid URL '";
  msg += Redacted(text);
  msg += "': ";
  msg += why;
  return InvalidArgumentError(std::move(msg));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 percent-decoding; false on a '%' not followed by two hex digits.
bool PercentDecode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = HexValue(in[i + 1]);
    const int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

constexpr std::string_view kSchemes = "http, https, ws, wss, nats or tls";

}  // namespace

uint16_t Url::DefaultPort(std::string_view scheme) noexcept {
  if (scheme == "http" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "wss") return 443;
  if (scheme == "nats" || scheme == "tls") return 4222;
  return 0;
}

Result<Url> Url::Parse(std::string_view text, std::string_view default_scheme) {
  if (text.find("://") != std::string_view::npos || default_scheme.empty() || text.empty()) {
    return Parse(text);
  }
  std::string full(default_scheme);
  full += "://";
  full += text;
  Result<Url> url = Parse(full);
  if (!url.ok()) {
    // Report the text as the caller wrote it.
    std::string message = url.status().message();
    const std::string quoted = "'" + Redacted(full) + "'";
    if (const size_t at = message.find(quoted); at != std::string::npos) {
      message.replace(at, quoted.size(), "'" + Redacted(text) + "'");
    }
    return InvalidArgumentError(std::move(message));
  }
  return url;
}

Result<Url> Url::Parse(std::string_view text) {
  if (text.empty()) return InvalidArgumentError("invalid URL: empty string");
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return Bad(text, "contains whitespace or control characters");
  }
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    return Bad(text, "missing scheme (expected e.g. http:// or https://)");
  }
  Url url;
  url.scheme = otlp::internal::AsciiLower(text.substr(0, sep));
  url.port = DefaultPort(url.scheme);
  if (url.port == 0) {
    return Bad(text,
               "unsupported scheme '" + url.scheme + "' (expected " + std::string(kSchemes) + ")");
  }

  std::string_view rest = text.substr(sep + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);

  // User info ends at the last '@' of the authority, so an unescaped '@' in a password still
  // parses (as browsers do).
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    if (!PercentDecode(userinfo.substr(0, colon), url.user)) {
      return Bad(text, "invalid percent-encoding in the user name");
    }
    if (colon != std::string_view::npos) {
      std::string password;
      if (!PercentDecode(userinfo.substr(colon + 1), password)) {
        return Bad(text, "invalid percent-encoding in the password");
      }
      url.password = std::move(password);
    }
  }
  if (authority.empty()) return Bad(text, "missing host");

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

namespace {

// Appends host (bracketed when IPv6) and ":port" unless it is the scheme's default.
void AppendAuthority(const Url& url, std::string& out) {
  const bool v6 = url.host.find(':') != std::string::npos;
  if (v6) out += '[';
  out += url.host;
  if (v6) out += ']';
  if (url.port != Url::DefaultPort(url.scheme) && url.port != 0) {
    char digits[8];
    const std::to_chars_result r = std::to_chars(digits, digits + sizeof digits, url.port);
    out += ':';
    out.append(digits, r.ptr);
  }
}

}  // namespace

std::string Url::Authority() const {
  std::string out;
  out.reserve(host.size() + 8);
  AppendAuthority(*this, out);
  return out;
}

std::string Url::ToString() const {
  // One allocation: this runs for every traced request (url.full).
  std::string out;
  out.reserve(scheme.size() + 3 + host.size() + 8 + std::max<size_t>(target.size(), 1));
  out += scheme;
  out += "://";
  AppendAuthority(*this, out);
  out += target.empty() ? std::string_view("/") : std::string_view(target);
  return out;
}

std::string Url::ToStringRedacted() const {
  if (!has_credentials()) return ToString();
  return scheme + "://" + (password ? "REDACTED:REDACTED@" : "REDACTED@") + Authority() +
         (target.empty() ? "/" : target);
}

}  // namespace otlp::net
