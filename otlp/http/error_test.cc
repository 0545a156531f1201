#include "otlp/http/error.h"

#include "otlp/http/websocket.h"

#include <gtest/gtest.h>

namespace otlp::http {
namespace {

TEST(ErrorKindTest, DetailWinsOverCode) {
  Status s = MakeError(StatusCode::kAborted, ErrorKind::kTooManyRedirects, "loop");
  EXPECT_EQ(ErrorKindOf(s), ErrorKind::kTooManyRedirects);
  EXPECT_EQ(ErrorKindName(ErrorKindOf(s)), "too_many_redirects");
  EXPECT_EQ(ErrorKindOf(Status::Ok()), ErrorKind::kNone);
}

TEST(ErrorKindTest, TransportDetailIsReadAsItIs) {
  // The engines' detail, with a message that says nothing about the kind.
  for (auto kind : {net::HttpErrorKind::kConnectTimeout, net::HttpErrorKind::kIdleTimeout,
                    net::HttpErrorKind::kTlsHandshake, net::HttpErrorKind::kCertificate,
                    net::HttpErrorKind::kGoAway, net::HttpErrorKind::kBodySink}) {
    Status s = UnavailableError("x").WithDetail(static_cast<uint16_t>(kind));
    EXPECT_EQ(static_cast<uint16_t>(ErrorKindOf(s)), static_cast<uint16_t>(kind));
    EXPECT_EQ(ErrorKindName(ErrorKindOf(s)), net::HttpErrorKindName(kind));
  }
  EXPECT_EQ(ErrorKindName(ErrorKind::kConnectTimeout), "connect_timeout");
  EXPECT_EQ(ErrorKindName(ErrorKind::kCertificate), "certificate");
}

TEST(ErrorKindTest, WebSocketKindsShareTheScheme) {
  Status s = UnavailableError("x").WithDetail(
      static_cast<uint16_t>(WebSocketErrorKind::kUpgradeRefused));
  EXPECT_EQ(ErrorKindOf(s), ErrorKind::kWebSocketUpgradeRefused);
  EXPECT_EQ(ErrorKindName(ErrorKindOf(s)), "websocket_upgrade_refused");
}

TEST(ErrorKindTest, WithoutDetailTheCodeDecidesNotTheWording) {
  // The wording of a message never decides the kind.
  EXPECT_EQ(ErrorKindOf(UnavailableError("connection refused by 127.0.0.1:1")),
            ErrorKind::kNetwork);
  EXPECT_EQ(ErrorKindOf(DeadlineExceededError("connect to h:1 timed out")),
            ErrorKind::kRequestTimeout);
  EXPECT_EQ(ErrorKindOf(Status(StatusCode::kCancelled, "shut down")), ErrorKind::kCancelled);
  EXPECT_EQ(ErrorKindOf(InvalidArgumentError("bad")), ErrorKind::kInvalidRequest);
  EXPECT_EQ(ErrorKindOf(Status(StatusCode::kUnknown, "?")), ErrorKind::kOther);
  EXPECT_EQ(ErrorKindName(ErrorKind::kOther), "_OTHER");
  EXPECT_EQ(ErrorKindName(static_cast<ErrorKind>(0x7777)), "_OTHER");
  EXPECT_EQ(ErrorKindName(ErrorKind::kNone), "");
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
