// The OTLP/HTTP transport: POSTs each export request to the signal's URL through
// net::HttpClient (keep-alive connections, TLS for https) and classifies the answer as the OTLP
// specification says for HTTP. Internal: used by OtlpHttpExporter.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "otlp/core/status.h"
#include "otlp/exporter/transport.h"
#include "otlp/net/http_client.h"

namespace otlp::exporter::internal {

class HttpTransport final : public Transport {
 public:
  struct Options {
    std::string endpoint;  // absolute http(s) URL
    net::Headers headers;  // extra request headers
    std::string user_agent;
    net::TlsOptions tls;
    size_t max_idle_connections = 1;
    std::chrono::milliseconds connect_timeout{10000};
    // The I/O runtime. Null: a caller-driven one (net::Runtime::CreateCallerDriven), so that
    // each Send runs its request's I/O on the sending thread.
    std::shared_ptr<net::Runtime> runtime;
  };
  // Fails like net::HttpClient::Create (an unreadable TLS file ...).
  static Result<std::unique_ptr<HttpTransport>> Create(Options options);

  // POST with Content-Type application/x-protobuf or application/json (Content-Encoding gzip
  // when compressed). 2xx is kAccepted (also when the connection ends inside the response body:
  // the status line is the answer); 429, 502, 503, 504 kRetryable, with Retry-After on 429 and
  // 503; everything else kRejected, its google.rpc.Status message (or a printable excerpt of the
  // body) in `detail`.
  Result<TransportResponse> Send(const TransportRequest& request) override;
  void Cancel() noexcept override;
  // For messages: the URL with any credentials redacted.
  std::string_view endpoint() const noexcept override { return endpoint_for_messages_; }

 private:
  HttpTransport(std::string endpoint, net::Headers headers, std::shared_ptr<net::Runtime> runtime,
                std::unique_ptr<net::HttpClient> client);

  const std::string endpoint_;
  const std::string endpoint_for_messages_;
  const net::Headers headers_;
  // Declared before the client so that it outlives it.
  std::shared_ptr<net::Runtime> runtime_;
  std::unique_ptr<net::HttpClient> client_;
};

// A short, printable excerpt of a response body that is not a google.rpc.Status; empty for
// binary data.
std::string BodyExcerpt(std::string_view body);

}  // namespace otlp::exporter::internal
