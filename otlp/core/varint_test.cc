#include "otlp/core/internal/varint.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace otlp::internal {
namespace {

std::string B(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}


TEST(Varint, SizesAtEveryBoundary) {
  EXPECT_EQ(VarintSize(0), 1u);
  for (int k = 1; k <= 9; ++k) {
    const uint64_t edge = uint64_t{1} << (7 * k);
    EXPECT_EQ(VarintSize(edge - 1), static_cast<size_t>(k)) << k;
    EXPECT_EQ(VarintSize(edge), static_cast<size_t>(k + 1)) << k;
  }
  EXPECT_EQ(VarintSize(UINT64_MAX), 10u);
}

TEST(Varint, KnownEncodings) {
  auto enc = [](uint64_t v) {
    std::string s;
    AppendVarint(v, s);
    return s;
  };
  EXPECT_EQ(enc(0), B({0}));
  EXPECT_EQ(enc(1), B({1}));
  EXPECT_EQ(enc(127), B({0x7f}));
  EXPECT_EQ(enc(128), B({0x80, 0x01}));
  EXPECT_EQ(enc(300), B({0xac, 0x02}));
  EXPECT_EQ(enc(16383), B({0xff, 0x7f}));
  EXPECT_EQ(enc(16384), B({0x80, 0x80, 0x01}));
  EXPECT_EQ(enc(UINT64_MAX), B({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
}

TEST(Varint, ReadRoundTripsAndRejectsBadInput) {
  for (int k = 0; k <= 64; ++k) {
    for (uint64_t v : {k == 64 ? UINT64_MAX : (uint64_t{1} << k), (uint64_t{1} << (k % 64)) - 1}) {
      std::string s;
      AppendVarint(v, s);
      EXPECT_EQ(s.size(), VarintSize(v));
      s += "x";
      std::string_view in = s;
      uint64_t got = 0;
      ASSERT_TRUE(ReadVarint(in, got)) << v;
      EXPECT_EQ(got, v);
      EXPECT_EQ(in, "x");
    }
  }
  uint64_t v = 42;
  std::string_view truncated("\x80\x80", 2);
  EXPECT_FALSE(ReadVarint(truncated, v));
  EXPECT_EQ(truncated.size(), 2u);  // unchanged on failure
  std::string_view empty;
  EXPECT_FALSE(ReadVarint(empty, v));
  const std::string eleven = std::string(10, '\x80') + "\x01";
  std::string_view too_long = eleven;
  EXPECT_FALSE(ReadVarint(too_long, v));
  const std::string overflow = std::string(9, '\xff') + "\x02";  // 65 bits
  std::string_view of = overflow;
  EXPECT_FALSE(ReadVarint(of, v));
  EXPECT_EQ(v, 42u);
}

TEST(Varint, SizeIsAConstantExpression) {
  static_assert(VarintSize(127) == 1 && VarintSize(128) == 2);
  SUCCEED();
}

}  // namespace
}  // namespace otlp::internal
