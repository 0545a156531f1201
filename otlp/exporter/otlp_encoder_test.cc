#include "otlp/core/internal/varint.h"
#include "otlp/exporter/otlp_encoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "otlp/trace/resource.h"

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

// Bytes from a list of ints, so that expected encodings read like a hex dump.
std::string B(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

std::string Hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string h;
  for (unsigned char c : s) {
    h.push_back(kDigits[c >> 4]);
    h.push_back(kDigits[c & 15]);
    h.push_back(' ');
  }
  return h;
}

TraceId Tid() {
  const uint8_t b[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  return TraceId(b);
}
SpanId Sid(uint8_t last = 8) {
  const uint8_t b[8] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, last};
  return SpanId(b);
}
std::string TidBytes() {
  return B({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
}
std::string SidBytes() {
  return B({0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 8});
}

InstrumentationScope Scope(std::string name, std::string version = {}, std::string schema = {}) {
  InstrumentationScope s;
  s.name = std::move(name);
  s.version = std::move(version);
  s.schema_url = std::move(schema);
  return s;
}

// A span with only the always-present fields: ids, kind internal, flags 0x100.
SpanData MinimalSpan() {
  SpanData s;
  s.context = SpanContext(Tid(), Sid(), TraceFlags(0), false);
  return s;
}
// Its fields before the attributes (1, 2, 6) and after them (16).
std::string MinHead() {
  return B({0x0a, 0x10}) + TidBytes() + B({0x12, 0x08}) + SidBytes() + B({0x30, 0x01});
}
std::string MinTail() {
  return B({0x85, 0x01, 0x00, 0x01, 0x00, 0x00});
}

std::string Len(size_t n) {
  std::string s;
  otlp::internal::AppendVarint(n, s);
  return s;
}
// ExportTraceServiceRequest around one span body, with no resource and no scope.
std::string WrapSpan(const std::string& span_body) {
  const std::string spans = B({0x12}) + Len(span_body.size()) + span_body;  // ScopeSpans
  const std::string scope_spans = B({0x12}) + Len(spans.size()) + spans;    // ResourceSpans
  return B({0x0a}) + Len(scope_spans.size()) + scope_spans;                 // request
}

std::string EncodeProto(const std::vector<const SpanData*>& spans) {
  std::string out;
  EncodeTraceRequestProto(spans, out);
  return out;
}
std::string EncodeProto(const SpanData& s) {
  return EncodeProto(std::vector{&s});
}
std::string EncodeJson(const std::vector<const SpanData*>& spans) {
  std::string out;
  EncodeTraceRequestJson(spans, out);
  return out;
}
std::string EncodeJson(const SpanData& s) {
  return EncodeJson(std::vector{&s});
}

// A test-side protobuf reader: the top-level fields of a message.
struct Field {
  uint32_t number;
  uint32_t wire;
  uint64_t varint = 0;
  std::string_view bytes;
};
std::vector<Field> Fields(std::string_view msg) {
  std::vector<Field> out;
  while (!msg.empty()) {
    uint64_t key;
    if (!otlp::internal::ReadVarint(msg, key)) {
      ADD_FAILURE() << "bad key";
      return out;
    }
    Field f{static_cast<uint32_t>(key >> 3), static_cast<uint32_t>(key & 7), 0, {}};
    switch (f.wire) {
      case 0: EXPECT_TRUE(otlp::internal::ReadVarint(msg, f.varint)); break;
      case 1:
        f.bytes = msg.substr(0, 8);
        msg.remove_prefix(std::min<size_t>(8, msg.size()));
        break;
      case 5:
        f.bytes = msg.substr(0, 4);
        msg.remove_prefix(std::min<size_t>(4, msg.size()));
        break;
      case 2: {
        uint64_t n = 0;
        EXPECT_TRUE(otlp::internal::ReadVarint(msg, n));
        if (n > msg.size()) {
          ADD_FAILURE() << "length " << n << " beyond end";
          return out;
        }
        f.bytes = msg.substr(0, n);
        msg.remove_prefix(n);
        break;
      }
      default: ADD_FAILURE() << "wire type " << f.wire; return out;
    }
    out.push_back(f);
  }
  return out;
}
std::vector<std::string_view> All(std::string_view msg, uint32_t number) {
  std::vector<std::string_view> v;
  for (const Field& f : Fields(msg)) {
    if (f.number == number) v.push_back(f.bytes);
  }
  return v;
}
std::string_view One(std::string_view msg, uint32_t number) {
  auto v = All(msg, number);
  EXPECT_EQ(v.size(), 1u) << "field " << number;
  return v.empty() ? std::string_view() : v[0];
}

// ---------------------------------------------------------------------------------------------
// Protobuf, byte-exact.

TEST(EncodeProto, EmptyBatchIsEmptyMessage) {
  std::string out = "keep";
  EncodeTraceRequestProto({}, out);
  EXPECT_EQ(out, "keep");
}

TEST(EncodeProto, MinimalSpanHandComputed) {
  SpanData s;
  s.context = SpanContext(Tid(), Sid(), TraceFlags(1), false);
  s.name = "n";
  s.kind = SpanKind::kServer;
  s.start_unix_nano = 1;
  s.end_unix_nano = 0x0102;
  // Span body: 18 + 10 + 3 (name) + 2 (kind) + 9 + 9 + 6 (flags) = 57 = 0x39.
  const std::string expected =
      B({0x0a, 0x3d,     // resource_spans, 61 bytes
         0x12, 0x3b,     // scope_spans, 59 bytes
         0x12, 0x39,     // spans, 57 bytes
         0x0a, 0x10}) +  // trace_id
      TidBytes() +
      B({0x12, 0x08}) + SidBytes() +                  // span_id
      B({0x2a, 0x01, 'n',                             // name
         0x30, 0x02,                                  // kind = SERVER
         0x39, 0x01, 0,    0,    0,    0,   0, 0, 0,  // start_time_unix_nano
         0x41, 0x02, 0x01, 0,    0,    0,   0, 0, 0,  // end_time_unix_nano
         0x85, 0x01, 0x01, 0x01, 0x00, 0x00});        // flags = 0x101
  EXPECT_EQ(Hex(EncodeProto(s)), Hex(expected));
}

TEST(EncodeProto, AppendsWithoutClearing) {
  const SpanData s = MinimalSpan();
  std::string out = "prefix";
  EncodeTraceRequestProto(std::vector{&s}, out);
  EXPECT_EQ(out, "prefix" + WrapSpan(MinHead() + MinTail()));
}

TEST(EncodeProto, ResourceScopeAndSchemaUrlsHandComputed) {
  OwnedAttributes ra;
  ra.Set("service.name", AttributeValue("svc"));
  const Resource resource(ra, "r");
  InstrumentationScope scope = Scope("lib", "1.0", "s");
  scope.attributes.Set("k", AttributeValue(int64_t{7}));
  SpanData s = MinimalSpan();
  s.resource = &resource;
  s.scope = &scope;
  const std::string span = MinHead() + MinTail();  // 18 + 10 + 2 + 6 = 36 = 0x24
  ASSERT_EQ(span.size(), 0x24u);
  // KeyValue service.name: 0a 0c "service.name" 12 05 (0a 03 "svc") = 21 bytes
  const std::string resource_msg = B({0x0a, 0x15, 0x0a, 0x0c}) + "service.name" +
                                   B({0x12, 0x05, 0x0a, 0x03}) + "svc";  // 23 bytes
  // Scope: name, version, attributes {k: 7}
  const std::string scope_msg = B({0x0a, 0x03}) + "lib" + B({0x12, 0x03}) + "1.0" +
                                B({0x1a, 0x07, 0x0a, 0x01, 'k', 0x12, 0x02, 0x18, 0x07});  // 19
  const std::string scope_spans = B({0x0a, 0x13}) + scope_msg + B({0x12, 0x24}) + span +
                                  B({0x1a, 0x01, 's'});  // 2 + 19 + 2 + 36 + 3 = 62 = 0x3e
  const std::string resource_spans = B({0x0a, 0x17}) + resource_msg + B({0x12, 0x3e}) +
                                     scope_spans + B({0x1a, 0x01, 'r'});  // 25 + 64 + 3 = 92
  const std::string expected = B({0x0a, 0x5c}) + resource_spans;
  EXPECT_EQ(Hex(EncodeProto(s)), Hex(expected));
}

TEST(EncodeProto, AllSpanFieldsInFieldOrder) {
  SpanData s;
  s.context = SpanContext(Tid(), Sid(), TraceFlags(1), false, TraceState::FromHeader("a=b"));
  s.parent_span_id = Sid(9);
  s.parent_is_remote = true;
  s.name = "op";
  s.kind = SpanKind::kConsumer;
  s.start_unix_nano = 10;
  s.end_unix_nano = 20;
  s.attributes = {{"x", AttributeValue(true)}};
  s.dropped_attributes_count = 3;
  s.event_attributes = {{"e", AttributeValue(false)}};
  s.events = {EventData{.name = "ev",
                        .time_unix_nano = 15,
                        .attr_begin = 0,
                        .attr_count = 1,
                        .dropped_attributes_count = 2}};
  s.dropped_events_count = 4;
  s.link_attributes = {{"l", AttributeValue(int64_t{1})}};
  s.links = {LinkData{
      .context = SpanContext(Tid(), Sid(7), TraceFlags(0), true, TraceState::FromHeader("c=d")),
      .attr_begin = 0,
      .attr_count = 1,
      .dropped_attributes_count = 5}};
  s.dropped_links_count = 6;
  s.status_code = SpanStatusCode::kError;
  s.status_message = "bad";
  const std::string out = EncodeProto(s);
  const std::string_view body = One(One(One(out, 1), 2), 2);
  const std::vector<Field> f = Fields(body);
  std::vector<uint32_t> numbers;
  for (const Field& x : f) numbers.push_back(x.number);
  EXPECT_THAT(numbers, testing::ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16));
  const std::string expected =
      B({0x0a, 0x10}) + TidBytes() + B({0x12, 0x08}) + SidBytes() + B({0x1a, 0x03}) + "a=b" +
      B({0x22, 0x08, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 9}) + B({0x2a, 0x02}) + "op" +
      B({0x30, 0x05, 0x39, 10, 0, 0, 0, 0, 0, 0, 0, 0x41, 20, 0, 0, 0, 0, 0, 0, 0}) +
      B({0x4a, 0x07, 0x0a, 0x01, 'x', 0x12, 0x02, 0x10, 0x01}) + B({0x50, 0x03}) +
      // event: time, name, attributes {e: false}, dropped 2
      B({0x5a, 0x18, 0x09, 15,   0,    0,    0,   0,    0,    0,    0,    0x12, 0x02,
         'e',  'v',  0x1a, 0x07, 0x0a, 0x01, 'e', 0x12, 0x02, 0x10, 0x00, 0x20, 0x02}) +
      B({0x60, 0x04}) +
      // link: trace id, span id, trace state, attributes {l: 1}, dropped 5, flags 0x300
      B({0x6a, 0x31, 0x0a, 0x10}) + TidBytes() +
      B({0x12, 0x08, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 7,    0x1a,
         0x03, 'c',  '=',  'd',  0x22, 0x07, 0x0a, 0x01, 'l',  0x12, 0x02,
         0x18, 0x01, 0x28, 0x05, 0x35, 0x00, 0x03, 0x00, 0x00}) +
      B({0x70, 0x06}) + B({0x7a, 0x07, 0x12, 0x03, 'b', 'a', 'd', 0x18, 0x02}) +
      B({0x85, 0x01, 0x01, 0x03, 0x00, 0x00});  // flags: sampled | has-remote | remote parent
  EXPECT_EQ(Hex(body), Hex(expected));
}

TEST(EncodeProto, StatusMessageWithoutCodeAndOkWithoutMessage) {
  SpanData s = MinimalSpan();
  s.status_message = "m";
  EXPECT_EQ(Hex(EncodeProto(s)),
            Hex(WrapSpan(MinHead() + B({0x7a, 0x03, 0x12, 0x01, 'm'}) + MinTail())));
  s.status_message = {};
  s.status_code = SpanStatusCode::kOk;
  EXPECT_EQ(Hex(EncodeProto(s)),
            Hex(WrapSpan(MinHead() + B({0x7a, 0x02, 0x18, 0x01}) + MinTail())));
}

// The attributes field of a minimal span holding one attribute.
std::string AttrField(const KeyValue& kv) {
  SpanData s = MinimalSpan();
  s.attributes = {kv};
  const std::string out = EncodeProto(s);
  std::string body(One(One(One(out, 1), 2), 2));
  EXPECT_EQ(body.substr(0, MinHead().size()), MinHead());
  EXPECT_EQ(body.substr(body.size() - MinTail().size()), MinTail());
  return body.substr(MinHead().size(), body.size() - MinHead().size() - MinTail().size());
}
// 4a <len> 0a 01 'k' 12 <len> <any>
std::string KvK(const std::string& any) {
  const std::string kv = B({0x0a, 0x01, 'k', 0x12}) + Len(any.size()) + any;
  return B({0x4a}) + Len(kv.size()) + kv;
}

TEST(EncodeProto, EveryAttributeType) {
  EXPECT_EQ(Hex(AttrField({"k", true})), Hex(KvK(B({0x10, 0x01}))));
  EXPECT_EQ(Hex(AttrField({"k", false})), Hex(KvK(B({0x10, 0x00}))));  // oneof: kept
  EXPECT_EQ(Hex(AttrField({"k", 0})), Hex(KvK(B({0x18, 0x00}))));
  EXPECT_EQ(Hex(AttrField({"k", 300})), Hex(KvK(B({0x18, 0xac, 0x02}))));
  EXPECT_EQ(Hex(AttrField({"k", int64_t{-1}})),
            Hex(KvK(B({0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}))));
  EXPECT_EQ(Hex(AttrField({"k", 1.5})), Hex(KvK(B({0x21, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f}))));
  EXPECT_EQ(Hex(AttrField({"k", 0.0})), Hex(KvK(B({0x21, 0, 0, 0, 0, 0, 0, 0, 0}))));
  EXPECT_EQ(Hex(AttrField({"k", "hi"})), Hex(KvK(B({0x0a, 0x02, 'h', 'i'}))));
  EXPECT_EQ(Hex(AttrField({"k", ""})), Hex(KvK(B({0x0a, 0x00}))));

  const bool bools[] = {true, false};
  EXPECT_EQ(Hex(AttrField({"k", std::span<const bool>(bools)})),
            Hex(KvK(B({0x2a, 0x08, 0x0a, 0x02, 0x10, 0x01, 0x0a, 0x02, 0x10, 0x00}))));
  const int64_t ints[] = {1, 300};
  EXPECT_EQ(Hex(AttrField({"k", std::span<const int64_t>(ints)})),
            Hex(KvK(B({0x2a, 0x09, 0x0a, 0x02, 0x18, 0x01, 0x0a, 0x03, 0x18, 0xac, 0x02}))));
  const double doubles[] = {-2.0};
  EXPECT_EQ(Hex(AttrField({"k", std::span<const double>(doubles)})),
            Hex(KvK(B({0x2a, 0x0b, 0x0a, 0x09, 0x21, 0, 0, 0, 0, 0, 0, 0, 0xc0}))));
  const std::string_view strs[] = {"a", ""};
  EXPECT_EQ(Hex(AttrField({"k", std::span<const std::string_view>(strs)})),
            Hex(KvK(B({0x2a, 0x09, 0x0a, 0x03, 0x0a, 0x01, 'a', 0x0a, 0x02, 0x0a, 0x00}))));
}

TEST(EncodeProto, EmptyArraysAreEmptyArrayValues) {
  EXPECT_EQ(Hex(AttrField({"k", std::span<const bool>()})), Hex(KvK(B({0x2a, 0x00}))));
  EXPECT_EQ(Hex(AttrField({"k", std::span<const int64_t>()})), Hex(KvK(B({0x2a, 0x00}))));
  EXPECT_EQ(Hex(AttrField({"k", std::span<const double>()})), Hex(KvK(B({0x2a, 0x00}))));
  EXPECT_EQ(Hex(AttrField({"k", std::span<const std::string_view>()})), Hex(KvK(B({0x2a, 0x00}))));
}

TEST(EncodeProto, EmptyKeyIsLeftOut) {
  EXPECT_EQ(Hex(AttrField({"", 1})), Hex(B({0x4a, 0x04, 0x12, 0x02, 0x18, 0x01})));
}

TEST(EncodeProto, LengthPrefixesAcrossVarintBoundaries) {
  // String lengths chosen so that the AnyValue, KeyValue and span lengths cross 127/128 and
  // 16383/16384, where the length prefix grows by one byte.
  for (size_t n :
       {0u,   1u,     120u,   121u,   122u,   123u,   124u,   125u,   126u,   127u,   128u,
        129u, 16370u, 16377u, 16378u, 16379u, 16380u, 16381u, 16382u, 16383u, 16384u, 100000u}) {
    const std::string value(n, 'v');
    const std::string any = B({0x0a}) + Len(n) + value;
    EXPECT_EQ(AttrField({"k", value}), KvK(any)) << n;
    // The same inside an array and an event, and as the span name (left out when empty).
    const std::string_view arr[] = {value};
    const std::string elem = B({0x0a}) + Len(any.size()) + any;
    const std::string arr_any = B({0x2a}) + Len(elem.size()) + elem;
    EXPECT_EQ(AttrField({"k", std::span<const std::string_view>(arr)}), KvK(arr_any)) << n;
    if (n == 0) continue;
    SpanData s = MinimalSpan();
    s.name = value;
    s.event_attributes = {{"k", value}};
    s.events = {EventData{.name = value, .time_unix_nano = 0, .attr_begin = 0, .attr_count = 1}};
    const std::string out = EncodeProto(s);
    const std::string_view span = One(One(One(out, 1), 2), 2);
    EXPECT_EQ(One(span, 5), value);
    const std::string_view event = One(span, 11);
    EXPECT_EQ(One(event, 2), value);
    EXPECT_EQ(One(One(One(event, 3), 2), 1), value);
  }
}

TEST(EncodeProto, MalformedEventRangesAreClamped) {
  SpanData s = MinimalSpan();
  s.event_attributes = {{"a", 1}};
  s.events = {EventData{.name = "e", .time_unix_nano = 0, .attr_begin = 0, .attr_count = 5},
              EventData{.name = "f", .time_unix_nano = 0, .attr_begin = 9, .attr_count = 1}};
  s.links = {LinkData{.context = {}, .attr_begin = 3, .attr_count = 2}};
  const std::string out = EncodeProto(s);
  const std::string_view span = One(One(One(out, 1), 2), 2);
  const auto events = All(span, 11);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(All(events[0], 3).size(), 1u);
  EXPECT_EQ(All(events[1], 3).size(), 0u);
  EXPECT_EQ(All(One(span, 13), 4).size(), 0u);
}

TEST(EncodeProto, GroupsByResourceThenScopeInFirstSeenOrder) {
  const Resource r1(OwnedAttributes{}, "r1"), r2(OwnedAttributes{}, "r2");
  const InstrumentationScope s1 = Scope("s1"), s2 = Scope("s2");
  struct In {
    const Resource* r;
    const InstrumentationScope* s;
    const char* name;
  };
  const In ins[] = {{&r1, &s1, "A"}, {&r2, &s1, "B"}, {&r1, &s2, "C"},        {&r1, &s1, "D"},
                    {&r2, &s2, "E"}, {&r2, &s1, "F"}, {nullptr, nullptr, "G"}};
  std::vector<SpanData> spans;
  for (const In& in : ins) {
    SpanData s = MinimalSpan();
    s.resource = in.r;
    s.scope = in.s;
    s.name = in.name;
    spans.push_back(std::move(s));
  }
  std::vector<const SpanData*> ptrs;
  for (const SpanData& s : spans) ptrs.push_back(&s);
  ptrs.insert(ptrs.begin() + 2, nullptr);  // null entries are skipped
  const std::string out = EncodeProto(ptrs);

  // "schema[scope:names;scope:names]" per resource.
  std::vector<std::string> got;
  for (std::string_view rs : All(out, 1)) {
    std::string desc = std::string(All(rs, 3).empty() ? "-" : One(rs, 3)) + "[";
    EXPECT_LE(All(rs, 1).size(), 1u);
    for (std::string_view ss : All(rs, 2)) {
      const auto scope = All(ss, 1);
      desc += (scope.empty() ? std::string("-") : std::string(One(scope[0], 1))) + ":";
      for (std::string_view span : All(ss, 2)) desc += One(span, 5);
      desc += ";";
    }
    got.push_back(desc + "]");
  }
  EXPECT_THAT(got, testing::ElementsAre("r1[s1:AD;s2:C;]", "r2[s1:BF;s2:E;]", "-[-:G;]"));
}

TEST(EncodeProto, ManyScopesUseTheHashIndexCorrectly) {
  const Resource r(OwnedAttributes{});
  std::vector<InstrumentationScope> scopes(40);
  for (size_t i = 0; i < scopes.size(); ++i) scopes[i].name = "s" + std::to_string(i);
  std::vector<SpanData> spans;
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < scopes.size(); ++i) {
      SpanData s = MinimalSpan();
      s.resource = &r;
      s.scope = &scopes[(i * 7) % scopes.size()];
      spans.push_back(std::move(s));
    }
  }
  std::vector<const SpanData*> ptrs;
  for (const SpanData& s : spans) ptrs.push_back(&s);
  const std::string out = EncodeProto(ptrs);
  const auto rs = All(out, 1);
  ASSERT_EQ(rs.size(), 1u);
  const auto ss = All(rs[0], 2);
  ASSERT_EQ(ss.size(), scopes.size());
  for (size_t i = 0; i < ss.size(); ++i) {
    EXPECT_EQ(One(One(ss[i], 1), 1), scopes[(i * 7) % scopes.size()].name);
    EXPECT_EQ(All(ss[i], 2).size(), 3u);
  }
}

