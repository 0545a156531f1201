#include "otlp/http/retry.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace otlp::http {

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

}  // namespace otlp::http
