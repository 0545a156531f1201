// The Key/Value store against a real nats-server 2.9 with JetStream: buckets, put / get (latest
// and by revision, direct and not), create and update conflicts, delete and purge, keys,
// history, watchers with and without initial values, key validation and spans.
#include "otlp/nats/kv.h"

#include <gtest/gtest.h>

#include <set>

#include "otlp/nats/js_test_util.h"
#include "tests/support/nats_server.h"

namespace otlp::nats {
namespace {

using namespace std::chrono_literals;
using test::NatsServer;
using testing::FindSpan;
using testing::IntAttr;
using testing::JsEnv;
using testing::StrAttr;

TEST(NatsKvTest, BucketLifecycle) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server));

  EXPECT_EQ(KeyValue::Create(env.js, {.bucket = "bad.name"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(KeyValue::Create(env.js, {.bucket = "b", .history = 65}).status().code(),
            StatusCode::kInvalidArgument);
  Result<std::unique_ptr<KeyValue>> missing = KeyValue::Bind(env.js, "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(ErrorKindOf(missing.status()), ErrorKind::kNotFound);

  auto kv = KeyValue::Create(env.js, {.bucket = "orders", .history = 5, .ttl = 1h,
                                      .max_value_size = 1024});
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  EXPECT_EQ((*kv)->stream(), "KV_orders");
  Result<StreamInfo> info = (*kv)->BucketInfo();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->config.subjects, std::vector<std::string>{"$KV.orders.>"});
  EXPECT_EQ(info->config.max_msgs_per_subject, 5);
  EXPECT_EQ(info->config.max_age, std::chrono::nanoseconds(1h));
  EXPECT_EQ(info->config.max_msg_size, 1024);
  EXPECT_TRUE(info->config.allow_rollup);
  EXPECT_TRUE(info->config.deny_delete);
  EXPECT_TRUE(info->config.allow_direct);
  EXPECT_EQ(info->config.discard, DiscardPolicy::kNew);

  // Creating it again with the same configuration binds.
  EXPECT_TRUE(KeyValue::Create(env.js, {.bucket = "orders", .history = 5, .ttl = 1h,
                                        .max_value_size = 1024})
                  .ok());
  auto bound = KeyValue::Bind(env.js, "orders");
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  ASSERT_TRUE((*kv)->Put("k", "v").ok());
  Result<KvEntry> e = (*bound)->Get("k");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->value, "v");
  // Above the maximum value size.
  EXPECT_FALSE((*kv)->Put("big", std::string(2048, 'x')).ok());

  ASSERT_TRUE(KeyValue::DeleteBucket(*env.js, "orders").ok());
  EXPECT_EQ(ErrorKindOf(KeyValue::Bind(env.js, "orders").status()), ErrorKind::kNotFound);
}

TEST(NatsKvTest, PutGetCreateUpdateDeletePurge) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server));
  auto kvr = KeyValue::Create(env.js, {.bucket = "cfg", .history = 10});
  ASSERT_TRUE(kvr.ok()) << kvr.status().ToString();
  KeyValue& kv = **kvr;

  Result<uint64_t> r1 = kv.Put("db.host", "10.0.0.1");
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  Result<uint64_t> r2 = kv.Put("db.host", "10.0.0.2");
  ASSERT_TRUE(r2.ok());
  EXPECT_GT(*r2, *r1);
  Result<KvEntry> latest = kv.Get("db.host");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->value, "10.0.0.2");
  EXPECT_EQ(latest->revision, *r2);
  EXPECT_EQ(latest->key, "db.host");
  EXPECT_EQ(latest->bucket, "cfg");
  EXPECT_EQ(latest->operation, KvOperation::kPut);
  EXPECT_GT(latest->created_unix_nano, 0);
  Result<KvEntry> old = kv.Get("db.host", *r1);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->value, "10.0.0.1");
  // A revision of another key is not this key's.
  Result<uint64_t> other = kv.Put("db.port", "5432");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(ErrorKindOf(kv.Get("db.host", *other).status()), ErrorKind::kNotFound);
  EXPECT_EQ(ErrorKindOf(kv.Get("nothing").status()), ErrorKind::kNotFound);

  // Create: only if absent.
  Result<uint64_t> created = kv.Create("lock", "me");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  Result<uint64_t> exists = kv.Create("lock", "you");
  ASSERT_FALSE(exists.ok());
  EXPECT_EQ(exists.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(JetStreamErrorCode(exists.status()), kJsErrWrongLastSequence);

  // Update: compare-and-set on the revision.
  Result<uint64_t> updated = kv.Update("lock", "me again", *created);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  Result<uint64_t> conflict = kv.Update("lock", "late", *created);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(JetStreamErrorCode(conflict.status()), kJsErrWrongLastSequence);
  EXPECT_EQ(kv.Get("lock")->value, "me again");

  // Delete: a marker; get says not found, create works over it.
  ASSERT_TRUE(kv.Delete("lock").ok());
  EXPECT_EQ(ErrorKindOf(kv.Get("lock").status()), ErrorKind::kNotFound);
  Result<uint64_t> recreated = kv.Create("lock", "new owner");
  ASSERT_TRUE(recreated.ok()) << recreated.status().ToString();
  EXPECT_EQ(kv.Get("lock")->value, "new owner");
  // Delete with a wrong last revision fails.
  EXPECT_FALSE(kv.Delete("lock", *recreated - 1).ok());
  EXPECT_TRUE(kv.Delete("lock", *recreated).ok());

  // Purge: the key's history goes, one marker stays.
  Result<std::vector<KvEntry>> history = kv.History("db.host");
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].value, "10.0.0.1");
  EXPECT_EQ((*history)[1].value, "10.0.0.2");
  ASSERT_TRUE(kv.Purge("db.host").ok());
  EXPECT_EQ(ErrorKindOf(kv.Get("db.host").status()), ErrorKind::kNotFound);
  history = kv.History("db.host");
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].operation, KvOperation::kPurge);
  EXPECT_TRUE(kv.Create("db.host", "10.0.0.3").ok());
  EXPECT_EQ(ErrorKindOf(kv.History("never").status()), ErrorKind::kNotFound);

  Result<std::vector<std::string>> keys = kv.Keys();
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(std::set<std::string>(keys->begin(), keys->end()),
            (std::set<std::string>{"db.host", "db.port"}));

  // Key validation, before anything is sent.
  for (std::string_view bad : {"", ".a", "a.", "a..b", "a b", "a*", "a>", "ä"}) {
    EXPECT_EQ(kv.Put(bad, "x").status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(KeyValue::ValidKey("a-b/c_d=e.f"));
  EXPECT_TRUE(KeyValue::ValidKey("a.*", true));
  EXPECT_FALSE(KeyValue::ValidKey("a.>.b", true));
}

TEST(NatsKvTest, GetWorksWithoutDirectGet) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server));
  auto kv = KeyValue::Create(env.js, {.bucket = "legacy", .history = 3});
  ASSERT_TRUE(kv.ok());
  ASSERT_TRUE((*kv)->Put("k", "one").ok());
  ASSERT_TRUE((*kv)->Delete("k").ok());
  ASSERT_TRUE((*kv)->Put("k", "two").ok());
  // A bucket made by an older client: no allow_direct, so STREAM.MSG.GET is used.
  Result<StreamInfo> info = env.js->GetStreamInfo("KV_legacy");
  ASSERT_TRUE(info.ok());
  StreamConfig sc = info->config;
  sc.allow_direct = false;
  ASSERT_TRUE(env.js->UpdateStream(sc).ok());
  auto bound = KeyValue::Bind(env.js, "legacy");
  ASSERT_TRUE(bound.ok());
  Result<KvEntry> e = (*bound)->Get("k");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->value, "two");
  EXPECT_EQ(e->revision, 3u);
  Result<KvEntry> deleted = (*bound)->Get("k", 2);
  EXPECT_EQ(ErrorKindOf(deleted.status()), ErrorKind::kNotFound);
  EXPECT_EQ((*bound)->Get("k", 1)->value, "one");
}

