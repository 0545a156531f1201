#include "otlp/net/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <latch>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "otlp/core/internal/ascii.h"
#include "otlp/core/internal/mutex.h"
#include "otlp/core/log.h"
#include "otlp/core/version.h"
#include "otlp/net/internal/h2_server.h"
#include "otlp/net/internal/runtime_impl.h"
#include "otlp/net/internal/stream.h"
#include "otlp/net/internal/tls.h"

namespace otlp::net {

namespace internal {
class ServerResponseAccess {
 public:
  static void SetDeferHook(ServerResponse& response,
                           std::function<std::shared_ptr<Responder>()> hook) {
    response.defer_hook_ = std::move(hook);
  }
  static bool Deferred(const ServerResponse& response) { return response.responder_ != nullptr; }
};
}  // namespace internal

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

// How long a connection closed after an error response keeps draining what the client still
// sends, so the client reads our answer instead of a reset.
constexpr std::chrono::seconds kLingerTimeout{5};
// The largest response header name or value the HTTP/1.1 writer accepts (Beast's limit).
constexpr size_t kMaxResponseField = 65533;

class NullResponder final : public Responder {
 public:
  void SendWithTrailers(int, Headers, std::string, Headers) override {}
  void Close() override {}
};

bool BodyForbidden(int status) { return status < 200 || status == 204 || status == 304; }

// Answers an HTTP/2 stream: the fields of the HTTP/1.1 path (Server added, Content-Length
// computed, framing fields dropped); HEAD, 204 and 304 responses carry no body.
void SendHttp2(const internal::H2Reply& reply, bool head, int status, Headers headers,
               std::string body, Headers trailers) {
  if (status < 100 || status > 999) status = 500;
  internal::H2ServerResponse response{.status = status, .trailers = std::move(trailers)};
  response.headers.reserve(headers.size() + 2);
  bool has_server = false;
  for (auto& [name, value] : headers) {
    if (otlp::internal::EqualsIgnoreCase(name, "content-length") ||
        otlp::internal::EqualsIgnoreCase(name, "transfer-encoding") ||
        otlp::internal::EqualsIgnoreCase(name, "connection")) {
      continue;
    }
    has_server = has_server || otlp::internal::EqualsIgnoreCase(name, "server");
    response.headers.Add(std::move(name), std::move(value));
  }
  if (!has_server) response.headers.Add("server", std::string(kUserAgent));
  if (!BodyForbidden(status)) response.headers.Add("content-length", std::to_string(body.size()));
  if (!head && !BodyForbidden(status)) response.body = std::move(body);
  reply.Send(std::move(response));
}

// A deferred answer to an HTTP/2 stream; H2Reply already makes the first answer count and is
// safe from any thread.
class Http2Responder final : public Responder {
 public:
  Http2Responder(internal::H2Reply reply, bool head) : reply_(std::move(reply)), head_(head) {}
  ~Http2Responder() override {
    if (!used_.exchange(true)) reply_.Reset(NGHTTP2_INTERNAL_ERROR);
  }
  void SendWithTrailers(int status, Headers headers, std::string body,
                        Headers trailers) override {
    if (used_.exchange(true)) return;
    SendHttp2(reply_, head_, status, std::move(headers), std::move(body), std::move(trailers));
  }
  void Close() override {
    if (!used_.exchange(true)) reply_.Reset(NGHTTP2_INTERNAL_ERROR);
  }

 private:
  const internal::H2Reply reply_;
  const bool head_;
  std::atomic<bool> used_{false};
};

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  const std::string address = endpoint.address().to_string();
  if (endpoint.address().is_v6()) return "[" + address + "]:" + std::to_string(endpoint.port());
  return address + ":" + std::to_string(endpoint.port());
}

}  // namespace

std::shared_ptr<Responder> ServerResponse::Defer() {
  if (!responder_) {
    responder_ = defer_hook_ ? defer_hook_() : std::make_shared<NullResponder>();
  }
  return responder_;
}

