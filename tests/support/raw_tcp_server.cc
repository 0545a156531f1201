#include "tests/support/raw_tcp_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

namespace otlp::test {
namespace {

Status Errno(const std::string& what) {
  return InternalError(what + ": " + std::strerror(errno));
}

// Binds a listening socket to 127.0.0.1:0; returns the fd and the port.
Status ListenLoopback(int& fd, uint16_t& port, bool listen_now) {
  fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      (listen_now && ::listen(fd, 64) != 0) ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Status status = Errno("bind/listen on 127.0.0.1");
    ::close(fd);
    fd = -1;
    return status;
  }
  port = ntohs(addr.sin_port);
  return Status::Ok();
}

void ReadHeaders(int fd) {
  std::string data;
  char buf[4096];
  while (data.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return;
    data.append(buf, static_cast<size_t>(n));
  }
}

void SetTimeouts(int fd) {
  timeval tv{.tv_sec = 10, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

}  // namespace

Result<int> RawConnect(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  SetTimeouts(fd);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Status status = Errno("connect to 127.0.0.1:" + std::to_string(port));
    ::close(fd);
    return status;
  }
  return fd;
}

Result<std::string> RawExchange(int fd, std::string_view bytes, std::string_view stop_after) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return Errno("send");
    sent += static_cast<size_t>(n);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    if (!stop_after.empty() && out.find(stop_after) != std::string::npos) break;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == ECONNRESET) break;
      return Errno("recv");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> RawExchange(uint16_t port, std::string_view bytes,
                                std::string_view stop_after) {
  OTLP_ASSIGN_OR_RETURN(int fd, RawConnect(port));
  Result<std::string> out = RawExchange(fd, bytes, stop_after);
  ::close(fd);
  return out;
}

Result<uint16_t> PickUnusedPort() {
  int fd = -1;
  uint16_t port = 0;
  OTLP_RETURN_IF_ERROR(ListenLoopback(fd, port, /*listen_now=*/false));
  ::close(fd);
  return port;
}

Result<std::vector<uint16_t>> PickUnusedPorts(size_t n) {
  std::vector<int> fds;
  std::vector<uint16_t> ports;
  Status status;
  while (ports.size() < n && status.ok()) {
    int fd = -1;
    uint16_t port = 0;
    status = ListenLoopback(fd, port, /*listen_now=*/false);
    if (!status.ok()) break;
    fds.push_back(fd);
    ports.push_back(port);
  }
  for (int fd : fds) ::close(fd);
  if (!status.ok()) return status;
  return ports;
}

RawTcpServer::Behavior RawTcpServer::ReplyAfterRequest(std::string bytes) {
  return [bytes = std::move(bytes)](int fd) {
    ReadHeaders(fd);
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  };
}

RawTcpServer::Behavior RawTcpServer::RepeatAfterRequest(std::string bytes,
                                                        std::chrono::milliseconds pause) {
  return [bytes = std::move(bytes), pause](int fd) {
    ReadHeaders(fd);
    for (;;) {
      size_t sent = 0;
      while (sent < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return;  // the client went away
        sent += static_cast<size_t>(n);
      }
      if (pause.count() > 0) std::this_thread::sleep_for(pause);
    }
  };
}

RawTcpServer::Behavior RawTcpServer::CloseAfterRequest() {
  return [](int fd) { ReadHeaders(fd); };
}

RawTcpServer::Behavior RawTcpServer::ResetAfterRequest() {
  return [](int fd) {
    ReadHeaders(fd);
    linger l{.l_onoff = 1, .l_linger = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  };
}

RawTcpServer::Behavior RawTcpServer::TrickleAfterRequest(std::string head,
                                                         std::vector<std::string> pieces,
                                                         std::chrono::milliseconds pause) {
  return [head = std::move(head), pieces = std::move(pieces), pause](int fd) {
    ReadHeaders(fd);
    auto send_all = [fd](std::string_view bytes) {
      size_t sent = 0;
      while (sent < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<size_t>(n);
      }
      return true;
    };
    if (!send_all(head)) return;
    for (const std::string& piece : pieces) {
      std::this_thread::sleep_for(pause);
      if (!send_all(piece)) return;
    }
  };
}

Result<std::unique_ptr<RawTcpServer>> RawTcpServer::Start(Behavior behavior) {
  int fd = -1;
  uint16_t port = 0;
  OTLP_RETURN_IF_ERROR(ListenLoopback(fd, port, /*listen_now=*/true));
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    Status status = Errno("pipe2");
    ::close(fd);
    return status;
  }
  auto server = std::unique_ptr<RawTcpServer>(
      new RawTcpServer(fd, pipe_fds[0], pipe_fds[1], port, std::move(behavior)));
  server->thread_ = std::thread([s = server.get()] { s->Run(); });
  return server;
}

RawTcpServer::RawTcpServer(int listen_fd, int wake_read, int wake_write, uint16_t port,
                           Behavior behavior)
    : listen_fd_(listen_fd),
      wake_read_(wake_read),
      wake_write_(wake_write),
      port_(port),
      behavior_(std::move(behavior)) {}

RawTcpServer::~RawTcpServer() {
  Stop();
}

void RawTcpServer::Stop() {
  if (!thread_.joinable()) return;
  const char byte = 'x';
  (void)!::write(wake_write_, &byte, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_read_);
  ::close(wake_write_);
}

void RawTcpServer::Run() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if ((fds[1].revents & POLLIN) != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int conn = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    connections_.fetch_add(1);
    SetTimeouts(conn);
    behavior_(conn);
    ::close(conn);
  }
}

}  // namespace otlp::test
