#include "otlp/net/http_client.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstring>
#include <deque>
#include <future>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "otlp/core/internal/ascii.h"
#include "otlp/core/internal/mutex.h"
#include "otlp/net/internal/caller_driven.h"
#include "otlp/net/internal/error_kind.h"
#include "otlp/net/internal/base64.h"
#include "otlp/net/internal/h2_client.h"
#include "otlp/net/internal/runtime_impl.h"
#include "otlp/net/internal/stream.h"
#include "otlp/net/internal/tls.h"
#include "otlp/net/url.h"

namespace otlp::net {

std::string_view HttpErrorKindName(HttpErrorKind kind) noexcept {
  switch (kind) {
    case HttpErrorKind::kNone: return "none";
    case HttpErrorKind::kInvalidRequest: return "invalid_request";
    case HttpErrorKind::kConnectTimeout: return "connect_timeout";
    case HttpErrorKind::kRequestTimeout: return "request_timeout";
    case HttpErrorKind::kIdleTimeout: return "idle_timeout";
    case HttpErrorKind::kDnsFailure: return "dns_failure";
    case HttpErrorKind::kConnectionRefused: return "connection_refused";
    case HttpErrorKind::kConnectionReset: return "connection_reset";
    case HttpErrorKind::kTlsHandshake: return "tls_handshake";
    case HttpErrorKind::kCertificate: return "certificate";
    case HttpErrorKind::kNetwork: return "network";
    case HttpErrorKind::kProtocol: return "protocol";
    case HttpErrorKind::kTooLarge: return "too_large";
    case HttpErrorKind::kCancelled: return "cancelled";
    case HttpErrorKind::kProxy: return "proxy";
    case HttpErrorKind::kStreamReset: return "stream_reset";
    case HttpErrorKind::kGoAway: return "goaway";
    case HttpErrorKind::kBodySource: return "body_source";
    case HttpErrorKind::kBodySink: return "body_sink";
  }
  return "unknown";
}

struct CancelSignal::State {
  otlp::internal::Mutex mu;
  bool cancelled OTLP_GUARDED_BY(mu) = false;
  uint64_t next_id OTLP_GUARDED_BY(mu) = 1;
  std::vector<std::pair<uint64_t, std::function<void()>>> subscribers OTLP_GUARDED_BY(mu);
};

CancelSignal::CancelSignal() : state_(std::make_unique<State>()) {}
CancelSignal::~CancelSignal() = default;

std::shared_ptr<CancelSignal> CancelSignal::Create() {
  return std::make_shared<CancelSignal>();
}

void CancelSignal::Cancel() noexcept {
  std::vector<std::pair<uint64_t, std::function<void()>>> run;
  {
    otlp::internal::MutexLock lock(state_->mu);
    if (state_->cancelled) return;
    state_->cancelled = true;
    run.swap(state_->subscribers);
  }
  for (auto& [id, f] : run) f();
}

bool CancelSignal::cancelled() const noexcept {
  otlp::internal::MutexLock lock(state_->mu);
  return state_->cancelled;
}

uint64_t CancelSignal::Subscribe(std::function<void()> f) {
  {
    otlp::internal::MutexLock lock(state_->mu);
    if (!state_->cancelled) {
      const uint64_t id = state_->next_id++;
      state_->subscribers.emplace_back(id, std::move(f));
      return id;
    }
  }
  f();
  return 0;
}

void CancelSignal::Unsubscribe(uint64_t id) noexcept {
  otlp::internal::MutexLock lock(state_->mu);
  std::erase_if(state_->subscribers, [id](const auto& s) { return s.first == id; });
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using Strand = asio::strand<asio::io_context::executor_type>;
using otlp::internal::EqualsIgnoreCase;
using otlp::internal::IsToken;
using otlp::internal::MutexLock;

constexpr uint32_t kMaxResponseHeaderBytes = 64 * 1024;
// Beast keeps a field name or value in at most this many bytes (and throws beyond it).
constexpr size_t kMaxRequestFieldBytes = 65533;
// Bytes pulled from a BodySource per write: large enough that a fast source fills the socket
// in few system calls, small enough to stay flat in memory.
constexpr size_t kUploadChunkBytes = 64 * 1024;
// A pooled connection idle for less than this is reused without first peeking at its socket
// for a close by the server (a system call per request). Should the server have closed it
// anyway, the request fails before any response byte and is sent again on a fresh connection
// (requests with a streamed body, which cannot be sent again, always peek).
constexpr std::chrono::milliseconds kPeekWhenIdleFor{1000};
// Room for a chunk-size line ("ffffffffffffffff\r\n") before the data and CRLF after it.
constexpr size_t kChunkPrefixBytes = 18;
constexpr size_t kChunkSuffixBytes = 2;

Status Kinded(Status status, HttpErrorKind kind) {
  return std::move(status).WithDetail(static_cast<uint16_t>(kind));
}

bool IsValidHeaderValue(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == 0; });
}

