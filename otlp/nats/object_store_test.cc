// The Object Store against a real nats-server 2.9 with JetStream: a multi-chunk object put from
// a stream and read back with its digest, replacement, list, delete, empty objects, corrupted
// chunks (digest mismatch), a malformed info, the info JSON as nats.go 1.22 writes it, spans.
#include "otlp/nats/object_store.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "otlp/nats/js_test_util.h"
#include "otlp/net/internal/base64.h"
#include "tests/support/nats_server.h"

namespace otlp::nats {
namespace {

using namespace std::chrono_literals;
using test::NatsServer;
using testing::FindSpan;
using testing::IntAttr;
using testing::JsEnv;
using testing::StrAttr;

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

std::string MetaSubject(std::string_view bucket, std::string_view name) {
  return "$O." + std::string(bucket) + ".M." + net::internal::Base64UrlEncode(name, true);
}

TEST(NatsObjectStoreTest, DigestAndInfoJsonAsNatsGo) {
  EXPECT_EQ(ObjectDigest("hello"), "SHA-256=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=");
  ObjectInfo info;
  info.name = "a<b>&c";
  info.description = "d";
  info.headers.Add("X", "1");
  info.headers.Add("A", "z");
  info.headers.Add("X", "2");
  info.chunk_size = 131072;
  info.bucket = "B";
  info.nuid = "N";
  info.size = 5;
  info.chunks = 1;
  info.digest = ObjectDigest("hello");
  // json.Marshal(&nats.ObjectInfo{...}) in nats.go 1.22, ModTime zero as Put publishes it.
  EXPECT_EQ(ObjectInfoJson(info),
            R"({"name":"a\u003cb\u003e\u0026c","description":"d","headers":{"A":["z"],)"
            R"("X":["1","2"]},"options":{"max_chunk_size":131072},"bucket":"B","nuid":"N",)"
            R"("size":5,"mtime":"0001-01-01T00:00:00Z","chunks":1,)"
            R"("digest":"SHA-256=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="})");
  ObjectInfo deleted;
  deleted.name = "x";
  deleted.bucket = "B";
  deleted.nuid = "N";
  deleted.deleted = true;
  EXPECT_EQ(ObjectInfoJson(deleted),
            R"({"name":"x","bucket":"B","nuid":"N","size":0,"mtime":"0001-01-01T00:00:00Z",)"
            R"("chunks":0,"deleted":true})");
  Result<ObjectInfo> back = ParseObjectInfoJson(ObjectInfoJson(info));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->name, "a<b>&c");
  EXPECT_EQ(back->headers.FindAll("X"), (std::vector<std::string_view>{"1", "2"}));
  EXPECT_EQ(back->chunk_size, 131072u);
  EXPECT_EQ(back->digest, info.digest);
  EXPECT_FALSE(ParseObjectInfoJson("{\"size\":\"big\"}").ok());
  EXPECT_FALSE(ParseObjectInfoJson("nope").ok());
}

TEST(NatsObjectStoreTest, PutsAndGetsAMultiChunkObject) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server));
  auto obs = ObjectStore::Create(env.js, {.bucket = "files", .description = "receipts"});
  ASSERT_TRUE(obs.ok()) << obs.status().ToString();
  Result<StreamInfo> si = env.js->GetStreamInfo("OBJ_files");
  ASSERT_TRUE(si.ok());
  EXPECT_EQ(si->config.subjects,
            (std::vector<std::string>{"$O.files.C.>", "$O.files.M.>"}));
  EXPECT_TRUE(si->config.allow_rollup);
  EXPECT_TRUE(si->config.allow_direct);

  const std::string data = RandomBytes(1024 * 1024 + 1, 7);
  std::istringstream in(data);
  ObjectMeta meta;
  meta.name = "big.bin";
  meta.description = "one MiB and a byte";
  meta.headers.Add("Content-Type", "application/octet-stream");
  Result<ObjectInfo> put = (*obs)->Put(meta, in);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->size, data.size());
  EXPECT_EQ(put->chunks, 9u);  // 8 × 128 KiB + 1 byte
  EXPECT_EQ(put->digest, ObjectDigest(data));
  EXPECT_EQ(put->bucket, "files");
  EXPECT_EQ(put->chunk_size, 128u * 1024);
  EXPECT_FALSE(put->nuid.empty());

  // The stored info is the JSON nats.go writes.
  auto stored = env.js->GetLastMessage("OBJ_files", MetaSubject("files", "big.bin"));
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ObjectInfo as_published = *put;
  as_published.mtime_unix_nano = 0;
  EXPECT_EQ(stored->data, ObjectInfoJson(as_published));
  EXPECT_EQ(stored->headers.Find("Nats-Rollup").value_or(""), "sub");

  std::ostringstream out;
  Result<ObjectInfo> got = (*obs)->Get("big.bin", out);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(out.str() == data) << "got " << out.str().size() << " bytes";
  EXPECT_EQ(got->description, "one MiB and a byte");
  EXPECT_EQ(got->headers.Find("Content-Type").value_or(""), "application/octet-stream");
  EXPECT_GT(got->mtime_unix_nano, 0);

  Result<ObjectInfo> info = (*obs)->GetInfo("big.bin");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->digest, put->digest);
  EXPECT_EQ(info->nuid, put->nuid);

  // Replacing it: the old chunks are purged.
  Result<ObjectInfo> replaced = (*obs)->PutBytes("big.bin", "small now");
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_NE(replaced->nuid, put->nuid);
  si = env.js->GetStreamInfo("OBJ_files");
  ASSERT_TRUE(si.ok());
  EXPECT_EQ(si->state.messages, 2u);  // one chunk, one info
  Result<std::string> bytes = (*obs)->GetBytes("big.bin");
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*bytes, "small now");

  // A small chunk size from the caller.
  std::istringstream in2(std::string(1000, 'q'));
  Result<ObjectInfo> chunky = (*obs)->Put({.name = "chunky", .chunk_size = 100}, in2);
  ASSERT_TRUE(chunky.ok());
  EXPECT_EQ(chunky->chunks, 10u);
  EXPECT_EQ((*obs)->GetBytes("chunky").value(), std::string(1000, 'q'));

  // Empty objects.
  Result<ObjectInfo> empty = (*obs)->PutBytes("empty", "");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size, 0u);
  EXPECT_EQ(empty->chunks, 0u);
  EXPECT_EQ((*obs)->GetBytes("empty").value(), "");

  // Names with any characters (base64url in the subject).
  ASSERT_TRUE((*obs)->PutBytes("dir/ä ö.txt", "umlauts").ok());
  EXPECT_EQ((*obs)->GetBytes("dir/ä ö.txt").value(), "umlauts");
}

