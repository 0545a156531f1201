// otlp/otlp.h — one call that sets up tracing for a program from code and OTEL_* variables:
// resource, sampler, limits, batch processor, exporter (OTLP/HTTP or gRPC, console or none), and the
// global propagator.
//
//   int main() {
//     auto sdk = otlp::Setup({.service_name = "checkout"});
//     if (!sdk.ok()) { std::cerr << sdk.status().ToString() << "\n"; }
//     auto tracer = otlp::trace::GetTracer("checkout");
//     auto span = tracer.StartSpan("main");
//     …
//   }  // the Sdk's destructor flushes and shuts down (bounded by the export timeout)
//
// Precedence: SetupOptions (code) > OTEL_* environment > defaults. Problems in the environment
// are warnings (logged through OTLP_LOG, defaults used); problems in SetupOptions are errors.
// When the environment makes the OTLP exporter impossible (an endpoint that is not a URL, an
// unreadable TLS file) that is a warning too, and spans are then not exported.
// OTEL_SDK_DISABLED=true gives a no-op provider; the propagator is still installed.
// Threading: call Setup once, early, from one thread. Sdk methods are thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "otlp/core/attributes.h"
#include "otlp/core/config.h"
#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/exporter/otlp_http_exporter.h"
#include "otlp/trace/batch_processor.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/sampler.h"

namespace otlp {

struct OTLP_EXPORT SetupOptions {
  std::optional<std::string> service_name;     // wins over OTEL_SERVICE_NAME
  std::optional<std::string> traces_exporter;  // "otlp" | "console" | "none"
  exporter::OtlpHttpExporterOptions otlp;      // endpoint, protocol, headers, timeout, TLS …
  trace::BatchSpanProcessorOptions batch;
  std::shared_ptr<trace::Sampler> sampler;  // null: OTEL_TRACES_SAMPLER
  OwnedAttributes resource_attributes;      // merged over the detected resource
  // Set the global TracerProvider and propagator (OTEL_PROPAGATORS).
  bool install_global = true;
  // Where OTEL_* variables are read from; null: the process environment. Its warnings are
  // logged by Setup.
  config::Reader* env = nullptr;
};

// The configured SDK. Destroying it flushes and shuts the provider down.
class OTLP_EXPORT Sdk {
 public:
  // `shutdown_timeout` bounds the flush in the destructor.
  explicit Sdk(std::shared_ptr<trace::TracerProvider> provider, bool installed_global,
               std::chrono::milliseconds shutdown_timeout = std::chrono::seconds(30)) noexcept;
  // Shuts down (bounded by shutdown_timeout()) and, when it installed the global provider and
  // that is still this one, puts the no-op provider back.
  ~Sdk();
  Sdk(const Sdk&) = delete;
  Sdk& operator=(const Sdk&) = delete;

  const std::shared_ptr<trace::TracerProvider>& provider() const noexcept { return provider_; }
  trace::Tracer GetTracer(std::string_view name, std::string_view version = {}) {
    return provider_->GetTracer(name, version);
  }
  bool ForceFlush(std::chrono::microseconds timeout = std::chrono::seconds(30)) noexcept;
  // Flushes (letting the exporter retry), then stops the provider, all within `timeout`;
  // idempotent. Without an argument the bound is shutdown_timeout() (what the destructor uses).
  bool Shutdown(std::chrono::microseconds timeout) noexcept;
  bool Shutdown() noexcept { return Shutdown(shutdown_timeout_); }

  // The OTLP exporter's timeout (OTEL_EXPORTER_OTLP_TIMEOUT, 10 s by default), else the batch
  // processor's export timeout; 30 s when neither sets a bound.
  std::chrono::milliseconds shutdown_timeout() const noexcept { return shutdown_timeout_; }
  // The pipeline's parts, for self-metrics (`otlp bench`); null when not in use (exporter
  // "console"/"none", SDK disabled). Owned by the provider: valid while this Sdk lives.
  const trace::BatchSpanProcessor* batch_processor() const noexcept { return processor_; }
  const exporter::OtlpHttpExporter* otlp_exporter() const noexcept { return exporter_; }

 private:
  friend Result<std::unique_ptr<Sdk>> Setup(SetupOptions options);
  std::shared_ptr<trace::TracerProvider> provider_;
  bool installed_global_;
  std::chrono::milliseconds shutdown_timeout_;
  const trace::BatchSpanProcessor* processor_ = nullptr;
  const exporter::OtlpHttpExporter* exporter_ = nullptr;
};

// With OTEL_SDK_DISABLED=true the returned Sdk holds a no-op provider (propagators still work).
Result<std::unique_ptr<Sdk>> Setup(SetupOptions options = {});

}  // namespace otlp
