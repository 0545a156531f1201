// The OTLP/JSON metrics decoder: ExportMetricsServiceRequest as OTLP/JSON into decoded:: data.
//
// One function per message, each reading an object member by member with the readers of
// internal/json_request_reader.h; unknown keys and exemplars are skipped (their values still
// checked for syntax). As for AnyValue, a oneof (a metric's data, a number point's value) may
// have one member set: a second one is refused.
#include <string>
#include <variant>

#include "otlp/exporter/internal/json_request_reader.h"
#include "otlp/exporter/internal/request_decoding.h"
#include "otlp/exporter/otlp_metrics_decoder.h"

namespace otlp::exporter {
namespace {

class JsonMetricsDecoder : internal::JsonRequestReader {
 public:
  JsonMetricsDecoder(std::string_view body, const DecodeLimits& limits)
      : JsonRequestReader(body, limits) {}

  Result<decoded::MetricsRequest> Run() {
    OTLP_RETURN_IF_ERROR(CheckBodySize());
    decoded::MetricsRequest request;
    request_ = &request;
    if (!ReadRequest(request) || !AtEnd()) return Failure();
    return request;
  }

 private:
  bool ReadRequest(decoded::MetricsRequest& out) {
    return Members([&](std::string_view key) {
      if (key == "resourceMetrics") {
        return RepeatedAs(key, out.resource_metrics,
                          [&](decoded::ResourceMetrics& rm) { return ReadResourceMetrics(rm); });
      }
      return j_.SkipValue();
    });
  }

  bool ReadResourceMetrics(decoded::ResourceMetrics& out) {
    return Members([&](std::string_view key) {
      if (key == "resource") return Message([&] { return ReadResource(out.resource); });
      if (key == "scopeMetrics") {
        return RepeatedAs(key, out.scope_metrics,
                          [&](decoded::ScopeMetrics& sm) { return ReadScopeMetrics(sm); });
      }
      if (key == "schemaUrl") return String(out.schema_url);
      return j_.SkipValue();
    });
  }

  bool ReadScopeMetrics(decoded::ScopeMetrics& out) {
    return Members([&](std::string_view key) {
      if (key == "scope") return Message([&] { return ReadScope(out.scope); });
      if (key == "metrics") return Metrics(out.metrics);
      if (key == "schemaUrl") return String(out.schema_url);
      return j_.SkipValue();
    });
  }

  // ScopeMetrics.metrics: metrics without a name are counted and left out.
  bool Metrics(std::vector<decoded::Metric>& metrics) {
    if (j_.Null()) return true;
    if (j_.Peek() != '[') return Expected("an array");
    return j_.Array([&](size_t i) {
      if (!Charge(sizeof(decoded::Metric))) return false;
      path_.Pop();
      path_.Push("metrics", i);
      if (!ReadMetric(metrics.emplace_back())) return false;
      if (const decoded::Metric& m = metrics.back(); m.name.empty()) {
        const size_t points = m.data_point_count();
        internal::NoteRejection(request_->rejected_data_points, request_->rejection, points, path_,
                                "the metric has no name (it is required); its " +
                                    std::to_string(points) + " data points are rejected");
        metrics.pop_back();
      }
      path_.Pop();
      path_.Push("metrics");
      return true;
    });
  }

  bool ReadMetric(decoded::Metric& out) {
    std::string_view member;  // the data member seen (one at most)
    return Members([&](std::string_view key) {
      if (key == "name") return String(out.name);
      if (key == "description") return String(out.description);
      if (key == "unit") return String(out.unit);
      if (key == "metadata") return Attributes(key, out.metadata);
      static constexpr std::string_view kData[] = {"gauge", "sum", "histogram",
                                                   "exponentialHistogram", "summary"};
      size_t which = 0;
      while (which < std::size(kData) && kData[which] != key) ++which;
      if (which == std::size(kData)) return j_.SkipValue();
      if (j_.Null()) return true;  // a member set to null is not set
      if (!member.empty()) {
        return j_.Fail("a second data member (" + std::string(member) + " is already set)");
      }
      member = kData[which];
      switch (which) {
        case 0: {
          auto& gauge = out.data.emplace<decoded::Gauge>();
          return NumberPoints(gauge.data_points, nullptr, nullptr);
        }
        case 1: {
          auto& sum = out.data.emplace<decoded::Sum>();
          return NumberPoints(sum.data_points, &sum.aggregation_temporality, &sum.is_monotonic);
        }
        case 2: return ReadHistogram(out.data.emplace<decoded::Histogram>());
        case 3: return ReadExponentialHistogram(out.data.emplace<decoded::ExponentialHistogram>());
        default: return ReadSummary(out.data.emplace<decoded::Summary>());
      }
    });
  }

  // Gauge (no temporality, no monotonicity) or Sum.
  bool NumberPoints(std::vector<decoded::NumberDataPoint>& points, int32_t* temporality,
                    bool* monotonic) {
    return Members([&](std::string_view key) {
      if (key == "dataPoints") {
        return RepeatedAs(key, points,
                          [&](decoded::NumberDataPoint& p) { return ReadNumberDataPoint(p); });
      }
      if (temporality != nullptr && key == "aggregationTemporality") {
        return Integer(*temporality, /*strings=*/false);
      }
      if (monotonic != nullptr && key == "isMonotonic") return Bool(*monotonic);
      return j_.SkipValue();
    });
  }

  bool ReadHistogram(decoded::Histogram& out) {
    return Members([&](std::string_view key) {
      if (key == "dataPoints") {
        return RepeatedAs(key, out.data_points, [&](decoded::HistogramDataPoint& p) {
          return ReadHistogramDataPoint(p);
        });
      }
      if (key == "aggregationTemporality") {
        return Integer(out.aggregation_temporality, /*strings=*/false);
      }
      return j_.SkipValue();
    });
  }

