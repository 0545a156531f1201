// otlp/nats/internal/conn.h — the engine behind otlp::nats::Connection: the I/O strand (connect,
// handshake, read loop, writer, PING timer, reconnect), the subscription table, the request mux
// and the delivery threads. Not installed; JetStream, KV and the Object Store use it through
// Connection::impl().
//
// Locks (never held while calling user code or waiting on I/O); order: subs_mu_ → a
// subscription's mu, subs_mu_ → out_mu_; req_mu_ and direct_mu_ are leaves (a publisher
// writing directly holds direct_mu_ alone).
//   out_mu_   the write buffer, connection state, PONG waiters, publish statistics
//   subs_mu_  sid → subscription
//   req_mu_   request token → waiter
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "otlp/core/internal/mutex.h"
#include "otlp/nats/connection.h"
#include "otlp/nats/internal/parser.h"
#include "otlp/nats/internal/server_pool.h"
#include "otlp/trace/span.h"

namespace otlp::nats::internal {

class Conn;
class Dispatcher;

struct SubState {
  uint64_t sid = 0;
  std::string subject;
  std::string queue;
  MessageHandler handler;  // empty: synchronous (NextMsg)
  std::weak_ptr<Conn> conn;
  Dispatcher* dispatcher = nullptr;
  bool is_mux = false;  // the request inbox: replies go to waiters, not to a queue
  // false: no CONSUMER span around its callbacks (JetStream's own inboxes: PubAcks, ordered
  // consumers, which trace at their own level).
  std::atomic<bool> traced{true};

  otlp::internal::Mutex mu;
  otlp::internal::CondVar cv;  // a message queued, closed, or the queue drained
  std::deque<Message> pending OTLP_GUARDED_BY(mu);
  size_t pending_bytes OTLP_GUARDED_BY(mu) = 0;
  size_t max_pending_messages OTLP_GUARDED_BY(mu) = 0;
  size_t max_pending_bytes OTLP_GUARDED_BY(mu) = 0;
  bool scheduled OTLP_GUARDED_BY(mu) = false;  // handed to the dispatcher or being delivered
  bool in_callback OTLP_GUARDED_BY(mu) = false;
  bool closed OTLP_GUARDED_BY(mu) = false;  // nothing more will be queued
  bool slow OTLP_GUARDED_BY(mu) = false;    // dropping; reported once until it recovers
  bool slow_for_next OTLP_GUARDED_BY(mu) = false;  // NextMsg owes a kSlowConsumer
  int waiters OTLP_GUARDED_BY(mu) = 0;
  Status close_reason OTLP_GUARDED_BY(mu);

  uint64_t max = 0;       // auto-unsubscribe after this many received in total (0: none)
  uint64_t received = 0;  // strand only
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> dropped{0};
};

// A delivery thread: runs subscription callbacks (each subscription's in order) and events.
// Its queue lives in a State the thread shares, so the Dispatcher may be destroyed from one of
// its own callbacks (the thread then finishes what is queued and ends by itself).
class Dispatcher {
 public:
  explicit Dispatcher(std::string name);
  ~Dispatcher();  // Stop() + Join()
  void Schedule(std::shared_ptr<SubState> sub) { Schedule(*state_, std::move(sub)); }
  void Post(std::function<void()> task);
  void Stop();   // after what is queued
  void Join();   // or detach, when called on this thread
  bool OnThisThread() const noexcept { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  struct Item {
    std::shared_ptr<SubState> sub;
    std::function<void()> task;
  };
  struct State {
    otlp::internal::Mutex mu;
    otlp::internal::CondVar cv;
    std::deque<Item> items OTLP_GUARDED_BY(mu);
    bool stop OTLP_GUARDED_BY(mu) = false;
    bool sleeping OTLP_GUARDED_BY(mu) = false;
  };
  static void Schedule(State& state, std::shared_ptr<SubState> sub);
  static void Run(State& state);
  static void Deliver(State& state, SubState& sub);

  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::thread thread_;
};

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  explicit Conn(Options options);
  ~Conn();

  // The first connect, on the calling thread's behalf.
  Status Start(const std::shared_ptr<Connection>& owner);

