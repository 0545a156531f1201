#include "common.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "otlp/net/url.h"
#include "otlp/propagation/carriers.h"
#include "otlp/propagation/trace_context_propagator.h"

namespace otlp::cli {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

bool ParseInt64(std::string_view s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

bool ParseDouble(std::string_view s, double& out) {
  if (s.empty() || s.front() == ' ' || s.front() == '\t') return false;
  std::string tmp(s);
  char* end = nullptr;
  out = std::strtod(tmp.c_str(), &end);
  return end == tmp.c_str() + tmp.size() && std::isfinite(out);
}

bool ParseBool(std::string_view s, bool& out) {
  std::string l = Lower(s);
  if (l == "true") {
    out = true;
    return true;
  }
  if (l == "false") {
    out = false;
    return true;
  }
  return false;
}

std::vector<std::string_view> SplitCommas(std::string_view s) {
  std::vector<std::string_view> parts;
  if (s.empty()) return parts;
  while (true) {
    size_t comma = s.find(',');
    parts.push_back(s.substr(0, comma));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return parts;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Reads exactly `n` digits from the front of `s`.
bool TakeDigits(std::string_view& s, size_t n, int& out) {
  if (s.size() < n || !AllDigits(s.substr(0, n))) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) out = out * 10 + (s[i] - '0');
  s.remove_prefix(n);
  return true;
}

bool TakeChar(std::string_view& s, std::string_view allowed) {
  if (s.empty() || allowed.find(s.front()) == std::string_view::npos) return false;
  s.remove_prefix(1);
  return true;
}

// Up to 9 digits of a decimal fraction as nanoseconds; later digits are ignored.
int64_t FractionNanos(std::string_view digits) {
  int64_t ns = 0;
  for (size_t i = 0; i < 9; ++i) ns = ns * 10 + (i < digits.size() ? digits[i] - '0' : 0);
  return ns;
}

constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / 1000000000 - 1;

bool FromUnixNanos(int64_t seconds, int64_t nanos, trace::SystemTime& out) {
  if (seconds < 0 || seconds > kMaxSeconds) return false;
  out = trace::SystemTime(std::chrono::duration_cast<trace::SystemTime::duration>(
      std::chrono::nanoseconds(seconds * 1000000000 + nanos)));
  return true;
}

bool ParseRfc3339(std::string_view s, trace::SystemTime& out) {
  int y, mo, d, h, mi, sec;
  if (!TakeDigits(s, 4, y) || !TakeChar(s, "-") || !TakeDigits(s, 2, mo) || !TakeChar(s, "-") ||
      !TakeDigits(s, 2, d) || !TakeChar(s, "Tt ") || !TakeDigits(s, 2, h) || !TakeChar(s, ":") ||
      !TakeDigits(s, 2, mi) || !TakeChar(s, ":") || !TakeDigits(s, 2, sec)) {
    return false;
  }
  int64_t nanos = 0;
  if (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    size_t n = 0;
    while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
    if (n == 0) return false;
    nanos = FractionNanos(s.substr(0, n));
    s.remove_prefix(n);
  }
  int offset_minutes = 0;
  if (TakeChar(s, "Zz")) {
  } else if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    int sign = s.front() == '-' ? -1 : 1;
    s.remove_prefix(1);
    int oh, om;
    if (!TakeDigits(s, 2, oh) || !TakeChar(s, ":") || !TakeDigits(s, 2, om) || oh > 23 || om > 59) {
      return false;
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return false;
  }
  if (!s.empty()) return false;
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  // Second 60 is a leap second; it is folded into the next minute's first second.
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return false;
  int64_t days = sys_days(ymd).time_since_epoch().count();
  int64_t seconds =
      days * 86400 + int64_t{h} * 3600 + int64_t{mi} * 60 + sec - int64_t{offset_minutes} * 60;
  return FromUnixNanos(seconds, nanos, out);
}

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 120)) {
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  if (s.size() > 120) out += "…";
  return out;
}

}  // namespace

std::vector<FlagSpec> ExportFlags() {
  return {
      {.name = "service", .value = "NAME", .help = "service.name (overrides OTEL_SERVICE_NAME)"},
      {.name = "endpoint",
       .value = "URL",
       .help = "OTLP collector; /v1/traces is appended when the URL has no path (not for\n"
               "grpc) (overrides OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT)"},
      {.name = "protocol",
       .value = "P",
       .help = "http/protobuf, http/json or grpc (overrides OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL)"},
  };
}

std::string EndpointFromFlag(std::string_view value) {
  std::string url(value);
  if (url.find("://") == std::string::npos) url = "http://" + url;
  size_t authority = url.find("://") + 3;
  size_t path = url.find_first_of("/?#", authority);
  if (path == std::string::npos) return url + "/v1/traces";
  if (url[path] != '/') return url.insert(path, "/v1/traces");
  size_t path_end = url.find_first_of("?#", path);
  if (path_end == std::string::npos) path_end = url.size();
  if (path_end - path == 1) url.insert(path + 1, "v1/traces");
  return url;
}

