#include "otlp/net/internal/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl/error.hpp>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <cstring>
#include <utility>
#include <vector>

namespace otlp::net::internal {
namespace ssl = boost::asio::ssl;
using boost::system::error_code;

namespace {

// Fails clearly when the file is missing or unreadable, before OpenSSL's terser reasons.
Status CheckReadable(std::string_view what, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    std::string msg = std::string(what) + " '" + path + "' cannot be opened: " + std::strerror(err);
    if (err == ENOENT) return NotFoundError(std::move(msg));
    return InvalidArgumentError(std::move(msg));
  }
  std::fclose(f);
  return Status::Ok();
}

Status LoadError(std::string_view what, const std::string& path, const error_code& ec) {
  return InvalidArgumentError(std::string(what) + " '" + path +
                              "' could not be loaded: " + ec.message());
}

Status LoadCertificateAndKey(ssl::context& ctx, std::string_view role, const std::string& cert,
                             const std::string& key) {
  const std::string cert_what = std::string(role) + " certificate file";
  const std::string key_what = std::string(role) + " key file";
  OTLP_RETURN_IF_ERROR(CheckReadable(cert_what, cert));
  OTLP_RETURN_IF_ERROR(CheckReadable(key_what, key));
  error_code ec;
  ctx.use_certificate_chain_file(cert, ec);
  if (ec) return LoadError(cert_what, cert, ec);
  ctx.use_private_key_file(key, ssl::context::pem, ec);
  const bool mismatch =
      ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH;
  if (ec && !mismatch) return LoadError(key_what, key, ec);
  if (mismatch || SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return InvalidArgumentError(std::string(role) + " key file '" + key +
                                "' does not match the certificate in '" + cert + "'");
  }
  return Status::Ok();
}

bool IsIpAddress(const std::string& host) {
  in6_addr a6{};
  in_addr a4{};
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

int OpenSslVersion(TlsVersion version) {
  return version == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

Result<std::unique_ptr<ssl::context>> NewContext(ssl::context::method method,
                                                 TlsVersion min_version) {
  std::unique_ptr<ssl::context> ctx;
  try {
    ctx = std::make_unique<ssl::context>(method);
  } catch (const std::exception& e) {
    return InternalError(std::string("cannot create an OpenSSL context: ") + e.what());
  }
  error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::single_dh_use,
                   ec);
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), OpenSslVersion(min_version)) != 1) {
    return InternalError("cannot set the minimum TLS version");
  }
  return ctx;
}

// RFC 7301 wire format: each name preceded by its length.
Result<std::string> AlpnWire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const std::string& name : protocols) {
    if (name.empty() || name.size() > 255) {
      return InvalidArgumentError("ALPN protocol name '" + name + "' must be 1 to 255 bytes long");
    }
    wire += static_cast<char>(name.size());
    wire += name;
  }
  return wire;
}

}  // namespace

struct TlsContext::SystemTrust {
  explicit SystemTrust(X509_STORE* s) : store(s) { X509_STORE_up_ref(store); }
  ~SystemTrust() { X509_STORE_free(store); }
  SystemTrust(const SystemTrust&) = delete;
  SystemTrust& operator=(const SystemTrust&) = delete;

  X509_STORE* store;
  std::once_flag loaded;
};

ssl::context& TlsContext::ForNewConnection() const {
  if (system_trust_) {
    std::call_once(system_trust_->loaded, [store = system_trust_->store] {
      // What SSL_CTX_set_default_verify_paths does (SSL_CERT_FILE / SSL_CERT_DIR apply). A
      // missing store is no error here: verification then fails, naming the certificate.
      X509_STORE_set_default_paths(store);
      ERR_clear_error();
    });
  }
  return *ctx_;
}

