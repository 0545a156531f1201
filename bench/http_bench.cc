// The HTTP client against its references, every figure beside a reference measured in the same
// run and reported as a ratio (issue 10, "Performance"). bench/http_bench.sh starts the local
// nginx, pins everything to one core and runs each row; by hand:
//
//   http_bench seq    --http URL [--https URL --ca FILE] [--n 1000] [--reps 5]   rows 1 and 5
//   http_bench burst  --https URL --ca FILE [--bursts 20] [--reps 5]            row 2
//   http_bench stream --http URL --https URL --ca FILE --size BYTES [--reps 5]  row 3
//   http_bench idle   --http URL [--reps 5]                                      row 4
//
// Each row is repeated --reps times with ours and the references interleaved; a ratio is taken
// per repetition and the median of those ratios is compared with the target. "Ours" is
// otlp::http::Client when this revision has it (otlp/http/client.h), else the transport it will
// stand on, otlp::net::HttpClient, with the client's per-request tracing (a CLIENT span with the
// semantic-convention attributes, traceparent injected) done here; HTTP/2 rows use the engine,
// otlp::net::internal::H2ClientSession, directly. Every row prints which API it used.
#include <curl/curl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <span>
#include <string_view>
#include <thread>
#include <vector>

#include "otlp/core/status.h"
#include "otlp/net/http_client.h"
#include "otlp/net/internal/h2_client.h"
#include "otlp/net/internal/runtime_impl.h"
#include "otlp/net/internal/tls.h"
#include "otlp/net/runtime.h"
#include "otlp/net/url.h"
#include "otlp/propagation/carriers.h"
#include "otlp/propagation/global_propagator.h"
#include "otlp/trace/batch_processor.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/tracer.h"

#if __has_include("otlp/http/client.h")
#include "otlp/http/client.h"
#define OTLP_BENCH_HTTP_CLIENT 1
#else
#define OTLP_BENCH_HTTP_CLIENT 0
#endif

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

class CountingExporter final : public trace::SpanExporter {
 public:
  explicit CountingExporter(std::atomic<uint64_t>* n) : n_(n) {}
  trace::ExportResult Export(std::span<const trace::SpanData* const> spans) noexcept override {
    n_->fetch_add(spans.size(), std::memory_order_relaxed);
    return trace::ExportResult::kSuccess;
  }

 private:
  std::atomic<uint64_t>* n_;
};

std::atomic<uint64_t> g_exported{0};

std::shared_ptr<trace::TracerProvider> InstallTracing() {
  auto processor = trace::BatchSpanProcessor::Create(
      std::make_unique<CountingExporter>(&g_exported), {.max_queue_size = 65536});
  auto provider = trace::TracerProvider::Create({.processor = std::move(processor)});
  trace::SetTracerProvider(provider);
  otlp::propagation::SetGlobalPropagator(otlp::propagation::DefaultPropagator());
  return provider;
}

// What otlp::http does per attempt, for the transports that do not trace themselves: a CLIENT
// span with the semantic-convention attributes, traceparent/baggage injected into the headers,
// the status and protocol version recorded at the end.
class AttemptTrace {
 public:
  AttemptTrace(trace::Tracer& tracer, const net::Url& url, const std::string& full,
               net::Headers& headers) {
    const otlp::KeyValue attributes[] = {{"http.request.method", std::string_view("GET")},
                                         {"url.full", std::string_view(full)},
                                         {"server.address", std::string_view(url.host)},
                                         {"server.port", static_cast<int64_t>(url.port)}};
    span_ = tracer.StartSpan("GET", attributes, {.kind = trace::SpanKind::kClient});
    const trace::Context context = trace::Context::Current().WithSpanContext(span_.GetContext());
    otlp::propagation::HeaderVectorCarrier carrier(headers.fields());
    otlp::propagation::GlobalPropagator().Inject(context, carrier);
  }
  void End(int status, std::string_view version) {
    span_.SetAttribute("http.response.status_code", static_cast<int64_t>(status));
    span_.SetAttribute("network.protocol.version", version);
    span_.End();
  }

