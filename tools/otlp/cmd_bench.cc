// otlp bench — `trace`: drives the real export pipeline (BatchSpanProcessor → OtlpHttpExporter)
// at full speed or a given rate and reports throughput; `sink`: a local OTLP/HTTP receiver that
// counts spans, to measure against.
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "common.h"
#include "final_flush.h"
#include "otlp/core/internal/mutex.h"
#include "otlp/core/version.h"
#include "otlp/exporter/otlp_decoder.h"
#include "otlp/net/http_server.h"
#include "stop_signals.h"

namespace otlp::cli {
namespace {

using Clock = std::chrono::steady_clock;

const Command& BenchCommand() {
  static const Command cmd{
      .name = "bench",
      .summary = "measure the export pipeline",
      .usage = "otlp bench trace [flags] | otlp bench sink [flags]",
      .description =
          "Subcommands:\n"
          "  trace   generate spans through BatchSpanProcessor + OTLP/HTTP and report rates\n"
          "  sink    receive OTLP/HTTP exports and count spans\n"
          "Run `otlp bench trace --help` or `otlp bench sink --help` for their flags.",
      .examples =
          "  otlp bench sink --port 4318 &\n"
          "  otlp bench trace --seconds 5 --endpoint http://127.0.0.1:4318\n",
      .positional = true};
  return cmd;
}

const Command& TraceCommand() {
  static const Command cmd = [] {
    Command c{
        .name = "bench trace",
        .summary = "generate spans through the real export pipeline",
        .usage = "otlp bench trace [flags]",
        .description =
            "Producer threads start and end spans (each with --attrs attributes) for --seconds,\n"
            "at full speed or paced to --rate spans/s in total; the spans go through a\n"
            "BatchSpanProcessor and the OTLP/HTTP exporter to the configured endpoint\n"
            "(OTEL_EXPORTER_OTLP_* or --endpoint; always_on sampling). Then everything is\n"
            "flushed, bounded by the export timeout (OTEL_EXPORTER_OTLP_TIMEOUT, 10 s; when 0,\n"
            "OTEL_BSP_EXPORT_TIMEOUT, 30 s), and one line per metric is printed:\n"
            "  created/s         spans started and ended per second by the producers\n"
            "  exported/s        spans the collector accepted, over the whole run incl. flush\n"
            "  dropped           the others: processor drops (queue full), export failures,\n"
            "                    rejections, and spans without an answer when the flush\n"
            "                    stopped (unconfirmed); created = exported + dropped\n"
            "  producer ns/span  median over chunks of the producer's time per span\n"
            "SIGINT or SIGTERM ends the generation early; the flush and the summary follow\n"
            "(with a line \"interrupted: ...\"). Another one during the flush cuts it short.\n"
            "Queue and batch sizes: the flag, else OTEL_BSP_MAX_QUEUE_SIZE and\n"
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE, else the defaults below.\n"
            "Exit status: 0; 1 when nothing was exported; 2 for bad usage; 128+N after the\n"
            "summary when stopped by signal N (130 for SIGINT, 143 for SIGTERM).",
        .flags =
            {
                {.name = "seconds", .value = "S", .help = "How long to generate (default 5)"},
                {.name = "attrs", .value = "N", .help = "Attributes per span (default 5)"},
                {.name = "rate",
                 .value = "R",
                 .help = "Total spans per second (default 0: as fast as possible)"},
                {.name = "threads", .value = "T", .help = "Producer threads (default 1)"},
                {.name = "queue",
                 .value = "Q",
                 .help = "Processor queue size per thread (default 65536)"},
                {.name = "batch",
                 .value = "B",
                 .help = "Spans per export request (default 8192, at most the queue)"},
                {.name = "concurrency",
                 .value = "C",
                 .help = "Export requests in flight (default 1)"},
            },
        .examples =
            "  otlp bench trace --endpoint http://127.0.0.1:4318\n"
            "  otlp bench trace --seconds 10 --rate 200000 --threads 2 --protocol http/json\n"};
    for (FlagSpec& f : ExportFlags()) c.flags.push_back(f);
    return c;
  }();
  return cmd;
}

const Command& SinkCommand() {
  static const Command cmd{
      .name = "bench sink",
      .summary = "receive OTLP/HTTP exports and count spans",
      .usage = "otlp bench sink [flags]",
      .description =
          "Accepts POST /v1/traces (protobuf or JSON, gzip or not), counts the spans without\n"
          "decoding them and answers 200 with an empty body (400 for a malformed body).\n"
          "Prints the spans received and the rate once per second, and a final total when\n"
          "--seconds have passed or on SIGINT/SIGTERM. With --port 0 the first line of\n"
          "output is the port the system chose.",
      .flags =
          {
              {.name = "port", .value = "P", .help = "Port to listen on (default 4318; 0: any)"},
              {.name = "host", .value = "ADDR", .help = "Address to listen on (default 127.0.0.1)"},
              {.name = "seconds",
               .value = "S",
               .help = "Stop after S seconds (default 0: until SIGINT/SIGTERM)"},
              {.name = "threads", .value = "N", .help = "I/O threads (default 1)"},
              {.name = "quiet", .help = "Print only the port (with --port 0) and the total"},
          },
      .examples = "  otlp bench sink\n  otlp bench sink --port 0 --seconds 30\n"};
  return cmd;
}

bool ParseSeconds(const std::string& s, double& out) {
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && std::isfinite(out) && out >= 0 && out <= 1e7;
}

bool SecondsFlag(const ParsedFlags& flags, std::string_view name, double& out, std::string& error) {
  auto v = flags.Get(name);
  if (!v) return true;
  if (!ParseSeconds(*v, out)) {
    error = "invalid --" + std::string(name) + " '" + *v + "' (expected seconds >= 0)";
    return false;
  }
  return true;
}

std::string Rate(double count, double seconds) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.0f", seconds > 0 ? count / seconds : 0.0);
  return buf;
}

// ---- bench trace ----

// The bench's own batch defaults: larger than the SDK's, so that one exporter keeps up with
// producers running at full speed.
constexpr size_t kBenchQueue = 65536;  // per producing thread
constexpr size_t kBenchBatch = 8192;

// The batch options of `bench trace`, with the project's precedence: a flag wins, then
// OTEL_BSP_MAX_QUEUE_SIZE / OTEL_BSP_MAX_EXPORT_BATCH_SIZE (left unset here, so that the
// processor reads them from `env` and warns about invalid values as everywhere), then the bench
// defaults. The default batch is lowered to the queue size rather than warned about.
void BenchBatchOptions(std::optional<uint64_t> queue_flag, std::optional<uint64_t> batch_flag,
                       config::Reader& env, trace::BatchSpanProcessorOptions& out) {
  if (queue_flag) {
    out.max_queue_size = *queue_flag;
  } else if (!env.GetRaw("OTEL_BSP_MAX_QUEUE_SIZE")) {
    out.max_queue_size = kBenchQueue;
  }
  if (batch_flag) {
    out.max_export_batch_size = *batch_flag;
  } else if (!env.GetRaw("OTEL_BSP_MAX_EXPORT_BATCH_SIZE")) {
    std::optional<uint64_t> queue = out.max_queue_size;
    if (!queue) {
      if (auto q = env.GetInt("OTEL_BSP_MAX_QUEUE_SIZE")) queue = static_cast<uint64_t>(*q);
    }
    out.max_export_batch_size = queue ? std::min<uint64_t>(kBenchBatch, *queue) : kBenchBatch;
  }
}

int RunTrace(std::span<const std::string> args) {
  const Command& cmd = TraceCommand();
  ParsedFlags flags;
  if (auto exit_code = ParseOrExit(cmd, args, flags)) return *exit_code;
  std::string error;
  double seconds = 5, rate = 0;
  uint64_t attrs = 5, threads = 1, queue = 0, batch = 0, concurrency = 1;
  if (!SecondsFlag(flags, "seconds", seconds, error) ||
      !UnsignedFlag(flags, "attrs", 0, 128, attrs, error) ||
      !UnsignedFlag(flags, "threads", 1, 256, threads, error) ||
      !UnsignedFlag(flags, "queue", 1, 1u << 24, queue, error) ||
      !UnsignedFlag(flags, "batch", 1, 1u << 24, batch, error) ||
      !UnsignedFlag(flags, "concurrency", 1, 64, concurrency, error)) {
    return UsageError(cmd, error);
  }
  if (auto r = flags.Get("rate")) {
    char* end = nullptr;
    rate = std::strtod(r->c_str(), &end);
    if (r->empty() || end != r->c_str() + r->size() || !std::isfinite(rate) || rate < 0) {
      return UsageError(cmd, "invalid --rate '" + *r + "' (expected spans per second >= 0)");
    }
  }

  // From here SIGINT/SIGTERM are blocked in this thread and in every thread it starts (the
  // SDK's, the producers); this thread takes them while it waits, below.
  auto installed = StopSignals::Install();
  if (!installed.ok()) {
    PrintError(cmd, installed.status().message());
    return 1;
  }
  StopSignals& stop = **installed;

  config::Reader env;  // shared with Setup, which reports its warnings
  SetupOptions setup;
  if (!ApplyExportFlags(flags, setup, error)) return UsageError(cmd, error);
  setup.env = &env;
  setup.traces_exporter = "otlp";
  setup.install_global = false;
  setup.sampler = trace::Sampler::AlwaysOn();
  BenchBatchOptions(flags.Has("queue") ? std::optional(queue) : std::nullopt,
                    flags.Has("batch") ? std::optional(batch) : std::nullopt, env, setup.batch);
  setup.otlp.max_concurrent_requests = concurrency;
  if (!setup.service_name) setup.service_name = "otlp-bench";
  std::unique_ptr<Sdk> sdk = SetupOrReport(cmd, std::move(setup));
  if (!sdk) return 2;
  if (sdk->otlp_exporter() == nullptr || sdk->batch_processor() == nullptr) {
    PrintError(cmd, "no OTLP pipeline (is OTEL_SDK_DISABLED set, or the exporter misconfigured?)");
    return 1;
  }
  std::fprintf(stderr,
               "otlp bench trace: %s, %.3g s, %" PRIu64 " thread(s), %" PRIu64
               " attributes, queue %zu, batch %zu\n",
               sdk->otlp_exporter()->config().endpoint.c_str(), seconds, threads, attrs,
               sdk->batch_processor()->max_queue_size(),
               sdk->batch_processor()->max_export_batch_size());

  // Attributes: a mix of strings, ints, doubles and bools, as instrumentation sets them.
  std::vector<std::string> keys, strings;
  for (uint64_t i = 0; i < attrs; ++i) {
    keys.push_back("bench.attr." + std::to_string(i));
    strings.push_back("value-" + std::to_string(i));
  }
  std::vector<KeyValue> kvs;
  for (uint64_t i = 0; i < attrs; ++i) {
    switch (i % 4) {
      case 0: kvs.push_back({keys[i], AttributeValue(std::string_view(strings[i]))}); break;
      case 1: kvs.push_back({keys[i], AttributeValue(static_cast<int64_t>(i * 1000))}); break;
      case 2: kvs.push_back({keys[i], AttributeValue(static_cast<double>(i) + 0.5)}); break;
      default: kvs.push_back({keys[i], AttributeValue(true)}); break;
    }
  }

  trace::Tracer tracer = sdk->GetTracer("otlp-bench", kVersion);
  const double per_thread_rate = rate / static_cast<double>(threads);
  const size_t chunk =
      rate > 0 ? static_cast<size_t>(std::clamp(per_thread_rate / 200.0, 1.0, 1024.0)) : 1024;
  std::vector<uint64_t> created(threads, 0);
  std::vector<std::vector<uint32_t>> chunk_ns(threads);
  // Set once the run ends early; paced producers wait on `pace_cv` so that it wakes them.
  // `pace_mu` guards no data: `stopping` is set under it only so that a producer between its
  // check and its wait cannot miss the wake-up.
  std::atomic<bool> stopping{false};
  otlp::internal::Mutex pace_mu;
  otlp::internal::CondVar pace_cv;

  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> workers;
  for (uint64_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::vector<uint32_t>& timings = chunk_ns[t];
      timings.reserve(1 << 16);
      uint64_t n = 0;
      while (true) {
        Clock::time_point t0 = Clock::now();
        if (t0 >= deadline || stopping.load(std::memory_order_relaxed)) break;
        for (size_t i = 0; i < chunk; ++i) {
          trace::Span span = tracer.StartSpan("bench", std::span<const KeyValue>(kvs));
          span.End();
        }
        Clock::time_point t1 = Clock::now();
        n += chunk;
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
        timings.push_back(static_cast<uint32_t>(
            std::min<int64_t>(ns / static_cast<int64_t>(std::max<size_t>(chunk, 1)), UINT32_MAX)));
        if (rate > 0) {
          auto due =
              start + std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(static_cast<double>(n) / per_thread_rate));
          otlp::internal::MutexLock lock(pace_mu);
          pace_cv.WaitUntil(lock, std::min(due, deadline),
                            [&] { return stopping.load(std::memory_order_relaxed); });
        }
      }
      created[t] = n;
    });
  }

  // The run lasts until the deadline or the first stop signal.
  StopSignals::Event event;
  do {
    event = stop.Wait(deadline);
  } while (event == StopSignals::Event::kNotified);
  const int generation_signal = event == StopSignals::Event::kSignal ? stop.last_signal() : 0;
  {
    otlp::internal::MutexLock lock(pace_mu);
    stopping.store(true, std::memory_order_relaxed);
  }
  pace_cv.NotifyAll();
  for (std::thread& w : workers) w.join();
  const double gen_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (generation_signal != 0) {
    std::fprintf(stderr,
                 "otlp bench trace: %s: generation stopped after %.2f s; flushing for up to "
                 "%.3g s (SIGINT or SIGTERM again: stop now)\n",
                 SignalName(generation_signal).c_str(), gen_seconds,
                 std::chrono::duration<double>(sdk->shutdown_timeout()).count());
  }

  const FlushOutcome flush = FinalFlush(*sdk, &stop);
  const double total_seconds = std::chrono::duration<double>(Clock::now() - start).count();

  uint64_t total_created = 0;
  std::vector<uint32_t> all;
  for (uint64_t t = 0; t < threads; ++t) {
    total_created += created[t];
    all.insert(all.end(), chunk_ns[t].begin(), chunk_ns[t].end());
  }
  uint32_t median = 0;
  if (!all.empty()) {
    std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(all.size() / 2),
                     all.end());
    median = all[all.size() / 2];
  }
  const DeliveryCounts counts = CountDelivery(*sdk, total_created);
  const uint64_t requests = sdk->otlp_exporter()->stats().requests;

  std::printf("created/s: %s (%" PRIu64 " spans in %.2f s)\n",
              Rate(static_cast<double>(total_created), gen_seconds).c_str(), total_created,
              gen_seconds);
  std::printf("exported/s: %s (%" PRIu64 " spans accepted in %.2f s incl. flush, %" PRIu64
              " requests)\n",
              Rate(static_cast<double>(counts.exported), total_seconds).c_str(), counts.exported,
              total_seconds, requests);
  std::string unconfirmed;
  if (counts.unconfirmed > 0) unconfirmed = ", unconfirmed " + std::to_string(counts.unconfirmed);
  std::printf("dropped: %" PRIu64 " (processor %" PRIu64 ", export failures %" PRIu64
              ", rejected %" PRIu64 "%s)\n",
              counts.not_exported(), counts.dropped, counts.failed, counts.rejected,
              unconfirmed.c_str());
  std::printf("producer ns/span: %" PRIu32 " (median of %zu chunks of %zu spans)\n", median,
              all.size(), chunk);
  if (generation_signal != 0 || flush.signal != 0) {
    std::string line = "interrupted: ";
    if (generation_signal != 0) line += SignalName(generation_signal) + " stopped the generation";
    if (flush.signal != 0) {
      if (generation_signal != 0) line += "; ";
      line += SignalName(flush.signal) + " cut the flush short";
    }
    std::printf("%s\n", line.c_str());
  } else if (!flush.clean()) {
    std::printf("flush: stopped at its bound of %.3g s\n",
                std::chrono::duration<double>(flush.bound).count());
  }
  std::fflush(stdout);

  int exit_code = total_created > 0 && counts.exported == 0 ? 1 : 0;
  if (generation_signal != 0 || flush.signal != 0) {
    exit_code = 128 + (generation_signal != 0 ? generation_signal : flush.signal);
  }
  if (!flush.clean()) ExitNow(exit_code);
  return exit_code;
}