TEST(NatsKvTest, WatchWithAndWithoutInitialValues) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server));
  auto kvr = KeyValue::Create(env.js, {.bucket = "w", .history = 5});
  ASSERT_TRUE(kvr.ok());
  KeyValue& kv = **kvr;

  // Nothing stored yet: the marker at once.
  auto empty = kv.WatchAll();
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  Result<std::optional<KvEntry>> first = (*empty)->Next(5s);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->has_value());
  (*empty)->Stop();

  ASSERT_TRUE(kv.Put("a.1", "x").ok());
  ASSERT_TRUE(kv.Put("a.1", "y").ok());
  ASSERT_TRUE(kv.Put("a.2", "z").ok());
  ASSERT_TRUE(kv.Put("b.1", "other").ok());

  // Initial values: the latest per matching key, then the marker, then updates.
  auto w = kv.Watch("a.*");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  std::vector<std::string> initial;
  for (;;) {
    Result<std::optional<KvEntry>> e = (*w)->Next(5s);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    if (!e->has_value()) break;
    initial.push_back((*e)->key + "=" + (*e)->value);
  }
  EXPECT_EQ(initial, (std::vector<std::string>{"a.1=y", "a.2=z"}));

  // Updates only: the marker first, then what changes.
  auto updates = kv.Watch("a.*", {.updates_only = true});
  ASSERT_TRUE(updates.ok()) << updates.status().ToString();
  Result<std::optional<KvEntry>> marker = (*updates)->Next(5s);
  ASSERT_TRUE(marker.ok());
  EXPECT_FALSE(marker->has_value());

  ASSERT_TRUE(kv.Put("a.3", "new").ok());
  ASSERT_TRUE(kv.Put("b.2", "not watched").ok());
  ASSERT_TRUE(kv.Delete("a.1").ok());
  for (auto* watcher : {w->get(), updates->get()}) {
    Result<std::optional<KvEntry>> e = watcher->Next(5s);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ASSERT_TRUE(e->has_value());
    EXPECT_EQ((*e)->key, "a.3");
    EXPECT_EQ((*e)->value, "new");
    EXPECT_EQ((*e)->operation, KvOperation::kPut);
    e = watcher->Next(5s);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ASSERT_TRUE(e->has_value());
    EXPECT_EQ((*e)->key, "a.1");
    EXPECT_EQ((*e)->operation, KvOperation::kDelete);
    EXPECT_EQ(ErrorKindOf(watcher->Next(200ms).status()), ErrorKind::kTimeout);
  }

  // History: every value, oldest first.
  auto h = kv.Watch("a.1", {.include_history = true});
  ASSERT_TRUE(h.ok());
  std::vector<std::string> values;
  for (;;) {
    Result<std::optional<KvEntry>> e = (*h)->Next(5s);
    ASSERT_TRUE(e.ok());
    if (!e->has_value()) break;
    values.push_back(std::string(KvOperationName((*e)->operation)) + ":" + (*e)->value);
  }
  EXPECT_EQ(values, (std::vector<std::string>{"PUT:x", "PUT:y", "DEL:"}));
  (*h)->Stop();
  EXPECT_EQ(ErrorKindOf((*h)->Next(10ms).status()), ErrorKind::kSubscriptionClosed);
}