TEST(EncodeProto, ResourceAndScopeArrayAttributes) {
  OwnedAttributes ra;
  ra.Set("bools", OwnedAttributeValue(std::vector<bool>{true, false, true}));
  ra.Set("strs", OwnedAttributeValue(std::vector<std::string>{"x", "yz"}));
  const Resource r(ra);
  SpanData s = MinimalSpan();
  s.resource = &r;
  const std::string out = EncodeProto(s);
  const auto attrs = All(One(One(out, 1), 1), 1);
  ASSERT_EQ(attrs.size(), 2u);
  EXPECT_EQ(Hex(attrs[0]), Hex(B({0x0a, 0x05}) + "bools" +
                               B({0x12, 0x0e, 0x2a, 0x0c, 0x0a, 0x02, 0x10, 0x01, 0x0a, 0x02, 0x10,
                                  0x00, 0x0a, 0x02, 0x10, 0x01})));
  EXPECT_EQ(Hex(attrs[1]), Hex(B({0x0a, 0x04}) + "strs" +
                               B({0x12, 0x0d, 0x2a, 0x0b, 0x0a, 0x03, 0x0a, 0x01, 'x', 0x0a, 0x04,
                                  0x0a, 0x02, 'y', 'z'})));
}

// ---------------------------------------------------------------------------------------------
// JSON.

