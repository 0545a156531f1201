// WebSocket client against independent servers: the npm `ws` package (tests/conformance/
// ws_server.js) and Debian's websocketd.
#include "otlp/http/websocket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "otlp/http/error.h"
#include "otlp/trace/context.h"
#include "otlp/trace/in_memory_exporter.h"
#include "otlp/trace/processor.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/tracer.h"
#include "tests/support/raw_tcp_server.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

extern char** environ;

namespace otlp::http {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

constexpr auto kWait = 20s;  // generous bound for conditions that should hold at once

OwnedAttributeValue Str(std::string s) {
  return s;
}
OwnedAttributeValue Int(int64_t v) {
  return v;
}
// A span's attribute, or "<missing>".
OwnedAttributeValue AttrOf(const trace::RecordedSpan& s, std::string_view key) {
  const OwnedAttributeValue* v = s.Attribute(key);
  return v ? *v : OwnedAttributeValue(std::string("<missing>"));
}

// A child process whose stdout is read line by line; stdin stays open until Stop (the ws server
// exits when it closes).
class Child {
 public:
  bool Start(const std::vector<std::string>& argv) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return false;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    if (rc != 0) pid_ = -1;
    return rc == 0;
  }
  // The next line of output, or "" after `timeout` / at the end.
  std::string ReadLine(std::chrono::milliseconds timeout = kWait) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const size_t nl = buffered_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffered_.substr(0, nl);
        buffered_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "";
      pollfd p{stdout_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
      char buf[4096];
      const ssize_t n = read(stdout_, buf, sizeof buf);
      if (n <= 0) return "";
      buffered_.append(buf, static_cast<size_t>(n));
    }
  }
  void Stop() {
    if (stdin_ >= 0) close(stdin_);
    stdin_ = -1;
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    if (stdout_ >= 0) close(stdout_);
    stdout_ = -1;
  }
  ~Child() { Stop(); }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string buffered_;
};

std::string ConformanceDir() {
  return OTLP_CONFORMANCE_DIR;
}

std::string WsSkipReason() {
  if (system("node --version > /dev/null 2>&1") != 0) return "node is not installed";
  if (!std::filesystem::exists(ConformanceDir() + "/node_modules/ws")) {
    return "the npm `ws` package is missing (run `npm ci` in tests/conformance)";
  }
  return "";
}

// ws_server.js, started per test.
class NodeServer {
 public:
  std::string Start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {"node", ConformanceDir() + "/ws_server.js"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    if (!child_.Start(argv)) return "cannot start node";
    const std::string line = child_.ReadLine();
    if (line.rfind("PORT ", 0) != 0) return "ws_server.js did not start: '" + line + "'";
    port_ = std::stoi(line.substr(5));
    return "";
  }
  std::string url(std::string_view path = "/echo", std::string_view scheme = "ws") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  int port() const { return port_; }
  // The next "CLOSE code reason" line.
  std::string NextClose() {
    for (std::string line = child_.ReadLine(); !line.empty(); line = child_.ReadLine()) {
      if (line.rfind("CLOSE ", 0) == 0) return line.substr(6);
    }
    return "";
  }

 private:
  Child child_;
  int port_ = 0;
};

class WebSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = WsSkipReason(); !why.empty()) GTEST_SKIP() << why;
    ASSERT_EQ(server_.Start(), "");
    provider_ =
        trace::TracerProvider::Create({.processor = std::make_unique<trace::SimpleSpanProcessor>(
                                           std::make_unique<trace::InMemorySpanExporter>(store_))});
    trace::SetTracerProvider(provider_);
  }
  void TearDown() override { trace::SetTracerProvider(nullptr); }

  std::unique_ptr<WebSocket> Open(WebSocketOptions options = {}, std::string_view path = "/echo") {
    auto ws = WebSocket::Connect(server_.url(path), std::move(options));
    EXPECT_OK(ws);
    return ws.ok() ? std::move(*ws) : nullptr;
  }

  std::vector<trace::RecordedSpan> GetSpans() {
    std::vector<trace::RecordedSpan> out;
    for (auto& s : store_->Spans()) {
      if (s.name == "GET") out.push_back(std::move(s));
    }
    return out;
  }

  NodeServer server_;
  std::shared_ptr<trace::InMemorySpanStore> store_ = std::make_shared<trace::InMemorySpanStore>();
  std::shared_ptr<trace::TracerProvider> provider_;
};