namespace {
class Session;
}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io, Options opts, Handler h,
       std::shared_ptr<const internal::TlsContext> ctx)
      : ioc(io),
        options(std::move(opts)),
        handler(std::move(h)),
        tls_ctx(std::move(ctx)),
        acceptor_strand(asio::make_strand(io)),
        acceptor(acceptor_strand),
        retry_timer(acceptor_strand) {}

  void Accept();
  void Unregister(Session* session) {
    otlp::internal::MutexLock lock(mu);
    sessions.erase(session);
  }
  std::vector<std::shared_ptr<Session>> Snapshot() {
    otlp::internal::MutexLock lock(mu);
    std::vector<std::shared_ptr<Session>> out;
    out.reserve(sessions.size());
    for (auto& [ptr, session] : sessions) out.push_back(session);
    return out;
  }

  asio::io_context& ioc;
  const Options options;
  const Handler handler;
  const std::shared_ptr<const internal::TlsContext> tls_ctx;
  asio::strand<asio::io_context::executor_type> acceptor_strand;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  uint16_t port = 0;
  std::string host;
  std::atomic<bool> stopped{false};
  otlp::internal::Mutex mu;
  // Sessions are owned here (and by their pending operations) until closed.
  std::unordered_map<Session*, std::shared_ptr<Session>> sessions OTLP_GUARDED_BY(mu);
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> http2_connections{0};
};

namespace {

// One accepted connection; every member function runs on the socket's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<HttpServer::Impl> server, tcp::socket socket)
      : server_(std::move(server)),
        executor_(socket.get_executor()),
        idle_timer_(executor_),
        stream_(std::make_unique<internal::Stream>(std::move(socket), server_->tls_ctx)) {
    remote_ = stream_->RemoteAddress();
  }

  const asio::any_io_executor& executor() const { return executor_; }

  void Start() {
    if (!stream_->is_tls()) {
      return server_->options.enable_http2 ? DetectPreface() : ReadRequest();
    }
    stream_->AsyncAccept(Clock::now() + server_->options.io_timeout,
                         [self = shared_from_this()](const error_code& ec) {
                           if (ec) return self->Close();
                           self->tls_session_ = self->stream_->tls_session();
                           if (self->server_->options.enable_http2 &&
                               self->tls_session_.alpn_protocol == "h2") {
                             return self->StartHttp2();
                           }
                           self->ReadRequest();
                         });
  }

  void Close() {
    if (h2_) return h2_->Close();  // OnHttp2Closed follows
    if (closed_) return;
    closed_ = true;
    awaiting_deferred_ = false;
    stream_->Close();
    server_->Unregister(this);
  }

