// `otlp view` performance (issue 11, "Performance"): ingest into the viewer beside reference
// receivers, and the tools bench/view_bench.sh uses for the trace page and the trace list.
//
//   view_bench ingest [--spans 300000] [--reps 5] [--concurrency 4] [--spans-per-trace 10]
//                     [--max-db-mb 1024] [--cap-mb 64] [--cap-spans 600000] [--dir /tmp]
//                     [--js-receiver tests/conformance/receiver.js] [--otlp build/tools/otlp/otlp]
//       Per repetition, the same load — one thread ends N spans (traces of K spans, 5 attributes
//       each) into a BatchSpanProcessor (default batch 512, a queue holding all N: nothing is
//       dropped) whose OtlpHttpExporter (http/protobuf, C requests in flight) sends them to:
//         viewer    an otlp::view::Viewer in a child process (`view_bench serve`, a fresh FILE
//                   database each repetition, max_db_bytes = --max-db-mb): timed until the
//                   exporter has every answer AND store().Flush() returned in the viewer; then
//                   Stats().spans must be N;
//         js        tests/conformance/receiver.js (decodes every request with the official
//                   OpenTelemetry JS definitions; --out=/dev/null), until every answer;
//         sink      `otlp bench sink` (counts spans, decodes nothing): the upper bound.
//       Receivers are other processes (their CPU and memory are read from /proc/<pid>). Reported:
//       spans/s (median), the viewer ÷ each reference, CPU µs per span and peak RSS (VmHWM) of each
//       receiver. Then one capped run: --cap-spans spans into a viewer with max_db_bytes =
//       --cap-mb, reporting its rate, peak RSS and the stored size against the cap.
//
//   view_bench serve --db FILE [--max-db-mb M] [--ui]
//       A Viewer on free loopback ports; prints "http=<url> ui=<url>", then reads stdin lines:
//       "flush" → Flush(), prints "flushed"; "stats" → "spans=.. traces=.. db_bytes=.."; EOF: exit.
//
//   view_bench load --endpoint URL [--spans N | --seconds S] [--rate R] [--spans-per-trace K]
//                   [--concurrency C]
//       The producer alone (background ingest for the page benchmark); SIGTERM ends it.
//
//   view_bench seed --endpoint URL [--traces 10000] [--big-spans 1000]
//       Loads traces as a small shop would send them (4 services, 3-12 spans, durations 1 ms-3 s,
//       ~5 % with an error, http.* / customer.tier / user.id attributes) and one trace of
//       --big-spans spans whose root is named "big-trace"; prints "big_trace=<id>".
//
//   view_bench query --ui URL [--reps 11] [--trace ID]
//       Times GET /api/traces with each filter of the list (and GET /api/traces/{ID}) over
//       fresh loopback connections; prints the median of --reps (after one warm-up) beside the
//       reference: the same round trip to GET /api/traces/<unknown id> (a 404 after one index
//       probe: HTTP and the handler, no work).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "otlp/exporter/otlp_http_exporter.h"
#include "otlp/trace/batch_processor.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/resource.h"
#include "otlp/trace/tracer.h"
#include "otlp/view/viewer.h"

extern char** environ;

