// otlp/view/store.h — where `otlp view` keeps what it receives: an embedded SQLite database
// (a file that survives restarts, or memory), written in batches by one writer thread, read by
// the JSON API and the terminal waterfall.
//
//   auto store = otlp::view::Store::Open({.path = "traces.db", .max_bytes = 256 << 20});
//   if (!store.ok()) return store.status();          // cannot open / not a database / read-only
//   (*store)->AddTraces(std::move(decoded_request));  // queued; written with others in one
//   (*store)->Flush();                                //   transaction by the writer thread
//   std::string json = (*store)->TraceJson("4bf92f35...");  // docs/VIEW-API.md shapes
//
// What is stored: every span with its resource's service.name, the whole span as the API's JSON
// (built once, at ingest), per trace its start, end, span and error counts, root span and
// services, and each distinct attribute key=value of its spans and resources (for search); log
// records (by trace when they carry a trace id); the latest point of every metric series (a
// series is the metric name, its resource and the point's attributes; an older point than the
// one stored does not replace it). A span that arrives twice (an exporter's retry) is stored
// once.
//
// Size cap: after a batch, when the database's used pages exceed `max_bytes`, the traces that
// started first are deleted (with their logs) until it is under the cap again; metrics are kept
// (one row per series).
//
// Errors: Open fails with kFailedPrecondition and a message naming the file (not a database,
// written by another version, unreadable, or read-only — a file nobody may write is refused
// even for root). A write that fails later (disk full, the file made
// read-only) is reported once through `on_error`, the batch is dropped (the data already stored
// stays), and the store keeps serving reads.
//
// Writes: one transaction per batch of queued requests (at most a few thousand items, so that
// readers are not kept waiting). Reads of a file database go through a second connection and
// see the last committed batch without waiting for the writer.
//
// Threading: every method is thread-safe. The writer thread is the store's own.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/exporter/otlp_decoder.h"
#include "otlp/exporter/otlp_logs_decoder.h"
#include "otlp/exporter/otlp_metrics_decoder.h"

namespace otlp::view {

struct StoreOptions {
  // SQLite database file; empty: in memory (lost at exit).
  std::string path;
  // Largest size of the stored data; 0: no cap. The oldest traces go first.
  size_t max_bytes = 0;
  // Called (on the writer thread) when writing a batch failed.
  std::function<void(const Status&)> on_error;
  // Spans, log records and metric data points waiting for the writer, at most. A request that
  // would exceed it is refused (Add* returns false; the receivers answer "try again later"), so
  // a writer that falls behind bounds the memory instead of growing without limit. With a
  // size cap, at most max_bytes / 8192 (and at least 1,000).
  size_t max_queued_items = 100000;
  // Called (on the writer thread) after a batch was written, with the ids of the traces that
  // received spans in it (lowercase hex).
  std::function<void(const std::vector<std::string>& trace_ids)> on_traces_written;
};

// Filters of the trace list (docs/VIEW-API.md, GET /api/traces).
struct TraceQuery {
  std::string service;
  std::string span_name;
  std::vector<std::pair<std::string, std::string>> attributes;  // key = value, as text
  std::optional<uint64_t> min_duration_ns;
  enum class StatusFilter { kAny, kError, kOk } status = StatusFilter::kAny;
  std::optional<uint64_t> start_unix_nano;  // trace started at or after
  std::optional<uint64_t> end_unix_nano;    // trace started at or before
  size_t limit = 100;
};

struct StoreStats {
  uint64_t traces = 0;
  uint64_t spans = 0;
  uint64_t logs = 0;
  uint64_t metric_series = 0;
  uint64_t db_bytes = 0;
};

// One stored span, as the terminal waterfall needs it.
struct StoredSpan {
  std::string span_id;
  std::string parent_span_id;  // "" for a root
  std::string service;
  std::string name;
  int kind = 0;  // OTLP SpanKind numbers
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
  int status = 0;  // 0 unset, 1 ok, 2 error
  std::string status_message;
  // The attributes as text (key, value), in order.
  std::vector<std::pair<std::string, std::string>> attributes;
};

// The API's name of an OTLP span kind: "internal", "server", "client", "producer", "consumer";
// "unspecified" for 0 and unknown values.
OTLP_EXPORT const char* SpanKindName(int kind) noexcept;

class OTLP_EXPORT Store {
 public:
  static Result<std::unique_ptr<Store>> Open(StoreOptions options);
  ~Store();  // writes what is queued, then closes
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Queue decoded requests for the writer thread. Never blocks on the database. False (and
  // nothing queued) when the queue is full: see StoreOptions::max_queued_items.
  [[nodiscard]] bool AddTraces(exporter::decoded::TraceRequest request);
  [[nodiscard]] bool AddLogs(exporter::decoded::LogsRequest request);
  [[nodiscard]] bool AddMetrics(exporter::decoded::MetricsRequest request);
  // Waits until everything queued before the call is written (or failed).
  void Flush();

  // The JSON API's answers (docs/VIEW-API.md), as JSON text.
  std::string ServicesJson();
  std::string TracesJson(const TraceQuery& query);
  // nullopt: no such trace.
  std::optional<std::string> TraceJson(const std::string& trace_id);
  std::string ServiceMapJson();
  std::string MetricsJson();
  std::string StatsJson();

  StoreStats Stats();
  // The spans of a trace, by start time (empty when unknown).
  std::vector<StoredSpan> TraceSpans(const std::string& trace_id);
  // Writes every stored trace, oldest first, as one OTLP/JSON ExportTraceServiceRequest per
  // line (JSON Lines): the spans as received, with their resources and scopes, readable by any
  // OTLP receiver or `otlp view` itself. Returns the number of lines.
  Result<uint64_t> ExportJsonLines(std::ostream& out);

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace otlp::view
