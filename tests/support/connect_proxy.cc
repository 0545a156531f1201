#include "tests/support/connect_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace otlp::test {
namespace {

using otlp::internal::MutexLock;

void SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Reads up to the end of a request head; what follows it stays in `rest`.
bool ReadHead(int fd, std::string& head, std::string& rest) {
  std::string data;
  char buf[4096];
  for (;;) {
    const size_t end = data.find("\r\n\r\n");
    if (end != std::string::npos) {
      head = data.substr(0, end);
      rest = data.substr(end + 4);
      return true;
    }
    if (data.size() > 64 * 1024) return false;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    data.append(buf, static_cast<size_t>(n));
  }
}

ProxyRequest ParseHead(const std::string& head) {
  ProxyRequest request;
  size_t start = 0;
  bool first = true;
  while (start <= head.size()) {
    size_t end = head.find("\r\n", start);
    if (end == std::string::npos) end = head.size();
    const std::string line = head.substr(start, end - start);
    if (first) {
      request.request_line = line;
      first = false;
    } else if (const size_t colon = line.find(':'); colon != std::string::npos) {
      size_t value = colon + 1;
      while (value < line.size() && line[value] == ' ') ++value;
      request.headers.Add(line.substr(0, colon), line.substr(value));
    }
    start = end + 2;
  }
  return request;
}

int ConnectLoopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Copies bytes both ways until one side closes (or Stop() shuts the sockets down).
void Pipe(int a, int b) {
  char buf[16 * 1024];
  pollfd fds[2] = {{.fd = a, .events = POLLIN, .revents = 0},
                   {.fd = b, .events = POLLIN, .revents = 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      const ssize_t n = ::recv(fds[i].fd, buf, sizeof(buf), 0);
      if (n <= 0) return;
      SendAll(fds[1 - i].fd, {buf, static_cast<size_t>(n)});
    }
  }
}

}  // namespace

Result<std::unique_ptr<ConnectProxy>> ConnectProxy::Start(Options options) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return InternalError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Status status = InternalError(std::string("bind/listen: ") + std::strerror(errno));
    ::close(fd);
    return status;
  }
  std::unique_ptr<ConnectProxy> proxy(
      new ConnectProxy(fd, ntohs(addr.sin_port), std::move(options)));
  proxy->accept_thread_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
  return proxy;
}

ConnectProxy::ConnectProxy(int listen_fd, uint16_t port, Options options)
    : listen_fd_(listen_fd), port_(port), options_(std::move(options)) {}

ConnectProxy::~ConnectProxy() {
  Stop();
}

std::string ConnectProxy::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::vector<ProxyRequest> ConnectProxy::requests() const {
  MutexLock lock(mu_);
  return requests_;
}

void ConnectProxy::Stop() {
  if (stopping_.exchange(true)) return;
  ::shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  ::close(listen_fd_);
  std::vector<std::thread> workers;
  {
    MutexLock lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    workers.swap(workers_);
  }
  for (auto& worker : workers) worker.join();
}

void ConnectProxy::AcceptLoop() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_.load()) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    MutexLock lock(mu_);
    if (stopping_.load()) {
      ::close(fd);
      return;
    }
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { Serve(fd); });
  }
}

void ConnectProxy::Serve(int client_fd) {
  int target_fd = -1;
  auto finish = [&] {
    MutexLock lock(mu_);
    for (int fd : {client_fd, target_fd}) {
      if (fd < 0) continue;
      open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
      ::close(fd);
    }
  };
  std::string head;
  std::string rest;
  if (!ReadHead(client_fd, head, rest)) return finish();
  ProxyRequest request = ParseHead(head);
  {
    MutexLock lock(mu_);
    requests_.push_back(request);
  }
  auto answer = [&](int status, std::string_view reason) {
    SendAll(client_fd, "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                           "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  };
  if (options_.refuse_status != 0) {
    answer(options_.refuse_status, "Refused");
    return finish();
  }
  if (!options_.required_authorization.empty() &&
      request.headers.Find("Proxy-Authorization") != options_.required_authorization) {
    answer(407, "Proxy Authentication Required");
    return finish();
  }
  // "CONNECT 127.0.0.1:8443 HTTP/1.1": loopback targets only.
  const std::string prefix = "CONNECT 127.0.0.1:";
  const size_t space = request.request_line.rfind(' ');
  if (request.request_line.rfind(prefix, 0) != 0 || space == std::string::npos ||
      space <= prefix.size()) {
    answer(400, "Bad Request");
    return finish();
  }
  const int port =
      std::atoi(request.request_line.substr(prefix.size(), space - prefix.size()).c_str());
  target_fd = port > 0 && port < 65536 ? ConnectLoopback(static_cast<uint16_t>(port)) : -1;
  if (target_fd < 0) {
    answer(502, "Bad Gateway");
    return finish();
  }
  {
    MutexLock lock(mu_);
    open_fds_.push_back(target_fd);
  }
  SendAll(client_fd, "HTTP/1.1 200 Connection Established\r\n\r\n");
  tunnels_.fetch_add(1);
  if (!rest.empty()) SendAll(target_fd, rest);
  Pipe(client_fd, target_fd);
  finish();
}

}  // namespace otlp::test
