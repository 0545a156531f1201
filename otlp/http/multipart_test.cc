#include "otlp/http/multipart.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <string>

#include "tests/support/status_matchers.h"

namespace otlp::http {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string BoundaryOf(const std::string& content_type) {
  const std::string key = "boundary=";
  return content_type.substr(content_type.find(key) + key.size());
}

// Reads a whole stream in pieces of `step` bytes.
Result<std::string> Drain(MultipartStream& s, size_t step) {
  std::string out;
  std::string buf(step, '\0');
  for (;;) {
    OTLP_ASSIGN_OR_RETURN(size_t n, s.Read(buf.data(), buf.size()));
    EXPECT_LE(n, step);
    if (n == 0) return out;
    out.append(buf.data(), n);
  }
}

// A source that serves `data` `chunk` bytes at a time.
MultipartSource From(std::string data, size_t chunk) {
  auto pos = std::make_shared<size_t>(0);
  return [data = std::move(data), chunk, pos](char* buf, size_t cap) -> Result<size_t> {
    const size_t n = std::min({cap, chunk, data.size() - *pos});
    std::memcpy(buf, data.data() + *pos, n);
    *pos += n;
    return n;
  };
}

TEST(Multipart, ExactFramingPerRfc7578) {
  Multipart form("XyZ");
  form.AddField("title", "Hello\r\nworld").AddFile("doc", "a.txt", "file body", "text/plain");
  ASSERT_OK_AND_ASSIGN(MultipartBody body, form.Build());
  EXPECT_EQ(body.content_type, "multipart/form-data; boundary=XyZ");
  EXPECT_EQ(body.body,
            "--XyZ\r\n"
            "Content-Disposition: form-data; name=\"title\"\r\n"
            "\r\n"
            "Hello\r\nworld\r\n"
            "--XyZ\r\n"
            "Content-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n"
            "Content-Type: text/plain\r\n"
            "\r\n"
            "file body\r\n"
            "--XyZ--\r\n");
}

TEST(Multipart, NoPartsIsJustTheCloseDelimiter) {
  ASSERT_OK_AND_ASSIGN(MultipartBody body, Multipart("b").Build());
  EXPECT_EQ(body.body, "--b--\r\n");
}

TEST(Multipart, RandomBoundaryIsValidAndFresh) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK_AND_ASSIGN(MultipartBody body, Multipart().AddField("a", "b").Build());
    const std::string b = BoundaryOf(body.content_type);
    EXPECT_THAT(b, StartsWith("otlp-"));
    EXPECT_EQ(b.size(), 37u);
    EXPECT_TRUE(seen.insert(b).second);
    EXPECT_THAT(body.body, StartsWith("--" + b + "\r\n"));
  }
}

TEST(Multipart, BoundaryOccurringInAPartIsReplaced) {
  Multipart form("clash");
  form.AddFile("f", "x.bin", "data --clash data", "");
  ASSERT_OK_AND_ASSIGN(MultipartBody body, form.Build());
  const std::string b = BoundaryOf(body.content_type);
  EXPECT_NE(b, "clash");
  EXPECT_EQ(body.body.find("--" + b), 0u);
  // The delimiter occurs exactly twice: the opening and the closing one.
  size_t count = 0;
  for (size_t at = body.body.find(b); at != std::string::npos; at = body.body.find(b, at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 2u);
  EXPECT_THAT(body.body, HasSubstr("Content-Type: application/octet-stream\r\n"));
}

TEST(Multipart, InvalidRequestedBoundaryFallsBackToRandom) {
  for (const std::string& bad : {std::string(""), std::string(71, 'a'), std::string("ends "),
                                 std::string("semi;colon"), std::string("quote\"")}) {
    ASSERT_OK_AND_ASSIGN(MultipartBody body, Multipart(bad).Build());
    EXPECT_THAT(BoundaryOf(body.content_type), StartsWith("otlp-")) << bad;
  }
  ASSERT_OK_AND_ASSIGN(MultipartBody ok, Multipart("a'()+_,-./:=? b").Build());
  EXPECT_EQ(BoundaryOf(ok.content_type), "a'()+_,-./:=? b");
}

TEST(Multipart, NamesAndFilenamesAreEscaped) {
  Multipart form("B");
  form.AddFile("we\"ird\r\nname", "C:\\dir\\\"evil\".txt\r\nX-Injected: 1", "", "text/plain");
  form.AddField("caf\xC3\xA9", "");
  ASSERT_OK_AND_ASSIGN(MultipartBody body, form.Build());
  EXPECT_THAT(body.body, HasSubstr("name=\"we%22ird%0D%0Aname\"; "
                                   "filename=\"C:\\dir\\%22evil%22.txt%0D%0AX-Injected: 1\"\r\n"));
  EXPECT_THAT(body.body, HasSubstr("name=\"caf\xC3\xA9\"\r\n"));
  EXPECT_EQ(body.body.find("\r\nX-Injected"), std::string::npos);
}

TEST(Multipart, ContentTypeWithLineBreakIsRejected) {
  Multipart form;
  form.AddFile("f", "a", "x", "text/plain\r\nX-Evil: 1");
  EXPECT_THAT(form.Build(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("line break")));
  Multipart nul;
  nul.AddFile("f", "a", "x", std::string_view("text/plain\0", 11));
  EXPECT_THAT(std::move(nul).Stream(), StatusIs(StatusCode::kInvalidArgument));
}

TEST(Multipart, BinaryContentIsKeptByteForByte) {
  std::string binary;
  for (int i = 0; i < 256; ++i) binary += static_cast<char>(i);
  binary += "\r\n--\r\n";
  // Every byte value occurs once in `binary`: a boundary of "QQ" does not.
  ASSERT_OK_AND_ASSIGN(MultipartBody body, Multipart("QQ").AddFile("f", "b", binary).Build());
  const std::string head =
      "--QQ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"b\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n";
  EXPECT_EQ(body.body, head + binary + "\r\n--QQ--\r\n");
}

TEST(Multipart, BuildRefusesStreamedParts) {
  Multipart form;
  form.AddStream("f", "a", "", From("x", 1), 1);
  EXPECT_THAT(form.Build(), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("Stream()")));
}

