#include "otlp/http/cookies.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "otlp/core/internal/ascii.h"
#include "otlp/core/internal/mutex.h"

namespace otlp::http {
namespace {

using otlp::internal::AsciiLower;
using otlp::internal::EqualsIgnoreCase;
using std::chrono::sys_seconds;

std::string_view TrimWsp(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7F;
  });
}

bool IsIpAddress(const std::string& host) {
  in6_addr v6{};
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

// RFC 6265 §5.1.3.
bool DomainMatch(std::string_view host, std::string_view domain, bool host_is_ip) {
  if (host == domain) return true;
  return !host_is_ip && host.size() > domain.size() && host.ends_with(domain) &&
         host[host.size() - domain.size() - 1] == '.';
}

// RFC 6265 §5.1.4.
bool PathMatch(std::string_view request_path, std::string_view cookie_path) {
  if (request_path == cookie_path) return true;
  if (!request_path.starts_with(cookie_path)) return false;
  return cookie_path.ends_with('/') || request_path[cookie_path.size()] == '/';
}

std::string_view RequestPath(const net::Url& url) {
  std::string_view target = url.target;
  return target.substr(0, target.find_first_of("?#"));
}

// RFC 6265 §5.1.4 default-path.
std::string DefaultPath(std::string_view uri_path) {
  if (uri_path.empty() || uri_path.front() != '/') return "/";
  const size_t last = uri_path.rfind('/');
  if (last == 0) return "/";
  return std::string(uri_path.substr(0, last));
}

bool IsSecureScheme(std::string_view scheme) {
  return scheme == "https" || scheme == "wss";
}

// §5.1.1 delimiter: %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E.
bool IsDateDelimiter(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == 0x09 || (u >= 0x20 && u <= 0x2F) || (u >= 0x3B && u <= 0x40) ||
         (u >= 0x5B && u <= 0x60) || (u >= 0x7B && u <= 0x7E);
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// 1*`max` digits followed by nothing or a non-digit (the "*OCTET" tail of §5.1.1's grammar).
bool LeadingDigits(std::string_view& s, size_t min, size_t max, int& out) {
  size_t n = 0;
  int v = 0;
  while (n < s.size() && IsDigit(s[n])) {
    if (n == max) return false;
    v = v * 10 + (s[n] - '0');
    ++n;
  }
  if (n < min) return false;
  out = v;
  s.remove_prefix(n);
  return true;
}

// hms-time: 1*2DIGIT ":" 1*2DIGIT ":" 1*2DIGIT, then anything but a digit.
bool ParseTime(std::string_view token, int& h, int& m, int& s) {
  if (!LeadingDigits(token, 1, 2, h) || !token.starts_with(':')) return false;
  token.remove_prefix(1);
  if (!LeadingDigits(token, 1, 2, m) || !token.starts_with(':')) return false;
  token.remove_prefix(1);
  return LeadingDigits(token, 1, 2, s);
}

struct Parsed {
  Cookie cookie;
  std::optional<std::string> domain_attr;  // lower-cased, leading '.' removed
  std::optional<std::string> path_attr;
  std::optional<int64_t> max_age;
  std::optional<sys_seconds> expires_attr;
};

Status Ignored(std::string_view why) {
  return InvalidArgumentError("Set-Cookie ignored: " + std::string(why));
}

// RFC 6265 §5.2.
Result<Parsed> ParseSetCookie(std::string_view header) {
  Parsed p;
  const size_t semi = header.find(';');
  const std::string_view pair = header.substr(0, semi);
  const size_t eq = pair.find('=');
  if (eq == std::string_view::npos) return Ignored("no '=' in the name-value pair");
  const std::string_view name = TrimWsp(pair.substr(0, eq));
  const std::string_view value = TrimWsp(pair.substr(eq + 1));
  if (name.empty()) return Ignored("empty cookie name");
  if (HasControl(name) || HasControl(value)) {
    return Ignored("control characters in the cookie name or value");
  }
  if (name.size() + value.size() > CookieJar::kMaxNameValueBytes) {
    return Ignored("name and value longer than 4096 bytes");
  }
  p.cookie.name = std::string(name);
  p.cookie.value = std::string(value);

  std::string_view rest = semi == std::string_view::npos ? "" : header.substr(semi + 1);
  while (!rest.empty()) {
    const size_t next = rest.find(';');
    const std::string_view av = rest.substr(0, next);
    rest = next == std::string_view::npos ? "" : rest.substr(next + 1);
    const size_t av_eq = av.find('=');
    const std::string_view key = TrimWsp(av.substr(0, av_eq));
    const std::string_view val =
        av_eq == std::string_view::npos ? "" : TrimWsp(av.substr(av_eq + 1));
    if (EqualsIgnoreCase(key, "expires")) {
      if (auto t = ParseCookieDate(val)) p.expires_attr = *t;
    } else if (EqualsIgnoreCase(key, "max-age")) {
      // §5.2.2: a leading '-' or digit, then digits only; otherwise the attribute is ignored.
      std::string_view digits = val;
      const bool negative = digits.starts_with('-');
      if (negative) digits.remove_prefix(1);
      if (digits.empty() || !std::all_of(digits.begin(), digits.end(), IsDigit)) continue;
      int64_t seconds = 0;
      for (char c : digits) {
        if (seconds > int64_t{1} << 40) break;  // far beyond the 400-day cap already
        seconds = seconds * 10 + (c - '0');
      }
      p.max_age = negative ? -seconds : seconds;
    } else if (EqualsIgnoreCase(key, "domain")) {
      std::string_view d = val;
      if (d.starts_with('.')) d.remove_prefix(1);
      if (d.empty()) continue;  // §5.2.3: ignore an empty Domain
      p.domain_attr = AsciiLower(d);
    } else if (EqualsIgnoreCase(key, "path")) {
      // §5.2.4: an empty or relative path means the default path.
      if (val.empty() || val.front() != '/') {
        p.path_attr.reset();
      } else {
        p.path_attr = std::string(val);
      }
    } else if (EqualsIgnoreCase(key, "secure")) {
      p.cookie.secure = true;
    } else if (EqualsIgnoreCase(key, "httponly")) {
      p.cookie.http_only = true;
    } else if (EqualsIgnoreCase(key, "samesite")) {
      if (EqualsIgnoreCase(val, "strict")) {
        p.cookie.same_site = SameSite::kStrict;
      } else if (EqualsIgnoreCase(val, "lax")) {
        p.cookie.same_site = SameSite::kLax;
      } else if (EqualsIgnoreCase(val, "none")) {
        p.cookie.same_site = SameSite::kNone;
      } else {
        p.cookie.same_site = SameSite::kDefault;
      }
    }
    // Unknown attributes are ignored.
  }
  return p;
}

bool Expired(const Cookie& c, sys_seconds now) {
  return c.expires && *c.expires <= now;
}

}  // namespace

std::optional<sys_seconds> ParseCookieDate(std::string_view text) {
  std::optional<int> day, month, year;
  bool have_time = false;
  int hour = 0, minute = 0, second = 0;
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && IsDateDelimiter(text[i])) ++i;
    size_t j = i;
    while (j < text.size() && !IsDateDelimiter(text[j])) ++j;
    const std::string_view token = text.substr(i, j - i);
    i = j;
    if (token.empty()) continue;
    int h = 0, m = 0, s = 0;
    if (!have_time && ParseTime(token, h, m, s)) {
      have_time = true;
      hour = h;
      minute = m;
      second = s;
      continue;
    }
    std::string_view t = token;
    int v = 0;
    if (!day && LeadingDigits(t, 1, 2, v)) {
      day = v;
      continue;
    }
    if (!month && token.size() >= 3) {
      const std::string lower = AsciiLower(token.substr(0, 3));
      bool found = false;
      for (int k = 0; k < 12 && !found; ++k) {
        if (lower == kMonths[k]) {
          month = k + 1;
          found = true;
        }
      }
      if (found) continue;
    }
    t = token;
    if (!year && LeadingDigits(t, 2, 4, v)) {
      year = v;
      continue;
    }
  }
  if (!have_time || !day || !month || !year) return std::nullopt;
  int y = *year;
  if (y >= 70 && y <= 99) y += 1900;
  if (y >= 0 && y <= 69) y += 2000;
  if (*day < 1 || *day > 31 || y < 1601 || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year(y),
                                        std::chrono::month(static_cast<unsigned>(*month)),
                                        std::chrono::day(static_cast<unsigned>(*day))};
  if (!ymd.ok()) return std::nullopt;
  return sys_seconds(std::chrono::sys_days(ymd)) + std::chrono::hours(hour) +
         std::chrono::minutes(minute) + std::chrono::seconds(second);
}

