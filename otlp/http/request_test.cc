#include "otlp/http/request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>


namespace otlp::http {
namespace {

TEST(RequestTest, QueryParamsArePercentEncodedAndAppended) {
  Request r = Request::Get("http://h/search?x=1#top")
                  .With(Query{"q", "C++ 20"}, QueryParams{{"a&b", "é"}, {"empty", ""}});
  EXPECT_EQ(r.FullUrl(), "http://h/search?x=1&q=C%2B%2B%2020&a%26b=%C3%A9&empty=#top");
  EXPECT_EQ(Request::Get("http://h/p").With(Query{"k", "v~-._"}).FullUrl(), "http://h/p?k=v~-._");
  EXPECT_EQ(Request::Get("http://h/p?").With(Query{"k", "v"}).FullUrl(), "http://h/p?k=v");
  EXPECT_EQ(Request::Get("http://h/p").FullUrl(), "http://h/p");
}

TEST(RequestTest, JsonBodySetsContentType) {
  Request r = Request::Post("http://h/").With(Json{{"name", "Ada"}, {"n", 1}});
  EXPECT_EQ(r.body, R"({"n":1,"name":"Ada"})");
  EXPECT_EQ(r.headers.Find("content-type"), "application/json");
  // Invalid UTF-8 is replaced, not thrown.
  Request bad = Request::Post("http://h/").With(Json(nlohmann::json(std::string("a\xff"))));
  EXPECT_EQ(bad.body, "\"a\xEF\xBF\xBD\"");
}

TEST(RequestTest, FormBodyIsUrlEncoded) {
  Request r = Request::Post("http://h/").With(Form{{"user", "ada l"}, {"p", "a+b&c=d"}});
  EXPECT_EQ(r.body, "user=ada+l&p=a%2Bb%26c%3Dd");
  EXPECT_EQ(r.headers.Find("Content-Type"), "application/x-www-form-urlencoded");
}

TEST(RequestTest, AuthAndOptions) {
  Request r = Request::Get("http://h/").With(Basic{"Aladdin", "open sesame"});
  EXPECT_EQ(r.headers.Find("authorization"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  r.With(Bearer{"tok"});  // replaces
  EXPECT_EQ(r.headers.FindAll("Authorization").size(), 1u);
  EXPECT_EQ(r.headers.Find("authorization"), "Bearer tok");
  r.With(Timeout{std::chrono::seconds(2)}, UrlTemplate{"/users/{id}"}, RedirectPolicy::None(),
         RetryPolicy::Disabled(), Header{"X-A", "1"}, Header{"X-A", "2"},
         Body{"raw", "text/plain"});
  EXPECT_EQ(r.timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(r.url_template, "/users/{id}");
  ASSERT_TRUE(r.redirects.has_value());
  EXPECT_FALSE(r.redirects->follow);
  ASSERT_TRUE(r.retry.has_value());
  EXPECT_EQ(r.retry->max_attempts, 1);
  EXPECT_EQ(r.headers.FindAll("x-a").size(), 2u);
  EXPECT_EQ(r.body, "raw");
  EXPECT_EQ(r.headers.Find("content-type"), "text/plain");
}

TEST(CancelTokenTest, SubscribersRunOnceAndLateSubscribersAtOnce) {
  CancelToken token;
  std::atomic<int> calls{0};
  uint64_t a = token.Subscribe([&] { ++calls; });
  uint64_t b = token.Subscribe([&] { calls += 10; });
  token.Unsubscribe(b);
  EXPECT_NE(a, 0u);
  EXPECT_FALSE(token.cancelled());
  CancelToken copy = token;
  copy.Cancel();
  copy.Cancel();
  EXPECT_TRUE(token.cancelled());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(token.Subscribe([&] { calls += 100; }), 0u);
  EXPECT_EQ(calls, 101);
}

}  // namespace
}  // namespace otlp::http
