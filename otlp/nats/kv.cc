#include "otlp/nats/kv.h"

#include <condition_variable>
#include <deque>
#include <mutex>

#include "otlp/nats/error.h"
#include "otlp/nats/internal/js_util.h"
#include "otlp/trace/context.h"

namespace otlp::nats {

namespace {

constexpr std::string_view kKvOperation = "KV-Operation";

Status KvError(StatusCode code, ErrorKind kind, std::string message) {
  return MakeError(code, kind, "KV: " + std::move(message));
}

Status KeyNotFound(std::string_view bucket, std::string_view key) {
  return KvError(StatusCode::kNotFound, ErrorKind::kNotFound,
                 "key \"" + std::string(key) + "\" not found in bucket " + std::string(bucket));
}

Status InvalidKey(std::string_view key) {
  return KvError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                 "invalid key \"" + std::string(key) + "\"");
}

KvOperation OperationOf(std::string_view value) {
  if (value == "DEL") return KvOperation::kDelete;
  if (value == "PURGE") return KvOperation::kPurge;
  return KvOperation::kPut;
}

// Runs `f` inside a "kv <op> <bucket>" span; a revision returned is recorded on it.
template <typename F>
auto Traced(JetStream& js, std::string_view op, std::string_view bucket, std::string_view stream,
            std::string_view key, F f) -> decltype(f()) {
  return internal::TracedStoreOp(
      *js.connection(), "kv", op, bucket, stream, key, std::move(f),
      [](trace::Span& span, const auto& result) {
        if constexpr (std::is_same_v<std::decay_t<decltype(result)>, Result<uint64_t>>) {
          span.SetAttribute("messaging.nats.kv.revision", static_cast<int64_t>(*result));
        }
      });
}

}  // namespace

std::string_view KvOperationName(KvOperation op) noexcept {
  switch (op) {
    case KvOperation::kDelete: return "DEL";
    case KvOperation::kPurge: return "PURGE";
    default: return "PUT";
  }
}

bool KeyValue::ValidKey(std::string_view key, bool wildcards) noexcept {
  if (key.empty() || key.front() == '.' || key.back() == '.') return false;
  size_t token_start = 0;
  for (size_t i = 0; i <= key.size(); ++i) {
    if (i < key.size() && key[i] != '.') {
      const char c = key[i];
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '/' || c == '_' || c == '=' ||
                      (wildcards && (c == '*' || c == '>'));
      if (!ok) return false;
      continue;
    }
    const std::string_view token = key.substr(token_start, i - token_start);
    if (token.empty()) return false;
    if (token.find_first_of("*>") != std::string_view::npos) {
      if (token.size() != 1) return false;
      if (token == ">" && i != key.size()) return false;
    }
    token_start = i + 1;
  }
  return true;
}

bool KeyValue::ValidBucket(std::string_view bucket) noexcept {
  if (bucket.empty()) return false;
  for (char c : bucket) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

KeyValue::KeyValue(std::shared_ptr<JetStream> js, std::string bucket, bool direct)
    : js_(std::move(js)),
      bucket_(std::move(bucket)),
      stream_("KV_" + bucket_),
      prefix_("$KV." + bucket_ + "."),
      direct_(direct) {}

Result<std::unique_ptr<KeyValue>> KeyValue::Create(std::shared_ptr<JetStream> js,
                                                   const KvConfig& config) {
  if (!js) return KvError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument, "no JetStream");
  if (!ValidBucket(config.bucket)) {
    return KvError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                   "invalid bucket name \"" + config.bucket + "\"");
  }
  if (config.history > kKvMaxHistory) {
    return KvError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                   "history of " + std::to_string(config.history) + " is above 64");
  }
  StreamConfig sc;
  sc.name = "KV_" + config.bucket;
  sc.description = config.description;
  sc.subjects = {"$KV." + config.bucket + ".>"};
  sc.max_msgs_per_subject = config.history > 0 ? config.history : 1;
  sc.max_bytes = config.max_bytes == 0 ? -1 : config.max_bytes;
  sc.max_age = config.ttl;
  sc.max_msg_size = config.max_value_size == 0 ? -1 : config.max_value_size;
  sc.storage = config.storage;
  sc.replicas = config.replicas > 0 ? config.replicas : 1;
  sc.allow_rollup = true;
  sc.deny_delete = true;
  sc.duplicate_window = std::chrono::minutes(2);
  if (config.ttl.count() > 0 && config.ttl < sc.duplicate_window) sc.duplicate_window = config.ttl;
  sc.max_msgs = -1;
  sc.max_consumers = -1;
  sc.allow_direct = true;
  sc.discard = DiscardPolicy::kNew;
  Result<StreamInfo> info = Traced(*js, "create_bucket", config.bucket, sc.name, {},
                                   [&] { return js->CreateStream(sc); });
  if (!info.ok()) return info.status();
  return std::unique_ptr<KeyValue>(new KeyValue(js, config.bucket, info->config.allow_direct));
}

