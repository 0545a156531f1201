#include "otlp/http/metrics.h"

#include <algorithm>

namespace otlp::http {

void RequestDurationHistogram::Record(const DurationAttributes& attributes, double seconds) {
  if (!(seconds >= 0)) seconds = 0;  // a NaN or a clock step backwards
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(kBoundaries.begin(), kBoundaries.end(), seconds) - kBoundaries.begin());
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::lower_bound(
      points_.begin(), points_.end(), attributes,
      [](const DurationPoint& p, const DurationAttributes& a) { return p.attributes < a; });
  if (it == points_.end() || it->attributes != attributes) {
    DurationPoint point;
    point.attributes = attributes;
    point.bucket_counts.assign(kBoundaries.size() + 1, 0);
    point.min = seconds;
    point.max = seconds;
    it = points_.insert(it, std::move(point));
  }
  it->count += 1;
  it->sum += seconds;
  it->min = std::min(it->min, seconds);
  it->max = std::max(it->max, seconds);
  it->bucket_counts[bucket] += 1;
}

std::vector<DurationPoint> RequestDurationHistogram::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return points_;
}

void RequestDurationHistogram::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  points_.clear();
}

RequestDurationHistogram& DefaultRequestDurationHistogram() {
  // Never destroyed: clients may still record while static destructors run at exit.
  static auto* histogram = new RequestDurationHistogram();
  return *histogram;
}

}  // namespace otlp::http
