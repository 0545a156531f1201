// The NATS client against a real nats-server 2.9 (built from Debian's Go sources): publish and
// subscribe, wildcards, queue groups, headers, request-reply, flush, drain, limits, slow
// consumers, authentication (token, user/password, NKey), TLS, reconnect with buffered
// publishes and re-subscription, lame-duck mode, server-side errors.
#include "otlp/nats/connection.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "otlp/nats/internal/nkeys.h"
#include "tests/support/nats_server.h"
#include "tests/support/test_certs.h"

namespace otlp::nats {
namespace {

using namespace std::chrono_literals;
using test::NatsServer;

// Collects what a callback receives; waits (bounded against a hang) for a count.
class Inbox {
 public:
  MessageHandler Handler() {
    return [this](Message& m) {
      std::lock_guard<std::mutex> lock(mu_);
      messages_.push_back(m);
      cv_.notify_all();
    };
  }
  bool WaitFor(size_t n, std::chrono::milliseconds limit = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return messages_.size() >= n; });
  }
  std::vector<Message> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Message> messages_;
};

std::shared_ptr<Connection> MustConnect(Options o) {
  auto c = Connection::Connect(std::move(o));
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : nullptr;
}

std::shared_ptr<Connection> MustConnect(const NatsServer& server) {
  Options o;
  o.servers = {server.url()};
  return MustConnect(std::move(o));
}

TEST(NatsConnectionTest, ConnectsAndReportsServerInfo) {
  NatsServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  auto conn = MustConnect(server);
  ASSERT_TRUE(conn);
  EXPECT_TRUE(conn->IsConnected());
  ServerInfo info = conn->server_info();
  EXPECT_EQ(info.version.substr(0, 3), "2.9");
  EXPECT_TRUE(info.headers);
  EXPECT_GT(info.client_id, 0u);
  EXPECT_EQ(conn->max_payload(), 1024 * 1024);
  EXPECT_EQ(conn->connected_url(), server.url());
  EXPECT_TRUE(conn->Flush(5s).ok());
  Result<std::chrono::microseconds> rtt = conn->Rtt(5s);
  ASSERT_TRUE(rtt.ok());
  EXPECT_GE(rtt->count(), 0);
  conn->Close();
  EXPECT_TRUE(conn->IsClosed());
  Status after = conn->Publish("a", "b");
  EXPECT_EQ(ErrorKindOf(after), ErrorKind::kConnectionClosed);
}

TEST(NatsConnectionTest, ConnectFailsClearlyWhenNoServerListens) {
  NatsServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  const std::string url = server.url();
  server.Stop();
  Options o;
  o.servers = {url};
  o.connect_timeout = 2s;
  auto c = Connection::Connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find(url), std::string::npos) << c.status().message();

  o.servers = {"ftp://127.0.0.1:1"};
  auto bad = Connection::Connect(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(NatsConnectionTest, PublishSubscribeWildcardsAndOrder) {
  NatsServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  auto conn = MustConnect(server);
  Inbox star, tail, exact;
  auto s1 = conn->Subscribe("orders.*", star.Handler());
  auto s2 = conn->Subscribe("orders.>", tail.Handler());
  auto s3 = conn->Subscribe("orders.created", exact.Handler());
  ASSERT_TRUE(s1.ok() && s2.ok() && s3.ok());
  ASSERT_TRUE(conn->Flush().ok());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(conn->Publish("orders.created", std::to_string(i)).ok());
  }
  ASSERT_TRUE(conn->Publish("orders.eu.created", "deep").ok());
  ASSERT_TRUE(star.WaitFor(100));
  ASSERT_TRUE(tail.WaitFor(101));
  ASSERT_TRUE(exact.WaitFor(100));
  std::vector<Message> got = exact.Take();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[static_cast<size_t>(i)].data(), std::to_string(i));
  EXPECT_EQ(got[0].subject(), "orders.created");
  conn->Flush().IgnoreError();
  EXPECT_EQ(star.size(), 100u);  // "orders.eu.created" does not match "orders.*"
  EXPECT_EQ((*s3)->delivered(), 100u);
  ConnectionStats stats = conn->stats();
  EXPECT_EQ(stats.out_msgs, 101u);
  EXPECT_GE(stats.in_msgs, 301u);
}