// "host:port" with the port always present (the CONNECT request target).
std::string HostPort(const Url& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  return (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
}

std::string BasicCredentials(const Url& url) {
  return "Basic " + internal::Base64Encode(url.user + ":" + url.password.value_or(""));
}

// A response body that either grows a string (as Beast's string_body does) or goes straight
// to the caller's sink, never stored.
struct ResponseBody {
  struct value_type {
    std::string data;
    const HttpRequest::BodySink* sink = nullptr;
    Status sink_error;
    uint64_t received = 0;
  };

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<uint64_t>& length, error_code& ec) {
      ec = {};
      if (!length || body_.sink != nullptr) return;
      if (*length > body_.data.max_size()) {
        ec = http::error::buffer_overflow;
        return;
      }
      body_.data.reserve(static_cast<size_t>(*length));
    }

    template <class ConstBufferSequence>
    size_t put(const ConstBufferSequence& buffers, error_code& ec) {
      ec = {};
      const size_t extra = beast::buffer_bytes(buffers);
      if (body_.sink != nullptr) {
        for (const auto b : beast::buffers_range_ref(buffers)) {
          Status status = (*body_.sink)({static_cast<const char*>(b.data()), b.size()});
          if (!status.ok()) {
            body_.sink_error = std::move(status);
            ec = boost::system::errc::make_error_code(boost::system::errc::operation_canceled);
            return 0;
          }
        }
      } else {
        const size_t size = body_.data.size();
        if (extra > body_.data.max_size() - size) {
          ec = http::error::buffer_overflow;
          return 0;
        }
        body_.data.resize(size + extra);
        asio::buffer_copy(asio::buffer(body_.data.data() + size, extra), buffers);
      }
      body_.received += extra;
      return extra;
    }

    void finish(error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

// One TCP (or TLS) connection to one origin (or through one proxy). Everything touching it
// runs on `strand`, except while a request runs on it synchronously (Exchange::StartSync): then
// that request's thread owns it from the pool's hand-out to its Release or Discard, and another
// thread's Close() only shuts the socket down (waking a blocked call), leaving the closing to
// the owner. The client's pool bookkeeping is under ClientState::mu_.
struct Connection {
  Connection(asio::io_context& ioc, std::string pool_key,
             std::shared_ptr<const internal::TlsContext> tls)
      : strand(asio::make_strand(ioc)),
        stream(std::make_unique<internal::Stream>(strand, std::move(tls))),
        idle_timer(strand),
        key(std::move(pool_key)) {}

  void Close() {
    MutexLock lock(io_mu);
    if (sync_owner) {
      AbortLocked();
      return;
    }
    closed = true;
    idle_timer.cancel();
    if (stream) stream->Close();
  }

  // The calling thread takes the connection for a synchronous request.
  void BeginSyncUse() {
    MutexLock lock(io_mu);
    sync_owner = true;
  }
  // Another thread wants the synchronous request on it stopped (cancelled, client shut down):
  // its socket is shut down, so a blocked call returns and later ones fail at once. False when
  // no thread owns the connection (the caller closes it on its strand instead).
  bool AbortSync() {
    MutexLock lock(io_mu);
    if (!sync_owner) return false;
    AbortLocked();
    return true;
  }
  bool sync_aborted() {
    MutexLock lock(io_mu);
    return aborted;
  }
  // The owning thread gives the connection up (to the pool or to be closed); true when it was
  // aborted meanwhile (not reusable).
  bool EndSyncUse() {
    MutexLock lock(io_mu);
    if (!sync_owner) return false;
    sync_owner = false;
    return aborted;
  }

  Strand strand;
  // Its buffer keeps bytes read past a response for the next one. Null once the stream was
  // handed to an HTTP/2 session.
  std::unique_ptr<internal::Stream> stream;
  asio::steady_timer idle_timer;
  const std::string key;
  // Guarded by ClientState::mu_ (another object's mutex, which an annotation cannot name).
  uint64_t idle_generation = 0;
  Clock::time_point idle_since{};  // when it last went back to the pool; guarded likewise
  std::atomic<bool> closed{false};

 private:
  void AbortLocked() OTLP_REQUIRES(io_mu) {
    aborted = true;
    error_code ignored;
    stream->tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  }

  otlp::internal::Mutex io_mu;
  bool sync_owner OTLP_GUARDED_BY(io_mu) = false;  // a thread runs a request on it synchronously
  bool aborted OTLP_GUARDED_BY(io_mu) = false;     // shut down under that request
};

class Exchange;
using H2Session = internal::H2ClientSession;

// The connections of one pool key (scheme, host, port, proxy, and whether HTTP/2 may be used).
// HTTP/1.1 runs one request per connection at a time: idle keep-alive connections wait here for
// the next request, and when max_connections_per_host is reached requests queue for one. An
// origin that may speak HTTP/2 opens one connection first; when it becomes an HTTP/2 session
// (ALPN chose "h2", or h2c by prior knowledge) every request shares it, otherwise the origin
// goes on as HTTP/1.1 (for the client's lifetime).
struct Origin {
  enum class Protocol { kUnknown, kHttp1, kHttp2 };

  std::deque<std::shared_ptr<Connection>> idle;      // most recently used at the back
  size_t busy = 0;                                   // connections in use or connecting
  std::deque<std::shared_ptr<Exchange>> waiters;     // first come, first served
  bool tls = false;                                  // its connections' streams use TLS
  Protocol protocol = Protocol::kUnknown;            // what the last connection spoke
  std::shared_ptr<H2Session> session;                // the shared HTTP/2 session
  bool h2_connecting = false;                        // a request is opening the next session
  std::deque<std::shared_ptr<Exchange>> h2_waiters;  // waiting for that session
  bool unused() const {
    return busy == 0 && idle.empty() && waiters.empty() && !session && !h2_connecting &&
           h2_waiters.empty();
  }
};

// What ClientState::Acquire hands out: an HTTP/2 session to submit to, a connection (reused or
// new; `h2_probe` when the request opens the origin's next HTTP/2 session with it), a place in
// a queue, or nothing once the client is shut down.
struct Lease {
  std::shared_ptr<H2Session> session;
  std::shared_ptr<Connection> conn;
  bool reused = false;
  bool queued = false;
  bool h2_probe = false;
};

// Shared by the HttpClient and every request in flight, so callbacks never outlive it.
class ClientState : public std::enable_shared_from_this<ClientState> {
 public:
  ClientState(asio::io_context& ioc, bool caller_driven, HttpClient::Options options,
              std::shared_ptr<const internal::TlsContext> tls_ctx,
              std::shared_ptr<const internal::TlsContext> tls_h2_ctx)
      : ioc_(ioc),
        caller_driven_(caller_driven),
        options_(std::move(options)),
        tls_ctx_(std::move(tls_ctx)),
        tls_h2_ctx_(std::move(tls_h2_ctx)) {}

  asio::io_context& ioc() { return ioc_; }
  // The runtime has no thread of its own: its work runs only while a caller drives it.
  bool caller_driven() const { return caller_driven_; }
  const HttpClient::Options& options() const { return options_; }

  // An idle pooled connection for `key` (most recently used first), or a new one while the
  // per-host limit allows; otherwise `waiter` is queued and later handed one (Exchange::Granted).
  // For a key that allows HTTP/2 (`h2`): the origin's live session, or a place among the
  // requests waiting for the session being opened, or (no session, none being opened) a new
  // connection with which the request opens it.
  Lease Acquire(const std::string& key, bool tls, bool h2, bool allow_reuse,
                const std::shared_ptr<Exchange>& waiter);
  // An idle HTTP/1.1 keep-alive connection for `key` (most recently used first), taken for a
  // request the calling thread runs synchronously (Connection::BeginSyncUse done); null when
  // none is idle (or the origin speaks HTTP/2, or is not known to speak HTTP/1.1 yet when `h2`).
  std::shared_ptr<Connection> TakeIdle(const std::string& key, bool h2);
  // The h2 probe's connection became `session` (on the connection's strand): the origin shares
  // it from now on and the requests waiting for it are handed it. False when the client shut
  // down meanwhile (the session is closed).
  bool SessionOpened(const std::shared_ptr<Connection>& conn,
                     const std::shared_ptr<H2Session>& session);
  // The h2 probe's connection speaks HTTP/1.1 (ALPN chose it): the origin is an HTTP/1.1 one
  // from now on; the waiting requests ask the pool again.
  void ProbeChoseHttp1(const std::string& key);
  // The h2 probe failed with `status`; waiting requests fail with it too, or ask the pool again
  // when the failure was the probe's own (its deadline, its cancellation).
  void ProbeFailed(const std::string& key, const Status& status);
  // On the connection's strand, after a complete response.
  void Release(const std::shared_ptr<Connection>& conn, bool keep_alive);
  // On the connection's strand: forgets a connection that failed or is not reusable.
  void Discard(const std::shared_ptr<Connection>& conn);
  // Takes `waiter` out of the queue; false when it was already handed a connection.
  bool CancelWaiter(const std::string& key, const std::shared_ptr<Exchange>& waiter);
  void Shutdown();

  bool shut_down() {
    MutexLock lock(mu_);
    return shut_down_;
  }

  void CountOpened() { opened_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t opened() const { return opened_.load(std::memory_order_relaxed); }
  size_t idle_count() const { return idle_count_.load(std::memory_order_relaxed); }

 private:
  // Only the connection that opens an origin's HTTP/2 session offers "h2": the others carry
  // HTTP/1.1 and must not let ALPN choose anything else.
  std::shared_ptr<Connection> NewConnection(const std::string& key, bool tls, bool offer_h2) {
    return std::make_shared<Connection>(ioc_, key,
                                        !tls       ? nullptr
                                        : offer_h2 ? tls_h2_ctx_
                                                   : tls_ctx_);
  }
  // Under mu_: a connection slot of `origin` became free; the first waiter gets a new
  // connection. Returns that waiter (to call once mu_ is released) or null.
  std::shared_ptr<Exchange> GrantSlot(Origin& origin, const std::string& key,
                                      std::shared_ptr<Connection>& conn) OTLP_REQUIRES(mu_);
  void StartIdleTimer(const std::shared_ptr<Connection>& conn, uint64_t generation);
  void ExpireIdle(const std::shared_ptr<Connection>& conn, uint64_t generation);
  void EraseIfUnused(std::map<std::string, Origin>::iterator it) OTLP_REQUIRES(mu_) {
    if (it->second.unused()) origins_.erase(it);
  }
  // Caller-driven runtimes arm no idle timers (their expiries would run only when some request
  // drives the runtime, and each re-arm is a system call per request): an idle connection
  // older than Options::idle_timeout is dropped when the pool next looks at its origin. Moves
  // the expired ones (least recently used, at the front) to `expired`, to be closed once mu_ is
  // released.
  void ExpireIdleLazily(Origin& origin, std::vector<std::shared_ptr<Connection>>& expired)
      OTLP_REQUIRES(mu_) {
    if (!caller_driven_ || options_.idle_timeout.count() <= 0) return;
    const Clock::time_point now = Clock::now();
    while (!origin.idle.empty() && now - origin.idle.front()->idle_since >= options_.idle_timeout) {
      expired.push_back(std::move(origin.idle.front()));
      origin.idle.pop_front();
      idle_count_.fetch_sub(1, std::memory_order_relaxed);
    }
  }

  asio::io_context& ioc_;
  const bool caller_driven_;
  const HttpClient::Options options_;
  const std::shared_ptr<const internal::TlsContext> tls_ctx_;     // ALPN http/1.1
  const std::shared_ptr<const internal::TlsContext> tls_h2_ctx_;  // ALPN h2, http/1.1
  otlp::internal::Mutex mu_;
  std::map<std::string, Origin> origins_ OTLP_GUARDED_BY(mu_);
  std::unordered_set<std::shared_ptr<Connection>> active_ OTLP_GUARDED_BY(mu_);
  // Every HTTP/2 session opened (replaced ones may still carry streams), for Shutdown.
  std::vector<std::weak_ptr<H2Session>> sessions_ OTLP_GUARDED_BY(mu_);
  bool shut_down_ OTLP_GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> opened_{0};
  std::atomic<size_t> idle_count_{0};
};

using Callback = std::function<void(Result<HttpResponse>)>;

// Interim (1xx) responses skipped before the final one. A real server sends a handful at most:
// one 100 Continue, a few 103 Early Hints, or 102 Processing now and then during a long
// request. 32 is far above that, and stops a server that floods 1xx responses after a few
// microseconds of parsing instead of spinning until the deadline.
static_assert(kMaxInterimResponses == 32);

// Where a request is going: straight to the origin, or through an HTTP proxy.
struct Route {
  Url url;
  std::string key;           // the pool key
  std::optional<Url> proxy;  // set when going through a proxy
  bool tunnel = false;       // https through the proxy: CONNECT, then TLS with the origin
  bool h2 = false;           // HTTP/2 may be used (ALPN for https, prior knowledge for http)
};

// An HTTP/1.1 request whose body is bytes held elsewhere (the exchange's own copy, or the
// caller's HttpRequest::body_view), never copied into the message.
using Http1Request = http::request<http::span_body<const char>>;

// The HTTP/1.1 message for `request` (validated by SendAsync, User-Agent added) with `body`,
// which must outlive it. With `streamed` the body comes from a source, `length` bytes long
// (sent with Content-Length) or of unknown length (chunked).
Http1Request BuildHttp1Message(const Route& route, const HttpRequest& request,
                               std::string_view body, bool streamed,
                               std::optional<uint64_t> length) {
  const Url& url = route.url;
  const bool absolute_form = route.proxy && !route.tunnel;
  Http1Request message;
  message.version(11);
  message.method_string(request.method);
  if (absolute_form) {
    message.target(url.scheme + "://" + url.Authority() + url.target);
  } else {
    message.target(url.target);
  }
  bool has_host = false;
  bool has_authorization = false;
  bool has_proxy_authorization = false;
  for (const auto& [name, value] : request.headers) {
    has_host = has_host || EqualsIgnoreCase(name, "host");
    has_authorization = has_authorization || EqualsIgnoreCase(name, "authorization");
    has_proxy_authorization =
        has_proxy_authorization || EqualsIgnoreCase(name, "proxy-authorization");
  }
  if (!has_host) message.set(http::field::host, url.Authority());
  if (url.has_credentials() && !has_authorization) {
    // As curl does: URL credentials become Basic authentication.
    message.set(http::field::authorization, BasicCredentials(url));
  }
  if (absolute_form && route.proxy->has_credentials() && !has_proxy_authorization) {
    message.set(http::field::proxy_authorization, BasicCredentials(*route.proxy));
  }
  for (const auto& [name, value] : request.headers) {
    if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding")) {
      continue;
    }
    message.insert(name, value);
  }
  if (streamed) {
    if (length) {
      message.content_length(*length);
    } else {
      message.chunked(true);
    }
  } else {
    message.body() = {body.data(), body.size()};
    message.prepare_payload();
  }
  return message;
}

// The start line and header fields of `message` as they go on the wire, appended to `out`
// (what Beast's serializer writes before the body).
void AppendHead(const Http1Request& message, std::string& out) {
  out.append(message.method_string());
  out += ' ';
  out.append(message.target());
  out += " HTTP/1.1\r\n";
  for (const auto& field : message) {
    out.append(field.name_string());
    out += ": ";
    out.append(field.value());
    out += "\r\n";
  }
  out += "\r\n";
}

// H2ErrorKind -> HttpErrorKind (the table in h2_common.h).
HttpErrorKind HttpKindOf(internal::H2ErrorKind kind) {
  using K = internal::H2ErrorKind;
  switch (kind) {
    case K::kStreamReset: return HttpErrorKind::kStreamReset;
    case K::kGoAway: return HttpErrorKind::kGoAway;
    case K::kProtocol: return HttpErrorKind::kProtocol;
    case K::kConnection: return HttpErrorKind::kConnectionReset;
    case K::kTimeout: return HttpErrorKind::kRequestTimeout;
    case K::kCancelled: return HttpErrorKind::kCancelled;
    case K::kTooLarge: return HttpErrorKind::kTooLarge;
    case K::kNotSent: return HttpErrorKind::kConnectionReset;
    case K::kNone: break;
  }
  return HttpErrorKind::kProtocol;
}

// One request. HTTP/1.1: picks a connection (or waits for one), then connect (resolve, TCP,
// proxy tunnel, TLS) → write → read, each step on the connection's strand, all bounded by one
// absolute deadline and, per read or write, by the idle timeout. HTTP/2: submits a stream to
// the origin's shared session (or waits for it, or opens it: connect as above, then the
// session takes over the connection), bounded by the same deadline.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  enum class Phase { kResolve, kConnect, kTunnel, kHandshake, kWrite, kRead };

  // Takes what it needs from `request` (moved from).
  Exchange(std::shared_ptr<ClientState> client, Route route, std::chrono::milliseconds timeout,
           std::chrono::milliseconds idle_timeout, HttpRequest& request, Callback done)
      : client_(std::move(client)),
        route_(std::move(route)),
        timeout_(timeout),
        idle_timeout_(idle_timeout),
        accept_truncated_body_(request.accept_truncated_body),
        start_(Clock::now()),
        deadline_(timeout.count() > 0 ? start_ + timeout : Clock::time_point::max()),
        done_(std::move(done)),
        source_(std::move(request.body_source)),
        source_length_(request.body_length),
        sink_(std::move(request.on_body)),
        on_headers_(std::move(request.on_headers)),
        progress_(std::move(request.on_progress)),
        chunk_header_hook_(
            [this](uint64_t size, std::string_view, error_code&) { OnChunkHeader(size); }) {
    if (route_.h2) {
      // Kept as given until the protocol is known; HTTP/1.1 builds its message from it.
      h2_request_.method = std::move(request.method);
      h2_request_.url = std::move(request.url);
      h2_request_.headers = std::move(request.headers);
      h2_request_.body =
          request.body_view.empty() ? std::move(request.body) : std::string(request.body_view);
    } else {
      body_ = std::move(request.body);
      request_ = BuildHttp1Message(route_, request, body_.empty() ? request.body_view : body_,
                                   static_cast<bool>(source_), source_length_);
      message_built_ = true;
    }
  }

  // Subscribes to HttpRequest::cancel (before Start).
  void WatchCancel(std::shared_ptr<CancelSignal> signal) {
    if (!signal) return;
    cancel_ = std::move(signal);
    cancel_id_ = cancel_->Subscribe([weak = weak_from_this()] {
      if (auto self = weak.lock()) self->OnCancel();
    });
  }

  void Start(bool allow_reuse) {
    if (cancelled_.load()) {
      asio::post(client_->ioc(),
                 [self = shared_from_this()] { self->Finish(self->CancelledStatus()); });
      return;
    }
    if ((route_.h2 || client_->options().max_connections_per_host != 0) && !wait_timer_) {
      ArmWaitTimer();
    }
    Lease lease = client_->Acquire(route_.key, route_.url.is_tls(), route_.h2, allow_reuse,
                                   shared_from_this());
    if (lease.queued) return;  // Granted() / GrantedSession() follows, or the wait timer fires
    if (lease.session) return GrantedSession(std::move(lease.session));
    if (!lease.conn) {
      asio::post(client_->ioc(), [self = shared_from_this()] { self->FinishCancelled(); });
      return;
    }
    probing_ = lease.h2_probe;
    Strand strand = lease.conn->strand;
    asio::dispatch(strand, [self = shared_from_this(), conn = std::move(lease.conn),
                            reused = lease.reused] { self->Begin(conn, reused); });
  }

  // The pool's answer to a queued request: a connection, or null when the client shut down.
  void Granted(std::shared_ptr<Connection> conn, bool reused) {
    if (!conn) {
      asio::post(client_->ioc(), [self = shared_from_this()] { self->FinishCancelled(); });
      return;
    }
    Strand strand = conn->strand;
    asio::post(strand, [self = shared_from_this(), conn = std::move(conn), reused] {
      self->Begin(conn, reused);
    });
  }

  // The pool's answer to a request waiting for (or finding) the origin's HTTP/2 session.
  void GrantedSession(std::shared_ptr<H2Session> session) {
    auto executor = session->executor();
    asio::post(executor, [self = shared_from_this(), session = std::move(session)] {
      self->SubmitH2(session, /*reused=*/true);
    });
  }

  // Whether the request can run synchronously (StartSync): its body is in memory and nothing
  // streams (a body source, a sink, headers or progress callbacks keep the asynchronous path).
  bool SyncEligible() const { return !source_ && !sink_ && !on_headers_ && !progress_; }
  const Route& route() const { return route_; }

  // On the calling thread, outside the runtime's work: the request runs on `conn`, an idle
  // keep-alive connection the pool handed to this thread (ClientState::TakeIdle), with blocking
  // calls bounded by the request's deadline and idle timeout (no handler posted, no timer), and
  // finishes here. Only what cannot stay on `conn` goes on asynchronously: a connection the
  // server closed while idle is replaced by a fresh one, and the request is resent there.
  void StartSync(const std::shared_ptr<Connection>& conn) {
    sync_ = true;
    Begin(conn, /*reused=*/true);
  }

  // The session this request waited for will not come (the origin turned out to speak
  // HTTP/1.1, or its opener gave up): ask the pool again.
  void AskAgain() {
    asio::post(client_->ioc(), [self = shared_from_this()] { self->Start(/*allow_reuse=*/true); });
  }

  // Connecting for the session this request waited for failed with `status`.
  void FailWaiting(Status status) {
    asio::post(client_->ioc(),
               [self = shared_from_this(), status = std::move(status)] { self->Finish(status); });
  }

 private:
  // With a per-host limit a request may have to wait for a connection, within its deadline.
  // The timer is armed before the request first asks the pool (and never touched again but by
  // the destructor): once queued, it may already run on a strand thread. At the deadline it
  // takes the request out of the queue if it is still there; otherwise it does nothing.
  void ArmWaitTimer() {
    if (deadline_ == Clock::time_point::max()) return;
    wait_timer_ = std::make_unique<asio::steady_timer>(client_->ioc(), deadline_);
    wait_timer_->async_wait([weak = weak_from_this()](const error_code& ec) {
      if (ec) return;
      auto self = weak.lock();
      if (!self || !self->client_->CancelWaiter(self->route_.key, self)) return;
      if (self->route_.h2 && self->client_->options().max_connections_per_host == 0) {
        return self->Finish(
            Kinded(DeadlineExceededError(
                       "request timed out after " + std::to_string(self->timeout_.count()) +
                       " ms waiting for the HTTP/2 connection to " + self->route_.url.Authority() +
                       " (" + self->route_.url.ToString() + ")"),
                   HttpErrorKind::kRequestTimeout));
      }
      self->Finish(Kinded(
          DeadlineExceededError(
              "request timed out after " + std::to_string(self->timeout_.count()) +
              " ms waiting for a free connection to " + self->route_.url.Authority() + " (limit " +
              std::to_string(self->client_->options().max_connections_per_host) + " per host) (" +
              self->route_.url.ToString() + ")"),
          HttpErrorKind::kRequestTimeout));
    });
  }

  void Begin(const std::shared_ptr<Connection>& conn, bool reused) {
    {
      MutexLock lock(cancel_mu_);
      attached_conn_ = conn;
    }
    // A cancellation that came before the connection was attached (see OnCancel).
    if (cancelled_.load()) {
      {
        MutexLock lock(cancel_mu_);
        attached_conn_.reset();
      }
      if (reused) {
        client_->Release(conn, /*keep_alive=*/true);  // untouched: back to the pool
      } else {
        client_->Discard(conn);
      }
      return Finish(CancelledStatus());
    }
    conn_ = conn;
    reused_ = reused;
    if (!probing_) BuildMessage();
    if (reused) {
      if (!client_->caller_driven()) conn->idle_timer.cancel();  // none is armed otherwise
      const bool peek = source_ || Clock::now() - conn->idle_since >= kPeekWhenIdleFor;
      if (conn->closed || !conn->stream->IsReusable(peek)) {
        DiscardConn();
        Start(/*allow_reuse=*/true);
        return;
      }
      Write();
    } else {
      Connect();
    }
  }

  void Connect() {
    phase_ = Phase::kResolve;
    if (conn_->closed) return Fail(asio::error::operation_aborted);
    connect_deadline_ = deadline_;
    const auto connect_timeout = client_->options().connect_timeout;
    if (connect_timeout.count() > 0) {
      connect_deadline_ = std::min(connect_deadline_, Clock::now() + connect_timeout);
    }
    const Url& peer = route_.proxy ? *route_.proxy : route_.url;
    if (route_.tunnel) {
      conn_->stream->AsyncConnectTcp(
          peer.host, peer.port, connect_deadline_,
          [self = shared_from_this()](const error_code& ec) { self->OnTcpConnected(ec); });
      return;
    }
    conn_->stream->AsyncConnect(
        peer.host, peer.port, connect_deadline_,
        [self = shared_from_this()](const error_code& ec) { self->OnConnected(ec); });
  }

  void StreamFailed(const error_code& ec) {
    using StreamPhase = internal::Stream::Phase;
    const StreamPhase reached = conn_->stream->phase();
    phase_ = reached == StreamPhase::kResolve   ? Phase::kResolve
             : reached == StreamPhase::kConnect ? Phase::kConnect
                                                : Phase::kHandshake;
    if (phase_ == Phase::kHandshake && ec != beast::error::timeout &&
        ec != asio::error::operation_aborted && !client_->shut_down() && !cancelled_.load()) {
      // A failed handshake is not retried: the same server would fail it again.
      Status status = conn_->stream->ErrorStatus(ec, Peer());
      const HttpErrorKind kind = status.code() == StatusCode::kPermissionDenied
                                     ? HttpErrorKind::kCertificate
                                     : HttpErrorKind::kTlsHandshake;
      DiscardConn();
      return Finish(Kinded(std::move(status), kind));
    }
    Fail(ec);
  }

  void OnConnected(const error_code& ec) {
    using StreamPhase = internal::Stream::Phase;
    const StreamPhase reached = conn_->stream->phase();
    if (!route_.tunnel && (reached == StreamPhase::kHandshake || reached == StreamPhase::kOpen)) {
      client_->CountOpened();
    }
    if (ec) return StreamFailed(ec);
    const auto& t = conn_->stream->connect_timings();
    response_.timings.dns = t.resolve;
    response_.timings.connect = t.connect + tunnel_time_;
    response_.timings.tls = t.handshake;
    if (probing_) {
      probing_ = false;
      // h2c by prior knowledge, or whatever ALPN chose over TLS.
      if (!conn_->stream->is_tls() || conn_->stream->tls_session().alpn_protocol == "h2") {
        return StartSession();
      }
      client_->ProbeChoseHttp1(route_.key);
      BuildMessage();
    }
    Write();
  }

  void BuildMessage() {
    if (message_built_) return;
    body_ = std::move(h2_request_.body);
    request_ = BuildHttp1Message(route_, h2_request_, body_, static_cast<bool>(source_),
                                 source_length_);
    message_built_ = true;
  }

  // The connection this request opened becomes the origin's HTTP/2 session.
  void StartSession() {
    H2Session::Options options;
    options.max_concurrent_streams = client_->options().http2_max_concurrent_streams;
    options.max_response_body = client_->options().max_response_body;
    conn_->stream->ExpiresNever();
    auto session = H2Session::Start(std::move(conn_->stream), options);
    std::shared_ptr<Connection> conn = conn_;
    DetachConn();
    if (!client_->SessionOpened(conn, session)) return FinishCancelled();
    SubmitH2(session, /*reused=*/false);
  }

  // On the session's executor: reads a body_source whole (HTTP/2 sends bodies from memory),
  // then submits the request as a stream.
  void SubmitH2(const std::shared_ptr<H2Session>& session, bool reused) {
    if (!done_) return;
    if (cancelled_.load()) return Finish(CancelledStatus());
    reused_ = reused;
    if (reused) response_.timings = {};
    if (source_ && !source_read_) {
      source_read_ = true;
      Status read = ReadSourceWhole();
      if (!read.ok()) return Finish(std::move(read));
    }
    HttpRequest request;
    request.method = h2_request_.method;
    request.url = h2_request_.url;
    request.headers = h2_request_.headers;
    // The first attempt copies the body: a request the server did not process is sent again.
    request.body = retried_ ? std::move(h2_request_.body) : h2_request_.body;
    request.accept_truncated_body = accept_truncated_body_;
    sent_ = request.body.size();
    H2Session::BodySink sink;
    if (sink_ || progress_) {
      sink = [self = shared_from_this()](std::string_view chunk) { self->OnH2Chunk(chunk); };
    }
    session_ = session;
    submitted_ = Clock::now();
    h2_call_ = session->Submit(
        std::move(request), deadline_,
        [self = shared_from_this()](Result<HttpResponse> result) {
          self->OnH2Done(std::move(result));
        },
        std::move(sink),
        on_headers_ ? H2Session::HeadersHandler(on_headers_) : H2Session::HeadersHandler());
    {
      MutexLock lock(cancel_mu_);
      attached_session_ = session;
      attached_call_ = h2_call_;
    }
    // A cancellation that came before the stream was attached (see OnCancel).
    if (cancelled_.load()) session->Cancel(h2_call_);
  }

  Status ReadSourceWhole() {
    std::string& body = h2_request_.body;
    auto fail = [&](StatusCode code, std::string message) {
      return Kinded(Status(code, std::move(message) + " (" + route_.url.ToString() + ")"),
                    HttpErrorKind::kBodySource);
    };
    if (source_length_ && *source_length_ > kMaxHttp2BufferedUpload) {
      return fail(StatusCode::kInvalidArgument,
                  "request body of " + std::to_string(*source_length_) +
                      " bytes from body_source exceeds the " +
                      std::to_string(kMaxHttp2BufferedUpload) + " bytes an HTTP/2 request buffers");
    }
    for (;;) {
      const size_t size = body.size();
      body.resize(size + kUploadChunkBytes);
      Result<size_t> got = source_(body.data() + size, kUploadChunkBytes);
      if (!got.ok()) {
        body.clear();
        return fail(got.status().code(), "request body source failed: " + got.status().message());
      }
      if (*got > kUploadChunkBytes) {
        body.clear();
        return fail(StatusCode::kInvalidArgument,
                    "request body source returned " + std::to_string(*got) +
                        " bytes for a buffer of " + std::to_string(kUploadChunkBytes));
      }
      body.resize(size + *got);
      if (*got == 0) break;
      if (body.size() > kMaxHttp2BufferedUpload) {
        body.clear();
        return fail(StatusCode::kInvalidArgument, "request body from body_source exceeds the " +
                                                      std::to_string(kMaxHttp2BufferedUpload) +
                                                      " bytes an HTTP/2 request buffers");
      }
      if (source_length_ && body.size() > *source_length_) {
        body.clear();
        return fail(StatusCode::kInvalidArgument,
                    "request body source gave more than body_length (" +
                        std::to_string(*source_length_) + ") bytes");
      }
    }
    if (source_length_ && body.size() != *source_length_) {
      const size_t got = body.size();
      body.clear();
      return fail(StatusCode::kInvalidArgument, "request body source ended after " +
                                                    std::to_string(got) + " of " +
                                                    std::to_string(*source_length_) + " bytes");
    }
    return Status::Ok();
  }

  // On the session's executor, for each piece of the response body when the caller streams
  // it or watches progress.
  void OnH2Chunk(std::string_view chunk) {
    if (!sink_error_.ok()) return;  // the stream is being cancelled
    received_ += chunk.size();
    if (sink_) {
      Status status = sink_(chunk);
      if (!status.ok()) {
        sink_error_ = Kinded(Status(status.code(),
                                    "response body sink failed: " + status.message() + " (" +
                                        route_.url.ToString() + ")",
                                    status.retryable()),
                             HttpErrorKind::kBodySink);
        session_->Cancel(h2_call_);
        return;
      }
    } else {
      const size_t limit = client_->options().max_response_body;
      if (limit != 0 && h2_body_.size() + chunk.size() > limit) {
        sink_error_ = Kinded({StatusCode::kResourceExhausted,
                              "response body exceeds the client's limit of " +
                                  std::to_string(limit) + " bytes (" + route_.url.ToString() + ")"},
                             HttpErrorKind::kTooLarge);
        session_->Cancel(h2_call_);
        return;
      }
      h2_body_.append(chunk);
    }
    if (progress_) {
      HttpProgress p;
      p.sent = p.send_total.emplace(sent_);
      p.received = received_;
      progress_(p);
    }
  }

  void OnH2Done(Result<HttpResponse> result) {
    session_.reset();
    {
      MutexLock lock(cancel_mu_);
      attached_session_.reset();
    }
    if (!sink_error_.ok()) return Finish(std::move(sink_error_));
    if (!result.ok()) {
      if (cancelled_.load()) return Finish(CancelledStatus());
      if (client_->shut_down()) return FinishCancelled();
      const Status& status = result.status();
      const internal::H2ErrorKind h2_kind = internal::H2ErrorKindOf(status);
      // Not processed by the server (GOAWAY above its last stream, REFUSED_STREAM, or never
      // sent before the connection failed): sent once more, on a fresh session when this one is
      // going away or gone.
      const bool not_processed =
          h2_kind == internal::H2ErrorKind::kGoAway || h2_kind == internal::H2ErrorKind::kNotSent ||
          (h2_kind == internal::H2ErrorKind::kStreamReset && status.retryable());
      if (not_processed && !retried_ && Clock::now() < deadline_) {
        retried_ = true;
        Start(/*allow_reuse=*/true);
        return;
      }
      const HttpErrorKind kind = h2_kind != internal::H2ErrorKind::kNone ? HttpKindOf(h2_kind)
                                 : status.code() == StatusCode::kInvalidArgument
                                     ? HttpErrorKind::kInvalidRequest
                                     : HttpErrorKind::kProtocol;
      return Finish(
          Kinded(Status(status.code(), status.message() + " (" + route_.url.ToString() + ")",
                        status.retryable()),
                 kind));
    }
    HttpResponse response = std::move(*result);
    response.version = "2";
    response.connection_reused = reused_;
    response.timings.dns = response_.timings.dns;
    response.timings.connect = response_.timings.connect;
    response.timings.tls = response_.timings.tls;
    if (response.timings.first_byte.count() != 0)
      response.timings.first_byte += submitted_ - start_;
    if (!sink_ && progress_) response.body = std::move(h2_body_);
    response.timings.total = Clock::now() - start_;
    Finish(std::move(response));
  }

  // Through a proxy to an https origin: TCP to the proxy is up; ask it for a tunnel.
  void OnTcpConnected(const error_code& ec) {
    if (conn_->stream->phase() == internal::Stream::Phase::kOpen) client_->CountOpened();
    if (ec) return StreamFailed(ec);
    phase_ = Phase::kTunnel;
    tunnel_start_ = Clock::now();
    const std::string target = HostPort(route_.url);
    tunnel_request_ = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n";
    if (route_.proxy->has_credentials()) {
      tunnel_request_ += "Proxy-Authorization: " + BasicCredentials(*route_.proxy) + "\r\n";
    }
    if (!client_->options().user_agent.empty()) {
      tunnel_request_ += "User-Agent: " + client_->options().user_agent + "\r\n";
    }
    tunnel_request_ += "\r\n";
    conn_->stream->ExpiresAt(connect_deadline_);
    asio::async_write(conn_->stream->tcp(), asio::buffer(tunnel_request_),
                      [self = shared_from_this()](const error_code& e, size_t) {
                        if (e) return self->Fail(e);
                        self->ReadTunnelResponse();
                      });
  }

  void ReadTunnelResponse() {
    tunnel_parser_.emplace();
    tunnel_parser_->skip(true);  // a 2xx to CONNECT has no body; the tunnel starts right after
    tunnel_parser_->header_limit(kMaxResponseHeaderBytes);
    http::async_read(
        conn_->stream->tcp(), tunnel_buffer_, *tunnel_parser_,
        [self = shared_from_this()](const error_code& ec, size_t) { self->OnTunnelResponse(ec); });
  }

  void OnTunnelResponse(const error_code& ec) {
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted || cancelled_.load()) {
      return Fail(ec);
    }
    const std::string proxy = route_.proxy->Authority();
    const std::string where = " (" + route_.url.ToString() + ")";
    auto proxy_error = [&](std::string message, bool retryable) {
      DiscardConn();
      Finish(Kinded(Status(StatusCode::kUnavailable, std::move(message) + where, retryable),
                    HttpErrorKind::kProxy));
    };
    if (ec) {
      return proxy_error("proxy " + proxy + " did not answer CONNECT " + HostPort(route_.url) +
                             ": " + ec.message(),
                         true);
    }
    const auto& response = tunnel_parser_->get();
    const int status = static_cast<int>(response.result_int());
    if (status < 200 || status > 299) {
      std::string reason(response.reason());
      return proxy_error("proxy " + proxy + " refused CONNECT " + HostPort(route_.url) + ": HTTP " +
                             std::to_string(status) + (reason.empty() ? "" : " " + reason),
                         status >= 500);
    }
    if (tunnel_buffer_.size() != 0) {
      return proxy_error(
          "proxy " + proxy + " sent data before the TLS handshake through its tunnel", false);
    }
    tunnel_parser_.reset();
    tunnel_time_ = Clock::now() - tunnel_start_;
    phase_ = Phase::kHandshake;
    conn_->stream->AsyncHandshake(
        route_.url.host, connect_deadline_,
        [self = shared_from_this()](const error_code& e) { self->OnConnected(e); });
  }

  // Arms the stream's timer for the next read or write: the request's deadline, or sooner the
  // idle timeout. Without an idle timeout the deadline armed once in Write() stands.
  // Synchronously, the same bound for the next blocking call.
  void ArmIo() {
    if (idle_timeout_.count() <= 0) return;
    const Clock::time_point idle_at = Clock::now() + idle_timeout_;
    idle_limited_ = idle_at < deadline_;
    ExpiresAt(idle_limited_ ? idle_at : deadline_);
  }

  void ExpiresAt(Clock::time_point when) {
    if (sync_) {
      conn_->stream->SyncExpiresAt(when);
    } else {
      conn_->stream->ExpiresAt(when);
    }
  }

  // A blocking call failed: when another thread aborted the request meanwhile (cancelled, or
  // the client shut down) that is the cause, as closing the connection would have made it for
  // an asynchronous operation.
  error_code SyncError(const error_code& ec) const {
    return conn_->sync_aborted() ? error_code(asio::error::operation_aborted) : ec;
  }

  void Write() {
    phase_ = Phase::kWrite;
    ExpiresAt(deadline_);
    if (source_) {
      serializer_.emplace(request_);
      ArmIo();
      http::async_write_header(*conn_->stream, *serializer_,
                               [self = shared_from_this()](const error_code& ec, size_t) {
                                 if (ec) return self->Fail(ec);
                                 self->PumpBody();
                               });
      return;
    }
    // The head as it goes on the wire, then the body, written together (gathered) in as few
    // writes as the socket takes.
    head_.clear();
    AppendHead(request_, head_);
    written_ = 0;
    WriteSome();
  }

  // What is left to write of head_ and the body (an empty buffer only last: a TLS stream
  // writes from the first buffer).
  std::array<asio::const_buffer, 2> Unwritten() const {
    const auto& body = request_.body();
    if (written_ < head_.size()) {
      return {asio::buffer(head_.data() + written_, head_.size() - written_),
              asio::buffer(body.data(), body.size())};
    }
    const size_t done = written_ - head_.size();
    return {asio::buffer(body.data() + done, body.size() - done), asio::const_buffer()};
  }
  bool AllWritten() const { return written_ == head_.size() + request_.body().size(); }

  void WriteSome() {
    if (sync_) {
      while (!AllWritten()) {
        ArmIo();
        error_code ec;
        written_ += conn_->stream->write_some(Unwritten(), ec);
        if (ec) return Fail(SyncError(ec));
      }
      sent_ = request_.body().size();
      return Read();
    }
    ArmIo();
    conn_->stream->async_write_some(
        Unwritten(), [self = shared_from_this()](const error_code& ec, size_t n) {
          if (ec) return self->Fail(ec);
          self->written_ += n;
          if (!self->AllWritten()) return self->WriteSome();
          self->sent_ = self->request_.body().size();
          self->Read();
        });
  }

  void FailSource(std::string message, StatusCode code = StatusCode::kInvalidArgument) {
    DiscardConn();
    Finish(Kinded(Status(code, std::move(message) + " (" + route_.url.ToString() + ")"),
                  HttpErrorKind::kBodySource));
  }

  // Pulls the next piece of a streamed request body and writes it (as a chunk when the length
  // is unknown); the end of the source ends the body.
  void PumpBody() {
    source_started_ = true;
    if (!upload_buffer_) {
      upload_buffer_ =
          std::make_unique<char[]>(kChunkPrefixBytes + kUploadChunkBytes + kChunkSuffixBytes);
    }
    char* data = upload_buffer_.get() + kChunkPrefixBytes;
    Result<size_t> got = source_(data, kUploadChunkBytes);
    if (!got.ok()) {
      const Status& s = got.status();
      return FailSource("request body source failed: " + s.message(), s.code());
    }
    const size_t n = *got;
    if (n > kUploadChunkBytes) {
      return FailSource("request body source returned " + std::to_string(n) +
                        " bytes for a buffer of " + std::to_string(kUploadChunkBytes));
    }
    if (source_length_ && sent_ + n > *source_length_) {
      return FailSource("request body source gave more than body_length (" +
                        std::to_string(*source_length_) + ") bytes");
    }
    const bool chunked = !source_length_;
    if (n == 0) {
      if (!chunked) {
        if (sent_ != *source_length_) {
          return FailSource("request body source ended after " + std::to_string(sent_) + " of " +
                            std::to_string(*source_length_) + " bytes");
        }
        return Read();
      }
      static constexpr std::string_view kLastChunk = "0\r\n\r\n";
      ArmIo();
      asio::async_write(*conn_->stream, asio::buffer(kLastChunk.data(), kLastChunk.size()),
                        [self = shared_from_this()](const error_code& ec, size_t) {
                          if (ec) return self->Fail(ec);
                          self->Read();
                        });
      return;
    }
    char* begin = data;
    size_t length = n;
    if (chunked) {
      char size_line[kChunkPrefixBytes + 1];
      const int w = std::snprintf(size_line, sizeof(size_line), "%zx\r\n", n);
      begin = data - w;
      std::memcpy(begin, size_line, static_cast<size_t>(w));
      data[n] = '\r';
      data[n + 1] = '\n';
      length = static_cast<size_t>(w) + n + kChunkSuffixBytes;
    }
    ArmIo();
    asio::async_write(*conn_->stream, asio::buffer(begin, length),
                      [self = shared_from_this(), n](const error_code& ec, size_t) {
                        if (ec) return self->Fail(ec);
                        self->sent_ += n;
                        self->ReportProgress();
                        self->PumpBody();
                      });
  }

  void ReportProgress() {
    if (!progress_) return;
    HttpProgress p;
    p.sent = sent_;
    p.send_total = source_ ? source_length_ : std::optional<uint64_t>(request_.body().size());
    if (parser_) {
      p.received = parser_->get().body().received;
      if (auto length = parser_->content_length()) p.receive_total = *length;
    }
    progress_(p);
  }

  void Read() {
    phase_ = Phase::kRead;
    if (progress_ && !source_) ReportProgress();
    parser_.emplace();
    headers_taken_ = false;
    headers_reported_ = false;
    parser_->header_limit(kMaxResponseHeaderBytes);
    if (sink_) {
      parser_->get().body().sink = &sink_;
      parser_->body_limit(std::numeric_limits<uint64_t>::max());
    } else {
      const size_t limit = client_->options().max_response_body;
      parser_->body_limit(limit == 0 ? std::numeric_limits<uint64_t>::max() : limit);
    }
    if (request_.method() == http::verb::head) parser_->skip(true);
    parser_->on_chunk_header(chunk_header_hook_);
    ReadSome();
  }

  void ReadSome() {
    if (sync_) {
      error_code ec;
      do {
        ArmIo();
        http::read_some(*conn_->stream, conn_->stream->buffer(), *parser_, ec);
        if (ec) ec = SyncError(ec);
      } while (ReadProgress(ec));
      return;
    }
    ArmIo();
    http::async_read_some(
        *conn_->stream, conn_->stream->buffer(), *parser_,
        [self = shared_from_this()](const error_code& ec, size_t) {
          if (self->ReadProgress(ec)) self->ReadSome();
        });
  }

  // After a read: true when the response needs more bytes; otherwise it is handled (OnRead).
  bool ReadProgress(const error_code& ec) {
    if (!got_first_byte_ && parser_->got_some()) {
      got_first_byte_ = true;
      response_.timings.first_byte = Clock::now() - start_;
    }
    if (ec) {
      OnRead(ec);
      return false;
    }
    if (on_headers_ && !headers_reported_ && parser_->is_header_done()) {
      // The parser stops after the header (it is not eager): no body byte has reached on_body.
      const int status = static_cast<int>(parser_->get().result_int());
      if (status >= 200 || status == 101) {
        headers_reported_ = true;
        TakeHeaders();
        on_headers_(status, response_.headers);
      }
    }
    if (progress_ && parser_->is_header_done()) ReportProgress();
    if (!parser_->is_done()) return true;
    OnRead({});
    return false;
  }

  // Beast's parser adds trailer fields to the same list as the headers. Its chunk-header hook
  // runs for the last chunk right before the trailer is parsed: the headers are moved out
  // there, so what the list holds at the end is the trailer.
  void OnChunkHeader(uint64_t size) {
    if (size == 0) TakeHeaders();
  }

  void TakeHeaders() {
    if (headers_taken_) return;
    headers_taken_ = true;
    auto& message = parser_->get();
    response_.headers.reserve(std::distance(message.begin(), message.end()));
    for (const auto& field : message) {
      response_.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    static_cast<http::fields&>(message).clear();
  }

  void FillMetadata() {
    response_.version = parser_->get().version() == 10 ? "1.0" : "1.1";
    response_.connection_reused = reused_;
    response_.timings.total = Clock::now() - start_;
  }

  void OnRead(const error_code& ec) {
    if (ec) {
      if (accept_truncated_body_ && parser_->is_header_done() && IsConnectionEnd(ec)) {
        // The answer arrived; only the body was cut short.
        response_.status = static_cast<int>(parser_->get().result_int());
        TakeHeaders();
        response_.body = std::move(parser_->get().body().data);
        response_.body_truncated = true;
        FillMetadata();
        DiscardConn();
        return Finish(std::move(response_));
      }
      return Fail(ec);
    }
    auto& message = parser_->get();
    const int status = static_cast<int>(message.result_int());
    if (status >= 100 && status < 200 && status != 101) {
      // An interim response; the final one follows. Counted, and checked against the deadline
      // here: when they arrive back to back every read completes at once and the stream's
      // timer never gets to fire.
      if (++interim_responses_ > kMaxInterimResponses) {
        const std::string where = " (" + route_.url.ToString() + ")";
        DiscardConn();
        return Finish(
            Kinded(InternalError("protocol error: the server sent more than " +
                                 std::to_string(kMaxInterimResponses) +
                                 " interim (1xx) responses and no final response" + where),
                   HttpErrorKind::kProtocol));
      }
      if (Clock::now() >= deadline_) {
        idle_limited_ = false;
        return Fail(beast::error::timeout);
      }
      return Read();
    }
    response_.status = status;
    if (headers_taken_) {
      response_.trailers.reserve(std::distance(message.begin(), message.end()));
      for (const auto& field : message) {
        response_.trailers.emplace_back(std::string(field.name_string()),
                                        std::string(field.value()));
      }
    } else {
      TakeHeaders();
    }
    response_.body = std::move(message.body().data);
    FillMetadata();
    const bool keep_alive = parser_->keep_alive() && request_.keep_alive();
    if (!sync_) conn_->stream->ExpiresNever();
    ReleaseConn(keep_alive);
    Finish(std::move(response_));
  }

  static bool IsConnectionEnd(const error_code& ec) {
    return ec == http::error::partial_message || ec == http::error::end_of_stream ||
           ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == ssl::error::stream_truncated;
  }

  void Fail(const error_code& ec) {
    if (parser_ && !parser_->get().body().sink_error.ok()) {
      const Status& s = parser_->get().body().sink_error;
      Status status(
          s.code(),
          "response body sink failed: " + s.message() + " (" + route_.url.ToString() + ")",
          s.retryable());
      DiscardConn();
      return Finish(Kinded(std::move(status), HttpErrorKind::kBodySink));
    }
    const bool before_response =
        phase_ == Phase::kWrite ||
        (phase_ == Phase::kRead && interim_responses_ == 0 && parser_ && !parser_->got_some());
    const bool cancelled =
        ec == asio::error::operation_aborted || client_->shut_down() || cancelled_.load();
    // A reused connection that fails before any response byte was most likely closed by the
    // server while idle: the request is sent once more on a fresh connection (unless its body
    // came from a source, which cannot be read twice).
    const bool retry = reused_ && !retried_ && before_response && !cancelled && !source_started_ &&
                       ec != beast::error::timeout && Clock::now() < deadline_;
    Status status = retry ? Status::Ok() : ErrorStatus(ec, cancelled);
    if (conn_) DiscardConn();
    if (retry) {
      retried_ = true;
      reused_ = false;
      parser_.reset();
      Start(/*allow_reuse=*/false);
      return;
    }
    Finish(std::move(status));
  }

  void FinishCancelled() {
    Finish(Kinded(Status(StatusCode::kCancelled, "request cancelled: the HTTP client is shut down"),
                  HttpErrorKind::kCancelled));
  }

  void Finish(Result<HttpResponse> result) {
    if (probing_) {
      // This request was opening the origin's HTTP/2 session and did not get that far.
      probing_ = false;
      client_->ProbeFailed(route_.key, result.status());
    }
    if (!done_) return;
    Callback done = std::move(done_);
    done_ = nullptr;
    if (cancel_) cancel_->Unsubscribe(cancel_id_);
    done(std::move(result));
  }

  // HttpRequest::cancel fired (on the cancelling thread): stop wherever the request is. A
  // request waiting for a connection or session leaves the queue; one on an HTTP/1.1
  // connection closes it (the pending operation fails, Fail() discards the connection); one
  // on an HTTP/2 session has its stream reset (CANCEL). Steps that attach a connection or a
  // stream later check cancelled_ after attaching, so no window is missed.
  void OnCancel() {
    cancelled_.store(true);
    std::shared_ptr<Connection> conn;
    std::shared_ptr<H2Session> session;
    uint64_t call = 0;
    bool woken = false;
    {
      MutexLock lock(cancel_mu_);
      conn = attached_conn_;
      session = attached_session_;
      call = attached_call_;
      // Running synchronously on its own thread: woken there (the connection is still this
      // request's while attached), where it fails and closes the connection.
      if (conn) woken = conn->AbortSync();
    }
    if (client_->CancelWaiter(route_.key, shared_from_this())) {
      asio::post(client_->ioc(),
                 [self = shared_from_this()] { self->Finish(self->CancelledStatus()); });
      return;
    }
    if (session) session->Cancel(call);
    if (conn && !woken) {
      asio::post(conn->strand, [self = shared_from_this(), conn] {
        {
          MutexLock lock(self->cancel_mu_);
          // Still this request's (not released to the pool or handed to a session since).
          if (self->attached_conn_ != conn) return;
        }
        conn->Close();
      });
    }
  }

  Status CancelledStatus() const {
    return Kinded(
        Status(StatusCode::kCancelled, "request cancelled (" + route_.url.ToString() + ")"),
        HttpErrorKind::kCancelled);
  }

  // Forgets the connection (released, discarded or handed to a session by the caller).
  void DetachConn() {
    conn_.reset();
    sync_ = false;
    MutexLock lock(cancel_mu_);
    attached_conn_.reset();
  }
  // Detached first, so that a cancellation never acts on a connection already handed on.
  void ReleaseConn(bool keep_alive) {
    std::shared_ptr<Connection> conn = conn_;
    DetachConn();
    client_->Release(conn, keep_alive);
  }
  void DiscardConn() {
    std::shared_ptr<Connection> conn = conn_;
    DetachConn();
    client_->Discard(conn);
  }

  // The peer named in messages: the proxy while talking to it, else the origin.
  std::string Peer() const {
    if (route_.proxy && (!route_.tunnel || phase_ == Phase::kResolve || phase_ == Phase::kConnect ||
                         phase_ == Phase::kTunnel)) {
      return "proxy " + route_.proxy->Authority();
    }
    return route_.url.Authority();
  }

  const char* PhaseText() const {
    switch (phase_) {
      case Phase::kResolve: return "resolving the host";
      case Phase::kConnect: return "connecting";
      case Phase::kTunnel: return "opening a tunnel through the proxy";
      case Phase::kHandshake: return "during the TLS handshake";
      case Phase::kWrite: return "sending the request";
      case Phase::kRead: return "waiting for the response";
    }
    return "";
  }

  bool Connecting() const {
    return phase_ == Phase::kResolve || phase_ == Phase::kConnect || phase_ == Phase::kTunnel ||
           phase_ == Phase::kHandshake;
  }

  // HTTP's own errors and the client's wording for closed connections and timeouts; the
  // stream describes the rest (refused, DNS, TLS). Called while conn_ is still set.
  Status ErrorStatus(const error_code& ec, bool cancelled) const {
    const std::string where = std::string(" (") + PhaseText() + ", " + route_.url.ToString() + ")";
    if (ec == beast::error::timeout) {
      if (Connecting() && Clock::now() < deadline_) {
        return Kinded(
            DeadlineExceededError("connect to " + Peer() + " timed out after " +
                                  std::to_string(client_->options().connect_timeout.count()) +
                                  " ms" + where),
            HttpErrorKind::kConnectTimeout);
      }
      if (!Connecting() && idle_limited_) {
        return Kinded(
            DeadlineExceededError(
                "no data " + std::string(phase_ == Phase::kWrite ? "could be sent" : "arrived") +
                " for " + std::to_string(idle_timeout_.count()) + " ms (idle timeout)" + where),
            HttpErrorKind::kIdleTimeout);
      }
      return Kinded(DeadlineExceededError("request timed out after " +
                                          std::to_string(timeout_.count()) + " ms" + where),
                    HttpErrorKind::kRequestTimeout);
    }
    if (cancelled) {
      return Kinded({StatusCode::kCancelled,
                     (cancelled_.load() ? std::string("request cancelled")
                                        : "request cancelled: the HTTP client is shut down") +
                         where},
                    HttpErrorKind::kCancelled);
    }
    if (ec == http::error::body_limit) {
      return Kinded({StatusCode::kResourceExhausted,
                     "response body exceeds the client's limit of " +
                         std::to_string(client_->options().max_response_body) + " bytes" + where},
                    HttpErrorKind::kTooLarge);
    }
    if (ec == http::error::header_limit) {
      return Kinded(
          {StatusCode::kResourceExhausted,
           "response headers exceed " + std::to_string(kMaxResponseHeaderBytes) + " bytes" + where},
          HttpErrorKind::kTooLarge);
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof) {
      return Kinded(UnavailableError("connection closed by the server before a response" + where),
                    HttpErrorKind::kConnectionReset);
    }
    if (ec == http::error::partial_message) {
      return Kinded(
          UnavailableError("connection closed by the server in the middle of the response" + where),
          HttpErrorKind::kConnectionReset);
    }
    if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
      return Kinded(InternalError("malformed HTTP response: " + ec.message() + where),
                    HttpErrorKind::kProtocol);
    }
    if (conn_) {
      Status status = conn_->stream->ErrorStatus(ec, Peer());
      const HttpErrorKind kind = internal::SocketErrorKind(ec, status);
      return Kinded(Status(status.code(), status.message() + where, status.retryable()), kind);
    }
    return Kinded(UnavailableError(ec.message() + where), HttpErrorKind::kNetwork);
  }

  const std::shared_ptr<ClientState> client_;
  const Route route_;
  std::string body_;      // HTTP/1.1: the request body, unless it is the caller's body_view
  Http1Request request_;  // kept whole so a retry can resend it
  bool message_built_ = false;                // request_ is built
  // HTTP/2-capable routes: the request as given (method, url, headers, body) until it is sent
  // as a stream or request_ is built from it.
  HttpRequest h2_request_;
  bool probing_ = false;                // this request opens the origin's next HTTP/2 session
  std::shared_ptr<H2Session> session_;  // the session carrying the stream
  uint64_t h2_call_ = 0;
  Clock::time_point submitted_;
  Status sink_error_;  // on_body failed (or the collected body hit the limit)
  uint64_t received_ = 0;
  std::string h2_body_;  // collected here when only on_progress watches the body
  bool source_read_ = false;
  const std::chrono::milliseconds timeout_;
  const std::chrono::milliseconds idle_timeout_;
  const bool accept_truncated_body_;
  const Clock::time_point start_;
  const Clock::time_point deadline_;
  Clock::time_point connect_deadline_;
  Callback done_;
  HttpRequest::BodySource source_;
  const std::optional<uint64_t> source_length_;
  const HttpRequest::BodySink sink_;
  const HttpRequest::HeadersCallback on_headers_;
  bool headers_reported_ = false;  // HTTP/1.1: on_headers_ ran for this response
  const HttpRequest::ProgressCallback progress_;
  std::shared_ptr<Connection> conn_;
  std::unique_ptr<asio::steady_timer> wait_timer_;
  std::optional<http::request_serializer<http::span_body<const char>>> serializer_;  // streamed
  std::string head_;     // the request's start line and fields, serialized (a body in memory)
  size_t written_ = 0;   // bytes of head_ and the body written so far
  std::unique_ptr<char[]> upload_buffer_;
  uint64_t sent_ = 0;
  std::optional<http::response_parser<ResponseBody>> parser_;
  // The parser keeps a reference to it.
  std::function<void(uint64_t, std::string_view, error_code&)> chunk_header_hook_;
  bool headers_taken_ = false;
  HttpResponse response_;
  Phase phase_ = Phase::kResolve;
  int interim_responses_ = 0;
  bool reused_ = false;
  bool retried_ = false;
  bool source_started_ = false;
  bool sync_ = false;  // runs on the calling thread (StartSync) while on its first connection
  bool idle_limited_ = false;  // the armed timer is the idle timeout, not the deadline
  // HttpRequest::cancel, and what OnCancel acts on (set and cleared where conn_ / the stream
  // are, read by the cancelling thread).
  std::shared_ptr<CancelSignal> cancel_;
  uint64_t cancel_id_ = 0;
  std::atomic<bool> cancelled_{false};
  otlp::internal::Mutex cancel_mu_;
  std::shared_ptr<Connection> attached_conn_ OTLP_GUARDED_BY(cancel_mu_);
  std::shared_ptr<H2Session> attached_session_ OTLP_GUARDED_BY(cancel_mu_);
  uint64_t attached_call_ OTLP_GUARDED_BY(cancel_mu_) = 0;
  bool got_first_byte_ = false;
  // CONNECT tunnel through a proxy.
  std::string tunnel_request_;
  std::optional<http::response_parser<http::empty_body>> tunnel_parser_;
  beast::flat_buffer tunnel_buffer_;
  Clock::time_point tunnel_start_;
  Clock::duration tunnel_time_{};
};

