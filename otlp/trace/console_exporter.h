// otlp/trace/console_exporter.h — writes each span as one readable line (OTEL_TRACES_EXPORTER=
// console), to stderr by default (ids are printed in full; shortened here):
//
//   span "GET /users" kind=client trace=4bf9…4736 span=00f0…02b7 parent=- 12.345ms status=unset
//        attrs={http.request.method="GET", http.response.status_code=200}
//        events=1[exception@+1.200ms{exception.type="E"}] links=0
//
// `parent` is the parent span id ("(remote)" appended for a remote parent) or '-'; the duration
// is in milliseconds with 3 decimals; status is unset, ok, error or error("message"); event
// offsets are relative to the span start. Dropped counts appear only when non-zero. Control
// characters are escaped so a span is always exactly one line.
//
//   auto exporter = std::make_unique<otlp::trace::ConsoleSpanExporter>(stdout);
//
// Threading: Export is serialized by the processor; the output FILE is written with one call
// per batch. ForceFlush and Shutdown may run concurrently with Export. Never throws.
#pragma once

#include <atomic>
#include <cstdio>
#include <string>

#include "otlp/core/export.h"
#include "otlp/trace/exporter.h"

namespace otlp::trace {

class OTLP_EXPORT ConsoleSpanExporter final : public SpanExporter {
 public:
  explicit ConsoleSpanExporter(std::FILE* out = stderr) noexcept : out_(out) {}
  ExportResult Export(std::span<const SpanData* const> spans) noexcept override;
  bool ForceFlush(std::chrono::microseconds timeout) noexcept override;
  // Flushes the FILE (it is not closed); later Export calls return kFailure.
  bool Shutdown(std::chrono::microseconds timeout) noexcept override;

  // The line for one span (without the trailing newline).
  static std::string Format(const SpanData& span);

 private:
  std::FILE* out_;
  std::atomic<bool> shutdown_{false};
};

}  // namespace otlp::trace
