#include "otlp/http/response.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "otlp/http/error.h"
#include "tests/support/status_matchers.h"

namespace otlp::http {
namespace {

using ::testing::HasSubstr;

TEST(ResponseTest, HeadersAreCaseInsensitiveAndBodyViews) {
  Response r;
  r.status = 200;
  r.headers = {{"Content-Type", "application/json"}};
  r.body = R"({"a":[1,2]})";
  EXPECT_EQ(r.Header("content-TYPE"), "application/json");
  EXPECT_FALSE(r.Header("x-missing").has_value());
  EXPECT_EQ(r.Text(), R"({"a":[1,2]})");
  EXPECT_EQ(r.Bytes().size(), r.body.size());
  ASSERT_OK_AND_ASSIGN(nlohmann::json j, r.Json());
  EXPECT_EQ(j["a"][1], 2);
  EXPECT_TRUE(r.ok());
  EXPECT_OK(r.StatusError());
}

TEST(ResponseTest, JsonErrorIsDecodingKind) {
  Response r{.status = 200, .body = "{not json"};
  Result<nlohmann::json> j = r.Json();
  EXPECT_THAT(j, StatusIs(StatusCode::kInvalidArgument, HasSubstr("not JSON")));
  EXPECT_EQ(ErrorKindOf(j.status()), ErrorKind::kDecoding);
}

TEST(ResponseTest, StatusErrorMapsCodes) {
  const Response not_found{.status = 404, .url = "http://h/x"};
  EXPECT_THAT(not_found.StatusError(),
              StatusIs(StatusCode::kNotFound, HasSubstr("HTTP 404 from http://h/x")));
  EXPECT_THAT(Response{.status = 401}.StatusError(), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(Response{.status = 418}.StatusError(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_TRUE(Response{.status = 503}.StatusError().retryable());
  EXPECT_THAT(Response{.status = 500}.StatusError(), StatusIs(StatusCode::kInternal));
  EXPECT_THAT(Response{.status = 304}.StatusError(), StatusIs(StatusCode::kUnknown));
}

}  // namespace
}  // namespace otlp::http
