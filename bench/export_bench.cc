// CPU per exported span (issue 15): the whole export path — batch processor, encoding,
// compression, hand-offs, HTTP — against its floor, the hot path plus the encoding alone,
// measured in the same run.
//
//   build/bench/export_bench [--spans 200000] [--reps 5]
//                            [--only http/protobuf|http/protobuf+gzip|http/json|http/json+gzip|grpc|grpc+gzip]
//
// For 0 and 5 attributes per span, each repetition runs, one after the other:
//   hot      one thread ends N spans into a BatchSpanProcessor (default batch size 512, a queue
//            that holds all N so nothing is dropped) whose exporter only counts: the producing
//            thread's CPU per span, and the process's CPU per span (getrusage, final flush and
//            shutdown included).
//   encode   the same with an exporter that encodes each batch (protobuf or OTLP/JSON, gzip for
//            the gzip rows) into a reused buffer: that exporter's own CPU per span.
//   export   the same with the real OtlpHttpExporter to a loopback sink that runs in a child
//            process (its CPU is not ours): the producing thread's CPU per span, the process's
//            CPU per span the sink accepted, context switches and minor page faults per export
//            request.
// Per repetition: export CPU ÷ (hot CPU + encode CPU) (target ≤ 1.3) and export app-thread ÷
// hot app-thread (target ≤ 1.5); the medians of the repetitions are compared with the targets.
// The sink counts the spans of each request (protobuf, JSON, gzip; gRPC's framing) and answers
// as a collector does; the exporter's own counters say what was accepted, and a run where
// anything was dropped, failed or went uncounted is reported as such.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bench_spans.h"
#include "otlp/core/internal/gzip.h"
#include "otlp/exporter/internal/grpc_transport.h"
#include "otlp/exporter/otlp_decoder.h"
#include "otlp/exporter/otlp_encoder.h"
#include "otlp/exporter/otlp_http_exporter.h"
#include "otlp/net/http_server.h"
#include "otlp/net/runtime.h"
#include "otlp/trace/batch_processor.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/tracer.h"

namespace {

namespace trace = otlp::trace;
namespace exporter = otlp::exporter;
namespace net = otlp::net;

// ---- measuring ----

using otlp::bench::ThreadCpuNs;

struct Usage {
  double cpu_ns = 0;  // user + system, all threads
  double switches = 0;
  double minor_faults = 0;
  static Usage Now() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    auto ns = [](const timeval& t) {
      return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_usec) * 1e3;
    };
    return {ns(u.ru_utime) + ns(u.ru_stime), static_cast<double>(u.ru_nvcsw + u.ru_nivcsw),
            static_cast<double>(u.ru_minflt)};
  }
  Usage operator-(const Usage& o) const {
    return {cpu_ns - o.cpu_ns, switches - o.switches, minor_faults - o.minor_faults};
  }
};

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string Spread(std::vector<double> v, int precision = 0) {
  if (v.empty()) return "-";
  std::sort(v.begin(), v.end());
  char out[96];
  std::snprintf(out, sizeof out, "%.*f / %.*f / %.*f", precision, v.front(), precision, Median(v),
                precision, v.back());
  return out;
}

// ---- the producer ----

void EndSpans(trace::Tracer& tracer, long n, bool attributes) {
  for (long i = 0; i < n; ++i) {
    if (attributes) {
      otlp::bench::OneSpan5Attributes(tracer);
    } else {
      tracer.StartSpan("GET /users/{id}", {.kind = trace::SpanKind::kServer}).End();
    }
  }
}

struct PhaseResult {
  double app_ns = 0;      // producing thread's CPU per span
  double process_ns = 0;  // process CPU per span (per accepted span for export)
  double switches_per_request = 0;
  double faults_per_request = 0;
  uint64_t dropped = 0;
  uint64_t delivered = 0;  // spans the exporter saw succeed
  uint64_t requests = 0;
};

