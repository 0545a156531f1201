#include "otlp/trace/batch_processor.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "otlp/core/config.h"
#include "otlp/core/log.h"
#include "otlp/trace/internal/fast_clock.h"
#include "otlp/trace/internal/packed_span.h"
#include "otlp/core/internal/bytes.h"
#include "otlp/trace/internal/span_record.h"

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ctime>
#endif

namespace otlp::trace {

using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kDefaultQueue = 2048;
constexpr size_t kDefaultBatch = 512;
constexpr auto kDefaultDelay = std::chrono::milliseconds(5000);
constexpr auto kDefaultExportTimeout = std::chrono::milliseconds(30000);
// Bounds of the export thread's polling interval while spans arrive fast (see Run).
constexpr auto kMinPoll = std::chrono::microseconds(100);
// (The upper bound also bounds the queue a flow that restarts after a pause fills before the
// first look: the rate measured over the pause is too low.)
constexpr auto kMaxPoll = std::chrono::milliseconds(2);

size_t RoundUpPow2(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

// Single-producer single-consumer ring of pointers.
class Ring {
 public:
  explicit Ring(size_t capacity)
      : mask_(RoundUpPow2(capacity) - 1), limit_(capacity), slots_(new char*[mask_ + 1]) {}

  // Producer side.
  bool HasSpace() noexcept {
    uint64_t h = head_.load(std::memory_order_relaxed);
    if (h - cached_tail_ >= limit_) {
      cached_tail_ = tail_.load(std::memory_order_acquire);
      if (h - cached_tail_ >= limit_) return false;
    }
    return true;
  }
  // After HasSpace() returned true. Returns the items pending as the producer last saw the
  // consumer (an overestimate; no shared read).
  uint64_t PushUnchecked(char* r) noexcept {
    uint64_t h = head_.load(std::memory_order_relaxed);
    slots_[h & mask_] = r;
    head_.store(h + 1, std::memory_order_release);
    return h + 1 - cached_tail_;
  }
  bool Push(char* r) noexcept {
    if (!HasSpace()) return false;
    PushUnchecked(r);
    return true;
  }
  // Items pending now (reads the consumer's position, returned in `tail`).
  uint64_t ProducerPending(uint64_t& tail) noexcept {
    tail = cached_tail_ = tail_.load(std::memory_order_acquire);
    return head_.load(std::memory_order_relaxed) - tail;
  }

  // Consumer side.
  uint64_t Pending() const noexcept {
    return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_relaxed);
  }
  size_t Pop(char** out, size_t max) noexcept {
    uint64_t t = tail_.load(std::memory_order_relaxed);
    uint64_t h = head_.load(std::memory_order_acquire);
    size_t n = static_cast<size_t>(std::min<uint64_t>(h - t, max));
    for (size_t i = 0; i < n; ++i) out[i] = slots_[(t + i) & mask_];
    tail_.store(t + n, std::memory_order_release);
    return n;
  }

 private:
  const uint64_t mask_;
  const uint64_t limit_;
  std::unique_ptr<char*[]> slots_;
  alignas(64) std::atomic<uint64_t> head_{0};
  uint64_t cached_tail_ = 0;
  alignas(64) std::atomic<uint64_t> tail_{0};
};

// Packed spans live in chunks of kChunkSize bytes, aligned to their size so the chunk of a block
// is its address rounded down. A span too large for a chunk gets a chunk of its own (a multiple
// of kChunkSize; its one block starts within the first kChunkSize bytes). The first
// kChunkHeader bytes of a chunk hold its capacity.
constexpr size_t kChunkSize = 64 * 1024;
constexpr size_t kChunkHeader = 64;
// Exported chunks kept for reuse per thread: up to this many on their way back (free_chunks)
// and as many idle ones, 4 MiB in all, enough for the chunks of a full batch of 8192 typical
// spans in flight; a burst beyond that is freed once exported.
constexpr size_t kFreeChunks = 32;
// A thread that fills chunks quickly writes a chunk again only once this many others were
// exported after it: 1 MiB, the size of a core's L2 here, so the export thread's core has
// dropped its copies of the lines by then and the producer's stores need no cross-core
// invalidation. bench/chunk_reuse_bench (one thread writing 128-byte records into chunks
// another thread reads): with the two threads on different cores, reusing a chunk 1-2 chunks
// after the reader finished it cost up to 1.45x the writer's time with a reader that does not
// read, 16 chunks later 1.0x (bench/RESULTS.md).
constexpr size_t kFastIdleDepth = 16;
// "Quickly": kFastIdleDepth chunk switches in a row, each within kFastSwitchNanos of the last
// (about 50 000 spans/s and up). A burst shorter than that keeps reusing what it has.
constexpr int64_t kFastSwitchNanos = 10'000'000;
// A switch this long after the previous one finds the thread quiet: it keeps kSlowIdle idle
// chunks and frees the rest, so a thread that was busy once does not keep its megabyte.
constexpr int64_t kQuietSwitchNanos = 1'000'000'000;
constexpr size_t kSlowIdle = 2;
std::atomic<internal::ChunkSwitchClock> g_chunk_switch_clock{nullptr};

size_t ChunkCapacity(const char* c) noexcept { return *reinterpret_cast<const size_t*>(c); }
char* ChunkOf(char* block) noexcept {
  return reinterpret_cast<char*>(reinterpret_cast<uintptr_t>(block) & ~uintptr_t{kChunkSize - 1});
}

// One producing thread's queue: packed spans in chunks the thread writes sequentially, their
// addresses in a ring to the export thread, and exported chunks back to the thread for reuse.
//
// A chunk is done when the export thread has exported its last block: it knows that when it
// meets a block of a later chunk (the producer never returns to a chunk it left).
struct ThreadQueue {
  ThreadQueue(size_t capacity, size_t batch)
      : spans(capacity), free_chunks(kFreeChunks), check_at(batch) {}
  ThreadQueue(const ThreadQueue&) = delete;
  ThreadQueue& operator=(const ThreadQueue&) = delete;
  // Runs when neither side uses the queue any more.
  ~ThreadQueue() {
    std::vector<char*> chunks;
    try {
      chunks.reserve(16);
      char* buf[256];
      size_t n;
      while ((n = spans.Pop(buf, 256)) > 0) {
        for (size_t i = 0; i < n; ++i) {
          internal::DestroyPacked(buf[i]);
          chunks.push_back(ChunkOf(buf[i]));
        }
      }
      while ((n = free_chunks.Pop(buf, 256)) > 0) chunks.insert(chunks.end(), buf, buf + n);
      chunks.insert(chunks.end(), idle, idle + idle_n);
      chunks.push_back(chunk);
      chunks.push_back(spare);
      chunks.push_back(consumer_chunk);
    } catch (...) {
      // Out of memory while cleaning up: leak rather than crash.
    }
    std::sort(chunks.begin(), chunks.end());
    chunks.erase(std::unique(chunks.begin(), chunks.end()), chunks.end());
    for (char* c : chunks) std::free(c);
  }