TEST_F(WebSocketTest, TextAndBinaryEcho) {
  auto ws = Open();
  ASSERT_NE(ws, nullptr);
  ASSERT_OK(ws->SendText("hello"));
  ASSERT_OK_AND_ASSIGN(WebSocketMessage m, ws->Receive(kWait));
  EXPECT_EQ(m.type, WebSocketMessage::Type::kText);
  EXPECT_EQ(m.data, "hello");
  const std::string binary("\x00\x01\xff\xfe", 4);
  ASSERT_OK(ws->SendBinary(binary));
  ASSERT_OK_AND_ASSIGN(m, ws->Receive(kWait));
  EXPECT_EQ(m.type, WebSocketMessage::Type::kBinary);
  EXPECT_EQ(m.data, binary);
  ASSERT_OK(ws->SendText(""));
  ASSERT_OK_AND_ASSIGN(m, ws->Receive(kWait));
  EXPECT_EQ(m.data, "");
  EXPECT_OK(ws->Close());
  EXPECT_EQ(server_.NextClose(), "1000 ");
}

TEST_F(WebSocketTest, FragmentedSendArrivesAsOneMessage) {
  auto ws = Open();
  ASSERT_NE(ws, nullptr);
  ASSERT_OK(ws->SendFragment(WebSocketMessage::Type::kText, "frag", false));
  EXPECT_THAT(ws->SendText("interleaved"), StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_OK(ws->SendFragment(WebSocketMessage::Type::kText, "men", false));
  ASSERT_OK(ws->SendFragment(WebSocketMessage::Type::kText, "ted", true));
  ASSERT_OK_AND_ASSIGN(WebSocketMessage m, ws->Receive(kWait));
  EXPECT_EQ(m.type, WebSocketMessage::Type::kText);
  EXPECT_EQ(m.data, "fragmented");
}

TEST_F(WebSocketTest, FragmentedReceiveIsReassembled) {
  auto ws = Open();
  ASSERT_NE(ws, nullptr);
  ASSERT_OK(ws->SendText("fragments:5:the quick brown fox jumps"));
  ASSERT_OK_AND_ASSIGN(WebSocketMessage m, ws->Receive(kWait));
  EXPECT_EQ(m.type, WebSocketMessage::Type::kText);
  EXPECT_EQ(m.data, "the quick brown fox jumps");
}

TEST_F(WebSocketTest, LargeMessagesBothWays) {
  auto ws = Open({.max_message_size = 64 * 1024 * 1024});
  ASSERT_NE(ws, nullptr);
  std::string big(6 * 1024 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7) % 256);
  ASSERT_OK(ws->SendBinary(big));
  ASSERT_OK_AND_ASSIGN(WebSocketMessage m, ws->Receive(kWait));
  EXPECT_EQ(m.data.size(), big.size());
  EXPECT_TRUE(m.data == big);

  ASSERT_OK(ws->SendText("big:8000000"));
  ASSERT_OK_AND_ASSIGN(m, ws->Receive(kWait));
  ASSERT_EQ(m.data.size(), 8000000u);
  bool pattern = true;
  for (size_t i = 0; i < m.data.size() && pattern; ++i) {
    pattern = static_cast<unsigned char>(m.data[i]) == i % 251;
  }
  EXPECT_TRUE(pattern);
}

TEST_F(WebSocketTest, UserPingGetsPongAndServerPingIsAnswered) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> pongs;
  auto ws = Open({.on_pong = [&](std::string_view payload) {
    std::lock_guard lock(mu);
    pongs.emplace_back(payload);
    cv.notify_all();
  }});
  ASSERT_NE(ws, nullptr);
  ASSERT_OK(ws->Ping("are you there"));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kWait, [&] { return !pongs.empty(); }));
    EXPECT_EQ(pongs[0], "are you there");
  }
  EXPECT_THAT(ws->Ping(std::string(126, 'x')), StatusIs(StatusCode::kInvalidArgument));
  // The server pings; the automatic pong comes back to it as "pong:<payload>".
  ASSERT_OK(ws->SendText("ping:xyz"));
  ASSERT_OK_AND_ASSIGN(WebSocketMessage m, ws->Receive(kWait));
  EXPECT_EQ(m.data, "pong:xyz");
}