TEST(NatsKvTest, OperationsAreTraced) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server, true));
  auto kv = KeyValue::Create(env.js, {.bucket = "traced"});
  ASSERT_TRUE(kv.ok());
  env.store->Clear();

  Result<uint64_t> rev = (*kv)->Put("order.1", "paid");
  ASSERT_TRUE(rev.ok());
  ASSERT_TRUE((*kv)->Get("order.1").ok());
  EXPECT_FALSE((*kv)->Get("order.2").ok());
  auto spans = env.store->Spans();
  const trace::RecordedSpan* put = FindSpan(spans, "kv put traced");
  ASSERT_NE(put, nullptr);
  EXPECT_EQ(put->kind, trace::SpanKind::kClient);
  EXPECT_EQ(StrAttr(*put, "messaging.system"), "nats");
  EXPECT_EQ(StrAttr(*put, "messaging.operation.name"), "kv.put");
  EXPECT_EQ(StrAttr(*put, "messaging.destination.name"), "KV_traced");
  EXPECT_EQ(StrAttr(*put, "messaging.nats.kv.bucket"), "traced");
  EXPECT_EQ(StrAttr(*put, "messaging.nats.kv.key"), "order.1");
  EXPECT_EQ(IntAttr(*put, "messaging.nats.kv.revision"), static_cast<int64_t>(*rev));
  // The JetStream publish is its child.
  const trace::RecordedSpan* send = FindSpan(spans, "send $KV.traced.order.1");
  ASSERT_NE(send, nullptr);
  EXPECT_EQ(send->parent_span_id, put->context.span_id());
  EXPECT_EQ(IntAttr(*send, "messaging.nats.jetstream.sequence"), static_cast<int64_t>(*rev));

  std::vector<const trace::RecordedSpan*> gets;
  for (const auto& s : spans) {
    if (s.name == "kv get traced") gets.push_back(&s);
  }
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_EQ(gets[0]->status_code, trace::SpanStatusCode::kUnset);
  EXPECT_EQ(gets[1]->status_code, trace::SpanStatusCode::kError);
  EXPECT_EQ(StrAttr(*gets[1], "error.type"), "not_found");
}

}  // namespace
}  // namespace otlp::nats
