// otlp/trace/processor.h — span processors: the hooks between span end and an exporter.
//
//   auto exporter = std::make_unique<ConsoleSpanExporter>();
//   auto processor = std::make_unique<SimpleSpanProcessor>(std::move(exporter));
//
// SimpleSpanProcessor exports each span synchronously as it ends (tests, debugging).
// BatchSpanProcessor (batch_processor.h) is what production uses.
//
// Threading contract: OnStart/OnEnd are called concurrently from every application thread and
// must never block, allocate a contended lock or throw. ForceFlush/Shutdown may be called from
// any thread.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "otlp/trace/exporter.h"
#include "otlp/trace/span_data.h"

namespace otlp::trace {

namespace internal {
struct SpanRecord;
}

// An ended span handed to SpanProcessor::OnEnd. Read it with data() during the call; the SDK's
// batch processor may also take the record itself (no copy) through internal access.
class EndedSpan {
 public:
  explicit EndedSpan(internal::SpanRecord*& record, bool may_take = true) noexcept
      : record_(record), may_take_(may_take) {}
  const SpanData& data() const noexcept;
  // SDK internal: the record slot. A processor that takes the record sets it to nullptr; it may
  // do so only when may_take() (otherwise it copies).
  internal::SpanRecord*& record() noexcept { return record_; }
  bool may_take() const noexcept { return may_take_; }

 private:
  internal::SpanRecord*& record_;
  bool may_take_;
};

class SpanProcessor {
 public:
  virtual ~SpanProcessor() = default;
  // Called when a recording span starts (attributes given at start are set). Rarely needed: the
  // SDK skips the call entirely unless WantsOnStart() is true.
  virtual void OnStart(SpanData& span) noexcept { (void)span; }
  virtual bool WantsOnStart() const noexcept { return false; }
  virtual void OnEnd(EndedSpan& span) noexcept = 0;
  virtual bool ForceFlush(std::chrono::microseconds timeout) noexcept = 0;
  virtual bool Shutdown(std::chrono::microseconds timeout) noexcept = 0;
};

// Exports every sampled span synchronously, on the thread that ends it (Export calls are
// serialized with a mutex). Simple and slow: for tests and debugging.
class SimpleSpanProcessor final : public SpanProcessor {
 public:
  explicit SimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter) noexcept;
  void OnEnd(EndedSpan& span) noexcept override;
  bool ForceFlush(std::chrono::microseconds timeout) noexcept override;
  bool Shutdown(std::chrono::microseconds timeout) noexcept override;

 private:
  std::mutex mu_;
  std::unique_ptr<SpanExporter> exporter_;
  bool shutdown_ = false;
};

// Runs several processors in order. Every processor sees every span.
class MultiSpanProcessor final : public SpanProcessor {
 public:
  explicit MultiSpanProcessor(std::vector<std::unique_ptr<SpanProcessor>> processors) noexcept;
  void OnStart(SpanData& span) noexcept override;
  bool WantsOnStart() const noexcept override { return wants_on_start_; }
  void OnEnd(EndedSpan& span) noexcept override;
  bool ForceFlush(std::chrono::microseconds timeout) noexcept override;
  bool Shutdown(std::chrono::microseconds timeout) noexcept override;

 private:
  std::vector<std::unique_ptr<SpanProcessor>> processors_;
  bool wants_on_start_ = false;
};

}  // namespace otlp::trace