namespace {

namespace trace = otlp::trace;
namespace exporter = otlp::exporter;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

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

// ---- flags ----

struct Flags {
  std::map<std::string, std::string> values;
  std::string Get(const std::string& k, const std::string& def = "") const {
    auto it = values.find(k);
    return it == values.end() ? def : it->second;
  }
  long Int(const std::string& k, long def) const {
    auto it = values.find(k);
    return it == values.end() ? def : std::strtol(it->second.c_str(), nullptr, 10);
  }
  double Num(const std::string& k, double def) const {
    auto it = values.find(k);
    return it == values.end() ? def : std::strtod(it->second.c_str(), nullptr);
  }
  bool Has(const std::string& k) const { return values.contains(k); }
};

Flags ParseFlags(int argc, char** argv, int first) {
  Flags f;
  for (int i = first; i < argc; ++i) {
    std::string k = argv[i];
    if (!k.starts_with("--")) {
      std::fprintf(stderr, "view_bench: unexpected argument '%s'\n", argv[i]);
      std::exit(2);
    }
    k = k.substr(2);
    if (i + 1 < argc && std::string_view(argv[i + 1]).substr(0, 2) != "--") {
      f.values[k] = argv[++i];
    } else {
      f.values[k] = "";
    }
  }
  return f;
}

// ---- /proc ----

struct ProcUsage {
  double cpu_s = 0;  // user + system
  long hwm_kb = 0;   // peak resident set
  long rss_kb = 0;
};

ProcUsage ReadProc(pid_t pid) {
  ProcUsage u;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (std::getline(stat, line)) {
    // Fields after the command (which may contain spaces) start after the last ')'.
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::vector<std::string> f;
    std::string x;
    while (rest >> x) f.push_back(x);
    // f[0] is field 3 (state); utime is field 14, stime 15.
    if (f.size() > 13) {
      const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
      u.cpu_s = (std::stod(f[11]) + std::stod(f[12])) / tick;
    }
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) u.hwm_kb = std::strtol(line.c_str() + 6, nullptr, 10);
    if (line.starts_with("VmRSS:")) u.rss_kb = std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return u;
}

// ---- child processes ----

class Child {
 public:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() { Stop(); }

