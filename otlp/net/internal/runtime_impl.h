// otlp/net/internal/runtime_impl.h — what a Runtime holds, for the net module's own sources.
// Not installed; never include it from a public header.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "otlp/net/http_client.h"

namespace otlp::net {

struct Runtime::Impl {
  boost::asio::io_context ioc;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;  // threads still inside io_context::run()
};

namespace internal {

inline boost::asio::io_context& IoContext(Runtime& runtime) {
  return runtime.impl().ioc;
}

}  // namespace internal
}  // namespace otlp::net
