#include "otlp/net/internal/stream.h"

#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <string>

namespace otlp::net::internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// How much a line or data read asks the socket for at a time (the buffer grows as needed).
constexpr size_t kReadChunk = 16 * 1024;

// boost::system::error_category has a protected non-virtual destructor by design.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class StreamErrorCategoryImpl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "otlp.stream"; }
  std::string message(int value) const override {
    switch (static_cast<StreamError>(value)) {
      case StreamError::kLineTooLong: return "line exceeds the length limit";
      case StreamError::kEndOfStreamInLine: return "connection closed in the middle of a line";
      case StreamError::kEndOfStreamInData:
        return "connection closed before all the expected bytes arrived";
      case StreamError::kTlsSetup: return "TLS setup failed";
    }
    return "unknown stream error";
  }
};
#pragma GCC diagnostic pop

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  const std::string address = endpoint.address().to_string();
  if (endpoint.address().is_v6()) return "[" + address + "]:" + std::to_string(endpoint.port());
  return address + ":" + std::to_string(endpoint.port());
}

bool IsEndOfStream(const error_code& ec) {
  return ec == asio::error::eof || ec == ssl::error::stream_truncated;
}

}  // namespace

const boost::system::error_category& StreamErrorCategory() noexcept {
  static const StreamErrorCategoryImpl category;
  return category;
}

Stream::Stream(executor_type executor, std::shared_ptr<const TlsContext> tls)
    : tls_context_(std::move(tls)) {
  if (tls_context_) {
    tls_.emplace(std::move(executor), tls_context_->ForNewConnection());
  } else {
    plain_.emplace(std::move(executor));
  }
  buffer_.reserve(kReadBufferBytes);
}

Stream::Stream(tcp::socket socket, std::shared_ptr<const TlsContext> tls)
    : tls_context_(std::move(tls)) {
  if (tls_context_) {
    tls_.emplace(std::move(socket), tls_context_->ForNewConnection());
  } else {
    plain_.emplace(std::move(socket));
  }
  buffer_.reserve(kReadBufferBytes);
  phase_ = tls_ ? Phase::kHandshake : Phase::kOpen;
}

Stream::~Stream() = default;

bool Stream::is_open() const noexcept {
  return !closed_ && tcp().socket().is_open();
}

void Stream::AsyncConnect(std::string host, uint16_t port, Clock::time_point deadline,
                          Handler done) {
  StartConnect(std::move(host), port, deadline, std::move(done), /*handshake=*/true);
}

void Stream::AsyncConnectTcp(std::string host, uint16_t port, Clock::time_point deadline,
                             Handler done) {
  StartConnect(std::move(host), port, deadline, std::move(done), /*handshake=*/false);
}

void Stream::StartConnect(std::string host, uint16_t port, Clock::time_point deadline, Handler done,
                          bool handshake) {
  host_ = std::move(host);
  phase_ = Phase::kResolve;
  handshake_after_connect_ = handshake;
  timings_ = {};
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(host_, ec);
  if (!ec) {
    Connect({tcp::endpoint(address, port)}, deadline, std::move(done));
    return;
  }
  Resolve(port, deadline, std::move(done));
}

void Stream::AsyncHandshake(std::string server_host, Clock::time_point deadline, Handler done) {
  if (!tls_ || closed_) {
    const error_code ec = closed_ ? error_code(asio::error::operation_aborted) : error_code();
    asio::post(get_executor(), [done = std::move(done), ec] { done(ec); });
    return;
  }
  host_ = std::move(server_host);
  Handshake(deadline, std::move(done));
}

void Stream::Resolve(uint16_t port, Clock::time_point deadline, Handler done) {
  if (!resolver_) resolver_.emplace(get_executor());
  resolve_timed_out_ = false;
  if (deadline != Clock::time_point::max()) {
    if (!resolve_timer_) resolve_timer_.emplace(get_executor());
    resolve_timer_->expires_at(deadline);
    resolve_timer_->async_wait([this](const error_code& e) {
      if (e) return;
      resolve_timed_out_ = true;
      resolver_->cancel();
    });
  }
  const Clock::time_point start = Clock::now();
  resolver_->async_resolve(host_, std::to_string(port),
                           [this, deadline, start, done = std::move(done)](
                               const error_code& e, const tcp::resolver::results_type& results) {
                             timings_.resolve = Clock::now() - start;
                             if (resolve_timer_) resolve_timer_->cancel();
                             if (closed_) return done(asio::error::operation_aborted);
                             if (resolve_timed_out_) return done(beast::error::timeout);
                             if (e) return done(e);
                             std::vector<tcp::endpoint> endpoints;
                             endpoints.reserve(results.size());
                             for (const auto& entry : results)
                               endpoints.push_back(entry.endpoint());
                             Connect(std::move(endpoints), deadline, std::move(done));
                           });
}