TEST(NatsConnectionTest, HeadersRoundTripKeepCaseAndRepeats) {
  NatsServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  Options o;
  o.servers = {server.url()};
  o.tracing.enabled = false;
  o.tracing.propagate = false;
  auto conn = MustConnect(o);
  auto sub = conn->SubscribeSync("h");
  ASSERT_TRUE(sub.ok());
  Headers h;
  h.Add("X-Case", "Kept");
  h.Add("x-case", "separate");
  h.Add("Multi", "1");
  h.Add("Multi", "2");
  ASSERT_TRUE(conn->Publish("h", h, "body").ok());
  Result<Message> m = (*sub)->NextMsg(5s);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->data(), "body");
  EXPECT_EQ(m->headers(), h);
  EXPECT_EQ(m->headers().FindAll("Multi"), (std::vector<std::string_view>{"1", "2"}));
  EXPECT_EQ(m->headers().Find("X-Case"), "Kept");

  // Untraced, header-less publishes are plain PUBs: no header block arrives.
  ASSERT_TRUE(conn->Publish("h", "plain").ok());
  Result<Message> plain = (*sub)->NextMsg(5s);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->has_headers());

  Headers bad{{"Bad Key", "v"}};
  EXPECT_EQ(conn->Publish("h", bad, "x").code(), StatusCode::kInvalidArgument);
}

TEST(NatsConnectionTest, QueueGroupsShareTheWork) {
  NatsServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  auto conn = MustConnect(server);
  Inbox a, b, plain;
  std::mutex mu;
  std::condition_variable cv;
  int members_got = 0;
  auto member = [&](Inbox& inbox) {
    return [&, handler = inbox.Handler()](Message& m) mutable {
      handler(m);
      std::lock_guard<std::mutex> lock(mu);
      ++members_got;
      cv.notify_all();
    };
  };
  auto qa = conn->QueueSubscribe("work", "workers", member(a));
  auto qb = conn->QueueSubscribe("work", "workers", member(b));
  auto p = conn->Subscribe("work", plain.Handler());
  ASSERT_TRUE(qa.ok() && qb.ok() && p.ok());
  ASSERT_TRUE(conn->Flush().ok());
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(conn->Publish("work", "job").ok());
  ASSERT_TRUE(plain.WaitFor(200));
  ASSERT_TRUE(conn->Flush().ok());
  // Each message went to exactly one member of the group.
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return members_got >= 200; }));
  }
  ASSERT_TRUE(conn->Flush().ok());  // a duplicate would have arrived by now
  EXPECT_EQ(a.size() + b.size(), 200u);
  EXPECT_GT(a.size(), 0u);
  EXPECT_GT(b.size(), 0u);
  EXPECT_EQ((*qa)->queue(), "workers");
  EXPECT_FALSE(conn->QueueSubscribe("work", "bad group", a.Handler()).ok());
}

TEST(NatsConnectionTest, UnsubscribeAndAutoUnsubscribe) {
  NatsServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  auto conn = MustConnect(server);
  auto sub = conn->SubscribeSync("u");
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE((*sub)->AutoUnsubscribe(3).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(conn->Publish("u", std::to_string(i)).ok());
  for (int i = 0; i < 3; ++i) {
    Result<Message> m = (*sub)->NextMsg(5s);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->data(), std::to_string(i));
  }
  Result<Message> over = (*sub)->NextMsg(200ms);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(ErrorKindOf(over.status()), ErrorKind::kSubscriptionClosed);
  EXPECT_FALSE((*sub)->IsValid());

  Inbox inbox;
  auto async = conn->Subscribe("v", inbox.Handler());
  ASSERT_TRUE(async.ok());
  ASSERT_TRUE(conn->Flush().ok());
  ASSERT_TRUE(conn->Publish("v", "1").ok());
  ASSERT_TRUE(inbox.WaitFor(1));
  ASSERT_TRUE((*async)->Unsubscribe().ok());
  ASSERT_TRUE(conn->Publish("v", "2").ok());
  ASSERT_TRUE(conn->Flush().ok());
  EXPECT_EQ(inbox.size(), 1u);
  EXPECT_EQ(ErrorKindOf((*async)->Unsubscribe()), ErrorKind::kSubscriptionClosed);
}

