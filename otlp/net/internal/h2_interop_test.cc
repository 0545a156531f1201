// The HTTP/2 sessions against independent implementations on loopback: our client against
// nghttpd (h2c with prior knowledge; Debian nghttp2-server) and nginx (h2 over TLS with the
// test CA), our server against the nghttp command-line client (Debian nghttp2-client), h2c and
// TLS. Each test is skipped when its tool is not installed.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/strand.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "otlp/net/internal/h2_client.h"
#include "otlp/net/internal/runtime_impl.h"
#include "otlp/net/internal/tls.h"
#include "otlp/net/runtime.h"
#include "tests/support/h2_test_server.h"
#include "tests/support/raw_tcp_server.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

extern char** environ;

namespace otlp::net::internal {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;

constexpr auto kWait = std::chrono::seconds(60);

std::string FindTool(const std::string& name) {
  for (std::string dir : {"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"}) {
    const std::string path = dir + "/" + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

// A child process with stdout and stderr going to a file.
class Child {
 public:
  Child() = default;
  ~Child() { Stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  Status Start(std::vector<std::string> args, const std::string& output_file) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawn(&pid_, args[0].c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      return InternalError("cannot start " + args[0]);
    }
    return Status::Ok();
  }

  // True while running.
  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      exit_status_ = status;
      return false;
    }
    return true;
  }

  // Waits for the exit (kill after `limit`); the exit code, or -1.
  int Wait(std::chrono::seconds limit) {
    const auto end = Clock::now() + limit;
    while (Running()) {
      if (Clock::now() > end) {
        Stop();
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return WIFEXITED(exit_status_) ? WEXITSTATUS(exit_status_) : -1;
  }

  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto end = Clock::now() + std::chrono::seconds(10);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > end) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int exit_status_ = 0;
};

// Waits until 127.0.0.1:port accepts a connection (or the child exits).
bool WaitListening(Child& child, uint16_t port) {
  const auto end = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < end) {
    if (!child.Running()) return false;
    auto fd = test::RawConnect(port);
    if (fd.ok()) {
      ::close(*fd);
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 777;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245 + 12345;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

class H2InteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok()) << dir_.error();
    ASSERT_EQ(::mkdir(dir_.Join("www").c_str(), 0755), 0);
  }

  std::shared_ptr<H2ClientSession> Connect(uint16_t port,
                                           std::shared_ptr<const TlsContext> tls = nullptr) {
    auto promise = std::make_shared<std::promise<Result<std::shared_ptr<H2ClientSession>>>>();
    H2ClientSession::Options options;
    options.max_response_body = 64 * 1024 * 1024;
    H2ClientSession::Connect(asio::make_strand(IoContext(*runtime_)), std::move(tls), "127.0.0.1",
                             port, Clock::now() + kWait, options,
                             [promise](Result<std::shared_ptr<H2ClientSession>> r) {
                               promise->set_value(std::move(r));
                             });
    auto future = promise->get_future();
    if (future.wait_for(kWait) != std::future_status::ready) {
      ADD_FAILURE() << "connect did not complete";
      return nullptr;
    }
    auto result = future.get();
    EXPECT_OK(result);
    return result.ok() ? *result : nullptr;
  }

  static std::future<Result<HttpResponse>> SubmitAsync(H2ClientSession& session,
                                                       HttpRequest request) {
    auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
    session.Submit(std::move(request), Clock::now() + kWait,
                   [promise](Result<HttpResponse> r) { promise->set_value(std::move(r)); });
    return promise->get_future();
  }

  static Result<HttpResponse> Await(std::future<Result<HttpResponse>> future) {
    if (future.wait_for(kWait) != std::future_status::ready) {
      return Status(StatusCode::kDeadlineExceeded, "test: the request never completed");
    }
    return future.get();
  }

  // Runs the nghttp client to completion; its output.
  std::string RunNghttp(std::vector<std::string> args) {
    const std::string nghttp = FindTool("nghttp");
    args.insert(args.begin(), nghttp);
    Child child;
    EXPECT_OK(child.Start(args, dir_.Join("nghttp.out")));
    EXPECT_EQ(child.Wait(std::chrono::seconds(60)), 0) << dir_.ReadFile("nghttp.out");
    return dir_.ReadFile("nghttp.out");
  }

  test::TempDir dir_{"otlp-h2-interop-"};
  std::shared_ptr<Runtime> runtime_ = Runtime::Create();
};

// --- our client against nghttpd (h2c, prior knowledge) ---

class NghttpdTest : public H2InteropTest {
 protected:
  void SetUp() override {
    H2InteropTest::SetUp();
    nghttpd_ = FindTool("nghttpd");
    if (nghttpd_.empty()) GTEST_SKIP() << "nghttpd is not installed (Debian: nghttp2-server)";
    ASSERT_OK(dir_.WriteFile("www/hello.txt", "hello from nghttpd\n"));
    ASSERT_OK_AND_ASSIGN(port_, test::PickUnusedPort());
    ASSERT_OK(server_.Start({nghttpd_, "--no-tls", "-v", "--echo-upload", "-a", "127.0.0.1", "-d",
                             dir_.Join("www"), std::to_string(port_)},
                            dir_.Join("nghttpd.log")));
    ASSERT_TRUE(WaitListening(server_, port_)) << dir_.ReadFile("nghttpd.log");
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // The connection ids nghttpd logged ("[id=N]"), without the readiness probe's (id 1).
  std::set<int> LoggedConnections() {
    std::set<int> ids;
    const std::string log = dir_.ReadFile("nghttpd.log");
    const std::regex id(R"(\[id=(\d+)\])");
    for (auto it = std::sregex_iterator(log.begin(), log.end(), id); it != std::sregex_iterator();
         ++it) {
      ids.insert(std::stoi((*it)[1].str()));
    }
    ids.erase(1);
    return ids;
  }

  std::string nghttpd_;
  uint16_t port_ = 0;
  Child server_;
};

TEST_F(NghttpdTest, GetsAFileAndA404) {
  auto session = Connect(port_);
  ASSERT_NE(session, nullptr);
  auto r = Await(SubmitAsync(*session, {.url = Url("/hello.txt")}));
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello from nghttpd\n");
  EXPECT_EQ(r->Header("content-length"), "19");
  EXPECT_THAT(std::string(r->Header("server").value_or("")), HasSubstr("nghttpd"));
  auto missing = Await(SubmitAsync(*session, {.url = Url("/missing")}));
  ASSERT_OK(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(NghttpdTest, EchoesAnUpload) {
  auto session = Connect(port_);
  ASSERT_NE(session, nullptr);
  const std::string body = Pattern(3 * 1024 * 1024);
  auto r = Await(SubmitAsync(*session, {.method = "POST", .url = Url("/echo"), .body = body}));
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), body.size());
  EXPECT_TRUE(r->body == body);
}

TEST_F(NghttpdTest, HundredConcurrentRequestsOnOneConnection) {
  auto session = Connect(port_);
  ASSERT_NE(session, nullptr);
  std::vector<std::future<Result<HttpResponse>>> futures;
  for (int i = 0; i < 100; ++i) futures.push_back(SubmitAsync(*session, {.url = Url("/hello.txt")}));
  for (auto& f : futures) {
    auto r = Await(std::move(f));
    ASSERT_OK(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello from nghttpd\n");
  }
  EXPECT_EQ(LoggedConnections().size(), 1u) << "nghttpd saw more than one connection";
}

TEST_F(NghttpdTest, LargeDownloadThroughFlowControl) {
  const std::string big = Pattern(32 * 1024 * 1024);
  ASSERT_OK(dir_.WriteFile("www/big.bin", big));
  auto session = Connect(port_);
  ASSERT_NE(session, nullptr);
  auto r = Await(SubmitAsync(*session, {.url = Url("/big.bin")}));
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), big.size());
  EXPECT_TRUE(r->body == big);
}

// --- our client against nginx (h2 over TLS) ---

std::string NginxConfig(const std::string& dir, uint16_t port) {
  const std::string p = std::to_string(port);
  return "daemon off;\nmaster_process off;\nworker_processes 1;\n"
         "error_log " + dir + "/error.log warn;\npid " + dir + "/nginx.pid;\n"
         "events { worker_connections 256; }\n"
         "http {\n"
         "  log_format conn '$connection $status $request_uri';\n"
         "  access_log " + dir + "/access.log conn;\n"
         "  client_body_temp_path " + dir + "/client_body;\n"
         "  proxy_temp_path " + dir + "/proxy;\n  fastcgi_temp_path " + dir + "/fastcgi;\n"
         "  uwsgi_temp_path " + dir + "/uwsgi;\n  scgi_temp_path " + dir + "/scgi;\n"
         "  server {\n"
         "    listen 127.0.0.1:" + p + " ssl http2;\n"
         "    ssl_certificate " + dir + "/server.pem;\n"
         "    ssl_certificate_key " + dir + "/server.key;\n"
         "    root " + dir + "/www;\n"
         "    location = /hello { default_type text/plain; return 200 \"hello from nginx\\n\"; }\n"
         "    location = /trailer {\n"
         "      default_type text/plain;\n"
         "      add_trailer x-checksum abc123 always;\n"
         "    }\n"
         "  }\n"
         "}\n";
}

class NginxH2Test : public H2InteropTest {
 protected:
  void SetUp() override {
    H2InteropTest::SetUp();
    nginx_ = FindTool("nginx");
    if (nginx_.empty()) GTEST_SKIP() << "nginx is not installed (Debian: nginx)";
    ASSERT_OK_AND_ASSIGN(pki_, test::GenerateTestPki(dir_.path()));
    ASSERT_OK(dir_.WriteFile("www/trailer", "body with a trailer\n"));
    ASSERT_OK_AND_ASSIGN(port_, test::PickUnusedPort());
    ASSERT_OK(dir_.WriteFile("nginx.conf", NginxConfig(dir_.path(), port_)));
    ASSERT_OK(server_.Start({nginx_, "-c", dir_.Join("nginx.conf"), "-p", dir_.path() + "/", "-e",
                             dir_.Join("error.log")},
                            dir_.Join("stderr.log")));
    ASSERT_TRUE(WaitListening(server_, port_))
        << dir_.ReadFile("stderr.log") << dir_.ReadFile("error.log");
    ASSERT_OK_AND_ASSIGN(tls_, TlsContext::Client({.ca_file = pki_.ca_cert_file,
                                                   .alpn_protocols = {"h2", "http/1.1"}}));
  }

