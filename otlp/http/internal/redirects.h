// Following a redirect: where the Location points, and what of the request goes there.
// Internal: not an API.
#pragma once

#include <string>
#include <string_view>

#include "otlp/core/status.h"
#include "otlp/net/headers.h"
#include "otlp/net/url.h"

namespace otlp::http::internal {

// 301, 302, 303, 307, 308.
bool IsRedirectStatus(int status) noexcept;

// Resolves `location` (absolute, scheme-relative "//h/p", absolute-path, relative path, query
// only) against `base` as RFC 3986 §5.2 says, dot segments removed; the fragment dropped.
Result<net::Url> ResolveLocation(const net::Url& base, std::string_view location);

bool SameOrigin(const net::Url& a, const net::Url& b) noexcept;

// The request's method, body and headers for the hop: 303 → GET (HEAD stays HEAD); 301 and
// 302 turn POST into GET; 307 and 308 keep both. A method turned into GET loses its body and
// the headers describing it; a cross-origin hop loses Authorization and Cookie.
void RewriteForRedirect(int status, bool cross_origin, std::string& method, std::string& body,
                        net::Headers& headers);

}  // namespace otlp::http::internal