 private:
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
// Ours, HTTP/1.1, one request at a time.

class OursH1 {
 public:
  // `traced`: spans and injection on (the global provider); off: neither.
  static Result<std::unique_ptr<OursH1>> Create(bool traced, const std::string& ca_file) {
    auto self = std::unique_ptr<OursH1>(new OursH1());
    self->traced_ = traced;
#if OTLP_BENCH_HTTP_CLIENT
    otlp::http::Client::Options options;
    options.transport.tls.ca_file = ca_file;
    options.transport.max_response_body = 0;
    options.tracing.enabled = traced;
    options.tracing.propagate = traced;
    auto client = otlp::http::Client::Create(std::move(options));
    if (!client.ok()) return client.status();
    self->client_ = std::move(*client);
#else
    self->runtime_ = net::Runtime::Create();
    net::HttpClient::Options options;
    options.tls.ca_file = ca_file;
    options.max_response_body = 0;
    auto client = net::HttpClient::Create(self->runtime_, std::move(options));
    if (!client.ok()) return client.status();
    self->client_ = std::move(*client);
    self->tracer_ = trace::GetTracer("otlp.http", "bench");
#endif
    return self;
  }

  static const char* Api() {
#if OTLP_BENCH_HTTP_CLIENT
    return "otlp::http::Client (its own tracing)";
#else
    return "otlp::net::HttpClient + the client's span/injection done by the bench "
           "(otlp::http::Client not in this revision)";
#endif
  }

  Status Get(const std::string& url, size_t want) {
#if OTLP_BENCH_HTTP_CLIENT
    auto r = client_->Send(otlp::http::Request::Get(url));
    if (!r.ok()) return r.status();
    return CheckBody(r->status, r->body.size(), want);
#else
    net::HttpRequest request{.url = url};
    std::optional<AttemptTrace> attempt;
    if (traced_) {
      if (!parsed_ || parsed_text_ != url) {
        auto u = net::Url::Parse(url);
        if (!u.ok()) return u.status();
        parsed_ = *u;
        parsed_text_ = url;
      }
      attempt.emplace(tracer_, *parsed_, url, request.headers);
    }
    auto r = client_->Send(std::move(request));
    if (!r.ok()) return r.status();
    if (attempt) attempt->End(r->status, "1.1");
    return CheckBody(r->status, r->body.size(), want);
#endif
  }

  uint64_t connections_opened() const { return client_->connections_opened(); }

 private:
  OursH1() = default;
  bool traced_ = false;
#if OTLP_BENCH_HTTP_CLIENT
  std::unique_ptr<otlp::http::Client> client_;
#else
  std::shared_ptr<net::Runtime> runtime_;
  std::unique_ptr<net::HttpClient> client_;
  trace::Tracer tracer_;
  std::optional<net::Url> parsed_;
  std::string parsed_text_;
#endif
};

// ---------------------------------------------------------------------------------------------
// Ours, HTTP/2: one H2ClientSession (the engine the pooled client will hand HTTP/2 origins to).

class OursH2 {
 public:
  static Result<std::unique_ptr<OursH2>> Connect(const std::string& url, const std::string& ca,
                                                 bool traced) {
    auto u = net::Url::Parse(url);
    if (!u.ok()) return u.status();
    auto tls = net::internal::TlsContext::Client(
        {.ca_file = ca, .alpn_protocols = {"h2", "http/1.1"}});
    if (!tls.ok()) return tls.status();
    auto self = std::unique_ptr<OursH2>(new OursH2());
    self->url_ = *u;
    self->traced_ = traced;
    self->tracer_ = trace::GetTracer("otlp.http", "bench");
    self->runtime_ = net::Runtime::Create();
    std::promise<Result<std::shared_ptr<net::internal::H2ClientSession>>> promise;
    auto future = promise.get_future();
    net::internal::H2ClientSession::Options options;
    options.max_response_body = 0;
    net::internal::H2ClientSession::Connect(
        boost::asio::make_strand(net::internal::IoContext(*self->runtime_)), *tls, u->host,
        u->port, Clock::now() + std::chrono::seconds(10), options,
        [&promise](Result<std::shared_ptr<net::internal::H2ClientSession>> s) {
          promise.set_value(std::move(s));
        });
    auto session = future.get();
    if (!session.ok()) return session.status();
    self->session_ = *session;
    return self;
  }

