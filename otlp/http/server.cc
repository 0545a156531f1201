#include "otlp/http/server.h"

#include <atomic>
#include <exception>
#include <iterator>

#include "otlp/http/internal/router.h"
#include "otlp/http/internal/server_metrics.h"
#include "otlp/http/internal/server_span.h"

namespace otlp::http {
namespace internal {

void ServerMetrics::Record(std::string_view method, std::string_view route, int status,
                           std::string_view scheme, std::string_view error_type, double seconds) {
  constexpr size_t kBuckets = std::size(kServerDurationBuckets);
  size_t bucket = 0;
  while (bucket < kBuckets && seconds > kServerDurationBuckets[bucket]) ++bucket;
  otlp::internal::MutexLock lock(mu_);
  Key key{std::string(method), std::string(route), status, std::string(scheme),
          std::string(error_type)};
  auto it = series_.find(key);
  if (it == series_.end()) {
    ServerDurationSeries s{.method = std::get<0>(key),
                           .route = std::get<1>(key),
                           .status = status,
                           .scheme = std::get<3>(key),
                           .error_type = std::get<4>(key)};
    s.bucket_counts.assign(kBuckets + 1, 0);
    it = series_.emplace(std::move(key), std::move(s)).first;
  }
  ++it->second.count;
  it->second.sum += seconds;
  ++it->second.bucket_counts[bucket];
}

std::vector<ServerDurationSeries> ServerMetrics::Snapshot() const {
  otlp::internal::MutexLock lock(mu_);
  std::vector<ServerDurationSeries> out;
  out.reserve(series_.size());
  for (const auto& [key, s] : series_) out.push_back(s);
  return out;
}

}  // namespace internal

namespace {

using Clock = std::chrono::steady_clock;

bool IsStandardMethod(std::string_view m) {
  for (std::string_view k : {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
                             "TRACE", "PATCH"}) {
    if (k == m) return true;
  }
  return false;
}

// One request's span and measurement, finished once: when the handler returns, or when a
// deferred response is sent (possibly on another thread).
struct Exchange {
  internal::ServerSpan span;
  Clock::time_point start;
  std::string method;  // the metric's: a standard method or "_OTHER"
  std::string route;
  std::string scheme;
  internal::ServerMetrics* metrics = nullptr;
  std::atomic<bool> finished{false};

  void Finish(int status) {
    if (finished.exchange(true)) return;
    if (status < 100 || status > 999) status = 500;
    internal::EndServerSpan(span.span, status);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    metrics->Record(method, route, status, scheme,
                    status >= 500 ? std::to_string(status) : std::string(), seconds);
  }
};

class TracedResponder final : public ServerResponder {
 public:
  TracedResponder(std::shared_ptr<net::Responder> net, std::shared_ptr<Exchange> exchange)
      : net_(std::move(net)), exchange_(std::move(exchange)) {}
  ~TracedResponder() override {
    if (!used_.exchange(true)) exchange_->Finish(500);  // the connection closes unanswered
  }
  void Send(int status, net::Headers headers, std::string body) override {
    if (used_.exchange(true)) return;
    exchange_->Finish(status);
    net_->Send(status, std::move(headers), std::move(body));
  }

