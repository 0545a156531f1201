// tests/support/h2_test_server.h — an HTTP/2 server for tests: a listener on 127.0.0.1 (port 0)
// that runs internal::H2ServerSession on every accepted connection, h2c with prior knowledge or
// h2 over TLS (ALPN "h2"), with the test's handler. Tests reach the sessions to script faults
// (GOAWAY, resets) and count connections.
//
//   ASSERT_OK_AND_ASSIGN(auto server, test::H2TestServer::Start(runtime, {},
//       [](net::internal::H2ServerRequest req, net::internal::H2Reply reply) {
//         reply.Send({.status = 200, .body = req.path});
//       }));
//   uint16_t port = server->port();
//
// Threading: the handler runs on the runtime's I/O threads; the rest is thread-safe. Compiled
// into the tests that use it (it needs the net module's internal headers and Boost).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "otlp/core/internal/mutex.h"
#include "otlp/core/status.h"
#include "otlp/net/internal/h2_server.h"
#include "otlp/net/runtime.h"
#include "otlp/net/tls.h"

namespace otlp::test {

class H2TestServer {
 public:
  struct Options {
    bool tls = false;
    net::ServerTlsOptions tls_options{};  // ALPN "h2" is added when empty
    net::internal::H2ServerSession::Options session{};
  };

  static Result<std::unique_ptr<H2TestServer>> Start(std::shared_ptr<net::Runtime> runtime,
                                                     Options options,
                                                     net::internal::H2ServerSession::Handler handler);
  ~H2TestServer();
  H2TestServer(const H2TestServer&) = delete;
  H2TestServer& operator=(const H2TestServer&) = delete;

  uint16_t port() const noexcept { return port_; }
  // Connections accepted (TCP), and sessions that ended, with the status of the last one.
  uint64_t connections() const noexcept { return connections_.load(); }
  uint64_t closed_sessions() const noexcept { return closed_.load(); }
  Status last_close_status() const;
  // Every session started so far (open or not), in order of acceptance.
  std::vector<std::shared_ptr<net::internal::H2ServerSession>> sessions() const;
  // Stops accepting and closes every session.
  void Stop();

  struct Impl;

 private:
  explicit H2TestServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
  uint16_t port_ = 0;
  std::atomic<uint64_t>& connections_;
  std::atomic<uint64_t>& closed_;
};

}  // namespace otlp::test
