// tests/support/raw_tcp_server.h — a bare TCP listener on 127.0.0.1 that feeds clients bytes no
// real HTTP server would send (garbage, truncated responses), and a free-port helper.
//
//   ASSERT_OK_AND_ASSIGN(auto server, otlp::test::RawTcpServer::Start(
//       otlp::test::RawTcpServer::ReplyAfterRequest("NOT HTTP AT ALL\r\n\r\n")));
//   std::string url = "http://127.0.0.1:" + std::to_string(server->port()) + "/";
//
// Threading: connections are served one at a time on the server's own thread; the behaviour
// runs there. port()/connections() are thread-safe; Stop() (also in the destructor) joins.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "otlp/core/status.h"

namespace otlp::test {

// A port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close). For tools
// that need a port number up front (nginx); prefer port 0 where possible.
Result<uint16_t> PickUnusedPort();
// `n` distinct such ports: all are held bound until the last is picked (separate
// PickUnusedPort calls may be given the same port twice).
Result<std::vector<uint16_t>> PickUnusedPorts(size_t n);

// Connects to 127.0.0.1:port, writes `bytes`, then reads until the peer closes (or `stop_after`
// appears in what was read, when non-empty) and returns everything read. 10 s I/O timeouts.
Result<std::string> RawExchange(uint16_t port, std::string_view bytes,
                                std::string_view stop_after = {});
// The same over an already connected socket, for multi-step exchanges (see RawConnect).
Result<std::string> RawExchange(int fd, std::string_view bytes, std::string_view stop_after);
// A connected blocking socket to 127.0.0.1:port with 10 s timeouts; the caller closes it.
Result<int> RawConnect(uint16_t port);

class RawTcpServer {
 public:
  // Called with each accepted socket (blocking, with 10 s receive/send timeouts); the server
  // closes it afterwards.
  using Behavior = std::function<void(int fd)>;

  // Reads until the end of the request headers ("\r\n\r\n"), writes `bytes`, closes.
  static Behavior ReplyAfterRequest(std::string bytes);
  // Reads the request headers, then writes `bytes` again and again, `pause` apart, until the
  // client goes away (e.g. an endless stream of "HTTP/1.1 100 Continue" interim responses).
  static Behavior RepeatAfterRequest(std::string bytes, std::chrono::milliseconds pause);
  // Reads the request headers, then closes without answering.
  static Behavior CloseAfterRequest();
  // Reads the request headers, then closes with a TCP reset (SO_LINGER 0): the client sees
  // ECONNRESET rather than an orderly end.
  static Behavior ResetAfterRequest();
  // Reads the request headers, writes `head`, then each of `pieces` `pause` apart (a slow
  // body), then closes. Stops early when the client goes away.
  static Behavior TrickleAfterRequest(std::string head, std::vector<std::string> pieces,
                                      std::chrono::milliseconds pause);

  static Result<std::unique_ptr<RawTcpServer>> Start(Behavior behavior);
  ~RawTcpServer();
  RawTcpServer(const RawTcpServer&) = delete;
  RawTcpServer& operator=(const RawTcpServer&) = delete;

  uint16_t port() const noexcept { return port_; }
  uint64_t connections() const noexcept { return connections_.load(); }
  void Stop();

 private:
  RawTcpServer(int listen_fd, int wake_read, int wake_write, uint16_t port, Behavior behavior);
  void Run();

  int listen_fd_;
  int wake_read_;
  int wake_write_;
  uint16_t port_;
  Behavior behavior_;
  std::atomic<uint64_t> connections_{0};
  std::thread thread_;
};

}  // namespace otlp::test