  static const char* Api() {
    return "otlp::net::internal::H2ClientSession (the HTTP/2 engine; the client pool does not "
           "speak h2 in this revision), span/injection done by the bench";
  }

  // Starts one GET; `done` runs on the I/O thread.
  void Submit(const std::string& full_url, std::function<void(Status)> done, size_t want,
              net::internal::H2ClientSession::BodySink sink = {}) {
    net::HttpRequest request{.url = full_url};
    std::shared_ptr<AttemptTrace> attempt;
    if (traced_) attempt = std::make_shared<AttemptTrace>(tracer_, url_, full_url, request.headers);
    session_->Submit(
        std::move(request), Clock::time_point::max(),
        [attempt, want, done = std::move(done)](Result<net::HttpResponse> r) {
          if (!r.ok()) return done(r.status());
          if (attempt) attempt->End(r->status, "2");
          done(CheckBody(r->status, r->body.size(), want));
        },
        std::move(sink));
  }

  Status Get(const std::string& full_url, size_t want) {
    std::promise<Status> promise;
    Submit(full_url, [&promise](Status s) { promise.set_value(std::move(s)); }, want);
    return promise.get_future().get();
  }

  net::internal::H2ClientSession& session() { return *session_; }

  ~OursH2() {
    if (session_) session_->Close();
  }

 private:
  OursH2() = default;
  net::Url url_;
  bool traced_ = false;
  trace::Tracer tracer_;
  std::shared_ptr<net::Runtime> runtime_;
  std::shared_ptr<net::internal::H2ClientSession> session_;
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

