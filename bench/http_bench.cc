// The HTTP client against its references, every figure beside a reference measured in the same
// run and reported as a ratio (issue 10, "Performance"). bench/http_bench.sh starts the local
// nginx, pins everything to one core and runs each row; by hand:
//
//   http_bench seq    --http URL [--https URL --ca FILE] [--n 1000] [--reps 5]   rows 1 and 5
//                     [--profile "ours traced"|"ours untraced"|libcurl|beast|"raw socket"|
//                                "ours h2"|"libcurl h2"]
//   http_bench burst  --https URL --ca FILE [--bursts 20] [--reps 5]            row 2
//   http_bench stream --http URL --https URL --ca FILE --size BYTES [--reps 5]  row 3
//   http_bench idle   --http URL [--reps 5]                                      row 4
//
// Each row is repeated --reps times with ours and the references interleaved; a ratio is taken
// per repetition and the median of those ratios is compared with the target. "Ours" is the
// public client a user would pick: otlp::http::Client for the sequential and streaming rows
// (HTTP/2 by HttpVersionPolicy), otlp::http::AsyncClient for the concurrent burst row, each with
// its own tracing on. Every row prints which API it used.
#include <curl/curl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <span>
#include <string_view>
#include <thread>
#include <vector>

#include "bench_spans.h"
#include "otlp/core/status.h"
#include "otlp/http/async_client.h"
#include "otlp/http/client.h"
#include "otlp/http/internal/attempt_tracing.h"
#include "otlp/net/http_client.h"
#include "otlp/net/runtime.h"
#include "otlp/net/url.h"
#include "otlp/propagation/carriers.h"
#include "otlp/propagation/global_propagator.h"
#include "otlp/trace/batch_processor.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/tracer.h"


namespace {

using Clock = std::chrono::steady_clock;
using otlp::Result;
using otlp::Status;
using otlp::StatusCode;
namespace net = otlp::net;
namespace trace = otlp::trace;

// ---------------------------------------------------------------------------------------------
// Small helpers

struct Args {
  std::map<std::string, std::string> values;
  std::string Get(const std::string& key, const std::string& fallback = "") const {
    auto it = values.find(key);
    return it == values.end() ? fallback : it->second;
  }
  long Int(const std::string& key, long fallback) const {
    auto it = values.find(key);
    return it == values.end() ? fallback : std::strtol(it->second.c_str(), nullptr, 10);
  }
};

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double Max(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// "min/median/max" of the repetitions, for the detail lines.
std::string Spread(const std::vector<double>& v, int precision = 2) {
  if (v.empty()) return "-";
  auto sorted = v;
  std::sort(sorted.begin(), sorted.end());
  char buf[128];
  std::snprintf(buf, sizeof buf, "%.*f / %.*f / %.*f", precision, sorted.front(), precision,
                Median(v), precision, sorted.back());
  return buf;
}

std::string Verdict(double value, double target, bool at_most) {
  const bool met = at_most ? value <= target : value >= target;
  char buf[64];
  std::snprintf(buf, sizeof buf, "(target %s %g: %s)", at_most ? "≤" : "≥", target,
                met ? "met" : "NOT met");
  return buf;
}

// A field of /proc/self/status in kB ("RssAnon", "VmRSS", "VmHWM"); -1 if missing.
long StatusKb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') {
      return std::strtol(line.c_str() + n + 1, nullptr, 10);
    }
  }
  return -1;
}

// Context switches of this process so far (all threads, voluntary and not): on one core every
// hand-off between threads is one, so per request it shows how many the client makes.
double ContextSwitches() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_nvcsw + usage.ru_nivcsw);
}

// CPU time (user + system) of this process so far, all threads, in µs: nginx is another
// process, so per request it is the client's own work (and its batch span processor's).
double ProcessCpuUs() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  auto us = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e6 + t.tv_usec; };
  return us(usage.ru_utime) + us(usage.ru_stime);
}

// CPU time of the calling thread in µs: with the synchronous client (caller-driven: its I/O runs
// on the calling thread) it is all of a request's client work, without the batch span
// processor's thread.
double ThreadCpuUs() { return otlp::bench::ThreadCpuNs() / 1e3; }

// Resets VmHWM to the current RSS (Linux: "5" to clear_refs).
void ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
}

// Runs a shell command; its standard output (and error), or nullopt if it could not start.
std::optional<std::string> RunCommand(const std::string& command) {
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::string out;
  char buf[4096];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, got);
  const int rc = ::pclose(p);
  if (rc != 0) return std::nullopt;
  return out;
}

bool HaveTool(const std::string& name) {
  return RunCommand("command -v " + name + " >/dev/null").has_value();
}

// ---------------------------------------------------------------------------------------------
// Tracing: a real provider with a batch processor whose exporter only counts, so that spans are
// made, queued and exported as in production.

using otlp::bench::CountingExporter;

std::atomic<uint64_t> g_exported{0};

std::shared_ptr<trace::TracerProvider> InstallTracing() {
  auto processor = trace::BatchSpanProcessor::Create(
      std::make_unique<CountingExporter>(&g_exported), {.max_queue_size = 65536});
  auto provider = trace::TracerProvider::Create({.processor = std::move(processor)});
  trace::SetTracerProvider(provider);
  otlp::propagation::SetGlobalPropagator(otlp::propagation::DefaultPropagator());
  return provider;
}

