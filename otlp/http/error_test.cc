#include "otlp/http/error.h"

#include <gtest/gtest.h>

namespace otlp::http {
namespace {

TEST(ErrorKindTest, DetailWinsOverCode) {
  Status s = MakeError(StatusCode::kAborted, ErrorKind::kTooManyRedirects, "loop");
  EXPECT_EQ(ErrorKindOf(s), ErrorKind::kTooManyRedirects);
  EXPECT_EQ(ErrorKindName(ErrorKindOf(s)), "too_many_redirects");
  EXPECT_EQ(ErrorKindOf(Status::Ok()), ErrorKind::kNone);
}

TEST(ErrorKindTest, InfersTodaysTransportErrors) {
  EXPECT_EQ(ErrorKindOf(UnavailableError("connection refused by 127.0.0.1:1 (connecting, x)")),
            ErrorKind::kConnectionRefused);
  EXPECT_EQ(ErrorKindOf(UnavailableError("cannot resolve host 'nope.invalid': not found")),
            ErrorKind::kDnsFailure);
  EXPECT_EQ(ErrorKindOf(DeadlineExceededError("connect to h:1 timed out after 5 ms")),
            ErrorKind::kConnectTimeout);
  EXPECT_EQ(ErrorKindOf(DeadlineExceededError("request timed out after 5 ms")),
            ErrorKind::kRequestTimeout);
  EXPECT_EQ(ErrorKindOf(UnavailableError("connection closed by the server before a response")),
            ErrorKind::kConnectionReset);
  EXPECT_EQ(ErrorKindOf(Status(StatusCode::kCancelled, "shut down")), ErrorKind::kCancelled);
  EXPECT_EQ(ErrorKindOf(InternalError("malformed HTTP response")), ErrorKind::kProtocol);
  EXPECT_EQ(ErrorKindOf(Status(StatusCode::kUnknown, "?")), ErrorKind::kOther);
  EXPECT_EQ(ErrorKindName(ErrorKind::kOther), "_OTHER");
}

TEST(ErrorKindTest, NothingWasSentOnlyForConnectFailures) {
  EXPECT_TRUE(NothingWasSent(ErrorKind::kConnectionRefused));
  EXPECT_TRUE(NothingWasSent(ErrorKind::kDnsFailure));
  EXPECT_TRUE(NothingWasSent(ErrorKind::kConnectTimeout));
  EXPECT_FALSE(NothingWasSent(ErrorKind::kConnectionReset));
  EXPECT_FALSE(NothingWasSent(ErrorKind::kRequestTimeout));
}

}  // namespace
}  // namespace otlp::http
