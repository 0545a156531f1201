// tests/support/connect_proxy.h — a small HTTP CONNECT proxy on 127.0.0.1 for the client's
// tunnel tests: it reads the CONNECT request, connects to the target (loopback only) and pipes
// bytes both ways until either side closes. It records every request head it gets, can demand
// Proxy-Authorization credentials (answering 407 without them) and refuse everything with a
// chosen status.
//
//   ASSERT_OK_AND_ASSIGN(auto proxy, otlp::test::ConnectProxy::Start({}));
//   client->Send({.url = "https://127.0.0.1:8443/", .proxy = proxy->url()});
//   EXPECT_EQ(proxy->requests()[0].request_line, "CONNECT 127.0.0.1:8443 HTTP/1.1");
//
// Threading: an accept thread plus one thread per tunnel; every method is thread-safe. Stop()
// (also in the destructor) closes the listener and every tunnel and joins the threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "otlp/core/internal/mutex.h"
#include "otlp/core/status.h"
#include "otlp/net/headers.h"

namespace otlp::test {

struct ProxyRequest {
  std::string request_line{};  // "CONNECT 127.0.0.1:8443 HTTP/1.1"
  net::Headers headers{};
};

class ConnectProxy {
 public:
  struct Options {
    // When set, CONNECT needs "Proxy-Authorization: <this>" (e.g. "Basic dTpw"); else 407.
    std::string required_authorization{};
    // When non-zero, every CONNECT is answered with this status and the connection closed.
    int refuse_status = 0;
  };

  static Result<std::unique_ptr<ConnectProxy>> Start(Options options);
  ~ConnectProxy();
  ConnectProxy(const ConnectProxy&) = delete;
  ConnectProxy& operator=(const ConnectProxy&) = delete;

  uint16_t port() const noexcept { return port_; }
  // "http://127.0.0.1:<port>"
  std::string url() const;
  std::vector<ProxyRequest> requests() const;
  // Tunnels established (CONNECT answered 200).
  uint64_t tunnels() const noexcept { return tunnels_.load(); }
  void Stop();

 private:
  ConnectProxy(int listen_fd, uint16_t port, Options options);
  void AcceptLoop();
  void Serve(int client_fd);

  const int listen_fd_;
  const uint16_t port_;
  const Options options_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> tunnels_{0};
  mutable otlp::internal::Mutex mu_;
  std::vector<ProxyRequest> requests_ OTLP_GUARDED_BY(mu_);
  std::vector<int> open_fds_ OTLP_GUARDED_BY(mu_);
  std::vector<std::thread> workers_ OTLP_GUARDED_BY(mu_);
  std::thread accept_thread_;
};

}  // namespace otlp::test
