// otlp/http/proxy.h — which proxy a request goes through: from the conventional environment
// variables (as curl reads them) or given explicitly, with a NO_PROXY bypass list.
//
//   OTLP_ASSIGN_OR_RETURN(otlp::http::ProxyConfig proxies,
//                         otlp::http::ProxyConfig::FromEnvironment());
//   if (std::optional<otlp::net::Url> proxy = proxies.ProxyFor(url)) {
//     // connect to proxy->host:proxy->port; CONNECT for https, absolute-form for http
//   }
//
// Variables (an empty value counts as unset; the lower-case name wins over the upper-case one,
// as in curl):
//   http_proxy,  HTTP_PROXY    for http:// and ws:// URLs. HTTP_PROXY is ignored when
//                              REQUEST_METHOD is set: in a CGI program it comes from the
//                              request's "Proxy:" header ("httpoxy").
//   https_proxy, HTTPS_PROXY   for https:// and wss:// URLs.
//   all_proxy,   ALL_PROXY     for either, when the specific one is unset.
//   no_proxy,    NO_PROXY      hosts reached directly: a list separated by commas (or spaces)
//                              of "*" (every host), domain names ("example.com" and
//                              ".example.com" both match example.com and its subdomains; a
//                              leading "*." is read as "."), IP addresses, CIDR ranges
//                              ("10.0.0.0/8", "fd00::/8"), each optionally with ":port"
//                              ("example.com:8080", "[::1]:8080") to bypass only that port.
//                              Host names are not resolved: an IP entry matches IP hosts.
//                              Unparseable entries are skipped.
// A proxy URL without a scheme is taken as http:// ("proxy:3128"). http:// and https:// (TLS
// to the proxy) proxies are accepted; user info in the URL is the proxy's credentials. Any
// other scheme, or a malformed URL, is kInvalidArgument naming the variable.
//
// Threading: an immutable value after construction; ProxyFor may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/net/url.h"

namespace otlp::http {

class OTLP_EXPORT ProxyConfig {
 public:
  // Looks up one environment variable; nullopt when unset.
  using Environment = std::function<std::optional<std::string>(const std::string& name)>;

  // No proxy: every request goes direct.
  ProxyConfig() = default;

  // From the variables above; `env` empty: the process environment (getenv).
  static Result<ProxyConfig> FromEnvironment(const Environment& env = {});
  // Explicit proxies for http and https URLs ("" for none) and a NO_PROXY-style bypass list.
  static Result<ProxyConfig> Create(std::string_view http_proxy, std::string_view https_proxy,
                                    std::string_view no_proxy = {});

  // The proxy for a request to `url`, or nullopt to connect directly.
  std::optional<net::Url> ProxyFor(const net::Url& url) const;
  // True when `url` matches the bypass list.
  bool Bypasses(const net::Url& url) const;

  const std::optional<net::Url>& http_proxy() const noexcept { return http_; }
  const std::optional<net::Url>& https_proxy() const noexcept { return https_; }

 private:
  struct NoProxyEntry {
    enum class Kind : uint8_t { kDomain, kAddress } kind = Kind::kDomain;
    std::string domain;                 // kDomain: lower-case, without a leading '.'
    std::array<uint8_t, 16> address{};  // kAddress: IPv4 as IPv4-mapped IPv6
    unsigned prefix_bits = 128;
    uint16_t port = 0;  // 0: any port
  };
  void ParseNoProxy(std::string_view list);

  std::optional<net::Url> http_;
  std::optional<net::Url> https_;
  bool bypass_all_ = false;
  std::vector<NoProxyEntry> no_proxy_;
};

}  // namespace otlp::http