std::string JsonStr(std::string_view s) {
  std::string out;
  internal::AppendJsonString(s, out);
  return out;
}

TEST(JsonString, EscapesControlAndQuoteCharacters) {
  EXPECT_EQ(JsonStr(""), "\"\"");
  EXPECT_EQ(JsonStr("plain"), "\"plain\"");
  EXPECT_EQ(JsonStr("a\"b\\c/"), "\"a\\\"b\\\\c/\"");
  EXPECT_EQ(JsonStr("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(JsonStr(std::string("\x00\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\x7f\"");
}

TEST(JsonString, KeepsValidUtf8) {
  const std::string s = "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf";
  EXPECT_EQ(JsonStr(s), "\"" + s + "\"");
}

TEST(JsonString, ReplacesInvalidUtf8ByMaximalSubparts) {
  const std::string r = "\xef\xbf\xbd";  // U+FFFD
  EXPECT_EQ(JsonStr("\xff"), "\"" + r + "\"");
  EXPECT_EQ(JsonStr("a\x80z"), "\"a" + r + "z\"");
  EXPECT_EQ(JsonStr("\xe2\x82"), "\"" + r + "\"");  // truncated: one subpart
  EXPECT_EQ(JsonStr("\xe2\x82z"), "\"" + r + "z\"");
  EXPECT_EQ(JsonStr("\xf0\x9f\x98"), "\"" + r + "\"");
  EXPECT_EQ(JsonStr("\xc0\xaf"), "\"" + r + r + "\"");                  // overlong
  EXPECT_EQ(JsonStr("\xe0\x80\x80"), "\"" + r + r + r + "\"");          // overlong 3-byte
  EXPECT_EQ(JsonStr("\xed\xa0\x80"), "\"" + r + r + r + "\"");          // surrogate
  EXPECT_EQ(JsonStr("\xf4\x90\x80\x80"), "\"" + r + r + r + r + "\"");  // above U+10FFFF
  EXPECT_EQ(JsonStr("\xf5"), "\"" + r + "\"");
  EXPECT_EQ(JsonStr("\"\xff\n"), "\"\\\"" + r + "\\n\"");
}

// A plain reference for ASCII input.
std::string ReferenceEscape(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\b') {
      out += "\\b";
    } else if (c == '\f') {
      out += "\\f";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

// Strict UTF-8 check (RFC 3629).
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int need = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      need = 1, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + need >= s.size()) return false;
    for (int k = 1; k <= need; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = cp << 6 | (d & 0x3F);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += need + 1;
  }
  return true;
}

