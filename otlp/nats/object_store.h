// otlp/nats/object_store.h — the Object Store on JetStream: large objects cut into chunks, with
// a SHA-256 digest, laid out as nats.go 1.22 does (stream OBJ_<bucket>, chunks on
// $O.<bucket>.C.<nuid>, the object's info on $O.<bucket>.M.<base64url(name)> with a rollup), so
// the official clients read what this one wrote and the other way round.
//
//   auto js = otlp::nats::JetStream::Create(conn);
//   auto obs = otlp::nats::ObjectStore::Create(*js, {.bucket = "receipts"});
//   std::ifstream in("receipt.pdf", std::ios::binary);
//   otlp::Result<otlp::nats::ObjectInfo> info = (*obs)->Put({.name = "order-42.pdf"}, in);
//   std::ofstream out("copy.pdf", std::ios::binary);
//   otlp::Status got = (*obs)->Get("order-42.pdf", out).status();   // digest checked
//
// Put reads the stream in chunks (default 128 KiB), publishes each (PubAcks awaited
// asynchronously) while computing the SHA-256, then the info; a failure purges the chunks sent.
// Replacing an object purges the old chunks after the new info is stored. Get writes the chunks
// in order and fails with kDataLoss (ErrorKind::kDigestMismatch) when what arrived does not
// match the info's size or digest — the bytes already written stay written.
// The digest is "SHA-256=" + base64url with padding of the hash, as in every official client.
// Errors: kNotFound (ErrorKind::kNotFound) for a missing (or deleted) object or bucket.
//
// Tracing: every operation is a CLIENT span "obj <operation> <bucket>" (put, get, info, list,
// delete, ...) with messaging.system = "nats", messaging.operation.name = "obj.<operation>",
// messaging.destination.name = the stream (OBJ_<bucket>), messaging.nats.obj.bucket,
// messaging.nats.obj.name, and for put/get messaging.nats.obj.size and messaging.nats.obj.chunks.
// Chunk publishes and deliveries are not traced one by one.
//
// Threading: ObjectStore is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/nats/jetstream.h"

namespace otlp::nats {

struct OTLP_EXPORT ObjectStoreConfig {
  std::string bucket{};
  std::string description{};
  nanoseconds ttl{0};
  int64_t max_bytes = -1;
  StorageType storage = StorageType::kFile;
  int replicas = 1;
};

struct OTLP_EXPORT ObjectMeta {
  std::string name{};
  std::string description{};
  Headers headers{};
  uint32_t chunk_size = 0;  // 0: 128 KiB
};

struct OTLP_EXPORT ObjectInfo {
  std::string name{};
  std::string description{};
  Headers headers{};
  uint32_t chunk_size = 0;  // options.max_chunk_size
  std::string bucket{};
  std::string nuid{};
  uint64_t size = 0;
  int64_t mtime_unix_nano = 0;  // the time the server stored the info
  uint32_t chunks = 0;
  std::string digest{};  // "SHA-256=<base64url>"
  bool deleted = false;
};

// The info as nats.go 1.22 marshals it (field order, omitted empties, Go's escaping); mtime
// "0001-01-01T00:00:00Z" as it publishes it. Public for interoperability tests.
OTLP_EXPORT std::string ObjectInfoJson(const ObjectInfo& info);
OTLP_EXPORT Result<ObjectInfo> ParseObjectInfoJson(std::string_view json);
// "SHA-256=" + base64url (padded) of SHA-256(data).
OTLP_EXPORT std::string ObjectDigest(std::string_view data);

// Reads up to `capacity` bytes into `buffer`: the count (0 at the end) or an error.
using ObjectReader = std::function<Result<size_t>(char* buffer, size_t capacity)>;

class OTLP_EXPORT ObjectStore {
 public:
  static Result<std::unique_ptr<ObjectStore>> Create(std::shared_ptr<JetStream> js,
                                                     const ObjectStoreConfig& config);
  static Result<std::unique_ptr<ObjectStore>> Bind(std::shared_ptr<JetStream> js,
                                                   std::string_view bucket);
  static Status DeleteBucket(JetStream& js, std::string_view bucket);

  const std::string& bucket() const noexcept { return bucket_; }
  const std::string& stream() const noexcept { return stream_; }

  Result<ObjectInfo> Put(const ObjectMeta& meta, std::istream& in);
  Result<ObjectInfo> Put(const ObjectMeta& meta, const ObjectReader& reader);
  Result<ObjectInfo> PutBytes(std::string_view name, std::string_view data);

  // Writes the object to `out`, checking its size and digest; returns its info.
  Result<ObjectInfo> Get(std::string_view name, std::ostream& out);
  Result<std::string> GetBytes(std::string_view name);

  Result<ObjectInfo> GetInfo(std::string_view name, bool show_deleted = false);
  // Every object (not deleted ones unless asked), in the order their infos were stored.
  Result<std::vector<ObjectInfo>> List(bool show_deleted = false);
  // Marks it deleted (an info with deleted = true) and purges its chunks.
  Status Delete(std::string_view name);

 private:
  ObjectStore(std::shared_ptr<JetStream> js, std::string bucket);
  Result<ObjectInfo> GetInfoUntraced(std::string_view name, bool show_deleted);
  Result<ObjectInfo> PutUntraced(const ObjectMeta& meta, const ObjectReader& reader);
  Result<ObjectInfo> GetUntraced(std::string_view name, std::ostream& out);
  std::string MetaSubject(std::string_view name) const;
  std::string ChunkSubject(std::string_view nuid) const;

  std::shared_ptr<JetStream> js_;
  std::string bucket_;
  std::string stream_;
};

}  // namespace otlp::nats
