#include "otlp/nats/object_store.h"

#include <openssl/evp.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <sstream>

#include "otlp/nats/error.h"
#include "otlp/nats/internal/js_util.h"
#include "otlp/nats/internal/nuid.h"
#include "otlp/net/internal/base64.h"
#include "otlp/trace/context.h"

namespace otlp::nats {

namespace {

constexpr uint32_t kDefaultChunkSize = 128 * 1024;

Status ObjError(StatusCode code, ErrorKind kind, std::string message) {
  return MakeError(code, kind, "Object Store: " + std::move(message));
}

Status ObjectNotFound(std::string_view bucket, std::string_view name) {
  return ObjError(StatusCode::kNotFound, ErrorKind::kNotFound,
                  "object \"" + std::string(name) + "\" not found in bucket " +
                      std::string(bucket));
}

bool ValidBucket(std::string_view bucket) {
  if (bucket.empty()) return false;
  for (char c : bucket) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status InvalidBucket(std::string_view bucket) {
  return ObjError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                  "invalid bucket name \"" + std::string(bucket) + "\"");
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ != nullptr) ok_ = EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) == 1;
  }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  bool ok() const { return ok_; }
  void Update(std::string_view data) {
    if (ok_ && !data.empty()) ok_ = EVP_DigestUpdate(ctx_, data.data(), data.size()) == 1;
  }
  // "SHA-256=<base64url, padded>"
  std::string Digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!ok_ || EVP_DigestFinal_ex(ctx_, md, &n) != 1) return {};
    return "SHA-256=" + net::internal::Base64UrlEncode(
                            std::string_view(reinterpret_cast<const char*>(md), n), true);
  }

 private:
  EVP_MD_CTX* ctx_;
  bool ok_ = false;
};

