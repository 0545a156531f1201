// GoogleTest helpers for Status and Result<T>, in the style of abseil's status_matchers.h.
//
//   EXPECT_OK(exporter->ForceFlush());                 // Status or Result<T>
//   ASSERT_OK_AND_ASSIGN(auto url, net::Url::Parse("http://127.0.0.1:4318/v1/traces"));
//   EXPECT_THAT(Url::Parse("ftp://x"),
//               StatusIs(StatusCode::kInvalidArgument, HasSubstr("scheme")));
//   EXPECT_THAT(Decode(body), IsOkAndHolds(Field(&Request::spans, SizeIs(3))));
//
// A failure names the expression and prints the code and message of the Status:
//
//   Value of: Url::Parse("ftp://x")
//   Expected: has code NOT_FOUND and a message that has substring "scheme"
//     Actual: INVALID_ARGUMENT: invalid URL 'ftp://x': unsupported scheme 'ftp' (...),
//   whose code is INVALID_ARGUMENT
//
// Header-only; tests include it as "tests/support/status_matchers.h".
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include "otlp/core/status.h"

namespace otlp {

// gtest's printers for failure messages (found by argument-dependent lookup).
inline void PrintTo(const Status& status, std::ostream* os) { *os << status.ToString(); }
// An OK Result shows its value when the value can be streamed (a byte dump of an options struct
// would only hide the point: that the call succeeded).
template <typename T>
void PrintTo(const Result<T>& result, std::ostream* os) {
  if (!result.ok()) {
    *os << result.status().ToString();
  } else if constexpr (requires(std::ostream & out, const T& v) { out << v; }) {
    *os << "OK: " << ::testing::PrintToString(*result);
  } else {
    *os << "OK (holding a value)";
  }
}

namespace testing_internal {

inline const Status& GetStatus(const Status& status) { return status; }
template <typename T>
Status GetStatus(const Result<T>& result) {
  return result.status();
}

// StatusIs(code, message_matcher): matches a Status or a Result<T> whose status has that code
// and whose message matches; StatusIs(code) checks the code only.
class StatusIsMatcher {
 public:
  explicit StatusIsMatcher(StatusCode code) : code_(code) {}
  StatusIsMatcher(StatusCode code, ::testing::Matcher<const std::string&> message)
      : code_(code), message_(std::move(message)) {}

  template <typename S>
  bool MatchAndExplain(const S& value, ::testing::MatchResultListener* listener) const {
    const Status status = GetStatus(value);
    if (status.code() != code_) {
      *listener << "whose code is " << StatusCodeName(status.code());
      return false;
    }
    ::testing::StringMatchResultListener message_listener;
    if (message_ && !message_->MatchAndExplain(status.message(), &message_listener)) {
      *listener << "whose message does not match";
      if (!message_listener.str().empty()) *listener << ", " << message_listener.str();
      return false;
    }
    return true;
  }
  void DescribeTo(std::ostream* os) const {
    *os << "has code " << StatusCodeName(code_);
    if (message_) {
      *os << " and a message that ";
      message_->DescribeTo(os);
    }
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "does not have code " << StatusCodeName(code_);
    if (message_) {
      *os << " or has a message that ";
      message_->DescribeNegationTo(os);
    }
  }

 private:
  StatusCode code_;
  std::optional<::testing::Matcher<const std::string&>> message_;
};

class IsOkMatcher {
 public:
  // No explanation: gtest already prints the value, which is the status.
  template <typename S>
  bool MatchAndExplain(const S& value, ::testing::MatchResultListener*) const {
    return GetStatus(value).ok();
  }
  void DescribeTo(std::ostream* os) const { *os << "is OK"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "is not OK"; }
};

template <typename InnerMatcher>
class IsOkAndHoldsMatcher {
 public:
  explicit IsOkAndHoldsMatcher(InnerMatcher inner) : inner_(std::move(inner)) {}

  template <typename T>
  bool MatchAndExplain(const Result<T>& result, ::testing::MatchResultListener* listener) const {
    if (!result.ok()) {
      *listener << "which is " << result.status().ToString();
      return false;
    }
    return ::testing::ExplainMatchResult(::testing::SafeMatcherCast<const T&>(inner_), *result,
                                         listener);
  }
  void DescribeTo(std::ostream* os) const { *os << "is OK and holds a matching value"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "is not OK or holds another value"; }

 private:
  InnerMatcher inner_;
};

}  // namespace testing_internal

inline ::testing::PolymorphicMatcher<testing_internal::IsOkMatcher> IsOk() {
  return ::testing::MakePolymorphicMatcher(testing_internal::IsOkMatcher());
}

inline ::testing::PolymorphicMatcher<testing_internal::StatusIsMatcher> StatusIs(StatusCode code) {
  return ::testing::MakePolymorphicMatcher(testing_internal::StatusIsMatcher(code));
}
inline ::testing::PolymorphicMatcher<testing_internal::StatusIsMatcher> StatusIs(
    StatusCode code, ::testing::Matcher<const std::string&> message) {
  return ::testing::MakePolymorphicMatcher(
      testing_internal::StatusIsMatcher(code, std::move(message)));
}

template <typename InnerMatcher>
::testing::PolymorphicMatcher<testing_internal::IsOkAndHoldsMatcher<InnerMatcher>> IsOkAndHolds(
    InnerMatcher inner) {
  return ::testing::MakePolymorphicMatcher(
      testing_internal::IsOkAndHoldsMatcher<InnerMatcher>(std::move(inner)));
}

}  // namespace otlp

#define EXPECT_OK(expr) EXPECT_THAT(expr, ::otlp::IsOk())
#define ASSERT_OK(expr) ASSERT_THAT(expr, ::otlp::IsOk())

// ASSERT_OK_AND_ASSIGN(auto value, ResultReturningCall()); fails the test (returning from it)
// with the expression and the error's text when the Result is not OK.
#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                                        \
  OTLP_ASSERT_OK_AND_ASSIGN_IMPL_(OTLP_STATUS_CONCAT_(otlp_test_result_, __LINE__), lhs, expr)
#define OTLP_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)                                      \
  auto tmp = (expr);                                                                         \
  if (!tmp.ok())                                                                             \
    FAIL() << "Value of: " #expr "\nExpected: is OK\n  Actual: " << tmp.status().ToString(); \
  lhs = std::move(tmp).value()