TEST_F(WebSocketTest, ClientCloseCodeAndReasonReachTheServer) {
  auto ws = Open();
  ASSERT_NE(ws, nullptr);
  ASSERT_OK(ws->Close(4001, "bye for now"));
  EXPECT_EQ(server_.NextClose(), "4001 bye for now");
  EXPECT_OK(ws->Close());  // already closed
  EXPECT_THAT(ws->SendText("late"), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(ws->Receive(kWait), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(ws->Close(1005), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(WebSocketTest, ServerCloseIsReportedWithCodeAndReason) {
  auto ws = Open();
  ASSERT_NE(ws, nullptr);
  ASSERT_OK(ws->SendText("before"));
  ASSERT_OK(ws->SendText("close:4002:server says bye"));
  ASSERT_OK_AND_ASSIGN(WebSocketMessage m, ws->Receive(kWait));
  EXPECT_EQ(m.data, "before");
  ASSERT_OK_AND_ASSIGN(m, ws->Receive(kWait));
  EXPECT_EQ(m.type, WebSocketMessage::Type::kClose);
  EXPECT_EQ(m.close_code, 4002);
  EXPECT_EQ(m.data, "server says bye");
  auto after = ws->Receive(kWait);
  EXPECT_THAT(after, StatusIs(StatusCode::kFailedPrecondition, HasSubstr("closed by")));
  EXPECT_EQ(WebSocketErrorKindOf(after.status()), WebSocketErrorKind::kClosed);
  // Beast echoes the code of the server's close frame (without a reason).
  EXPECT_THAT(server_.NextClose(), StartsWith("4002"));
  EXPECT_OK(ws->Close());
}

TEST_F(WebSocketTest, MessageOverTheLimitFailsAndClosesWith1009) {
  auto ws = Open({.max_message_size = 1000});
  ASSERT_NE(ws, nullptr);
  ASSERT_OK(ws->SendText("big:999"));
  ASSERT_OK_AND_ASSIGN(WebSocketMessage m, ws->Receive(kWait));
  EXPECT_EQ(m.data.size(), 999u);
  ASSERT_OK(ws->SendText("big:5000"));
  auto r = ws->Receive(kWait);
  EXPECT_THAT(r, StatusIs(StatusCode::kResourceExhausted, HasSubstr("1000 bytes")));
  EXPECT_EQ(WebSocketErrorKindOf(r.status()), WebSocketErrorKind::kMessageTooBig);
  EXPECT_THAT(server_.NextClose(), StartsWith("1009"));
}

TEST_F(WebSocketTest, RefusedUpgradeNamesTheStatusAndIsTraced) {
  auto ws = WebSocket::Connect(server_.url("/refuse"));
  EXPECT_THAT(ws, StatusIs(StatusCode::kUnavailable, HasSubstr("HTTP 403")));
  EXPECT_EQ(WebSocketErrorKindOf(ws.status()), WebSocketErrorKind::kUpgradeRefused);
  auto spans = GetSpans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].status_code, trace::SpanStatusCode::kError);
  EXPECT_EQ(AttrOf(spans[0], "http.response.status_code"), Int(403));
  EXPECT_EQ(AttrOf(spans[0], "error.type"), Str("403"));
}

TEST_F(WebSocketTest, PermessageDeflateNegotiatedOnlyWhenEnabled) {
  auto plain = Open();
  ASSERT_NE(plain, nullptr);
  EXPECT_FALSE(plain->permessage_deflate());
  auto ws = Open({.permessage_deflate = true});
  ASSERT_NE(ws, nullptr);
  EXPECT_TRUE(ws->permessage_deflate());
  ASSERT_OK(ws->SendText("extensions"));
  ASSERT_OK_AND_ASSIGN(WebSocketMessage m, ws->Receive(kWait));
  EXPECT_THAT(m.data, HasSubstr("permessage-deflate"));
  const std::string text(2 * 1024 * 1024, 'z');
  ASSERT_OK(ws->SendText(text));
  ASSERT_OK_AND_ASSIGN(m, ws->Receive(kWait));
  EXPECT_TRUE(m.data == text);
}

TEST_F(WebSocketTest, SubprotocolAndExtraHeaders) {
  auto ws = Open({.headers = {{"X-Test-Header", "yes"}}, .subprotocols = {"chat.v2", "chat.v1"}});
  ASSERT_NE(ws, nullptr);
  EXPECT_EQ(ws->subprotocol(), "chat.v2");
  ASSERT_OK(ws->SendText("headers"));
  ASSERT_OK_AND_ASSIGN(WebSocketMessage m, ws->Receive(kWait));
  EXPECT_THAT(m.data, HasSubstr("\"x-test-header\":\"yes\""));
  EXPECT_THAT(m.data, HasSubstr("\"sec-websocket-protocol\":\"chat.v2, chat.v1\""));
}

TEST_F(WebSocketTest, UpgradeIsTracedAndCarriesTraceparent) {
  trace::Tracer tracer = provider_->GetTracer("test");
  trace::Span parent = tracer.StartSpan("parent");
  std::unique_ptr<WebSocket> ws;
  {
    trace::Scope scope(parent);
    ws = Open();
  }
  ASSERT_NE(ws, nullptr);
  auto spans = GetSpans();
  ASSERT_EQ(spans.size(), 1u);
  const trace::RecordedSpan& s = spans[0];
  EXPECT_EQ(s.kind, trace::SpanKind::kClient);
  EXPECT_EQ(s.context.trace_id(), parent.GetContext().trace_id());
  EXPECT_EQ(s.parent_span_id, parent.GetContext().span_id());
  EXPECT_EQ(AttrOf(s, "http.request.method"), Str("GET"));
  EXPECT_EQ(AttrOf(s, "url.full"), Str(server_.url()));
  EXPECT_EQ(AttrOf(s, "server.address"), Str("127.0.0.1"));
  EXPECT_EQ(AttrOf(s, "server.port"), Int(server_.port()));
  EXPECT_EQ(AttrOf(s, "http.response.status_code"), Int(101));
  EXPECT_EQ(s.Attribute("error.type"), nullptr);

  ASSERT_OK(ws->SendText("headers"));
  ASSERT_OK_AND_ASSIGN(WebSocketMessage m, ws->Receive(kWait));
  const std::string expected = "\"traceparent\":\"" + s.context.ToTraceparent() + "\"";
  EXPECT_THAT(expected, HasSubstr(s.context.span_id().ToHex()));
  EXPECT_THAT(m.data, HasSubstr(expected));
}

TEST_F(WebSocketTest, SuppressedTracingRecordsNoSpan) {
  {
    trace::SuppressTracingScope suppress;
    auto ws = Open();
    ASSERT_NE(ws, nullptr);
  }
  EXPECT_TRUE(GetSpans().empty());
}

TEST_F(WebSocketTest, ReceiveTimeoutLosesNothingAndAsyncReceive) {
  auto ws = Open();
  ASSERT_NE(ws, nullptr);
  EXPECT_THAT(ws->Receive(20ms), StatusIs(StatusCode::kDeadlineExceeded));
  ASSERT_OK(ws->SendText("one"));
  ASSERT_OK_AND_ASSIGN(WebSocketMessage m, ws->Receive(kWait));
  EXPECT_EQ(m.data, "one");

  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<WebSocketMessage>> got;
  ws->ReceiveAsync([&](Result<WebSocketMessage> r) {
    std::lock_guard lock(mu);
    got = std::move(r);
    cv.notify_all();
  });
  ASSERT_OK(ws->SendText("two"));
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, kWait, [&] { return got.has_value(); }));
  ASSERT_OK(*got);
  EXPECT_EQ((*got)->data, "two");
}

