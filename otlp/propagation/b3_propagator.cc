#include "otlp/propagation/b3_propagator.h"

#include <cstring>

#include "otlp/core/internal/ascii.h"
#include "otlp/propagation/carriers.h"

namespace otlp::propagation {

namespace {

std::string_view TrimOws(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool AllLowerHex(std::string_view s) noexcept {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// 32 hex digits, or 16 padded on the left with zeros.
std::optional<trace::TraceId> ParseTraceId(std::string_view hex) noexcept {
  if ((hex.size() != 32 && hex.size() != 16) || !AllLowerHex(hex)) return std::nullopt;
  trace::TraceId id;
  uint8_t* out = id.mutable_bytes().data() + (trace::TraceId::kSize - hex.size() / 2);
  if (!trace::internal::HexDecode(hex, out, hex.size() / 2) || !id.IsValid()) return std::nullopt;
  return id;
}

std::optional<trace::SpanId> ParseSpanId(std::string_view hex) noexcept {
  if (hex.size() != 16 || !AllLowerHex(hex)) return std::nullopt;
  auto id = trace::SpanId::FromHex(hex);
  if (!id || !id->IsValid()) return std::nullopt;
  return id;
}

std::optional<trace::SpanContext> ParseB3Multi(const TextMapCarrier& carrier) noexcept {
  auto trace_id = ParseTraceId(TrimOws(carrier.Get(B3Propagator::kTraceId)));
  auto span_id = ParseSpanId(TrimOws(carrier.Get(B3Propagator::kSpanId)));
  if (!trace_id || !span_id) return std::nullopt;
  std::string_view parent = TrimOws(carrier.Get(B3Propagator::kParentSpanId));
  if (!parent.empty() && !ParseSpanId(parent)) return std::nullopt;
  std::string_view sampled = TrimOws(carrier.Get(B3Propagator::kSampled));
  bool is_sampled = sampled == "1" || sampled == "d" || otlp::internal::EqualsIgnoreCase(sampled, "true");
  if (TrimOws(carrier.Get(B3Propagator::kFlags)) == "1") is_sampled = true;  // debug
  return trace::SpanContext(*trace_id, *span_id,
                            trace::TraceFlags(is_sampled ? trace::TraceFlags::kSampled : 0),
                            /*is_remote=*/true);
}

}  // namespace

std::optional<trace::SpanContext> ParseB3Single(std::string_view value) noexcept {
  // {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]]
  std::string_view fields[4];
  size_t n = 0;
  std::string_view rest = TrimOws(value);
  if (rest.empty()) return std::nullopt;
  while (true) {
    if (n == 4) return std::nullopt;
    size_t dash = rest.find('-');
    fields[n++] = rest.substr(0, dash);
    if (dash == std::string_view::npos) break;
    rest.remove_prefix(dash + 1);
  }
  if (n < 2) return std::nullopt;  // no ids: "0", "1", "d" or garbage
  auto trace_id = ParseTraceId(fields[0]);
  auto span_id = ParseSpanId(fields[1]);
  if (!trace_id || !span_id) return std::nullopt;
  bool sampled = false;
  if (n >= 3) {
    if (fields[2] == "1" || fields[2] == "d") {
      sampled = true;
    } else if (fields[2] != "0") {
      return std::nullopt;
    }
  }
  if (n == 4 && !ParseSpanId(fields[3])) return std::nullopt;
  return trace::SpanContext(*trace_id, *span_id,
                            trace::TraceFlags(sampled ? trace::TraceFlags::kSampled : 0),
                            /*is_remote=*/true);
}

void B3Propagator::Inject(const trace::Context& context, TextMapCarrier& carrier) const noexcept {
  const trace::SpanContext& sc = context.span_context();
  if (!sc.IsValid()) return;
  char trace_hex[32], span_hex[16];
  sc.trace_id().ToHex(trace_hex);
  sc.span_id().ToHex(span_hex);
  const char sampled = sc.IsSampled() ? '1' : '0';
  if (encoding_ == Encoding::kSingleHeader) {
    char b3[32 + 1 + 16 + 1 + 1];
    std::memcpy(b3, trace_hex, 32);
    b3[32] = '-';
    std::memcpy(b3 + 33, span_hex, 16);
    b3[49] = '-';
    b3[50] = sampled;
    carrier.Set(kB3, std::string_view(b3, sizeof b3));
  } else {
    carrier.Set(kTraceId, std::string_view(trace_hex, 32));
    carrier.Set(kSpanId, std::string_view(span_hex, 16));
    carrier.Set(kSampled, std::string_view(&sampled, 1));
  }
}

trace::Context B3Propagator::Extract(const TextMapCarrier& carrier,
                                     const trace::Context& context) const noexcept {
  std::optional<trace::SpanContext> sc = ParseB3Single(carrier.Get(kB3));
  if (!sc) sc = ParseB3Multi(carrier);
  if (!sc) return context;
  return context.WithSpanContext(*sc);
}

std::vector<std::string_view> B3Propagator::Fields() const {
  if (encoding_ == Encoding::kSingleHeader) return {kB3};
  return {kTraceId, kSpanId, kSampled};
}

}  // namespace otlp::propagation