  // Producer: room for a block of `n` bytes (a multiple of 8), or null when out of memory.
  // Commit() makes it part of the chunk.
  char* Reserve(size_t n) noexcept {
    if (used + n <= cap) [[likely]] return chunk + used;
    return NextChunk(n);
  }
  // (Prefetching the chunk's next lines for writing was measured: it made spans slower.)
  void Commit(size_t n) noexcept { used += n; }

  Ring spans;        // producer: app thread; consumer: export thread
  Ring free_chunks;  // producer: export thread; consumer: app thread
  std::atomic<bool> orphaned{false};
  // Bytes of the chunks this queue holds (being written, queued, on their way back, idle):
  // changed once per chunk allocated or freed, by whichever thread does it.
  std::atomic<int64_t> bytes{0};

  void FreeChunk(char* c) noexcept {
    bytes.fetch_sub(static_cast<int64_t>(ChunkCapacity(c)), std::memory_order_relaxed);
    std::free(c);
  }

  // Producer state, on cache lines of its own (the export thread writes its state often).
  alignas(64) char* chunk = nullptr;  // being written
  size_t used = 0;
  size_t cap = 0;
  char* spare = nullptr;  // an empty chunk kept for the next switch

  // The producer looks at the export thread (WakeIfFull) when this many spans are pending as
  // far as it knows: a full batch, or a little later while the export thread is known awake.
  uint64_t check_at;
  // Exported chunks taken back from free_chunks, in the order they were exported. The one
  // exported longest ago is written first: the export thread's core has read every chunk, and
  // rewriting lines that core still holds costs the producer a cross-core transfer per line
  // (reusing the most recent one first measured up to 40 % slower spans; bench/RESULTS.md),
  // and a fast thread keeps kFastIdleDepth of them idle so that core has dropped them.
  char* idle[kFreeChunks] = {};
  size_t idle_n = 0;
  int64_t last_switch = 0;   // when the producer last moved to a new chunk
  size_t fast_switches = 0;  // switches in a row within kFastSwitchNanos of the previous

  // Consumer state: the chunk of the last block taken.
  alignas(64) char* consumer_chunk = nullptr;

