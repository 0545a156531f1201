// otlp/exporter/otlp_logs_decoder.h — reads OTLP ExportLogsServiceRequest bodies (protobuf or
// OTLP/JSON, optionally gzip-compressed) back into resources, scopes and log records that own
// their memory: what a test collector or a log receiver needs.
//
//   using namespace otlp::exporter;
//   Result<decoded::LogsRequest> req =
//       DecodeLogsRequest(body, OtlpEncoding::kJson, /*gzip=*/true);
//   if (!req.ok()) { ... }      // kInvalidArgument (400) or kResourceExhausted (413)
//   for (const decoded::ResourceLogs& rl : req->resource_logs)
//     for (const decoded::ScopeLogs& sl : rl.scope_logs)
//       for (const decoded::LogRecord& log : sl.log_records) Store(rl.resource, sl.scope, log);
//   if (req->rejected_log_records > 0) { /* partial_success{rejected_log_records, rejection} */ }
//
// What is accepted and refused: as for traces (otlp_decoder.h) — the proto3 wire format with
// unknown fields skipped; OTLP/JSON with lowerCamelCase keys, trace and span ids as hex, enums
// as integers, 64-bit integers as numbers or decimal strings; failures name the field path and
// the byte offset or the JSON line and column ("resourceLogs[0].scopeLogs[0].logRecords[1].
// body.stringValue: invalid UTF-8 in a string (line 1, column 93)"); DecodeLimits bound the body
// size, the decoded size and AnyValue nesting (a body counts as an attribute value: depth 1).
//
// Invalid records. trace_id and span_id are optional in a log record (absent, empty or all zero
// means none), but when present they must be 16 and 8 bytes. A record whose id has another
// length (in JSON: an even number of hex digits other than 32 and 16) is well-formed data, so the
// request still decodes: the record is left out, counted in `rejected_log_records` and
// described in `rejection`, which is what a receiver answers as partial success. Hex text that
// is not bytes (an odd number of digits, other characters) is malformed: the request is refused.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/exporter/otlp_decoder.h"
#include "otlp/trace/span_context.h"

namespace otlp::exporter {

namespace decoded {

// logs.v1.LogRecord.
struct LogRecord {
  uint64_t time_unix_nano = 0;
  uint64_t observed_time_unix_nano = 0;
  // logs.v1.SeverityNumber: 0 unspecified, 1-4 trace, 5-8 debug, 9-12 info, 13-16 warn,
  // 17-20 error, 21-24 fatal (other values are kept as received).
  int32_t severity_number = 0;
  std::string severity_text;
  AnyValue body;  // std::monostate when absent
  std::vector<KeyValue> attributes;
  uint32_t dropped_attributes_count = 0;
  uint32_t flags = 0;       // W3C trace flags in bits 0-7
  trace::TraceId trace_id;  // all zero when absent
  trace::SpanId span_id;    // all zero when absent
  std::string event_name;
  friend bool operator==(const LogRecord&, const LogRecord&) = default;
};

struct ScopeLogs {
  Scope scope;
  std::vector<LogRecord> log_records;
  std::string schema_url;
  friend bool operator==(const ScopeLogs&, const ScopeLogs&) = default;
};

struct ResourceLogs {
  Resource resource;
  std::vector<ScopeLogs> scope_logs;
  std::string schema_url;
  friend bool operator==(const ResourceLogs&, const ResourceLogs&) = default;
};

// collector.logs.v1.ExportLogsServiceRequest, with the records that were refused.
struct LogsRequest {
  std::vector<ResourceLogs> resource_logs;
  // Records left out because a trace_id or span_id has the wrong length (see the top of this
  // file); `rejection` describes the first of them ("resource_logs[0].scope_logs[0].
  // log_records[2]: the trace_id has 15 bytes, expected 16 (or none)"). Empty when none.
  uint64_t rejected_log_records = 0;
  std::string rejection;
  // The records kept (rejected ones are not counted).
  size_t log_record_count() const noexcept {
    size_t n = 0;
    for (const ResourceLogs& rl : resource_logs) {
      for (const ScopeLogs& sl : rl.scope_logs) n += sl.log_records.size();
    }
    return n;
  }
};

}  // namespace decoded

// Decodes an uncompressed body.
OTLP_EXPORT Result<decoded::LogsRequest> DecodeLogsRequestProto(std::string_view body,
                                                                const DecodeLimits& limits = {});
OTLP_EXPORT Result<decoded::LogsRequest> DecodeLogsRequestJson(std::string_view body,
                                                               const DecodeLimits& limits = {});
// Decodes a body as received: inflated first when `gzip` (Content-Encoding: gzip), within
// limits.max_body_bytes; corrupt gzip data is kInvalidArgument.
OTLP_EXPORT Result<decoded::LogsRequest> DecodeLogsRequest(std::string_view body,
                                                           OtlpEncoding encoding, bool gzip,
                                                           const DecodeLimits& limits = {});

}  // namespace otlp::exporter
