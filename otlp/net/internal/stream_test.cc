// The stream layer on its own: the line and exact readers against a peer the test drives byte
// by byte, the connect deadline against a listener whose accept queue is full, TLS with SNI and
// ALPN against the project's HTTP server and against a stream on the server side, and Beast's
// HTTP and WebSocket running directly on the stream.
#include "otlp/net/internal/stream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "otlp/net/http_server.h"
#include "otlp/net/internal/runtime_impl.h"
#include "otlp/net/runtime.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace otlp::net::internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr auto kWait = std::chrono::seconds(20);

template <typename T>
T Wait(const std::shared_ptr<std::promise<T>>& promise) {
  auto future = promise->get_future();
  if (future.wait_for(kWait) != std::future_status::ready) {
    ADD_FAILURE() << "timed out waiting for the I/O thread";
    return T{};
  }
  return future.get();
}

// A blocking socket the test drives: the listening side on 127.0.0.1 and one accepted peer.
class Peer {
 public:
  explicit Peer(int backlog = 8) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, backlog) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~Peer() {
    if (fd_ >= 0) ::close(fd_);
    ::close(listen_fd_);
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  uint16_t port() const { return port_; }
  int listen_fd() const { return listen_fd_; }

  bool Accept() {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(kWait.count() * 1000)) != 1) return false;
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::accept(listen_fd_, nullptr, nullptr);
    if (fd_ < 0) return false;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return true;
  }
  void Send(std::string_view bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  void Close() {
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int listen_fd_ = -1;
  int fd_ = -1;
  uint16_t port_ = 0;
};

struct ReadResult {
  error_code ec;
  std::string data;
};

class StreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir("otlp-stream-test-");
    ASSERT_TRUE(dir_->ok()) << dir_->error();
    ASSERT_OK_AND_ASSIGN(auto pki, test::GenerateTestPki(dir_->path()));
    pki_ = new test::TestPki(pki);
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  asio::io_context& ioc() { return IoContext(*runtime_); }

  std::shared_ptr<Stream> NewClient(std::shared_ptr<const TlsContext> tls = nullptr) {
    return std::make_shared<Stream>(asio::make_strand(ioc()), std::move(tls));
  }

  std::shared_ptr<const TlsContext> ClientTls(std::vector<std::string> alpn) {
    auto tls = TlsContext::Client({.ca_file = pki_->ca_cert_file, .alpn_protocols = alpn});
    EXPECT_OK(tls);
    return tls.ok() ? *tls : nullptr;
  }

  // Runs `start` on the stream's executor; it calls the callback it is given once.
  template <typename T>
  T Run(const std::shared_ptr<Stream>& stream, std::function<void(std::function<void(T)>)> start) {
    auto promise = std::make_shared<std::promise<T>>();
    asio::post(stream->get_executor(), [stream, promise, start = std::move(start)] {
      start([stream, promise](T value) { promise->set_value(std::move(value)); });
    });
    return Wait(promise);
  }

  error_code Connect(const std::shared_ptr<Stream>& stream, std::string host, uint16_t port,
                     Clock::time_point deadline = Clock::time_point::max()) {
    return Run<error_code>(stream, [stream, host, port, deadline](auto done) {
      stream->AsyncConnect(host, port, deadline, [done](const error_code& ec) { done(ec); });
    });
  }

  ReadResult ReadLine(const std::shared_ptr<Stream>& stream, size_t max_length) {
    return Run<ReadResult>(stream, [stream, max_length](auto done) {
      stream->AsyncReadLine(max_length, [done](const error_code& ec, std::string_view line) {
        done({ec, std::string(line)});
      });
    });
  }

  ReadResult ReadExactly(const std::shared_ptr<Stream>& stream, size_t n) {
    return Run<ReadResult>(stream, [stream, n](auto done) {
      stream->AsyncReadExactly(n, [done](const error_code& ec, std::string_view data) {
        done({ec, std::string(data)});
      });
    });
  }

  error_code WriteAll(const std::shared_ptr<Stream>& stream, std::string bytes) {
    auto data = std::make_shared<std::string>(std::move(bytes));
    return Run<error_code>(stream, [stream, data](auto done) {
      stream->AsyncWriteAll(asio::buffer(*data),
                            [done, data](const error_code& ec, size_t) { done(ec); });
    });
  }

  // Starts a line read now and returns its future result, so the test can feed the peer.
  std::shared_ptr<std::promise<ReadResult>> StartReadLine(const std::shared_ptr<Stream>& stream,
                                                          size_t max_length) {
    auto promise = std::make_shared<std::promise<ReadResult>>();
    asio::post(stream->get_executor(), [stream, promise, max_length] {
      stream->AsyncReadLine(max_length,
                            [stream, promise](const error_code& ec, std::string_view line) {
                              promise->set_value({ec, std::string(line)});
                            });
    });
    return promise;
  }

  // Waits until the stream has buffered `n` bytes (polled on its executor).
  bool WaitBuffered(const std::shared_ptr<Stream>& stream, size_t n) {
    const auto deadline = Clock::now() + kWait;
    while (Clock::now() < deadline) {
      auto promise = std::make_shared<std::promise<size_t>>();
      asio::post(stream->get_executor(),
                 [stream, promise] { promise->set_value(stream->buffered_bytes()); });
      if (Wait(promise) == n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }

  Status ErrorStatus(const std::shared_ptr<Stream>& stream, error_code ec, std::string peer) {
    return Run<Status>(stream,
                       [stream, ec, peer](auto done) { done(stream->ErrorStatus(ec, peer)); });
  }

  void Close(const std::shared_ptr<Stream>& stream) {
    Run<bool>(stream, [stream](auto done) {
      stream->Close();
      done(true);
    });
  }

  static test::TempDir* dir_;
  static test::TestPki* pki_;
  std::shared_ptr<Runtime> runtime_ = Runtime::Create();
};

test::TempDir* StreamTest::dir_ = nullptr;
test::TestPki* StreamTest::pki_ = nullptr;

TEST_F(StreamTest, LinesSplitAcrossReadsAreJoined) {
  Peer peer;
  auto stream = NewClient();
  ASSERT_FALSE(Connect(stream, "127.0.0.1", peer.port()));
  ASSERT_TRUE(peer.Accept());

  auto first = StartReadLine(stream, 64);
  peer.Send("HEL");
  ASSERT_TRUE(WaitBuffered(stream, 3));  // one read got "HEL" and found no CRLF
  peer.Send("LO wor\r");
  ASSERT_TRUE(WaitBuffered(stream, 10));  // the CR arrived without its LF
  peer.Send("\nPING\r\n\r\n+OK");
  ReadResult hello = Wait(first);
  ASSERT_FALSE(hello.ec) << hello.ec.message();
  EXPECT_EQ(hello.data, "HELLO wor");
  EXPECT_EQ(ReadLine(stream, 64).data, "PING");  // from the buffer, no read
  ReadResult empty = ReadLine(stream, 64);
  EXPECT_FALSE(empty.ec);
  EXPECT_EQ(empty.data, "");
  peer.Send("\r\n");
  EXPECT_EQ(ReadLine(stream, 64).data, "+OK");
  Close(stream);
}

TEST_F(StreamTest, ReadExactlyMixesWithLines) {
  Peer peer;
  auto stream = NewClient();
  ASSERT_FALSE(Connect(stream, "127.0.0.1", peer.port()));
  ASSERT_TRUE(peer.Accept());
  peer.Send("MSG greet 1 11\r\nhello");
  EXPECT_EQ(ReadLine(stream, 1024).data, "MSG greet 1 11");
  auto payload = std::make_shared<std::promise<ReadResult>>();
  asio::post(stream->get_executor(), [stream, payload] {
    stream->AsyncReadExactly(13, [stream, payload](const error_code& ec, std::string_view data) {
      payload->set_value({ec, std::string(data)});
    });
  });
  ASSERT_TRUE(WaitBuffered(stream, 5));
  peer.Send(" world\r\nPONG\r\n");
  ReadResult body = Wait(payload);
  ASSERT_FALSE(body.ec) << body.ec.message();
  EXPECT_EQ(body.data, "hello world\r\n");
  EXPECT_EQ(ReadLine(stream, 1024).data, "PONG");
  Close(stream);
}

TEST_F(StreamTest, OverlongLineIsAClearError) {
  Peer peer;
  auto stream = NewClient();
  ASSERT_FALSE(Connect(stream, "127.0.0.1", peer.port()));
  ASSERT_TRUE(peer.Accept());
  peer.Send("12345\r\n");
  EXPECT_EQ(ReadLine(stream, 5).data, "12345");  // exactly the limit is fine
  peer.Send("123456\r\n");
  ReadResult too_long = ReadLine(stream, 5);
  EXPECT_EQ(too_long.ec, StreamError::kLineTooLong);
  EXPECT_THAT(ErrorStatus(stream, too_long.ec, "peer:1"),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("exceeds the length limit")));
  Close(stream);

  // A line that never ends fails once the limit is passed, without waiting for a CRLF.
  auto endless = NewClient();
  ASSERT_FALSE(Connect(endless, "127.0.0.1", peer.port()));
  ASSERT_TRUE(peer.Accept());
  peer.Send(std::string(100, 'x'));
  EXPECT_EQ(ReadLine(endless, 50).ec, StreamError::kLineTooLong);
  Close(endless);
}

TEST_F(StreamTest, EndOfStreamInsideALineOrBetweenLines) {
  Peer peer;
  auto stream = NewClient();
  ASSERT_FALSE(Connect(stream, "127.0.0.1", peer.port()));
  ASSERT_TRUE(peer.Accept());
  peer.Send("DONE\r\nPART");
  peer.Close();
  EXPECT_EQ(ReadLine(stream, 64).data, "DONE");
  ReadResult partial = ReadLine(stream, 64);
  EXPECT_EQ(partial.ec, StreamError::kEndOfStreamInLine);
  EXPECT_THAT(ErrorStatus(stream, partial.ec, "peer:1"),
              StatusIs(StatusCode::kUnavailable, HasSubstr("middle of a line")));

  auto clean = NewClient();
  ASSERT_FALSE(Connect(clean, "127.0.0.1", peer.port()));
  ASSERT_TRUE(peer.Accept());
  peer.Send("LAST\r\n");
  peer.Close();
  EXPECT_EQ(ReadLine(clean, 64).data, "LAST");
  EXPECT_EQ(ReadLine(clean, 64).ec, asio::error::eof);

  auto short_data = NewClient();
  ASSERT_FALSE(Connect(short_data, "127.0.0.1", peer.port()));
  ASSERT_TRUE(peer.Accept());
  peer.Send("abc");
  peer.Close();
  EXPECT_EQ(ReadExactly(short_data, 10).ec, StreamError::kEndOfStreamInData);
}

TEST_F(StreamTest, ConnectDeadlineAgainstAFullAcceptQueue) {
  // A listener that never accepts, its queue filled: the kernel drops further SYNs, so a
  // connect neither succeeds nor is refused.
  Peer blackhole(/*backlog=*/0);
  std::vector<int> fillers;
  for (int i = 0; i < 8; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(blackhole.port());
    ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fillers.push_back(fd);
  }
  auto stream = NewClient();
  const error_code ec =
      Connect(stream, "127.0.0.1", blackhole.port(), Clock::now() + std::chrono::milliseconds(300));
  EXPECT_EQ(ec, beast::error::timeout);
  EXPECT_EQ(stream->phase(), Stream::Phase::kConnect);
  EXPECT_THAT(ErrorStatus(stream, ec, "127.0.0.1:" + std::to_string(blackhole.port())),
              StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("connect to 127.0.0.1")));
  for (int fd : fillers) ::close(fd);
}

