#include "otlp/nats/headers.h"

#include <gtest/gtest.h>

#include "otlp/nats/connection.h"
#include "otlp/nats/message.h"

namespace otlp::nats {
namespace {

TEST(HeadersTest, EncodesAndParsesKeepingCaseOrderAndRepeats) {
  Headers h;
  h.Add("Nats-Msg-Id", "42");
  h.Add("X-Tag", "a");
  h.Add("x-tag", "lower");
  h.Add("X-Tag", "b");
  const std::string wire = h.Encode();
  EXPECT_EQ(wire, "NATS/1.0\r\nNats-Msg-Id: 42\r\nX-Tag: a\r\nx-tag: lower\r\nX-Tag: b\r\n\r\n");
  EXPECT_EQ(wire.size(), h.EncodedSize());
  Result<Headers> back = Headers::Parse(wire);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, h);
  EXPECT_EQ(back->FindAll("X-Tag"), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_EQ(back->Find("x-tag"), "lower");
  EXPECT_EQ(back->Find("NATS-MSG-ID"), std::nullopt);
  EXPECT_EQ(back->FindIgnoringCase("NATS-MSG-ID"), "42");
}

TEST(HeadersTest, StatusLines) {
  Result<Headers> nr = Headers::Parse("NATS/1.0 503\r\n\r\n");
  ASSERT_TRUE(nr.ok());
  EXPECT_EQ(nr->status(), 503);
  EXPECT_TRUE(nr->description().empty());
  Result<Headers> timeout =
      Headers::Parse("NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 1\r\n\r\n");
  ASSERT_TRUE(timeout.ok());
  EXPECT_EQ(timeout->status(), 408);
  EXPECT_EQ(timeout->description(), "Request Timeout");
  EXPECT_EQ(timeout->Find("Nats-Pending-Messages"), "1");
  EXPECT_EQ(HeaderBlockStatus("NATS/1.0 100 Idle Heartbeat\r\n\r\n"), 100);
  EXPECT_EQ(HeaderBlockStatus("NATS/1.0\r\n\r\n"), 0);
  Headers with_status;
  with_status.SetStatus(409, "Consumer Deleted");
  EXPECT_EQ(with_status.Encode(), "NATS/1.0 409 Consumer Deleted\r\n\r\n");
}

TEST(HeadersTest, RawBlockLookup) {
  const std::string block = "NATS/1.0\r\ntraceparent: 00-abc-def-01\r\nX-A: 1\r\n\r\n";
  EXPECT_EQ(FindInHeaderBlock(block, "traceparent"), "00-abc-def-01");
  EXPECT_EQ(FindInHeaderBlock(block, "TraceParent"), "00-abc-def-01");
  EXPECT_EQ(FindInHeaderBlock(block, "x-a"), "1");
  EXPECT_EQ(FindInHeaderBlock(block, "missing"), "");
}

TEST(HeadersTest, RejectsMalformedBlocksAndInvalidFields) {
  EXPECT_FALSE(Headers::Parse("HTTP/1.1 200\r\n\r\n").ok());
  EXPECT_FALSE(Headers::Parse("NATS/1.0\r\nno colon\r\n\r\n").ok());
  EXPECT_FALSE(Headers::Parse("NATS/1.0\r\nA: 1\r\n").ok());  // no blank line
  EXPECT_FALSE(Headers::Parse("NATS/1.0 5x3\r\n\r\n").ok());
  EXPECT_FALSE((Headers{{"Bad Key", "v"}}.Validate().ok()));
  EXPECT_FALSE((Headers{{"Key:", "v"}}.Validate().ok()));
  EXPECT_FALSE((Headers{{"K", "line\r\nInjected: yes"}}.Validate().ok()));
  EXPECT_TRUE((Headers{{"K", "v with spaces"}}.Validate().ok()));
}

TEST(HeadersTest, SetAndRemove) {
  Headers h{{"A", "1"}, {"B", "2"}, {"A", "3"}};
  h.Set("A", "9");
  EXPECT_EQ(h.fields(), (Headers::Fields{{"A", "9"}, {"B", "2"}}));
  EXPECT_EQ(h.Remove("B"), 1u);
  EXPECT_EQ(h.size(), 1u);
}

TEST(HeadersTest, MessagesBuiltLocallyCarryTheirParts) {
  Message m("orders.created", "{}", "_INBOX.x", Headers{{"K", "v"}});
  EXPECT_EQ(m.subject(), "orders.created");
  EXPECT_EQ(m.reply(), "_INBOX.x");
  EXPECT_EQ(m.data(), "{}");
  EXPECT_EQ(m.header("K"), "v");
  EXPECT_EQ(m.headers().Find("K"), "v");
  EXPECT_FALSE(m.Respond("x").ok());  // not received on a connection
}

TEST(HeadersTest, SubjectRules) {
  EXPECT_TRUE(IsValidPublishSubject("orders.created"));
  EXPECT_FALSE(IsValidPublishSubject("orders.*"));
  EXPECT_FALSE(IsValidPublishSubject("orders.>"));
  EXPECT_FALSE(IsValidPublishSubject("orders..created"));
  EXPECT_FALSE(IsValidPublishSubject(".orders"));
  EXPECT_FALSE(IsValidPublishSubject("orders."));
  EXPECT_FALSE(IsValidPublishSubject("has space"));
  EXPECT_FALSE(IsValidPublishSubject(""));
  EXPECT_TRUE(IsValidSubscribeSubject("orders.*.eu"));
  EXPECT_TRUE(IsValidSubscribeSubject("orders.>"));
  EXPECT_TRUE(IsValidSubscribeSubject(">"));
  EXPECT_FALSE(IsValidSubscribeSubject("orders.>.eu"));
  EXPECT_TRUE(IsValidSubscribeSubject("orders.a*b"));  // '*' inside a token is a literal
  EXPECT_TRUE(IsValidQueueName("workers"));
  EXPECT_FALSE(IsValidQueueName("work ers"));
}

}  // namespace
}  // namespace otlp::nats
