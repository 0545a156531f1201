// otlp/http/metrics.h — `http.client.request.duration`, measured now and kept in this process
// until otlp-cpp has a metrics module to export it (then the same measurements feed it; until
// then read them with Snapshot()).
//
//   auto metrics = std::make_shared<otlp::http::RequestDurationHistogram>();
//   otlp::http::Client client = *otlp::http::Client::Create({.metrics = metrics});
//   ...
//   for (const auto& point : metrics->Snapshot())
//     std::cout << point.method << " " << point.status_code << ": " << point.count << "\n";
//
// The instrument follows the stable HTTP semantic conventions: a histogram in seconds with the
// explicit bucket boundaries kBoundaries, one measurement per attempt (its value is the
// attempt's span duration), one point per distinct attribute set: http.request.method,
// http.response.status_code, error.type, server.address, server.port, network.protocol.version.
// Clients without their own histogram record into DefaultRequestDurationHistogram().
//
// Threading: thread-safe (one mutex, held for a map lookup and a few additions per request).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/core/export.h"

namespace otlp::http {

// The attributes of one measurement. status_code 0 and an empty error_type mean absent.
struct OTLP_EXPORT DurationAttributes {
  std::string method{};
  int status_code = 0;
  std::string error_type{};
  std::string server_address{};
  int server_port = 0;
  std::string protocol_version{};
  friend bool operator==(const DurationAttributes&, const DurationAttributes&) = default;
  friend auto operator<=>(const DurationAttributes&, const DurationAttributes&) = default;
};

struct OTLP_EXPORT DurationPoint {
  DurationAttributes attributes{};
  uint64_t count = 0;
  double sum = 0;  // seconds
  double min = 0;
  double max = 0;
  // kBoundaries.size() + 1 counts: bucket i holds values in (boundary[i-1], boundary[i]].
  std::vector<uint64_t> bucket_counts{};
};

class OTLP_EXPORT RequestDurationHistogram {
 public:
  static constexpr std::string_view kName = "http.client.request.duration";
  static constexpr std::string_view kUnit = "s";
  static constexpr std::array<double, 14> kBoundaries = {
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10};

  void Record(const DurationAttributes& attributes, double seconds);
  // Every point recorded so far (cumulative), ordered by attributes.
  std::vector<DurationPoint> Snapshot() const;
  void Reset();

 private:
  mutable std::mutex mu_;
  std::vector<DurationPoint> points_;  // sorted by attributes; under mu_
};

// The process-wide histogram clients record into by default (never destroyed).
OTLP_EXPORT RequestDurationHistogram& DefaultRequestDurationHistogram();

}  // namespace otlp::http
