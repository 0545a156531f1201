// otlp/otlp.h — one call that sets up tracing for a program from code and OTEL_* variables:
// resource, sampler, limits, batch processor, exporter (OTLP/HTTP, console or none), and the
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
// are warnings (logged, defaults used); problems in SetupOptions are errors.
// Threading: call Setup once, early, from one thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "otlp/core/attributes.h"
#include "otlp/core/status.h"
#include "otlp/exporter/otlp_http_exporter.h"
#include "otlp/trace/batch_processor.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/sampler.h"

namespace otlp {

struct SetupOptions {
  std::optional<std::string> service_name;     // wins over OTEL_SERVICE_NAME
  std::optional<std::string> traces_exporter;  // "otlp" | "console" | "none"
  exporter::OtlpHttpExporterOptions otlp;      // endpoint, protocol, headers, timeout, TLS …
  trace::BatchSpanProcessorOptions batch;
  std::shared_ptr<trace::Sampler> sampler;     // null: OTEL_TRACES_SAMPLER
  OwnedAttributes resource_attributes;         // merged over the detected resource
  // Set the global TracerProvider and propagator (OTEL_PROPAGATORS).
  bool install_global = true;
};

// The configured SDK. Destroying it flushes and shuts the provider down.
class Sdk {
 public:
  explicit Sdk(std::shared_ptr<trace::TracerProvider> provider, bool installed_global) noexcept;
  ~Sdk();
  Sdk(const Sdk&) = delete;
  Sdk& operator=(const Sdk&) = delete;

  const std::shared_ptr<trace::TracerProvider>& provider() const noexcept { return provider_; }
  trace::Tracer GetTracer(std::string_view name, std::string_view version = {}) {
    return provider_->GetTracer(name, version);
  }
  bool ForceFlush(std::chrono::microseconds timeout = std::chrono::seconds(30)) noexcept;
  bool Shutdown(std::chrono::microseconds timeout = std::chrono::seconds(30)) noexcept;

 private:
  std::shared_ptr<trace::TracerProvider> provider_;
  bool installed_global_;
};

// With OTEL_SDK_DISABLED=true the returned Sdk holds a no-op provider (propagators still work).
Result<std::unique_ptr<Sdk>> Setup(SetupOptions options = {});

}  // namespace otlp
