// JetStream against a real nats-server 2.9 with JetStream: streams, publish with PubAck (sync,
// async window, de-duplication, expectations), API errors, consumers, Fetch and its statuses,
// acknowledgements and redelivery, the ordered consumer across consumer loss and a server
// restart, spans, and malformed API replies.
#include "otlp/nats/jetstream.h"
#include "otlp/nats/internal/js_util.h"

#include <gtest/gtest.h>

#include <condition_variable>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "otlp/nats/js_test_util.h"
#include "otlp/trace/context.h"
#include "tests/support/nats_server.h"

namespace otlp::nats {
namespace {

using namespace std::chrono_literals;
using test::NatsServer;
using testing::FindSpan;
using testing::IntAttr;
using testing::JsEnv;
using testing::StrAttr;

StreamConfig Orders() {
  StreamConfig sc;
  sc.name = "ORDERS";
  sc.subjects = {"orders.>"};
  return sc;
}

TEST(NatsJetStreamTest, StreamLifecycle) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server));

  Result<StreamInfo> created = env.js->CreateStream(Orders());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->config.name, "ORDERS");
  EXPECT_EQ(created->config.subjects, std::vector<std::string>{"orders.>"});
  EXPECT_EQ(created->state.messages, 0u);
  EXPECT_GT(created->created_unix_nano, 0);

  // Creating it again with another config is an API error with its err_code.
  StreamConfig other = Orders();
  other.subjects = {"other.>"};
  Result<StreamInfo> again = env.js->CreateStream(other);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(ErrorKindOf(again.status()), ErrorKind::kJetStream);
  EXPECT_EQ(JetStreamErrorCode(again.status()), kJsErrStreamNameInUse);

  StreamConfig updated = Orders();
  updated.subjects = {"orders.>", "returns.>"};
  updated.description = "orders and returns";
  Result<StreamInfo> up = env.js->UpdateStream(updated);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->config.subjects.size(), 2u);
  EXPECT_EQ(up->config.description, "orders and returns");

  ASSERT_TRUE(env.js->Publish("orders.a", "1").ok());
  ASSERT_TRUE(env.js->Publish("orders.b", "2").ok());
  ASSERT_TRUE(env.js->Publish("returns.a", "3").ok());
  Result<StreamInfo> info = env.js->GetStreamInfo("ORDERS");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state.messages, 3u);
  EXPECT_EQ(info->state.last_seq, 3u);

  // Purge with a subject filter removes only those.
  Result<uint64_t> purged = env.js->PurgeStream("ORDERS", "orders.a");
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, 1u);
  info = env.js->GetStreamInfo("ORDERS");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state.messages, 2u);

  // Lists over pages: more streams than the server's page (names: 1024) is too many for a
  // test; a few, with and without a subject filter.
  for (int i = 0; i < 3; ++i) {
    StreamConfig sc;
    sc.name = "S" + std::to_string(i);
    sc.subjects = {"s" + std::to_string(i) + ".>"};
    sc.storage = StorageType::kMemory;
    ASSERT_TRUE(env.js->CreateStream(sc).ok());
  }
  Result<std::vector<std::string>> names = env.js->StreamNames();
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(std::set<std::string>(names->begin(), names->end()),
            (std::set<std::string>{"ORDERS", "S0", "S1", "S2"}));
  Result<std::vector<StreamInfo>> infos = env.js->Streams();
  ASSERT_TRUE(infos.ok());
  EXPECT_EQ(infos->size(), 4u);
  Result<std::string> by_subject = env.js->StreamNameBySubject("s1.x");
  ASSERT_TRUE(by_subject.ok()) << by_subject.status().ToString();
  EXPECT_EQ(*by_subject, "S1");

  ASSERT_TRUE(env.js->DeleteStream("ORDERS").ok());
  Result<StreamInfo> gone = env.js->GetStreamInfo("ORDERS");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrorKindOf(gone.status()), ErrorKind::kNotFound);
  EXPECT_EQ(JetStreamErrorCode(gone.status()), kJsErrStreamNotFound);
  EXPECT_NE(gone.status().message().find("err_code 10059"), std::string::npos);
  EXPECT_EQ(ErrorKindOf(env.js->DeleteStream("ORDERS")), ErrorKind::kNotFound);

  // Names are checked before anything is sent.
  EXPECT_EQ(env.js->GetStreamInfo("a.b").status().code(), StatusCode::kInvalidArgument);
}

