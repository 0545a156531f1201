// nats_bench — otlp-cpp's NATS client doing what bench/nats_go_bench does with nats.go, against
// the same nats-server in the same run (bench/nats_bench.sh runs both and prints the ratios).
//
//   nats_bench <mode> <url> <messages> <size>
//   modes: pub           publish N messages of SIZE bytes, untraced (plain PUB), flush
//          pubtraced     the same, traced: a PRODUCER span per message, its context in a
//                        traceparent header (HPUB); the SDK's batch processor with an exporter
//                        that counts (what the spans cost, not a collector's network)
//          pubsubtraced  traced publish; a subscriber on another connection reads every message
//                        (its headers parsed into the CONSUMER span's parent), until the last
//          reqrep        N sequential traced requests to a responder on another connection
//          jspub         traced JetStream asynchronous publish of N messages to a file stream
//                        (window of 4,096 PubAcks, like nats_go_bench), until all are acked
// Prints one line: "<mode> seconds=<s> msgs_per_sec=<r> [p50_us=<x> p99_us=<y>] rss_kb=<k>
// spans=<n>" (peak RSS of the process; spans the SDK exported).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "bench_spans.h"
#include "otlp/nats/connection.h"
#include "otlp/nats/jetstream.h"
#include "otlp/trace/batch_processor.h"
#include "otlp/trace/provider.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace nats = otlp::nats;
namespace trace = otlp::trace;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "nats_bench: %s\n", what.c_str());
  std::exit(1);
}

long PeakRssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

std::shared_ptr<nats::Connection> Connect(const std::string& url, bool traced,
                                          const std::shared_ptr<trace::TracerProvider>& provider) {
  nats::Options o;
  o.servers = {url};
  o.tracing.enabled = traced;
  o.tracing.propagate = traced;
  if (provider) o.tracing.tracer = provider->GetTracer("otlp.nats");
  auto c = nats::Connection::Connect(std::move(o));
  if (!c.ok()) Die(c.status().ToString());
  return *c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: nats_bench <mode> <url> <messages> <size>\n");
    return 2;
  }
  const std::string mode = argv[1];
  const std::string url = argv[2];
  const uint64_t n = std::strtoull(argv[3], nullptr, 10);
  const std::string body(std::strtoull(argv[4], nullptr, 10), 'x');
  const bool traced = mode != "pub";

  std::atomic<uint64_t> exported{0};
  std::shared_ptr<trace::TracerProvider> provider;
  if (traced) {
    trace::BatchSpanProcessorOptions batch;
    batch.max_queue_size = 65536;  // a burst of the producer; spans= says how many were exported
    provider = trace::TracerProvider::Create(
        {.processor = trace::BatchSpanProcessor::Create(
             std::make_unique<otlp::bench::CountingExporter>(&exported), batch)});
  }
  auto conn = Connect(url, traced, provider);
  std::string extra;
  Clock::time_point start = Clock::now();
  if (mode == "pub" || mode == "pubtraced") {
    for (uint64_t i = 0; i < n; ++i) {
      if (otlp::Status s = conn->Publish("bench.cpp", body); !s.ok()) Die(s.ToString());
    }
    if (otlp::Status s = conn->Flush(std::chrono::seconds(120)); !s.ok()) Die(s.ToString());
  } else if (mode == "pubsubtraced") {
    auto receiver = Connect(url, true, provider);
    std::mutex mu;
    std::condition_variable cv;
    std::atomic<uint64_t> got{0}, with_header{0};
    auto sub = receiver->Subscribe("bench.cpp.ps", [&](nats::Message& m) {
      if (m.header("traceparent").size() == 55) with_header.fetch_add(1, std::memory_order_relaxed);
      if (got.fetch_add(1, std::memory_order_relaxed) + 1 == n) {
        std::lock_guard<std::mutex> lock(mu);
        cv.notify_all();
      }
    });
    if (!sub.ok()) Die(sub.status().ToString());
    (*sub)->SetPendingLimits(0, 0);
    if (otlp::Status s = receiver->Flush(); !s.ok()) Die(s.ToString());
    start = Clock::now();
    for (uint64_t i = 0; i < n; ++i) {
      if (otlp::Status s = conn->Publish("bench.cpp.ps", body); !s.ok()) Die(s.ToString());
    }
    if (otlp::Status s = conn->Flush(std::chrono::seconds(120)); !s.ok()) Die(s.ToString());
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, std::chrono::seconds(120), [&] { return got.load() == n; })) {
      Die("only " + std::to_string(got.load()) + " of " + std::to_string(n) + " arrived");
    }
    if (with_header.load() != n) Die("messages without a traceparent header");
  } else if (mode == "reqrep") {
    auto responder = Connect(url, true, provider);
    auto sub = responder->Subscribe("bench.cpp.rr", [](nats::Message& m) {
      m.Respond(m.data()).IgnoreError();
    });
    if (!sub.ok()) Die(sub.status().ToString());
    if (otlp::Status s = responder->Flush(); !s.ok()) Die(s.ToString());
    std::vector<double> latency;
    latency.reserve(n);
    start = Clock::now();
    for (uint64_t i = 0; i < n; ++i) {
      const Clock::time_point t0 = Clock::now();
      auto r = conn->Request("bench.cpp.rr", body, std::chrono::seconds(5));
      if (!r.ok()) Die(r.status().ToString());
      latency.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    std::sort(latency.begin(), latency.end());
    char buf[96];
    std::snprintf(buf, sizeof buf, " p50_us=%.1f p99_us=%.1f", latency[latency.size() / 2],
                  latency[latency.size() * 99 / 100]);
    extra = buf;
  } else if (mode == "jspub") {
    auto js = nats::JetStream::Create(conn, {.max_pending_async = 4096});
    if (!js.ok()) Die(js.status().ToString());
    (*js)->DeleteStream("BENCHCPP").IgnoreError();
    auto created = (*js)->CreateStream({.name = "BENCHCPP", .subjects = {"bench.cpp.js"}});
    if (!created.ok()) Die(created.status().ToString());
    std::atomic<uint64_t> failed{0};
    const nats::Headers none;
    start = Clock::now();
    for (uint64_t i = 0; i < n; ++i) {
      (*js)->PublishAsync("bench.cpp.js", none, body, {}, [&](otlp::Result<nats::PubAck> ack) {
        if (!ack.ok()) failed.fetch_add(1, std::memory_order_relaxed);
      });
    }
    if (otlp::Status s = (*js)->PublishAsyncComplete(std::chrono::seconds(120)); !s.ok()) {
      Die(s.ToString());
    }
    if (failed.load() > 0) Die(std::to_string(failed.load()) + " publishes failed");
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    (*js)->DeleteStream("BENCHCPP").IgnoreError();
    start = Clock::now() - std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(elapsed));
  } else {
    Die("unknown mode " + mode);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const long rss = PeakRssKb();
  conn->Close();
  if (provider) provider->Shutdown();
  std::printf("%s seconds=%.4f msgs_per_sec=%.0f%s rss_kb=%ld spans=%llu\n", mode.c_str(), seconds,
              static_cast<double>(n) / seconds, extra.c_str(), rss,
              static_cast<unsigned long long>(exported.load()));
  return 0;
}
