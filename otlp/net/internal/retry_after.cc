#include "otlp/net/internal/retry_after.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "otlp/core/internal/ascii.h"

namespace otlp::net::internal {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::sys_seconds;

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDays = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A small cursor over the date text; every Take* consumes on success only.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  bool Done() const { return s_.empty(); }

  bool Literal(std::string_view lit) {
    if (s_.substr(0, lit.size()) != lit) return false;
    s_.remove_prefix(lit.size());
    return true;
  }

  // Exactly `n` digits.
  bool Digits(size_t n, int& out) {
    if (s_.size() < n) return false;
    int v = 0;
    for (size_t i = 0; i < n; ++i) {
      if (s_[i] < '0' || s_[i] > '9') return false;
      v = v * 10 + (s_[i] - '0');
    }
    out = v;
    s_.remove_prefix(n);
    return true;
  }

  // One of `names` (case-sensitive, as the grammar is); its index.
  template <size_t N>
  bool OneOf(const std::array<std::string_view, N>& names, int& index) {
    for (size_t i = 0; i < N; ++i) {
      if (Literal(names[i])) {
        index = static_cast<int>(i);
        return true;
      }
    }
    return false;
  }

  // "HH:MM:SS".
  bool Time(int& h, int& m, int& sec) {
    return Digits(2, h) && Literal(":") && Digits(2, m) && Literal(":") && Digits(2, sec);
  }

 private:
  std::string_view s_;
};

std::optional<sys_seconds> Build(int year, int month_index, int day, int h, int m, int s) {
  // RFC 9110 allows a leap second (60).
  if (h > 23 || m > 59 || s > 60) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(year),
                                        std::chrono::month(static_cast<unsigned>(month_index + 1)),
                                        std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return std::nullopt;
  return sys_seconds(std::chrono::sys_days(ymd)) + std::chrono::hours(h) + std::chrono::minutes(m) +
         seconds(s);
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<sys_seconds> ParseImfFixdate(std::string_view text) {
  Cursor c(text);
  int wd = 0, day = 0, mon = 0, year = 0, h = 0, m = 0, s = 0;
  if (c.OneOf(kDays, wd) && c.Literal(", ") && c.Digits(2, day) && c.Literal(" ") &&
      c.OneOf(kMonths, mon) && c.Literal(" ") && c.Digits(4, year) && c.Literal(" ") &&
      c.Time(h, m, s) && c.Literal(" GMT") && c.Done()) {
    return Build(year, mon, day, h, m, s);
  }
  return std::nullopt;
}

// "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<sys_seconds> ParseRfc850(std::string_view text, sys_seconds now) {
  Cursor c(text);
  int wd = 0, day = 0, mon = 0, yy = 0, h = 0, m = 0, s = 0;
  if (!(c.OneOf(kLongDays, wd) && c.Literal(", ") && c.Digits(2, day) && c.Literal("-") &&
        c.OneOf(kMonths, mon) && c.Literal("-") && c.Digits(2, yy) && c.Literal(" ") &&
        c.Time(h, m, s) && c.Literal(" GMT") && c.Done())) {
    return std::nullopt;
  }
  // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is the most recent
  // past year with those last two digits.
  const int now_year = static_cast<int>(
      std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(now)).year());
  int year = now_year - now_year % 100 + yy;
  if (year > now_year + 50) year -= 100;
  return Build(year, mon, day, h, m, s);
}

// "Sun Nov  6 08:49:37 1994" (the day padded with a space, or two digits).
std::optional<sys_seconds> ParseAsctime(std::string_view text) {
  Cursor c(text);
  int wd = 0, mon = 0, day = 0, year = 0, h = 0, m = 0, s = 0;
  if (!(c.OneOf(kDays, wd) && c.Literal(" ") && c.OneOf(kMonths, mon) && c.Literal(" "))) {
    return std::nullopt;
  }
  if (!(c.Literal(" ") ? c.Digits(1, day) : c.Digits(2, day))) return std::nullopt;
  if (c.Literal(" ") && c.Time(h, m, s) && c.Literal(" ") && c.Digits(4, year) && c.Done()) {
    return Build(year, mon, day, h, m, s);
  }
  return std::nullopt;
}

}  // namespace

std::optional<sys_seconds> ParseHttpDate(std::string_view text,
                                         std::chrono::system_clock::time_point now) noexcept {
  text = Trim(text);
  if (auto t = ParseImfFixdate(text)) return t;
  if (auto t = ParseRfc850(text, std::chrono::floor<seconds>(now))) return t;
  return ParseAsctime(text);
}

std::optional<milliseconds> ParseRetryAfter(std::string_view value,
                                            std::chrono::system_clock::time_point now) noexcept {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (value.front() >= '0' && value.front() <= '9') {
    int64_t secs = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return std::nullopt;  // "1.5", "10s", "1 2"
      if (secs < kMaxRetryAfter.count()) secs = secs * 10 + (c - '0');
    }
    return std::min<milliseconds>(seconds(secs), kMaxRetryAfter);
  }
  const std::optional<sys_seconds> when = ParseHttpDate(value, now);
  if (!when) return std::nullopt;
  // Compared in whole seconds first: a date centuries away does not fit in nanoseconds.
  const seconds ahead = *when - std::chrono::floor<seconds>(now);
  if (ahead > kMaxRetryAfter) return kMaxRetryAfter;
  if (ahead <= seconds::zero()) return milliseconds::zero();
  return std::chrono::ceil<milliseconds>(*when - now);
}

}  // namespace otlp::net::internal