TEST(NatsJetStreamTest, PublishAcksDeduplicatesAndChecksExpectations) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server));
  ASSERT_TRUE(env.js->CreateStream(Orders()).ok());

  Result<PubAck> a = env.js->Publish("orders.new", "one", {.msg_id = "id-1"});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->stream, "ORDERS");
  EXPECT_EQ(a->sequence, 1u);
  EXPECT_FALSE(a->duplicate);

  // The same Nats-Msg-Id within the window: a duplicate, not stored again.
  Result<PubAck> dup = env.js->Publish("orders.new", "one again", {.msg_id = "id-1"});
  ASSERT_TRUE(dup.ok()) << dup.status().ToString();
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->sequence, 1u);

  Headers h;
  h.Add("X-Tenant", "acme");
  Result<PubAck> b = env.js->Publish("orders.new", h, "two", {.msg_id = "id-2"});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->sequence, 2u);
  Result<JetStream::StoredMessage> stored = env.js->GetMessage("ORDERS", 2);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->data, "two");
  EXPECT_EQ(stored->headers.Find("X-Tenant").value_or(""), "acme");
  EXPECT_EQ(stored->headers.Find("Nats-Msg-Id").value_or(""), "id-2");

  // Expected last sequence.
  PublishOptions wrong_seq;
  wrong_seq.expected_last_sequence = 1;
  Result<PubAck> bad = env.js->Publish("orders.new", "x", wrong_seq);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(ErrorKindOf(bad.status()), ErrorKind::kJetStream);
  EXPECT_EQ(JetStreamErrorCode(bad.status()), kJsErrWrongLastSequence);
  PublishOptions right_seq;
  right_seq.expected_last_sequence = 2;
  EXPECT_TRUE(env.js->Publish("orders.new", "three", right_seq).ok());

  // Expected last subject sequence.
  ASSERT_TRUE(env.js->Publish("orders.other", "o1").ok());  // seq 4
  PublishOptions subj;
  subj.expected_last_subject_sequence = 3;  // orders.new's last is 3
  EXPECT_TRUE(env.js->Publish("orders.new", "four", subj).ok());
  subj.expected_last_subject_sequence = 3;
  Result<PubAck> stale = env.js->Publish("orders.new", "five", subj);
  EXPECT_EQ(JetStreamErrorCode(stale.status()), kJsErrWrongLastSequence);

  // Expected stream and last message id.
  Result<PubAck> wrong_stream = env.js->Publish("orders.new", "x", {.expected_stream = "OTHER"});
  ASSERT_FALSE(wrong_stream.ok());
  EXPECT_EQ(JetStreamErrorCode(wrong_stream.status()), kJsErrStreamWrongExpected);
  EXPECT_TRUE(env.js->Publish("orders.new", "x", {.expected_stream = "ORDERS"}).ok());
  EXPECT_TRUE(env.js->Publish("orders.new", "y", {.msg_id = "id-3"}).ok());
  Result<PubAck> wrong_id =
      env.js->Publish("orders.new", "z", {.expected_last_msg_id = "id-2"});
  ASSERT_FALSE(wrong_id.ok());
  EXPECT_EQ(JetStreamErrorCode(wrong_id.status()), kJsErrWrongLastMsgId);
  EXPECT_TRUE(env.js->Publish("orders.new", "z", {.expected_last_msg_id = "id-3"}).ok());

  // No stream stores the subject: the server has no responder.
  Result<PubAck> nowhere = env.js->Publish("nowhere.x", "x");
  ASSERT_FALSE(nowhere.ok());
  EXPECT_EQ(ErrorKindOf(nowhere.status()), ErrorKind::kNoResponders);
  EXPECT_EQ(ErrorKindOf(env.js->Publish("bad subject", "x").status()),
            ErrorKind::kInvalidSubject);
}

