#include "otlp/trace/processor.h"

#include "otlp/trace/context.h"
#include "otlp/trace/internal/span_record.h"

namespace otlp::trace {

namespace {

// Views of ended spans for processors that read SpanData: the record packed into a scratch
// block and unpacked from it. One scratch per nesting level (an exporter may end spans of its
// own while it handles one), reused, so steady state allocates nothing.
struct Scratch {
  std::unique_ptr<uint64_t[]> block;  // 8-byte aligned
  size_t capacity = 0;
  SpanData data;
};
thread_local std::vector<std::unique_ptr<Scratch>> t_scratch;
thread_local size_t t_scratch_depth = 0;

const SpanData& EmptySpanData() {
  static const SpanData kEmpty;
  return kEmpty;
}

}  // namespace

const SpanData& EndedSpan::data() const noexcept {
  if (view_ != nullptr) return *view_;
  try {
    if (t_scratch.size() <= t_scratch_depth) t_scratch.push_back(std::make_unique<Scratch>());
    Scratch& s = *t_scratch[t_scratch_depth];
    size_t n = record_.PackedSize();
    if (s.capacity < n) {
      s.block.reset(new uint64_t[(n + 7) / 8]);
      s.capacity = (n + 7) / 8 * 8;
    }
    char* block = reinterpret_cast<char*>(s.block.get());
    record_.Pack(block, n);
    try {
      internal::Unpack(block, s.data);
    } catch (...) {
      internal::DestroyPacked(block);
      throw;
    }
    ++t_scratch_depth;
    view_ = &s.data;
    return s.data;
  } catch (...) {
    return EmptySpanData();
  }
}

void EndedSpan::ReleaseView() noexcept {
  --t_scratch_depth;
}

SimpleSpanProcessor::SimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter) noexcept
    : exporter_(std::move(exporter)) {}

// The exporter runs with tracing suppressed: a span it started would come back here (and wait
// for mu_, which this thread holds).
void SimpleSpanProcessor::OnEnd(EndedSpan& span) noexcept {
  if (!span.IsSampled()) return;
  const SpanData& d = span.data();
  const SpanData* one[1] = {&d};
  SuppressTracingScope suppress;
  otlp::internal::MutexLock lock(mu_);
  if (shutdown_ || !exporter_) return;
  (void)exporter_->Export(std::span<const SpanData* const>(one, 1));
}

bool SimpleSpanProcessor::ForceFlush(std::chrono::microseconds timeout) noexcept {
  SuppressTracingScope suppress;
  otlp::internal::MutexLock lock(mu_);
  return exporter_ ? exporter_->ForceFlush(timeout) : true;
}

bool SimpleSpanProcessor::Shutdown(std::chrono::microseconds timeout) noexcept {
  SuppressTracingScope suppress;
  otlp::internal::MutexLock lock(mu_);
  if (shutdown_) return true;
  shutdown_ = true;
  return exporter_ ? exporter_->Shutdown(timeout) : true;
}

MultiSpanProcessor::MultiSpanProcessor(
    std::vector<std::unique_ptr<SpanProcessor>> processors) noexcept
    : processors_(std::move(processors)) {
  for (auto& p : processors_) wants_on_start_ = wants_on_start_ || p->WantsOnStart();
}

void MultiSpanProcessor::OnStart(Span& span) noexcept {
  for (auto& p : processors_)
    if (p->WantsOnStart()) p->OnStart(span);
}

void MultiSpanProcessor::OnEnd(EndedSpan& span) noexcept {
  for (auto& p : processors_) p->OnEnd(span);
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
