// The OTLP request decoder on hand-built bodies: every field of both encodings, the proto3 and
// OTLP/JSON rules (unknown fields, null, numbers as strings, merging), spans rejected for their
// ids, and a table of malformed bodies, each refused with its message.
#include "otlp/exporter/otlp_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "otlp/core/internal/gzip.h"
#include "otlp/core/internal/varint.h"
#include "tests/support/span_fixtures.h"
#include "tests/support/proto_builders.h"
#include "tests/support/status_matchers.h"

namespace otlp::exporter {
namespace {

using decoded::AnyValue;
using decoded::TraceRequest;
using test::B;
using test::Sid;
using test::SidBytes;
using test::Tid;
using test::TidBytes;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// ---- protobuf builders

using test::Fix32;
using test::Fix64;
using test::Key;
using test::Len;
using test::Var;

// A span with valid ids and a name, plus `extra` fields.
std::string SpanBody(const std::string& extra = {}) {
  return Len(1, TidBytes()) + Len(2, SidBytes()) + Len(5, "op") + extra;
}
// A request around span bodies (one resource, one scope).
std::string RequestOf(const std::vector<std::string>& span_bodies, const std::string& resource = {},
                      const std::string& scope = {}) {
  std::string scope_spans = scope.empty() ? "" : Len(1, scope);
  for (const std::string& s : span_bodies) scope_spans += Len(2, s);
  std::string rs = (resource.empty() ? "" : Len(1, resource)) + Len(2, scope_spans);
  return Len(1, rs);
}
std::string KeyValue(std::string_view key, const std::string& any_value) {
  return Len(1, key) + Len(2, any_value);
}

const decoded::Span& OnlySpan(const TraceRequest& r) {
  static const decoded::Span kNone;
  if (r.resource_spans.size() != 1 || r.resource_spans[0].scope_spans.size() != 1 ||
      r.resource_spans[0].scope_spans[0].spans.size() != 1) {
    ADD_FAILURE() << "expected exactly one span, got " << r.span_count();
    return kNone;
  }
  return r.resource_spans[0].scope_spans[0].spans[0];
}

AnyValue Str(std::string s) {
  return AnyValue{std::move(s)};
}
AnyValue Int(int64_t v) {
  return AnyValue{v};
}

// What the EveryField bodies below hold, in either encoding.
void ExpectEveryField(const TraceRequest& r) {
  ASSERT_THAT(r.resource_spans, SizeIs(1));
  const decoded::ResourceSpans& rs = r.resource_spans[0];
  EXPECT_EQ(rs.schema_url, "res-schema");
  EXPECT_EQ(rs.resource.dropped_attributes_count, 11u);
  const std::vector<decoded::KeyValue> want_attrs = {
      {"s", Str("v")},
      {"b", AnyValue{true}},
      {"i", Int(-7)},
      {"d", AnyValue{1.5}},
      {"a", AnyValue{AnyValue::Array{Int(1), Str("x")}}},
      {"kv", AnyValue{AnyValue::KeyValueList{{"in", AnyValue{false}}}}},
      {"by", AnyValue{AnyValue::Bytes{0, 1, 0xff}}},
      {"none", AnyValue{}},
  };
  EXPECT_EQ(rs.resource.attributes, want_attrs);
  ASSERT_THAT(rs.scope_spans, SizeIs(1));
  const decoded::ScopeSpans& ss = rs.scope_spans[0];
  EXPECT_EQ(ss.schema_url, "scope-schema");
  EXPECT_EQ(ss.scope.name, "lib");
  EXPECT_EQ(ss.scope.version, "1.2");
  EXPECT_EQ(ss.scope.attributes, (std::vector<decoded::KeyValue>{{"sa", Int(1)}}));
  EXPECT_EQ(ss.scope.dropped_attributes_count, 12u);
  const decoded::Span& s = OnlySpan(r);
  EXPECT_EQ(s.trace_id, Tid());
  EXPECT_EQ(s.span_id, Sid());
  EXPECT_EQ(s.trace_state, "k=v");
  EXPECT_TRUE(s.has_parent());
  EXPECT_EQ(s.parent_span_id.ToHex(), "0102030405060708");
  EXPECT_EQ(s.name, "name");
  EXPECT_EQ(s.kind, 3);
  EXPECT_EQ(s.start_time_unix_nano, 1700000000000000001u);
  EXPECT_EQ(s.end_time_unix_nano, 1700000000000000002u);
  EXPECT_EQ(s.attributes, (std::vector<decoded::KeyValue>{{"s", Str("v")}}));
  EXPECT_EQ(s.dropped_attributes_count, 4u);
  ASSERT_THAT(s.events, SizeIs(1));
  EXPECT_EQ(s.events[0], (decoded::Event{5, "ev", {{"e", Int(9)}}, 6}));
  EXPECT_EQ(s.dropped_events_count, 7u);
  ASSERT_THAT(s.links, SizeIs(1));
  EXPECT_EQ(s.links[0], (decoded::Link{Tid(), Sid(), "l=1", {{"l", AnyValue{true}}}, 8, 0x301}));
  EXPECT_EQ(s.dropped_links_count, 9u);
  EXPECT_EQ(s.status, (decoded::Status{"boom", 2}));
  EXPECT_EQ(s.flags, 0x101u);
  EXPECT_EQ(r.rejected_spans, 0u);
  EXPECT_EQ(r.rejection, "");
}

TEST(DecodeProto, EveryField) {
  // Resource attributes (field 1), one of each AnyValue kind.
  const std::string resource_attrs =
      Len(1, KeyValue("s", Len(1, "v"))) + Len(1, KeyValue("b", Var(2, 1))) +
      Len(1, KeyValue("i", Var(3, static_cast<uint64_t>(-7)))) +
      Len(1, KeyValue("d", Fix64(4, 0x3FF8000000000000))) +
      Len(1, KeyValue("a", Len(5, Len(1, Var(3, 1)) + Len(1, Len(1, "x"))))) +
      Len(1, KeyValue("kv", Len(6, Len(1, KeyValue("in", Var(2, 0)))))) +
      Len(1, KeyValue("by", Len(7, B({0, 1, 0xff})))) + Len(1, KeyValue("none", ""));
  const std::string span =
      Len(1, TidBytes()) + Len(2, SidBytes()) + Len(3, "k=v") +
      Len(4, B({1, 2, 3, 4, 5, 6, 7, 8})) + Len(5, "name") + Var(6, 3) +
      Fix64(7, 1700000000000000001) + Fix64(8, 1700000000000000002) +
      Len(9, KeyValue("s", Len(1, "v"))) + Var(10, 4) +
      Len(11, Fix64(1, 5) + Len(2, "ev") + Len(3, KeyValue("e", Var(3, 9))) + Var(4, 6)) +
      Var(12, 7) +
      Len(13, Len(1, TidBytes()) + Len(2, SidBytes()) + Len(3, "l=1") +
                  Len(4, KeyValue("l", Var(2, 1))) + Var(5, 8) + Fix32(6, 0x301)) +
      Var(14, 9) + Len(15, Len(2, "boom") + Var(3, 2)) + Fix32(16, 0x101);
  const std::string resource = resource_attrs + Var(2, 11);
  const std::string scope =
      Len(1, "lib") + Len(2, "1.2") + Len(3, KeyValue("sa", Var(3, 1))) + Var(4, 12);
  const std::string body =
      Len(1, Len(1, resource) + Len(2, Len(1, scope) + Len(2, span) + Len(3, "scope-schema")) +
                 Len(3, "res-schema"));
  ASSERT_OK_AND_ASSIGN(TraceRequest r, DecodeTraceRequestProto(body));
  ExpectEveryField(r);
}

TEST(DecodeProto, EmptyBodyIsAnEmptyRequest) {
  ASSERT_OK_AND_ASSIGN(TraceRequest r, DecodeTraceRequestProto(""));
  EXPECT_THAT(r.resource_spans, SizeIs(0));
  EXPECT_EQ(r.span_count(), 0u);
}

TEST(DecodeProto, UnknownFieldsOfEveryWireTypeAreSkippedAtEveryLevel) {
  const std::string unknown = Var(100, 5) + Fix64(101, 6) + Len(102, "zz") + Fix32(103, 7);
  const std::string span = SpanBody(unknown + Len(11, Len(2, "e") + unknown) +
                                    Len(9, KeyValue("k", Len(1, "v") + unknown) + unknown));
  const std::string body =
      unknown + Len(1, unknown + Len(2, unknown + Len(2, span) + Len(1, Len(1, "s") + unknown)) +
                           Len(1, Len(1, KeyValue("r", Var(2, 1))) + unknown));
  ASSERT_OK_AND_ASSIGN(TraceRequest r, DecodeTraceRequestProto(body));
  const decoded::Span& s = OnlySpan(r);
  EXPECT_EQ(s.name, "op");
  ASSERT_THAT(s.events, SizeIs(1));
  EXPECT_EQ(s.events[0].name, "e");
  EXPECT_EQ(s.attributes, (std::vector<decoded::KeyValue>{{"k", Str("v")}}));
  EXPECT_EQ(r.resource_spans[0].scope_spans[0].scope.name, "s");
  EXPECT_EQ(r.resource_spans[0].resource.attributes,
            (std::vector<decoded::KeyValue>{{"r", AnyValue{true}}}));
}

TEST(DecodeProto, LastScalarWinsAndMessagesMerge) {
  // name twice: the last one; resource twice: attributes of both; status twice: merged fields.
  const std::string span = SpanBody(Len(5, "second") + Len(15, Len(2, "m")) + Len(15, Var(3, 1)));
  const std::string rs = Len(1, Len(1, KeyValue("a", Var(3, 1)))) + Len(2, Len(2, span)) +
                         Len(1, Len(1, KeyValue("b", Var(3, 2))));
  ASSERT_OK_AND_ASSIGN(TraceRequest r, DecodeTraceRequestProto(Len(1, rs)));
  const decoded::Span& s = OnlySpan(r);
  EXPECT_EQ(s.name, "second");
  EXPECT_EQ(s.status, (decoded::Status{"m", 1}));
  EXPECT_EQ(r.resource_spans[0].resource.attributes,
            (std::vector<decoded::KeyValue>{{"a", Int(1)}, {"b", Int(2)}}));
}

TEST(DecodeProto, NegativeEnumsAndTruncatedCounts) {
  // int32 enums are sign-extended 10-byte varints; uint32 counts keep the low 32 bits.
  const std::string span =
      SpanBody(Var(6, static_cast<uint64_t>(int64_t{-1})) + Var(10, (uint64_t{1} << 32) + 3));
  ASSERT_OK_AND_ASSIGN(TraceRequest r, DecodeTraceRequestProto(RequestOf({span})));
  EXPECT_EQ(OnlySpan(r).kind, -1);
  EXPECT_EQ(OnlySpan(r).dropped_attributes_count, 3u);
}

TEST(DecodeProto, SpansWithoutValidIdsAreRejectedNotFatal) {
  const std::string zero_trace(16, '\0'), zero_span(8, '\0');
  const std::vector<std::string> spans = {
      SpanBody(),                                                   // kept
      Len(2, SidBytes()) + Len(5, "no trace id"),                   // rejected: missing
      Len(1, zero_trace) + Len(2, SidBytes()),                      // rejected: all zero
      Len(1, TidBytes()) + Len(2, zero_span),                       // rejected: span id all zero
      Len(1, TidBytes()) + Len(2, SidBytes()) + Len(4, zero_span),  // kept: zero parent = root
  };
  ASSERT_OK_AND_ASSIGN(TraceRequest r, DecodeTraceRequestProto(RequestOf(spans)));
  EXPECT_EQ(r.span_count(), 2u);
  EXPECT_EQ(r.rejected_spans, 3u);
  EXPECT_EQ(r.rejection,
            "resource_spans[0].scope_spans[0].spans[1]: the trace_id is missing or all zero (it "
            "is required)");
  EXPECT_FALSE(r.resource_spans[0].scope_spans[0].spans[1].has_parent());
}

TEST(DecodeProto, LinksKeepWhateverIdsTheyHave) {
  const std::string span =
      SpanBody(Len(13, Len(3, "k=v")) + Len(13, Len(1, std::string(16, '\0'))));
  ASSERT_OK_AND_ASSIGN(TraceRequest r, DecodeTraceRequestProto(RequestOf({span})));
  ASSERT_THAT(OnlySpan(r).links, SizeIs(2));
  EXPECT_FALSE(OnlySpan(r).links[0].trace_id.IsValid());
  EXPECT_EQ(OnlySpan(r).links[0].trace_state, "k=v");
  EXPECT_FALSE(OnlySpan(r).links[1].span_id.IsValid());
}

TEST(DecodeProto, GzipThroughDecodeTraceRequest) {
  const std::string body = RequestOf({SpanBody()});
  std::string gz;
  ASSERT_OK(otlp::internal::GzipCompress(body, gz));
  ASSERT_OK_AND_ASSIGN(TraceRequest r, DecodeTraceRequest(gz, OtlpEncoding::kProtobuf, true));
  EXPECT_EQ(OnlySpan(r).name, "op");
  EXPECT_THAT(DecodeTraceRequest(body, OtlpEncoding::kProtobuf, true),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("bad gzip body")));
  // The inflated size counts against max_body_bytes.
  EXPECT_THAT(
      DecodeTraceRequest(gz, OtlpEncoding::kProtobuf, true, {.max_body_bytes = body.size() - 1}),
      StatusIs(StatusCode::kResourceExhausted, HasSubstr("inflated gzip body exceeds")));
}

// One malformed body and the message (a substring) it must be refused with.
struct Malformed {
  std::string name;
  std::string body;
  std::string message;
  StatusCode code = StatusCode::kInvalidArgument;
};

std::string SpanPath(std::string_view field) {
  return "resource_spans[0].scope_spans[0].spans[0]." + std::string(field);
}

TEST(DecodeProto, MalformedBodiesAreRefusedWithTheirMessage) {
  std::string deep = Len(1, "leaf");                         // AnyValue{string_value}
  for (int i = 0; i < 40; ++i) deep = Len(5, Len(1, deep));  // wrapped in ArrayValues
  const std::string request = RequestOf({SpanBody()});
  const Malformed cases[] = {
      {"length past the end", B({0x0a, 0x05, 0x12, 0x00}),
       "resource_spans: truncated: the length runs past the end of the message (at byte 0)"},
      {"span length past the end", Len(1, Len(2, B({0x12, 0x30}) + "xx")),
       "resource_spans[0].scope_spans[0].spans: truncated"},
      {"field number 0", B({0x00, 0x01}), "malformed field key (at byte 0)"},
      {"varint past 10 bytes", RequestOf({SpanBody(Key(6, 0) + std::string(11, '\xff'))}),
       SpanPath("kind: malformed varint")},
      {"truncated fixed64", RequestOf({SpanBody(Key(7, 1) + "abc")}),
       SpanPath("start_time_unix_nano: truncated fixed64 value")},
      {"name as varint", RequestOf({SpanBody(Var(5, 1))}),
       SpanPath("name: wire type 0 (varint), expected 2 (length-delimited)")},
      {"start time as varint", RequestOf({SpanBody(Var(7, 1))}),
       SpanPath("start_time_unix_nano: wire type 0 (varint), expected 1 (fixed64)")},
      {"flags as varint", RequestOf({SpanBody(Var(16, 1))}),
       SpanPath("flags: wire type 0 (varint), expected 5 (fixed32)")},
      {"kind as bytes", RequestOf({SpanBody(Len(6, "x"))}),
       SpanPath("kind: wire type 2 (length-delimited), expected 0 (varint)")},
      {"resource as varint", Len(1, Var(1, 1)),
       "resource_spans[0].resource: wire type 0 (varint), expected 2 (length-delimited)"},
      {"trace id of 15 bytes", RequestOf({Len(1, TidBytes().substr(1)) + Len(2, SidBytes())}),
       SpanPath("trace_id: 15 bytes, expected 16")},
      {"span id of 9 bytes", RequestOf({Len(1, TidBytes()) + Len(2, SidBytes() + "x")}),
       SpanPath("span_id: 9 bytes, expected 8")},
      {"parent id of 4 bytes", RequestOf({SpanBody(Len(4, "abcd"))}),
       SpanPath("parent_span_id: 4 bytes, expected 8")},
      {"link trace id of 3 bytes", RequestOf({SpanBody(Len(13, Len(1, "abc")))}),
       SpanPath("links[0].trace_id: 3 bytes, expected 16")},
      {"name not UTF-8", RequestOf({SpanBody(Len(5, "a\xff"))}),
       SpanPath("name: invalid UTF-8 at byte 1 of the string")},
      {"surrogate in UTF-8", RequestOf({SpanBody(Len(5, "\xed\xa0\x80"))}),
       SpanPath("name: invalid UTF-8 at byte 0")},
      {"attribute key not UTF-8", RequestOf({SpanBody(Len(9, KeyValue("\xc0\x80", "")))}),
       SpanPath("attributes[0].key: invalid UTF-8")},
      {"string value not UTF-8", RequestOf({SpanBody(Len(9, KeyValue("k", Len(1, "\x80"))))}),
       SpanPath("attributes[0].value.string_value: invalid UTF-8")},
      {"scope name not UTF-8", Len(1, Len(2, Len(1, Len(1, "\xfe")))),
       "resource_spans[0].scope_spans[0].scope.name: invalid UTF-8"},
      {"group in an unknown field", RequestOf({SpanBody(Key(20, 3))}),
       SpanPath("field 20: groups are not used by OTLP")},
      {"wire type 7", RequestOf({SpanBody(Key(20, 7))}), SpanPath("field 20: invalid wire type 7")},
      {"truncated unknown field", request + Key(50, 5) + "ab", "field 50: truncated fixed32 value"},
      {"AnyValue nested too deep", RequestOf({SpanBody(Len(9, KeyValue("k", deep)))}),
       "AnyValue nested deeper than 32 levels (DecodeLimits::max_value_depth)",
       StatusCode::kResourceExhausted},
  };
  for (const Malformed& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(DecodeTraceRequestProto(c.body), StatusIs(c.code, HasSubstr(c.message)));
  }
  // Every strict prefix of a request (one that does not end between two fields) is refused.
  const std::string full = RequestOf({SpanBody(Len(9, KeyValue("k", Len(1, "v"))))});
  for (size_t n = 1; n < full.size(); ++n) {
    EXPECT_THAT(DecodeTraceRequestProto(full.substr(0, n)), StatusIs(StatusCode::kInvalidArgument))
        << n;
  }
}

TEST(DecodeProto, LimitsAreResourceExhausted) {
  const std::string body = RequestOf({SpanBody(), SpanBody()});
  EXPECT_THAT(DecodeTraceRequestProto(body, {.max_body_bytes = body.size() - 1}),
              StatusIs(StatusCode::kResourceExhausted,
                       HasSubstr("request body of " + std::to_string(body.size()) +
                                 " bytes exceeds the limit")));
  EXPECT_OK(DecodeTraceRequestProto(body, {.max_body_bytes = body.size()}));
  // Many empty attributes: two bytes each on the wire, a KeyValue each in memory.
  std::string many;
  for (int i = 0; i < 1000; ++i) many += Len(9, "");
  EXPECT_THAT(DecodeTraceRequestProto(RequestOf({SpanBody(many)}), {.max_decoded_bytes = 20000}),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("max_decoded_bytes")));
  EXPECT_OK(DecodeTraceRequestProto(RequestOf({SpanBody(many)})));
  // Nesting at the limit is fine.
  std::string deep = Len(1, "leaf");
  for (int i = 0; i < 3; ++i) deep = Len(5, Len(1, deep));
  const std::string nested = RequestOf({SpanBody(Len(9, KeyValue("k", deep)))});
  EXPECT_OK(DecodeTraceRequestProto(nested, {.max_value_depth = 4}));
  EXPECT_THAT(DecodeTraceRequestProto(nested, {.max_value_depth = 3}),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("deeper than 3 levels")));
}

