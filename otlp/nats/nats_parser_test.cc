#include "otlp/nats/internal/parser.h"

#include <gtest/gtest.h>

#include <string>

namespace otlp::nats::internal {
namespace {

struct Parsed {
  ParseResult result;
  ServerOp op;
  size_t used = 0;
  std::string error;
};

Parsed Parse(std::string_view in, ParseLimits limits = {}) {
  Parsed p;
  p.result = ParseServerOp(in, limits, &p.op, &p.used, &p.error);
  return p;
}

TEST(ParserTest, ControlOperations) {
  Parsed p = Parse("PING\r\nPONG\r\n");
  ASSERT_EQ(p.result, ParseResult::kOp);
  EXPECT_EQ(p.op.kind, ServerOp::Kind::kPing);
  EXPECT_EQ(p.used, 6u);
  EXPECT_EQ(Parse("pong\r\n").op.kind, ServerOp::Kind::kPong);
  EXPECT_EQ(Parse("+OK\r\n").op.kind, ServerOp::Kind::kOk);
  Parsed err = Parse("-ERR 'Permissions Violation for Publish to \"x\"'\r\n");
  ASSERT_EQ(err.result, ParseResult::kOp);
  EXPECT_EQ(err.op.kind, ServerOp::Kind::kErr);
  EXPECT_EQ(err.op.text, "Permissions Violation for Publish to \"x\"");
  Parsed info = Parse("INFO {\"server_id\":\"x\",\"max_payload\":1048576}\r\n");
  ASSERT_EQ(info.result, ParseResult::kOp);
  EXPECT_EQ(info.op.kind, ServerOp::Kind::kInfo);
  EXPECT_EQ(info.op.text, "{\"server_id\":\"x\",\"max_payload\":1048576}");
}

TEST(ParserTest, MessagesWithAndWithoutReplyAndHeaders) {
  Parsed m = Parse("MSG orders.created 7 5\r\nhello\r\n");
  ASSERT_EQ(m.result, ParseResult::kOp);
  EXPECT_EQ(m.op.kind, ServerOp::Kind::kMsg);
  EXPECT_EQ(m.op.subject, "orders.created");
  EXPECT_EQ(m.op.sid, 7u);
  EXPECT_EQ(m.op.reply, "");
  EXPECT_EQ(m.op.data, "hello");
  EXPECT_EQ(m.used, 31u);

  Parsed r = Parse("MSG a.b 1 _INBOX.x.1 0\r\n\r\n");
  ASSERT_EQ(r.result, ParseResult::kOp);
  EXPECT_EQ(r.op.reply, "_INBOX.x.1");
  EXPECT_EQ(r.op.data, "");

  const std::string block = "NATS/1.0\r\nX-Tag: a\r\n\r\n";
  const std::string hmsg = "HMSG s 3 r " + std::to_string(block.size()) + " " +
                           std::to_string(block.size() + 2) + "\r\n" + block + "hi\r\n";
  Parsed h = Parse(hmsg);
  ASSERT_EQ(h.result, ParseResult::kOp) << h.error;
  EXPECT_EQ(h.op.header_block, block);
  EXPECT_EQ(h.op.data, "hi");
  EXPECT_EQ(h.op.reply, "r");
  EXPECT_EQ(h.used, hmsg.size());

  // No responders: a status-only header block and no data.
  Parsed nr = Parse("HMSG _INBOX.a.b 2 16 16\r\nNATS/1.0 503\r\n\r\n\r\n");
  ASSERT_EQ(nr.result, ParseResult::kOp) << nr.error;
  EXPECT_EQ(nr.op.header_block, "NATS/1.0 503\r\n\r\n");
  EXPECT_EQ(nr.op.data, "");
}

TEST(ParserTest, EveryPrefixOfAnOperationNeedsMore) {
  const std::string all = "HMSG s 3 r 22 24\r\nNATS/1.0\r\nX-Tag: a\r\n\r\nhi\r\n";
  ASSERT_EQ(Parse(all).result, ParseResult::kOp);
  for (size_t i = 0; i < all.size(); ++i) {
    Parsed p = Parse(std::string_view(all).substr(0, i));
    EXPECT_EQ(p.result, ParseResult::kNeedMore) << "prefix of " << i << " bytes: " << p.error;
  }
}

TEST(ParserTest, RejectsWhatIsNotTheProtocol) {
  EXPECT_EQ(Parse("HELLO\r\n").result, ParseResult::kError);
  EXPECT_EQ(Parse("PING\n").result, ParseResult::kError);            // no CR
  EXPECT_EQ(Parse("MSG a 1\r\n").result, ParseResult::kError);       // no size
  EXPECT_EQ(Parse("MSG a x 1\r\nz\r\n").result, ParseResult::kError);  // bad sid
  EXPECT_EQ(Parse("MSG a 1 -5\r\n").result, ParseResult::kError);
  EXPECT_EQ(Parse("MSG a 1 99999999999999999999999\r\n").result, ParseResult::kError);
  EXPECT_EQ(Parse("MSG a 1 3\r\nabcd\r\n").result, ParseResult::kError);  // size mismatch
  EXPECT_EQ(Parse("HMSG a 1 5 3\r\nabc\r\n").result, ParseResult::kError);  // hdr > total
  EXPECT_EQ(Parse("HMSG a 1 3 3\r\nabc\r\n").result, ParseResult::kError);  // not NATS/1.0
  EXPECT_EQ(Parse("MSG a b c d e f\r\n").result, ParseResult::kError);
  EXPECT_EQ(Parse("INFO nope\r\n").result, ParseResult::kError);
  EXPECT_EQ(Parse("PING extra\r\n").result, ParseResult::kError);
  // A control line without CRLF beyond the limit fails instead of growing forever.
  ParseLimits small;
  small.max_control_line = 16;
  Parsed long_line = Parse(std::string(40, 'M'), small);
  EXPECT_EQ(long_line.result, ParseResult::kError);
  EXPECT_NE(long_line.error.find("maximum control line"), std::string::npos);
  EXPECT_EQ(Parse(std::string(10, 'M'), small).result, ParseResult::kNeedMore);
  // A message larger than the limit is refused before it is buffered.
  ParseLimits tiny;
  tiny.max_message_bytes = 10;
  EXPECT_EQ(Parse("MSG a 1 11\r\n", tiny).result, ParseResult::kError);
}

TEST(ParserTest, SplitAndDecimal) {
  std::string_view args[3];
  size_t n = 0;
  ASSERT_TRUE(SplitArgs("  a \t b c ", args, 3, &n));
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(args[1], "b");
  EXPECT_FALSE(SplitArgs("a b c d", args, 3, &n));
  uint64_t v = 0;
  EXPECT_TRUE(ParseDecimal("1048576", &v));
  EXPECT_EQ(v, 1048576u);
  EXPECT_FALSE(ParseDecimal("", &v));
  EXPECT_FALSE(ParseDecimal("12a", &v));
}

}  // namespace
}  // namespace otlp::nats::internal
