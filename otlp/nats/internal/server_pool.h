// otlp/nats/internal/server_pool.h — the servers a connection may use: configured URLs and
// those the cluster announces (INFO connect_urls), in try order, with reconnect bookkeeping.
// Not thread-safe: the connection's I/O strand owns it (and Connect() before that).
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/core/status.h"

namespace otlp::nats::internal {

struct ServerUrl {
  std::string host;  // without brackets for IPv6
  uint16_t port = 4222;
  bool tls = false;   // tls:// scheme
  std::string user;   // user info of the URL (a token when there is no password)
  std::string password;
  bool has_password = false;
  bool implicit = false;  // discovered from INFO, not configured
  int failed_attempts = 0;  // in a row
  bool lame_duck = false;   // announced lame-duck mode; tried last
  std::chrono::steady_clock::time_point last_attempt{};  // of the last connect attempt

  std::string HostPort() const;  // "127.0.0.1:4222", "[::1]:4222"
  std::string ToString() const;  // "nats://127.0.0.1:4222" (no credentials)
};

// "nats://[user[:pass]@]host[:port]", "tls://...", "host:port", "host". kInvalidArgument with
// the reason otherwise.
Result<ServerUrl> ParseServerUrl(std::string_view url);

class ServerPool {
 public:
  Status Init(const std::vector<std::string>& urls, bool randomize, uint64_t seed);
  // Adds announced "host:port" entries not in the pool; true when one was new.
  bool AddDiscovered(const std::vector<std::string>& host_ports, bool randomize);
  // The next server to try after `current` failed or dropped: rotates the pool, skipping those
  // that failed `max_attempts` times in a row (max_attempts < 0: never skipped). -1 when none is
  // left.
  int Next(int current, int max_attempts);
  ServerUrl& at(int index) { return servers_[static_cast<size_t>(index)]; }
  const std::vector<ServerUrl>& servers() const noexcept { return servers_; }
  size_t size() const noexcept { return servers_.size(); }

 private:
  std::vector<ServerUrl> servers_;
  std::mt19937_64 rng_;
};

}  // namespace otlp::nats::internal
