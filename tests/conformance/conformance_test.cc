// Conformance of the OTLP trace encoder with an independent decoder: the protobufjs code that
// @opentelemetry/otlp-transformer generates from the official opentelemetry-proto files.
// Every field of a hand-built batch is encoded as protobuf and as OTLP/JSON (plain and gzip),
// decoded by decode.js, and compared field by field with values written out here by hand.
//
// Needs node and `npm ci` in tests/conformance; skipped with a message otherwise.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "otlp/core/internal/gzip.h"
#include "otlp/exporter/otlp_encoder.h"
#include "otlp/trace/resource.h"
#include "tests/conformance/conformance_support.h"
#include "tests/support/status_matchers.h"

namespace otlp::exporter {
namespace {

using trace::EventData;
using trace::InstrumentationScope;
using trace::LinkData;
using trace::Resource;
using trace::SpanContext;
using trace::SpanData;
using trace::SpanId;
using trace::SpanKind;
using trace::SpanStatusCode;
using trace::TraceFlags;
using trace::TraceId;
using trace::TraceState;

using test::ExpectedFields;
using test::NodeResult;
using test::Q;

namespace fs = std::filesystem;

std::string Gzip(const std::string& in) {
  std::string out;
  EXPECT_OK(otlp::internal::GzipCompress(in, out));
  return out;
}

// Runs decode.js on `body` (written to a temporary file).
NodeResult Decode(const std::string& body, const std::string& args) {
  static int counter = 0;
  const std::string file = testing::TempDir() + "otlp_conformance_" + std::to_string(getpid()) +
                           "_" + std::to_string(counter++) + ".bin";
  {
    std::ofstream f(file, std::ios::binary);
    f.write(body.data(), static_cast<std::streamsize>(body.size()));
  }
  NodeResult r = test::RunNodeScript("decode.js", args + " '" + file + "'");
  fs::remove(file);
  return r;
}

// decode.js --flat output as path -> value.
std::map<std::string, std::string> Flat(const std::string& body, const std::string& args) {
  return test::ParseFlatOutput(Decode(body, args + " --flat"), "decode.js");
}

TraceId MakeTraceId(uint8_t first) {
  uint8_t b[16];
  for (int i = 0; i < 16; ++i) b[i] = static_cast<uint8_t>(first + i);
  return TraceId(b);
}
SpanId MakeSpanId(uint8_t first) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(first + i);
  return SpanId(b);
}

constexpr int64_t kStart = 1700000000123456789;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// A batch touching every field of the OTLP trace messages, over two resources (plus spans
// with none) and two scopes.
struct Fixture {
  Resource r1, r2;
  InstrumentationScope s1, s2;
  std::vector<SpanData> spans;

  // Array attribute storage.
  const std::string_view strs[3] = {"a", "", "\xc3\xbc"};
  const int64_t ints[3] = {1, -2, std::numeric_limits<int64_t>::max()};
  const double doubles[3] = {1.5, kNaN, -kInf};
  const bool bools[2] = {true, false};

