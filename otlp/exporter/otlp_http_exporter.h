// otlp/exporter/otlp_http_exporter.h — the OTLP span exporter: encodes batches as protobuf
// or JSON, optionally gzips them, POSTs them to a collector over keep-alive HTTP/1.1 (TLS for
// https) — or, with OtlpProtocol::kGrpc (OTEL_EXPORTER_OTLP_PROTOCOL=grpc), sends them as unary
// TraceService/Export calls over one reused HTTP/2 connection (h2c for http://, TLS with ALPN h2
// for https://) — and retries what the OTLP specification says to retry.
//
//   // Everything from OTEL_EXPORTER_OTLP_* (endpoint, headers, timeout, TLS, ...):
//   otlp::config::Reader env;
//   auto exporter = otlp::exporter::OtlpHttpExporter::Create({}, &env);
//   if (!exporter.ok()) { std::cerr << exporter.status().ToString() << "\n"; return 1; }
//
//   // Or from code (code wins over the environment, which wins over the defaults):
//   auto e = otlp::exporter::OtlpHttpExporter::Create({
//       .endpoint = "https://collector.example:4318/v1/traces",
//       .headers = otlp::net::Headers{{"authorization", "Bearer abc"}},
//       .compression = otlp::exporter::Compression::kGzip});
//
// Delivery. Export() encodes the batch on the calling thread (the spans are only valid during
// the call) and hands the request to one of `max_concurrent_requests` sender threads, returning
// kSuccess once it is accepted; it blocks while that many requests are already in flight, which
// pushes back on the span processor. So the next batch is encoded while the previous one is on
// the wire. With `synchronous = true` Export() sends on the calling thread and returns the real
// outcome. Either way, the outcome of every batch is counted in stats() and failures are logged.
//
// Retries: HTTP 429/502/503/504 and connections lost or refused are retried with exponential
// backoff and jitter (RetryPolicy), honouring Retry-After on 429/503 (capped at 30 s). Every
// attempt and every wait lies within the export timeout, counted from the start of the first
// attempt: when the next wait would pass it, the batch is given up and counted as failed. Other
// statuses (400 ...) are final; the collector's google.rpc.Status message is logged. A 2xx with
// partial_success logs the rejected count and message, counts the rejected spans, and is not
// retried.
//
// Shutdown(timeout) makes later exports fail fast and wakes any backoff wait (that batch is
// given up), then waits for what is queued or on the wire, at most `timeout`: at the deadline the
// requests still in flight are cancelled and nothing more is sent; the spans not delivered are
// counted in stats().spans_dropped_at_shutdown (and spans_failed) and reported in one warning.
// A 2xx whose body is cut short counts as delivered (the status is the answer; resending would
// store duplicates) and is logged.
//
// gRPC: the gRPC status decides; CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE,
// UNAVAILABLE and DATA_LOSS are retried, RESOURCE_EXHAUSTED only when its
// grpc-status-details-bin carries a google.rpc.RetryInfo (whose retry_delay replaces the
// backoff, capped like Retry-After); every other code is final. grpc-timeout is the time left
// of the export timeout; compression gzip compresses the message (grpc-encoding: gzip).
//
// The protocol specifics live in a Transport (transport.h); retries, backoff, partial success
// and shutdown are the same for every transport.
//
// Threading: Export is never called concurrently (SpanExporter contract); ForceFlush, Shutdown
// and stats() may be called from any thread at any time. The destructor shuts down at once
// (Shutdown(0)) if that has not happened, and joins the sender threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "otlp/core/config.h"
#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/exporter/exporter_stats.h"
#include "otlp/exporter/retry.h"
#include "otlp/net/http_client.h"
#include "otlp/trace/exporter.h"

namespace otlp::exporter {

enum class OtlpProtocol : unsigned char {
  kHttpProtobuf,  // application/x-protobuf (default)
  kHttpJson,      // application/json (OTLP/JSON)
  kGrpc,          // OTLP/gRPC (protobuf over HTTP/2)
};
enum class Compression : unsigned char { kNone, kGzip };

struct OtlpHttpExporterOptions {
  // Fields left unset come from OTEL_EXPORTER_OTLP_[TRACES_]* when Create gets a Reader,
  // otherwise from the defaults noted here.

