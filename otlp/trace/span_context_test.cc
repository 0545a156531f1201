#include "otlp/trace/span_context.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

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

TEST(TraceFlagsTest, SampledAndRandomBits) {
  struct Case {
    uint8_t value;
    bool sampled, random;
  } cases[] = {{0x00, false, false}, {0x01, true, false}, {0x02, false, true},
               {0x03, true, true},   {0x09, true, false}, {0xfe, false, true}};
  for (const Case& c : cases) {
    TraceFlags f(c.value);
    EXPECT_EQ(f.IsSampled(), c.sampled) << int(c.value);
    EXPECT_EQ(f.IsRandom(), c.random) << int(c.value);
    SpanContext sc(*TraceId::FromHex(kTraceHex), *SpanId::FromHex(kSpanHex), f, false);
    EXPECT_EQ(sc.IsSampled(), c.sampled);
    EXPECT_EQ(sc.IsRandom(), c.random);
  }
  EXPECT_EQ(TraceFlags::kRandom, 0x02);
}

// ---- TraceState keys and values ----

// Keys by the Level 2 grammar, key = ( lcalpha / DIGIT ) 0*255( keychar ) with `@` a keychar
// (§3.3.2.2.1), beside what Level 1 (simple-key / tenant-id "@" system-id) said of the same key.
struct KeyCase {
  std::string key;
  bool level1;  // valid under Level 1 (for the record: not what this code implements)
  bool level2;  // valid now
};

std::vector<KeyCase> KeyCases() {
  const std::string t241(241, 't'), s14(14, 's');
  return {
      // Unchanged.
      {"foo", true, true},
      {"abcdefghijklmnopqrstuvwxyz0123456789_-*/", true, true},
      {std::string(256, 'z'), true, true},
      {"tenant@system", true, true},
      {"0tenant@sys", true, true},
      {t241 + "@" + s14, true, true},
      {"", false, false},
      {std::string(257, 'z'), false, false},
      {"Foo", false, false},
      {"foo@Bar", false, false},
      {"foo.bar", false, false},
      {"foo ", false, false},
      {"@foo", false, false},
      {"_foo", false, false},
      {"*", false, false},
      {std::string(200, 't') + "@" + std::string(56, 's'), false, false},  // 257 characters
      {std::string(242, 't') + "@" + s14, false, false},                  // 257 characters
      {t241 + "@" + std::string(15, 's'), false, false},                  // 257 characters
      // Level 1 rejected these; Level 2 keeps them.
      {"0foo", false, true},       // a digit first in a key without `@`
      {"9", false, true},          // a one-digit key
      {"foo@", false, true},       // `@` last (Level 1: empty system-id)
      {"foo@@bar", false, true},   // two `@`
      {"foo@bar@baz", false, true},
      {"foo@0bar", false, true},   // a digit after `@` (Level 1: system-id starts lcalpha)
      {"foo@_bar", false, true},
      {std::string(242, 't') + "@" + std::string(13, 's'), false, true},  // tenant past 241
      {"t@" + std::string(15, 's'), false, true},                         // system past 14
      {std::string(200, 't') + "@" + std::string(55, 's'), false, true},  // 256 characters
      {std::string(255, 'z') + "@", false, true},
  };
}

