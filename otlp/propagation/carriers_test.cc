#include "otlp/propagation/carriers.h"

#include <gtest/gtest.h>

#include <string>

namespace otlp::propagation {
namespace {

TEST(MapCarrierTest, LowercasesKeys) {
  MapCarrier c{{"TraceParent", "x"}};
  EXPECT_EQ(c.Get("traceparent"), "x");
  EXPECT_EQ(c.Get("TRACEPARENT"), "x");
  c.Set("BaGGage", "b=1");
  EXPECT_EQ(c.values().count("baggage"), 1u);
  c.Set("baggage", "b=2");  // replaces
  EXPECT_EQ(c.Get("baggage"), "b=2");
  EXPECT_EQ(c.values().size(), 2u);
  EXPECT_EQ(c.Get("absent"), "");
}

TEST(MapCarrierTest, Keys) {
  MapCarrier c{{"a", "1"}, {"b", "2"}};
  std::vector<std::string> keys;
  c.Keys([&](std::string_view k) { keys.emplace_back(k); });
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b"}));
}

TEST(HeaderVectorCarrierTest, CaseInsensitiveGet) {
  HeaderVectorCarrier::Headers h = {{"Content-Type", "text/plain"}, {"TraceParent", "tp"}};
  HeaderVectorCarrier c(h);
  EXPECT_EQ(c.Get("traceparent"), "tp");
  EXPECT_EQ(c.Get("content-type"), "text/plain");
  EXPECT_EQ(c.Get("tracestate"), "");
}

TEST(HeaderVectorCarrierTest, JoinsRepeatedHeaders) {
  HeaderVectorCarrier::Headers h = {
      {"tracestate", "a=1"}, {"other", "x"}, {"TraceState", "b=2"}, {"tracestate", ""}};
  HeaderVectorCarrier c(h);
  EXPECT_EQ(c.Get("tracestate"), "a=1,b=2,");
  std::string_view first = c.Get("tracestate");
  std::string_view second = c.Get("TRACESTATE");
  EXPECT_EQ(first, second);  // earlier views stay valid
}

TEST(HeaderVectorCarrierTest, SetReplacesAllOccurrences) {
  HeaderVectorCarrier::Headers h = {{"B3", "old"}, {"x", "1"}, {"b3", "old2"}};
  HeaderVectorCarrier c(h);
  c.Set("b3", "new");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"x", "1"}));
  EXPECT_EQ(h[1], (std::pair<std::string, std::string>{"b3", "new"}));
}

TEST(HeaderVectorCarrierTest, ConstVectorIsReadOnly) {
  const HeaderVectorCarrier::Headers h = {{"a", "1"}};
  HeaderVectorCarrier c(h);
  c.Set("b", "2");
  EXPECT_EQ(h.size(), 1u);
  EXPECT_EQ(c.Get("A"), "1");
  std::vector<std::string> keys;
  c.Keys([&](std::string_view k) { keys.emplace_back(k); });
  EXPECT_EQ(keys, std::vector<std::string>{"a"});
}

}  // namespace
}  // namespace otlp::propagation