// ---- JSON

constexpr std::string_view kTraceHex = "0102030405060708090a0b0c0d0e0f10";
constexpr std::string_view kSpanHex = "a1a2a3a4a5a6a708";

// A request around span objects (text inside {...}), with one resource and scope.
std::string JsonRequest(const std::vector<std::string>& spans) {
  std::string s = R"({"resourceSpans":[{"scopeSpans":[{"spans":[)";
  for (size_t i = 0; i < spans.size(); ++i) s += (i ? ",{" : "{") + spans[i] + "}";
  return s + "]}]}]}";
}
std::string JsonSpan(const std::string& extra = {}) {
  return R"("traceId":")" + std::string(kTraceHex) + R"(","spanId":")" + std::string(kSpanHex) +
         R"(","name":"op")" + (extra.empty() ? "" : "," + extra);
}

TEST(DecodeJson, EveryField) {
  const std::string body = R"({"resourceSpans":[{
    "resource":{"attributes":[
      {"key":"s","value":{"stringValue":"v"}},
      {"key":"b","value":{"boolValue":true}},
      {"key":"i","value":{"intValue":"-7"}},
      {"key":"d","value":{"doubleValue":1.5}},
      {"key":"a","value":{"arrayValue":{"values":[{"intValue":1},{"stringValue":"x"}]}}},
      {"key":"kv","value":{"kvlistValue":{"values":[{"key":"in","value":{"boolValue":false}}]}}},
      {"key":"by","value":{"bytesValue":"AAH/"}},
      {"key":"none","value":{}}],
      "droppedAttributesCount":11},
    "scopeSpans":[{
      "scope":{"name":"lib","version":"1.2","attributes":[{"key":"sa","value":{"intValue":"1"}}],
               "droppedAttributesCount":12},
      "spans":[{
        "traceId":"0102030405060708090A0B0C0D0E0F10","spanId":"a1a2a3a4a5a6a708",
        "traceState":"k=v","parentSpanId":"0102030405060708","flags":257,"name":"name",
        "kind":3,"startTimeUnixNano":"1700000000000000001","endTimeUnixNano":1700000000000000002,
        "attributes":[{"key":"s","value":{"stringValue":"v"}}],"droppedAttributesCount":4,
        "events":[{"timeUnixNano":"5","name":"ev","attributes":[{"key":"e","value":{"intValue":9}}],
                   "droppedAttributesCount":6}],
        "droppedEventsCount":7,
        "links":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"a1a2a3a4a5a6a708",
                  "traceState":"l=1","attributes":[{"key":"l","value":{"boolValue":true}}],
                  "droppedAttributesCount":8,"flags":"769"}],
        "droppedLinksCount":9,
        "status":{"message":"boom","code":2}}],
      "schemaUrl":"scope-schema"}],
    "schemaUrl":"res-schema"}]})";
  ASSERT_OK_AND_ASSIGN(TraceRequest r, DecodeTraceRequestJson(body));
  ExpectEveryField(r);
}

