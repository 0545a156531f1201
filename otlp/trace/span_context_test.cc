#include "otlp/trace/span_context.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace otlp::trace {
namespace {

constexpr std::string_view kTraceHex = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kSpanHex = "00f067aa0ba902b7";

std::string Members(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    if (i) s += ",";
    s += "k" + std::to_string(i) + "=v" + std::to_string(i);
  }
  return s;
}

// ---- hex, ids ----

TEST(HexTest, EncodeDecodeRoundTrip) {
  const uint8_t bytes[] = {0x00, 0x0f, 0xa5, 0xff};
  char out[8];
  internal::HexEncode(bytes, 4, out);
  EXPECT_EQ(std::string_view(out, 8), "000fa5ff");
  uint8_t back[4];
  ASSERT_TRUE(internal::HexDecode("000FA5ff", back, 4));
  EXPECT_EQ(0, std::memcmp(bytes, back, 4));
}

TEST(HexTest, DecodeRejectsBadInput) {
  uint8_t out[2];
  EXPECT_FALSE(internal::HexDecode("abc", out, 2));    // too short
  EXPECT_FALSE(internal::HexDecode("abcde", out, 2));  // too long
  EXPECT_FALSE(internal::HexDecode("abcg", out, 2));   // not hex
  EXPECT_FALSE(internal::HexDecode("ab-d", out, 2));
}

TEST(TraceIdTest, FromHexToHexLow64) {
  auto id = TraceId::FromHex(kTraceHex);
  ASSERT_TRUE(id);
  EXPECT_TRUE(id->IsValid());
  EXPECT_EQ(id->ToHex(), kTraceHex);
  EXPECT_EQ(id->Low64(), 0xa3ce929d0e0e4736ULL);
  EXPECT_EQ(id->bytes()[0], 0x4b);
}

TEST(TraceIdTest, AllZeroParsesButIsInvalid) {
  auto id = TraceId::FromHex(std::string(32, '0'));
  ASSERT_TRUE(id);
  EXPECT_FALSE(id->IsValid());
  EXPECT_FALSE(TraceId().IsValid());
}

