// Builds against an installed otlp-cpp through find_package(otlp): proves the package config,
// the exported targets and the installed headers are complete. Prints one console span.
#include "otlp/otlp.h"

int main() {
  auto sdk = otlp::Setup({.service_name = "install-check", .traces_exporter = "console"});
  if (!sdk.ok()) return 1;
  auto tracer = otlp::trace::GetTracer("install-check", "1.0.0");
  tracer.StartSpan("installed").SetAttribute("ok", true).End();
  return 0;
}
