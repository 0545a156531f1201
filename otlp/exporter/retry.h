// otlp/exporter/retry.h — when and how long an OTLP exporter waits before trying a request
// again: the retry policy, exponential backoff with jitter, the retryable HTTP status codes and
// the Retry-After header.
//
//   otlp::exporter::Backoff backoff(RetryPolicy{}, /*seed=*/42);
//   std::chrono::milliseconds d1 = backoff.Next();   // ~500 ms ± 20 %
//   std::chrono::milliseconds d2 = backoff.Next();   // ~1 s ± 20 %
//   auto wait = ParseRetryAfter("120", std::chrono::system_clock::now());   // 120 s
//
// The OTLP rules (opentelemetry-proto specification): HTTP 429, 502, 503 and 504 and a
// connection lost without a response are retried with exponential backoff and jitter; every
// other status is final. For 429 and 503 a Retry-After header (delta-seconds or an HTTP-date)
// replaces the computed backoff, capped at RetryPolicy::max_retry_after. Whatever the policy
// says, an exporter never waits past its export timeout: it gives up instead.
//
// Thread-safety: the functions are pure; a Backoff is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace otlp::exporter {

struct RetryPolicy {
  // Attempts per batch, the first one included (1 disables retries).
  int max_attempts = 5;
  // Delay before the first retry; each further retry multiplies it by `multiplier`, up to
  // `max_backoff`. Each delay is then scaled by a random factor in [1 - jitter, 1 + jitter].
  std::chrono::milliseconds initial_backoff{500};
  double multiplier = 2.0;
  std::chrono::milliseconds max_backoff{5000};
  double jitter = 0.2;
  // Longest server-requested delay (Retry-After) honoured; longer requests are capped.
  std::chrono::milliseconds max_retry_after{30000};
};

// True for the HTTP statuses OTLP retries: 429, 502, 503, 504.
bool IsRetryableHttpStatus(int status) noexcept;
// True when a Retry-After header on this status should be honoured (429 and 503).
bool HonoursRetryAfter(int status) noexcept;

// Parses a Retry-After value: delta-seconds ("120") or an HTTP-date (IMF-fixdate
// "Sun, 06 Nov 1994 08:49:37 GMT", and the obsolete RFC 850 and asctime forms). A date in the
// past gives zero, one ahead the time left rounded up to the millisecond; values are clamped to
// a year. nullopt when the value is malformed (then the normal backoff applies). The same
// parser as otlp::http's retry policy.
std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now) noexcept;

// Exponential backoff with jitter for one batch: Next() returns the delay before retry 1, 2, …
// Deterministic for a given seed (tests), cheap to create (a 64-bit generator state).
class Backoff {
 public:
  Backoff(const RetryPolicy& policy, uint64_t seed) noexcept : policy_(policy), state_(seed) {}

  // The delay before the next retry: min(initial × multiplier^n, max_backoff), scaled by the
  // jitter factor. Always ≥ 0.
  std::chrono::milliseconds Next() noexcept;
  // The un-jittered delay the next call to Next() is centred on.
  std::chrono::milliseconds NextBase() const noexcept;
  int retries() const noexcept { return retries_; }

 private:
  double NextUnit() noexcept;  // uniform in [0, 1)
  RetryPolicy policy_;
  uint64_t state_;
  int retries_ = 0;
};

}  // namespace otlp::exporter
