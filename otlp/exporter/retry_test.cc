#include "otlp/exporter/retry.h"

#include <gtest/gtest.h>

#include <chrono>

#include "otlp/net/internal/retry_after.h"

namespace otlp::exporter {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

// 1994-11-06T08:49:37Z, the RFC 9110 example date.
system_clock::time_point ExampleDate() {
  return std::chrono::sys_days(std::chrono::year(1994) / 11 / 6) + std::chrono::hours(8) +
         std::chrono::minutes(49) + seconds(37);
}

TEST(RetryableStatus, OnlyTheOtlpThrottlingAndGatewayCodes) {
  for (int code : {429, 502, 503, 504}) EXPECT_TRUE(IsRetryableHttpStatus(code)) << code;
  for (int code : {200, 204, 301, 400, 401, 403, 404, 408, 413, 500, 501, 505})
    EXPECT_FALSE(IsRetryableHttpStatus(code)) << code;
  EXPECT_TRUE(HonoursRetryAfter(429));
  EXPECT_TRUE(HonoursRetryAfter(503));
  EXPECT_FALSE(HonoursRetryAfter(502));
  EXPECT_FALSE(HonoursRetryAfter(504));
}

// The parser itself (otlp/net/internal/retry_after.h) is tested in retry_after_test; this checks
// the exporter's entry point is that parser.
TEST(ParseRetryAfter, IsTheSharedRetryAfterParser) {
  auto now = system_clock::now();
  EXPECT_EQ(ParseRetryAfter(" 120 ", now), seconds(120));
  EXPECT_EQ(ParseRetryAfter("99999999999999999999999", now), net::internal::kMaxRetryAfter);
  for (const char* bad : {"", "-1", "1.5", "soon", "Sun, 06 Nov 1994 08:49:37 UTC"}) {
    EXPECT_FALSE(ParseRetryAfter(bad, now).has_value()) << "'" << bad << "'";
  }
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", ExampleDate() - milliseconds(1500)),
            milliseconds(1500));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", ExampleDate() + seconds(1)),
            milliseconds(0));
}

TEST(Backoff, GrowsExponentiallyWithinJitterBounds) {
  RetryPolicy p;  // 500 ms, x2, max 5 s, ±20 %
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Backoff b(p, seed);
    const int64_t bases[] = {500, 1000, 2000, 4000, 5000, 5000, 5000};
    for (int64_t base : bases) {
      EXPECT_EQ(b.NextBase().count(), base);
      int64_t d = b.Next().count();
      EXPECT_GE(d, base * 8 / 10) << "seed " << seed;
      EXPECT_LE(d, base * 12 / 10) << "seed " << seed;
    }
    EXPECT_EQ(b.retries(), 7);
  }
}

TEST(Backoff, DeterministicForASeedAndJittered) {
  RetryPolicy p;
  Backoff a(p, 7), b(p, 7), c(p, 8);
  bool differs = false;
  for (int i = 0; i < 5; ++i) {
    auto da = a.Next(), db = b.Next(), dc = c.Next();
    EXPECT_EQ(da, db);
    differs = differs || da != dc;
  }
  EXPECT_TRUE(differs);  // a different seed gives a different sequence
}

TEST(Backoff, JitterSpreadsAcrossTheRange) {
  RetryPolicy p;
  int64_t lo = 1 << 30, hi = 0;
  for (uint64_t seed = 0; seed < 500; ++seed) {
    int64_t d = Backoff(p, seed).Next().count();
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  // 500 ms ± 20 % = [400, 600]; 500 draws cover most of it.
  EXPECT_LT(lo, 430);
  EXPECT_GT(hi, 570);
}

TEST(Backoff, NoJitterIsExact) {
  RetryPolicy p{.initial_backoff = milliseconds(100),
                .multiplier = 3.0,
                .max_backoff = milliseconds(1000),
                .jitter = 0.0};
  Backoff b(p, 1);
  EXPECT_EQ(b.Next(), milliseconds(100));
  EXPECT_EQ(b.Next(), milliseconds(300));
  EXPECT_EQ(b.Next(), milliseconds(900));
  EXPECT_EQ(b.Next(), milliseconds(1000));
  EXPECT_EQ(b.Next(), milliseconds(1000));
}

TEST(Backoff, ManyRetriesDoNotOverflow) {
  RetryPolicy p;
  Backoff b(p, 3);
  for (int i = 0; i < 5000; ++i) {
    auto d = b.Next();
    ASSERT_GE(d.count(), 0);
    ASSERT_LE(d.count(), 6000);
  }
}

}  // namespace
}  // namespace otlp::exporter
