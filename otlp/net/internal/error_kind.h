// otlp/net/internal/error_kind.h — which HttpErrorKind a socket, DNS or TLS failure is, shared
// by the engines that connect through internal::Stream (the HTTP client, WebSocket). Not
// installed.
#pragma once

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/system/error_code.hpp>

#include "otlp/core/status.h"
#include "otlp/net/http_client.h"
#include "otlp/net/internal/stream.h"
#include "otlp/net/internal/tls.h"

namespace otlp::net::internal {

// `status` is the stream's description of `ec` (Stream::ErrorStatus): a certificate failure is
// told apart by its kPermissionDenied code.
inline HttpErrorKind SocketErrorKind(const boost::system::error_code& ec, const Status& status) {
  namespace asio = boost::asio;
  if (ec == asio::error::connection_refused) return HttpErrorKind::kConnectionRefused;
  if (ec.category() == asio::error::get_netdb_category() ||
      ec.category() == asio::error::get_addrinfo_category()) {
    return HttpErrorKind::kDnsFailure;
  }
  if (status.code() == StatusCode::kPermissionDenied) return HttpErrorKind::kCertificate;
  if (ec == asio::error::connection_reset || ec == asio::error::connection_aborted ||
      ec == asio::error::broken_pipe || ec == asio::error::eof ||
      ec == asio::ssl::error::stream_truncated) {
    return HttpErrorKind::kConnectionReset;
  }
  if (ec == StreamError::kTlsSetup || IsSslError(ec)) return HttpErrorKind::kTlsHandshake;
  return HttpErrorKind::kNetwork;
}

}  // namespace otlp::net::internal
