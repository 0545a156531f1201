#include "otlp/core/internal/gzip.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "tests/support/status_matchers.h"

namespace otlp::internal {
namespace {

using ::testing::HasSubstr;

std::string Gzip(std::string_view in) {
  std::string out;
  EXPECT_OK(GzipCompress(in, out));
  return out;
}

TEST(Gzip, RoundTripsWithGzipMagic) {
  std::string input;
  for (int i = 0; i < 1000; ++i) input += "span-" + std::to_string(i) + '\0';
  const std::string gz = Gzip(input);
  ASSERT_GE(gz.size(), 18u);  // header 10 + trailer 8
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  EXPECT_LT(gz.size(), input.size());
  EXPECT_THAT(GzipDecompress(gz, 1 << 20), IsOkAndHolds(input));
}

TEST(Gzip, EmptyInput) {
  EXPECT_THAT(GzipDecompress(Gzip(""), 100), IsOkAndHolds(std::string()));
}

TEST(Gzip, IncompressibleInputLargerThanTheFirstGuess) {
  std::mt19937_64 rng(7);
  std::string input(300 * 1024, '\0');
  for (char& c : input) c = static_cast<char>(rng());
  EXPECT_THAT(GzipDecompress(Gzip(input), input.size()), IsOkAndHolds(input));
}

TEST(Gzip, CompressReusesTheOutputString) {
  std::string out = "previous contents that must go";
  ASSERT_OK(GzipCompress("abc", out));
  EXPECT_THAT(GzipDecompress(out, 10), IsOkAndHolds(std::string("abc")));
}

TEST(Gzip, ConcatenatedMembersDecodeToTheConcatenation) {
  EXPECT_THAT(GzipDecompress(Gzip("hello ") + Gzip("world"), 100),
              IsOkAndHolds(std::string("hello world")));
}

TEST(Gzip, MalformedInputIsRejectedWithAReason) {
  const std::string gz = Gzip(std::string(5000, 'x') + "tail");
  EXPECT_THAT(GzipDecompress("not gzip at all", 100),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a gzip stream")));
  EXPECT_THAT(GzipDecompress("", 100), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(GzipDecompress(gz.substr(0, gz.size() / 2), 1 << 20),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("cut short")));
  std::string corrupt = gz;
  corrupt[gz.size() - 6] ^= 0x55;  // inside the CRC-32 / size trailer
  EXPECT_THAT(GzipDecompress(corrupt, 1 << 20),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("corrupt")));
  EXPECT_THAT(GzipDecompress(gz + "junk", 1 << 20),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("garbage after")));
}

TEST(Gzip, OutputBeyondTheLimitIsRefused) {
  const std::string bomb = Gzip(std::string(1 << 20, 'x'));
  EXPECT_THAT(GzipDecompress(bomb, 1000), StatusIs(StatusCode::kResourceExhausted));
  EXPECT_THAT(GzipDecompress(bomb, 1 << 20), IsOkAndHolds(std::string(1 << 20, 'x')));
}

}  // namespace
}  // namespace otlp::internal