// Go's encoding/json escapes these inside strings; so must we, to be byte-compatible.
std::string GoEscape(std::string s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xe2' && i + 2 < s.size() && s[i + 1] == '\x80' &&
               (s[i + 2] == '\xa8' || s[i + 2] == '\xa9')) {
      out += s[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// Runs `f` inside an "obj <op> <bucket>" span; an object's size and chunks are recorded on it.
template <typename F>
auto Traced(JetStream& js, std::string_view op, std::string_view bucket, std::string_view stream,
            std::string_view name, F f) -> decltype(f()) {
  return internal::TracedStoreOp(
      *js.connection(), "obj", op, bucket, stream, name, std::move(f),
      [](trace::Span& span, const auto& result) {
        if constexpr (std::is_same_v<std::decay_t<decltype(result)>, Result<ObjectInfo>>) {
          span.SetAttribute("messaging.nats.obj.size", static_cast<int64_t>(result->size));
          span.SetAttribute("messaging.nats.obj.chunks", static_cast<int64_t>(result->chunks));
        }
      });
}

}  // namespace

std::string ObjectDigest(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Digest();
}

std::string ObjectInfoJson(const ObjectInfo& info) {
  nlohmann::ordered_json j;
  j["name"] = info.name;
  if (!info.description.empty()) j["description"] = info.description;
  if (!info.headers.fields().empty()) {
    std::map<std::string, std::vector<std::string>> grouped;  // Go sorts map keys
    for (const auto& [k, v] : info.headers) grouped[k].push_back(v);
    nlohmann::ordered_json h = nlohmann::ordered_json::object();
    for (auto& [k, vs] : grouped) h[k] = vs;
    j["headers"] = h;
  }
  if (info.chunk_size > 0) j["options"] = {{"max_chunk_size", info.chunk_size}};
  j["bucket"] = info.bucket;
  j["nuid"] = info.nuid;
  j["size"] = info.size;
  j["mtime"] = info.mtime_unix_nano == 0 ? std::string("0001-01-01T00:00:00Z")
                                         : internal::FormatRfc3339(info.mtime_unix_nano);
  j["chunks"] = info.chunks;
  if (!info.digest.empty()) j["digest"] = info.digest;
  if (info.deleted) j["deleted"] = true;
  return GoEscape(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Result<ObjectInfo> ParseObjectInfoJson(std::string_view json) {
  internal::Json j = internal::Json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return ObjError(StatusCode::kInternal, ErrorKind::kProtocol, "object info is not JSON");
  }
  try {
    ObjectInfo info;
    info.name = j.value("name", std::string());
    info.description = j.value("description", std::string());
    if (auto h = j.find("headers"); h != j.end() && h->is_object()) {
      for (auto it = h->begin(); it != h->end(); ++it) {
        if (it->is_array()) {
          for (const auto& v : *it) info.headers.Add(it.key(), v.get<std::string>());
        } else if (it->is_string()) {
          info.headers.Add(it.key(), it->get<std::string>());
        }
      }
    }
    if (auto o = j.find("options"); o != j.end() && o->is_object()) {
      info.chunk_size = o->value("max_chunk_size", uint32_t{0});
    }
    info.bucket = j.value("bucket", std::string());
    info.nuid = j.value("nuid", std::string());
    info.size = j.value("size", uint64_t{0});
    if (auto t = j.find("mtime"); t != j.end() && t->is_string()) {
      const std::string s = t->get<std::string>();
      if (s != "0001-01-01T00:00:00Z") info.mtime_unix_nano = internal::ParseRfc3339(s).value_or(0);
    }
    info.chunks = j.value("chunks", uint32_t{0});
    info.digest = j.value("digest", std::string());
    info.deleted = j.value("deleted", false);
    return info;
  } catch (const std::exception& e) {
    return ObjError(StatusCode::kInternal, ErrorKind::kProtocol,
                    std::string("object info has unexpected JSON: ") + e.what());
  }
}

ObjectStore::ObjectStore(std::shared_ptr<JetStream> js, std::string bucket)
    : js_(std::move(js)), bucket_(std::move(bucket)), stream_("OBJ_" + bucket_) {}

std::string ObjectStore::MetaSubject(std::string_view name) const {
  return "$O." + bucket_ + ".M." + net::internal::Base64UrlEncode(name, true);
}

std::string ObjectStore::ChunkSubject(std::string_view nuid) const {
  return "$O." + bucket_ + ".C." + std::string(nuid);
}

Result<std::unique_ptr<ObjectStore>> ObjectStore::Create(std::shared_ptr<JetStream> js,
                                                         const ObjectStoreConfig& config) {
  if (!js) return ObjError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument, "no JetStream");
  if (!ValidBucket(config.bucket)) return InvalidBucket(config.bucket);
  StreamConfig sc;
  sc.name = "OBJ_" + config.bucket;
  sc.description = config.description;
  sc.subjects = {"$O." + config.bucket + ".C.>", "$O." + config.bucket + ".M.>"};
  sc.max_age = config.ttl;
  sc.max_bytes = config.max_bytes == 0 ? -1 : config.max_bytes;
  sc.storage = config.storage;
  sc.replicas = config.replicas > 0 ? config.replicas : 1;
  sc.discard = DiscardPolicy::kNew;
  sc.allow_rollup = true;
  sc.allow_direct = true;
  Result<StreamInfo> info = Traced(*js, "create_bucket", config.bucket, sc.name, {},
                                   [&] { return js->CreateStream(sc); });
  if (!info.ok()) return info.status();
  return std::unique_ptr<ObjectStore>(new ObjectStore(std::move(js), config.bucket));
}

Result<std::unique_ptr<ObjectStore>> ObjectStore::Bind(std::shared_ptr<JetStream> js,
                                                       std::string_view bucket) {
  if (!js) return ObjError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument, "no JetStream");
  if (!ValidBucket(bucket)) return InvalidBucket(bucket);
  Result<StreamInfo> info = js->GetStreamInfo("OBJ_" + std::string(bucket));
  if (!info.ok()) return info.status();
  return std::unique_ptr<ObjectStore>(new ObjectStore(std::move(js), std::string(bucket)));
}

Status ObjectStore::DeleteBucket(JetStream& js, std::string_view bucket) {
  if (!ValidBucket(bucket)) return InvalidBucket(bucket);
  const std::string stream = "OBJ_" + std::string(bucket);
  return Traced(js, "delete_bucket", bucket, stream, {}, [&] { return js.DeleteStream(stream); });
}

Result<ObjectInfo> ObjectStore::GetInfoUntraced(std::string_view name, bool show_deleted) {
  if (name.empty()) {
    return ObjError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                    "an object needs a name");
  }
  Result<JetStream::StoredMessage> m = js_->GetLastMessage(stream_, MetaSubject(name));
  if (!m.ok()) {
    if (ErrorKindOf(m.status()) == ErrorKind::kNotFound) return ObjectNotFound(bucket_, name);
    return m.status();
  }
  Result<ObjectInfo> info = ParseObjectInfoJson(m->data);
  if (!info.ok()) return info.status();
  if (info->deleted && !show_deleted) return ObjectNotFound(bucket_, name);
  info->mtime_unix_nano = m->time_unix_nano;
  return info;
}

Result<ObjectInfo> ObjectStore::GetInfo(std::string_view name, bool show_deleted) {
  return Traced(*js_, "info", bucket_, stream_, name,
                [&] { return GetInfoUntraced(name, show_deleted); });
}

