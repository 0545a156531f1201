// otlp/trace/exporter.h — the interface between span processors and a destination (OTLP,
// console, memory).
//
// Threading contract: Export is never called concurrently on one exporter (processors
// serialize it); ForceFlush and Shutdown may be called from any thread, concurrently with
// Export. All calls are noexcept: an exporter reports failure through its result and its
// counters, never by throwing.
#pragma once

#include <chrono>
#include <span>

#include "otlp/core/export.h"
#include "otlp/trace/span_data.h"

namespace otlp::trace {

enum class ExportResult : unsigned char {
  kSuccess,
  kFailure,  // the batch was lost (after any retries the exporter does itself)
};

class OTLP_EXPORT SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  // Spans and everything they point to are valid only during the call.
  virtual ExportResult Export(std::span<const SpanData* const> spans) noexcept = 0;
  // Sends anything the exporter buffers; true when done within the timeout.
  virtual bool ForceFlush(std::chrono::microseconds timeout) noexcept {
    (void)timeout;
    return true;
  }
  // Flushes, then releases resources; later Export calls fail fast.
  virtual bool Shutdown(std::chrono::microseconds timeout) noexcept {
    (void)timeout;
    return true;
  }
};

}  // namespace otlp::trace
