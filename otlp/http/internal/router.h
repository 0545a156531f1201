// otlp/http/internal/router.h — matches a request's method and path against route templates
// for http::Server. Not installed.
//
//   Router router;
//   router.Add("GET", "/users/{id}", 0);          // {name}: one path segment
//   router.Add("GET", "/files/{path...}", 1);     // {name...}: the rest of the path (last only)
//   Router::Match m = router.Find("GET", "/users/42");   // kFound, handler 0, id = "42"
//
// Segments are compared after percent-decoding each one on its own, so "%2F" inside a segment
// is a character of a parameter, not a separator. When several templates match, the most
// specific wins, segment by segment: a literal beats a parameter, which beats a catch-all.
// A template that matches with another method gives kMethodNotAllowed and the Allow list.
//
// Threading: Add before concurrent use; Find is const and may run on many threads.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/core/status.h"

namespace otlp::http::internal {

class Router {
 public:
  struct Match {
    enum Kind { kFound, kNotFound, kMethodNotAllowed, kBadPath };
    Kind kind = kNotFound;
    size_t handler = 0;           // kFound
    std::string_view route;       // the matched template (kFound, kMethodNotAllowed)
    std::vector<std::pair<std::string, std::string>> params;  // kFound, in template order
    std::string allow;            // kMethodNotAllowed: "GET, POST"
    std::string error;            // kBadPath: why
  };

  // kInvalidArgument for a template that does not start with '/', has an empty or malformed
  // {parameter}, repeats a parameter name, or has a catch-all before its last segment;
  // kAlreadyExists when the method and template are already routed. `method` is
  // case-sensitive ("GET"); "*" routes every method.
  Status Add(std::string_view method, std::string_view path_template, size_t handler);
  // `path` is the request target's path (no query), still percent-encoded.
  Match Find(std::string_view method, std::string_view path) const;
  size_t size() const noexcept { return routes_.size(); }

 private:
  struct Segment {
    enum Kind { kLiteral, kParam, kCatchAll } kind = kLiteral;
    std::string text;  // the literal (decoded), or the parameter's name
  };
  struct Route {
    std::string path_template;
    std::vector<Segment> segments;
    std::vector<std::pair<std::string, size_t>> methods;  // method -> handler
  };
  std::vector<Route> routes_;
};

// Percent-decodes `in` ("%41" -> "A"; '+' stays '+'); false for a malformed escape.
bool PercentDecode(std::string_view in, std::string& out);

}  // namespace otlp::http::internal
