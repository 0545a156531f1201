#include "otlp/core/config.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>

namespace otlp::config {
namespace {

constexpr double kMaxInt = 2147483647;

// clang-format off
constexpr OptionSpec kOptions[] = {
  // ---- General SDK ----
  {"OTEL_SDK_DISABLED", OptionType::kBool, "false",
   "Disables the SDK: every tracer is a no-op (propagators still work).", {}, {}, 0, 0, "General"},
  {"OTEL_SERVICE_NAME", OptionType::kString, "unknown_service:<executable>",
   "Sets `service.name`; wins over `OTEL_RESOURCE_ATTRIBUTES`.", {}, {}, 0, 0, "General"},
  {"OTEL_RESOURCE_ATTRIBUTES", OptionType::kKeyValues, "",
   "Resource attributes `k=v,k2=v2`; values percent-decoded. A decoding error discards the whole value.",
   {}, {}, 0, 0, "General"},
  {"OTEL_LOG_LEVEL", OptionType::kEnum, "info",
   "Level of otlp-cpp's own diagnostics on stderr.", "debug|info|warn|error|none", {}, 0, 0, "General"},
  {"OTEL_PROPAGATORS", OptionType::kEnumList, "tracecontext,baggage",
   "Propagators, in order; duplicates are removed.", "tracecontext|baggage|b3|b3multi|none", {}, 0, 0,
   "General"},
  {"OTEL_TRACES_EXPORTER", OptionType::kEnum, "otlp",
   "Where spans go: OTLP, readable lines on stderr, or nowhere.", "otlp|console|none", {}, 0, 0,
   "General"},
  // ---- Sampling ----
  {"OTEL_TRACES_SAMPLER", OptionType::kEnum, "parentbased_always_on", "Sampler.",
   "always_on|always_off|traceidratio|parentbased_always_on|parentbased_always_off|parentbased_traceidratio",
   {}, 0, 0, "Sampling"},
  {"OTEL_TRACES_SAMPLER_ARG", OptionType::kDouble, "1.0",
   "Sampling probability for the `traceidratio` samplers, in [0, 1].", {}, {}, 0, 1, "Sampling"},
  // ---- Batch span processor ----
  {"OTEL_BSP_SCHEDULE_DELAY", OptionType::kDurationMs, "5000",
   "Longest wait (ms) between two exports.", {}, {}, 0, kMaxInt, "Batch span processor"},
  {"OTEL_BSP_EXPORT_TIMEOUT", OptionType::kDurationMs, "30000",
   "Longest time (ms) one export may take.", {}, {}, 0, kMaxInt, "Batch span processor"},
  {"OTEL_BSP_MAX_QUEUE_SIZE", OptionType::kInt, "2048",
   "Spans each producing thread may queue; beyond it spans are dropped and counted.", {}, {}, 1,
   kMaxInt, "Batch span processor"},
  {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", OptionType::kInt, "512",
   "Spans per export request (at most the queue size).", {}, {}, 1, kMaxInt,
   "Batch span processor"},
  // ---- Limits ----
  {"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", OptionType::kInt, "",
   "Longest string attribute value in characters (no limit when unset).", {}, {}, 0, kMaxInt, "Limits"},
  {"OTEL_ATTRIBUTE_COUNT_LIMIT", OptionType::kInt, "128", "Most attributes per span, event or link.",
   {}, {}, 0, kMaxInt, "Limits"},
  {"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", OptionType::kInt, "",
   "Longest span attribute value in characters.", {}, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", 0, kMaxInt,
   "Limits"},
  {"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", OptionType::kInt, "128", "Most attributes per span.", {},
   "OTEL_ATTRIBUTE_COUNT_LIMIT", 0, kMaxInt, "Limits"},
  {"OTEL_SPAN_EVENT_COUNT_LIMIT", OptionType::kInt, "128", "Most events per span.", {}, {}, 0, kMaxInt,
   "Limits"},
  {"OTEL_SPAN_LINK_COUNT_LIMIT", OptionType::kInt, "128", "Most links per span.", {}, {}, 0, kMaxInt,
   "Limits"},
  {"OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", OptionType::kInt, "128", "Most attributes per event.", {},
   "OTEL_ATTRIBUTE_COUNT_LIMIT", 0, kMaxInt, "Limits"},
  {"OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", OptionType::kInt, "128", "Most attributes per link.", {},
   "OTEL_ATTRIBUTE_COUNT_LIMIT", 0, kMaxInt, "Limits"},
  // ---- OTLP exporter ----
  {"OTEL_EXPORTER_OTLP_ENDPOINT", OptionType::kUrl, "http://localhost:4318",
   "Base URL for all signals; `v1/traces` is appended for spans (not with protocol `grpc`, whose "
   "default is `http://localhost:4317`). An invalid URL disables span export (with a warning); "
   "the default does not apply.", {}, {}, 0, 0, "OTLP exporter"},
  {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", OptionType::kUrl, "",
   "URL for spans, used as is (path `/` when it has none). An invalid URL disables span export "
   "(with a warning).", {}, {}, 0, 0, "OTLP exporter"},
  {"OTEL_EXPORTER_OTLP_PROTOCOL", OptionType::kEnum, "http/protobuf",
   "Transport and encoding. With `grpc` the endpoint is the base URL (default "
   "`http://localhost:4317`; `v1/traces` is not appended).",
   "http/protobuf|http/json|grpc", {}, 0, 0, "OTLP exporter"},
  {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", OptionType::kEnum, "", "Protocol for spans.",
   "http/protobuf|http/json|grpc", "OTEL_EXPORTER_OTLP_PROTOCOL", 0, 0, "OTLP exporter"},
  {"OTEL_EXPORTER_OTLP_HEADERS", OptionType::kKeyValues, "",
   "Extra request headers `k1=v1,k2=v2` (values percent-decoded).", {}, {}, 0, 0, "OTLP exporter"},
  {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", OptionType::kKeyValues, "", "Extra headers for spans.", {},
   "OTEL_EXPORTER_OTLP_HEADERS", 0, 0, "OTLP exporter"},
  {"OTEL_EXPORTER_OTLP_TIMEOUT", OptionType::kDurationMs, "10000",
   "Longest time (ms) for one export, retries included; 0 means no limit.", {}, {}, 0, kMaxInt,
   "OTLP exporter"},
  {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", OptionType::kDurationMs, "", "Export timeout for spans (ms).",
   {}, "OTEL_EXPORTER_OTLP_TIMEOUT", 0, kMaxInt, "OTLP exporter"},
  {"OTEL_EXPORTER_OTLP_COMPRESSION", OptionType::kEnum, "none", "Request body compression.",
   "gzip|none", {}, 0, 0, "OTLP exporter"},
  {"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", OptionType::kEnum, "", "Compression for spans.",
   "gzip|none", "OTEL_EXPORTER_OTLP_COMPRESSION", 0, 0, "OTLP exporter"},
  {"OTEL_EXPORTER_OTLP_CERTIFICATE", OptionType::kFile, "",
   "PEM file of CA certificates that verify the collector (system store when unset). A file that "
   "cannot be read disables span export (with a warning).", {}, {}, 0, 0,
   "OTLP exporter"},
  {"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", OptionType::kFile, "", "CA file for spans.", {},
   "OTEL_EXPORTER_OTLP_CERTIFICATE", 0, 0, "OTLP exporter"},
  {"OTEL_EXPORTER_OTLP_CLIENT_KEY", OptionType::kFile, "",
   "PEM private key for mutual TLS. A file that cannot be read, or a key without a certificate, "
   "disables span export (with a warning).", {}, {}, 0, 0, "OTLP exporter"},
  {"OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", OptionType::kFile, "", "Client key for spans.", {},
   "OTEL_EXPORTER_OTLP_CLIENT_KEY", 0, 0, "OTLP exporter"},
  {"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", OptionType::kFile, "",
   "PEM client certificate chain for mutual TLS. A file that cannot be read, or a certificate "
   "without a key, disables span export (with a warning).", {}, {}, 0, 0, "OTLP exporter"},
  {"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", OptionType::kFile, "", "Client certificate for spans.",
   {}, "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", 0, 0, "OTLP exporter"},
  {"OTEL_EXPORTER_OTLP_INSECURE", OptionType::kBool, "false",
   "For an endpoint without a scheme: plain text instead of TLS.", {}, {}, 0, 0, "OTLP exporter"},
  {"OTEL_EXPORTER_OTLP_TRACES_INSECURE", OptionType::kBool, "", "Insecure flag for spans.", {},
   "OTEL_EXPORTER_OTLP_INSECURE", 0, 0, "OTLP exporter"},
};
// clang-format on

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool InChoices(std::string_view choices, std::string_view v) {
  while (!choices.empty()) {
    size_t bar = choices.find('|');
    if (choices.substr(0, bar) == v) return true;
    if (bar == std::string_view::npos) break;
    choices.remove_prefix(bar + 1);
  }
  return false;
}

std::string FormatLimit(double v) {
  if (v == std::floor(v)) return std::to_string(static_cast<int64_t>(v));
  return std::to_string(v);
}

const char* TypeName(OptionType t) {
  switch (t) {
    case OptionType::kBool: return "boolean";
    case OptionType::kInt: return "integer";
    case OptionType::kDurationMs: return "milliseconds";
    case OptionType::kDouble: return "number";
    case OptionType::kString: return "string";
    case OptionType::kEnum: return "enum";
    case OptionType::kEnumList: return "list";
    case OptionType::kKeyValues: return "key=value list";
    case OptionType::kUrl: return "URL";
    case OptionType::kFile: return "file path";
  }
  return "";
}

}  // namespace

std::span<const OptionSpec> AllOptions() noexcept { return kOptions; }

const OptionSpec* FindOption(std::string_view name) noexcept {
  for (const auto& o : kOptions)
    if (o.name == name) return &o;
  return nullptr;
}

std::string RenderMarkdown() {
  std::string md =
      "# Configuration\n\n"
      "<!-- Generated by `otlp config --markdown` from the option table in "
      "otlp/core/config.cc. Do not edit by hand: a test fails when this file is stale. -->\n\n"
      "otlp-cpp reads these environment variables when a component is built from the "
      "environment (`otlp::Setup()`, the `otlp` CLI). Options given in code win over the "
      "environment; the environment wins over defaults. An empty value means unset. A value that "
      "does not parse, or is out of range, is ignored with a warning on stderr and the default "
      "applies, except where a description says otherwise: the OTLP exporter's endpoint, "
      "protocol and TLS files, where a value that cannot be used disables span export (with a "
      "warning) rather than send spans to a default nobody chose. Enumerations are "
      "case-insensitive.\n";
  std::string_view group;
  for (const auto& o : kOptions) {
    if (o.group != group) {
      group = o.group;
      md += "\n## ";
      md += group;
      md += "\n\n| Variable | Type | Default | Description |\n|---|---|---|---|\n";
    }
    md += "| `";
    md += o.name;
    md += "` | ";
    md += TypeName(o.type);
    if (o.type == OptionType::kEnum || o.type == OptionType::kEnumList) {
      md += ": ";
      std::string c(o.choices);
      for (size_t i = 0; (i = c.find('|', i)) != std::string::npos; i += 3) c.replace(i, 1, ", ");
      md += c;
    }
    if ((o.type == OptionType::kInt || o.type == OptionType::kDurationMs ||
         o.type == OptionType::kDouble) &&
        (o.min != 0 || o.max != kMaxInt)) {
      md += " in [" + FormatLimit(o.min) + ", " + FormatLimit(o.max) + "]";
    }
    md += " | ";
    if (!o.default_text.empty()) {
      md += "`";
      md += o.default_text;
      md += "`";
    } else if (!o.fallback.empty()) {
      md += "same as `";
      md += o.fallback;
      md += "`";
    } else {
      md += "unset";
    }
    md += " | ";
    md += o.description;
    md += " |\n";
  }
  return md;
}

Reader::Reader()
    : lookup_([](std::string_view name) -> std::optional<std::string> {
        const char* v = std::getenv(std::string(name).c_str());
        if (v == nullptr) return std::nullopt;
        return std::string(v);
      }) {}

Reader::Reader(Lookup lookup) : lookup_(std::move(lookup)) {}

Reader::Reader(std::map<std::string, std::string, std::less<>> values)
    : lookup_([values = std::move(values)](std::string_view name) -> std::optional<std::string> {
        auto it = values.find(name);
        if (it == values.end()) return std::nullopt;
        return it->second;
      }) {}

std::optional<std::pair<const OptionSpec*, std::string>> Reader::Lookup_(std::string_view name) {
  const OptionSpec* spec = FindOption(name);
  for (const OptionSpec* s = spec; s != nullptr;) {
    auto v = lookup_(s->name);
    if (v && !Trim(*v).empty()) {
      last_source_ = s->name;
      return std::make_pair(s, std::string(Trim(*v)));
    }
    s = s->fallback.empty() ? nullptr : FindOption(s->fallback);
  }
  if (spec == nullptr) {
    auto v = lookup_(name);
    if (v && !Trim(*v).empty()) {
      last_source_ = name;
      return std::make_pair(nullptr, std::string(Trim(*v)));
    }
  }
  return std::nullopt;
}

std::optional<std::string> Reader::GetRaw(std::string_view name) {
  auto v = Lookup_(name);
  if (!v) return std::nullopt;
  return std::move(v->second);
}

std::optional<bool> Reader::GetBool(std::string_view name) {
  auto v = Lookup_(name);
  if (!v) return std::nullopt;
  std::string l = Lower(v->second);
  if (l == "true") return true;
  if (l != "false") {
    Warn(std::string(last_source_) + "=" + v->second +
         ": not a boolean (true or false); treating it as false");
  }
  return false;
}

namespace {
std::string DefaultNote(const OptionSpec* spec) {
  if (spec == nullptr || spec->default_text.empty()) return "; ignoring it";
  return "; using the default " + std::string(spec->default_text);
}
}  // namespace

std::optional<int64_t> Reader::GetInt(std::string_view name) {
  auto v = Lookup_(name);
  if (!v) return std::nullopt;
  const std::string& s = v->second;
  int64_t out = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || p != s.data() + s.size()) {
    Warn(std::string(last_source_) + "=" + s + ": not an integer" + DefaultNote(FindOption(name)));
    return std::nullopt;
  }
  const OptionSpec* spec = v->first;
  double lo = spec ? spec->min : 0, hi = spec ? spec->max : kMaxInt;
  if (static_cast<double>(out) < lo || static_cast<double>(out) > hi) {
    Warn(std::string(last_source_) + "=" + s + ": out of range [" + FormatLimit(lo) + ", " +
         FormatLimit(hi) + "]" + DefaultNote(FindOption(name)));
    return std::nullopt;
  }
  return out;
}