Lease ClientState::Acquire(const std::string& key, bool tls, bool h2, bool allow_reuse,
                           const std::shared_ptr<Exchange>& waiter) {
  Lease lease;
  std::shared_ptr<Connection> evicted;
  std::vector<std::shared_ptr<Connection>> expired;
  // Closed on return, outside mu_ (nothing of theirs is pending: they sat idle).
  struct CloseExpired {
    std::vector<std::shared_ptr<Connection>>& conns;
    ~CloseExpired() {
      for (auto& conn : conns) conn->Close();
    }
  } close_expired{expired};
  {
    MutexLock lock(mu_);
    if (shut_down_) return lease;
    Origin& origin = origins_[key];
    origin.tls = tls;
    ExpireIdleLazily(origin, expired);
    if (h2 && origin.protocol != Origin::Protocol::kHttp1) {
      if (origin.session && origin.session->is_open() && !origin.session->IsDraining()) {
        lease.session = origin.session;
        lease.reused = true;
        return lease;
      }
      origin.session.reset();  // closed or going away: new requests get a new one
      if (origin.h2_connecting) {
        origin.h2_waiters.push_back(waiter);
        lease.queued = true;
        return lease;
      }
      origin.h2_connecting = true;
      lease.h2_probe = true;
      lease.conn = NewConnection(key, tls, /*offer_h2=*/true);
      ++origin.busy;
      active_.insert(lease.conn);
      return lease;
    }
    if (allow_reuse && !origin.idle.empty()) {
      lease.conn = std::move(origin.idle.back());
      origin.idle.pop_back();
      idle_count_.fetch_sub(1, std::memory_order_relaxed);
      lease.reused = true;
    } else {
      const size_t limit = options_.max_connections_per_host;
      if (limit != 0 && origin.busy + origin.idle.size() >= limit) {
        if (origin.idle.empty()) {
          origin.waiters.push_back(waiter);
          lease.queued = true;
          return lease;
        }
        // A fresh connection is wanted while the idle ones count against the limit: make room.
        evicted = std::move(origin.idle.front());
        origin.idle.pop_front();
        idle_count_.fetch_sub(1, std::memory_order_relaxed);
      }
      lease.conn = NewConnection(key, tls, /*offer_h2=*/false);
    }
    ++origin.busy;
    active_.insert(lease.conn);
  }
  if (evicted) asio::post(evicted->strand, [evicted] { evicted->Close(); });
  return lease;
}

