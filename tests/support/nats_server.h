// tests/support/nats_server.h — a real nats-server (2.9, built from Debian's Go sources by
// scripts/build-nats-server.sh) for a test: its own temporary directory, config file and log,
// a free loopback port, JetStream storage inside the directory when asked; stopped (and
// reaped) by the destructor.
//
//   otlp::test::NatsServer server({.jetstream = true});
//   ASSERT_TRUE(server.ok()) << server.error();
//   auto conn = otlp::nats::Connection::Connect(server.url());
//   server.Stop();                      // the connection sees the server go away
//   ASSERT_TRUE(server.Start());        // again, on the same port
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "tests/support/temp_dir.h"

namespace otlp::test {

// The nats-server binary: $OTLP_NATS_SERVER, else the one the build made.
std::string NatsServerPath();

class NatsServer {
 public:
  struct Options {
    // Lines added to the config file (authorization blocks, tls, limits, ...).
    std::string config{};
    bool jetstream = false;
    int port = 0;  // 0: a free one chosen by the server
  };
  explicit NatsServer(Options options);
  NatsServer() : NatsServer(Options{}) {}
  ~NatsServer();
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  bool ok() const noexcept { return pid_ > 0 && port_ > 0; }
  const std::string& error() const noexcept { return error_; }
  int port() const noexcept { return port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  std::string HostPort() const { return "127.0.0.1:" + std::to_string(port_); }
  const TempDir& dir() const noexcept { return dir_; }
  pid_t pid() const noexcept { return pid_; }

  // Stops with SIGKILL (abrupt) or SIGTERM, and reaps it.
  void Stop(bool abrupt = false);
  // Starts it (again), on the same port once one was chosen; true when it listens.
  bool Start();
  // Sends SIGUSR2: lame-duck mode.
  void EnterLameDuckMode();
  // The server's log so far.
  std::string Log() const;

 private:
  Options options_;
  TempDir dir_{"otlp-nats-"};
  pid_t pid_ = -1;
  int port_ = 0;
  std::string error_;
};

}  // namespace otlp::test
