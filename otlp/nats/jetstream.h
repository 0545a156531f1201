// otlp/nats/jetstream.h — JetStream on a Connection: streams, publishing with PubAck (sync and
// async with a bounded in-flight window), pull consumers (Fetch), message acknowledgement and
// an ordered consumer for replay.
//
//   auto js = otlp::nats::JetStream::Create(conn);                    // $JS.API., 5 s timeout
//   otlp::nats::StreamConfig sc{.name = "ORDERS", .subjects = {"orders.>"}};
//   if (auto info = (*js)->CreateStream(sc); !info.ok()) return info.status();
//   otlp::Result<otlp::nats::PubAck> ack = (*js)->Publish("orders.new", R"({"id":42})",
//                                                          {.msg_id = "order-42"});
//   (*js)->CreateConsumer("ORDERS", {.durable_name = "billing"}).status().IgnoreError();
//   auto batch = (*js)->Fetch("ORDERS", "billing", {.batch = 10, .expires = 2s});
//   if (batch.ok()) for (auto& m : *batch) { Handle(m.data()); m.Ack().IgnoreError(); }
//
// Errors: a JetStream API error ({"error":{"code","err_code","description"}}) is a Status with
// ErrorKind::kJetStream, or kNotFound for "stream not found" (err_code 10059) and "consumer not
// found" (10014); the message reads "<description> (code <code>, err_code <err_code>)" and
// JetStreamErrorCode(status) gives the err_code back. A reply that is not the expected JSON is
// kInternal with kProtocol. Request timeouts are kDeadlineExceeded (kTimeout); no JetStream on
// the server is kUnavailable (kNoResponders).
//
// Tracing (on top of connection.h's rules; messaging.system = "nats"):
// - Publish / PublishAsync: one PRODUCER span "send <subject>" (messaging.destination.name =
//   subject, operation type send) from the publish to the PubAck, its context injected into the
//   message headers; once the PubAck arrives it gets messaging.nats.jetstream.stream (the stream
//   that stored it) and messaging.nats.jetstream.sequence (its stream sequence), plus
//   messaging.nats.jetstream.duplicate = true for a de-duplicated publish. The PubAck itself is
//   not traced (no CONSUMER span for the reply).
// - Fetch: a CONSUMER span "receive <stream>" (operation type and name receive,
//   messaging.destination.name = stream, messaging.consumer.group.name = consumer) with
//   messaging.batch.message_count and a link to every message's sent context; the pull request
//   and the deliveries to the fetch's inbox have no span of their own.
// - Ack / Nak / Term / InProgress / AckSync: a CLIENT span "settle <stream>" (operation type
//   settle, messaging.operation.name ack|nak|term|in_progress) whose parent is the current
//   context; acks carry no headers.
// - API requests ($JS.API.…) are the core's CLIENT "request" spans.
//
// Threading: JetStream, JsMessage and OrderedConsumer are thread-safe. PubAcks are read by the
// context's own thread (started by the first publish), which runs PublishAsync callbacks; so a
// synchronous Publish may be called from a subscription callback without waiting on the
// delivery thread it occupies. An OrderedConsumer handler runs on a delivery thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/nats/connection.h"
#include "otlp/nats/headers.h"
#include "otlp/nats/message.h"