  bool Start(std::vector<std::string> args, const std::string& stderr_file = "/dev/null") {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return false;
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    const int rc = posix_spawnp(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    in_ = in[1];
    out_ = out[0];
    if (rc != 0) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  // One line of the child's stdout (without '\n'); nullopt after timeout or EOF.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return std::nullopt;
      char tmp[4096];
      const ssize_t n = ::read(out_, tmp, sizeof tmp);
      if (n <= 0) return std::nullopt;
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }

  void WriteLine(const std::string& line) {
    const std::string s = line + "\n";
    if (::write(in_, s.data(), s.size()) != static_cast<ssize_t>(s.size())) {
      std::fprintf(stderr, "view_bench: cannot write to child %d\n", static_cast<int>(pid_));
    }
  }

  pid_t pid() const { return pid_; }

  // Closes its stdin (the children here exit on EOF), then SIGTERM after 10 s, SIGKILL after 20.
  void Stop(int signal_first = 0) {
    if (in_ >= 0) {
      ::close(in_);
      in_ = -1;
    }
    if (pid_ > 0) {
      if (signal_first != 0) ::kill(pid_, signal_first);
      int status = 0;
      for (int i = 0; i < 400; ++i) {
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          break;
        }
        if (i == 200) ::kill(pid_, SIGTERM);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
      }
    }
    if (out_ >= 0) {
      ::close(out_);
      out_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  std::string buf_;
};

std::string SelfExe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "view_bench";
}

// ---- the producer ----

struct LoadOptions {
  std::string endpoint;  // base URL, "/v1/traces" is appended
  long spans = 0;        // 0: until *stop (or seconds)
  double seconds = 0;
  double rate = 0;  // spans/s, 0: full speed
  int spans_per_trace = 10;
  int concurrency = 4;
  std::string service = "checkout";
};

struct LoadResult {
  long created = 0;
  exporter::ExporterStats stats;
  uint64_t dropped = 0;
  Clock::time_point start, answered;  // first span; every answer received (shutdown returned)
};

trace::Resource ServiceResource(const std::string& service) {
  otlp::OwnedAttributes a;
  a.Set("service.name", service);
  a.Set("host.name", "view-bench");
  a.Set("service.version", "1.4.2");
  return trace::Resource(std::move(a));
}

std::shared_ptr<trace::TracerProvider> MakeProvider(const std::string& endpoint,
                                                    const std::string& service, size_t queue,
                                                    int concurrency,
                                                    std::shared_ptr<exporter::OtlpHttpExporter*>
                                                        out_exporter,
                                                    trace::BatchSpanProcessor** out_bsp) {
  exporter::OtlpHttpExporterOptions options;
  options.endpoint = endpoint + "/v1/traces";
  options.protocol = exporter::OtlpProtocol::kHttpProtobuf;
  options.compression = exporter::Compression::kNone;
  options.max_concurrent_requests = static_cast<size_t>(concurrency);
  auto ex = exporter::OtlpHttpExporter::Create(std::move(options));
  if (!ex.ok()) {
    std::fprintf(stderr, "view_bench: cannot create the exporter: %s\n",
                 ex.status().ToString().c_str());
    std::exit(1);
  }
  if (out_exporter) *out_exporter = ex->get();
  // Default batch size (512); the queue holds everything asked for, so nothing is dropped.
  auto bsp = trace::BatchSpanProcessor::Create(std::move(*ex), {.max_queue_size = queue});
  if (out_bsp) *out_bsp = bsp.get();
  return trace::TracerProvider::Create(
      {.processor = std::move(bsp), .sampler = trace::Sampler::AlwaysOn(),
       .resource = ServiceResource(service)});
}

const char* const kChildNames[] = {"SELECT orders", "GET /inventory/{sku}", "charge card",
                                   "POST /payments", "render template", "cache get",
                                   "INSERT order_lines", "publish order.created"};

// One trace: a SERVER root and spans_per_trace - 1 children, 5 attributes each.
void OneTrace(trace::Tracer& tracer, int spans_per_trace, long n) {
  trace::Span root = tracer.StartSpan("GET /checkout", {.kind = trace::SpanKind::kServer, .root = true});
  root.SetAttribute("http.request.method", "GET");
  root.SetAttribute("url.path", "/checkout");
  root.SetAttribute("http.response.status_code", 200);
  root.SetAttribute("server.port", 8080);
  root.SetAttribute("user_agent.original", "curl/7.88.1");
  for (int i = 1; i < spans_per_trace; ++i) {
    trace::Span c = tracer.StartSpan(kChildNames[(n + i) % 8],
                                     {.kind = trace::SpanKind::kClient, .parent = root.GetContext()});
    c.SetAttribute("db.system", "postgresql");
    c.SetAttribute("server.address", "db.internal");
    c.SetAttribute("server.port", 5432);
    c.SetAttribute("db.query.text", "SELECT * FROM orders WHERE id = ?");
    c.SetAttribute("order.items", static_cast<int64_t>(i));
    c.End();
  }
  root.End();
}

std::atomic<bool> g_stop{false};

LoadResult RunLoad(const LoadOptions& o) {
  auto ex = std::make_shared<exporter::OtlpHttpExporter*>(nullptr);
  trace::BatchSpanProcessor* bsp = nullptr;
  const size_t queue = o.spans > 0 ? static_cast<size_t>(o.spans) + 1024 : 65536;
  auto provider = MakeProvider(o.endpoint, o.service, queue, o.concurrency, ex, &bsp);
  trace::Tracer tracer = provider->GetTracer("view-bench", "1.0.0");
  LoadResult r;
  r.start = Clock::now();
  const int k = std::max(1, o.spans_per_trace);
  long n = 0;
  for (;;) {
    if (o.spans > 0 && n >= o.spans) break;
    if (g_stop.load(std::memory_order_relaxed)) break;
    if (o.seconds > 0 && Seconds(r.start, Clock::now()) >= o.seconds) break;
    if (o.rate > 0) {
      // Paced: the n-th span is due at n / rate.
      const double due = static_cast<double>(n) / o.rate;
      const double now = Seconds(r.start, Clock::now());
      if (due > now) std::this_thread::sleep_for(std::chrono::duration<double>(due - now));
    }
    OneTrace(tracer, k, n);
    n += k;
  }
  r.created = n;
  provider->Shutdown(std::chrono::seconds(120));
  r.answered = Clock::now();
  r.stats = (*ex)->stats();
  r.dropped = bsp->stats().spans_dropped;
  return r;
}

// ---- serve ----

int RunServe(const Flags& f) {
  otlp::view::ViewerOptions options;
  options.http_port = 0;
  options.grpc_port = std::nullopt;
  options.ui_port = f.Has("ui") ? std::optional<uint16_t>(0) : std::nullopt;
  options.db_path = f.Get("db");
  options.max_db_bytes = static_cast<size_t>(f.Num("max-db-mb", 0) * 1024 * 1024);
  options.on_warning = [](const std::string& m) { std::fprintf(stderr, "viewer: %s\n", m.c_str()); };
  auto viewer = otlp::view::Viewer::Start(std::move(options));
  if (!viewer.ok()) {
    std::fprintf(stderr, "view_bench serve: %s\n", viewer.status().ToString().c_str());
    return 1;
  }
  std::printf("http=%s ui=%s\n", (*viewer)->otlp_http_url().c_str(), (*viewer)->ui_url().c_str());
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == "flush") {
      (*viewer)->store().Flush();
      std::printf("flushed\n");
    } else if (line == "stats") {
      const otlp::view::StoreStats s = (*viewer)->store().Stats();
      std::printf("spans=%" PRIu64 " traces=%" PRIu64 " db_bytes=%" PRIu64 "\n", s.spans, s.traces,
                  s.db_bytes);
    } else {
      std::printf("unknown command\n");
    }
    std::fflush(stdout);
  }
  (*viewer)->Stop();
  return 0;
}

