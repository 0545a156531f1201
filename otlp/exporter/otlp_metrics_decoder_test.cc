// The OTLP metrics request decoder on hand-built bodies: every data type and field in both
// encodings, the proto3 and OTLP/JSON rules (packed and unpacked repeated scalars, oneofs,
// optional doubles, numbers as strings, unknown fields and exemplars skipped), metrics rejected
// for having no name, gzip, limits, and malformed bodies refused with their message.
#include "otlp/exporter/otlp_metrics_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "otlp/core/internal/gzip.h"
#include "otlp/core/internal/varint.h"
#include "tests/support/proto_builders.h"
#include "tests/support/status_matchers.h"

namespace otlp::exporter {
namespace {

using decoded::AnyValue;
using decoded::KeyValue;
using decoded::MetricsRequest;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// ---- protobuf builders

using test::Key;
using test::Len;
using test::Var;
std::string Le64(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}
uint64_t Bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}
std::string Fix64(uint32_t field, uint64_t v) {
  return Key(field, 1) + Le64(v);
}
std::string Dbl(uint32_t field, double d) {
  return Fix64(field, Bits(d));
}
std::string Attr(std::string_view key, std::string_view string_value) {
  return Len(1, key) + Len(2, Len(1, string_value));
}
// A request of one resource and one scope around metric bodies.
std::string RequestOf(const std::vector<std::string>& metrics) {
  std::string sm;
  for (const std::string& m : metrics) sm += Len(2, m);
  return Len(1, Len(2, sm));
}

// ---- what the EveryDataType bodies hold, in either encoding

MetricsRequest EveryDataType() {
  MetricsRequest r;
  decoded::ResourceMetrics& rm = r.resource_metrics.emplace_back();
  rm.resource.attributes = {{"service.name", AnyValue{std::string("svc")}}};
  rm.resource.dropped_attributes_count = 1;
  rm.schema_url = "res-schema";
  decoded::ScopeMetrics& sm = rm.scope_metrics.emplace_back();
  sm.scope.name = "meter";
  sm.scope.version = "2.0";
  sm.schema_url = "scope-schema";

  decoded::Metric gauge{.name = "g", .description = "a gauge", .unit = "1"};
  gauge.metadata = {{"m", AnyValue{std::string("v")}}};
  gauge.data = decoded::Gauge{{{.attributes = {{"k", AnyValue{std::string("a")}}},
                                .start_time_unix_nano = 0,
                                .time_unix_nano = 1700000000000000001,
                                .value = int64_t{-5},
                                .flags = decoded::kDataPointNoRecordedValue}}};
  sm.metrics.push_back(gauge);

  decoded::Metric sum{.name = "s", .unit = "By"};
  sum.data =
      decoded::Sum{.data_points = {{.start_time_unix_nano = 10, .time_unix_nano = 20, .value = 2.5},
                                   {.time_unix_nano = 30}},
                   .aggregation_temporality = 2,
                   .is_monotonic = true};
  sm.metrics.push_back(sum);

  decoded::Metric histogram{.name = "h"};
  histogram.data =
      decoded::Histogram{.data_points = {{.attributes = {{"k", AnyValue{std::string("b")}}},
                                          .start_time_unix_nano = 1,
                                          .time_unix_nano = 2,
                                          .count = 6,
                                          .sum = 10.5,
                                          .bucket_counts = {1, 2, 3},
                                          .explicit_bounds = {0.5, 1},
                                          .flags = 0,
                                          .min = -1,
                                          .max = 7.25},
                                         {.count = 0}},
                         .aggregation_temporality = 1};
  sm.metrics.push_back(histogram);

  decoded::Metric exponential{.name = "e"};
  exponential.data = decoded::ExponentialHistogram{
      .data_points = {{.start_time_unix_nano = 3,
                       .time_unix_nano = 4,
                       .count = 9,
                       .sum = 0,
                       .scale = -2,
                       .zero_count = 1,
                       .positive = {.offset = -3, .bucket_counts = {4, 300}},
                       .negative = {.offset = 5, .bucket_counts = {2}},
                       .flags = 1,
                       .min = -4,
                       .max = 1e10,
                       .zero_threshold = 1e-9}},
      .aggregation_temporality = 2};
  sm.metrics.push_back(exponential);

  decoded::Metric summary{.name = "q"};
  summary.data = decoded::Summary{
      {{.time_unix_nano = 5, .count = 3, .sum = 4.5, .quantile_values = {{0, 0.5}, {0.99, 3}}}}};
  sm.metrics.push_back(summary);
  return r;
}

void ExpectSame(const MetricsRequest& got, const MetricsRequest& want) {
  EXPECT_EQ(got.rejected_data_points, 0u);
  EXPECT_EQ(got.rejection, "");
  ASSERT_THAT(got.resource_metrics, SizeIs(want.resource_metrics.size()));
  for (size_t i = 0; i < want.resource_metrics.size(); ++i) {
    const auto& g = got.resource_metrics[i];
    const auto& w = want.resource_metrics[i];
    EXPECT_EQ(g.resource, w.resource);
    EXPECT_EQ(g.schema_url, w.schema_url);
    ASSERT_THAT(g.scope_metrics, SizeIs(w.scope_metrics.size()));
    for (size_t k = 0; k < w.scope_metrics.size(); ++k) {
      EXPECT_EQ(g.scope_metrics[k].scope, w.scope_metrics[k].scope);
      EXPECT_EQ(g.scope_metrics[k].schema_url, w.scope_metrics[k].schema_url);
      ASSERT_THAT(g.scope_metrics[k].metrics, SizeIs(w.scope_metrics[k].metrics.size()));
      for (size_t m = 0; m < w.scope_metrics[k].metrics.size(); ++m) {
        EXPECT_EQ(g.scope_metrics[k].metrics[m], w.scope_metrics[k].metrics[m])
            << "metric " << w.scope_metrics[k].metrics[m].name;
      }
    }
  }
}

const decoded::Metric& OnlyMetric(const MetricsRequest& r) {
  static const decoded::Metric kNone;
  if (r.resource_metrics.size() != 1 || r.resource_metrics[0].scope_metrics.size() != 1 ||
      r.resource_metrics[0].scope_metrics[0].metrics.size() != 1) {
    ADD_FAILURE() << "expected exactly one metric";
    return kNone;
  }
  return r.resource_metrics[0].scope_metrics[0].metrics[0];
}

// ---- protobuf

std::string PackedFixed64(uint32_t field, const std::vector<uint64_t>& v) {
  std::string s;
  for (uint64_t x : v) s += Le64(x);
  return Len(field, s);
}
std::string PackedVarints(uint32_t field, const std::vector<uint64_t>& v) {
  std::string s;
  for (uint64_t x : v) otlp::internal::AppendVarint(x, s);
  return Len(field, s);
}
uint64_t ZigZag(int32_t v) {
  return static_cast<uint32_t>(v << 1) ^ static_cast<uint32_t>(v >> 31);
}

TEST(DecodeMetricsProto, EveryDataType) {
  const std::string gauge = Len(1, "g") + Len(2, "a gauge") + Len(3, "1") +
                            Len(12, Attr("m", "v")) +
                            Len(5, Len(1, Len(7, Attr("k", "a")) + Fix64(3, 1700000000000000001) +
                                              Fix64(6, static_cast<uint64_t>(-5)) + Var(8, 1)));
  const std::string sum = Len(1, "s") + Len(3, "By") +
                          Len(7, Len(1, Fix64(2, 10) + Fix64(3, 20) + Dbl(4, 2.5)) +
                                     Len(1, Fix64(3, 30)) + Var(2, 2) + Var(3, 1));
  const std::string histogram =
      Len(1, "h") +
      Len(9, Len(1, Len(9, Attr("k", "b")) + Fix64(2, 1) + Fix64(3, 2) + Fix64(4, 6) +
                        Dbl(5, 10.5) + PackedFixed64(6, {1, 2, 3}) +
                        PackedFixed64(7, {Bits(0.5), Bits(1)}) + Dbl(11, -1) + Dbl(12, 7.25)) +
                 Len(1, "") + Var(2, 1));
  const std::string exponential =
      Len(1, "e") +
      Len(10, Len(1, Fix64(2, 3) + Fix64(3, 4) + Fix64(4, 9) + Dbl(5, 0) + Var(6, ZigZag(-2)) +
                         Fix64(7, 1) + Len(8, Var(1, ZigZag(-3)) + PackedVarints(2, {4, 300})) +
                         Len(9, Var(1, ZigZag(5)) + PackedVarints(2, {2})) + Var(10, 1) +
                         Dbl(12, -4) + Dbl(13, 1e10) + Dbl(14, 1e-9)) +
                  Var(2, 2));
  const std::string summary = Len(1, "q") + Len(11, Len(1, Fix64(3, 5) + Fix64(4, 3) + Dbl(5, 4.5) +
                                                               Len(6, Dbl(1, 0) + Dbl(2, 0.5)) +
                                                               Len(6, Dbl(1, 0.99) + Dbl(2, 3))));
  std::string sm = Len(1, Len(1, "meter") + Len(2, "2.0"));
  for (const std::string& m : {gauge, sum, histogram, exponential, summary}) sm += Len(2, m);
  sm += Len(3, "scope-schema");
  const std::string body = Len(1, Len(1, Len(1, Attr("service.name", "svc")) + Var(2, 1)) +
                                      Len(2, sm) + Len(3, "res-schema"));
  ASSERT_OK_AND_ASSIGN(MetricsRequest r, DecodeMetricsRequestProto(body));
  ExpectSame(r, EveryDataType());
  EXPECT_EQ(r.data_point_count(), 7u);
}

TEST(DecodeMetricsProto, UnpackedScalarsOptionalsExemplarsAndUnknownFields) {
  const std::string exemplar = Fix64(2, 1) + Dbl(3, 1.5) + Len(5, "span");
  const std::string unknown = Var(100, 5) + Fix64(101, 6) + Len(102, "zz");
  // Counts and bounds one by one (and a packed run after them), no sum, min or max.
  const std::string point =
      Fix64(6, 1) + Fix64(6, 2) + PackedFixed64(6, {3}) + Dbl(7, 0.5) + Len(8, exemplar) + unknown;
  const std::string exp_point = Len(8, Var(2, 7) + Var(2, 8) + unknown) + Len(11, exemplar);
  const std::string number_point = Dbl(4, 1) + Len(5, exemplar) + unknown;
  const std::string body = RequestOf({Len(1, "h") + Len(9, Len(1, point) + unknown) + unknown,
                                      Len(1, "e") + Len(10, Len(1, exp_point)),
                                      Len(1, "g") + Len(5, Len(1, number_point))});
  ASSERT_OK_AND_ASSIGN(MetricsRequest r, DecodeMetricsRequestProto(unknown + body));
  const auto& metrics = r.resource_metrics[0].scope_metrics[0].metrics;
  ASSERT_THAT(metrics, SizeIs(3));
  const auto& h = std::get<decoded::Histogram>(metrics[0].data).data_points.at(0);
  EXPECT_EQ(h.bucket_counts, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(h.explicit_bounds, (std::vector<double>{0.5}));
  EXPECT_FALSE(h.sum.has_value());
  EXPECT_FALSE(h.min.has_value());
  EXPECT_FALSE(h.max.has_value());
  const auto& e = std::get<decoded::ExponentialHistogram>(metrics[1].data).data_points.at(0);
  EXPECT_EQ(e.positive.bucket_counts, (std::vector<uint64_t>{7, 8}));
  EXPECT_FALSE(e.sum.has_value());
  EXPECT_EQ(std::get<decoded::Gauge>(metrics[2].data).data_points.at(0).value,
            (std::variant<std::monostate, int64_t, double>{1.0}));
}

TEST(DecodeMetricsProto, OneofsKeepTheLastMemberAndMergeRepeats) {
  // gauge then sum: the sum; sum twice: merged; as_double then as_int: the int.
  const std::string point = Dbl(4, 1.5) + Fix64(6, 7);
  const std::string metric =
      Len(1, "m") + Len(5, Len(1, point)) + Len(7, Len(1, point)) + Len(7, Len(1, "") + Var(2, 1));
  ASSERT_OK_AND_ASSIGN(MetricsRequest r, DecodeMetricsRequestProto(RequestOf({metric})));
  const auto* sum = std::get_if<decoded::Sum>(&OnlyMetric(r).data);
  ASSERT_NE(sum, nullptr);
  ASSERT_THAT(sum->data_points, SizeIs(2));
  EXPECT_EQ(std::get<int64_t>(sum->data_points[0].value), 7);
  EXPECT_EQ(sum->aggregation_temporality, 1);
  EXPECT_EQ(OnlyMetric(r).data_point_count(), 2u);
  // No data at all is kept as it is.
  ASSERT_OK_AND_ASSIGN(MetricsRequest empty, DecodeMetricsRequestProto(RequestOf({Len(1, "x")})));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(OnlyMetric(empty).data));
}

TEST(DecodeMetricsProto, MetricsWithoutANameAreRejectedNotFatal) {
  const std::string three_points = Len(5, Len(1, "") + Len(1, "") + Len(1, ""));
  const std::string body =
      RequestOf({Len(1, "kept") + Len(5, Len(1, "")), Len(2, "no name") + three_points,
                 Len(9, Len(1, "")), Len(1, "also kept")});
  ASSERT_OK_AND_ASSIGN(MetricsRequest r, DecodeMetricsRequestProto(body));
  const auto& metrics = r.resource_metrics[0].scope_metrics[0].metrics;
  ASSERT_THAT(metrics, SizeIs(2));
  EXPECT_EQ(metrics[1].name, "also kept");
  EXPECT_EQ(r.rejected_data_points, 4u);
  EXPECT_EQ(r.rejection,
            "resource_metrics[0].scope_metrics[0].metrics[1]: the metric has no name (it is "
            "required); its 3 data points are rejected");
  EXPECT_EQ(r.data_point_count(), 1u);
  // A nameless metric without points: nothing counted, still described (a warning).
  ASSERT_OK_AND_ASSIGN(MetricsRequest w, DecodeMetricsRequestProto(RequestOf({Len(3, "ms")})));
  EXPECT_EQ(w.rejected_data_points, 0u);
  EXPECT_THAT(w.rejection, HasSubstr("metrics[0]: the metric has no name"));
}

TEST(DecodeMetricsProto, GzipThroughDecodeMetricsRequest) {
  const std::string body = RequestOf({Len(1, "g") + Len(5, Len(1, Dbl(4, 1)))});
  std::string gz;
  ASSERT_OK(otlp::internal::GzipCompress(body, gz));
  ASSERT_OK_AND_ASSIGN(MetricsRequest r, DecodeMetricsRequest(gz, OtlpEncoding::kProtobuf, true));
  EXPECT_EQ(OnlyMetric(r).name, "g");
  EXPECT_THAT(DecodeMetricsRequest(body, OtlpEncoding::kProtobuf, true),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("bad gzip body")));
  EXPECT_THAT(
      DecodeMetricsRequest(gz, OtlpEncoding::kProtobuf, true, {.max_body_bytes = body.size() - 1}),
      StatusIs(StatusCode::kResourceExhausted, HasSubstr("inflated gzip body exceeds")));
}

