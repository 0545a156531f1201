// otlp/trace/processor.h — span processors: the hooks between span end and an exporter.
//
//   auto exporter = std::make_unique<ConsoleSpanExporter>();
//   auto processor = std::make_unique<SimpleSpanProcessor>(std::move(exporter));
//
// SimpleSpanProcessor exports each span synchronously as it ends (tests, debugging).
// BatchSpanProcessor (batch_processor.h) is what production uses. Both call their exporter with
// tracing suppressed (context.h): spans the exporter starts are not recorded.
//
// Threading contract: OnStart/OnEnd are called concurrently from every application thread and
// must never block, allocate a contended lock or throw. ForceFlush/Shutdown may be called from
// any thread.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/internal/mutex.h"
#include "otlp/trace/exporter.h"
#include "otlp/trace/span.h"
#include "otlp/trace/span_data.h"

namespace otlp::trace {

namespace internal {
struct SpanRecord;
}

// An ended span handed to SpanProcessor::OnEnd. Read it with data() during the call only: the
// record is reused as soon as OnEnd returns (a processor that keeps spans copies what it needs,
// as the batch processor does).
class OTLP_EXPORT EndedSpan {
 public:
  EndedSpan(const internal::SpanRecord& record, bool sampled) noexcept
      : record_(record), sampled_(sampled) {}
  ~EndedSpan() {
    if (view_ != nullptr) ReleaseView();
  }
  EndedSpan(const EndedSpan&) = delete;
  EndedSpan& operator=(const EndedSpan&) = delete;

  // The span as SpanData (built on first use, valid until OnEnd returns).
  const SpanData& data() const noexcept;
  bool IsSampled() const noexcept { return sampled_; }
  // SDK internal: the record itself.
  const internal::SpanRecord& record() const noexcept { return record_; }

 private:
  void ReleaseView() noexcept;
  const internal::SpanRecord& record_;
  bool sampled_;
  mutable const SpanData* view_ = nullptr;
};

class OTLP_EXPORT SpanProcessor {
 public:
  virtual ~SpanProcessor() = default;
  // Called when a recording span starts (attributes given at start are set); the processor may
  // add attributes to it. Rarely needed: the SDK skips the call unless WantsOnStart() is true.
  virtual void OnStart(Span& span) noexcept { (void)span; }
  virtual bool WantsOnStart() const noexcept { return false; }
  virtual void OnEnd(EndedSpan& span) noexcept = 0;
  virtual bool ForceFlush(std::chrono::microseconds timeout) noexcept = 0;
  virtual bool Shutdown(std::chrono::microseconds timeout) noexcept = 0;
};

// Exports every sampled span synchronously, on the thread that ends it (Export calls are
// serialized with a mutex). Simple and slow: for tests and debugging.
class OTLP_EXPORT SimpleSpanProcessor final : public SpanProcessor {
 public:
  explicit SimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter) noexcept;
  void OnEnd(EndedSpan& span) noexcept override;
  bool ForceFlush(std::chrono::microseconds timeout) noexcept override;
  bool Shutdown(std::chrono::microseconds timeout) noexcept override;

 private:
  otlp::internal::Mutex mu_;
  std::unique_ptr<SpanExporter> exporter_ OTLP_PT_GUARDED_BY(mu_);
  bool shutdown_ OTLP_GUARDED_BY(mu_) = false;
};

// Runs several processors in order. Every processor sees every span.
class OTLP_EXPORT MultiSpanProcessor final : public SpanProcessor {
 public:
  explicit MultiSpanProcessor(std::vector<std::unique_ptr<SpanProcessor>> processors) noexcept;
  void OnStart(Span& span) noexcept override;
  bool WantsOnStart() const noexcept override { return wants_on_start_; }
  void OnEnd(EndedSpan& span) noexcept override;
  bool ForceFlush(std::chrono::microseconds timeout) noexcept override;
  bool Shutdown(std::chrono::microseconds timeout) noexcept override;

 private:
  std::vector<std::unique_ptr<SpanProcessor>> processors_;
  bool wants_on_start_ = false;
};

}  // namespace otlp::trace
