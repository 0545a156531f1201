#include "otlp/nats/internal/conn.h"

#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <cstring>
#include <future>
#include <nlohmann/json.hpp>
#include <random>
#include <sys/socket.h>
#include <cerrno>

#include "otlp/core/log.h"
#include "otlp/core/version.h"
#include "otlp/nats/internal/nkeys.h"
#include "otlp/nats/internal/nuid.h"
#include "otlp/net/internal/runtime_impl.h"
#include "otlp/net/internal/stream.h"
#include "otlp/net/internal/tls.h"
#include "otlp/propagation/global_propagator.h"
#include "otlp/trace/provider.h"

namespace otlp::nats::internal {

namespace asio = boost::asio;
using otlp::internal::MutexLock;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kInitialReadBuffer = 64 * 1024;
constexpr std::string_view kCrLf = "\r\n";
constexpr size_t kDeliverBatch = 64;  // messages of one subscription per turn
// A publisher that finds this much buffered and no write in progress writes it itself (plain
// TCP only: a TLS stream is written by the I/O thread alone).
constexpr size_t kDirectWriteBytes = 32 * 1024;

Status Error(StatusCode code, ErrorKind kind, std::string message, bool retryable = false) {
  return MakeError(code, kind, "NATS: " + std::move(message), retryable);
}

Status ClosedError() {
  return Error(StatusCode::kFailedPrecondition, ErrorKind::kConnectionClosed,
               "the connection is closed");
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsTemporary(std::string_view subject) { return subject.starts_with("_INBOX."); }

// A header value that would break the header block (a plain loop: string_view::find_first_of
// calls memchr once per character).
bool HasLineBreak(std::string_view value) noexcept {
  for (char c : value) {
    if (c == '\r' || c == '\n') return true;
  }
  return false;
}

void AppendNumber(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

// Writes "key: value\r\n" lines into a header block being built (the carrier of a publish that
// has no headers of its own).
class LineCarrier final : public propagation::TextMapCarrier {
 public:
  explicit LineCarrier(std::string& block) : block_(block) {}
  std::string_view Get(std::string_view) const noexcept override { return {}; }
  void Set(std::string_view key, std::string_view value) noexcept override {
    if (HasLineBreak(value)) return;
    try {
      block_.append(key).append(": ").append(value).append("\r\n");
    } catch (...) {
    }
  }

 private:
  std::string& block_;
};

// Reads and writes a Headers (a publish with headers of its own).
class HeadersCarrier final : public propagation::TextMapCarrier {
 public:
  explicit HeadersCarrier(Headers& headers) : headers_(headers) {}
  std::string_view Get(std::string_view key) const noexcept override {
    return headers_.FindIgnoringCase(key).value_or(std::string_view());
  }
  void Set(std::string_view key, std::string_view value) noexcept override {
    if (HasLineBreak(value)) return;
    try {
      headers_.Set(key, std::string(value));
    } catch (...) {
    }
  }

 private:
  Headers& headers_;
};

// Reads a received message's raw header block.
class BlockCarrier final : public propagation::TextMapCarrier {
 public:
  explicit BlockCarrier(std::string_view block) : block_(block) {}
  std::string_view Get(std::string_view key) const noexcept override {
    return FindInHeaderBlock(block_, key);
  }
  void Set(std::string_view, std::string_view) noexcept override {}

 private:
  std::string_view block_;
};

}  // namespace

bool ValidSubject(std::string_view subject, bool wildcards) noexcept {
  if (subject.empty()) return false;
  size_t token_start = 0;
  for (size_t i = 0; i <= subject.size(); ++i) {
    if (i == subject.size() || subject[i] == '.') {
      const size_t len = i - token_start;
      if (len == 0) return false;
      if (len == 1 && (subject[token_start] == '*' || subject[token_start] == '>')) {
        if (!wildcards) return false;
        if (subject[token_start] == '>' && i != subject.size()) return false;
      }
      token_start = i + 1;
      continue;
    }
    const auto c = static_cast<unsigned char>(subject[i]);
    if (c <= ' ' || c == 0x7f) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Dispatcher

Dispatcher::Dispatcher(std::string name) {
  thread_ = std::thread([state = state_, name = std::move(name)] {
#ifdef __linux__
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
#endif
    Run(*state);
  });
}

Dispatcher::~Dispatcher() {
  Stop();
  Join();
}

void Dispatcher::Schedule(State& state, std::shared_ptr<SubState> sub) {
  bool wake = false;
  {
    MutexLock lock(state.mu);
    state.items.push_back(Item{std::move(sub), {}});
    wake = state.sleeping;
  }
  if (wake) state.cv.NotifyOne();
}

void Dispatcher::Post(std::function<void()> task) {
  bool wake = false;
  {
    MutexLock lock(state_->mu);
    if (state_->stop) return;
    state_->items.push_back(Item{nullptr, std::move(task)});
    wake = state_->sleeping;
  }
  if (wake) state_->cv.NotifyOne();
}

void Dispatcher::Stop() {
  {
    MutexLock lock(state_->mu);
    state_->stop = true;
  }
  state_->cv.NotifyAll();
}

void Dispatcher::Join() {
  if (!thread_.joinable()) return;
  if (OnThisThread()) {
    // Destroyed from one of its own callbacks: the loop ends after what is queued, on its own
    // (it holds the State).
    thread_.detach();
    return;
  }
  thread_.join();
}

void Dispatcher::Run(State& state) {
  while (true) {
    Item item;
    {
      MutexLock lock(state.mu);
      while (state.items.empty() && !state.stop) {
        state.sleeping = true;
        state.cv.Wait(lock);
        state.sleeping = false;
      }
      if (state.items.empty()) return;  // stopped, nothing left
      item = std::move(state.items.front());
      state.items.pop_front();
    }
    if (item.sub) {
      Deliver(state, *item.sub);
    } else if (item.task) {
      try {
        item.task();
      } catch (const std::exception& e) {
        OTLP_LOG(kWarn, std::string("nats: an event callback threw: ") + e.what());
      } catch (...) {
        OTLP_LOG(kWarn, "nats: an event callback threw");
      }
    }
  }
}

void Dispatcher::Deliver(State& state, SubState& sub) {
  std::shared_ptr<Conn> conn = sub.conn.lock();
  for (size_t n = 0;; ++n) {
    Message msg;
    {
      MutexLock lock(sub.mu);
      sub.in_callback = false;
      if (sub.pending.empty()) {
        sub.scheduled = false;
        sub.slow = false;
        lock.Unlock();
        sub.cv.NotifyAll();  // drain waiters
        return;
      }
      if (n == kDeliverBatch) {
        // Let the other subscriptions of this thread have a turn.
        lock.Unlock();
        std::shared_ptr<SubState> self;
        if (conn) self = conn->FindSub(sub.sid);
        if (self) {
          Schedule(state, std::move(self));
          return;
        }
        lock.Lock();
      }
      msg = std::move(sub.pending.front());
      sub.pending.pop_front();
      sub.pending_bytes -= msg.data().size() + msg.header_block().size();
      sub.in_callback = true;
    }
    sub.delivered.fetch_add(1, std::memory_order_relaxed);
    if (!conn) continue;
    conn->DeliverToCallback(sub, msg);
  }
}

// ---------------------------------------------------------------------------------------------
// Conn: the strand's state

struct Conn::PongWaiter {
  bool done = false;
  Status status;
  Clock::time_point sent = Clock::now();
  Clock::time_point answered{};
};

struct Conn::RequestWaiter {
  otlp::internal::CondVar cv;
  bool done = false;
  std::optional<Result<Message>> result;
  std::function<void(Result<Message>)> callback;  // asynchronous requests
  net::Timer timer;
  trace::Span span;
};

// One TCP (or TLS) connection to one server; handlers hold it alive while they are pending.
struct Link {
  explicit Link(std::shared_ptr<net::internal::Stream> s, uint64_t gen)
      : stream(std::move(s)), generation(gen) {}
  std::shared_ptr<net::internal::Stream> stream;
  uint64_t generation;
  std::string writing;    // the write in flight
  std::string handshake;  // CONNECT + PING
  std::string peer;       // "host:port" for messages
};

struct Conn::Io {
  explicit Io(asio::any_io_executor executor)
      : strand(asio::make_strand(executor)), ping_timer(strand), reconnect_timer(strand) {}

  enum class Phase { kIdle, kAwaitInfo, kTlsHandshake, kAwaitPong, kConnected };

  asio::strand<asio::any_io_executor> strand;
  asio::steady_timer ping_timer;
  asio::steady_timer reconnect_timer;
  std::shared_ptr<Link> link;
  std::shared_ptr<const net::internal::TlsContext> tls;
  ServerPool pool;
  int current = -1;
  uint64_t generation = 0;
  Phase phase = Phase::kIdle;
  std::vector<char> rbuf = std::vector<char>(kInitialReadBuffer);
  size_t rbegin = 0;
  size_t rend = 0;
  std::string owed_pongs;  // server PINGs answered once connected
  int pings_outstanding = 0;
  bool ever_connected = false;
  bool initial = true;  // still in Connect()'s round over the pool
  size_t initial_tried = 0;
  std::string initial_errors;
  bool closing = false;
  std::vector<std::shared_ptr<SubState>> ready;  // subscriptions to hand to dispatchers
  ServerInfo info;
  std::optional<NKeyUser> nkey;
  std::string jwt;
  std::mt19937_64 rng{std::random_device{}()};
};

// ---------------------------------------------------------------------------------------------
// Construction, the first connect, close

Conn::Conn(Options options) : options_(std::move(options)) {
  runtime_ = options_.runtime ? options_.runtime
                              : net::Runtime::Create({.threads = 1, .thread_name = "otlp-nats"});
  io_ = std::make_unique<Io>(net::internal::IoContext(*runtime_).get_executor());
  const int n = options_.delivery_threads < 1 ? 1 : options_.delivery_threads;
  for (int i = 0; i < n; ++i) {
    dispatchers_.push_back(std::make_unique<Dispatcher>("otlp-nats-cb" + std::to_string(i)));
  }
  events_ = std::make_unique<Dispatcher>("otlp-nats-ev");
  tracer_ = options_.tracing.tracer ? *options_.tracing.tracer
                                    : trace::GetTracer("otlp.nats", kVersion);
  trace_spans_ = options_.tracing.enabled;
  trace_propagate_ = options_.tracing.propagate;
  limits_.max_control_line = options_.max_control_line < 64 ? 64 : options_.max_control_line;
  mux_prefix_ = "_INBOX." + NewNuid() + ".";
}

Conn::~Conn() {
  for (auto& d : dispatchers_) {
    d->Stop();
    d->Join();
  }
  events_->Stop();
  events_->Join();
}

Status Conn::Start(const std::shared_ptr<Connection>& owner) {
  owner_ = owner;
  if (options_.write_buffer_bytes < 64 * 1024) options_.write_buffer_bytes = 64 * 1024;
  if (options_.max_pings_outstanding < 1) options_.max_pings_outstanding = 1;
  if (options_.connect_timeout.count() <= 0) {
    return Error(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                 "connect_timeout must be positive");
  }
  int credentials = 0;
  credentials += !options_.token.empty();
  credentials += !options_.user.empty() || !options_.password.empty();
  credentials += !options_.nkey_seed.empty();
  credentials += !options_.credentials_file.empty();
  if (credentials > 1) {
    return Error(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                 "give one kind of credentials (token, user/password, NKey seed or credentials "
                 "file), not several");
  }
  if (!options_.nkey_seed.empty()) {
    Result<NKeyUser> key = DecodeUserSeed(options_.nkey_seed);
    if (!key.ok()) return MakeError(key.status().code(), ErrorKind::kInvalidArgument,
                                    key.status().message());
    io_->nkey = std::move(*key);
  }
  if (!options_.credentials_file.empty()) {
    std::FILE* f = std::fopen(options_.credentials_file.c_str(), "rb");
    if (f == nullptr) {
      return Error(StatusCode::kNotFound, ErrorKind::kInvalidArgument,
                   "cannot read credentials file " + options_.credentials_file + ": " +
                       std::strerror(errno));
    }
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
    Result<Credentials> creds = ParseCredentials(text);
    if (!creds.ok()) {
      return MakeError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                       creds.status().message() + " (" + options_.credentials_file + ")");
    }
    Result<NKeyUser> key = DecodeUserSeed(creds->seed);
    if (!key.ok()) {
      return MakeError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                       key.status().message() + " (" + options_.credentials_file + ")");
    }
    io_->nkey = std::move(*key);
    io_->jwt = std::move(creds->jwt);
  }
  if (Status s = io_->pool.Init(options_.servers, options_.randomize, std::random_device{}());
      !s.ok()) {
    return MakeError(s.code(), ErrorKind::kInvalidArgument, s.message());
  }
  bool any_tls = options_.tls_required;
  for (const ServerUrl& s : io_->pool.servers()) any_tls = any_tls || s.tls;
  if (any_tls) {
    Result<std::shared_ptr<net::internal::TlsContext>> tls =
        net::internal::TlsContext::Client(options_.tls);
    if (!tls.ok()) return MakeError(tls.status().code(), ErrorKind::kTls, tls.status().message());
    io_->tls = std::move(*tls);
  }
  {
    MutexLock lock(out_mu_);
    for (const ServerUrl& s : io_->pool.servers()) server_urls_.push_back(s.ToString());
  }

  asio::post(io_->strand, [self = shared_from_this()] { self->ConnectTo(0); });
  MutexLock lock(start_mu_);
  start_cv_.Wait(lock, [&]() OTLP_REQUIRES(start_mu_) { return start_done_; });
  return start_status_;
}

void Conn::Close(Status why) {
  {
    MutexLock lock(out_mu_);
    if (state_.load() == ConnectionState::kClosed) return;
    state_.store(ConnectionState::kClosed, std::memory_order_release);
    if (!why.ok()) last_error_ = why;
  }
  out_cv_.NotifyAll();
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  asio::post(io_->strand, [self = shared_from_this(), why, done] {
    self->CloseOnStrand(why);
    done->set_value();
  });
  finished.wait_for(std::chrono::seconds(5));
}

void Conn::CloseOnStrand(Status why) {
  if (io_->closing) return;
  io_->closing = true;
  ++io_->generation;
  DropLink();
  io_->ping_timer.cancel();
  io_->reconnect_timer.cancel();
  const Status reason = why.ok() ? ClosedError() : why;
  bool send_closed = false;
  {
    MutexLock lock(out_mu_);
    state_.store(ConnectionState::kClosed, std::memory_order_release);
    if (!why.ok()) last_error_ = why;
    for (auto& w : pongs_) {
      if (w) {
        w->done = true;
        w->status = reason;
      }
    }
    pongs_.clear();
    pings_in_out_ = 0;
    out_.clear();
    write_active_ = false;
    connected_url_.clear();
    send_closed = !closed_event_sent_;
    closed_event_sent_ = true;
  }
  out_cv_.NotifyAll();
  // Requests in flight fail now.
  std::vector<std::shared_ptr<RequestWaiter>> waiters;
  {
    MutexLock lock(req_mu_);
    for (auto& [token, w] : requests_) waiters.push_back(w);
    requests_.clear();
  }
  for (auto& w : waiters) {
    std::function<void(Result<Message>)> callback;
    {
      MutexLock lock(req_mu_);
      w->done = true;
      w->result.emplace(reason);
      callback = std::move(w->callback);
    }
    w->cv.NotifyAll();
    if (callback) {
      events_->Post([callback = std::move(callback), reason] { callback(reason); });
    }
  }
  std::vector<std::shared_ptr<SubState>> subs;
  {
    MutexLock lock(subs_mu_);
    for (auto& [sid, s] : subs_) subs.push_back(s);
    subs_.clear();
  }
  for (auto& s : subs) CloseSub(*s, reason);
  {
    MutexLock lock(start_mu_);
    if (!start_done_) {
      start_done_ = true;
      start_status_ = reason;
    }
  }
  start_cv_.NotifyAll();
  if (send_closed && options_.on_closed) Event(options_.on_closed);
}

// ---------------------------------------------------------------------------------------------
// Connecting (on the strand)

void Conn::DropLink() {
  {
    // A publisher writing directly (DirectWrite) finishes before the socket closes.
    MutexLock lock(direct_mu_);
    direct_fd_ = -1;
  }
  if (io_->link) {
    io_->link->stream->Close();
    io_->link.reset();
  }
  io_->phase = Io::Phase::kIdle;
}

void Conn::ConnectTo(int index) {
  if (io_->closing) return;
  const uint64_t gen = ++io_->generation;
  io_->current = index;
  ServerUrl& server = io_->pool.at(index);
  server.last_attempt = Clock::now();
  const bool tls = server.tls || options_.tls_required;
  if (tls && !io_->tls) {
    Result<std::shared_ptr<net::internal::TlsContext>> ctx =
        net::internal::TlsContext::Client(options_.tls);
    if (!ctx.ok()) {
      OnConnectFailed(gen, MakeError(ctx.status().code(), ErrorKind::kTls, ctx.status().message()));
      return;
    }
    io_->tls = std::move(*ctx);
  }
  auto stream = std::make_shared<net::internal::Stream>(
      io_->strand, tls ? io_->tls : std::shared_ptr<const net::internal::TlsContext>());
  auto link = std::make_shared<Link>(stream, gen);
  link->peer = server.HostPort();
  io_->link = link;
  io_->phase = Io::Phase::kAwaitInfo;
  io_->rbegin = io_->rend = 0;
  io_->owed_pongs.clear();
  const Clock::time_point deadline = Clock::now() + options_.connect_timeout;
  auto on_connect = [self = shared_from_this(), link, deadline](const boost::system::error_code& ec) {
    if (link->generation != self->io_->generation) return;
    if (ec) {
      Status s = link->stream->ErrorStatus(ec, link->peer);
      self->OnConnectFailed(link->generation,
                            MakeError(s.code(), ErrorKind::kConnect, s.message(), true));
      return;
    }
    link->stream->ExpiresAt(deadline);  // the handshake's reads and writes
    self->StartRead(link->generation);
  };
  if (tls) {
    stream->AsyncConnectTcp(server.host, server.port, deadline, std::move(on_connect));
  } else {
    stream->AsyncConnect(server.host, server.port, deadline, std::move(on_connect));
  }
}

void Conn::OnConnectFailed(uint64_t generation, Status why) {
  if (generation != io_->generation || io_->closing) return;
  ++io_->generation;
  DropLink();
  ServerUrl& server = io_->pool.at(io_->current);
  ++server.failed_attempts;
  {
    MutexLock lock(out_mu_);
    last_error_ = why;
  }
  if (io_->initial) {
    io_->initial_errors += (io_->initial_errors.empty() ? "" : "; ") + server.ToString() + ": " +
                           why.message();
    ++io_->initial_tried;
    if (io_->initial_tried < io_->pool.size()) {
      ConnectTo(static_cast<int>(io_->initial_tried));
      return;
    }
    io_->initial = false;
    if (options_.retry_on_failed_connect && options_.allow_reconnect) {
      {
        MutexLock lock(out_mu_);
        state_.store(ConnectionState::kReconnecting, std::memory_order_release);
      }
      {
        MutexLock lock(start_mu_);
        start_done_ = true;
      }
      start_cv_.NotifyAll();
      ScheduleReconnect();
      return;
    }
    const ErrorKind kind = io_->pool.size() == 1 && ErrorKindOf(why) != ErrorKind::kNone
                               ? ErrorKindOf(why)
                               : ErrorKind::kConnect;
    const StatusCode code = kind == ErrorKind::kAuthorization ? StatusCode::kUnauthenticated
                            : io_->pool.size() == 1 ? why.code()
                                                    : StatusCode::kUnavailable;
    CloseOnStrand(Error(code, kind, "could not connect: " + io_->initial_errors,
                        code == StatusCode::kUnavailable));
    return;
  }
  ScheduleReconnect();
}

void Conn::ScheduleReconnect() {
  if (io_->closing) return;
  const int next = io_->pool.Next(io_->current, options_.max_reconnects);
  if (next < 0) {
    Status last;
    {
      MutexLock lock(out_mu_);
      last = last_error_;
    }
    CloseOnStrand(Error(StatusCode::kUnavailable, ErrorKind::kConnect,
                        "gave up reconnecting after " + std::to_string(options_.max_reconnects) +
                            " attempts per server" +
                            (last.ok() ? std::string() : " (last error: " + last.message() + ")")));
    return;
  }
  const ServerUrl& server = io_->pool.at(next);
  Clock::duration delay{};
  const Clock::time_point now = Clock::now();
  if (server.last_attempt.time_since_epoch().count() != 0 &&
      now - server.last_attempt < options_.reconnect_wait) {
    delay = options_.reconnect_wait - (now - server.last_attempt);
    const auto jitter = (server.tls || options_.tls_required) ? options_.reconnect_jitter_tls
                                                              : options_.reconnect_jitter;
    if (jitter.count() > 0) {
      delay += std::chrono::milliseconds(io_->rng() % static_cast<uint64_t>(jitter.count() + 1));
    }
  }
  const uint64_t gen = io_->generation;
  io_->reconnect_timer.expires_after(delay);
  io_->reconnect_timer.async_wait([self = shared_from_this(), next, gen](boost::system::error_code ec) {
    if (ec || gen != self->io_->generation || self->io_->closing) return;
    self->ConnectTo(next);
  });
}

// ---------------------------------------------------------------------------------------------
// Reading (on the strand)

void Conn::StartRead(uint64_t generation) {
  std::shared_ptr<Link> link = io_->link;
  if (!link || link->generation != generation) return;
  std::vector<char>& buf = io_->rbuf;
  if (io_->rend == buf.size()) {
    if (io_->rbegin > 0) {
      std::memmove(buf.data(), buf.data() + io_->rbegin, io_->rend - io_->rbegin);
      io_->rend -= io_->rbegin;
      io_->rbegin = 0;
    } else {
      buf.resize(buf.size() * 2);  // a large message; bounded by the parser's limits
    }
  }
  auto space = asio::buffer(buf.data() + io_->rend, buf.size() - io_->rend);
  auto handler = [self = shared_from_this(), link](const boost::system::error_code& ec, size_t n) {
    if (link->generation != self->io_->generation) return;
    if (ec) {
      Status s = link->stream->ErrorStatus(ec, link->peer);
      self->OnIoError(link->generation, MakeError(s.code(), ErrorKind::kConnectionLost,
                                                  s.message(), true));
      return;
    }
    self->OnRead(link->generation, n);
  };
  if (io_->phase == Io::Phase::kAwaitInfo && link->stream->is_tls()) {
    link->stream->tcp().async_read_some(space, std::move(handler));  // INFO comes in plain text
  } else {
    link->stream->async_read_some(space, std::move(handler));
  }
}

void Conn::OnRead(uint64_t generation, size_t n) {
  io_->rend += n;
  ServerOp op;
  std::string error;
  while (io_->rbegin < io_->rend) {
    const std::string_view in(io_->rbuf.data() + io_->rbegin, io_->rend - io_->rbegin);
    size_t used = 0;
    const ParseResult r = ParseServerOp(in, limits_, &op, &used, &error);
    if (r == ParseResult::kNeedMore) break;
    if (r == ParseResult::kError) {
      OnIoError(generation, Error(StatusCode::kInternal, ErrorKind::kProtocol,
                                  "protocol error from " + io_->link->peer + ": " + error));
      return;
    }
    const bool go_on = HandleOp(generation, op);
    if (generation != io_->generation) return;  // the op ended this connection
    io_->rbegin += used;
    if (!go_on) break;
  }
  if (io_->rbegin == io_->rend) io_->rbegin = io_->rend = 0;
  for (auto& sub : io_->ready) sub->dispatcher->Schedule(std::move(sub));
  io_->ready.clear();
  if (io_->phase != Io::Phase::kTlsHandshake) StartRead(generation);
}

bool Conn::HandleOp(uint64_t generation, const ServerOp& op) {
  using Kind = ServerOp::Kind;
  switch (io_->phase) {
    case Io::Phase::kAwaitInfo: {
      if (op.kind != Kind::kInfo) {
        OnConnectFailed(generation, Error(StatusCode::kUnavailable, ErrorKind::kProtocol,
                                          io_->link->peer + " did not start with INFO; is it a "
                                                            "NATS server?"));
        return false;
      }
      HandleInfo(op.text, true);
      if (generation != io_->generation) return false;
      ServerUrl& server = io_->pool.at(io_->current);
      std::shared_ptr<Link> link = io_->link;
      if (io_->info.tls_required && !link->stream->is_tls()) {
        // Connect again, this time with TLS (the server asks for it).
        server.tls = true;
        const int index = io_->current;
        ++io_->generation;
        DropLink();
        ConnectTo(index);
        return false;
      }
      if (link->stream->is_tls()) {
        io_->phase = Io::Phase::kTlsHandshake;
        link->stream->AsyncHandshake(
            server.host, Clock::now() + options_.connect_timeout,
            [self = shared_from_this(), link](const boost::system::error_code& ec) {
              if (link->generation != self->io_->generation) return;
              if (ec) {
                Status s = link->stream->ErrorStatus(ec, link->peer);
                self->OnConnectFailed(link->generation,
                                      MakeError(s.code(), ErrorKind::kTls, s.message()));
                return;
              }
              self->io_->phase = Io::Phase::kAwaitPong;
              self->SendConnect(link->generation);
              self->StartRead(link->generation);
            });
        return false;
      }
      io_->phase = Io::Phase::kAwaitPong;
      SendConnect(generation);
      return true;
    }
    case Io::Phase::kTlsHandshake:
      return false;
    case Io::Phase::kAwaitPong:
      switch (op.kind) {
        case Kind::kPong:
          OnConnected(generation);
          return true;
        case Kind::kPing:
          io_->owed_pongs += "PONG\r\n";
          return true;
        case Kind::kInfo:
          HandleInfo(op.text, false);
          return true;
        case Kind::kErr: {
          const std::string lower = Lower(op.text);
          const bool auth = lower.find("authorization") != std::string::npos ||
                            lower.find("authentication") != std::string::npos;
          OnConnectFailed(generation,
                          auth ? Error(StatusCode::kUnauthenticated, ErrorKind::kAuthorization,
                                       "server " + io_->link->peer + " refused the connection: " +
                                           std::string(op.text))
                               : Error(StatusCode::kUnavailable, ErrorKind::kServerError,
                                       "server " + io_->link->peer + ": " + std::string(op.text)));
          return false;
        }
        default:
          return true;
      }
    case Io::Phase::kConnected:
      break;
    case Io::Phase::kIdle:
      return false;
  }
  switch (op.kind) {
    case Kind::kMsg:
      HandleMsg(op);
      return true;
    case Kind::kPing: {
      bool post = false;
      {
        MutexLock lock(out_mu_);
        out_ += "PONG\r\n";
        KickWriterLocked(&post);
      }
      if (post) StartWrite(generation);
      return true;
    }
    case Kind::kPong: {
      io_->pings_outstanding = 0;
      {
        MutexLock lock(out_mu_);
        if (!pongs_.empty()) {
          std::shared_ptr<PongWaiter> w = std::move(pongs_.front());
          pongs_.pop_front();
          if (w) {
            w->done = true;
            w->answered = Clock::now();
          }
        }
      }
      out_cv_.NotifyAll();
      return true;
    }
    case Kind::kInfo:
      HandleInfo(op.text, false);
      return true;
    case Kind::kErr:
      HandleErr(generation, op.text);
      return true;
    case Kind::kOk:
      return true;
  }
  return true;
}

void Conn::HandleInfo(std::string_view json, bool initial) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    OnIoError(io_->generation, Error(StatusCode::kInternal, ErrorKind::kProtocol,
                                     "INFO from " + io_->link->peer + " is not a JSON object"));
    return;
  }
  ServerInfo info;
  auto str = [&](const char* key, std::string& out) {
    if (auto it = j.find(key); it != j.end() && it->is_string()) out = it->get<std::string>();
  };
  auto boolean = [&](const char* key, bool& out) {
    if (auto it = j.find(key); it != j.end() && it->is_boolean()) out = it->get<bool>();
  };
  str("server_id", info.server_id);
  str("server_name", info.server_name);
  str("version", info.version);
  str("host", info.host);
  str("client_ip", info.client_ip);
  str("nonce", info.nonce);
  boolean("headers", info.headers);
  boolean("jetstream", info.jetstream);
  boolean("tls_required", info.tls_required);
  boolean("auth_required", info.auth_required);
  boolean("ldm", info.lame_duck);
  if (auto it = j.find("proto"); it != j.end() && it->is_number_integer()) info.proto = *it;
  if (auto it = j.find("port"); it != j.end() && it->is_number_integer()) info.port = *it;
  if (auto it = j.find("max_payload"); it != j.end() && it->is_number_integer()) {
    info.max_payload = *it;
  }
  if (auto it = j.find("client_id"); it != j.end() && it->is_number_unsigned()) {
    info.client_id = *it;
  }
  if (auto it = j.find("connect_urls"); it != j.end() && it->is_array()) {
    for (const auto& u : *it) {
      if (u.is_string()) info.connect_urls.push_back(u.get<std::string>());
    }
  }
  if (!initial) {
    // An asynchronous INFO updates what it carries; keep the rest.
    if (info.server_id.empty()) info.server_id = io_->info.server_id;
    if (info.client_id == 0) info.client_id = io_->info.client_id;
    if (info.max_payload == 0) info.max_payload = io_->info.max_payload;
    if (info.nonce.empty()) info.nonce = io_->info.nonce;
    if (!j.contains("headers")) info.headers = io_->info.headers;
    if (!j.contains("jetstream")) info.jetstream = io_->info.jetstream;
    if (info.version.empty()) info.version = io_->info.version;
  }
  io_->info = info;
  if (info.max_payload > 0) max_payload_.store(info.max_payload, std::memory_order_relaxed);
  const bool discovered = io_->pool.AddDiscovered(info.connect_urls, options_.randomize);
  {
    MutexLock lock(out_mu_);
    info_ = info;
    client_id_text_ = std::to_string(info.client_id);
    span_constants_generation_.fetch_add(1, std::memory_order_release);
    server_urls_.clear();
    for (const ServerUrl& s : io_->pool.servers()) server_urls_.push_back(s.ToString());
  }
  if (discovered && !initial && options_.on_discovered_servers) {
    Event(options_.on_discovered_servers);
  }
  if (info.lame_duck && io_->current >= 0) {
    io_->pool.at(io_->current).lame_duck = true;
    if (options_.on_lame_duck) Event(options_.on_lame_duck);
  }
}