std::shared_ptr<Connection> ClientState::TakeIdle(const std::string& key, bool h2) {
  std::shared_ptr<Connection> conn;
  std::vector<std::shared_ptr<Connection>> expired;
  {
    MutexLock lock(mu_);
    if (shut_down_) return nullptr;
    auto it = origins_.find(key);
    if (it == origins_.end()) return nullptr;
    Origin& origin = it->second;
    if (h2 && origin.protocol != Origin::Protocol::kHttp1) return nullptr;
    ExpireIdleLazily(origin, expired);
    if (!origin.idle.empty()) {
      conn = std::move(origin.idle.back());
      origin.idle.pop_back();
      idle_count_.fetch_sub(1, std::memory_order_relaxed);
      ++origin.busy;
      active_.insert(conn);
      conn->BeginSyncUse();
    } else {
      EraseIfUnused(it);
    }
  }
  for (auto& old : expired) old->Close();
  return conn;
}

std::shared_ptr<Exchange> ClientState::GrantSlot(Origin& origin, const std::string& key,
                                                 std::shared_ptr<Connection>& conn) {
  if (shut_down_ || origin.waiters.empty()) return nullptr;
  std::shared_ptr<Exchange> waiter = std::move(origin.waiters.front());
  origin.waiters.pop_front();
  if (!conn) conn = NewConnection(key, origin.tls, /*offer_h2=*/false);
  ++origin.busy;
  active_.insert(conn);
  return waiter;
}

