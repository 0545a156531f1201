// otlp/exporter/exporter_stats.h — self-metrics of an exporter: what it delivered, lost and
// sent, as cheap counters any exporter can embed and a plain snapshot readers can copy.
//
//   class MyExporter : public trace::SpanExporter {
//     ExporterCounters counters_;
//     ExportResult Export(...) noexcept override { ...; counters_.AddRequest(body.size()); }
//    public:
//     ExporterStats stats() const noexcept { return counters_.Snapshot(); }
//   };
//
//   otlp::exporter::ExporterStats s = exporter->stats();
//   std::cout << s.spans_exported << " exported, " << s.spans_failed << " lost\n";
//
// Thread-safety: ExporterCounters may be updated and read from any thread at once (relaxed
// atomics). A Snapshot reads each counter separately, so counters of one snapshot may be a few
// increments apart from each other while exports are running.
#pragma once

#include <atomic>
#include <cstdint>

namespace otlp::exporter {

struct ExporterStats {
  uint64_t spans_exported = 0;  // accepted by the receiver (rejected ones excluded)
  uint64_t spans_failed = 0;    // spans of batches lost after all retries (or never sent)
  // Of spans_failed: spans still queued or on the wire when Shutdown's deadline passed (their
  // requests were cancelled).
  uint64_t spans_dropped_at_shutdown = 0;
  uint64_t spans_rejected = 0;  // refused by the receiver in a partial success
  uint64_t batches_failed = 0;  // batches lost (each counts its spans in spans_failed)
  uint64_t requests = 0;        // requests sent, retries included
  uint64_t retries = 0;         // requests that were retries of an earlier attempt
  uint64_t bytes_sent = 0;      // request body bytes handed to the transport (after compression)
};

class ExporterCounters {
 public:
  void AddExported(uint64_t spans) noexcept { Add(spans_exported_, spans); }
  void AddFailedBatch(uint64_t spans) noexcept {
    Add(spans_failed_, spans);
    Add(batches_failed_, 1);
  }
  // A failed batch that was cut off by the shutdown deadline (counted as failed too).
  void AddDroppedAtShutdown(uint64_t spans) noexcept {
    AddFailedBatch(spans);
    Add(spans_dropped_at_shutdown_, spans);
  }
  void AddRejected(uint64_t spans) noexcept { Add(spans_rejected_, spans); }
  // One request of `bytes` body bytes; `retry` when it repeats an earlier attempt.
  void AddRequest(uint64_t bytes, bool retry) noexcept {
    Add(requests_, 1);
    Add(bytes_sent_, bytes);
    if (retry) Add(retries_, 1);
  }

  ExporterStats Snapshot() const noexcept {
    ExporterStats s;
    s.spans_exported = spans_exported_.load(std::memory_order_relaxed);
    s.spans_failed = spans_failed_.load(std::memory_order_relaxed);
    s.spans_dropped_at_shutdown = spans_dropped_at_shutdown_.load(std::memory_order_relaxed);
    s.spans_rejected = spans_rejected_.load(std::memory_order_relaxed);
    s.batches_failed = batches_failed_.load(std::memory_order_relaxed);
    s.requests = requests_.load(std::memory_order_relaxed);
    s.retries = retries_.load(std::memory_order_relaxed);
    s.bytes_sent = bytes_sent_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  static void Add(std::atomic<uint64_t>& c, uint64_t n) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
  }
  std::atomic<uint64_t> spans_exported_{0};
  std::atomic<uint64_t> spans_failed_{0};
  std::atomic<uint64_t> spans_dropped_at_shutdown_{0};
  std::atomic<uint64_t> spans_rejected_{0};
  std::atomic<uint64_t> batches_failed_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> bytes_sent_{0};
};

}  // namespace otlp::exporter