  // Full URL of the traces endpoint, used as is. Default: http://localhost:4318/v1/traces, or
  // the environment (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is; OTEL_EXPORTER_OTLP_ENDPOINT with
  // "v1/traces" appended). Without a scheme ("collector:4318/v1/traces"), `insecure` picks
  // http (true) or https (false). gRPC: the base URL, default http://localhost:4317, and
  // OTEL_EXPORTER_OTLP_ENDPOINT is used as is too; a path other than "/" is a prefix of the
  // method path /opentelemetry.proto.collector.trace.v1.TraceService/Export.
  std::optional<std::string> endpoint{};
  std::optional<OtlpProtocol> protocol{};  // default http/protobuf
  // (headers, below: with gRPC also `te` and `grpc-*` names are the exporter's own.)
  // Extra request headers. When given in code they replace the environment's list.
  std::optional<net::Headers> headers{};
  // Longest time one batch may take, all attempts and backoff waits included. Zero means no
  // limit (each attempt then uses 30 s and max_attempts bounds the retries). Default 10 s.
  std::optional<std::chrono::milliseconds> timeout{};
  std::optional<Compression> compression{};  // default none
  // TLS (https endpoints): PEM files. CA bundle default: the system store.
  std::optional<std::string> certificate_file{};
  std::optional<std::string> client_key_file{};
  std::optional<std::string> client_certificate_file{};
  // Only for an endpoint without a scheme: true = plain http. A scheme in the URL wins.
  std::optional<bool> insecure{};

  // The I/O runtime to use. Null: a caller-driven one, so that each sender thread runs the I/O
  // of the request it sends (no hand-off to an I/O thread and back).
  std::shared_ptr<net::Runtime> runtime{};
  RetryPolicy retry{};
  // Requests in flight at once (≥ 1), i.e. sender threads. One already overlaps encoding of the
  // next batch with sending of the previous one, which keeps a batch processor's single export
  // thread busy; raise it for high-latency links (throughput ≈ concurrency × batch / latency).
  size_t max_concurrent_requests = 1;
  // Send on the calling thread and return the real outcome from Export (no pipelining).
  bool synchronous = false;
};

// The options after applying code, environment and defaults; what the exporter runs with.
struct OtlpHttpExporterConfig {
  std::string endpoint{};  // absolute http(s) URL (gRPC: the base URL)
  OtlpProtocol protocol = OtlpProtocol::kHttpProtobuf;
  net::Headers headers{};
  std::chrono::milliseconds timeout{10000};  // zero = no limit
  Compression compression = Compression::kNone;
  net::TlsOptions tls;
  std::string user_agent;
  RetryPolicy retry;
  size_t max_concurrent_requests = 1;
  bool synchronous = false;
};

class OTLP_EXPORT OtlpHttpExporter final : public trace::SpanExporter {
 public:
  // Resolves the options (see OtlpHttpExporterOptions) and starts the sender threads. Fails
  // with kInvalidArgument for a bad endpoint URL, header, retry policy or
  // unreadable TLS file. Problems in the environment do not fail: they are added to
  // env->warnings() (the caller reports them) and the default applies.
  static Result<std::unique_ptr<OtlpHttpExporter>> Create(OtlpHttpExporterOptions options,
                                                          config::Reader* env = nullptr);
  // Only the resolution step of Create (no threads, no network); for tests and `otlp config`.
  static Result<OtlpHttpExporterConfig> ResolveOptions(const OtlpHttpExporterOptions& options,
                                                       config::Reader* env = nullptr);

  ~OtlpHttpExporter() override;
  OtlpHttpExporter(const OtlpHttpExporter&) = delete;
  OtlpHttpExporter& operator=(const OtlpHttpExporter&) = delete;

  trace::ExportResult Export(std::span<const trace::SpanData* const> spans) noexcept override;
  // Waits until every accepted batch has been delivered or given up; false on timeout.
  bool ForceFlush(std::chrono::microseconds timeout) noexcept override;
  // See the top of this file. True when everything finished within `timeout`.
  bool Shutdown(std::chrono::microseconds timeout) noexcept override;

  ExporterStats stats() const noexcept;
  const OtlpHttpExporterConfig& config() const noexcept;

 private:
  struct Impl;
  explicit OtlpHttpExporter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace otlp::exporter
