// otlp/net/internal/tls.h — OpenSSL contexts for the client and the server (with their ALPN
// settings), the per-connection client setup (SNI, name verification), and TLS errors as
// Status. Not installed; never include it from a public header.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "otlp/core/status.h"
#include "otlp/net/tls.h"

namespace otlp::net::internal {

// One OpenSSL context and the options it was built from; shared by every stream that uses it.
class TlsContext {
 public:
  // options.min_version (TLS 1.2 or 1.3) and up, peer verification per `options`, CA file or
  // the system store, optional client certificate, the ALPN protocols to offer. File problems
  // are kNotFound (missing) or kInvalidArgument (unreadable, not PEM, key does not match the
  // certificate), with the path and OpenSSL's reason in the message; a bad ALPN name is
  // kInvalidArgument. With `share_trust_of` (a client context made from the same CA options)
  // the trusted certificates are that context's store, shared rather than loaded again.
  static Result<std::shared_ptr<TlsContext>> Client(TlsOptions options,
                                                    const TlsContext* share_trust_of = nullptr);
  // options.min_version and up, certificate and key, optional client CA (mutual TLS), the ALPN
  // protocols to accept.
  static Result<std::shared_ptr<TlsContext>> Server(ServerTlsOptions options);

  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  boost::asio::ssl::context& native() const noexcept { return *ctx_; }
  // The context for a new connection's SSL object: native(), after loading the system's
  // trusted certificates when this context trusts them and they are not loaded yet. Loading
  // the system store parses the whole CA bundle (~20 ms of CPU and ~1 MB here), so a client
  // that never opens a TLS connection — an OTLP exporter to http://, a plain HTTP client —
  // never pays for it. Thread-safe; the load happens once per store.
  boost::asio::ssl::context& ForNewConnection() const;
  bool is_server() const noexcept { return server_; }
  // The client options (empty defaults for a server context).
  const TlsOptions& client_options() const noexcept { return client_options_; }

 private:
  struct SystemTrust;  // the deferred load of the system store (tls.cc)

  TlsContext(std::unique_ptr<boost::asio::ssl::context> ctx, bool server)
      : ctx_(std::move(ctx)), server_(server) {}
  static int SelectAlpn(SSL* ssl, const unsigned char** out, unsigned char* outlen,
                        const unsigned char* in, unsigned int inlen, void* arg);

  std::unique_ptr<boost::asio::ssl::context> ctx_;
  const bool server_;
  // Set when the trusted certificates are the system's: shared with the contexts that share
  // this context's store.
  std::shared_ptr<SystemTrust> system_trust_;
  TlsOptions client_options_;
  std::string alpn_wire_;  // server: accepted protocols in ALPN wire format
};

// Sets SNI (DNS names only) and the name or IP address the certificate must match: the
// options' server_name, else `host`.
Status PrepareClientSsl(SSL* ssl, const TlsOptions& options, const std::string& host);

// The Status for a failed client handshake: kPermissionDenied with OpenSSL's verification
// result when the certificate was rejected, otherwise kUnavailable (not retryable) naming the
// cause OpenSSL reports: no common protocol version, a peer that does not speak TLS, no common
// ALPN protocol, or OpenSSL's reason as it is.
Status ClientHandshakeError(SSL* ssl, const boost::system::error_code& ec, std::string_view peer);

// What the handshake on `ssl` agreed on.
TlsSessionInfo SessionInfo(SSL* ssl);

// True for errors of the OpenSSL categories.
bool IsSslError(const boost::system::error_code& ec) noexcept;

}  // namespace otlp::net::internal