TEST(DecodeJson, Proto3JsonRules) {
  // Unknown keys (with nested values) are skipped; null is the default; 32-bit integers may be
  // strings, 64-bit ones numbers; exponents are fine when integral; special doubles are strings;
  // escaped keys are keys.
  const std::string span = JsonSpan(
      R"("future":{"x":[1,{"y":null}],"z":"w"},"traceState":null,"kind":2,)"
      R"("droppedAttributesCount":"3","startTimeUnixNano":17e2,"status":null,)"
      R"("na\u006de":"escaped key","attributes":[{"key":"n","value":{"doubleValue":"NaN"}},)"
      R"({"key":"p","value":{"doubleValue":"Infinity"}},)"
      R"({"key":"m","value":{"doubleValue":"-Infinity","stringValue":null}},)"
      R"({"key":"q","value":{"doubleValue":"2.5"}},{"key":"e","value":null}])");
  ASSERT_OK_AND_ASSIGN(TraceRequest r, DecodeTraceRequestJson(JsonRequest({span})));
  const decoded::Span& s = OnlySpan(r);
  EXPECT_EQ(s.name, "escaped key");
  EXPECT_EQ(s.kind, 2);
  EXPECT_EQ(s.dropped_attributes_count, 3u);
  EXPECT_EQ(s.start_time_unix_nano, 1700u);
  ASSERT_THAT(s.attributes, SizeIs(5));
  EXPECT_TRUE(std::isnan(std::get<double>(s.attributes[0].value.value)));
  EXPECT_EQ(std::get<double>(s.attributes[1].value.value), HUGE_VAL);
  EXPECT_EQ(std::get<double>(s.attributes[2].value.value), -HUGE_VAL);
  EXPECT_EQ(std::get<double>(s.attributes[3].value.value), 2.5);
  EXPECT_EQ(s.attributes[4], (decoded::KeyValue{"e", AnyValue{}}));
}

