// TLS for the client and the server: verification, host names, mutual TLS and file errors, with
// a PKI generated at test time (tests/support/test_certs.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "otlp/net/http_client.h"
#include "otlp/net/http_server.h"
#include "otlp/net/internal/tls.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace otlp::net {
namespace {

using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir("otlp-tls-test-");
    ASSERT_TRUE(dir_->ok()) << dir_->error();
    ASSERT_OK_AND_ASSIGN(auto pki, test::GenerateTestPki(dir_->path()));
    pki_ = new test::TestPki(pki);
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(pki_, nullptr);
    runtime_ = Runtime::Create();
  }

  std::unique_ptr<HttpServer> StartTlsServer(std::string client_ca_file = "",
                                             TlsVersion min_version = TlsVersion::kTls12) {
    auto server =
        HttpServer::Start(runtime_,
                          {.tls = ServerTlsOptions{.certificate_file = pki_->server_cert_file,
                                                   .key_file = pki_->server_key_file,
                                                   .client_ca_file = std::move(client_ca_file),
                                                   .min_version = min_version}},
                          [](const ServerRequest& req, ServerResponse& res) {
                            res.body = req.tls ? "secure " + req.tls_session.version : "plain?";
                          });
    EXPECT_OK(server);
    return server.ok() ? std::move(*server) : nullptr;
  }

  std::unique_ptr<HttpClient> MakeClient(TlsOptions tls) {
    auto client = HttpClient::Create(runtime_, {.tls = std::move(tls)});
    EXPECT_OK(client);
    return client.ok() ? std::move(*client) : nullptr;
  }

  static test::TempDir* dir_;
  static test::TestPki* pki_;
  std::shared_ptr<Runtime> runtime_;
};

test::TempDir* TlsTest::dir_ = nullptr;
test::TestPki* TlsTest::pki_ = nullptr;

TEST_F(TlsTest, VerifiesServerWithCaFileAndReusesConnection) {
  auto server = StartTlsServer();
  auto client = MakeClient({.ca_file = pki_->ca_cert_file});
  ASSERT_TRUE(server && client);
  EXPECT_EQ(server->base_url().rfind("https://127.0.0.1:", 0), 0u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(auto resp, client->Send({.url = server->base_url() + "/"}));
    EXPECT_THAT(resp.body, ::testing::StartsWith("secure"));
  }
  EXPECT_EQ(client->connections_opened(), 1u);
}

TEST_F(TlsTest, DnsNameIsVerifiedToo) {
  auto server = StartTlsServer();
  auto client = MakeClient({.ca_file = pki_->ca_cert_file});
  ASSERT_TRUE(server && client);
  // "localhost" is checked against DNS:localhost (and sent as SNI).
  ASSERT_OK_AND_ASSIGN(
      auto resp,
      client->Send({.url = "https://localhost:" + std::to_string(server->port()) + "/"}));
  EXPECT_THAT(resp.body, ::testing::StartsWith("secure"));
}

TEST_F(TlsTest, ClientAndServerAgreeOnHttp11ByAlpnAndTheServerSeesSni) {
  ASSERT_OK_AND_ASSIGN(
      auto server,
      HttpServer::Start(runtime_,
                        {.tls = ServerTlsOptions{.certificate_file = pki_->server_cert_file,
                                                 .key_file = pki_->server_key_file}},
                        [](const ServerRequest& req, ServerResponse& res) {
                          res.body = req.tls_session.alpn_protocol + " " +
                                     req.tls_session.server_name + " " + req.tls_session.version;
                        }));
  auto client = MakeClient({.ca_file = pki_->ca_cert_file});
  ASSERT_TRUE(client);
  ASSERT_OK_AND_ASSIGN(
      auto resp,
      client->Send({.url = "https://localhost:" + std::to_string(server->port()) + "/"}));
  EXPECT_THAT(resp.body, ::testing::StartsWith("http/1.1 localhost TLSv1."));

  // Neither side offers or accepts a protocol it does not speak: h2 only while HTTP/2 is on.
  auto h2_off =
      HttpServer::Start(runtime_,
                        {.tls = ServerTlsOptions{.certificate_file = pki_->server_cert_file,
                                                 .key_file = pki_->server_key_file,
                                                 .alpn_protocols = {"h2"}},
                         .enable_http2 = false},
                        [](const ServerRequest&, ServerResponse&) {});
  EXPECT_THAT(h2_off, StatusIs(StatusCode::kInvalidArgument, HasSubstr("HTTP/1.1 only")));
  auto spdy = HttpServer::Start(runtime_,
                                {.tls = ServerTlsOptions{.certificate_file = pki_->server_cert_file,
                                                         .key_file = pki_->server_key_file,
                                                         .alpn_protocols = {"spdy/3"}}},
                                [](const ServerRequest&, ServerResponse&) {});
  EXPECT_THAT(spdy, StatusIs(StatusCode::kInvalidArgument, HasSubstr("'spdy/3'")));
}

