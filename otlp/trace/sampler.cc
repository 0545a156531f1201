#include "otlp/trace/sampler.h"

#include <cmath>
#include <cstdio>

#include "otlp/core/config.h"
#include "otlp/core/log.h"

namespace otlp::trace {

struct SamplerAccess {
  static std::shared_ptr<Sampler> Make(Sampler::Kind kind) {
    struct Builtin : Sampler {};
    auto s = std::make_shared<Builtin>();
    s->kind_ = kind;
    s->builtin_chain_ = kind != Sampler::Kind::kParentBased;  // ParentBased: once delegates are known
    return s;
  }
  static Sampler& Mut(Sampler& s) { return s; }
};

namespace {
SamplingResult Decision(SamplingDecision d) { return SamplingResult{d, std::nullopt}; }
}  // namespace

std::shared_ptr<Sampler> Sampler::AlwaysOn() {
  static const std::shared_ptr<Sampler> s = SamplerAccess::Make(Kind::kAlwaysOn);
  return s;
}

std::shared_ptr<Sampler> Sampler::AlwaysOff() {
  static const std::shared_ptr<Sampler> s = SamplerAccess::Make(Kind::kAlwaysOff);
  return s;
}

std::shared_ptr<Sampler> Sampler::TraceIdRatio(double ratio) {
  if (!(ratio >= 0)) ratio = 0;  // also NaN
  if (ratio > 1) ratio = 1;
  auto s = SamplerAccess::Make(Kind::kRatio);
  s->ratio_ = ratio;
  // Compare the low 63 bits of the trace id against ratio * 2^63 (as OpenTelemetry Go does).
  s->ratio_bound_ = ratio >= 1 ? (uint64_t{1} << 63)
                               : static_cast<uint64_t>(ratio * 9223372036854775808.0);
  return s;
}

std::shared_ptr<Sampler> Sampler::ParentBased(std::shared_ptr<Sampler> root,
                                              std::shared_ptr<Sampler> remote_parent_sampled,
                                              std::shared_ptr<Sampler> remote_parent_not_sampled,
                                              std::shared_ptr<Sampler> local_parent_sampled,
                                              std::shared_ptr<Sampler> local_parent_not_sampled) {
  auto s = SamplerAccess::Make(Kind::kParentBased);
  s->root_ = root ? std::move(root) : AlwaysOn();
  s->remote_sampled_ = remote_parent_sampled ? std::move(remote_parent_sampled) : AlwaysOn();
  s->remote_not_sampled_ =
      remote_parent_not_sampled ? std::move(remote_parent_not_sampled) : AlwaysOff();
  s->local_sampled_ = local_parent_sampled ? std::move(local_parent_sampled) : AlwaysOn();
  s->local_not_sampled_ =
      local_parent_not_sampled ? std::move(local_parent_not_sampled) : AlwaysOff();
  s->builtin_chain_ = s->root_->builtin_chain_ && s->remote_sampled_->builtin_chain_ &&
                      s->remote_not_sampled_->builtin_chain_ &&
                      s->local_sampled_->builtin_chain_ && s->local_not_sampled_->builtin_chain_;
  return s;
}

SamplingResult Sampler::DecideBuiltin(const SpanContext* parent, const TraceId& trace_id,
                                      std::string_view name, SpanKind kind,
                                      std::span<const KeyValue> attributes) const noexcept {
  switch (kind_) {
    case Kind::kAlwaysOn: return Decision(SamplingDecision::kRecordAndSample);
    case Kind::kAlwaysOff: return Decision(SamplingDecision::kDrop);
    case Kind::kRatio:
      return Decision((trace_id.Low64() >> 1) < ratio_bound_ ? SamplingDecision::kRecordAndSample
                                                            : SamplingDecision::kDrop);
    case Kind::kParentBased: {
      const Sampler* next;
      if (parent == nullptr) {
        next = root_.get();
      } else if (parent->IsRemote()) {
        next = parent->IsSampled() ? remote_sampled_.get() : remote_not_sampled_.get();
      } else {
        next = parent->IsSampled() ? local_sampled_.get() : local_not_sampled_.get();
      }
      // The delegate sees everything the span start saw (a custom one may look at it).
      return next->Decide(parent, trace_id, name, kind, attributes);
    }
    case Kind::kCustom: break;
  }
  return Decision(SamplingDecision::kDrop);
}

bool Sampler::IsDefaultParentBased() const noexcept {
  return kind_ == Kind::kParentBased && root_->kind_ == Kind::kAlwaysOn &&
         remote_sampled_->kind_ == Kind::kAlwaysOn && local_sampled_->kind_ == Kind::kAlwaysOn &&
         remote_not_sampled_->kind_ == Kind::kAlwaysOff &&
         local_not_sampled_->kind_ == Kind::kAlwaysOff;
}

SamplingDecision Sampler::DecideChain(const SpanContext* parent,
                                      const TraceId& trace_id) const noexcept {
  const Sampler* s = this;
  while (true) {
    switch (s->kind_) {
      case Kind::kAlwaysOn: return SamplingDecision::kRecordAndSample;
      case Kind::kAlwaysOff: return SamplingDecision::kDrop;
      case Kind::kRatio:
        return (trace_id.Low64() >> 1) < s->ratio_bound_ ? SamplingDecision::kRecordAndSample
                                                         : SamplingDecision::kDrop;
      case Kind::kParentBased:
        if (parent == nullptr) {
          s = s->root_.get();
        } else if (parent->IsRemote()) {
          s = parent->IsSampled() ? s->remote_sampled_.get() : s->remote_not_sampled_.get();
        } else {
          s = parent->IsSampled() ? s->local_sampled_.get() : s->local_not_sampled_.get();
        }
        continue;
      case Kind::kCustom: return SamplingDecision::kDrop;  // not a built-in chain
    }
    return SamplingDecision::kDrop;
  }
}

SamplingResult Sampler::ShouldSample(const SpanContext* parent, const TraceId& trace_id,
                                     std::string_view name, SpanKind kind,
                                     std::span<const KeyValue> attributes) const noexcept {
  return DecideBuiltin(parent, trace_id, name, kind, attributes);
}

std::string Sampler::Description() const {
  switch (kind_) {
    case Kind::kAlwaysOn: return "AlwaysOnSampler";
    case Kind::kAlwaysOff: return "AlwaysOffSampler";
    case Kind::kRatio: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "TraceIdRatioBased{%f}", ratio_);
      return buf;
    }
    case Kind::kParentBased:
      return "ParentBased{root:" + root_->Description() +
             ",remoteParentSampled:" + remote_sampled_->Description() +
             ",remoteParentNotSampled:" + remote_not_sampled_->Description() +
             ",localParentSampled:" + local_sampled_->Description() +
             ",localParentNotSampled:" + local_not_sampled_->Description() + "}";
    case Kind::kCustom: break;
  }
  return "CustomSampler";
}