// ---- bench sink ----

struct SinkCounters {
  std::atomic<uint64_t> spans{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> bad_requests{0};
};

void HandleExport(SinkCounters& counters, const net::ServerRequest& req, net::ServerResponse& res) {
  std::string_view path = req.target;
  path = path.substr(0, path.find('?'));
  if (path != "/v1/traces") {
    res.status = 404;
    res.headers = {{"Content-Type", "text/plain"}};
    res.body = "only /v1/traces is served here\n";
    return;
  }
  if (req.method != "POST") {
    res.status = 405;
    res.headers = {{"Allow", "POST"}, {"Content-Type", "text/plain"}};
    res.body = "use POST\n";
    return;
  }
  auto bad = [&](const std::string& message) {
    counters.bad_requests.fetch_add(1, std::memory_order_relaxed);
    res.status = 400;
    res.headers = {{"Content-Type", "text/plain"}};
    res.body = message + "\n";
  };
  bool gzip = false;
  if (auto enc = req.Header("Content-Encoding"); enc && *enc != "identity") {
    if (*enc != "gzip") return bad("unsupported Content-Encoding");
    gzip = true;
  }
  auto type = req.Header("Content-Type");
  const bool json = type && type->starts_with("application/json");
  // Counting, not decoding: the sink must not be what limits `otlp bench trace`.
  auto n = exporter::CountTraceRequestSpans(
      req.body, json ? exporter::OtlpEncoding::kJson : exporter::OtlpEncoding::kProtobuf, gzip,
      {.max_body_bytes = 512u << 20});
  if (!n.ok()) return bad(n.status().message());
  counters.spans.fetch_add(*n, std::memory_order_relaxed);
  counters.requests.fetch_add(1, std::memory_order_relaxed);
  res.status = 200;
  res.headers = {{"Content-Type", json ? "application/json" : "application/x-protobuf"}};
}

int RunSink(std::span<const std::string> args) {
  const Command& cmd = SinkCommand();
  ParsedFlags flags;
  if (auto exit_code = ParseOrExit(cmd, args, flags)) return *exit_code;
  std::string error;
  uint64_t port = 4318, threads = 1;
  double seconds = 0;
  if (!UnsignedFlag(flags, "port", 0, 65535, port, error) ||
      !UnsignedFlag(flags, "threads", 1, 64, threads, error) ||
      !SecondsFlag(flags, "seconds", seconds, error)) {
    return UsageError(cmd, error);
  }
  std::string host = flags.Get("host").value_or("127.0.0.1");
  const bool quiet = flags.Has("quiet");

  // SIGINT/SIGTERM end the run; blocked before the I/O threads exist so that only the
  // sigtimedwait below takes them.
  sigset_t stop_set;
  sigemptyset(&stop_set);
  sigaddset(&stop_set, SIGINT);
  sigaddset(&stop_set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_set, nullptr);

  auto counters = std::make_shared<SinkCounters>();
  auto runtime = net::Runtime::Create({.threads = static_cast<int>(threads)});
  auto server =
      net::HttpServer::Start(runtime, {.host = host, .port = static_cast<uint16_t>(port)},
                             [counters](const net::ServerRequest& req, net::ServerResponse& res) {
                               HandleExport(*counters, req, res);
                             });
  if (!server.ok()) {
    PrintError(cmd, "cannot listen on " + host + ":" + std::to_string(port) + ": " +
                        server.status().message());
    return 1;
  }
  if (port == 0) std::printf("%u\n", static_cast<unsigned>((*server)->port()));
  if (!quiet) std::printf("listening on %s/v1/traces\n", (*server)->base_url().c_str());
  std::fflush(stdout);

  const Clock::time_point start = Clock::now();
  const bool bounded = seconds > 0;
  const Clock::time_point end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  Clock::time_point next_tick = start + std::chrono::seconds(1);
  uint64_t last_spans = 0;
  while (true) {
    Clock::time_point wake = bounded ? std::min(next_tick, end) : next_tick;
    auto wait = std::max(wake - Clock::now(), Clock::duration::zero());
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
    timespec ts{static_cast<time_t>(ns / 1000000000),
                static_cast<decltype(timespec::tv_nsec)>(ns % 1000000000)};
    int sig = sigtimedwait(&stop_set, nullptr, &ts);
    if (sig > 0) break;
    Clock::time_point now = Clock::now();
    if (bounded && now >= end) break;
    if (now >= next_tick) {
      uint64_t spans = counters->spans.load(std::memory_order_relaxed);
      if (!quiet) {
        std::printf("%.0f s: %" PRIu64 " spans/s, %" PRIu64 " spans received\n",
                    std::chrono::duration<double>(next_tick - start).count(), spans - last_spans,
                    spans);
        std::fflush(stdout);
      }
      last_spans = spans;
      next_tick += std::chrono::seconds(1);
    }
  }
  (*server)->Stop();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const uint64_t spans = counters->spans.load();
  std::printf("total: %" PRIu64 " spans in %" PRIu64 " requests (%" PRIu64
              " rejected as malformed), %.2f s, %s spans/s\n",
              spans, counters->requests.load(), counters->bad_requests.load(), elapsed,
              Rate(static_cast<double>(spans), elapsed).c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace

int RunBench(std::span<const std::string> args) {
  const Command& cmd = BenchCommand();
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    if (args.empty()) return UsageError(cmd, "missing subcommand (trace or sink)");
    std::fputs(HelpText(cmd).c_str(), stdout);
    return 0;
  }
  if (args[0] == "trace") return RunTrace(args.subspan(1));
  if (args[0] == "sink") return RunSink(args.subspan(1));
  return UsageError(cmd, "unknown subcommand '" + args[0] + "' (expected trace or sink)");
}

}  // namespace otlp::cli
