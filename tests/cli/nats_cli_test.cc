// End-to-end tests of `otlp nats`: the built binary (OTLP_CLI_PATH) against a real nats-server
// with JetStream on loopback — pub/sub/req/reply, streams and pull consumers, the Key/Value store
// and the Object Store, their errors (exit 1) and usage errors (exit 2), and that the commands'
// spans are exported.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/nats/connection.h"
#include "otlp/nats/jetstream.h"
#include "otlp/nats/object_store.h"
#include "otlp/net/http_server.h"
#include "tests/support/child_process.h"
#include "tests/support/nats_server.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace std::chrono_literals;
using otlp::test::ChildProcess;

constexpr auto kLimit = 60s;  // a bound against a hang, not a timing check

class NatsCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new otlp::test::NatsServer({.jetstream = true});
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(server_->ok()) << server_->error(); }

  struct Run {
    int code = -1;
    std::string out, err;
  };

  static std::map<std::string, std::string> NoExport() {
    return {{"OTEL_TRACES_EXPORTER", "none"}};
  }
  static std::vector<std::string> Args(std::vector<std::string> args) {
    args.insert(args.begin(), "nats");
    args.push_back("--server");
    args.push_back(server_->url());
    return args;
  }
  // Runs `otlp nats ARGS --server URL` to the end.
  static Run Nats(std::vector<std::string> args,
                  const std::map<std::string, std::string>& env = NoExport()) {
    ChildProcess p(OTLP_CLI_PATH, Args(std::move(args)), env);
    Run r;
    EXPECT_TRUE(p.started());
    if (!p.started()) return r;
    EXPECT_TRUE(p.Finish(kLimit));
    r.code = p.exit_code();
    r.out = p.out();
    r.err = p.err();
    return r;
  }
  // A long-running command (sub, reply, watch).
  static std::unique_ptr<ChildProcess> Start(std::vector<std::string> args) {
    return std::make_unique<ChildProcess>(OTLP_CLI_PATH, Args(std::move(args)), NoExport());
  }

  static otlp::test::NatsServer* server_;
};

otlp::test::NatsServer* NatsCliTest::server_ = nullptr;

#define EXPECT_RUN(r, expected_code) \
  EXPECT_EQ((r).code, expected_code) << "stdout: " << (r).out << "\nstderr: " << (r).err

size_t Count(const std::string& s, std::string_view needle) {
  size_t n = 0;
  for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
  return n;
}

// ---- core NATS ------------------------------------------------------------------------------

TEST_F(NatsCliTest, PubSubWithHeadersAndQueue) {
  auto sub = Start({"sub", "cli.pubsub", "--count", "2"});
  ASSERT_TRUE(sub->WaitForErr("Subscribing on", kLimit)) << sub->err();
  Run pub = Nats({"pub", "cli.pubsub", "first", "-H", "X-Kind: one", "-H", "X-Kind: two"});
  EXPECT_RUN(pub, 0);
  EXPECT_NE(pub.err.find("Published 5 bytes"), std::string::npos) << pub.err;
  EXPECT_RUN(Nats({"pub", "cli.pubsub", "second"}), 0);
  ASSERT_TRUE(sub->Finish(kLimit));
  EXPECT_EQ(sub->exit_code(), 0) << sub->err();
  EXPECT_NE(sub->out().find("Received on \"cli.pubsub\""), std::string::npos) << sub->out();
  EXPECT_NE(sub->out().find("X-Kind: one\nX-Kind: two\n"), std::string::npos) << sub->out();
  EXPECT_LT(sub->out().find("first"), sub->out().find("second")) << sub->out();

  // A queue group: both members share the messages; none is lost or doubled.
  auto a = Start({"sub", "cli.work", "--queue", "workers", "--raw"});
  auto b = Start({"sub", "cli.work", "--queue", "workers", "--raw"});
  ASSERT_TRUE(a->WaitForErr("in queue group workers", kLimit)) << a->err();
  ASSERT_TRUE(b->WaitForErr("in queue group workers", kLimit)) << b->err();
  EXPECT_RUN(Nats({"pub", "cli.work", "job {{Count}}", "--count", "20"}), 0);
  // Wait until all 20 arrived somewhere, then stop both members.
  const auto deadline = std::chrono::steady_clock::now() + kLimit;
  while (std::chrono::steady_clock::now() < deadline) {
    a->WaitForOut("\n", 50ms);
    b->WaitForOut("\n", 50ms);
    if (Count(a->out(), "job ") + Count(b->out(), "job ") >= 20) break;
  }
  a->Signal(SIGINT);
  b->Signal(SIGINT);
  ASSERT_TRUE(a->Finish(kLimit));
  ASSERT_TRUE(b->Finish(kLimit));
  EXPECT_EQ(a->exit_code(), 0);
  EXPECT_EQ(b->exit_code(), 0);
  EXPECT_EQ(Count(a->out(), "job ") + Count(b->out(), "job "), 20u) << a->out() << b->out();
}

