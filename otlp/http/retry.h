// otlp/http/retry.h — when otlp::http sends a request again, and how long it waits first.
//
//   otlp::http::Client::Options options;
//   options.retry = {.max_attempts = 4, .initial_backoff = std::chrono::milliseconds(200)};
//   // Also for POST, and for 500 as well as the defaults:
//   options.retry.methods.push_back("POST");
//   options.retry.statuses.push_back(500);
//   // Per request: Request::Get(url).With(otlp::http::RetryPolicy::Disabled());
//
// An attempt is retried when it fails with a retryable transport error (Status::retryable():
// connection lost, timeout, refused) or answers one of `statuses`, and its method is one of
// `methods` (the idempotent ones by default). A connection failure before any byte of the
// request was sent (refused, DNS failure, connect timeout) is retried for every method.
// The wait before retry n (n = 1, 2, ...) is "full jitter": a uniform random duration in
// [0, min(max_backoff, initial_backoff × multiplier^(n-1))]. A Retry-After header on the
// response (delta-seconds or an HTTP-date, in any of RFC 9110's three date forms) replaces it;
// a Retry-After longer than `max_retry_after` is not waited for: the response is returned as it
// is. No wait goes past the request's timeout: then the last outcome is returned. Waiting never blocks an I/O thread (it
// is a timer of the client's runtime).
//
// Threading: a value type; the functions are pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/status.h"

namespace otlp::http {

struct OTLP_EXPORT RetryPolicy {
  // Attempts per request, the first included: 1 disables retries.
  int max_attempts = 3;
  std::chrono::milliseconds initial_backoff{100};
  double multiplier = 2.0;
  std::chrono::milliseconds max_backoff{10000};
  // Longest Retry-After waited for.
  std::chrono::milliseconds max_retry_after{60000};
  bool honour_retry_after = true;
  // Methods retried after a response in `statuses` or a retryable error (case-sensitive).
  std::vector<std::string> methods = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"};
  std::vector<int> statuses = {429, 502, 503, 504};
  // Retry connection failures where nothing was sent, whatever the method.
  bool retry_connect_failures = true;

  // max_attempts = 1.
  static RetryPolicy Disabled() { return RetryPolicy{.max_attempts = 1}; }

  // Checks the values: kInvalidArgument for max_attempts < 1, negative durations or a
  // multiplier below 1.
  Status Validate() const;

  bool RetriesMethod(std::string_view method) const noexcept;
  bool RetriesStatus(int status) const noexcept;
  // The un-jittered ceiling of the wait before retry `retry` (1-based):
  // min(max_backoff, initial_backoff × multiplier^(retry-1)).
  std::chrono::milliseconds BackoffCeiling(int retry) const noexcept;
  // The wait before retry `retry` given `unit`, a random number in [0, 1): the ceiling × unit.
  std::chrono::milliseconds Backoff(int retry, double unit) const noexcept;
};

}  // namespace otlp::http