void Stream::Connect(std::vector<tcp::endpoint> endpoints, Clock::time_point deadline,
                     Handler done) {
  if (closed_) {
    asio::post(get_executor(), [done = std::move(done)] { done(asio::error::operation_aborted); });
    return;
  }
  phase_ = Phase::kConnect;
  ExpiresAt(deadline);
  // The endpoints live in the handler until the connect completes.
  auto list = std::make_shared<std::vector<tcp::endpoint>>(std::move(endpoints));
  const Clock::time_point start = Clock::now();
  tcp().async_connect(*list, [this, list, deadline, start, done = std::move(done)](
                                 const error_code& ec, const tcp::endpoint&) mutable {
    timings_.connect = Clock::now() - start;
    if (ec) return done(ec);
    error_code ignored;
    tcp().socket().set_option(tcp::no_delay(true), ignored);
    if (!tls_ || !handshake_after_connect_) {
      phase_ = Phase::kOpen;
      ExpiresNever();
      return done(ec);
    }
    Handshake(deadline, std::move(done));
  });
}

void Stream::Handshake(Clock::time_point deadline, Handler done) {
  phase_ = Phase::kHandshake;
  setup_error_ = PrepareClientSsl(tls_->native_handle(), tls_context_->client_options(), host_);
  if (!setup_error_.ok()) {
    asio::post(get_executor(), [done = std::move(done)] { done(StreamError::kTlsSetup); });
    return;
  }
  ExpiresAt(deadline);
  const Clock::time_point start = Clock::now();
  tls_->async_handshake(ssl::stream_base::client,
                        [this, start, done = std::move(done)](const error_code& ec) {
                          timings_.handshake = Clock::now() - start;
                          if (!ec) {
                            phase_ = Phase::kOpen;
                            ExpiresNever();
                          }
                          done(ec);
                        });
}

void Stream::AsyncAccept(Clock::time_point deadline, Handler done) {
  if (!tls_) {
    asio::post(get_executor(), [done = std::move(done)] { done(error_code()); });
    return;
  }
  phase_ = Phase::kHandshake;
  ExpiresAt(deadline);
  tls_->async_handshake(ssl::stream_base::server,
                        [this, done = std::move(done)](const error_code& ec) {
                          if (!ec) {
                            phase_ = Phase::kOpen;
                            ExpiresNever();
                          }
                          done(ec);
                        });
}

TlsSessionInfo Stream::tls_session() {
  return tls_ ? SessionInfo(tls_->native_handle()) : TlsSessionInfo{};
}

void Stream::ExpiresAt(Clock::time_point when) {
  if (when == Clock::time_point::max()) {
    tcp().expires_never();
  } else {
    tcp().expires_at(when);
  }
}

void Stream::ExpiresNever() {
  tcp().expires_never();
}

void Stream::ReadMore(std::function<void(const error_code&)> then) {
  auto space = buffer_.prepare(std::max(kReadChunk, buffer_.capacity() - buffer_.size()));
  async_read_some(space, [this, then = std::move(then)](const error_code& ec, size_t n) {
    buffer_.commit(n);
    then(ec);
  });
}

void Stream::AsyncReadLine(size_t max_length, DataHandler done) {
  ConsumeDelivered();
  line_scan_ = 0;
  ContinueLine(max_length, std::move(done), /*in_completion=*/false);
}

// `in_completion`: called from a read's completion, where `done` may run directly; otherwise
// it is posted, so that it never runs inside the initiating call.
void Stream::ContinueLine(size_t max_length, DataHandler done, bool in_completion) {
  const std::string_view data = View(buffer_.size());
  // Resume the search one byte early: the CR may have arrived at the end of the last read.
  const size_t from = line_scan_ == 0 ? 0 : line_scan_ - 1;
  const size_t crlf = data.find("\r\n", from);
  if (crlf != std::string_view::npos) {
    if (crlf > max_length)
      return Complete(std::move(done), StreamError::kLineTooLong, 0, in_completion);
    delivered_ = crlf + 2;
    line_scan_ = 0;
    return Complete(std::move(done), {}, crlf, in_completion);
  }
  line_scan_ = data.size();
  // Still a valid line if the next bytes are CRLF (or just LF after a buffered CR).
  if (data.size() > max_length + 1) {
    return Complete(std::move(done), StreamError::kLineTooLong, 0, in_completion);
  }
  ReadMore([this, max_length, done = std::move(done)](const error_code& ec) mutable {
    if (ec) {
      if (IsEndOfStream(ec) && buffer_.size() > 0) return done(StreamError::kEndOfStreamInLine, {});
      return done(ec, {});
    }
    ContinueLine(max_length, std::move(done), /*in_completion=*/true);
  });
}