// Row 5's "tracing work alone": the calls otlp::http's engine makes per attempt (its CLIENT
// span with the semantic-convention attributes, the context injected into the headers, the
// status and protocol version recorded at the end), without the I/O.
class AttemptTrace {
 public:
  AttemptTrace(trace::Tracer& tracer, const net::Url& url, net::Headers& headers) {
    namespace hi = otlp::http::internal;
    const hi::AttemptInfo info{.method = "GET", .url = &url, .request_headers = &headers};
    const trace::Context parent = trace::Context::Current();
    span_ = hi::StartAttemptSpan(tracer, options_, parent, info);
    hi::InjectContext(parent.WithSpanContext(span_.GetContext()), headers);
  }
  void End(int status, std::string_view version) {
    otlp::http::internal::EndAttemptSpan(span_, options_, status, nullptr, Status(), version);
  }

 private:
  otlp::http::TracingOptions options_{};
  trace::Span span_;
};

Status CheckBody(int status, size_t size, size_t want) {
  if (status != 200) return Status(StatusCode::kInternal, "HTTP status " + std::to_string(status));
  if (want != 0 && size != want) {
    return Status(StatusCode::kInternal, "body of " + std::to_string(size) + " bytes, expected " +
                                             std::to_string(want));
  }
  return Status();
}

// ---------------------------------------------------------------------------------------------
// Ours: otlp::http::Client, one request at a time, HTTP/1.1 or HTTP/2 (by ALPN over TLS).

otlp::http::ClientOptions OursOptions(bool traced, const std::string& ca, bool h2) {
  otlp::http::ClientOptions options;
  options.transport.tls.ca_file = ca;
  options.transport.max_response_body = 0;
  options.transport.http_version =
      h2 ? net::HttpVersionPolicy::kPreferHttp2 : net::HttpVersionPolicy::kHttp1Only;
  options.tracing.enabled = traced;
  options.tracing.propagate = traced;
  return options;
}

class Ours {
 public:
  // `traced`: spans and injection on (the global provider); off: neither.
  static Result<std::unique_ptr<Ours>> Create(bool traced, const std::string& ca,
                                              bool h2 = false) {
    auto self = std::unique_ptr<Ours>(new Ours());
    self->version_ = h2 ? "2" : "1.1";
    auto client = otlp::http::Client::Create(OursOptions(traced, ca, h2));
    if (!client.ok()) return client.status();
    self->client_ = std::move(*client);
    return self;
  }

  static const char* Api(bool h2 = false) {
    return h2 ? "otlp::http::Client, HttpVersionPolicy::kPreferHttp2 (its own tracing)"
              : "otlp::http::Client (its own tracing)";
  }

  Status Get(const std::string& url, size_t want) {
    auto r = client_->Send(otlp::http::Request::Get(url));
    if (!r.ok()) return r.status();
    if (r->protocol_version != version_) {
      return Status(StatusCode::kInternal, "answered over HTTP/" + r->protocol_version);
    }
    return CheckBody(r->status, r->body.size(), want);
  }

  // Streams the body of `url` to a counting sink; the bytes received.
  Result<uint64_t> Download(const std::string& url) {
    uint64_t got = 0;
    auto r = client_->Send(otlp::http::Request::Get(url).With(
        otlp::http::Timeout{std::chrono::minutes(10)},
        otlp::http::OnBody{[&got](std::string_view chunk) {
          got += chunk.size();
          return Status();
        }}));
    if (!r.ok()) return r.status();
    if (r->protocol_version != version_) {
      return Status(StatusCode::kInternal, "answered over HTTP/" + r->protocol_version);
    }
    if (auto s = CheckBody(r->status, 0, 0); !s.ok()) return s;
    return got;
  }

  uint64_t connections_opened() const { return client_->connections_opened(); }

 private:
  Ours() = default;
  std::string version_;
  std::unique_ptr<otlp::http::Client> client_;
};

// ---------------------------------------------------------------------------------------------
// References: an in-process libcurl easy handle, and a bare synchronous Beast loop.

size_t CurlCount(char*, size_t size, size_t n, void* user) {
  *static_cast<size_t*>(user) += size * n;
  return size * n;
}

class CurlLoop {
 public:
  CurlLoop(const std::string& url, const std::string& ca, bool h2) : easy_(curl_easy_init()) {
    curl_easy_setopt(easy_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &CurlCount);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, &received_);
    if (!ca.empty()) curl_easy_setopt(easy_, CURLOPT_CAINFO, ca.c_str());
    curl_easy_setopt(easy_, CURLOPT_HTTP_VERSION,
                     h2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1);
  }
  ~CurlLoop() { curl_easy_cleanup(easy_); }
  CurlLoop(const CurlLoop&) = delete;
  CurlLoop& operator=(const CurlLoop&) = delete;

  Status Get(size_t want) {
    received_ = 0;
    CURLcode rc = curl_easy_perform(easy_);
    if (rc != CURLE_OK) return Status(StatusCode::kUnavailable, curl_easy_strerror(rc));
    long opened = 0;
    curl_easy_getinfo(easy_, CURLINFO_NUM_CONNECTS, &opened);
    connections_ += opened;
    long code = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &code);
    return CheckBody(static_cast<int>(code), received_, want);
  }
  // Connections the handle opened over all its transfers.
  long connections() const { return connections_; }

 private:
  CURL* easy_;
  size_t received_ = 0;
  long connections_ = 0;
};

