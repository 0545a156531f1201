// Pieces of OtlpHttpExporter's option resolution, exposed for their unit tests. Internal: not
// an API.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "otlp/core/status.h"

namespace otlp::exporter::internal {

// The traces URL from the endpoint rules (OTLP exporter spec): `code` (as is) wins, then
// `signal_env` (as is, "/" when it has no path), then `generic_env` ("v1/traces" appended with
// one slash), then http://localhost:4318/v1/traces. For gRPC (`grpc`) the generic endpoint is
// used as is too and the default is http://localhost:4317/. A value without "://" gets http://
// when `insecure`, else https://. The result is not validated.
std::string ResolveTracesEndpoint(const std::optional<std::string>& code,
                                  const std::optional<std::string>& signal_env,
                                  const std::optional<std::string>& generic_env, bool insecure,
                                  bool grpc = false);

// Checks a header name (an RFC 9110 token) and value (no control characters but tab).
Status ValidateHeader(std::string_view name, std::string_view value);

}  // namespace otlp::exporter::internal
