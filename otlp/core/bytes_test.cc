// The short copies and compares of the hot paths against the library's, at every length they
// accept and at unaligned offsets.
#include "otlp/core/internal/bytes.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace otlp::internal {
namespace {

// Source bytes that differ at every position, and a destination with guard bytes around.
struct Buffers {
  std::vector<char> src = std::vector<char>(300);
  std::vector<char> got = std::vector<char>(300 + 32, '#');
  std::vector<char> want = std::vector<char>(300 + 32, '#');
  Buffers() {
    for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<char>(i * 7 + 1);
  }
};

template <typename Copy>
void CheckCopy(Copy copy, size_t max) {
  for (size_t offset : {0, 1, 3, 8}) {
    for (size_t n = 0; n <= max; ++n) {
      Buffers b;
      copy(b.got.data() + 16 + offset, b.src.data() + offset, n);
      std::memcpy(b.want.data() + 16 + offset, b.src.data() + offset, n);
      ASSERT_EQ(b.got, b.want) << "n=" << n << " offset=" << offset;
    }
  }
}

TEST(BytesTest, CopiesMatchMemcpyAtEveryLength) {
  CheckCopy(CopyUpTo32, 32);
  CheckCopy(CopyUpTo64, 64);
  CheckCopy(CopyUpTo256, 256);
  CheckCopy(CopyShortBytes, 100);
  CheckCopy(CopyBytesInline64, 200);
}

TEST(BytesTest, ShortBytesEqualMatchesMemcmp) {
  Buffers b;
  for (size_t n = 0; n <= 64; ++n) {
    std::vector<char> copy(b.src.begin(), b.src.begin() + static_cast<ptrdiff_t>(n));
    EXPECT_TRUE(ShortBytesEqual(copy.data(), b.src.data(), n)) << n;
    for (size_t at = 0; at < n; ++at) {
      copy[at] ^= 0x20;
      EXPECT_FALSE(ShortBytesEqual(copy.data(), b.src.data(), n)) << n << " at " << at;
      copy[at] ^= 0x20;
    }
  }
}

}  // namespace
}  // namespace otlp::internal
