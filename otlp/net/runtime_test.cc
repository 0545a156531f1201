#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>

#include "otlp/core/log.h"
#include "otlp/net/http_client.h"

namespace otlp::net {
namespace {

constexpr auto kWait = std::chrono::seconds(10);

// Promises set on an I/O thread are shared with it, so the setter never touches a destroyed one.
template <typename T>
using SharedPromise = std::shared_ptr<std::promise<T>>;

template <typename T>
SharedPromise<T> MakePromise() {
  return std::make_shared<std::promise<T>>();
}

TEST(RuntimeTest, PostRunsOnAnIoThread) {
  auto runtime = Runtime::Create();
  EXPECT_FALSE(runtime->InIoThread());
  auto in_io = MakePromise<bool>();
  runtime->Post([in_io, runtime = runtime.get()] { in_io->set_value(runtime->InIoThread()); });
  auto future = in_io->get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(future.get());
}

TEST(RuntimeTest, InIoThreadIsPerRuntime) {
  auto a = Runtime::Create();
  auto b = Runtime::Create();
  auto b_thinks_in_io = MakePromise<bool>();
  a->Post([b_thinks_in_io, b] { b_thinks_in_io->set_value(b->InIoThread()); });
  auto future = b_thinks_in_io->get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  EXPECT_FALSE(future.get());
}

TEST(RuntimeTest, SeveralThreads) {
  auto runtime = Runtime::Create({.threads = 3, .thread_name = "test-io"});
  EXPECT_EQ(runtime->thread_count(), 3);
  EXPECT_EQ(Runtime::Create({.threads = 0})->thread_count(), 1);
}

TEST(RuntimeTest, DestructorRunsQueuedWork) {
  auto ran = std::make_shared<std::atomic<int>>(0);
  {
    auto runtime = Runtime::Create();
    for (int i = 0; i < 100; ++i) runtime->Post([ran] { ran->fetch_add(1); });
  }
  EXPECT_EQ(ran->load(), 100);
}

TEST(RuntimeTest, ExceptionInHandlerIsContained) {
  SetLogLevel(LogLevel::kNone);
  auto runtime = Runtime::Create();
  runtime->Post([] { throw std::runtime_error("boom"); });
  auto after = MakePromise<void>();
  runtime->Post([after] { after->set_value(); });
  EXPECT_EQ(after->get_future().wait_for(kWait), std::future_status::ready);
  SetLogLevel(LogLevel::kInfo);
}

TEST(RuntimeTest, LastReferenceDroppedOnItsOwnThread) {
  auto runtime = Runtime::Create();
  Runtime* raw = runtime.get();
  // The posted task ends up holding the only reference.
  auto holder = std::make_shared<std::shared_ptr<Runtime>>(std::move(runtime));
  auto go = MakePromise<void>();
  auto destroyed = MakePromise<void>();
  std::shared_future<void> go_future = go->get_future().share();
  raw->Post([holder, go_future, destroyed] {
    go_future.wait();
    holder->reset();  // ~Runtime on its own I/O thread: must not deadlock
    destroyed->set_value();
  });
  holder.reset();
  go->set_value();
  EXPECT_EQ(destroyed->get_future().wait_for(kWait), std::future_status::ready);
}

}  // namespace
}  // namespace otlp::net
