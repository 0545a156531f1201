// The batch span processor: the policy on top of its parts. Each producing thread has a
// ChunkQueue (chunk_queue.h: packed spans in chunks, an SPSC ring of their addresses, finished
// chunks back for reuse); the export thread sleeps on a Futex (futex.h) and decides when to
// look, when to export and whom to wake; its tuned constants are in batch_tuning.h.
#include "otlp/trace/batch_processor.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "otlp/core/config.h"
#include "otlp/core/internal/bytes.h"
#include "otlp/core/internal/mutex.h"
#include "otlp/core/log.h"
#include "otlp/trace/context.h"
#include "otlp/trace/internal/batch_enqueue.h"
#include "otlp/trace/internal/batch_tuning.h"
#include "otlp/trace/internal/chunk_queue.h"
#include "otlp/trace/internal/futex.h"
#include "otlp/trace/internal/packed_span.h"
#include "otlp/trace/internal/span_record.h"

namespace otlp::trace {

namespace internal {

using Clock = std::chrono::steady_clock;

namespace {

std::atomic<uint64_t> g_next_processor_id{1};

// The queue of the processor this thread used last: plain data, so the hot path reads it
// without the guard of a thread_local that has a destructor.
struct FastBinding {
  uint64_t processor_id;
  ChunkQueue* queue;
  bool dead;  // the thread is exiting
};
thread_local constinit FastBinding t_fast{0, nullptr, false};

// This thread's queues for the processors it used most recently (usually one), owned.
struct ThreadBindings {
  static constexpr size_t kSlots = 4;
  struct Slot {
    uint64_t processor_id = 0;
    std::shared_ptr<ChunkQueue> queue;
  };
  Slot slots[kSlots];
  ~ThreadBindings() {
    t_fast = {0, nullptr, true};
    for (Slot& s : slots)
      if (s.queue) s.queue->CloseProducer();
  }
};

}  // namespace

struct alignas(64) BatchState {
  // What every enqueue reads, on a line nothing writes while spans flow.
  const uint64_t id = g_next_processor_id.fetch_add(1);
  size_t max_batch = kDefaultMaxExportBatchSize;
  // Spans are dropped: no exporter, or Shutdown has begun (set with `stop`).
  std::atomic<bool> refusing{false};
  // A queue this full wakes an export thread that is polling (see Run).
  size_t high_water = kDefaultMaxQueueSize / 2;

  std::unique_ptr<SpanExporter> exporter;
  size_t max_queue = kDefaultMaxQueueSize;
  std::chrono::milliseconds delay = kDefaultScheduleDelay;
  std::chrono::milliseconds export_timeout = kDefaultExportTimeout;

  // Registry of producer queues.
  mutable otlp::internal::Mutex queues_mu;
  std::vector<std::shared_ptr<ChunkQueue>> queues OTLP_GUARDED_BY(queues_mu);
  std::atomic<uint64_t> queues_version{0};

  // Wake-up of the export thread.
  Futex wake;
  // What the export thread is doing, for producers deciding whether to wake it.
  enum : uint8_t { kAwake, kIdle, kPolling };
  std::atomic<uint8_t> sleeping{kAwake};

  // Flush / shutdown handshakes.
  otlp::internal::Mutex state_mu;
  otlp::internal::CondVar state_cv;
  uint64_t flush_requested OTLP_GUARDED_BY(state_mu) = 0;
  uint64_t flush_done OTLP_GUARDED_BY(state_mu) = 0;
  bool flush_result OTLP_GUARDED_BY(state_mu) = true;
  std::atomic<bool> flush_pending{false};
  std::atomic<bool> stop{false};
  bool stopped OTLP_GUARDED_BY(state_mu) = false;
  Clock::time_point stop_deadline;  // written before `stop` is set
  std::atomic<bool> shut{false};

  std::atomic<uint64_t> dropped{0}, exported{0}, failed{0}, batches{0}, wakeups{0};
  std::thread worker;