struct Malformed {
  std::string name;
  std::string body;
  std::string message;
  StatusCode code = StatusCode::kInvalidArgument;
};

std::string PointPath(std::string_view type, std::string_view field) {
  return "resource_metrics[0].scope_metrics[0].metrics[0]." + std::string(type) +
         ".data_points[0]." + std::string(field);
}

TEST(DecodeMetricsProto, MalformedBodiesAreRefusedWithTheirMessage) {
  auto histogram = [](const std::string& point) {
    return RequestOf({Len(1, "h") + Len(9, Len(1, point))});
  };
  auto exponential = [](const std::string& point) {
    return RequestOf({Len(1, "e") + Len(10, Len(1, point))});
  };
  const Malformed cases[] = {
      {"packed counts not a multiple of 8", histogram(Len(6, "abcdefghij")),
       PointPath("histogram",
                 "bucket_counts: packed fixed64 values of 10 bytes (not a multiple "
                 "of 8)")},
      {"count as varint", histogram(Var(4, 1)),
       PointPath("histogram", "count: wire type 0 (varint), expected 1 (fixed64)")},
      {"sum truncated", histogram(Key(5, 1) + "abc"),
       PointPath("histogram", "sum: truncated fixed64 value")},
      {"bounds as fixed32", histogram(Key(7, 5) + "abcd"),
       PointPath("histogram", "explicit_bounds: wire type 5 (fixed32), expected 2")},
      {"scale as fixed64", exponential(Dbl(6, 1)),
       PointPath("exponential_histogram", "scale: wire type 1 (fixed64), expected 0 (varint)")},
      {"malformed packed varints", exponential(Len(8, Len(2, "\xff\xff"))),
       PointPath("exponential_histogram", "positive.bucket_counts: malformed varint in packed")},
      {"as_int as varint", RequestOf({Len(1, "g") + Len(5, Len(1, Var(6, 1)))}),
       PointPath("gauge", "as_int: wire type 0 (varint), expected 1 (fixed64)")},
      {"temporality as bytes", RequestOf({Len(1, "s") + Len(7, Len(2, "x"))}),
       "metrics[0].sum.aggregation_temporality: wire type 2 (length-delimited), expected 0"},
      {"summary quantile truncated",
       RequestOf({Len(1, "q") + Len(11, Len(1, Len(6, Key(1, 1) + "12")))}),
       PointPath("summary", "quantile_values[0].quantile: truncated fixed64 value")},
      {"name not UTF-8", RequestOf({Len(1, "a\xff")}),
       "resource_metrics[0].scope_metrics[0].metrics[0].name: invalid UTF-8 at byte 1"},
      {"metadata value not UTF-8", RequestOf({Len(1, "m") + Len(12, Attr("k", "\x80"))}),
       "metrics[0].metadata[0].value.string_value: invalid UTF-8"},
      {"gauge as varint", RequestOf({Len(1, "g") + Var(5, 1)}),
       "metrics[0].gauge: wire type 0 (varint), expected 2 (length-delimited)"},
      {"group in an unknown field", RequestOf({Len(1, "g") + Key(20, 3)}),
       "metrics[0].field 20: groups are not used by OTLP"},
  };
  for (const Malformed& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(DecodeMetricsRequestProto(c.body), StatusIs(c.code, HasSubstr(c.message)));
  }
  // The message ends with the byte offset of the field.
  EXPECT_THAT(DecodeMetricsRequestProto(RequestOf({Len(1, "h") + Len(9, Len(1, Var(4, 1)))})),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("(at byte 13)")));
  // Every strict prefix of a request (one that does not end between two fields) is refused.
  const std::string full = RequestOf(
      {Len(1, "h") + Len(9, Len(1, Fix64(4, 2) + PackedFixed64(6, {1, 1}) + Dbl(11, 0.5)))});
  ASSERT_OK(DecodeMetricsRequestProto(full));
  for (size_t n = 1; n < full.size(); ++n) {
    EXPECT_THAT(DecodeMetricsRequestProto(full.substr(0, n)),
                StatusIs(StatusCode::kInvalidArgument))
        << n;
  }
}

