#include "tests/support/test_certs.h"

#include <gtest/gtest.h>

#include "otlp/net/http_client.h"
#include "otlp/net/http_server.h"
#include "tests/support/temp_dir.h"

namespace otlp::test {
namespace {

TEST(TestCertsTest, GeneratesLoadableFiles) {
  TempDir dir;
  ASSERT_TRUE(dir.ok()) << dir.error();
  auto pki = GenerateTestPki(dir.path());
  ASSERT_TRUE(pki.ok()) << pki.status().ToString();
  EXPECT_NE(dir.ReadFile("ca.pem").find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(dir.ReadFile("server.key").find("PRIVATE KEY"), std::string::npos);
  auto runtime = net::Runtime::Create();
  // The client context accepts the CA and the client pair; the server accepts its pair.
  auto client =
      net::HttpClient::Create(runtime, {.tls = {.ca_file = pki->ca_cert_file,
                                                .client_certificate_file = pki->client_cert_file,
                                                .client_key_file = pki->client_key_file}});
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  auto server = net::HttpServer::Start(
      runtime,
      {.tls = net::ServerTlsOptions{.certificate_file = pki->server_cert_file,
                                    .key_file = pki->server_key_file,
                                    .client_ca_file = pki->ca_cert_file}},
      [](const net::ServerRequest&, net::ServerResponse&) {});
  EXPECT_TRUE(server.ok()) << server.status().ToString();
}

TEST(TestCertsTest, FailsClearlyForMissingDirectory) {
  auto pki = GenerateTestPki("/nonexistent/otlp-test-dir");
  ASSERT_FALSE(pki.ok());
  EXPECT_NE(pki.status().message().find("/nonexistent/otlp-test-dir"), std::string::npos);
}

}  // namespace
}  // namespace otlp::test