TEST(JsonString, RandomAsciiMatchesReference) {
  std::mt19937 rng(7);
  const char alphabet[] = "abcdefgh \"\\\n\t\x01\x1f\x7f/";
  for (int round = 0; round < 20000; ++round) {
    std::string s(rng() % 40, ' ');
    for (char& c : s) {
      c = (rng() % 4 == 0) ? static_cast<char>(rng() % 0x80)
                           : alphabet[rng() % (sizeof alphabet - 1)];
    }
    ASSERT_EQ(JsonStr(s), ReferenceEscape(s)) << Hex(s);
  }
}

TEST(JsonString, RandomBytesAlwaysGiveValidUtf8) {
  std::mt19937 rng(8);
  const std::string valid = "x\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    const size_t n = rng() % 40;
    while (s.size() < n) {
      if (rng() % 3 == 0) {
        s += valid.substr(rng() % valid.size(), 1 + rng() % 4);
      } else {
        s.push_back(static_cast<char>(rng()));
      }
    }
    const std::string out = JsonStr(s);
    ASSERT_TRUE(IsValidUtf8(out)) << Hex(s);
    if (IsValidUtf8(s) && s.find_first_of(std::string("\"\\\0", 3)) == std::string::npos) {
      bool control = false;
      for (unsigned char c : s) control |= c < 0x20;
      if (!control) {
        EXPECT_EQ(out, "\"" + s + "\"");
      }
    }
  }
}