void ClientState::Release(const std::shared_ptr<Connection>& conn, bool keep_alive) {
  if (conn->EndSyncUse()) keep_alive = false;  // aborted under a synchronous request
  uint64_t generation = 0;
  std::shared_ptr<Exchange> waiter;
  std::shared_ptr<Connection> for_waiter;
  bool pooled = false;
  {
    MutexLock lock(mu_);
    active_.erase(conn);
    auto it = origins_.find(conn->key);
    if (it == origins_.end()) {
      keep_alive = false;
    } else {
      Origin& origin = it->second;
      --origin.busy;
      keep_alive = keep_alive && !shut_down_;
      if (keep_alive && !origin.waiters.empty()) {
        for_waiter = conn;  // straight to the next request in line
        waiter = GrantSlot(origin, conn->key, for_waiter);
      } else if (keep_alive && origin.idle.size() < options_.max_idle_per_host) {
        origin.idle.push_back(conn);
        idle_count_.fetch_add(1, std::memory_order_relaxed);
        generation = ++conn->idle_generation;
        conn->idle_since = Clock::now();
        pooled = true;
      } else {
        keep_alive = false;
        waiter = GrantSlot(origin, conn->key, for_waiter);
        EraseIfUnused(it);
      }
    }
  }
  if (waiter) waiter->Granted(for_waiter, /*reused=*/for_waiter == conn);
  if (!keep_alive) {
    conn->Close();
    return;
  }
  if (pooled && !caller_driven_) StartIdleTimer(conn, generation);
}

