// The client against a real server: nginx (Debian package `nginx`) on 127.0.0.1, started by the
// fixture with a generated configuration in a temporary directory and stopped afterwards.
// Skipped when nginx is not installed.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "otlp/net/http_client.h"
#include "tests/support/raw_tcp_server.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

extern char** environ;

namespace otlp::net {
namespace {

using ::testing::HasSubstr;

std::string FindNginx() {
  std::vector<std::string> candidates = {"/usr/sbin/nginx"};
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    size_t start = 0;
    while (start <= p.size()) {
      const size_t end = p.find(':', start);
      const std::string dir = p.substr(start, end == std::string::npos ? end : end - start);
      if (!dir.empty()) candidates.push_back(dir + "/nginx");
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  for (const auto& candidate : candidates) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string Config(const std::string& dir, uint16_t port, uint16_t tls_port, uint16_t h2_port,
                   uint16_t tls12_port) {
  return "daemon off;\n"
         "master_process off;\n"
         "worker_processes 1;\n"
         "error_log " +
         dir +
         "/error.log warn;\n"
         "pid " +
         dir +
         "/nginx.pid;\n"
         "events { worker_connections 64; }\n"
         "http {\n"
         "  access_log off;\n"
         "  client_body_temp_path " +
         dir +
         "/client_body;\n"
         "  proxy_temp_path " +
         dir +
         "/proxy;\n"
         "  fastcgi_temp_path " +
         dir +
         "/fastcgi;\n"
         "  uwsgi_temp_path " +
         dir +
         "/uwsgi;\n"
         "  scgi_temp_path " +
         dir +
         "/scgi;\n"
         "  keepalive_requests 1000;\n"
         "  server {\n"
         "    listen 127.0.0.1:" +
         std::to_string(port) +
         ";\n"
         "    listen 127.0.0.1:" +
         std::to_string(tls_port) +
         " ssl;\n"
         "    listen 127.0.0.1:" +
         std::to_string(h2_port) +
         " ssl http2;\n"
         "    ssl_certificate " +
         dir +
         "/server.pem;\n"
         "    ssl_certificate_key " +
         dir +
         "/server.key;\n"
         "    root " +
         dir +
         "/www;\n"
         "    client_max_body_size 16m;\n"
         "    location = /hello { default_type text/plain; return 200 \"hello from nginx\\n\"; }\n"
         "    location = /v1/traces {\n"
         "      default_type text/plain;\n"
         "      return 200 \"$request_method len=$content_length type=$content_type\";\n"
         "    }\n"
         "    location = /limited { keepalive_requests 5; return 204; }\n"
         "  }\n"
         "  server {\n"
         "    listen 127.0.0.1:" +
         std::to_string(tls12_port) +
         " ssl;\n"
         "    ssl_protocols TLSv1.2;\n"
         "    ssl_certificate " +
         dir +
         "/server.pem;\n"
         "    ssl_certificate_key " +
         dir +
         "/server.key;\n"
         "    location = /hello { default_type text/plain; return 200 \"$ssl_protocol\"; }\n"
         "  }\n"
         "}\n";
}

class NginxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nginx_ = FindNginx();
    if (nginx_.empty()) GTEST_SKIP() << "nginx is not installed (Debian package: nginx)";
    ASSERT_TRUE(dir_.ok()) << dir_.error();
    ASSERT_OK_AND_ASSIGN(pki_, test::GenerateTestPki(dir_.path()));
    ASSERT_EQ(::mkdir(dir_.Join("www").c_str(), 0755), 0);
    big_file_.resize(3 * 1024 * 1024);
    for (size_t i = 0; i < big_file_.size(); ++i) big_file_[i] = static_cast<char>('a' + i % 26);
    ASSERT_OK(dir_.WriteFile("www/big.bin", big_file_));

    ASSERT_OK_AND_ASSIGN(std::vector<uint16_t> ports, test::PickUnusedPorts(4));
    port_ = ports[0];
    tls_port_ = ports[1];
    h2_port_ = ports[2];
    tls12_port_ = ports[3];
    ASSERT_OK(
        dir_.WriteFile("nginx.conf", Config(dir_.path(), port_, tls_port_, h2_port_, tls12_port_)));
    StartNginx();
  }

  void TearDown() override {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }

  void StartNginx() {
    const std::string conf = dir_.Join("nginx.conf");
    const std::string error_log = dir_.Join("error.log");
    const std::string prefix = dir_.path() + "/";
    std::vector<std::string> args = {nginx_, "-c", conf, "-p", prefix, "-e", error_log};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string out = dir_.Join("stderr.log");
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawn(&pid_, nginx_.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ASSERT_EQ(rc, 0) << "cannot start " << nginx_;

    // Ready once both ports accept connections; fail fast if nginx exits.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (uint16_t p : {port_, tls_port_, h2_port_, tls12_port_}) {
      for (;;) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          FAIL() << "nginx exited during startup:\n"
                 << dir_.ReadFile("stderr.log") << dir_.ReadFile("error.log");
        }
        auto fd = test::RawConnect(p);
        if (fd.ok()) {
          ::close(*fd);
          break;
        }
        ASSERT_LT(std::chrono::steady_clock::now(), deadline)
            << "nginx did not listen on " << p << ":\n"
            << dir_.ReadFile("error.log");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }

  std::unique_ptr<HttpClient> MakeClient(HttpClient::Options options = {}) {
    auto client = HttpClient::Create(runtime_, std::move(options));
    EXPECT_OK(client);
    return client.ok() ? std::move(*client) : nullptr;
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  std::string nginx_;
  test::TempDir dir_{"otlp-nginx-test-"};
  test::TestPki pki_;
  std::string big_file_;
  uint16_t port_ = 0;
  uint16_t tls_port_ = 0;
  uint16_t h2_port_ = 0;  // TLS with HTTP/2 (ALPN h2 and http/1.1); tls_port_ offers only http/1.1
  uint16_t tls12_port_ = 0;  // TLS 1.2 only; /hello answers the protocol version
  pid_t pid_ = -1;
  std::shared_ptr<Runtime> runtime_ = Runtime::Create();
};

TEST_F(NginxTest, GetWithKeepAlive) {
  auto client = MakeClient();
  ASSERT_TRUE(client);
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(auto resp, client->Send({.url = Url("/hello")}));
    EXPECT_EQ(resp.status, 200);
    EXPECT_EQ(resp.body, "hello from nginx\n");
    EXPECT_THAT(std::string(resp.Header("Server").value_or("")), HasSubstr("nginx"));
  }
  EXPECT_EQ(client->connections_opened(), 1u);
}

TEST_F(NginxTest, PostLargeBody) {
  auto client = MakeClient();
  ASSERT_TRUE(client);
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(auto resp,
                         client->Send({.method = "POST",
                                       .url = Url("/v1/traces"),
                                       .headers = {{"Content-Type", "application/x-protobuf"}},
                                       .body = std::string(1'500'000, 'p')}));
    EXPECT_EQ(resp.status, 200);
    EXPECT_EQ(resp.body, "POST len=1500000 type=application/x-protobuf");
  }
  EXPECT_EQ(client->connections_opened(), 1u);
}

TEST_F(NginxTest, DownloadStaticFileAndNotFound) {
  auto client = MakeClient();
  ASSERT_TRUE(client);
  ASSERT_OK_AND_ASSIGN(auto resp, client->Send({.url = Url("/big.bin")}));
  EXPECT_EQ(resp.status, 200);
  EXPECT_TRUE(resp.body == big_file_) << "got " << resp.body.size() << " bytes";
  ASSERT_OK_AND_ASSIGN(auto missing, client->Send({.url = Url("/missing")}));
  EXPECT_EQ(missing.status, 404);
  auto limited = MakeClient({.max_response_body = 1024 * 1024});
  ASSERT_TRUE(limited);
  auto too_big = limited->Send({.url = Url("/big.bin")});
  EXPECT_THAT(too_big, StatusIs(StatusCode::kResourceExhausted));
}

TEST_F(NginxTest, ServerEndingKeepAliveOpensNewConnections) {
  auto client = MakeClient();
  ASSERT_TRUE(client);
  for (int i = 0; i < 12; ++i) {
    ASSERT_OK_AND_ASSIGN(auto resp, client->Send({.url = Url("/limited")}));
    EXPECT_EQ(resp.status, 204);
  }
  // nginx answers the 5th request on each connection with "Connection: close".
  EXPECT_EQ(client->connections_opened(), 3u);
}

TEST_F(NginxTest, Https) {
  auto client = MakeClient({.tls = {.ca_file = pki_.ca_cert_file}});
  ASSERT_TRUE(client);
  const std::string url = "https://localhost:" + std::to_string(tls_port_) + "/hello";
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(auto resp, client->Send({.url = url}));
    EXPECT_EQ(resp.body, "hello from nginx\n");
  }
  EXPECT_EQ(client->connections_opened(), 1u);
  auto untrusted = MakeClient();
  ASSERT_TRUE(untrusted);
  auto rejected = untrusted->Send({.url = url});
  EXPECT_THAT(rejected, StatusIs(StatusCode::kPermissionDenied));
}