class BeastLoop {
 public:
  static Result<std::unique_ptr<BeastLoop>> Create(const std::string& url) {
    auto u = net::Url::Parse(url);
    if (!u.ok()) return u.status();
    auto self = std::unique_ptr<BeastLoop>(new BeastLoop());
    self->host_ = u->host;
    self->port_ = u->port;
    self->request_ = {boost::beast::http::verb::get, u->target, 11};
    self->request_.set(boost::beast::http::field::host, u->host + ":" + std::to_string(u->port));
    self->request_.set(boost::beast::http::field::user_agent, "beast");
    if (auto s = self->Connect(); !s.ok()) return s;
    return self;
  }

  Status Get(size_t want) {
    namespace http = boost::beast::http;
    boost::system::error_code ec;
    http::write(socket_, request_, ec);
    if (ec) return Status(StatusCode::kUnavailable, ec.message());
    http::response<http::string_body> response;
    http::read(socket_, buffer_, response, ec);
    if (ec) return Status(StatusCode::kUnavailable, ec.message());
    if (!response.keep_alive()) {
      if (auto s = Connect(); !s.ok()) return s;
    }
    return CheckBody(static_cast<int>(response.result_int()), response.body().size(), want);
  }

 private:
  BeastLoop() : socket_(ioc_) {}
  Status Connect() {
    boost::system::error_code ec;
    socket_.close(ec);
    buffer_.clear();
    boost::asio::ip::tcp::resolver resolver(ioc_);
    auto endpoints = resolver.resolve(host_, std::to_string(port_), ec);
    if (ec) return Status(StatusCode::kUnavailable, ec.message());
    boost::asio::connect(socket_, endpoints, ec);
    if (ec) return Status(StatusCode::kUnavailable, ec.message());
    socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    return Status();
  }

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  boost::beast::http::request<boost::beast::http::empty_body> request_;
  std::string host_;
  uint16_t port_ = 0;
};

// The floor: what any client must spend per request on this machine. A blocking socket, one
// prebuilt request written with one send(), the response read with recv() until its headers and
// Content-Length bytes are in; no parsing beyond that, no allocation, no timers. Not a client
// anyone should use (no chunked bodies, no errors beyond "failed"): it shows how much of a
// request's time is nginx and the kernel, i.e. the least any of the contenders can take.
class RawLoop {
 public:
  static Result<std::unique_ptr<RawLoop>> Create(const std::string& url) {
    auto u = net::Url::Parse(url);
    if (!u.ok()) return u.status();
    auto self = std::unique_ptr<RawLoop>(new RawLoop());
    self->request_ = "GET " + u->target + " HTTP/1.1\r\nHost: " + u->host + ":" +
                     std::to_string(u->port) + "\r\nUser-Agent: raw\r\n\r\n";
    boost::system::error_code ec;
    boost::asio::ip::tcp::resolver resolver(self->ioc_);
    auto endpoints = resolver.resolve(u->host, std::to_string(u->port), ec);
    if (!ec) boost::asio::connect(self->socket_, endpoints, ec);
    if (ec) return Status(StatusCode::kUnavailable, ec.message());
    self->socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    return self;
  }

  Status Get(size_t want) {
    const int fd = socket_.native_handle();
    if (::send(fd, request_.data(), request_.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request_.size())) {
      return Status(StatusCode::kUnavailable, "send failed");
    }
    size_t have = 0;
    size_t total = 0;  // headers + body, once the headers are in
    int status = 0;
    while (total == 0 || have < total) {
      const ssize_t got = ::recv(fd, buffer_.data() + have, buffer_.size() - have, 0);
      if (got <= 0) return Status(StatusCode::kUnavailable, "recv failed");
      have += static_cast<size_t>(got);
      if (total != 0) continue;
      std::string_view text(buffer_.data(), have);
      const size_t end = text.find("\r\n\r\n");
      if (end == std::string_view::npos) continue;
      const size_t cl = text.find("Content-Length: ");
      if (cl == std::string_view::npos || cl > end || text.size() < 12) {
        return Status(StatusCode::kUnavailable, "no Content-Length");
      }
      status = std::atoi(text.data() + 9);
      total = end + 4 + static_cast<size_t>(std::atol(text.data() + cl + 16));
      if (total > buffer_.size()) return Status(StatusCode::kUnavailable, "response too big");
    }
    if (have != total) return Status(StatusCode::kUnavailable, "pipelined bytes");
    return CheckBody(status, total - (std::string_view(buffer_.data(), have).find("\r\n\r\n") + 4),
                     want);
  }

 private:
  RawLoop() : socket_(ioc_) {}
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  std::string request_;
  std::array<char, 16384> buffer_{};
};

// Times `n` calls of `one`; nullopt (after printing why) when one fails.
std::optional<double> TimeLoop(const char* who, long n, const std::function<Status()>& one) {
  const auto start = Clock::now();
  for (long i = 0; i < n; ++i) {
    Status s = one();
    if (!s.ok()) {
      std::printf("   %s failed: %s\n", who, s.ToString().c_str());
      return std::nullopt;
    }
  }
  return Ms(Clock::now() - start);
}

// ---------------------------------------------------------------------------------------------
// Rows 1 and 5: sequential keep-alive GETs.

