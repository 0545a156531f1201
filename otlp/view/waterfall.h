// otlp/view/waterfall.h — a trace drawn as text: the span tree indented by depth, each span with
// its service, name and kind, a bar on the trace's time axis, its duration and status, and the
// attributes that tell the story (http.*, url.*, server.*, messaging.*, db.*, error.type,
// rpc.*). In colour (ANSI) for a terminal, plain when piped.
//
//   std::string text = otlp::view::RenderWaterfall(trace_id, store.TraceSpans(trace_id),
//                                                  {.color = isatty(1), .width = 120});
//
// Spans whose parent is not in the trace (it has not arrived, or the trace continues one from
// elsewhere) are drawn as roots. Pure function; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/view/store.h"

namespace otlp::view {

struct WaterfallOptions {
  bool color = false;
  int width = 120;  // total line width the bars are sized for (at least 80 is used)
};

OTLP_EXPORT std::string RenderWaterfall(const std::string& trace_id,
                                        const std::vector<StoredSpan>& spans,
                                        const WaterfallOptions& options = {});

// "48.1 ms", "950 µs", "2.31 s".
OTLP_EXPORT std::string FormatDuration(uint64_t nanoseconds);

}  // namespace otlp::view