void ClientState::Discard(const std::shared_ptr<Connection>& conn) {
  conn->EndSyncUse();
  std::shared_ptr<Exchange> waiter;
  std::shared_ptr<Connection> for_waiter;
  {
    MutexLock lock(mu_);
    if (active_.erase(conn) != 0) {
      auto it = origins_.find(conn->key);
      if (it != origins_.end()) {
        --it->second.busy;
        waiter = GrantSlot(it->second, conn->key, for_waiter);
        EraseIfUnused(it);
      }
    }
  }
  conn->Close();
  if (waiter) waiter->Granted(std::move(for_waiter), /*reused=*/false);
}

bool ClientState::CancelWaiter(const std::string& key, const std::shared_ptr<Exchange>& waiter) {
  MutexLock lock(mu_);
  auto it = origins_.find(key);
  if (it == origins_.end()) return false;
  for (auto* waiters : {&it->second.waiters, &it->second.h2_waiters}) {
    auto pos = std::find(waiters->begin(), waiters->end(), waiter);
    if (pos == waiters->end()) continue;
    waiters->erase(pos);
    EraseIfUnused(it);
    return true;
  }
  return false;
}

bool ClientState::SessionOpened(const std::shared_ptr<Connection>& conn,
                                const std::shared_ptr<H2Session>& session) {
  std::deque<std::shared_ptr<Exchange>> waiters;
  bool shut_down = false;
  {
    MutexLock lock(mu_);
    active_.erase(conn);
    shut_down = shut_down_;
    std::erase_if(sessions_, [](const std::weak_ptr<H2Session>& w) { return w.expired(); });
    sessions_.push_back(session);
    auto it = origins_.find(conn->key);
    if (it != origins_.end()) {
      Origin& origin = it->second;
      --origin.busy;
      origin.h2_connecting = false;
      origin.protocol = Origin::Protocol::kHttp2;
      waiters.swap(origin.h2_waiters);
      if (!shut_down) origin.session = session;
      EraseIfUnused(it);
    }
  }
  if (shut_down) session->Close();
  for (auto& waiter : waiters) {
    if (shut_down) {
      waiter->Granted(nullptr, false);
    } else {
      waiter->GrantedSession(session);
    }
  }
  return !shut_down;
}

