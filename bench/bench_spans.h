// What the span benchmarks share: the span shapes they end, an exporter that only counts, and
// the calling thread's CPU clock.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <ctime>

#include "otlp/trace/exporter.h"
#include "otlp/trace/tracer.h"

namespace otlp::bench {

// A SERVER span with five attributes (three strings, two integers), as an HTTP server makes.
inline void OneSpan5Attributes(trace::Tracer& t) {
  trace::Span s = t.StartSpan("GET /users/{id}", {.kind = trace::SpanKind::kServer});
  s.SetAttribute("http.request.method", "GET");
  s.SetAttribute("url.path", "/users/42");
  s.SetAttribute("http.response.status_code", 200);
  s.SetAttribute("server.port", 8080);
  s.SetAttribute("user_agent.original", "curl/7.88.1");
  s.End();
}

// CPU time of the calling thread, in ns.
inline double ThreadCpuNs() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

// Counts the spans it is given into `*n`; exports nothing.
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

}  // namespace otlp::bench
