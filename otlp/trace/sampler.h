// otlp/trace/sampler.h — which spans are recorded and exported.
//
//   auto sampler = Sampler::ParentBased(Sampler::TraceIdRatio(0.1));   // 10 % of new traces
//   auto provider = TracerProvider::Create({.sampler = sampler, …});
//
// The built-in samplers (always_on, always_off, traceidratio, parentbased_*) are decided inline
// without a virtual call; derive from Sampler and override ShouldSample for your own.
// Thread-safety: samplers are immutable and called concurrently from every thread.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "otlp/core/attributes.h"
#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/trace/span_context.h"
#include "otlp/trace/span_data.h"

namespace otlp::config {
class Reader;
}

namespace otlp::trace {

enum class SamplingDecision : unsigned char {
  kDrop,             // not recorded, not sampled
  kRecordOnly,       // recorded (IsRecording), not sampled: processors see it, OTLP doesn't
  kRecordAndSample,  // recorded and sampled
};

struct OTLP_EXPORT SamplingResult {
  SamplingDecision decision = SamplingDecision::kDrop;
  // Optional new tracestate for the span (nullopt keeps the parent's).
  std::optional<TraceState> trace_state;
};

class OTLP_EXPORT Sampler {
 public:
  virtual ~Sampler() = default;

  static std::shared_ptr<Sampler> AlwaysOn();
  static std::shared_ptr<Sampler> AlwaysOff();
  // Samples when the trace id's random part falls under ratio (clamped to [0, 1]).
  static std::shared_ptr<Sampler> TraceIdRatio(double ratio);
  // Follows the parent's sampled flag; `root` decides for root spans. The four delegates for
  // remote/local parents default to always_on (sampled parent) and always_off (unsampled).
  static std::shared_ptr<Sampler> ParentBased(
      std::shared_ptr<Sampler> root, std::shared_ptr<Sampler> remote_parent_sampled = nullptr,
      std::shared_ptr<Sampler> remote_parent_not_sampled = nullptr,
      std::shared_ptr<Sampler> local_parent_sampled = nullptr,
      std::shared_ptr<Sampler> local_parent_not_sampled = nullptr);
  // From OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (parentbased_always_on by default).
  static std::shared_ptr<Sampler> FromEnvironment(config::Reader& env);
  // From a name and an optional argument ("traceidratio", "0.25"); an error names the problem.
  static Result<std::shared_ptr<Sampler>> FromName(std::string_view name,
                                                   std::optional<double> arg = std::nullopt);

  // `parent` is null for a root span. Attributes are those given at span start.
  virtual SamplingResult ShouldSample(const SpanContext* parent, const TraceId& trace_id,
                                      std::string_view name, SpanKind kind,
                                      std::span<const KeyValue> attributes) const noexcept;
  // "AlwaysOnSampler", "TraceIdRatioBased{0.250000}", "ParentBased{root:…,…}".
  virtual std::string Description() const;

  // Decides without a virtual call for the built-ins (used by the SDK on the hot path).
  SamplingResult Decide(const SpanContext* parent, const TraceId& trace_id, std::string_view name,
                        SpanKind kind, std::span<const KeyValue> attributes) const noexcept {
    if (kind_ == Kind::kCustom) return ShouldSample(parent, trace_id, name, kind, attributes);
    return DecideBuiltin(parent, trace_id, name, kind, attributes);
  }
  // SDK internal: true when this sampler and every delegate are built-ins, which never change
  // the tracestate nor look at the name or attributes; DecideFast() then gives the decision.
  bool IsBuiltinChain() const noexcept { return builtin_chain_; }
  bool IsAlwaysOn() const noexcept { return kind_ == Kind::kAlwaysOn; }
  bool IsAlwaysOff() const noexcept { return kind_ == Kind::kAlwaysOff; }
  // ParentBased(AlwaysOn) with the default delegates (the SDK's default sampler): a span is
  // sampled exactly when it has no parent or a sampled one.
  bool IsDefaultParentBased() const noexcept;
  SamplingDecision DecideFast(const SpanContext* parent, const TraceId& trace_id) const noexcept {
    if (kind_ == Kind::kAlwaysOn) return SamplingDecision::kRecordAndSample;
    if (kind_ == Kind::kAlwaysOff) return SamplingDecision::kDrop;
    return DecideChain(parent, trace_id);
  }

 protected:
  Sampler() = default;

 private:
  enum class Kind : unsigned char { kCustom, kAlwaysOn, kAlwaysOff, kRatio, kParentBased };
  SamplingDecision DecideChain(const SpanContext* parent, const TraceId& trace_id) const noexcept;
  SamplingResult DecideBuiltin(const SpanContext* parent, const TraceId& trace_id,
                               std::string_view name, SpanKind kind,
                               std::span<const KeyValue> attributes) const noexcept;
  friend struct SamplerAccess;

  Kind kind_ = Kind::kCustom;
  bool builtin_chain_ = false;
  uint64_t ratio_bound_ = 0;  // kRatio: sample when (trace id low 64 bits >> 1) < bound
  double ratio_ = 0;
  std::shared_ptr<Sampler> root_, remote_sampled_, remote_not_sampled_, local_sampled_,
      local_not_sampled_;
};

}  // namespace otlp::trace