// Ends n spans through a batch processor over `exporter`, then shuts the pipeline down.
// `requests` (may be null) reads the exporter's request count at the end.
PhaseResult RunPipeline(std::unique_ptr<trace::SpanExporter> exporter, long n, bool attributes,
                        const std::function<uint64_t()>& delivered,
                        const std::function<uint64_t()>& requests) {
  auto processor = trace::BatchSpanProcessor::Create(
      std::move(exporter), {.max_queue_size = static_cast<size_t>(n)});
  trace::BatchSpanProcessor* bsp = processor.get();
  auto provider = trace::TracerProvider::Create({.processor = std::move(processor)});
  trace::Tracer tracer = provider->GetTracer("export-bench");
  const Usage before = Usage::Now();
  const double app_before = ThreadCpuNs();
  EndSpans(tracer, n, attributes);
  const double app = ThreadCpuNs() - app_before;
  provider->Shutdown();
  const Usage used = Usage::Now() - before;
  PhaseResult r;
  r.dropped = bsp->stats().spans_dropped;
  r.delivered = delivered();
  r.requests = requests ? requests() : 0;
  r.app_ns = app / static_cast<double>(n);
  r.process_ns = used.cpu_ns / static_cast<double>(std::max<uint64_t>(r.delivered, 1));
  if (r.requests > 0) {
    r.switches_per_request = used.switches / static_cast<double>(r.requests);
    r.faults_per_request = used.minor_faults / static_cast<double>(r.requests);
  }
  return r;
}

using otlp::bench::CountingExporter;

// Encodes each batch as the real exporter's request body would be, into reused buffers, and
// adds its own CPU time spent doing so.
class EncodingExporter final : public trace::SpanExporter {
 public:
  EncodingExporter(bool json, bool gzip, std::atomic<uint64_t>* n, std::atomic<double>* cpu_ns)
      : json_(json), gzip_(gzip), n_(n), cpu_ns_(cpu_ns) {}
  trace::ExportResult Export(std::span<const trace::SpanData* const> spans) noexcept override {
    const double start = ThreadCpuNs();
    body_.clear();
    if (json_) {
      exporter::EncodeTraceRequestJson(spans, body_);
    } else {
      exporter::EncodeTraceRequestProto(spans, body_);
    }
    if (gzip_) {
      compressed_.clear();
      if (!otlp::internal::GzipCompress(body_, compressed_).ok()) {
        return trace::ExportResult::kFailure;
      }
    }
    cpu_ns_->fetch_add(ThreadCpuNs() - start, std::memory_order_relaxed);
    n_->fetch_add(spans.size(), std::memory_order_relaxed);
    return trace::ExportResult::kSuccess;
  }

 private:
  bool json_, gzip_;
  std::atomic<uint64_t>* n_;
  std::atomic<double>* cpu_ns_;
  std::string body_, compressed_;
};

// ---- the sink (child process) ----

struct Sink {
  pid_t pid = -1;
  uint16_t port = 0;
};

void Answer(net::ServerResponse& res, int status, std::string message) {
  res.status = status;
  res.headers = {{"Content-Type", "text/plain"}};
  res.body = std::move(message);
}

// Counts the spans of one OTLP request: HTTP (/v1/traces) or gRPC (TraceService/Export).
void HandleExport(std::atomic<uint64_t>& spans, const net::ServerRequest& req,
                  net::ServerResponse& res) {
  const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
  if (path == exporter::internal::kGrpcTraceExportPath) {
    auto messages = exporter::internal::ParseGrpcMessages(req.body);
    if (!messages.ok() || messages->size() != 1) return Answer(res, 400, "bad gRPC framing");
    auto n = exporter::CountTraceRequestSpans((*messages)[0].data,
                                              exporter::OtlpEncoding::kProtobuf,
                                              (*messages)[0].compressed, {.max_body_bytes = 1u << 30});
    res.status = 200;
    res.headers = {{"content-type", "application/grpc"}};
    if (!n.ok()) {
      res.trailers = {{"grpc-status", "3"}, {"grpc-message", "undecodable request"}};
      return;
    }
    spans.fetch_add(*n, std::memory_order_relaxed);
    res.body = exporter::internal::FrameGrpcMessage("", false);  // empty ExportTraceServiceResponse
    res.trailers = {{"grpc-status", "0"}};
    return;
  }
  if (path != "/v1/traces" || req.method != "POST") return Answer(res, 404, "no such endpoint");
  const auto encoding = req.Header("Content-Encoding");
  const auto type = req.Header("Content-Type");
  const bool json = type && type->starts_with("application/json");
  auto n = exporter::CountTraceRequestSpans(
      req.body, json ? exporter::OtlpEncoding::kJson : exporter::OtlpEncoding::kProtobuf,
      encoding && *encoding == "gzip", {.max_body_bytes = 1u << 30});
  if (!n.ok()) return Answer(res, 400, n.status().message());
  spans.fetch_add(*n, std::memory_order_relaxed);
  res.status = 200;
  res.headers = {{"Content-Type", json ? "application/json" : "application/x-protobuf"}};
  if (json) res.body = "{}";
}