TEST_F(NatsCliTest, RequestReply) {
  auto reply = Start({"reply", "cli.svc", "pong {{Count}}", "--count", "1"});
  ASSERT_TRUE(reply->WaitForErr("Listening for requests", kLimit)) << reply->err();
  Run req = Nats({"req", "cli.svc", "ping", "--timeout", "5", "--raw"});
  EXPECT_RUN(req, 0);
  EXPECT_EQ(req.out, "pong 1\n");
  ASSERT_TRUE(reply->Finish(kLimit));
  EXPECT_EQ(reply->exit_code(), 0) << reply->err();

  auto echo = Start({"reply", "cli.echo", "--echo", "--count", "1"});
  ASSERT_TRUE(echo->WaitForErr("Listening for requests", kLimit)) << echo->err();
  Run r = Nats({"req", "cli.echo", "hello", "-H", "X-Asked: yes"});
  EXPECT_RUN(r, 0);
  EXPECT_NE(r.out.find("X-Asked: yes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hello"), std::string::npos) << r.out;
  ASSERT_TRUE(echo->Finish(kLimit));

  Run none = Nats({"req", "cli.nobody", "x", "--timeout", "2"});
  EXPECT_RUN(none, 1);
  EXPECT_NE(none.err.find("no responders"), std::string::npos) << none.err;
  EXPECT_RUN(Nats({"reply", "cli.svc"}), 2);  // neither DATA nor --echo
}

// ---- streams and consumers ---------------------------------------------------------------------