  static BatchState* Of(BatchSpanProcessor& p) noexcept { return p.impl_.get(); }

  ChunkQueue* Bind() noexcept;
  ChunkQueue* BindSlow() noexcept;
  [[gnu::noinline]] void Drop() noexcept { dropped.fetch_add(1, std::memory_order_relaxed); }
  // A span found its queue full: counted, and the export thread woken if it sleeps.
  [[gnu::noinline]] void DropFull(ChunkQueue* q) noexcept {
    dropped.fetch_add(1, std::memory_order_relaxed);
    WakeIfFull(q);
  }
  [[gnu::noinline]] void WakeIfFull(ChunkQueue* q) noexcept;
  template <typename Slots>
  ChunkQueue* BindSlot(Slots& slots) noexcept;
  void Wake() noexcept { wake.Wake(); }
  // Sleeps until `until` or a wake-up. kIdle: producers wake us at a full batch; kPolling: only
  // at the high-water mark (we look again at `until` anyway).
  void Sleep(Clock::time_point until, uint8_t mode) noexcept;
  void Run() noexcept;
  uint64_t TotalPending(const std::vector<std::shared_ptr<ChunkQueue>>& local) const noexcept;

  // Export-thread state.
  struct Released {
    ChunkQueue* queue;
    char* chunk;
  };
  std::vector<SpanData> slots;         // reused for every batch
  std::vector<const SpanData*> views;  // into slots
  std::vector<Released> released;      // chunks to recycle once the batch is exported
  size_t Collect(std::vector<std::shared_ptr<ChunkQueue>>& local, size_t& rr) noexcept;
  void ExportAndRecycle() noexcept;
  void RefreshQueues(std::vector<std::shared_ptr<ChunkQueue>>& local, uint64_t& version) noexcept;
};

ChunkQueue* BatchState::Bind() noexcept {
  const FastBinding& f = t_fast;
  if (f.processor_id == id) [[likely]]
    return f.queue;
  if (f.dead) return nullptr;
  return BindSlow();
}

ChunkQueue* BatchState::BindSlow() noexcept {
  static thread_local ThreadBindings bindings;
  auto& slots_ = bindings.slots;
  ChunkQueue* q = BindSlot(slots_);
  if (q != nullptr) t_fast = {id, q, false};
  return q;
}

template <typename Slots>
ChunkQueue* BatchState::BindSlot(Slots& slots_) noexcept {
  // A recent processor: move it to the front.
  for (size_t i = 0; i < ThreadBindings::kSlots; ++i) {
    if (slots_[i].processor_id == id) {
      std::rotate(slots_, slots_ + i, slots_ + i + 1);
      return slots_[0].queue.get();
    }
  }
  try {
    auto q = std::make_shared<ChunkQueue>(max_queue, max_batch, &DestroyPacked);
    {
      otlp::internal::MutexLock lock(queues_mu);
      queues.push_back(q);
    }
    queues_version.fetch_add(1, std::memory_order_release);
    // The least recently used binding makes room.
    auto& last = slots_[ThreadBindings::kSlots - 1];
    if (last.queue) last.queue->CloseProducer();
    last = {id, std::move(q)};
    std::rotate(slots_, slots_ + ThreadBindings::kSlots - 1, slots_ + ThreadBindings::kSlots);
    return slots_[0].queue.get();
  } catch (...) {
    return nullptr;
  }
}

void BatchState::Sleep(Clock::time_point until, uint8_t mode) noexcept {
  auto now = Clock::now();
  if (now >= until) return;
  const uint32_t seen = wake.Load();
  sleeping.store(mode, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // Re-check after announcing that we sleep: a producer that crossed the threshold before it
  // saw `sleeping` has published its spans by now.
  bool work = stop.load(std::memory_order_relaxed) || flush_pending.load(std::memory_order_relaxed);
  const uint64_t threshold = mode == kIdle ? max_batch : high_water;
  if (!work) {
    otlp::internal::MutexLock lock(queues_mu);
    for (auto& q : queues) {
      if (q->Pending() >= threshold) {
        work = true;
        break;
      }
    }
  }
  if (!work) wake.Wait(seen, until - now);
  sleeping.store(kAwake, std::memory_order_relaxed);
}

void BatchState::RefreshQueues(std::vector<std::shared_ptr<ChunkQueue>>& local,
                               uint64_t& version) noexcept {
  uint64_t v = queues_version.load(std::memory_order_acquire);
  if (v == version) return;
  otlp::internal::MutexLock lock(queues_mu);
  try {
    local = queues;
  } catch (...) {
    return;
  }
  version = v;
}

uint64_t BatchState::TotalPending(
    const std::vector<std::shared_ptr<ChunkQueue>>& local) const noexcept {
  uint64_t n = 0;
  for (const auto& q : local) n += q->Pending();
  return n;
}

size_t BatchState::Collect(std::vector<std::shared_ptr<ChunkQueue>>& local, size_t& rr) noexcept {
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
    ChunkQueue* q = local[(rr + k) % local.size()].get();
    size_t n;
    while (views.size() < limit &&
           (n = q->Pop(blocks, std::min<size_t>(256, limit - views.size()))) > 0) {
      for (size_t i = 0; i < n; ++i) {
        // A chunk the producer has left is free once this batch is exported.
        if (char* done = q->Finished(blocks[i])) released.push_back({q, done});
        SpanData& d = slots[views.size()];
        try {
          Unpack(blocks[i], d);
          views.push_back(&d);
        } catch (...) {
          DestroyPacked(blocks[i]);
          dropped.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
  }
  rr = (rr + 1) % local.size();
  return views.size() + released.size();
}

void BatchState::ExportAndRecycle() noexcept {
  if (!views.empty()) {
    ExportResult result = exporter->Export(std::span<const SpanData* const>(views));
    batches.fetch_add(1, std::memory_order_relaxed);
    (result == ExportResult::kSuccess ? exported : failed)
        .fetch_add(views.size(), std::memory_order_relaxed);
  }
  // The exporter is done with the blocks: their chunks go back to the threads that wrote them.
  for (const Released& r : released) r.queue->Recycle(r.chunk);
  views.clear();
  released.clear();
}

void BatchState::Run() noexcept {
  std::vector<std::shared_ptr<ChunkQueue>> local;
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
      otlp::internal::MutexLock lock(state_mu);
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
      otlp::internal::MutexLock lock(state_mu);
      flush_done = std::max(flush_done, flush_target);
      flush_result = ok && TotalPending(local) == 0;
      state_cv.NotifyAll();
    }
    if (stopping) break;

    // Forget queues of threads that exited, once drained.
    bool removed = false;
    {
      otlp::internal::MutexLock lock(queues_mu);
      auto it = std::remove_if(queues.begin(), queues.end(), [](const auto& q) {
        return q->producer_closed() && q->Pending() == 0;
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
  otlp::internal::MutexLock lock(state_mu);
  stopped = true;
  flush_done = flush_requested;
  state_cv.NotifyAll();
}

// ---- Enqueue ----

namespace {

// A record Span::End handed over goes back to this thread's pool once the span is copied.
template <bool kOwned>
[[gnu::always_inline]] inline void Done(const SpanRecord* rec) noexcept {
  if constexpr (kOwned) PushRecord(const_cast<SpanRecord*>(rec));
}

// Spans with extras or a body over 256 bytes, a thread's first span and the span that opens a
// new chunk.
template <bool kOwned>
[[gnu::noinline]] void EnqueueLarge(BatchState& m, const SpanRecord* rec, int64_t end) noexcept {
  ChunkQueue* q = m.Bind();
  if (m.refusing.load(std::memory_order_relaxed) || q == nullptr) [[unlikely]] {
    Done<kOwned>(rec);
    return m.Drop();
  }
  if (!q->HasSpace()) [[unlikely]] {
    Done<kOwned>(rec);
    return m.DropFull(q);
  }
  const size_t n = rec->PackedSize();
  char* block = q->Allocate(n);
  if (block == nullptr) [[unlikely]] {
    Done<kOwned>(rec);
    return m.Drop();
  }
  rec->Pack(block, n);
  reinterpret_cast<PackedHeader*>(block)->end = end;
  Done<kOwned>(rec);
  if (q->Push(block)) [[unlikely]]
    return m.WakeIfFull(q);
}

// The common span (no extras, a body of at most 256 bytes) is copied inline and everything else
// is a tail call, so this path needs no stack frame. The end time travels in a register: stored
// into the record and read back at once as part of a wider copy, it would stall the load.
template <bool kOwned>
[[gnu::always_inline]] inline void Enqueue(BatchState& m, const SpanRecord* rec,
                                           int64_t end) noexcept {
  const FastBinding& f = t_fast;
  if (f.processor_id != m.id || rec->extras || rec->body.size() > 256) [[unlikely]] {
    return EnqueueLarge<kOwned>(m, rec, end);
  }
  ChunkQueue* q = f.queue;
  if (m.refusing.load(std::memory_order_relaxed)) [[unlikely]] {
    Done<kOwned>(rec);
    return m.Drop();
  }
  if (!q->HasSpace()) [[unlikely]] {
    Done<kOwned>(rec);
    return m.DropFull(q);
  }
  const size_t body = rec->body.size();
  // (Always so: the name and every attribute are padded to 8 bytes. Saying it spares the copy
  // its 1-7 byte cases, and this path a saved register.)
  if (body % 8 != 0) __builtin_unreachable();
  const size_t n = sizeof(PackedHeader) + body;
  // A full chunk goes the general way too: every call here is then a tail call, and this path
  // needs no saved registers.
  if (!q->Fits(n)) [[unlikely]]
    return EnqueueLarge<kOwned>(m, rec, end);
  char* block = q->AllocateHere(n);
  auto* out = reinterpret_cast<PackedHeader*>(block);
  std::memcpy(static_cast<void*>(out), &rec->h, sizeof(PackedHeader));
  out->size = static_cast<uint32_t>(n);
  out->n_states = 0;
  out->end = end;
  otlp::internal::CopyUpTo256(block + sizeof(PackedHeader), rec->body.data(), body);
  Done<kOwned>(rec);
  // Only this thread pushes, and there was space.
  if (q->Push(block)) [[unlikely]]
    return m.WakeIfFull(q);
}

}  // namespace

void BatchEnqueue(BatchState& batch, const SpanRecord& record, int64_t end) noexcept {
  Enqueue<false>(batch, &record, end);
}

void BatchEnqueueAndRelease(BatchState& batch, SpanRecord* record, int64_t end) noexcept {
  Enqueue<true>(batch, record, end);
}

BatchState* BatchStateOf(SpanProcessor* p) noexcept {
  auto* batch = dynamic_cast<BatchSpanProcessor*>(p);
  return batch != nullptr ? BatchState::Of(*batch) : nullptr;
}

void BatchState::WakeIfFull(ChunkQueue* q) noexcept {
  const uint64_t pending = q->ProducerPending();
  if (pending < max_batch) {
    q->set_notify_at(max_batch);  // the export thread keeps up
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
  q->set_notify_at(std::min<uint64_t>(pending + std::max<uint64_t>(1, max_batch / 4),
                                      std::max<uint64_t>(1, max_queue - 1)));
}

}  // namespace internal

// ---- public ----

using internal::BatchState;
using internal::Clock;

BatchSpanProcessor::BatchSpanProcessor(std::unique_ptr<BatchState> impl) noexcept
    : impl_(std::move(impl)) {}

std::unique_ptr<BatchSpanProcessor> BatchSpanProcessor::Create(
    std::unique_ptr<SpanExporter> exporter, BatchSpanProcessorOptions options,
    config::Reader* env) {
  auto impl = std::make_unique<BatchState>();
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
  impl->max_queue = std::max<size_t>(
      1, pick(options.max_queue_size, "OTEL_BSP_MAX_QUEUE_SIZE", internal::kDefaultMaxQueueSize));
  impl->max_batch =
      std::max<size_t>(1, pick(options.max_export_batch_size, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                               internal::kDefaultMaxExportBatchSize));
  impl->delay =
      pick(options.schedule_delay, "OTEL_BSP_SCHEDULE_DELAY", internal::kDefaultScheduleDelay);
  impl->export_timeout =
      pick(options.export_timeout, "OTEL_BSP_EXPORT_TIMEOUT", internal::kDefaultExportTimeout);
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
  BatchState* raw = p->impl_.get();
  if (raw->exporter) {
    raw->worker = std::thread([raw] {
#if defined(__linux__)
      pthread_setname_np(pthread_self(), "otlp-bsp");
#endif
      // Whatever the exporter does on this thread is the SDK's own work, never a span.
      SuppressTracingScope suppress;
      raw->Run();
    });
  }
  return p;
}

BatchSpanProcessor::~BatchSpanProcessor() {
  Shutdown(impl_->export_timeout);
}

void BatchSpanProcessor::OnEnd(EndedSpan& span) noexcept {
  if (span.IsSampled()) internal::BatchEnqueue(*impl_, span.record(), span.record().h.end);
}

bool BatchSpanProcessor::ForceFlush(std::chrono::microseconds timeout) noexcept {
  BatchState& m = *impl_;
  if (!m.worker.joinable()) return true;
  otlp::internal::MutexLock lock(m.state_mu);
  if (m.stopped) return true;
  uint64_t target = ++m.flush_requested;
  m.flush_pending.store(true, std::memory_order_release);
  lock.Unlock();
  m.Wake();
  lock.Lock();
  bool done = m.state_cv.WaitFor(
      lock, timeout, [&]() OTLP_REQUIRES(m.state_mu) { return m.flush_done >= target; });
  return done && m.flush_result;
}

bool BatchSpanProcessor::Shutdown(std::chrono::microseconds timeout) noexcept {
  BatchState& m = *impl_;
  if (m.shut.exchange(true)) return true;
  SuppressTracingScope suppress;  // (the exporter may be called on this thread)
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
    otlp::internal::MutexLock lock(m.state_mu);
    in_time =
        m.state_cv.WaitFor(lock, timeout, [&]() OTLP_REQUIRES(m.state_mu) { return m.stopped; });
  }
  if (!in_time) {
    // The exporter is still busy (e.g. retrying a collector that is down): cut it short.
    m.exporter->Shutdown(std::chrono::microseconds(0));
  }
  m.worker.join();
  return in_time;
}

BatchSpanProcessorStats BatchSpanProcessor::stats() const noexcept {
  const BatchState& m = *impl_;
  int64_t bytes = 0;
  {
    otlp::internal::MutexLock lock(m.queues_mu);
    for (const auto& q : m.queues) bytes += q->bytes();
  }
  return {m.dropped.load(std::memory_order_relaxed),
          m.exported.load(std::memory_order_relaxed),
          m.failed.load(std::memory_order_relaxed),
          m.batches.load(std::memory_order_relaxed),
          m.wakeups.load(std::memory_order_relaxed),
          static_cast<uint64_t>(std::max<int64_t>(0, bytes))};
}

size_t BatchSpanProcessor::max_queue_size() const noexcept {
  return impl_->max_queue;
}
size_t BatchSpanProcessor::max_export_batch_size() const noexcept {
  return impl_->max_batch;
}

}  // namespace otlp::trace
