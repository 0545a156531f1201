// The protobuf metrics decoder: ExportMetricsServiceRequest wire format into decoded:: data.
//
// One function per message, on the field readers of internal/proto_request_reader.h (wire types
// checked, unknown fields and exemplars skipped, the first failure recorded with its path and
// byte offset). Repeated scalars (bucket counts, bounds) are read packed or one by one.
#include <string>
#include <variant>

#include "otlp/exporter/internal/proto_request_reader.h"
#include "otlp/exporter/internal/proto_wire.h"
#include "otlp/exporter/internal/request_decoding.h"
#include "otlp/exporter/otlp_metrics_decoder.h"

namespace otlp::exporter {
namespace {

using internal::kWireFixed64;
using internal::kWireVarint;
using internal::ProtoReader;

class ProtoMetricsDecoder : internal::ProtoRequestReader {
 public:
  ProtoMetricsDecoder(std::string_view body, const DecodeLimits& limits)
      : ProtoRequestReader(body, limits) {}

  Result<decoded::MetricsRequest> Run() {
    OTLP_RETURN_IF_ERROR(CheckBodySize());
    decoded::MetricsRequest request;
    request_ = &request;
    if (!ReadRequest(body_, request)) return Failure();
    return request;
  }

 private:
  bool ReadRequest(std::string_view msg, decoded::MetricsRequest& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      if (field == 1) {
        return RepeatedField(r, wire, at, "resource_metrics", out.resource_metrics,
                             [&](std::string_view m, decoded::ResourceMetrics& rm) {
                               return ReadResourceMetrics(m, rm);
                             });
      }
      return SkipUnknown(r, field, wire, at);
    });
  }