TEST_F(NatsCliTest, StreamCommands) {
  Run add = Nats({"stream", "add", "ORDERS", "--subjects", "orders.*,refunds", "--storage",
                  "memory", "--max-msgs", "1000", "--max-age", "1h"});
  EXPECT_RUN(add, 0);
  EXPECT_NE(add.out.find("Stream ORDERS"), std::string::npos) << add.out;
  EXPECT_NE(add.out.find("orders.*, refunds"), std::string::npos) << add.out;
  EXPECT_NE(add.out.find("memory"), std::string::npos) << add.out;
  EXPECT_NE(add.out.find("Max age:       1h"), std::string::npos) << add.out;

  Run p1 = Nats({"stream", "pub", "orders.new", "order 1", "-H", "X-Order: 1", "--msg-id", "o1"});
  EXPECT_RUN(p1, 0);
  EXPECT_EQ(p1.out, "Stored in stream ORDERS at sequence 1\n");
  Run dup = Nats({"stream", "pub", "orders.new", "order 1", "--msg-id", "o1"});
  EXPECT_RUN(dup, 0);
  EXPECT_EQ(dup.out, "Stored in stream ORDERS at sequence 1 (duplicate)\n");
  EXPECT_RUN(Nats({"stream", "pub", "refunds", "refund 1"}), 0);
  Run p3 = Nats({"stream", "pub", "orders.paid", "order 1 paid"});
  EXPECT_EQ(p3.out, "Stored in stream ORDERS at sequence 3\n") << p3.err;

  Run info = Nats({"stream", "info", "ORDERS"});
  EXPECT_RUN(info, 0);
  EXPECT_NE(info.out.find("Messages:      3"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("Sequences:     1..3"), std::string::npos) << info.out;

  Run ls = Nats({"stream", "ls"});
  EXPECT_RUN(ls, 0);
  EXPECT_NE(ls.out.find("ORDERS"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("orders.*,refunds"), std::string::npos) << ls.out;
  Run names = Nats({"stream", "ls", "--subject", "refunds", "--names"});
  EXPECT_RUN(names, 0);
  EXPECT_EQ(names.out, "ORDERS\n");

  Run get = Nats({"stream", "get", "ORDERS", "1"});
  EXPECT_RUN(get, 0);
  EXPECT_NE(get.out.find("[1] subject \"orders.new\""), std::string::npos) << get.out;
  EXPECT_NE(get.out.find("X-Order: 1\n"), std::string::npos) << get.out;
  EXPECT_NE(get.out.find("order 1\n"), std::string::npos) << get.out;
  Run raw = Nats({"stream", "get", "ORDERS", "2", "--raw"});
  EXPECT_EQ(raw.out, "refund 1\n");
  Run missing_msg = Nats({"stream", "get", "ORDERS", "99"});
  EXPECT_RUN(missing_msg, 1);
  EXPECT_NE(missing_msg.err.find("otlp nats stream get: message 99 of stream ORDERS"),
            std::string::npos)
      << missing_msg.err;

  Run purge = Nats({"stream", "purge", "ORDERS", "--subject", "refunds"});
  EXPECT_RUN(purge, 0);
  EXPECT_EQ(purge.out, "Purged 1 messages from stream ORDERS\n");
  Run all = Nats({"stream", "purge", "ORDERS"});
  EXPECT_EQ(all.out, "Purged 2 messages from stream ORDERS\n") << all.err;

  // A publish nothing stores fails (no responders for the PubAck).
  Run nowhere = Nats({"stream", "pub", "nobody.stores.this", "x", "--timeout", "2"});
  EXPECT_RUN(nowhere, 1);
  EXPECT_NE(nowhere.err.find("publish to nobody.stores.this"), std::string::npos) << nowhere.err;

  Run rm = Nats({"stream", "rm", "ORDERS"});
  EXPECT_RUN(rm, 0);
  EXPECT_EQ(rm.out, "Deleted stream ORDERS\n");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"stream", "info", "ORDERS"}, {"stream", "rm", "ORDERS"},
           {"stream", "purge", "ORDERS"}, {"stream", "get", "ORDERS", "1"}}) {
    Run r = Nats(args);
    EXPECT_RUN(r, 1);
    EXPECT_NE(r.err.find("stream not found"), std::string::npos) << r.err;
    EXPECT_EQ(Count(r.err, "\n"), 1u) << r.err;  // one line
  }

  // Usage errors: exit 2, nothing attempted.
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"stream", "add", "X"},                                    // no --subjects
           {"stream", "add", "X", "--subjects", "x", "--storage", "disk"},
           {"stream", "add", "X", "--subjects", "x", "--max-msgs", "lots"},
           {"stream", "add", "X", "--subjects", "x", "--max-age", "-5"},
           {"stream", "add", "X", "Y", "--subjects", "x"},
           {"stream", "info"},
           {"stream", "get", "X", "first"},
           {"stream", "get", "X", "0"},
           {"stream", "pub"},
           {"stream", "pub", "x", "y", "-H", "no colon"},
           {"stream", "frobnicate"},
           {"stream", "ls", "--bogus"},
           {"stream", "info", "X", "--timeout", "0"}}) {
    Run r = Nats(args);
    EXPECT_RUN(r, 2);
    EXPECT_EQ(Count(r.err, "\n"), 1u) << r.err;
  }
  Run help = Nats({"stream", "add", "--help"});
  EXPECT_RUN(help, 0);
  EXPECT_NE(help.out.find("Examples:"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--subjects"), std::string::npos) << help.out;
  Run group = Nats({"stream", "--help"});
  EXPECT_RUN(group, 0);
  EXPECT_NE(group.out.find("purge NAME"), std::string::npos) << group.out;
}

TEST_F(NatsCliTest, ConsumerCommands) {
  EXPECT_RUN(Nats({"stream", "add", "JOBS", "--subjects", "jobs.>"}), 0);
  Run add = Nats({"consumer", "add", "JOBS", "worker", "--filter", "jobs.new"});
  EXPECT_RUN(add, 0);
  EXPECT_NE(add.out.find("Consumer worker on stream JOBS"), std::string::npos) << add.out;
  EXPECT_NE(add.out.find("Ack policy:    explicit"), std::string::npos) << add.out;
  EXPECT_NE(add.out.find("Filter:        jobs.new"), std::string::npos) << add.out;
  EXPECT_RUN(Nats({"consumer", "add", "JOBS", "auditor", "--ack", "none"}), 0);

  for (int i = 1; i <= 3; ++i) {
    EXPECT_RUN(Nats({"stream", "pub", "jobs.new", "job " + std::to_string(i), "-H",
                     "X-Job: " + std::to_string(i)}),
               0);
  }
  EXPECT_RUN(Nats({"stream", "pub", "jobs.old", "ignored by the filter"}), 0);

  Run ls = Nats({"consumer", "ls", "JOBS"});
  EXPECT_RUN(ls, 0);
  EXPECT_NE(ls.out.find("auditor"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("worker"), std::string::npos) << ls.out;
  EXPECT_LT(ls.out.find("auditor"), ls.out.find("worker")) << ls.out;

  Run two = Nats({"consumer", "next", "JOBS", "worker", "--count", "2", "--expires", "2"});
  EXPECT_RUN(two, 0);
  EXPECT_NE(two.out.find("[#1] Received on \"jobs.new\", stream JOBS sequence 1, delivered 1 "
                         "time"),
            std::string::npos)
      << two.out;
  // The headers (the producer's traceparent among them), a blank line, the body.
  EXPECT_NE(two.out.find("X-Job: 1\ntraceparent: 00-"), std::string::npos) << two.out;
  EXPECT_NE(two.out.find("\n\njob 1\n\n"), std::string::npos) << two.out;
  EXPECT_NE(two.out.find("job 2"), std::string::npos) << two.out;
  EXPECT_EQ(two.out.find("job 3"), std::string::npos) << two.out;

  // Without acking: the message stays pending for acknowledgement.
  Run noack = Nats({"consumer", "next", "JOBS", "worker", "--no-ack", "--raw"});
  EXPECT_RUN(noack, 0);
  EXPECT_EQ(noack.out, "job 3\n");
  Run info = Nats({"consumer", "info", "JOBS", "worker"});
  EXPECT_RUN(info, 0);
  EXPECT_NE(info.out.find("Ack pending:   1"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("Ack floor:     stream seq 2"), std::string::npos) << info.out;

  // Nothing left (the unacked one comes back only after the ack wait): exit 1, one line.
  Run empty = Nats({"consumer", "next", "JOBS", "worker", "--expires", "0.5"});
  EXPECT_RUN(empty, 1);
  EXPECT_NE(empty.err.find("no message from consumer worker on stream JOBS within 0.5 s"),
            std::string::npos)
      << empty.err;

  // An ack-none consumer gets every subject, fewer than asked is fine.
  Run audit = Nats({"consumer", "next", "JOBS", "auditor", "--count", "10", "--expires", "1",
                    "--raw"});
  EXPECT_RUN(audit, 0);
  EXPECT_EQ(audit.out, "job 1\njob 2\njob 3\nignored by the filter\n");
  EXPECT_NE(audit.err.find("4 of 10 messages"), std::string::npos) << audit.err;

  Run rm = Nats({"consumer", "rm", "JOBS", "auditor"});
  EXPECT_RUN(rm, 0);
  EXPECT_EQ(rm.out, "Deleted consumer auditor on stream JOBS\n");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"consumer", "info", "JOBS", "auditor"},
           {"consumer", "rm", "JOBS", "auditor"},
           {"consumer", "next", "JOBS", "auditor", "--expires", "1"}}) {
    Run r = Nats(args);
    EXPECT_RUN(r, 1);
    EXPECT_NE(r.err.find("consumer auditor on stream JOBS"), std::string::npos) << r.err;
  }
  Run nostream = Nats({"consumer", "ls", "NOPE"});
  EXPECT_RUN(nostream, 1);
  EXPECT_NE(nostream.err.find("stream not found"), std::string::npos) << nostream.err;
  Run add_nostream = Nats({"consumer", "add", "NOPE", "c"});
  EXPECT_RUN(add_nostream, 1);

  for (const auto& args : std::vector<std::vector<std::string>>{
           {"consumer", "add", "JOBS", "c", "--ack", "sometimes"},
           {"consumer", "add", "JOBS", "c", "--deliver", "later"},
           {"consumer", "add", "JOBS"},
           {"consumer", "next", "JOBS", "worker", "--count", "0"},
           {"consumer", "next", "JOBS", "worker", "--expires", "soon"},
           {"consumer", "info", "JOBS", "worker", "extra"},
           {"consumer"}}) {
    Run r = Nats(args);
    EXPECT_RUN(r, 2);
  }
  EXPECT_RUN(Nats({"stream", "rm", "JOBS"}), 0);
}

