// otlp/trace/batch_processor.h — the production span processor: application threads hand ended
// spans to one export thread through lock-free per-thread queues; batches go to the exporter.
//
//   auto bsp = BatchSpanProcessor::Create(std::move(exporter),
//                                         {.max_queue_size = 65536, .max_export_batch_size =
//                                         8192});
//
// Hot path (a span ending): one thread-local compare, a copy of the packed span into the
// thread's current queue chunk and a single-producer ring push — no lock, no allocation in
// steady state, no syscall except a rare wake-up of the export thread (at a full batch while
// spans trickle; while they flow fast the export thread polls instead, see stats().wakeups).
// When a thread's queue is full the span is dropped and counted; the application never waits.
// Exported chunks travel back to the thread that wrote them for reuse, so memory is never freed
// across threads on the hot path (glibc's malloc lock stays out of the profile).
// bench/RESULTS.md has the measured costs (bench/span_bench).
//
// Bounds: each producing thread has its own queue of max_queue_size spans (a thread's bound, not
// a global one). Options left unset come from OTEL_BSP_* (when an env Reader is given) or the
// specification defaults: schedule delay 5000 ms, export timeout 30000 ms, queue 2048, batch 512.
//
// The export thread runs with tracing suppressed (context.h, SuppressTracingScope), and so do
// the exporter calls Shutdown makes: a span an exporter starts is not recorded, so exporting
// never feeds itself.
//
// Threading: thread-safe. Shutdown exports what is queued (bounded by its timeout), then shuts
// the exporter down; spans ended after Shutdown are dropped and counted.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "otlp/core/export.h"
#include "otlp/trace/processor.h"

namespace otlp::config {
class Reader;
}

namespace otlp::trace {

namespace internal {
struct BatchState;
}

struct OTLP_EXPORT BatchSpanProcessorOptions {
  std::optional<size_t> max_queue_size;
  std::optional<size_t> max_export_batch_size;
  std::optional<std::chrono::milliseconds> schedule_delay;
  std::optional<std::chrono::milliseconds> export_timeout;
};

struct OTLP_EXPORT BatchSpanProcessorStats {
  uint64_t spans_dropped = 0;   // queue full, or ended after shutdown
  uint64_t spans_exported = 0;  // handed to the exporter, which reported success
  uint64_t spans_failed = 0;    // handed to the exporter, which reported failure
  uint64_t batches = 0;
  // Times an application thread woke the export thread (a futex syscall on that thread). Low
  // while spans flow fast: the export thread then polls instead.
  uint64_t wakeups = 0;
  // Memory the producing threads' span buffers hold now: chunks being written, queued, on their
  // way back or idle for reuse. A thread that ends spans fast keeps the chunks of its last
  // exports for reuse, so that it writes a chunk again only after the export thread's core has
  // let go of it (bench/RESULTS.md has what that costs and saves); a thread that goes a second
  // without filling a chunk frees its idle chunks beyond two when it next fills one.
  uint64_t buffer_bytes = 0;
};

class OTLP_EXPORT BatchSpanProcessor final : public SpanProcessor {
 public:
  // Unset options come from `env` (OTEL_BSP_*) when given, else the defaults. A batch size above
  // the queue size is lowered to it (with a warning).
  static std::unique_ptr<BatchSpanProcessor> Create(std::unique_ptr<SpanExporter> exporter,
                                                    BatchSpanProcessorOptions options = {},
                                                    config::Reader* env = nullptr);
  ~BatchSpanProcessor() override;

  void OnEnd(EndedSpan& span) noexcept override;
  bool ForceFlush(std::chrono::microseconds timeout) noexcept override;
  bool Shutdown(std::chrono::microseconds timeout) noexcept override;

  BatchSpanProcessorStats stats() const noexcept;
  size_t max_queue_size() const noexcept;
  size_t max_export_batch_size() const noexcept;

 private:
  // The SDK's spans reach the state directly (internal/batch_enqueue.h).
  friend struct internal::BatchState;
  explicit BatchSpanProcessor(std::unique_ptr<internal::BatchState> impl) noexcept;
  std::unique_ptr<internal::BatchState> impl_;
};

}  // namespace otlp::trace
