// Percent-encoding for query parameters and form bodies, and the query part of a URL.
// Internal: not an API. (otlp/http/internal/form.h of the extras branch offers the same
// encoders; the two are to be merged into one.)
#pragma once

#include <string>
#include <string_view>

#include "otlp/http/request.h"

namespace otlp::http::internal {

// RFC 3986 unreserved characters (ALPHA DIGIT - . _ ~) kept, every other byte %XX (upper-case);
// `space_as_plus` writes a space as '+' (application/x-www-form-urlencoded).
void AppendEncoded(std::string& out, std::string_view text, bool space_as_plus);
// "a=1&b=x+y"
std::string EncodeFormFields(const QueryParams& fields);
// `url` with `params` added to its query (before a "#fragment"); `url` when `params` is empty.
std::string WithQueryParams(std::string_view url, const QueryParams& params);

}  // namespace otlp::http::internal
