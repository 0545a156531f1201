// The response decoder: ExportTraceServiceResponse (partial success) and google.rpc.Status
// bodies, protobuf and JSON, well-formed and malformed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "otlp/exporter/otlp_response.h"
#include "tests/support/span_fixtures.h"
#include "tests/support/status_matchers.h"

namespace otlp::exporter {
namespace {

using test::B;

TEST(DecodeResponseProto, EmptyAndFull) {
  auto r = DecodeTraceResponseProto("");
  ASSERT_OK(r);
  EXPECT_FALSE(r->present());
  r = DecodeTraceResponseProto(B({0x0a, 0x00}));
  ASSERT_OK(r);
  EXPECT_FALSE(r->present());
  r = DecodeTraceResponseProto(B({0x0a, 0x07, 0x08, 0x03, 0x12, 0x03, 'b', 'a', 'd'}));
  ASSERT_OK(r);
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
  ASSERT_OK_AND_ASSIGN(auto r, DecodeTraceResponseProto(body));
  EXPECT_EQ(r.rejected_spans, -1);
  EXPECT_EQ(r.error_message, "m");
}

TEST(DecodeResponseProto, MalformedIsAnErrorNeverACrash) {
  const std::string good = B({0x0a, 0x07, 0x08, 0x03, 0x12, 0x03, 'b', 'a', 'd'});
  for (size_t n = 1; n < good.size(); ++n) {
    EXPECT_THAT(DecodeTraceResponseProto(good.substr(0, n)), StatusIs(StatusCode::kInvalidArgument))
        << n;
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
    ASSERT_OK(r) << c.body;
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
    EXPECT_THAT(DecodeTraceResponseJson(b), StatusIs(StatusCode::kInvalidArgument)) << b;
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
