// otlp/http/cookies.h — a cookie jar (RFC 6265): stores the cookies of Set-Cookie response
// headers and gives the Cookie header for later requests, with the RFC's domain, path, expiry
// and Secure rules.
//
//   otlp::http::CookieJar jar;
//   // response to https://shop.example.com/cart/add carried this Set-Cookie:
//   jar.SetCookie(response_url, "sid=abc123; Path=/; Domain=example.com; Secure; HttpOnly")
//       .IgnoreError();  // a rejected cookie is only worth a debug log
//   // a later request to https://www.example.com/ sends "Cookie: sid=abc123":
//   std::string cookie = jar.CookieHeader(next_url);
//
// Rules applied (RFC 6265 §5.2–5.4, and from RFC 6265bis where it tightened them):
// - Max-Age wins over Expires; Max-Age ≤ 0 or a past Expires deletes the cookie; an expiry is
//   capped at 400 days from now (6265bis); without either the cookie lasts as long as the jar.
// - Without Domain the cookie is host-only (sent to the exact host). Domain=example.com makes it
//   a domain cookie (the host and its subdomains) if the request host domain-matches it; a
//   domain it does not match, or a single-label domain like "com" (the jar's public-suffix rule:
//   it has no public suffix list), rejects the cookie. An IP-address host only sets host-only
//   cookies.
// - Without a Path attribute (or with one not starting with '/'), the path is the request
//   path's directory (the default-path rule).
// - Secure cookies are sent only over https/wss, and (6265bis) only accepted from them; a
//   cookie from http may not replace a Secure one.
// - A cookie replaces the stored one with the same name, domain and path, keeping its creation
//   time. The Cookie header lists cookies with longer paths first, then earlier-created first.
// - Limits: name + value at most 4096 bytes; 180 cookies per domain and 3000 in all, the
//   earliest-created evicted first.
// A Set-Cookie value that is ignored (no '=' in the first pair, an empty name, control
// characters, a rejected domain...) leaves the jar unchanged and returns kInvalidArgument
// saying why; clients log or drop that status.
//
// Threading: thread-safe; every method may be called from any thread at any time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/net/url.h"

namespace otlp::http {

enum class SameSite : uint8_t { kDefault, kStrict, kLax, kNone };

struct OTLP_EXPORT Cookie {
  std::string name{};
  std::string value{};
  std::string domain{};  // lower-case, without a leading '.'
  std::string path{};
  bool host_only = true;
  bool secure = false;
  bool http_only = false;
  SameSite same_site = SameSite::kDefault;
  // nullopt: a session cookie (kept as long as the jar).
  std::optional<std::chrono::sys_seconds> expires{};
  std::chrono::system_clock::time_point creation{};
};

class OTLP_EXPORT CookieJar {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // `clock` gives "now" for expiry (tests inject one); empty: the system clock.
  explicit CookieJar(Clock clock = {});
  ~CookieJar();
  CookieJar(const CookieJar&) = delete;
  CookieJar& operator=(const CookieJar&) = delete;

  // Applies one Set-Cookie header value received in the response to `request_url`.
  Status SetCookie(const net::Url& request_url, std::string_view set_cookie);
  // The Cookie header value for a request to `url`: "a=1; b=2", or "" when no cookie applies.
  std::string CookieHeader(const net::Url& url) const;

  // The unexpired cookies, in storage order (for inspection and tests).
  std::vector<Cookie> Cookies() const;
  size_t size() const;
  void Clear();

  static constexpr size_t kMaxNameValueBytes = 4096;
  static constexpr size_t kMaxPerDomain = 180;
  static constexpr size_t kMaxCookies = 3000;
  static constexpr std::chrono::hours kMaxAge{24 * 400};

 private:
  struct State;  // the cookies, under a mutex (cookies.cc)
  std::unique_ptr<State> state_;
};

// Parses an RFC 6265 §5.1.1 cookie date ("Wed, 21 Oct 2015 07:28:00 GMT" and the many forms
// servers send); nullopt when it is not one.
OTLP_EXPORT std::optional<std::chrono::sys_seconds> ParseCookieDate(std::string_view text);

}  // namespace otlp::http
