#include "otlp/trace/batch_processor.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "otlp/core/config.h"
#include "otlp/core/log.h"
#include "otlp/trace/internal/span_record.h"

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ctime>
#endif

namespace otlp::trace {

using internal::SpanRecord;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kDefaultQueue = 2048;
constexpr size_t kDefaultBatch = 512;
constexpr auto kDefaultDelay = std::chrono::milliseconds(5000);
constexpr auto kDefaultExportTimeout = std::chrono::milliseconds(30000);

size_t RoundUpPow2(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

// Single-producer single-consumer ring of record pointers.
class Ring {
 public:
  explicit Ring(size_t capacity)
      : mask_(RoundUpPow2(capacity) - 1), limit_(capacity), slots_(new SpanRecord*[mask_ + 1]) {}

  // Producer side.
  bool Push(SpanRecord* r) noexcept {
    uint64_t h = head_.load(std::memory_order_relaxed);
    if (h - cached_tail_ >= limit_) {
      cached_tail_ = tail_.load(std::memory_order_acquire);
      if (h - cached_tail_ >= limit_) return false;
    }
    slots_[h & mask_] = r;
    head_.store(h + 1, std::memory_order_release);
    return true;
  }
  // Items pending as the producer sees them (may overestimate).
  uint64_t ProducerPending() const noexcept {
    return head_.load(std::memory_order_relaxed) - tail_.load(std::memory_order_relaxed);
  }

  // Consumer side.
  uint64_t Pending() const noexcept {
    return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_relaxed);
  }
  size_t Pop(SpanRecord** out, size_t max) noexcept {
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
  std::unique_ptr<SpanRecord*[]> slots_;
  alignas(64) std::atomic<uint64_t> head_{0};
  uint64_t cached_tail_ = 0;
  alignas(64) std::atomic<uint64_t> tail_{0};
};

// One producing thread's queues: ended spans to the export thread, and exported records back
// to the producer for reuse.
struct ThreadQueue final : internal::RecordSource {
  explicit ThreadQueue(size_t capacity, size_t recycle_capacity)
      : spans(capacity), recycled(recycle_capacity) {}
  ~ThreadQueue() override {
    SpanRecord* buf[256];
    size_t n;
    while ((n = spans.Pop(buf, 256)) > 0)
      for (size_t i = 0; i < n; ++i) delete buf[i];
    while ((n = recycled.Pop(buf, 256)) > 0)
      for (size_t i = 0; i < n; ++i) delete buf[i];
  }
  size_t TakeRecycled(SpanRecord** out, size_t max) noexcept override {
    return recycled.Pop(out, max);
  }

  Ring spans;     // producer: app thread; consumer: export thread
  Ring recycled;  // producer: export thread; consumer: app thread
  std::atomic<bool> orphaned{false};
};

std::atomic<uint64_t> g_next_processor_id{1};

// This thread's queue for one processor (the most recently used one).
struct ThreadBinding {
  uint64_t processor_id = 0;
  std::shared_ptr<ThreadQueue> queue;
  ~ThreadBinding() {
    if (queue) queue->orphaned.store(true, std::memory_order_release);
  }
};
thread_local ThreadBinding t_binding;
thread_local bool t_binding_dead = false;
struct BindingGuard {
  ~BindingGuard() { t_binding_dead = true; }
};

}  // namespace

struct BatchSpanProcessor::Impl {
  std::unique_ptr<SpanExporter> exporter;
  size_t max_queue = kDefaultQueue;
  size_t max_batch = kDefaultBatch;
  std::chrono::milliseconds delay = kDefaultDelay;
  std::chrono::milliseconds export_timeout = kDefaultExportTimeout;
  const uint64_t id = g_next_processor_id.fetch_add(1);

  // Registry of producer queues.
  std::mutex queues_mu;
  std::vector<std::shared_ptr<ThreadQueue>> queues;
  std::atomic<uint64_t> queues_version{0};

  // Wake-up of the export thread.
  std::atomic<uint32_t> wake_seq{0};
  std::atomic<bool> sleeping{false};
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

  std::atomic<uint64_t> dropped{0}, exported{0}, failed{0}, batches{0};
  std::thread worker;

