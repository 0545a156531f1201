// otlp/nats/connection.h — the NATS client: one Connection to a server (or a cluster), publish,
// subscribe (with wildcards and queue groups), request-reply, flush, drain, reconnect; traced.
//
//   #include "otlp/nats/connection.h"
//   using namespace std::chrono_literals;
//
//   auto conn = otlp::nats::Connection::Connect("nats://127.0.0.1:4222");
//   if (!conn.ok()) return conn.status();
//   auto sub = (*conn)->Subscribe("orders.*", [](otlp::nats::Message& m) { Handle(m); });
//   (*conn)->Publish("orders.created", R"({"id":42})").IgnoreError();
//   otlp::Result<otlp::nats::Message> r = (*conn)->Request("inventory.check", "pear", 500ms);
//   (*conn)->Drain(5s).IgnoreError();      // deliver what is pending, then close
//
// Protocol: CONNECT with headers, no_responders, protocol 1 (asynchronous INFO: announced servers
// are added, lame-duck mode reported), verbose off; the connection is up after the first PONG.
// Subjects are checked before anything is sent (tokens separated by '.', no whitespace, '*' and
// '>' only in subscriptions, '>' last); so is max_payload (header block + data).
//
// Threading model (documented because callbacks depend on it):
// - One I/O thread (the runtime's) reads, parses and writes. It never runs user code and never
//   blocks: a message for a subscription is queued on that subscription (within its pending
//   limits, else dropped and reported as a slow consumer).
// - Callbacks run on the connection's delivery threads (Options::delivery_threads, default 1).
//   Each subscription is served by one of them, so its messages arrive in order, one at a time;
//   different subscriptions may run at once on different delivery threads.
// - Connection events (disconnected, reconnected, closed, lame duck, errors such as a slow
//   consumer) and RequestAsync completions run on one more thread, the connection's event
//   thread, so a callback that blocks does not hold them up.
// - Synchronous subscriptions are read with NextMsg(timeout) from any thread.
// - Every method of Connection and Subscription is thread-safe. Publishes from any thread are
//   appended to one write buffer and go out in large writes (write coalescing); Publish returns
//   once the bytes are queued (Flush() waits until the server has them).
// - Calling Flush, Request, Drain or NextMsg from a callback is allowed (the I/O thread is never
//   the caller); waiting in a callback delays that delivery thread's other subscriptions.
//
// Tracing (OpenTelemetry messaging conventions; messaging.system = "nats"):
// - Publish: a PRODUCER span "send <subject>" (operation type send, name "publish") whose context
//   goes into the message headers (traceparent, tracestate, baggage: the global propagator), so
//   a traced publish is an HPUB. Attributes: messaging.destination.name,
//   messaging.operation.type / .name, messaging.message.body.size, messaging.client.id (the
//   server's id for this client), server.address, server.port, error.type on failure. Inbox
//   subjects are temporary destinations: span name "send (temporary)",
//   messaging.destination.temporary = true.
// - Request: a CLIENT span "request <subject>" around the round trip; the reply's status code
//   (503: no responders) or the timeout is its error.type.
// - Delivery to a callback: a CONSUMER span "process <subject>" (operation type process) whose
//   parent is the context the message carries, current while the callback runs (so publishes and
//   requests made there are its children); messaging.consumer.group.name for a queue group.
// - NextMsg: a CONSUMER span "receive <subject>" (operation type receive) in the caller's
//   context, linked to the message's context.
// - TracingOptions{.enabled = false, .propagate = false}: no span, no header added, plain PUB.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/nats/error.h"
#include "otlp/nats/headers.h"
#include "otlp/nats/message.h"
#include "otlp/nats/options.h"

namespace otlp::nats {

namespace internal {
class Conn;
struct SubState;
}  // namespace internal

using MessageHandler = std::function<void(Message&)>;

// What the server said about itself in its last INFO.
struct OTLP_EXPORT ServerInfo {
  std::string server_id{};
  std::string server_name{};
  std::string version{};
  int proto = 0;
  std::string host{};
  int port = 0;
  bool headers = false;
  int64_t max_payload = 0;
  bool jetstream = false;
  uint64_t client_id = 0;
  std::string client_ip{};
  bool tls_required = false;
  bool auth_required = false;
  std::string nonce{};
  std::vector<std::string> connect_urls{};
  bool lame_duck = false;
};

struct OTLP_EXPORT ConnectionStats {
  uint64_t in_msgs = 0, in_bytes = 0, out_msgs = 0, out_bytes = 0;
  uint64_t reconnects = 0;
  uint64_t dropped = 0;  // messages dropped by slow-consumer limits, all subscriptions
};

enum class ConnectionState { kConnecting, kConnected, kReconnecting, kDraining, kClosed };
OTLP_EXPORT std::string_view ConnectionStateName(ConnectionState state) noexcept;

class OTLP_EXPORT Subscription {
 public:
  ~Subscription();  // does not unsubscribe: a subscription lives until Unsubscribe/Drain/close
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  const std::string& subject() const noexcept;
  const std::string& queue() const noexcept;
  uint64_t sid() const noexcept;
  bool IsValid() const noexcept;  // not unsubscribed, drained, at its maximum or closed

