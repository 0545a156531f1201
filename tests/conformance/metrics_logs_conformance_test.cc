// Conformance of the OTLP metrics and logs decoders with the official OpenTelemetry JS packages:
// metrics and log records made by @opentelemetry/sdk-metrics and @opentelemetry/sdk-logs and
// serialized by @opentelemetry/otlp-transformer (JSON and protobuf) are decoded by otlp-cpp, and
// every field it read is compared with what the official protobufjs decoder reads from the
// protobuf serialization of the same data (tests/conformance/js_encode_metrics_logs.js prints it
// as "path=value" lines; the rules of that form are at the top of the script).
//
// Needs node and `npm ci` in tests/conformance; skipped with a message otherwise.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "otlp/exporter/otlp_logs_decoder.h"
#include "otlp/exporter/otlp_metrics_decoder.h"
#include "tests/conformance/conformance_support.h"
#include "tests/support/status_matchers.h"

namespace otlp::exporter {
namespace {

using decoded::AnyValue;
using decoded::KeyValue;
using Flat = std::map<std::string, std::string>;

using test::Hex;
using test::JsonQuote;
using test::Number;

// The decoded data in the script's flat form: default values left out, except oneof members and
// optional fields that are set.
class Flattener {
 public:
  Flat flat;

  void Str(const std::string& path, std::string_view v) {
    if (!v.empty()) flat[path] = JsonQuote(v);
  }
  template <typename Integer>
  void Int(const std::string& path, Integer v) {
    if (v != 0) flat[path] = std::to_string(v);
  }
  void Dbl(const std::string& path, double v) {
    if (v != 0) flat[path] = Number(v);
  }
  void Bool(const std::string& path, bool v) {
    if (v) flat[path] = "true";
  }
  void Optional(const std::string& path, const std::optional<double>& v) {
    if (v) flat[path] = Number(*v);
  }
  template <typename Id>
  void IdHex(const std::string& path, const Id& id) {
    if (id.IsValid()) flat[path] = "\"" + Hex(id.bytes().data(), Id::kSize) + "\"";
  }
  template <typename T>
  void List(const std::string& path, const std::vector<T>& values) {
    for (size_t i = 0; i < values.size(); ++i) {
      if constexpr (std::is_same_v<T, double>) {
        Dbl(path + "[" + std::to_string(i) + "]", values[i]);
      } else {
        Int(path + "[" + std::to_string(i) + "]", values[i]);
      }
    }
  }

