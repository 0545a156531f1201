// The batch span processor's tuned constants, in one place. Each says why it has its value; the
// measurements behind them are in bench/RESULTS.md ("Span hot path" and "Why the start+end row
// still varies"), taken with bench/span_bench (the span path through a real processor, with its
// wakeups/batch counter), bench/chunk_reuse_bench (what a thread pays to write memory another
// core has read, by reuse depth) and the pipeline rows of bench/run.sh. Figures depend on the
// machine: rerun those programs (bench/run.sh) rather than trusting numbers copied elsewhere.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace otlp::trace::internal {

// ---- Defaults of the options (the OpenTelemetry specification's OTEL_BSP_* defaults) ----
inline constexpr size_t kDefaultMaxQueueSize = 2048;
inline constexpr size_t kDefaultMaxExportBatchSize = 512;
inline constexpr std::chrono::milliseconds kDefaultScheduleDelay{5000};
inline constexpr std::chrono::milliseconds kDefaultExportTimeout{30000};

// ---- The export thread's polling (batch_processor.cc, Run) ----
// While spans arrive fast the export thread looks at the queues every `poll` instead of waiting
// to be woken, because a wake-up is a futex syscall paid by the application thread (on a VM
// also an inter-processor interrupt); span_bench's wakeups/batch counter shows how rarely a
// producer still pays it. `poll` aims at two batches per look and stays within these bounds.
// The lower bound keeps the export thread from spinning when the rate estimate is very high.
inline constexpr std::chrono::microseconds kMinPoll{100};
// The upper bound also bounds the queue that a flow restarting after a pause fills before the
// first look (the rate measured over the pause is too low to shorten the interval).
inline constexpr std::chrono::milliseconds kMaxPoll{2};

// ---- Chunks (chunk_queue.h) ----
// Packed spans are written into chunks of this size, aligned to it, so the chunk of a block is
// its address rounded down. Large enough that a chunk switch (a clock read, possibly an
// allocation) comes once per several hundred typical spans, small enough that a thread that
// ends a few spans holds little memory.
inline constexpr size_t kChunkSize = 64 * 1024;
// The first bytes of a chunk hold its capacity; one cache line, so blocks start line-aligned.
inline constexpr size_t kChunkHeader = 64;
// Exported chunks per producing thread: up to this many on their way back and as many idle, so
// at most 2 * 32 * 64 KiB = 4 MiB kept for reuse, enough for the chunks of a full batch of 8192
// typical spans (the batch size of bench/run.sh's pipeline) in flight. A burst beyond that is
// freed once exported.
inline constexpr size_t kFreeChunks = 32;
// A thread that fills chunks fast writes a chunk again only once this many others were exported
// after it: 16 chunks are 1 MiB, the L2 size of a core on many server CPUs, so by then the
// export thread's core has dropped its copies of the lines and the producer's stores need no
// cross-core invalidation. bench/chunk_reuse_bench measures the writer's cost by reuse depth:
// where the two threads run on different cores, reuse 1-2 chunks deep costs the writer
// noticeably more than 16 deep (bench/RESULTS.md).
inline constexpr size_t kFastIdleDepth = 16;
// "Fast": kFastIdleDepth chunk switches in a row, each within this time of the previous one.
// With spans of ~130 packed bytes (a name and a few attributes) that is about 50 000 spans/s and
// up. A burst shorter than that keeps reusing what it has and allocates nothing.
inline constexpr int64_t kFastSwitchNanos = 10'000'000;
// A switch this long after the previous one finds the thread quiet: it keeps kSlowIdle idle
// chunks and frees the rest, so a thread that was busy once does not keep its megabytes.
inline constexpr int64_t kQuietSwitchNanos = 1'000'000'000;
inline constexpr size_t kSlowIdle = 2;

}  // namespace otlp::trace::internal
