#include "otlp/view/viewer.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>
#include <thread>
#include <utility>

#include "otlp/net/http_client.h"
#include "otlp/net/http_server.h"
#include "otlp/net/runtime.h"
#include "otlp/net/url.h"
#include "otlp/view/internal/ui_assets.h"

namespace otlp::view {

namespace {

using Clock = std::chrono::steady_clock;
namespace decoded = exporter::decoded;

constexpr std::string_view kGrpcTracesPath =
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
constexpr std::string_view kGrpcLogsPath =
    "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
constexpr std::string_view kGrpcMetricsPath =
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

void PutBytesField(std::string& out, int field, std::string_view bytes) {
  PutVarint(out, (static_cast<uint64_t>(field) << 3) | 2);
  PutVarint(out, bytes.size());
  out += bytes;
}

// Export{Trace,Logs,Metrics}ServiceResponse: partial_success (1) { rejected_spans /
// rejected_log_records / rejected_data_points (1), error_message (2) }.
std::string ExportResponseProto(uint64_t rejected, const std::string& message) {
  if (rejected == 0 && message.empty()) return {};
  std::string partial;
  if (rejected != 0) {
    PutVarint(partial, (1u << 3) | 0);
    PutVarint(partial, rejected);
  }
  if (!message.empty()) PutBytesField(partial, 2, message);
  std::string out;
  PutBytesField(out, 1, partial);
  return out;
}

std::string ExportResponseJson(std::string_view signal, uint64_t rejected,
                               const std::string& message) {
  if (rejected == 0 && message.empty()) return "{}";
  nlohmann::json partial = nlohmann::json::object();
  const char* field = signal == "traces" ? "rejectedSpans"
                      : signal == "logs" ? "rejectedLogRecords"
                                         : "rejectedDataPoints";
  if (rejected != 0) partial[field] = std::to_string(rejected);
  if (!message.empty()) partial["errorMessage"] = message;
  return nlohmann::json{{"partialSuccess", partial}}.dump();
}

// google.rpc.Status: code (1), message (2).
std::string RpcStatusProto(int code, const std::string& message) {
  std::string out;
  PutVarint(out, (1u << 3) | 0);
  PutVarint(out, static_cast<uint64_t>(code));
  PutBytesField(out, 2, message);
  return out;
}

// %XX and '+' of a query string component.
std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto r = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (r.ec == std::errc() && r.ptr == s.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
      } else {
        out += s[i];
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

// The key=value pairs of a query string, decoded, in order.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    out.emplace_back(PercentDecode(part.substr(0, eq)),
                     eq == std::string_view::npos ? "" : PercentDecode(part.substr(eq + 1)));
  }
  return out;
}