TEST(EncodeJson, EmptyBatch) {
  std::string out = "x";
  EncodeTraceRequestJson({}, out);
  EXPECT_EQ(out, "x{\"resourceSpans\":[]}");
}

TEST(EncodeJson, MinimalSpanExact) {
  SpanData s;
  s.context = SpanContext(Tid(), Sid(), TraceFlags(1), false);
  s.name = "n";
  s.kind = SpanKind::kServer;
  s.start_unix_nano = 1700000000123456789;
  s.end_unix_nano = 1700000000987654321;
  EXPECT_EQ(EncodeJson(s),
            "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{"
            "\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"a1a2a3a4a5a6a708\","
            "\"flags\":257,\"name\":\"n\",\"kind\":2,"
            "\"startTimeUnixNano\":\"1700000000123456789\","
            "\"endTimeUnixNano\":\"1700000000987654321\"}]}]}]}");
}

TEST(EncodeJson, AllFieldsExact) {
  OwnedAttributes ra;
  ra.Set("service.name", AttributeValue("svc"));
  const Resource resource(ra, "https://example.com/schemas/resource/1.0.0");
  InstrumentationScope scope = Scope("lib", "1.0", "https://example.com/schemas/scope/1.0.0");
  scope.attributes.Set("k", AttributeValue(true));
  SpanData s;
  s.context = SpanContext(Tid(), Sid(), TraceFlags(1), false, TraceState::FromHeader("a=b"));
  s.parent_span_id = Sid(9);
  s.parent_is_remote = true;
  s.name = "op\"1";
  s.kind = SpanKind::kClient;
  s.start_unix_nano = 10;
  s.end_unix_nano = 20;
  s.attributes = {{"x", 1.5}, {"i", int64_t{-9}}};
  s.dropped_attributes_count = 3;
  s.event_attributes = {{"e", "v"}};
  s.events = {EventData{.name = "ev",
                        .time_unix_nano = 15,
                        .attr_begin = 0,
                        .attr_count = 1,
                        .dropped_attributes_count = 2},
              EventData{.name = "", .time_unix_nano = 0}};
  s.dropped_events_count = 4;
  s.links = {LinkData{
      .context = SpanContext(Tid(), Sid(7), TraceFlags(0), true, TraceState::FromHeader("c=d")),
      .dropped_attributes_count = 5}};
  s.dropped_links_count = 6;
  s.status_code = SpanStatusCode::kError;
  s.status_message = "bad";
  s.resource = &resource;
  s.scope = &scope;
  EXPECT_EQ(
      EncodeJson(s),
      "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{"
      "\"stringValue\":\"svc\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"lib\",\"version\":"
      "\"1.0\",\"attributes\":[{\"key\":\"k\",\"value\":{\"boolValue\":true}}]},\"spans\":[{"
      "\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"a1a2a3a4a5a6a708\","
      "\"traceState\":\"a=b\",\"parentSpanId\":\"a1a2a3a4a5a6a709\",\"flags\":769,"
      "\"name\":\"op\\\"1\",\"kind\":3,\"startTimeUnixNano\":\"10\",\"endTimeUnixNano\":\"20\","
      "\"attributes\":[{\"key\":\"x\",\"value\":{\"doubleValue\":1.5}},{\"key\":\"i\",\"value\":{"
      "\"intValue\":\"-9\"}}],\"droppedAttributesCount\":3,\"events\":[{\"timeUnixNano\":\"15\","
      "\"name\":\"ev\",\"attributes\":[{\"key\":\"e\",\"value\":{\"stringValue\":\"v\"}}],"
      "\"droppedAttributesCount\":2},{}],\"droppedEventsCount\":4,\"links\":[{\"traceId\":"
      "\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"a1a2a3a4a5a6a707\",\"traceState\":"
      "\"c=d\",\"droppedAttributesCount\":5,\"flags\":768}],\"droppedLinksCount\":6,"
      "\"status\":{\"message\":\"bad\",\"code\":2}}],\"schemaUrl\":\"https://example.com/schemas/"
      "scope/1.0.0\"}],"
      "\"schemaUrl\":\"https://example.com/schemas/resource/1.0.0\"}]}");
}