TEST(TraceStateTest, KeysFollowTheLevel2Grammar) {
  int changed = 0;
  for (const KeyCase& c : KeyCases()) {
    EXPECT_EQ(TraceState::IsValidKey(c.key), c.level2) << "key '" << c.key << "'";
    // The same verdict inside a header: a valid key is kept, an invalid one drops the header.
    TraceState ts = TraceState::FromHeader("a=1," + c.key + "=v");
    EXPECT_EQ(ts.Get(c.key) == std::optional<std::string_view>("v"), c.level2) << c.key;
    EXPECT_EQ(ts.empty(), !c.level2) << c.key;
    changed += c.level1 != c.level2;
  }
  EXPECT_EQ(changed, 11);  // the table keeps both kinds of rows
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

// Whole headers: input → the parsed state's serialization under Level 2, beside what Level 1
// gave ("" is the empty state: the whole header discarded).
struct HeaderCase {
  std::string input;
  std::string level1;  // for the record: the result before Level 2
  std::string level2;  // expected now
};

std::vector<HeaderCase> HeaderCases() {
  const std::string k256(256, 'z'), v256(256, 'v');
  return {
      // Unchanged: valid lists, OWS and empty members.
      {"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
       "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"},
      {" \t foo=1 \t , \t bar=2 \t ,,, \t ,", "foo=1,bar=2", "foo=1,bar=2"},
      {"foo= bar", "foo= bar", "foo= bar"},  // leading spaces belong to the value
      {"a@b=1,0t@sys=2", "a@b=1,0t@sys=2", "a@b=1,0t@sys=2"},
      {"foo=1," + k256 + "=" + v256.substr(0, 200), "foo=1," + k256 + "=" + v256.substr(0, 200),
       "foo=1," + k256 + "=" + v256.substr(0, 200)},
      {Members(32), Members(32), Members(32)},
      {"", "", ""},
      {" , ,\t", "", ""},
      // Unchanged: a member that cannot be parsed discards the whole header (§4.3), in both.
      {"foo=1,bar", "", ""},             // no '='
      {"foo=1,FOO=2", "", ""},           // uppercase key
      {"foo =1", "", ""},                // space inside the member, before '='
      {"foo=bar=baz", "", ""},           // '=' in the value
      {"foo=,bar=3", "", ""},            // empty value
      {"@foo=1,bar=2", "", ""},          // `@` first
      {"foo=1,bar=" + std::string(257, 'v'), "", ""},
      {"foo=1," + std::string(257, 'z') + "=1", "", ""},
      {"foo=caf\xc3\xa9", "", ""},       // not ASCII
      {Members(33), "", ""},             // 33 list-members
      {Members(32) + ",k0=again", "", ""},  // 33 list-members, one a repeat
      // Changed: keys Level 1 rejected are kept.
      {"0vendor=1,bar=2", "", "0vendor=1,bar=2"},
      {"foo@=1,bar=2", "", "foo@=1,bar=2"},
      {"foo@@bar=1,bar=2", "", "foo@@bar=1,bar=2"},
      {"foo@bar@baz=1,bar=2", "", "foo@bar@baz=1,bar=2"},
      {"foo=1," + std::string(242, 't') + "@v=1", "", "foo=1," + std::string(242, 't') + "@v=1"},
      {"foo=1,t@" + std::string(15, 'v') + "=1", "", "foo=1,t@" + std::string(15, 'v') + "=1"},
      // Changed: a repeated key no longer discards the header; every occurrence is kept.
      {"foo=1,foo=1", "", "foo=1,foo=1"},
      {"foo=1,foo=2", "", "foo=1,foo=2"},
      {"foo=1,bar=2,foo=3", "", "foo=1,bar=2,foo=3"},
      {" foo=1 ,, foo=2 ", "", "foo=1,foo=2"},
  };
}

TEST(TraceStateTest, HeadersParseByLevel2Rules) {
  int changed = 0;
  for (const HeaderCase& c : HeaderCases()) {
    TraceState ts = TraceState::FromHeader(c.input);
    EXPECT_EQ(ts.header(), c.level2) << "input '" << c.input << "'";
    EXPECT_EQ(ts.empty(), c.level2.empty()) << c.input;
    changed += c.level1 != c.level2;
  }
  EXPECT_EQ(changed, 10);
}

TEST(TraceStateTest, RepeatedKeysAreKeptAndSetLeavesOne) {
  TraceState ts = TraceState::FromHeader("foo=1,bar=2,foo=3");
  ASSERT_EQ(ts.size(), 3u);
  EXPECT_EQ(ts.Get("foo"), "1");  // the left-most, most recent position
  auto entries = ts.Entries();
  EXPECT_EQ(entries[2].first, "foo");
  EXPECT_EQ(entries[2].second, "3");
  EXPECT_EQ(TraceState::FromHeader(ts.header()), ts);  // forwarded unchanged
  // Adding or updating a key never leaves it present twice (§3.5).
  EXPECT_EQ(ts.Set("foo", "9").header(), "foo=9,bar=2");
  EXPECT_EQ(ts.Set("bar", "9").header(), "bar=9,foo=1,foo=3");
  EXPECT_EQ(ts.Delete("foo").header(), "bar=2");
}

TEST(TraceStateTest, RepeatedKeysCountTowardTheLimits) {
  // 32 members, all one key: kept; a 33rd is one too many.
  std::string same;
  for (int i = 0; i < 32; ++i) same += (i ? ",k=" : "k=") + std::to_string(i);
  TraceState ts = TraceState::FromHeader(same);
  EXPECT_EQ(ts.size(), 32u);
  EXPECT_EQ(ts.Get("k"), "0");
  EXPECT_TRUE(TraceState::FromHeader(same + ",k=32").empty());
  // Truncation to 512 characters treats a repeat like any other entry.
  std::string v200(200, 'v');
  TraceState cut = TraceState::FromHeader("a=1,k=" + v200 + ",b=2,k=" + v200 + ",k=" + v200);
  EXPECT_EQ(cut.header(), "a=1,k=" + v200 + ",b=2,k=" + v200);
}

TEST(TraceStateTest, LongestKeysAndValuesAccepted) {
  std::string k256(256, 'z');
  TraceState ts = TraceState::FromHeader("foo=1," + k256 + "=1");
  EXPECT_EQ(ts.Get(k256), "1");
  std::string at256 = std::string(128, 't') + "@" + std::string(127, 's');
  EXPECT_EQ(TraceState::FromHeader("foo=1," + at256 + "=1").Get(at256), "1");
  EXPECT_TRUE(TraceState::FromHeader("foo=1," + at256 + "s=1").empty());  // 257
  std::string v256(256, 'v');
  EXPECT_EQ(TraceState::FromHeader("k=" + v256).Get("k"), v256);
  EXPECT_TRUE(TraceState::FromHeader("k=" + v256 + "v").empty());
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
  EXPECT_EQ(ts.Set("0vendor@x@", "1").header(), "0vendor@x@=1,a=1");  // a Level 2 key
  EXPECT_EQ(ts.Set("Bad", "1"), ts);
  EXPECT_EQ(ts.Set("@bad", "1"), ts);
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
