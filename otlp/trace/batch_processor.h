// otlp/trace/batch_processor.h — the production span processor: application threads hand ended
// spans to one export thread through lock-free per-thread queues; batches go to the exporter.
//
//   auto bsp = BatchSpanProcessor::Create(std::move(exporter),
//                                         {.max_queue_size = 65536, .max_export_batch_size = 8192});
//
// Hot path (OnEnd): one thread-local compare, a copy of the packed span into the thread's
// current queue chunk and a single-producer ring push — no lock, no allocation in steady state,
// no syscall except a rare wake-up of the export thread (at a full batch while spans trickle;
// while they flow fast the export thread polls instead, see stats().wakeups). When a thread's
// queue is full the span is dropped and counted; the application never waits. Exported chunks
// travel back to the thread that wrote them for reuse, so memory is never freed across threads
// on the hot path (glibc's malloc lock stays out of the profile).
//
// Bounds: each producing thread has its own queue of max_queue_size spans (a thread's bound, not
// a global one). Options left unset come from OTEL_BSP_* (when an env Reader is given) or the
// specification defaults: schedule delay 5000 ms, export timeout 30000 ms, queue 2048, batch 512.
//
// Threading: thread-safe. Shutdown exports what is queued (bounded by its timeout), then shuts
// the exporter down; spans ended after Shutdown are dropped and counted.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "otlp/trace/internal/span_record.h"
#include "otlp/trace/processor.h"

namespace otlp::config {
class Reader;
}

namespace otlp::trace {

struct BatchSpanProcessorOptions {
  std::optional<size_t> max_queue_size;
  std::optional<size_t> max_export_batch_size;
  std::optional<std::chrono::milliseconds> schedule_delay;
  std::optional<std::chrono::milliseconds> export_timeout;
};

struct BatchSpanProcessorStats {
  uint64_t spans_dropped = 0;   // queue full, or ended after shutdown
  uint64_t spans_exported = 0;  // handed to the exporter, which reported success
  uint64_t spans_failed = 0;    // handed to the exporter, which reported failure
  uint64_t batches = 0;
  // Times an application thread woke the export thread (a futex syscall on that thread). Low
  // while spans flow fast: the export thread then polls instead.
  uint64_t wakeups = 0;
  // Memory the producing threads' span buffers hold now: 64 KiB chunks being written, queued
  // or idle for reuse. A thread ending spans fast keeps 1.2-1.6 MiB (see ARCHITECTURE.md);
  // after a second without filling a chunk, a thread frees its idle chunks beyond two when it
  // next fills one.
  uint64_t buffer_bytes = 0;
};

class BatchSpanProcessor final : public SpanProcessor {
 public:
  // Unset options come from `env` (OTEL_BSP_*) when given, else the defaults. A batch size above
  // the queue size is lowered to it (with a warning).
  static std::unique_ptr<BatchSpanProcessor> Create(std::unique_ptr<SpanExporter> exporter,
                                                    BatchSpanProcessorOptions options = {},
                                                    config::Reader* env = nullptr);
  ~BatchSpanProcessor() override;

  void OnEnd(EndedSpan& span) noexcept override;
  // SDK internal: OnEnd for a sampled span, called directly by Span::End.
  void Enqueue(const internal::SpanRecord& record) noexcept { Enqueue(record, record.h.end); }
  // The same with the span's end time given apart from the record (Span::End's fast path).
  void Enqueue(const internal::SpanRecord& record, int64_t end) noexcept;
  bool ForceFlush(std::chrono::microseconds timeout) noexcept override;
  bool Shutdown(std::chrono::microseconds timeout) noexcept override;

  BatchSpanProcessorStats stats() const noexcept;
  size_t max_queue_size() const noexcept;
  size_t max_export_batch_size() const noexcept;

  struct Impl;

 private:
  explicit BatchSpanProcessor(std::unique_ptr<Impl> impl) noexcept;
  // Enqueue for spans with extras or a body over 256 bytes, a thread's first span and the span
  // that opens a new chunk.
  void EnqueueLarge(const internal::SpanRecord& record, int64_t end) noexcept;
  std::unique_ptr<Impl> impl_;
};

namespace internal {
// The clock (Unix ns) a producing thread reads when it moves to a new chunk, to tell a thread
// that fills chunks fast from a quiet one. Tests step it instead of sleeping; null restores the
// real clock.
using ChunkSwitchClock = int64_t (*)() noexcept;
void SetChunkSwitchClock(ChunkSwitchClock now) noexcept;
}  // namespace internal

}  // namespace otlp::trace
