#include "otlp/trace/baggage.h"

#include <gtest/gtest.h>

#include <string>

namespace otlp::trace {
namespace {

TEST(BaggageTest, EmptyByDefault) {
  Baggage b;
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.size(), 0u);
  EXPECT_TRUE(b.entries().empty());
  EXPECT_EQ(b.ToHeader(), "");
  EXPECT_FALSE(b.Get("x"));
}

TEST(BaggageTest, SetGetRemoveAreImmutable) {
  Baggage a = Baggage().Set("tenant", "acme");
  Baggage b = a.Set("user", "42", "p1;p2=v");
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b.Get("tenant"), "acme");
  EXPECT_EQ(b.Get("user"), "42");
  EXPECT_EQ(b.entries()[1].metadata, "p1;p2=v");

  Baggage c = b.Set("tenant", "other");  // replaced in place
  EXPECT_EQ(c.entries()[0].name, "tenant");
  EXPECT_EQ(c.Get("tenant"), "other");
  EXPECT_EQ(b.Get("tenant"), "acme");

  Baggage d = c.Remove("tenant");
  EXPECT_FALSE(d.Get("tenant"));
  EXPECT_EQ(d.size(), 1u);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(d.Remove("nope"), d);
  EXPECT_TRUE(d.Remove("user").empty());
  EXPECT_EQ(a.Set("", "x"), a);  // empty name ignored
}

TEST(BaggageTest, EqualityIgnoresOrder) {
  Baggage a = Baggage().Set("x", "1").Set("y", "2");
  Baggage b = Baggage().Set("y", "2").Set("x", "1");
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a == b.Set("x", "3"));
  EXPECT_FALSE(a == b.Set("x", "1", "m"));
  EXPECT_FALSE(a == b.Remove("x"));
}

TEST(BaggageTest, ParsesMembersAndProperties) {
  Baggage b = Baggage::FromHeader(
      "key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue");
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b.Get("key1"), "value1");
  EXPECT_EQ(b.entries()[0].metadata, "property1;property2");
  EXPECT_EQ(b.Get("key2"), "value2");
  EXPECT_EQ(b.entries()[1].metadata, "");
  EXPECT_EQ(b.entries()[2].metadata, "propertyKey=propertyValue");
}

TEST(BaggageTest, TrimsOws) {
  Baggage b = Baggage::FromHeader(" \t a \t = \t 1 \t ; \t p \t = \t v \t ,\tb=2\t");
  EXPECT_EQ(b.Get("a"), "1");
  EXPECT_EQ(b.entries()[0].metadata, "p=v");
  EXPECT_EQ(b.Get("b"), "2");
}

TEST(BaggageTest, EmptyValueAllowed) {
  Baggage b = Baggage::FromHeader("a=,b=2");
  EXPECT_EQ(b.Get("a"), "");
  EXPECT_EQ(b.Get("b"), "2");
}

TEST(BaggageTest, PercentDecodesValues) {
  Baggage b = Baggage::FromHeader("a=hello%20world%2C%3B%25,b=%E2%82%AC,c=%e2%82%ac");
  EXPECT_EQ(b.Get("a"), "hello world,;%");
  EXPECT_EQ(b.Get("b"), "\xE2\x82\xAC");
  EXPECT_EQ(b.Get("c"), "\xE2\x82\xAC");
}