void Conn::HandleErr(uint64_t generation, std::string_view text) {
  const std::string lower = Lower(text);
  if (lower.starts_with("permissions violation")) {
    ReportError(nullptr, Error(StatusCode::kPermissionDenied, ErrorKind::kPermission,
                               "server: " + std::string(text)));
    return;
  }
  if (lower.starts_with("invalid subject") || lower.starts_with("invalid publish subject")) {
    ReportError(nullptr, Error(StatusCode::kInvalidArgument, ErrorKind::kInvalidSubject,
                               "server: " + std::string(text)));
    return;
  }
  // Every other -ERR is followed by the server closing the connection.
  const bool auth = lower.find("authorization") != std::string::npos ||
                    lower.find("authentication") != std::string::npos;
  OnIoError(generation,
            auth ? Error(StatusCode::kUnauthenticated, ErrorKind::kAuthorization,
                         "server: " + std::string(text))
                 : Error(StatusCode::kUnavailable, ErrorKind::kServerError,
                         "server: " + std::string(text), true));
}

std::string Conn::BuildConnectJson(const ServerUrl& server, const ServerInfo& info,
                                   Status* error) {
  nlohmann::json j = {
      {"verbose", false},    {"pedantic", false}, {"tls_required", server.tls},
      {"lang", "cpp"},       {"version", kVersion}, {"protocol", 1},
      {"echo", options_.echo}, {"headers", true},  {"no_responders", true},
  };
  if (!options_.name.empty()) j["name"] = options_.name;
  if (io_->nkey) {
    if (info.nonce.empty()) {
      *error = Error(StatusCode::kUnauthenticated, ErrorKind::kAuthorization,
                     "the server sent no nonce to sign (is NKey authentication enabled there?)");
      return {};
    }
    Result<std::string> sig = SignNonce(*io_->nkey, info.nonce);
    if (!sig.ok()) {
      *error = sig.status();
      return {};
    }
    j["sig"] = *sig;
    if (!io_->jwt.empty()) {
      j["jwt"] = io_->jwt;
    } else {
      j["nkey"] = io_->nkey->public_key;
    }
  } else if (!options_.token.empty()) {
    j["auth_token"] = options_.token;
  } else if (!options_.user.empty() || !options_.password.empty()) {
    j["user"] = options_.user;
    j["pass"] = options_.password;
  } else if (!server.user.empty()) {
    if (server.has_password) {
      j["user"] = server.user;
      j["pass"] = server.password;
    } else {
      j["auth_token"] = server.user;
    }
  }
  return j.dump();
}