int RunSeq(const Args& args) {
  const std::string http_url = args.Get("http");
  const std::string https_url = args.Get("https");
  const std::string ca = args.Get("ca");
  const long n = args.Int("n", 1000);
  const int reps = static_cast<int>(args.Int("reps", 5));
  const size_t want = static_cast<size_t>(args.Int("body", 100));
  auto provider = InstallTracing();
  int failures = 0;
  const std::string only = args.Get("profile");

  // HTTP/1.1.
  if (only.empty() || only.find("h2") == std::string::npos) {
    auto traced = Ours::Create(true, ca);
    auto untraced = Ours::Create(false, ca);
    auto beast = BeastLoop::Create(http_url);
    auto raw = RawLoop::Create(http_url);
    if (!traced.ok() || !untraced.ok() || !beast.ok() || !raw.ok()) {
      std::printf("row 1 (HTTP/1.1) cannot run: %s %s %s\n", traced.status().ToString().c_str(),
                  untraced.status().ToString().c_str(), beast.status().ToString().c_str());
      return 1;
    }
    CurlLoop curl(http_url, "", false);
    std::vector<double> t_ours, t_plain, t_curl, t_beast, t_raw, r_curl, r_beast, r_floor;
    std::map<std::string, std::vector<double>> switches;  // per request, by contender
    std::map<std::string, std::vector<double>> cpu_us;    // per request, by contender
    using Loop = std::pair<std::vector<double>*, std::function<Status()>>;
    std::vector<std::pair<const char*, Loop>> loops = {
        {"ours traced", {&t_ours, [&] { return (*traced)->Get(http_url, want); }}},
        {"libcurl", {&t_curl, [&] { return curl.Get(want); }}},
        {"beast", {&t_beast, [&] { return (*beast)->Get(want); }}},
        {"ours untraced", {&t_plain, [&] { return (*untraced)->Get(http_url, want); }}},
        {"raw socket", {&t_raw, [&] { return (*raw)->Get(want); }}},
    };
    // --profile NAME: only that contender's loop, n requests, no comparison (for perf/strace).
    if (!only.empty()) {
      for (auto& [who, loop] : loops) {
        if (only == who) return TimeLoop(who, n, loop.second) ? 0 : 1;
      }
    }
    // Warm-up: connections open, allocator and caches warm.
    for (auto& [who, loop] : loops) {
      if (!TimeLoop(who, 50, loop.second)) return 1;
    }
    for (int rep = 0; rep < reps; ++rep) {
      // Rotate the order so no contender always runs right after another.
      for (size_t k = 0; k < loops.size(); ++k) {
        auto& [who, loop] = loops[(k + static_cast<size_t>(rep)) % loops.size()];
        const double switches_before = ContextSwitches();
        const double cpu_before = ProcessCpuUs();
        auto ms = TimeLoop(who, n, loop.second);
        if (!ms) return 1;
        loop.first->push_back(*ms * 1000.0 / static_cast<double>(n));  // ms per 1000
        switches[who].push_back((ContextSwitches() - switches_before) / static_cast<double>(n));
        cpu_us[who].push_back((ProcessCpuUs() - cpu_before) / static_cast<double>(n));
      }
      r_curl.push_back(t_ours.back() / t_curl.back());
      r_beast.push_back(t_ours.back() / t_beast.back());
      r_floor.push_back(t_raw.back() / t_curl.back());
    }
    provider->ForceFlush();
    std::printf("row 1: %ld sequential keep-alive GETs of a %zu-byte body, HTTP/1.1, %s\n", n, want,
                http_url.c_str());
    std::printf("   ours: %s\n", Ours::Api());
    std::printf("   ms per 1000 requests, min / median / max of %d interleaved repetitions:\n",
                reps);
    std::printf("     ours, tracing on        %s\n", Spread(t_ours).c_str());
    std::printf("     ours, tracing off       %s\n", Spread(t_plain).c_str());
    std::printf("     libcurl easy handle     %s   (%ld connection(s))\n", Spread(t_curl).c_str(),
                curl.connections());
    std::printf("     Beast sync loop         %s\n", Spread(t_beast).c_str());
    std::printf("     raw socket (the floor)  %s\n", Spread(t_raw).c_str());
    std::printf("   context switches of this process per request, median: ours traced %.2f, "
                "untraced %.2f, libcurl %.2f, Beast %.2f\n",
                Median(switches["ours traced"]), Median(switches["ours untraced"]),
                Median(switches["libcurl"]), Median(switches["beast"]));
    std::printf("   CPU µs of this process per request, median: ours traced %.1f, untraced %.1f, "
                "libcurl %.1f, Beast %.1f, raw socket %.1f\n",
                Median(cpu_us["ours traced"]), Median(cpu_us["ours untraced"]),
                Median(cpu_us["libcurl"]), Median(cpu_us["beast"]), Median(cpu_us["raw socket"]));
    std::printf("   ours/libcurl  median %.3f %s\n", Median(r_curl),
                Verdict(Median(r_curl), 0.75, true).c_str());
    std::printf("   ours/Beast    median %.3f %s\n", Median(r_beast),
                Verdict(Median(r_beast), 1.3, true).c_str());
    std::printf("   floor/libcurl median %.3f: no client on this host can take less than this "
                "share of libcurl's time\n",
                Median(r_floor));
    std::printf("   connections opened by ours (traced client): %llu\n",
                static_cast<unsigned long long>((*traced)->connections_opened()));

    // Row 5: the same loop with and without tracing, and the tracing work alone.
    // Paired blocks: a difference of ~1 µs in ~50 µs requests drowns in the drift between two
    // 1,000-request loops, so each repetition alternates 20 pairs of short traced / untraced
    // blocks and takes the median of the per-pair differences (wall time, and CPU time of the
    // calling thread, which runs the synchronous client's I/O).
    std::vector<double> paired_ns, paired_cpu_ns;
    {
      constexpr int kPairs = 20;
      const long block = std::max(50L, n / 5);
      for (int rep = 0; rep < reps; ++rep) {
        std::vector<double> wall, cpu;
        for (int pair = 0; pair < kPairs; ++pair) {
          double ms[2], thread_us[2];
          for (int k = 0; k < 2; ++k) {
            const int which = (k + pair) % 2;  // 0 traced, 1 untraced; the order alternates
            Ours& client = which == 0 ? **traced : **untraced;
            const double thread_before = ThreadCpuUs();
            auto t = TimeLoop(which == 0 ? "ours traced" : "ours untraced", block,
                              [&] { return client.Get(http_url, want); });
            if (!t) return 1;
            ms[which] = *t;
            thread_us[which] = ThreadCpuUs() - thread_before;
          }
          wall.push_back((ms[0] - ms[1]) * 1e6 / static_cast<double>(block));
          cpu.push_back((thread_us[0] - thread_us[1]) * 1e3 / static_cast<double>(block));
        }
        paired_ns.push_back(Median(wall));
        paired_cpu_ns.push_back(Median(cpu));
      }
    }
    std::vector<double> alone_ns;
    {
      auto url = net::Url::Parse(http_url);
      trace::Tracer tracer = trace::GetTracer("otlp.http", "bench");
      constexpr int kOps = 100000;
      for (int rep = 0; rep < reps; ++rep) {
        const auto start = Clock::now();
        for (int i = 0; i < kOps; ++i) {
          net::Headers headers;
          AttemptTrace attempt(tracer, *url, headers);
          attempt.End(200, "1.1");
        }
        alone_ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() /
                           kOps);
        // Only the per-request cost counts: exporting is the batch thread's work.
        provider->ForceFlush();
      }
    }
    std::printf("row 5: tracing cost per request (span + header injection)\n");
    std::printf("   paired blocks (20 pairs of %ld-request traced/untraced blocks per repetition, "
                "median difference):\n     wall ns per request %s, median %.0f ns %s\n"
                "     calling thread's CPU ns per request %s, median %.0f ns %s\n",
                std::max(50L, n / 5), Spread(paired_ns, 0).c_str(), Median(paired_ns),
                Verdict(Median(paired_ns), 1000, true).c_str(), Spread(paired_cpu_ns, 0).c_str(),
                Median(paired_cpu_ns), Verdict(Median(paired_cpu_ns), 1000, true).c_str());
    std::printf("   the same per-request tracing work alone (CLIENT span with the client's "
                "attributes,\n   traceparent injected, status recorded), ns: %s\n",
                Spread(alone_ns, 0).c_str());
    std::printf("   spans exported so far: %llu\n",
                static_cast<unsigned long long>(g_exported.load()));
  }

  // HTTP/2 over TLS.
  if (https_url.empty()) {
    std::printf("row 1 (HTTP/2 over TLS) not run: no --https URL\n");
    return failures;
  }
  {
    auto ours = Ours::Create(true, ca, /*h2=*/true);
    if (!ours.ok()) {
      std::printf("row 1 (HTTP/2 over TLS) cannot run: %s\n", ours.status().ToString().c_str());
      return 1;
    }
    CurlLoop curl(https_url, ca, true);
    std::vector<double> t_ours, t_curl, ratio, cpu_ours, cpu_curl;
    auto ours_one = [&] { return (*ours)->Get(https_url, want); };
    auto curl_one = [&] { return curl.Get(want); };
    if (only == "ours h2") return TimeLoop("ours h2", n, ours_one) ? 0 : 1;
    if (only == "libcurl h2") return TimeLoop("libcurl h2", n, curl_one) ? 0 : 1;
    if (!only.empty()) {
      std::printf("--profile: no contender named '%s'\n", only.c_str());
      return 1;
    }
    if (!TimeLoop("ours h2", 50, ours_one) || !TimeLoop("libcurl h2", 50, curl_one)) return 1;
    for (int rep = 0; rep < reps; ++rep) {
      std::optional<double> a, b;
      auto timed = [&](std::optional<double>& out, std::vector<double>& cpu, const char* who,
                       const std::function<Status()>& one) {
        const double before = ProcessCpuUs();
        out = TimeLoop(who, n, one);
        cpu.push_back((ProcessCpuUs() - before) / static_cast<double>(n));
      };
      if (rep % 2 == 0) {
        timed(a, cpu_ours, "ours h2", ours_one);
        timed(b, cpu_curl, "libcurl h2", curl_one);
      } else {
        timed(b, cpu_curl, "libcurl h2", curl_one);
        timed(a, cpu_ours, "ours h2", ours_one);
      }
      if (!a || !b) return 1;
      t_ours.push_back(*a * 1000.0 / static_cast<double>(n));
      t_curl.push_back(*b * 1000.0 / static_cast<double>(n));
      ratio.push_back(*a / *b);
    }
    std::printf("row 1: %ld sequential GETs of a %zu-byte body, HTTP/2 over TLS, %s\n", n, want,
                https_url.c_str());
    std::printf("   ours: %s\n", Ours::Api(/*h2=*/true));
    std::printf("   ms per 1000 requests, min / median / max of %d interleaved repetitions:\n",
                reps);
    std::printf("     ours, tracing on              %s   (%llu connection(s))\n",
                Spread(t_ours).c_str(),
                static_cast<unsigned long long>((*ours)->connections_opened()));
    std::printf("     libcurl CURL_HTTP_VERSION_2TLS %s   (%ld connection(s))\n",
                Spread(t_curl).c_str(), curl.connections());
    std::printf("   CPU µs of this process per request, median: ours %.1f, libcurl %.1f\n",
                Median(cpu_ours), Median(cpu_curl));
    std::printf("   ours/libcurl  median %.3f %s\n", Median(ratio),
                Verdict(Median(ratio), 0.9, true).c_str());
  }
  return failures;
}