  void Any(const std::string& path, const AnyValue& v) {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string>) {
            flat[path + ".stringValue"] = JsonQuote(x);
          } else if constexpr (std::is_same_v<T, bool>) {
            flat[path + ".boolValue"] = x ? "true" : "false";
          } else if constexpr (std::is_same_v<T, int64_t>) {
            flat[path + ".intValue"] = std::to_string(x);
          } else if constexpr (std::is_same_v<T, double>) {
            flat[path + ".doubleValue"] = Number(x);
          } else if constexpr (std::is_same_v<T, AnyValue::Array>) {
            for (size_t i = 0; i < x.size(); ++i) {
              Any(path + ".arrayValue.values[" + std::to_string(i) + "]", x[i]);
            }
          } else if constexpr (std::is_same_v<T, AnyValue::KeyValueList>) {
            Attributes(path + ".kvlistValue.values", x);
          } else if constexpr (std::is_same_v<T, AnyValue::Bytes>) {
            flat[path + ".bytesValue"] = "\"" + Hex(x.data(), x.size()) + "\"";
          }
        },
        v.value);
  }
  void Attributes(const std::string& path, const std::vector<KeyValue>& kvs) {
    for (size_t i = 0; i < kvs.size(); ++i) {
      const std::string p = path + "[" + std::to_string(i) + "]";
      Str(p + ".key", kvs[i].key);
      Any(p + ".value", kvs[i].value);
    }
  }
  void Resource(const std::string& p, const decoded::Resource& r) {
    Attributes(p + ".attributes", r.attributes);
    Int(p + ".droppedAttributesCount", r.dropped_attributes_count);
  }
  void Scope(const std::string& p, const decoded::Scope& s) {
    Str(p + ".name", s.name);
    Str(p + ".version", s.version);
    Attributes(p + ".attributes", s.attributes);
    Int(p + ".droppedAttributesCount", s.dropped_attributes_count);
  }

  // ---- metrics

  void Request(const decoded::MetricsRequest& r) {
    for (size_t i = 0; i < r.resource_metrics.size(); ++i) {
      const auto& rm = r.resource_metrics[i];
      const std::string p = "resourceMetrics[" + std::to_string(i) + "]";
      Resource(p + ".resource", rm.resource);
      Str(p + ".schemaUrl", rm.schema_url);
      for (size_t k = 0; k < rm.scope_metrics.size(); ++k) {
        const auto& sm = rm.scope_metrics[k];
        const std::string q = p + ".scopeMetrics[" + std::to_string(k) + "]";
        Scope(q + ".scope", sm.scope);
        Str(q + ".schemaUrl", sm.schema_url);
        for (size_t n = 0; n < sm.metrics.size(); ++n) {
          Metric(q + ".metrics[" + std::to_string(n) + "]", sm.metrics[n]);
        }
      }
    }
  }

  void Metric(const std::string& p, const decoded::Metric& m) {
    Str(p + ".name", m.name);
    Str(p + ".description", m.description);
    Str(p + ".unit", m.unit);
    Attributes(p + ".metadata", m.metadata);
    auto points = [&](const std::string& type, const auto& list, auto&& point) {
      for (size_t i = 0; i < list.size(); ++i) {
        const std::string d = p + "." + type + ".dataPoints[" + std::to_string(i) + "]";
        Attributes(d + ".attributes", list[i].attributes);
        Int(d + ".startTimeUnixNano", list[i].start_time_unix_nano);
        Int(d + ".timeUnixNano", list[i].time_unix_nano);
        Int(d + ".flags", list[i].flags);
        point(d, list[i]);
      }
    };
    auto number = [&](const std::string& d, const decoded::NumberDataPoint& x) {
      if (const auto* v = std::get_if<int64_t>(&x.value)) flat[d + ".asInt"] = std::to_string(*v);
      if (const auto* v = std::get_if<double>(&x.value)) flat[d + ".asDouble"] = Number(*v);
    };
    if (const auto* g = std::get_if<decoded::Gauge>(&m.data)) {
      points("gauge", g->data_points, number);
    } else if (const auto* s = std::get_if<decoded::Sum>(&m.data)) {
      points("sum", s->data_points, number);
      Int(p + ".sum.aggregationTemporality", s->aggregation_temporality);
      Bool(p + ".sum.isMonotonic", s->is_monotonic);
    } else if (const auto* h = std::get_if<decoded::Histogram>(&m.data)) {
      points("histogram", h->data_points, [&](const std::string& d, const auto& x) {
        Int(d + ".count", x.count);
        Optional(d + ".sum", x.sum);
        List(d + ".bucketCounts", x.bucket_counts);
        List(d + ".explicitBounds", x.explicit_bounds);
        Optional(d + ".min", x.min);
        Optional(d + ".max", x.max);
      });
      Int(p + ".histogram.aggregationTemporality", h->aggregation_temporality);
    } else if (const auto* e = std::get_if<decoded::ExponentialHistogram>(&m.data)) {
      points("exponentialHistogram", e->data_points, [&](const std::string& d, const auto& x) {
        Int(d + ".count", x.count);
        Optional(d + ".sum", x.sum);
        Int(d + ".scale", x.scale);
        Int(d + ".zeroCount", x.zero_count);
        Int(d + ".positive.offset", x.positive.offset);
        List(d + ".positive.bucketCounts", x.positive.bucket_counts);
        Int(d + ".negative.offset", x.negative.offset);
        List(d + ".negative.bucketCounts", x.negative.bucket_counts);
        Optional(d + ".min", x.min);
        Optional(d + ".max", x.max);
        Dbl(d + ".zeroThreshold", x.zero_threshold);
      });
      Int(p + ".exponentialHistogram.aggregationTemporality", e->aggregation_temporality);
    } else if (const auto* q = std::get_if<decoded::Summary>(&m.data)) {
      points("summary", q->data_points, [&](const std::string& d, const auto& x) {
        Int(d + ".count", x.count);
        Dbl(d + ".sum", x.sum);
        for (size_t i = 0; i < x.quantile_values.size(); ++i) {
          const std::string v = d + ".quantileValues[" + std::to_string(i) + "]";
          Dbl(v + ".quantile", x.quantile_values[i].quantile);
          Dbl(v + ".value", x.quantile_values[i].value);
        }
      });
    }
  }

  // ---- logs

  void Request(const decoded::LogsRequest& r) {
    for (size_t i = 0; i < r.resource_logs.size(); ++i) {
      const auto& rl = r.resource_logs[i];
      const std::string p = "resourceLogs[" + std::to_string(i) + "]";
      Resource(p + ".resource", rl.resource);
      Str(p + ".schemaUrl", rl.schema_url);
      for (size_t k = 0; k < rl.scope_logs.size(); ++k) {
        const auto& sl = rl.scope_logs[k];
        const std::string q = p + ".scopeLogs[" + std::to_string(k) + "]";
        Scope(q + ".scope", sl.scope);
        Str(q + ".schemaUrl", sl.schema_url);
        for (size_t n = 0; n < sl.log_records.size(); ++n) {
          const decoded::LogRecord& log = sl.log_records[n];
          const std::string l = q + ".logRecords[" + std::to_string(n) + "]";
          Int(l + ".timeUnixNano", log.time_unix_nano);
          Int(l + ".observedTimeUnixNano", log.observed_time_unix_nano);
          Int(l + ".severityNumber", log.severity_number);
          Str(l + ".severityText", log.severity_text);
          Any(l + ".body", log.body);
          Attributes(l + ".attributes", log.attributes);
          Int(l + ".droppedAttributesCount", log.dropped_attributes_count);
          Int(l + ".flags", log.flags);
          IdHex(l + ".traceId", log.trace_id);
          IdHex(l + ".spanId", log.span_id);
          Str(l + ".eventName", log.event_name);
        }
      }
    }
  }
};

