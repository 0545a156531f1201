// otlp/exporter/otlp_metrics_decoder.h — reads OTLP ExportMetricsServiceRequest bodies
// (protobuf or OTLP/JSON, optionally gzip-compressed) back into resources, scopes, metrics and
// their data points, owning their memory: what a test collector or a metrics receiver needs.
//
//   using namespace otlp::exporter;
//   Result<decoded::MetricsRequest> req =
//       DecodeMetricsRequest(body, OtlpEncoding::kProtobuf, /*gzip=*/false);
//   if (!req.ok()) { ... }      // kInvalidArgument (400) or kResourceExhausted (413)
//   for (const decoded::ResourceMetrics& rm : req->resource_metrics)
//     for (const decoded::ScopeMetrics& sm : rm.scope_metrics)
//       for (const decoded::Metric& m : sm.metrics)
//         if (const auto* sum = std::get_if<decoded::Sum>(&m.data)) Store(m.name, *sum);
//   if (!req->rejection.empty()) { /* partial_success{rejected_data_points, rejection} */ }
//
// What is accepted and refused: as for traces (otlp_decoder.h) — the proto3 wire format with
// unknown fields skipped and repeated scalars accepted packed or not; OTLP/JSON with
// lowerCamelCase keys, enums as integers, 64-bit integers as numbers or decimal strings, doubles
// as numbers or "NaN", "Infinity", "-Infinity"; failures name the field path and the byte offset
// or the JSON line and column ("resource_metrics[0].scope_metrics[0].metrics[2].histogram.
// data_points[0].bucket_counts: truncated fixed64 value (at byte 91)"); DecodeLimits bound the
// body size, the decoded size and AnyValue nesting.
//
// Left out: exemplars (NumberDataPoint, HistogramDataPoint and ExponentialHistogramDataPoint
// field `exemplars`) are skipped like unknown fields; Resource entity_refs likewise.
//
// Invalid metrics. The metrics data model makes a metric's name required. A metric without one
// is well-formed data, so the request still decodes: the metric is left out, its data points are
// counted in `rejected_data_points` and the metric is described in `rejection` (a receiver
// answers partial success; a nameless metric without data points leaves the count at 0 with a
// message, which OTLP reads as a warning). Nothing else is judged: a data point's values are
// kept as received (an unspecified aggregation temporality, bucket counts that do not match the
// bounds, a count below the sum of the buckets).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/exporter/otlp_decoder.h"

namespace otlp::exporter {

namespace decoded {

// metrics.v1.DataPointFlags: bit 0 marks a point with no recorded value (a staleness marker).
inline constexpr uint32_t kDataPointNoRecordedValue = 1;

// metrics.v1.NumberDataPoint, of a gauge or a sum.
struct NumberDataPoint {
  std::vector<KeyValue> attributes;
  uint64_t start_time_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  // as_int or as_double; std::monostate when neither is set.
  std::variant<std::monostate, int64_t, double> value;
  uint32_t flags = 0;
  friend bool operator==(const NumberDataPoint&, const NumberDataPoint&) = default;
};

// metrics.v1.HistogramDataPoint.
struct HistogramDataPoint {
  std::vector<KeyValue> attributes;
  uint64_t start_time_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  uint64_t count = 0;
  std::optional<double> sum;
  std::vector<uint64_t> bucket_counts;  // explicit_bounds.size() + 1 of them, when well-formed
  std::vector<double> explicit_bounds;
  uint32_t flags = 0;
  std::optional<double> min;
  std::optional<double> max;
  friend bool operator==(const HistogramDataPoint&, const HistogramDataPoint&) = default;
};

// metrics.v1.ExponentialHistogramDataPoint.Buckets: bucket_counts[i] counts the values in
// bucket offset + i.
struct ExponentialBuckets {
  int32_t offset = 0;
  std::vector<uint64_t> bucket_counts;
  friend bool operator==(const ExponentialBuckets&, const ExponentialBuckets&) = default;
};

// metrics.v1.ExponentialHistogramDataPoint.
struct ExponentialHistogramDataPoint {
  std::vector<KeyValue> attributes;
  uint64_t start_time_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  uint64_t count = 0;
  std::optional<double> sum;
  int32_t scale = 0;
  uint64_t zero_count = 0;
  ExponentialBuckets positive;
  ExponentialBuckets negative;
  uint32_t flags = 0;
  std::optional<double> min;
  std::optional<double> max;
  double zero_threshold = 0;
  friend bool operator==(const ExponentialHistogramDataPoint&,
                         const ExponentialHistogramDataPoint&) = default;
};

// metrics.v1.SummaryDataPoint.ValueAtQuantile.
struct ValueAtQuantile {
  double quantile = 0;
  double value = 0;
  friend bool operator==(const ValueAtQuantile&, const ValueAtQuantile&) = default;
};

// metrics.v1.SummaryDataPoint.
struct SummaryDataPoint {
  std::vector<KeyValue> attributes;
  uint64_t start_time_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  uint64_t count = 0;
  double sum = 0;
  std::vector<ValueAtQuantile> quantile_values;
  uint32_t flags = 0;
  friend bool operator==(const SummaryDataPoint&, const SummaryDataPoint&) = default;
};

// metrics.v1.AggregationTemporality: 0 unspecified, 1 delta, 2 cumulative (other values are kept
// as received).
struct Gauge {
  std::vector<NumberDataPoint> data_points;
  friend bool operator==(const Gauge&, const Gauge&) = default;
};
struct Sum {
  std::vector<NumberDataPoint> data_points;
  int32_t aggregation_temporality = 0;
  bool is_monotonic = false;
  friend bool operator==(const Sum&, const Sum&) = default;
};
struct Histogram {
  std::vector<HistogramDataPoint> data_points;
  int32_t aggregation_temporality = 0;
  friend bool operator==(const Histogram&, const Histogram&) = default;
};
struct ExponentialHistogram {
  std::vector<ExponentialHistogramDataPoint> data_points;
  int32_t aggregation_temporality = 0;
  friend bool operator==(const ExponentialHistogram&, const ExponentialHistogram&) = default;
};
struct Summary {
  std::vector<SummaryDataPoint> data_points;
  friend bool operator==(const Summary&, const Summary&) = default;
};

// metrics.v1.Metric.
struct Metric {
  std::string name;  // not empty: metrics without a name are rejected
  std::string description;
  std::string unit;
  std::vector<KeyValue> metadata;
  // The `data` oneof, in the order of its field numbers; std::monostate when none is set.
  std::variant<std::monostate, Gauge, Sum, Histogram, ExponentialHistogram, Summary> data;

