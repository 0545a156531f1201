// Waiting for an asynchronous operation on a caller-driven runtime (Runtime::CreateCallerDriven):
// the waiting thread runs the runtime's work itself until the operation completes (or waits
// while another thread runs it). Internal: shared by net::HttpClient::Send and http::Client.
//
//   Result<HttpResponse> r = DriveUntilDone<Result<HttpResponse>>(
//       runtime, [&](auto done) { client.SendAsync(std::move(request), std::move(done)); });
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <utility>

#include "otlp/net/runtime.h"

namespace otlp::net::internal {

// `start` receives the completion callback (callable with a T, once, from within the
// runtime's work); the result it was given.
template <typename T, typename Start>
T DriveUntilDone(Runtime& runtime, Start&& start) {
  struct Outcome {
    std::atomic<bool> done{false};
    std::optional<T> result;
  };
  auto outcome = std::make_shared<Outcome>();
  std::forward<Start>(start)([outcome](T result) {
    outcome->result.emplace(std::move(result));
    outcome->done.store(true, std::memory_order_release);
  });
  runtime.Drive([&outcome] { return outcome->done.load(std::memory_order_acquire); });
  return std::move(*outcome->result);
}

}  // namespace otlp::net::internal