bool ApplyExportFlags(const ParsedFlags& flags, SetupOptions& options, std::string& error) {
  if (auto s = flags.Get("service")) {
    if (s->empty()) {
      error = "--service must not be empty";
      return false;
    }
    options.service_name = *s;
  }
  if (auto p = flags.Get("protocol")) {
    std::string l = Lower(*p);
    if (l == "http/protobuf") {
      options.otlp.protocol = exporter::OtlpProtocol::kHttpProtobuf;
    } else if (l == "http/json") {
      options.otlp.protocol = exporter::OtlpProtocol::kHttpJson;
    } else if (l == "grpc") {
      options.otlp.protocol = exporter::OtlpProtocol::kGrpc;
    } else {
      error = "invalid --protocol '" + Printable(*p) +
              "' (expected http/protobuf, http/json or grpc)";
      return false;
    }
  }
  if (auto e = flags.Get("endpoint")) {
    // gRPC takes the base URL: no /v1/traces (the protocol from the flag, else the environment).
    bool grpc = options.otlp.protocol == exporter::OtlpProtocol::kGrpc;
    if (!options.otlp.protocol) {
      config::Reader quiet_env;
      config::Reader& env = options.env ? *options.env : quiet_env;
      grpc = env.GetEnum("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") == std::optional<std::string>("grpc");
    }
    std::string url = grpc ? (e->find("://") == std::string_view::npos ? "http://" + *e : *e)
                           : EndpointFromFlag(*e);
    auto parsed = net::Url::Parse(url);
    if (e->empty() || !parsed.ok()) {
      error = "invalid --endpoint" +
              (parsed.ok() ? std::string(" ''") : ": " + parsed.status().message());
      return false;
    }
    if (parsed->scheme != "http" && parsed->scheme != "https") {
      error = "invalid --endpoint '" + Printable(parsed->ToStringRedacted()) +
              "': OTLP needs an http:// or https:// URL";
      return false;
    }
    options.otlp.endpoint = url;
  }
  return true;
}

bool ParseSpanKind(std::string_view text, trace::SpanKind& out) {
  std::string l = Lower(text);
  if (l == "internal")
    out = trace::SpanKind::kInternal;
  else if (l == "server")
    out = trace::SpanKind::kServer;
  else if (l == "client")
    out = trace::SpanKind::kClient;
  else if (l == "producer")
    out = trace::SpanKind::kProducer;
  else if (l == "consumer")
    out = trace::SpanKind::kConsumer;
  else
    return false;
  return true;
}

std::string_view AttributeList::Keep(std::string_view s) {
  strings_.emplace_back(s);
  return strings_.back();
}

void AttributeList::AddString(std::string_view key, std::string_view value) {
  kvs_.push_back({Keep(key), AttributeValue(Keep(value))});
}

void AttributeList::AddInt(std::string_view key, int64_t value) {
  kvs_.push_back({Keep(key), AttributeValue(value)});
}

void AttributeList::AddStringArray(std::string_view key, const std::vector<std::string>& values) {
  std::vector<std::string_view> v;
  v.reserve(values.size());
  for (const std::string& s : values) v.push_back(Keep(s));
  views_.push_back(std::move(v));
  kvs_.push_back({Keep(key), AttributeValue(std::span<const std::string_view>(views_.back()))});
}

bool AttributeList::Add(std::string_view text, std::string& error) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    error = "--attr '" + Printable(text) + "': expected KEY=VALUE";
    return false;
  }
  std::string_view key = text.substr(0, eq);
  std::string_view value = text.substr(eq + 1);
  auto bad = [&](std::string_view what) {
    error = "--attr '" + Printable(text) + "': " + std::string(what);
    return false;
  };
  // The text after the key's last ':' is always its type: a misspelt type is an error, never
  // silently part of a string key.
  std::string type = "string";
  if (size_t colon = key.rfind(':'); colon != std::string_view::npos) {
    type = Lower(key.substr(colon + 1));
    static constexpr std::string_view kTypes[] = {"string",   "int",   "double",   "bool",
                                                  "string[]", "int[]", "double[]", "bool[]"};
    if (std::find(std::begin(kTypes), std::end(kTypes), type) == std::end(kTypes)) {
      return bad("unknown type '" + Printable(key.substr(colon + 1)) +
                 "' (types: string, int, double, bool, string[], int[], double[], bool[]; a key "
                 "that contains ':' needs one, as in a:b:string=v)");
    }
    key = key.substr(0, colon);
  }
  if (key.empty()) return bad("empty key");
  if (type == "string") {
    AddString(key, value);
  } else if (type == "int") {
    int64_t v;
    if (!ParseInt64(value, v)) return bad("not a 64-bit integer");
    AddInt(key, v);
  } else if (type == "double") {
    double v;
    if (!ParseDouble(value, v)) return bad("not a finite number");
    kvs_.push_back({Keep(key), AttributeValue(v)});
  } else if (type == "bool") {
    bool v;
    if (!ParseBool(value, v)) return bad("not a boolean (true or false)");
    kvs_.push_back({Keep(key), AttributeValue(v)});
  } else if (type == "string[]") {
    std::vector<std::string> items;
    for (std::string_view part : SplitCommas(value)) items.emplace_back(part);
    AddStringArray(key, items);
  } else if (type == "int[]") {
    std::vector<int64_t> items;
    for (std::string_view part : SplitCommas(value)) {
      int64_t v;
      if (!ParseInt64(part, v)) return bad("'" + std::string(part) + "' is not a 64-bit integer");
      items.push_back(v);
    }
    ints_.push_back(std::move(items));
    kvs_.push_back({Keep(key), AttributeValue(std::span<const int64_t>(ints_.back()))});
  } else if (type == "double[]") {
    std::vector<double> items;
    for (std::string_view part : SplitCommas(value)) {
      double v;
      if (!ParseDouble(part, v)) return bad("'" + std::string(part) + "' is not a finite number");
      items.push_back(v);
    }
    doubles_.push_back(std::move(items));
    kvs_.push_back({Keep(key), AttributeValue(std::span<const double>(doubles_.back()))});
  } else {  // bool[]
    std::vector<std::string_view> parts = SplitCommas(value);
    auto items = std::make_unique<bool[]>(parts.empty() ? 1 : parts.size());
    for (size_t i = 0; i < parts.size(); ++i) {
      if (!ParseBool(parts[i], items[i])) {
        return bad("'" + std::string(parts[i]) + "' is not a boolean (true or false)");
      }
    }
    bools_.push_back(std::move(items));
    kvs_.push_back(
        {Keep(key), AttributeValue(std::span<const bool>(bools_.back().get(), parts.size()))});
  }
  return true;
}