namespace otlp::nats {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

// The JetStream err_code of a Status from this module (10059 stream not found, 10071 wrong last
// sequence, ...); 0 when it carries none.
OTLP_EXPORT int JetStreamErrorCode(const Status& status) noexcept;

// Well-known err_codes.
inline constexpr int kJsErrStreamNotFound = 10059;
inline constexpr int kJsErrConsumerNotFound = 10014;
inline constexpr int kJsErrStreamNameInUse = 10058;
inline constexpr int kJsErrWrongLastSequence = 10071;
inline constexpr int kJsErrWrongLastMsgId = 10070;
inline constexpr int kJsErrStreamWrongExpected = 10060;
inline constexpr int kJsErrMessageNotFound = 10037;

enum class StorageType { kFile, kMemory };
enum class RetentionPolicy { kLimits, kInterest, kWorkQueue };
enum class DiscardPolicy { kOld, kNew };
enum class DeliverPolicy { kAll, kLast, kNew, kByStartSequence, kByStartTime, kLastPerSubject };
enum class AckPolicy { kNone, kAll, kExplicit };
enum class ReplayPolicy { kInstant, kOriginal };

// A stream's configuration (the server's JSON names in comments where they differ). Zero / -1
// mean "the server's default / unlimited", as in nats.go.
struct OTLP_EXPORT StreamConfig {
  std::string name{};
  std::vector<std::string> subjects{};
  std::string description{};
  RetentionPolicy retention = RetentionPolicy::kLimits;
  int64_t max_consumers = -1;
  int64_t max_msgs = -1;
  int64_t max_bytes = -1;
  nanoseconds max_age{0};
  int64_t max_msgs_per_subject = -1;
  int32_t max_msg_size = -1;
  DiscardPolicy discard = DiscardPolicy::kOld;
  StorageType storage = StorageType::kFile;
  int replicas = 1;                // num_replicas
  nanoseconds duplicate_window{0};  // 0: the server's (2 minutes)
  bool allow_rollup = false;       // allow_rollup_hdrs
  bool deny_delete = false;
  bool deny_purge = false;
  bool allow_direct = false;
  bool sealed = false;
};

struct OTLP_EXPORT StreamState {
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  int64_t first_ts_unix_nano = 0;
  int64_t last_ts_unix_nano = 0;
  uint64_t num_subjects = 0;
  uint64_t num_deleted = 0;
  int64_t consumer_count = 0;
};

struct OTLP_EXPORT StreamInfo {
  StreamConfig config{};
  StreamState state{};
  int64_t created_unix_nano = 0;
};

struct OTLP_EXPORT PubAck {
  std::string stream{};
  uint64_t sequence = 0;
  bool duplicate = false;
  std::string domain{};
};

// Per-publish expectations and de-duplication (the Nats-* headers).
struct OTLP_EXPORT PublishOptions {
  std::string msg_id{};                                    // Nats-Msg-Id
  std::string expected_stream{};                           // Nats-Expected-Stream
  std::optional<uint64_t> expected_last_sequence{};        // Nats-Expected-Last-Sequence
  std::optional<uint64_t> expected_last_subject_sequence{};  // ...-Last-Subject-Sequence
  std::string expected_last_msg_id{};                      // Nats-Expected-Last-Msg-Id
  milliseconds timeout{0};                                 // 0: the context's timeout
};

struct OTLP_EXPORT ConsumerConfig {
  std::string durable_name{};  // set: a durable consumer of that name; empty: ephemeral
  std::string name{};          // an ephemeral's name (empty: the server picks one)
  std::string description{};
  DeliverPolicy deliver_policy = DeliverPolicy::kAll;
  uint64_t opt_start_seq = 0;
  int64_t opt_start_time_unix_nano = 0;  // kByStartTime
  AckPolicy ack_policy = AckPolicy::kExplicit;
  nanoseconds ack_wait{0};  // 0: the server's (30 s)
  int64_t max_deliver = -1;
  std::vector<nanoseconds> backoff{};
  std::string filter_subject{};
  ReplayPolicy replay_policy = ReplayPolicy::kInstant;
  int64_t max_waiting = 0;      // pull: outstanding pull requests (0: the server's 512)
  int64_t max_ack_pending = 0;  // 0: the server's (1000)
  int64_t max_batch = 0;
  bool headers_only = false;
  nanoseconds inactive_threshold{0};
  // Push consumers only.
  std::string deliver_subject{};
  bool flow_control = false;
  nanoseconds idle_heartbeat{0};
  bool mem_storage = false;
  int replicas = 0;  // num_replicas; 0: the stream's
};

struct OTLP_EXPORT SequenceInfo {
  uint64_t consumer_seq = 0;
  uint64_t stream_seq = 0;
};

struct OTLP_EXPORT ConsumerInfo {
  std::string stream{};
  std::string name{};
  int64_t created_unix_nano = 0;
  ConsumerConfig config{};
  SequenceInfo delivered{};
  SequenceInfo ack_floor{};
  uint64_t num_ack_pending = 0;
  uint64_t num_redelivered = 0;
  uint64_t num_waiting = 0;
  uint64_t num_pending = 0;
};

// What a JetStream delivery's reply subject ($JS.ACK.…) says about it.
struct OTLP_EXPORT JsMetadata {
  std::string domain{};
  std::string stream{};
  std::string consumer{};
  uint64_t delivered = 0;  // times delivered (1 the first time)
  uint64_t stream_seq = 0;
  uint64_t consumer_seq = 0;
  int64_t timestamp_unix_nano = 0;
  uint64_t pending = 0;  // messages still pending for the consumer after this one
};

// Parses "$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>" (and the newer
// form with domain and account hash); kInvalidArgument when it is not one.
OTLP_EXPORT Result<JsMetadata> ParseJsAckSubject(std::string_view reply);

// A message delivered by a JetStream consumer, with its metadata and acknowledgement.
class OTLP_EXPORT JsMessage {
 public:
  JsMessage() = default;
  explicit JsMessage(Message message);

