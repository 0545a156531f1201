// otlp/nats/kv.h — the Key/Value store on JetStream: a bucket is the stream KV_<bucket> with
// subjects $KV.<bucket>.<key>, laid out as nats.go 1.22 does, so either client reads what the
// other wrote.
//
//   auto js = otlp::nats::JetStream::Create(conn);
//   auto kv = otlp::nats::KeyValue::Create(*js, {.bucket = "orders", .history = 5});
//   if (!kv.ok()) return kv.status();
//   otlp::Result<uint64_t> rev = (*kv)->Put("order.42", "paid");
//   otlp::Result<otlp::nats::KvEntry> e = (*kv)->Get("order.42");        // value "paid"
//   (*kv)->Update("order.42", "shipped", *rev).status().IgnoreError();    // compare-and-set
//   auto w = (*kv)->Watch("order.*");                                     // initial values, then
//   while (auto next = (*w)->Next(5s); next.ok()) {                       // a marker (nullopt),
//     if (!next->has_value()) continue;                                   // then updates
//     Use((*next)->key, (*next)->value);
//   }
//
// Keys: [-/_=.a-zA-Z0-9]+, not starting or ending with '.'; Watch also takes '*' and '>'.
// Buckets: [a-zA-Z0-9_-]+. History is at most 64 values per key.
// Errors: kNotFound (ErrorKind::kNotFound) for a missing or deleted key and a missing bucket;
// a failed Create (the key exists) or Update (another revision) is kFailedPrecondition with
// ErrorKind::kJetStream and JetStreamErrorCode 10071 (wrong last sequence).
//
// Tracing: every operation is a CLIENT span "kv <operation> <bucket>" (put, get, create,
// update, delete, purge, keys, history, watch) with messaging.system = "nats",
// messaging.operation.name = "kv.<operation>", messaging.destination.name = the stream
// (KV_<bucket>), messaging.nats.kv.bucket and messaging.nats.kv.key; inside it are the
// JetStream publish (PRODUCER "send $KV.<bucket>.<key>" with the stream sequence) or the API
// request. Watch deliveries are not traced one by one.
//
// Threading: KeyValue and KvWatcher are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/nats/jetstream.h"

namespace otlp::nats {

inline constexpr int kKvMaxHistory = 64;

struct OTLP_EXPORT KvConfig {
  std::string bucket{};
  std::string description{};
  int history = 1;            // values kept per key (1..64)
  nanoseconds ttl{0};         // 0: values never expire
  int32_t max_value_size = -1;
  int64_t max_bytes = -1;
  StorageType storage = StorageType::kFile;
  int replicas = 1;
};

enum class KvOperation { kPut, kDelete, kPurge };
OTLP_EXPORT std::string_view KvOperationName(KvOperation op) noexcept;  // "PUT", "DEL", "PURGE"

struct OTLP_EXPORT KvEntry {
  std::string bucket{};
  std::string key{};
  std::string value{};
  uint64_t revision = 0;  // the stream sequence
  uint64_t delta = 0;     // watch: entries still pending after this one
  int64_t created_unix_nano = 0;
  KvOperation operation = KvOperation::kPut;
};

struct OTLP_EXPORT KvWatchOptions {
  bool include_history = false;  // every stored value, not only the latest per key
  bool ignore_deletes = false;   // skip delete and purge markers
  bool meta_only = false;        // entries without values
  bool updates_only = false;     // no initial values: only what changes from now on
  milliseconds heartbeat{std::chrono::seconds(5)};
};

// Delivers the initial values (the latest per matching key, or all with include_history),
// then one marker (an empty optional) once they are done — at once when there are none or with
// updates_only — then every update as it happens. Built on an ordered consumer, so it resumes
// after a consumer loss or a server restart without gaps.
class OTLP_EXPORT KvWatcher {
 public:
  ~KvWatcher();
  KvWatcher(const KvWatcher&) = delete;
  KvWatcher& operator=(const KvWatcher&) = delete;

  // The next entry, nullopt for the marker, kDeadlineExceeded (kTimeout) after `timeout`,
  // kSubscriptionClosed once stopped.
  Result<std::optional<KvEntry>> Next(milliseconds timeout);
  void Stop();

  struct State;

 private:
  friend class KeyValue;
  explicit KvWatcher(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

class OTLP_EXPORT KeyValue {
 public:
  // Creates the bucket (or binds to it when it exists with the same configuration).
  static Result<std::unique_ptr<KeyValue>> Create(std::shared_ptr<JetStream> js,
                                                  const KvConfig& config);
  // Binds to an existing bucket; kNotFound when there is none.
  static Result<std::unique_ptr<KeyValue>> Bind(std::shared_ptr<JetStream> js,
                                                std::string_view bucket);
  static Status DeleteBucket(JetStream& js, std::string_view bucket);

  const std::string& bucket() const noexcept { return bucket_; }
  const std::string& stream() const noexcept { return stream_; }

  // The latest value (kNotFound when absent, deleted or purged), or the value at `revision`.
  Result<KvEntry> Get(std::string_view key);
  Result<KvEntry> Get(std::string_view key, uint64_t revision);
  // Stores `value`; returns its revision.
  Result<uint64_t> Put(std::string_view key, std::string_view value);
  // Only when the key has no value (never set, deleted or purged).
  Result<uint64_t> Create(std::string_view key, std::string_view value);
  // Only when the key's latest revision is `last_revision`.
  Result<uint64_t> Update(std::string_view key, std::string_view value, uint64_t last_revision);
  // A delete marker (history kept) / a purge marker replacing the key's history. With
  // `last_revision` > 0, only when that is the key's latest revision.
  Status Delete(std::string_view key, uint64_t last_revision = 0);
  Status Purge(std::string_view key, uint64_t last_revision = 0);
  // Keys with a value (empty when none).
  Result<std::vector<std::string>> Keys();
  // Every stored entry of `key`, oldest first (kNotFound when none).
  Result<std::vector<KvEntry>> History(std::string_view key);
  // `keys`: a key or a pattern ("order.*", ">" for all).
  Result<std::unique_ptr<KvWatcher>> Watch(std::string_view keys, const KvWatchOptions& options = {});
  Result<std::unique_ptr<KvWatcher>> WatchAll(const KvWatchOptions& options = {}) {
    return Watch(">", options);
  }
  // The bucket's stream.
  Result<StreamInfo> BucketInfo();

  static bool ValidKey(std::string_view key, bool wildcards = false) noexcept;
  static bool ValidBucket(std::string_view bucket) noexcept;

 private:
  KeyValue(std::shared_ptr<JetStream> js, std::string bucket, bool direct);
  Result<KvEntry> GetRaw(std::string_view key, uint64_t revision);
  Result<uint64_t> PublishOp(std::string_view op_name, std::string_view key,
                             std::string_view value, const Headers& headers,
                             const PublishOptions& options);
  Result<std::unique_ptr<KvWatcher>> WatchUntraced(std::string_view keys,
                                                   const KvWatchOptions& options);

  std::shared_ptr<JetStream> js_;
  std::string bucket_;
  std::string stream_;
  std::string prefix_;  // "$KV.<bucket>."
  bool direct_ = false;
};

}  // namespace otlp::nats