// ---------------------------------------------------------------------------------------------
// Row 2: bursts of 100 concurrent requests on one HTTP/2+TLS connection, against h2load.

// "12.3ms", "850.12us", "1.2s" → milliseconds; negative if unparsable.
double ParseDurationMs(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str()) return -1;
  const std::string unit(end);
  if (unit.rfind("us", 0) == 0) return v / 1000;
  if (unit.rfind("ms", 0) == 0) return v;
  if (unit.rfind("s", 0) == 0) return v * 1000;
  return -1;
}

// One `h2load -n100 -c1 -m100` run: total time, and the same minus its connect (TCP + TLS).
struct H2loadRun {
  double total_ms = -1;
  double connect_ms = -1;
};

std::optional<H2loadRun> RunH2load(const std::string& url, int requests) {
  auto out = RunCommand("h2load -n" + std::to_string(requests) + " -c1 -m" +
                        std::to_string(requests) + " " + url);
  if (!out) return std::nullopt;
  H2loadRun run;
  size_t pos = out->find("finished in ");
  if (pos != std::string::npos) run.total_ms = ParseDurationMs(out->substr(pos + 12));
  pos = out->find("time for connect:");
  if (pos != std::string::npos) {
    size_t p = pos + 17;
    while (p < out->size() && (*out)[p] == ' ') ++p;
    run.connect_ms = ParseDurationMs(out->substr(p));  // min over one client: its connect
  }
  if (out->find("100 succeeded") == std::string::npos && requests == 100) return std::nullopt;
  if (run.total_ms < 0) return std::nullopt;
  return run;
}

