#include "otlp/trace/console_exporter.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace otlp::trace {
namespace {

// "12.345ms" from nanoseconds (truncated to microseconds; negative kept as such).
void AppendMillis(std::string& out, int64_t nanos) {
  uint64_t abs =
      nanos < 0 ? uint64_t{0} - static_cast<uint64_t>(nanos) : static_cast<uint64_t>(nanos);
  if (nanos < 0) out.push_back('-');
  out += std::to_string(abs / 1'000'000);
  out.push_back('.');
  std::string frac = std::to_string((abs % 1'000'000) / 1'000);
  out.append(3 - frac.size(), '0');
  out += frac;
  out += "ms";
}

void AppendAttributes(std::string& out, std::span<const KeyValue> attributes) {
  out.push_back('{');
  bool first = true;
  for (const KeyValue& kv : attributes) {
    if (!first) out += ", ";
    first = false;
    out += kv.key;
    out.push_back('=');
    out += AttributeValueToString(kv.value);
  }
  out.push_back('}');
}

void AppendQuoted(std::string& out, std::string_view s) {
  out += AttributeValueToString(AttributeValue(s));
}

void AppendDropped(std::string& out, std::string_view what, uint32_t count) {
  if (count == 0) return;
  out += " dropped_";
  out += what;
  out.push_back('=');
  out += std::to_string(count);
}

// Escapes control characters so that one span stays one line whatever its strings contain.
std::string EscapeControls(std::string line) {
  bool clean = true;
  for (char c : line) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      clean = false;
      break;
    }
  }
  if (clean) return line;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(line.size() + 16);
  for (char c : line) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      default: break;
    }
    if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string ConsoleSpanExporter::Format(const SpanData& span) {
  std::string line;
  line.reserve(256);
  line += "span ";
  AppendQuoted(line, span.name);
  line += " kind=";
  line += SpanKindName(span.kind);
  line += " trace=";
  line += span.context.trace_id().ToHex();
  line += " span=";
  line += span.context.span_id().ToHex();
  line += " parent=";
  if (span.HasParent()) {
    line += span.parent_span_id.ToHex();
    if (span.parent_is_remote) line += "(remote)";
  } else {
    line.push_back('-');
  }
  line.push_back(' ');
  AppendMillis(line, span.end_unix_nano - span.start_unix_nano);

  line += " status=";
  switch (span.status_code) {
    case SpanStatusCode::kUnset: line += "unset"; break;
    case SpanStatusCode::kOk: line += "ok"; break;
    case SpanStatusCode::kError: line += "error"; break;
  }
  if (!span.status_message.empty()) {
    line.push_back('(');
    AppendQuoted(line, span.status_message);
    line.push_back(')');
  }

  line += " attrs=";
  AppendAttributes(line, span.attributes);
  AppendDropped(line, "attrs", span.dropped_attributes_count);

  line += " events=";
  line += std::to_string(span.events.size());
  if (!span.events.empty()) {
    line.push_back('[');
    bool first = true;
    for (const EventData& e : span.events) {
      if (!first) line += ", ";
      first = false;
      line += e.name;
      line += "@+";
      AppendMillis(line, e.time_unix_nano - span.start_unix_nano);
      // Guard against a malformed index range rather than read out of bounds.
      if (e.attr_count > 0 && size_t{e.attr_begin} + e.attr_count <= span.event_attributes.size()) {
        AppendAttributes(line, span.EventAttributes(e));
      }
    }
    line.push_back(']');
  }
  AppendDropped(line, "events", span.dropped_events_count);

  line += " links=";
  line += std::to_string(span.links.size());
  AppendDropped(line, "links", span.dropped_links_count);
  return EscapeControls(std::move(line));
}

ExportResult ConsoleSpanExporter::Export(std::span<const SpanData* const> spans) noexcept {
  if (shutdown_.load(std::memory_order_acquire) || out_ == nullptr) return ExportResult::kFailure;
  try {
    std::string text;
    for (const SpanData* span : spans) {
      if (span == nullptr) continue;
      text += Format(*span);
      text.push_back('\n');
    }
    if (text.empty()) return ExportResult::kSuccess;
    if (std::fwrite(text.data(), 1, text.size(), out_) != text.size()) {
      return ExportResult::kFailure;
    }
    return ExportResult::kSuccess;
  } catch (...) {
    return ExportResult::kFailure;  // out of memory while formatting
  }
}

bool ConsoleSpanExporter::ForceFlush(std::chrono::microseconds timeout) noexcept {
  (void)timeout;
  return out_ != nullptr && std::fflush(out_) == 0;
}

bool ConsoleSpanExporter::Shutdown(std::chrono::microseconds timeout) noexcept {
  shutdown_.store(true, std::memory_order_release);
  return ForceFlush(timeout);
}

}  // namespace otlp::trace