void Conn::SendConnect(uint64_t generation) {
  std::shared_ptr<Link> link = io_->link;
  if (!link || link->generation != generation) return;
  Status error;
  std::string json = BuildConnectJson(io_->pool.at(io_->current), io_->info, &error);
  if (!error.ok()) {
    OnConnectFailed(generation, std::move(error));
    return;
  }
  link->handshake = "CONNECT " + json + "\r\nPING\r\n";
  asio::async_write(*link->stream, asio::buffer(link->handshake),
                    [self = shared_from_this(), link](const boost::system::error_code& ec, size_t) {
                      if (link->generation != self->io_->generation || !ec) return;
                      Status s = link->stream->ErrorStatus(ec, link->peer);
                      self->OnConnectFailed(link->generation,
                                            MakeError(s.code(), ErrorKind::kConnect, s.message(),
                                                      true));
                    });
}

void Conn::OnConnected(uint64_t generation) {
  std::shared_ptr<Link> link = io_->link;
  link->stream->ExpiresNever();
  io_->phase = Io::Phase::kConnected;
  if (!link->stream->is_tls()) {
    MutexLock lock(direct_mu_);
    direct_fd_ = link->stream->tcp().socket().native_handle();
  }
  io_->pings_outstanding = 0;
  ServerUrl& server = io_->pool.at(io_->current);
  server.failed_attempts = 0;
  const bool reconnect = io_->ever_connected;
  io_->ever_connected = true;
  io_->initial = false;
  std::string prefix = std::move(io_->owed_pongs);
  io_->owed_pongs.clear();
  {
    MutexLock subs_lock(subs_mu_);
    for (auto& [sid, sub] : subs_) {
      prefix += "SUB ";
      prefix += sub->subject;
      if (!sub->queue.empty()) {
        prefix += ' ';
        prefix += sub->queue;
      }
      prefix += ' ';
      AppendNumber(prefix, sid);
      prefix += "\r\n";
      if (sub->max > 0 && sub->max > sub->received) {
        prefix += "UNSUB ";
        AppendNumber(prefix, sid);
        prefix += ' ';
        AppendNumber(prefix, sub->max - sub->received);
        prefix += "\r\n";
      }
    }
    MutexLock lock(out_mu_);
    if (state_.load() == ConnectionState::kClosed) return;
    out_.insert(0, prefix);
    if (state_.load() != ConnectionState::kDraining) {
      state_.store(ConnectionState::kConnected, std::memory_order_release);
    }
    connected_url_ = server.ToString();
    server_host_ = server.host;
    server_port_ = server.port;
    span_constants_generation_.fetch_add(1, std::memory_order_release);
    write_active_ = true;
  }
  out_cv_.NotifyAll();
  if (reconnect) reconnects_.fetch_add(1, std::memory_order_relaxed);
  StartWrite(generation);
  ArmPingTimer(generation);
  {
    MutexLock lock(start_mu_);
    start_done_ = true;
  }
  start_cv_.NotifyAll();
  if (reconnect && options_.on_reconnected) Event(options_.on_reconnected);
}

