#include "otlp/http/internal/router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/status_matchers.h"

namespace otlp::http::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(RouterTest, LiteralAndParameterRoutes) {
  Router r;
  ASSERT_OK(r.Add("GET", "/users", 0));
  ASSERT_OK(r.Add("GET", "/users/{id}", 1));
  ASSERT_OK(r.Add("GET", "/users/{id}/posts/{post}", 2));
  Router::Match m = r.Find("GET", "/users");
  EXPECT_EQ(m.kind, Router::Match::kFound);
  EXPECT_EQ(m.handler, 0u);
  m = r.Find("GET", "/users/42");
  EXPECT_EQ(m.kind, Router::Match::kFound);
  EXPECT_EQ(m.handler, 1u);
  EXPECT_EQ(m.route, "/users/{id}");
  EXPECT_THAT(m.params, ElementsAre(Pair("id", "42")));
  m = r.Find("GET", "/users/7/posts/x%20y");
  EXPECT_EQ(m.handler, 2u);
  EXPECT_THAT(m.params, ElementsAre(Pair("id", "7"), Pair("post", "x y")));
  EXPECT_EQ(r.Find("GET", "/users/7/posts").kind, Router::Match::kNotFound);
  EXPECT_EQ(r.Find("GET", "/users/").kind, Router::Match::kNotFound);  // empty segment
  EXPECT_EQ(r.Find("GET", "/nothing").kind, Router::Match::kNotFound);
}

TEST(RouterTest, LiteralBeatsParameterBeatsCatchAll) {
  Router r;
  ASSERT_OK(r.Add("GET", "/files/{path...}", 0));
  ASSERT_OK(r.Add("GET", "/files/{name}", 1));
  ASSERT_OK(r.Add("GET", "/files/readme", 2));
  EXPECT_EQ(r.Find("GET", "/files/readme").handler, 2u);
  EXPECT_EQ(r.Find("GET", "/files/other").handler, 1u);
  Router::Match m = r.Find("GET", "/files/a/b/c.txt");
  EXPECT_EQ(m.handler, 0u);
  EXPECT_THAT(m.params, ElementsAre(Pair("path", "a/b/c.txt")));
  m = r.Find("GET", "/files");
  EXPECT_EQ(m.kind, Router::Match::kFound);
  EXPECT_THAT(m.params, ElementsAre(Pair("path", "")));
}

TEST(RouterTest, EncodedSlashStaysInsideAParameter) {
  Router r;
  ASSERT_OK(r.Add("GET", "/users/{id}", 0));
  Router::Match m = r.Find("GET", "/users/a%2Fb");
  EXPECT_EQ(m.kind, Router::Match::kFound);
  EXPECT_THAT(m.params, ElementsAre(Pair("id", "a/b")));
}

TEST(RouterTest, WrongMethodListsAllowed) {
  Router r;
  ASSERT_OK(r.Add("GET", "/items/{id}", 0));
  ASSERT_OK(r.Add("DELETE", "/items/{id}", 1));
  Router::Match m = r.Find("POST", "/items/3");
  EXPECT_EQ(m.kind, Router::Match::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, DELETE");
  EXPECT_EQ(m.route, "/items/{id}");
  ASSERT_OK(r.Add("*", "/any", 2));
  EXPECT_EQ(r.Find("PROPFIND", "/any").handler, 2u);
}

TEST(RouterTest, BadPaths) {
  Router r;
  ASSERT_OK(r.Add("GET", "/x/{id}", 0));
  EXPECT_EQ(r.Find("GET", "/x/%zz").kind, Router::Match::kBadPath);
  EXPECT_EQ(r.Find("GET", "/x/%4").kind, Router::Match::kBadPath);
  EXPECT_EQ(r.Find("GET", "x/1").kind, Router::Match::kBadPath);
  EXPECT_EQ(r.Find("GET", "").kind, Router::Match::kBadPath);
}

TEST(RouterTest, RejectsMalformedTemplates) {
  Router r;
  EXPECT_THAT(r.Add("GET", "users", 0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(r.Add("GET", "/a/{", 0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(r.Add("GET", "/a/{}", 0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(r.Add("GET", "/a/x{id}", 0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(r.Add("GET", "/a/{rest...}/b", 0),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("last segment")));
  EXPECT_THAT(r.Add("GET", "/a/{id}/{id}", 0),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("twice")));
  ASSERT_OK(r.Add("GET", "/a/{id}", 0));
  EXPECT_THAT(r.Add("GET", "/a/{id}", 1), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_EQ(r.size(), 1u);
}

TEST(RouterTest, PercentDecode) {
  std::string out;
  EXPECT_TRUE(PercentDecode("a%41%7a+", out));
  EXPECT_EQ(out, "aAz+");
  EXPECT_FALSE(PercentDecode("%", out));
  EXPECT_FALSE(PercentDecode("%g1", out));
}

}  // namespace
}  // namespace otlp::http::internal