 private:
  // Moves the chunks the export thread gave back to the end of `idle`, then frees the oldest
  // idle ones beyond `keep`.
  void CollectIdle(size_t keep) noexcept {
    char* got[kFreeChunks];
    const size_t n = free_chunks.Pop(got, kFreeChunks);
    for (size_t i = 0; i < n; ++i) {
      if (idle_n == kFreeChunks) DropOldestIdle();
      idle[idle_n++] = got[i];
    }
    while (idle_n > keep) DropOldestIdle();
  }
  // Removes the idle chunk exported longest ago (idle_n > 0).
  char* PopOldestIdle() noexcept {
    char* c = idle[0];
    std::memmove(idle, idle + 1, (idle_n - 1) * sizeof(char*));
    --idle_n;
    return c;
  }
  void DropOldestIdle() noexcept { FreeChunk(PopOldestIdle()); }

  // The idle chunk exported longest ago, when more than `depth` are idle.
  char* TakeIdleChunk(size_t depth) noexcept {
    CollectIdle(kFreeChunks);
    return idle_n > depth ? PopOldestIdle() : nullptr;
  }

  char* NextChunk(size_t n) noexcept {
    size_t need = kChunkHeader + n;
    char* c = nullptr;
    if (need <= kChunkSize) {
      // Once per chunk (~500 spans): the clock says how fast this thread fills chunks.
      const internal::ChunkSwitchClock clock =
          g_chunk_switch_clock.load(std::memory_order_relaxed);
      const int64_t now = clock != nullptr ? clock() : internal::NowUnixNanos();
      const int64_t since = now - last_switch;
      last_switch = now;
      fast_switches = since < kFastSwitchNanos ? std::min(fast_switches + 1, kFastIdleDepth) : 0;
      if (since >= kQuietSwitchNanos) CollectIdle(kSlowIdle);
      c = std::exchange(spare, nullptr);
      if (c == nullptr) c = TakeIdleChunk(fast_switches >= kFastIdleDepth ? kFastIdleDepth : 0);
      if (c == nullptr) c = NewChunk(kChunkSize);
    } else {
      c = NewChunk((need + kChunkSize - 1) & ~(kChunkSize - 1));
    }
    if (c == nullptr) return nullptr;
    if (chunk != nullptr && used == kChunkHeader) {
      // The chunk being left holds no block, so the export thread will never release it.
      if (spare == nullptr && ChunkCapacity(chunk) == kChunkSize) {
        spare = chunk;
      } else {
        FreeChunk(chunk);
      }
    }
    chunk = c;
    used = kChunkHeader;
    // An oversized chunk holds its one block only: a block starting past its first kChunkSize
    // bytes would not map back to it.
    cap = need <= kChunkSize ? ChunkCapacity(c) : need;
    return chunk + used;
  }

  char* NewChunk(size_t size) noexcept {
    auto* c = static_cast<char*>(std::aligned_alloc(kChunkSize, size));
    if (c == nullptr) return nullptr;
    *reinterpret_cast<size_t*>(c) = size;
    bytes.fetch_add(static_cast<int64_t>(size), std::memory_order_relaxed);
    return c;
  }
};

std::atomic<uint64_t> g_next_processor_id{1};

// The queue of the processor this thread used last: plain data, so the hot path reads it
// without the guard of a thread_local that has a destructor.
struct FastBinding {
  uint64_t processor_id;
  ThreadQueue* queue;
  bool dead;  // the thread is exiting
};
thread_local constinit FastBinding t_fast{0, nullptr, false};

// This thread's queues for the processors it used most recently (usually one), owned.
struct ThreadBindings {
  static constexpr size_t kSlots = 4;
  struct Slot {
    uint64_t processor_id = 0;
    std::shared_ptr<ThreadQueue> queue;
  };
  Slot slots[kSlots];
  ~ThreadBindings() {
    t_fast = {0, nullptr, true};
    for (Slot& s : slots)
      if (s.queue) s.queue->orphaned.store(true, std::memory_order_release);
  }
};

}  // namespace

struct alignas(64) BatchSpanProcessor::Impl {
  // What every Enqueue reads, on a line nothing writes while spans flow.
  const uint64_t id = g_next_processor_id.fetch_add(1);
  size_t max_batch = kDefaultBatch;
  // Spans are dropped: no exporter, or Shutdown has begun (set with `stop`).
  std::atomic<bool> refusing{false};
  // A queue this full wakes an export thread that is polling (see Run).
  size_t high_water = kDefaultQueue / 2;

  std::unique_ptr<SpanExporter> exporter;
  size_t max_queue = kDefaultQueue;
  std::chrono::milliseconds delay = kDefaultDelay;
  std::chrono::milliseconds export_timeout = kDefaultExportTimeout;