void Conn::ArmPingTimer(uint64_t generation) {
  if (options_.ping_interval.count() <= 0) return;
  io_->ping_timer.expires_after(options_.ping_interval);
  io_->ping_timer.async_wait([self = shared_from_this(), generation](boost::system::error_code ec) {
    if (ec || generation != self->io_->generation) return;
    if (self->io_->pings_outstanding >= self->options_.max_pings_outstanding) {
      self->OnIoError(generation, Error(StatusCode::kUnavailable, ErrorKind::kConnectionLost,
                                        "stale connection: " +
                                            std::to_string(self->io_->pings_outstanding) +
                                            " PINGs unanswered",
                                        true));
      return;
    }
    ++self->io_->pings_outstanding;
    bool post = false;
    {
      MutexLock lock(self->out_mu_);
      self->out_ += "PING\r\n";
      self->pongs_.push_back(nullptr);
      ++self->pings_in_out_;
      self->KickWriterLocked(&post);
    }
    if (post) self->StartWrite(generation);
    self->ArmPingTimer(generation);
  });
}

void Conn::OnIoError(uint64_t generation, Status why) {
  if (generation != io_->generation || io_->closing) return;
  if (io_->phase != Io::Phase::kConnected) {
    OnConnectFailed(generation, std::move(why));
    return;
  }
  ++io_->generation;
  DropLink();
  io_->ping_timer.cancel();
  const Status lost = Error(StatusCode::kUnavailable, ErrorKind::kConnectionLost,
                            "the connection was lost: " + why.message(), true);
  bool draining = false;
  {
    MutexLock lock(out_mu_);
    last_error_ = why;
    draining = state_.load() == ConnectionState::kDraining;
    state_.store(ConnectionState::kReconnecting, std::memory_order_release);
    write_active_ = false;
    connected_url_.clear();
    // PINGs already written will never be answered; those still in out_ go to the next server.
    const size_t sent = pongs_.size() - std::min(pongs_.size(), pings_in_out_);
    for (size_t i = 0; i < sent; ++i) {
      if (pongs_.front()) {
        pongs_.front()->done = true;
        pongs_.front()->status = lost;
      }
      pongs_.pop_front();
    }
  }
  out_cv_.NotifyAll();
  if (options_.on_disconnected) {
    Event([cb = options_.on_disconnected, why](Connection& c) { cb(c, why); });
  }
  if (!options_.allow_reconnect || draining) {
    CloseOnStrand(why);
    return;
  }
  ScheduleReconnect();
}

