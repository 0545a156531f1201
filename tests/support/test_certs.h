// tests/support/test_certs.h — a throw-away PKI for TLS tests, generated in-process with OpenSSL
// (no `openssl` CLI needed): a CA, a server certificate and a client certificate signed by it,
// and an unrelated second CA.
//
//   otlp::test::TempDir dir;
//   ASSERT_OK_AND_ASSIGN(otlp::test::TestPki pki, otlp::test::GenerateTestPki(dir.path()));
//   server_tls = {.certificate_file = pki.server_cert_file, .key_file = pki.server_key_file};
//   client_tls = {.ca_file = pki.ca_cert_file};
//
// Keys are ECDSA P-256, certificates valid from an hour ago for 30 days. The server certificate
// names DNS:localhost, IP:127.0.0.1 and IP:::1; the client certificate has CN=otlp-test-client.
// Threading: GenerateTestPki is thread-safe (distinct directories).
#pragma once

#include <string>

#include "otlp/core/status.h"

namespace otlp::test {

struct TestPki {
  std::string ca_cert_file{};
  std::string server_cert_file{};
  std::string server_key_file{};
  std::string client_cert_file{};
  std::string client_key_file{};
  std::string other_ca_cert_file{};  // a CA that signed nothing here (a "wrong CA")
};

// Writes ca.pem, server.pem, server.key, client.pem, client.key and other-ca.pem into `dir`.
Result<TestPki> GenerateTestPki(const std::string& dir);

}  // namespace otlp::test