  const Message& message() const noexcept { return message_; }
  std::string_view subject() const noexcept { return message_.subject(); }
  std::string_view data() const noexcept { return message_.data(); }
  const Headers& headers() const { return message_.headers(); }
  // The metadata (from the reply subject); kInvalidArgument for a message that has none.
  Result<JsMetadata> metadata() const;

  // Acknowledgements, published to the reply subject. Ack/Nak/Term once per message.
  Status Ack() const;
  // Ack, and wait until the server confirms it (a request).
  Status AckSync(milliseconds timeout = std::chrono::seconds(5)) const;
  // Redeliver (after `delay` when > 0).
  Status Nak(milliseconds delay = milliseconds(0)) const;
  // Never redeliver.
  Status Term() const;
  // Still working: resets the ack-wait timer.
  Status InProgress() const;

 private:
  Status Settle(std::string_view body, std::string_view operation, bool sync,
                milliseconds timeout) const;
  Message message_;
};

struct OTLP_EXPORT FetchOptions {
  int batch = 1;
  // How long the server keeps the pull request open (0: until the batch is full; the call
  // still returns after the context's timeout).
  milliseconds expires{std::chrono::seconds(5)};
  // > 0: the server sends idle heartbeats at this interval; two missed fail the fetch.
  milliseconds idle_heartbeat{0};
  // Return at once with what is available (404 No Messages when nothing is).
  bool no_wait = false;
  int64_t max_bytes = 0;
};

struct OTLP_EXPORT JetStreamOptions {
  std::string api_prefix = "$JS.API.";
  // Set: "$JS.<domain>.API." (wins over api_prefix).
  std::string domain{};
  milliseconds timeout{std::chrono::seconds(5)};
  // PublishAsync: PubAcks awaited at most; a publish beyond it waits (up to the timeout).
  size_t max_pending_async = 4000;
};

class JetStream;

// An ordered consumer: an ephemeral push consumer (ack none, flow control, idle heartbeats) that
// delivers a stream's messages in order, recreated from the next expected stream sequence when
// a gap shows (consumer sequence not the one expected), heartbeats stop (consumer deleted,
// server restarted) or the server says the consumer is gone. Flow-control requests are
// answered at once.
struct OTLP_EXPORT OrderedConsumerConfig {
  std::string filter_subject{};
  DeliverPolicy deliver_policy = DeliverPolicy::kAll;
  uint64_t opt_start_seq = 0;
  bool headers_only = false;
  milliseconds heartbeat{std::chrono::seconds(5)};
};

class OTLP_EXPORT OrderedConsumer {
 public:
  ~OrderedConsumer();  // Stop()
  OrderedConsumer(const OrderedConsumer&) = delete;
  OrderedConsumer& operator=(const OrderedConsumer&) = delete;

  // Without a handler: the next message, kDeadlineExceeded (kTimeout) after `timeout`, or
  // kSubscriptionClosed once stopped.
  Result<JsMessage> Next(milliseconds timeout);
  // Messages pending in the consumer when it was (last) created; the server's count.
  uint64_t initial_pending() const;
  // How many times the consumer was recreated (failed attempts included).
  uint64_t resets() const;
  // The stream sequence of the last message delivered (0: none yet).
  uint64_t last_stream_seq() const;
  // Unsubscribes and deletes the server's consumer (best effort); idempotent.
  void Stop();

  struct State;  // internal

