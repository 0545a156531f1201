#include <pthread.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <exception>
#include <string>
#include <system_error>
#include <utility>

#include "otlp/core/log.h"
#include "otlp/net/http_client.h"
#include "otlp/net/internal/runtime_impl.h"

namespace otlp::net {
namespace {

// How long ~Runtime lets queued handlers (cancellation callbacks, mostly) finish.
constexpr std::chrono::seconds kDrainTimeout{5};

thread_local const Runtime::Impl* t_current_runtime = nullptr;

void RunLoop(const std::shared_ptr<Runtime::Impl>& impl) {
  t_current_runtime = impl.get();
  for (;;) {
    try {
      impl->ioc.run();
      break;
    } catch (const std::exception& e) {
      OTLP_LOG(kError, std::string("exception escaped an I/O handler: ") + e.what());
    } catch (...) {
      OTLP_LOG(kError, "unknown exception escaped an I/O handler");
    }
  }
  t_current_runtime = nullptr;
  std::lock_guard<std::mutex> lock(impl->mu);
  --impl->running;
  impl->cv.notify_all();
}

}  // namespace

std::shared_ptr<Runtime> Runtime::Create(Options options) {
  auto impl = std::make_shared<Impl>();
  impl->work.emplace(impl->ioc.get_executor());
  const int n = std::max(1, options.threads);
  for (int i = 0; i < n; ++i) {
    {
      std::lock_guard<std::mutex> lock(impl->mu);
      ++impl->running;
    }
    try {
      // Each thread shares ownership of Impl: a Runtime destroyed on its own I/O thread detaches
      // that thread, which must still find the io_context alive when run() returns.
      impl->threads.emplace_back([impl, name = options.thread_name, i, n] {
        std::string thread_name = n == 1 ? name : name + "-" + std::to_string(i);
        thread_name.resize(std::min<size_t>(thread_name.size(), 15));  // Linux limit
        pthread_setname_np(pthread_self(), thread_name.c_str());
        RunLoop(impl);
      });
    } catch (const std::system_error& e) {
      std::lock_guard<std::mutex> lock(impl->mu);
      --impl->running;
      OTLP_LOG(kError, std::string("I/O runtime: cannot start a thread: ") + e.what());
      break;
    }
  }
  return std::shared_ptr<Runtime>(new Runtime(std::move(impl)));
}

Runtime::Runtime(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Runtime::~Runtime() {
  const bool on_own_thread = InIoThread();
  impl_->work.reset();
  if (!on_own_thread) {
    // Without the work guard run() returns once nothing is pending; give that a bounded time.
    std::unique_lock<std::mutex> lock(impl_->mu);
    if (!impl_->cv.wait_for(lock, kDrainTimeout, [&] { return impl_->running == 0; })) {
      OTLP_LOG(kWarn, "I/O runtime: pending operations did not finish in time; stopping them");
    }
  }
  impl_->ioc.stop();
  for (std::thread& t : impl_->threads) {
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();
    } else if (t.joinable()) {
      t.join();
    }
  }
}

bool Runtime::InIoThread() const noexcept {
  return t_current_runtime == impl_.get();
}

void Runtime::Post(std::function<void()> f) {
  boost::asio::post(impl_->ioc, std::move(f));
}

int Runtime::thread_count() const noexcept {
  return static_cast<int>(impl_->threads.size());
}

}  // namespace otlp::net