  Fixture() {
    OwnedAttributes ra;
    ra.Set("service.name", AttributeValue("conf-svc"));
    ra.Set("res.int", AttributeValue(42));
    ra.Set("res.bool", AttributeValue(true));
    ra.Set("res.double", AttributeValue(2.5));
    ra.Set("res.strs", OwnedAttributeValue(std::vector<std::string>{"a", "b"}));
    ra.Set("res.bools", OwnedAttributeValue(std::vector<bool>{true, false}));
    ra.Set("res.ints", OwnedAttributeValue(std::vector<int64_t>{-1, int64_t{1} << 40}));
    ra.Set("res.doubles", OwnedAttributeValue(std::vector<double>{0.5, -1e300}));
    r1 = Resource(ra, "https://opentelemetry.io/schemas/1.24.0");
    OwnedAttributes rb;
    rb.Set("service.name", AttributeValue("other"));
    r2 = Resource(rb);
    s1.name = "conf.lib";
    s1.version = "1.2.3";
    s1.schema_url = "https://example.com/scope-schema";
    s1.attributes.Set("scope.attr", AttributeValue("x"));
    s1.attributes.Set("scope.n", AttributeValue(7));
    s2.name = "second.lib";

    spans.resize(5);
    // A: every span field.
    SpanData& a = spans[0];
    a.context = SpanContext(MakeTraceId(1), MakeSpanId(0xa1), TraceFlags(1), false,
                            TraceState::FromHeader("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"));
    a.parent_span_id = MakeSpanId(0xb1);
    a.parent_is_remote = true;
    a.name = "GET /items/{id}";
    a.kind = SpanKind::kClient;
    a.start_unix_nano = kStart;
    a.end_unix_nano = kStart + 100000000;
    a.attributes = {
        {"http.method", "GET"},
        {"http.status", 200},
        {"min", std::numeric_limits<int64_t>::min()},
        {"max", std::numeric_limits<int64_t>::max()},
        {"zero", 0},
        {"ok", true},
        {"no", false},
        {"ratio", 0.25},
        {"nan", kNaN},
        {"inf", kInf},
        {"ninf", -kInf},
        {"empty", ""},
        {"unicode", "h\xc3\xa9llo \xe2\x82\xac\xf0\x9f\x98\x80"},
        {"escapes", "q\" b\\ n\n t\t c\x01 /"},
        {"strs", std::span<const std::string_view>(strs)},
        {"ints", std::span<const int64_t>(ints)},
        {"doubles", std::span<const double>(doubles)},
        {"bools", std::span<const bool>(bools)},
        {"none", std::span<const int64_t>()},
    };
    a.dropped_attributes_count = 3;
    a.event_attributes = {
        {"exception.type", "std::runtime_error"}, {"exception.message", "boom"}, {"count", 2}};
    a.events = {EventData{.name = "exception",
                          .time_unix_nano = kStart + 1000,
                          .attr_begin = 0,
                          .attr_count = 3,
                          .dropped_attributes_count = 1},
                EventData{.name = "mark", .time_unix_nano = kStart + 2}};
    a.dropped_events_count = 4;
    a.link_attributes = {{"link.kind", "follows"}, {"n", 1}};
    a.links = {LinkData{.context = SpanContext(MakeTraceId(0x11), MakeSpanId(0x21), TraceFlags(1),
                                               true, TraceState::FromHeader("k=v")),
                        .attr_begin = 0,
                        .attr_count = 2,
                        .dropped_attributes_count = 2},
               LinkData{.context = SpanContext(MakeTraceId(0x31), MakeSpanId(0x41), TraceFlags(0),
                                               false)}};
    a.dropped_links_count = 5;
    a.status_code = SpanStatusCode::kError;
    a.status_message = "something failed";
    a.resource = &r1;
    a.scope = &s1;
    // B: root, not sampled, status OK without message, second scope.
    SpanData& b = spans[1];
    b.context = SpanContext(MakeTraceId(2), MakeSpanId(0xc1), TraceFlags(0), false);
    b.name = "root";
    b.kind = SpanKind::kServer;
    b.start_unix_nano = kStart;
    b.end_unix_nano = kStart + 5;
    b.status_code = SpanStatusCode::kOk;
    b.resource = &r1;
    b.scope = &s2;
    // C: second resource.
    SpanData& c = spans[2];
    c.context = SpanContext(MakeTraceId(3), MakeSpanId(0xd1), TraceFlags(1), false);
    c.parent_span_id = MakeSpanId(0xe1);
    c.name = "publish";
    c.kind = SpanKind::kProducer;
    c.start_unix_nano = 1;
    c.end_unix_nano = 2;
    c.resource = &r2;
    c.scope = &s1;
    // D: grouped with A.
    SpanData& d = spans[3];
    d.context = SpanContext(MakeTraceId(4), MakeSpanId(0xf1), TraceFlags(1), false);
    d.name = "consume";
    d.kind = SpanKind::kConsumer;
    d.start_unix_nano = 3;
    d.end_unix_nano = 4;
    d.resource = &r1;
    d.scope = &s1;
    // E: no resource, no scope, nothing optional.
    SpanData& e = spans[4];
    e.context = SpanContext(MakeTraceId(5), MakeSpanId(0x01), TraceFlags(0), false);
  }