TEST(NatsObjectStoreTest, ListAndDelete) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server));
  auto obs = ObjectStore::Create(env.js, {.bucket = "docs"});
  ASSERT_TRUE(obs.ok());
  Result<std::vector<ObjectInfo>> none = (*obs)->List();
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());

  ASSERT_TRUE((*obs)->PutBytes("a", std::string(300 * 1024, 'a')).ok());
  ASSERT_TRUE((*obs)->PutBytes("b", "bee").ok());
  ASSERT_TRUE((*obs)->PutBytes("c", "sea").ok());
  Result<std::vector<ObjectInfo>> all = (*obs)->List();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].name, "a");
  EXPECT_EQ((*all)[0].size, 300u * 1024);
  EXPECT_EQ((*all)[2].name, "c");

  ASSERT_TRUE((*obs)->Delete("a").ok());
  EXPECT_EQ(ErrorKindOf((*obs)->GetInfo("a").status()), ErrorKind::kNotFound);
  std::ostringstream sink;
  EXPECT_EQ(ErrorKindOf((*obs)->Get("a", sink).status()), ErrorKind::kNotFound);
  Result<ObjectInfo> shown = (*obs)->GetInfo("a", true);
  ASSERT_TRUE(shown.ok());
  EXPECT_TRUE(shown->deleted);
  EXPECT_EQ(shown->size, 0u);
  EXPECT_TRUE(shown->digest.empty());
  Result<StreamInfo> si = env.js->GetStreamInfo("OBJ_docs");
  ASSERT_TRUE(si.ok());
  EXPECT_EQ(si->state.messages, 5u);  // b and c (a chunk and an info each) and a's info

  all = (*obs)->List();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  all = (*obs)->List(true);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  EXPECT_EQ(ErrorKindOf((*obs)->Delete("never")), ErrorKind::kNotFound);

  ASSERT_TRUE(ObjectStore::DeleteBucket(*env.js, "docs").ok());
  EXPECT_EQ(ErrorKindOf(ObjectStore::Bind(env.js, "docs").status()), ErrorKind::kNotFound);
}