// ---- ingest ----

struct Receiver {
  std::string name;
  Child child;
  std::string url;
};

std::map<std::string, std::string> Fields(const std::string& line) {
  std::map<std::string, std::string> out;
  std::istringstream in(line);
  std::string part;
  while (in >> part) {
    const size_t eq = part.find('=');
    if (eq != std::string::npos) out[part.substr(0, eq)] = part.substr(eq + 1);
  }
  return out;
}

void RemoveDb(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) ::unlink((path + suffix).c_str());
}

struct IngestRun {
  double spans_per_s = 0;
  double cpu_us_per_span = 0;
  double hwm_mb = 0;
  uint64_t stored = 0, db_bytes = 0;
  bool complete = false;
  std::string note;
};

// Starts the receiver `kind`, sends the load, waits for the end condition, stops it.
IngestRun IngestOnce(const std::string& kind, const Flags& f, long spans, double max_db_mb) {
  IngestRun out;
  Child child;
  std::string url;
  const std::string dir = f.Get("dir", "/tmp");
  const std::string db = dir + "/view_bench_ingest_" + std::to_string(::getpid()) + ".db";
  const std::string err = dir + "/view_bench_" + kind + ".stderr";
  if (kind == "viewer") {
    RemoveDb(db);
    char mb[32];
    std::snprintf(mb, sizeof mb, "%g", max_db_mb);
    if (!child.Start({SelfExe(), "serve", "--db", db, "--max-db-mb", mb}, err)) return out;
    auto line = child.ReadLine();
    if (!line) {
      out.note = "viewer did not start (see " + err + ")";
      return out;
    }
    url = Fields(*line)["http"];
  } else if (kind == "js") {
    if (!child.Start({"node", f.Get("js-receiver"), "--out=/dev/null", "--port=0",
                      "--exit-on-stdin-eof"},
                     err)) {
      return out;
    }
    auto line = child.ReadLine();
    if (!line) {
      out.note = "receiver.js did not start (see " + err + ")";
      return out;
    }
    url = "http://127.0.0.1:" + *line;
  } else {
    if (!child.Start({f.Get("otlp"), "bench", "sink", "--port", "0", "--quiet"}, err)) return out;
    auto line = child.ReadLine();
    if (!line) {
      out.note = "otlp bench sink did not start (see " + err + ")";
      return out;
    }
    url = "http://127.0.0.1:" + *line;
  }
  const ProcUsage before = ReadProc(child.pid());
  LoadOptions lo;
  lo.endpoint = url;
  lo.spans = spans;
  lo.spans_per_trace = static_cast<int>(f.Int("spans-per-trace", 10));
  lo.concurrency = static_cast<int>(f.Int("concurrency", 4));
  const LoadResult r = RunLoad(lo);
  Clock::time_point end = r.answered;
  if (kind == "viewer") {
    child.WriteLine("flush");
    auto flushed = child.ReadLine(std::chrono::seconds(300));
    end = Clock::now();
    if (!flushed) out.note = "no answer to flush";
  }
  const ProcUsage after = ReadProc(child.pid());
  out.spans_per_s = static_cast<double>(r.created) / Seconds(r.start, end);
  out.cpu_us_per_span = (after.cpu_s - before.cpu_s) * 1e6 / static_cast<double>(r.created);
  out.hwm_mb = static_cast<double>(after.hwm_kb) / 1024.0;
  out.complete = r.stats.spans_exported == static_cast<uint64_t>(r.created) && r.dropped == 0;
  if (!out.complete) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "exported %" PRIu64 " of %ld (failed %" PRIu64 ", dropped %" PRIu64 ")",
                  r.stats.spans_exported, r.created, r.stats.spans_failed, r.dropped);
    out.note += buf;
  }
  if (kind == "viewer") {
    child.WriteLine("stats");
    if (auto st = child.ReadLine(std::chrono::seconds(300))) {
      auto fields = Fields(*st);
      out.stored = std::strtoull(fields["spans"].c_str(), nullptr, 10);
      out.db_bytes = std::strtoull(fields["db_bytes"].c_str(), nullptr, 10);
    }
  }
  child.Stop(kind == "viewer" ? 0 : SIGTERM);
  if (kind == "viewer") RemoveDb(db);
  return out;
}