TEST(DecodeJson, SnakeCaseKeysAreNotOtlpJsonAndAreIgnored) {
  // The OTLP specification: "Original field names are not valid to use as keys". Like any
  // unknown key they are skipped, so a span keyed this way has no ids and is rejected.
  ASSERT_OK_AND_ASSIGN(TraceRequest none,
                       DecodeTraceRequestJson(R"({"resource_spans":[{"scope_spans":[]}]})"));
  EXPECT_THAT(none.resource_spans, SizeIs(0));
  const std::string span = R"("trace_id":")" + std::string(kTraceHex) + R"(","span_id":")" +
                           std::string(kSpanHex) + R"(","name":"snake")";
  ASSERT_OK_AND_ASSIGN(TraceRequest r, DecodeTraceRequestJson(JsonRequest({span, JsonSpan()})));
  EXPECT_EQ(r.span_count(), 1u);
  EXPECT_EQ(r.rejected_spans, 1u);
  EXPECT_EQ(r.rejection,
            "resourceSpans[0].scopeSpans[0].spans[0]: the traceId is missing or all zero (it is "
            "required)");
}

TEST(DecodeJson, SpansWithoutValidIdsAreRejectedNotFatal) {
  const std::vector<std::string> spans = {
      JsonSpan(),
      R"("traceId":"","spanId":")" + std::string(kSpanHex) + R"(")",
      R"("traceId":")" + std::string(32, '0') + R"(","spanId":")" + std::string(kSpanHex) + R"(")",
      R"("traceId":")" + std::string(kTraceHex) + R"(","spanId":null)",
      JsonSpan(R"("parentSpanId":"0000000000000000")"),
  };
  ASSERT_OK_AND_ASSIGN(TraceRequest r, DecodeTraceRequestJson(JsonRequest(spans)));
  EXPECT_EQ(r.span_count(), 2u);
  EXPECT_EQ(r.rejected_spans, 3u);
  EXPECT_THAT(r.rejection, HasSubstr("spans[1]: the traceId is missing"));
  EXPECT_FALSE(r.resource_spans[0].scope_spans[0].spans[1].has_parent());
}