TEST(NatsConnectionTest, NextMsgTimesOutWithItsOwnError) {
  NatsServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  auto conn = MustConnect(server);
  auto sub = conn->SubscribeSync("quiet");
  ASSERT_TRUE(sub.ok());
  Result<Message> m = (*sub)->NextMsg(50ms);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ErrorKindOf(m.status()), ErrorKind::kTimeout);
}

TEST(NatsConnectionTest, RequestReplyNoRespondersAndTimeouts) {
  NatsServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  auto conn = MustConnect(server);
  auto responder = conn->Subscribe("svc.echo", [](Message& m) {
    Headers h{{"Echoed", "yes"}};
    m.Respond(h, "echo:" + std::string(m.data())).IgnoreError();
  });
  ASSERT_TRUE(responder.ok());
  ASSERT_TRUE(conn->Flush().ok());
  for (int i = 0; i < 20; ++i) {
    Result<Message> r = conn->Request("svc.echo", "hi" + std::to_string(i), 5s);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->data(), "echo:hi" + std::to_string(i));
    EXPECT_EQ(r->header("Echoed"), "yes");
  }
  // Many at once from several threads share the one inbox subscription.
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string body = std::to_string(t) + "-" + std::to_string(i);
        Result<Message> r = conn->Request("svc.echo", body, 5s);
        if (r.ok() && r->data() == "echo:" + body) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 100);

  Result<Message> nobody = conn->Request("svc.nobody", "x", 5s);
  ASSERT_FALSE(nobody.ok());
  EXPECT_EQ(ErrorKindOf(nobody.status()), ErrorKind::kNoResponders);
  EXPECT_EQ(nobody.status().code(), StatusCode::kUnavailable);

  auto silent = conn->SubscribeSync("svc.silent");  // listens, never answers
  ASSERT_TRUE(silent.ok());
  ASSERT_TRUE(conn->Flush().ok());
  Result<Message> late = conn->Request("svc.silent", "x", 100ms);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(ErrorKindOf(late.status()), ErrorKind::kTimeout);

  // The asynchronous form.
  std::promise<Result<Message>> promise;
  conn->RequestAsync("svc.echo", {}, "async", 5s,
                     [&](Result<Message> r) { promise.set_value(std::move(r)); });
  Result<Message> async = promise.get_future().get();
  ASSERT_TRUE(async.ok()) << async.status().ToString();
  EXPECT_EQ(async->data(), "echo:async");
  std::promise<Result<Message>> timeout_promise;
  conn->RequestAsync("svc.silent", {}, "x", 50ms,
                     [&](Result<Message> r) { timeout_promise.set_value(std::move(r)); });
  Result<Message> timed_out = timeout_promise.get_future().get();
  EXPECT_EQ(ErrorKindOf(timed_out.status()), ErrorKind::kTimeout);
}

TEST(NatsConnectionTest, ChecksSubjectsAndMaxPayloadBeforeSending) {
  NatsServer server({.config = "max_payload: 1024"});
  ASSERT_TRUE(server.ok()) << server.error();
  auto conn = MustConnect(server);
  EXPECT_EQ(conn->max_payload(), 1024);
  EXPECT_EQ(ErrorKindOf(conn->Publish("bad subject", "x")), ErrorKind::kInvalidSubject);
  EXPECT_EQ(ErrorKindOf(conn->Publish("wild.*", "x")), ErrorKind::kInvalidSubject);
  EXPECT_EQ(ErrorKindOf(conn->Publish("a..b", "x")), ErrorKind::kInvalidSubject);
  EXPECT_FALSE(conn->Subscribe("a.>.b", [](Message&) {}).ok());
  EXPECT_TRUE(conn->Publish("ok", std::string(1000, 'x')).ok());
  Status big = conn->Publish("ok", std::string(1025, 'x'));
  EXPECT_EQ(ErrorKindOf(big), ErrorKind::kMaxPayload);
  // The header block counts.
  Headers h{{"K", std::string(100, 'v')}};
  EXPECT_EQ(ErrorKindOf(conn->Publish("ok", h, std::string(1000, 'x'))), ErrorKind::kMaxPayload);
  // Nothing was sent: the connection is still fine.
  EXPECT_TRUE(conn->Flush().ok());
  EXPECT_TRUE(conn->IsConnected());
}