  bool ReadExponentialHistogram(decoded::ExponentialHistogram& out) {
    return Members([&](std::string_view key) {
      if (key == "dataPoints") {
        return RepeatedAs(key, out.data_points, [&](decoded::ExponentialHistogramDataPoint& p) {
          return ReadExponentialDataPoint(p);
        });
      }
      if (key == "aggregationTemporality") {
        return Integer(out.aggregation_temporality, /*strings=*/false);
      }
      return j_.SkipValue();
    });
  }

  bool ReadSummary(decoded::Summary& out) {
    return Members([&](std::string_view key) {
      if (key == "dataPoints") {
        return RepeatedAs(key, out.data_points,
                          [&](decoded::SummaryDataPoint& p) { return ReadSummaryDataPoint(p); });
      }
      return j_.SkipValue();
    });
  }

  // ---- data points (exemplars are skipped like unknown keys)

  // An optional double: null leaves it unset.
  bool OptionalDouble(std::optional<double>& out) {
    if (j_.Null()) {
      out.reset();
      return true;
    }
    return Double(out.emplace());
  }
  template <typename T>
  bool Scalars(std::string_view key, std::vector<T>& out) {
    return RepeatedAs(key, out, [&](T& v) {
      if constexpr (std::is_same_v<T, double>) {
        return Double(v);
      } else {
        return Integer(v);
      }
    });
  }

  bool ReadNumberDataPoint(decoded::NumberDataPoint& out) {
    std::string_view member;  // asInt or asDouble (one at most)
    return Members([&](std::string_view key) {
      if (key == "attributes") return Attributes(key, out.attributes);
      if (key == "startTimeUnixNano") return Integer(out.start_time_unix_nano);
      if (key == "timeUnixNano") return Integer(out.time_unix_nano);
      if (key == "flags") return Integer(out.flags);
      if (key != "asInt" && key != "asDouble") return j_.SkipValue();
      if (j_.Null()) return true;
      if (!member.empty()) {
        return j_.Fail("a second value member (" + std::string(member) + " is already set)");
      }
      member = key == "asInt" ? "asInt" : "asDouble";
      if (key == "asInt") return Integer(out.value.emplace<int64_t>());
      return Double(out.value.emplace<double>());
    });
  }

  bool ReadHistogramDataPoint(decoded::HistogramDataPoint& out) {
    return Members([&](std::string_view key) {
      if (key == "attributes") return Attributes(key, out.attributes);
      if (key == "startTimeUnixNano") return Integer(out.start_time_unix_nano);
      if (key == "timeUnixNano") return Integer(out.time_unix_nano);
      if (key == "count") return Integer(out.count);
      if (key == "sum") return OptionalDouble(out.sum);
      if (key == "bucketCounts") return Scalars(key, out.bucket_counts);
      if (key == "explicitBounds") return Scalars(key, out.explicit_bounds);
      if (key == "flags") return Integer(out.flags);
      if (key == "min") return OptionalDouble(out.min);
      if (key == "max") return OptionalDouble(out.max);
      return j_.SkipValue();
    });
  }

  bool ReadExponentialDataPoint(decoded::ExponentialHistogramDataPoint& out) {
    return Members([&](std::string_view key) {
      if (key == "attributes") return Attributes(key, out.attributes);
      if (key == "startTimeUnixNano") return Integer(out.start_time_unix_nano);
      if (key == "timeUnixNano") return Integer(out.time_unix_nano);
      if (key == "count") return Integer(out.count);
      if (key == "sum") return OptionalDouble(out.sum);
      if (key == "scale") return Integer(out.scale);
      if (key == "zeroCount") return Integer(out.zero_count);
      if (key == "positive") return Message([&] { return ReadBuckets(out.positive); });
      if (key == "negative") return Message([&] { return ReadBuckets(out.negative); });
      if (key == "flags") return Integer(out.flags);
      if (key == "min") return OptionalDouble(out.min);
      if (key == "max") return OptionalDouble(out.max);
      if (key == "zeroThreshold") return Double(out.zero_threshold);
      return j_.SkipValue();
    });
  }

  bool ReadBuckets(decoded::ExponentialBuckets& out) {
    return Members([&](std::string_view key) {
      if (key == "offset") return Integer(out.offset);
      if (key == "bucketCounts") return Scalars(key, out.bucket_counts);
      return j_.SkipValue();
    });
  }

  bool ReadSummaryDataPoint(decoded::SummaryDataPoint& out) {
    return Members([&](std::string_view key) {
      if (key == "attributes") return Attributes(key, out.attributes);
      if (key == "startTimeUnixNano") return Integer(out.start_time_unix_nano);
      if (key == "timeUnixNano") return Integer(out.time_unix_nano);
      if (key == "count") return Integer(out.count);
      if (key == "sum") return Double(out.sum);
      if (key == "quantileValues") {
        return RepeatedAs(key, out.quantile_values, [&](decoded::ValueAtQuantile& q) {
          return Members([&](std::string_view k) {
            if (k == "quantile") return Double(q.quantile);
            if (k == "value") return Double(q.value);
            return j_.SkipValue();
          });
        });
      }
      if (key == "flags") return Integer(out.flags);
      return j_.SkipValue();
    });
  }

  decoded::MetricsRequest* request_ = nullptr;
};

}  // namespace

Result<decoded::MetricsRequest> DecodeMetricsRequestJson(std::string_view body,
                                                         const DecodeLimits& limits) {
  return JsonMetricsDecoder(body, limits).Run();
}

}  // namespace otlp::exporter