// ---------------------------------------------------------------------------------------------
// Writing

void Conn::KickWriterLocked(bool* post) {
  if (state_.load(std::memory_order_relaxed) != ConnectionState::kConnected &&
      state_.load(std::memory_order_relaxed) != ConnectionState::kDraining) {
    return;
  }
  if (write_active_) return;
  write_active_ = true;
  *post = true;
}

void Conn::StartWrite(uint64_t /*generation*/) {
  std::shared_ptr<Link> link = io_->link;
  if (!link || io_->phase != Io::Phase::kConnected) {
    MutexLock lock(out_mu_);
    write_active_ = false;
    return;
  }
  bool wake = false;
  {
    MutexLock lock(out_mu_);
    if (out_.empty()) {
      write_active_ = false;
      return;
    }
    link->writing.swap(out_);
    out_.clear();
    pings_in_out_ = 0;
    wake = space_waiters_ > 0;
  }
  if (wake) out_cv_.NotifyAll();
  asio::async_write(*link->stream, asio::buffer(link->writing),
                    [self = shared_from_this(), link](const boost::system::error_code& ec, size_t) {
                      if (link->generation != self->io_->generation) return;
                      if (ec) {
                        Status s = link->stream->ErrorStatus(ec, link->peer);
                        self->OnIoError(link->generation,
                                        MakeError(s.code(), ErrorKind::kConnectionLost,
                                                  s.message(), true));
                        return;
                      }
                      link->writing.clear();
                      self->StartWrite(link->generation);
                    });
}

Status Conn::Append(std::string_view line, std::string_view block, std::string_view data,
                    AppendKind kind, bool urgent, std::shared_ptr<PongWaiter> ping_waiter) {
  const bool control = kind != AppendKind::kMessage;
  const size_t size = line.size() + block.size() + data.size() + (line.empty() ? 0 : 2);
  bool post = false;
  {
    MutexLock lock(out_mu_);
    while (true) {
      const ConnectionState st = state_.load(std::memory_order_relaxed);
      if (st == ConnectionState::kClosed) return ClosedError();
      if (st == ConnectionState::kReconnecting || st == ConnectionState::kConnecting) {
        // SUB/UNSUB are sent again on reconnect; a PING waits in the buffer like a message.
        if (kind == AppendKind::kSubscription) return Status::Ok();
        if (!control && out_.size() + size > options_.reconnect_buffer_bytes) {
          return Error(StatusCode::kResourceExhausted, ErrorKind::kBufferFull,
                       "disconnected, and the reconnect buffer (" +
                           std::to_string(options_.reconnect_buffer_bytes) +
                           " bytes) is full; the message was not sent",
                       true);
        }
        break;
      }
      if (control || out_.size() < options_.write_buffer_bytes) break;
      ++space_waiters_;
      out_cv_.Wait(lock);
      --space_waiters_;
    }
    out_.append(line);
    out_.append(block);
    out_.append(data);
    if (kind == AppendKind::kPing) {
      pongs_.push_back(std::move(ping_waiter));  // in the order the PINGs are written
      ++pings_in_out_;
    }
    if (!line.empty() && !control) {
      out_.append(kCrLf);
      ++out_msgs_;
      out_bytes_ += data.size();
    }
    if (!write_active_ && (urgent || out_.size() >= kDirectWriteBytes) &&
        state_.load(std::memory_order_relaxed) == ConnectionState::kConnected) {
      // A publisher that filled the buffer writes it itself, like a buffered writer: no
      // hand-off to the I/O thread while messages flow fast. So does a request, a reply or a
      // flush when nothing is being written: one system call on the caller's thread instead of
      // waking the I/O thread (a wake-up across cores costs more than the write).
      write_active_ = true;
      thread_local std::string batch;
      batch.swap(out_);
      out_.clear();
      pings_in_out_ = 0;
      lock.Unlock();
      DirectWrite(batch);
      return Status::Ok();
    }
    KickWriterLocked(&post);
  }
  if (post) asio::post(io_->strand, [self = shared_from_this()] { self->StartWrite(0); });
  return Status::Ok();
}

void Conn::DirectWrite(std::string& batch) {
  size_t written = 0;
  bool usable = false;
  {
    MutexLock lock(direct_mu_);
    usable = direct_fd_ >= 0;
    while (usable && written < batch.size()) {
      const ssize_t n = ::send(direct_fd_, batch.data() + written, batch.size() - written,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        written += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        break;  // the socket is full (EAGAIN) or failing: the I/O thread takes the rest
      }
    }
  }
  bool post = true;
  {
    MutexLock lock(out_mu_);
    if (written == batch.size()) {
      write_active_ = false;
      post = false;
      if (!out_.empty()) KickWriterLocked(&post);
    } else {
      // What is left goes first; the writer (still marked active) sends it, or finds the error.
      out_.insert(0, batch, written, std::string::npos);
    }
  }
  batch.clear();
  if (post) asio::post(io_->strand, [self = shared_from_this()] { self->StartWrite(0); });
}

// ---------------------------------------------------------------------------------------------
// Publishing

Status Conn::Publish(std::string_view subject, std::string_view reply, const Headers* headers,
                     std::string_view data, bool urgent) {
  if (!ValidSubject(subject, false)) {
    return Error(StatusCode::kInvalidArgument, ErrorKind::kInvalidSubject,
                 "invalid subject \"" + std::string(subject) + "\"");
  }
  if (!reply.empty() && !ValidSubject(reply, false)) {
    return Error(StatusCode::kInvalidArgument, ErrorKind::kInvalidSubject,
                 "invalid reply subject \"" + std::string(reply) + "\"");
  }
  trace::Span span;
  if (trace_spans_ && tracer_.Enabled() && !trace::IsTracingSuppressed()) {
    span = StartSpan(trace::SpanKind::kProducer, "send", "publish", subject, data.size(),
                     nullptr);
  }
  Status s = PublishWithContext(subject, reply, headers, data, span, urgent);
  EndSpan(span, s);
  return s;
}

