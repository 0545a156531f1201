// otlp/http/internal/retry_after.h — the Retry-After parser under its otlp::http name. It lives
// in otlp/net/internal/retry_after.h, shared with the OTLP exporter; include that one in new
// code. Internal: not an API.
#pragma once

#include "otlp/net/internal/retry_after.h"

namespace otlp::http::internal {

using net::internal::kMaxRetryAfter;
using net::internal::ParseHttpDate;
using net::internal::ParseRetryAfter;

}  // namespace otlp::http::internal