int RunBurst(const Args& args) {
  const std::string url = args.Get("https");
  const std::string ca = args.Get("ca");
  const int bursts = static_cast<int>(args.Int("bursts", 20));
  const int reps = static_cast<int>(args.Int("reps", 5));
  const size_t want = static_cast<size_t>(args.Int("body", 100));
  constexpr int kConcurrent = 100;
  auto provider = InstallTracing();
  const bool h2load = HaveTool("h2load");

  otlp::http::ClientOptions options = OursOptions(true, ca, /*h2=*/true);
  options.threads = 1;
  auto ours = otlp::http::AsyncClient::Create(std::move(options));
  if (!ours.ok()) {
    std::printf("row 2 cannot run: %s\n", ours.status().ToString().c_str());
    return 1;
  }
  // One burst: submit 100 requests, wait for the last completion.
  auto burst = [&]() -> std::optional<double> {
    std::mutex mu;
    std::condition_variable cv;
    int left = kConcurrent;
    Status first_error;
    const auto start = Clock::now();
    for (int i = 0; i < kConcurrent; ++i) {
      (*ours)->SendAsync(otlp::http::Request::Get(url), [&](Result<otlp::http::Response> r) {
        Status s = !r.ok()                        ? r.status()
                   : r->protocol_version != "2" ? Status(StatusCode::kInternal, "not HTTP/2")
                                                  : CheckBody(r->status, r->body.size(), want);
        std::lock_guard lock(mu);
        if (!s.ok() && first_error.ok()) first_error = s;
        if (--left == 0) cv.notify_one();
      });
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return left == 0; });
    const double ms = Ms(Clock::now() - start);
    if (!first_error.ok()) {
      std::printf("   ours failed: %s\n", first_error.ToString().c_str());
      return std::nullopt;
    }
    return ms;
  };
  for (int i = 0; i < 3; ++i) {
    if (!burst()) return 1;  // warm-up
  }
  std::vector<double> ours_median, ours_worst, ref_net, ref_total, ratio, stall;
  std::vector<double> all_bursts;
  for (int rep = 0; rep < reps; ++rep) {
    std::vector<double> times;
    for (int b = 0; b < bursts; ++b) {
      auto ms = burst();
      if (!ms) return 1;
      times.push_back(*ms);
      all_bursts.push_back(*ms);
    }
    ours_median.push_back(Median(times));
    ours_worst.push_back(Max(times));
    stall.push_back(Max(times) / Median(times));
    if (h2load) {
      std::vector<double> net_ms, total_ms;
      for (int b = 0; b < bursts; ++b) {
        auto run = RunH2load(url, kConcurrent);
        if (!run) {
          std::printf("   h2load failed against %s\n", url.c_str());
          return 1;
        }
        total_ms.push_back(run->total_ms);
        net_ms.push_back(run->connect_ms >= 0 ? run->total_ms - run->connect_ms : run->total_ms);
      }
      ref_net.push_back(Median(net_ms));
      ref_total.push_back(Median(total_ms));
      ratio.push_back(ours_median.back() / ref_net.back());
    }
  }
  provider->ForceFlush();
  std::printf("row 2: bursts of %d concurrent GETs (%zu-byte body) on one HTTP/2+TLS connection,"
              " %d bursts × %d repetitions, %s\n",
              kConcurrent, want, bursts, reps, url.c_str());
  std::printf("   ours: otlp::http::AsyncClient (one I/O thread), kPreferHttp2, its own "
              "tracing\n");
  std::printf("   ours, median burst per repetition (ms): %s\n", Spread(ours_median, 3).c_str());
  std::printf("   ours, slowest burst per repetition (ms): %s\n", Spread(ours_worst, 3).c_str());
  if (h2load) {
    std::printf("   h2load -n100 -c1 -m100, median of %d runs per repetition (ms), its connect"
                " (TCP+TLS) taken out: %s\n",
                bursts, Spread(ref_net, 3).c_str());
    std::printf("   h2load whole run, connect included (ms): %s\n", Spread(ref_total, 3).c_str());
    std::printf("   ours/h2load   median %.3f %s\n", Median(ratio),
                Verdict(Median(ratio), 2.0, true).c_str());
  } else {
    std::printf("   h2load: not installed (Debian nghttp2-client) — reference not measured\n");
  }
  std::printf("   slowest/median burst, per repetition: %s; median %.2f %s; over all %zu "
              "bursts: %.2f\n",
              Spread(stall).c_str(), Median(stall), Verdict(Median(stall), 3.0, true).c_str(),
              all_bursts.size(), Max(all_bursts) / Median(all_bursts));
  const uint64_t connections = (*ours)->connections_opened();
  std::printf("   connections opened by ours: %llu %s\n",
              static_cast<unsigned long long>(connections),
              connections == 1 ? "(target: 1, met)" : "(target: 1, NOT MET)");
  return connections == 1 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// Row 3: streaming a large body to a callback, against `curl -o /dev/null`.