trace::Span Conn::StartSpan(trace::SpanKind kind, std::string_view operation_type,
                            std::string_view operation_name, std::string_view subject,
                            size_t body_size, const trace::Context* parent) {
  // The connection's attributes change only when it (re)connects: each thread keeps a copy,
  // refreshed when the generation moves on.
  struct Constants {
    const Conn* conn = nullptr;
    uint64_t generation = 0;
    std::string client_id;
    std::string host;
    int64_t port = 0;
  };
  thread_local Constants constants;
  const uint64_t generation = span_constants_generation_.load(std::memory_order_acquire);
  if (constants.conn != this || constants.generation != generation) {
    MutexLock lock(out_mu_);
    constants.conn = this;
    constants.generation = generation;
    constants.client_id = client_id_text_;
    constants.host = server_host_;
    constants.port = server_port_;
  }
  const std::string& client_id = constants.client_id;
  const std::string& host = constants.host;
  const int64_t port = constants.port;
  const bool temporary = IsTemporary(subject);
  thread_local std::string name;
  name.assign(operation_name == "publish" ? std::string_view("send") : operation_name);
  name += ' ';
  name += temporary ? std::string_view("(temporary)") : subject;
  std::array<KeyValue, 10> attributes;
  size_t n = 0;
  attributes[n++] = {"messaging.system", "nats"};
  attributes[n++] = {"messaging.destination.name", subject};
  attributes[n++] = {"messaging.operation.type", operation_type};
  attributes[n++] = {"messaging.operation.name", operation_name};
  attributes[n++] = {"messaging.message.body.size", static_cast<int64_t>(body_size)};
  if (temporary) attributes[n++] = {"messaging.destination.temporary", true};
  if (!client_id.empty() && client_id != "0") attributes[n++] = {"messaging.client.id", client_id};
  if (!host.empty()) {
    attributes[n++] = {"server.address", host};
    attributes[n++] = {"server.port", port};
  }
  trace::StartOptions start{.kind = kind};
  if (parent != nullptr && parent->span_context().IsValid()) start.parent = *parent;
  return tracer_.StartSpan(name, std::span<const KeyValue>(attributes.data(), n), start);
}

void Conn::EndSpan(trace::Span& span, const Status& status) {
  if (!span.IsRecording()) return;
  if (!status.ok()) {
    const ErrorKind kind = ErrorKindOf(status);
    span.SetAttribute("error.type", kind != ErrorKind::kNone ? ErrorKindName(kind)
                                                             : StatusCodeName(status.code()));
    span.SetStatus(trace::SpanStatusCode::kError, status.message());
  }
  span.End();
}

Status Conn::PublishWithContext(std::string_view subject, std::string_view reply,
                                const Headers* headers, std::string_view data,
                                const trace::Span& span, bool urgent) {
  thread_local std::string block;
  thread_local std::string line;
  block.clear();
  const bool has_user_headers = headers != nullptr && !headers->empty();
  if (has_user_headers) {
    if (Status s = headers->Validate(); !s.ok()) {
      return MakeError(s.code(), ErrorKind::kInvalidArgument, s.message());
    }
  }
  bool injected = false;
  if (trace_propagate_ && !trace::IsTracingSuppressed()) {
    trace::Context context = trace::Context::Current();
    if (span.IsRecording() || span.GetContext().IsValid()) {
      context = context.WithSpanContext(span.GetContext());
    }
    if (context.span_context().IsValid() || !context.baggage().empty()) {
      if (has_user_headers) {
        Headers copy = *headers;
        HeadersCarrier carrier(copy);
        propagation::GlobalPropagator().Inject(context, carrier);
        copy.EncodeTo(block);
      } else {
        block = "NATS/1.0\r\n";
        LineCarrier carrier(block);
        propagation::GlobalPropagator().Inject(context, carrier);
        block += "\r\n";
      }
      injected = true;
    }
  }
  if (!injected && has_user_headers) headers->EncodeTo(block);
  const int64_t max = max_payload_.load(std::memory_order_relaxed);
  if (static_cast<int64_t>(block.size() + data.size()) > max) {
    return Error(StatusCode::kInvalidArgument, ErrorKind::kMaxPayload,
                 "message of " + std::to_string(block.size() + data.size()) +
                     " bytes (headers included) exceeds the server's max_payload of " +
                     std::to_string(max) + "; not sent");
  }
  line.clear();
  line.append(block.empty() ? std::string_view("PUB ") : std::string_view("HPUB "));
  line.append(subject);
  line += ' ';
  if (!reply.empty()) {
    line += reply;
    line += ' ';
  }
  if (!block.empty()) {
    AppendNumber(line, block.size());
    line += ' ';
  }
  AppendNumber(line, block.size() + data.size());
  line.append(kCrLf);
  return Append(line, block, data, AppendKind::kMessage, urgent);
}

// ---------------------------------------------------------------------------------------------
// Subscriptions

std::shared_ptr<SubState> Conn::FindSub(uint64_t sid) {
  MutexLock lock(subs_mu_);
  auto it = subs_.find(sid);
  return it == subs_.end() ? nullptr : it->second;
}

void Conn::RemoveSub(uint64_t sid) {
  MutexLock lock(subs_mu_);
  subs_.erase(sid);
}

void Conn::CloseSub(SubState& sub, Status why) {
  {
    MutexLock lock(sub.mu);
    if (!sub.closed) {
      sub.closed = true;
      sub.close_reason = std::move(why);
    }
    if (ErrorKindOf(sub.close_reason) == ErrorKind::kConnectionClosed) {
      sub.pending.clear();
      sub.pending_bytes = 0;
    }
  }
  sub.cv.NotifyAll();
}

Result<std::shared_ptr<SubState>> Conn::Subscribe(std::string_view subject, std::string_view queue,
                                                  MessageHandler handler) {
  if (!ValidSubject(subject, true)) {
    return Error(StatusCode::kInvalidArgument, ErrorKind::kInvalidSubject,
                 "invalid subject \"" + std::string(subject) + "\"");
  }
  if (!queue.empty() && !ValidSubject(queue, false)) {
    return Error(StatusCode::kInvalidArgument, ErrorKind::kInvalidSubject,
                 "invalid queue group \"" + std::string(queue) + "\"");
  }
  if (state() == ConnectionState::kClosed) return ClosedError();
  if (state() == ConnectionState::kDraining) {
    return Error(StatusCode::kFailedPrecondition, ErrorKind::kConnectionClosed,
                 "the connection is draining");
  }
  auto sub = std::make_shared<SubState>();
  sub->subject = std::string(subject);
  sub->queue = std::string(queue);
  sub->handler = std::move(handler);
  sub->conn = weak_from_this();
  {
    MutexLock lock(sub->mu);
    sub->max_pending_messages = options_.pending_messages_limit;
    sub->max_pending_bytes = options_.pending_bytes_limit;
  }
  std::string line;
  MutexLock lock(subs_mu_);
  sub->sid = next_sid_++;
  sub->dispatcher = dispatchers_[next_dispatcher_++ % dispatchers_.size()].get();
  subs_.emplace(sub->sid, sub);
  line = "SUB " + sub->subject;
  if (!sub->queue.empty()) line += " " + sub->queue;
  line += " ";
  AppendNumber(line, sub->sid);
  line += "\r\n";
  if (Status s = Append(line, {}, {}, AppendKind::kSubscription); !s.ok()) {
    subs_.erase(sub->sid);
    return s;
  }
  return sub;
}

Status Conn::Unsubscribe(const std::shared_ptr<SubState>& sub, uint64_t max) {
  if (state() == ConnectionState::kClosed) return ClosedError();
  {
    MutexLock lock(sub->mu);
    if (sub->closed) {
      return Error(StatusCode::kFailedPrecondition, ErrorKind::kSubscriptionClosed,
                   "the subscription is closed");
    }
  }
  std::string line = "UNSUB ";
  AppendNumber(line, sub->sid);
  if (max > 0) {
    // The strand counts what was received; the server enforces the total as well.
    line += ' ';
    AppendNumber(line, max);
    asio::post(io_->strand, [self = shared_from_this(), sub, max] {
      sub->max = max;
      if (sub->received >= max) {
        self->RemoveSub(sub->sid);
        self->CloseSub(*sub, Error(StatusCode::kFailedPrecondition,
                                   ErrorKind::kSubscriptionClosed,
                                   "the subscription reached its maximum"));
      }
    });
  }
  line += "\r\n";
  if (max == 0) {
    RemoveSub(sub->sid);
    {
      MutexLock lock(sub->mu);
      sub->pending.clear();
      sub->pending_bytes = 0;
    }
    CloseSub(*sub, Error(StatusCode::kFailedPrecondition, ErrorKind::kSubscriptionClosed,
                         "the subscription was unsubscribed"));
  }
  return Append(line, {}, {}, AppendKind::kSubscription);
}

Status Conn::DrainSubscription(const std::shared_ptr<SubState>& sub,
                               std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  std::string line = "UNSUB ";
  AppendNumber(line, sub->sid);
  line += "\r\n";
  if (Status s = Append(line, {}, {}, AppendKind::kSubscription); !s.ok()) return s;
  // After the PONG, everything the server sent on this subscription has been queued.
  Status flushed = Flush(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::max(Clock::duration::zero(), deadline - Clock::now())));
  RemoveSub(sub->sid);
  CloseSub(*sub, Error(StatusCode::kFailedPrecondition, ErrorKind::kSubscriptionClosed,
                       "the subscription was drained"));
  if (!flushed.ok()) return flushed;
  if (!sub->handler) return Status::Ok();  // NextMsg still hands out what is queued
  MutexLock lock(sub->mu);
  const bool done = sub->cv.WaitUntil(lock, deadline, [&]() OTLP_REQUIRES(sub->mu) {
    return sub->pending.empty() && !sub->in_callback && !sub->scheduled;
  });
  if (!done && !sub->dispatcher->OnThisThread()) {
    return Error(StatusCode::kDeadlineExceeded, ErrorKind::kTimeout,
                 "draining the subscription to " + sub->subject + " timed out with " +
                     std::to_string(sub->pending.size()) + " messages pending");
  }
  return Status::Ok();
}