TEST(DecodeJson, GzipThroughDecodeTraceRequest) {
  const std::string body = JsonRequest({JsonSpan()});
  std::string gz;
  ASSERT_OK(otlp::internal::GzipCompress(body, gz));
  ASSERT_OK_AND_ASSIGN(TraceRequest r, DecodeTraceRequest(gz, OtlpEncoding::kJson, true));
  EXPECT_EQ(OnlySpan(r).name, "op");
  ASSERT_OK_AND_ASSIGN(TraceRequest plain, DecodeTraceRequest(body, OtlpEncoding::kJson, false));
  EXPECT_EQ(OnlySpan(plain).name, "op");
}

std::string JsonSpanPath(std::string_view field) {
  return "resourceSpans[0].scopeSpans[0].spans[0]." + std::string(field);
}

TEST(DecodeJson, MalformedBodiesAreRefusedWithTheirMessage) {
  std::string deep = R"({"stringValue":"leaf"})";
  for (int i = 0; i < 40; ++i) deep = R"({"arrayValue":{"values":[)" + deep + "]}}";
  const Malformed cases[] = {
      {"empty body", "", "expected an object, got the end of the input (line 1, column 1)"},
      {"top-level array", "[]", "expected an object, got an array"},
      {"missing bracket", R"({"resourceSpans":[})",
       "resourceSpans[0]: expected an object, got '}' (line 1, column 19)"},
      {"trailing comma", R"({"resourceSpans":[],})", "expected a member name (a string)"},
      {"text after the object", R"({} {})",
       "unexpected text after the request object (line 1, column 4)"},
      {"line and column", "{\n  \"resourceSpans\": [\n    {\"scopeSpans\": 5}]}",
       "resourceSpans[0].scopeSpans: expected an array, got a number (line 3, column 20)"},
      {"unterminated string", R"({"resourceSpans)", "unterminated string (line 1, column 2)"},
      {"bad escape", R"({"a":"\q"})", "a: invalid escape sequence in a string"},
      {"bad number", R"({"a":01})", "a: invalid number (leading zero)"},
      {"bad literal", R"({"a":nul})", "a: expected a value"},
      {"name as a number", JsonRequest({JsonSpan(R"("name":5)")}),
       JsonSpanPath("name: expected a string, got a number")},
      {"kind as an enum name", JsonRequest({JsonSpan(R"("kind":"SPAN_KIND_SERVER")")}),
       JsonSpanPath("kind: expected an integer (OTLP/JSON enums are numbers), got a string")},
      {"status code as a string", JsonRequest({JsonSpan(R"("status":{"code":"2"})")}),
       JsonSpanPath("status.code: expected an integer (OTLP/JSON enums are numbers)")},
      {"time not a number", JsonRequest({JsonSpan(R"("startTimeUnixNano":"12x")")}),
       JsonSpanPath(R"(startTimeUnixNano: expected an integer, got "12x")")},
      {"negative time", JsonRequest({JsonSpan(R"("endTimeUnixNano":-1)")}),
       JsonSpanPath("endTimeUnixNano: integer out of range or not integral")},
      {"fractional count", JsonRequest({JsonSpan(R"("droppedLinksCount":1.5)")}),
       JsonSpanPath("droppedLinksCount: integer out of range or not integral")},
      {"count beyond 32 bits", JsonRequest({JsonSpan(R"("droppedEventsCount":4294967296)")}),
       JsonSpanPath("droppedEventsCount: integer out of range")},
      {"flags as a boolean", JsonRequest({JsonSpan(R"("flags":true)")}),
       JsonSpanPath("flags: expected an integer (number or string), got a boolean")},
      {"short trace id",
       JsonRequest({R"("traceId":"0102","spanId":")" + std::string(kSpanHex) + "\""}),
       JsonSpanPath("traceId: 4 hex digits, expected 32")},
      {"span id not hex", JsonRequest({JsonSpan(R"("spanId":"a1a2a3a4a5a6a7zz")")}),
       JsonSpanPath("spanId: not a hex string")},
      {"base64 trace id", JsonRequest({JsonSpan(R"("traceId":"AQIDBAUGBwgJCgsMDQ4PEA==")")}),
       JsonSpanPath("traceId: 24 hex digits, expected 32")},
      {"parent id as a number", JsonRequest({JsonSpan(R"("parentSpanId":7)")}),
       JsonSpanPath("parentSpanId: expected a hex string, got a number")},
      {"raw invalid UTF-8", JsonRequest({JsonSpan("\"traceState\":\"a\xff\"")}),
       JsonSpanPath("traceState: invalid UTF-8 in a string")},
      {"unpaired surrogate", JsonRequest({JsonSpan(R"("name":"\ud800x")")}),
       JsonSpanPath("name: unpaired surrogate in a \\u escape")},
      {"control character", JsonRequest({JsonSpan("\"name\":\"a\tb\"")}),
       JsonSpanPath("name: control character in a string (must be escaped)")},
      {"two value members",
       JsonRequest(
           {JsonSpan(R"("attributes":[{"key":"k","value":{"intValue":1,"stringValue":"x"}}])")}),
       JsonSpanPath(
           "attributes[0].value.stringValue: a second value member (intValue is already set)")},
      {"bad base64",
       JsonRequest({JsonSpan(R"("attributes":[{"key":"k","value":{"bytesValue":"a*"}}])")}),
       JsonSpanPath("attributes[0].value.bytesValue: invalid base64")},
      {"attributes not an array", JsonRequest({JsonSpan(R"("attributes":{})")}),
       JsonSpanPath("attributes: expected an array, got an object")},
      {"bool as a string",
       JsonRequest({JsonSpan(R"("attributes":[{"key":"k","value":{"boolValue":"true"}}])")}),
       JsonSpanPath("attributes[0].value.boolValue: expected true or false, got a string")},
      {"AnyValue nested too deep",
       JsonRequest({JsonSpan(R"("attributes":[{"key":"k","value":)" + deep + "}]")}),
       "AnyValue nested deeper than 32 levels (DecodeLimits::max_value_depth)",
       StatusCode::kResourceExhausted},
      {"unknown value nested too deep",
       R"({"x":)" + std::string(500, '[') + std::string(500, ']') + "}", "nested deeper than"},
  };
  for (const Malformed& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(DecodeTraceRequestJson(c.body), StatusIs(c.code, HasSubstr(c.message)));
  }
  const std::string full =
      JsonRequest({JsonSpan(R"("attributes":[{"key":"k","value":{"intValue":"1"}}])")});
  ASSERT_OK(DecodeTraceRequestJson(full));
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_THAT(DecodeTraceRequestJson(full.substr(0, n)), StatusIs(StatusCode::kInvalidArgument))
        << n;
  }
}