struct CookieJar::State {
  struct Stored {
    Cookie cookie;
    uint64_t order;  // creation order: breaks ties between equal creation times
  };

  void Evict(const std::string& domain, sys_seconds now) OTLP_REQUIRES(mu) {
    std::erase_if(cookies, [&](const Stored& s) { return Expired(s.cookie, now); });
    const auto earliest = [](const Stored& a, const Stored& b) { return a.order < b.order; };
    while (std::count_if(cookies.begin(), cookies.end(), [&](const Stored& s) {
             return s.cookie.domain == domain;
           }) > static_cast<std::ptrdiff_t>(kMaxPerDomain)) {
      auto oldest = cookies.end();
      for (auto it = cookies.begin(); it != cookies.end(); ++it) {
        if (it->cookie.domain == domain && (oldest == cookies.end() || earliest(*it, *oldest))) {
          oldest = it;
        }
      }
      cookies.erase(oldest);
    }
    while (cookies.size() > kMaxCookies) {
      cookies.erase(std::min_element(cookies.begin(), cookies.end(), earliest));
    }
  }

  Clock clock;
  mutable internal::Mutex mu;
  std::vector<Stored> cookies OTLP_GUARDED_BY(mu);
  uint64_t next_order OTLP_GUARDED_BY(mu) = 0;
};