// ---- Key/Value ----------------------------------------------------------------------------------

TEST_F(NatsCliTest, KvCommands) {
  Run add = Nats({"kv", "add", "CONFIG", "--history", "5", "--max-value-size", "1024"});
  EXPECT_RUN(add, 0);
  EXPECT_NE(add.out.find("Bucket CONFIG (stream KV_CONFIG"), std::string::npos) << add.out;
  EXPECT_NE(add.out.find("History:         5"), std::string::npos) << add.out;
  EXPECT_NE(add.out.find("Max value size:  1024"), std::string::npos) << add.out;

  Run put = Nats({"kv", "put", "CONFIG", "db.host", "10.0.0.5"});
  EXPECT_RUN(put, 0);
  EXPECT_EQ(put.out, "Stored db.host at revision 1\n");
  Run get = Nats({"kv", "get", "CONFIG", "db.host"});
  EXPECT_RUN(get, 0);
  EXPECT_EQ(get.out, "10.0.0.5\n");
  EXPECT_NE(get.err.find("CONFIG > db.host revision 1"), std::string::npos) << get.err;
  EXPECT_EQ(Nats({"kv", "put", "CONFIG", "db.host", "10.0.0.6"}).out,
            "Stored db.host at revision 2\n");
  EXPECT_EQ(Nats({"kv", "get", "CONFIG", "db.host", "--raw"}).out, "10.0.0.6");
  EXPECT_EQ(Nats({"kv", "get", "CONFIG", "db.host", "--revision", "1"}).out, "10.0.0.5\n");

  // create: only without a value; update: only at the given revision.
  Run exists = Nats({"kv", "create", "CONFIG", "db.host", "x"});
  EXPECT_RUN(exists, 1);
  EXPECT_NE(exists.err.find("already has a value"), std::string::npos) << exists.err;
  EXPECT_EQ(Nats({"kv", "create", "CONFIG", "db.port", "5432"}).out,
            "Stored db.port at revision 3\n");
  Run stale = Nats({"kv", "update", "CONFIG", "db.host", "10.0.0.7", "1"});
  EXPECT_RUN(stale, 1);
  EXPECT_NE(stale.err.find("not at revision 1"), std::string::npos) << stale.err;
  Run update = Nats({"kv", "update", "CONFIG", "db.host", "10.0.0.7", "2"});
  EXPECT_RUN(update, 0);
  EXPECT_EQ(update.out, "Stored db.host at revision 4\n");

  Run keys = Nats({"kv", "keys", "CONFIG"});
  EXPECT_RUN(keys, 0);
  EXPECT_EQ(keys.out, "db.host\ndb.port\n");
  EXPECT_EQ(Nats({"kv", "ls", "CONFIG"}).out, "db.host\ndb.port\n");
  Run buckets = Nats({"kv", "ls"});
  EXPECT_RUN(buckets, 0);
  EXPECT_NE(buckets.out.find("CONFIG\n"), std::string::npos) << buckets.out;
  Run info = Nats({"kv", "info", "CONFIG"});
  EXPECT_RUN(info, 0);
  EXPECT_NE(info.out.find("Values:          4"), std::string::npos) << info.out;

  Run del = Nats({"kv", "del", "CONFIG", "db.port"});
  EXPECT_RUN(del, 0);
  EXPECT_EQ(del.out, "Deleted db.port in bucket CONFIG\n");
  Run gone = Nats({"kv", "get", "CONFIG", "db.port"});
  EXPECT_RUN(gone, 1);
  EXPECT_NE(gone.err.find("key \"db.port\" not found in bucket CONFIG"), std::string::npos)
      << gone.err;
  EXPECT_EQ(Count(gone.err, "\n"), 1u) << gone.err;
  EXPECT_RUN(Nats({"kv", "create", "CONFIG", "db.port", "6543"}), 0);  // after a delete

  Run history = Nats({"kv", "history", "CONFIG", "db.host"});
  EXPECT_RUN(history, 0);
  EXPECT_EQ(history.out, "PUT db.host 1 10.0.0.5\nPUT db.host 2 10.0.0.6\nPUT db.host 4 10.0.0.7\n");
  EXPECT_EQ(Nats({"kv", "history", "CONFIG", "db.port"}).out,
            "PUT db.port 3 5432\nDEL db.port 5\nPUT db.port 6 6543\n");
  Run purge = Nats({"kv", "purge", "CONFIG", "db.port"});
  EXPECT_RUN(purge, 0);
  EXPECT_EQ(Nats({"kv", "history", "CONFIG", "db.port"}).out, "PURGE db.port 7\n");
  EXPECT_EQ(Nats({"kv", "keys", "CONFIG"}).out, "db.host\n");
  EXPECT_RUN(Nats({"kv", "history", "CONFIG", "never.set"}), 1);

  // watch: the current values, then the changes.
  auto all = Start({"kv", "watch", "CONFIG", "--count", "3"});
  auto only_new = Start({"kv", "watch", "CONFIG", "db.*", "--no-initial", "--count", "2"});
  ASSERT_TRUE(all->WaitForErr("Watching > in bucket CONFIG", kLimit)) << all->err();
  ASSERT_TRUE(only_new->WaitForErr("Watching db.* in bucket CONFIG", kLimit)) << only_new->err();
  ASSERT_TRUE(all->WaitForOut("PUT db.host 4 10.0.0.7\n", kLimit)) << all->out();
  EXPECT_RUN(Nats({"kv", "put", "CONFIG", "db.user", "admin"}), 0);
  EXPECT_RUN(Nats({"kv", "del", "CONFIG", "db.user"}), 0);
  ASSERT_TRUE(all->Finish(kLimit));
  ASSERT_TRUE(only_new->Finish(kLimit));
  EXPECT_EQ(all->exit_code(), 0) << all->err();
  EXPECT_EQ(only_new->exit_code(), 0) << only_new->err();
  // The purge marker of db.port is a current entry too (the latest of that key).
  EXPECT_EQ(all->out(), "PUT db.host 4 10.0.0.7\nPURGE db.port 7\nPUT db.user 8 admin\n");
  EXPECT_EQ(only_new->out(), "PUT db.user 8 admin\nDEL db.user 9\n");
  // Without --count: until Ctrl-C, then exit 0.
  auto until_stopped = Start({"kv", "watch", "CONFIG", "db.host"});
  ASSERT_TRUE(until_stopped->WaitForOut("PUT db.host 4 10.0.0.7\n", kLimit))
      << until_stopped->err();
  until_stopped->Signal(SIGINT);
  ASSERT_TRUE(until_stopped->Finish(kLimit));
  EXPECT_EQ(until_stopped->exit_code(), 0) << until_stopped->err();

  // Missing bucket: exit 1, one line.
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"kv", "get", "NOPE", "k"}, {"kv", "put", "NOPE", "k", "v"},
           {"kv", "keys", "NOPE"}, {"kv", "watch", "NOPE"}, {"kv", "rm", "NOPE"}}) {
    Run r = Nats(args);
    EXPECT_RUN(r, 1);
    EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;
    EXPECT_EQ(Count(r.err, "\n"), 1u) << r.err;
  }
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"kv", "add", "B", "--history", "100"},
           {"kv", "add", "B", "--ttl", "forever"},
           {"kv", "add", "bad.name"},
           {"kv", "put", "CONFIG", ".bad.key", "v"},
           {"kv", "get", "CONFIG"},
           {"kv", "get", "CONFIG", "k", "--revision", "x"},
           {"kv", "update", "CONFIG", "k", "v"},
           {"kv", "update", "CONFIG", "k", "v", "rev"},
           {"kv", "watch", "CONFIG", "--count", "-1"},
           {"kv", "watch", "CONFIG", "--no-initial", "--history"},
           {"kv", "nope"}}) {
    Run r = Nats(args);
    EXPECT_RUN(r, 2);
  }
  Run rm = Nats({"kv", "rm", "CONFIG"});
  EXPECT_RUN(rm, 0);
  EXPECT_EQ(rm.out, "Deleted bucket CONFIG\n");
  EXPECT_RUN(Nats({"kv", "get", "CONFIG", "db.host"}), 1);
}