TEST_F(WebSocketTest, AsyncEchoLoopFromCallbacks) {
  auto ws = Open();
  ASSERT_NE(ws, nullptr);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> got;
  std::function<void(Result<WebSocketMessage>)> on_message;
  on_message = [&](Result<WebSocketMessage> r) {
    if (!r.ok()) return;
    std::lock_guard lock(mu);
    got.push_back(r->data);
    cv.notify_all();
    if (got.size() < 3) ws->ReceiveAsync(on_message);
  };
  ws->ReceiveAsync(on_message);
  for (const char* text : {"a", "b", "c"}) ws->SendAsync(WebSocketMessage::Type::kText, text);
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, kWait, [&] { return got.size() == 3; }));
  EXPECT_THAT(got, ::testing::ElementsAre("a", "b", "c"));
}

TEST_F(WebSocketTest, ConcurrentSendersKeepMessagesWhole) {
  auto ws = Open();
  ASSERT_NE(ws, nullptr);
  constexpr int kThreads = 4, kPerThread = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        EXPECT_OK(ws->SendText(std::string(1000, static_cast<char>('a' + t))));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    ASSERT_OK_AND_ASSIGN(WebSocketMessage m, ws->Receive(kWait));
    ASSERT_EQ(m.data.size(), 1000u);
    EXPECT_EQ(m.data.find_first_not_of(m.data[0]), std::string::npos);
  }
}

