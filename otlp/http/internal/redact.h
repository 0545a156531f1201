// The `url.full` value of an HTTP client span (OpenTelemetry semantic conventions, url.full):
// credentials in the URL become "REDACTED:REDACTED@" and the values of the query parameters
// known to carry secrets become "REDACTED", their keys kept. Internal: not an API.
//
//   RedactUrl("https://bob:pw@s3.example.com/o?AWSAccessKeyId=AK&Signature=xyz&v=1")
//     == "https://REDACTED:REDACTED@s3.example.com/o"
//        "?AWSAccessKeyId=REDACTED&Signature=REDACTED&v=1"
//
// Sensitive keys (matched case-sensitively, as the conventions say): AWSAccessKeyId, Signature,
// sig, X-Goog-Signature, and those later versions of the list add: X-Amz-Signature,
// X-Amz-Credential, X-Amz-Security-Token. The rest of the text is kept byte for byte; any input
// (relative, schemeless, malformed) gives a result and never throws beyond std::bad_alloc.
//
// Threading: pure function.
#pragma once

#include <string>
#include <string_view>

namespace otlp::http::internal {

std::string RedactUrl(std::string_view url);

// True for a query key whose value RedactUrl hides.
bool IsSensitiveQueryKey(std::string_view key) noexcept;

}  // namespace otlp::http::internal
