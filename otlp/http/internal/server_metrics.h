// otlp/http/internal/server_metrics.h — the in-process histogram behind
// http::Server::RequestDurations(): `http.server.request.duration` per (method, route, status,
// scheme, error type), with the semantic conventions' bucket boundaries. Kept apart so it can
// join the client's duration metric (and, later, the metrics module's export). Not installed.
//
// Threading: thread-safe (one mutex; a record is a map lookup and a few additions).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "otlp/core/internal/mutex.h"
#include "otlp/http/server.h"

namespace otlp::http::internal {

class ServerMetrics {
 public:
  void Record(std::string_view method, std::string_view route, int status,
              std::string_view scheme, std::string_view error_type, double seconds);
  std::vector<ServerDurationSeries> Snapshot() const;

 private:
  using Key = std::tuple<std::string, std::string, int, std::string, std::string>;
  mutable otlp::internal::Mutex mu_;
  std::map<Key, ServerDurationSeries> series_ OTLP_GUARDED_BY(mu_);
};

}  // namespace otlp::http::internal