TEST(BaggageTest, InvalidUtf8BecomesReplacementCharacter) {
  Baggage b = Baggage::FromHeader("a=x%FFy,b=%C3,c=%ED%A0%80");
  EXPECT_EQ(b.Get("a"), "x\xEF\xBF\xBDy");
  EXPECT_EQ(b.Get("b"), "\xEF\xBF\xBD");
  // A UTF-16 surrogate is not UTF-8: each of its bytes is replaced.
  EXPECT_EQ(b.Get("c"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(BaggageTest, MalformedMembersSkippedAlone) {
  Baggage b = Baggage::FromHeader(
      "ok1=1,bad%zz=%zz,pct=%2,pct2=%,noeq,=novalue,sp ace=1,ok2=2,val=a b,q=\"x\",bs=a\\b,"
      "prop=1;bad prop,ok3=3");
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(b.Get("ok1"), "1");
  EXPECT_EQ(b.Get("ok2"), "2");
  EXPECT_EQ(b.Get("ok3"), "3");
  EXPECT_FALSE(b.Get("prop"));
  EXPECT_FALSE(b.Get("pct"));
}

TEST(BaggageTest, KeyIsAToken) {
  Baggage b = Baggage::FromHeader("!#$%&'*+-.^_`|~Az09=1,a(b=2,a/b=3,a:b=4");
  EXPECT_EQ(b.size(), 1u);
  EXPECT_EQ(b.Get("!#$%&'*+-.^_`|~Az09"), "1");
}

TEST(BaggageTest, RepeatedNameLastValueWins) {
  Baggage b = Baggage::FromHeader("a=1,b=2,a=3;p");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b.entries()[0].name, "a");
  EXPECT_EQ(b.Get("a"), "3");
  EXPECT_EQ(b.entries()[0].metadata, "p");
}

TEST(BaggageTest, EmptyPropertiesTolerated) {
  Baggage b = Baggage::FromHeader("a=1;;p;,b=2");
  EXPECT_EQ(b.entries()[0].metadata, "p");
  EXPECT_EQ(b.Get("b"), "2");
}

TEST(BaggageTest, AtMost180MembersParsed) {
  std::string header;
  for (int i = 0; i < 200; ++i) header += "k" + std::to_string(i) + "=v,";
  Baggage b = Baggage::FromHeader(header);
  EXPECT_EQ(b.size(), Baggage::kMaxEntries);
  EXPECT_TRUE(b.Get("k179"));
  EXPECT_FALSE(b.Get("k180"));
}

TEST(BaggageTest, ByteLimitDropsMembersThatDoNotFit) {
  std::string big(5000, 'x');
  Baggage b = Baggage::FromHeader("a=" + big + ",b=" + big + ",c=1");
  EXPECT_TRUE(b.Get("a"));
  EXPECT_FALSE(b.Get("b"));  // would pass 8192 bytes
  EXPECT_EQ(b.Get("c"), "1");
  EXPECT_LE(b.ToHeader().size(), Baggage::kMaxHeaderSize);
}

TEST(BaggageTest, HugeHeaderDoesNotCrash) {
  std::string header(1 << 20, ',');
  header += "a=1";
  EXPECT_EQ(Baggage::FromHeader(header).Get("a"), "1");
  std::string many;
  for (int i = 0; i < 100000; ++i) many += "a=1,";
  EXPECT_EQ(Baggage::FromHeader(many).size(), 1u);
  EXPECT_TRUE(Baggage::FromHeader(std::string(100000, '%')).empty());
}

TEST(BaggageTest, ToHeaderPercentEncodes) {
  Baggage b = Baggage().Set("k", "a b,c;d\\e\"f%g=h\xE2\x82\xAC\n");
  EXPECT_EQ(b.ToHeader(), "k=a%20b%2Cc%3Bd%5Ce%22f%25g=h%E2%82%AC%0A");
}

TEST(BaggageTest, ToHeaderKeepsMetadata) {
  Baggage b = Baggage().Set("a", "1", "p1;p2=v").Set("b", "2");
  EXPECT_EQ(b.ToHeader(), "a=1;p1;p2=v,b=2");
}

TEST(BaggageTest, ToHeaderSkipsWhatTheFormatCannotCarry) {
  Baggage b = Baggage().Set("bad name", "1").Set("ok", "2", "bad prop;\"").Set("ok2", "3");
  EXPECT_EQ(b.ToHeader(), "ok=2,ok2=3");
}

TEST(BaggageTest, ToHeaderRespectsLimits) {
  Baggage b;
  for (int i = 0; i < 250; ++i) b = b.Set("k" + std::to_string(i), "v");
  Baggage back = Baggage::FromHeader(b.ToHeader());
  EXPECT_EQ(back.size(), Baggage::kMaxEntries);

  Baggage big =
      Baggage().Set("a", std::string(5000, 'x')).Set("b", std::string(5000, 'y')).Set("c", "small");
  std::string h = big.ToHeader();
  EXPECT_LE(h.size(), Baggage::kMaxHeaderSize);
  Baggage parsed = Baggage::FromHeader(h);
  EXPECT_TRUE(parsed.Get("a"));
  EXPECT_FALSE(parsed.Get("b"));
  EXPECT_EQ(parsed.Get("c"), "small");

  // Percent-encoding counts: 3000 spaces need 9000 bytes.
  EXPECT_EQ(Baggage().Set("s", std::string(3000, ' ')).ToHeader(), "");
}

TEST(BaggageTest, PercentEncodingRoundTrip) {
  std::string all;
  for (int c = 1; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  all += "\xC3\xA9\xF0\x9F\x98\x80";  // é 😀
  Baggage b = Baggage().Set("all", all).Set("empty", "").Set("pct", "%41");
  Baggage back = Baggage::FromHeader(b.ToHeader());
  EXPECT_EQ(back, b);
  EXPECT_EQ(back.Get("pct"), "%41");
}

TEST(BaggageTest, ParseSerializeIsStable) {
  Baggage b = Baggage::FromHeader(" a = x%20y ; p = 1 ;q, b=%7e");
  std::string h = b.ToHeader();
  EXPECT_EQ(h, "a=x%20y;p=1;q,b=~");
  EXPECT_EQ(Baggage::FromHeader(h), b);
}

}  // namespace
}  // namespace otlp::trace
