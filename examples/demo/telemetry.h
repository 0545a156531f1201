// examples/demo/telemetry.h — the one call each demo process makes to trace itself: otlp::Setup
// with its own service.name and the collector the demo sends to.
//
//   auto sdk = otlp::demo::SetupTelemetry("orders", "http://127.0.0.1:4318/v1/traces");
//   if (!sdk.ok()) return Fail(sdk.status());
//   ...                              // serve; every span leaves through (*sdk)
//   (*sdk)->Shutdown();              // flush before exit (the destructor does it too)
//
// The tracing SDK is per process, so each service of the demo is its own process with its own
// Sdk: the resource's service.name is what tells the services apart in a trace viewer.
// Everything the demo depends on is set in code (exporter "otlp" over OTLP/HTTP protobuf,
// always sampling new traces); other OTEL_* variables still apply.
// Threading: call once per process, early, before starting threads.
#pragma once

#include <memory>
#include <string>

#include "otlp/core/status.h"
#include "otlp/otlp.h"

namespace otlp::demo {

// Every process of the demo shares this service.namespace, so that a viewer can group them.
inline constexpr const char* kServiceNamespace = "otlp-demo";

// `traces_url` is the full OTLP/HTTP traces endpoint, "http://host:4318/v1/traces".
Result<std::unique_ptr<Sdk>> SetupTelemetry(const std::string& service_name,
                                            const std::string& traces_url);

}  // namespace otlp::demo
