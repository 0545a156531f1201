// otlp/view/viewer.h — `otlp view` as a library: a local OTLP backend. It receives OTLP traces,
// logs and metrics over HTTP (POST /v1/traces, /v1/logs, /v1/metrics: protobuf or JSON,
// optionally gzip) and gRPC (TraceService, LogsService and MetricsService Export, h2c),
// answers exactly as a collector does, stores what it receives (store.h), serves the web UI and
// its JSON API (docs/VIEW-API.md) on a third port, and tells the caller when a trace looks
// complete (no new span for `quiet_period`) so it can be drawn (waterfall.h).
//
//   auto viewer = otlp::view::Viewer::Start({
//       .http_port = 4318, .grpc_port = 4317, .ui_port = 4320,
//       .on_trace_complete = [](const std::string& id, const std::vector<StoredSpan>& spans) {
//         std::fputs(otlp::view::RenderWaterfall(id, spans).c_str(), stdout);
//       }});
//   if (!viewer.ok()) return viewer.status();   // a port in use, a bad --db file, ...
//   std::printf("UI on %s\n", (*viewer)->ui_url().c_str());
//
// Answers of the OTLP/HTTP receiver (OTLP specification, "OTLP/HTTP"):
//   200  Export*ServiceResponse (in the request's encoding); with partial_success
//        {rejected_spans | rejected_log_records | rejected_data_points, error_message} when
//        spans or log records had invalid ids, or metrics had no name
//   400  the body does not decode (google.rpc.Status with the decoder's message)
//   404  an unknown path; 405 a method other than POST
//   413  the body (or its inflated size) is over max_body_bytes
//   415  a Content-Type other than application/x-protobuf / application/json, or a
//        Content-Encoding other than gzip / identity
//   503  with Retry-After: the store is behind (its queue is full); exporters retry
// The gRPC receiver answers grpc-status 0 with the response message, 3 INVALID_ARGUMENT for an
// undecodable message, 8 RESOURCE_EXHAUSTED over the limit, 12 UNIMPLEMENTED for another method,
// 14 UNAVAILABLE (retried by exporters) while the store is behind.
// What is kept of logs and metrics: see store.h.
//
// Threading: callbacks run on the viewer's own threads; Stop() (also by the destructor) stops the
// servers, writes what is queued and returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/view/store.h"

namespace otlp::view {

struct ViewerOptions {
  std::string host = "127.0.0.1";
  uint16_t http_port = 4318;                 // 0: any free port
  std::optional<uint16_t> grpc_port = 4317;  // nullopt: no gRPC receiver
  std::optional<uint16_t> ui_port = 4320;    // nullopt: no web UI
  std::string db_path;                       // empty: in memory
  size_t max_db_bytes = 0;                   // 0: no cap
  size_t max_body_bytes = 20u << 20;         // larger requests are answered 413
  std::chrono::milliseconds quiet_period{1500};
  // Spans, log records and metric points received but not yet written, at most (memory
  // bound); beyond it requests are answered 503 / UNAVAILABLE until the store catches up.
  size_t max_queued_items = 100000;
  // Also send every accepted trace request, unchanged, to this OTLP/HTTP collector (base URL,
  // e.g. "http://collector:4318"; /v1/traces is appended). gRPC requests go there as
  // OTLP/HTTP protobuf. At most 64 requests are in flight; beyond that, and when the collector
  // fails, requests are not forwarded and on_warning says how many were lost.
  std::string forward_url;
  // A trace got no new span for quiet_period (again, when more spans arrive later).
  std::function<void(const std::string& trace_id, const std::vector<StoredSpan>& spans)>
      on_trace_complete;
  // Problems worth telling the user (a failed database write); never fatal.
  std::function<void(const std::string& message)> on_warning;
};

class OTLP_EXPORT Viewer {
 public:
  static Result<std::unique_ptr<Viewer>> Start(ViewerOptions options);
  ~Viewer();
  Viewer(const Viewer&) = delete;
  Viewer& operator=(const Viewer&) = delete;

  // "http://127.0.0.1:4318" (no trailing slash), "127.0.0.1:4317", "http://127.0.0.1:4320/";
  // empty when that listener is off.
  std::string otlp_http_url() const;
  std::string otlp_grpc_address() const;
  std::string ui_url() const;

  Store& store();
  // ViewerOptions::forward_url without a trailing slash; empty when not forwarding.
  std::string forward_url() const;
  // Requests forwarded and accepted (2xx) by forward_url, and those that were not. After Stop()
  // (which lets forwards in flight finish, for up to two seconds) they are final.
  uint64_t forwarded() const;
  uint64_t forward_failures() const;
  void Stop();

  struct Impl;

 private:
  explicit Viewer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace otlp::view
