#include "tests/support/scripted_http_server.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "otlp/core/internal/gzip.h"

namespace otlp::test {
namespace {

using otlp::internal::MutexLock;

// Largest body a gzip request may inflate to.
constexpr size_t kMaxDecodedBody = 256 * 1024 * 1024;
}  // namespace

Result<std::unique_ptr<ScriptedHttpServer>> ScriptedHttpServer::Start(Options options) {
  std::unique_ptr<ScriptedHttpServer> self(new ScriptedHttpServer(std::move(options)));
  self->runtime_ = self->options_.runtime ? self->options_.runtime : net::Runtime::Create();
  ScriptedHttpServer* raw = self.get();
  OTLP_ASSIGN_OR_RETURN(
      self->server_,
      net::HttpServer::Start(self->runtime_,
                             {.host = self->options_.host,
                              .port = self->options_.port,
                              .tls = self->options_.tls,
                              .max_request_body = self->options_.max_request_body},
                             [raw](const net::ServerRequest& req, net::ServerResponse& res) {
                               raw->Handle(req, res);
                             }));
  self->timer_thread_ = std::thread([raw] { raw->TimerLoop(); });
  return self;
}

ScriptedHttpServer::ScriptedHttpServer(Options options) : options_(std::move(options)) {}

ScriptedHttpServer::~ScriptedHttpServer() {
  Stop();
}

void ScriptedHttpServer::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  if (timer_thread_.joinable()) timer_thread_.join();
  // After this no handler runs any more, so the vectors below are ours.
  if (server_) server_->Stop();
  std::vector<std::shared_ptr<net::Responder>> hanging;
  std::vector<Delayed> delayed;
  {
    MutexLock lock(mu_);
    hanging.swap(hanging_);
    delayed.swap(delayed_);
  }
}

void ScriptedHttpServer::Handle(const net::ServerRequest& request, net::ServerResponse& response) {
  RecordedRequest record;
  record.method = request.method;
  record.target = request.target;
  record.headers = request.headers;
  record.wire_body_size = request.body.size();
  const auto encoding = request.Header("Content-Encoding");
  if (encoding) {
    std::string lower(*encoding);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    record.gzip = lower == "gzip" || lower == "x-gzip";
  }
  if (record.gzip) {
    Result<std::string> decoded = otlp::internal::GzipDecompress(request.body, kMaxDecodedBody);
    if (decoded.ok()) {
      record.body = std::move(*decoded);
    } else {
      record.decode_error = decoded.status().message();
    }
  } else {
    record.body = request.body;
  }

  std::optional<ScriptedReply> reply;
  if (options_.on_request) reply = options_.on_request(record);
  MutexLock lock(mu_);
  requests_.push_back(std::move(record));
  if (!reply) {
    if (!script_.empty()) {
      reply = std::move(script_.front());
      script_.pop_front();
    } else {
      reply = options_.default_reply;
    }
  }
  cv_.NotifyAll();
  if (stopping_) {
    response.close_connection = true;
    return;
  }
  switch (reply->action) {
    case ScriptedReply::Action::kHang: hanging_.push_back(response.Defer()); return;
    case ScriptedReply::Action::kDrop:
      if (reply->delay.count() <= 0) {
        response.close_connection = true;
        return;
      }
      break;
    case ScriptedReply::Action::kReply:
      if (reply->delay.count() <= 0) {
        response.status = reply->status;
        response.headers = std::move(reply->headers);
        response.body = std::move(reply->body);
        return;
      }
      break;
  }
  delayed_.push_back(
      {std::chrono::steady_clock::now() + reply->delay, response.Defer(), std::move(*reply)});
}

void ScriptedHttpServer::TimerLoop() {
  MutexLock lock(mu_);
  while (!stopping_) {
    if (delayed_.empty()) {
      cv_.Wait(lock);
      continue;
    }
    auto earliest =
        std::min_element(delayed_.begin(), delayed_.end(),
                         [](const Delayed& a, const Delayed& b) { return a.when < b.when; });
    // A copy: while this waits, Handle() may grow delayed_ and move its elements.
    const std::chrono::steady_clock::time_point when = earliest->when;
    if (std::chrono::steady_clock::now() < when) {
      cv_.WaitUntil(lock, when);
      continue;
    }
    Delayed due = std::move(*earliest);
    delayed_.erase(earliest);
    lock.Unlock();
    if (due.reply.action == ScriptedReply::Action::kDrop) {
      due.responder->Close();
    } else {
      due.responder->Send(due.reply.status, std::move(due.reply.headers),
                          std::move(due.reply.body));
    }
    lock.Lock();
  }
}

uint16_t ScriptedHttpServer::port() const noexcept {
  return server_->port();
}

std::string ScriptedHttpServer::base_url() const {
  return server_->base_url();
}

std::string ScriptedHttpServer::Url(std::string_view path) const {
  std::string url = base_url();
  if (path.empty() || path.front() != '/') url += '/';
  url += path;
  return url;
}

void ScriptedHttpServer::Enqueue(ScriptedReply reply) {
  MutexLock lock(mu_);
  script_.push_back(std::move(reply));
}

void ScriptedHttpServer::EnqueueAll(std::vector<ScriptedReply> replies) {
  MutexLock lock(mu_);
  for (auto& reply : replies) script_.push_back(std::move(reply));
}

size_t ScriptedHttpServer::pending_replies() const {
  MutexLock lock(mu_);
  return script_.size();
}

std::vector<RecordedRequest> ScriptedHttpServer::requests() const {
  MutexLock lock(mu_);
  return requests_;
}

size_t ScriptedHttpServer::request_count() const {
  MutexLock lock(mu_);
  return requests_.size();
}

bool ScriptedHttpServer::WaitForRequests(size_t n, std::chrono::milliseconds timeout) const {
  MutexLock lock(mu_);
  return cv_.WaitFor(lock, timeout, [&]() OTLP_REQUIRES(mu_) { return requests_.size() >= n; });
}

void ScriptedHttpServer::ClearRequests() {
  MutexLock lock(mu_);
  requests_.clear();
}

void ScriptedHttpServer::CloseIdleConnections() {
  server_->CloseIdleConnections();
}

uint64_t ScriptedHttpServer::connections_accepted() const noexcept {
  return server_->connections_accepted();
}

}  // namespace otlp::test