  std::string Url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(port_) + path;
  }

  // nginx's connection serial numbers of the logged requests.
  std::set<std::string> LoggedConnections(size_t* requests) {
    std::set<std::string> ids;
    const std::string log = dir_.ReadFile("access.log");
    size_t start = 0;
    *requests = 0;
    while (start < log.size()) {
      size_t end = log.find('\n', start);
      if (end == std::string::npos) end = log.size();
      const std::string line = log.substr(start, end - start);
      if (!line.empty()) {
        ids.insert(line.substr(0, line.find(' ')));
        ++*requests;
      }
      start = end + 1;
    }
    return ids;
  }

  std::string nginx_;
  test::TestPki pki_;
  uint16_t port_ = 0;
  Child server_;
  std::shared_ptr<TlsContext> tls_;
};

TEST_F(NginxH2Test, GetOverTlsWithAlpn) {
  auto session = Connect(port_, tls_);
  ASSERT_NE(session, nullptr);
  EXPECT_TRUE(session->is_tls());
  auto r = Await(SubmitAsync(*session, {.url = Url("/hello")}));
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello from nginx\n");
  EXPECT_THAT(std::string(r->Header("server").value_or("")), HasSubstr("nginx"));
}

TEST_F(NginxH2Test, TrailersFromNginx) {
  auto session = Connect(port_, tls_);
  ASSERT_NE(session, nullptr);
  auto r = Await(SubmitAsync(*session, {.url = Url("/trailer")}));
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "body with a trailer\n");
  EXPECT_EQ(r->Trailer("x-checksum"), "abc123");
  EXPECT_FALSE(r->headers.Contains("x-checksum"));
}