// Forks the sink before this process has any thread; it serves until SIGTERM.
std::optional<Sink> StartSink() {
  int fds[2];
  if (::pipe(fds) != 0) return std::nullopt;
  const pid_t pid = ::fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    ::close(fds[0]);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    std::atomic<uint64_t> spans{0};
    auto runtime = net::Runtime::Create({.threads = 1});
    auto server = net::HttpServer::Start(
        runtime, {.host = "127.0.0.1", .port = 0},
        [&spans](const net::ServerRequest& req, net::ServerResponse& res) {
          HandleExport(spans, req, res);
        });
    const uint16_t port = server.ok() ? (*server)->port() : 0;
    if (::write(fds[1], &port, sizeof port) != sizeof port) ::_exit(1);
    ::close(fds[1]);
    if (!server.ok()) ::_exit(1);
    int signal = 0;
    sigwait(&stop, &signal);
    (*server)->Stop();
    ::_exit(0);
  }
  ::close(fds[1]);
  Sink sink{.pid = pid};
  const bool got = ::read(fds[0], &sink.port, sizeof sink.port) == sizeof sink.port;
  ::close(fds[0]);
  if (!got || sink.port == 0) {
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    return std::nullopt;
  }
  return sink;
}

// ---- the rows ----

struct Config {
  const char* name;
  exporter::OtlpProtocol protocol;
  bool gzip;
};

constexpr Config kConfigs[] = {
    {"http/protobuf", exporter::OtlpProtocol::kHttpProtobuf, false},
    {"http/protobuf+gzip", exporter::OtlpProtocol::kHttpProtobuf, true},
    {"http/json", exporter::OtlpProtocol::kHttpJson, false},
    {"http/json+gzip", exporter::OtlpProtocol::kHttpJson, true},
    {"grpc", exporter::OtlpProtocol::kGrpc, false},
    {"grpc+gzip", exporter::OtlpProtocol::kGrpc, true},
};

struct Row {
  std::vector<double> hot_app, hot_cpu, encode_cpu, export_app, export_cpu, switches, faults,
      cpu_ratio, app_ratio;
  bool lost = false;
};

}  // namespace