TEST(NatsJetStreamTest, AsyncPublishKeepsTheWindow) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server, false, {.max_pending_async = 8}));
  ASSERT_TRUE(env.js->CreateStream(Orders()).ok());

  constexpr int kCount = 400;
  std::vector<std::future<Result<PubAck>>> futures;
  size_t max_seen = 0;
  for (int i = 0; i < kCount; ++i) {
    futures.push_back(env.js->PublishAsync("orders.async", Headers(), std::to_string(i)));
    max_seen = std::max(max_seen, env.js->PublishAsyncPending());
  }
  EXPECT_LE(max_seen, 8u);
  ASSERT_TRUE(env.js->PublishAsyncComplete(10s).ok());
  EXPECT_EQ(env.js->PublishAsyncPending(), 0u);
  std::set<uint64_t> seqs;
  for (auto& f : futures) {
    ASSERT_EQ(f.wait_for(0s), std::future_status::ready);
    Result<PubAck> r = f.get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    seqs.insert(r->sequence);
  }
  EXPECT_EQ(seqs.size(), static_cast<size_t>(kCount));
  EXPECT_EQ(*seqs.rbegin(), static_cast<uint64_t>(kCount));

  // The callback form.
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  for (int i = 0; i < 50; ++i) {
    env.js->PublishAsync("orders.cb", Headers(), "x", {}, [&](Result<PubAck> r) {
      (r.ok() ? done : failed).fetch_add(1);
    });
  }
  ASSERT_TRUE(env.js->PublishAsyncComplete(10s).ok());
  EXPECT_EQ(done.load(), 50);
  EXPECT_EQ(failed.load(), 0);
  Result<StreamInfo> info = env.js->GetStreamInfo("ORDERS");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state.messages, static_cast<uint64_t>(kCount + 50));
}

// The demo's worker: a JetStream publish (and a KV-style request) from a subscription callback,
// with one delivery thread. The PubAck must not wait for that thread.
TEST(NatsJetStreamTest, PublishFromASubscriptionCallback) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server));
  ASSERT_TRUE(env.js->CreateStream(Orders()).ok());
  std::promise<Result<PubAck>> done;
  auto sub = env.conn->Subscribe("work", [&](Message& m) {
    done.set_value(env.js->Publish("orders.from-callback", m.data(), {.timeout = 5s}));
  });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(env.conn->Publish("work", "job").ok());
  std::future<Result<PubAck>> f = done.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  Result<PubAck> ack = f.get();
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  EXPECT_EQ(ack->sequence, 1u);
}

TEST(NatsJetStreamTest, ConsumerLifecycle) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server));
  ASSERT_TRUE(env.js->CreateStream(Orders()).ok());

  ConsumerConfig cc;
  cc.durable_name = "billing";
  cc.ack_wait = 10s;
  cc.filter_subject = "orders.new";
  Result<ConsumerInfo> c = env.js->CreateConsumer("ORDERS", cc);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->name, "billing");
  EXPECT_EQ(c->stream, "ORDERS");
  EXPECT_EQ(c->config.ack_policy, AckPolicy::kExplicit);
  EXPECT_EQ(c->config.ack_wait, std::chrono::nanoseconds(10s));
  EXPECT_EQ(c->config.filter_subject, "orders.new");

  cc.description = "the billing worker";
  cc.max_ack_pending = 50;
  Result<ConsumerInfo> up = env.js->UpdateConsumer("ORDERS", cc);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->config.description, "the billing worker");
  EXPECT_EQ(up->config.max_ack_pending, 50);

  Result<ConsumerInfo> eph = env.js->CreateConsumer("ORDERS", ConsumerConfig{});
  ASSERT_TRUE(eph.ok()) << eph.status().ToString();
  EXPECT_FALSE(eph->name.empty());
  EXPECT_TRUE(eph->config.durable_name.empty());

  Result<std::vector<std::string>> names = env.js->ConsumerNames("ORDERS");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(std::set<std::string>(names->begin(), names->end()),
            (std::set<std::string>{"billing", eph->name}));
  Result<std::vector<ConsumerInfo>> list = env.js->Consumers("ORDERS");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);

  ASSERT_TRUE(env.js->DeleteConsumer("ORDERS", "billing").ok());
  Result<ConsumerInfo> gone = env.js->GetConsumerInfo("ORDERS", "billing");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(ErrorKindOf(gone.status()), ErrorKind::kNotFound);
  EXPECT_EQ(JetStreamErrorCode(gone.status()), kJsErrConsumerNotFound);
  Result<ConsumerInfo> no_stream = env.js->GetConsumerInfo("NOPE", "billing");
  EXPECT_EQ(JetStreamErrorCode(no_stream.status()), kJsErrStreamNotFound);
}