void Stream::Complete(DataHandler done, error_code ec, size_t length, bool in_completion) {
  if (in_completion) {
    done(ec, ec ? std::string_view() : View(length));
    return;
  }
  asio::post(get_executor(), [this, done = std::move(done), ec, length] {
    done(ec, ec ? std::string_view() : View(length));
  });
}

void Stream::AsyncReadExactly(size_t n, DataHandler done) {
  ConsumeDelivered();
  ContinueExactly(n, std::move(done), /*in_completion=*/false);
}

void Stream::ContinueExactly(size_t n, DataHandler done, bool in_completion) {
  if (buffer_.size() >= n) {
    delivered_ = n;
    return Complete(std::move(done), {}, n, in_completion);
  }
  ReadMore([this, n, done = std::move(done)](const error_code& ec) mutable {
    if (ec) {
      if (IsEndOfStream(ec)) return done(StreamError::kEndOfStreamInData, {});
      return done(ec, {});
    }
    ContinueExactly(n, std::move(done), /*in_completion=*/true);
  });
}

bool Stream::IsReusable(bool peek) {
  ConsumeDelivered();
  if (phase_ != Phase::kOpen || buffer_.size() != 0) return false;
  if (tls_ && SSL_pending(tls_->native_handle()) > 0) return false;
  auto& socket = tcp().socket();
  if (!socket.is_open()) return false;
  if (!peek) return true;
  char byte = 0;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void Stream::ShutdownSend() noexcept {
  error_code ignored;
  tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
}

void Stream::Close() noexcept {
  closed_ = true;
  if (resolver_) resolver_->cancel();
  if (resolve_timer_) resolve_timer_->cancel();
  tcp().close();
}

std::string Stream::RemoteAddress() const {
  error_code ec;
  const tcp::endpoint remote = tcp().socket().remote_endpoint(ec);
  return ec ? std::string() : FormatEndpoint(remote);
}

Status Stream::ErrorStatus(const error_code& ec, std::string_view peer) {
  const std::string who(peer);
  if (ec == beast::error::timeout) {
    switch (phase_) {
      case Phase::kResolve: return DeadlineExceededError("resolving '" + host_ + "' timed out");
      case Phase::kConnect: return DeadlineExceededError("connect to " + who + " timed out");
      case Phase::kHandshake:
        return DeadlineExceededError("TLS handshake with " + who + " timed out");
      default: return DeadlineExceededError("I/O with " + who + " timed out");
    }
  }
  if (ec == StreamError::kTlsSetup) return setup_error_;
  if (ec == asio::error::operation_aborted) {
    return {StatusCode::kCancelled, "connection to " + who + " closed while in use"};
  }
  if (ec == asio::error::connection_refused) {
    return UnavailableError("connection refused by " + who);
  }
  if (ec.category() == asio::error::get_netdb_category() ||
      ec.category() == asio::error::get_addrinfo_category()) {
    return UnavailableError("cannot resolve host '" + host_ + "': " + ec.message());
  }
  if (phase_ == Phase::kHandshake && tls_) {
    return ClientHandshakeError(tls_->native_handle(), ec, who);
  }
  if (ec == StreamError::kLineTooLong) {
    return {StatusCode::kResourceExhausted, "a line from " + who + " exceeds the length limit"};
  }
  if (ec.category() == StreamErrorCategory()) {
    return UnavailableError(ec.message() + " (" + who + ")");
  }
  if (ec == asio::error::eof) return UnavailableError("connection closed by " + who);
  if (ec == ssl::error::stream_truncated) {
    return UnavailableError("TLS connection closed by " + who + " without close_notify");
  }
  if (IsSslError(ec)) {
    return {StatusCode::kUnavailable, "TLS error with " + who + ": " + ec.message(), false};
  }
  return UnavailableError(ec.message() + " (" + who + ")");
}

void teardown(beast::role_type role, Stream& stream, error_code& ec) {
  using boost::beast::websocket::teardown;
  if (stream.tls_) {
    teardown(role, *stream.tls_, ec);
  } else {
    teardown(role, *stream.plain_, ec);
  }
}

}  // namespace otlp::net::internal
