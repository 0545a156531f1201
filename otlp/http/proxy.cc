#include "otlp/http/proxy.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

#include "otlp/core/internal/ascii.h"

namespace otlp::http {
namespace {

// A proxy URL from `text` (scheme http:// when none is given), for the message `source`.
Result<std::optional<net::Url>> ParseProxyUrl(std::string_view text, std::string_view source) {
  if (text.empty()) return std::optional<net::Url>();
  const size_t sep = text.find("://");
  if (sep != std::string_view::npos) {
    const std::string scheme = otlp::internal::AsciiLower(text.substr(0, sep));
    if (scheme != "http" && scheme != "https") {
      return InvalidArgumentError("unsupported proxy scheme '" + scheme + "' in " +
                                  std::string(source) + " (http:// and https:// proxies only)");
    }
  }
  Result<net::Url> url = net::Url::Parse(text, "http");
  if (!url.ok()) {
    return InvalidArgumentError("invalid proxy URL in " + std::string(source) + ": " +
                                url.status().message());
  }
  return std::optional<net::Url>(std::move(*url));
}

// The address of an IP host as 16 bytes (IPv4 mapped into ::ffff:0:0/96), and how many of the
// prefix bits belong to the mapping.
bool ParseAddress(const std::string& text, std::array<uint8_t, 16>& out, unsigned& mapped_bits) {
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    out = {};
    out[10] = 0xFF;
    out[11] = 0xFF;
    std::memcpy(out.data() + 12, &v4, 4);
    mapped_bits = 96;
    return true;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    mapped_bits = 0;
    return true;
  }
  return false;
}

bool PrefixEqual(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b,
                 unsigned bits) {
  const unsigned bytes = bits / 8;
  if (std::memcmp(a.data(), b.data(), bytes) != 0) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a[bytes] & mask) == (b[bytes] & mask);
}

bool ParsePort(std::string_view text, uint16_t& port) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return false;
  }
  port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace

void ProxyConfig::ParseNoProxy(std::string_view list) {
  while (!list.empty()) {
    const size_t end = list.find_first_of(", \t");
    std::string entry = otlp::internal::AsciiLower(list.substr(0, end));
    list = end == std::string_view::npos ? std::string_view() : list.substr(end + 1);
    if (entry.empty()) continue;
    if (entry == "*") {
      bypass_all_ = true;
      continue;
    }
    NoProxyEntry e;
    // Split off ":port": "[v6]:port", "host:port"; a bare IPv6 address has several colons.
    std::string host = entry;
    if (entry.front() == '[') {
      const size_t close = entry.find(']');
      if (close == std::string::npos) continue;
      host = entry.substr(1, close - 1);
      const std::string_view after = std::string_view(entry).substr(close + 1);
      if (!after.empty()) {
        if (after.front() != ':' || !ParsePort(after.substr(1), e.port)) continue;
      }
    } else if (const size_t colon = entry.rfind(':');
               colon != std::string::npos && entry.find(':') == colon) {
      if (!ParsePort(std::string_view(entry).substr(colon + 1), e.port)) continue;
      host = entry.substr(0, colon);
    }
    // CIDR "address/bits".
    unsigned bits = 128;
    bool has_bits = false;
    if (const size_t slash = host.find('/'); slash != std::string::npos) {
      const std::string_view b = std::string_view(host).substr(slash + 1);
      const auto [p, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
      if (ec != std::errc() || p != b.data() + b.size()) continue;
      host.resize(slash);
      has_bits = true;
    }
    unsigned mapped = 0;
    if (ParseAddress(host, e.address, mapped)) {
      const unsigned family_bits = mapped == 96 ? 32 : 128;
      if (!has_bits) bits = family_bits;
      if (bits > family_bits) continue;
      e.kind = NoProxyEntry::Kind::kAddress;
      e.prefix_bits = mapped + bits;
      no_proxy_.push_back(std::move(e));
      continue;
    }
    if (has_bits) continue;  // "name/8"
    std::string_view domain = host;
    if (domain.starts_with("*.")) domain.remove_prefix(1);
    while (domain.starts_with('.')) domain.remove_prefix(1);
    if (domain.empty()) continue;
    e.kind = NoProxyEntry::Kind::kDomain;
    e.domain = std::string(domain);
    no_proxy_.push_back(std::move(e));
  }
}

Result<ProxyConfig> ProxyConfig::FromEnvironment(const Environment& env) {
  const Environment get = env ? env : Environment([](const std::string& name) {
    const char* v = std::getenv(name.c_str());
    return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
  });
  // The lower-case name first; an empty value is unset. Returns the value and its name.
  const auto lookup = [&](const std::string& lower, const std::string& upper,
                          bool upper_allowed) -> std::pair<std::string, std::string> {
    if (auto v = get(lower); v && !v->empty()) return {*v, lower};
    if (upper_allowed) {
      if (auto v = get(upper); v && !v->empty()) return {*v, upper};
    }
    return {};
  };
  const auto request_method = get("REQUEST_METHOD");
  const bool cgi = request_method.has_value();
  const auto [http_text, http_var] = lookup("http_proxy", "HTTP_PROXY", !cgi);
  const auto [https_text, https_var] = lookup("https_proxy", "HTTPS_PROXY", true);
  const auto [all_text, all_var] = lookup("all_proxy", "ALL_PROXY", true);
  const auto [no_text, no_var] = lookup("no_proxy", "NO_PROXY", true);

  ProxyConfig config;
  OTLP_ASSIGN_OR_RETURN(std::optional<net::Url> all, ParseProxyUrl(all_text, all_var));
  OTLP_ASSIGN_OR_RETURN(config.http_, ParseProxyUrl(http_text, http_var));
  OTLP_ASSIGN_OR_RETURN(config.https_, ParseProxyUrl(https_text, https_var));
  if (!config.http_) config.http_ = all;
  if (!config.https_) config.https_ = all;
  config.ParseNoProxy(no_text);
  return config;
}

Result<ProxyConfig> ProxyConfig::Create(std::string_view http_proxy, std::string_view https_proxy,
                                        std::string_view no_proxy) {
  ProxyConfig config;
  OTLP_ASSIGN_OR_RETURN(config.http_, ParseProxyUrl(http_proxy, "the http proxy"));
  OTLP_ASSIGN_OR_RETURN(config.https_, ParseProxyUrl(https_proxy, "the https proxy"));
  config.ParseNoProxy(no_proxy);
  return config;
}

bool ProxyConfig::Bypasses(const net::Url& url) const {
  if (bypass_all_) return true;
  if (no_proxy_.empty()) return false;
  const std::string host = otlp::internal::AsciiLower(url.host);
  std::array<uint8_t, 16> address{};
  unsigned mapped = 0;
  const bool is_ip = ParseAddress(host, address, mapped);
  for (const NoProxyEntry& e : no_proxy_) {
    if (e.port != 0 && e.port != url.port) continue;
    if (e.kind == NoProxyEntry::Kind::kAddress) {
      if (is_ip && PrefixEqual(address, e.address, e.prefix_bits)) return true;
    } else if (!is_ip) {
      std::string_view h = host;
      while (h.ends_with('.')) h.remove_suffix(1);  // "example.com." is example.com
      if (h == e.domain || (h.size() > e.domain.size() && h.ends_with(e.domain) &&
                            h[h.size() - e.domain.size() - 1] == '.')) {
        return true;
      }
    }
  }
  return false;
}

std::optional<net::Url> ProxyConfig::ProxyFor(const net::Url& url) const {
  const std::optional<net::Url>& proxy = url.is_tls() ? https_ : http_;
  if (!proxy || Bypasses(url)) return std::nullopt;
  return proxy;
}

}  // namespace otlp::http