CookieJar::CookieJar(Clock clock) : state_(std::make_unique<State>()) {
  state_->clock = clock ? std::move(clock) : Clock([] { return std::chrono::system_clock::now(); });
}

CookieJar::~CookieJar() = default;

Status CookieJar::SetCookie(const net::Url& request_url, std::string_view set_cookie) {
  OTLP_ASSIGN_OR_RETURN(Parsed p, ParseSetCookie(set_cookie));
  const std::chrono::system_clock::time_point now_tp = state_->clock();
  const sys_seconds now = std::chrono::floor<std::chrono::seconds>(now_tp);
  Cookie& c = p.cookie;
  c.creation = now_tp;

  // §5.3 step 3: Max-Age wins over Expires. 6265bis caps either at 400 days.
  if (p.max_age) {
    c.expires = *p.max_age <= 0 ? sys_seconds::min()
                                : now + std::min(std::chrono::seconds(*p.max_age),
                                                 std::chrono::seconds(kMaxAge));
  } else if (p.expires_attr) {
    c.expires = std::min(*p.expires_attr, now + std::chrono::seconds(kMaxAge));
  }

  const std::string host = AsciiLower(request_url.host);
  const bool host_is_ip = IsIpAddress(host);
  if (p.domain_attr) {
    const std::string& domain = *p.domain_attr;
    // The jar has no public suffix list; a single-label domain ("com", "local") stands in for
    // one, as does any domain of an IP-address host. Such a Domain is acceptable only when it
    // is the request host itself, and then the cookie is host-only (§5.3 step 5).
    const bool public_suffix_like = domain.find('.') == std::string::npos;
    if (!DomainMatch(host, domain, host_is_ip)) {
      return Ignored("domain '" + domain + "' does not domain-match the request host '" + host +
                     "'");
    }
    if (public_suffix_like || host_is_ip) {
      if (domain != host) {
        return Ignored("domain '" + domain + "' is a public suffix");
      }
      c.host_only = true;
    } else {
      c.host_only = false;
    }
    c.domain = domain;
  } else {
    c.host_only = true;
    c.domain = host;
  }
  c.path = p.path_attr ? *p.path_attr : DefaultPath(RequestPath(request_url));

  const bool secure_origin = IsSecureScheme(request_url.scheme);
  if (c.secure && !secure_origin) {
    return Ignored("a Secure cookie from an insecure origin ('" + request_url.scheme + "')");
  }

  internal::MutexLock lock(state_->mu);
  auto& cookies = state_->cookies;
  const auto same = std::find_if(cookies.begin(), cookies.end(), [&](const State::Stored& s) {
    return s.cookie.name == c.name && s.cookie.domain == c.domain && s.cookie.path == c.path;
  });
  uint64_t order = state_->next_order++;
  if (same != cookies.end()) {
    if (same->cookie.secure && !secure_origin) {
      return Ignored("it would replace a Secure cookie from an insecure origin");
    }
    c.creation = same->cookie.creation;
    order = same->order;
    cookies.erase(same);
  }
  if (Expired(c, now)) return Status::Ok();  // a deletion
  const std::string domain = c.domain;
  cookies.push_back(State::Stored{std::move(c), order});
  state_->Evict(domain, now);
  return Status::Ok();
}