  std::vector<const SpanData*> Ptrs() const {
    std::vector<const SpanData*> p;
    for (const SpanData& s : spans) p.push_back(&s);
    return p;
  }

  static ExpectedFields Expected() {
    ExpectedFields x;
    // resourceSpans[0]: r1 with scope s1 (A, D) then s2 (B).
    const std::string r0 = "resourceSpans[0]";
    const std::string ra = r0 + ".resource.attributes";
    x.Attr(ra, 0, "service.name", "stringValue", Q("conf-svc"));
    x.Attr(ra, 1, "res.int", "intValue", Q("42"));
    x.Attr(ra, 2, "res.bool", "boolValue", "true");
    x.Attr(ra, 3, "res.double", "doubleValue", "2.5");
    x.ArrayAttr(ra, 4, "res.strs", {{"stringValue", "\"a\""}, {"stringValue", "\"b\""}});
    x.ArrayAttr(ra, 5, "res.bools", {{"boolValue", "true"}, {"boolValue", "false"}});
    x.ArrayAttr(ra, 6, "res.ints", {{"intValue", "\"-1\""}, {"intValue", "\"1099511627776\""}});
    x.ArrayAttr(ra, 7, "res.doubles", {{"doubleValue", "0.5"}, {"doubleValue", "-1e+300"}});
    x.Str(r0 + ".schemaUrl", "https://opentelemetry.io/schemas/1.24.0");

    const std::string ss0 = r0 + ".scopeSpans[0]";
    x.Str(ss0 + ".scope.name", "conf.lib");
    x.Str(ss0 + ".scope.version", "1.2.3");
    x.Attr(ss0 + ".scope.attributes", 0, "scope.attr", "stringValue", "\"x\"");
    x.Attr(ss0 + ".scope.attributes", 1, "scope.n", "intValue", "\"7\"");
    x.Str(ss0 + ".schemaUrl", "https://example.com/scope-schema");

    const std::string a = ss0 + ".spans[0]";
    x.Str(a + ".traceId", "0102030405060708090a0b0c0d0e0f10");
    x.Str(a + ".spanId", "a1a2a3a4a5a6a7a8");
    x.Str(a + ".traceState", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    x.Str(a + ".parentSpanId", "b1b2b3b4b5b6b7b8");
    x.Add(a + ".flags", "769");  // sampled | 0x100 | 0x200 (remote parent)
    x.Str(a + ".name", "GET /items/{id}");
    x.Add(a + ".kind", "3");
    x.Str(a + ".startTimeUnixNano", "1700000000123456789");
    x.Str(a + ".endTimeUnixNano", "1700000000223456789");
    const std::string aa = a + ".attributes";
    x.Attr(aa, 0, "http.method", "stringValue", "\"GET\"");
    x.Attr(aa, 1, "http.status", "intValue", "\"200\"");
    x.Attr(aa, 2, "min", "intValue", "\"-9223372036854775808\"");
    x.Attr(aa, 3, "max", "intValue", "\"9223372036854775807\"");
    x.Attr(aa, 4, "zero", "intValue", "\"0\"");
    x.Attr(aa, 5, "ok", "boolValue", "true");
    x.Attr(aa, 6, "no", "boolValue", "false");
    x.Attr(aa, 7, "ratio", "doubleValue", "0.25");
    x.Attr(aa, 8, "nan", "doubleValue", "\"NaN\"");
    x.Attr(aa, 9, "inf", "doubleValue", "\"Infinity\"");
    x.Attr(aa, 10, "ninf", "doubleValue", "\"-Infinity\"");
    x.Attr(aa, 11, "empty", "stringValue", "\"\"");
    x.Attr(aa, 12, "unicode", "stringValue", "\"h\xc3\xa9llo \xe2\x82\xac\xf0\x9f\x98\x80\"");
    x.Attr(aa, 13, "escapes", "stringValue", "\"q\\\" b\\\\ n\\n t\\t c\\u0001 /\"");
    x.ArrayAttr(
        aa, 14, "strs",
        {{"stringValue", "\"a\""}, {"stringValue", "\"\""}, {"stringValue", "\"\xc3\xbc\""}});
    x.ArrayAttr(
        aa, 15, "ints",
        {{"intValue", "\"1\""}, {"intValue", "\"-2\""}, {"intValue", "\"9223372036854775807\""}});
    x.ArrayAttr(
        aa, 16, "doubles",
        {{"doubleValue", "1.5"}, {"doubleValue", "\"NaN\""}, {"doubleValue", "\"-Infinity\""}});
    x.ArrayAttr(aa, 17, "bools", {{"boolValue", "true"}, {"boolValue", "false"}});
    x.ArrayAttr(aa, 18, "none", {});
    x.Add(a + ".droppedAttributesCount", "3");
    x.Str(a + ".events[0].name", "exception");
    x.Str(a + ".events[0].timeUnixNano", "1700000000123457789");
    x.Attr(a + ".events[0].attributes", 0, "exception.type", "stringValue",
           "\"std::runtime_error\"");
    x.Attr(a + ".events[0].attributes", 1, "exception.message", "stringValue", "\"boom\"");
    x.Attr(a + ".events[0].attributes", 2, "count", "intValue", "\"2\"");
    x.Add(a + ".events[0].droppedAttributesCount", "1");
    x.Str(a + ".events[1].name", "mark");
    x.Str(a + ".events[1].timeUnixNano", "1700000000123456791");
    x.Add(a + ".droppedEventsCount", "4");
    x.Str(a + ".links[0].traceId", "1112131415161718191a1b1c1d1e1f20");
    x.Str(a + ".links[0].spanId", "2122232425262728");
    x.Str(a + ".links[0].traceState", "k=v");
    x.Attr(a + ".links[0].attributes", 0, "link.kind", "stringValue", "\"follows\"");
    x.Attr(a + ".links[0].attributes", 1, "n", "intValue", "\"1\"");
    x.Add(a + ".links[0].droppedAttributesCount", "2");
    x.Add(a + ".links[0].flags", "769");  // sampled | 0x100 | 0x200 (remote)
    x.Str(a + ".links[1].traceId", "3132333435363738393a3b3c3d3e3f40");
    x.Str(a + ".links[1].spanId", "4142434445464748");
    x.Add(a + ".links[1].flags", "256");
    x.Add(a + ".droppedLinksCount", "5");
    x.Str(a + ".status.message", "something failed");
    x.Add(a + ".status.code", "2");

    const std::string d = ss0 + ".spans[1]";
    x.Str(d + ".traceId", "0405060708090a0b0c0d0e0f10111213");
    x.Str(d + ".spanId", "f1f2f3f4f5f6f7f8");
    x.Add(d + ".flags", "257");
    x.Str(d + ".name", "consume");
    x.Add(d + ".kind", "5");
    x.Str(d + ".startTimeUnixNano", "3");
    x.Str(d + ".endTimeUnixNano", "4");

    const std::string ss1 = r0 + ".scopeSpans[1]";
    x.Str(ss1 + ".scope.name", "second.lib");
    const std::string b = ss1 + ".spans[0]";
    x.Str(b + ".traceId", "02030405060708090a0b0c0d0e0f1011");
    x.Str(b + ".spanId", "c1c2c3c4c5c6c7c8");
    x.Add(b + ".flags", "256");
    x.Str(b + ".name", "root");
    x.Add(b + ".kind", "2");
    x.Str(b + ".startTimeUnixNano", "1700000000123456789");
    x.Str(b + ".endTimeUnixNano", "1700000000123456794");
    x.Add(b + ".status.code", "1");

    // resourceSpans[1]: r2 with s1 (C).
    const std::string rs1 = "resourceSpans[1]";
    x.Attr(rs1 + ".resource.attributes", 0, "service.name", "stringValue", "\"other\"");
    const std::string ss2 = rs1 + ".scopeSpans[0]";
    x.Str(ss2 + ".scope.name", "conf.lib");
    x.Str(ss2 + ".scope.version", "1.2.3");
    x.Attr(ss2 + ".scope.attributes", 0, "scope.attr", "stringValue", "\"x\"");
    x.Attr(ss2 + ".scope.attributes", 1, "scope.n", "intValue", "\"7\"");
    x.Str(ss2 + ".schemaUrl", "https://example.com/scope-schema");
    const std::string c = ss2 + ".spans[0]";
    x.Str(c + ".traceId", "030405060708090a0b0c0d0e0f101112");
    x.Str(c + ".spanId", "d1d2d3d4d5d6d7d8");
    x.Str(c + ".parentSpanId", "e1e2e3e4e5e6e7e8");
    x.Add(c + ".flags", "257");
    x.Str(c + ".name", "publish");
    x.Add(c + ".kind", "4");
    x.Str(c + ".startTimeUnixNano", "1");
    x.Str(c + ".endTimeUnixNano", "2");

    // resourceSpans[2]: no resource, no scope (E).
    const std::string e = "resourceSpans[2].scopeSpans[0].spans[0]";
    x.Str(e + ".traceId", "05060708090a0b0c0d0e0f1011121314");
    x.Str(e + ".spanId", "0102030405060708");
    x.Add(e + ".flags", "256");
    x.Add(e + ".kind", "1");
    return x;
  }
};

class Conformance : public testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = test::NodeSkipReason(); !why.empty()) GTEST_SKIP() << why;
  }
  std::string Proto() const {
    std::string out;
    EncodeTraceRequestProto(fixture_.Ptrs(), out);
    return out;
  }
  std::string Json() const {
    std::string out;
    EncodeTraceRequestJson(fixture_.Ptrs(), out);
    return out;
  }
  Fixture fixture_;
};