std::optional<std::chrono::milliseconds> Reader::GetDuration(std::string_view name) {
  auto v = GetInt(name);
  if (!v) return std::nullopt;
  return std::chrono::milliseconds(*v);
}

std::optional<double> Reader::GetDouble(std::string_view name) {
  auto v = Lookup_(name);
  if (!v) return std::nullopt;
  const std::string& s = v->second;
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno != 0 || !std::isfinite(d)) {
    Warn(std::string(last_source_) + "=" + s + ": not a number" + DefaultNote(FindOption(name)));
    return std::nullopt;
  }
  const OptionSpec* spec = v->first;
  if (spec && (d < spec->min || d > spec->max)) {
    Warn(std::string(last_source_) + "=" + s + ": out of range [" + FormatLimit(spec->min) + ", " +
         FormatLimit(spec->max) + "]" + DefaultNote(FindOption(name)));
    return std::nullopt;
  }
  return d;
}

std::optional<std::string> Reader::GetString(std::string_view name) { return GetRaw(name); }

std::optional<std::string> Reader::GetEnum(std::string_view name) {
  auto v = Lookup_(name);
  if (!v) return std::nullopt;
  std::string l = Lower(v->second);
  if (v->first && !InChoices(v->first->choices, l)) {
    std::string c(v->first->choices);
    for (char& ch : c)
      if (ch == '|') ch = ',';
    Warn(std::string(last_source_) + "=" + v->second + ": unknown value (expected one of " + c +
         ")" + DefaultNote(FindOption(name)));
    return std::nullopt;
  }
  return l;
}