TEST(DecodeJson, LimitsAreResourceExhausted) {
  const std::string body = JsonRequest({JsonSpan()});
  EXPECT_THAT(DecodeTraceRequestJson(body, {.max_body_bytes = body.size() - 1}),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("exceeds the limit")));
  std::string many;
  for (int i = 0; i < 1000; ++i) many += i ? ",{}" : "{}";
  EXPECT_THAT(DecodeTraceRequestJson(JsonRequest({JsonSpan(R"("attributes":[)" + many + "]")}),
                                     {.max_decoded_bytes = 20000}),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("max_decoded_bytes")));
}

// ---- counting

TEST(CountSpans, CountsWhatTheDecoderWouldKeepPlusInvalidOnes) {
  const std::string proto =
      RequestOf({SpanBody(), SpanBody(), Len(5, "no ids")}) + RequestOf({SpanBody()}) + Var(7, 1);
  ASSERT_OK_AND_ASSIGN(uint64_t n, CountTraceRequestSpans(proto, OtlpEncoding::kProtobuf, false));
  EXPECT_EQ(n, 4u);
  const std::string json = R"({"x":{"spans":[{},{}]},"resourceSpans":[{"scopeSpans":[{"spans":[)"
                           R"({"name":"a"},{}]},{"spans":null},{"spans":[]}]},{}]})";
  ASSERT_OK_AND_ASSIGN(uint64_t m, CountTraceRequestSpans(json, OtlpEncoding::kJson, false));
  EXPECT_EQ(m, 2u);
  std::string gz;
  ASSERT_OK(otlp::internal::GzipCompress(json, gz));
  ASSERT_OK_AND_ASSIGN(uint64_t g, CountTraceRequestSpans(gz, OtlpEncoding::kJson, true));
  EXPECT_EQ(g, 2u);
}