TEST_F(NginxTest, MinimumTlsVersionAboveTheServersFailsTheHandshakeSayingSo) {
  const std::string url = "https://localhost:" + std::to_string(tls12_port_) + "/hello";
  auto tls12 = MakeClient({.tls = {.ca_file = pki_.ca_cert_file}});
  auto tls13 =
      MakeClient({.tls = {.ca_file = pki_.ca_cert_file, .min_version = TlsVersion::kTls13}});
  ASSERT_TRUE(tls12 && tls13);
  ASSERT_OK_AND_ASSIGN(auto resp, tls12->Send({.url = url}));
  EXPECT_EQ(resp.body, "TLSv1.2");
  auto refused = tls13->Send({.url = url});
  EXPECT_THAT(refused, StatusIs(StatusCode::kUnavailable,
                                ::testing::AllOf(HasSubstr("no TLS protocol version"),
                                                 HasSubstr("requires TLS 1.3"))));
  EXPECT_EQ(HttpErrorKindOf(refused.status()), HttpErrorKind::kTlsHandshake);
  EXPECT_FALSE(refused.status().retryable());
}

// A file far larger than the client's body limit, streamed through a sink over plain HTTP and
// TLS: it arrives whole, in many pieces, and is never gathered into the response.
TEST_F(NginxTest, StreamedDownloadOfALargeFile) {
  constexpr size_t kBlock = 26 * 40330;  // whole patterns, ~1 MB
  constexpr size_t kBlocks = 128;
  {
    std::ofstream out(dir_.Join("www/huge.bin"), std::ios::binary);
    const std::string block(big_file_.data(), kBlock);
    for (size_t i = 0; i < kBlocks; ++i) out.write(block.data(), block.size());
    ASSERT_TRUE(out.good());
  }
  auto client = MakeClient({.tls = {.ca_file = pki_.ca_cert_file}, .max_response_body = 4096});
  ASSERT_TRUE(client);
  for (const std::string& url :
       {Url("/huge.bin"), "https://localhost:" + std::to_string(tls_port_) + "/huge.bin"}) {
    uint64_t bytes = 0;
    size_t chunks = 0;
    bool pattern_ok = true;
    HttpProgress last;
    ASSERT_OK_AND_ASSIGN(
        HttpResponse resp,
        client->Send({.url = url,
                      .timeout = std::chrono::seconds(120),
                      .on_body =
                          [&](std::string_view chunk) {
                            if (!chunk.empty() && chunk[0] != static_cast<char>('a' + bytes % 26)) {
                              pattern_ok = false;
                            }
                            bytes += chunk.size();
                            ++chunks;
                            return Status::Ok();
                          },
                      .on_progress = [&](const HttpProgress& p) { last = p; }}));
    EXPECT_EQ(resp.status, 200);
    EXPECT_TRUE(resp.body.empty());
    EXPECT_EQ(bytes, kBlock * kBlocks);
    EXPECT_TRUE(pattern_ok);
    EXPECT_GT(chunks, 100u);
    EXPECT_EQ(last.receive_total, kBlock * kBlocks);
  }
}

