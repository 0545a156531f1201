// The NATS client against a fake server that breaks the protocol: garbage instead of INFO,
// garbage after the handshake, operations split into single bytes, an endless control line, a
// payload whose size lies, no PONG, an authorization -ERR, a server that stops answering PINGs.
// Each is a clear error (or is handled), never a crash or a hang.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>

#include "otlp/nats/connection.h"
#include "tests/support/raw_tcp_server.h"

namespace otlp::nats {
namespace {

using namespace std::chrono_literals;
using test::RawTcpServer;

constexpr char kInfo[] =
    "INFO {\"server_id\":\"FAKE\",\"version\":\"2.9.10\",\"proto\":1,\"headers\":true,"
    "\"max_payload\":1048576,\"client_id\":7}\r\n";

void WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

// Reads until `needle` has arrived (or the peer goes away / the 10 s socket timeout).
bool ReadUntil(int fd, std::string_view needle, std::string* seen = nullptr) {
  std::string buf;
  char chunk[4096];
  while (buf.find(needle) == std::string::npos) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
  }
  if (seen) *seen = buf;
  return true;
}

// INFO, then waits for CONNECT + PING and answers PONG: a connected client.
bool Handshake(int fd) {
  WriteAll(fd, kInfo);
  if (!ReadUntil(fd, "PING\r\n")) return false;
  WriteAll(fd, "PONG\r\n");
  return true;
}

Options FakeOptions(const RawTcpServer& server) {
  Options o;
  o.servers = {"nats://127.0.0.1:" + std::to_string(server.port())};
  o.allow_reconnect = false;
  o.connect_timeout = 2s;
  o.tracing.enabled = false;
  o.tracing.propagate = false;
  return o;
}

std::unique_ptr<RawTcpServer> Serve(RawTcpServer::Behavior behavior) {
  auto server = RawTcpServer::Start(std::move(behavior));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(*server) : nullptr;
}

TEST(NatsFaultsTest, GarbageInsteadOfInfoFailsTheConnect) {
  auto server = Serve([](int fd) { WriteAll(fd, "HTTP/1.1 400 Bad Request\r\n\r\n"); });
  auto c = Connection::Connect(FakeOptions(*server));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("unknown protocol operation"), std::string::npos)
      << c.status().message();
}

TEST(NatsFaultsTest, NoPongMeansAConnectTimeout) {
  auto server = Serve([](int fd) {
    WriteAll(fd, kInfo);
    ReadUntil(fd, "never");  // reads until the client gives up
  });
  auto c = Connection::Connect(FakeOptions(*server));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kDeadlineExceeded) << c.status().ToString();
}

TEST(NatsFaultsTest, AuthorizationViolationDuringTheHandshake) {
  auto server = Serve([](int fd) {
    WriteAll(fd, kInfo);
    ReadUntil(fd, "PING\r\n");
    WriteAll(fd, "-ERR 'Authorization Violation'\r\n");
  });
  auto c = Connection::Connect(FakeOptions(*server));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(ErrorKindOf(c.status()), ErrorKind::kAuthorization);
  EXPECT_EQ(c.status().code(), StatusCode::kUnauthenticated);
}

TEST(NatsFaultsTest, OperationsSplitIntoSingleBytesAreReassembled) {
  auto server = Serve([](int fd) {
    if (!Handshake(fd)) return;
    ReadUntil(fd, "SUB s 1\r\n");
    const std::string block = "NATS/1.0\r\nK: v\r\n\r\n";
    const std::string ops = "PING\r\nMSG s 1 5\r\nhello\r\nHMSG s 1 r " +
                            std::to_string(block.size()) + " " +
                            std::to_string(block.size() + 3) + "\r\n" + block + "abc\r\n";
    for (char c : ops) WriteAll(fd, std::string_view(&c, 1));  // one send per byte
    ReadUntil(fd, "PONG\r\n");  // the client answered our PING
    ReadUntil(fd, "never");
  });
  Options o = FakeOptions(*server);
  auto c = Connection::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto sub = (*c)->SubscribeSync("s");
  ASSERT_TRUE(sub.ok());
  Result<Message> a = (*sub)->NextMsg(10s);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->data(), "hello");
  Result<Message> b = (*sub)->NextMsg(10s);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->data(), "abc");
  EXPECT_EQ(b->reply(), "r");
  EXPECT_EQ(b->header("K"), "v");
  (*c)->Close();
}