TEST_F(Conformance, ProtobufRoundTripsEveryField) {
  Fixture::Expected().Check(Flat(Proto(), "--format=proto --no-gzip"));
}

TEST_F(Conformance, JsonRoundTripsEveryField) {
  // decode.js enforces the OTLP/JSON sender rules here: known keys only, hex ids, 64-bit
  // integers as strings, enums as numbers, valid UTF-8.
  Fixture::Expected().Check(Flat(Json(), "--format=json --no-gzip"));
}

TEST_F(Conformance, GzipBodiesRoundTrip) {
  Fixture::Expected().Check(Flat(Gzip(Proto()), "--format=proto --gzip"));
  Fixture::Expected().Check(Flat(Gzip(Json()), "--format=json --gzip"));
}

TEST_F(Conformance, ProtobufAndJsonDecodeToTheSameCanonicalRequest) {
  const NodeResult p = Decode(Proto(), "--format=proto");
  const NodeResult j = Decode(Json(), "--format=json");
  ASSERT_EQ(p.exit_code, 0) << p.output;
  ASSERT_EQ(j.exit_code, 0) << j.output;
  EXPECT_GT(p.output.size(), 1000u);
  EXPECT_EQ(p.output, j.output);
}

TEST_F(Conformance, TheDecoderRejectsBrokenBodies) {
  // Proves the checks above can fail: the same tool refuses damaged encodings.
  const std::string proto = Proto();
  EXPECT_NE(Decode(proto.substr(0, proto.size() - 3), "--format=proto").exit_code, 0);
  std::string json = Json();
  EXPECT_NE(Decode(json.substr(0, json.size() - 1), "--format=json").exit_code, 0);
  json.replace(json.find("\"startTimeUnixNano\""), 19, "\"startTimeUnixNanos\"");
  const NodeResult r = Decode(json, "--format=json");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, testing::HasSubstr("unknown OTLP/JSON field"));
}