std::string JsonAttr(const AttributeValue& v) {
  SpanData s = MinimalSpan();
  s.attributes = {{"k", v}};
  const std::string out = EncodeJson(s);
  const std::string open = "\"attributes\":[{\"key\":\"k\",\"value\":";
  const size_t at = out.find(open);
  EXPECT_NE(at, std::string::npos);
  const size_t close = out.rfind("}]}]}]}]}");
  EXPECT_NE(close, std::string::npos);
  return out.substr(at + open.size(), close - at - open.size());
}

TEST(EncodeJson, EveryAttributeType) {
  EXPECT_EQ(JsonAttr(true), "{\"boolValue\":true}");
  EXPECT_EQ(JsonAttr(false), "{\"boolValue\":false}");
  EXPECT_EQ(JsonAttr(0), "{\"intValue\":\"0\"}");
  EXPECT_EQ(JsonAttr(std::numeric_limits<int64_t>::min()),
            "{\"intValue\":\"-9223372036854775808\"}");
  EXPECT_EQ(JsonAttr(std::numeric_limits<int64_t>::max()),
            "{\"intValue\":\"9223372036854775807\"}");
  EXPECT_EQ(JsonAttr(0.1), "{\"doubleValue\":0.1}");
  EXPECT_EQ(JsonAttr(-0.0), "{\"doubleValue\":-0}");
  EXPECT_EQ(JsonAttr(1e300), "{\"doubleValue\":1e+300}");
  EXPECT_EQ(JsonAttr(std::numeric_limits<double>::quiet_NaN()), "{\"doubleValue\":\"NaN\"}");
  EXPECT_EQ(JsonAttr(std::numeric_limits<double>::infinity()), "{\"doubleValue\":\"Infinity\"}");
  EXPECT_EQ(JsonAttr(-std::numeric_limits<double>::infinity()), "{\"doubleValue\":\"-Infinity\"}");
  EXPECT_EQ(JsonAttr("a\x01"), "{\"stringValue\":\"a\\u0001\"}");
  const bool bools[] = {true, false};
  EXPECT_EQ(JsonAttr(std::span<const bool>(bools)),
            "{\"arrayValue\":{\"values\":[{\"boolValue\":true},{\"boolValue\":false}]}}");
  const int64_t ints[] = {1, -2};
  EXPECT_EQ(JsonAttr(std::span<const int64_t>(ints)),
            "{\"arrayValue\":{\"values\":[{\"intValue\":\"1\"},{\"intValue\":\"-2\"}]}}");
  const double doubles[] = {2.5, std::numeric_limits<double>::quiet_NaN()};
  EXPECT_EQ(JsonAttr(std::span<const double>(doubles)),
            "{\"arrayValue\":{\"values\":[{\"doubleValue\":2.5},{\"doubleValue\":\"NaN\"}]}}");
  const std::string_view strs[] = {"a", ""};
  EXPECT_EQ(JsonAttr(std::span<const std::string_view>(strs)),
            "{\"arrayValue\":{\"values\":[{\"stringValue\":\"a\"},{\"stringValue\":\"\"}]}}");
  EXPECT_EQ(JsonAttr(std::span<const int64_t>()), "{\"arrayValue\":{}}");
  EXPECT_EQ(JsonAttr(std::span<const std::string_view>()), "{\"arrayValue\":{}}");
}

