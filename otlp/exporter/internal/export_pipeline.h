// The delivery half of an OTLP span exporter, the same for every transport: encodes batches
// (protobuf or JSON, gzip), hands them to sender threads (back-pressure when all are busy),
// sends them through a Transport with retries, backoff and the export timeout, reads partial
// success, counts every outcome, and shuts down within its bound. Internal: OtlpHttpExporter
// is built on it (and an OTLP/gRPC exporter will be).
//
//   ExportPipeline pipeline(PipelineOptions{...}, std::move(transport));
//   pipeline.Start();
//   pipeline.Export(spans);           // kSuccess once queued (or the outcome, when synchronous)
//   pipeline.Shutdown(2s);            // at the deadline: requests cancelled, the rest dropped
//
// Threading: Export is called by one thread at a time (SpanExporter contract); ForceFlush,
// Shutdown and stats from any thread at any time, Shutdown also concurrently with itself.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "otlp/core/internal/mutex.h"
#include "otlp/exporter/exporter_stats.h"
#include "otlp/exporter/retry.h"
#include "otlp/exporter/transport.h"
#include "otlp/trace/exporter.h"

namespace otlp::exporter::internal {

struct PipelineOptions {
  bool json = false;  // OTLP/JSON, else protobuf
  bool gzip = false;
  // Longest time one batch may take, all attempts and backoff waits included; zero = no limit.
  std::chrono::milliseconds timeout{10000};
  RetryPolicy retry;
  size_t max_concurrent_requests = 1;  // sender threads
  bool synchronous = false;            // send on the caller's thread instead
};

// Per-attempt limit when the export timeout is zero ("no limit").
inline constexpr std::chrono::milliseconds kUnlimitedAttemptTimeout{30000};

class ExportPipeline {
 public:
  ExportPipeline(PipelineOptions options, std::unique_ptr<Transport> transport);
  // Shuts down at once (Shutdown(0)) if that has not happened, then joins the senders.
  ~ExportPipeline();
  ExportPipeline(const ExportPipeline&) = delete;
  ExportPipeline& operator=(const ExportPipeline&) = delete;

  // Starts the sender threads (none when synchronous).
  void Start();

  trace::ExportResult Export(std::span<const trace::SpanData* const> spans) noexcept;
  // Waits until every accepted batch was delivered or given up; false on timeout.
  bool ForceFlush(std::chrono::microseconds timeout) noexcept;
  // Refuses later exports and wakes backoff waits (those batches are given up), then waits for
  // the batches queued or in flight until `timeout`. If they are not done by then, their
  // requests are cancelled, nothing more is sent, and what was not delivered is counted as
  // dropped (stats().spans_dropped_at_shutdown) and logged. True when everything finished in
  // time. Later calls return at once.
  bool Shutdown(std::chrono::microseconds timeout) noexcept;

  ExporterStats stats() const noexcept { return counters_.Snapshot(); }
  Transport& transport() noexcept { return *transport_; }

 private:
  struct Batch {
    std::string body;  // encoded, compressed when configured
    size_t spans = 0;
    uint64_t ticket = 0;  // its place in the order of queued batches (from 1)
  };

  Result<Batch> Encode(std::span<const trace::SpanData* const> spans) OTLP_EXCLUDES(mu_);
  // A buffer for an encoded (or compressed) request: one that an earlier batch used, with the
  // capacity it grew to, when there is one. Request bodies are tens to hundreds of kilobytes:
  // a fresh allocation that size is new pages (page faults) every time, and freeing it gives
  // them back to the kernel.
  std::string TakeBuffer() OTLP_EXCLUDES(mu_);
  void ReturnBuffer(std::string buffer) OTLP_EXCLUDES(mu_);
  // Sends with retries; counts and logs the outcome. True when delivered.
  bool Deliver(const Batch& batch) noexcept OTLP_EXCLUDES(mu_);
  void HandleAccepted(const Batch& batch, const TransportResponse& response) noexcept;
  // Waits until `until` unless shut down first; false when interrupted.
  bool SleepUnlessShutdown(std::chrono::steady_clock::time_point until) OTLP_EXCLUDES(mu_);
  // The entry function of every sender thread.
  void SenderMain() OTLP_EXCLUDES(mu_);
  // Waits until nothing is queued or being delivered; false at the deadline.
  bool WaitIdle(std::chrono::steady_clock::time_point deadline) OTLP_EXCLUDES(mu_);
  // The shutdown deadline passed: drop the queue, cancel the requests in flight, report. True
  // when nothing was lost after all.
  bool Abort(std::chrono::microseconds timeout) OTLP_EXCLUDES(mu_);
  void JoinSenders() OTLP_EXCLUDES(mu_);

  const PipelineOptions options_;
  const std::unique_ptr<Transport> transport_;
  ExporterCounters counters_;  // thread-safe on its own
  const uint64_t seed_;        // per-batch jitter seeds derive from it

  otlp::internal::Mutex mu_;
  otlp::internal::CondVar cv_;                    // state changes: queue, busy, shutdown
  std::deque<Batch> queue_ OTLP_GUARDED_BY(mu_);  // accepted, not yet picked by a sender
  std::vector<std::string> spare_buffers_ OTLP_GUARDED_BY(mu_);
  // Batches being delivered (senders or a synchronous call).
  size_t busy_ OTLP_GUARDED_BY(mu_) = 0;
  bool shutdown_ OTLP_GUARDED_BY(mu_) = false;  // Shutdown() called: refuse exports, stop waiting
  bool aborted_ OTLP_GUARDED_BY(mu_) = false;   // its deadline passed: no attempt starts any more
  bool stop_ OTLP_GUARDED_BY(mu_) = false;      // senders exit
  uint64_t batch_seq_ OTLP_GUARDED_BY(mu_) = 0;
  uint64_t queued_ OTLP_GUARDED_BY(mu_) = 0;  // batches queued so far (the last ticket)
  uint64_t taken_ OTLP_GUARDED_BY(mu_) = 0;   // of them, taken by a sender (in ticket order)
  std::vector<std::thread> senders_ OTLP_GUARDED_BY(mu_);
};

}  // namespace otlp::exporter::internal