  // Registry of producer queues.
  mutable std::mutex queues_mu;
  std::vector<std::shared_ptr<ThreadQueue>> queues;
  std::atomic<uint64_t> queues_version{0};

  // Wake-up of the export thread.
  std::atomic<uint32_t> wake_seq{0};
  // What the export thread is doing, for producers deciding whether to wake it.
  enum : uint8_t { kAwake, kIdle, kPolling };
  std::atomic<uint8_t> sleeping{kAwake};
#if !defined(__linux__)
  std::mutex wake_mu;
  std::condition_variable wake_cv;
#endif

  // Flush / shutdown handshakes.
  std::mutex state_mu;
  std::condition_variable state_cv;
  uint64_t flush_requested = 0;  // guarded by state_mu
  uint64_t flush_done = 0;       // guarded by state_mu
  bool flush_result = true;      // guarded by state_mu
  std::atomic<bool> flush_pending{false};
  std::atomic<bool> stop{false};
  bool stopped = false;  // guarded by state_mu
  Clock::time_point stop_deadline;  // written before `stop` is set
  std::atomic<bool> shut{false};

  std::atomic<uint64_t> dropped{0}, exported{0}, failed{0}, batches{0}, wakeups{0};
  std::thread worker;

  ThreadQueue* Bind() noexcept;
  ThreadQueue* BindSlow() noexcept;
  [[gnu::noinline]] void Drop() noexcept { dropped.fetch_add(1, std::memory_order_relaxed); }
  // A span found its queue full: counted, and the export thread woken if it sleeps.
  [[gnu::noinline]] void DropFull(ThreadQueue* q) noexcept {
    dropped.fetch_add(1, std::memory_order_relaxed);
    WakeIfFull(q);
  }
  [[gnu::noinline]] void WakeIfFull(ThreadQueue* q) noexcept;
  template <typename Slots>
  ThreadQueue* BindSlot(Slots& slots) noexcept;
  void Wake() noexcept;
  // Sleeps until `until` or a wake-up. kIdle: producers wake us at a full batch; kPolling: only
  // at the high-water mark (we look again at `until` anyway).
  void Sleep(Clock::time_point until, uint8_t mode) noexcept;
  void Run() noexcept;
  uint64_t TotalPending(const std::vector<std::shared_ptr<ThreadQueue>>& local) const noexcept;

  // Export-thread state.
  struct Released {
    ThreadQueue* queue;
    char* chunk;
  };
  std::vector<SpanData> slots;          // reused for every batch
  std::vector<const SpanData*> views;   // into slots
  std::vector<Released> released;       // chunks to recycle once the batch is exported
  size_t Collect(std::vector<std::shared_ptr<ThreadQueue>>& local, size_t& rr) noexcept;
  void ExportAndRecycle() noexcept;
  void RefreshQueues(std::vector<std::shared_ptr<ThreadQueue>>& local, uint64_t& version) noexcept;
};

ThreadQueue* BatchSpanProcessor::Impl::Bind() noexcept {
  const FastBinding& f = t_fast;
  if (f.processor_id == id) [[likely]] return f.queue;
  if (f.dead) return nullptr;
  return BindSlow();
}

ThreadQueue* BatchSpanProcessor::Impl::BindSlow() noexcept {
  static thread_local ThreadBindings bindings;
  auto& slots_ = bindings.slots;
  ThreadQueue* q = BindSlot(slots_);
  if (q != nullptr) t_fast = {id, q, false};
  return q;
}

template <typename Slots>
ThreadQueue* BatchSpanProcessor::Impl::BindSlot(Slots& slots_) noexcept {
  // A recent processor: move it to the front.
  for (size_t i = 0; i < ThreadBindings::kSlots; ++i) {
    if (slots_[i].processor_id == id) {
      std::rotate(slots_, slots_ + i, slots_ + i + 1);
      return slots_[0].queue.get();
    }
  }
  try {
    auto q = std::make_shared<ThreadQueue>(max_queue, max_batch);
    {
      std::lock_guard<std::mutex> lock(queues_mu);
      queues.push_back(q);
    }
    queues_version.fetch_add(1, std::memory_order_release);
    // The least recently used binding makes room.
    auto& last = slots_[ThreadBindings::kSlots - 1];
    if (last.queue) last.queue->orphaned.store(true, std::memory_order_release);
    last = {id, std::move(q)};
    std::rotate(slots_, slots_ + ThreadBindings::kSlots - 1, slots_ + ThreadBindings::kSlots);
    return slots_[0].queue.get();
  } catch (...) {
    return nullptr;
  }
}

void BatchSpanProcessor::Impl::Wake() noexcept {
  wake_seq.fetch_add(1, std::memory_order_release);
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&wake_seq), FUTEX_WAKE_PRIVATE, 1, nullptr,
          nullptr, 0);
