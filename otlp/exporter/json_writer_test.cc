// The OTLP/JSON writer: exact output for every field and attribute type, string escaping and
// UTF-8 repair, grouping.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "otlp/exporter/internal/json_text.h"
#include "otlp/exporter/otlp_encoder.h"
#include "otlp/trace/resource.h"
#include "tests/support/span_fixtures.h"

namespace otlp::exporter {
namespace {

using test::HexDump;
using test::MinimalSpan;
using test::Scope;
using test::Sid;
using test::Tid;
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

std::string EncodeJson(const std::vector<const SpanData*>& spans) {
  std::string out;
  EncodeTraceRequestJson(spans, out);
  return out;
}
std::string EncodeJson(const SpanData& s) {
  return EncodeJson(std::vector{&s});
}

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
    ASSERT_EQ(JsonStr(s), ReferenceEscape(s)) << HexDump(s);
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
    ASSERT_TRUE(IsValidUtf8(out)) << HexDump(s);
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
// JSON fast paths: plain strings copied whole, numbers written in 8-digit blocks, ids in hex by
// byte pairs.

TEST(EncodeJsonFastPaths, OneSpecialByteAtEveryPositionOfEveryLength) {
  // A plain string is checked in 8-byte words, the last one overlapping, and a short one by
  // assembled words: a special byte anywhere must send it to the escaping path.
  const std::pair<std::string, std::string> specials[] = {{"\"", "\\\""},
                                                          {"\\", "\\\\"},
                                                          {"\n", "\\n"},
                                                          {std::string(1, '\0'), "\\u0000"},
                                                          {"\x1f", "\\u001f"},
                                                          {"\xff", "\xEF\xBF\xBD"},
                                                          {"\xc3\xa9", "\xc3\xa9"},
                                                          {"\x7f", "\x7f"},
                                                          {" ", " "}};
  for (size_t n = 0; n <= 40; ++n) {
    const std::string plain(n, 'p');
    ASSERT_EQ(JsonStr(plain), "\"" + plain + "\"");
    for (size_t at = 0; at < n; ++at) {
      for (const auto& [raw, escaped] : specials) {
        std::string s = plain;
        s.replace(at, 1, raw);
        const std::string want = "\"" + plain.substr(0, at) + escaped + plain.substr(at + 1) + "\"";
        ASSERT_EQ(JsonStr(s), want) << "length " << n << ", special byte at " << at;
      }
    }
  }
}

TEST(EncodeJsonFastPaths, NumbersAtDigitBlockBoundaries) {
  const uint64_t values[] = {1,
                             9,
                             10,
                             99999999,
                             100000000,
                             100000001,
                             1700000000123456789,
                             9999999999999999,
                             10000000000000000,
                             10000000000000001,
                             uint64_t{INT64_MAX},
                             uint64_t{1} << 63,
                             UINT64_MAX};
  for (uint64_t v : values) {
    SpanData s;
    s.start_unix_nano = static_cast<int64_t>(v);
    s.dropped_attributes_count = static_cast<uint32_t>(v);
    s.attributes = {{"i", static_cast<int64_t>(v)}};
    std::string out;
    EncodeTraceRequestJson(std::vector<const SpanData*>{&s}, out);
    EXPECT_NE(out.find("\"startTimeUnixNano\":\"" + std::to_string(v) + "\""), std::string::npos)
        << v << " in " << out;
    EXPECT_NE(out.find("{\"intValue\":\"" + std::to_string(static_cast<int64_t>(v)) + "\"}"),
              std::string::npos)
        << v << " in " << out;
    if (static_cast<uint32_t>(v) != 0) {
      EXPECT_NE(
          out.find("\"droppedAttributesCount\":" + std::to_string(static_cast<uint32_t>(v)) + "}"),
          std::string::npos)
          << v << " in " << out;
    }
  }
}

TEST(EncodeJsonFastPaths, IdsInHexForEveryByteValue) {
  for (int first = 0; first < 256; first += 16) {
    uint8_t tid[16], sid[8];
    std::string tid_hex, sid_hex;
    char buf[3];
    for (int k = 0; k < 16; ++k) {
      tid[k] = static_cast<uint8_t>(first + k);
      std::snprintf(buf, sizeof buf, "%02x", tid[k]);
      tid_hex += buf;
    }
    for (int k = 0; k < 8; ++k) {
      sid[k] = static_cast<uint8_t>(255 - first - k);
      std::snprintf(buf, sizeof buf, "%02x", sid[k]);
      sid_hex += buf;
    }
    SpanData s;
    s.context = SpanContext(TraceId(tid), SpanId(sid), TraceFlags(1), false);
    s.parent_span_id = SpanId(sid);
    std::string out;
    EncodeTraceRequestJson(std::vector<const SpanData*>{&s}, out);
    EXPECT_NE(out.find("{\"traceId\":\"" + tid_hex + "\",\"spanId\":\"" + sid_hex + "\""),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("\"parentSpanId\":\"" + sid_hex + "\""), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace otlp::exporter
