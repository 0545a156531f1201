#include "otlp/core/internal/ascii.h"

#include <gtest/gtest.h>

#include <string>

namespace otlp::internal {
namespace {

TEST(Ascii, EqualsIgnoreCaseFoldsOnlyAsciiLetters) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Type", "content-type"));
  EXPECT_TRUE(EqualsIgnoreCase("X-B3-TraceId", "x-b3-traceid"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("host", "hosts"));
  EXPECT_FALSE(EqualsIgnoreCase("a", "b"));
  // '@' (0x40) and '`' (0x60) differ by the case bit but are not letters.
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));
  EXPECT_FALSE(EqualsIgnoreCase("[", "{"));
  // Bytes above ASCII compare as themselves, whatever the locale.
  EXPECT_TRUE(EqualsIgnoreCase("\xc3\x89", "\xc3\x89"));
  EXPECT_FALSE(EqualsIgnoreCase("\xc3\x89", "\xc3\xa9"));
}

TEST(Ascii, ContainsIgnoreCase) {
  EXPECT_TRUE(ContainsIgnoreCase("application/JSON; charset=utf-8", "json"));
  EXPECT_TRUE(ContainsIgnoreCase("application/x-protobuf", "PROTOBUF"));
  EXPECT_TRUE(ContainsIgnoreCase("anything", ""));
  EXPECT_FALSE(ContainsIgnoreCase("text/plain", "json"));
  EXPECT_FALSE(ContainsIgnoreCase("js", "json"));
}

TEST(Ascii, Lower) {
  EXPECT_EQ(AsciiLower("HTTPS://Example.COM"), "https://example.com");
  EXPECT_EQ(AsciiLower("\xc3\x89-@[Z]"), "\xc3\x89-@[z]");
  EXPECT_EQ(AsciiToLower('Q'), 'q');
  EXPECT_EQ(AsciiToLower('7'), '7');
  EXPECT_TRUE(AsciiIsUpper('A'));
  EXPECT_FALSE(AsciiIsUpper('a'));
}

TEST(Ascii, TokenIsRfc9110Tchar) {
  EXPECT_TRUE(IsToken("GET"));
  EXPECT_TRUE(IsToken("x-custom_header.v2"));
  EXPECT_TRUE(IsToken("!#$%&'*+-.^_`|~09azAZ"));
  EXPECT_FALSE(IsToken(""));
  for (char c : std::string("()<>@,;:\\\"/[]?={} \t\r\n\x7f")) {
    EXPECT_FALSE(IsTokenChar(c)) << static_cast<int>(c);
    EXPECT_FALSE(IsToken(std::string("a") + c + "b")) << static_cast<int>(c);
  }
  EXPECT_FALSE(IsTokenChar('\0'));
  EXPECT_FALSE(IsTokenChar('\x80'));
}

}  // namespace
}  // namespace otlp::internal
