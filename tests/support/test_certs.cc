#include "tests/support/test_certs.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace otlp::test {
namespace {

struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertDeleter {
  void operator()(X509* c) const { X509_free(c); }
};
struct ExtDeleter {
  void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using CertPtr = std::unique_ptr<X509, CertDeleter>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, ExtDeleter>;

Status OpenSslError(const std::string& what) {
  std::string msg = what;
  const unsigned long code = ERR_get_error();
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    msg += ": ";
    msg += buf;
  }
  ERR_clear_error();
  return InternalError(std::move(msg));
}

Result<KeyPtr> NewKey() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("cannot generate an EC key");
  return key;
}

struct CertSpec {
  std::string common_name{};
  bool is_ca = false;
  std::string extended_key_usage{};  // "serverAuth" / "clientAuth"
  std::string subject_alt_names{};   // "DNS:localhost,IP:127.0.0.1"
  long serial = 1;
};

// Signs with (issuer, issuer_key), or self-signs when issuer is null.
Result<CertPtr> NewCert(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  CertPtr cert(X509_new());
  if (!cert) return OpenSslError("X509_new");
  X509* x = cert.get();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), spec.serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("otlp-cpp tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer) : name);

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : x, x, nullptr, nullptr, 0);
  std::vector<std::pair<int, std::string>> extensions;
  if (spec.is_ca) {
    extensions = {{NID_basic_constraints, "critical,CA:TRUE"},
                  {NID_key_usage, "critical,keyCertSign,cRLSign"},
                  {NID_subject_key_identifier, "hash"}};
  } else {
    extensions = {{NID_basic_constraints, "critical,CA:FALSE"},
                  {NID_key_usage, "critical,digitalSignature"},
                  {NID_subject_key_identifier, "hash"},
                  {NID_authority_key_identifier, "keyid:always"}};
    if (!spec.extended_key_usage.empty()) {
      extensions.emplace_back(NID_ext_key_usage, spec.extended_key_usage);
    }
    if (!spec.subject_alt_names.empty()) {
      extensions.emplace_back(NID_subject_alt_name, spec.subject_alt_names);
    }
  }
  for (const auto& [nid, value] : extensions) {
    ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(x, ext.get(), -1) != 1) {
      return OpenSslError("cannot add certificate extension '" + value + "'");
    }
  }
  if (X509_sign(x, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    return OpenSslError("cannot sign the certificate for " + spec.common_name);
  }
  return cert;
}

Status WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return InternalError("cannot create " + path);
  const int ok = cert != nullptr
                     ? PEM_write_X509(f, cert)
                     : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  if (ok != 1) return OpenSslError("cannot write " + path);
  return Status::Ok();
}

}  // namespace

Result<TestPki> GenerateTestPki(const std::string& dir) {
  TestPki pki{.ca_cert_file = dir + "/ca.pem",
              .server_cert_file = dir + "/server.pem",
              .server_key_file = dir + "/server.key",
              .client_cert_file = dir + "/client.pem",
              .client_key_file = dir + "/client.key",
              .other_ca_cert_file = dir + "/other-ca.pem"};
  OTLP_ASSIGN_OR_RETURN(KeyPtr ca_key, NewKey());
  OTLP_ASSIGN_OR_RETURN(CertPtr ca,
                        NewCert({.common_name = "otlp-cpp test CA", .is_ca = true, .serial = 1},
                                ca_key.get(), nullptr, nullptr));
  OTLP_ASSIGN_OR_RETURN(KeyPtr server_key, NewKey());
  OTLP_ASSIGN_OR_RETURN(CertPtr server,
                        NewCert({.common_name = "localhost",
                                 .extended_key_usage = "serverAuth",
                                 .subject_alt_names = "DNS:localhost,IP:127.0.0.1,IP:::1",
                                 .serial = 2},
                                server_key.get(), ca.get(), ca_key.get()));
  OTLP_ASSIGN_OR_RETURN(KeyPtr client_key, NewKey());
  OTLP_ASSIGN_OR_RETURN(
      CertPtr client,
      NewCert({.common_name = "otlp-test-client", .extended_key_usage = "clientAuth", .serial = 3},
              client_key.get(), ca.get(), ca_key.get()));
  OTLP_ASSIGN_OR_RETURN(KeyPtr other_key, NewKey());
  OTLP_ASSIGN_OR_RETURN(
      CertPtr other, NewCert({.common_name = "otlp-cpp unrelated CA", .is_ca = true, .serial = 4},
                             other_key.get(), nullptr, nullptr));

  OTLP_RETURN_IF_ERROR(WritePem(pki.ca_cert_file, ca.get(), nullptr));
  OTLP_RETURN_IF_ERROR(WritePem(pki.server_cert_file, server.get(), nullptr));
  OTLP_RETURN_IF_ERROR(WritePem(pki.server_key_file, nullptr, server_key.get()));
  OTLP_RETURN_IF_ERROR(WritePem(pki.client_cert_file, client.get(), nullptr));
  OTLP_RETURN_IF_ERROR(WritePem(pki.client_key_file, nullptr, client_key.get()));
  OTLP_RETURN_IF_ERROR(WritePem(pki.other_ca_cert_file, other.get(), nullptr));
  return pki;
}

}  // namespace otlp::test