int RunIngest(const Flags& f) {
  const long spans = f.Int("spans", 300000);
  const int reps = static_cast<int>(f.Int("reps", 5));
  const double max_db_mb = f.Num("max-db-mb", 1024);
  const bool with_js = !f.Get("js-receiver").empty();
  const bool with_sink = !f.Get("otlp").empty();
  std::printf("view_bench ingest: %ld spans per run (traces of %ld spans, 5 attributes each), "
              "http/protobuf, batch 512, %ld requests in flight, %d repetitions%s%s\n",
              spans, f.Int("spans-per-trace", 10), f.Int("concurrency", 4), reps,
              with_js ? ", js receiver" : "", with_sink ? ", otlp bench sink" : "");
  std::vector<std::string> kinds = {"viewer"};
  if (with_js) kinds.push_back("js");
  if (with_sink) kinds.push_back("sink");
  std::map<std::string, std::vector<double>> rate, cpu, hwm;
  std::map<std::string, std::vector<double>> ratio;  // viewer ÷ kind, per repetition
  bool all_stored = true;
  for (int rep = 0; rep < reps; ++rep) {
    std::map<std::string, double> this_rep;
    for (const std::string& kind : kinds) {
      const IngestRun r = IngestOnce(kind, f, spans, max_db_mb);
      std::printf("  rep %d %-6s %9.0f spans/s  %6.2f µs CPU/span  peak RSS %6.1f MB%s%s%s\n",
                  rep + 1, kind.c_str(), r.spans_per_s, r.cpu_us_per_span, r.hwm_mb,
                  kind == "viewer" ? (" stored " + std::to_string(r.stored)).c_str() : "",
                  r.complete ? "" : "  INCOMPLETE: ", r.note.c_str());
      std::fflush(stdout);
      if (kind == "viewer" && r.stored != static_cast<uint64_t>(spans)) all_stored = false;
      if (!r.complete) all_stored = false;
      rate[kind].push_back(r.spans_per_s);
      cpu[kind].push_back(r.cpu_us_per_span);
      hwm[kind].push_back(r.hwm_mb);
      this_rep[kind] = r.spans_per_s;
    }
    for (const std::string& kind : kinds) {
      if (kind != "viewer" && this_rep[kind] > 0) ratio[kind].push_back(this_rep["viewer"] / this_rep[kind]);
    }
  }
  std::printf("\ningest, min / median / max of %d runs:\n", reps);
  for (const std::string& kind : kinds) {
    const char* label = kind == "viewer" ? "otlp::view::Viewer, file db"
                        : kind == "js"   ? "reference: receiver.js (OpenTelemetry JS decode)"
                                         : "reference: otlp bench sink (counts only)";
    std::printf("  %-50s %s spans/s; CPU %s µs/span; peak RSS %s MB\n", label,
                Spread(rate[kind]).c_str(), Spread(cpu[kind], 2).c_str(),
                Spread(hwm[kind], 1).c_str());
  }
  for (const auto& [kind, v] : ratio) {
    std::printf("  viewer ÷ %s: median %.4f (per repetition %s)\n", kind.c_str(), Median(v),
                Spread(v, 4).c_str());
  }
  const double m = Median(rate["viewer"]);
  std::printf("  viewer ingest median %.0f spans/s (target ≥ 200000: %s)%s\n", m,
              m >= 200000 ? "met" : "NOT met", all_stored ? "" : "  SOME RUNS INCOMPLETE");

  const long cap_spans = f.Int("cap-spans", 600000);
  const double cap_mb = f.Num("cap-mb", 64);
  if (cap_spans > 0) {
    const IngestRun r = IngestOnce("viewer", f, cap_spans, cap_mb);
    std::printf("\ncapped: %ld spans into a viewer with max_db_bytes = %g MiB: %.0f spans/s, "
                "%.2f µs CPU/span, peak RSS %.1f MB, stored %" PRIu64 " spans in %.1f MiB "
                "(cap %s)%s%s\n",
                cap_spans, cap_mb, r.spans_per_s, r.cpu_us_per_span, r.hwm_mb, r.stored,
                static_cast<double>(r.db_bytes) / 1048576.0,
                static_cast<double>(r.db_bytes) <= cap_mb * 1048576.0 ? "held" : "EXCEEDED",
                r.complete ? "" : "  INCOMPLETE: ", r.note.c_str());
  }
  return all_stored ? 0 : 1;
}