TEST(TraceIdTest, FromHexRejectsWrongLength) {
  EXPECT_FALSE(TraceId::FromHex(kTraceHex.substr(1)));
  EXPECT_FALSE(TraceId::FromHex(std::string(kTraceHex) + "0"));
  EXPECT_FALSE(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e473z"));
}

TEST(SpanIdTest, FromHexToHex) {
  auto id = SpanId::FromHex(kSpanHex);
  ASSERT_TRUE(id);
  EXPECT_TRUE(id->IsValid());
  EXPECT_EQ(id->ToHex(), kSpanHex);
  EXPECT_FALSE(SpanId::FromHex("00f067aa0ba902b"));
  EXPECT_FALSE(SpanId::FromHex(std::string(16, '0'))->IsValid());
}

TEST(SpanContextTest, ToTraceparent) {
  SpanContext sc(*TraceId::FromHex(kTraceHex), *SpanId::FromHex(kSpanHex), TraceFlags(0x01), false);
  EXPECT_EQ(sc.ToTraceparent(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  SpanContext other_flags(sc.trace_id(), sc.span_id(), TraceFlags(0xab), false);
  EXPECT_EQ(other_flags.ToTraceparent().substr(53), "ab");
  EXPECT_EQ(SpanContext().ToTraceparent(), "");
  EXPECT_EQ(SpanContext(sc.trace_id(), SpanId(), TraceFlags(1), false).ToTraceparent(), "");
}

// ---- TraceState keys and values ----

TEST(TraceStateTest, ValidKeys) {
  EXPECT_TRUE(TraceState::IsValidKey("foo"));
  EXPECT_TRUE(TraceState::IsValidKey("abcdefghijklmnopqrstuvwxyz0123456789_-*/"));
  EXPECT_TRUE(TraceState::IsValidKey(std::string(256, 'z')));
  EXPECT_TRUE(TraceState::IsValidKey("tenant@system"));
  EXPECT_TRUE(TraceState::IsValidKey("0tenant@sys"));  // tenant may start with a digit
  EXPECT_TRUE(TraceState::IsValidKey(std::string(241, 't') + "@" + std::string(14, 's')));
}

TEST(TraceStateTest, InvalidKeys) {
  EXPECT_FALSE(TraceState::IsValidKey(""));
  EXPECT_FALSE(TraceState::IsValidKey(std::string(257, 'z')));
  EXPECT_FALSE(TraceState::IsValidKey("Foo"));
  EXPECT_FALSE(TraceState::IsValidKey("0foo"));  // simple key starts with lcalpha
  EXPECT_FALSE(TraceState::IsValidKey("foo.bar"));
  EXPECT_FALSE(TraceState::IsValidKey("foo "));
  EXPECT_FALSE(TraceState::IsValidKey("foo@"));
  EXPECT_FALSE(TraceState::IsValidKey("@foo"));
  EXPECT_FALSE(TraceState::IsValidKey("foo@@bar"));
  EXPECT_FALSE(TraceState::IsValidKey("foo@bar@baz"));
  EXPECT_FALSE(TraceState::IsValidKey("foo@0bar"));  // system-id starts with lcalpha
  EXPECT_FALSE(TraceState::IsValidKey(std::string(242, 't') + "@" + std::string(14, 's')));
  EXPECT_FALSE(TraceState::IsValidKey(std::string(241, 't') + "@" + std::string(15, 's')));
}

TEST(TraceStateTest, Values) {
  EXPECT_TRUE(TraceState::IsValidValue("1"));
  EXPECT_TRUE(TraceState::IsValidValue(" !\"#$%&'()*+-./0123456789:;<>?@ABCXYZ[\\]^_`abc{|}~"));
  EXPECT_TRUE(TraceState::IsValidValue(std::string(256, 'v')));
  EXPECT_FALSE(TraceState::IsValidValue(std::string(257, 'v')));
  EXPECT_FALSE(TraceState::IsValidValue(""));
  EXPECT_FALSE(TraceState::IsValidValue("a,b"));
  EXPECT_FALSE(TraceState::IsValidValue("a=b"));
  EXPECT_FALSE(TraceState::IsValidValue("ab "));  // no trailing space
  EXPECT_FALSE(TraceState::IsValidValue("a\tb"));
  EXPECT_FALSE(TraceState::IsValidValue("caf\xc3\xa9"));
  EXPECT_FALSE(TraceState::IsValidValue(std::string("a\0b", 3)));
}

// ---- TraceState parsing ----

TEST(TraceStateTest, ParsesMembersInOrder) {
  TraceState ts = TraceState::FromHeader("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  ASSERT_EQ(ts.size(), 2u);
  EXPECT_EQ(ts.Get("rojo"), "00f067aa0ba902b7");
  EXPECT_EQ(ts.Get("congo"), "t61rcWkgMzE");
  EXPECT_FALSE(ts.Get("missing"));
  EXPECT_EQ(ts.header(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  EXPECT_EQ(ts.ToHeader(), ts.header());
  auto entries = ts.Entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].first, "congo");
}

TEST(TraceStateTest, TrimsOwsAndSkipsEmptyMembers) {
  TraceState ts = TraceState::FromHeader(" \t foo=1 \t , \t bar=2 \t ,,, \t ,");
  EXPECT_EQ(ts.header(), "foo=1,bar=2");
  EXPECT_TRUE(TraceState::FromHeader("").empty());
  EXPECT_TRUE(TraceState::FromHeader(" , ,\t").empty());
}

TEST(TraceStateTest, ValueMayStartWithSpace) {
  TraceState ts = TraceState::FromHeader("foo= bar");
  EXPECT_EQ(ts.Get("foo"), " bar");
}

TEST(TraceStateTest, InvalidMemberDiscardsWholeHeader) {
  EXPECT_TRUE(TraceState::FromHeader("foo=1,bar").empty());
  EXPECT_TRUE(TraceState::FromHeader("foo=1,FOO=2").empty());
  EXPECT_TRUE(TraceState::FromHeader("foo =1").empty());
  EXPECT_TRUE(TraceState::FromHeader("foo=bar=baz").empty());
  EXPECT_TRUE(TraceState::FromHeader("foo=,bar=3").empty());
  EXPECT_TRUE(TraceState::FromHeader("foo@=1,bar=2").empty());
  EXPECT_TRUE(TraceState::FromHeader("@foo=1,bar=2").empty());
  EXPECT_TRUE(TraceState::FromHeader("foo@@bar=1,bar=2").empty());
  EXPECT_TRUE(TraceState::FromHeader("foo@bar@baz=1,bar=2").empty());
  EXPECT_TRUE(TraceState::FromHeader("foo=1,bar=" + std::string(257, 'v')).empty());
  EXPECT_TRUE(TraceState::FromHeader("foo=1," + std::string(257, 'z') + "=1").empty());
}

TEST(TraceStateTest, DuplicateKeysDiscardHeader) {
  EXPECT_TRUE(TraceState::FromHeader("foo=1,bar=2,foo=1").empty());
  EXPECT_TRUE(TraceState::FromHeader("foo=1,foo=2").empty());
}

TEST(TraceStateTest, ThirtyTwoMembersKeptThirtyThreeDiscarded) {
  TraceState ts = TraceState::FromHeader(Members(32));
  EXPECT_EQ(ts.size(), 32u);
  EXPECT_EQ(ts.Get("k31"), "v31");
  EXPECT_TRUE(TraceState::FromHeader(Members(33)).empty());
  // Empty members do not count.
  EXPECT_EQ(TraceState::FromHeader(Members(32) + ",,, ,").size(), 32u);
}

TEST(TraceStateTest, LongestKeysAccepted) {
  std::string k256(256, 'z');
  TraceState ts = TraceState::FromHeader("foo=1," + k256 + "=1");
  EXPECT_EQ(ts.Get(k256), "1");
  std::string mt = std::string(241, 't') + "@" + std::string(14, 's');
  EXPECT_EQ(TraceState::FromHeader("foo=1," + mt + "=1").Get(mt), "1");
  EXPECT_TRUE(
      TraceState::FromHeader("foo=1," + std::string(242, 't') + "@" + std::string(14, 's') + "=1")
          .empty());
  EXPECT_TRUE(
      TraceState::FromHeader("foo=1," + std::string(241, 't') + "@" + std::string(15, 's') + "=1")
          .empty());
}

TEST(TraceStateTest, TruncatesLongHeadersLongEntriesFirst) {
  // 614 characters: the last entry longer than 128 characters goes first, short ones stay.
  std::string v197(197, 'v');
  std::string header = "a=1,b1=" + v197 + ",c=2,b2=" + v197 + ",b3=" + v197 + ",d=4";
  TraceState ts = TraceState::FromHeader(header);
  EXPECT_LE(ts.header().size(), TraceState::kMaxHeaderSize);
  EXPECT_EQ(ts.header(), "a=1,b1=" + v197 + ",c=2,b2=" + v197 + ",d=4");
}

TEST(TraceStateTest, TruncatesShortEntriesFromTheEnd) {
  // 32 entries of 30 characters: 991 characters; entries are dropped from the end.
  std::string header;
  for (int i = 0; i < 32; ++i) {
    if (i) header += ",";
    char key[8];
    std::snprintf(key, sizeof key, "k%02d", i);
    header += std::string(key) + "=" + std::string(26, 'x');
  }
  TraceState ts = TraceState::FromHeader(header);
  EXPECT_LE(ts.header().size(), 512u);
  EXPECT_EQ(ts.size(), 16u);  // 16 * 31 - 1 = 495
  EXPECT_TRUE(ts.Get("k15"));
  EXPECT_FALSE(ts.Get("k16"));
}

TEST(TraceStateTest, ReparsingHeaderGivesSameState) {
  TraceState ts = TraceState::FromHeader("  a=1 ,,b@c=x y, d=~");
  EXPECT_EQ(TraceState::FromHeader(ts.header()), ts);
  EXPECT_EQ(ts.header(), "a=1,b@c=x y,d=~");
}

// ---- TraceState updates ----

TEST(TraceStateTest, SetPutsKeyFirst) {
  TraceState ts = TraceState::FromHeader("a=1,b=2,c=3");
  TraceState updated = ts.Set("b", "9");
  EXPECT_EQ(updated.header(), "b=9,a=1,c=3");
  EXPECT_EQ(ts.header(), "a=1,b=2,c=3");  // immutable
  EXPECT_EQ(TraceState().Set("x", "1").header(), "x=1");
  EXPECT_EQ(ts.Set("new", "v").header(), "new=v,a=1,b=2,c=3");
}

TEST(TraceStateTest, SetRejectsInvalid) {
  TraceState ts = TraceState::FromHeader("a=1");
  EXPECT_EQ(ts.Set("Bad", "1"), ts);
  EXPECT_EQ(ts.Set("ok", "bad,value"), ts);
  EXPECT_EQ(ts.Set("ok", ""), ts);
}

TEST(TraceStateTest, SetAtCapacityDropsLast) {
  TraceState ts = TraceState::FromHeader(Members(32));
  TraceState updated = ts.Set("new", "1");
  EXPECT_EQ(updated.size(), 32u);
  EXPECT_EQ(updated.Entries().front().first, "new");
  EXPECT_FALSE(updated.Get("k31"));
  // Updating an existing key at capacity keeps everything.
  TraceState same = ts.Set("k31", "z");
  EXPECT_EQ(same.size(), 32u);
  EXPECT_EQ(same.Get("k0"), "v0");
  EXPECT_EQ(same.Get("k31"), "z");
}

TEST(TraceStateTest, Delete) {
  TraceState ts = TraceState::FromHeader("a=1,b=2");
  EXPECT_EQ(ts.Delete("a").header(), "b=2");
  EXPECT_EQ(ts.Delete("zz"), ts);
  EXPECT_TRUE(ts.Delete("a").Delete("b").empty());
}

TEST(TraceStateTest, CopiesShareAndCompare) {
  TraceState a = TraceState::FromHeader("a=1");
  TraceState b = a;
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.header().data(), b.header().data());
  EXPECT_FALSE(a == TraceState::FromHeader("a=2"));
}

}  // namespace
}  // namespace otlp::trace
