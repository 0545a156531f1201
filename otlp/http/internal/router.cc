#include "otlp/http/internal/router.h"

#include <algorithm>

namespace otlp::http::internal {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "/a/b" -> {"a", "b"}; "/" -> {""}; "/a/" -> {"a", ""}.
std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

bool PercentDecode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = HexValue(in[i + 1]);
    const int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

Status Router::Add(std::string_view method, std::string_view path_template, size_t handler) {
  const std::string where = "route template '" + std::string(path_template) + "'";
  if (method.empty()) return InvalidArgumentError("empty method for " + where);
  if (path_template.empty() || path_template[0] != '/') {
    return InvalidArgumentError(where + " must start with '/'");
  }
  std::vector<Segment> segments;
  const std::vector<std::string_view> parts = Split(path_template);
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string_view part = parts[i];
    Segment seg;
    if (!part.empty() && part.front() == '{') {
      if (part.back() != '}' || part.size() < 3) {
        return InvalidArgumentError(where + ": malformed parameter '" + std::string(part) + "'");
      }
      std::string_view name = part.substr(1, part.size() - 2);
      seg.kind = Segment::kParam;
      if (name.size() > 3 && name.ends_with("...")) {
        name.remove_suffix(3);
        seg.kind = Segment::kCatchAll;
        if (i + 1 != parts.size()) {
          return InvalidArgumentError(where + ": the catch-all '{" + std::string(name) +
                                      "...}' must be the last segment");
        }
      }
      if (name.find_first_of("{}/.") != std::string_view::npos) {
        return InvalidArgumentError(where + ": malformed parameter '" + std::string(part) + "'");
      }
      for (const Segment& s : segments) {
        if (s.kind != Segment::kLiteral && s.text == name) {
          return InvalidArgumentError(where + ": parameter '" + std::string(name) +
                                      "' appears twice");
        }
      }
      seg.text = std::string(name);
    } else {
      if (part.find_first_of("{}") != std::string_view::npos) {
        return InvalidArgumentError(where + ": a parameter must be a whole segment ('" +
                                    std::string(part) + "')");
      }
      if (!PercentDecode(part, seg.text)) {
        return InvalidArgumentError(where + ": malformed percent-encoding");
      }
    }
    segments.push_back(std::move(seg));
  }

  auto same = std::find_if(routes_.begin(), routes_.end(), [&](const Route& r) {
    return r.path_template == path_template;
  });
  if (same == routes_.end()) {
    routes_.push_back(Route{std::string(path_template), std::move(segments), {}});
    same = routes_.end() - 1;
  }
  for (const auto& [m, h] : same->methods) {
    if (m == method) {
      return {StatusCode::kAlreadyExists,
              std::string(method) + " " + std::string(path_template) + " is already routed"};
    }
  }
  same->methods.emplace_back(std::string(method), handler);
  return Status::Ok();
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match result;
  if (path.empty() || path[0] != '/') {
    result.kind = Match::kBadPath;
    result.error = "the request path must start with '/'";
    return result;
  }
  const std::vector<std::string_view> raw = Split(path);
  std::vector<std::string> decoded(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (!PercentDecode(raw[i], decoded[i])) {
      result.kind = Match::kBadPath;
      result.error = "malformed percent-encoding in the request path";
      return result;
    }
  }

  const Route* best = nullptr;
  std::vector<int> best_rank;
  for (const Route& route : routes_) {
    std::vector<int> rank;
    bool matches = true;
    size_t i = 0;
    for (; i < route.segments.size() && matches; ++i) {
      const Segment& seg = route.segments[i];
      rank.push_back(static_cast<int>(seg.kind));
      switch (seg.kind) {
        case Segment::kLiteral: matches = i < decoded.size() && decoded[i] == seg.text; break;
        case Segment::kParam: matches = i < decoded.size() && !decoded[i].empty(); break;
        case Segment::kCatchAll: i = decoded.size(); break;
      }
      if (seg.kind == Segment::kCatchAll) break;
    }
    if (!matches) continue;
    const bool catch_all = !route.segments.empty() &&
                           route.segments.back().kind == Segment::kCatchAll;
    if (!catch_all && route.segments.size() != decoded.size()) continue;
    if (catch_all && decoded.size() + 1 < route.segments.size()) continue;
    if (best == nullptr || rank < best_rank) {
      best = &route;
      best_rank = std::move(rank);
    }
  }
  if (best == nullptr) return result;

  result.route = best->path_template;
  size_t handler = 0;
  bool found = false;
  for (const auto& [m, h] : best->methods) {
    if (m == method || m == "*") {
      handler = h;
      found = true;
      break;
    }
  }
  if (!found) {
    result.kind = Match::kMethodNotAllowed;
    for (const auto& [m, h] : best->methods) {
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += m;
    }
    return result;
  }
  result.kind = Match::kFound;
  result.handler = handler;
  for (size_t i = 0; i < best->segments.size(); ++i) {
    const Segment& seg = best->segments[i];
    if (seg.kind == Segment::kParam) {
      result.params.emplace_back(seg.text, decoded[i]);
    } else if (seg.kind == Segment::kCatchAll) {
      std::string rest;
      for (size_t j = i; j < decoded.size(); ++j) {
        if (j > i) rest += '/';
        rest += decoded[j];
      }
      result.params.emplace_back(seg.text, std::move(rest));
    }
  }
  return result;
}

}  // namespace otlp::http::internal