  size_t data_point_count() const noexcept {
    return std::visit(
        [](const auto& d) -> size_t {
          if constexpr (std::is_same_v<std::decay_t<decltype(d)>, std::monostate>) {
            return 0;
          } else {
            return d.data_points.size();
          }
        },
        data);
  }
  friend bool operator==(const Metric&, const Metric&) = default;
};

struct ScopeMetrics {
  Scope scope;
  std::vector<Metric> metrics;
  std::string schema_url;
  friend bool operator==(const ScopeMetrics&, const ScopeMetrics&) = default;
};

struct ResourceMetrics {
  Resource resource;
  std::vector<ScopeMetrics> scope_metrics;
  std::string schema_url;
  friend bool operator==(const ResourceMetrics&, const ResourceMetrics&) = default;
};

// collector.metrics.v1.ExportMetricsServiceRequest, with what was refused.
struct MetricsRequest {
  std::vector<ResourceMetrics> resource_metrics;
  // The data points of the metrics left out for having no name (see the top of this file);
  // `rejection` describes the first such metric ("resource_metrics[0].scope_metrics[0].
  // metrics[2]: the metric has no name (it is required); its 3 data points are rejected").
  // Empty when no metric was left out.
  uint64_t rejected_data_points = 0;
  std::string rejection;
  // The data points kept, over every metric.
  size_t data_point_count() const noexcept {
    size_t n = 0;
    for (const ResourceMetrics& rm : resource_metrics) {
      for (const ScopeMetrics& sm : rm.scope_metrics) {
        for (const Metric& m : sm.metrics) n += m.data_point_count();
      }
    }
    return n;
  }
};

}  // namespace decoded

// Decodes an uncompressed body.
OTLP_EXPORT Result<decoded::MetricsRequest> DecodeMetricsRequestProto(
    std::string_view body, const DecodeLimits& limits = {});
OTLP_EXPORT Result<decoded::MetricsRequest> DecodeMetricsRequestJson(
    std::string_view body, const DecodeLimits& limits = {});
// Decodes a body as received: inflated first when `gzip` (Content-Encoding: gzip), within
// limits.max_body_bytes; corrupt gzip data is kInvalidArgument.
OTLP_EXPORT Result<decoded::MetricsRequest> DecodeMetricsRequest(std::string_view body,
                                                                 OtlpEncoding encoding, bool gzip,
                                                                 const DecodeLimits& limits = {});

}  // namespace otlp::exporter
