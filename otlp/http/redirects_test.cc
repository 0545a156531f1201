#include "otlp/http/internal/redirects.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/status_matchers.h"

namespace otlp::http::internal {
namespace {

std::string Resolve(std::string_view base, std::string_view location) {
  Result<net::Url> b = net::Url::Parse(base);
  if (!b.ok()) return "bad base";
  Result<net::Url> r = ResolveLocation(*b, location);
  return r.ok() ? r->ToString() : "error: " + r.status().message();
}

TEST(RedirectsTest, ResolvesReferences) {
  const char* base = "http://a.example:8080/b/c/d;p?q";
  EXPECT_EQ(Resolve(base, "https://other/x"), "https://other/x");
  EXPECT_EQ(Resolve(base, "//other/x?y"), "http://other/x?y");
  EXPECT_EQ(Resolve(base, "/g"), "http://a.example:8080/g");
  EXPECT_EQ(Resolve(base, "g"), "http://a.example:8080/b/c/g");
  EXPECT_EQ(Resolve(base, "./g/"), "http://a.example:8080/b/c/g/");
  EXPECT_EQ(Resolve(base, "../g"), "http://a.example:8080/b/g");
  EXPECT_EQ(Resolve(base, "../../../../g"), "http://a.example:8080/g");
  EXPECT_EQ(Resolve(base, "?y"), "http://a.example:8080/b/c/d;p?y");
  EXPECT_EQ(Resolve(base, "g#frag"), "http://a.example:8080/b/c/g");
  EXPECT_EQ(Resolve(base, "/a/./b/../c"), "http://a.example:8080/a/c");
  EXPECT_THAT(Resolve(base, "ftp://x/"), ::testing::HasSubstr("scheme"));
  EXPECT_THAT(Resolve(base, "ws://x/"), ::testing::HasSubstr("non-HTTP"));
}

TEST(RedirectsTest, MethodRewrite) {
  struct Case {
    int status;
    std::string method;
    std::string want;
    bool body_kept;
  };
  for (const Case& c : {Case{301, "POST", "GET", false}, Case{302, "POST", "GET", false},
                        Case{302, "PUT", "PUT", true}, Case{303, "PUT", "GET", false},
                        Case{303, "HEAD", "HEAD", true}, Case{307, "POST", "POST", true},
                        Case{308, "PATCH", "PATCH", true}}) {
    std::string method = c.method, body = "data";
    net::Headers headers = {{"Content-Type", "text/plain"}, {"Authorization", "x"}};
    RewriteForRedirect(c.status, /*cross_origin=*/false, method, body, headers);
    EXPECT_EQ(method, c.want) << c.status << " " << c.method;
    EXPECT_EQ(body.empty(), !c.body_kept) << c.status << " " << c.method;
    EXPECT_EQ(headers.Contains("content-type"), c.body_kept) << c.status << " " << c.method;
    EXPECT_TRUE(headers.Contains("Authorization"));
  }
}

TEST(RedirectsTest, CrossOriginDropsCredentials) {
  std::string method = "GET", body;
  net::Headers headers = {{"authorization", "Bearer t"}, {"Cookie", "a=1"}, {"X-Keep", "1"}};
  RewriteForRedirect(302, /*cross_origin=*/true, method, body, headers);
  EXPECT_FALSE(headers.Contains("Authorization"));
  EXPECT_FALSE(headers.Contains("Cookie"));
  EXPECT_TRUE(headers.Contains("X-Keep"));
  auto a = net::Url::Parse("http://h:1/x"), b = net::Url::Parse("http://h:2/x"),
       c = net::Url::Parse("https://h:1/y");
  EXPECT_TRUE(SameOrigin(*a, *a));
  EXPECT_FALSE(SameOrigin(*a, *b));
  EXPECT_FALSE(SameOrigin(*a, *c));
}

}  // namespace
}  // namespace otlp::http::internal
