#include "otlp/nats/internal/server_pool.h"

#include <gtest/gtest.h>

namespace otlp::nats::internal {
namespace {

TEST(ServerPoolTest, ParsesUrlForms) {
  Result<ServerUrl> a = ParseServerUrl("nats://alice:s3cret@127.0.0.1:4223");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 4223);
  EXPECT_EQ(a->user, "alice");
  EXPECT_EQ(a->password, "s3cret");
  EXPECT_TRUE(a->has_password);
  EXPECT_FALSE(a->tls);
  EXPECT_EQ(a->ToString(), "nats://127.0.0.1:4223");  // no credentials in what is shown

  Result<ServerUrl> t = ParseServerUrl("tls://token@nats.example.com");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->tls);
  EXPECT_EQ(t->port, 4222);
  EXPECT_EQ(t->user, "token");
  EXPECT_FALSE(t->has_password);

  Result<ServerUrl> bare = ParseServerUrl("localhost:5000");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->host, "localhost");
  EXPECT_EQ(bare->port, 5000);

  Result<ServerUrl> v6 = ParseServerUrl("nats://[::1]:4222");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->HostPort(), "[::1]:4222");

  EXPECT_FALSE(ParseServerUrl("http://127.0.0.1:4222").ok());
  EXPECT_FALSE(ParseServerUrl("nats://127.0.0.1:99999").ok());
  EXPECT_FALSE(ParseServerUrl("nats://127.0.0.1:x").ok());
  EXPECT_FALSE(ParseServerUrl("nats://").ok());
  EXPECT_FALSE(ParseServerUrl("nats://host/path").ok());
}

TEST(ServerPoolTest, RotatesSkipsExhaustedAndAddsDiscovered) {
  ServerPool pool;
  ASSERT_TRUE(pool.Init({"nats://a:1", "nats://b:2", "nats://c:3"}, false, 1).ok());
  EXPECT_EQ(pool.Next(0, 2), 1);
  EXPECT_EQ(pool.Next(2, 2), 0);
  pool.at(1).failed_attempts = 2;
  EXPECT_EQ(pool.Next(0, 2), 2);
  EXPECT_EQ(pool.Next(0, -1), 1);  // unlimited attempts: never skipped
  pool.at(0).failed_attempts = 2;
  pool.at(2).failed_attempts = 2;
  EXPECT_EQ(pool.Next(0, 2), -1);

  EXPECT_TRUE(pool.AddDiscovered({"d:4", "a:1"}, false));
  EXPECT_EQ(pool.size(), 4u);
  EXPECT_TRUE(pool.at(3).implicit);
  EXPECT_FALSE(pool.AddDiscovered({"d:4"}, false));

  ServerPool empty;
  EXPECT_FALSE(empty.Init({}, false, 1).ok());
  EXPECT_FALSE(empty.Init({"ftp://x"}, false, 1).ok());
}

TEST(ServerPoolTest, LameDuckServersAreTriedLast) {
  ServerPool pool;
  ASSERT_TRUE(pool.Init({"nats://a:1", "nats://b:2", "nats://c:3"}, false, 1).ok());
  pool.at(1).lame_duck = true;
  EXPECT_EQ(pool.Next(0, -1), 2);
  pool.at(2).lame_duck = true;
  pool.at(0).lame_duck = true;
  EXPECT_EQ(pool.Next(0, -1), 1);  // all in lame-duck mode: still one to try
}

}  // namespace
}  // namespace otlp::nats::internal
