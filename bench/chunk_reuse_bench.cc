// How much a producing thread pays for writing memory that another core has just read.
//
// The batch processor's producer writes packed spans into 64 KiB chunks that the export thread
// reads and hands back for reuse. This program isolates that pattern: a writer fills chunks
// with 128-byte records (a little arithmetic between records, as a span has), a reader thread
// reads every line of each chunk once it is published, and the writer reuses a chunk `depth`
// chunks after the reader finished it. Depths are cycled in short phases (all of them see the
// same host conditions); the writer's CPU time per record is reported as a median per depth,
// with the reader reading and, as the reference, with the reader only acknowledging.
//
//   chunk_reuse_bench [rounds]     (default 40)
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <thread>
#include <vector>

namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr size_t kRecord = 128;
constexpr size_t kPool = 40;
constexpr size_t kDepths[] = {1, 2, 4, 8, 16, 24, 32};
constexpr int kChunksPerPhase = 200;

double ThreadCpuNanos() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

struct Shared {
  char* pool[kPool] = {};
  std::vector<uint32_t> slot_of = std::vector<uint32_t>(1 << 20);  // chunk sequence -> slot
  alignas(64) std::atomic<uint64_t> published{0};
  alignas(64) std::atomic<uint64_t> consumed{0};
  alignas(64) std::atomic<bool> stop{false};
};

// Median ns per record for each depth, the reader reading every line or not.
std::vector<double> Measure(Shared& sh, bool reader_reads, int rounds) {
  sh.published = 0;
  sh.consumed = 0;
  sh.stop = false;
  std::thread reader([&sh, reader_reads] {
    uint64_t next = 0, sum = 0;
    while (!sh.stop.load(std::memory_order_relaxed)) {
      const uint64_t p = sh.published.load(std::memory_order_acquire);
      for (; next < p; ++next) {
        const char* c = sh.pool[sh.slot_of[next & (sh.slot_of.size() - 1)]];
        if (reader_reads) {
          for (size_t off = 0; off < kChunk; off += 64) {
            sum += *reinterpret_cast<const volatile uint64_t*>(c + off);
          }
        }
        sh.consumed.store(next + 1, std::memory_order_release);
      }
    }
    if (sum == 42) std::puts("");  // keeps the reads
  });
  std::vector<std::vector<double>> per_depth(std::size(kDepths));
  uint64_t seq = 0;
  uint64_t x = 1;
  for (int round = 0; round < rounds; ++round) {
    for (size_t d = 0; d < std::size(kDepths); ++d) {
      const size_t depth = kDepths[d];
      while (sh.consumed.load(std::memory_order_acquire) < seq) {
      }
      const double t0 = ThreadCpuNanos();
      for (int k = 0; k < kChunksPerPhase; ++k) {
        // depth + 1 chunks rotate: the one written now was finished by the reader `depth`
        // chunks ago.
        const size_t slot = seq % (depth + 1);
        while (seq > depth && sh.consumed.load(std::memory_order_acquire) < seq - depth) {
        }
        char* c = sh.pool[slot];
        for (size_t off = 0; off < kChunk; off += kRecord) {
          for (int w = 0; w < 4; ++w) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            asm volatile("" : "+r"(x));
          }
          auto* q = reinterpret_cast<uint64_t*>(c + off);
          for (size_t j = 0; j < kRecord / 8; ++j) q[j] = x + j;
        }
        sh.slot_of[seq & (sh.slot_of.size() - 1)] = static_cast<uint32_t>(slot);
        ++seq;
        sh.published.store(seq, std::memory_order_release);
      }
      per_depth[d].push_back((ThreadCpuNanos() - t0) /
                             static_cast<double>(kChunksPerPhase * (kChunk / kRecord)));
    }
  }
  sh.stop = true;
  reader.join();
  std::vector<double> medians;
  for (auto& v : per_depth) {
    std::sort(v.begin(), v.end());
    medians.push_back(v[v.size() / 2]);
  }
  return medians;
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 40;
  Shared sh;
  for (char*& c : sh.pool) {
    c = static_cast<char*>(std::aligned_alloc(kChunk, kChunk));
    if (c == nullptr) return 1;
    std::memset(c, 0, kChunk);
  }
  const std::vector<double> read = Measure(sh, true, rounds);
  const std::vector<double> unread = Measure(sh, false, rounds);
  std::printf("writer ns per 128-byte record (median of %d phases of %d chunks)\n", rounds,
              kChunksPerPhase);
  std::printf("%-44s %-16s %-16s %s\n", "chunk reused after the reader finished it",
              "reader reads", "reader does not", "ratio");
  for (size_t d = 0; d < std::size(kDepths); ++d) {
    std::printf("%3zu chunks later%28s %-16.2f %-16.2f %.2f\n", kDepths[d], "", read[d],
                unread[d], read[d] / unread[d]);
  }
  for (char* c : sh.pool) std::free(c);
}