Result<std::unique_ptr<KeyValue>> KeyValue::Bind(std::shared_ptr<JetStream> js,
                                                 std::string_view bucket) {
  if (!js) return KvError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument, "no JetStream");
  if (!ValidBucket(bucket)) {
    return KvError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                   "invalid bucket name \"" + std::string(bucket) + "\"");
  }
  Result<StreamInfo> info = js->GetStreamInfo("KV_" + std::string(bucket));
  if (!info.ok()) {
    if (ErrorKindOf(info.status()) == ErrorKind::kNotFound) {
      return KvError(StatusCode::kNotFound, ErrorKind::kNotFound,
                     "bucket " + std::string(bucket) + " not found (" + info.status().message() +
                         ")");
    }
    return info.status();
  }
  if (info->config.max_msgs_per_subject < 1) {
    return KvError(StatusCode::kFailedPrecondition, ErrorKind::kInvalidArgument,
                   "stream KV_" + std::string(bucket) + " is not a KV bucket");
  }
  return std::unique_ptr<KeyValue>(
      new KeyValue(std::move(js), std::string(bucket), info->config.allow_direct));
}

Status KeyValue::DeleteBucket(JetStream& js, std::string_view bucket) {
  if (!ValidBucket(bucket)) {
    return KvError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                   "invalid bucket name \"" + std::string(bucket) + "\"");
  }
  const std::string stream = "KV_" + std::string(bucket);
  return Traced(js, "delete_bucket", bucket, stream, {}, [&] { return js.DeleteStream(stream); });
}

Result<StreamInfo> KeyValue::BucketInfo() { return js_->GetStreamInfo(stream_); }

Result<KvEntry> KeyValue::GetRaw(std::string_view key, uint64_t revision) {
  if (!ValidKey(key)) return InvalidKey(key);
  const std::string subject = prefix_ + std::string(key);
  Result<JetStream::StoredMessage> m =
      revision == 0 ? js_->GetLastMessage(stream_, subject, direct_)
                    : js_->GetMessage(stream_, revision, direct_);
  if (!m.ok()) {
    if (ErrorKindOf(m.status()) == ErrorKind::kNotFound) return KeyNotFound(bucket_, key);
    return m.status();
  }
  if (m->subject != subject) return KeyNotFound(bucket_, key);
  KvEntry e;
  e.bucket = bucket_;
  e.key = std::string(key);
  e.value = std::move(m->data);
  e.revision = m->sequence;
  e.created_unix_nano = m->time_unix_nano;
  if (auto op = m->headers.Find(kKvOperation)) e.operation = OperationOf(*op);
  return e;
}

Result<KvEntry> KeyValue::Get(std::string_view key) { return Get(key, 0); }

Result<KvEntry> KeyValue::Get(std::string_view key, uint64_t revision) {
  return Traced(*js_, "get", bucket_, stream_, key, [&]() -> Result<KvEntry> {
    Result<KvEntry> e = GetRaw(key, revision);
    if (e.ok() && e->operation != KvOperation::kPut) return KeyNotFound(bucket_, key);
    return e;
  });
}

Result<uint64_t> KeyValue::PublishOp(std::string_view op_name, std::string_view key,
                                     std::string_view value, const Headers& headers,
                                     const PublishOptions& options) {
  if (!ValidKey(key)) return InvalidKey(key);
  return Traced(*js_, op_name, bucket_, stream_, key, [&]() -> Result<uint64_t> {
    Result<PubAck> ack = js_->Publish(prefix_ + std::string(key), headers, value, options);
    if (!ack.ok()) return ack.status();
    return ack->sequence;
  });
}