  bool ReadResourceMetrics(std::string_view msg, decoded::ResourceMetrics& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1:
          return MessageField(r, wire, at, "resource",
                              [&](std::string_view m) { return ReadResource(m, out.resource); });
        case 2:
          return RepeatedField(r, wire, at, "scope_metrics", out.scope_metrics,
                               [&](std::string_view m, decoded::ScopeMetrics& sm) {
                                 return ReadScopeMetrics(m, sm);
                               });
        case 3: return StringField(r, wire, at, "schema_url", out.schema_url);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  bool ReadScopeMetrics(std::string_view msg, decoded::ScopeMetrics& out) {
    size_t metric_index = 0;  // as received (rejected metrics are left out of out.metrics)
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1:
          return MessageField(r, wire, at, "scope",
                              [&](std::string_view m) { return ReadScope(m, out.scope); });
        case 2: {
          std::string_view payload;
          if (!LenField(r, wire, at, "metrics", payload) || !Charge(at, sizeof(decoded::Metric))) {
            return false;
          }
          path_.Push("metrics", metric_index++);
          if (!ReadMetric(payload, out.metrics.emplace_back())) return false;
          if (const decoded::Metric& m = out.metrics.back(); m.name.empty()) {
            const size_t points = m.data_point_count();
            internal::NoteRejection(request_->rejected_data_points, request_->rejection, points,
                                    path_,
                                    "the metric has no name (it is required); its " +
                                        std::to_string(points) + " data points are rejected");
            out.metrics.pop_back();
          }
          path_.Pop();
          return true;
        }
        case 3: return StringField(r, wire, at, "schema_url", out.schema_url);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  // The data oneof: a second occurrence of the same member merges into it, another member
  // replaces it, as protobuf parsers do.
  template <typename T>
  T& DataMember(decoded::Metric& m) {
    if (!std::holds_alternative<T>(m.data)) m.data.emplace<T>();
    return std::get<T>(m.data);
  }

  bool ReadMetric(std::string_view msg, decoded::Metric& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1: return StringField(r, wire, at, "name", out.name);
        case 2: return StringField(r, wire, at, "description", out.description);
        case 3: return StringField(r, wire, at, "unit", out.unit);
        case 5:
          return MessageField(r, wire, at, "gauge", [&](std::string_view m) {
            return ReadNumberPoints(m, DataMember<decoded::Gauge>(out).data_points, {}, {});
          });
        case 7:
          return MessageField(r, wire, at, "sum", [&](std::string_view m) {
            decoded::Sum& sum = DataMember<decoded::Sum>(out);
            return ReadNumberPoints(m, sum.data_points, &sum.aggregation_temporality,
                                    &sum.is_monotonic);
          });
        case 9:
          return MessageField(r, wire, at, "histogram", [&](std::string_view m) {
            return ReadHistogram(m, DataMember<decoded::Histogram>(out));
          });
        case 10:
          return MessageField(r, wire, at, "exponential_histogram", [&](std::string_view m) {
            return ReadExponentialHistogram(m, DataMember<decoded::ExponentialHistogram>(out));
          });
        case 11:
          return MessageField(r, wire, at, "summary", [&](std::string_view m) {
            return ReadSummary(m, DataMember<decoded::Summary>(out));
          });
        case 12: return ReadAttribute(r, wire, at, "metadata", out.metadata);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  // Gauge (no temporality, no monotonicity) or Sum.
  bool ReadNumberPoints(std::string_view msg, std::vector<decoded::NumberDataPoint>& points,
                        int32_t* temporality, bool* monotonic) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1:
          return RepeatedField(r, wire, at, "data_points", points,
                               [&](std::string_view m, decoded::NumberDataPoint& p) {
                                 return ReadNumberDataPoint(m, p);
                               });
        case 2:
          if (temporality == nullptr) break;
          return VarintField(r, wire, at, "aggregation_temporality", *temporality);
        case 3:
          if (monotonic == nullptr) break;
          return BoolField(r, wire, at, "is_monotonic", *monotonic);
        default: break;
      }
      return SkipUnknown(r, field, wire, at);
    });
  }

  bool ReadHistogram(std::string_view msg, decoded::Histogram& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1:
          return RepeatedField(r, wire, at, "data_points", out.data_points,
                               [&](std::string_view m, decoded::HistogramDataPoint& p) {
                                 return ReadHistogramDataPoint(m, p);
                               });
        case 2:
          return VarintField(r, wire, at, "aggregation_temporality", out.aggregation_temporality);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  bool ReadExponentialHistogram(std::string_view msg, decoded::ExponentialHistogram& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1:
          return RepeatedField(r, wire, at, "data_points", out.data_points,
                               [&](std::string_view m, decoded::ExponentialHistogramDataPoint& p) {
                                 return ReadExponentialDataPoint(m, p);
                               });
        case 2:
          return VarintField(r, wire, at, "aggregation_temporality", out.aggregation_temporality);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  bool ReadSummary(std::string_view msg, decoded::Summary& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      if (field == 1) {
        return RepeatedField(r, wire, at, "data_points", out.data_points,
                             [&](std::string_view m, decoded::SummaryDataPoint& p) {
                               return ReadSummaryDataPoint(m, p);
                             });
      }
      return SkipUnknown(r, field, wire, at);
    });
  }

  // ---- data points (exemplars are skipped like unknown fields)

  bool OptionalDouble(ProtoReader& r, uint32_t wire, const char* at, std::string_view name,
                      std::optional<double>& out) {
    double v;
    if (!DoubleField(r, wire, at, name, v)) return false;
    out = v;
    return true;
  }

  bool ReadNumberDataPoint(std::string_view msg, decoded::NumberDataPoint& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 2: return Fixed64Field(r, wire, at, "start_time_unix_nano", out.start_time_unix_nano);
        case 3: return Fixed64Field(r, wire, at, "time_unix_nano", out.time_unix_nano);
        case 4: return DoubleField(r, wire, at, "as_double", out.value.emplace<double>());
        case 6: {
          uint64_t bits;  // sfixed64
          if (!Fixed64Field(r, wire, at, "as_int", bits)) return false;
          out.value = static_cast<int64_t>(bits);
          return true;
        }
        case 7: return ReadAttribute(r, wire, at, "attributes", out.attributes);
        case 8: return VarintField(r, wire, at, "flags", out.flags);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  bool ReadHistogramDataPoint(std::string_view msg, decoded::HistogramDataPoint& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 2: return Fixed64Field(r, wire, at, "start_time_unix_nano", out.start_time_unix_nano);
        case 3: return Fixed64Field(r, wire, at, "time_unix_nano", out.time_unix_nano);
        case 4: return Fixed64Field(r, wire, at, "count", out.count);
        case 5: return OptionalDouble(r, wire, at, "sum", out.sum);
        case 6: return PackedField(r, wire, at, "bucket_counts", kWireFixed64, out.bucket_counts);
        case 7:
          return PackedField(r, wire, at, "explicit_bounds", kWireFixed64, out.explicit_bounds);
        case 9: return ReadAttribute(r, wire, at, "attributes", out.attributes);
        case 10: return VarintField(r, wire, at, "flags", out.flags);
        case 11: return OptionalDouble(r, wire, at, "min", out.min);
        case 12: return OptionalDouble(r, wire, at, "max", out.max);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  bool ReadExponentialDataPoint(std::string_view msg, decoded::ExponentialHistogramDataPoint& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1: return ReadAttribute(r, wire, at, "attributes", out.attributes);
        case 2: return Fixed64Field(r, wire, at, "start_time_unix_nano", out.start_time_unix_nano);
        case 3: return Fixed64Field(r, wire, at, "time_unix_nano", out.time_unix_nano);
        case 4: return Fixed64Field(r, wire, at, "count", out.count);
        case 5: return OptionalDouble(r, wire, at, "sum", out.sum);
        case 6: return ZigZagField(r, wire, at, "scale", out.scale);
        case 7: return Fixed64Field(r, wire, at, "zero_count", out.zero_count);
        case 8:
          return MessageField(r, wire, at, "positive",
                              [&](std::string_view m) { return ReadBuckets(m, out.positive); });
        case 9:
          return MessageField(r, wire, at, "negative",
                              [&](std::string_view m) { return ReadBuckets(m, out.negative); });
        case 10: return VarintField(r, wire, at, "flags", out.flags);
        case 12: return OptionalDouble(r, wire, at, "min", out.min);
        case 13: return OptionalDouble(r, wire, at, "max", out.max);
        case 14: return DoubleField(r, wire, at, "zero_threshold", out.zero_threshold);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  bool ReadBuckets(std::string_view msg, decoded::ExponentialBuckets& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1: return ZigZagField(r, wire, at, "offset", out.offset);
        case 2: return PackedField(r, wire, at, "bucket_counts", kWireVarint, out.bucket_counts);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  bool ReadSummaryDataPoint(std::string_view msg, decoded::SummaryDataPoint& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 2: return Fixed64Field(r, wire, at, "start_time_unix_nano", out.start_time_unix_nano);
        case 3: return Fixed64Field(r, wire, at, "time_unix_nano", out.time_unix_nano);
        case 4: return Fixed64Field(r, wire, at, "count", out.count);
        case 5: return DoubleField(r, wire, at, "sum", out.sum);
        case 6:
          return RepeatedField(r, wire, at, "quantile_values", out.quantile_values,
                               [&](std::string_view m, decoded::ValueAtQuantile& q) {
                                 return ReadValueAtQuantile(m, q);
                               });
        case 7: return ReadAttribute(r, wire, at, "attributes", out.attributes);
        case 8: return VarintField(r, wire, at, "flags", out.flags);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  bool ReadValueAtQuantile(std::string_view msg, decoded::ValueAtQuantile& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1: return DoubleField(r, wire, at, "quantile", out.quantile);
        case 2: return DoubleField(r, wire, at, "value", out.value);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  decoded::MetricsRequest* request_ = nullptr;
};

}  // namespace

Result<decoded::MetricsRequest> DecodeMetricsRequestProto(std::string_view body,
                                                          const DecodeLimits& limits) {
  return ProtoMetricsDecoder(body, limits).Run();
}

}  // namespace otlp::exporter