void Conn::SetPendingLimits(SubState& sub, size_t messages, size_t bytes) {
  MutexLock lock(sub.mu);
  sub.max_pending_messages = messages;
  sub.max_pending_bytes = bytes;
}

Result<Message> Conn::NextMsg(SubState& sub, std::chrono::milliseconds timeout) {
  if (sub.handler) {
    return Error(StatusCode::kFailedPrecondition, ErrorKind::kInvalidArgument,
                 "NextMsg on an asynchronous subscription");
  }
  const Clock::time_point deadline = Clock::now() + timeout;
  Message msg;
  {
    MutexLock lock(sub.mu);
    ++sub.waiters;
    const bool ready = sub.cv.WaitUntil(lock, deadline, [&]() OTLP_REQUIRES(sub.mu) {
      return !sub.pending.empty() || sub.closed || sub.slow_for_next;
    });
    --sub.waiters;
    if (sub.slow_for_next) {
      sub.slow_for_next = false;
      return Error(StatusCode::kResourceExhausted, ErrorKind::kSlowConsumer,
                   "slow consumer on " + sub.subject + ": messages were dropped (" +
                       std::to_string(sub.dropped.load()) + " so far)");
    }
    if (sub.pending.empty()) {
      if (sub.closed) return sub.close_reason;
      (void)ready;
      return Error(StatusCode::kDeadlineExceeded, ErrorKind::kTimeout,
                   "no message on " + sub.subject + " within " +
                       std::to_string(timeout.count()) + " ms");
    }
    msg = std::move(sub.pending.front());
    sub.pending.pop_front();
    sub.pending_bytes -= msg.data().size() + msg.header_block().size();
    if (sub.pending.empty()) sub.slow = false;
  }
  sub.delivered.fetch_add(1, std::memory_order_relaxed);
  if (trace_spans_ && tracer_.Enabled() && !trace::IsTracingSuppressed()) {
    trace::Span span = StartSpan(trace::SpanKind::kConsumer, "receive", "receive", msg.subject(),
                                 msg.data().size(), nullptr);
    if (span.IsRecording()) {
      if (!sub.queue.empty()) span.SetAttribute("messaging.consumer.group.name", sub.queue);
      if (msg.has_headers()) {
        BlockCarrier carrier(msg.header_block());
        trace::Context sent = propagation::GlobalPropagator().Extract(carrier);
        if (sent.span_context().IsValid()) span.AddLink(sent.span_context());
      }
    }
    span.End();
  }
  return msg;
}

void Conn::HandleMsg(const ServerOp& op) {
  in_msgs_.fetch_add(1, std::memory_order_relaxed);
  in_bytes_.fetch_add(op.data.size(), std::memory_order_relaxed);
  std::shared_ptr<SubState> sub = FindSub(op.sid);
  if (!sub) return;  // unsubscribed meanwhile
  if (sub->is_mux) {
    HandleReply(op);
    return;
  }
  ++sub->received;
  if (sub->max > 0 && sub->received > sub->max) return;
  const bool reached_max = sub->max > 0 && sub->received == sub->max;
  bool report = false;
  {
    MutexLock lock(sub->mu);
    if (sub->closed) return;
    const size_t size = op.data.size() + op.header_block.size();
    if ((sub->max_pending_messages > 0 && sub->pending.size() >= sub->max_pending_messages) ||
        (sub->max_pending_bytes > 0 && sub->pending_bytes + size > sub->max_pending_bytes)) {
      sub->dropped.fetch_add(1, std::memory_order_relaxed);
      dropped_.fetch_add(1, std::memory_order_relaxed);
      if (!sub->slow) {
        sub->slow = true;
        report = true;
      }
      if (!sub->handler) sub->slow_for_next = true;
    } else {
      sub->pending.push_back(
          Message::FromWire(op.subject, op.reply, op.header_block, op.data, op.sid, sub));
      sub->pending_bytes += size;
      if (sub->handler && !sub->scheduled) {
        sub->scheduled = true;
        io_->ready.push_back(sub);
      }
    }
    if (reached_max) {
      sub->closed = true;
      sub->close_reason = Error(StatusCode::kFailedPrecondition, ErrorKind::kSubscriptionClosed,
                                "the subscription reached its maximum");
    }
  }
  if (!sub->handler) sub->cv.NotifyAll();
  if (reached_max) RemoveSub(sub->sid);
  if (report) {
    ReportError(sub.get(), Error(StatusCode::kResourceExhausted, ErrorKind::kSlowConsumer,
                                 "slow consumer on " + sub->subject +
                                     ": pending limit reached, messages dropped"));
  }
}

void Conn::DeliverToCallback(SubState& sub, Message& msg) {
  const bool spans = trace_spans_ && tracer_.Enabled() &&
                     sub.traced.load(std::memory_order_relaxed);
  if (!spans && !(trace_propagate_ && msg.has_headers())) {
    try {
      sub.handler(msg);
    } catch (const std::exception& e) {
      ReportError(&sub, Error(StatusCode::kUnknown, ErrorKind::kNone,
                              "a callback on " + sub.subject + " threw: " + e.what()));
    } catch (...) {
      ReportError(&sub, Error(StatusCode::kUnknown, ErrorKind::kNone,
                              "a callback on " + sub.subject + " threw"));
    }
    return;
  }
  trace::Context parent;
  if (msg.has_headers()) {
    BlockCarrier carrier(msg.header_block());
    parent = propagation::GlobalPropagator().Extract(carrier);
  }
  trace::Span span;
  if (spans) {
    span = StartSpan(trace::SpanKind::kConsumer, "process", "process", msg.subject(),
                     msg.data().size(), &parent);
    if (span.IsRecording() && !sub.queue.empty()) {
      span.SetAttribute("messaging.consumer.group.name", sub.queue);
    }
  }
  const trace::Context context =
      spans ? parent.WithSpanContext(span.GetContext()) : parent;
  {
    trace::Scope scope(context);
    try {
      sub.handler(msg);
    } catch (const std::exception& e) {
      span.RecordException(e);
      span.SetAttribute("error.type", "exception");
      span.SetStatus(trace::SpanStatusCode::kError, e.what());
      ReportError(&sub, Error(StatusCode::kUnknown, ErrorKind::kNone,
                              "a callback on " + sub.subject + " threw: " + e.what()));
    } catch (...) {
      span.SetAttribute("error.type", "exception");
      span.SetStatus(trace::SpanStatusCode::kError);
      ReportError(&sub, Error(StatusCode::kUnknown, ErrorKind::kNone,
                              "a callback on " + sub.subject + " threw"));
    }
  }
  span.End();
}

// ---------------------------------------------------------------------------------------------
// Request-reply

Status Conn::EnsureMux() {
  {
    MutexLock lock(req_mu_);
    if (mux_) return Status::Ok();
  }
  Result<std::shared_ptr<SubState>> sub = Subscribe(mux_prefix_ + "*", {}, nullptr);
  if (!sub.ok()) return sub.status();
  (*sub)->is_mux = true;
  MutexLock lock(req_mu_);
  if (!mux_) {
    mux_ = *sub;
    return Status::Ok();
  }
  // Another thread won the race: drop ours.
  lock.Unlock();
  return Unsubscribe(*sub, 0);
}

void Conn::HandleReply(const ServerOp& op) {
  if (!op.subject.starts_with(mux_prefix_)) return;
  const std::string token(op.subject.substr(mux_prefix_.size()));
  std::shared_ptr<RequestWaiter> w;
  std::function<void(Result<Message>)> callback;
  {
    MutexLock lock(req_mu_);
    auto it = requests_.find(token);
    if (it == requests_.end()) return;  // timed out already
    w = std::move(it->second);
    requests_.erase(it);
    std::shared_ptr<SubState> mux = mux_;
    if (!op.header_block.empty() && HeaderBlockStatus(op.header_block) == 503) {
      w->result.emplace(Error(StatusCode::kUnavailable, ErrorKind::kNoResponders,
                              "no responders"));
    } else {
      w->result.emplace(
          Message::FromWire(op.subject, op.reply, op.header_block, op.data, op.sid, mux));
    }
    w->done = true;
    callback = std::move(w->callback);
    w->timer.Cancel();
  }
  w->cv.NotifyAll();
  if (callback) {
    auto result = std::make_shared<Result<Message>>(std::move(*w->result));
    events_->Post([callback = std::move(callback), result] { callback(std::move(*result)); });
  }
}