void ClientState::ProbeChoseHttp1(const std::string& key) {
  std::deque<std::shared_ptr<Exchange>> waiters;
  {
    MutexLock lock(mu_);
    auto it = origins_.find(key);
    if (it == origins_.end()) return;
    it->second.h2_connecting = false;
    it->second.protocol = Origin::Protocol::kHttp1;
    waiters.swap(it->second.h2_waiters);
  }
  for (auto& waiter : waiters) waiter->AskAgain();
}

void ClientState::ProbeFailed(const std::string& key, const Status& status) {
  std::deque<std::shared_ptr<Exchange>> waiters;
  {
    MutexLock lock(mu_);
    auto it = origins_.find(key);
    if (it == origins_.end()) return;
    it->second.h2_connecting = false;
    waiters.swap(it->second.h2_waiters);
    EraseIfUnused(it);
  }
  const HttpErrorKind kind = HttpErrorKindOf(status);
  // The probe's own deadline or cancellation says nothing about the server: the next waiter
  // opens the connection instead. A failure to connect would fail every waiter the same way.
  const bool ask_again = kind == HttpErrorKind::kRequestTimeout ||
                         kind == HttpErrorKind::kIdleTimeout || kind == HttpErrorKind::kCancelled ||
                         kind == HttpErrorKind::kBodySource || kind == HttpErrorKind::kNone;
  for (auto& waiter : waiters) {
    if (ask_again) {
      waiter->AskAgain();
    } else {
      waiter->FailWaiting(status);
    }
  }
}