TEST_F(NginxTest, StreamedChunkedUpload) {
  auto client = MakeClient();
  ASSERT_TRUE(client);
  size_t left = 2'000'000;
  ASSERT_OK_AND_ASSIGN(
      HttpResponse resp,
      client->Send({.method = "POST",
                    .url = Url("/v1/traces"),
                    .headers = {{"Content-Type", "application/octet-stream"}},
                    .body_source = [&](char* buffer, size_t capacity) -> Result<size_t> {
                      const size_t n = std::min(left, capacity);
                      std::memset(buffer, 'u', n);
                      left -= n;
                      return n;
                    }}));
  EXPECT_EQ(resp.status, 200);
  EXPECT_THAT(resp.body, HasSubstr("type=application/octet-stream"));
  EXPECT_EQ(left, 0u);
  // nginx found the end of the chunked body: the connection carries the next request.
  ASSERT_OK_AND_ASSIGN(auto next, client->Send({.url = Url("/hello")}));
  EXPECT_EQ(next.body, "hello from nginx\n");
  EXPECT_TRUE(next.connection_reused);
  EXPECT_EQ(client->connections_opened(), 1u);
}

// nginx takes an absolute-form request as a proxy would receive it.
TEST_F(NginxTest, AbsoluteFormThroughAProxyUrl) {
  auto client = MakeClient();
  ASSERT_TRUE(client);
  ASSERT_OK_AND_ASSIGN(
      auto resp,
      client->Send({.url = Url("/hello"), .proxy = "http://127.0.0.1:" + std::to_string(port_)}));
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, "hello from nginx\n");
}

}  // namespace
}  // namespace otlp::net