  // `urgent`: written at once by the calling thread when nothing else is being written (a reply).
  Status Publish(std::string_view subject, std::string_view reply, const Headers* headers,
                 std::string_view data, bool urgent = false);
  Result<std::shared_ptr<SubState>> Subscribe(std::string_view subject, std::string_view queue,
                                              MessageHandler handler);
  Status Unsubscribe(const std::shared_ptr<SubState>& sub, uint64_t max);
  Status DrainSubscription(const std::shared_ptr<SubState>& sub, std::chrono::milliseconds timeout);
  Result<Message> NextMsg(SubState& sub, std::chrono::milliseconds timeout);
  Result<Message> Request(std::string_view subject, const Headers* headers, std::string_view data,
                          std::chrono::milliseconds timeout);
  void RequestAsync(std::string_view subject, const Headers* headers, std::string_view data,
                    std::chrono::milliseconds timeout, std::function<void(Result<Message>)> done);
  Status Flush(std::chrono::milliseconds timeout);
  Result<std::chrono::microseconds> Rtt(std::chrono::milliseconds timeout);
  Status Drain(std::chrono::milliseconds timeout);
  void Close(Status why);

  ConnectionState state() const noexcept { return state_.load(std::memory_order_acquire); }
  ServerInfo server_info() const;
  std::string connected_url() const;
  std::vector<std::string> servers() const;
  int64_t max_payload() const noexcept { return max_payload_.load(std::memory_order_relaxed); }
  ConnectionStats stats() const noexcept;
  Status last_error() const;
  std::string NewInbox();
  const Options& options() const noexcept { return options_; }
  void SetPendingLimits(SubState& sub, size_t messages, size_t bytes);
  // The I/O thread's runtime (for timers of the layers above).
  const std::shared_ptr<net::Runtime>& runtime() const noexcept { return runtime_; }

  std::shared_ptr<Connection> owner() const noexcept { return owner_.lock(); }
  static Result<std::shared_ptr<Subscription>> WrapSub(Result<std::shared_ptr<SubState>> s) {
    if (!s.ok()) return s.status();
    return std::shared_ptr<Subscription>(new Subscription(std::move(*s)));
  }

  // Delivery-thread side: the CONSUMER span and scope around a callback.
  void DeliverToCallback(SubState& sub, Message& msg);

  // Tracing, shared with JetStream, KV and the Object Store: whether spans are recorded now (on
  // this thread), the span every messaging span starts as (name "<operation name> <subject>",
  // the messaging.* and server.* attributes), its end (error.type and status from `status`),
  // and a publish inside `span`'s context (injected into the headers when propagating).
  bool SpansOn() const noexcept {
    return trace_spans_ && tracer_.Enabled() && !trace::IsTracingSuppressed();
  }
  trace::Tracer tracer() const noexcept { return tracer_; }
  trace::Span StartSpan(trace::SpanKind kind, std::string_view operation_type,
                        std::string_view operation_name, std::string_view subject,
                        size_t body_size, const trace::Context* parent);
  void EndSpan(trace::Span& span, const Status& status);
  Status PublishWithContext(std::string_view subject, std::string_view reply,
                            const Headers* headers, std::string_view data, const trace::Span& span,
                            bool urgent = false);

 private:
  struct PongWaiter;
  struct RequestWaiter;
  struct Io;  // the strand's state (Asio types)

  // Write side.
  // kMessage: a PUB/HPUB line, its block and data (+ CRLF), counted, within the buffer limits.
  // kSubscription: SUB/UNSUB, dropped while disconnected (they are sent again on reconnect).
  // kPing: kept while disconnected (its waiter is queued), outside the limits. `urgent`: see
  // Publish.
  enum class AppendKind { kMessage, kSubscription, kPing };
  Status Append(std::string_view line, std::string_view block, std::string_view data,
                AppendKind kind, bool urgent = false,
                std::shared_ptr<PongWaiter> ping_waiter = nullptr);
  void KickWriterLocked(bool* post) OTLP_REQUIRES(out_mu_);
  void DirectWrite(std::string& batch);
  void DropLink();
  void StartWrite(uint64_t generation);

  // Strand side.
  void ConnectTo(int index);
  void OnConnectFailed(uint64_t generation, Status why);
  void StartRead(uint64_t generation);
  void OnRead(uint64_t generation, size_t n);
  bool HandleOp(uint64_t generation, const ServerOp& op);
  void HandleInfo(std::string_view json, bool initial);
  void HandleErr(uint64_t generation, std::string_view text);
  void HandleMsg(const ServerOp& op);
  void HandleReply(const ServerOp& op);
  void SendConnect(uint64_t generation);
  void OnConnected(uint64_t generation);
  void OnIoError(uint64_t generation, Status why);
  void ArmPingTimer(uint64_t generation);
  void ScheduleReconnect();
  void CloseOnStrand(Status why);
  void Event(std::function<void(Connection&)> f);
  void ReportError(SubState* sub, Status status);

