#include "otlp/core/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

namespace otlp {
namespace {

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_TRUE(s.message().empty());
  EXPECT_FALSE(s.retryable());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_TRUE(Status::Ok().ok());
}

TEST(Status, CarriesCodeMessageAndRetryability) {
  Status s(StatusCode::kUnavailable, "connection refused", true);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "connection refused");
  EXPECT_TRUE(s.retryable());
  EXPECT_EQ(s.ToString(), "UNAVAILABLE: connection refused (retryable)");
}

TEST(Status, HelpersClassifyRetryability) {
  EXPECT_TRUE(UnavailableError("x").retryable());
  EXPECT_TRUE(DeadlineExceededError("x").retryable());
  EXPECT_FALSE(InvalidArgumentError("x").retryable());
  EXPECT_FALSE(InternalError("x").retryable());
  EXPECT_FALSE(FailedPreconditionError("x").retryable());
  EXPECT_FALSE(NotFoundError("x").retryable());
  EXPECT_EQ(InvalidArgumentError("bad").ToString(), "INVALID_ARGUMENT: bad");
  EXPECT_EQ(NotFoundError("").ToString(), "NOT_FOUND");
}

TEST(Status, EveryCodeHasADistinctName) {
  std::set<std::string_view> names;
  for (int c = 0; c <= static_cast<int>(StatusCode::kUnauthenticated); ++c) {
    auto name = StatusCodeName(static_cast<StatusCode>(c));
    EXPECT_FALSE(name.empty());
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  EXPECT_EQ(StatusCodeName(StatusCode::kDeadlineExceeded), "DEADLINE_EXCEEDED");
}

TEST(Result, HoldsAValue) {
  Result<int> r = 42;
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.status().ok());
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(r.value(), 42);
}

TEST(Result, HoldsAnError) {
  Result<std::string> r = InvalidArgumentError("nope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "nope");
}

TEST(Result, MovesOutMoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 7);
  Result<std::string> s = std::string("abc");
  EXPECT_EQ(s->size(), 3u);
}

Status FailIf(bool fail) {
  return fail ? InternalError("failed") : Status::Ok();
}

Status Chain(bool fail, int& reached) {
  OTLP_RETURN_IF_ERROR(FailIf(fail));
  reached = 1;
  return Status::Ok();
}

Result<int> Half(int v) {
  if (v % 2 != 0) return InvalidArgumentError("odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  OTLP_ASSIGN_OR_RETURN(int h, Half(v));
  OTLP_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusMacros, ReturnIfErrorStopsEarly) {
  int reached = 0;
  EXPECT_FALSE(Chain(true, reached).ok());
  EXPECT_EQ(reached, 0);
  EXPECT_TRUE(Chain(false, reached).ok());
  EXPECT_EQ(reached, 1);
}

TEST(StatusMacros, AssignOrReturnPropagatesErrors) {
  auto ok = Quarter(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 2);
  auto bad = Quarter(6);  // 6 / 2 = 3 is odd
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "odd");
}

TEST(Status, CarriesAModuleDetailWithoutChangingTheCode) {
  Status plain = DeadlineExceededError("connect timed out");
  EXPECT_EQ(plain.detail(), 0);
  Status detailed = DeadlineExceededError("connect timed out").WithDetail(7);
  EXPECT_EQ(detailed.detail(), 7);
  EXPECT_EQ(detailed.code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(detailed.retryable());
  detailed.SetDetail(9);
  EXPECT_EQ(detailed.detail(), 9);
  Status copy = detailed;
  EXPECT_EQ(copy.detail(), 9);
}

}  // namespace
}  // namespace otlp
