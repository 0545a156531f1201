#include "otlp/view/waterfall.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <string_view>

namespace otlp::view {

namespace {

// The kind column: blank for an unspecified kind.
const char* KindShort(int kind) { return kind >= 1 && kind <= 5 ? SpanKindName(kind) : ""; }

bool IsKeyAttribute(std::string_view key) {
  for (std::string_view prefix :
       {"http.", "url.", "server.", "messaging.", "db.", "rpc.", "network.protocol.version"}) {
    if (key.starts_with(prefix)) return true;
  }
  return key == "error.type";
}

// Skips what repeats the span name or says little in a one-line summary.
bool WorthShowing(std::string_view key) {
  return IsKeyAttribute(key) && key != "http.request.method" && key != "server.port" &&
         key != "network.protocol.version" && key != "url.scheme";
}

// Column width of UTF-8 text (code points; the text here is names and ids).
size_t Columns(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Fit(std::string s, size_t width) {
  if (Columns(s) <= width) return s + std::string(width - Columns(s), ' ');
  // Cut at a code point boundary, leave room for the ellipsis.
  size_t cols = 0, i = 0;
  while (i < s.size() && cols < width - 1) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
    ++cols;
  }
  return s.substr(0, i) + "…";
}

constexpr const char* kServiceColors[] = {"\x1b[36m", "\x1b[35m", "\x1b[33m", "\x1b[34m",
                                           "\x1b[32m", "\x1b[96m", "\x1b[95m", "\x1b[93m"};
constexpr const char* kReset = "\x1b[0m";
constexpr const char* kRed = "\x1b[31m";
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kBold = "\x1b[1m";

}  // namespace

std::string FormatDuration(uint64_t ns) {
  char buf[32];
  if (ns < 1000) {
    std::snprintf(buf, sizeof buf, "%llu ns", static_cast<unsigned long long>(ns));
  } else if (ns < 1000000) {
    std::snprintf(buf, sizeof buf, "%.0f µs", static_cast<double>(ns) / 1e3);
  } else if (ns < 1000000000) {
    std::snprintf(buf, sizeof buf, "%.1f ms", static_cast<double>(ns) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f s", static_cast<double>(ns) / 1e9);
  }
  return buf;
}

std::string RenderWaterfall(const std::string& trace_id, const std::vector<StoredSpan>& spans,
                            const WaterfallOptions& options) {
  if (spans.empty()) return "trace " + trace_id + ": no spans\n";
  const bool color = options.color;
  const int width = std::max(options.width, 80);

  uint64_t start = UINT64_MAX, end = 0;
  std::set<std::string> ids, services;
  size_t errors = 0;
  for (const StoredSpan& s : spans) {
    start = std::min(start, s.start_unix_nano);
    end = std::max(end, s.end_unix_nano);
    ids.insert(s.span_id);
    services.insert(s.service);
    errors += s.status == 2;
  }
  const uint64_t total = end > start ? end - start : 1;

  // Children by parent, in start order (spans come sorted by start).
  std::map<std::string, std::vector<const StoredSpan*>> children;
  std::vector<const StoredSpan*> roots;
  for (const StoredSpan& s : spans) {
    if (s.parent_span_id.empty() || !ids.contains(s.parent_span_id)) {
      roots.push_back(&s);
    } else {
      children[s.parent_span_id].push_back(&s);
    }
  }
  std::map<std::string, const char*> service_color;
  for (const std::string& svc : services) {
    service_color[svc] = kServiceColors[service_color.size() % std::size(kServiceColors)];
  }

  std::string out;
  char head[256];
  std::snprintf(head, sizeof head, "trace %s  %s  %zu span%s  %zu service%s  %zu error%s\n",
                trace_id.c_str(), FormatDuration(total).c_str(), spans.size(),
                spans.size() == 1 ? "" : "s", services.size(), services.size() == 1 ? "" : "s",
                errors, errors == 1 ? "" : "s");
  out += color ? std::string(kBold) + head + kReset : head;

  const size_t label_width = 46;
  const size_t bar_width = static_cast<size_t>(std::clamp(width - 46 - 10 - 10 - 8, 20, 60));
  std::function<void(const StoredSpan*, int)> draw = [&](const StoredSpan* s, int depth) {
    const std::string indent(static_cast<size_t>(depth) * 2, ' ');
    std::string label = indent + s->service + ": " + s->name;
    std::string line = "  ";
    if (color) {
      // The service in its colour, the rest plain.
      const std::string fitted = Fit(label, label_width);
      const size_t svc_len = indent.size() + s->service.size();
      if (fitted.size() >= svc_len && fitted.compare(0, svc_len, label, 0, svc_len) == 0) {
        line += indent + service_color[s->service] + s->service + kReset + fitted.substr(svc_len);
      } else {
        line += fitted;
      }
    } else {
      line += Fit(label, label_width);
    }
    line += ' ';
    line += Fit(KindShort(s->kind), 9);
    // The bar: where the span sits on the trace's time axis.
    const double from = static_cast<double>(s->start_unix_nano - start) / static_cast<double>(total);
    const double to =
        static_cast<double>(std::max(s->end_unix_nano, s->start_unix_nano) - start) /
        static_cast<double>(total);
    const size_t a = std::min(bar_width - 1, static_cast<size_t>(from * static_cast<double>(bar_width)));
    const size_t b = std::clamp(static_cast<size_t>(to * static_cast<double>(bar_width) + 0.5), a + 1,
                                bar_width);
    std::string bar;
    for (size_t i = 0; i < bar_width; ++i) bar += (i >= a && i < b) ? "█" : (color ? "·" : " ");
    if (color) {
      line += std::string(s->status == 2 ? kRed : service_color[s->service]) + bar + kReset;
    } else {
      line += bar;
    }
    char dur[24];
    std::snprintf(dur, sizeof dur, " %9s",
                  FormatDuration(s->end_unix_nano > s->start_unix_nano
                                     ? s->end_unix_nano - s->start_unix_nano
                                     : 0)
                      .c_str());
    line += dur;
    if (s->status == 2) {
      line += color ? std::string("  ") + kRed + "ERROR" + kReset : "  ERROR";
      if (!s->status_message.empty()) line += " " + s->status_message;
    }
    std::string attrs;
    for (const auto& [k, v] : s->attributes) {
      if (!WorthShowing(k)) continue;
      attrs += (attrs.empty() ? "" : " ") + k + "=" + v;
    }
    if (!attrs.empty()) line += color ? std::string("  ") + kDim + attrs + kReset : "  " + attrs;
    out += line + "\n";
    auto it = children.find(s->span_id);
    if (it == children.end()) return;
    for (const StoredSpan* c : it->second) draw(c, depth + 1);
  };
  for (const StoredSpan* r : roots) draw(r, 0);
  return out;
}

}  // namespace otlp::view
