#include "otlp/propagation/trace_context_propagator.h"

#include <string>
#include <utility>

namespace otlp::propagation {

namespace {

bool IsLowerHex(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool AllLowerHex(std::string_view s) noexcept {
  for (char c : s) {
    if (!IsLowerHex(c)) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Layout of the version-00 part: "vv-" 32 "-" 16 "-" ff.
constexpr size_t kVersionPos = 0, kTraceIdPos = 3, kSpanIdPos = 36, kFlagsPos = 53;
constexpr size_t kV0Size = 55;

}  // namespace

std::optional<trace::SpanContext> ParseTraceparent(std::string_view tp) noexcept {
  tp = TrimOws(tp);
  if (tp.size() < kV0Size) return std::nullopt;
  if (tp[2] != '-' || tp[kSpanIdPos - 1] != '-' || tp[kFlagsPos - 1] != '-') return std::nullopt;

  std::string_view version = tp.substr(kVersionPos, 2);
  std::string_view trace_hex = tp.substr(kTraceIdPos, 32);
  std::string_view span_hex = tp.substr(kSpanIdPos, 16);
  std::string_view flags_hex = tp.substr(kFlagsPos, 2);
  if (!AllLowerHex(version) || !AllLowerHex(trace_hex) || !AllLowerHex(span_hex) ||
      !AllLowerHex(flags_hex)) {
    return std::nullopt;
  }
  if (version == "ff") return std::nullopt;
  if (version == "00") {
    if (tp.size() != kV0Size) return std::nullopt;
  } else if (tp.size() > kV0Size) {
    // A future version may append "-<fields>". A ',' would mean several headers were combined.
    if (tp[kV0Size] != '-' || tp.find(',') != std::string_view::npos) return std::nullopt;
  }

  trace::TraceId trace_id;
  trace::SpanId span_id;
  uint8_t flags = 0;
  if (!trace::internal::HexDecode(trace_hex, trace_id.mutable_bytes().data(),
                                  trace::TraceId::kSize) ||
      !trace::internal::HexDecode(span_hex, span_id.mutable_bytes().data(), trace::SpanId::kSize) ||
      !trace::internal::HexDecode(flags_hex, &flags, 1)) {
    return std::nullopt;
  }
  if (!trace_id.IsValid() || !span_id.IsValid()) return std::nullopt;
  // A later version is additive, but of its flags only the bits this level defines are
  // understood (sampled, and since Level 2 random-trace-id, which must go on with the trace id).
  if (version != "00") flags &= trace::TraceFlags::kSampled | trace::TraceFlags::kRandom;
  return trace::SpanContext(trace_id, span_id, trace::TraceFlags(flags), /*is_remote=*/true);
}

void TraceContextPropagator::Inject(const trace::Context& context,
                                    TextMapCarrier& carrier) const noexcept {
  const trace::SpanContext& sc = context.span_context();
  if (!sc.IsValid()) return;
  char tp[kV0Size];
  tp[0] = '0';
  tp[1] = '0';
  tp[2] = tp[kSpanIdPos - 1] = tp[kFlagsPos - 1] = '-';
  sc.trace_id().ToHex(tp + kTraceIdPos);
  sc.span_id().ToHex(tp + kSpanIdPos);
  const uint8_t flags = sc.trace_flags().value();
  trace::internal::HexEncode(&flags, 1, tp + kFlagsPos);
  carrier.Set(kTraceparent, std::string_view(tp, kV0Size));
  if (!sc.trace_state().empty()) carrier.Set(kTracestate, sc.trace_state().header());
}

trace::Context TraceContextPropagator::Extract(const TextMapCarrier& carrier,
                                               const trace::Context& context) const noexcept {
  std::optional<trace::SpanContext> sc = ParseTraceparent(carrier.Get(kTraceparent));
  if (!sc) return context;
  trace::TraceState state = trace::TraceState::FromHeader(carrier.Get(kTracestate));
  return context.WithSpanContext(trace::SpanContext(
      sc->trace_id(), sc->span_id(), sc->trace_flags(), /*is_remote=*/true, std::move(state)));
}

}  // namespace otlp::propagation