TEST_F(TlsTest, UnknownCaFailsVerification) {
  auto server = StartTlsServer();
  auto system_store = MakeClient({});
  auto wrong_ca = MakeClient({.ca_file = pki_->other_ca_cert_file});
  ASSERT_TRUE(server && system_store && wrong_ca);
  for (HttpClient* client : {system_store.get(), wrong_ca.get()}) {
    auto resp = client->Send({.url = server->base_url() + "/"});
    EXPECT_THAT(resp, StatusIs(StatusCode::kPermissionDenied,
                               AllOf(HasSubstr("certificate verification failed"),
                                     HasSubstr("local issuer certificate"))));
    EXPECT_FALSE(resp.status().retryable());
  }
}

// A CA directory in OpenSSL's hashed layout (what `openssl rehash` makes).
TEST_F(TlsTest, VerifiesServerWithCaDirectory) {
  auto server = StartTlsServer();
  ASSERT_TRUE(server);
  std::string hashed_name;
  {
    std::FILE* f = std::fopen(pki_->ca_cert_file.c_str(), "rb");
    ASSERT_NE(f, nullptr);
    X509* ca = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    ASSERT_NE(ca, nullptr);
    char name[16];
    std::snprintf(name, sizeof name, "%08lx.0", X509_subject_name_hash(ca));
    X509_free(ca);
    hashed_name = name;
  }
  test::TempDir trusted;
  ASSERT_TRUE(trusted.ok()) << trusted.error();
  std::filesystem::copy_file(pki_->ca_cert_file, trusted.Join(hashed_name));
  auto client = MakeClient({.ca_dir = trusted.path()});
  ASSERT_TRUE(client);
  ASSERT_OK_AND_ASSIGN(auto resp, client->Send({.url = server->base_url() + "/"}));
  EXPECT_THAT(resp.body, ::testing::StartsWith("secure"));

  // A directory without the server's CA does not verify it; a missing one is refused up front.
  test::TempDir empty;
  ASSERT_TRUE(empty.ok()) << empty.error();
  auto untrusting = MakeClient({.ca_dir = empty.path()});
  ASSERT_TRUE(untrusting);
  EXPECT_THAT(untrusting->Send({.url = server->base_url() + "/"}),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("certificate verification failed")));
  EXPECT_THAT(HttpClient::Create(runtime_, {.tls = {.ca_dir = empty.Join("missing")}}),
              StatusIs(StatusCode::kNotFound, HasSubstr("TLS CA directory")));
}

TEST_F(TlsTest, HostNameMismatchFails) {
  auto server = StartTlsServer();
  auto client = MakeClient({.ca_file = pki_->ca_cert_file, .server_name = "collector.example"});
  ASSERT_TRUE(server && client);
  auto resp = client->Send({.url = server->base_url() + "/"});
  EXPECT_THAT(resp, StatusIs(StatusCode::kPermissionDenied, HasSubstr("hostname mismatch")));
}

TEST_F(TlsTest, IpAddressMismatchFails) {
  auto server = StartTlsServer();
  auto client = MakeClient({.ca_file = pki_->ca_cert_file, .server_name = "127.0.0.2"});
  ASSERT_TRUE(server && client);
  auto resp = client->Send({.url = server->base_url() + "/"});
  EXPECT_THAT(resp, StatusIs(StatusCode::kPermissionDenied, HasSubstr("IP address mismatch")));
}

TEST_F(TlsTest, VerificationCanBeTurnedOff) {
  auto server = StartTlsServer();
  auto client = MakeClient({.verify_peer = false, .server_name = "anything.example"});
  ASSERT_TRUE(server && client);
  ASSERT_OK_AND_ASSIGN(auto resp, client->Send({.url = server->base_url() + "/"}));
  EXPECT_THAT(resp.body, ::testing::StartsWith("secure"));
}

TEST_F(TlsTest, MutualTlsWithClientCertificate) {
  auto server = StartTlsServer(pki_->ca_cert_file);
  auto client = MakeClient({.ca_file = pki_->ca_cert_file,
                            .client_certificate_file = pki_->client_cert_file,
                            .client_key_file = pki_->client_key_file});
  ASSERT_TRUE(server && client);
  ASSERT_OK_AND_ASSIGN(auto resp, client->Send({.url = server->base_url() + "/"}));
  EXPECT_THAT(resp.body, ::testing::StartsWith("secure"));
  EXPECT_EQ(server->requests_received(), 1u);
}

