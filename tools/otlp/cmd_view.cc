// otlp view — a local OTLP backend: receives traces, logs and metrics over OTLP/HTTP and
// OTLP/gRPC, stores them in SQLite, draws each finished trace as a waterfall on the terminal and
// serves a web UI.
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>

#include "commands.h"
#include "common.h"
#include "otlp/view/viewer.h"
#include "otlp/view/waterfall.h"
#include "stop_signals.h"

namespace otlp::cli {
namespace {

const Command& ViewCommand() {
  static const Command cmd{
      .name = "view",
      .summary = "a local OTLP backend: trace waterfalls in the terminal and the browser",
      .usage = "otlp view [flags]",
      .description =
          "Receives OTLP traces, logs and metrics over HTTP (POST /v1/traces, /v1/logs,\n"
          "/v1/metrics: protobuf or JSON, gzip) and gRPC (h2c), answering as a collector does;\n"
          "stores them in SQLite (in memory unless --db is given); prints each trace as a\n"
          "waterfall once no new span arrived for --quiet seconds; and serves a web UI (trace\n"
          "list and search, trace waterfall, span details and logs, service map, metrics) with\n"
          "a JSON API (docs/VIEW-API.md).\n"
          "Point a program at it with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318.\n"
          "Ports given as 0 are chosen by the system; the addresses are printed at start.\n"
          "Stops on Ctrl-C (SIGINT) or SIGTERM. Exit status: 0, 1 when it cannot start, 2 usage.",
      .flags =
          {
              {.name = "listen", .value = "HOST", .help = "Address to listen on (default 127.0.0.1)"},
              {.name = "http", .value = "PORT", .help = "OTLP/HTTP port (default 4318)"},
              {.name = "grpc", .value = "PORT", .help = "OTLP/gRPC port (default 4317)"},
              {.name = "no-grpc", .help = "No OTLP/gRPC receiver"},
              {.name = "ui", .value = "PORT", .help = "Web UI port (default 4320)"},
              {.name = "no-ui", .help = "No web UI"},
              {.name = "db", .value = "FILE", .help = "SQLite database file (kept across restarts)"},
              {.name = "max-db-mb",
               .value = "N",
               .help = "Keep the stored data under N MiB, dropping the oldest traces"},
              {.name = "max-body-mb",
               .value = "N",
               .help = "Largest OTLP request accepted (default 20; larger: 413)"},
              {.name = "quiet",
               .value = "S",
               .help = "Seconds without a new span after which a trace is drawn (default 1.5)"},
              {.name = "no-waterfall", .help = "Do not print waterfalls"},
              {.name = "forward",
               .value = "URL",
               .help = "Also send everything received to this OTLP/HTTP collector\n"
                       "(e.g. http://collector:4318), unchanged"},
              {.name = "color", .value = "WHEN", .help = "auto (default), always or never"},
              {.name = "export",
               .value = "FILE",
               .help = "Write the traces stored in --db to FILE as OTLP/JSON lines (one\n"
                       "ExportTraceServiceRequest per trace, oldest first) and exit; - is stdout"},
          },
      .examples = "  otlp view\n"
                  "  otlp view --db traces.db --max-db-mb 512\n"
                  "  otlp view --db traces.db --export traces.jsonl\n"
                  "  OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 ./my-service\n"};
  return cmd;
}

bool PositiveNumberFlag(const ParsedFlags& flags, std::string_view name, double& out,
                        std::string& error) {
  auto v = flags.Get(name);
  if (!v) return true;
  double d = 0;
  auto r = std::from_chars(v->data(), v->data() + v->size(), d);
  if (r.ec != std::errc() || r.ptr != v->data() + v->size() || !(d > 0)) {
    error = "--" + std::string(name) + " takes a positive number, not '" + *v + "'";
    return false;
  }
  out = d;
  return true;
}

// --export: the stored traces as OTLP/JSON lines, without starting any server.
int Export(const Command& cmd, const ParsedFlags& flags, const std::string& file) {
  auto db = flags.Get("db");
  if (!db) return UsageError(cmd, "--export reads the database given with --db");
  if (!std::filesystem::exists(*db)) {
    PrintError(cmd, "no database at '" + *db + "'");
    return 1;
  }
  auto store = view::Store::Open({.path = *db});
  if (!store.ok()) {
    PrintError(cmd, store.status().message());
    return 1;
  }
  std::ofstream out;
  if (file != "-") {
    out.open(file, std::ios::binary | std::ios::trunc);
    if (!out) {
      PrintError(cmd, "cannot write '" + file + "': " + std::strerror(errno));
      return 1;
    }
  }
  auto lines = (*store)->ExportJsonLines(file == "-" ? std::cout : out);
  if (!lines.ok()) {
    PrintError(cmd, "exporting to '" + file + "': " + lines.status().message());
    return 1;
  }
  std::fprintf(stderr, "otlp view: wrote %llu trace%s to %s\n",
               static_cast<unsigned long long>(*lines), *lines == 1 ? "" : "s",
               file == "-" ? "stdout" : file.c_str());
  return 0;
}

}  // namespace

int RunView(std::span<const std::string> args) {
  const Command& cmd = ViewCommand();
  ParsedFlags flags;
  if (auto exit_code = ParseOrExit(cmd, args, flags)) return *exit_code;
  std::string error;
  view::ViewerOptions options;
  uint64_t http_port = 4318, grpc_port = 4317, ui_port = 4320;
  double max_db_mb = 0, max_body_mb = 20, quiet = 1.5;
  if (!UnsignedFlag(flags, "http", 0, 65535, http_port, error) ||
      !UnsignedFlag(flags, "grpc", 0, 65535, grpc_port, error) ||
      !UnsignedFlag(flags, "ui", 0, 65535, ui_port, error) ||
      !PositiveNumberFlag(flags, "max-db-mb", max_db_mb, error) ||
      !PositiveNumberFlag(flags, "max-body-mb", max_body_mb, error) ||
      !PositiveNumberFlag(flags, "quiet", quiet, error)) {
    return UsageError(cmd, error);
  }
  if (auto file = flags.Get("export")) return Export(cmd, flags, *file);
  const std::string color = flags.Get("color").value_or("auto");
  if (color != "auto" && color != "always" && color != "never") {
    return UsageError(cmd, "--color takes auto, always or never, not '" + color + "'");
  }
  options.host = flags.Get("listen").value_or("127.0.0.1");
  options.http_port = static_cast<uint16_t>(http_port);
  options.grpc_port = flags.Has("no-grpc") ? std::nullopt
                                           : std::optional<uint16_t>(static_cast<uint16_t>(grpc_port));
  options.ui_port = flags.Has("no-ui") ? std::nullopt
                                       : std::optional<uint16_t>(static_cast<uint16_t>(ui_port));
  options.db_path = flags.Get("db").value_or("");
  options.max_db_bytes = static_cast<size_t>(max_db_mb * 1024 * 1024);
  options.max_body_bytes = static_cast<size_t>(max_body_mb * 1024 * 1024);
  options.quiet_period = std::chrono::milliseconds(static_cast<int64_t>(quiet * 1000));
  options.forward_url = flags.Get("forward").value_or("");

  static std::mutex print_mu;  // waterfalls and warnings come from the viewer's threads
  const view::WaterfallOptions waterfall{
      .color = color == "always" || (color == "auto" && isatty(STDOUT_FILENO) == 1),
      .width = 120};
  if (!flags.Has("no-waterfall")) {
    options.on_trace_complete = [waterfall](const std::string& id,
                                            const std::vector<view::StoredSpan>& spans) {
      const std::string text = view::RenderWaterfall(id, spans, waterfall);
      std::lock_guard lock(print_mu);
      std::fputs(("\n" + text).c_str(), stdout);
      std::fflush(stdout);
    };
  }
  options.on_warning = [](const std::string& message) {
    std::lock_guard lock(print_mu);
    std::fprintf(stderr, "otlp view: %s\n", message.c_str());
  };

  // Before any thread starts, so that only Wait() below takes SIGINT/SIGTERM.
  auto stop = StopSignals::Install();
  if (!stop.ok()) {
    PrintError(cmd, stop.status().message());
    return 1;
  }
  auto viewer = view::Viewer::Start(std::move(options));
  if (!viewer.ok()) {
    PrintError(cmd, viewer.status().message());
    return 1;
  }
  {
    std::lock_guard lock(print_mu);
    std::printf("otlp view: OTLP/HTTP on %s\n", (*viewer)->otlp_http_url().c_str());
    if (!(*viewer)->otlp_grpc_address().empty()) {
      std::printf("otlp view: OTLP/gRPC on %s\n", (*viewer)->otlp_grpc_address().c_str());
    }
    if (!(*viewer)->ui_url().empty()) {
      std::printf("otlp view: UI on %s\n", (*viewer)->ui_url().c_str());
    }
    if (!(*viewer)->forward_url().empty()) {
      std::printf("otlp view: forwarding to %s/v1/traces\n", (*viewer)->forward_url().c_str());
    }
    std::printf("otlp view: storing in %s; Ctrl-C to stop\n",
                flags.Get("db") ? flags.Get("db")->c_str() : "memory");
    std::fflush(stdout);
  }
  (*stop)->Wait(StopSignals::Clock::time_point::max());
  (*viewer)->Stop();
  const view::StoreStats stats = (*viewer)->store().Stats();
  std::printf("otlp view: stopped (%llu traces, %llu spans stored)\n",
              static_cast<unsigned long long>(stats.traces),
              static_cast<unsigned long long>(stats.spans));
  return 0;
}

}  // namespace otlp::cli