Result<Message> Conn::Request(std::string_view subject, const Headers* headers,
                              std::string_view data, std::chrono::milliseconds timeout) {
  if (!ValidSubject(subject, false)) {
    return Error(StatusCode::kInvalidArgument, ErrorKind::kInvalidSubject,
                 "invalid subject \"" + std::string(subject) + "\"");
  }
  if (Status s = EnsureMux(); !s.ok()) return s;
  const Clock::time_point deadline = Clock::now() + timeout;
  auto w = std::make_shared<RequestWaiter>();
  std::string token = NewToken(next_token_.fetch_add(1, std::memory_order_relaxed));
  {
    MutexLock lock(req_mu_);
    requests_.emplace(token, w);
  }
  trace::Span span;
  if (trace_spans_ && tracer_.Enabled() && !trace::IsTracingSuppressed()) {
    span = StartSpan(trace::SpanKind::kClient, "send", "request", subject, data.size(), nullptr);
  }
  Status sent = PublishWithContext(subject, mux_prefix_ + token, headers, data, span, true);
  Result<Message> result = Message();  // replaced below
  if (!sent.ok()) {
    MutexLock lock(req_mu_);
    requests_.erase(token);
    result = sent;
  } else {
    MutexLock lock(req_mu_);
    const bool done = w->cv.WaitUntil(lock, deadline, [&] { return w->done; });
    if (!done) {
      requests_.erase(token);
      result = Error(StatusCode::kDeadlineExceeded, ErrorKind::kTimeout,
                     "no reply on " + std::string(subject) + " within " +
                         std::to_string(timeout.count()) + " ms");
    } else {
      result = std::move(*w->result);
    }
  }
  if (span.IsRecording() && result.ok() && result->status() != 0) {
    span.SetAttribute("nats.reply.status", static_cast<int64_t>(result->status()));
  }
  if (!result.ok() && ErrorKindOf(result.status()) == ErrorKind::kNoResponders) {
    result = Error(StatusCode::kUnavailable, ErrorKind::kNoResponders,
                   "no responders on " + std::string(subject), false);
  }
  EndSpan(span, result.ok() ? Status::Ok() : result.status());
  return result;
}

void Conn::RequestAsync(std::string_view subject, const Headers* headers, std::string_view data,
                        std::chrono::milliseconds timeout,
                        std::function<void(Result<Message>)> done) {
  auto fail = [&](Status s) {
    events_->Post([done = std::move(done), s = std::move(s)] { done(s); });
  };
  if (!ValidSubject(subject, false)) {
    fail(Error(StatusCode::kInvalidArgument, ErrorKind::kInvalidSubject,
               "invalid subject \"" + std::string(subject) + "\""));
    return;
  }
  if (Status s = EnsureMux(); !s.ok()) {
    fail(std::move(s));
    return;
  }
  auto w = std::make_shared<RequestWaiter>();
  std::string token = NewToken(next_token_.fetch_add(1, std::memory_order_relaxed));
  const std::string subject_copy(subject);
  if (trace_spans_ && tracer_.Enabled() && !trace::IsTracingSuppressed()) {
    w->span = StartSpan(trace::SpanKind::kClient, "send", "request", subject, data.size(), nullptr);
  }
  // The span ends when the reply, the timeout or the close completes the request.
  auto span_holder = std::make_shared<trace::Span>(std::move(w->span));
  w->callback = [this_weak = weak_from_this(), done = std::move(done), span_holder,
                 subject_copy](Result<Message> r) mutable {
    if (!r.ok() && ErrorKindOf(r.status()) == ErrorKind::kNoResponders) {
      r = Error(StatusCode::kUnavailable, ErrorKind::kNoResponders,
                "no responders on " + subject_copy);
    }
    if (auto self = this_weak.lock()) self->EndSpan(*span_holder, r.ok() ? Status::Ok() : r.status());
    done(std::move(r));
  };
  {
    MutexLock lock(req_mu_);
    requests_.emplace(token, w);
    w->timer = runtime_->After(timeout, [weak = weak_from_this(), token, timeout, subject_copy] {
      auto self = weak.lock();
      if (!self) return;
      std::function<void(Result<Message>)> callback;
      {
        MutexLock timer_lock(self->req_mu_);
        auto it = self->requests_.find(token);
        if (it == self->requests_.end()) return;
        callback = std::move(it->second->callback);
        it->second->done = true;
        self->requests_.erase(it);
      }
      if (callback) {
        Status s = Error(StatusCode::kDeadlineExceeded, ErrorKind::kTimeout,
                         "no reply on " + subject_copy + " within " +
                             std::to_string(timeout.count()) + " ms");
        self->events_->Post([callback = std::move(callback), s] { callback(s); });
      }
    });
  }
  Status sent =
      PublishWithContext(subject, mux_prefix_ + token, headers, data, *span_holder, true);
  if (!sent.ok()) {
    std::function<void(Result<Message>)> callback;
    {
      MutexLock lock(req_mu_);
      auto it = requests_.find(token);
      if (it == requests_.end()) return;
      callback = std::move(it->second->callback);
      it->second->timer.Cancel();
      requests_.erase(it);
    }
    if (callback) events_->Post([callback = std::move(callback), sent] { callback(sent); });
  }
}

// ---------------------------------------------------------------------------------------------
// Flush, drain, events, accessors

Status Conn::Flush(std::chrono::milliseconds timeout) {
  Result<std::chrono::microseconds> rtt = Rtt(timeout);
  return rtt.ok() ? Status::Ok() : rtt.status();
}

Result<std::chrono::microseconds> Conn::Rtt(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  auto w = std::make_shared<PongWaiter>();
  if (Status s = Append("PING\r\n", {}, {}, AppendKind::kPing, true, w); !s.ok()) return s;
  MutexLock lock(out_mu_);
  const bool done = out_cv_.WaitUntil(lock, deadline, [&] { return w->done; });
  if (!done) {
    // Leave the waiter in the queue (its PONG keeps the FIFO in step), answered by nobody.
    return Error(StatusCode::kDeadlineExceeded, ErrorKind::kTimeout,
                 "flush: no PONG within " + std::to_string(timeout.count()) + " ms");
  }
  if (!w->status.ok()) return w->status;
  return std::chrono::duration_cast<std::chrono::microseconds>(w->answered - w->sent);
}

Status Conn::Drain(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  {
    MutexLock lock(out_mu_);
    const ConnectionState st = state_.load();
    if (st == ConnectionState::kClosed) return ClosedError();
    if (st == ConnectionState::kDraining) {
      return Error(StatusCode::kFailedPrecondition, ErrorKind::kConnectionClosed,
                   "the connection is already draining");
    }
    if (st == ConnectionState::kConnected) {
      state_.store(ConnectionState::kDraining, std::memory_order_release);
    }
  }
  std::vector<std::shared_ptr<SubState>> subs;
  {
    MutexLock lock(subs_mu_);
    for (auto& [sid, s] : subs_) {
      if (!s->is_mux) subs.push_back(s);
    }
  }
  auto remaining = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        std::max(Clock::duration::zero(), deadline - Clock::now()));
  };
  Status result;
  for (auto& s : subs) {
    Status d = DrainSubscription(s, remaining());
    if (!d.ok() && result.ok()) result = d;
  }
  // Publishes made so far (replies from callbacks included) reach the server.
  Status f = Flush(remaining());
  if (!f.ok() && result.ok()) result = f;
  Close(Status::Ok());
  return result;
}

void Conn::Event(std::function<void(Connection&)> f) {
  events_->Post([owner = owner_, f = std::move(f)] {
    if (std::shared_ptr<Connection> c = owner.lock()) f(*c);
  });
}

void Conn::ReportError(SubState* sub, Status status) {
  if (!options_.on_error) {
    OTLP_LOG(kWarn, "nats: " + status.message());
    return;
  }
  std::shared_ptr<SubState> keep;
  if (sub != nullptr) keep = FindSub(sub->sid);
  events_->Post([owner = owner_, cb = options_.on_error, keep, status] {
    std::shared_ptr<Connection> c = owner.lock();
    if (!c) return;
    if (keep) {
      Subscription s(keep);
      cb(*c, &s, status);
    } else {
      cb(*c, nullptr, status);
    }
  });
}

ServerInfo Conn::server_info() const {
  MutexLock lock(out_mu_);
  return info_;
}

std::string Conn::connected_url() const {
  MutexLock lock(out_mu_);
  return connected_url_;
}

std::vector<std::string> Conn::servers() const {
  MutexLock lock(out_mu_);
  return server_urls_;
}

ConnectionStats Conn::stats() const noexcept {
  ConnectionStats s;
  s.in_msgs = in_msgs_.load(std::memory_order_relaxed);
  s.in_bytes = in_bytes_.load(std::memory_order_relaxed);
  s.reconnects = reconnects_.load(std::memory_order_relaxed);
  s.dropped = dropped_.load(std::memory_order_relaxed);
  MutexLock lock(out_mu_);
  s.out_msgs = out_msgs_;
  s.out_bytes = out_bytes_;
  return s;
}

Status Conn::last_error() const {
  MutexLock lock(out_mu_);
  return last_error_;
}

std::string Conn::NewInbox() { return "_INBOX." + NewNuid(); }

}  // namespace otlp::nats::internal
