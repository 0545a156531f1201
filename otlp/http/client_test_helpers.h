// Helpers shared by the otlp::http client tests: short retry backoffs and a client that never
// reads the proxy variables of the environment the tests run in.
#pragma once

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include "otlp/core/internal/gzip.h"
#include "otlp/http/client.h"
#include "tests/support/status_matchers.h"

namespace otlp::http::testing {

// Short backoffs: the tests wait for retries, not for the defaults.
inline RetryPolicy FastRetry(int attempts = 3) {
  return RetryPolicy{.max_attempts = attempts, .initial_backoff = std::chrono::milliseconds(5),
                     .max_backoff = std::chrono::milliseconds(20)};
}

// A client with `options`, direct (no proxy) unless options.proxy says otherwise.
inline std::unique_ptr<Client> MakeClient(ClientOptions options = {}) {
  if (!options.proxy) options.proxy = ProxyConfig();
  auto client = Client::Create(std::move(options));
  EXPECT_OK(client);
  return client.ok() ? std::move(*client) : nullptr;
}

// `text` gzip-compressed (a test body for content decoding).
inline std::string Gzip(std::string_view text) {
  std::string out;
  EXPECT_OK(otlp::internal::GzipCompress(text, out));
  return out;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace otlp::http::testing
