// tools/otlp/common.h — what several `otlp` commands share: the exporter flags (--service,
// --endpoint, --protocol) and how they become SetupOptions, span kinds, typed attributes,
// timestamps, and the parent context from --traceparent or TRACEPARENT.
//
//   otlp::SetupOptions setup;
//   if (!ApplyExportFlags(flags, setup, error)) return UsageError(cmd, error);
//   AttributeList attrs;
//   for (const auto& a : flags.GetAll("attr")) if (!attrs.Add(a, error)) …;
//   tracer.StartSpan(name, attrs.view(), {...});
//
// Threading: plain functions and values; AttributeList is used by one thread.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flags.h"
#include "otlp/core/attributes.h"
#include "otlp/otlp.h"
#include "otlp/trace/span.h"
#include "otlp/trace/span_context.h"
#include "otlp/trace/span_data.h"

namespace otlp::cli {

// --service, --endpoint, --protocol, for every command that exports.
std::vector<FlagSpec> ExportFlags();

// Copies the export flags into `options` (they win over OTEL_*). --endpoint without a path
// ("http://host:4318", "host:4318") gets "/v1/traces" appended, like OTEL_EXPORTER_OTLP_ENDPOINT;
// a URL with a path is used as is. Without a scheme it is plain http. False with a one-line
// `error` for a bad value.
bool ApplyExportFlags(const ParsedFlags& flags, SetupOptions& options, std::string& error);
// The traces URL --endpoint resolves to (exposed for tests).
std::string EndpointFromFlag(std::string_view value);

// "internal", "server", "client", "producer", "consumer" (case-insensitive).
bool ParseSpanKind(std::string_view text, trace::SpanKind& out);

// Attributes from --attr flags, kept alive for the KeyValue views handed to the SDK.
//   k=v             string
//   k:string=v      string (for keys containing ':')
//   k:int=5         64-bit integer
//   k:double=1.5    double (finite)
//   k:bool=true     true or false
//   k:int[]=1,2,3   arrays: int[], double[], bool[], string[] (comma-separated, no escaping)
// The text after the key's last ':' is always the type (case-insensitive); any other type is an
// error, so a key containing ':' needs an explicit one ("http:x:string=1" is the key "http:x";
// "http:x=1" and "n:integer=5" are errors). Keys must not be empty.
class AttributeList {
 public:
  bool Add(std::string_view text, std::string& error);
  void AddString(std::string_view key, std::string_view value);
  void AddInt(std::string_view key, int64_t value);
  void AddStringArray(std::string_view key, const std::vector<std::string>& values);
  const std::vector<KeyValue>& view() const noexcept { return kvs_; }

 private:
  std::string_view Keep(std::string_view s);
  // Stable storage (deques never move their elements on push_back).
  std::deque<std::string> strings_;
  std::deque<std::vector<int64_t>> ints_;
  std::deque<std::vector<double>> doubles_;
  std::deque<std::unique_ptr<bool[]>> bools_;
  std::deque<std::vector<std::string_view>> views_;
  std::vector<KeyValue> kvs_;
};

// A point in time from the command line:
//   1714564800.123456789   Unix seconds, optional fraction (`date +%s.%N`)
//   1714564800123ms        an integer with unit ns, us, ms or s (Unix epoch)
//   2024-05-01T12:00:00.5Z RFC 3339 (Z or ±hh:mm offset; 't', 'z' and a space accepted)
bool ParseTimestamp(std::string_view text, trace::SystemTime& out, std::string& error);

// The parent: --traceparent/--tracestate when given, else the TRACEPARENT/TRACESTATE
// environment variables, read with the W3C Trace Context propagator. An invalid value gives an
// invalid context and a warning line on stderr ("otlp <command>: warning: …").
trace::SpanContext ParentContext(const Command& command, const ParsedFlags& flags);

// Prints "otlp <command>: <message>" on stderr.
void PrintError(const Command& command, std::string_view message);

// Runs otlp::Setup; on failure prints the error and returns null (exit code 2 is the caller's).
std::unique_ptr<Sdk> SetupOrReport(const Command& command, SetupOptions options);

}  // namespace otlp::cli