TEST(NatsJetStreamTest, FetchAcksAndStatuses) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server));
  ASSERT_TRUE(env.js->CreateStream(Orders()).ok());
  ConsumerConfig cc;
  cc.durable_name = "worker";
  ASSERT_TRUE(env.js->CreateConsumer("ORDERS", cc).ok());
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(env.js->Publish("orders.new", "o" + std::to_string(i)).ok());
  }

  Result<std::vector<JsMessage>> batch =
      env.js->Fetch("ORDERS", "worker", {.batch = 3, .expires = 2s});
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const JsMessage& m = (*batch)[i];
    EXPECT_EQ(m.data(), "o" + std::to_string(i + 1));
    Result<JsMetadata> md = m.metadata();
    ASSERT_TRUE(md.ok()) << md.status().ToString();
    EXPECT_EQ(md->stream, "ORDERS");
    EXPECT_EQ(md->consumer, "worker");
    EXPECT_EQ(md->stream_seq, i + 1);
    EXPECT_EQ(md->consumer_seq, i + 1);
    EXPECT_EQ(md->delivered, 1u);
    EXPECT_EQ(md->pending, 5 - (i + 1));
    EXPECT_GT(md->timestamp_unix_nano, 0);
    ASSERT_TRUE(m.Ack().ok());
  }

  // Fewer available than asked: what is there, once the request expires (408).
  batch = env.js->Fetch("ORDERS", "worker", {.batch = 10, .expires = 500ms});
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->size(), 2u);
  for (auto& m : *batch) ASSERT_TRUE(m.AckSync(5s).ok());

  // Nothing there: no_wait → 404, an expiry → 408; both a timeout without messages.
  Result<std::vector<JsMessage>> none =
      env.js->Fetch("ORDERS", "worker", {.batch = 1, .no_wait = true});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(ErrorKindOf(none.status()), ErrorKind::kTimeout);
  EXPECT_NE(none.status().message().find("404"), std::string::npos) << none.status().ToString();
  none = env.js->Fetch("ORDERS", "worker", {.batch = 1, .expires = 300ms});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(ErrorKindOf(none.status()), ErrorKind::kTimeout);
  EXPECT_NE(none.status().message().find("408"), std::string::npos);
  // With idle heartbeats requested, the heartbeats are not messages.
  none = env.js->Fetch("ORDERS", "worker",
                       {.batch = 1, .expires = 1500ms, .idle_heartbeat = 300ms});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("408"), std::string::npos);

  // A fetch on a missing consumer ends with a status, not a hang.
  Result<std::vector<JsMessage>> missing =
      env.js->Fetch("ORDERS", "nobody", {.batch = 1, .expires = 500ms});
  EXPECT_FALSE(missing.ok());

  Result<ConsumerInfo> info = env.js->GetConsumerInfo("ORDERS", "worker");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->num_ack_pending, 0u);
  EXPECT_EQ(info->ack_floor.stream_seq, 5u);
}