TEST(NatsConnectionTest, SlowConsumerDropsCountsAndReports) {
  NatsServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Status> errors;
  Options o;
  o.servers = {server.url()};
  o.on_error = [&](Connection&, Subscription* sub, const Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    if (sub != nullptr) {
      EXPECT_TRUE(sub->subject() == "flood" || sub->subject() == "flood2") << sub->subject();
    }
    errors.push_back(s);
    cv.notify_all();
  };
  auto conn = MustConnect(o);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> seen{0};
  auto sub = conn->Subscribe("flood", [&](Message&) {
    if (seen++ == 0) released.wait();  // the first callback blocks: the queue fills up
    std::lock_guard<std::mutex> lock(mu);
    cv.notify_all();
  });
  ASSERT_TRUE(sub.ok());
  (*sub)->SetPendingLimits(10, 1024 * 1024);
  ASSERT_TRUE(conn->Flush().ok());
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(conn->Publish("flood", "x").ok());
  ASSERT_TRUE(conn->Flush().ok());  // the read loop is not blocked by the callback
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return !errors.empty(); }));
    EXPECT_EQ(ErrorKindOf(errors[0]), ErrorKind::kSlowConsumer);
  }
  release.set_value();
  // 10 pending were kept, plus the one in the callback when it had left the queue already.
  EXPECT_GE((*sub)->dropped(), 89u);
  EXPECT_LE((*sub)->dropped(), 90u);
  {
    std::unique_lock<std::mutex> lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, 10s, [&] {
      return static_cast<uint64_t>(seen.load()) + (*sub)->dropped() == 100;
    })) << "every message kept was delivered";
  }
  EXPECT_EQ(conn->stats().dropped, (*sub)->dropped());

  // A synchronous subscription is told once, then gets what was kept.
  auto sync = conn->SubscribeSync("flood2");
  ASSERT_TRUE(sync.ok());
  (*sync)->SetPendingLimits(5, 0);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(conn->Publish("flood2", std::to_string(i)).ok());
  ASSERT_TRUE(conn->Flush().ok());
  Result<Message> first = (*sync)->NextMsg(1s);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(ErrorKindOf(first.status()), ErrorKind::kSlowConsumer);
  for (int i = 0; i < 5; ++i) {
    Result<Message> m = (*sync)->NextMsg(1s);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->data(), std::to_string(i));
  }
}

TEST(NatsConnectionTest, DrainDeliversWhatWasSentThenCloses) {
  NatsServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  auto conn = MustConnect(server);
  auto publisher = MustConnect(server);
  std::atomic<int> got{0};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto sub = conn->Subscribe("d", [&](Message&) {
    if (got++ == 0) released.wait();  // held until the drain starts: the rest stays queued
  });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn->Flush().ok());
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(publisher->Publish("d", "x").ok());
  ASSERT_TRUE(publisher->Flush().ok());
  ASSERT_TRUE(conn->Flush().ok());  // all 200 are queued on our side now
  EXPECT_LT(got.load(), 200);
  release.set_value();
  Status drained = conn->Drain(30s);
  EXPECT_TRUE(drained.ok()) << drained.ToString();
  EXPECT_EQ(got.load(), 200);
  EXPECT_TRUE(conn->IsClosed());

  // Subscription drain: the subscription ends, the connection stays.
  auto conn2 = MustConnect(server);
  std::atomic<int> got2{0};
  auto sub2 = conn2->Subscribe("d2", [&](Message&) { ++got2; });
  ASSERT_TRUE(sub2.ok());
  ASSERT_TRUE(conn2->Flush().ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(publisher->Publish("d2", "x").ok());
  ASSERT_TRUE(publisher->Flush().ok());
  ASSERT_TRUE((*sub2)->Drain(10s).ok());
  EXPECT_EQ(got2.load(), 50);
  EXPECT_FALSE((*sub2)->IsValid());
  EXPECT_TRUE(conn2->IsConnected());
  ASSERT_TRUE(publisher->Publish("d2", "after").ok());
  ASSERT_TRUE(publisher->Flush().ok());
  ASSERT_TRUE(conn2->Flush().ok());
  EXPECT_EQ(got2.load(), 50);
}

