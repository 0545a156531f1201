// otlp/net/internal/tls.h — OpenSSL contexts for the client and the server, and TLS errors as
// Status. Not installed; never include it from a public header.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "otlp/core/status.h"
#include "otlp/net/http_client.h"
#include "otlp/net/http_server.h"

namespace otlp::net::internal {

// TLS 1.2+, peer verification per `options`, CA file or the system store, optional client
// certificate. File problems are kNotFound (missing) or kInvalidArgument (unreadable, not PEM,
// key does not match the certificate), with the path and OpenSSL's reason in the message.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeClientTlsContext(const TlsOptions& options);
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const ServerTlsOptions& options);

// Sets SNI (DNS names only) and the name or IP address the certificate must match.
Status PrepareClientSsl(SSL* ssl, const TlsOptions& options, const std::string& url_host);

// The Status for a failed client handshake: kPermissionDenied with OpenSSL's verification
// result when the certificate was rejected, otherwise kUnavailable (not retryable).
Status ClientHandshakeError(SSL* ssl, const boost::system::error_code& ec, std::string_view peer);

// True for errors of the OpenSSL categories.
bool IsSslError(const boost::system::error_code& ec) noexcept;

}  // namespace otlp::net::internal