std::string CookieJar::CookieHeader(const net::Url& url) const {
  internal::MutexLock lock(state_->mu);
  if (state_->cookies.empty()) return {};  // the common case costs a lock and a load
  const sys_seconds now = std::chrono::floor<std::chrono::seconds>(state_->clock());
  const std::string host = AsciiLower(url.host);
  const bool host_is_ip = IsIpAddress(host);
  const std::string_view path = RequestPath(url);
  const std::string_view request_path = path.empty() ? "/" : path;
  const bool secure = IsSecureScheme(url.scheme);
  std::vector<const State::Stored*> matched;
  for (const State::Stored& s : state_->cookies) {
    const Cookie& c = s.cookie;
    if (Expired(c, now)) continue;
    if (c.host_only ? host != c.domain : !DomainMatch(host, c.domain, host_is_ip)) continue;
    if (!PathMatch(request_path, c.path)) continue;
    if (c.secure && !secure) continue;
    matched.push_back(&s);
  }
  // §5.4 step 2: longer paths first, then earlier creation.
  std::sort(matched.begin(), matched.end(), [](const State::Stored* a, const State::Stored* b) {
    if (a->cookie.path.size() != b->cookie.path.size()) {
      return a->cookie.path.size() > b->cookie.path.size();
    }
    if (a->cookie.creation != b->cookie.creation) return a->cookie.creation < b->cookie.creation;
    return a->order < b->order;
  });
  std::string header;
  for (const State::Stored* s : matched) {
    if (!header.empty()) header += "; ";
    header += s->cookie.name;
    header += '=';
    header += s->cookie.value;
  }
  return header;
}

std::vector<Cookie> CookieJar::Cookies() const {
  const sys_seconds now = std::chrono::floor<std::chrono::seconds>(state_->clock());
  internal::MutexLock lock(state_->mu);
  std::vector<Cookie> out;
  for (const State::Stored& s : state_->cookies) {
    if (!Expired(s.cookie, now)) out.push_back(s.cookie);
  }
  return out;
}

size_t CookieJar::size() const {
  return Cookies().size();
}

void CookieJar::Clear() {
  internal::MutexLock lock(state_->mu);
  state_->cookies.clear();
}

}  // namespace otlp::http