Result<std::shared_ptr<TlsContext>> TlsContext::Client(TlsOptions options,
                                                       const TlsContext* share_trust_of) {
  OTLP_ASSIGN_OR_RETURN(const std::string alpn, AlpnWire(options.alpn_protocols));
  OTLP_ASSIGN_OR_RETURN(std::unique_ptr<ssl::context> ctx,
                        NewContext(ssl::context::tls_client, options.min_version));
  error_code ec;
  std::shared_ptr<SystemTrust> system_trust;
  if (options.verify_peer && share_trust_of != nullptr) {
    // The same trusted certificates, not a second copy of them (the system store is ~1 MB).
    SSL_CTX_set1_cert_store(ctx->native_handle(),
                            SSL_CTX_get_cert_store(share_trust_of->native().native_handle()));
    system_trust = share_trust_of->system_trust_;
    ctx->set_verify_mode(ssl::verify_peer, ec);
  } else if (options.verify_peer) {
    if (!options.ca_file.empty()) {
      OTLP_RETURN_IF_ERROR(CheckReadable("TLS CA file", options.ca_file));
      ctx->load_verify_file(options.ca_file, ec);
      if (ec) return LoadError("TLS CA file", options.ca_file, ec);
    }
    if (!options.ca_dir.empty()) {
      std::error_code fs_ec;
      if (!std::filesystem::is_directory(options.ca_dir, fs_ec)) {
        return NotFoundError("TLS CA directory '" + options.ca_dir + "' is not a directory");
      }
      ctx->add_verify_path(options.ca_dir, ec);
      if (ec) return LoadError("TLS CA directory", options.ca_dir, ec);
    }
    if (options.ca_file.empty() && options.ca_dir.empty()) {
      // Loaded by the first connection (ForNewConnection), not here.
      system_trust = std::make_shared<SystemTrust>(SSL_CTX_get_cert_store(ctx->native_handle()));
    }
    ctx->set_verify_mode(ssl::verify_peer, ec);
  } else {
    ctx->set_verify_mode(ssl::verify_none, ec);
  }
  const bool has_cert = !options.client_certificate_file.empty();
  const bool has_key = !options.client_key_file.empty();
  if (has_cert != has_key) {
    return InvalidArgumentError(
        "TLS client certificate and client key must be given together (got only the " +
        std::string(has_cert ? "certificate" : "key") + ")");
  }
  if (has_cert) {
    OTLP_RETURN_IF_ERROR(LoadCertificateAndKey(*ctx, "TLS client", options.client_certificate_file,
                                               options.client_key_file));
  }
  if (!alpn.empty() && SSL_CTX_set_alpn_protos(ctx->native_handle(),
                                               reinterpret_cast<const unsigned char*>(alpn.data()),
                                               static_cast<unsigned>(alpn.size())) != 0) {
    return InternalError("cannot set the ALPN protocols of the TLS client");
  }
  std::shared_ptr<TlsContext> result(new TlsContext(std::move(ctx), /*server=*/false));
  result->client_options_ = std::move(options);
  result->system_trust_ = std::move(system_trust);
  return result;
}

Result<std::shared_ptr<TlsContext>> TlsContext::Server(ServerTlsOptions options) {
  if (options.certificate_file.empty() || options.key_file.empty()) {
    return InvalidArgumentError("TLS server needs both certificate_file and key_file");
  }
  OTLP_ASSIGN_OR_RETURN(std::string alpn, AlpnWire(options.alpn_protocols));
  OTLP_ASSIGN_OR_RETURN(std::unique_ptr<ssl::context> ctx,
                        NewContext(ssl::context::tls_server, options.min_version));
  OTLP_RETURN_IF_ERROR(
      LoadCertificateAndKey(*ctx, "TLS server", options.certificate_file, options.key_file));
  if (!options.client_ca_file.empty()) {
    OTLP_RETURN_IF_ERROR(CheckReadable("TLS client CA file", options.client_ca_file));
    error_code ec;
    ctx->load_verify_file(options.client_ca_file, ec);
    if (ec) return LoadError("TLS client CA file", options.client_ca_file, ec);
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
    // Tells clients which CAs we accept, so they can pick a certificate.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
  }
  std::shared_ptr<TlsContext> result(new TlsContext(std::move(ctx), /*server=*/true));
  result->alpn_wire_ = std::move(alpn);
  if (!result->alpn_wire_.empty()) {
    // `result` owns the context, so the callback's argument outlives every handshake.
    SSL_CTX_set_alpn_select_cb(result->native().native_handle(), &TlsContext::SelectAlpn,
                               result.get());
  }
  return result;
}