TEST(NatsObjectStoreTest, CorruptChunksFailWithDigestMismatch) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server));
  auto obs = ObjectStore::Create(env.js, {.bucket = "c"});
  ASSERT_TRUE(obs.ok());

  // An object whose chunks were written by someone else with a flipped byte.
  const std::string good = RandomBytes(200 * 1024, 3);
  std::string bad = good;
  bad[150 * 1024] ^= 0x01;
  ObjectInfo info;
  info.name = "tampered";
  info.bucket = "c";
  info.nuid = "TAMPEREDNUID0000000001";
  info.chunk_size = 128 * 1024;
  info.size = good.size();
  info.chunks = 2;
  info.digest = ObjectDigest(good);
  ASSERT_TRUE(env.js->Publish("$O.c.C." + info.nuid, bad.substr(0, 128 * 1024)).ok());
  ASSERT_TRUE(env.js->Publish("$O.c.C." + info.nuid, bad.substr(128 * 1024)).ok());
  Headers rollup;
  rollup.Add("Nats-Rollup", "sub");
  ASSERT_TRUE(env.js->Publish(MetaSubject("c", "tampered"), rollup, ObjectInfoJson(info)).ok());
  std::ostringstream out;
  Result<ObjectInfo> got = (*obs)->Get("tampered", out);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ErrorKindOf(got.status()), ErrorKind::kDigestMismatch);

  // A chunk missing from the stream.
  Result<ObjectInfo> put = (*obs)->PutBytes("holey", RandomBytes(300 * 1024, 4));
  ASSERT_TRUE(put.ok());
  auto a_chunk = env.js->GetLastMessage("OBJ_c", "$O.c.C." + put->nuid);
  ASSERT_TRUE(a_chunk.ok());
  ASSERT_TRUE(env.js->DeleteMessage("OBJ_c", a_chunk->sequence).ok());
  std::ostringstream out2;
  got = (*obs)->Get("holey", out2);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(ErrorKindOf(got.status()), ErrorKind::kDigestMismatch) << got.status().ToString();

  // An info that is not JSON: a clear error.
  ASSERT_TRUE(env.js->Publish(MetaSubject("c", "garbage"), rollup, "{not json").ok());
  Result<ObjectInfo> garbage = (*obs)->GetInfo("garbage");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(ErrorKindOf(garbage.status()), ErrorKind::kProtocol);
}

TEST(NatsObjectStoreTest, OperationsAreTraced) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server, true));
  auto obs = ObjectStore::Create(env.js, {.bucket = "t"});
  ASSERT_TRUE(obs.ok());
  env.store->Clear();
  ASSERT_TRUE((*obs)->PutBytes("r.pdf", std::string(200 * 1024, 'r')).ok());
  ASSERT_TRUE((*obs)->GetBytes("r.pdf").ok());
  auto spans = env.store->Spans();
  const trace::RecordedSpan* put = FindSpan(spans, "obj put t");
  ASSERT_NE(put, nullptr);
  EXPECT_EQ(put->kind, trace::SpanKind::kClient);
  EXPECT_EQ(StrAttr(*put, "messaging.operation.name"), "obj.put");
  EXPECT_EQ(StrAttr(*put, "messaging.destination.name"), "OBJ_t");
  EXPECT_EQ(StrAttr(*put, "messaging.nats.obj.bucket"), "t");
  EXPECT_EQ(StrAttr(*put, "messaging.nats.obj.name"), "r.pdf");
  EXPECT_EQ(IntAttr(*put, "messaging.nats.obj.size"), 200 * 1024);
  EXPECT_EQ(IntAttr(*put, "messaging.nats.obj.chunks"), 2);
  const trace::RecordedSpan* get = FindSpan(spans, "obj get t");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(IntAttr(*get, "messaging.nats.obj.size"), 200 * 1024);
  // Chunks are not traced one by one.
  for (const auto& s : spans) EXPECT_EQ(s.name.find("send $O.t.C."), std::string::npos) << s.name;
}

}  // namespace
}  // namespace otlp::nats