TEST(NatsJetStreamTest, NakRedeliversTermDoesNot) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server));
  ASSERT_TRUE(env.js->CreateStream(Orders()).ok());
  ConsumerConfig cc;
  cc.durable_name = "w";
  cc.ack_wait = 30s;  // long: redelivery here comes from the nak, not from the ack timer
  ASSERT_TRUE(env.js->CreateConsumer("ORDERS", cc).ok());
  // (An ack and the next pull request are handled by different parts of the server, so each
  // step has one candidate message only: no assumption on which is processed first.)
  ASSERT_TRUE(env.js->Publish("orders.new", "a").ok());

  auto first = env.js->Fetch("ORDERS", "w", {.batch = 1, .expires = 2s});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].data(), "a");
  ASSERT_TRUE((*first)[0].InProgress().ok());
  ASSERT_TRUE((*first)[0].Nak().ok());

  auto again = env.js->Fetch("ORDERS", "w", {.batch = 1, .expires = 5s});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].data(), "a");
  Result<JsMetadata> md = (*again)[0].metadata();
  ASSERT_TRUE(md.ok());
  EXPECT_EQ(md->stream_seq, 1u);
  EXPECT_EQ(md->delivered, 2u);
  ASSERT_TRUE((*again)[0].Term().ok());

  // A nak with a delay: redelivered ("a", terminated, never again).
  ASSERT_TRUE(env.js->Publish("orders.new", "b").ok());
  auto b = env.js->Fetch("ORDERS", "w", {.batch = 1, .expires = 2s});
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 1u);
  EXPECT_EQ((*b)[0].data(), "b");
  ASSERT_TRUE((*b)[0].Nak(200ms).ok());
  auto b2 = env.js->Fetch("ORDERS", "w", {.batch = 1, .expires = 5s});
  ASSERT_TRUE(b2.ok()) << b2.status().ToString();
  ASSERT_EQ(b2->size(), 1u);
  EXPECT_EQ((*b2)[0].data(), "b");
  EXPECT_EQ((*b2)[0].metadata()->delivered, 2u);
  ASSERT_TRUE((*b2)[0].AckSync().ok());

  auto empty = env.js->Fetch("ORDERS", "w", {.batch = 1, .expires = 500ms});
  EXPECT_FALSE(empty.ok());
  Result<ConsumerInfo> info = env.js->GetConsumerInfo("ORDERS", "w");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->num_ack_pending, 0u);
  EXPECT_EQ(info->num_redelivered, 0u);
}

TEST(NatsJetStreamTest, OrderedConsumerContinuesAfterItsConsumerIsDeleted) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server));
  ASSERT_TRUE(env.js->CreateStream(Orders()).ok());
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(env.js->Publish("orders.x", std::to_string(i)).ok());

  OrderedConsumerConfig oc;
  oc.heartbeat = 250ms;
  auto consumer = env.js->OrderedSubscribe("ORDERS", oc);
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  EXPECT_EQ((*consumer)->initial_pending(), 10u);
  uint64_t expect = 1;
  for (; expect <= 10; ++expect) {
    Result<JsMessage> m = (*consumer)->Next(5s);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->data(), std::to_string(expect));
    EXPECT_EQ(m->metadata()->stream_seq, expect);
  }

  // Delete the server's consumer under it; the heartbeats stop, it is recreated from seq 11.
  auto names = env.js->ConsumerNames("ORDERS");
  ASSERT_TRUE(names.ok());
  ASSERT_EQ(names->size(), 1u);
  ASSERT_TRUE(env.js->DeleteConsumer("ORDERS", names->front()).ok());
  for (int i = 11; i <= 15; ++i) ASSERT_TRUE(env.js->Publish("orders.x", std::to_string(i)).ok());
  for (; expect <= 15; ++expect) {
    Result<JsMessage> m = (*consumer)->Next(10s);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->data(), std::to_string(expect));
    EXPECT_EQ(m->metadata()->stream_seq, expect);
  }
  EXPECT_GE((*consumer)->resets(), 1u);
  EXPECT_EQ((*consumer)->last_stream_seq(), 15u);
  (*consumer)->Stop();
  EXPECT_EQ(ErrorKindOf((*consumer)->Next(10ms).status()), ErrorKind::kSubscriptionClosed);
}