 private:
  std::shared_ptr<net::Responder> net_;
  std::shared_ptr<Exchange> exchange_;
  std::atomic<bool> used_{false};
};

}  // namespace

std::optional<std::string_view> ServerRequest::PathParam(std::string_view name) const noexcept {
  for (const auto& [k, v] : params_) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::shared_ptr<ServerResponder> ServerResponse::Defer() {
  if (!responder_ && defer_) responder_ = defer_();
  return responder_;
}

struct Server::Impl {
  Options options;
  internal::Router router;
  std::vector<Handler> handlers;
  std::shared_ptr<net::Runtime> runtime;
  std::unique_ptr<net::HttpServer> server;
  internal::ServerMetrics metrics;
  std::atomic<uint16_t> port{0};  // once started (read by handlers on the I/O threads)

  void Serve(const net::ServerRequest& req, net::ServerResponse& res) {
    auto exchange = std::make_shared<Exchange>();
    exchange->start = Clock::now();
    exchange->scheme = req.tls ? "https" : "http";
    exchange->metrics = &metrics;
    exchange->method = IsStandardMethod(req.method) ? req.method : std::string("_OTHER");

    const std::string_view target = req.target;
    const size_t question = target.find('?');
    const std::string_view path = target.substr(0, question);
    internal::Router::Match match = router.Find(req.method, path);
    if (match.kind == internal::Router::Match::kFound) exchange->route = std::string(match.route);

    exchange->span = internal::StartServerSpan(
        req.method, target, req.headers,
        {.route = exchange->route,
         .client_address = req.remote_address,
         .scheme = exchange->scheme,
         .protocol_version = req.version,
         .server_host = options.host,
         .server_port = port.load(std::memory_order_relaxed)});

    switch (match.kind) {
      case internal::Router::Match::kNotFound:
        res.status = 404;
        res.headers = {{"Content-Type", "text/plain"}};
        res.body = "no route for " + std::string(path) + "\n";
        return exchange->Finish(404);
      case internal::Router::Match::kMethodNotAllowed:
        res.status = 405;
        res.headers = {{"Allow", match.allow}, {"Content-Type", "text/plain"}};
        res.body = "method " + req.method + " not allowed; allowed: " + match.allow + "\n";
        return exchange->Finish(405);
      case internal::Router::Match::kBadPath:
        res.status = 400;
        res.headers = {{"Content-Type", "text/plain"}};
        res.body = "bad request: " + match.error + "\n";
        return exchange->Finish(400);
      case internal::Router::Match::kFound: break;
    }

    ServerRequest request;
    request.raw_ = &req;
    request.path_ = path;
    request.query_ = question == std::string_view::npos ? std::string_view()
                                                        : target.substr(question + 1);
    request.route_ = exchange->route;
    request.params_ = std::move(match.params);
    request.context_ = exchange->span.context;

    ServerResponse response;
    response.defer_ = [&res, exchange]() -> std::shared_ptr<ServerResponder> {
      return std::make_shared<TracedResponder>(res.Defer(), exchange);
    };
    bool threw = false;
    {
      trace::Scope scope(request.context_);
      try {
        handlers[match.handler](request, response);
      } catch (const std::exception&) {
        threw = true;
      } catch (...) {
        threw = true;
      }
    }
    if (response.responder_) {
      if (threw) response.responder_->Send(500, {{"Content-Type", "text/plain"}},
                                           "internal server error\n");
      return;
    }
    if (threw) {
      response.status = 500;
      response.headers = {{"Content-Type", "text/plain"}};
      response.body = "internal server error\n";
    }
    if (response.status < 100 || response.status > 999) response.status = 500;
    res.status = response.status;
    res.headers = std::move(response.headers);
    res.body = std::move(response.body);
    res.trailers = std::move(response.trailers);
    exchange->Finish(res.status);
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

std::unique_ptr<Server> Server::Create(Options options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Status Server::Route(std::string_view method, std::string_view path_template, Handler handler) {
  if (impl_->server) return FailedPreconditionError("routes cannot change once the server started");
  if (!handler) return InvalidArgumentError("a route needs a handler");
  OTLP_RETURN_IF_ERROR(impl_->router.Add(method, path_template, impl_->handlers.size()));
  impl_->handlers.push_back(std::move(handler));
  return Status::Ok();
}

Status Server::Start() {
  if (impl_->server) return FailedPreconditionError("the server is already started");
  const Options& o = impl_->options;
  impl_->runtime = o.runtime ? o.runtime
                             : net::Runtime::Create({.threads = std::max(1, o.threads),
                                                     .thread_name = "otlp-http-srv"});
  Impl* impl = impl_.get();
  auto server = net::HttpServer::Start(
      impl_->runtime,
      {.host = o.host,
       .port = o.port,
       .tls = o.tls,
       .max_request_body = o.max_request_body,
       .max_header_bytes = o.max_header_bytes,
       .io_timeout = o.io_timeout,
       .enable_http2 = o.enable_http2},
      [impl](const net::ServerRequest& req, net::ServerResponse& res) { impl->Serve(req, res); });
  if (!server.ok()) return server.status();
  impl_->server = std::move(*server);
  impl_->port.store(impl_->server->port(), std::memory_order_relaxed);
  return Status::Ok();
}

void Server::Stop() {
  if (impl_->server) impl_->server->Stop();
}

uint16_t Server::port() const noexcept { return impl_->server ? impl_->server->port() : 0; }

std::string Server::base_url() const {
  return impl_->server ? impl_->server->base_url() : std::string();
}

std::vector<ServerDurationSeries> Server::RequestDurations() const {
  return impl_->metrics.Snapshot();
}

}  // namespace otlp::http