  // Stop(): HTTP/1.1 closes at once; HTTP/2 sends GOAWAY and closes when the streams in flight
  // are done or shutdown_timeout passed. `done` is counted down when the connection is closed.
  void Stop(std::shared_ptr<std::latch> done) {
    if (!h2_ || closed_) {
      Close();
      done->count_down();
      return;
    }
    stop_done_ = std::move(done);
    h2_->Shutdown();
    idle_timer_.expires_after(server_->options.shutdown_timeout);
    idle_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec && !self->closed_) self->h2_->Close();
    });
  }

  // A connection still writing a response counts as idle: the client may already have the
  // whole response, so it is closed as soon as the write completes. An HTTP/2 connection
  // without open streams gets GOAWAY.
  void CloseIfIdle() {
    if (h2_) {
      if (!closed_ && h2_->active_streams() == 0) h2_->Shutdown();
      return;
    }
    if (idle_ && stream_->buffer().size() == 0 && (!parser_ || !parser_->got_some())) {
      return Close();
    }
    if (writing_) close_after_write_ = true;
  }

  void SendDeferred(int status, Headers headers, std::string body) {
    if (closed_ || !awaiting_deferred_) return;
    awaiting_deferred_ = false;
    WriteResponse(status, std::move(headers), std::move(body), /*linger=*/false);
  }

  void CloseDeferred() {
    if (awaiting_deferred_) Close();
  }

 private:
  // Plain connections: reads until the first bytes are the HTTP/2 client preface (h2c with
  // prior knowledge) or cannot be (HTTP/1.1, parsed from the bytes read so far).
  void DetectPreface() {
    if (closed_ || server_->stopped.load()) return Close();
    auto& buffer = stream_->buffer();
    const std::string_view first(static_cast<const char*>(buffer.data().data()), buffer.size());
    if (!internal::MatchesH2Preface(first)) return ReadRequest();
    if (first.size() >= internal::kH2ClientPreface.size()) return StartHttp2();
    idle_ = true;
    stream_->ExpiresAfter(server_->options.io_timeout);
    stream_->async_read_some(buffer.prepare(4096),
                             [self = shared_from_this()](const error_code& ec, size_t n) {
                               self->idle_ = false;
                               if (ec || self->closed_) return self->Close();
                               self->stream_->buffer().commit(n);
                               self->DetectPreface();
                             });
  }

  // Hands the stream (and what it buffered) to an HTTP/2 session; this object stays as the
  // server's handle on the connection until the session ends.
  void StartHttp2() {
    if (closed_ || server_->stopped.load()) return Close();
    server_->http2_connections.fetch_add(1, std::memory_order_relaxed);
    const HttpServer::Options& o = server_->options;
    internal::H2ServerSession::Options options;
    options.max_concurrent_streams = o.http2_max_concurrent_streams;
    options.max_header_list_size =
        static_cast<uint32_t>(std::min<size_t>(o.max_header_bytes, UINT32_MAX));
    options.max_request_body = o.max_request_body;
    options.on_closed = [weak = weak_from_this()](const Status&) {
      if (auto self = weak.lock()) self->OnHttp2Closed();
    };
    // The session holds the server (not this object) for its requests; Unregister and Stop
    // break that cycle.
    auto info = std::make_shared<const ConnectionInfo>(
        ConnectionInfo{remote_, stream_->is_tls(), tls_session_});
    h2_ = internal::H2ServerSession::Start(
        std::move(stream_), std::move(options),
        [server = server_, info](internal::H2ServerRequest request, internal::H2Reply reply) {
          ServeHttp2(*server, *info, std::move(request), std::move(reply));
        });
    ScheduleIdleCheck();
  }

  void OnHttp2Closed() {
    if (closed_) return;
    closed_ = true;
    idle_timer_.cancel();
    server_->Unregister(this);
    if (stop_done_) std::exchange(stop_done_, nullptr)->count_down();
  }

  // GOAWAY to an HTTP/2 connection that had no open stream and no new request for io_timeout.
  void ScheduleIdleCheck() {
    idle_timer_.expires_after(server_->options.io_timeout);
    idle_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec || self->closed_ || self->stop_done_) return;
      const uint64_t requests = self->h2_->requests_received();
      if (self->h2_->active_streams() == 0 && requests == self->h2_requests_seen_) {
        self->h2_->Shutdown();
        return;
      }
      self->h2_requests_seen_ = requests;
      self->ScheduleIdleCheck();
    });
  }

  struct ConnectionInfo {
    std::string remote;
    bool tls = false;
    TlsSessionInfo tls_session;
  };

  // One HTTP/2 request, on the connection's strand: the same handler contract as HTTP/1.1.
  static void ServeHttp2(HttpServer::Impl& server, const ConnectionInfo& info,
                         internal::H2ServerRequest h2, internal::H2Reply reply) {
    server.requests.fetch_add(1, std::memory_order_relaxed);
    ServerRequest request;
    request.method = std::move(h2.method);
    request.target = h2.path.empty() ? h2.authority : std::move(h2.path);  // CONNECT: authority
    request.headers = std::move(h2.headers);
    if (!h2.authority.empty() && !request.headers.Contains("host")) {
      request.headers.fields().insert(request.headers.begin(), {"host", h2.authority});
    }
    request.body = std::move(h2.body);
    request.trailers = std::move(h2.trailers);
    request.remote_address = info.remote;
    request.version = "2";
    request.scheme = info.tls ? "https" : "http";
    request.tls = info.tls;
    if (info.tls) request.tls_session = info.tls_session;
    const bool head = request.method == "HEAD";

    ServerResponse response;
    internal::ServerResponseAccess::SetDeferHook(
        response, [reply, head]() -> std::shared_ptr<Responder> {
          return std::make_shared<Http2Responder>(reply, head);
        });
    std::string error;
    try {
      server.handler(request, response);
    } catch (const std::exception& e) {
      OTLP_LOG(kWarn, std::string("HTTP server handler threw: ") + e.what());
      error = std::string("internal server error: ") + e.what() + "\n";
    } catch (...) {
      OTLP_LOG(kWarn, "HTTP server handler threw a non-standard exception");
      error = "internal server error\n";
    }
    if (internal::ServerResponseAccess::Deferred(response)) return;
    if (!error.empty()) {
      return SendHttp2(reply, head, 500, {{"Content-Type", "text/plain"}}, std::move(error), {});
    }
    if (response.close_connection) return reply.Reset(NGHTTP2_INTERNAL_ERROR);
    SendHttp2(reply, head, response.status, std::move(response.headers), std::move(response.body),
              std::move(response.trailers));
  }

  void ReadRequest() {
    if (closed_ || server_->stopped.load()) return Close();
    parser_.emplace();
    parser_->body_limit(server_->options.max_request_body);
    parser_->header_limit(
        static_cast<uint32_t>(std::min<size_t>(server_->options.max_header_bytes, UINT32_MAX)));
    idle_ = true;
    stream_->ExpiresAfter(server_->options.io_timeout);
    http::async_read_header(
        *stream_, stream_->buffer(), *parser_,
        [self = shared_from_this()](const error_code& ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(const error_code& ec) {
    idle_ = false;
    if (ec) return HandleReadError(ec);
    const auto& request = parser_->get();
    const auto expect = request[http::field::expect];
    if (request.version() >= 11 && otlp::internal::EqualsIgnoreCase(expect, "100-continue") &&
        !parser_->is_done()) {
      continue_.emplace(http::status::continue_, request.version());
      http::async_write(*stream_, *continue_,
                        [self = shared_from_this()](const error_code& e, size_t) {
                          if (e) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return OnRequest();
    http::async_read(*stream_, stream_->buffer(), *parser_,
                     [self = shared_from_this()](const error_code& ec, size_t) {
                       if (ec) return self->HandleReadError(ec);
                       self->OnRequest();
                     });
  }

  void HandleReadError(const error_code& ec) {
    if (ec == http::error::body_limit) {
      return WriteError(413, "request body exceeds " +
                                 std::to_string(server_->options.max_request_body) + " bytes\n");
    }
    if (ec == http::error::header_limit) {
      return WriteError(431, "request headers exceed " +
                                 std::to_string(server_->options.max_header_bytes) + " bytes\n");
    }
    const bool parse_error =
        ec.category() == http::make_error_code(http::error::bad_version).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message;
    if (parse_error) return WriteError(400, "malformed request: " + ec.message() + "\n");
    Close();  // the client went away, timed out, or TLS failed
  }

  void WriteError(int status, std::string text) {
    keep_alive_ = false;
    head_request_ = false;
    WriteResponse(status, {{"Content-Type", "text/plain"}}, std::move(text), /*linger=*/true);
  }

  void OnRequest() {
    server_->requests.fetch_add(1, std::memory_order_relaxed);
    if (server_->stopped.load()) return Close();
    auto message = parser_->release();
    keep_alive_ = message.keep_alive();
    head_request_ = message.method() == http::verb::head;

    ServerRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    request.headers.reserve(std::distance(message.begin(), message.end()));
    for (const auto& field : message) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body());
    request.remote_address = remote_;
    request.version = message.version() == 10 ? "1.0" : "1.1";
    request.tls = stream_->is_tls();
    request.scheme = request.tls ? "https" : "http";
    if (request.tls) request.tls_session = tls_session_;

    ServerResponse response;
    internal::ServerResponseAccess::SetDeferHook(
        response, [weak = weak_from_this(), executor = executor_]() -> std::shared_ptr<Responder> {
          return std::make_shared<DeferredResponder>(weak, executor);
        });
    try {
      server_->handler(request, response);
    } catch (const std::exception& e) {
      OTLP_LOG(kWarn, std::string("HTTP server handler threw: ") + e.what());
      if (!internal::ServerResponseAccess::Deferred(response)) {
        return WriteError(500, std::string("internal server error: ") + e.what() + "\n");
      }
    } catch (...) {
      OTLP_LOG(kWarn, "HTTP server handler threw a non-standard exception");
      if (!internal::ServerResponseAccess::Deferred(response)) {
        return WriteError(500, "internal server error\n");
      }
    }
    if (response.close_connection) return Close();
    if (internal::ServerResponseAccess::Deferred(response)) {
      // `response` (and so possibly the last Responder reference) dies after this; its
      // destructor posts Close, which runs after we set the flag.
      awaiting_deferred_ = true;
      return;
    }
    WriteResponse(response.status, std::move(response.headers), std::move(response.body),
                  /*linger=*/false);
  }

  void WriteResponse(int status, Headers headers, std::string body, bool linger) {
    if (closed_) return;
    if (status < 100 || status > 999) status = 500;
    for (const auto& [name, value] : headers) {
      // Beast cannot serialize a field this large (it would throw inside this handler).
      if (name.size() > kMaxResponseField || value.size() > kMaxResponseField) {
        const std::string shown = name.substr(0, 64);
        OTLP_LOG(kWarn, "HTTP server: the handler's response header '" + shown +
                            "' is too large to send; answering 500");
        return WriteResponse(500, {{"Content-Type", "text/plain"}},
                             "internal server error: response header '" + shown +
                                 "' too large\n",
                             linger);
      }
    }
    bool close_after = !keep_alive_ || server_->stopped.load();
    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(status));
    bool has_server = false;
    for (auto& [name, value] : headers) {
      if (otlp::internal::EqualsIgnoreCase(name, "content-length") ||
          otlp::internal::EqualsIgnoreCase(name, "transfer-encoding")) {
        continue;
      }
      if (otlp::internal::EqualsIgnoreCase(name, "connection")) {
        if (otlp::internal::EqualsIgnoreCase(value, "close")) close_after = true;
        continue;
      }
      has_server = has_server || otlp::internal::EqualsIgnoreCase(name, "server");
      response_.insert(name, value);
    }
    if (!has_server) response_.set(http::field::server, kUserAgent);
    response_.keep_alive(!close_after);
    if (head_request_) {
      response_.content_length(body.size());
    } else {
      response_.body() = std::move(body);
      response_.prepare_payload();
    }
    stream_->ExpiresAfter(server_->options.io_timeout);
    writing_ = true;
    http::async_write(
        *stream_, response_,
        [self = shared_from_this(), close_after, linger](const error_code& ec, size_t) {
          self->writing_ = false;
          if (ec) return self->Close();
          if (linger) return self->Linger();
          if (close_after || self->close_after_write_) {
            self->stream_->ShutdownSend();
            return self->Close();
          }
          self->ReadRequest();
        });
  }

  // Half-closes, then discards input until the client closes (or a timeout).
  void Linger() {
    if (closed_) return;
    stream_->ShutdownSend();
    stream_->ExpiresAfter(
        std::min<std::chrono::milliseconds>(kLingerTimeout, server_->options.io_timeout));
    DrainSome();
  }

  // Raw TCP reads: what arrives is discarded, TLS or not.
  void DrainSome() {
    stream_->tcp().async_read_some(asio::buffer(drain_),
                                  [self = shared_from_this()](const error_code& ec, size_t) {
                                    if (ec || self->closed_) return self->Close();
                                    self->DrainSome();
                                  });
  }

  class DeferredResponder final : public Responder {
   public:
    DeferredResponder(std::weak_ptr<Session> session, asio::any_io_executor executor)
        : session_(std::move(session)), executor_(std::move(executor)) {}
    ~DeferredResponder() override {
      if (!used_.exchange(true)) PostToSession([](Session& s) { s.CloseDeferred(); });
    }
    void SendWithTrailers(int status, Headers headers, std::string body, Headers) override {
      if (used_.exchange(true)) return;
      PostToSession(
          [status, headers = std::move(headers), body = std::move(body)](Session& s) mutable {
            s.SendDeferred(status, std::move(headers), std::move(body));
          });
    }
    void Close() override {
      if (used_.exchange(true)) return;
      PostToSession([](Session& s) { s.CloseDeferred(); });
    }

   private:
    template <typename F>
    void PostToSession(F&& f) {
      std::shared_ptr<Session> session = session_.lock();
      if (!session) return;
      asio::post(executor_, [session, f = std::forward<F>(f)]() mutable { f(*session); });
    }

    std::weak_ptr<Session> session_;
    asio::any_io_executor executor_;
    std::atomic<bool> used_{false};
  };

  const std::shared_ptr<HttpServer::Impl> server_;
  const asio::any_io_executor executor_;
  asio::steady_timer idle_timer_;  // HTTP/2: the idle check, then Stop's bound
  std::string remote_;
  std::unique_ptr<internal::Stream> stream_;  // null once handed to the HTTP/2 session
  TlsSessionInfo tls_session_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  http::response<http::string_body> response_;
  std::array<char, 16 * 1024> drain_{};
  bool keep_alive_ = false;
  bool head_request_ = false;
  bool idle_ = false;
  bool writing_ = false;
  bool close_after_write_ = false;
  bool closed_ = false;
  bool awaiting_deferred_ = false;
  // HTTP/2: the session serving this connection, once detected.
  std::shared_ptr<internal::H2ServerSession> h2_;
  uint64_t h2_requests_seen_ = 0;
  std::shared_ptr<std::latch> stop_done_;  // counted down when the HTTP/2 connection ends
};

// Starts every task (each posts work that counts the latch down once) and waits for all of them
// unless `wait` is false (on an I/O thread, waiting could deadlock).
void WaitForAll(std::vector<std::function<void(std::shared_ptr<std::latch>)>> tasks, bool wait) {
  auto done = std::make_shared<std::latch>(static_cast<std::ptrdiff_t>(tasks.size()));
  for (auto& task : tasks) task(done);
  if (wait) done->wait();
}

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(ioc),
                        [self = shared_from_this()](const error_code& ec, tcp::socket socket) {
                          if (ec == asio::error::operation_aborted || self->stopped.load()) return;
                          if (ec) {
                            // Typically EMFILE: back off briefly instead of spinning.
                            OTLP_LOG(kWarn, "HTTP server: accept failed: " + ec.message());
                            self->retry_timer.expires_after(std::chrono::milliseconds(50));
                            self->retry_timer.async_wait([self](const error_code& e) {
                              if (!e && !self->stopped.load()) self->Accept();
                            });
                            return;
                          }
                          self->accepted.fetch_add(1, std::memory_order_relaxed);
                          error_code ignored;
                          socket.set_option(tcp::no_delay(true), ignored);
                          auto session = std::make_shared<Session>(self, std::move(socket));
                          {
                            otlp::internal::MutexLock lock(self->mu);
                            if (self->stopped.load()) return;
                            self->sessions.emplace(session.get(), session);
                          }
                          asio::dispatch(session->executor(), [session] { session->Start(); });
                          self->Accept();
                        });
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(std::shared_ptr<Runtime> runtime,
                                                      Options options, Handler handler) {
  if (!runtime) return InvalidArgumentError("HttpServer::Start: runtime is null");
  if (!handler) return InvalidArgumentError("HttpServer::Start: handler is empty");
  std::string host = options.host.empty() ? "127.0.0.1" : options.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) {
    return InvalidArgumentError("HttpServer: host '" + options.host +
                                "' is not an IP address (or \"localhost\")");
  }
  std::shared_ptr<const internal::TlsContext> tls_ctx;
  if (options.tls) {
    // ALPN may offer only what this server speaks: HTTP/1.1, and h2 when HTTP/2 is enabled.
    for (const std::string& protocol : options.tls->alpn_protocols) {
      if (protocol != "http/1.1" && !(protocol == "h2" && options.enable_http2)) {
        return InvalidArgumentError(
            std::string("HttpServer speaks HTTP/1.1") +
            (options.enable_http2 ? " and HTTP/2 (h2)" : " only (enable_http2 is off)") +
            "; TLS ALPN protocol '" + protocol + "' cannot be accepted");
      }
    }
    ServerTlsOptions tls = *options.tls;
    if (tls.alpn_protocols.empty()) {
      tls.alpn_protocols = options.enable_http2 ? std::vector<std::string>{"h2", "http/1.1"}
                                                : std::vector<std::string>{"http/1.1"};
    }
    OTLP_ASSIGN_OR_RETURN(tls_ctx, internal::TlsContext::Server(std::move(tls)));
  }
  const uint16_t requested_port = options.port;
  auto impl = std::make_shared<Impl>(internal::IoContext(*runtime), std::move(options),
                                     std::move(handler), std::move(tls_ctx));
  const tcp::endpoint endpoint(address, requested_port);
  const std::string where = FormatEndpoint(endpoint);
  auto fail = [&](std::string_view what) -> Status {
    return {StatusCode::kUnavailable,
            "HttpServer: cannot " + std::string(what) + " " + where + ": " + ec.message(), false};
  };
  impl->acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("open a socket for");
  impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  impl->acceptor.bind(endpoint, ec);
  if (ec) return fail("bind to");
  impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  impl->port = impl->acceptor.local_endpoint(ec).port();
  if (ec) return fail("read the port of");
  impl->host = address.is_v6() ? "[" + host + "]" : host;
  asio::post(impl->acceptor_strand, [impl] { impl->Accept(); });
  auto server = std::unique_ptr<HttpServer>(new HttpServer(impl));
  server->runtime_ = std::move(runtime);
  return server;
}

HttpServer::HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  Stop();
}

