// Percent-encoding for URL query components and application/x-www-form-urlencoded bodies,
// appending query parameters to a URL, and parsing a query string. Internal: not an API.
//
//   FormEncode("a b&c")                          "a+b%26c"
//   AppendQuery("http://h/p?x=1#top", {{"q", "C++ 20"}})
//                                                "http://h/p?x=1&q=C%2B%2B%2020#top"
//   ParseQuery("a=1&b=x+y&c")                    {{"a","1"}, {"b","x y"}, {"c",""}}
//
// Encoding keeps the RFC 3986 unreserved characters (ALPHA DIGIT - . _ ~) and escapes every
// other byte as %XX (upper-case hex); FormEncode writes a space as '+', PercentEncode as %20.
//
// Threading: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/core/status.h"

namespace otlp::http::internal {

// Ordered name/value pairs; a name may repeat ("tag=a&tag=b").
using QueryParams = std::vector<std::pair<std::string, std::string>>;  // = http::QueryParams

// application/x-www-form-urlencoded: space as '+'.
std::string FormEncode(std::string_view text);
// RFC 3986 percent-encoding of a component: space as %20, '+' as %2B.
std::string PercentEncode(std::string_view text);
// Decodes %XX escapes and, for form data, '+' as a space. A '%' not followed by two hex
// digits is an error (kInvalidArgument).
Result<std::string> FormDecode(std::string_view text, bool plus_as_space = true);

// "a=1&b=x+y": each name and value FormEncode()d, joined with '&'.
std::string EncodeForm(const QueryParams& params);
// `url` with `params` added to its query, each name and value PercentEncode()d (space as %20,
// which every server reads as a space, unlike '+'): before any "#fragment", after '?' (when the URL has
// no query yet) or '&' (when it has one not already ending in '&' or '?'). No params: `url`
// unchanged.
std::string AppendQuery(std::string_view url, const QueryParams& params);
// Parses a query string or form body ("a=1&b=2", a leading '?' allowed): empty pieces are
// skipped, a piece without '=' has an empty value, names and values are FormDecode()d. A bad
// escape is an error naming the piece.
Result<QueryParams> ParseQuery(std::string_view query);

}  // namespace otlp::http::internal