Result<uint64_t> KeyValue::Put(std::string_view key, std::string_view value) {
  return PublishOp("put", key, value, Headers(), {});
}

Result<uint64_t> KeyValue::Update(std::string_view key, std::string_view value,
                                  uint64_t last_revision) {
  PublishOptions o;
  o.expected_last_subject_sequence = last_revision;
  return PublishOp("update", key, value, Headers(), o);
}

Result<uint64_t> KeyValue::Create(std::string_view key, std::string_view value) {
  if (!ValidKey(key)) return InvalidKey(key);
  return Traced(*js_, "create", bucket_, stream_, key, [&]() -> Result<uint64_t> {
    PublishOptions o;
    o.expected_last_subject_sequence = 0;
    const std::string subject = prefix_ + std::string(key);
    Result<PubAck> ack = js_->Publish(subject, Headers(), value, o);
    if (ack.ok()) return ack->sequence;
    if (JetStreamErrorCode(ack.status()) != kJsErrWrongLastSequence) return ack.status();
    // The key has a history: allowed when its latest entry is a delete or purge marker.
    Result<KvEntry> e = GetRaw(key, 0);
    if (e.ok() && e->operation != KvOperation::kPut) {
      o.expected_last_subject_sequence = e->revision;
      Result<PubAck> again = js_->Publish(subject, Headers(), value, o);
      if (!again.ok()) return again.status();
      return again->sequence;
    }
    return MakeError(ack.status().code(), ErrorKindOf(ack.status()),
                     "KV: key \"" + std::string(key) + "\" exists: " + ack.status().message());
  });
}

Status KeyValue::Delete(std::string_view key, uint64_t last_revision) {
  Headers h;
  h.Add(std::string(kKvOperation), "DEL");
  PublishOptions o;
  if (last_revision > 0) o.expected_last_subject_sequence = last_revision;
  return PublishOp("delete", key, {}, h, o).status();
}

Status KeyValue::Purge(std::string_view key, uint64_t last_revision) {
  Headers h;
  h.Add(std::string(kKvOperation), "PURGE");
  h.Add("Nats-Rollup", "sub");
  PublishOptions o;
  if (last_revision > 0) o.expected_last_subject_sequence = last_revision;
  return PublishOp("purge", key, {}, h, o).status();
}

// ---------------------------------------------------------------------------------------------
// Watch

struct KvWatcher::State {
  std::string bucket;
  std::string prefix;
  KvWatchOptions options;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::optional<KvEntry>> queue;
  bool init_done = false;
  uint64_t init_pending = 0;
  uint64_t received = 0;
  bool stopped = false;
  std::unique_ptr<OrderedConsumer> consumer;

  void OnMessage(JsMessage& m) {
    Result<JsMetadata> md = m.metadata();
    if (!md.ok()) return;
    const std::string_view subject = m.subject();
    if (subject.size() <= prefix.size()) return;
    KvOperation op = KvOperation::kPut;
    if (m.message().has_headers()) op = OperationOf(m.message().header(kKvOperation));
    std::lock_guard<std::mutex> lock(mu);
    if (!options.ignore_deletes || op == KvOperation::kPut) {
      KvEntry e;
      e.bucket = bucket;
      e.key = std::string(subject.substr(prefix.size()));
      e.value = std::string(m.data());
      e.revision = md->stream_seq;
      e.delta = md->pending;
      e.created_unix_nano = md->timestamp_unix_nano;
      e.operation = op;
      queue.emplace_back(std::move(e));
    }
    if (!init_done) {
      ++received;
      if (init_pending == 0) init_pending = md->pending;
      if (received > init_pending || md->pending == 0) {
        init_done = true;
        queue.emplace_back(std::nullopt);
      }
    }
    cv.notify_all();
  }
};

KvWatcher::~KvWatcher() { Stop(); }

void KvWatcher::Stop() {
  std::unique_ptr<OrderedConsumer> c;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stopped = true;
    c = std::move(state_->consumer);
  }
  state_->cv.notify_all();
  if (c) c->Stop();
}

