// Counts heap allocations made by this process (global operator new replaced in
// alloc_counter.cc), so benchmarks can report allocations per operation with glibc malloc.
#pragma once

#include <atomic>
#include <cstdint>

namespace otlp::bench {
extern std::atomic<uint64_t> g_allocations;
inline uint64_t Allocations() noexcept { return g_allocations.load(std::memory_order_relaxed); }
}  // namespace otlp::bench
