#include "otlp/view/waterfall.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace otlp::view {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<StoredSpan> Trace() {
  const uint64_t t0 = 1765100000000000000ull;
  return {
      {"1111111111111111", "", "client", "GET", 3, t0, t0 + 50'000'000, 0, "",
       {{"http.request.method", "GET"}, {"url.full", "http://127.0.0.1/checkout"}}},
      {"2222222222222222", "1111111111111111", "frontend", "GET /checkout", 2, t0 + 1'000'000,
       t0 + 49'000'000, 0, "", {{"http.route", "/checkout"}, {"internal.detail", "x"}}},
      {"3333333333333333", "2222222222222222", "orders", "POST /orders", 2, t0 + 25'000'000,
       t0 + 49'000'000, 2, "out of stock", {{"error.type", "409"}}},
      {"4444444444444444", "9999999999999999", "late", "orphan", 1, t0 + 10'000'000,
       t0 + 11'000'000, 0, "", {}},
  };
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(WaterfallTest, PlainTreeWithBarsDurationsStatusAndKeyAttributes) {
  const std::string text = RenderWaterfall("4bf92f3577b34da6a3ce929d0e0e4736", Trace(),
                                           {.color = false, .width = 120});
  const auto lines = Lines(text);
  ASSERT_EQ(lines.size(), 5u) << text;
  EXPECT_THAT(lines[0], HasSubstr("trace 4bf92f3577b34da6a3ce929d0e0e4736  50.0 ms  4 spans  "
                                  "4 services  1 error"));
  EXPECT_THAT(lines[1], HasSubstr("  client: GET"));
  EXPECT_THAT(lines[1], HasSubstr("client"));
  EXPECT_THAT(lines[1], HasSubstr("url.full=http://127.0.0.1/checkout"));
  EXPECT_THAT(lines[1], Not(HasSubstr("http.request.method")));  // the name says it
  EXPECT_THAT(lines[2], HasSubstr("    frontend: GET /checkout"));  // one level deeper
  EXPECT_THAT(lines[2], HasSubstr("http.route=/checkout"));
  EXPECT_THAT(lines[2], Not(HasSubstr("internal.detail")));
  EXPECT_THAT(lines[3], HasSubstr("      orders: POST /orders"));
  EXPECT_THAT(lines[3], HasSubstr("ERROR out of stock"));
  EXPECT_THAT(lines[3], HasSubstr("24.0 ms"));
  // A span whose parent never arrived is drawn as a root, after the tree.
  EXPECT_THAT(lines[4], HasSubstr("  late: orphan"));
  EXPECT_THAT(text, Not(HasSubstr("\x1b[")));  // plain when not a terminal
  // The root's bar spans the whole axis; the late half of orders starts mid-axis.
  const size_t root_bar = lines[1].find("█");
  const size_t orders_bar = lines[3].find("█");
  ASSERT_NE(root_bar, std::string::npos);
  ASSERT_NE(orders_bar, std::string::npos);
  EXPECT_GT(orders_bar, root_bar + 20);
}

TEST(WaterfallTest, ColourForTerminals) {
  const std::string text = RenderWaterfall("4bf92f3577b34da6a3ce929d0e0e4736", Trace(),
                                           {.color = true});
  EXPECT_THAT(text, HasSubstr("\x1b[31m"));  // the error in red
  EXPECT_THAT(text, HasSubstr("\x1b[0m"));
}

TEST(WaterfallTest, Durations) {
  EXPECT_EQ(FormatDuration(999), "999 ns");
  EXPECT_EQ(FormatDuration(950'000), "950 µs");
  EXPECT_EQ(FormatDuration(48'120'000), "48.1 ms");
  EXPECT_EQ(FormatDuration(2'310'000'000), "2.31 s");
  EXPECT_EQ(RenderWaterfall("x", {}), "trace x: no spans\n");
}

}  // namespace
}  // namespace otlp::view
