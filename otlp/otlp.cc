#include "otlp/otlp.h"

#include <algorithm>
#include <exception>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/core/log.h"
#include "otlp/propagation/global_propagator.h"
#include "otlp/trace/console_exporter.h"
#include "otlp/trace/resource.h"

namespace otlp {
namespace {

constexpr std::chrono::milliseconds kDefaultShutdownTimeout{30000};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

// Logs every warning the Reader collected, once each, in order.
void LogWarnings(const config::Reader& env) {
  std::vector<std::string_view> seen;
  for (const std::string& w : env.warnings()) {
    if (std::find(seen.begin(), seen.end(), w) != seen.end()) continue;
    seen.push_back(w);
    OTLP_LOG(kWarn, w);
  }
}

Status ValidateOptions(const SetupOptions& o) {
  if (o.traces_exporter) {
    std::string e = Lower(*o.traces_exporter);
    if (e != "otlp" && e != "console" && e != "none") {
      return InvalidArgumentError("SetupOptions.traces_exporter '" + *o.traces_exporter +
                                  "': expected otlp, console or none");
    }
  }
  if (o.service_name && o.service_name->empty()) {
    return InvalidArgumentError("SetupOptions.service_name is empty");
  }
  const auto& b = o.batch;
  if (b.max_queue_size && *b.max_queue_size == 0) {
    return InvalidArgumentError("SetupOptions.batch.max_queue_size must be at least 1");
  }
  if (b.max_export_batch_size && *b.max_export_batch_size == 0) {
    return InvalidArgumentError("SetupOptions.batch.max_export_batch_size must be at least 1");
  }
  if (b.schedule_delay && b.schedule_delay->count() < 0) {
    return InvalidArgumentError("SetupOptions.batch.schedule_delay is negative");
  }
  if (b.export_timeout && b.export_timeout->count() < 0) {
    return InvalidArgumentError("SetupOptions.batch.export_timeout is negative");
  }
  return Status::Ok();
}

void InstallPropagator(config::Reader& env) {
  auto propagator = propagation::PropagatorFromEnvironment(env);
  if (propagator.ok()) {
    propagation::SetGlobalPropagator(std::move(*propagator));
  } else {
    env.Warn("OTEL_PROPAGATORS: " + propagator.status().message() + "; using tracecontext,baggage");
    propagation::SetGlobalPropagator(propagation::DefaultPropagator());
  }
}

// The pipeline parts Setup records in the Sdk (it is Sdk's friend, this helper is not).
struct Parts {
  const trace::BatchSpanProcessor* processor = nullptr;
  const exporter::OtlpHttpExporter* exporter = nullptr;
};

Result<std::unique_ptr<Sdk>> SetupWith(SetupOptions& options, config::Reader& env, Parts& parts) {
  OTLP_RETURN_IF_ERROR(ValidateOptions(options));

  if (options.install_global) InstallPropagator(env);

  if (env.GetBool("OTEL_SDK_DISABLED").value_or(false)) {
    auto provider = trace::TracerProvider::Noop();
    if (options.install_global) trace::SetTracerProvider(provider);
    return std::make_unique<Sdk>(std::move(provider), options.install_global);
  }

  std::string kind = options.traces_exporter ? Lower(*options.traces_exporter)
                                             : env.GetEnum("OTEL_TRACES_EXPORTER").value_or("otlp");

  std::unique_ptr<trace::SpanExporter> exporter;
  exporter::OtlpHttpExporter* otlp_exporter = nullptr;
  std::chrono::milliseconds shutdown_timeout{0};
  if (kind == "otlp") {
    // Options from code alone must resolve; a failure that only the environment causes is a
    // warning (the exporter cannot work, spans are not exported).
    auto code_only = exporter::OtlpHttpExporter::ResolveOptions(options.otlp, nullptr);
    if (!code_only.ok()) return code_only.status();
    auto created = exporter::OtlpHttpExporter::Create(options.otlp, &env);
    if (created.ok()) {
      otlp_exporter = created->get();
      shutdown_timeout = otlp_exporter->config().timeout;
      exporter = std::move(*created);
    } else if (created.status().code() == StatusCode::kInvalidArgument) {
      env.Warn(created.status().message() + "; spans will not be exported");
    } else {
      return created.status();
    }
  } else if (kind == "console") {
    exporter = std::make_unique<trace::ConsoleSpanExporter>(stderr);
  }

  std::unique_ptr<trace::BatchSpanProcessor> processor;
  if (exporter) {
    processor = trace::BatchSpanProcessor::Create(std::move(exporter), options.batch, &env);
  }
  if (shutdown_timeout.count() == 0) {
    // No OTLP bound (or "no limit"): the processor's export timeout, else the default.
    shutdown_timeout = options.batch.export_timeout.value_or(
        env.GetDuration("OTEL_BSP_EXPORT_TIMEOUT").value_or(kDefaultShutdownTimeout));
    if (shutdown_timeout.count() == 0) shutdown_timeout = kDefaultShutdownTimeout;
  }

  trace::Resource resource = trace::Resource::Default(env);
  if (!options.resource_attributes.empty()) {
    resource = resource.Merge(trace::Resource(options.resource_attributes));
  }
  if (options.service_name) {
    OwnedAttributes service;
    service.Set("service.name", *options.service_name);
    resource = resource.Merge(trace::Resource(std::move(service)));
  }

  const trace::BatchSpanProcessor* processor_view = processor.get();
  trace::TracerProviderOptions provider_options;
  provider_options.processor = std::move(processor);
  provider_options.sampler =
      options.sampler ? options.sampler : trace::Sampler::FromEnvironment(env);
  provider_options.resource = std::move(resource);
  provider_options.limits = trace::SpanLimits::FromEnvironment(env);
  auto provider = trace::TracerProvider::Create(std::move(provider_options), &env);

  if (options.install_global) trace::SetTracerProvider(provider);
  auto sdk = std::make_unique<Sdk>(std::move(provider), options.install_global, shutdown_timeout);
  parts.processor = processor_view;
  parts.exporter = otlp_exporter;
  return sdk;
}

}  // namespace

Sdk::Sdk(std::shared_ptr<trace::TracerProvider> provider, bool installed_global,
         std::chrono::milliseconds shutdown_timeout) noexcept
    : provider_(provider ? std::move(provider) : trace::TracerProvider::Noop()),
      installed_global_(installed_global),
      shutdown_timeout_(shutdown_timeout) {}

Sdk::~Sdk() {
  Shutdown(shutdown_timeout_);
  if (installed_global_ && trace::GetTracerProvider() == provider_) {
    trace::SetTracerProvider(nullptr);
  }
}

bool Sdk::ForceFlush(std::chrono::microseconds timeout) noexcept {
  return provider_->ForceFlush(timeout);
}

bool Sdk::Shutdown(std::chrono::microseconds timeout) noexcept {
  // Flush first: a flush lets the exporter retry (a collector answering 503 once still gets
  // the spans), whereas Shutdown makes it give up at once. Both share the one bound.
  if (!provider_->enabled()) return provider_->Shutdown(timeout);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool flushed = provider_->ForceFlush(timeout);
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(
      deadline - std::chrono::steady_clock::now());
  bool shut = provider_->Shutdown(std::max(left, std::chrono::microseconds(0)));
  return flushed && shut;
}

Result<std::unique_ptr<Sdk>> Setup(SetupOptions options) {
  try {
    config::Reader process_env;
    config::Reader& env = options.env != nullptr ? *options.env : process_env;
    Parts parts;
    auto result = SetupWith(options, env, parts);
    LogWarnings(env);
    if (result.ok()) {
      (*result)->processor_ = parts.processor;
      (*result)->exporter_ = parts.exporter;
    }
    return result;
  } catch (const std::exception& e) {
    return InternalError(std::string("otlp::Setup failed: ") + e.what());
  }
}

}  // namespace otlp