// ---- load (background) ----

int RunLoadCommand(const Flags& f) {
  signal(SIGTERM, [](int) { g_stop = true; });
  signal(SIGINT, [](int) { g_stop = true; });
  LoadOptions lo;
  lo.endpoint = f.Get("endpoint");
  lo.spans = f.Int("spans", 0);
  lo.seconds = f.Num("seconds", 0);
  lo.rate = f.Num("rate", 0);
  lo.spans_per_trace = static_cast<int>(f.Int("spans-per-trace", 10));
  lo.concurrency = static_cast<int>(f.Int("concurrency", 4));
  lo.service = f.Get("service", "load");
  const LoadResult r = RunLoad(lo);
  const double s = Seconds(r.start, r.answered);
  std::printf("view_bench load: %ld spans in %.2f s (%.0f spans/s), exported %" PRIu64
              ", failed %" PRIu64 ", dropped %" PRIu64 "\n",
              r.created, s, static_cast<double>(r.created) / s, r.stats.spans_exported,
              r.stats.spans_failed, r.dropped);
  return r.stats.spans_exported > 0 ? 0 : 1;
}

// ---- seed ----

int RunSeed(const Flags& f) {
  const std::string endpoint = f.Get("endpoint");
  const long traces = f.Int("traces", 10000);
  const long big = f.Int("big-spans", 1000);
  const char* services[] = {"frontend", "orders", "inventory", "payments"};
  std::vector<std::shared_ptr<trace::TracerProvider>> providers;
  std::vector<trace::Tracer> tracers;
  for (const char* s : services) {
    providers.push_back(MakeProvider(endpoint, s, 1 << 20, 2, nullptr, nullptr));
    tracers.push_back(providers.back()->GetTracer("view-bench-seed", "1.0.0"));
  }
  std::mt19937_64 rng(42);
  auto uni = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
  const auto now = std::chrono::system_clock::now();
  using std::chrono::nanoseconds;
  auto at = [](std::chrono::system_clock::time_point t, double ms) {
    return t + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                   std::chrono::duration<double, std::milli>(ms));
  };
  const char* routes[] = {"/checkout", "/cart", "/users/{id}", "/products/{id}", "/search",
                          "/orders/{id}", "/login", "/logout", "/recommendations", "/health"};
  const char* tiers[] = {"gold", "silver", "bronze"};
  const int codes[] = {200, 200, 200, 200, 200, 200, 201, 404, 503, 500};
  for (long t = 0; t < traces; ++t) {
    // Start times over the last hour, durations log-uniform 1 ms .. 3 s.
    const auto start = at(now, -uni(0, 3600e3));
    const double dur = std::exp(uni(std::log(1.0), std::log(3000.0)));
    const bool error = uni(0, 1) < 0.05;
    const int code = error ? 503 : codes[rng() % 8];
    const std::string route = routes[rng() % 10];
    const std::string tier = tiers[rng() % 3];
    const std::string user = "u" + std::to_string(rng() % 1000);
    trace::Span root = tracers[0].StartSpan(
        "GET " + route, {.kind = trace::SpanKind::kServer, .root = true, .start_time = start});
    root.SetAttribute("http.request.method", "GET");
    root.SetAttribute("http.route", route);
    root.SetAttribute("http.response.status_code", code);
    root.SetAttribute("customer.tier", tier);
    root.SetAttribute("user.id", user);
    const int children = 2 + static_cast<int>(rng() % 10);
    for (int c = 0; c < children; ++c) {
      const size_t svc = 1 + rng() % 3;
      const double from = uni(0, dur * 0.5), to = from + uni(0.05, 0.5) * dur;
      trace::Span s = tracers[svc].StartSpan(
          std::string(kChildNames[rng() % 8]),
          {.kind = trace::SpanKind::kServer, .parent = root.GetContext(), .start_time = at(start, from)});
      s.SetAttribute("http.response.status_code", error && c == 0 ? 503 : 200);
      s.SetAttribute("customer.tier", tier);
      if (error && c == 0) s.SetStatus(trace::SpanStatusCode::kError, "upstream unavailable");
      s.End(at(start, std::min(to, dur)));
    }
    if (error) root.SetStatus(trace::SpanStatusCode::kError, "503 from orders");
    root.End(at(start, dur));
  }
  // The big trace: a 4-ary tree of `big` spans over 2 s, newest of all.
  std::string big_id;
  if (big > 0) {
    const auto start = at(now, -1000);
    const double total = 2000;
    struct Node {
      trace::Span span;
      double from, to;
    };
    std::vector<Node> nodes;
    nodes.reserve(static_cast<size_t>(big));
    nodes.push_back({tracers[0].StartSpan("big-trace", {.kind = trace::SpanKind::kServer,
                                                         .root = true,
                                                         .start_time = start}),
                     0, total});
    big_id = nodes[0].span.GetContext().trace_id().ToHex();
    for (long i = 1; i < big; ++i) {
      Node& parent = nodes[static_cast<size_t>((i - 1) / 4)];
      const double len = parent.to - parent.from;
      const double from = parent.from + len * 0.05 * static_cast<double>((i - 1) % 4 + 1);
      const double to = from + len * 0.2;
      const size_t svc = static_cast<size_t>(i) % 4;
      trace::Span s = tracers[svc].StartSpan(
          std::string(kChildNames[i % 8]),
          {.kind = i % 2 ? trace::SpanKind::kClient : trace::SpanKind::kServer,
           .parent = parent.span.GetContext(), .start_time = at(start, from)});
      s.SetAttribute("http.request.method", "POST");
      s.SetAttribute("http.route", routes[i % 10]);
      s.SetAttribute("http.response.status_code", i % 97 == 0 ? 500 : 200);
      s.SetAttribute("server.address", "orders.internal");
      s.SetAttribute("span.index", static_cast<int64_t>(i));
      if (i % 50 == 0) s.AddEvent("retry", {{"attempt", 2}}, at(start, from + 1));
      if (i % 97 == 0) s.SetStatus(trace::SpanStatusCode::kError, "internal error");
      nodes.push_back({std::move(s), from, to});
    }
    for (size_t i = nodes.size(); i-- > 0;) nodes[i].span.End(at(start, nodes[i].to));
  }
  for (auto& p : providers) p->Shutdown(std::chrono::seconds(120));
  std::printf("big_trace=%s\n", big_id.c_str());
  return 0;
}