  // Helpers.
 public:
  std::shared_ptr<SubState> FindSub(uint64_t sid);
 private:
  void RemoveSub(uint64_t sid);
  void CloseSub(SubState& sub, Status why);
  Status EnsureMux();
  std::string BuildConnectJson(const ServerUrl& server, const ServerInfo& info, Status* error);

  Options options_;
  std::shared_ptr<net::Runtime> runtime_;
  std::unique_ptr<Io> io_;
  std::vector<std::unique_ptr<Dispatcher>> dispatchers_;  // subscription callbacks
  std::unique_ptr<Dispatcher> events_;  // connection events, errors, RequestAsync completions
  std::weak_ptr<Connection> owner_;
  trace::Tracer tracer_;
  bool trace_spans_ = true;
  bool trace_propagate_ = true;
  ParseLimits limits_;

  std::atomic<ConnectionState> state_{ConnectionState::kConnecting};
  std::atomic<int64_t> max_payload_{1024 * 1024};
  std::atomic<uint64_t> in_msgs_{0}, in_bytes_{0}, reconnects_{0}, dropped_{0};
  // Moves on whenever client_id_text_, server_host_ or server_port_ change (span attributes).
  std::atomic<uint64_t> span_constants_generation_{1};

  // Write side.
  mutable otlp::internal::Mutex out_mu_;
  otlp::internal::CondVar out_cv_;  // buffer space freed, or the state changed
  std::string out_ OTLP_GUARDED_BY(out_mu_);
  bool write_active_ OTLP_GUARDED_BY(out_mu_) = false;
  int space_waiters_ OTLP_GUARDED_BY(out_mu_) = 0;
  std::deque<std::shared_ptr<PongWaiter>> pongs_ OTLP_GUARDED_BY(out_mu_);
  size_t pings_in_out_ OTLP_GUARDED_BY(out_mu_) = 0;  // PINGs still in out_ (not yet written)
  uint64_t out_msgs_ OTLP_GUARDED_BY(out_mu_) = 0;
  uint64_t out_bytes_ OTLP_GUARDED_BY(out_mu_) = 0;
  Status last_error_ OTLP_GUARDED_BY(out_mu_);
  ServerInfo info_ OTLP_GUARDED_BY(out_mu_);
  std::string connected_url_ OTLP_GUARDED_BY(out_mu_);
  std::vector<std::string> server_urls_ OTLP_GUARDED_BY(out_mu_);
  std::string client_id_text_ OTLP_GUARDED_BY(out_mu_);
  std::string server_host_ OTLP_GUARDED_BY(out_mu_);
  int64_t server_port_ OTLP_GUARDED_BY(out_mu_) = 0;
  bool closed_event_sent_ OTLP_GUARDED_BY(out_mu_) = false;

  // Direct writes by publishers (plain TCP): the socket while connected, -1 otherwise. Held
  // while a publisher writes; the strand takes it before closing the socket.
  otlp::internal::Mutex direct_mu_;
  int direct_fd_ OTLP_GUARDED_BY(direct_mu_) = -1;

  // Subscriptions.
  otlp::internal::Mutex subs_mu_;
  std::unordered_map<uint64_t, std::shared_ptr<SubState>> subs_ OTLP_GUARDED_BY(subs_mu_);
  uint64_t next_sid_ OTLP_GUARDED_BY(subs_mu_) = 1;
  size_t next_dispatcher_ OTLP_GUARDED_BY(subs_mu_) = 0;

  // Requests.
  otlp::internal::Mutex req_mu_;
  std::unordered_map<std::string, std::shared_ptr<RequestWaiter>> requests_
      OTLP_GUARDED_BY(req_mu_);
  std::shared_ptr<SubState> mux_ OTLP_GUARDED_BY(req_mu_);
  std::string mux_prefix_;  // "_INBOX.<nuid>." — set once in the constructor
  std::atomic<uint64_t> next_token_{1};

  // Initial connect.
  otlp::internal::Mutex start_mu_;
  otlp::internal::CondVar start_cv_;
  bool start_done_ OTLP_GUARDED_BY(start_mu_) = false;
  Status start_status_ OTLP_GUARDED_BY(start_mu_);

  friend class Dispatcher;
};

// Subject checks shared with the layers above.
bool ValidSubject(std::string_view subject, bool wildcards) noexcept;

}  // namespace otlp::nats::internal