  // Stops delivery now (messages still queued are dropped).
  Status Unsubscribe();
  // Unsubscribes after `max` messages in total (those already received count).
  Status AutoUnsubscribe(uint64_t max);
  // Unsubscribes, then delivers what the server had already sent (a PING/PONG round trip tells
  // when that is all) before closing; waits up to `timeout` for the last callback to finish.
  Status Drain(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Synchronous subscriptions: the next message, or kDeadlineExceeded (kTimeout) after
  // `timeout`, or kSubscriptionClosed / kConnectionClosed; a slow-consumer drop since the last
  // call fails one call with kSlowConsumer (the next message is still there).
  Result<Message> NextMsg(std::chrono::milliseconds timeout);

  // Pending-limit control (see Options::pending_*_limit).
  void SetPendingLimits(size_t messages, size_t bytes);
  size_t pending_messages() const noexcept;
  size_t pending_bytes() const noexcept;
  uint64_t delivered() const noexcept;  // handed to the callback / NextMsg
  uint64_t dropped() const noexcept;

 private:
  friend class internal::Conn;
  explicit Subscription(std::shared_ptr<internal::SubState> state) : state_(std::move(state)) {}
  std::shared_ptr<internal::SubState> state_;
};

class OTLP_EXPORT Connection : public std::enable_shared_from_this<Connection> {
 public:
  // Connects to one of `options.servers` (each tried once, in pool order) and returns once the
  // server answered the first PING. kInvalidArgument for bad options or URLs; kUnauthenticated
  // (kAuthorization) when the server refuses the credentials; kUnavailable (kConnect) when no
  // server answered, with each server's reason.
  static Result<std::shared_ptr<Connection>> Connect(Options options);
  static Result<std::shared_ptr<Connection>> Connect(std::string url);
  ~Connection();  // closes (without draining)
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Publishing. OK once queued for the server (or in the reconnect buffer). kInvalidArgument
  // (kInvalidSubject) for a bad subject, kMaxPayload above max_payload, kBufferFull, and
  // kConnectionClosed once closed; nothing is sent then.
  Status Publish(std::string_view subject, std::string_view data);
  Status Publish(std::string_view subject, const Headers& headers, std::string_view data);
  Status PublishRequest(std::string_view subject, std::string_view reply, std::string_view data);
  Status PublishRequest(std::string_view subject, std::string_view reply, const Headers& headers,
                        std::string_view data);
  Status Publish(const Message& message);

  // Subscribing: asynchronous (the handler runs on a delivery thread) or synchronous (NextMsg).
  Result<std::shared_ptr<Subscription>> Subscribe(std::string_view subject, MessageHandler handler);
  Result<std::shared_ptr<Subscription>> QueueSubscribe(std::string_view subject,
                                                       std::string_view queue,
                                                       MessageHandler handler);
  Result<std::shared_ptr<Subscription>> SubscribeSync(std::string_view subject);
  Result<std::shared_ptr<Subscription>> QueueSubscribeSync(std::string_view subject,
                                                           std::string_view queue);

  // Request-reply over the connection's one inbox subscription: the first reply, or
  // kDeadlineExceeded (kTimeout), or kUnavailable (kNoResponders) at once when nobody listens.
  Result<Message> Request(std::string_view subject, std::string_view data,
                          std::chrono::milliseconds timeout);
  Result<Message> Request(std::string_view subject, const Headers& headers, std::string_view data,
                          std::chrono::milliseconds timeout);
  // The same without blocking: `done` runs on a delivery thread.
  void RequestAsync(std::string_view subject, const Headers& headers, std::string_view data,
                    std::chrono::milliseconds timeout, std::function<void(Result<Message>)> done);

  // PING, and wait for the PONG: everything published before has reached the server.
  Status Flush(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Drains every subscription, flushes publishes, then closes; within `timeout`.
  Status Drain(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Closes at once: pending publishes not yet written are dropped, waiters fail with
  // kConnectionClosed. Idempotent; on_closed runs once.
  void Close();

  ConnectionState state() const noexcept;
  bool IsConnected() const noexcept { return state() == ConnectionState::kConnected; }
  bool IsClosed() const noexcept { return state() == ConnectionState::kClosed; }
  ServerInfo server_info() const;
  // "nats://127.0.0.1:4222" of the server connected to (empty when not connected).
  std::string connected_url() const;
  // Every server in the pool (configured and discovered), as URLs.
  std::vector<std::string> servers() const;
  int64_t max_payload() const noexcept;
  ConnectionStats stats() const noexcept;
  // The last error that closed or dropped the connection.
  Status last_error() const;
  // A new unique inbox subject ("_INBOX.<22 random characters>").
  std::string NewInbox() const;
  // How long the last PING took to come back (a Flush now).
  Result<std::chrono::microseconds> Rtt(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // For otlp::nats's own layers (JetStream, KV, Object Store).
  internal::Conn& impl() noexcept { return *impl_; }

 private:
  Connection() = default;
  std::shared_ptr<internal::Conn> impl_;
};

// Subject rules (the server's): for publishing, no wildcards; for subscribing, '*' as a whole
// token and '>' as the last one. Queue group names are one token without wildcards.
OTLP_EXPORT bool IsValidPublishSubject(std::string_view subject) noexcept;
OTLP_EXPORT bool IsValidSubscribeSubject(std::string_view subject) noexcept;
OTLP_EXPORT bool IsValidQueueName(std::string_view queue) noexcept;

}  // namespace otlp::nats
