// Hostile clients against `otlp view`'s OTLP/HTTP receiver: a 100 MB body, slow-loris
// connections, a thousand concurrent connections. Each gets a clear answer (or is dropped), the
// viewer keeps serving, and nothing already stored is lost.
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "otlp/view/view_test_data.h"
#include "otlp/view/viewer.h"
#include "tests/support/raw_tcp_server.h"
#include "tests/support/status_matchers.h"

namespace otlp::view {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A blocking loopback socket (10 s timeouts), or -1.
int Connect(uint16_t port) {
  auto fd = test::RawConnect(port);
  return fd.ok() ? *fd : -1;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads until the peer closes or the response headers and Content-Length bytes arrived.
std::string ReadResponse(int fd, int timeout_ms = 10000) {
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) break;
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    const size_t end = out.find("\r\n\r\n");
    if (end == std::string::npos) continue;
    const size_t cl = out.find("Content-Length: ");
    if (cl == std::string::npos || cl > end) break;
    const size_t len = std::stoul(out.substr(cl + 16));
    if (out.size() >= end + 4 + len) break;
  }
  return out;
}

std::string PostRequest(uint16_t port, const std::string& body) {
  return "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

std::vector<testing::TestSpan> OneSpan(int i) {
  char trace[33], span[17];
  std::snprintf(trace, sizeof trace, "%032x", i + 1);
  std::snprintf(span, sizeof span, "%016x", i + 1);
  return {{"load", trace, span, "", "request", 2, 1765100000000000000ull + i,
           1765100000000001000ull + i, 0, {}}};
}

class ViewerFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ViewerOptions options;
    options.http_port = 0;
    options.grpc_port = std::nullopt;
    options.ui_port = 0;
    auto v = Viewer::Start(options);
    ASSERT_OK(v);
    viewer_ = std::move(*v);
    port_ = static_cast<uint16_t>(std::stoi(viewer_->otlp_http_url().substr(
        viewer_->otlp_http_url().rfind(':') + 1)));
    // Something stored before the abuse, which must survive it.
    const int fd = Connect(port_);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, PostRequest(port_, testing::OtlpJson(testing::ThreeServiceTrace()))));
    ASSERT_THAT(ReadResponse(fd), StartsWith("HTTP/1.1 200"));
    close(fd);
  }

  void ExpectStillServingAndNothingLost() {
    const int fd = Connect(port_);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, PostRequest(port_, testing::OtlpJson(OneSpan(999999)))));
    EXPECT_THAT(ReadResponse(fd), StartsWith("HTTP/1.1 200"));
    close(fd);
    viewer_->store().Flush();
    EXPECT_TRUE(viewer_->store().TraceJson(testing::kTraceA).has_value());
    EXPECT_EQ(viewer_->store().TraceSpans(testing::kTraceA).size(), 4u);
  }

  std::unique_ptr<Viewer> viewer_;
  uint16_t port_ = 0;
};

TEST_F(ViewerFaultsTest, AHundredMegabyteBodyIsAnswered413) {
  const int fd = Connect(port_);
  ASSERT_GE(fd, 0);
  const std::string head =
      "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
      "Content-Length: 104857600\r\n\r\n";
  ASSERT_TRUE(SendAll(fd, head));
  // The server may answer before the body is sent; send what it takes, then read the answer.
  const std::string chunk(1 << 20, 'x');
  for (int i = 0; i < 100; ++i) {
    if (!SendAll(fd, chunk)) break;
  }
  EXPECT_THAT(ReadResponse(fd), StartsWith("HTTP/1.1 413"));
  close(fd);
  ExpectStillServingAndNothingLost();
}

TEST_F(ViewerFaultsTest, SlowLorisClientsDoNotStopOthers) {
  // Fifty connections that send their headers a byte at a time and never finish.
  std::vector<int> slow;
  for (int i = 0; i < 50; ++i) {
    const int fd = Connect(port_);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, "POST /v1/traces HTTP/1.1\r\nHo"));
    slow.push_back(fd);
  }
  // Each round, every slow client has sent one more byte before a normal client is served.
  for (int round = 0; round < 5; ++round) {
    for (int fd : slow) ASSERT_TRUE(SendAll(fd, "s"));
    ExpectStillServingAndNothingLost();
  }
  for (int fd : slow) close(fd);
}

TEST_F(ViewerFaultsTest, AThousandConcurrentConnections) {
  // Both ends of every connection are in this process: raise the descriptor limit if allowed.
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  const rlim_t want = 2200;
  if (lim.rlim_cur < want && lim.rlim_max >= want) {
    lim.rlim_cur = want;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  const int n = lim.rlim_cur >= want ? 1000 : static_cast<int>((lim.rlim_cur - 100) / 2);
  ASSERT_GE(n, 400) << "the descriptor limit is too low for this test";
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    const int fd = Connect(port_);
    ASSERT_GE(fd, 0) << "connection " << i << ": " << std::strerror(errno);
    fds.push_back(fd);
  }
  // Every connection sends a request before any reads its answer.
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(SendAll(fds[static_cast<size_t>(i)], PostRequest(port_, testing::OtlpJson(OneSpan(i)))));
  }
  int ok = 0;
  for (int fd : fds) {
    ok += ReadResponse(fd).starts_with("HTTP/1.1 200");
    close(fd);
  }
  EXPECT_EQ(ok, n);
  viewer_->store().Flush();
  EXPECT_EQ(viewer_->store().Stats().spans, static_cast<uint64_t>(n) + 4);
  ExpectStillServingAndNothingLost();
}

TEST_F(ViewerFaultsTest, MalformedRequestsAreRefusedAndLoseNothing) {
  for (const std::string& request :
       {std::string("GARBAGE\r\n\r\n"), std::string("POST /v1/traces HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
        PostRequest(port_, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"zz\"}]}]}]}")}) {
    const int fd = Connect(port_);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, request));
    EXPECT_THAT(ReadResponse(fd), StartsWith("HTTP/1.1 400")) << request;
    close(fd);
  }
  ExpectStillServingAndNothingLost();
}

}  // namespace
}  // namespace otlp::view
