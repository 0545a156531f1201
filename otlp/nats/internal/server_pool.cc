#include "otlp/nats/internal/server_pool.h"

#include <algorithm>

#include "otlp/nats/internal/parser.h"

namespace otlp::nats::internal {
namespace {

Status Invalid(std::string_view url, std::string why) {
  return Status(StatusCode::kInvalidArgument,
                "NATS server URL \"" + std::string(url) + "\": " + std::move(why));
}

}  // namespace

std::string ServerUrl::HostPort() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string ServerUrl::ToString() const {
  return (tls ? "tls://" : "nats://") + HostPort();
}

Result<ServerUrl> ParseServerUrl(std::string_view url) {
  ServerUrl out;
  std::string_view rest = url;
  if (size_t scheme = rest.find("://"); scheme != std::string_view::npos) {
    std::string_view s = rest.substr(0, scheme);
    if (s == "tls") {
      out.tls = true;
    } else if (s != "nats") {
      return Invalid(url, "scheme must be nats:// or tls://");
    }
    rest.remove_prefix(scheme + 3);
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?# \t\r\n") != std::string_view::npos) {
    return Invalid(url, "unexpected path, query or whitespace");
  }
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view info = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    if (size_t colon = info.find(':'); colon != std::string_view::npos) {
      out.user = std::string(info.substr(0, colon));
      out.password = std::string(info.substr(colon + 1));
      out.has_password = true;
    } else {
      out.user = std::string(info);
    }
  }
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return Invalid(url, "unterminated [IPv6 address]");
    out.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Invalid(url, "expected :port after ]");
      port = rest.substr(1);
    }
  } else {
    size_t colon = rest.rfind(':');
    if (colon != std::string_view::npos) {
      out.host = std::string(rest.substr(0, colon));
      port = rest.substr(colon + 1);
    } else {
      out.host = std::string(rest);
    }
  }
  if (out.host.empty()) return Invalid(url, "no host");
  if (!port.empty()) {
    uint64_t p = 0;
    if (!ParseDecimal(port, &p) || p == 0 || p > 65535) return Invalid(url, "bad port");
    out.port = static_cast<uint16_t>(p);
  } else if (url.find("://") == std::string_view::npos && rest.find(':') != std::string_view::npos) {
    return Invalid(url, "bad port");
  }
  return out;
}

Status ServerPool::Init(const std::vector<std::string>& urls, bool randomize, uint64_t seed) {
  rng_.seed(seed);
  servers_.clear();
  for (const std::string& u : urls) {
    Result<ServerUrl> s = ParseServerUrl(u);
    if (!s.ok()) return s.status();
    servers_.push_back(std::move(*s));
  }
  if (servers_.empty()) {
    return Status(StatusCode::kInvalidArgument, "NATS: no server URL given");
  }
  if (randomize) std::shuffle(servers_.begin(), servers_.end(), rng_);
  return Status::Ok();
}

bool ServerPool::AddDiscovered(const std::vector<std::string>& host_ports, bool randomize) {
  bool added = false;
  const bool tls = !servers_.empty() && servers_.front().tls;
  for (const std::string& hp : host_ports) {
    Result<ServerUrl> s = ParseServerUrl(hp);
    if (!s.ok()) continue;
    const bool known = std::any_of(servers_.begin(), servers_.end(), [&](const ServerUrl& e) {
      return e.host == s->host && e.port == s->port;
    });
    if (known) continue;
    s->implicit = true;
    s->tls = tls;
    servers_.push_back(std::move(*s));
    added = true;
  }
  (void)randomize;  // appended in the order announced: indices of known servers stay valid
  return added;
}

int ServerPool::Next(int current, int max_attempts) {
  const int n = static_cast<int>(servers_.size());
  if (n == 0) return -1;
  int best = -1;
  for (int step = 1; step <= n; ++step) {
    const int i = (current + step) % n;
    const ServerUrl& s = servers_[static_cast<size_t>(i)];
    if (max_attempts >= 0 && s.failed_attempts >= max_attempts) continue;
    if (s.lame_duck && best == -1) {
      best = i;  // only if nothing better is found
      continue;
    }
    if (!s.lame_duck) return i;
  }
  return best;
}

}  // namespace otlp::nats::internal