std::optional<std::vector<std::string>> Reader::GetEnumList(std::string_view name) {
  auto v = Lookup_(name);
  if (!v) return std::nullopt;
  std::vector<std::string> out;
  std::string_view rest = v->second;
  while (true) {
    size_t comma = rest.find(',');
    std::string item = Lower(Trim(rest.substr(0, comma)));
    if (!item.empty()) {
      if (v->first && !InChoices(v->first->choices, item)) {
        Warn(std::string(last_source_) + ": unknown value '" + item + "' ignored");
      } else if (std::find(out.begin(), out.end(), item) == out.end()) {
        out.push_back(std::move(item));
      }
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> Reader::GetKeyValues(
    std::string_view name) {
  auto v = Lookup_(name);
  if (!v) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> out;
  std::string error;
  if (!ParseKeyValueList(v->second, out, error)) {
    Warn(std::string(last_source_) + ": " + error + "; the whole value is ignored");
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

namespace {
// "'member' what" (built with append: g++ 12 mis-warns on operator+ chains here).
std::string Quoted(std::string_view member, std::string_view what) {
  std::string s;
  s.reserve(member.size() + what.size() + 3);
  s.push_back('\'');
  s.append(member);
  s.append("' ");
  s.append(what);
  return s;
}
}  // namespace

bool ParseKeyValueList(std::string_view text, std::vector<std::pair<std::string, std::string>>& out,
                       std::string& error) {
  out.clear();
  while (true) {
    size_t comma = text.find(',');
    std::string_view member = Trim(text.substr(0, comma));
    if (!member.empty()) {
      size_t eq = member.find('=');
      if (eq == std::string_view::npos) {
        error = Quoted(member, "is not key=value");
        return false;
      }
      std::string_view key = Trim(member.substr(0, eq));
      if (key.empty()) {
        error = Quoted(member, "has an empty key");
        return false;
      }
      auto k = PercentDecode(key);
      auto val = PercentDecode(Trim(member.substr(eq + 1)));
      if (!k || !val) {
        error = Quoted(member, "has a malformed percent-encoding");
        return false;
      }
      out.emplace_back(std::move(*k), std::move(*val));
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return true;
}

}  // namespace otlp::config
