// How the SDK reaches a BatchSpanProcessor past its public interface: Span::End hands a sampled
// span straight to the processor's queue, without the virtual OnEnd call. The provider looks the
// processor up once (BatchStateOf) and keeps the pointer in its state.
//
// Threading: the enqueue functions are called by the thread that ends the span, concurrently with
// every other thread and with the processor's export thread (see batch_processor.h).
#pragma once

#include <cstdint>

namespace otlp::trace {
class SpanProcessor;
}

namespace otlp::trace::internal {

struct SpanRecord;
// A BatchSpanProcessor's state (batch_processor.cc).
struct BatchState;

// The state of `p` when it is a BatchSpanProcessor, else null.
BatchState* BatchStateOf(SpanProcessor* p) noexcept;

// Copies a sampled span that ended at `end` (Unix ns) into this thread's queue, or drops and
// counts it (queue full, processor shut down). The record stays the caller's.
void BatchEnqueue(BatchState& batch, const SpanRecord& record, int64_t end) noexcept;

// The same for the span Span::End has just taken from its handle: once the span is copied (or
// dropped), `record` goes back to this thread's record pool, which must take it
// (PoolTakesRecord()). Releasing it only after the copy keeps the record out of the pool while
// the enqueue reads it, whatever the enqueue path does on this thread.
void BatchEnqueueAndRelease(BatchState& batch, SpanRecord* record, int64_t end) noexcept;

}  // namespace otlp::trace::internal