TEST(DecodeMetricsProto, LimitsAreResourceExhausted) {
  const std::string body = RequestOf({Len(1, "g")});
  EXPECT_THAT(DecodeMetricsRequestProto(body, {.max_body_bytes = body.size() - 1}),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("exceeds the limit")));
  // 4000 packed varint counts: one byte each on the wire, eight in memory.
  const std::string counts = Len(8, PackedVarints(2, std::vector<uint64_t>(4000, 1)));
  const std::string many = RequestOf({Len(1, "e") + Len(10, Len(1, counts))});
  EXPECT_OK(DecodeMetricsRequestProto(many));
  EXPECT_THAT(DecodeMetricsRequestProto(many, {.max_decoded_bytes = 20000}),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("max_decoded_bytes")));
  std::string deep = Len(1, "leaf");
  for (int i = 0; i < 3; ++i) deep = Len(5, Len(1, deep));
  const std::string nested = RequestOf({Len(1, "m") + Len(12, Len(1, "k") + Len(2, deep))});
  EXPECT_OK(DecodeMetricsRequestProto(nested, {.max_value_depth = 4}));
  EXPECT_THAT(DecodeMetricsRequestProto(nested, {.max_value_depth = 3}),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("deeper than 3 levels")));
}

// ---- JSON

TEST(DecodeMetricsJson, EveryDataType) {
  const std::string body = R"({"resourceMetrics":[{
    "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}],
                "droppedAttributesCount":1},
    "scopeMetrics":[{
      "scope":{"name":"meter","version":"2.0"},
      "metrics":[
        {"name":"g","description":"a gauge","unit":"1",
         "metadata":[{"key":"m","value":{"stringValue":"v"}}],
         "gauge":{"dataPoints":[{"attributes":[{"key":"k","value":{"stringValue":"a"}}],
                                 "timeUnixNano":"1700000000000000001","asInt":"-5","flags":1}]}},
        {"name":"s","unit":"By",
         "sum":{"dataPoints":[{"startTimeUnixNano":10,"timeUnixNano":"20","asDouble":2.5},
                              {"timeUnixNano":30}],
                "aggregationTemporality":2,"isMonotonic":true}},
        {"name":"h",
         "histogram":{"dataPoints":[{"attributes":[{"key":"k","value":{"stringValue":"b"}}],
                                     "startTimeUnixNano":"1","timeUnixNano":"2","count":"6",
                                     "sum":10.5,"bucketCounts":["1",2,"3"],
                                     "explicitBounds":[0.5,1],"min":-1,"max":7.25},
                                    {}],
                      "aggregationTemporality":1}},
        {"name":"e",
         "exponentialHistogram":{"dataPoints":[{"startTimeUnixNano":"3","timeUnixNano":"4",
             "count":"9","sum":0,"scale":-2,"zeroCount":"1",
             "positive":{"offset":-3,"bucketCounts":["4","300"]},
             "negative":{"offset":5,"bucketCounts":[2]},"flags":1,"min":-4,"max":1e10,
             "zeroThreshold":1e-9,"exemplars":[{"asDouble":1,"spanId":"ff"}]}],
           "aggregationTemporality":2}},
        {"name":"q",
         "summary":{"dataPoints":[{"timeUnixNano":"5","count":"3","sum":4.5,
           "quantileValues":[{"value":0.5},{"quantile":0.99,"value":3}]}]}}],
      "schemaUrl":"scope-schema"}],
    "schemaUrl":"res-schema"}]})";
  ASSERT_OK_AND_ASSIGN(MetricsRequest r, DecodeMetricsRequestJson(body));
  ExpectSame(r, EveryDataType());
}