TEST(CountSpans, MalformedFramingAndSyntaxAreRefused) {
  EXPECT_THAT(CountTraceRequestSpans(Len(1, Var(2, 1)), OtlpEncoding::kProtobuf, false),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("resource_spans.scope_spans: wire type 0 (varint), expected 2")));
  EXPECT_THAT(CountTraceRequestSpans(B({0x0a, 0x05, 0x12}), OtlpEncoding::kProtobuf, false),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("truncated")));
  EXPECT_THAT(
      CountTraceRequestSpans(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{]}]}]})",
                             OtlpEncoding::kJson, false),
      StatusIs(StatusCode::kInvalidArgument,
               HasSubstr("resourceSpans[0].scopeSpans[0].spans[0]: expected a member name")));
  EXPECT_THAT(CountTraceRequestSpans("{} x", OtlpEncoding::kJson, false),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unexpected text")));
  EXPECT_THAT(CountTraceRequestSpans("{}", OtlpEncoding::kJson, false, {.max_body_bytes = 1}),
              StatusIs(StatusCode::kResourceExhausted));
}

// The inputs of the span counter that `otlp bench sink` had before this one.
TEST(CountSpans, SinkCases) {
  const std::string span = Len(5, "name");
  const std::string scope_spans =
      Len(1, Len(1, "scope")) + Len(2, span) + Len(2, span) + Len(3, "url");
  const std::string resource = Var(2, 300) + Len(1, "resource");
  const std::string resource_spans = Len(1, resource) + Len(2, scope_spans) + Len(2, Len(2, span));
  const std::string request = Len(1, resource_spans) + Len(1, Len(2, scope_spans));
  auto count = [](std::string_view body, OtlpEncoding e) {
    return CountTraceRequestSpans(body, e, false);
  };
  constexpr auto kProto = OtlpEncoding::kProtobuf;
  constexpr auto kJson = OtlpEncoding::kJson;
  EXPECT_THAT(count(request, kProto), IsOkAndHolds(5u));
  EXPECT_THAT(count("", kProto), IsOkAndHolds(0u));
  EXPECT_THAT(count(request.substr(0, request.size() - 1), kProto),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(count(B({0x0b}), kProto), StatusIs(StatusCode::kInvalidArgument));  // group start
  EXPECT_THAT(count(B({0x0a, 0x80}), kProto), StatusIs(StatusCode::kInvalidArgument));
  const std::string json =
      R"({"resourceSpans":[{"resource":{"attributes":[{"key":"spans","value":)"
      R"({"stringValue":"[{not counted}]"}}]},"scopeSpans":[{"scope":{},"spans":[)"
      R"({"name":"a \"]}\\","links":[{"spanId":"x"}]},{"name":"b"}]},)"
      R"({"spans" : [ {"name":"c"} ]}]}]})";
  EXPECT_THAT(count(json, kJson), IsOkAndHolds(3u));
  EXPECT_THAT(count("{}", kJson), IsOkAndHolds(0u));
  EXPECT_THAT(count(R"({"spans":[{})", kJson), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(count(R"({"spans":[}])", kJson), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(count(R"({"a":"unterminated)", kJson), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace otlp::exporter
