#include "examples/demo/telemetry.h"

#include <chrono>

#include "otlp/trace/sampler.h"

namespace otlp::demo {

Result<std::unique_ptr<Sdk>> SetupTelemetry(const std::string& service_name,
                                            const std::string& traces_url) {
  SetupOptions options{
      .service_name = service_name,
      .traces_exporter = "otlp",
      .otlp = {.endpoint = traces_url, .protocol = exporter::OtlpProtocol::kHttpProtobuf},
      // A demo wants its spans on screen within a moment; the default (5 s) suits production,
      // where fewer, larger export requests matter more.
      .batch = {.schedule_delay = std::chrono::milliseconds(200)},
      // New traces are always sampled; a request that arrives with a traceparent follows the
      // caller's decision, so a trace is recorded by every service or by none.
      .sampler = trace::Sampler::ParentBased(trace::Sampler::AlwaysOn()),
  };
  options.resource_attributes.Set("service.namespace", kServiceNamespace);
  return Setup(std::move(options));
}

}  // namespace otlp::demo
