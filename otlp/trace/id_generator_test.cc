#include "otlp/trace/internal/id_generator.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace otlp::trace::internal {
namespace {

TEST(IdGeneratorTest, ThreadRngIsSeededOnFirstUse) {
  std::thread([] {
    EXPECT_FALSE(t_id_rng.seeded);
    IdRng& rng = ThreadRng();
    EXPECT_TRUE(rng.seeded);
    EXPECT_EQ(&rng, &t_id_rng);
  }).join();
}

// Ids are never all-zero (invalid in W3C Trace Context) and do not repeat.
TEST(IdGeneratorTest, IdsAreValidAndDistinct) {
  std::set<std::string> seen;
  IdRng& rng = ThreadRng();
  for (int i = 0; i < 10000; ++i) {
    TraceId t;
    SpanId s;
    NewTraceAndSpanId(rng, t, s);
    ASSERT_TRUE(t.IsValid());
    ASSERT_TRUE(s.IsValid());
    EXPECT_TRUE(seen.insert(t.ToHex()).second);
    EXPECT_TRUE(seen.insert(s.ToHex()).second);
  }
}

TEST(IdGeneratorTest, TheSameStateGivesTheSameIdsInEitherForm) {
  IdRng a{.state = 12345, .seeded = true};
  IdRng b = a;
  TraceId t;
  SpanId s;
  NewTraceAndSpanId(a, t, s);
  EXPECT_EQ(t, NewTraceId(b));
  EXPECT_EQ(s, NewSpanId(b));
  EXPECT_EQ(a.state, b.state);
}

// Every thread seeds its own generator from the OS: two threads do not produce the same ids.
TEST(IdGeneratorTest, ThreadsDrawDifferentSequences) {
  std::vector<std::string> first(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < first.size(); ++i) {
    threads.emplace_back([&first, i] { first[i] = NewTraceId().ToHex(); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<std::string>(first.begin(), first.end()).size(), first.size());
}

}  // namespace
}  // namespace otlp::trace::internal