// ---- Object Store -------------------------------------------------------------------------------

std::string Base64Url(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s : {18, 12, 6, 0}) out += kAlphabet[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint8_t(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += "=";
  }
  return out;
}

TEST_F(NatsCliTest, ObjCommands) {
  otlp::test::TempDir dir("otlp-nats-cli-");
  ASSERT_TRUE(dir.ok()) << dir.error();
  std::string content(300 * 1024 + 17, '\0');
  std::mt19937 rng(7);
  for (char& c : content) c = static_cast<char>(rng());
  ASSERT_TRUE(dir.WriteFile("report.bin", content).ok());
  const std::string digest = otlp::nats::ObjectDigest(content);

  Run add = Nats({"obj", "add", "FILES"});
  EXPECT_RUN(add, 0);
  EXPECT_EQ(add.out, "Created bucket FILES (stream OBJ_FILES)\n");

  Run put = Nats({"obj", "put", "FILES", dir.Join("report.bin")});
  EXPECT_RUN(put, 0);
  EXPECT_EQ(put.out, "Stored report.bin in bucket FILES: " + std::to_string(content.size()) +
                         " bytes, 3 chunks, digest " + digest + "\n");
  EXPECT_RUN(Nats({"obj", "put", "FILES", dir.Join("report.bin"), "--name", "copy/of report",
                   "--chunk-size", "100000", "-H", "X-Owner: tests"}),
             0);

  Run info = Nats({"obj", "info", "FILES", "copy/of report"});
  EXPECT_RUN(info, 0);
  EXPECT_NE(info.out.find("Size:          " + std::to_string(content.size()) + " bytes"),
            std::string::npos)
      << info.out;
  EXPECT_NE(info.out.find("Chunks:        4\n"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("Digest:        " + digest), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("X-Owner: tests"), std::string::npos) << info.out;

  Run ls = Nats({"obj", "ls", "FILES", "--names"});
  EXPECT_RUN(ls, 0);
  EXPECT_EQ(ls.out, "report.bin\ncopy/of report\n");
  Run buckets = Nats({"obj", "ls"});
  EXPECT_NE(buckets.out.find("FILES\n"), std::string::npos) << buckets.out;

  Run get = Nats({"obj", "get", "FILES", "copy/of report", "-o", dir.Join("out.bin")});
  EXPECT_RUN(get, 0);
  EXPECT_NE(get.err.find("digest " + digest + " (checked)"), std::string::npos) << get.err;
  EXPECT_TRUE(dir.ReadFile("out.bin") == content);
  Run to_stdout = Nats({"obj", "get", "FILES", "report.bin"});
  EXPECT_RUN(to_stdout, 0);
  EXPECT_TRUE(to_stdout.out == content) << to_stdout.out.size();

  // An object whose info does not match its chunks: the digest check fails, no file is left.
  {
    auto conn = otlp::nats::Connection::Connect(server_->url());
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    auto js = otlp::nats::JetStream::Create(*conn);
    ASSERT_TRUE(js.ok());
    auto obs = otlp::nats::ObjectStore::Bind(*js, "FILES");
    ASSERT_TRUE(obs.ok()) << obs.status().ToString();
    ASSERT_TRUE((*obs)->PutBytes("tampered", "the real bytes").ok());
    auto meta = (*obs)->GetInfo("tampered");
    ASSERT_TRUE(meta.ok());
    meta->digest = otlp::nats::ObjectDigest("other bytes of it");
    otlp::nats::Headers h;
    h.Add("Nats-Rollup", "sub");
    auto ack = (*js)->Publish("$O.FILES.M." + Base64Url("tampered"), h,
                              otlp::nats::ObjectInfoJson(*meta));
    ASSERT_TRUE(ack.ok()) << ack.status().ToString();
    (*conn)->Close();
  }
  Run bad = Nats({"obj", "get", "FILES", "tampered", "-o", dir.Join("tampered")});
  EXPECT_RUN(bad, 1);
  EXPECT_NE(bad.err.find("digest"), std::string::npos) << bad.err;
  EXPECT_EQ(dir.ReadFile("tampered"), "");
  EXPECT_NE(::access(dir.Join("tampered").c_str(), F_OK), 0);

  Run missing = Nats({"obj", "get", "FILES", "nothing", "-o", dir.Join("nothing")});
  EXPECT_RUN(missing, 1);
  EXPECT_NE(missing.err.find("object \"nothing\" not found in bucket FILES"), std::string::npos)
      << missing.err;
  EXPECT_NE(::access(dir.Join("nothing").c_str(), F_OK), 0);

  Run rm = Nats({"obj", "rm", "FILES", "report.bin"});
  EXPECT_RUN(rm, 0);
  EXPECT_EQ(rm.out, "Deleted report.bin in bucket FILES\n");
  EXPECT_RUN(Nats({"obj", "info", "FILES", "report.bin"}), 1);
  EXPECT_RUN(Nats({"obj", "rm", "FILES", "never.stored"}), 1);

  for (const auto& args : std::vector<std::vector<std::string>>{
           {"obj", "get", "NOPE", "x"}, {"obj", "ls", "NOPE"},
           {"obj", "put", "NOPE", dir.Join("report.bin")}, {"obj", "rm-bucket", "NOPE"}}) {
    Run r = Nats(args);
    EXPECT_RUN(r, 1);
    EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;
    EXPECT_EQ(Count(r.err, "\n"), 1u) << r.err;
  }
  Run unreadable = Nats({"obj", "put", "FILES", dir.Join("no-such-file")});
  EXPECT_RUN(unreadable, 1);
  EXPECT_NE(unreadable.err.find("cannot read"), std::string::npos) << unreadable.err;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"obj", "put", "FILES", "-"},  // stdin needs --name
           {"obj", "put", "FILES"},
           {"obj", "get", "FILES", "a", "b"},
           {"obj", "put", "FILES", "x", "--chunk-size", "0"},
           {"obj", "add", "B", "--storage", "tape"},
           {"obj", "bogus"}}) {
    Run r = Nats(args);
    EXPECT_RUN(r, 2);
  }
  Run rmb = Nats({"obj", "rm-bucket", "FILES"});
  EXPECT_RUN(rmb, 0);
  EXPECT_EQ(rmb.out, "Deleted bucket FILES\n");
}

