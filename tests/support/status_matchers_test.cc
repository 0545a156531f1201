#include "tests/support/status_matchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace otlp {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

Result<int> BadPort() {
  return InvalidArgumentError("port 0 is out of range");
}
Result<std::unique_ptr<int>> Boxed(int v) {
  return std::make_unique<int>(v);
}

template <typename M, typename T>
std::string Explain(const M& matcher, const T& value) {
  ::testing::StringMatchResultListener listener;
  ::testing::ExplainMatchResult(matcher, value, &listener);
  return listener.str();
}

TEST(StatusMatchers, MatchStatusesAndResults) {
  EXPECT_OK(Status::Ok());
  EXPECT_OK(Result<int>(3));
  EXPECT_THAT(BadPort(), Not(IsOk()));
  EXPECT_THAT(NotFoundError("nope.pem"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(BadPort(), StatusIs(StatusCode::kInvalidArgument,
                                  AllOf(HasSubstr("port 0"), Not(HasSubstr("secret")))));
  EXPECT_THAT(BadPort(), Not(StatusIs(StatusCode::kNotFound)));
  EXPECT_THAT(BadPort(), Not(StatusIs(StatusCode::kInvalidArgument, HasSubstr("port 1"))));
  EXPECT_THAT(Result<int>(3), IsOkAndHolds(3));
  EXPECT_THAT(Result<int>(3), Not(IsOkAndHolds(4)));
  EXPECT_THAT(BadPort(), Not(IsOkAndHolds(::testing::_)));
}

TEST(StatusMatchers, AssertOkAndAssignMovesTheValueOut) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<int> box, Boxed(7));
  ASSERT_NE(box, nullptr);
  EXPECT_EQ(*box, 7);
  int existing = 0;
  ASSERT_OK_AND_ASSIGN(existing, Result<int>(5));
  EXPECT_EQ(existing, 5);
}

TEST(StatusMatchers, ExplanationsSayWhatDiffers) {
  EXPECT_EQ(Explain(StatusIs(StatusCode::kNotFound), BadPort()), "whose code is INVALID_ARGUMENT");
  EXPECT_EQ(Explain(StatusIs(StatusCode::kInvalidArgument, HasSubstr("port 1")), BadPort()),
            "whose message does not match");
  EXPECT_EQ(
      ::testing::DescribeMatcher<Status>(StatusIs(StatusCode::kInvalidArgument, HasSubstr("port"))),
      "has code INVALID_ARGUMENT and a message that has substring \"port\"");
  EXPECT_EQ(::testing::DescribeMatcher<Status>(StatusIs(StatusCode::kNotFound)),
            "has code NOT_FOUND");
  EXPECT_EQ(::testing::DescribeMatcher<Status>(StatusIs(StatusCode::kNotFound), /*negation=*/true),
            "does not have code NOT_FOUND");
  EXPECT_EQ(Explain(IsOkAndHolds(3), BadPort()),
            "which is INVALID_ARGUMENT: port 0 is out of range");
}

TEST(StatusMatchers, ResultsPrintTheirStatusOrValue) {
  EXPECT_EQ(::testing::PrintToString(Result<int>(3)), "OK: 3");
  EXPECT_EQ(::testing::PrintToString(BadPort()), "INVALID_ARGUMENT: port 0 is out of range");
  struct Opaque {
    int a = 1;
  };
  EXPECT_EQ(::testing::PrintToString(Result<Opaque>(Opaque{})), "OK (holding a value)");
}

// The failure messages a reader sees: the expression, the expectation, the status. (gtest may
// add the value's type after the status, so the expected text stops there.)
TEST(StatusMatchers, FailuresNameTheExpressionAndTheStatus) {
  EXPECT_NONFATAL_FAILURE(
      EXPECT_OK(BadPort()),
      "Value of: BadPort()\nExpected: is OK\n  Actual: INVALID_ARGUMENT: port 0 is out of range");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(BadPort(), StatusIs(StatusCode::kNotFound, HasSubstr("x"))),
                          "Expected: has code NOT_FOUND and a message that has substring \"x\"\n"
                          "  Actual: INVALID_ARGUMENT: port 0 is out of range");
  EXPECT_FATAL_FAILURE(
      {
        ASSERT_OK_AND_ASSIGN(int port, BadPort());
        (void)port;
      },
      "Value of: BadPort()\nExpected: is OK\n  Actual: INVALID_ARGUMENT: port 0 is out of range");
}

}  // namespace
}  // namespace otlp