std::string JsonRequestOf(const std::string& metrics) {
  return R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[)" + metrics + "]}]}]}";
}

TEST(DecodeMetricsJson, NullsSpecialDoublesAndUnknownKeys) {
  const std::string body =
      JsonRequestOf(R"({"name":"h","future":{"x":[1]},"gauge":null,"histogram":{"dataPoints":[)"
                    R"({"sum":null,"min":"-Infinity","max":"NaN","explicitBounds":["Infinity"],)"
                    R"("exemplars":[{"filteredAttributes":[]}],"count":1e3}]}})");
  ASSERT_OK_AND_ASSIGN(MetricsRequest r, DecodeMetricsRequestJson(body));
  const auto& p = std::get<decoded::Histogram>(OnlyMetric(r).data).data_points.at(0);
  EXPECT_FALSE(p.sum.has_value());
  EXPECT_EQ(p.min, -HUGE_VAL);
  ASSERT_TRUE(p.max.has_value());
  EXPECT_TRUE(std::isnan(*p.max));
  EXPECT_EQ(p.explicit_bounds, (std::vector<double>{HUGE_VAL}));
  EXPECT_EQ(p.count, 1000u);
}

TEST(DecodeMetricsJson, MetricsWithoutANameAreRejectedNotFatal) {
  const std::string body =
      JsonRequestOf(R"({"name":"kept"},{"unit":"1","sum":{"dataPoints":[{},{}]}},{"name":""})");
  ASSERT_OK_AND_ASSIGN(MetricsRequest r, DecodeMetricsRequestJson(body));
  EXPECT_EQ(OnlyMetric(r).name, "kept");
  EXPECT_EQ(r.rejected_data_points, 2u);
  EXPECT_EQ(r.rejection,
            "resourceMetrics[0].scopeMetrics[0].metrics[1]: the metric has no name (it is "
            "required); its 2 data points are rejected");
}

