#include "otlp/trace/processor.h"

#include "otlp/trace/internal/span_record.h"

namespace otlp::trace {

const SpanData& EndedSpan::data() const noexcept { return record_->data; }

SimpleSpanProcessor::SimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter) noexcept
    : exporter_(std::move(exporter)) {}

void SimpleSpanProcessor::OnEnd(EndedSpan& span) noexcept {
  const SpanData& d = span.data();
  if (!d.context.IsSampled()) return;
  const SpanData* one[1] = {&d};
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_ || !exporter_) return;
  (void)exporter_->Export(std::span<const SpanData* const>(one, 1));
}

bool SimpleSpanProcessor::ForceFlush(std::chrono::microseconds timeout) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  return exporter_ ? exporter_->ForceFlush(timeout) : true;
}

bool SimpleSpanProcessor::Shutdown(std::chrono::microseconds timeout) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_) return true;
  shutdown_ = true;
  return exporter_ ? exporter_->Shutdown(timeout) : true;
}

MultiSpanProcessor::MultiSpanProcessor(
    std::vector<std::unique_ptr<SpanProcessor>> processors) noexcept
    : processors_(std::move(processors)) {
  for (auto& p : processors_) wants_on_start_ = wants_on_start_ || p->WantsOnStart();
}

void MultiSpanProcessor::OnStart(SpanData& span) noexcept {
  for (auto& p : processors_)
    if (p->WantsOnStart()) p->OnStart(span);
}

void MultiSpanProcessor::OnEnd(EndedSpan& span) noexcept {
  // Every processor but the last sees the span without the right to take it.
  for (size_t i = 0; i < processors_.size(); ++i) {
    if (span.record() == nullptr) return;
    if (i + 1 < processors_.size()) {
      EndedSpan shared(span.record(), false);
      processors_[i]->OnEnd(shared);
    } else {
      processors_[i]->OnEnd(span);
    }
  }
}

bool MultiSpanProcessor::ForceFlush(std::chrono::microseconds timeout) noexcept {
  bool ok = true;
  for (auto& p : processors_) ok = p->ForceFlush(timeout) && ok;
  return ok;
}

bool MultiSpanProcessor::Shutdown(std::chrono::microseconds timeout) noexcept {
  bool ok = true;
  for (auto& p : processors_) ok = p->Shutdown(timeout) && ok;
  return ok;
}

}  // namespace otlp::trace