TEST_F(StreamTest, RefusedAndUnresolvableAreClearErrors) {
  uint16_t closed_port = 0;
  {
    Peer gone;
    closed_port = gone.port();
  }
  auto refused = NewClient();
  const error_code ec = Connect(refused, "127.0.0.1", closed_port);
  EXPECT_EQ(ec, asio::error::connection_refused);
  EXPECT_THAT(ErrorStatus(refused, ec, "127.0.0.1:" + std::to_string(closed_port)),
              StatusIs(StatusCode::kUnavailable, HasSubstr("connection refused by 127.0.0.1")));

  auto unknown = NewClient();
  const error_code dns =
      Connect(unknown, "no-such-host.invalid", 80, Clock::now() + std::chrono::seconds(10));
  ASSERT_TRUE(dns);
  // A resolver without a network may only time out.
  EXPECT_THAT(ErrorStatus(unknown, dns, "no-such-host.invalid:80").message(),
              AnyOf(HasSubstr("cannot resolve host 'no-such-host.invalid'"),
                    HasSubstr("resolving 'no-such-host.invalid' timed out")));
}

TEST_F(StreamTest, TlsWithSniAndAlpnAgainstTheHttpServer) {
  ASSERT_OK_AND_ASSIGN(
      auto server,
      HttpServer::Start(runtime_,
                        {.tls = ServerTlsOptions{.certificate_file = pki_->server_cert_file,
                                                 .key_file = pki_->server_key_file},
                         .enable_http2 = false},
                        [](const ServerRequest& req, ServerResponse& res) {
                          res.body = "sni=" + req.tls_session.server_name +
                                     " alpn=" + req.tls_session.alpn_protocol;
                        }));
  auto stream = NewClient(ClientTls({"h2", "http/1.1"}));
  // "localhost": a DNS name, so it is sent as SNI (an IP address never is).
  const error_code ec = Connect(stream, "localhost", server->port());
  ASSERT_FALSE(ec) << ErrorStatus(stream, ec, "localhost").ToString();
  const TlsSessionInfo session =
      Run<TlsSessionInfo>(stream, [stream](auto done) { done(stream->tls_session()); });
  EXPECT_EQ(session.alpn_protocol, "http/1.1");  // HTTP/2 is off on this server
  EXPECT_EQ(session.server_name, "localhost");
  EXPECT_THAT(session.version, StartsWith("TLSv1."));
  EXPECT_FALSE(session.cipher.empty());

  ASSERT_FALSE(WriteAll(stream, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(ReadLine(stream, 1024).data, "HTTP/1.1 200 OK");
  size_t content_length = 0;
  for (;;) {
    ReadResult header = ReadLine(stream, 1024);
    ASSERT_FALSE(header.ec) << header.ec.message();
    if (header.data.empty()) break;
    if (header.data.rfind("Content-Length: ", 0) == 0) {
      content_length = std::stoul(header.data.substr(16));
    }
  }
  EXPECT_EQ(ReadExactly(stream, content_length).data, "sni=localhost alpn=http/1.1");
  Close(stream);
}

// A server-side stream on an acceptor of the test.
class StreamServer {
 public:
  StreamServer(asio::io_context& ioc, std::shared_ptr<const TlsContext> tls)
      : acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        tls_(std::move(tls)) {}
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  // Accepts one connection and runs the server handshake; `done` gets the stream and result.
  void AcceptOne(std::function<void(std::shared_ptr<Stream>, error_code)> done) {
    acceptor_.async_accept(asio::make_strand(acceptor_.get_executor()),
                           [this, done](const error_code& ec, tcp::socket socket) {
                             if (ec) return done(nullptr, ec);
                             auto stream = std::make_shared<Stream>(std::move(socket), tls_);
                             stream->AsyncAccept(
                                 Clock::now() + kWait,
                                 [stream, done](const error_code& e) { done(stream, e); });
                           });
  }

 private:
  tcp::acceptor acceptor_;
  std::shared_ptr<const TlsContext> tls_;
};

TEST_F(StreamTest, AlpnChoosesTheServersPreferenceOrRefusesTheHandshake) {
  ASSERT_OK_AND_ASSIGN(auto server_tls,
                       TlsContext::Server({.certificate_file = pki_->server_cert_file,
                                           .key_file = pki_->server_key_file,
                                           .alpn_protocols = {"h2", "http/1.1"}}));
  StreamServer server(ioc(), server_tls);

  auto accepted = std::make_shared<std::promise<std::string>>();
  server.AcceptOne([accepted](std::shared_ptr<Stream> stream, error_code ec) {
    accepted->set_value(ec ? "error: " + ec.message() : stream->tls_session().alpn_protocol);
    if (stream) stream->Close();
  });
  auto h2 = NewClient(ClientTls({"http/1.1", "h2"}));  // the server's order wins
  ASSERT_FALSE(Connect(h2, "localhost", server.port()));
  EXPECT_EQ(Run<TlsSessionInfo>(h2, [h2](auto done) { done(h2->tls_session()); }).alpn_protocol,
            "h2");
  EXPECT_EQ(Wait(accepted), "h2");
  Close(h2);

  auto refused = std::make_shared<std::promise<bool>>();
  server.AcceptOne([refused](std::shared_ptr<Stream> stream, error_code ec) {
    refused->set_value(static_cast<bool>(ec));
    if (stream) stream->Close();
  });
  auto stranger = NewClient(ClientTls({"imap"}));
  const error_code ec = Connect(stranger, "localhost", server.port());
  ASSERT_TRUE(ec);
  EXPECT_EQ(stranger->phase(), Stream::Phase::kHandshake);
  EXPECT_THAT(ErrorStatus(stranger, ec, "localhost"),
              StatusIs(StatusCode::kUnavailable, HasSubstr("TLS handshake with localhost")));
  EXPECT_TRUE(Wait(refused));

  // A client that offers no ALPN is served, and learns no protocol.
  server.AcceptOne([](std::shared_ptr<Stream> stream, error_code) {
    if (stream) stream->Close();
  });
  auto plain_alpn = NewClient(ClientTls({}));
  ASSERT_FALSE(Connect(plain_alpn, "localhost", server.port()));
  EXPECT_EQ(
      Run<TlsSessionInfo>(plain_alpn, [plain_alpn](auto done) { done(plain_alpn->tls_session()); })
          .alpn_protocol,
      "");
  Close(plain_alpn);

  EXPECT_THAT(TlsContext::Client({.alpn_protocols = {std::string(256, 'p')}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("1 to 255 bytes")));
  EXPECT_THAT(TlsContext::Server({.certificate_file = pki_->server_cert_file,
                                  .key_file = pki_->server_key_file,
                                  .alpn_protocols = {""}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("ALPN")));
}

// Beast's HTTP and WebSocket code runs on the stream as on any Asio stream, plain or TLS.
class StreamProtocolTest : public StreamTest, public ::testing::WithParamInterface<bool> {};

TEST_P(StreamProtocolTest, BeastWebSocketEchoesOverTheStream) {
  const bool tls = GetParam();
  std::shared_ptr<const TlsContext> server_tls;
  if (tls) {
    ASSERT_OK_AND_ASSIGN(server_tls, TlsContext::Server({.certificate_file = pki_->server_cert_file,
                                                         .key_file = pki_->server_key_file}));
  }
  StreamServer server(ioc(), server_tls);
  // The server: accept the upgrade, echo one message, then wait for the client's close.
  auto server_done = std::make_shared<std::promise<std::string>>();
  server.AcceptOne([server_done](std::shared_ptr<Stream> stream, error_code ec) {
    if (ec) return server_done->set_value("accept: " + ec.message());
    auto ws = std::make_shared<websocket::stream<Stream&>>(*stream);
    auto buffer = std::make_shared<beast::flat_buffer>();
    ws->async_accept([stream, ws, buffer, server_done](const error_code& e) {
      if (e) return server_done->set_value("upgrade: " + e.message());
      ws->async_read(*buffer, [stream, ws, buffer, server_done](const error_code& e2, size_t) {
        if (e2) return server_done->set_value("read: " + e2.message());
        ws->text(ws->got_text());
        ws->async_write(buffer->data(), [stream, ws, buffer, server_done](const error_code& e3,
                                                                          size_t) {
          if (e3) return server_done->set_value("write: " + e3.message());
          buffer->consume(buffer->size());
          ws->async_read(*buffer, [stream, ws, buffer, server_done](const error_code& e4, size_t) {
            server_done->set_value(e4 == websocket::error::closed ? "closed" : e4.message());
          });
        });
      });
    });
  });

  auto client = NewClient(tls ? ClientTls({}) : nullptr);
  ASSERT_FALSE(Connect(client, "localhost", server.port()));
  auto ws = std::make_shared<websocket::stream<Stream&>>(*client);
  const std::string echoed = Run<std::string>(client, [client, ws](auto done) {
    ws->async_handshake("localhost", "/echo", [client, ws, done](const error_code& ec) {
      if (ec) return done("handshake: " + ec.message());
      auto text = std::make_shared<std::string>("hello over the stream");
      ws->async_write(asio::buffer(*text), [client, ws, text, done](const error_code& e, size_t) {
        if (e) return done("write: " + e.message());
        auto buffer = std::make_shared<beast::flat_buffer>();
        ws->async_read(*buffer, [client, ws, buffer, done](const error_code& e2, size_t) {
          if (e2) return done("read: " + e2.message());
          std::string got = beast::buffers_to_string(buffer->data());
          ws->async_close(websocket::close_code::normal,
                          [client, ws, got, done](const error_code& e3) {
                            done(e3 ? "close: " + e3.message() : got);
                          });
        });
      });
    });
  });
  EXPECT_EQ(echoed, "hello over the stream");
  EXPECT_EQ(Wait(server_done), "closed");
}

TEST_P(StreamProtocolTest, BeastHttpRunsOverTheStream) {
  const bool tls = GetParam();
  std::optional<ServerTlsOptions> options;
  if (tls) {
    options = ServerTlsOptions{.certificate_file = pki_->server_cert_file,
                               .key_file = pki_->server_key_file};
  }
  ASSERT_OK_AND_ASSIGN(auto server,
                       HttpServer::Start(runtime_, {.tls = options},
                                         [](const ServerRequest& req, ServerResponse& res) {
                                           res.body = req.method + " " + req.target;
                                         }));
  auto client = NewClient(tls ? ClientTls({"http/1.1"}) : nullptr);
  ASSERT_FALSE(Connect(client, "127.0.0.1", server->port()));
  auto request = std::make_shared<http::request<http::string_body>>(http::verb::post, "/x", 11);
  request->set(http::field::host, "127.0.0.1");
  request->body() = "payload";
  request->prepare_payload();
  auto response = std::make_shared<http::response<http::string_body>>();
  const std::string body = Run<std::string>(client, [client, request, response](auto done) {
    http::async_write(*client, *request,
                      [client, request, response, done](const error_code& ec, size_t) {
                        if (ec) return done("write: " + ec.message());
                        http::async_read(*client, client->buffer(), *response,
                                         [client, response, done](const error_code& e, size_t) {
                                           done(e ? "read: " + e.message() : response->body());
                                         });
                      });
  });
  EXPECT_EQ(body, "POST /x");
  Close(client);
}

INSTANTIATE_TEST_SUITE_P(PlainAndTls, StreamProtocolTest, ::testing::Bool(),
                         [](const auto& test_param) { return test_param.param ? "Tls" : "Plain"; });

}  // namespace
}  // namespace otlp::net::internal