bool ParseTimestamp(std::string_view text, trace::SystemTime& out, std::string& error) {
  auto fail = [&] {
    error = "invalid time '" + Printable(text) +
            "' (expected Unix seconds like 1714564800.25, an integer with ns/us/ms/s, or RFC 3339 "
            "like 2024-05-01T12:00:00.5Z)";
    return false;
  };
  if (text.empty()) return fail();
  if (text.find('-') != std::string_view::npos && text.size() >= 10 &&
      AllDigits(text.substr(0, 4))) {
    return ParseRfc3339(text, out) ? true : fail();
  }
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
      {"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}};
  for (auto [suffix, ns_per_unit] : kUnits) {
    if (text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix &&
        AllDigits(text.substr(0, text.size() - suffix.size()))) {
      int64_t v;
      if (!ParseInt64(text.substr(0, text.size() - suffix.size()), v)) return fail();
      if (v > std::numeric_limits<int64_t>::max() / ns_per_unit) return fail();
      int64_t ns = v * ns_per_unit;
      return FromUnixNanos(ns / 1000000000, ns % 1000000000, out) ? true : fail();
    }
  }
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (!AllDigits(whole) || (dot != std::string_view::npos && !AllDigits(frac))) return fail();
  int64_t seconds;
  if (!ParseInt64(whole, seconds)) return fail();
  return FromUnixNanos(seconds, FractionNanos(frac), out) ? true : fail();
}

void PrintError(const Command& command, std::string_view message) {
  std::string line = "otlp " + std::string(command.name) + ": " + std::string(message) + "\n";
  std::fputs(line.c_str(), stderr);
}

trace::SpanContext ParentContext(const Command& command, const ParsedFlags& flags) {
  std::string traceparent, tracestate, source;
  if (auto tp = flags.Get("traceparent")) {
    traceparent = *tp;
    source = "--traceparent";
    tracestate = flags.Get("tracestate").value_or("");
  } else if (const char* env = std::getenv("TRACEPARENT"); env != nullptr && *env != '\0') {
    traceparent = env;
    source = "TRACEPARENT";
    if (auto ts = flags.Get("tracestate")) {
      tracestate = *ts;
    } else if (const char* ts_env = std::getenv("TRACESTATE"); ts_env != nullptr) {
      tracestate = ts_env;
    }
  } else {
    if (flags.Has("tracestate")) {
      PrintError(command, "warning: --tracestate ignored without a traceparent");
    }
    return {};
  }
  propagation::MapCarrier carrier;
  carrier.Set(propagation::TraceContextPropagator::kTraceparent, traceparent);
  if (!tracestate.empty())
    carrier.Set(propagation::TraceContextPropagator::kTracestate, tracestate);
  trace::SpanContext parent = propagation::TraceContextPropagator().Extract(carrier).span_context();
  if (!parent.IsValid()) {
    PrintError(command, "warning: invalid traceparent '" + Printable(traceparent) + "' (from " +
                            source + "); starting a new trace");
  }
  return parent;
}

std::unique_ptr<Sdk> SetupOrReport(const Command& command, SetupOptions options) {
  auto sdk = Setup(std::move(options));
  if (!sdk.ok()) {
    PrintError(command, sdk.status().message());
    return nullptr;
  }
  return std::move(*sdk);
}

}  // namespace otlp::cli