#else
  std::lock_guard<std::mutex> lock(wake_mu);
  wake_cv.notify_one();
#endif
}

void BatchSpanProcessor::Impl::Sleep(Clock::time_point until, uint8_t mode) noexcept {
  auto now = Clock::now();
  if (now >= until) return;
  uint32_t seq = wake_seq.load(std::memory_order_acquire);
  sleeping.store(mode, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // Re-check after announcing that we sleep: a producer that crossed the threshold before it
  // saw `sleeping` has published its spans by now.
  bool work = stop.load(std::memory_order_relaxed) ||
              flush_pending.load(std::memory_order_relaxed);
  const uint64_t threshold = mode == kIdle ? max_batch : high_water;
  if (!work) {
    std::lock_guard<std::mutex> lock(queues_mu);
    for (auto& q : queues) {
      if (q->spans.Pending() >= threshold) {
        work = true;
        break;
      }
    }
  }
  if (!work) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(until - now).count();
#if defined(__linux__)
    timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&wake_seq), FUTEX_WAIT_PRIVATE, seq, &ts,
            nullptr, 0);
#else
    std::unique_lock<std::mutex> lock(wake_mu);
    wake_cv.wait_for(lock, std::chrono::nanoseconds(std::min<int64_t>(ns, 10'000'000)),
                     [&] { return wake_seq.load() != seq; });
#endif
  }
  sleeping.store(kAwake, std::memory_order_relaxed);
}

void BatchSpanProcessor::Impl::RefreshQueues(std::vector<std::shared_ptr<ThreadQueue>>& local,
                                             uint64_t& version) noexcept {
  uint64_t v = queues_version.load(std::memory_order_acquire);
  if (v == version) return;
  std::lock_guard<std::mutex> lock(queues_mu);
  try {
    local = queues;
  } catch (...) {
    return;
  }
  version = v;
}

uint64_t BatchSpanProcessor::Impl::TotalPending(
    const std::vector<std::shared_ptr<ThreadQueue>>& local) const noexcept {
  uint64_t n = 0;
  for (const auto& q : local) n += q->spans.Pending();
  return n;
}