Result<std::optional<KvEntry>> KvWatcher::Next(milliseconds timeout) {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mu);
  s.cv.wait_for(lock, timeout, [&] { return !s.queue.empty() || s.stopped; });
  if (!s.queue.empty()) {
    std::optional<KvEntry> e = std::move(s.queue.front());
    s.queue.pop_front();
    return e;
  }
  if (s.stopped) {
    return KvError(StatusCode::kFailedPrecondition, ErrorKind::kSubscriptionClosed,
                   "the watcher is stopped");
  }
  return KvError(StatusCode::kDeadlineExceeded, ErrorKind::kTimeout,
                 "no update within " + std::to_string(timeout.count()) + " ms");
}

Result<std::unique_ptr<KvWatcher>> KeyValue::WatchUntraced(std::string_view keys,
                                                           const KvWatchOptions& options) {
  if (!ValidKey(keys, true)) return InvalidKey(keys);
  auto state = std::make_shared<KvWatcher::State>();
  state->bucket = bucket_;
  state->prefix = prefix_;
  state->options = options;
  OrderedConsumerConfig oc;
  oc.filter_subject = prefix_ + std::string(keys);
  oc.deliver_policy = options.updates_only      ? DeliverPolicy::kNew
                      : options.include_history ? DeliverPolicy::kAll
                                                : DeliverPolicy::kLastPerSubject;
  oc.headers_only = options.meta_only;
  oc.heartbeat = options.heartbeat;
  std::weak_ptr<KvWatcher::State> weak = state;
  // Held while the consumer is created, so the first deliveries wait for the pending count.
  std::unique_lock<std::mutex> lock(state->mu);
  Result<std::unique_ptr<OrderedConsumer>> c =
      js_->OrderedSubscribe(stream_, oc, [weak](JsMessage& m) {
        if (auto s = weak.lock()) s->OnMessage(m);
      });
  if (!c.ok()) return c.status();
  state->consumer = std::move(*c);
  if (!state->init_done &&
      (options.updates_only || (state->received == 0 && state->consumer->initial_pending() == 0))) {
    state->init_done = true;
    state->queue.emplace_back(std::nullopt);
  }
  lock.unlock();
  return std::unique_ptr<KvWatcher>(new KvWatcher(std::move(state)));
}

Result<std::unique_ptr<KvWatcher>> KeyValue::Watch(std::string_view keys,
                                                   const KvWatchOptions& options) {
  return Traced(*js_, "watch", bucket_, stream_, keys, [&] { return WatchUntraced(keys, options); });
}

Result<std::vector<std::string>> KeyValue::Keys() {
  return Traced(*js_, "keys", bucket_, stream_, {}, [&]() -> Result<std::vector<std::string>> {
    KvWatchOptions o;
    o.ignore_deletes = true;
    o.meta_only = true;
    Result<std::unique_ptr<KvWatcher>> w = WatchUntraced(">", o);
    if (!w.ok()) return w.status();
    std::vector<std::string> keys;
    for (;;) {
      Result<std::optional<KvEntry>> e = (*w)->Next(js_->options().timeout);
      if (!e.ok()) return e.status();
      if (!e->has_value()) break;
      keys.push_back((*e)->key);
    }
    return keys;
  });
}

Result<std::vector<KvEntry>> KeyValue::History(std::string_view key) {
  if (!ValidKey(key)) return InvalidKey(key);
  return Traced(*js_, "history", bucket_, stream_, key, [&]() -> Result<std::vector<KvEntry>> {
    KvWatchOptions o;
    o.include_history = true;
    Result<std::unique_ptr<KvWatcher>> w = WatchUntraced(key, o);
    if (!w.ok()) return w.status();
    std::vector<KvEntry> entries;
    for (;;) {
      Result<std::optional<KvEntry>> e = (*w)->Next(js_->options().timeout);
      if (!e.ok()) return e.status();
      if (!e->has_value()) break;
      entries.push_back(std::move(**e));
    }
    if (entries.empty()) return KeyNotFound(bucket_, key);
    return entries;
  });
}

}  // namespace otlp::nats