int main(int argc, char** argv) {
  long spans = 200000;
  int reps = 5;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    if (key == "--spans") spans = std::strtol(argv[i + 1], nullptr, 10);
    else if (key == "--reps") reps = static_cast<int>(std::strtol(argv[i + 1], nullptr, 10));
    else if (key == "--only") only = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: export_bench [--spans N] [--reps R] [--only CONFIG]\n");
      return 2;
    }
  }
  if (spans < 1000 || reps < 1) {
    std::fprintf(stderr, "export_bench: --spans ≥ 1000 and --reps ≥ 1\n");
    return 2;
  }
  if (!only.empty() && std::none_of(std::begin(kConfigs), std::end(kConfigs),
                                    [&](const Config& c) { return only == c.name; })) {
    std::fprintf(stderr, "export_bench: --only takes one of");
    for (const Config& c : kConfigs) std::fprintf(stderr, " %s", c.name);
    std::fprintf(stderr, ", not '%s'\n", only.c_str());
    return 2;
  }
  auto sink = StartSink();
  if (!sink) {
    std::fprintf(stderr, "export_bench: the sink did not start\n");
    return 1;
  }
  const std::string base = "http://127.0.0.1:" + std::to_string(sink->port);
  std::printf("export_bench: %ld spans per phase, %d repetitions, sink pid %d on %s\n", spans, reps,
              static_cast<int>(sink->pid), base.c_str());

  {
    // Warm-up: the process's first pipeline pays for first-touching the allocator's memory.
    std::atomic<uint64_t> counted{0};
    RunPipeline(std::make_unique<CountingExporter>(&counted), spans, true,
                [&] { return counted.load(); }, nullptr);
  }
  std::map<std::string, Row> rows;  // "<config> <attrs>"
  int failures = 0;
  for (int rep = 0; rep < reps; ++rep) {
    for (const bool attributes : {false, true}) {
      // The hot path is the same for every protocol: measured once per repetition.
      std::atomic<uint64_t> counted{0};
      const PhaseResult hot = RunPipeline(
          std::make_unique<CountingExporter>(&counted), spans, attributes,
          [&] { return counted.load(); }, nullptr);
      std::map<std::pair<bool, bool>, double> encode_ns;  // (json, gzip) → encode CPU per span
      for (const Config& c : kConfigs) {
        if (!only.empty() && only != c.name) continue;
        const bool json = c.protocol == exporter::OtlpProtocol::kHttpJson;
        if (!encode_ns.contains({json, c.gzip})) {
          std::atomic<uint64_t> encoded{0};
          std::atomic<double> cpu{0};
          RunPipeline(std::make_unique<EncodingExporter>(json, c.gzip, &encoded, &cpu), spans,
                      attributes, [&] { return encoded.load(); }, nullptr);
          encode_ns[{json, c.gzip}] = cpu.load() / static_cast<double>(spans);
        }
        exporter::OtlpHttpExporterOptions options;
        options.endpoint =
            c.protocol == exporter::OtlpProtocol::kGrpc ? base : base + "/v1/traces";
        options.protocol = c.protocol;
        options.compression = c.gzip ? exporter::Compression::kGzip : exporter::Compression::kNone;
        auto real = exporter::OtlpHttpExporter::Create(std::move(options));
        if (!real.ok()) {
          std::printf("%s: cannot create the exporter: %s\n", c.name,
                      real.status().ToString().c_str());
          return 1;
        }
        exporter::OtlpHttpExporter* ex = real->get();
        // The exporter's counters are read before the provider (and the exporter) go away.
        exporter::ExporterStats stats;
        const PhaseResult out = RunPipeline(
            std::move(*real), spans, attributes,
            [&] {
              stats = ex->stats();
              return stats.spans_exported;
            },
            [&] { return stats.requests; });
        Row& row = rows[std::string(c.name) + (attributes ? " 5" : " 0")];
        const double floor = hot.process_ns + encode_ns[{json, c.gzip}];
        row.hot_app.push_back(hot.app_ns);
        row.hot_cpu.push_back(hot.process_ns);
        row.encode_cpu.push_back(encode_ns[{json, c.gzip}]);
        row.export_app.push_back(out.app_ns);
        row.export_cpu.push_back(out.process_ns);
        row.switches.push_back(out.switches_per_request);
        row.faults.push_back(out.faults_per_request);
        row.cpu_ratio.push_back(out.process_ns / floor);
        row.app_ratio.push_back(out.app_ns / hot.app_ns);
        if (out.dropped != 0 || out.delivered != static_cast<uint64_t>(spans) || hot.dropped != 0) {
          row.lost = true;
          std::printf("%s, %s attributes, repetition %d: %llu of %ld spans accepted, %llu dropped "
                      "(failed %llu)\n",
                      c.name, attributes ? "5" : "0", rep + 1,
                      static_cast<unsigned long long>(out.delivered), spans,
                      static_cast<unsigned long long>(out.dropped),
                      static_cast<unsigned long long>(stats.spans_failed));
        }
      }
    }
  }
  ::kill(sink->pid, SIGTERM);
  ::waitpid(sink->pid, nullptr, 0);

  std::printf("\nper span, min / median / max of %d repetitions (ns); ratios are per repetition\n",
              reps);
  for (const Config& c : kConfigs) {
    for (const char* attrs : {" 0", " 5"}) {
      auto it = rows.find(std::string(c.name) + attrs);
      if (it == rows.end()) continue;
      const Row& r = it->second;
      const double cpu_ratio = Median(r.cpu_ratio), app_ratio = Median(r.app_ratio);
      std::printf("%s, %s attributes%s\n", c.name, attrs + 1, r.lost ? "  (SPANS LOST: see above)" : "");
      std::printf("   hot path: app thread %s, process CPU %s\n", Spread(r.hot_app).c_str(),
                  Spread(r.hot_cpu).c_str());
      std::printf("   encode CPU %s\n", Spread(r.encode_cpu).c_str());
      std::printf("   real export: app thread %s, process CPU per accepted span %s\n",
                  Spread(r.export_app).c_str(), Spread(r.export_cpu).c_str());
      std::printf("   per export request: context switches %s, minor page faults %s\n",
                  Spread(r.switches, 1).c_str(), Spread(r.faults, 1).c_str());
      std::printf("   export CPU / (hot + encode) median %.2f (target ≤ 1.3: %s); "
                  "app thread export/hot median %.2f (target ≤ 1.5: %s)\n",
                  cpu_ratio, cpu_ratio <= 1.3 ? "met" : "NOT met", app_ratio,
                  app_ratio <= 1.5 ? "met" : "NOT met");
      if (r.lost) ++failures;
    }
  }
  return failures == 0 ? 0 : 1;
}
