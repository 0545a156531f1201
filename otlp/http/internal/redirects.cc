#include "otlp/http/internal/redirects.h"

#include <vector>

namespace otlp::http::internal {
namespace {

bool IsSchemeChar(char c, bool first) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (first) return alpha;
  return alpha || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

bool HasScheme(std::string_view ref) {
  const size_t colon = ref.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  for (size_t i = 0; i < colon; ++i) {
    if (!IsSchemeChar(ref[i], i == 0)) return false;
  }
  return true;
}

// RFC 3986 §5.2.4.
std::string RemoveDotSegments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  const bool absolute = path.starts_with('/');
  if (absolute) i = 1;
  bool trailing_slash = false;
  while (i <= path.size()) {
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view seg = path.substr(i, end - i);
    const bool last = end == path.size();
    if (seg == ".") {
      trailing_slash = last;
    } else if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing_slash = last;
    } else {
      out.push_back(seg);
      trailing_slash = false;
    }
    if (last) break;
    i = end + 1;
  }
  std::string result = absolute ? "/" : "";
  for (size_t k = 0; k < out.size(); ++k) {
    if (k > 0) result += '/';
    result += out[k];
  }
  if (trailing_slash && !result.ends_with('/')) result += '/';
  return result;
}

}  // namespace

bool IsRedirectStatus(int status) noexcept {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

Result<net::Url> ResolveLocation(const net::Url& base, std::string_view location) {
  // Surrounding whitespace is not part of the reference; a fragment never is sent.
  while (!location.empty() && (location.front() == ' ' || location.front() == '\t')) {
    location.remove_prefix(1);
  }
  while (!location.empty() && (location.back() == ' ' || location.back() == '\t')) {
    location.remove_suffix(1);
  }
  if (const size_t hash = location.find('#'); hash != std::string_view::npos) {
    location = location.substr(0, hash);
  }
  std::string target;
  const std::string origin = base.scheme + "://" + base.Authority();
  if (HasScheme(location)) {
    target = std::string(location);
  } else if (location.starts_with("//")) {
    target = base.scheme + ":" + std::string(location);
  } else {
    const std::string_view base_target = base.target;
    const size_t q = base_target.find('?');
    const std::string_view base_path = base_target.substr(0, q);
    std::string path;
    std::string_view query;
    if (location.empty()) {
      return base;
    } else if (location.starts_with('?')) {
      path = std::string(base_path);
      query = location;
    } else {
      const size_t lq = location.find('?');
      const std::string_view ref_path = location.substr(0, lq);
      if (lq != std::string_view::npos) query = location.substr(lq);
      if (ref_path.starts_with('/')) {
        path = RemoveDotSegments(ref_path);
      } else {
        const size_t slash = base_path.rfind('/');
        const std::string merged =
            std::string(slash == std::string_view::npos ? "/" : base_path.substr(0, slash + 1)) +
            std::string(ref_path);
        path = RemoveDotSegments(merged);
      }
    }
    if (path.empty()) path = "/";
    target = origin + path + std::string(query);
  }
  Result<net::Url> url = net::Url::Parse(target);
  if (!url.ok()) {
    return InvalidArgumentError("redirect to an invalid Location '" + std::string(location) +
                                "': " + url.status().message());
  }
  if (url->scheme != "http" && url->scheme != "https") {
    return InvalidArgumentError("redirect to a non-HTTP URL (scheme '" + url->scheme + "')");
  }
  return url;
}

bool SameOrigin(const net::Url& a, const net::Url& b) noexcept {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port;
}

void RewriteForRedirect(int status, bool cross_origin, std::string& method, std::string& body,
                        net::Headers& headers) {
  bool to_get = false;
  if (status == 303) {
    to_get = method != "HEAD" && method != "GET";
  } else if (status == 301 || status == 302) {
    to_get = method == "POST";
  }
  if (to_get || (status == 303 && method == "GET")) {
    if (to_get) method = "GET";
    body.clear();
    for (std::string_view name : {"Content-Type", "Content-Length", "Content-Encoding",
                                  "Content-Language", "Content-Location", "Transfer-Encoding"}) {
      headers.Remove(name);
    }
  }
  if (cross_origin) {
    headers.Remove("Authorization");
    headers.Remove("Cookie");
  }
}

}  // namespace otlp::http::internal