TEST_F(NginxH2Test, HundredConcurrentRequestsOnOneConnection) {
  auto session = Connect(port_, tls_);
  ASSERT_NE(session, nullptr);
  std::vector<std::future<Result<HttpResponse>>> futures;
  for (int i = 0; i < 100; ++i) {
    futures.push_back(SubmitAsync(*session, {.url = Url("/hello?i=" + std::to_string(i))}));
  }
  for (auto& f : futures) {
    auto r = Await(std::move(f));
    ASSERT_OK(r);
    EXPECT_EQ(r->body, "hello from nginx\n");
  }
  session->Close();
  size_t requests = 0;
  // nginx writes the log line as each request ends; all 100 are logged by now.
  const auto end = Clock::now() + kWait;
  std::set<std::string> ids;
  do {
    ids = LoggedConnections(&requests);
  } while (requests < 100 && Clock::now() < end);
  EXPECT_EQ(requests, 100u);
  EXPECT_EQ(ids.size(), 1u) << dir_.ReadFile("access.log");
}

TEST_F(NginxH2Test, LargeDownloadOverTls) {
  const std::string big = Pattern(24 * 1024 * 1024);
  ASSERT_OK(dir_.WriteFile("www/big.bin", big));
  auto session = Connect(port_, tls_);
  ASSERT_NE(session, nullptr);
  auto r = Await(SubmitAsync(*session, {.url = Url("/big.bin")}));
  ASSERT_OK(r);
  EXPECT_EQ(r->body.size(), big.size());
  EXPECT_TRUE(r->body == big);
}