  ThreadQueue* Bind() noexcept;
  void Wake() noexcept;
  void Sleep(Clock::time_point until) noexcept;
  void Run() noexcept;
  size_t Collect(std::vector<std::shared_ptr<ThreadQueue>>& local, size_t& rr,
                 std::vector<SpanRecord*>& batch, std::vector<ThreadQueue*>& origin) noexcept;
  uint64_t TotalPending(const std::vector<std::shared_ptr<ThreadQueue>>& local) const noexcept;
  void ExportAndRecycle(std::vector<SpanRecord*>& batch, std::vector<ThreadQueue*>& origin,
                        std::vector<const SpanData*>& views) noexcept;
  void RefreshQueues(std::vector<std::shared_ptr<ThreadQueue>>& local, uint64_t& version) noexcept;
};

ThreadQueue* BatchSpanProcessor::Impl::Bind() noexcept {
  if (t_binding_dead) return nullptr;
  if (t_binding.processor_id == id) [[likely]] return t_binding.queue.get();
  static thread_local BindingGuard guard;
  (void)guard;
  try {
    auto q = std::make_shared<ThreadQueue>(max_queue, max_queue + max_batch);
    {
      std::lock_guard<std::mutex> lock(queues_mu);
      queues.push_back(q);
    }
    queues_version.fetch_add(1, std::memory_order_release);
    if (t_binding.queue) t_binding.queue->orphaned.store(true, std::memory_order_release);
    t_binding.processor_id = id;
    t_binding.queue = q;
    internal::SetThreadRecordSource(q);
    return q.get();
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

void BatchSpanProcessor::Impl::Sleep(Clock::time_point until) noexcept {
  auto now = Clock::now();
  if (now >= until) return;
  uint32_t seq = wake_seq.load(std::memory_order_acquire);
  sleeping.store(true, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // Re-check after announcing that we sleep: a producer that crossed the threshold before it
  // saw `sleeping` has published its spans by now.
  bool work = stop.load(std::memory_order_relaxed) ||
              flush_pending.load(std::memory_order_relaxed);
  if (!work) {
    std::lock_guard<std::mutex> lock(queues_mu);
    for (auto& q : queues) {
      if (q->spans.Pending() >= max_batch) {
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
  sleeping.store(false, std::memory_order_relaxed);
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
                                         size_t& rr, std::vector<SpanRecord*>& batch,
                                         std::vector<ThreadQueue*>& origin) noexcept {
  batch.clear();
  origin.clear();
  if (local.empty()) return 0;
  // Round-robin over producer queues so one busy thread cannot starve the others.
  for (size_t k = 0; k < local.size() && batch.size() < max_batch; ++k) {
    ThreadQueue* q = local[(rr + k) % local.size()].get();
    size_t before = batch.size();
    batch.resize(max_batch);
    size_t n = q->spans.Pop(batch.data() + before, max_batch - before);
    batch.resize(before + n);
    origin.insert(origin.end(), n, q);
  }
  rr = (rr + 1) % local.size();
  return batch.size();
}

void BatchSpanProcessor::Impl::ExportAndRecycle(std::vector<SpanRecord*>& batch,
                                                std::vector<ThreadQueue*>& origin,
                                                std::vector<const SpanData*>& views) noexcept {
  views.clear();
  for (SpanRecord* r : batch) views.push_back(&r->data);
  ExportResult result = exporter->Export(std::span<const SpanData* const>(views));
  batches.fetch_add(1, std::memory_order_relaxed);
  (result == ExportResult::kSuccess ? exported : failed)
      .fetch_add(batch.size(), std::memory_order_relaxed);
  // Records go back unreset: only the producing thread writes to them (see AcquireRecord).
  for (size_t i = 0; i < batch.size(); ++i) {
    SpanRecord* r = batch[i];
    ThreadQueue* q = origin[i];
    if (q->orphaned.load(std::memory_order_acquire) || !q->recycled.Push(r)) delete r;
  }
  batch.clear();
  origin.clear();
}

void BatchSpanProcessor::Impl::Run() noexcept {
  std::vector<std::shared_ptr<ThreadQueue>> local;
  uint64_t version = 0;
  size_t rr = 0;
  std::vector<SpanRecord*> batch;
  std::vector<ThreadQueue*> origin;
  std::vector<const SpanData*> views;
  try {
    batch.reserve(max_batch);
    origin.reserve(max_batch);
    views.reserve(max_batch);
  } catch (...) {
  }
  auto next_export = Clock::now() + delay;

  while (true) {
    RefreshQueues(local, version);
    bool stopping = stop.load(std::memory_order_acquire);
    bool flushing = flush_pending.load(std::memory_order_acquire);
    bool timer = Clock::now() >= next_export;
    if (!stopping && !flushing && !timer && TotalPending(local) < max_batch) {
      Sleep(next_export);
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
      if (stopping && Clock::now() >= stop_deadline) break;
      size_t n = Collect(local, rr, batch, origin);
      if (n == 0) break;
      ExportAndRecycle(batch, origin, views);
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
  if (!impl->exporter) {
    OTLP_LOG(kWarn, "batch span processor created without an exporter: spans are discarded");
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
  Impl& m = *impl_;
  SpanRecord*& r = span.record();
  if (!r->data.context.IsSampled()) return;
  if (m.stop.load(std::memory_order_relaxed) || !m.exporter) [[unlikely]] {
    m.dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  ThreadQueue* q = m.Bind();
  if (q == nullptr) [[unlikely]] {
    m.dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  SpanRecord* item = r;
  if (!span.may_take()) {
    item = internal::CloneRecord(*r);
    if (item == nullptr) {
      m.dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  if (!q->spans.Push(item)) [[unlikely]] {
    m.dropped.fetch_add(1, std::memory_order_relaxed);
    if (item != r) internal::ReleaseRecord(item);
  } else if (item == r) {
    r = nullptr;  // taken
  }
  if (q->spans.ProducerPending() >= m.max_batch) [[unlikely]] {
    // Pairs with the fence in Sleep(): either we see `sleeping`, or the export thread sees our
    // spans before it sleeps.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (m.sleeping.load(std::memory_order_relaxed) &&
        m.sleeping.exchange(false, std::memory_order_relaxed)) {
      m.Wake();
    }
  }
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
  return {m.dropped.load(std::memory_order_relaxed), m.exported.load(std::memory_order_relaxed),
          m.failed.load(std::memory_order_relaxed), m.batches.load(std::memory_order_relaxed)};
}

size_t BatchSpanProcessor::max_queue_size() const noexcept { return impl_->max_queue; }
size_t BatchSpanProcessor::max_export_batch_size() const noexcept { return impl_->max_batch; }

}  // namespace otlp::trace