TEST(DecodeMetricsJson, GzipThroughDecodeMetricsRequest) {
  const std::string body = JsonRequestOf(R"({"name":"g"})");
  std::string gz;
  ASSERT_OK(otlp::internal::GzipCompress(body, gz));
  ASSERT_OK_AND_ASSIGN(MetricsRequest r, DecodeMetricsRequest(gz, OtlpEncoding::kJson, true));
  EXPECT_EQ(OnlyMetric(r).name, "g");
  ASSERT_OK_AND_ASSIGN(MetricsRequest plain,
                       DecodeMetricsRequest(body, OtlpEncoding::kJson, false));
  EXPECT_EQ(OnlyMetric(plain).name, "g");
}

TEST(DecodeMetricsJson, MalformedBodiesAreRefusedWithTheirMessage) {
  const std::string m = "resourceMetrics[0].scopeMetrics[0].metrics[0].";
  const Malformed cases[] = {
      {"two data members", JsonRequestOf(R"({"name":"x","gauge":{},"sum":{}})"),
       m + "sum: a second data member (gauge is already set)"},
      {"two value members",
       JsonRequestOf(R"({"name":"x","gauge":{"dataPoints":[{"asInt":1,"asDouble":2}]}})"),
       m + "gauge.dataPoints[0].asDouble: a second value member (asInt is already set)"},
      {"temporality as a name",
       JsonRequestOf(R"({"name":"x","sum":{"aggregationTemporality":"DELTA"}})"),
       m + "sum.aggregationTemporality: expected an integer (OTLP/JSON enums are numbers)"},
      {"bucket count negative",
       JsonRequestOf(R"({"name":"x","histogram":{"dataPoints":[{"bucketCounts":[1,-2]}]}})"),
       m + "histogram.dataPoints[0].bucketCounts[1]: integer out of range or not integral"},
      {"bounds not an array",
       JsonRequestOf(R"({"name":"x","histogram":{"dataPoints":[{"explicitBounds":1}]}})"),
       m + "histogram.dataPoints[0].explicitBounds: expected an array, got a number"},
      {"scale beyond 32 bits",
       JsonRequestOf(
           R"({"name":"x","exponentialHistogram":{"dataPoints":[{"scale":2147483648}]}})"),
       m + "exponentialHistogram.dataPoints[0].scale: integer out of range"},
      {"quantile as text",
       JsonRequestOf(
           R"({"name":"x","summary":{"dataPoints":[{"quantileValues":[{"quantile":"q"}]}]}})"),
       m + R"(summary.dataPoints[0].quantileValues[0].quantile: expected a number, got "q")"},
      {"monotonic as a string", JsonRequestOf(R"({"name":"x","sum":{"isMonotonic":"true"}})"),
       m + "sum.isMonotonic: expected true or false, got a string"},
      {"metrics not an array", R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":{}}]}]})",
       "resourceMetrics[0].scopeMetrics[0].metrics: expected an array, got an object"},
      {"line and column",
       "{\"resourceMetrics\":[\n{\"scopeMetrics\":[{\"metrics\":[{\"name\":1}]}]}]}",
       m + "name: expected a string, got a number (line 2, column 38)"},
  };
  for (const Malformed& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(DecodeMetricsRequestJson(c.body), StatusIs(c.code, HasSubstr(c.message)));
  }
  const std::string full = JsonRequestOf(
      R"({"name":"h","histogram":{"dataPoints":[{"count":"2","bucketCounts":[1,1]}]}})");
  ASSERT_OK(DecodeMetricsRequestJson(full));
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_THAT(DecodeMetricsRequestJson(full.substr(0, n)), StatusIs(StatusCode::kInvalidArgument))
        << n;
  }
}

TEST(DecodeMetricsJson, LimitsAreResourceExhausted) {
  const std::string body = JsonRequestOf(R"({"name":"g"})");
  EXPECT_THAT(DecodeMetricsRequestJson(body, {.max_body_bytes = body.size() - 1}),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("exceeds the limit")));
  std::string counts;
  for (int i = 0; i < 4000; ++i) counts += i ? ",1" : "1";
  const std::string many = JsonRequestOf(
      R"({"name":"h","histogram":{"dataPoints":[{"bucketCounts":[)" + counts + "]}]}}");
  EXPECT_OK(DecodeMetricsRequestJson(many));
  EXPECT_THAT(DecodeMetricsRequestJson(many, {.max_decoded_bytes = 20000}),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("max_decoded_bytes")));
}

}  // namespace
}  // namespace otlp::exporter