size_t BatchSpanProcessor::Impl::Collect(std::vector<std::shared_ptr<ThreadQueue>>& local,
                                         size_t& rr) noexcept {
  views.clear();
  released.clear();
  if (local.empty()) return 0;
  if (slots.size() < max_batch) {
    try {
      views.reserve(max_batch);
      released.reserve(max_batch);  // at most one chunk per block
      slots.resize(max_batch);
    } catch (...) {
      return 0;  // out of memory: spans stay queued
    }
  }
  const size_t limit = max_batch;
  char* blocks[256];
  // Round-robin over producer queues so one busy thread cannot starve the others.
  for (size_t k = 0; k < local.size() && views.size() < limit; ++k) {
    ThreadQueue* q = local[(rr + k) % local.size()].get();
    size_t n;
    while (views.size() < limit &&
           (n = q->spans.Pop(blocks, std::min<size_t>(256, limit - views.size()))) > 0) {
      for (size_t i = 0; i < n; ++i) {
        char* chunk = ChunkOf(blocks[i]);
        if (chunk != q->consumer_chunk) {
          // The producer has left the previous chunk: it is free once this batch is exported.
          if (q->consumer_chunk != nullptr) released.push_back({q, q->consumer_chunk});
          q->consumer_chunk = chunk;
        }
        SpanData& d = slots[views.size()];
        try {
          internal::Unpack(blocks[i], d);
          views.push_back(&d);
        } catch (...) {
          internal::DestroyPacked(blocks[i]);
          dropped.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
  }
  rr = (rr + 1) % local.size();
  return views.size() + released.size();
}

void BatchSpanProcessor::Impl::ExportAndRecycle() noexcept {
  if (!views.empty()) {
    ExportResult result = exporter->Export(std::span<const SpanData* const>(views));
    batches.fetch_add(1, std::memory_order_relaxed);
    (result == ExportResult::kSuccess ? exported : failed)
        .fetch_add(views.size(), std::memory_order_relaxed);
  }
  // The exporter is done with the blocks: their chunks go back to the threads that wrote them.
  for (const Released& r : released) {
    if (r.queue->orphaned.load(std::memory_order_acquire) ||
        ChunkCapacity(r.chunk) != kChunkSize || !r.queue->free_chunks.Push(r.chunk)) {
      r.queue->FreeChunk(r.chunk);
    }
  }
  views.clear();
  released.clear();
}

void BatchSpanProcessor::Impl::Run() noexcept {
  std::vector<std::shared_ptr<ThreadQueue>> local;
  uint64_t version = 0;
  size_t rr = 0;
  auto next_export = Clock::now() + delay;
  // While spans arrive fast, this thread looks at the queues every `poll` instead of sleeping
  // until a producer wakes it: a wake-up is a futex syscall (and on a VM an inter-processor
  // interrupt), some microseconds of the application thread's time per batch. `poll` aims at
  // two batches per look, from the rate seen over the last sleep; producers still wake a
  // polling thread at the high-water mark, so a burst cannot overrun the queue.
  Clock::duration poll{0};
  bool slept = false;
  uint64_t pending_seen = 0;  // pending when this thread last went to sleep
  auto seen_at = Clock::now();
  const Clock::duration max_poll = std::min<Clock::duration>(kMaxPoll, delay);
  const uint64_t per_look = std::clamp<uint64_t>(high_water / 2, 1, 2 * max_batch);
  auto sleep = [&](Clock::time_point now) {
    pending_seen = TotalPending(local);
    seen_at = now;
    slept = true;
    if (poll > Clock::duration::zero()) {
      Sleep(std::min(now + poll, next_export), kPolling);
    } else {
      Sleep(next_export, kIdle);
    }
  };

  while (true) {
    RefreshQueues(local, version);
    bool stopping = stop.load(std::memory_order_acquire);
    bool flushing = flush_pending.load(std::memory_order_acquire);
    auto now = Clock::now();
    bool timer = now >= next_export;
    uint64_t pending = TotalPending(local);
    if (std::exchange(slept, false)) {
      // Spans that arrived during the sleep (none were taken meanwhile; a queue that came or
      // went only skews one estimate).
      const uint64_t arrived = pending > pending_seen ? pending - pending_seen : 0;
      if (arrived == 0 || arrived * 2 < max_batch) {
        poll = Clock::duration::zero();  // slow: producers wake us at a full batch
      } else {
        const auto took = std::max<Clock::duration>(now - seen_at, std::chrono::microseconds(1));
        poll = std::clamp<Clock::duration>(
            took * static_cast<int64_t>(per_look) / static_cast<int64_t>(arrived), kMinPoll,
            max_poll);
      }
    }
    if (!stopping && !flushing && !timer && pending < max_batch) {
      sleep(now);
      continue;
    }
    uint64_t flush_target = 0;
    if (flushing) {
      std::lock_guard<std::mutex> lock(state_mu);
      flush_target = flush_requested;
      flush_pending.store(false, std::memory_order_relaxed);
    }
    // Export full batches; on timer, flush or stop, everything that is queued.
    bool drain_all = stopping || flushing || timer;
    while (true) {
      // Shutdown may have begun during an export: its deadline bounds the drain.
      if (stop.load(std::memory_order_acquire) && Clock::now() >= stop_deadline) break;
      size_t n = Collect(local, rr);
      if (n == 0) break;
      ExportAndRecycle();
      if (!drain_all && TotalPending(local) < max_batch) break;
      RefreshQueues(local, version);
    }
    next_export = Clock::now() + delay;

    if (flushing) {
      bool ok = exporter->ForceFlush(export_timeout);
      std::lock_guard<std::mutex> lock(state_mu);
      flush_done = std::max(flush_done, flush_target);
      flush_result = ok && TotalPending(local) == 0;
      state_cv.notify_all();
    }
    if (stopping) break;

    // Forget queues of threads that exited, once drained.
    bool removed = false;
    {
      std::lock_guard<std::mutex> lock(queues_mu);
      auto it = std::remove_if(queues.begin(), queues.end(), [](const auto& q) {
        return q->orphaned.load(std::memory_order_acquire) && q->spans.Pending() == 0;
      });
      removed = it != queues.end();
      queues.erase(it, queues.end());
    }
    if (removed) queues_version.fetch_add(1, std::memory_order_release);
    // Spans flow fast: the next look after `poll` (the loop's top would only find less than a
    // batch and sleep the same way, without the measurement).
    if (!drain_all && poll > Clock::duration::zero()) sleep(Clock::now());
  }

  // Whatever could not be exported before the deadline is dropped and counted.
  RefreshQueues(local, version);
  uint64_t left = TotalPending(local);
  if (left > 0) {
    dropped.fetch_add(left, std::memory_order_relaxed);
    OTLP_LOG(kWarn, "batch span processor: shutdown deadline passed, " + std::to_string(left) +
                        " spans dropped");
  }
  auto remaining = stop_deadline - Clock::now();
  exporter->Shutdown(std::max<std::chrono::microseconds>(
      std::chrono::duration_cast<std::chrono::microseconds>(remaining),
      std::chrono::microseconds(0)));
  std::lock_guard<std::mutex> lock(state_mu);
  stopped = true;
  flush_done = flush_requested;
  state_cv.notify_all();
}

// ---- public ----

BatchSpanProcessor::BatchSpanProcessor(std::unique_ptr<Impl> impl) noexcept
    : impl_(std::move(impl)) {}

std::unique_ptr<BatchSpanProcessor> BatchSpanProcessor::Create(
    std::unique_ptr<SpanExporter> exporter, BatchSpanProcessorOptions options,
    config::Reader* env) {
  auto impl = std::make_unique<Impl>();
  impl->exporter = std::move(exporter);
  auto pick = [env](auto opt, std::string_view name, auto fallback) {
    using T = decltype(fallback);
    if (opt) return static_cast<T>(*opt);
    if (env != nullptr) {
      if constexpr (std::is_same_v<T, std::chrono::milliseconds>) {
        if (auto v = env->GetDuration(name)) return *v;
      } else {
        if (auto v = env->GetInt(name)) return static_cast<T>(*v);
      }
    }
    return fallback;
  };
  impl->max_queue = std::max<size_t>(1, pick(options.max_queue_size, "OTEL_BSP_MAX_QUEUE_SIZE",
                                             kDefaultQueue));
  impl->max_batch = std::max<size_t>(
      1, pick(options.max_export_batch_size, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", kDefaultBatch));
  impl->delay = pick(options.schedule_delay, "OTEL_BSP_SCHEDULE_DELAY", kDefaultDelay);
  impl->export_timeout =
      pick(options.export_timeout, "OTEL_BSP_EXPORT_TIMEOUT", kDefaultExportTimeout);
  if (impl->max_batch > impl->max_queue) {
    OTLP_LOG(kWarn, "batch span processor: max export batch size " +
                        std::to_string(impl->max_batch) + " exceeds the queue size " +
                        std::to_string(impl->max_queue) + "; using " +
                        std::to_string(impl->max_queue));
    impl->max_batch = impl->max_queue;
  }
  impl->high_water = std::max(impl->max_batch, impl->max_queue / 2);
  if (!impl->exporter) {
    OTLP_LOG(kWarn, "batch span processor created without an exporter: spans are discarded");
    impl->refusing.store(true, std::memory_order_relaxed);
  }
  auto p = std::unique_ptr<BatchSpanProcessor>(new BatchSpanProcessor(std::move(impl)));
  Impl* raw = p->impl_.get();
  if (raw->exporter) {
    raw->worker = std::thread([raw] {
#if defined(__linux__)
      pthread_setname_np(pthread_self(), "otlp-bsp");
#endif
      raw->Run();
    });
  }
  return p;
}

BatchSpanProcessor::~BatchSpanProcessor() { Shutdown(impl_->export_timeout); }

void BatchSpanProcessor::OnEnd(EndedSpan& span) noexcept {
  if (span.IsSampled()) Enqueue(span.record());
}

// The common span (no extras, a body of at most 256 bytes) is copied inline and everything else
// is a tail call, so this path needs no stack frame; larger spans, a thread's first span and
// the span that opens a new chunk take EnqueueLarge.
void BatchSpanProcessor::Enqueue(const internal::SpanRecord& rec, int64_t end) noexcept {
  Impl& m = *impl_;
  const FastBinding& f = t_fast;
  if (f.processor_id != m.id || rec.extras || rec.body.size() > 256) [[unlikely]] {
    return EnqueueLarge(rec, end);
  }
  ThreadQueue* q = f.queue;
  if (m.refusing.load(std::memory_order_relaxed)) [[unlikely]] return m.Drop();
  if (!q->spans.HasSpace()) [[unlikely]] return m.DropFull(q);
  const size_t n = sizeof(internal::PackedHeader) + rec.body.size();
  // A full chunk goes the general way too: every call here is then a tail call, and this path
  // needs no saved registers.
  if (q->used + n > q->cap) [[unlikely]] return EnqueueLarge(rec, end);
  char* block = q->chunk + q->used;
  auto* out = reinterpret_cast<internal::PackedHeader*>(block);
  std::memcpy(static_cast<void*>(out), &rec.h, sizeof(internal::PackedHeader));
  out->size = static_cast<uint32_t>(n);
  out->n_states = 0;
  out->end = end;
  otlp::internal::CopyUpTo256(block + sizeof(internal::PackedHeader), rec.body.data(),
                              rec.body.size());
  q->Commit(n);
  // Only this thread adds, and there was space.
  if (q->spans.PushUnchecked(block) >= q->check_at) [[unlikely]] return m.WakeIfFull(q);
}

void BatchSpanProcessor::EnqueueLarge(const internal::SpanRecord& rec, int64_t end) noexcept {
  Impl& m = *impl_;
  ThreadQueue* q = m.Bind();
  if (m.refusing.load(std::memory_order_relaxed) || q == nullptr) [[unlikely]] return m.Drop();
  if (!q->spans.HasSpace()) [[unlikely]] return m.DropFull(q);
  const size_t n = rec.PackedSize();
  char* block = q->Reserve(n);
  if (block == nullptr) [[unlikely]] return m.Drop();
  rec.Pack(block, n);
  reinterpret_cast<internal::PackedHeader*>(block)->end = end;
  q->Commit(n);
  if (q->spans.PushUnchecked(block) >= q->check_at) [[unlikely]] return m.WakeIfFull(q);
}

void BatchSpanProcessor::Impl::WakeIfFull(ThreadQueue* q) noexcept {
  uint64_t tail;
  const uint64_t pending = q->spans.ProducerPending(tail);
  if (pending < max_batch) {
    q->check_at = max_batch;  // the export thread keeps up
    return;
  }
  // A full batch waits. Pairs with the fence in Sleep(): either we see that the export thread
  // sleeps, or it sees our spans before it sleeps.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const uint8_t s = sleeping.load(std::memory_order_relaxed);
  if ((s == kIdle || (s == kPolling && pending >= high_water)) &&
      sleeping.exchange(kAwake, std::memory_order_relaxed) != kAwake) {
    wakeups.fetch_add(1, std::memory_order_relaxed);
    Wake();
  }
  // It is awake, polling or woken now: look again a quarter batch later. Should it fall
  // asleep meanwhile (Sleep() re-checks every queue), it does so with less than a batch
  // pending, so at most 1.25 batches wait before we wake it; a full queue checks at once.
  // (Never past the last slot, so a look always comes before the queue is full.)
  q->check_at = std::min<uint64_t>(pending + std::max<uint64_t>(1, max_batch / 4),
                                   std::max<uint64_t>(1, max_queue - 1));
}

bool BatchSpanProcessor::ForceFlush(std::chrono::microseconds timeout) noexcept {
  Impl& m = *impl_;
  if (!m.worker.joinable()) return true;
  std::unique_lock<std::mutex> lock(m.state_mu);
  if (m.stopped) return true;
  uint64_t target = ++m.flush_requested;
  m.flush_pending.store(true, std::memory_order_release);
  lock.unlock();
  m.Wake();
  lock.lock();
  bool done = m.state_cv.wait_for(lock, timeout, [&] { return m.flush_done >= target; });
  return done && m.flush_result;
}

bool BatchSpanProcessor::Shutdown(std::chrono::microseconds timeout) noexcept {
  Impl& m = *impl_;
  if (m.shut.exchange(true)) return true;
  if (!m.worker.joinable()) {
    if (m.exporter) m.exporter->Shutdown(timeout);
    return true;
  }
  m.stop_deadline = Clock::now() + timeout;
  m.refusing.store(true, std::memory_order_relaxed);
  m.stop.store(true, std::memory_order_release);
  m.Wake();
  bool in_time;
  {
    std::unique_lock<std::mutex> lock(m.state_mu);
    in_time = m.state_cv.wait_for(lock, timeout, [&] { return m.stopped; });
  }
  if (!in_time) {
    // The exporter is still busy (e.g. retrying a collector that is down): cut it short.
    m.exporter->Shutdown(std::chrono::microseconds(0));
  }
  m.worker.join();
  return in_time;
}

BatchSpanProcessorStats BatchSpanProcessor::stats() const noexcept {
  const Impl& m = *impl_;
  int64_t bytes = 0;
  {
    std::lock_guard<std::mutex> lock(m.queues_mu);
    for (const auto& q : m.queues) bytes += q->bytes.load(std::memory_order_relaxed);
  }
  return {m.dropped.load(std::memory_order_relaxed), m.exported.load(std::memory_order_relaxed),
          m.failed.load(std::memory_order_relaxed), m.batches.load(std::memory_order_relaxed),
          m.wakeups.load(std::memory_order_relaxed),
          static_cast<uint64_t>(std::max<int64_t>(0, bytes))};
}

size_t BatchSpanProcessor::max_queue_size() const noexcept { return impl_->max_queue; }
size_t BatchSpanProcessor::max_export_batch_size() const noexcept { return impl_->max_batch; }

namespace internal {
void SetChunkSwitchClock(ChunkSwitchClock now) noexcept {
  g_chunk_switch_clock.store(now, std::memory_order_relaxed);
}
}  // namespace internal

}  // namespace otlp::trace
