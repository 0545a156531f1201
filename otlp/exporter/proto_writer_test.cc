// The protobuf wire writer, byte-exact: hand-computed encodings of every field, attribute type,
// varint boundary and grouping case.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "otlp/core/internal/varint.h"
#include "otlp/exporter/otlp_encoder.h"
#include "otlp/trace/resource.h"
#include "tests/support/span_fixtures.h"

namespace otlp::exporter {
namespace {

using test::B;
using test::HexDump;
using test::MinimalSpan;
using test::Scope;
using test::Sid;
using test::SidBytes;
using test::Tid;
using test::TidBytes;
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
  EXPECT_EQ(HexDump(EncodeProto(s)), HexDump(expected));
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
  EXPECT_EQ(HexDump(EncodeProto(s)), HexDump(expected));
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
  EXPECT_EQ(HexDump(body), HexDump(expected));
}

TEST(EncodeProto, StatusMessageWithoutCodeAndOkWithoutMessage) {
  SpanData s = MinimalSpan();
  s.status_message = "m";
  EXPECT_EQ(HexDump(EncodeProto(s)),
            HexDump(WrapSpan(MinHead() + B({0x7a, 0x03, 0x12, 0x01, 'm'}) + MinTail())));
  s.status_message = {};
  s.status_code = SpanStatusCode::kOk;
  EXPECT_EQ(HexDump(EncodeProto(s)),
            HexDump(WrapSpan(MinHead() + B({0x7a, 0x02, 0x18, 0x01}) + MinTail())));
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
  EXPECT_EQ(HexDump(AttrField({"k", true})), HexDump(KvK(B({0x10, 0x01}))));
  EXPECT_EQ(HexDump(AttrField({"k", false})), HexDump(KvK(B({0x10, 0x00}))));  // oneof: kept
  EXPECT_EQ(HexDump(AttrField({"k", 0})), HexDump(KvK(B({0x18, 0x00}))));
  EXPECT_EQ(HexDump(AttrField({"k", 300})), HexDump(KvK(B({0x18, 0xac, 0x02}))));
  EXPECT_EQ(HexDump(AttrField({"k", int64_t{-1}})),
            HexDump(KvK(B({0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}))));
  EXPECT_EQ(HexDump(AttrField({"k", 1.5})), HexDump(KvK(B({0x21, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f}))));
  EXPECT_EQ(HexDump(AttrField({"k", 0.0})), HexDump(KvK(B({0x21, 0, 0, 0, 0, 0, 0, 0, 0}))));
  EXPECT_EQ(HexDump(AttrField({"k", "hi"})), HexDump(KvK(B({0x0a, 0x02, 'h', 'i'}))));
  EXPECT_EQ(HexDump(AttrField({"k", ""})), HexDump(KvK(B({0x0a, 0x00}))));

  const bool bools[] = {true, false};
  EXPECT_EQ(HexDump(AttrField({"k", std::span<const bool>(bools)})),
            HexDump(KvK(B({0x2a, 0x08, 0x0a, 0x02, 0x10, 0x01, 0x0a, 0x02, 0x10, 0x00}))));
  const int64_t ints[] = {1, 300};
  EXPECT_EQ(HexDump(AttrField({"k", std::span<const int64_t>(ints)})),
            HexDump(KvK(B({0x2a, 0x09, 0x0a, 0x02, 0x18, 0x01, 0x0a, 0x03, 0x18, 0xac, 0x02}))));
  const double doubles[] = {-2.0};
  EXPECT_EQ(HexDump(AttrField({"k", std::span<const double>(doubles)})),
            HexDump(KvK(B({0x2a, 0x0b, 0x0a, 0x09, 0x21, 0, 0, 0, 0, 0, 0, 0, 0xc0}))));
  const std::string_view strs[] = {"a", ""};
  EXPECT_EQ(HexDump(AttrField({"k", std::span<const std::string_view>(strs)})),
            HexDump(KvK(B({0x2a, 0x09, 0x0a, 0x03, 0x0a, 0x01, 'a', 0x0a, 0x02, 0x0a, 0x00}))));
}

TEST(EncodeProto, EmptyArraysAreEmptyArrayValues) {
  EXPECT_EQ(HexDump(AttrField({"k", std::span<const bool>()})), HexDump(KvK(B({0x2a, 0x00}))));
  EXPECT_EQ(HexDump(AttrField({"k", std::span<const int64_t>()})), HexDump(KvK(B({0x2a, 0x00}))));
  EXPECT_EQ(HexDump(AttrField({"k", std::span<const double>()})), HexDump(KvK(B({0x2a, 0x00}))));
  EXPECT_EQ(HexDump(AttrField({"k", std::span<const std::string_view>()})),
            HexDump(KvK(B({0x2a, 0x00}))));
}

TEST(EncodeProto, EmptyKeyIsLeftOut) {
  EXPECT_EQ(HexDump(AttrField({"", 1})), HexDump(B({0x4a, 0x04, 0x12, 0x02, 0x18, 0x01})));
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
  EXPECT_EQ(HexDump(attrs[0]), HexDump(B({0x0a, 0x05}) + "bools" +
                                       B({0x12, 0x0e, 0x2a, 0x0c, 0x0a, 0x02, 0x10, 0x01, 0x0a,
                                          0x02, 0x10, 0x00, 0x0a, 0x02, 0x10, 0x01})));
  EXPECT_EQ(HexDump(attrs[1]), HexDump(B({0x0a, 0x04}) + "strs" +
                                       B({0x12, 0x0d, 0x2a, 0x0b, 0x0a, 0x03, 0x0a, 0x01, 'x', 0x0a,
                                          0x04, 0x0a, 0x02, 'y', 'z'})));
}

}  // namespace
}  // namespace otlp::exporter