TEST_F(TlsTest, MutualTlsRejectsClientWithoutCertificate) {
  auto server = StartTlsServer(pki_->ca_cert_file);
  auto client = MakeClient({.ca_file = pki_->ca_cert_file});
  ASSERT_TRUE(server && client);
  auto resp = client->Send({.url = server->base_url() + "/"});
  EXPECT_THAT(resp, StatusIs(StatusCode::kUnavailable, HasSubstr("TLS")));
  EXPECT_FALSE(resp.status().retryable()) << resp.status().ToString();
  EXPECT_EQ(server->requests_received(), 0u);
}

TEST_F(TlsTest, PlainClientAgainstTlsServerAndViceVersa) {
  auto tls_server = StartTlsServer();
  ASSERT_OK_AND_ASSIGN(
      auto plain_server,
      HttpServer::Start(runtime_, {}, [](const ServerRequest&, ServerResponse&) {}));
  auto client = MakeClient({.ca_file = pki_->ca_cert_file});
  ASSERT_TRUE(tls_server && client);
  auto a = client->Send({.url = "http://127.0.0.1:" + std::to_string(tls_server->port()) + "/"});
  EXPECT_FALSE(a.ok());
  auto b = client->Send({.url = "https://127.0.0.1:" + std::to_string(plain_server->port())});
  EXPECT_THAT(b, StatusIs(StatusCode::kUnavailable, HasSubstr("TLS handshake")));
  // Both servers survive.
  EXPECT_OK(client->Send({.url = tls_server->base_url()}));
}

// A client that speaks at most TLS 1.2 (OpenSSL directly, since our client has no maximum):
// the handshake's outcome, or OpenSSL's reason for failing it.
std::string HandshakeAsTls12Client(uint16_t port) {
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_verify_mode(asio::ssl::verify_none);
  asio::ssl::stream<asio::ip::tcp::socket> stream(ioc, ctx);
  boost::system::error_code ec;
  stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return "connect: " + ec.message();
  stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec) return "failed: " + ec.message();
  return std::string("ok: ") + SSL_get_version(stream.native_handle());
}

TEST_F(TlsTest, ServerMinimumVersionRefusesTls12Clients) {
  auto tls13_only = StartTlsServer("", TlsVersion::kTls13);
  auto tls12_too = StartTlsServer();
  ASSERT_TRUE(tls13_only && tls12_too);
  EXPECT_THAT(HandshakeAsTls12Client(tls13_only->port()),
              AllOf(HasSubstr("failed: "), HasSubstr("protocol version")));
  EXPECT_EQ(HandshakeAsTls12Client(tls12_too->port()), "ok: TLSv1.2");
  // Our client speaks TLS 1.3 and is served.
  auto client = MakeClient({.ca_file = pki_->ca_cert_file});
  ASSERT_TRUE(client);
  ASSERT_OK_AND_ASSIGN(auto resp, client->Send({.url = tls13_only->base_url() + "/"}));
  EXPECT_EQ(resp.body, "secure TLSv1.3");
}

TEST_F(TlsTest, ClientMinimumVersionTls13IsMetByTls13Servers) {
  auto server = StartTlsServer();
  auto client = MakeClient({.ca_file = pki_->ca_cert_file, .min_version = TlsVersion::kTls13});
  ASSERT_TRUE(server && client);
  ASSERT_OK_AND_ASSIGN(auto resp, client->Send({.url = server->base_url() + "/"}));
  EXPECT_EQ(resp.body, "secure TLSv1.3");
  // The refusal by a TLS 1.2 server is in nginx_test (MinimumTlsVersionAboveTheServers).
}

TEST_F(TlsTest, HttpsToAPlainPortSaysTheServerDoesNotSpeakTls) {
  ASSERT_OK_AND_ASSIGN(
      auto plain_server,
      HttpServer::Start(runtime_, {}, [](const ServerRequest&, ServerResponse&) {}));
  auto client = MakeClient({.ca_file = pki_->ca_cert_file});
  ASSERT_TRUE(client);
  auto resp = client->Send({.url = "https://127.0.0.1:" + std::to_string(plain_server->port())});
  EXPECT_THAT(resp, StatusIs(StatusCode::kUnavailable, HasSubstr("does not speak TLS")));
  EXPECT_EQ(HttpErrorKindOf(resp.status()), HttpErrorKind::kTlsHandshake);
}