void ClientState::Shutdown() {
  std::vector<std::shared_ptr<Connection>> all;
  std::vector<std::shared_ptr<Exchange>> waiters;
  std::vector<std::shared_ptr<H2Session>> sessions;
  {
    MutexLock lock(mu_);
    shut_down_ = true;
    for (auto& [key, origin] : origins_) {
      all.insert(all.end(), origin.idle.begin(), origin.idle.end());
      origin.idle.clear();
      waiters.insert(waiters.end(), origin.waiters.begin(), origin.waiters.end());
      origin.waiters.clear();
      waiters.insert(waiters.end(), origin.h2_waiters.begin(), origin.h2_waiters.end());
      origin.h2_waiters.clear();
      origin.session.reset();
    }
    idle_count_.store(0, std::memory_order_relaxed);
    all.insert(all.end(), active_.begin(), active_.end());
    for (auto& weak : sessions_) {
      if (auto session = weak.lock()) sessions.push_back(std::move(session));
    }
    sessions_.clear();
  }
  for (auto& conn : all) {
    // A request running synchronously on another thread is woken now (its runtime may have
    // nobody driving it to run the posted close).
    conn->AbortSync();
    asio::post(conn->strand, [conn] { conn->Close(); });
  }
  // Close() fails every stream of a session with kCancelled, then ends its connection.
  for (auto& session : sessions) session->Close();
  for (auto& waiter : waiters) waiter->Granted(nullptr, false);
}

void ClientState::StartIdleTimer(const std::shared_ptr<Connection>& conn, uint64_t generation) {
  if (options_.idle_timeout.count() <= 0) return;
  conn->idle_timer.expires_after(options_.idle_timeout);
  conn->idle_timer.async_wait([weak = weak_from_this(), conn, generation](const error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) {
      self->ExpireIdle(conn, generation);
    } else {
      conn->Close();
    }
  });
}

void ClientState::ExpireIdle(const std::shared_ptr<Connection>& conn, uint64_t generation) {
  {
    MutexLock lock(mu_);
    if (conn->idle_generation != generation) return;
    auto it = origins_.find(conn->key);
    if (it == origins_.end()) return;
    auto& idle = it->second.idle;
    auto pos = std::find(idle.begin(), idle.end(), conn);
    if (pos == idle.end()) return;  // taken for a request meanwhile
    idle.erase(pos);
    idle_count_.fetch_sub(1, std::memory_order_relaxed);
    EraseIfUnused(it);
  }
  conn->Close();
}

}  // namespace

struct HttpClient::Impl {
  // SendAsync, or with `may_block` (the calling thread may block: a caller-driven runtime,
  // outside its work) SendFromCaller.
  void Submit(HttpRequest request, Callback done, bool may_block);

  std::shared_ptr<Runtime> runtime;
  std::shared_ptr<ClientState> state;
};

Result<std::unique_ptr<HttpClient>> HttpClient::Create(std::shared_ptr<Runtime> runtime,
                                                       Options options) {
  if (!runtime) return InvalidArgumentError("HttpClient::Create: runtime is null");
  // The client offers what each request's HttpVersionPolicy allows; nothing else may be listed.
  for (const std::string& protocol : options.tls.alpn_protocols) {
    if (protocol != "http/1.1" && protocol != "h2") {
      return InvalidArgumentError("HttpClient speaks HTTP/1.1 and HTTP/2; TLS ALPN protocol '" +
                                  protocol + "' cannot be offered");
    }
  }
  TlsOptions tls = options.tls;
  tls.alpn_protocols = {"http/1.1"};
  OTLP_ASSIGN_OR_RETURN(std::shared_ptr<const internal::TlsContext> tls_ctx,
                        internal::TlsContext::Client(tls));
  tls.alpn_protocols = {"h2", "http/1.1"};
  OTLP_ASSIGN_OR_RETURN(std::shared_ptr<const internal::TlsContext> tls_h2_ctx,
                        internal::TlsContext::Client(tls, tls_ctx.get()));
  auto impl = std::make_unique<Impl>();
  impl->state = std::make_shared<ClientState>(internal::IoContext(*runtime),
                                              runtime->caller_driven(), std::move(options),
                                              std::move(tls_ctx), std::move(tls_h2_ctx));
  impl->runtime = std::move(runtime);
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpClient::~HttpClient() {
  Shutdown();
}

void HttpClient::Shutdown() noexcept {
  impl_->state->Shutdown();
}

Result<HttpResponse> HttpClient::Send(HttpRequest request) {
  if (impl_->runtime->InIoThread()) {
    return FailedPreconditionError(
        "HttpClient::Send() called on the runtime's I/O thread, where it would deadlock; use "
        "SendAsync()");
  }
  if (impl_->runtime->caller_driven()) {
    // On a pooled keep-alive connection the request runs right here; otherwise this thread
    // runs the I/O until the response (see Runtime::CreateCallerDriven).
    auto result = internal::DriveUntilDone<Result<HttpResponse>>(
        *impl_->runtime, [&](auto done) {
          impl_->Submit(std::move(request), std::move(done), /*may_block=*/true);
        });
    // A failed request may leave work behind (closing its connection): run what is ready.
    if (!result.ok()) impl_->runtime->Poll();
    return result;
  }
  // Shared with the callback: the promise must outlive set_value() even after get() returns.
  auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
  std::future<Result<HttpResponse>> future = promise->get_future();
  SendAsync(std::move(request),
            [promise](Result<HttpResponse> result) { promise->set_value(std::move(result)); });
  return future.get();
}

void HttpClient::SendAsync(HttpRequest request, std::function<void(Result<HttpResponse>)> done) {
  impl_->Submit(std::move(request), std::move(done), /*may_block=*/false);
}

void HttpClient::SendFromCaller(HttpRequest request,
                                std::function<void(Result<HttpResponse>)> done) {
  const bool may_block = impl_->runtime->caller_driven() && !impl_->runtime->InIoThread();
  impl_->Submit(std::move(request), std::move(done), may_block);
}

void HttpClient::Impl::Submit(HttpRequest request, Callback done, bool may_block) {
  if (!done) done = [](Result<HttpResponse>) {};
  auto fail = [&](Status status) {
    asio::post(state->ioc(), [done = std::move(done),
                              status = Kinded(std::move(status), HttpErrorKind::kInvalidRequest)] {
      done(status);
    });
  };
  Result<Url> url = Url::Parse(request.url);
  if (!url.ok()) return fail(url.status());
  if (url->scheme != "http" && url->scheme != "https") {
    return fail(InvalidArgumentError("HttpClient: unsupported scheme '" + url->scheme + "' in '" +
                                     url->ToString() + "' (expected http or https)"));
  }
  if (!IsToken(request.method)) {
    return fail(InvalidArgumentError("invalid HTTP method '" + request.method + "'"));
  }
  if ((request.body_source ? 1 : 0) + (request.body.empty() ? 0 : 1) +
          (request.body_view.empty() ? 0 : 1) >
      1) {
    return fail(InvalidArgumentError(
        "HttpRequest has more than one of body, body_view and body_source"));
  }
  Route route;
  route.key = url->scheme + "://" + url->Authority();
  if (!request.proxy.empty()) {
    Result<Url> proxy = Url::Parse(request.proxy);
    if (!proxy.ok()) {
      return fail(InvalidArgumentError("invalid proxy URL: " + proxy.status().message()));
    }
    if (proxy->scheme != "http") {
      return fail(InvalidArgumentError("unsupported proxy scheme '" + proxy->scheme +
                                       "' (only http:// proxies)"));
    }
    route.tunnel = url->is_tls();
    // Credentials are part of the key: a tunnel or connection opened with one user's proxy
    // credentials is not handed to another's requests. The key is never shown.
    route.key += " via ";
    if (proxy->has_credentials()) {
      route.key += proxy->user + ":" + proxy->password.value_or("") + "@";
    }
    route.key += HostPort(*proxy);
    route.proxy = std::move(*proxy);
  }
  bool has_user_agent = false;
  for (const auto& [name, value] : request.headers) {
    if (!IsToken(name)) return fail(InvalidArgumentError("invalid header name '" + name + "'"));
    if (!IsValidHeaderValue(value)) {
      return fail(InvalidArgumentError("header '" + name + "' has CR, LF or NUL in its value"));
    }
    if (name.size() > kMaxRequestFieldBytes || value.size() > kMaxRequestFieldBytes) {
      return fail(InvalidArgumentError(
          "header '" + name.substr(0, 64) + "' is " + std::to_string(name.size() + value.size()) +
          " bytes long; a request header name or value may have at most " +
          std::to_string(kMaxRequestFieldBytes) + " bytes"));
    }
    has_user_agent = has_user_agent || EqualsIgnoreCase(name, "user-agent");
  }
  const Options& options = state->options();
  if (!has_user_agent && !options.user_agent.empty()) {
    request.headers.emplace_back("User-Agent", options.user_agent);
  }
  const HttpVersionPolicy policy = request.http_version.value_or(options.http_version);
  route.h2 = !route.proxy && (url->is_tls() ? policy != HttpVersionPolicy::kHttp1Only
                                            : policy == HttpVersionPolicy::kHttp2PriorKnowledge);
  // Origins that may speak HTTP/2 are pooled apart: their TLS connections offer "h2".
  if (route.h2) route.key += url->is_tls() ? " h2" : " h2c";
  route.url = std::move(*url);
  const auto timeout = request.timeout.count() > 0 ? request.timeout : options.default_timeout;
  const auto idle_timeout =
      request.idle_timeout.count() > 0 ? request.idle_timeout : options.idle_timeout_between_bytes;
  std::shared_ptr<CancelSignal> cancel = std::move(request.cancel);
  auto exchange = std::make_shared<Exchange>(state, std::move(route), timeout, idle_timeout,
                                             request, std::move(done));
  exchange->WatchCancel(std::move(cancel));
  if (may_block && exchange->SyncEligible()) {
    const Route& r = exchange->route();
    if (std::shared_ptr<Connection> conn = state->TakeIdle(r.key, r.h2)) {
      return exchange->StartSync(conn);
    }
  }
  exchange->Start(/*allow_reuse=*/true);
}

uint64_t HttpClient::connections_opened() const noexcept {
  return impl_->state->opened();
}

size_t HttpClient::idle_connections() const noexcept {
  return impl_->state->idle_count();
}

}  // namespace otlp::net