// ---- tracing ------------------------------------------------------------------------------------

// Records the OTLP/JSON bodies the CLI exports.
class Receiver {
 public:
  Receiver() {
    runtime_ = otlp::net::Runtime::Create();
    auto server = otlp::net::HttpServer::Start(
        runtime_, {.host = "127.0.0.1", .port = 0},
        [this](const otlp::net::ServerRequest& req, otlp::net::ServerResponse& res) {
          {
            std::lock_guard<std::mutex> lock(mu_);
            bodies_ += req.body;
          }
          res.status = 200;
          res.headers = {{"Content-Type", "application/json"}};
          res.body = "{}";
        });
    if (server.ok()) server_ = std::move(*server);
  }
  ~Receiver() {
    if (server_) server_->Stop();
  }
  bool ok() const { return server_ != nullptr; }
  std::map<std::string, std::string> Env() const {
    return {{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", server_->base_url() + "/v1/traces"},
            {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
            {"OTEL_SERVICE_NAME", "nats-cli-test"}};
  }
  std::string bodies() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }

 private:
  std::shared_ptr<otlp::net::Runtime> runtime_;
  std::unique_ptr<otlp::net::HttpServer> server_;
  mutable std::mutex mu_;
  std::string bodies_;
};

TEST_F(NatsCliTest, CommandsAreTraced) {
  Receiver rx;
  ASSERT_TRUE(rx.ok());
  const std::string tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  EXPECT_RUN(Nats({"stream", "add", "TRACED", "--subjects", "traced.>"}, rx.Env()), 0);
  EXPECT_RUN(Nats({"stream", "pub", "traced.x", "body", "--traceparent", tp}, rx.Env()), 0);
  EXPECT_RUN(Nats({"kv", "add", "TRACEDKV"}, rx.Env()), 0);
  EXPECT_RUN(Nats({"kv", "put", "TRACEDKV", "k", "v", "--traceparent", tp}, rx.Env()), 0);
  EXPECT_RUN(Nats({"obj", "add", "TRACEDOBJ"}, rx.Env()), 0);
  EXPECT_RUN(Nats({"obj", "put", "TRACEDOBJ", "-", "--name", "n", "--traceparent", tp},
                  rx.Env()),
             0);
  // The CLI flushes its spans before it exits.
  const std::string bodies = rx.bodies();
  EXPECT_NE(bodies.find("\"name\":\"send traced.x\""), std::string::npos) << bodies;
  EXPECT_NE(bodies.find("\"name\":\"kv put TRACEDKV\""), std::string::npos) << bodies;
  EXPECT_NE(bodies.find("\"name\":\"obj put TRACEDOBJ\""), std::string::npos) << bodies;
  EXPECT_NE(bodies.find("0af7651916cd43dd8448eb211c80319c"), std::string::npos) << bodies;
  EXPECT_NE(bodies.find("nats-cli-test"), std::string::npos);
  EXPECT_NE(bodies.find("messaging.nats.jetstream.sequence"), std::string::npos) << bodies;
  EXPECT_RUN(Nats({"stream", "rm", "TRACED"}), 0);
  EXPECT_RUN(Nats({"kv", "rm", "TRACEDKV"}), 0);
  EXPECT_RUN(Nats({"obj", "rm-bucket", "TRACEDOBJ"}), 0);
}

}  // namespace