// The same number printed by JavaScript and by to_chars may differ in form (1e-7 / 1e-07).
bool SameValue(const std::string& a, const std::string& b) {
  if (a == b) return true;
  double x, y;
  const auto rx = std::from_chars(a.data(), a.data() + a.size(), x);
  const auto ry = std::from_chars(b.data(), b.data() + b.size(), y);
  return rx.ec == std::errc() && ry.ec == std::errc() && rx.ptr == a.data() + a.size() &&
         ry.ptr == b.data() + b.size() && x == y;
}

void ExpectSameFields(const Flat& got, const Flat& want) {
  for (const auto& [path, value] : want) {
    auto it = got.find(path);
    if (it == got.end()) {
      ADD_FAILURE() << "not decoded: " << path << "=" << value;
    } else if (!SameValue(it->second, value)) {
      ADD_FAILURE() << path << ": decoded " << it->second << ", the JS decoder read " << value;
    }
  }
  for (const auto& [path, value] : got) {
    if (!want.contains(path))
      ADD_FAILURE() << "decoded but not in the request: " << path << "=" << value;
  }
}

bool HasField(const Flat& flat, std::string_view part) {
  for (const auto& [path, value] : flat) {
    if (path.find(part) != std::string::npos) return true;
  }
  return false;
}

struct Made {
  std::string body;
  Flat official;  // what the official decoder read
};

// Runs the script for `signal` and `format`; the body it wrote and the fields it printed.
Made MakeWithJs(const std::string& signal, const std::string& format) {
  const std::string file =
      ::testing::TempDir() + "otlp_js_" + signal + "_" + std::to_string(getpid()) + "." + format;
  Made made;
  made.official = test::ParseFlatOutput(
      test::RunNodeScript("js_encode_metrics_logs.js",
                          "--signal=" + signal + " --format=" + format + " '" + file + "'"),
      "js_encode_metrics_logs.js");
  made.body = test::ReadAll(file);
  std::filesystem::remove(file);
  return made;
}

class JsSdkToMetricsAndLogsDecoders : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (std::string why = test::NodeSkipReason(); !why.empty()) GTEST_SKIP() << why;
  }
};

TEST_P(JsSdkToMetricsAndLogsDecoders, MetricsAsTheOfficialDecoderReadsThem) {
  const std::string format = GetParam();
  const Made made = MakeWithJs("metrics", format);
  ASSERT_FALSE(made.body.empty());
  ASSERT_OK_AND_ASSIGN(
      decoded::MetricsRequest request,
      DecodeMetricsRequest(made.body,
                           format == "json" ? OtlpEncoding::kJson : OtlpEncoding::kProtobuf,
                           /*gzip=*/false));
  EXPECT_EQ(request.rejection, "");
  Flattener f;
  f.Request(request);
  // Not vacuous: every data type and the fields easiest to get wrong are among those compared.
  ASSERT_GT(made.official.size(), 60u);
  for (const char* must :
       {".gauge.dataPoints[0].asDouble", ".sum.dataPoints[0].asInt", ".sum.isMonotonic",
        ".histogram.dataPoints[0].bucketCounts[", ".explicitBounds[",
        ".histogram.dataPoints[0].min", ".exponentialHistogram.dataPoints[0].scale",
        ".positive.offset", ".zeroCount", ".aggregationTemporality", "arrayValue"}) {
    EXPECT_TRUE(HasField(made.official, must))
        << "js_encode_metrics_logs.js no longer produces a field " << must;
  }
  ExpectSameFields(f.flat, made.official);
}

TEST_P(JsSdkToMetricsAndLogsDecoders, LogsAsTheOfficialDecoderReadsThem) {
  const std::string format = GetParam();
  const Made made = MakeWithJs("logs", format);
  ASSERT_FALSE(made.body.empty());
  ASSERT_OK_AND_ASSIGN(
      decoded::LogsRequest request,
      DecodeLogsRequest(made.body, format == "json" ? OtlpEncoding::kJson : OtlpEncoding::kProtobuf,
                        /*gzip=*/false));
  EXPECT_EQ(request.log_record_count(), 3u);
  EXPECT_EQ(request.rejected_log_records, 0u) << request.rejection;
  Flattener f;
  f.Request(request);
  ASSERT_GT(made.official.size(), 30u);
  for (const char* must :
       {".traceId", ".spanId", ".flags", ".observedTimeUnixNano", ".severityNumber", ".eventName",
        ".body.kvlistValue", ".body.stringValue"}) {
    EXPECT_TRUE(HasField(made.official, must))
        << "js_encode_metrics_logs.js no longer produces a field " << must;
  }
  ExpectSameFields(f.flat, made.official);
}

INSTANTIATE_TEST_SUITE_P(Serializers, JsSdkToMetricsAndLogsDecoders,
                         ::testing::Values("json", "proto"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           return std::string(p.param) == "json" ? "Json" : "Protobuf";
                         });

}  // namespace
}  // namespace otlp::exporter
