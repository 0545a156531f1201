// otlp/net/tls.h — TLS settings for clients and servers of the network layer (OpenSSL
// underneath, never in this header), and what a finished handshake agreed on.
//
//   // A client that trusts a private CA, refuses TLS 1.2 and offers HTTP/2 before HTTP/1.1:
//   otlp::net::TlsOptions client_tls{.ca_file = "/etc/otlp/ca.pem",
//                                    .min_version = otlp::net::TlsVersion::kTls13,
//                                    .alpn_protocols = {"h2", "http/1.1"}};
//   // A server with mutual TLS:
//   otlp::net::ServerTlsOptions server_tls{.certificate_file = "server.pem",
//                                          .key_file = "server.key",
//                                          .client_ca_file = "clients-ca.pem"};
//
// Both sides use TLS 1.2 or later by default; `min_version = TlsVersion::kTls13` refuses
// TLS 1.2 peers. Certificate and key files are PEM; a file that is missing, unreadable or not
// PEM, or a key that does not match its certificate, makes the component that loads it fail
// to start with a message naming the file (kNotFound or kInvalidArgument). A handshake that
// fails certificate verification is kPermissionDenied (over HTTP: HttpErrorKind::kCertificate);
// other handshake failures are kUnavailable, not retryable (HttpErrorKind::kTlsHandshake), and
// say what went wrong: no protocol version both sides accept (a minimum above the peer's
// maximum), a peer that does not speak TLS, no common ALPN protocol, or OpenSSL's reason.
//
// Threading: plain value types.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "otlp/core/export.h"

namespace otlp::net {

// The TLS protocol versions the network layer speaks (older ones are never negotiated).
enum class TlsVersion : uint8_t { kTls12, kTls13 };

// TLS settings of a client (HTTP client, WebSocket, NATS).
struct OTLP_EXPORT TlsOptions {
  bool verify_peer = true;                      // verify the server certificate and host name
  std::string ca_file{};                        // PEM CA bundle; the system store when empty
  // A directory of PEM CA certificates named by subject hash (`openssl rehash DIR`), searched
  // as needed; with ca_file, both are trusted; the system store only when both are empty.
  std::string ca_dir{};
  std::string client_certificate_file{};        // PEM chain for mutual TLS
  std::string client_key_file{};                // PEM private key for mutual TLS
  std::string server_name{};                    // SNI / verification name; the URL host when empty
  TlsVersion min_version = TlsVersion::kTls12;  // the oldest protocol version accepted
  // ALPN protocol names to offer, most preferred first (e.g. {"h2", "http/1.1"}); none when
  // empty. Each name is 1 to 255 bytes. A protocol client may fill in the ones it speaks.
  std::vector<std::string> alpn_protocols{};
};

// TLS settings of a server.
struct OTLP_EXPORT ServerTlsOptions {
  std::string certificate_file{};  // PEM chain
  std::string key_file{};          // PEM private key
  // When set, clients must present a certificate signed by one of these CAs (mutual TLS).
  std::string client_ca_file{};
  TlsVersion min_version = TlsVersion::kTls12;  // the oldest protocol version accepted
  // ALPN protocol names accepted, most preferred first. A client that offers ALPN but none of
  // these is refused during the handshake (RFC 7301's no_application_protocol alert); a client
  // that offers no ALPN is served. Empty: ALPN is not negotiated.
  std::vector<std::string> alpn_protocols{};
};

// What a completed handshake agreed on.
struct OTLP_EXPORT TlsSessionInfo {
  std::string version{};        // "TLSv1.3", "TLSv1.2"
  std::string cipher{};         // OpenSSL's name, e.g. "TLS_AES_256_GCM_SHA384"
  std::string alpn_protocol{};  // the protocol ALPN chose, e.g. "h2"; empty when none was
  std::string server_name{};    // SNI sent (client side) or received (server side); may be empty
};

}  // namespace otlp::net
