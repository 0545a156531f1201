#include "otlp/net/internal/retry_after.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>

namespace otlp::net::internal {
namespace {

using namespace std::chrono_literals;
using std::chrono::seconds;
using std::chrono::system_clock;

// 1994-11-06 08:49:00 UTC, the RFC's example day.
system_clock::time_point Now() {
  return std::chrono::sys_days(std::chrono::year(1994) / 11 / 6) + 8h + 49min;
}

TEST(RetryAfter, DelaySeconds) {
  EXPECT_EQ(ParseRetryAfter("120", Now()), seconds(120));
  EXPECT_EQ(ParseRetryAfter("0", Now()), seconds(0));
  EXPECT_EQ(ParseRetryAfter("  7\t", Now()), seconds(7));
  EXPECT_EQ(ParseRetryAfter("007", Now()), seconds(7));
}

TEST(RetryAfter, HugeDelayIsClamped) {
  EXPECT_EQ(ParseRetryAfter("99999999999999999999999999999999", Now()), kMaxRetryAfter);
  EXPECT_EQ(ParseRetryAfter("31622400", Now()), kMaxRetryAfter);  // exactly the cap
  EXPECT_EQ(ParseRetryAfter("31622401", Now()), kMaxRetryAfter);
}

TEST(RetryAfter, GarbageIsNotAValue) {
  for (const char* bad : {"", "   ", "-1", "+5", "1.5", "10s", "1 2", "soon", "0x10", "١٢",
                          "Sun, 06 Nov 1994", "GMT"}) {
    EXPECT_EQ(ParseRetryAfter(bad, Now()), std::nullopt) << bad;
  }
}

TEST(RetryAfter, ImfFixdate) {
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", Now()), seconds(37));
  EXPECT_EQ(ParseRetryAfter("Mon, 07 Nov 1994 08:49:00 GMT", Now()), seconds(86400));
}

TEST(RetryAfter, ObsoleteDateForms) {
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", Now()), seconds(37));
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:49:37 1994", Now()), seconds(37));
  EXPECT_EQ(ParseRetryAfter("Sun Nov 16 08:49:00 1994", Now()), seconds(10 * 86400));
}

TEST(RetryAfter, TwoDigitYearsWithinFiftyYears) {
  const auto now = std::chrono::sys_days(std::chrono::year(2026) / 1 / 1) + 0s;
  // "30" is 2030 (4 years ahead), "90" is 1990 (2090 would be more than 50 years ahead).
  EXPECT_EQ(ParseHttpDate("Tuesday, 01-Jan-30 00:00:00 GMT", now),
            std::chrono::sys_days(std::chrono::year(2030) / 1 / 1) + 0s);
  EXPECT_EQ(ParseHttpDate("Monday, 01-Jan-90 00:00:00 GMT", now),
            std::chrono::sys_days(std::chrono::year(1990) / 1 / 1) + 0s);
}

TEST(RetryAfter, PastDateMeansNow) {
  EXPECT_EQ(ParseRetryAfter("Sat, 05 Nov 1994 08:49:37 GMT", Now()), seconds(0));
  EXPECT_EQ(ParseRetryAfter("Thu, 01 Jan 1970 00:00:00 GMT", Now()), seconds(0));
}

TEST(RetryAfter, SubSecondRemainderRoundsUpToTheMillisecond) {
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", Now() + 500ms), 36500ms);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", Now() + 37s - 1500ms), 1500ms);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", Now() + 37s - 1us), 1ms);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", Now() + 37s), 0ms);
}

TEST(RetryAfter, FarFutureDateIsClampedWithoutOverflow) {
  EXPECT_EQ(ParseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", Now()), kMaxRetryAfter);
  EXPECT_EQ(ParseRetryAfter("Sat, 01 Jan 0000 00:00:00 GMT", Now()), seconds(0));
}

TEST(RetryAfter, MalformedDatesAreRejected) {
  for (const char* bad : {
           "Sun, 31 Feb 1994 08:49:37 GMT",    // no such day
           "Sun, 06 Nov 1994 24:00:00 GMT",    // hour
           "Sun, 06 Nov 1994 08:60:00 GMT",    // minute
           "Sun, 06 Nov 1994 08:49:61 GMT",    // second
           "Sun, 06 Foo 1994 08:49:37 GMT",    // month
           "Xyz, 06 Nov 1994 08:49:37 GMT",    // day name
           "Sun, 6 Nov 1994 08:49:37 GMT",     // one-digit day in IMF-fixdate
           "Sun, 06 Nov 1994 08:49:37 UTC",    // zone
           "Sun, 06 Nov 1994 08:49:37 GMT x",  // trailing junk
           "sun, 06 nov 1994 08:49:37 gmt",    // case-sensitive names
           "Sun, 06 Nov 94 08:49:37 GMT",      // two-digit year in IMF-fixdate
           "Sunday, 06-Nov-1994 08:49:37 GMT",
           "Sun Nov 6 08:49:37 1994",  // asctime needs the padding
           "Sun Nov  6 08:49:37",
           "Sun, 06 Nov 1994 08:49",
       }) {
    EXPECT_EQ(ParseHttpDate(bad, Now()), std::nullopt) << bad;
    EXPECT_EQ(ParseRetryAfter(bad, Now()), std::nullopt) << bad;
  }
}

TEST(RetryAfter, LeapSecondAccepted) {
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:60 GMT", Now()), seconds(60));
}

}  // namespace
}  // namespace otlp::net::internal