// ---- query ----

// One GET over a fresh connection; returns the status and the body size, the time in `ms`.
int HttpGet(const std::string& host, uint16_t port, const std::string& target, std::string& body,
            double& ms) {
  const auto t0 = Clock::now();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + host +
                          "\r\nAccept: application/json\r\nConnection: close\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return -1;
  }
  std::string resp;
  char buf[65536];
  size_t want = std::string::npos;  // total bytes once the header is parsed
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    resp.append(buf, static_cast<size_t>(n));
    if (want == std::string::npos) {
      const size_t end = resp.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string head = resp.substr(0, end);
        std::transform(head.begin(), head.end(), head.begin(), ::tolower);
        const size_t cl = head.find("content-length:");
        if (cl != std::string::npos) want = end + 4 + std::strtoull(head.c_str() + cl + 15, nullptr, 10);
      }
    }
    if (want != std::string::npos && resp.size() >= want) break;
  }
  ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  ::close(fd);
  const size_t end = resp.find("\r\n\r\n");
  body = end == std::string::npos ? std::string() : resp.substr(end + 4);
  return resp.size() > 12 ? std::atoi(resp.c_str() + 9) : -1;
}

int RunQuery(const Flags& f) {
  std::string ui = f.Get("ui");  // http://127.0.0.1:PORT/
  const std::string hostport = ui.substr(ui.find("//") + 2, ui.find('/', ui.find("//") + 2) - ui.find("//") - 2);
  const std::string host = hostport.substr(0, hostport.find(':'));
  const auto port = static_cast<uint16_t>(std::atoi(hostport.c_str() + hostport.find(':') + 1));
  const int reps = static_cast<int>(f.Int("reps", 11));
  const std::string label = f.Get("label", "idle");
  struct Q {
    std::string name, target;
  };
  std::vector<Q> queries = {
      {"reference: unknown trace id (404)", "/api/traces/00000000000000000000000000000001"},
      {"list, no filter (newest 100)", "/api/traces"},
      {"service=payments", "/api/traces?service=payments"},
      {"attr=http.response.status_code=503", "/api/traces?attr=http.response.status_code%3D503"},
      {"attr=user.id=u42", "/api/traces?attr=user.id%3Du42"},
      {"min_duration_ms=1500", "/api/traces?min_duration_ms=1500"},
      {"status=error", "/api/traces?status=error"},
      {"service+attr+min_duration+status", "/api/traces?service=orders&attr=customer.tier%3Dgold&min_duration_ms=500&status=error"},
      {"limit=1000, no filter", "/api/traces?limit=1000"},
  };
  if (f.Has("trace")) queries.push_back({"trace " + f.Get("trace").substr(0, 8) + "… (GET /api/traces/{id})", "/api/traces/" + f.Get("trace")});
  std::printf("view_bench query (%s): median of %d GETs over fresh connections after one warm-up "
              "(min / median / max ms)\n",
              label.c_str(), reps);
  double floor = 0;
  int failures = 0;
  for (const Q& q : queries) {
    std::vector<double> times;
    std::string body;
    int status = 0;
    for (int i = 0; i <= reps; ++i) {
      double ms = 0;
      status = HttpGet(host, port, q.target, body, ms);
      if (i > 0) times.push_back(ms);
    }
    const double m = Median(times);
    if (q.name.starts_with("reference")) floor = m;
    const bool is_list = q.target.starts_with("/api/traces") &&
                         (q.target == "/api/traces" || q.target[11] == '?');
    std::string total;
    if (is_list) {
      // "total":N (traces matching, before the limit).
      const size_t at = body.rfind("\"total\":");
      if (at != std::string::npos) total = ", total " + std::to_string(std::atoll(body.c_str() + at + 8));
    }
    char ratio[32] = "";
    if (floor > 0 && !q.name.starts_with("reference")) std::snprintf(ratio, sizeof ratio, "%.1f× ref", m / floor);
    std::printf("  %-48s %-24s %8.2f ms  %-10s HTTP %d, %zu bytes%s%s\n", q.name.c_str(),
                Spread(times, 2).c_str(), m, ratio, status, body.size(), total.c_str(),
                is_list ? (m < 100 ? "  (target < 100 ms: met)" : "  (target < 100 ms: NOT met)") : "");
    std::fflush(stdout);
    if (is_list && m >= 100) ++failures;
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: view_bench ingest|serve|load|seed|query [flags] (see the header "
                         "of bench/view_bench.cc)\n");
    return 2;
  }
  const std::string cmd = argv[1];
  const Flags f = ParseFlags(argc, argv, 2);
  if (cmd == "ingest") return RunIngest(f);
  if (cmd == "serve") return RunServe(f);
  if (cmd == "load") return RunLoadCommand(f);
  if (cmd == "seed") return RunSeed(f);
  if (cmd == "query") return RunQuery(f);
  std::fprintf(stderr, "view_bench: unknown command '%s'\n", cmd.c_str());
  return 2;
}