TEST(EncodeJson, EscapesKeysNamesAndInvalidUtf8) {
  SpanData s = MinimalSpan();
  s.name = "a\xff\n";
  s.attributes = {{"k\"", "\xc3"}};
  const std::string out = EncodeJson(s);
  EXPECT_NE(out.find("\"name\":\"a\xef\xbf\xbd\\n\""), std::string::npos) << out;
  EXPECT_NE(out.find("{\"key\":\"k\\\"\",\"value\":{\"stringValue\":\"\xef\xbf\xbd\"}}"),
            std::string::npos)
      << out;
}

TEST(EncodeJson, GroupsLikeProto) {
  const Resource r1(OwnedAttributes{}, "r1"), r2(OwnedAttributes{}, "r2");
  const InstrumentationScope s1 = Scope("s1"), s2 = Scope("s2");
  SpanData a = MinimalSpan(), b = MinimalSpan(), c = MinimalSpan();
  a.resource = &r1, a.scope = &s1, a.name = "A";
  b.resource = &r2, b.scope = &s2, b.name = "B";
  c.resource = &r1, c.scope = &s1, c.name = "C";
  const std::string out = EncodeJson({&a, &b, &c});
  const size_t pa = out.find("\"name\":\"A\""), pc = out.find("\"name\":\"C\""),
               pr1 = out.find("\"schemaUrl\":\"r1\""), pb = out.find("\"name\":\"B\"");
  EXPECT_LT(pa, pc);
  EXPECT_LT(pc, pr1);
  EXPECT_LT(pr1, pb);
  EXPECT_EQ(out.find("\"name\":\"s1\""), out.rfind("\"name\":\"s1\""));  // one s1 scope group
}

// ---------------------------------------------------------------------------------------------
// Response decoding.

TEST(DecodeResponseProto, EmptyAndFull) {
  auto r = DecodeTraceResponseProto("");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->present());
  r = DecodeTraceResponseProto(B({0x0a, 0x00}));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->present());
  r = DecodeTraceResponseProto(B({0x0a, 0x07, 0x08, 0x03, 0x12, 0x03, 'b', 'a', 'd'}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->present());
  EXPECT_EQ(r->rejected_spans, 3);
  EXPECT_EQ(r->error_message, "bad");
}

TEST(DecodeResponseProto, SkipsUnknownFieldsAndReadsNegativeCounts) {
  const std::string body = B({0x10, 0x05,                                         // unknown varint
                              0x1d, 1,    2,    3,    4,                          // unknown fixed32
                              0x21, 1,    2,    3,    4,    5,    6,    7,    8,  // unknown fixed64
                              0x2a, 0x01, 'z',                                    // unknown bytes
                              0x0a, 0x10, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                              0xff, 0xff, 0xff, 0x01, 0x18, 0x01, 0x12, 0x01, 'm'});
  auto r = DecodeTraceResponseProto(body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rejected_spans, -1);
  EXPECT_EQ(r->error_message, "m");
}