Result<ObjectInfo> ObjectStore::PutUntraced(const ObjectMeta& meta, const ObjectReader& reader) {
  if (meta.name.empty()) {
    return ObjError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                    "an object needs a name");
  }
  const uint32_t chunk_size = meta.chunk_size > 0 ? meta.chunk_size : kDefaultChunkSize;
  Result<ObjectInfo> existing = GetInfoUntraced(meta.name, true);
  if (!existing.ok() && ErrorKindOf(existing.status()) != ErrorKind::kNotFound) {
    return existing.status();
  }
  ObjectInfo info;
  info.name = meta.name;
  info.description = meta.description;
  info.headers = meta.headers;
  info.chunk_size = chunk_size;
  info.bucket = bucket_;
  info.nuid = internal::NewNuid();
  const std::string chunk_subject = ChunkSubject(info.nuid);

  struct Tracker {
    std::mutex mu;
    std::condition_variable cv;
    size_t outstanding = 0;
    Status error;
  };
  auto tracker = std::make_shared<Tracker>();
  auto purge_partial = [&] {
    trace::SuppressTracingScope quiet;
    js_->PurgeStream(stream_, chunk_subject).status().IgnoreError();
  };
  Sha256 sha;
  if (!sha.ok()) {
    return ObjError(StatusCode::kInternal, ErrorKind::kNone, "SHA-256 is not available");
  }
  std::string buffer(chunk_size, '\0');
  Status failed;
  for (;;) {
    Result<size_t> n = reader(buffer.data(), buffer.size());
    if (!n.ok()) {
      failed = n.status();
      break;
    }
    if (*n == 0) break;
    const std::string_view chunk(buffer.data(), std::min<size_t>(*n, buffer.size()));
    sha.Update(chunk);
    {
      std::lock_guard<std::mutex> lock(tracker->mu);
      if (!tracker->error.ok()) break;
      ++tracker->outstanding;
    }
    {
      trace::SuppressTracingScope quiet;  // one span for the object, not one per chunk
      js_->PublishAsync(chunk_subject, Headers(), chunk, {}, [tracker](Result<PubAck> r) {
        std::lock_guard<std::mutex> lock(tracker->mu);
        --tracker->outstanding;
        if (!r.ok() && tracker->error.ok()) tracker->error = r.status();
        tracker->cv.notify_all();
      });
    }
    ++info.chunks;
    info.size += chunk.size();
  }
  {
    std::unique_lock<std::mutex> lock(tracker->mu);
    const auto limit = js_->options().timeout * 2;
    if (!tracker->cv.wait_for(lock, limit, [&] { return tracker->outstanding == 0; })) {
      if (failed.ok()) {
        failed = ObjError(StatusCode::kDeadlineExceeded, ErrorKind::kTimeout,
                          "chunks not acknowledged in time");
      }
    }
    if (failed.ok() && !tracker->error.ok()) failed = tracker->error;
  }
  if (!failed.ok()) {
    purge_partial();
    return failed;
  }
  info.digest = sha.Digest();
  Headers h;
  h.Add("Nats-Rollup", "sub");
  Result<PubAck> ack = [&] {
    trace::SuppressTracingScope quiet;
    return js_->Publish(MetaSubject(info.name), h, ObjectInfoJson(info));
  }();
  if (!ack.ok()) {
    purge_partial();
    return ack.status();
  }
  info.mtime_unix_nano = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  if (existing.ok() && !existing->deleted && !existing->nuid.empty()) {
    trace::SuppressTracingScope quiet;
    js_->PurgeStream(stream_, ChunkSubject(existing->nuid)).status().IgnoreError();
  }
  return info;
}

Result<ObjectInfo> ObjectStore::Put(const ObjectMeta& meta, const ObjectReader& reader) {
  return Traced(*js_, "put", bucket_, stream_, meta.name,
                [&] { return PutUntraced(meta, reader); });
}

Result<ObjectInfo> ObjectStore::Put(const ObjectMeta& meta, std::istream& in) {
  return Put(meta, [&in](char* buffer, size_t capacity) -> Result<size_t> {
    size_t total = 0;
    while (total < capacity && in) {
      in.read(buffer + total, static_cast<std::streamsize>(capacity - total));
      total += static_cast<size_t>(in.gcount());
    }
    if (in.bad()) {
      return ObjError(StatusCode::kDataLoss, ErrorKind::kNone, "reading the input failed");
    }
    return total;
  });
}

Result<ObjectInfo> ObjectStore::PutBytes(std::string_view name, std::string_view data) {
  ObjectMeta meta;
  meta.name = std::string(name);
  size_t offset = 0;
  return Put(meta, [&](char* buffer, size_t capacity) -> Result<size_t> {
    const size_t n = std::min(capacity, data.size() - offset);
    std::copy_n(data.data() + offset, n, buffer);
    offset += n;
    return n;
  });
}

