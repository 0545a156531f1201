// otlp/net/internal/runtime_impl.h — what a Runtime holds, for the net module's own sources.
// Not installed; never include it from a public header.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "otlp/core/internal/mutex.h"
#include "otlp/net/runtime.h"

namespace otlp::net {

struct Runtime::Impl {
  boost::asio::io_context ioc;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  otlp::internal::Mutex mu;
  otlp::internal::CondVar cv;           // `running` changed
  int running OTLP_GUARDED_BY(mu) = 0;  // threads still inside io_context::run()

  // Caller-driven runtimes (no threads): who runs the work now, and who waits for it.
  bool caller_driven = false;
  otlp::internal::Mutex drive_mu;
  otlp::internal::CondVar drive_cv;  // the driver left, or ran something a waiter may await
  bool driving OTLP_GUARDED_BY(drive_mu) = false;
  int drive_waiters OTLP_GUARDED_BY(drive_mu) = 0;

  // Every live timer, so that ~Runtime can cancel the pending ones (a pending wait would keep
  // io_context::run() from returning). Lock order: timers_mu, then a timer's own mutex.
  otlp::internal::Mutex timers_mu;
  std::unordered_set<Timer::State*> timers OTLP_GUARDED_BY(timers_mu);
  bool stopping OTLP_GUARDED_BY(timers_mu) = false;  // new timers start cancelled
};

namespace internal {

inline boost::asio::io_context& IoContext(Runtime& runtime) {
  return runtime.impl().ioc;
}

}  // namespace internal
}  // namespace otlp::net