int TlsContext::SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen,
                           const unsigned char* in, unsigned int inlen, void* arg) {
  const auto* self = static_cast<const TlsContext*>(arg);
  unsigned char* selected = nullptr;
  // Walks our list in order and takes the first name the client also offered: server
  // preference, as RFC 7301 suggests.
  if (SSL_select_next_proto(
          &selected, outlen, reinterpret_cast<const unsigned char*>(self->alpn_wire_.data()),
          static_cast<unsigned>(self->alpn_wire_.size()), in, inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;  // no_application_protocol
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

Status PrepareClientSsl(SSL* ssl, const TlsOptions& options, const std::string& host) {
  const std::string& name = options.server_name.empty() ? host : options.server_name;
  const bool is_ip = IsIpAddress(name);
  // RFC 6066: SNI carries DNS names only.
  if (!is_ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
    return InvalidArgumentError("TLS server name '" + name + "' is not usable for SNI");
  }
  if (options.verify_peer) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    int ok = 0;
    if (is_ip) {
      ok = X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    } else {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      ok = X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    }
    if (ok != 1) return InvalidArgumentError("TLS server name '" + name + "' is not valid");
  }
  return Status::Ok();
}

Status ClientHandshakeError(SSL* ssl, const error_code& ec, std::string_view peer) {
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    return {StatusCode::kPermissionDenied, "TLS certificate verification failed for " +
                                               std::string(peer) + ": " +
                                               X509_verify_cert_error_string(verify)};
  }
  std::string why;
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
      // Our minimum is above the server's maximum (the server's alert), or the reverse.
      case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
      case SSL_R_UNSUPPORTED_PROTOCOL:
        why = SSL_get_min_proto_version(ssl) == TLS1_3_VERSION
                  ? "no TLS protocol version acceptable to both sides (this client requires "
                    "TLS 1.3): "
                  : "no TLS protocol version acceptable to both sides (this client speaks "
                    "TLS 1.2 and 1.3): ";
        break;
      // The first bytes back were not a TLS record: typically an http:// port.
      case SSL_R_WRONG_VERSION_NUMBER:
      case SSL_R_PACKET_LENGTH_TOO_LONG:
        why = "the server does not speak TLS (a plain-text port?): ";
        break;
      case SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL:
        why = "the server accepts none of the offered ALPN protocols: ";
        break;
      default: break;
    }
  }
  return {StatusCode::kUnavailable,
          "TLS handshake with " + std::string(peer) + " failed: " + why + ec.message(),
          /*retryable=*/false};
}

TlsSessionInfo SessionInfo(SSL* ssl) {
  TlsSessionInfo info;
  if (ssl == nullptr) return info;
  if (const char* version = SSL_get_version(ssl)) info.version = version;
  if (const char* cipher = SSL_get_cipher_name(ssl)) info.cipher = cipher;
  const unsigned char* alpn = nullptr;
  unsigned int alpn_length = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_length);
  if (alpn != nullptr) info.alpn_protocol.assign(reinterpret_cast<const char*>(alpn), alpn_length);
  if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) {
    info.server_name = name;
  }
  return info;
}

bool IsSslError(const error_code& ec) noexcept {
  return ec.category() == boost::asio::error::get_ssl_category() ||
         ec.category() == ssl::error::get_stream_category();
}

}  // namespace otlp::net::internal