// After a good handshake the server sends `bytes`; the connection must close with an error
// whose message contains `expect`, and a subscriber waiting on it must be released.
void ExpectProtocolFailure(const std::string& bytes, const std::string& expect) {
  auto server = Serve([bytes](int fd) {
    if (!Handshake(fd)) return;
    ReadUntil(fd, "SUB w 1\r\n");
    WriteAll(fd, bytes);
    ReadUntil(fd, "never");
  });
  std::promise<void> closed;
  Options o = FakeOptions(*server);
  o.on_closed = [&](Connection&) { closed.set_value(); };
  auto c = Connection::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto sub = (*c)->SubscribeSync("w");
  ASSERT_TRUE(sub.ok());
  Result<Message> m = (*sub)->NextMsg(20s);
  EXPECT_FALSE(m.ok()) << "a message was delivered from: " << bytes.substr(0, 60);
  ASSERT_EQ(closed.get_future().wait_for(20s), std::future_status::ready);
  EXPECT_TRUE((*c)->IsClosed());
  EXPECT_NE((*c)->last_error().message().find(expect), std::string::npos)
      << (*c)->last_error().ToString();
}

TEST(NatsFaultsTest, GarbageAfterTheHandshakeClosesWithAProtocolError) {
  ExpectProtocolFailure("BOGUS STUFF\r\n", "unknown protocol operation");
}

TEST(NatsFaultsTest, AnEndlessControlLineIsRefused) {
  ExpectProtocolFailure("MSG w 1 " + std::string(100000, '9'), "maximum control line");
}

TEST(NatsFaultsTest, APayloadWhoseSizeLiesIsRefused) {
  ExpectProtocolFailure("MSG w 1 3\r\nhello\r\n", "size mismatch");
}

TEST(NatsFaultsTest, AMalformedHeaderBlockIsRefused) {
  ExpectProtocolFailure("HMSG w 1 6 6\r\nHELLO!\r\n", "malformed header block");
}

TEST(NatsFaultsTest, NonJsonInfoIsRefused) {
  ExpectProtocolFailure("INFO {not json\r\n", "INFO");
}

TEST(NatsFaultsTest, AServerErrorThatClosesTheConnection) {
  ExpectProtocolFailure("-ERR 'Slow Consumer'\r\n", "Slow Consumer");
}

TEST(NatsFaultsTest, AStaleConnectionIsDetectedAndReconnected) {
  std::atomic<int> accepted{0};
  auto server = Serve([&](int fd) {
    const int n = ++accepted;
    if (!Handshake(fd)) return;
    if (n == 1) {
      ReadUntil(fd, "never");  // never answers the client's PINGs
    } else {
      // The second connection behaves: answers each PING.
      std::string seen;
      while (ReadUntil(fd, "PING\r\n", &seen)) WriteAll(fd, "PONG\r\n");
    }
  });
  std::promise<Status> disconnected;
  std::promise<void> reconnected;
  Options o = FakeOptions(*server);
  o.allow_reconnect = true;
  o.reconnect_wait = 10ms;
  o.ping_interval = 50ms;
  o.max_pings_outstanding = 2;
  std::atomic<bool> once{false};
  o.on_disconnected = [&](Connection&, const Status& why) {
    if (!once.exchange(true)) disconnected.set_value(why);
  };
  o.on_reconnected = [&](Connection&) { reconnected.set_value(); };
  auto c = Connection::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto f = disconnected.get_future();
  ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
  EXPECT_NE(f.get().message().find("stale connection"), std::string::npos);
  // The first connection is still held by the fake server's single thread until the client
  // closes it; the client did, so the second is accepted.
  EXPECT_EQ(reconnected.get_future().wait_for(20s), std::future_status::ready);
  (*c)->Close();
}

}  // namespace
}  // namespace otlp::nats