struct CurlCliRun {
  double seconds = 0;
  double bytes = 0;
};

std::optional<CurlCliRun> RunCurlCli(const std::string& url, const std::string& ca,
                                     const char* version_flag) {
  std::string command = "curl -sS -o /dev/null -w '%{time_total} %{size_download}' ";
  command += version_flag;
  if (!ca.empty()) command += " --cacert " + ca;
  command += " " + url;
  auto out = RunCommand(command);
  if (!out) return std::nullopt;
  CurlCliRun run;
  if (std::sscanf(out->c_str(), "%lf %lf", &run.seconds, &run.bytes) != 2) return std::nullopt;
  return run;
}

int RunStream(const Args& args) {
  const std::string http_url = args.Get("http");
  const std::string https_url = args.Get("https");
  const std::string ca = args.Get("ca");
  const double size = static_cast<double>(args.Int("size", 1L << 30));
  const int reps = static_cast<int>(args.Int("reps", 5));
  const bool curl_cli = HaveTool("curl");
  std::printf("row 3: streaming a %.0f MiB body to a counting callback vs `curl -o /dev/null`, "
              "%d interleaved repetitions\n",
              size / (1 << 20), reps);
  if (!curl_cli) {
    std::printf("   curl (command line): not installed — reference not measured\n");
  }

  struct Case {
    const char* name;
    std::string url;
    const char* curl_flag;
    std::string api;
    std::function<Result<uint64_t>()> ours;
  };
  // Untraced: one span per download is noise beside a gigabyte.
  auto h1 = Ours::Create(false, ca);
  auto h2 = Ours::Create(false, ca, /*h2=*/true);
  if (!h1.ok() || !h2.ok()) {
    std::printf("   cannot run: %s %s\n", h1.status().ToString().c_str(),
                h2.status().ToString().c_str());
    return 1;
  }
  std::vector<Case> cases;
  const std::string api = "otlp::http::Client, OnBody";
  cases.push_back({"HTTP/1.1 plain", http_url, "--http1.1", api,
                   [&] { return (*h1)->Download(http_url); }});
  if (!https_url.empty()) {
    cases.push_back({"HTTP/1.1 TLS", https_url, "--http1.1", api,
                     [&] { return (*h1)->Download(https_url); }});
    cases.push_back({"HTTP/2 TLS", https_url, "--http2", api + ", kPreferHttp2",
                     [&] { return (*h2)->Download(https_url); }});
  }
  int failures = 0;
  for (Case& c : cases) {
    std::printf("-- %s, %s\n   ours: %s\n", c.name, c.url.c_str(), c.api.c_str());
    std::vector<double> ours_s, ref_s, ratio, growth_kb;
    bool skip = false;
    for (int rep = 0; rep < reps && !skip; ++rep) {
      const long rss_before = StatusKb("VmRSS");
      ResetPeakRss();
      const auto start = Clock::now();
      auto got = c.ours();
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      growth_kb.push_back(static_cast<double>(StatusKb("VmHWM") - rss_before));
      if (!got.ok()) {
        std::printf("   ours cannot run: %s\n", got.status().ToString().c_str());
        skip = true;
        if (got.status().code() != StatusCode::kUnimplemented) ++failures;
        break;
      }
      if (static_cast<double>(*got) != size) {
        std::printf("   ours received %llu bytes, expected %.0f\n",
                    static_cast<unsigned long long>(*got), size);
        ++failures;
        skip = true;
        break;
      }
      ours_s.push_back(seconds);
      if (curl_cli) {
        auto ref = RunCurlCli(c.url, ca, c.curl_flag);
        if (!ref || ref->bytes != size) {
          std::printf("   curl failed or received a different size\n");
          ++failures;
          skip = true;
          break;
        }
        ref_s.push_back(ref->seconds);
        ratio.push_back(ref->seconds / seconds);  // throughput ours ÷ curl
      }
    }
    if (skip) continue;
    auto mbps = [&](const std::vector<double>& s) {
      std::vector<double> v;
      for (double x : s) v.push_back(size / x / (1 << 20));
      return v;
    };
    std::printf("   MiB/s, min / median / max: ours %s", Spread(mbps(ours_s), 0).c_str());
    if (curl_cli) {
      std::printf("; curl %s %s\n", c.curl_flag, Spread(mbps(ref_s), 0).c_str());
      std::printf("   throughput ours/curl  median %.3f %s\n", Median(ratio),
                  Verdict(Median(ratio), 0.9, false).c_str());
    } else {
      std::printf("\n");
    }
    std::printf("   peak RSS growth during a download (kB): %s (flat: independent of the size)\n",
                Spread(growth_kb, 0).c_str());
  }
  return failures;
}

