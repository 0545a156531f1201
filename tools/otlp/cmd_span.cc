// otlp span — emits one span and prints its traceparent, so shell scripts can chain spans.
#include <cstdio>
#include <string>

#include "commands.h"
#include "common.h"
#include "final_flush.h"
#include "otlp/core/version.h"

namespace otlp::cli {
namespace {

const Command& SpanCommand() {
  static const Command cmd = [] {
    Command c{
        .name = "span",
        .summary = "emit one span and print its traceparent",
        .usage = "otlp span --name N [flags]",
        .description =
            "Creates one span and exports it (OTLP by default; OTEL_TRACES_EXPORTER=console\n"
            "prints it on stderr). Its parent is --traceparent, else the TRACEPARENT\n"
            "environment variable (with --tracestate / TRACESTATE); an invalid one starts a new\n"
            "trace with a warning. The new span's traceparent (00-<trace>-<span>-<flags>) is\n"
            "printed on stdout (with OTEL_SDK_DISABLED=true: the parent's, or nothing).\n"
            "The export is flushed before exit, bounded by the export timeout\n"
            "(OTEL_EXPORTER_OTLP_TIMEOUT, 10 s; when 0, OTEL_BSP_EXPORT_TIMEOUT, 30 s); a span\n"
            "not exported is a warning, not an error. Exit status: 0, or 2 for bad usage.\n"
            "\n"
            "Attribute values (--attr) are strings unless typed:\n"
            "  k=v  k:string=v  k:int=5  k:double=1.5  k:bool=true\n"
            "  k:int[]=1,2  k:double[]=1.5,2  k:bool[]=true,false  k:string[]=a,b\n"
            "The text after the last ':' of the key is its type (one of those above, any\n"
            "case); so a key that contains ':' needs one: url:path:string=/x sets url:path.\n"
            "Times (--start, --end): Unix seconds with an optional fraction ($(date +%s.%N)),\n"
            "an integer with a unit (1714564800123ms; ns, us, ms, s), or RFC 3339\n"
            "(2024-05-01T12:00:00.5Z, 2024-05-01T14:00:00+02:00). Default: now.",
        .flags =
            {
                {.name = "name", .value = "NAME", .help = "Span name (required)"},
                {.name = "kind",
                 .value = "KIND",
                 .help = "internal (default), server, client, producer or consumer"},
                {.name = "attr",
                 .value = "K=V",
                 .help = "Attribute (typed forms above)",
                 .repeated = true},
                {.name = "status", .value = "S", .help = "ok, error or unset (default)"},
                {.name = "status-message",
                 .value = "MSG",
                 .help = "Status description; implies --status error"},
                {.name = "start", .value = "T", .help = "Start time (default: now)"},
                {.name = "end", .value = "T", .help = "End time (default: now)"},
                {.name = "traceparent",
                 .value = "TP",
                 .help = "Parent context (default: $TRACEPARENT)"},
                {.name = "tracestate",
                 .value = "TS",
                 .help = "Parent tracestate (default: $TRACESTATE)"},
            },
        .examples =
            "  export TRACEPARENT=$(otlp span --name build --kind server)\n"
            "  start=$(date +%s.%N); make test; \\\n"
            "    otlp span --name test --start \"$start\" --attr suite=unit --attr "
            "failures:int=0\n"
            "  otlp span --name deploy --status error --status-message \"rollout timed out\" \\\n"
            "    --endpoint http://collector:4318 --service release-pipeline\n"};
    for (FlagSpec& f : ExportFlags()) c.flags.push_back(f);
    return c;
  }();
  return cmd;
}

}  // namespace

int RunSpan(std::span<const std::string> args) {
  const Command& cmd = SpanCommand();
  ParsedFlags flags;
  if (auto exit_code = ParseOrExit(cmd, args, flags)) return *exit_code;
  std::string error;

  std::string name = flags.Get("name").value_or("");
  if (name.empty()) return UsageError(cmd, "--name is required");

  trace::StartOptions start_options;
  if (auto k = flags.Get("kind"); k && !ParseSpanKind(*k, start_options.kind)) {
    return UsageError(cmd, "invalid --kind '" + *k +
                               "' (expected internal, server, client, producer or consumer)");
  }

  AttributeList attrs;
  for (const std::string& a : flags.GetAll("attr")) {
    if (!attrs.Add(a, error)) return UsageError(cmd, error);
  }

  std::optional<trace::SpanStatusCode> status;
  if (auto s = flags.Get("status")) {
    if (*s == "ok")
      status = trace::SpanStatusCode::kOk;
    else if (*s == "error")
      status = trace::SpanStatusCode::kError;
    else if (*s == "unset")
      status = trace::SpanStatusCode::kUnset;
    else
      return UsageError(cmd, "invalid --status '" + *s + "' (expected ok, error or unset)");
  }
  std::optional<std::string> status_message = flags.Get("status-message");
  if (status_message) {
    if (status && *status != trace::SpanStatusCode::kError) {
      return UsageError(cmd, "--status-message needs --status error");
    }
    status = trace::SpanStatusCode::kError;
  }

  std::optional<trace::SystemTime> start, end;
  for (auto [flag, slot] : {std::pair{"start", &start}, std::pair{"end", &end}}) {
    if (auto t = flags.Get(flag)) {
      trace::SystemTime tp;
      if (!ParseTimestamp(*t, tp, error))
        return UsageError(cmd, "--" + std::string(flag) + ": " + error);
      *slot = tp;
    }
  }
  const trace::SystemTime now = std::chrono::system_clock::now();
  if (end && *end < start.value_or(now)) {
    return UsageError(cmd, "--end is before the span's start");
  }
  if (start && !end && *start > now) {
    return UsageError(cmd, "--start is in the future (give --end too)");
  }

  SetupOptions setup;
  if (!ApplyExportFlags(flags, setup, error)) return UsageError(cmd, error);

  trace::SpanContext parent = ParentContext(cmd, flags);
  std::unique_ptr<Sdk> sdk = SetupOrReport(cmd, std::move(setup));
  if (!sdk) return 2;

  start_options.root = true;  // only the explicit parent counts
  if (parent.IsValid()) start_options.parent = parent;
  start_options.start_time = start;
  trace::Span span =
      sdk->GetTracer("otlp-cli", kVersion).StartSpan(name, attrs.view(), start_options);
  if (status) span.SetStatus(*status, status_message.value_or(""));
  span.End(end);

  std::string traceparent = span.GetContext().ToTraceparent();
  if (!traceparent.empty()) {
    traceparent += "\n";
    std::fputs(traceparent.c_str(), stdout);
  }
  std::fflush(stdout);
  const FlushOutcome flush = FinalFlush(*sdk, nullptr);
  ReportUndelivered(cmd, flush, CountDelivery(*sdk, span.GetContext().IsSampled() ? 1 : 0));
  if (!flush.clean()) ExitNow(0);
  return 0;
}

}  // namespace otlp::cli