TEST_F(WebSocketTest, RunsOnAGivenRuntimeAndRefusesToBlockItsThreads) {
  auto runtime = net::Runtime::Create({.threads = 2});
  auto ws = Open({.runtime = runtime});
  ASSERT_NE(ws, nullptr);
  std::promise<Status> on_io;
  runtime->Post([&] { on_io.set_value(ws->SendText("from the I/O thread")); });
  EXPECT_THAT(on_io.get_future().get(), StatusIs(StatusCode::kFailedPrecondition));
  std::promise<Status> async_on_io;
  runtime->Post([&] {
    ws->SendAsync(WebSocketMessage::Type::kText, "async from the I/O thread",
                  [&](Status s) { async_on_io.set_value(std::move(s)); });
  });
  EXPECT_OK(async_on_io.get_future().get());
  ASSERT_OK_AND_ASSIGN(WebSocketMessage m, ws->Receive(kWait));
  EXPECT_EQ(m.data, "async from the I/O thread");
}

TEST_F(WebSocketTest, BadUrlsAndRefusedConnections) {
  EXPECT_THAT(WebSocket::Connect("http://127.0.0.1/"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(WebSocket::Connect("not a url"), StatusIs(StatusCode::kInvalidArgument));
  // A port nobody listens on: bind one, close it.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  auto ws = WebSocket::Connect("ws://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/");
  EXPECT_THAT(ws, StatusIs(StatusCode::kUnavailable, HasSubstr("refused")));
  auto spans = GetSpans();
  ASSERT_EQ(spans.size(), 1u);
  // The names otlp::http uses everywhere (ErrorKindName), as fine as the HTTP client's.
  EXPECT_EQ(ErrorKindOf(ws.status()), ErrorKind::kConnectionRefused);
  EXPECT_EQ(AttrOf(spans[0], "error.type"),
            Str(std::string(ErrorKindName(ErrorKindOf(ws.status())))));
  EXPECT_EQ(AttrOf(spans[0], "error.type"), Str("connection_refused"));
  EXPECT_EQ(spans[0].Attribute("http.response.status_code"), nullptr);
}

class WebSocketTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = WsSkipReason(); !why.empty()) GTEST_SKIP() << why;
    auto pki = test::GenerateTestPki(dir_.path());
    ASSERT_OK(pki);
    pki_ = *pki;
    ASSERT_EQ(server_.Start({"--cert=" + pki_.server_cert_file, "--key=" + pki_.server_key_file}),
              "");
  }
  test::TempDir dir_;
  test::TestPki pki_;
  NodeServer server_;
};

TEST_F(WebSocketTlsTest, WssEchoWithTheTestCa) {
  auto ws =
      WebSocket::Connect(server_.url("/echo", "wss"), {.tls = {.ca_file = pki_.ca_cert_file}});
  ASSERT_OK(ws);
  ASSERT_OK((*ws)->SendText("over tls"));
  ASSERT_OK_AND_ASSIGN(WebSocketMessage m, (*ws)->Receive(kWait));
  EXPECT_EQ(m.data, "over tls");
  EXPECT_OK((*ws)->Close(1001, "going"));
  EXPECT_EQ(server_.NextClose(), "1001 going");
}

TEST_F(WebSocketTlsTest, WssWithAnotherCaIsRejected) {
  auto ws = WebSocket::Connect(server_.url("/echo", "wss"),
                               {.tls = {.ca_file = pki_.other_ca_cert_file}});
  EXPECT_THAT(ws, StatusIs(StatusCode::kPermissionDenied));
}

// Misbehaving servers (tests/support/raw_tcp_server.h): each failure has its own clear error.
class WebSocketFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    provider_ =
        trace::TracerProvider::Create({.processor = std::make_unique<trace::SimpleSpanProcessor>(
                                           std::make_unique<trace::InMemorySpanExporter>(store_))});
    trace::SetTracerProvider(provider_);
  }
  void TearDown() override { trace::SetTracerProvider(nullptr); }
  Result<std::unique_ptr<WebSocket>> ConnectTo(test::RawTcpServer::Behavior behavior,
                                               WebSocketOptions options = {}) {
    auto server = test::RawTcpServer::Start(std::move(behavior));
    if (!server.ok()) return server.status();
    server_ = std::move(*server);
    return WebSocket::Connect("ws://127.0.0.1:" + std::to_string(server_->port()) + "/x",
                              std::move(options));
  }
  std::shared_ptr<trace::InMemorySpanStore> store_ = std::make_shared<trace::InMemorySpanStore>();
  std::shared_ptr<trace::TracerProvider> provider_;
  std::unique_ptr<test::RawTcpServer> server_;
};