TEST(NatsJetStreamTest, OrderedConsumerAndAckedMessagesSurviveAServerRestart) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server));
  ASSERT_TRUE(env.js->CreateStream(Orders()).ok());
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(env.js->Publish("orders.x", std::to_string(i)).ok());
  OrderedConsumerConfig oc;
  oc.heartbeat = 250ms;
  std::mutex mu;
  std::condition_variable arrived;
  std::vector<uint64_t> seen;
  auto consumer = env.js->OrderedSubscribe("ORDERS", oc, [&](JsMessage& m) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(m.metadata()->stream_seq);
    arrived.notify_all();
  });
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  auto wait_for = [&](size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    return arrived.wait_for(lock, 15s, [&] { return seen.size() >= n; });
  };
  ASSERT_TRUE(wait_for(5));

  server.Stop();
  ASSERT_TRUE(server.Start());
  // Publishes acknowledged after the restart; the stream (file storage) kept the first five.
  // The flush's PING waits in the buffer until the connection is back (the server reports
  // ready once JetStream has recovered its streams).
  ASSERT_TRUE(env.conn->Flush(30s).ok());
  Result<PubAck> six = env.js->Publish("orders.x", "6", {.msg_id = "six"});
  ASSERT_TRUE(six.ok()) << six.status().ToString();
  for (int i = 7; i <= 8; ++i) ASSERT_TRUE(env.js->Publish("orders.x", std::to_string(i)).ok());
  ASSERT_TRUE(wait_for(8));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(NatsJetStreamTest, SpansCarryStreamSequenceBatchAndSettle) {
  NatsServer server({.jetstream = true});
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server, true));
  ASSERT_TRUE(env.js->CreateStream(Orders()).ok());
  ConsumerConfig cc;
  cc.durable_name = "worker";
  ASSERT_TRUE(env.js->CreateConsumer("ORDERS", cc).ok());
  env.store->Clear();

  Result<PubAck> a = env.js->Publish("orders.new", "one");
  ASSERT_TRUE(a.ok());
  Result<PubAck> b = env.js->Publish("orders.new", "two");
  ASSERT_TRUE(b.ok());
  auto spans = env.store->Spans();
  std::vector<trace::RecordedSpan> sends;
  for (const auto& s : spans) {
    if (s.name == "send orders.new") sends.push_back(s);
  }
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_EQ(sends[0].kind, trace::SpanKind::kProducer);
  EXPECT_EQ(StrAttr(sends[0], "messaging.system"), "nats");
  EXPECT_EQ(StrAttr(sends[0], "messaging.destination.name"), "orders.new");
  EXPECT_EQ(StrAttr(sends[0], "messaging.nats.jetstream.stream"), "ORDERS");
  EXPECT_EQ(IntAttr(sends[0], "messaging.nats.jetstream.sequence"), 1);
  EXPECT_EQ(IntAttr(sends[1], "messaging.nats.jetstream.sequence"), 2);
  // No core span for the PubAck reply.
  EXPECT_EQ(FindSpan(spans, "process (temporary)"), nullptr);
  EXPECT_EQ(FindSpan(spans, "receive (temporary)"), nullptr);

  env.store->Clear();
  auto batch = env.js->Fetch("ORDERS", "worker", {.batch = 2, .expires = 2s});
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->size(), 2u);
  spans = env.store->Spans();
  const trace::RecordedSpan* receive = FindSpan(spans, "receive ORDERS");
  ASSERT_NE(receive, nullptr);
  EXPECT_EQ(receive->kind, trace::SpanKind::kConsumer);
  EXPECT_EQ(StrAttr(*receive, "messaging.operation.type"), "receive");
  EXPECT_EQ(IntAttr(*receive, "messaging.batch.message_count"), 2);
  EXPECT_EQ(StrAttr(*receive, "messaging.consumer.group.name"), "worker");
  ASSERT_EQ(receive->links.size(), 2u);
  EXPECT_EQ(receive->links[0].context.trace_id(), sends[0].context.trace_id());
  EXPECT_EQ(receive->links[1].context.span_id(), sends[1].context.span_id());

  env.store->Clear();
  ASSERT_TRUE((*batch)[0].Ack().ok());
  ASSERT_TRUE((*batch)[1].Nak().ok());
  spans = env.store->Spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].name, "settle ORDERS");
  EXPECT_EQ(spans[0].kind, trace::SpanKind::kClient);
  EXPECT_EQ(StrAttr(spans[0], "messaging.operation.type"), "settle");
  EXPECT_EQ(StrAttr(spans[0], "messaging.operation.name"), "ack");
  EXPECT_EQ(StrAttr(spans[1], "messaging.operation.name"), "nak");

  // A failed publish records its error.
  env.store->Clear();
  PublishOptions wrong;
  wrong.expected_last_sequence = 99;
  ASSERT_FALSE(env.js->Publish("orders.new", "x", wrong).ok());
  spans = env.store->Spans();
  const trace::RecordedSpan* failed = FindSpan(spans, "send orders.new");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->status_code, trace::SpanStatusCode::kError);
  EXPECT_EQ(StrAttr(*failed, "error.type"), "jetstream");
}