Result<ObjectInfo> ObjectStore::GetUntraced(std::string_view name, std::ostream& out) {
  Result<ObjectInfo> info = GetInfoUntraced(name, false);
  if (!info.ok()) return info.status();
  if (info->nuid.empty()) {
    return ObjError(StatusCode::kInternal, ErrorKind::kProtocol,
                    "object \"" + std::string(name) + "\" has an info without nuid");
  }
  Sha256 sha;
  uint64_t received = 0;
  uint32_t chunks = 0;
  if (info->size > 0) {
    OrderedConsumerConfig oc;
    oc.filter_subject = ChunkSubject(info->nuid);
    oc.deliver_policy = DeliverPolicy::kAll;
    Result<std::unique_ptr<OrderedConsumer>> consumer = [&] {
      trace::SuppressTracingScope quiet;
      return js_->OrderedSubscribe(stream_, oc);
    }();
    if (!consumer.ok()) return consumer.status();
    if ((*consumer)->initial_pending() == 0) {
      // Nothing stored under the nuid: every chunk is missing.
    } else {
      for (;;) {
        Result<JsMessage> m = (*consumer)->Next(js_->options().timeout);
        if (!m.ok()) return m.status();
        sha.Update(m->data());
        out.write(m->data().data(), static_cast<std::streamsize>(m->data().size()));
        if (!out) {
          return ObjError(StatusCode::kDataLoss, ErrorKind::kNone, "writing the output failed");
        }
        received += m->data().size();
        ++chunks;
        Result<JsMetadata> md = m->metadata();
        if (!md.ok() || md->pending == 0 || received > info->size) break;
      }
    }
  }
  const std::string digest = sha.Digest();
  if (received != info->size || (info->size > 0 && digest != info->digest)) {
    return ObjError(StatusCode::kDataLoss, ErrorKind::kDigestMismatch,
                    "object \"" + std::string(name) + "\" is corrupt: got " +
                        std::to_string(received) + " bytes in " + std::to_string(chunks) +
                        " chunks with digest " + digest + ", its info says " +
                        std::to_string(info->size) + " bytes with digest " + info->digest);
  }
  return info;
}

Result<ObjectInfo> ObjectStore::Get(std::string_view name, std::ostream& out) {
  return Traced(*js_, "get", bucket_, stream_, name, [&] { return GetUntraced(name, out); });
}

Result<std::string> ObjectStore::GetBytes(std::string_view name) {
  std::ostringstream out;
  Result<ObjectInfo> info = Get(name, out);
  if (!info.ok()) return info.status();
  return std::move(out).str();
}

Result<std::vector<ObjectInfo>> ObjectStore::List(bool show_deleted) {
  return Traced(*js_, "list", bucket_, stream_, {}, [&]() -> Result<std::vector<ObjectInfo>> {
    OrderedConsumerConfig oc;
    oc.filter_subject = "$O." + bucket_ + ".M.>";
    oc.deliver_policy = DeliverPolicy::kLastPerSubject;
    Result<std::unique_ptr<OrderedConsumer>> consumer = [&] {
      trace::SuppressTracingScope quiet;
      return js_->OrderedSubscribe(stream_, oc);
    }();
    if (!consumer.ok()) return consumer.status();
    std::vector<ObjectInfo> infos;
    if ((*consumer)->initial_pending() == 0) return infos;
    for (;;) {
      Result<JsMessage> m = (*consumer)->Next(js_->options().timeout);
      if (!m.ok()) return m.status();
      Result<ObjectInfo> info = ParseObjectInfoJson(m->data());
      Result<JsMetadata> md = m->metadata();
      if (info.ok() && (show_deleted || !info->deleted)) {
        if (md.ok()) info->mtime_unix_nano = md->timestamp_unix_nano;
        infos.push_back(std::move(*info));
      }
      if (!md.ok() || md->pending == 0) break;
    }
    return infos;
  });
}

Status ObjectStore::Delete(std::string_view name) {
  return Traced(*js_, "delete", bucket_, stream_, name, [&]() -> Status {
    Result<ObjectInfo> info = GetInfoUntraced(name, true);
    if (!info.ok()) return info.status();
    if (info->nuid.empty()) {
      return ObjError(StatusCode::kInternal, ErrorKind::kProtocol, "info without nuid");
    }
    ObjectInfo deleted = *info;
    deleted.deleted = true;
    deleted.size = 0;
    deleted.chunks = 0;
    deleted.digest.clear();
    deleted.mtime_unix_nano = 0;
    Headers h;
    h.Add("Nats-Rollup", "sub");
    Result<PubAck> ack = js_->Publish(MetaSubject(name), h, ObjectInfoJson(deleted));
    if (!ack.ok()) return ack.status();
    Result<uint64_t> purged = js_->PurgeStream(stream_, ChunkSubject(info->nuid));
    return purged.ok() ? Status::Ok() : purged.status();
  });
}

}  // namespace otlp::nats
