#include "otlp/http/retry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/status_matchers.h"

namespace otlp::http {
namespace {

using std::chrono::milliseconds;

TEST(RetryPolicyTest, Defaults) {
  RetryPolicy p;
  for (const char* m : {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"}) {
    EXPECT_TRUE(p.RetriesMethod(m)) << m;
  }
  EXPECT_FALSE(p.RetriesMethod("POST"));
  EXPECT_FALSE(p.RetriesMethod("PATCH"));
  for (int s : {429, 502, 503, 504}) EXPECT_TRUE(p.RetriesStatus(s)) << s;
  EXPECT_FALSE(p.RetriesStatus(500));
  EXPECT_TRUE(p.retry_connect_failures);
  EXPECT_OK(p.Validate());
}

TEST(RetryPolicyTest, ExponentialCeilingWithCapAndFullJitter) {
  RetryPolicy p{.initial_backoff = milliseconds(100), .multiplier = 3,
                .max_backoff = milliseconds(1000)};
  EXPECT_EQ(p.BackoffCeiling(1), milliseconds(100));
  EXPECT_EQ(p.BackoffCeiling(2), milliseconds(300));
  EXPECT_EQ(p.BackoffCeiling(3), milliseconds(900));
  EXPECT_EQ(p.BackoffCeiling(4), milliseconds(1000));
  EXPECT_EQ(p.BackoffCeiling(1000), milliseconds(1000));  // no overflow
  EXPECT_EQ(p.Backoff(2, 0.0), milliseconds(0));
  EXPECT_EQ(p.Backoff(2, 0.5), milliseconds(150));
  EXPECT_LE(p.Backoff(3, 0.999999), milliseconds(900));
}

TEST(RetryPolicyTest, ValidateRejectsNonsense) {
  EXPECT_THAT(RetryPolicy{.max_attempts = 0}.Validate(),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("max_attempts")));
  EXPECT_THAT(RetryPolicy{.multiplier = 0.5}.Validate(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(RetryPolicy{.initial_backoff = milliseconds(-1)}.Validate(),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(RetryPolicy::Disabled().max_attempts, 1);
}

}  // namespace
}  // namespace otlp::http