TEST_F(TlsTest, NoCommonAlpnProtocolIsNamedAsTheCause) {
  ASSERT_OK_AND_ASSIGN(
      auto h2_only,
      HttpServer::Start(runtime_,
                        {.tls = ServerTlsOptions{.certificate_file = pki_->server_cert_file,
                                                 .key_file = pki_->server_key_file,
                                                 .alpn_protocols = {"h2"}}},
                        [](const ServerRequest&, ServerResponse&) {}));
  auto client = HttpClient::Create(runtime_, {.tls = {.ca_file = pki_->ca_cert_file},
                                              .http_version = HttpVersionPolicy::kHttp1Only});
  ASSERT_OK(client);
  auto resp = (*client)->Send({.url = h2_only->base_url() + "/"});
  EXPECT_THAT(resp, StatusIs(StatusCode::kUnavailable, HasSubstr("none of the offered ALPN")));
  EXPECT_EQ(HttpErrorKindOf(resp.status()), HttpErrorKind::kTlsHandshake);
}

TEST_F(TlsTest, FileErrorsAreClear) {
  auto missing = HttpClient::Create(runtime_, {.tls = {.ca_file = dir_->Join("nope.pem")}});
  EXPECT_THAT(missing, StatusIs(StatusCode::kNotFound,
                                AllOf(HasSubstr("nope.pem"), HasSubstr("No such file"))));

  ASSERT_OK(dir_->WriteFile("garbage.pem", "this is not PEM\n"));
  auto garbage = HttpClient::Create(runtime_, {.tls = {.ca_file = dir_->Join("garbage.pem")}});
  EXPECT_THAT(garbage, StatusIs(StatusCode::kInvalidArgument, HasSubstr("garbage.pem")));

  auto half =
      HttpClient::Create(runtime_, {.tls = {.client_certificate_file = pki_->client_cert_file}});
  EXPECT_THAT(half, StatusIs(StatusCode::kInvalidArgument, HasSubstr("together")));

  auto mismatch =
      HttpClient::Create(runtime_, {.tls = {.client_certificate_file = pki_->client_cert_file,
                                            .client_key_file = pki_->server_key_file}});
  EXPECT_THAT(mismatch, StatusIs(StatusCode::kInvalidArgument, HasSubstr("does not match")));

  auto bad_server =
      HttpServer::Start(runtime_,
                        {.tls = ServerTlsOptions{.certificate_file = dir_->Join("garbage.pem"),
                                                 .key_file = pki_->server_key_file}},
                        [](const ServerRequest&, ServerResponse&) {});
  EXPECT_THAT(bad_server, AnyOf(StatusIs(StatusCode::kInvalidArgument, HasSubstr("garbage.pem")),
                                StatusIs(StatusCode::kNotFound, HasSubstr("garbage.pem"))));
}

TEST_F(TlsTest, SystemStoreIsLoadedByTheFirstConnectionNotByTheClient) {
  // The system's CA bundle costs tens of milliseconds to parse: a client that never opens a TLS
  // connection must not pay for it; the h2 context shares the store and its load.
  auto ctx = internal::TlsContext::Client({});
  ASSERT_OK(ctx);
  auto h2 = internal::TlsContext::Client({.alpn_protocols = {"h2"}}, ctx->get());
  ASSERT_OK(h2);
  X509_STORE* store = SSL_CTX_get_cert_store((*ctx)->native().native_handle());
  ASSERT_EQ(SSL_CTX_get_cert_store((*h2)->native().native_handle()), store);
  const auto loaded = [&] {
    X509_STORE_lock(store);
    const int lookups = sk_X509_OBJECT_num(X509_STORE_get0_objects(store));
    X509_STORE_unlock(store);
    return lookups;
  };
  EXPECT_EQ(loaded(), 0);
  (*h2)->ForNewConnection();
  const int after = loaded();
  EXPECT_GT(after, 0) << "the system CA bundle (ca-certificates) was not loaded";
  (*ctx)->ForNewConnection();  // once per store
  EXPECT_EQ(loaded(), after);

  // A CA file is loaded (and checked) when the context is made.
  auto with_file = internal::TlsContext::Client({.ca_file = pki_->ca_cert_file});
  ASSERT_OK(with_file);
  X509_STORE* file_store = SSL_CTX_get_cert_store((*with_file)->native().native_handle());
  X509_STORE_lock(file_store);
  EXPECT_EQ(sk_X509_OBJECT_num(X509_STORE_get0_objects(file_store)), 1);
  X509_STORE_unlock(file_store);
}

}  // namespace
}  // namespace otlp::net