  // HTTP/1.1.
  {
    auto traced = OursH1::Create(true, ca);
    auto untraced = OursH1::Create(false, ca);
    auto beast = BeastLoop::Create(http_url);
    if (!traced.ok() || !untraced.ok() || !beast.ok()) {
      std::printf("row 1 (HTTP/1.1) cannot run: %s %s %s\n", traced.status().ToString().c_str(),
                  untraced.status().ToString().c_str(), beast.status().ToString().c_str());
      return 1;
    }
    CurlLoop curl(http_url, "", false);
    std::vector<double> t_ours, t_plain, t_curl, t_beast, r_curl, r_beast, cost_ns;
    std::map<std::string, std::vector<double>> switches;  // per request, by contender
    using Loop = std::pair<std::vector<double>*, std::function<Status()>>;
    std::vector<std::pair<const char*, Loop>> loops = {
        {"ours traced", {&t_ours, [&] { return (*traced)->Get(http_url, want); }}},
        {"libcurl", {&t_curl, [&] { return curl.Get(want); }}},
        {"beast", {&t_beast, [&] { return (*beast)->Get(want); }}},
        {"ours untraced", {&t_plain, [&] { return (*untraced)->Get(http_url, want); }}},
    };
    // Warm-up: connections open, allocator and caches warm.
    for (auto& [who, loop] : loops) {
      if (!TimeLoop(who, 50, loop.second)) return 1;
    }
    for (int rep = 0; rep < reps; ++rep) {
      // Rotate the order so no contender always runs right after another.
      for (size_t k = 0; k < loops.size(); ++k) {
        auto& [who, loop] = loops[(k + static_cast<size_t>(rep)) % loops.size()];
        const double switches_before = ContextSwitches();
        auto ms = TimeLoop(who, n, loop.second);
        if (!ms) return 1;
        loop.first->push_back(*ms * 1000.0 / static_cast<double>(n));  // ms per 1000
        switches[who].push_back((ContextSwitches() - switches_before) / static_cast<double>(n));
      }
      r_curl.push_back(t_ours.back() / t_curl.back());
      r_beast.push_back(t_ours.back() / t_beast.back());
      cost_ns.push_back((t_ours.back() - t_plain.back()) * 1e3);  // ms/1000 → ns per request
    }
    provider->ForceFlush();
    std::printf("row 1: %ld sequential keep-alive GETs of a %zu-byte body, HTTP/1.1, %s\n", n, want,
                http_url.c_str());
    std::printf("   ours: %s\n", OursH1::Api());
    std::printf("   ms per 1000 requests, min / median / max of %d interleaved repetitions:\n",
                reps);
    std::printf("     ours, tracing on        %s\n", Spread(t_ours).c_str());
    std::printf("     ours, tracing off       %s\n", Spread(t_plain).c_str());
    std::printf("     libcurl easy handle     %s   (%ld connection(s))\n", Spread(t_curl).c_str(),
                curl.connections());
    std::printf("     Beast sync loop         %s\n", Spread(t_beast).c_str());
    std::printf("   context switches of this process per request, median: ours traced %.2f, "
                "untraced %.2f, libcurl %.2f, Beast %.2f\n",
                Median(switches["ours traced"]), Median(switches["ours untraced"]),
                Median(switches["libcurl"]), Median(switches["beast"]));
    std::printf("   ours/libcurl  median %.3f %s\n", Median(r_curl),
                Verdict(Median(r_curl), 0.75, true).c_str());
    std::printf("   ours/Beast    median %.3f %s\n", Median(r_beast),
                Verdict(Median(r_beast), 1.3, true).c_str());
    std::printf("   connections opened by ours (traced client): %llu\n",
                static_cast<unsigned long long>((*traced)->connections_opened()));

    // Row 5: the same loop with and without tracing, and the tracing work alone.
    std::vector<double> alone_ns;
    {
      auto url = net::Url::Parse(http_url);
      trace::Tracer tracer = trace::GetTracer("otlp.http", "bench");
      constexpr int kOps = 100000;
      for (int rep = 0; rep < reps; ++rep) {
        const auto start = Clock::now();
        for (int i = 0; i < kOps; ++i) {
          net::Headers headers;
          AttemptTrace attempt(tracer, *url, http_url, headers);
          attempt.End(200, "1.1");
        }
        alone_ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() /
                           kOps);
        // Only the per-request cost counts: exporting is the batch thread's work.
        provider->ForceFlush();
      }
    }
    std::printf("row 5: tracing cost per request (span + header injection)\n");
    std::printf("   traced − untraced on the loop above, ns per request: %s, median %.0f ns %s\n",
                Spread(cost_ns, 0).c_str(), Median(cost_ns),
                Verdict(Median(cost_ns), 1000, true).c_str());
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
    auto ours = OursH2::Connect(https_url, ca, true);
    if (!ours.ok()) {
      std::printf("row 1 (HTTP/2 over TLS) cannot run: %s\n", ours.status().ToString().c_str());
      return 1;
    }
    CurlLoop curl(https_url, ca, true);
    std::vector<double> t_ours, t_curl, ratio;
    auto ours_one = [&] { return (*ours)->Get(https_url, want); };
    auto curl_one = [&] { return curl.Get(want); };
    if (!TimeLoop("ours h2", 50, ours_one) || !TimeLoop("libcurl h2", 50, curl_one)) return 1;
    for (int rep = 0; rep < reps; ++rep) {
      std::optional<double> a, b;
      if (rep % 2 == 0) {
        a = TimeLoop("ours h2", n, ours_one);
        b = TimeLoop("libcurl h2", n, curl_one);
      } else {
        b = TimeLoop("libcurl h2", n, curl_one);
        a = TimeLoop("ours h2", n, ours_one);
      }
      if (!a || !b) return 1;
      t_ours.push_back(*a * 1000.0 / static_cast<double>(n));
      t_curl.push_back(*b * 1000.0 / static_cast<double>(n));
      ratio.push_back(*a / *b);
    }
    std::printf("row 1: %ld sequential GETs of a %zu-byte body, HTTP/2 over TLS, %s\n", n, want,
                https_url.c_str());
    std::printf("   ours: %s\n", OursH2::Api());
    std::printf("   ms per 1000 requests, min / median / max of %d interleaved repetitions:\n",
                reps);
    std::printf("     ours, tracing on              %s   (1 session)\n", Spread(t_ours).c_str());
    std::printf("     libcurl CURL_HTTP_VERSION_2TLS %s   (%ld connection(s))\n",
                Spread(t_curl).c_str(), curl.connections());
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