std::optional<uint64_t> ParseU64(const std::string& s) {
  uint64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string ContentTypeBase(std::string_view ct) {
  std::string out(ct.substr(0, ct.find(';')));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

void JsonAnswer(net::ServerResponse& res, int status, std::string body) {
  res.status = status;
  res.headers = {{"Content-Type", "application/json; charset=utf-8"},
                 {"Cache-Control", "no-store"}};
  res.body = std::move(body);
}

void JsonError(net::ServerResponse& res, int status, const std::string& message) {
  JsonAnswer(res, status, nlohmann::json{{"error", message}}.dump());
}

}  // namespace

struct Viewer::Impl {
  ViewerOptions options;
  std::shared_ptr<net::Runtime> runtime;
  std::unique_ptr<Store> store;
  std::unique_ptr<net::HttpServer> otlp_http;
  std::unique_ptr<net::HttpServer> otlp_grpc;
  std::unique_ptr<net::HttpServer> ui;
  std::unique_ptr<net::HttpClient> forward_client;
  std::mutex forward_mu;
  std::condition_variable forward_cv;
  int forward_in_flight = 0;  // under forward_mu
  std::atomic<uint64_t> forwarded{0};
  std::atomic<uint64_t> forward_failures{0};

  static constexpr int kMaxForwardsInFlight = 64;

  // Sends an accepted request on to options.forward_url (see viewer.h).
  void Forward(std::string body, std::string content_type, bool gzip) {
    if (!forward_client) return;
    {
      std::lock_guard lock(forward_mu);
      if (forward_in_flight == kMaxForwardsInFlight) {
        ForwardFailed("more than " + std::to_string(kMaxForwardsInFlight) +
                      " requests waiting for the collector");
        return;
      }
      ++forward_in_flight;
    }
    net::HttpRequest req;
    req.method = "POST";
    req.url = options.forward_url + "/v1/traces";
    req.headers = {{"Content-Type", std::move(content_type)}};
    if (gzip) req.headers.Add("Content-Encoding", "gzip");
    req.body = std::move(body);
    req.timeout = std::chrono::seconds(10);
    forward_client->SendAsync(std::move(req), [this](Result<net::HttpResponse> r) {
      if (!r.ok()) {
        ForwardFailed(r.status().message());
      } else if (r->status < 200 || r->status > 299) {
        ForwardFailed("the collector answered HTTP " + std::to_string(r->status));
      } else {
        forwarded.fetch_add(1);
      }
      // Last: Stop() may destroy *this once the count reaches zero (notified under the lock,
      // so the waiter cannot return before this call is done with the condition variable).
      std::lock_guard lock(forward_mu);
      --forward_in_flight;
      forward_cv.notify_all();
    });
  }

  // Waits until no forward is in flight, or until `deadline` (time_point::max(): no limit).
  void WaitForForwards(Clock::time_point deadline) {
    std::unique_lock lock(forward_mu);
    forward_cv.wait_until(lock, deadline, [&] { return forward_in_flight == 0; });
  }

  void ForwardFailed(const std::string& why) {
    const uint64_t n = forward_failures.fetch_add(1) + 1;
    // The first failure, then every hundredth: a collector that is down must not flood stderr.
    if (options.on_warning && (n == 1 || n % 100 == 0)) {
      options.on_warning("could not forward to " + options.forward_url + ": " + why + " (" +
                         std::to_string(n) + " request" + (n == 1 ? "" : "s") + " not forwarded)");
    }
  }

  // Traces that received spans, and when they last did (for on_trace_complete).
  std::mutex pending_mu;
  std::condition_variable pending_cv;
  std::map<std::string, Clock::time_point> pending;
  bool stopping = false;
  std::thread completer;

  void TracesWritten(const std::vector<std::string>& ids) {
    if (!options.on_trace_complete) return;
    std::lock_guard lock(pending_mu);
    const auto now = Clock::now();
    for (const std::string& id : ids) pending[id] = now;
    pending_cv.notify_one();
  }

  void CompleterLoop() {
    std::unique_lock lock(pending_mu);
    while (!stopping) {
      if (pending.empty()) {
        pending_cv.wait(lock);
        continue;
      }
      auto oldest = std::min_element(pending.begin(), pending.end(), [](const auto& a, const auto& b) {
        return a.second < b.second;
      });
      const auto due = oldest->second + options.quiet_period;
      if (Clock::now() < due) {
        pending_cv.wait_until(lock, due);
        continue;
      }
      const std::string id = oldest->first;
      pending.erase(oldest);
      lock.unlock();
      options.on_trace_complete(id, store->TraceSpans(id));
      lock.lock();
    }
  }

  // What one OTLP signal's request came to: decoded and queued for the store, or refused.
  struct Accepted {
    // Not OK: undecodable (kInvalidArgument), too large (kResourceExhausted), or the store's
    // queue is full (kUnavailable: try again later).
    Status status;
    uint64_t rejected = 0;
    std::string rejection;
  };

  static Status Busy() {
    return UnavailableError("otlp view is still storing earlier requests; try again shortly");
  }

  // Decodes `body` as the export request of `signal` ("traces", "logs", "metrics") and hands it
  // to the store.
  Accepted Accept(std::string_view signal, std::string_view body, exporter::OtlpEncoding encoding,
                  bool gzip) {
    exporter::DecodeLimits limits;
    limits.max_body_bytes = options.max_body_bytes;
    Accepted out;
    if (signal == "traces") {
      auto r = exporter::DecodeTraceRequest(body, encoding, gzip, limits);
      if (!r.ok()) return {r.status()};
      out.rejected = r->rejected_spans;
      out.rejection = r->rejection;
      if (!store->AddTraces(std::move(*r))) return {Busy()};
    } else if (signal == "logs") {
      auto r = exporter::DecodeLogsRequest(body, encoding, gzip, limits);
      if (!r.ok()) return {r.status()};
      out.rejected = r->rejected_log_records;
      out.rejection = r->rejection;
      if (!store->AddLogs(std::move(*r))) return {Busy()};
    } else {
      auto r = exporter::DecodeMetricsRequest(body, encoding, gzip, limits);
      if (!r.ok()) return {r.status()};
      out.rejected = r->rejected_data_points;
      out.rejection = r->rejection;
      if (!store->AddMetrics(std::move(*r))) return {Busy()};
    }
    return out;
  }

  // POST /v1/traces, /v1/logs, /v1/metrics.
  void HandleOtlpHttp(const net::ServerRequest& req, net::ServerResponse& res) {
    const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
    const std::string_view signal = path == "/v1/traces"    ? "traces"
                                    : path == "/v1/logs"    ? "logs"
                                    : path == "/v1/metrics" ? "metrics"
                                                            : "";
    if (signal.empty()) {
      res.status = 404;
      res.headers = {{"Content-Type", "text/plain"}};
      res.body = "otlp view receives OTLP/HTTP on /v1/traces, /v1/logs and /v1/metrics, not " +
                 std::string(path) + "\n";
      return;
    }
    if (req.method != "POST") {
      res.status = 405;
      res.headers = {{"Allow", "POST"}, {"Content-Type", "text/plain"}};
      res.body = "use POST\n";
      return;
    }
    const std::string ct = ContentTypeBase(req.Header("Content-Type").value_or(""));
    exporter::OtlpEncoding encoding;
    if (ct == "application/x-protobuf" || ct == "application/protobuf") {
      encoding = exporter::OtlpEncoding::kProtobuf;
    } else if (ct == "application/json") {
      encoding = exporter::OtlpEncoding::kJson;
    } else {
      res.status = 415;
      res.headers = {{"Content-Type", "text/plain"}};
      res.body = "unsupported Content-Type '" + ct +
                 "': OTLP/HTTP takes application/x-protobuf or application/json\n";
      return;
    }
    const bool json = encoding == exporter::OtlpEncoding::kJson;
    const std::string ce = ContentTypeBase(req.Header("Content-Encoding").value_or("identity"));
    if (ce != "gzip" && ce != "identity") {
      res.status = 415;
      res.headers = {{"Content-Type", "text/plain"}};
      res.body = "unsupported Content-Encoding '" + ce + "': use gzip or none\n";
      return;
    }
    const std::string type = json ? "application/json" : "application/x-protobuf";
    Accepted a = Accept(signal, req.body, encoding, ce == "gzip");
    if (!a.status.ok()) {
      // 503 with Retry-After is what OTLP exporters retry (the OTLP/HTTP specification's
      // throttling); 413 and 400 are final.
      const bool busy = a.status.code() == StatusCode::kUnavailable;
      const bool too_large = a.status.code() == StatusCode::kResourceExhausted;
      res.status = busy ? 503 : too_large ? 413 : 400;
      res.headers = {{"Content-Type", type}};
      if (busy) res.headers.Add("Retry-After", "1");
      const int rpc_code = busy ? 14 : too_large ? 8 : 3;
      res.body = json ? nlohmann::json{{"code", rpc_code}, {"message", a.status.message()}}.dump()
                      : RpcStatusProto(rpc_code, a.status.message());
      return;
    }
    if (signal == "traces") Forward(req.body, type, ce == "gzip");
    res.status = 200;
    res.headers = {{"Content-Type", type}};
    res.body = json ? ExportResponseJson(signal, a.rejected, a.rejection)
                    : ExportResponseProto(a.rejected, a.rejection);
  }

  // OTLP/gRPC: unary TraceService/Export, LogsService/Export, MetricsService/Export over h2c.
  void HandleGrpc(const net::ServerRequest& req, net::ServerResponse& res) {
    res.status = 200;
    res.headers = {{"Content-Type", "application/grpc"}};
    auto fail = [&](int code, const std::string& message) {
      res.trailers = {{"grpc-status", std::to_string(code)}, {"grpc-message", message}};
    };
    const std::string ct = ContentTypeBase(req.Header("Content-Type").value_or(""));
    if (req.version != "2" || !ct.starts_with("application/grpc")) {
      res.status = 415;
      res.headers = {{"Content-Type", "text/plain"}};
      res.body = "this port speaks OTLP/gRPC (HTTP/2, application/grpc)\n";
      return;
    }
    const std::string_view path = req.target;
    const std::string_view signal = path == kGrpcTracesPath    ? "traces"
                                    : path == kGrpcLogsPath    ? "logs"
                                    : path == kGrpcMetricsPath ? "metrics"
                                                               : "";
    if (signal.empty()) return fail(12, "unknown method " + std::string(path));
    // One length-prefixed message: compressed flag, 4-byte big-endian length, bytes.
    const std::string& body = req.body;
    if (body.size() < 5) return fail(3, "the request message is missing or cut short");
    const bool compressed = body[0] != 0;
    const uint32_t len = (uint32_t{static_cast<uint8_t>(body[1])} << 24) |
                         (uint32_t{static_cast<uint8_t>(body[2])} << 16) |
                         (uint32_t{static_cast<uint8_t>(body[3])} << 8) |
                         uint32_t{static_cast<uint8_t>(body[4])};
    if (body.size() - 5 != len) {
      return fail(3, "the message length (" + std::to_string(len) + ") does not match the " +
                         std::to_string(body.size() - 5) + " bytes sent");
    }
    if (compressed) {
      const std::string enc = ContentTypeBase(req.Header("grpc-encoding").value_or(""));
      if (enc != "gzip") {
        return fail(12, "unsupported grpc-encoding '" + enc + "' (gzip is supported)");
      }
    }
    const std::string_view message = std::string_view(body).substr(5);
    Accepted a = Accept(signal, message, exporter::OtlpEncoding::kProtobuf, compressed);
    if (!a.status.ok()) {
      // UNAVAILABLE (14) is retried by OTLP/gRPC exporters; the others are final.
      const StatusCode code = a.status.code();
      return fail(code == StatusCode::kUnavailable        ? 14
                  : code == StatusCode::kResourceExhausted ? 8
                                                           : 3,
                  a.status.message());
    }
    if (signal == "traces") Forward(std::string(message), "application/x-protobuf", compressed);
    const std::string answer = ExportResponseProto(a.rejected, a.rejection);
    std::string framed(5, '\0');
    framed[1] = static_cast<char>((answer.size() >> 24) & 0xFF);
    framed[2] = static_cast<char>((answer.size() >> 16) & 0xFF);
    framed[3] = static_cast<char>((answer.size() >> 8) & 0xFF);
    framed[4] = static_cast<char>(answer.size() & 0xFF);
    res.body = framed + answer;
    res.trailers = {{"grpc-status", "0"}};
  }

  // The web UI's files and the JSON API.
  void HandleUi(const net::ServerRequest& req, net::ServerResponse& res) {
    const size_t q = req.target.find('?');
    const std::string path = req.target.substr(0, q);
    const std::string query = q == std::string::npos ? "" : req.target.substr(q + 1);
    if (req.method != "GET" && req.method != "HEAD") {
      return JsonError(res, 405, "the UI and its API take GET");
    }
    if (path.starts_with("/api/")) return HandleApi(path, query, res);
    const std::string_view file = path == "/" ? std::string_view("/index.html") : path;
    for (const internal::UiAsset& asset : internal::UiAssets()) {
      if (file.substr(1) == asset.path) {
        res.status = 200;
        res.headers = {{"Content-Type", std::string(asset.content_type)},
                       {"Cache-Control", "no-cache"}};
        res.body = std::string(asset.body);
        return;
      }
    }
    res.status = 404;
    res.headers = {{"Content-Type", "text/plain"}};
    res.body = "not found: " + path + "\n";
  }

  void HandleApi(const std::string& path, const std::string& query, net::ServerResponse& res) {
    if (path == "/api/services") return JsonAnswer(res, 200, store->ServicesJson());
    if (path == "/api/service-map") return JsonAnswer(res, 200, store->ServiceMapJson());
    if (path == "/api/metrics") return JsonAnswer(res, 200, store->MetricsJson());
    if (path == "/api/stats") return JsonAnswer(res, 200, store->StatsJson());
    if (path == "/api/traces") {
      TraceQuery tq;
      for (const auto& [k, v] : ParseQuery(query)) {
        if (v.empty()) continue;
        if (k == "service") {
          tq.service = v;
        } else if (k == "name") {
          tq.span_name = v;
        } else if (k == "attr") {
          const size_t eq = v.find('=');
          if (eq == std::string::npos || eq == 0) {
            return JsonError(res, 400, "attr takes key=value, not '" + v + "'");
          }
          tq.attributes.emplace_back(v.substr(0, eq), v.substr(eq + 1));
        } else if (k == "min_duration_ms") {
          double ms = 0;
          auto r = std::from_chars(v.data(), v.data() + v.size(), ms);
          if (r.ec != std::errc() || r.ptr != v.data() + v.size() || ms < 0) {
            return JsonError(res, 400, "min_duration_ms takes a number of milliseconds, not '" +
                                           v + "'");
          }
          tq.min_duration_ns = static_cast<uint64_t>(ms * 1e6);
        } else if (k == "status") {
          if (v == "error") {
            tq.status = TraceQuery::StatusFilter::kError;
          } else if (v == "ok") {
            tq.status = TraceQuery::StatusFilter::kOk;
          } else if (v != "any") {
            return JsonError(res, 400, "status takes error, ok or any, not '" + v + "'");
          }
        } else if (k == "start" || k == "end" || k == "limit") {
          auto n = ParseU64(v);
          if (!n) return JsonError(res, 400, k + " takes a non-negative integer, not '" + v + "'");
          if (k == "start") tq.start_unix_nano = *n;
          if (k == "end") tq.end_unix_nano = *n;
          if (k == "limit") {
            if (*n == 0 || *n > 1000) return JsonError(res, 400, "limit takes 1 to 1000");
            tq.limit = static_cast<size_t>(*n);
          }
        } else {
          return JsonError(res, 400, "unknown parameter '" + k + "'");
        }
      }
      return JsonAnswer(res, 200, store->TracesJson(tq));
    }
    if (path.starts_with("/api/traces/")) {
      std::string id = path.substr(std::string_view("/api/traces/").size());
      std::transform(id.begin(), id.end(), id.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (id.size() != 32 || id.find_first_not_of("0123456789abcdef") != std::string::npos) {
        return JsonError(res, 400, "a trace id is 32 hex digits, not '" + id + "'");
      }
      auto trace = store->TraceJson(id);
      if (!trace) return JsonError(res, 404, "no trace " + id);
      return JsonAnswer(res, 200, std::move(*trace));
    }
    JsonError(res, 404, "no such API: " + path + " (see docs/VIEW-API.md)");
  }
};

Result<std::unique_ptr<Viewer>> Viewer::Start(ViewerOptions options) {
  auto impl = std::make_unique<Impl>();
  Impl* self = impl.get();
  impl->options = std::move(options);
  StoreOptions so;
  so.path = impl->options.db_path;
  so.max_bytes = impl->options.max_db_bytes;
  so.max_queued_items = impl->options.max_queued_items;
  so.on_error = [self](const Status& st) {
    if (self->options.on_warning) {
      self->options.on_warning("could not store a batch: " + st.message());
    }
  };
  so.on_traces_written = [self](const std::vector<std::string>& ids) { self->TracesWritten(ids); };
  OTLP_ASSIGN_OR_RETURN(impl->store, Store::Open(std::move(so)));
  impl->runtime = net::Runtime::Create({.threads = 2, .thread_name = "otlp-view"});
  if (!impl->options.forward_url.empty()) {
    while (impl->options.forward_url.ends_with('/')) impl->options.forward_url.pop_back();
    auto parsed = net::Url::Parse(impl->options.forward_url);
    if (!parsed.ok() || (parsed->scheme != "http" && parsed->scheme != "https")) {
      return InvalidArgumentError("the forward URL must be an http:// or https:// URL, not '" +
                                  impl->options.forward_url + "'");
    }
    OTLP_ASSIGN_OR_RETURN(impl->forward_client, net::HttpClient::Create(impl->runtime, {}));
  }

  net::HttpServer::Options http;
  http.host = impl->options.host;
  http.port = impl->options.http_port;
  http.max_request_body = impl->options.max_body_bytes;
  // A client that stalls (slow-loris) is dropped after this long without progress.
  http.io_timeout = std::chrono::seconds(30);
  auto started = net::HttpServer::Start(
      impl->runtime, http,
      [self](const net::ServerRequest& req, net::ServerResponse& res) { self->HandleOtlpHttp(req, res); });
  if (!started.ok()) {
    return Status(started.status().code(), "OTLP/HTTP receiver on " + impl->options.host + ":" +
                                               std::to_string(impl->options.http_port) + ": " +
                                               started.status().message());
  }
  impl->otlp_http = std::move(*started);
  if (impl->options.grpc_port) {
    net::HttpServer::Options grpc = http;
    grpc.port = *impl->options.grpc_port;
    // The message and its 5-byte frame header.
    grpc.max_request_body = impl->options.max_body_bytes + 5;
    auto g = net::HttpServer::Start(
        impl->runtime, grpc,
        [self](const net::ServerRequest& req, net::ServerResponse& res) { self->HandleGrpc(req, res); });
    if (!g.ok()) {
      return Status(g.status().code(), "OTLP/gRPC receiver on " + impl->options.host + ":" +
                                           std::to_string(*impl->options.grpc_port) + ": " +
                                           g.status().message());
    }
    impl->otlp_grpc = std::move(*g);
  }
  if (impl->options.ui_port) {
    net::HttpServer::Options ui;
    ui.host = impl->options.host;
    ui.port = *impl->options.ui_port;
    ui.max_request_body = 64 * 1024;
    auto u = net::HttpServer::Start(
        impl->runtime, ui,
        [self](const net::ServerRequest& req, net::ServerResponse& res) { self->HandleUi(req, res); });
    if (!u.ok()) {
      return Status(u.status().code(), "web UI on " + impl->options.host + ":" +
                                           std::to_string(*impl->options.ui_port) + ": " +
                                           u.status().message());
    }
    impl->ui = std::move(*u);
  }
  if (impl->options.on_trace_complete) {
    impl->completer = std::thread([self] { self->CompleterLoop(); });
  }
  return std::unique_ptr<Viewer>(new Viewer(std::move(impl)));
}

Viewer::Viewer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Viewer::~Viewer() { Stop(); }

void Viewer::Stop() {
  if (impl_->otlp_http) impl_->otlp_http->Stop();
  if (impl_->otlp_grpc) impl_->otlp_grpc->Stop();
  if (impl_->ui) impl_->ui->Stop();
  if (impl_->forward_client) {
    // Forwards in flight get two seconds to finish, then are cancelled; cancelled requests
    // still call back (on an I/O thread) and use *impl_, so those are waited for too.
    impl_->WaitForForwards(Clock::now() + std::chrono::seconds(2));
    impl_->forward_client->Shutdown();
    impl_->WaitForForwards(Clock::time_point::max());
  }
  impl_->store->Flush();
  {
    std::lock_guard lock(impl_->pending_mu);
    impl_->stopping = true;
  }
  impl_->pending_cv.notify_all();
  if (impl_->completer.joinable()) impl_->completer.join();
}

std::string Viewer::otlp_http_url() const { return impl_->otlp_http->base_url(); }

std::string Viewer::otlp_grpc_address() const {
  return impl_->otlp_grpc ? impl_->options.host + ":" + std::to_string(impl_->otlp_grpc->port())
                          : std::string();
}

std::string Viewer::ui_url() const { return impl_->ui ? impl_->ui->base_url() + "/" : std::string(); }

Store& Viewer::store() { return *impl_->store; }

std::string Viewer::forward_url() const { return impl_->options.forward_url; }

uint64_t Viewer::forwarded() const { return impl_->forwarded.load(); }

uint64_t Viewer::forward_failures() const { return impl_->forward_failures.load(); }

}  // namespace otlp::view