Result<std::shared_ptr<Sampler>> Sampler::FromName(std::string_view name,
                                                   std::optional<double> arg) {
  double ratio = arg.value_or(1.0);
  if (arg && (!(ratio >= 0) || ratio > 1)) {
    return InvalidArgumentError("sampler argument " + std::to_string(ratio) +
                                " is outside [0, 1]");
  }
  if (name == "always_on") return AlwaysOn();
  if (name == "always_off") return AlwaysOff();
  if (name == "traceidratio") return TraceIdRatio(ratio);
  if (name == "parentbased_always_on") return ParentBased(AlwaysOn());
  if (name == "parentbased_always_off") return ParentBased(AlwaysOff());
  if (name == "parentbased_traceidratio") return ParentBased(TraceIdRatio(ratio));
  return InvalidArgumentError(
      "unknown sampler '" + std::string(name) +
      "' (expected always_on, always_off, traceidratio, parentbased_always_on, "
      "parentbased_always_off or parentbased_traceidratio)");
}

std::shared_ptr<Sampler> Sampler::FromEnvironment(config::Reader& env) {
  std::string name = env.GetEnum("OTEL_TRACES_SAMPLER").value_or("parentbased_always_on");
  std::optional<double> arg;
  if (name == "traceidratio" || name == "parentbased_traceidratio") {
    arg = env.GetDouble("OTEL_TRACES_SAMPLER_ARG");
  }
  auto s = FromName(name, arg);
  if (!s.ok()) {
    env.Warn(s.status().message() + "; using parentbased_always_on");
    return ParentBased(AlwaysOn());
  }
  return *s;
}

}  // namespace otlp::trace