TEST(DecodeResponseProto, MalformedIsAnErrorNeverACrash) {
  const std::string good = B({0x0a, 0x07, 0x08, 0x03, 0x12, 0x03, 'b', 'a', 'd'});
  for (size_t n = 1; n < good.size(); ++n) {
    auto r = DecodeTraceResponseProto(good.substr(0, n));
    EXPECT_FALSE(r.ok()) << n;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
  EXPECT_FALSE(DecodeTraceResponseProto(B({0x0b})).ok());        // group wire type
  EXPECT_FALSE(DecodeTraceResponseProto(B({0x08, 0x01})).ok());  // field 1 as varint
  EXPECT_FALSE(DecodeTraceResponseProto(B({0x00, 0x00})).ok());  // field 0
  EXPECT_FALSE(DecodeTraceResponseProto(B({0x0a, 0x02, 0x12, 0x01})).ok());
  EXPECT_FALSE(DecodeTraceResponseProto(B({0x0a, 0x02, 0x0a, 0x00})).ok());  // wrong wire type
  EXPECT_FALSE(DecodeTraceResponseProto(B({0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})).ok());
  EXPECT_FALSE(DecodeTraceResponseProto(std::string(11, '\xff')).ok());
  // Random garbage: any result, but no crash or sanitizer report.
  std::mt19937 rng(1234);
  for (int i = 0; i < 20000; ++i) {
    std::string g(rng() % 24, '\0');
    for (char& c : g) c = static_cast<char>(rng());
    if (i % 2 == 0 && !g.empty()) g[0] = 0x0a;
    (void)DecodeTraceResponseProto(g);
    (void)DecodeRpcStatusMessage(g, false);
  }
}

TEST(DecodeResponseJson, Accepted) {
  struct Case {
    const char* body;
    int64_t rejected;
    const char* message;
  };
  const Case cases[] = {
      {"", 0, ""},
      {" \n", 0, ""},
      {"{}", 0, ""},
      {"{\"partialSuccess\":{}}", 0, ""},
      {"{\"partialSuccess\":null}", 0, ""},
      {" { \"partialSuccess\" : { \"rejectedSpans\" : \"3\" , \"errorMessage\" : \"x\" } } ", 3,
       "x"},
      {"{\"partialSuccess\":{\"rejectedSpans\":3}}", 3, ""},
      {"{\"partial_success\":{\"rejected_spans\":\"-2\",\"error_message\":\"y\"}}", -2, "y"},
      {"{\"partialSuccess\":{\"rejectedSpans\":5e0}}", 5, ""},
      {"{\"partialSuccess\":{\"rejectedSpans\":\"9223372036854775807\"}}", INT64_MAX, ""},
      {"{\"other\":[1,{\"a\":[true,false,null]},\"s\"],\"partialSuccess\":{\"errorMessage\":"
       "\"\\u00e9\\ud83d\\ude00\\n\\\"\",\"future\":{}}}",
       0, "\xc3\xa9\xf0\x9f\x98\x80\n\""},
  };
  for (const Case& c : cases) {
    auto r = DecodeTraceResponseJson(c.body);
    ASSERT_TRUE(r.ok()) << c.body << ": " << r.status().ToString();
    EXPECT_EQ(r->rejected_spans, c.rejected) << c.body;
    EXPECT_EQ(r->error_message, c.message) << c.body;
  }
}

TEST(DecodeResponseJson, MalformedIsAnError) {
  const char* bad[] = {
      "{",
      "[]",
      "null",
      "{} x",
      "{\"partialSuccess\":{\"rejectedSpans\":\"x\"}}",
      "{\"partialSuccess\":{\"rejectedSpans\":1.5}}",
      "{\"partialSuccess\":{\"rejectedSpans\":\"9223372036854775808\"}}",
      "{\"partialSuccess\":{\"errorMessage\":3}}",
      "{\"partialSuccess\":[]}",
      "{\"a\":01}",
      "{\"a\":-}",
      "{\"a\":tru}",
      "{\"a\":\"\\x\"}",
      "{\"a\":\"\x01\"}",
      "{\"a\":1,}",
      "{'a':1}",
  };
  for (const char* b : bad) {
    auto r = DecodeTraceResponseJson(b);
    EXPECT_FALSE(r.ok()) << b;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << b;
    }
  }
  // Every truncation of a valid body is an error; deep nesting is refused, not recursed.
  const std::string good = "{\"partialSuccess\":{\"rejectedSpans\":\"3\",\"errorMessage\":\"x\"}}";
  for (size_t n = 1; n < good.size(); ++n) {
    EXPECT_FALSE(DecodeTraceResponseJson(good.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(DecodeTraceResponseJson("{\"a\":" + std::string(100000, '[')).ok());
  EXPECT_FALSE(
      DecodeTraceResponseJson("{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}")
          .ok());
}

TEST(DecodeRpcStatus, ProtoAndJson) {
  const std::string proto =
      B({0x08, 0x03, 0x12, 0x05, 'h', 'e', 'l', 'l', 'o', 0x1a, 0x04, 0x0a, 0x02, 'a', 'b'});
  EXPECT_EQ(DecodeRpcStatusMessage(proto, false), "hello");
  EXPECT_EQ(DecodeRpcStatusMessage("", false), "");
  EXPECT_EQ(DecodeRpcStatusMessage(proto.substr(0, 6), false), "");  // truncated
  EXPECT_EQ(DecodeRpcStatusMessage(
                "{\"code\":3,\"message\":\"bad data\",\"details\":[{\"@type\":\"t\"}]}", true),
            "bad data");
  EXPECT_EQ(DecodeRpcStatusMessage("{\"code\":3}", true), "");
  EXPECT_EQ(DecodeRpcStatusMessage("<html>", true), "");
  EXPECT_EQ(DecodeRpcStatusMessage("{\"message\":\"x\"", true), "");
}

}  // namespace
}  // namespace otlp::exporter