 private:
  friend class JetStream;
  explicit OrderedConsumer(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

class OTLP_EXPORT JetStream : public std::enable_shared_from_this<JetStream> {
 public:
  static Result<std::shared_ptr<JetStream>> Create(std::shared_ptr<Connection> conn,
                                                   JetStreamOptions options = {});
  ~JetStream();
  JetStream(const JetStream&) = delete;
  JetStream& operator=(const JetStream&) = delete;

  const std::shared_ptr<Connection>& connection() const noexcept { return conn_; }
  const JetStreamOptions& options() const noexcept { return options_; }
  // "$JS.API." or "$JS.<domain>.API.".
  const std::string& api_prefix() const noexcept { return prefix_; }

  // Streams.
  Result<StreamInfo> CreateStream(const StreamConfig& config);
  Result<StreamInfo> UpdateStream(const StreamConfig& config);
  Result<StreamInfo> GetStreamInfo(std::string_view stream);
  Status DeleteStream(std::string_view stream);
  // Removes messages: all, only `subject`'s (wildcards allowed), keeping the last `keep`.
  // Returns how many were purged.
  Result<uint64_t> PurgeStream(std::string_view stream, std::string_view subject = {},
                               uint64_t keep = 0);
  // Every stream's name / info (all pages), optionally only those with a subject matching
  // `subject`.
  Result<std::vector<std::string>> StreamNames(std::string_view subject = {});
  Result<std::vector<StreamInfo>> Streams(std::string_view subject = {});
  // The stream that stores `subject`.
  Result<std::string> StreamNameBySubject(std::string_view subject);

  // Publishing: OK with the PubAck once the stream stored the message.
  Result<PubAck> Publish(std::string_view subject, std::string_view data,
                         const PublishOptions& options = {});
  Result<PubAck> Publish(std::string_view subject, const Headers& headers, std::string_view data,
                         const PublishOptions& options = {});
  // Asynchronous: returns once the message is sent (waiting first while max_pending_async
  // PubAcks are outstanding); the future becomes ready with the PubAck or the error (a timeout
  // after options.timeout or the context's).
  std::future<Result<PubAck>> PublishAsync(std::string_view subject, const Headers& headers,
                                           std::string_view data,
                                           const PublishOptions& options = {});
  // The same with a callback (on a delivery thread) instead of a future.
  void PublishAsync(std::string_view subject, const Headers& headers, std::string_view data,
                    const PublishOptions& options, std::function<void(Result<PubAck>)> done);
  // PubAcks still awaited.
  size_t PublishAsyncPending() const;
  // Waits until every async publish has completed (acked, failed or timed out).
  Status PublishAsyncComplete(milliseconds timeout);

  // Consumers (pull unless deliver_subject is set).
  Result<ConsumerInfo> CreateConsumer(std::string_view stream, const ConsumerConfig& config);
  Result<ConsumerInfo> UpdateConsumer(std::string_view stream, const ConsumerConfig& config);
  Result<ConsumerInfo> GetConsumerInfo(std::string_view stream, std::string_view consumer);
  Status DeleteConsumer(std::string_view stream, std::string_view consumer);
  Result<std::vector<std::string>> ConsumerNames(std::string_view stream);
  Result<std::vector<ConsumerInfo>> Consumers(std::string_view stream);

  // Pulls up to `batch` messages from a pull consumer. Returns what arrived when the batch is
  // full, the request expired (408), nothing was there for a no_wait pull (404) or the server
  // ended the request (409: the consumer deleted, max waiting exceeded...). Without a single
  // message: kDeadlineExceeded (kTimeout) for an expiry or an empty no_wait pull, kJetStream
  // for a 409, kDeadlineExceeded for missed idle heartbeats.
  Result<std::vector<JsMessage>> Fetch(std::string_view stream, std::string_view consumer,
                                       const FetchOptions& options = {});

  // Stored messages by sequence or as the last on a subject (direct get when `direct`, which
  // needs allow_direct on the stream; else STREAM.MSG.GET). kNotFound (err_code 10037) when
  // there is none.
  struct StoredMessage {
    std::string subject;
    uint64_t sequence = 0;
    Headers headers;
    std::string data;
    int64_t time_unix_nano = 0;
  };
  Result<StoredMessage> GetMessage(std::string_view stream, uint64_t sequence, bool direct = false);
  Result<StoredMessage> GetLastMessage(std::string_view stream, std::string_view subject,
                                       bool direct = false);
  Status DeleteMessage(std::string_view stream, uint64_t sequence);

  // An ordered consumer on `stream`; `handler` (optional) gets each message on a delivery
  // thread, else read them with Next().
  Result<std::unique_ptr<OrderedConsumer>> OrderedSubscribe(
      std::string_view stream, const OrderedConsumerConfig& config,
      std::function<void(JsMessage&)> handler = {});

  // A JetStream API request: the JSON reply parsed, or the API error as a Status. For the
  // layers above (KV, Object Store); `subject` follows the prefix ("STREAM.INFO.X").
  Result<std::string> ApiRequest(std::string_view subject, std::string_view body,
                                 milliseconds timeout = milliseconds(0));

  struct AsyncState;  // internal

 private:
  JetStream(std::shared_ptr<Connection> conn, JetStreamOptions options);
  Result<ConsumerInfo> UpsertConsumer(std::string_view stream, const ConsumerConfig& config);
  Result<StoredMessage> GetMsg(std::string_view stream, uint64_t sequence,
                               std::string_view last_for, bool direct);

  std::shared_ptr<Connection> conn_;
  JetStreamOptions options_;
  std::string prefix_;
  std::shared_ptr<AsyncState> async_;
};

}  // namespace otlp::nats