TEST(NatsConnectionTest, TokenAndUserPasswordAuthentication) {
  NatsServer token_server({.config = "authorization { token: \"s3cr3t\" }"});
  ASSERT_TRUE(token_server.ok()) << token_server.error();
  Options o;
  o.servers = {token_server.url()};
  o.token = "s3cr3t";
  EXPECT_TRUE(MustConnect(o));
  o.token = "wrong";
  auto refused = Connection::Connect(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(ErrorKindOf(refused.status()), ErrorKind::kAuthorization);
  // A token in the URL.
  Options in_url;
  in_url.servers = {"nats://s3cr3t@" + token_server.HostPort()};
  EXPECT_TRUE(MustConnect(in_url));

  NatsServer user_server({.config = "authorization { user: alice, password: \"pa55\" }"});
  ASSERT_TRUE(user_server.ok()) << user_server.error();
  Options u;
  u.servers = {user_server.url()};
  u.user = "alice";
  u.password = "pa55";
  EXPECT_TRUE(MustConnect(u));
  Options u_url;
  u_url.servers = {"nats://alice:pa55@" + user_server.HostPort()};
  EXPECT_TRUE(MustConnect(u_url));
  u.password = "nope";
  EXPECT_EQ(ErrorKindOf(Connection::Connect(u).status()), ErrorKind::kAuthorization);
  Options both;
  both.token = "a";
  both.user = "b";
  EXPECT_EQ(Connection::Connect(both).status().code(), StatusCode::kInvalidArgument);
}

TEST(NatsConnectionTest, NKeyAuthentication) {
  const std::string seed = "SUAFGUJCONGKDC42DJUUNPKXK2UWVN5QUX6ADCMZF5GCQIXTZB3EELTEFI";
  const std::string pub = "UB25TCV7LJXMCZ7VOAFBAR6E6UCDKFTEXNX5MTPWJX75QNNNEAP46D5V";
  NatsServer server({.config = "authorization { users = [ { nkey: " + pub + " } ] }"});
  ASSERT_TRUE(server.ok()) << server.error();
  Options o;
  o.servers = {server.url()};
  o.nkey_seed = seed;
  auto conn = MustConnect(o);
  ASSERT_TRUE(conn);
  EXPECT_TRUE(conn->Flush().ok());
  // Another user's seed is refused.
  Options other;
  other.servers = {server.url()};
  other.token = "x";
  EXPECT_EQ(ErrorKindOf(Connection::Connect(other).status()), ErrorKind::kAuthorization);
  Options broken;
  broken.servers = {server.url()};
  broken.nkey_seed = "SUAnotaseed";
  EXPECT_EQ(Connection::Connect(broken).status().code(), StatusCode::kInvalidArgument);
}

TEST(NatsConnectionTest, TlsWithVerification) {
  test::TempDir dir;
  ASSERT_TRUE(dir.ok());
  Result<test::TestPki> pki = test::GenerateTestPki(dir.path());
  ASSERT_TRUE(pki.ok()) << pki.status().ToString();
  NatsServer server({.config = "tls { cert_file: \"" + pki->server_cert_file +
                               "\"\n key_file: \"" + pki->server_key_file + "\" }"});
  ASSERT_TRUE(server.ok()) << server.error();
  EXPECT_TRUE(server.Log().find("TLS required") != std::string::npos ||
              server.Log().find("tls") != std::string::npos);

  Options o;
  o.servers = {"tls://" + server.HostPort()};
  o.tls.ca_file = pki->ca_cert_file;
  auto conn = MustConnect(o);
  ASSERT_TRUE(conn);
  auto sub = conn->SubscribeSync("secure");
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn->Publish("secure", "over tls").ok());
  Result<Message> m = (*sub)->NextMsg(5s);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->data(), "over tls");

  // nats:// to a server that requires TLS: upgraded because INFO says tls_required.
  Options upgrade;
  upgrade.servers = {server.url()};
  upgrade.tls.ca_file = pki->ca_cert_file;
  EXPECT_TRUE(MustConnect(upgrade));

  // A CA that did not sign the server's certificate: a TLS failure, not a hang.
  Options wrong_ca;
  wrong_ca.servers = {"tls://" + server.HostPort()};
  wrong_ca.tls.ca_file = pki->other_ca_cert_file;
  auto refused = Connection::Connect(wrong_ca);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(ErrorKindOf(refused.status()), ErrorKind::kTls) << refused.status().ToString();
}

