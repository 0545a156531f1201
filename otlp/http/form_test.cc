#include "otlp/http/internal/form.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/support/status_matchers.h"

namespace otlp::http::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(Form, EncodeKeepsUnreservedAndEscapesTheRest) {
  EXPECT_EQ(FormEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(FormEncode("a b"), "a+b");
  EXPECT_EQ(FormEncode("a+b&c=d/e?f#g%h"), "a%2Bb%26c%3Dd%2Fe%3Ff%23g%25h");
  EXPECT_EQ(FormEncode("\xC3\xA9"), "%C3%A9");  // UTF-8 bytes, upper-case hex
  EXPECT_EQ(FormEncode(std::string("a\0b", 3)), "a%00b");
  EXPECT_EQ(FormEncode(""), "");
}

TEST(Form, PercentEncodeWritesSpaceAsPercent20) {
  EXPECT_EQ(PercentEncode("a b+c"), "a%20b%2Bc");
  EXPECT_EQ(PercentEncode("~x_y.z-"), "~x_y.z-");
}

TEST(Form, DecodeInvertsEncode) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  EXPECT_THAT(FormDecode(FormEncode(all)), IsOkAndHolds(all));
  EXPECT_THAT(FormDecode(PercentEncode(all), false), IsOkAndHolds(all));
  EXPECT_THAT(FormDecode("a+b%2b%2Bc"), IsOkAndHolds(std::string("a b++c")));
  EXPECT_THAT(FormDecode("a+b", false), IsOkAndHolds(std::string("a+b")));
}

TEST(Form, DecodeRejectsBadEscapes) {
  for (const char* bad : {"%", "%4", "abc%", "%zz", "%4g", "x%G0y"}) {
    EXPECT_THAT(FormDecode(bad),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("invalid percent-encoding")))
        << bad;
  }
}

TEST(Form, EncodeFormJoinsPairs) {
  EXPECT_EQ(EncodeForm({}), "");
  EXPECT_EQ(EncodeForm({{"q", "C++ 20"}, {"tag", "a"}, {"tag", "b"}, {"", ""}}),
            "q=C%2B%2B+20&tag=a&tag=b&=");
}

TEST(Form, AppendQueryHandlesExistingQueryAndFragment) {
  const QueryParams p = {{"a", "1"}, {"b", "x y"}};
  EXPECT_EQ(AppendQuery("http://h/p", p), "http://h/p?a=1&b=x%20y");
  EXPECT_EQ(AppendQuery("http://h/p?x=1", p), "http://h/p?x=1&a=1&b=x%20y");
  EXPECT_EQ(AppendQuery("http://h/p?", p), "http://h/p?a=1&b=x%20y");
  EXPECT_EQ(AppendQuery("http://h/p?x=1&", p), "http://h/p?x=1&a=1&b=x%20y");
  EXPECT_EQ(AppendQuery("http://h/p#frag", p), "http://h/p?a=1&b=x%20y#frag");
  EXPECT_EQ(AppendQuery("http://h/p?x#f?g", p), "http://h/p?x&a=1&b=x%20y#f?g");
  EXPECT_EQ(AppendQuery("http://h", p), "http://h?a=1&b=x%20y");
  EXPECT_EQ(AppendQuery("http://h/p?x=1#f", {}), "http://h/p?x=1#f");
  EXPECT_EQ(AppendQuery("", p), "?a=1&b=x%20y");
}

TEST(Form, ParseQuerySplitsAndDecodes) {
  EXPECT_THAT(ParseQuery("?a=1&b=x+y&c&&d=%3D%26&=e&f=g=h"),
              IsOkAndHolds(ElementsAre(Pair("a", "1"), Pair("b", "x y"), Pair("c", ""),
                                       Pair("d", "=&"), Pair("", "e"), Pair("f", "g=h"))));
  EXPECT_THAT(ParseQuery(""), IsOkAndHolds(ElementsAre()));
  EXPECT_THAT(ParseQuery("?"), IsOkAndHolds(ElementsAre()));
  EXPECT_THAT(ParseQuery("&&&"), IsOkAndHolds(ElementsAre()));
}

TEST(Form, ParseQueryRoundTripsEncodeForm) {
  const QueryParams p = {{"k 1", "v&=+%"}, {"k 1", ""}, {"\xFF", "\n"}};
  EXPECT_THAT(ParseQuery(EncodeForm(p)), IsOkAndHolds(p));
}

TEST(Form, ParseQueryReportsBadEscapes) {
  EXPECT_THAT(ParseQuery("a=1&b=%zz"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("%zz")));
  EXPECT_THAT(ParseQuery("%=1"), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace otlp::http::internal
