// otlp/nats/options.h — how a Connection connects, authenticates, reconnects, delivers and
// traces. Every field has the default an experienced NATS user expects (those of nats.go where
// it sets one).
//
//   otlp::nats::Options o;
//   o.servers = {"nats://10.0.0.1:4222", "tls://nats.example.com:4443"};
//   o.name = "orders";
//   o.credentials_file = "/etc/nats/orders.creds";           // JWT + NKey seed
//   o.on_disconnected = [](otlp::nats::Connection&, const otlp::Status& why) { Log(why); };
//   auto conn = otlp::nats::Connection::Connect(std::move(o));
//
// Threading: a value type, read-only once given to Connect.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/net/runtime.h"
#include "otlp/net/tls.h"
#include "otlp/trace/tracer.h"

namespace otlp::nats {

class Connection;
class Subscription;

// How a Connection traces (see tracing in connection.h).
struct OTLP_EXPORT TracingOptions {
  // PRODUCER / CLIENT / CONSUMER spans for publishes, requests and deliveries.
  bool enabled = true;
  // Inject the context into message headers (HPUB). false, with `enabled` false: plain PUB,
  // nothing added to any message.
  bool propagate = true;
  // Unset: otlp::trace::GetTracer("otlp.nats", <version>), following the global provider.
  std::optional<trace::Tracer> tracer{};
};

struct OTLP_EXPORT Options {
  // Servers to try: "nats://host:port", "tls://host:port", "host:port", "host" (port 4222);
  // user:password@ or token@ in a URL authenticate to that server. Tried in random order unless
  // `randomize` is false; servers the cluster announces (INFO connect_urls) are added.
  std::vector<std::string> servers{"nats://127.0.0.1:4222"};
  bool randomize = true;
  // Client name (shown by the server's monitoring).
  std::string name{};
  // Receive our own publishes on our subscriptions.
  bool echo = true;

  // Credentials (at most one kind; a URL's user info is used when none is set here).
  std::string token{};
  std::string user{};
  std::string password{};
  std::string nkey_seed{};         // "SU..." user seed: signs the server's nonce (Ed25519)
  std::string credentials_file{};  // a .creds file: user JWT and NKey seed

  // TLS: used for tls:// servers, when `tls_required` is set, or when the server requires it.
  // Verification is on by default (system CA store, host name checked).
  bool tls_required = false;
  net::TlsOptions tls{};

  // One connect attempt (TCP, TLS, CONNECT → PONG) to one server.
  std::chrono::milliseconds connect_timeout{2000};
  // Our PINGs; the connection is stale (and reconnects) when `max_pings_outstanding` go
  // unanswered.
  std::chrono::milliseconds ping_interval{std::chrono::minutes(2)};
  int max_pings_outstanding = 2;
  // Largest control line accepted from the server (the server's own default).
  size_t max_control_line = 4096;

  // Reconnecting after a lost connection. `max_reconnects` attempts per server in a row (-1:
  // forever); between rounds over the pool: `reconnect_wait` plus a random jitter (larger for
  // TLS).
  bool allow_reconnect = true;
  int max_reconnects = 60;
  std::chrono::milliseconds reconnect_wait{2000};
  std::chrono::milliseconds reconnect_jitter{100};
  std::chrono::milliseconds reconnect_jitter_tls{1000};
  // Publishes kept while disconnected, sent after reconnecting; beyond it a publish fails with
  // kBufferFull (never a silent drop). 0: publishes fail at once while disconnected.
  size_t reconnect_buffer_bytes = 8 * 1024 * 1024;
  // Retry the first connect like a reconnect instead of failing Connect().
  bool retry_on_failed_connect = false;

  // Bytes waiting to be written while connected; a publisher beyond it waits for the writer
  // (back-pressure, not loss).
  size_t write_buffer_bytes = 1024 * 1024;

  // Per-subscription pending limits (changeable per subscription): above either, messages are
  // dropped, counted and reported once through on_error as kSlowConsumer. 0: no limit.
  size_t pending_messages_limit = 512 * 1024;
  size_t pending_bytes_limit = 64 * 1024 * 1024;
  // Threads that run subscription callbacks (and the callbacks below); each subscription is
  // served by one of them, in order.
  int delivery_threads = 1;
  // The runtime whose I/O thread runs the connection; unset, the connection has its own.
  std::shared_ptr<net::Runtime> runtime{};

  TracingOptions tracing{};

  // Events, on the connection's event thread (never on the I/O thread; see connection.h).
  std::function<void(Connection&, const Status& why)> on_disconnected{};
  std::function<void(Connection&)> on_reconnected{};
  std::function<void(Connection&)> on_closed{};
  std::function<void(Connection&)> on_lame_duck{};
  std::function<void(Connection&)> on_discovered_servers{};
  // Asynchronous errors: a slow consumer (with its subscription), a -ERR that keeps the
  // connection open (a permissions violation), ...
  std::function<void(Connection&, Subscription*, const Status&)> on_error{};
};

}  // namespace otlp::nats