TEST(NatsConnectionTest, ReconnectsResubscribesAndSendsBufferedPublishes) {
  NatsServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  std::mutex mu;
  std::condition_variable cv;
  int disconnected = 0, reconnected = 0;
  Options o;
  o.servers = {server.url()};
  o.reconnect_wait = 50ms;
  o.reconnect_jitter = 10ms;
  o.max_reconnects = -1;
  o.on_disconnected = [&](Connection&, const Status&) {
    std::lock_guard<std::mutex> lock(mu);
    ++disconnected;
    cv.notify_all();
  };
  o.on_reconnected = [&](Connection&) {
    std::lock_guard<std::mutex> lock(mu);
    ++reconnected;
    cv.notify_all();
  };
  auto conn = MustConnect(o);
  auto sub = conn->SubscribeSync("r.>");
  ASSERT_TRUE(sub.ok());
  auto limited = conn->SubscribeSync("lim");
  ASSERT_TRUE(limited.ok());
  ASSERT_TRUE((*limited)->AutoUnsubscribe(3).ok());
  ASSERT_TRUE(conn->Publish("lim", "1").ok());
  ASSERT_TRUE((*limited)->NextMsg(5s).ok());
  ASSERT_TRUE(conn->Publish("r.before", "1").ok());
  ASSERT_TRUE((*sub)->NextMsg(5s).ok());

  server.Stop(/*abrupt=*/true);
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return disconnected == 1; }));
  }
  EXPECT_EQ(conn->state(), ConnectionState::kReconnecting);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(conn->Publish("r.during", std::to_string(i)).ok());  // buffered
  }
  ASSERT_TRUE(server.Start()) << server.error();
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 20s, [&] { return reconnected == 1; }));
  }
  EXPECT_TRUE(conn->IsConnected());
  for (int i = 0; i < 10; ++i) {
    Result<Message> m = (*sub)->NextMsg(5s);
    ASSERT_TRUE(m.ok()) << "buffered publish " << i << ": " << m.status().ToString();
    EXPECT_EQ(m->subject(), "r.during");
    EXPECT_EQ(m->data(), std::to_string(i));
  }
  // The auto-unsubscribe count carried over: 2 more, not 3.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(conn->Publish("lim", "x").ok());
  ASSERT_TRUE((*limited)->NextMsg(5s).ok());
  ASSERT_TRUE((*limited)->NextMsg(5s).ok());
  EXPECT_FALSE((*limited)->NextMsg(300ms).ok());
  EXPECT_EQ(conn->stats().reconnects, 1u);
}