// A fake JetStream API answering with things that are not its JSON: clear errors, no crash.
TEST(NatsJetStreamTest, MalformedApiRepliesAreClearErrors) {
  NatsServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server, false, {.timeout = 2s}));
  std::atomic<int> which{0};
  const std::vector<std::string> replies = {
      "not json at all",
      "[1,2,3]",
      R"({"error":"flat string"})",
      R"({"config":{"name":5},"state":{}})",
      R"({"stream":"S"})",
      R"({"error":{"code":"x","err_code":[],"description":7}})",
      "",
  };
  auto responder = env.conn->Subscribe("$JS.API.>", [&](Message& m) {
    const int i = which.fetch_add(1);
    m.Respond(replies[static_cast<size_t>(i) % replies.size()]).IgnoreError();
  });
  ASSERT_TRUE(responder.ok());
  ASSERT_TRUE(env.conn->Flush().ok());
  for (size_t i = 0; i < replies.size(); ++i) {
    Result<StreamInfo> r = env.js->GetStreamInfo("S");
    ASSERT_FALSE(r.ok()) << "reply " << i;
    if (i == 5) {
      // An error object with wrong types still reads as an API error.
      EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kJetStream) << r.status().ToString();
    } else {
      EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kProtocol) << r.status().ToString();
    }
  }
  // A PubAck that is not one.
  auto acker = env.conn->Subscribe("bogus.>", [&](Message& m) {
    m.Respond("{\"seq\":\"nope\"}").IgnoreError();
  });
  ASSERT_TRUE(acker.ok());
  ASSERT_TRUE(env.conn->Flush().ok());
  Result<PubAck> ack = env.js->Publish("bogus.x", "x");
  ASSERT_FALSE(ack.ok());
  EXPECT_EQ(ErrorKindOf(ack.status()), ErrorKind::kProtocol) << ack.status().ToString();
  // No JetStream at all: no responders, at once.
  (*responder)->Unsubscribe().IgnoreError();
  ASSERT_TRUE(env.conn->Flush().ok());
  Result<StreamInfo> none = env.js->GetStreamInfo("S");
  EXPECT_EQ(ErrorKindOf(none.status()), ErrorKind::kNoResponders);
}