TEST_F(WebSocketFaultTest, SilentServerTimesOut) {
  auto ws = ConnectTo(
      [](int fd) {
        char buf[1024];
        while (read(fd, buf, sizeof buf) > 0) {
        }  // never answers; returns when the client gives up
      },
      {.connect_timeout = 300ms});
  EXPECT_THAT(ws, StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("timed out")));
  auto spans = store_->Spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(AttrOf(spans[0], "error.type"), Str("connect_timeout"));
  EXPECT_EQ(ErrorKindOf(ws.status()), ErrorKind::kConnectTimeout);
}

TEST_F(WebSocketFaultTest, OkInsteadOfSwitchingProtocolsIsRefused) {
  auto ws = ConnectTo(
      test::RawTcpServer::ReplyAfterRequest("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"));
  EXPECT_THAT(ws, StatusIs(StatusCode::kUnavailable, HasSubstr("HTTP 200")));
  EXPECT_EQ(WebSocketErrorKindOf(ws.status()), WebSocketErrorKind::kUpgradeRefused);
}

TEST_F(WebSocketFaultTest, WrongAcceptKeyIsAProtocolError) {
  auto ws = ConnectTo(test::RawTcpServer::ReplyAfterRequest(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: d3Jvbmc=\r\n\r\n"));
  EXPECT_THAT(ws, StatusIs(StatusCode::kInternal, HasSubstr("protocol")));
  EXPECT_EQ(WebSocketErrorKindOf(ws.status()), WebSocketErrorKind::kProtocol);
}

TEST_F(WebSocketFaultTest, GarbageAndEarlyCloseFail) {
  EXPECT_FALSE(ConnectTo(test::RawTcpServer::ReplyAfterRequest("NOT HTTP AT ALL\r\n\r\n")).ok());
  EXPECT_THAT(ConnectTo(test::RawTcpServer::CloseAfterRequest()),
              StatusIs(StatusCode::kUnavailable));
}

// websocketd (Debian) runs a program per connection: each text message is a line on its stdin,
// each line it prints a message.
class WebSocketdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (system("command -v websocketd > /dev/null 2>&1") != 0) {
      GTEST_SKIP() << "websocketd is not installed";
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    port_ = ntohs(addr.sin_port);
    ASSERT_TRUE(child_.Start({"websocketd", "--port=" + std::to_string(port_),
                              "--address=127.0.0.1", "--loglevel=error", "cat"}));
    // Ready once it accepts TCP connections.
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    bool up = false;
    while (!up && std::chrono::steady_clock::now() < deadline) {
      int s = socket(AF_INET, SOCK_STREAM, 0);
      up = connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      close(s);
      if (!up) std::this_thread::sleep_for(20ms);
    }
    ASSERT_TRUE(up) << "websocketd did not start";
  }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/"; }
  Child child_;
  int port_ = 0;
};

TEST_F(WebSocketdTest, EchoThroughCatAndPing) {
  std::mutex mu;
  std::condition_variable cv;
  std::string pong;
  auto ws = WebSocket::Connect(url(), {.on_pong = [&](std::string_view p) {
                                 std::lock_guard lock(mu);
                                 pong = std::string(p);
                                 cv.notify_all();
                               }});
  ASSERT_OK(ws);
  for (const char* line : {"first line", "second line"}) {
    ASSERT_OK((*ws)->SendText(line));  // websocketd adds the newline
    ASSERT_OK_AND_ASSIGN(WebSocketMessage m, (*ws)->Receive(kWait));
    EXPECT_EQ(m.type, WebSocketMessage::Type::kText);
    EXPECT_EQ(m.data, line);
  }
  ASSERT_OK((*ws)->Ping("p1"));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kWait, [&] { return !pong.empty(); }));
    EXPECT_EQ(pong, "p1");
  }
  EXPECT_OK((*ws)->Close(1000, "done"));
}

}  // namespace
}  // namespace otlp::http
