// otlp/net/internal/retry_after.h — parsing the Retry-After response header (RFC 9110
// §10.2.3): a delay in seconds or an HTTP date, turned into how long to wait from `now`. Shared by
// the otlp::http retry policy and the OTLP exporter. Internal: not an API.
//
//   ParseRetryAfter("120", now)                            2 min
//   ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now)  that date minus now (0 if past)
//   ParseRetryAfter("soon", now)                           nullopt
//
// Accepted: delay-seconds (digits only, surrounding whitespace ignored), the IMF-fixdate and
// the two obsolete date forms recipients must still accept — RFC 850 ("Sunday, 06-Nov-94
// 08:49:37 GMT"; a two-digit year is taken in the century that puts it at most 50 years
// ahead of `now`) and asctime ("Sun Nov  6 08:49:37 1994"). A date in the past means "now"
// (zero); a date ahead is waited for to the millisecond, rounded up ("at 12:00:05" is not yet
// due at 12:00:04.9995). A negative number, a fraction, a date with an impossible day or time,
// or anything else is not a valid value: nullopt, and the caller falls back to its own
// backoff. Values beyond kMaxRetryAfter (a huge number of seconds, a date centuries ahead) are
// clamped to it, so adding the result to a time point cannot overflow; the callers' retry
// policies apply their own, much smaller caps.
//
// Threading: pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace otlp::net::internal {

inline constexpr std::chrono::seconds kMaxRetryAfter = std::chrono::hours(24 * 366);

std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now) noexcept;

// Parses an HTTP date in any of the three forms above; nullopt when it is not one.
std::optional<std::chrono::sys_seconds> ParseHttpDate(
    std::string_view text, std::chrono::system_clock::time_point now) noexcept;

}  // namespace otlp::net::internal