uint16_t HttpServer::port() const noexcept {
  return impl_->port;
}

std::string HttpServer::base_url() const {
  return std::string(impl_->tls_ctx ? "https://" : "http://") + impl_->host + ":" +
         std::to_string(impl_->port);
}

void HttpServer::Stop() {
  std::shared_ptr<Impl> impl = impl_;
  if (impl->stopped.exchange(true)) return;
  std::vector<std::shared_ptr<Session>> sessions;
  {
    otlp::internal::MutexLock lock(impl->mu);
    for (auto& [ptr, session] : impl->sessions) sessions.push_back(session);
    impl->sessions.clear();
  }
  std::vector<std::function<void(std::shared_ptr<std::latch>)>> tasks;
  tasks.emplace_back([impl](std::shared_ptr<std::latch> done) {
    asio::post(impl->acceptor_strand, [impl, done] {
      error_code ignored;
      impl->acceptor.close(ignored);
      impl->retry_timer.cancel();
      done->count_down();
    });
  });
  for (auto& session : sessions) {
    tasks.emplace_back([session](std::shared_ptr<std::latch> done) {
      asio::post(session->executor(), [session, done] { session->Stop(done); });
    });
  }
  WaitForAll(std::move(tasks), !runtime_->InIoThread());
}

void HttpServer::CloseIdleConnections() {
  std::vector<std::function<void(std::shared_ptr<std::latch>)>> tasks;
  for (auto& session : impl_->Snapshot()) {
    tasks.emplace_back([session](std::shared_ptr<std::latch> done) {
      asio::post(session->executor(), [session, done] {
        session->CloseIfIdle();
        done->count_down();
      });
    });
  }
  WaitForAll(std::move(tasks), !runtime_->InIoThread());
}

uint64_t HttpServer::connections_accepted() const noexcept {
  return impl_->accepted.load(std::memory_order_relaxed);
}

uint64_t HttpServer::requests_received() const noexcept {
  return impl_->requests.load(std::memory_order_relaxed);
}

uint64_t HttpServer::http2_connections() const noexcept {
  return impl_->http2_connections.load(std::memory_order_relaxed);
}

}  // namespace otlp::net