namespace otlp::net {
namespace {

// --- HTTP/2 over TLS (ALPN) ---

HttpClient::Options PreferHttp2(const test::TestPki& pki) {
  HttpClient::Options options;
  options.tls.ca_file = pki.ca_cert_file;
  options.http_version = HttpVersionPolicy::kPreferHttp2;
  return options;
}

TEST_F(NginxTest, AlpnChoosesHttp2AndConcurrentRequestsShareOneConnection) {
  auto client = MakeClient(PreferHttp2(pki_));
  ASSERT_TRUE(client);
  const std::string url = "https://127.0.0.1:" + std::to_string(h2_port_) + "/hello";
  ASSERT_OK_AND_ASSIGN(auto first, client->Send({.url = url}));
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.version, "2");
  EXPECT_EQ(first.body, "hello from nginx\n");
  EXPECT_FALSE(first.connection_reused);
  EXPECT_GT(first.timings.tls.count(), 0);
  EXPECT_GT(first.timings.first_byte.count(), 0);

  constexpr int kRequests = 60;
  std::vector<std::future<Result<HttpResponse>>> futures;
  for (int i = 0; i < kRequests; ++i) {
    auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
    futures.push_back(promise->get_future());
    client->SendAsync({.url = url},
                      [promise](Result<HttpResponse> r) { promise->set_value(std::move(r)); });
  }
  for (auto& f : futures) {
    ASSERT_OK_AND_ASSIGN(auto r, f.get());
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.version, "2");
    EXPECT_TRUE(r.connection_reused);
  }
  EXPECT_EQ(client->connections_opened(), 1u);
}

TEST_F(NginxTest, AlpnFallsBackToHttp11WhenTheServerOffersOnlyThat) {
  auto client = MakeClient(PreferHttp2(pki_));
  ASSERT_TRUE(client);
  const std::string url = "https://127.0.0.1:" + std::to_string(tls_port_) + "/hello";
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(auto r, client->Send({.url = url}));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.version, "1.1");
    EXPECT_EQ(r.body, "hello from nginx\n");
  }
  EXPECT_EQ(client->connections_opened(), 1u);  // keep-alive as with HTTP/1.1 only
}

TEST_F(NginxTest, Http1OnlyRequestToAnHttp2ServerUsesHttp11) {
  auto client = MakeClient(PreferHttp2(pki_));
  ASSERT_TRUE(client);
  const std::string url = "https://127.0.0.1:" + std::to_string(h2_port_) + "/hello";
  ASSERT_OK_AND_ASSIGN(auto r,
                       client->Send({.url = url, .http_version = HttpVersionPolicy::kHttp1Only}));
  EXPECT_EQ(r.version, "1.1");
  ASSERT_OK_AND_ASSIGN(auto r2, client->Send({.url = url}));
  EXPECT_EQ(r2.version, "2");
}

TEST_F(NginxTest, StreamedDownloadAndUploadOverHttp2) {
  auto client = MakeClient(PreferHttp2(pki_));
  ASSERT_TRUE(client);
  const std::string base = "https://127.0.0.1:" + std::to_string(h2_port_);
  std::string got;
  size_t chunks = 0;
  ASSERT_OK_AND_ASSIGN(
      auto r, client->Send({.url = base + "/big.bin", .on_body = [&](std::string_view chunk) {
                              got.append(chunk);
                              ++chunks;
                              return Status::Ok();
                            }}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.version, "2");
  EXPECT_TRUE(r.body.empty());
  EXPECT_GT(chunks, 1u);
  EXPECT_TRUE(got == big_file_);

  const std::string payload(300'000, 'u');
  size_t offset = 0;
  ASSERT_OK_AND_ASSIGN(auto up,
                       client->Send({.method = "POST",
                                     .url = base + "/v1/traces",
                                     .headers = {{"Content-Type", "application/x-protobuf"}},
                                     .body_source = [&](char* buf, size_t cap) -> Result<size_t> {
                                       const size_t n = std::min(cap, payload.size() - offset);
                                       std::memcpy(buf, payload.data() + offset, n);
                                       offset += n;
                                       return n;
                                     }}));
  EXPECT_EQ(up.status, 200);
  EXPECT_EQ(up.body, "POST len=300000 type=application/x-protobuf");
  EXPECT_EQ(client->connections_opened(), 1u);
}

}  // namespace
}  // namespace otlp::net