  auto ours = OursH2::Connect(url, ca, true);
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
      (*ours)->Submit(
          url,
          [&](Status s) {
            std::lock_guard lock(mu);
            if (!s.ok() && first_error.ok()) first_error = s;
            if (--left == 0) cv.notify_one();
          },
          want);
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
  std::printf("   ours: %s\n", OursH2::Api());
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
  std::printf("   connections opened by ours: 1 (one session, still open: %s)\n",
              (*ours)->session().is_open() ? "yes" : "NO");
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Row 3: streaming a large body to a callback, against `curl -o /dev/null`.

template <typename Req>
constexpr bool kTransportStreams = requires(Req r) { r.on_body; };

// Downloads `url` with net::HttpClient to a counting sink; bytes received, or an error.
// A template so that revisions without HttpRequest::on_body still compile (and say so).
template <typename Req = net::HttpRequest>
Result<uint64_t> StreamH1(net::HttpClient& client, const std::string& url) {
  if constexpr (kTransportStreams<Req>) {
    uint64_t got = 0;
    Req request{.url = url};
    request.timeout = std::chrono::minutes(10);
    request.on_body = [&got](std::string_view chunk) {
      got += chunk.size();
      return Status();
    };
    auto r = client.Send(std::move(request));
    if (!r.ok()) return r.status();
    if (auto s = CheckBody(r->status, 0, 0); !s.ok()) return s;
    return got;
  } else {
    return Status(StatusCode::kUnimplemented,
                  "net::HttpClient has no streamed response body in this revision "
                  "(HttpRequest::on_body)");
  }
}

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
  auto runtime = net::Runtime::Create();
  net::HttpClient::Options options;
  options.tls.ca_file = ca;
  options.max_response_body = 0;
  auto h1 = net::HttpClient::Create(runtime, options);
  if (!h1.ok()) {
    std::printf("   cannot run: %s\n", h1.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<OursH2> h2;
  if (!https_url.empty()) {
    auto s = OursH2::Connect(https_url, ca, false);
    if (!s.ok()) {
      std::printf("   HTTP/2 cannot run: %s\n", s.status().ToString().c_str());
      return 1;
    }
    h2 = std::move(*s);
  }
  auto stream_h2 = [&](const std::string& url) -> Result<uint64_t> {
    uint64_t got = 0;
    std::promise<Status> done;
    h2->Submit(url, [&done](Status s) { done.set_value(std::move(s)); }, 0,
               [&got](std::string_view chunk) { got += chunk.size(); });
    Status s = done.get_future().get();
    if (!s.ok()) return s;
    return got;
  };
  std::vector<Case> cases;
  const std::string h1_api = kTransportStreams<net::HttpRequest>
                                 ? "otlp::net::HttpClient, HttpRequest::on_body"
                                 : "otlp::net::HttpClient (no streaming in this revision)";
  cases.push_back({"HTTP/1.1 plain", http_url, "--http1.1", h1_api,
                   [&] { return StreamH1(**h1, http_url); }});
  if (!https_url.empty()) {
    cases.push_back({"HTTP/1.1 TLS", https_url, "--http1.1", h1_api,
                     [&] { return StreamH1(**h1, https_url); }});
    cases.push_back({"HTTP/2 TLS", https_url, "--http2",
                     "otlp::net::internal::H2ClientSession, BodySink",
                     [&] { return stream_h2(https_url); }});
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
#if OTLP_BENCH_HTTP_CLIENT
    auto client = otlp::http::Client::Create();
    if (!client.ok()) return 1;
    auto r = (*client)->Get(url);
    if (!r.ok() || r->status != 200) return 1;
    keep = std::shared_ptr<otlp::http::Client>(std::move(*client));
#else
    auto runtime = net::Runtime::Create();
    auto client = net::HttpClient::Create(runtime, {});
    if (!client.ok()) return 1;
    auto r = (*client)->Send({.url = url});
    if (!r.ok() || r->status != 200) return 1;
    keep = std::make_shared<std::pair<std::shared_ptr<net::Runtime>,
                                      std::unique_ptr<net::HttpClient>>>(runtime,
                                                                          std::move(*client));
#endif
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
#if OTLP_BENCH_HTTP_CLIENT
  std::printf(
      "   ours: otlp::http::Client::Create(), default options (no I/O thread: Send() runs the "
      "I/O)\n");
#else
  std::printf("   ours: otlp::net::Runtime + otlp::net::HttpClient (otlp::http::Client not in "
              "this revision)\n");
#endif
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
