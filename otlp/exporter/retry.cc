#include "otlp/exporter/retry.h"

#include <algorithm>
#include <cmath>

#include "otlp/net/internal/retry_after.h"

namespace otlp::exporter {

bool IsRetryableHttpStatus(int status) noexcept {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

bool HonoursRetryAfter(int status) noexcept {
  return status == 429 || status == 503;
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now) noexcept {
  return net::internal::ParseRetryAfter(value, now);
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