TEST_F(Conformance, InvalidUtf8AndControlCharactersGiveValidJson) {
  SpanData s;
  s.context = SpanContext(MakeTraceId(9), MakeSpanId(9), TraceFlags(1), false);
  s.name =
      "a\xff"
      "b\x01"
      "c\xe2\x82";
  s.attributes = {{"k\xc0", "\xed\xa0\x80"}};
  std::string json;
  EncodeTraceRequestJson(std::vector<const SpanData*>{&s}, json);
  const auto got = Flat(json, "--format=json");  // decode.js decodes UTF-8 with fatal: true
  const std::string span = "resourceSpans[0].scopeSpans[0].spans[0]";
  const std::string r = "\xef\xbf\xbd";
  ASSERT_TRUE(got.count(span + ".name"));
  EXPECT_EQ(got.at(span + ".name"), "\"a" + r + "b\\u0001c" + r + "\"");
  EXPECT_EQ(got.at(span + ".attributes[0].key"), "\"k" + r + "\"");
  EXPECT_EQ(got.at(span + ".attributes[0].value.stringValue"), "\"" + r + r + r + "\"");
}

TEST_F(Conformance, LargeMixedBatch) {
  std::vector<Resource> resources(3);
  std::vector<InstrumentationScope> scopes(20);
  for (size_t i = 0; i < resources.size(); ++i) {
    OwnedAttributes a;
    a.Set("service.name", AttributeValue("svc-" + std::to_string(i)));
    resources[i] = Resource(a);
  }
  for (size_t i = 0; i < scopes.size(); ++i) scopes[i].name = "scope-" + std::to_string(i);
  std::vector<std::string> names;
  for (int i = 0; i < 3000; ++i) names.push_back(std::string(static_cast<size_t>(i % 300), 'n'));
  std::vector<SpanData> spans(3000);
  std::vector<const SpanData*> ptrs;
  for (size_t i = 0; i < spans.size(); ++i) {
    SpanData& s = spans[i];
    s.context = SpanContext(MakeTraceId(static_cast<uint8_t>(i)),
                            MakeSpanId(static_cast<uint8_t>(i + 1)), TraceFlags(1), false);
    s.name = names[i];
    s.kind = SpanKind::kInternal;
    s.start_unix_nano = kStart + static_cast<int64_t>(i);
    s.end_unix_nano = kStart + static_cast<int64_t>(i) * 2;
    s.attributes = {
        {"i", static_cast<int64_t>(i)}, {"name", names[i]}, {"d", 0.5 * static_cast<double>(i)}};
    s.resource = &resources[i % resources.size()];
    s.scope = &scopes[(i * 7) % scopes.size()];
    ptrs.push_back(&s);
  }
  std::string proto, json;
  EncodeTraceRequestProto(ptrs, proto);
  EncodeTraceRequestJson(ptrs, json);
  const NodeResult p = Decode(Gzip(proto), "--format=proto");
  const NodeResult j = Decode(json, "--format=json");
  ASSERT_EQ(p.exit_code, 0) << p.output.substr(0, 500);
  ASSERT_EQ(j.exit_code, 0) << j.output.substr(0, 500);
  EXPECT_EQ(p.output, j.output);
  const auto flat = Flat(proto, "--format=proto");
  size_t span_count = 0;
  for (const auto& [path, value] : flat) {
    if (path.size() > 7 && path.compare(path.size() - 7, 7, ".spanId") == 0 &&
        path.find(".links[") == std::string::npos) {
      ++span_count;
    }
  }
  EXPECT_EQ(span_count, spans.size());
  EXPECT_EQ(flat.count("resourceSpans[2].resource.attributes[0].key"), 1u);
  EXPECT_EQ(flat.count("resourceSpans[3].resource.attributes[0].key"), 0u);
}

}  // namespace
}  // namespace otlp::exporter