// --- the nghttp client against our server ---

class NghttpClientTest : public H2InteropTest {
 protected:
  void SetUp() override {
    H2InteropTest::SetUp();
    if (FindTool("nghttp").empty()) GTEST_SKIP() << "nghttp is not installed (Debian: nghttp2-client)";
  }

  void StartServer(bool tls) {
    test::H2TestServer::Options options;
    if (tls) {
      ASSERT_OK_AND_ASSIGN(auto pki, test::GenerateTestPki(dir_.path()));
      options.tls = true;
      options.tls_options = {.certificate_file = pki.server_cert_file,
                             .key_file = pki.server_key_file};
    }
    auto server = test::H2TestServer::Start(
        runtime_, options, [](H2ServerRequest req, H2Reply reply) {
          reply.Send({.status = 200,
                      .headers = {{"content-type", "text/plain"}},
                      .body = req.method + " " + req.scheme + " " + req.path + " x-test=" +
                              std::string(req.headers.Find("x-test").value_or("-")) +
                              " body=" + std::to_string(req.body.size()) + "\n",
                      .trailers = {{"grpc-status", "0"}}});
        });
    ASSERT_OK(server);
    server_ = std::move(*server);
  }

  std::string Url(const std::string& path, bool tls = false) const {
    return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(server_->port()) +
           path;
  }

  std::unique_ptr<test::H2TestServer> server_;
};

TEST_F(NghttpClientTest, GetWithTrailersOverH2c) {
  StartServer(false);
  const std::string out = RunNghttp({"-v", "-H", "x-test: cli", Url("/path?q=1")});
  EXPECT_THAT(out, HasSubstr("GET http /path?q=1 x-test=cli body=0"));
  EXPECT_THAT(out, HasSubstr("grpc-status: 0"));  // the trailing HEADERS frame, as nghttp logs it
  EXPECT_EQ(server_->connections(), 1u);
}

TEST_F(NghttpClientTest, UploadAndManyStreams) {
  StartServer(false);
  ASSERT_OK(dir_.WriteFile("upload.bin", Pattern(2 * 1024 * 1024)));
  const std::string out = RunNghttp({"-d", dir_.Join("upload.bin"), Url("/up")});
  EXPECT_THAT(out, HasSubstr("POST http /up x-test=- body=2097152"));
  const std::string many = RunNghttp({"-m", "50", Url("/many")});
  size_t count = 0;
  for (size_t pos = 0; (pos = many.find("GET http /many", pos)) != std::string::npos; ++pos) ++count;
  EXPECT_EQ(count, 50u);
  EXPECT_EQ(server_->connections(), 2u);  // one per nghttp run
  auto sessions = server_->sessions();
  ASSERT_EQ(sessions.size(), 2u);
  EXPECT_EQ(sessions[1]->requests_received(), 50u);
}

TEST_F(NghttpClientTest, GetOverTls) {
  StartServer(true);
  const std::string out = RunNghttp({"-v", Url("/secure", true)});
  EXPECT_THAT(out, HasSubstr("GET https /secure"));
  EXPECT_THAT(out, HasSubstr("h2"));  // the negotiated protocol
}

}  // namespace
}  // namespace otlp::net::internal
