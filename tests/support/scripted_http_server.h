// tests/support/scripted_http_server.h — an in-process OTLP/HTTP receiver for fault tests, on
// top of otlp::net::HttpServer. Replies come from a script (a FIFO queue), then from a default;
// every request is recorded with its body decoded (gzip via zlib).
//
//   ASSERT_OK_AND_ASSIGN(auto server, otlp::test::ScriptedHttpServer::Start());
//   auto& s = *server;
//   s.Enqueue({.status = 503, .headers = {{"Retry-After", "1"}}});
//   s.Enqueue(otlp::test::ScriptedReply::Drop());           // close without answering
//   s.Enqueue({.status = 200, .delay = std::chrono::milliseconds(300)});
//   exporter_options.endpoint = s.Url("/v1/traces");
//   ...
//   ASSERT_TRUE(s.WaitForRequests(3, std::chrono::seconds(10)));
//   EXPECT_EQ(s.requests()[2].Header("Content-Encoding"), "gzip");
//
// Delays never block the I/O thread (a timer thread answers later). A request is recorded when
// it arrives, before its reply (so WaitForRequests also sees requests that will hang).
// Threading: every method is thread-safe. Stop() (also in the destructor) closes connections,
// releases hanging requests and joins the timer thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "otlp/core/internal/mutex.h"
#include "otlp/core/status.h"
#include "otlp/net/http_client.h"
#include "otlp/net/http_server.h"

namespace otlp::test {

struct ScriptedReply {
  enum class Action {
    kReply,  // answer with status/headers/body (after `delay`)
    kDrop,   // close the connection without answering (after `delay`)
    kHang,   // never answer; the connection stays open until Stop()
  };
  int status = 200;
  net::Headers headers{};
  std::string body{};
  std::chrono::milliseconds delay{0};
  Action action = Action::kReply;

  static ScriptedReply Drop() { return {.action = Action::kDrop}; }
  static ScriptedReply Hang() { return {.action = Action::kHang}; }
};

struct RecordedRequest {
  std::string method{};
  std::string target{};
  net::Headers headers{};
  std::string body{};          // decoded when Content-Encoding: gzip
  size_t wire_body_size = 0;   // bytes as received
  bool gzip = false;           // Content-Encoding was gzip
  std::string decode_error{};  // non-empty when the gzip body could not be decoded
  std::optional<std::string_view> Header(std::string_view name) const noexcept {
    return net::FindHeader(headers, name);
  }
};

class ScriptedHttpServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    uint16_t port = 0;  // ephemeral
    std::optional<net::ServerTlsOptions> tls{};
    // Used when the script is empty.
    ScriptedReply default_reply{};
    size_t max_request_body = 64 * 1024 * 1024;
    // When set, called for every request first; a reply it returns bypasses the script.
    std::function<std::optional<ScriptedReply>(const RecordedRequest&)> on_request{};
    // Shared runtime; a private one-thread runtime when null.
    std::shared_ptr<net::Runtime> runtime{};
  };

  static Result<std::unique_ptr<ScriptedHttpServer>> Start(Options options);
  static Result<std::unique_ptr<ScriptedHttpServer>> Start() { return Start(Options{}); }
  ~ScriptedHttpServer();
  ScriptedHttpServer(const ScriptedHttpServer&) = delete;
  ScriptedHttpServer& operator=(const ScriptedHttpServer&) = delete;

  uint16_t port() const noexcept;
  // "http://127.0.0.1:<port>" (https with TLS).
  std::string base_url() const;
  // base_url() + path, e.g. Url("/v1/traces").
  std::string Url(std::string_view path) const;

  // Appends to the script; replies are used in order, one per request.
  void Enqueue(ScriptedReply reply);
  void EnqueueAll(std::vector<ScriptedReply> replies);
  size_t pending_replies() const;

  std::vector<RecordedRequest> requests() const;
  size_t request_count() const;
  // True once at least n requests have arrived; false after `timeout`.
  bool WaitForRequests(size_t n, std::chrono::milliseconds timeout) const;
  void ClearRequests();

  // See net::HttpServer::CloseIdleConnections.
  void CloseIdleConnections();
  uint64_t connections_accepted() const noexcept;

  void Stop();

 private:
  struct Delayed {
    std::chrono::steady_clock::time_point when;
    std::shared_ptr<net::Responder> responder{};
    ScriptedReply reply{};
  };

  explicit ScriptedHttpServer(Options options);
  void Handle(const net::ServerRequest& request, net::ServerResponse& response) OTLP_EXCLUDES(mu_);
  void TimerLoop() OTLP_EXCLUDES(mu_);

  Options options_;
  std::shared_ptr<net::Runtime> runtime_;
  std::unique_ptr<net::HttpServer> server_;

  mutable otlp::internal::Mutex mu_;
  mutable otlp::internal::CondVar cv_;  // a request arrived / timer work / stopping
  std::deque<ScriptedReply> script_ OTLP_GUARDED_BY(mu_);
  std::vector<RecordedRequest> requests_ OTLP_GUARDED_BY(mu_);
  std::vector<Delayed> delayed_ OTLP_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<net::Responder>> hanging_ OTLP_GUARDED_BY(mu_);
  bool stopping_ OTLP_GUARDED_BY(mu_) = false;
  std::thread timer_thread_;
};

}  // namespace otlp::test
