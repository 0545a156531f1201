#include "otlp/exporter/retry.h"

#include <algorithm>
#include <cmath>

namespace otlp::exporter {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A tiny cursor over the date text.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool Done() const { return s_.empty(); }
  bool Lit(std::string_view lit) {
    if (s_.substr(0, lit.size()) != lit) return false;
    s_.remove_prefix(lit.size());
    return true;
  }
  void Spaces() {
    while (!s_.empty() && s_.front() == ' ') s_.remove_prefix(1);
  }
  // Exactly `min`..`max` digits.
  bool Num(int min, int max, int& out) {
    int n = 0;
    out = 0;
    while (n < max && n < static_cast<int>(s_.size()) && IsDigit(s_[n])) {
      out = out * 10 + (s_[n] - '0');
      ++n;
    }
    if (n < min) return false;
    s_.remove_prefix(n);
    return true;
  }
  // Letters up to the next non-letter.
  std::string_view Word() {
    size_t n = 0;
    while (n < s_.size() && ((s_[n] >= 'A' && s_[n] <= 'Z') || (s_[n] >= 'a' && s_[n] <= 'z'))) ++n;
    std::string_view w = s_.substr(0, n);
    s_.remove_prefix(n);
    return w;
  }

 private:
  std::string_view s_;
};

int MonthIndex(std::string_view m) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i)
    if (kMonths[i] == m) return i + 1;
  return 0;
}

bool IsDayName(std::string_view d, bool long_form) {
  static constexpr std::string_view kShort[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::string_view kLong[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                               "Friday", "Saturday", "Sunday"};
  for (int i = 0; i < 7; ++i)
    if ((long_form ? kLong[i] : kShort[i]) == d) return true;
  return false;
}

bool Time(Scanner& sc, int& h, int& m, int& s) {
  return sc.Num(2, 2, h) && sc.Lit(":") && sc.Num(2, 2, m) && sc.Lit(":") && sc.Num(2, 2, s) &&
         h < 24 && m < 60 && s < 61;
}

// RFC 9110 section 5.6.7: IMF-fixdate, RFC 850 and asctime. All in GMT.
std::optional<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view text) {
  Scanner sc(text);
  int day = 0, month = 0, year = 0, h = 0, mi = 0, s = 0;
  std::string_view first = sc.Word();
  if (sc.Lit(",")) {
    sc.Spaces();
    if (IsDayName(first, false)) {  // Sun, 06 Nov 1994 08:49:37 GMT
      if (!sc.Num(2, 2, day) || !sc.Lit(" ")) return std::nullopt;
      month = MonthIndex(sc.Word());
      if (!sc.Lit(" ") || !sc.Num(4, 4, year) || !sc.Lit(" ")) return std::nullopt;
    } else if (IsDayName(first, true)) {  // Sunday, 06-Nov-94 08:49:37 GMT
      if (!sc.Num(2, 2, day) || !sc.Lit("-")) return std::nullopt;
      month = MonthIndex(sc.Word());
      if (!sc.Lit("-") || !sc.Num(2, 2, year) || !sc.Lit(" ")) return std::nullopt;
      year += year < 70 ? 2000 : 1900;  // RFC 9110: interpret as the most recent past century
    } else {
      return std::nullopt;
    }
    if (!Time(sc, h, mi, s) || !sc.Lit(" GMT") || !sc.Done()) return std::nullopt;
  } else if (IsDayName(first, false) && sc.Lit(" ")) {  // Sun Nov  6 08:49:37 1994
    month = MonthIndex(sc.Word());
    if (!sc.Lit(" ")) return std::nullopt;
    sc.Spaces();
    if (!sc.Num(1, 2, day) || !sc.Lit(" ") || !Time(sc, h, mi, s) || !sc.Lit(" ") ||
        !sc.Num(4, 4, year) || !sc.Done()) {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  if (month == 0) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year(year),
                                  std::chrono::month(static_cast<unsigned>(month)),
                                  std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
         std::chrono::seconds(s);
}

}  // namespace

bool IsRetryableHttpStatus(int status) noexcept {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

bool HonoursRetryAfter(int status) noexcept {
  return status == 429 || status == 503;
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now) noexcept {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), IsDigit)) {
    // Delta-seconds; anything beyond a day is as good as "a day" (and never overflows).
    constexpr int64_t kMaxSeconds = 86400;
    int64_t secs = 0;
    for (char c : value) {
      secs = secs * 10 + (c - '0');
      if (secs > kMaxSeconds) {
        secs = kMaxSeconds;
        break;
      }
    }
    return std::chrono::seconds(secs);
  }
  auto when = ParseHttpDate(value);
  if (!when) return std::nullopt;
  if (*when <= now) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(*when - now);
}

std::chrono::milliseconds Backoff::NextBase() const noexcept {
  double base = static_cast<double>(policy_.initial_backoff.count()) *
                std::pow(std::max(policy_.multiplier, 1.0), retries_);
  base = std::min(base, static_cast<double>(policy_.max_backoff.count()));
  return std::chrono::milliseconds(static_cast<int64_t>(std::max(base, 0.0)));
}

std::chrono::milliseconds Backoff::Next() noexcept {
  double base = static_cast<double>(NextBase().count());
  ++retries_;
  double jitter = std::clamp(policy_.jitter, 0.0, 1.0);
  double factor = 1.0 - jitter + 2.0 * jitter * NextUnit();
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(base * factor)));
}

double Backoff::NextUnit() noexcept {
  // SplitMix64: small, fast, and good enough for jitter.
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

}  // namespace otlp::exporter