TEST(Multipart, StreamMatchesBuildForMemoryParts) {
  const auto make = [] {
    Multipart form("S");
    form.AddField("a", "1").AddFile("f", "n.txt", std::string(10000, 'z'), "text/plain");
    return form;
  };
  ASSERT_OK_AND_ASSIGN(MultipartBody built, make().Build());
  ASSERT_OK_AND_ASSIGN(MultipartStream stream, make().Stream());
  EXPECT_EQ(stream.content_type(), built.content_type);
  EXPECT_EQ(stream.content_length(), built.body.size());
  EXPECT_THAT(Drain(stream, 7), IsOkAndHolds(built.body));
  EXPECT_THAT(stream.Read(nullptr, 0), IsOkAndHolds(0u));
}

TEST(Multipart, StreamedPartsComeFromTheirSource) {
  const std::string big(100000, 'q');
  Multipart form("S");
  form.AddField("a", "1").AddStream("up", "big.bin", "", From(big, 333), big.size());
  ASSERT_OK_AND_ASSIGN(MultipartBody expected,
                       Multipart("S").AddField("a", "1").AddFile("up", "big.bin", big).Build());
  ASSERT_OK_AND_ASSIGN(MultipartStream stream, std::move(form).Stream());
  EXPECT_EQ(stream.content_length(), expected.body.size());
  EXPECT_THAT(Drain(stream, 4096), IsOkAndHolds(expected.body));
}

TEST(Multipart, UnsizedStreamHasNoContentLength) {
  Multipart form("S");
  form.AddStream("up", "f", "text/plain", From("abc", 1));
  ASSERT_OK_AND_ASSIGN(MultipartStream stream, std::move(form).Stream());
  EXPECT_EQ(stream.content_length(), std::nullopt);
  ASSERT_OK_AND_ASSIGN(std::string body, Drain(stream, 2));
  EXPECT_THAT(body, HasSubstr("\r\n\r\nabc\r\n--S--\r\n"));
}

TEST(Multipart, StreamSizeMismatchAndSourceErrorsAreReported) {
  {
    Multipart form;
    form.AddStream("short", "f", "", From("ab", 10), 5);
    ASSERT_OK_AND_ASSIGN(MultipartStream stream, std::move(form).Stream());
    EXPECT_THAT(Drain(stream, 64), StatusIs(StatusCode::kInvalidArgument,
                                            HasSubstr("'short': source gave 2 bytes, declared 5")));
    EXPECT_THAT(stream.Read(nullptr, 0), StatusIs(StatusCode::kInvalidArgument));  // sticky
  }
  {
    Multipart form;
    form.AddStream("long", "f", "", From("abcdef", 10), 3);
    ASSERT_OK_AND_ASSIGN(MultipartStream stream, std::move(form).Stream());
    EXPECT_THAT(Drain(stream, 64),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("more than the declared 3")));
  }
  {
    Multipart form;
    form.AddStream("bad", "f", "",
                   [](char*, size_t) -> Result<size_t> { return UnavailableError("disk gone"); });
    ASSERT_OK_AND_ASSIGN(MultipartStream stream, std::move(form).Stream());
    const Result<std::string> r = Drain(stream, 64);
    EXPECT_THAT(r,
                StatusIs(StatusCode::kUnavailable, HasSubstr("'bad': source failed: disk gone")));
    EXPECT_TRUE(r.status().retryable());
  }
  {
    Multipart form;
    form.AddStream("liar", "f", "", [](char*, size_t cap) -> Result<size_t> { return cap + 1; });
    ASSERT_OK_AND_ASSIGN(MultipartStream stream, std::move(form).Stream());
    EXPECT_THAT(Drain(stream, 64), StatusIs(StatusCode::kInvalidArgument, HasSubstr("room")));
  }
}

}  // namespace
}  // namespace otlp::http
