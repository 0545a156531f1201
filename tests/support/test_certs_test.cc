#include "tests/support/test_certs.h"

#include <gtest/gtest.h>

#include "otlp/net/http_client.h"
#include "otlp/net/http_server.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace otlp::test {
namespace {

using ::testing::HasSubstr;

TEST(TestCertsTest, GeneratesLoadableFiles) {
  TempDir dir;
  ASSERT_TRUE(dir.ok()) << dir.error();
  ASSERT_OK_AND_ASSIGN(auto pki, GenerateTestPki(dir.path()));
  EXPECT_NE(dir.ReadFile("ca.pem").find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(dir.ReadFile("server.key").find("PRIVATE KEY"), std::string::npos);
  auto runtime = net::Runtime::Create();
  // The client context accepts the CA and the client pair; the server accepts its pair.
  EXPECT_OK(
      net::HttpClient::Create(runtime, {.tls = {.ca_file = pki.ca_cert_file,
                                                .client_certificate_file = pki.client_cert_file,
                                                .client_key_file = pki.client_key_file}}));
  EXPECT_OK(
      net::HttpServer::Start(runtime,
                             {.tls = net::ServerTlsOptions{.certificate_file = pki.server_cert_file,
                                                           .key_file = pki.server_key_file,
                                                           .client_ca_file = pki.ca_cert_file}},
                             [](const net::ServerRequest&, net::ServerResponse&) {}));
}

TEST(TestCertsTest, FailsClearlyForMissingDirectory) {
  EXPECT_THAT(GenerateTestPki("/nonexistent/otlp-test-dir"),
              StatusIs(StatusCode::kInternal, HasSubstr("/nonexistent/otlp-test-dir")));
}

}  // namespace
}  // namespace otlp::test