// Pull requests answered (or not) by a fake JetStream: a 409, a message then a 409, and silence
// when idle heartbeats were asked for.
TEST(NatsJetStreamTest, FetchEndsOn409AndMissedHeartbeats) {
  NatsServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  JsEnv env;
  ASSERT_TRUE(env.Init(server, false, {.timeout = 5s}));
  std::atomic<int> mode{0};
  auto fake = env.conn->Subscribe("$JS.API.CONSUMER.MSG.NEXT.S.C", [&](Message& m) {
    Headers status;
    status.SetStatus(409, "Consumer Deleted");
    if (mode.load() == 0) {
      m.Respond(status, "").IgnoreError();
    } else if (mode.load() == 1) {
      // (The server refuses $JS.ACK replies from clients: a plain reply subject here.)
      env.conn->PublishRequest(m.reply(), "fake.ack", "payload").IgnoreError();
      m.Respond(status, "").IgnoreError();
    }  // mode 2: silence
  });
  ASSERT_TRUE(fake.ok());
  ASSERT_TRUE(env.conn->Flush().ok());

  auto r = env.js->Fetch("S", "C", {.batch = 5, .expires = 2s});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kJetStream);
  EXPECT_NE(r.status().message().find("409 Consumer Deleted"), std::string::npos)
      << r.status().ToString();

  mode = 1;
  r = env.js->Fetch("S", "C", {.batch = 5, .expires = 2s});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].data(), "payload");
  EXPECT_EQ((*r)[0].message().reply(), "fake.ack");

  mode = 2;
  r = env.js->Fetch("S", "C", {.batch = 1, .expires = 4s, .idle_heartbeat = 200ms});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kTimeout);
  EXPECT_NE(r.status().message().find("heartbeat"), std::string::npos) << r.status().ToString();
}

TEST(NatsJetStreamTest, ParsesAckSubjects) {
  Result<JsMetadata> v1 = ParseJsAckSubject("$JS.ACK.ORDERS.worker.2.10.4.1700000000000000000.7");
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->stream, "ORDERS");
  EXPECT_EQ(v1->consumer, "worker");
  EXPECT_EQ(v1->delivered, 2u);
  EXPECT_EQ(v1->stream_seq, 10u);
  EXPECT_EQ(v1->consumer_seq, 4u);
  EXPECT_EQ(v1->timestamp_unix_nano, 1700000000000000000);
  EXPECT_EQ(v1->pending, 7u);
  Result<JsMetadata> v2 =
      ParseJsAckSubject("$JS.ACK.hub.ACCHASH.ORDERS.worker.1.3.3.1700000000000000000.0.token");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->domain, "hub");
  EXPECT_EQ(v2->stream_seq, 3u);
  EXPECT_FALSE(ParseJsAckSubject("$JS.ACK.ORDERS.worker.x.3.3.1.0").ok());
  EXPECT_FALSE(ParseJsAckSubject("_INBOX.abc").ok());
  EXPECT_FALSE(ParseJsAckSubject("$JS.ACK.a.b.1.2.3.4.5.6").ok());
}

}  // namespace
}  // namespace otlp::nats

namespace otlp::nats {
namespace {

// The times in JetStream's JSON (RFC 3339), including Go's zero time for "never", which is
// beyond int64 nanoseconds and reads as 0 (the server sends it in every new stream's info).
TEST(NatsJetStreamTest, ParsesRfc3339TimesIncludingGosZeroTime) {
  EXPECT_EQ(internal::ParseRfc3339("1970-01-01T00:00:01Z"), 1000000000);
  EXPECT_EQ(internal::ParseRfc3339("2023-11-14T22:13:20.5Z"), 1700000000500000000);
  EXPECT_EQ(internal::ParseRfc3339("2023-11-14T23:13:20+01:00"), 1700000000000000000);
  EXPECT_EQ(internal::ParseRfc3339("0001-01-01T00:00:00Z"), 0);
  EXPECT_EQ(internal::ParseRfc3339("9999-12-31T23:59:59Z"), 0);
  EXPECT_EQ(internal::ParseRfc3339("not a time"), std::nullopt);
  EXPECT_EQ(internal::FormatRfc3339(1700000000500000000).substr(0, 19), "2023-11-14T22:13:20");
}

}  // namespace
}  // namespace otlp::nats