// ---------------------------------------------------------------------------------------------
// Row 4: private memory of an idle client that made one request, in a fresh process each.

size_t CurlDiscard(char*, size_t size, size_t n, void*) { return size * n; }

int RunIdleChild(const Args& args) {
  const std::string url = args.Get("http");
  const std::string which = args.Get("which");
  const long before = StatusKb("RssAnon");
  // Kept alive (idle) until after the second reading.
  std::shared_ptr<void> keep;
  if (which == "ours") {
    auto client = otlp::http::Client::Create();
    if (!client.ok()) return 1;
    auto r = (*client)->Get(url);
    if (!r.ok() || r->status != 200) return 1;
    keep = std::shared_ptr<otlp::http::Client>(std::move(*client));
  } else {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL* easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &CurlDiscard);
    if (curl_easy_perform(easy) != CURLE_OK) return 1;
    keep = std::shared_ptr<CURL>(easy, [](CURL* e) { curl_easy_cleanup(e); });
  }
  // Let the I/O thread settle back into its idle wait.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::printf("rss_anon_growth_kb %ld\n", StatusKb("RssAnon") - before);
  return 0;
}

int RunIdle(const Args& args, const char* self) {
  const std::string url = args.Get("http");
  const int reps = static_cast<int>(args.Int("reps", 5));
  std::vector<double> ours, ref, ratio;
  for (int rep = 0; rep < reps; ++rep) {
    for (const char* which : {"ours", "libcurl"}) {
      auto out = RunCommand(std::string(self) + " idle-child --http " + url + " --which " + which);
      const size_t at = out ? out->find("rss_anon_growth_kb ") : std::string::npos;
      if (at == std::string::npos) {
        std::printf("row 4: the %s child failed: %s\n", which, out ? out->c_str() : "");
        return 1;
      }
      (std::string_view(which) == "ours" ? ours : ref)
          .push_back(std::strtod(out->c_str() + at + 19, nullptr));
    }
    ratio.push_back(ours.back() / std::max(1.0, ref.back()));
  }
  std::printf("row 4: idle client private memory, RssAnon after creating a client and one GET "
              "minus before, fresh process each, %d repetitions\n",
              reps);
  std::printf(
      "   ours: otlp::http::Client::Create(), default options (no I/O thread: Send() runs the "
      "I/O)\n");
  std::printf("   ours (kB): %s; median %.2f MB %s\n", Spread(ours, 0).c_str(),
              Median(ours) / 1024.0, Verdict(Median(ours) / 1024.0, 1.5, true).c_str());
  std::printf("   libcurl easy handle + curl_global_init (kB): %s; ours/libcurl median %.2f\n",
              Spread(ref, 0).c_str(), Median(ratio));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: http_bench seq|burst|stream|idle --key value ... "
                         "(see the top of bench/http_bench.cc)\n");
    return 2;
  }
  Args args;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0) {
      std::fprintf(stderr, "unexpected argument %s\n", argv[i]);
      return 2;
    }
    args.values[key.substr(2)] = argv[i + 1];
  }
  const std::string mode = argv[1];
  // (The idle child measures curl's global initialization as part of libcurl's memory.)
  if (mode != "idle-child") curl_global_init(CURL_GLOBAL_DEFAULT);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (mode == "seq") return RunSeq(args);
  if (mode == "burst") return RunBurst(args);
  if (mode == "stream") return RunStream(args);
  if (mode == "idle") {
    std::array<char, 4096> self{};
    if (::readlink("/proc/self/exe", self.data(), self.size() - 1) <= 0) return 1;
    return RunIdle(args, self.data());
  }
  if (mode == "idle-child") return RunIdleChild(args);
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