TEST(NatsConnectionTest, ReconnectBufferIsBoundedWithAClearError) {
  NatsServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  Options o;
  o.servers = {server.url()};
  o.reconnect_wait = 10s;
  o.reconnect_buffer_bytes = 1000;
  std::promise<void> disconnected;
  o.on_disconnected = [&](Connection&, const Status&) { disconnected.set_value(); };
  auto conn = MustConnect(o);
  server.Stop(true);
  ASSERT_EQ(disconnected.get_future().wait_for(10s), std::future_status::ready);
  ASSERT_EQ(conn->state(), ConnectionState::kReconnecting);
  Status s;
  int accepted = 0;
  for (int i = 0; i < 100 && s.ok(); ++i) {
    s = conn->Publish("x", std::string(100, 'a'));
    if (s.ok()) ++accepted;
  }
  EXPECT_EQ(ErrorKindOf(s), ErrorKind::kBufferFull);
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, 10);
}

TEST(NatsConnectionTest, GivesUpAfterMaxReconnectsAndCloses) {
  NatsServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  std::promise<void> closed;
  Options o;
  o.servers = {server.url()};
  o.reconnect_wait = 20ms;
  o.max_reconnects = 2;
  o.on_closed = [&](Connection&) { closed.set_value(); };
  auto conn = MustConnect(o);
  server.Stop(true);
  ASSERT_EQ(closed.get_future().wait_for(20s), std::future_status::ready);
  EXPECT_TRUE(conn->IsClosed());
  EXPECT_EQ(ErrorKindOf(conn->last_error()), ErrorKind::kConnect) << conn->last_error().ToString();
}

TEST(NatsConnectionTest, PermissionViolationsAreReportedAndKeepTheConnection) {
  NatsServer server({.config = "authorization { users = [ { user: u, password: p, permissions: "
                               "{ publish: { deny: [\"secret.>\"] } } } ] }"});
  ASSERT_TRUE(server.ok()) << server.error();
  std::promise<Status> error;
  Options o;
  o.servers = {server.url()};
  o.user = "u";
  o.password = "p";
  o.on_error = [&](Connection&, Subscription*, const Status& s) { error.set_value(s); };
  auto conn = MustConnect(o);
  ASSERT_TRUE(conn->Publish("secret.plans", "x").ok());  // the server refuses it
  auto f = error.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  Status s = f.get();
  EXPECT_EQ(ErrorKindOf(s), ErrorKind::kPermission);
  EXPECT_NE(s.message().find("secret.plans"), std::string::npos) << s.message();
  EXPECT_TRUE(conn->Flush().ok());
  EXPECT_TRUE(conn->IsConnected());
}

TEST(NatsConnectionTest, LameDuckModeIsReported) {
  NatsServer server({.config = "lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"1s\""});
  ASSERT_TRUE(server.ok()) << server.error();
  std::promise<void> lame;
  Options o;
  o.servers = {server.url()};
  o.on_lame_duck = [&](Connection&) { lame.set_value(); };
  auto conn = MustConnect(o);
  ASSERT_TRUE(conn->Flush().ok());
  server.EnterLameDuckMode();
  EXPECT_EQ(lame.get_future().wait_for(20s), std::future_status::ready);
  EXPECT_TRUE(conn->server_info().lame_duck);
}

TEST(NatsConnectionTest, ManyPublishersFromManyThreadsLoseNothing) {
  NatsServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  auto conn = MustConnect(server);
  auto sub = conn->SubscribeSync("mt");
  ASSERT_TRUE(sub.ok());
  (*sub)->SetPendingLimits(0, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        conn->Publish("mt", std::to_string(t) + ":" + std::to_string(i)).IgnoreError();
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(conn->Flush(30s).ok());
  std::vector<int> next(4, 0);
  for (int n = 0; n < 20000; ++n) {
    Result<Message> m = (*sub)->NextMsg(10s);
    ASSERT_TRUE(m.ok()) << n;
    std::string_view d = m->data();
    const int t = d[0] - '0';
    EXPECT_EQ(std::string(d.substr(2)), std::to_string(next[static_cast<size_t>(t)]));
    ++next[static_cast<size_t>(t)];  // each publisher's order is kept
  }
}

}  // namespace
}  // namespace otlp::nats
