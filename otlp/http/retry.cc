#include "otlp/http/retry.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>

namespace otlp::http {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits on spaces, dropping empty pieces (asctime pads single-digit days with a space).
std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::optional<int> Number(std::string_view s) {
  if (s.empty() || s.size() > 4 || !std::all_of(s.begin(), s.end(), IsDigit)) return std::nullopt;
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

std::optional<int> Month(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (s == kMonths[i]) return static_cast<int>(i);
  }
  return std::nullopt;
}

// "HH:MM:SS"
bool ParseClock(std::string_view s, std::tm& tm) {
  if (s.size() != 8 || s[2] != ':' || s[5] != ':') return false;
  auto h = Number(s.substr(0, 2)), m = Number(s.substr(3, 2)), sec = Number(s.substr(6, 2));
  if (!h || !m || !sec || *h > 23 || *m > 59 || *sec > 60) return false;
  tm.tm_hour = *h;
  tm.tm_min = *m;
  tm.tm_sec = *sec;
  return true;
}

// The three forms of RFC 9110 §5.6.7:
//   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
//   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"
//   asctime      "Sun Nov  6 08:49:37 1994"
std::optional<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view text) {
  const std::vector<std::string_view> w = Words(text);
  std::tm tm{};
  std::optional<int> day, month, year;
  if (w.size() == 6 && w[0].ends_with(',') && w[5] == "GMT") {
    day = Number(w[1]);
    month = Month(w[2]);
    year = Number(w[3]);
    if (!year || w[3].size() != 4 || !ParseClock(w[4], tm)) return std::nullopt;
  } else if (w.size() == 4 && w[0].ends_with(',') && w[3] == "GMT") {
    const std::string_view date = w[1];  // DD-Mon-YY
    if (date.size() != 9 || date[2] != '-' || date[6] != '-') return std::nullopt;
    day = Number(date.substr(0, 2));
    month = Month(date.substr(3, 3));
    year = Number(date.substr(7, 2));
    // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
    if (year) *year += *year < 70 ? 2000 : 1900;
    if (!ParseClock(w[2], tm)) return std::nullopt;
  } else if (w.size() == 5) {
    month = Month(w[1]);
    day = Number(w[2]);
    year = Number(w[4]);
    if (w[4].size() != 4 || !ParseClock(w[3], tm)) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (!day || !month || !year || *day < 1 || *day > 31) return std::nullopt;
  tm.tm_mday = *day;
  tm.tm_mon = *month;
  tm.tm_year = *year - 1900;
  const time_t t = timegm(&tm);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

}  // namespace

Status RetryPolicy::Validate() const {
  if (max_attempts < 1) {
    return InvalidArgumentError("RetryPolicy: max_attempts must be at least 1 (got " +
                                std::to_string(max_attempts) + ")");
  }
  if (initial_backoff.count() < 0 || max_backoff.count() < 0 || max_retry_after.count() < 0) {
    return InvalidArgumentError("RetryPolicy: backoff durations must not be negative");
  }
  if (!(multiplier >= 1.0) || !std::isfinite(multiplier)) {
    return InvalidArgumentError("RetryPolicy: multiplier must be a finite number >= 1");
  }
  return Status::Ok();
}

bool RetryPolicy::RetriesMethod(std::string_view method) const noexcept {
  return std::find(methods.begin(), methods.end(), method) != methods.end();
}

bool RetryPolicy::RetriesStatus(int status) const noexcept {
  return std::find(statuses.begin(), statuses.end(), status) != statuses.end();
}

std::chrono::milliseconds RetryPolicy::BackoffCeiling(int retry) const noexcept {
  const double cap = static_cast<double>(std::max<int64_t>(max_backoff.count(), 0));
  double ms = static_cast<double>(std::max<int64_t>(initial_backoff.count(), 0)) *
              std::pow(std::max(multiplier, 1.0), std::max(retry - 1, 0));
  if (!(ms <= cap)) ms = cap;  // also catches inf and NaN
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

std::chrono::milliseconds RetryPolicy::Backoff(int retry, double unit) const noexcept {
  unit = std::clamp(unit, 0.0, 1.0);
  const double ms = static_cast<double>(BackoffCeiling(retry).count()) * unit;
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now) noexcept {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), IsDigit)) {
    // Past a day, "a day" is as good (and the sum cannot overflow).
    int64_t seconds = 0;
    for (char c : value) {
      seconds = std::min<int64_t>(seconds * 10 + (c - '0'), 86400);
    }
    return std::chrono::seconds(seconds);
  }
  const auto when = ParseHttpDate(value);
  if (!when) return std::nullopt;
  if (*when <= now) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(*when - now);
}

}  // namespace otlp::http
