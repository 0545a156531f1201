#include "otlp/exporter/otlp_http_exporter.h"

#include <algorithm>
#include <fstream>
#include <random>
#include <utility>

#include "otlp/core/internal/ascii.h"
#include "otlp/core/internal/gzip.h"
#include "otlp/core/log.h"
#include "otlp/core/version.h"
#include "otlp/exporter/otlp_encoder.h"
#include "otlp/net/url.h"

namespace otlp::exporter {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr std::string_view kDefaultEndpoint = "http://localhost:4318/v1/traces";
constexpr milliseconds kDefaultTimeout{10000};
// Per-attempt limit when the export timeout is zero ("no limit").
constexpr milliseconds kUnlimitedAttemptTimeout{30000};
constexpr size_t kMaxConcurrentRequests = 64;

// Headers the exporter owns; a user value would corrupt the request.
constexpr std::string_view kReservedHeaders[] = {"content-type",   "content-encoding",
                                                 "content-length", "transfer-encoding",
                                                 "host",           "connection"};

using otlp::internal::ContainsIgnoreCase;
using otlp::internal::EqualsIgnoreCase;

// Where the authority of "scheme://authority/path?query" ends.
size_t AuthorityEnd(std::string_view url) {
  size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  return end == std::string_view::npos ? url.size() : end;
}

std::string WithScheme(std::string_view url, bool insecure) {
  if (url.find("://") != std::string_view::npos) return std::string(url);
  return std::string(insecure ? "http://" : "https://") + std::string(url);
}

// "http://h:1" → "http://h:1/"; a URL with a path is kept as is.
std::string WithRootPath(std::string url) {
  size_t end = AuthorityEnd(url);
  if (end == url.size() || url[end] != '/') url.insert(end, "/");
  return url;
}

std::string DurationText(milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

// A short, printable excerpt of an error body that is not a google.rpc.Status.
std::string BodyExcerpt(std::string_view body) {
  constexpr size_t kMax = 200;
  std::string out;
  for (char c : body.substr(0, kMax)) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != ' ') {
      if (c == '\n' || c == '\r' || c == '\t') {
        out.push_back(' ');
        continue;
      }
      return {};  // binary: not worth showing
    }
    out.push_back(c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (body.size() > kMax) out += "...";
  return out;
}

std::chrono::steady_clock::time_point DeadlineAfter(std::chrono::microseconds timeout) {
  // Guard against overflow for "wait forever" values such as microseconds::max().
  constexpr auto kFarAway = std::chrono::hours(24 * 365);
  if (timeout > kFarAway) return steady_clock::time_point::max();
  return steady_clock::now() + std::max(timeout, std::chrono::microseconds(0));
}

Status CheckReadable(const std::string& path, std::string_view what, std::string_view source) {
  std::ifstream f(path);
  if (f.good()) return Status::Ok();
  std::string msg = std::string(what) + " file '" + path + "'";
  if (!source.empty()) msg += " (from " + std::string(source) + ")";
  return InvalidArgumentError(msg + " cannot be read");
}

}  // namespace

namespace internal {

std::string ResolveTracesEndpoint(const std::optional<std::string>& code,
                                  const std::optional<std::string>& signal_env,
                                  const std::optional<std::string>& generic_env, bool insecure) {
  if (code) return WithRootPath(WithScheme(*code, insecure));
  if (signal_env) return WithRootPath(WithScheme(*signal_env, insecure));
  if (generic_env) {
    std::string base = WithScheme(*generic_env, insecure);
    size_t path_end = base.find_first_of("?#", AuthorityEnd(base));
    if (path_end == std::string::npos) path_end = base.size();
    std::string rest = base.substr(path_end);
    base.resize(path_end);
    if (base.empty() || base.back() != '/') base += '/';
    return base + "v1/traces" + rest;
  }
  return std::string(kDefaultEndpoint);
}

Status ValidateHeader(std::string_view name, std::string_view value) {
  constexpr std::string_view kTokenPunct = "!#$%&'*+-.^_`|~";
  if (name.empty()) return InvalidArgumentError("a header has an empty name");
  for (char c : name) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && kTokenPunct.find(c) == std::string_view::npos) {
      return InvalidArgumentError("header name '" + std::string(name) +
                                  "' has a character not allowed in a header name");
    }
  }
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      return InvalidArgumentError("the value of header '" + std::string(name) +
                                  "' contains a control character (CR, LF, NUL ...)");
    }
  }
  return Status::Ok();
}

}  // namespace internal

Result<OtlpHttpExporterConfig> OtlpHttpExporter::ResolveOptions(
    const OtlpHttpExporterOptions& options, config::Reader* env) {
  OtlpHttpExporterConfig c;

  // Protocol.
  std::string protocol_source = "protocol option";
  if (options.protocol) {
    c.protocol = *options.protocol;
  } else if (env) {
    if (auto p = env->GetEnum("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")) {
      protocol_source = std::string(env->last_source()) + "=" + *p;
      if (*p == "http/json")
        c.protocol = OtlpProtocol::kHttpJson;
      else if (*p == "grpc")
        c.protocol = OtlpProtocol::kGrpc;
      else
        c.protocol = OtlpProtocol::kHttpProtobuf;
    }
  }
  if (c.protocol == OtlpProtocol::kGrpc) {
    return InvalidArgumentError(protocol_source +
                                ": OTLP/gRPC is not supported yet; use http/protobuf");
  }

  // Endpoint.
  bool insecure = false;
  if (options.insecure) {
    insecure = *options.insecure;
  } else if (env) {
    insecure = env->GetBool("OTEL_EXPORTER_OTLP_TRACES_INSECURE").value_or(false);
  }
  std::optional<std::string> signal_env, generic_env;
  std::string endpoint_source = "endpoint option";
  if (!options.endpoint && env) {
    signal_env = env->GetString("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    if (signal_env) {
      endpoint_source = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
    } else {
      generic_env = env->GetString("OTEL_EXPORTER_OTLP_ENDPOINT");
      if (generic_env) endpoint_source = "OTEL_EXPORTER_OTLP_ENDPOINT";
    }
  }
  c.endpoint = internal::ResolveTracesEndpoint(options.endpoint, signal_env, generic_env, insecure);
  if (auto url = net::Url::Parse(c.endpoint); !url.ok()) {
    return InvalidArgumentError("invalid OTLP endpoint '" + c.endpoint + "' (from " +
                                endpoint_source + "): " + url.status().message());
  }

  // Headers. From code they must be valid; from the environment bad ones are dropped with a
  // warning, as the configuration spec asks.
  c.user_agent = kUserAgent;
  std::vector<std::pair<std::string, std::string>> headers;
  bool from_env = false;
  std::string_view header_source = "headers option";
  if (options.headers) {
    headers = options.headers->fields();
  } else if (env) {
    if (auto h = env->GetKeyValues("OTEL_EXPORTER_OTLP_TRACES_HEADERS")) {
      headers = std::move(*h);
      from_env = true;
      header_source = env->last_source();
    }
  }
  for (auto& header : headers) {
    const std::string& name = header.first;
    Status st = internal::ValidateHeader(name, header.second);
    if (st.ok()) {
      for (std::string_view reserved : kReservedHeaders) {
        if (EqualsIgnoreCase(reserved, name)) {
          st = InvalidArgumentError("header '" + name +
                                    "' is set by the exporter and cannot be overridden");
        }
      }
    }
    if (!st.ok()) {
      if (!from_env) return InvalidArgumentError(std::string(header_source) + ": " + st.message());
      env->Warn(std::string(header_source) + ": " + st.message() + "; the header is ignored");
      continue;
    }
    if (EqualsIgnoreCase(name, "user-agent")) {
      c.user_agent = header.second;
      continue;
    }
    c.headers.emplace_back(std::move(header));
  }

  // Timeout.
  if (options.timeout) {
    if (options.timeout->count() < 0) {
      return InvalidArgumentError("timeout must not be negative (0 means no limit)");
    }
    c.timeout = *options.timeout;
  } else if (env) {
    c.timeout = env->GetDuration("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT").value_or(kDefaultTimeout);
  }

  // Compression.
  if (options.compression) {
    c.compression = *options.compression;
  } else if (env) {
    if (auto v = env->GetEnum("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"); v && *v == "gzip") {
      c.compression = Compression::kGzip;
    }
  }

  // TLS files.
  struct FileOption {
    const std::optional<std::string>& code;
    std::string_view env_name;
    std::string_view what;
    std::string* target;
  };
  const FileOption files[] = {
      {options.certificate_file, "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "CA certificate",
       &c.tls.ca_file},
      {options.client_key_file, "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "client key",
       &c.tls.client_key_file},
      {options.client_certificate_file, "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
       "client certificate", &c.tls.client_certificate_file},
  };
  for (const auto& f : files) {
    std::string_view source;
    if (f.code) {
      *f.target = *f.code;
    } else if (env) {
      if (auto v = env->GetString(f.env_name)) {
        *f.target = std::move(*v);
        source = env->last_source();
      }
    }
    if (!f.target->empty()) OTLP_RETURN_IF_ERROR(CheckReadable(*f.target, f.what, source));
  }
  if (c.tls.client_key_file.empty() != c.tls.client_certificate_file.empty()) {
    return InvalidArgumentError(
        "mutual TLS needs both a client key and a client certificate; only one is set");
  }

  // Retry policy and concurrency (code only).
  const RetryPolicy& r = options.retry;
  if (r.max_attempts < 1) return InvalidArgumentError("retry.max_attempts must be at least 1");
  if (r.initial_backoff.count() < 0 || r.max_backoff.count() < 0 || r.max_retry_after.count() < 0) {
    return InvalidArgumentError("retry delays must not be negative");
  }
  if (!(r.multiplier >= 1.0) || !(r.jitter >= 0.0 && r.jitter <= 1.0)) {
    return InvalidArgumentError("retry.multiplier must be >= 1 and retry.jitter in [0, 1]");
  }
  c.retry = r;
  if (options.max_concurrent_requests < 1 ||
      options.max_concurrent_requests > kMaxConcurrentRequests) {
    return InvalidArgumentError("max_concurrent_requests must be in [1, " +
                                std::to_string(kMaxConcurrentRequests) + "]");
  }
  c.max_concurrent_requests = options.max_concurrent_requests;
  c.synchronous = options.synchronous;
  return c;
}

Result<std::unique_ptr<OtlpHttpExporter>> OtlpHttpExporter::Create(OtlpHttpExporterOptions options,
                                                                   config::Reader* env) {
  OTLP_ASSIGN_OR_RETURN(OtlpHttpExporterConfig cfg, ResolveOptions(options, env));
  try {
    std::shared_ptr<net::Runtime> runtime = std::move(options.runtime);
    if (!runtime) {
      runtime =
          net::Runtime::Create(net::Runtime::Options{.threads = 1, .thread_name = "otlp-exporter"});
      if (!runtime) return InternalError("could not start the exporter's I/O runtime");
    }
    net::HttpClient::Options copts;
    copts.tls = cfg.tls;
    copts.user_agent = cfg.user_agent;
    copts.max_idle_per_host = cfg.max_concurrent_requests;
    copts.default_timeout = kUnlimitedAttemptTimeout;
    if (cfg.timeout.count() > 0)
      copts.connect_timeout = std::min(copts.connect_timeout, cfg.timeout);
    auto client = net::HttpClient::Create(runtime, std::move(copts));
    if (!client.ok()) {
      Status st = client.status();
      return Status(st.code(), "OTLP exporter: " + st.message(), st.retryable());
    }
    std::unique_ptr<OtlpHttpExporter> exporter(
        new OtlpHttpExporter(std::move(cfg), std::move(runtime), std::move(*client)));
    if (!exporter->config_.synchronous) {
      for (size_t i = 0; i < exporter->config_.max_concurrent_requests; ++i) {
        exporter->senders_.emplace_back([e = exporter.get()] { e->SenderLoop(); });
      }
    }
    return exporter;
  } catch (const std::exception& e) {
    return InternalError(std::string("could not create the OTLP exporter: ") + e.what());
  }
}

OtlpHttpExporter::OtlpHttpExporter(OtlpHttpExporterConfig config,
                                   std::shared_ptr<net::Runtime> runtime,
                                   std::unique_ptr<net::HttpClient> client)
    : config_(std::move(config)), runtime_(std::move(runtime)), client_(std::move(client)) {
  std::random_device rd;
  seed_ = (uint64_t{rd()} << 32) ^ rd();
}

OtlpHttpExporter::~OtlpHttpExporter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
    stop_ = true;
  }
  cv_.notify_all();
  JoinSenders();
}

void OtlpHttpExporter::JoinSenders() {
  std::vector<std::thread> senders;
  {
    std::lock_guard<std::mutex> lock(mu_);
    senders.swap(senders_);
  }
  for (auto& t : senders) t.join();
}

Result<OtlpHttpExporter::Batch> OtlpHttpExporter::Encode(
    std::span<const trace::SpanData* const> spans) const {
  Batch b;
  b.spans = spans.size();
  if (config_.protocol == OtlpProtocol::kHttpJson) {
    EncodeTraceRequestJson(spans, b.body);
  } else {
    EncodeTraceRequestProto(spans, b.body);
  }
  if (config_.compression == Compression::kGzip) {
    std::string compressed;
    OTLP_RETURN_IF_ERROR(otlp::internal::GzipCompress(b.body, compressed));
    b.body = std::move(compressed);
  }
  return b;
}

trace::ExportResult OtlpHttpExporter::Export(
    std::span<const trace::SpanData* const> spans) noexcept {
  if (spans.empty()) return trace::ExportResult::kSuccess;
  try {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (shutdown_) {
        counters_.AddFailedBatch(spans.size());
        return trace::ExportResult::kFailure;
      }
    }
    auto batch = Encode(spans);
    if (!batch.ok()) {
      counters_.AddFailedBatch(spans.size());
      OTLP_LOG(kWarn, "OTLP export of " + std::to_string(spans.size()) +
                          " spans failed: " + batch.status().ToString());
      return trace::ExportResult::kFailure;
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (config_.synchronous) {
      if (shutdown_) {
        counters_.AddFailedBatch(spans.size());
        return trace::ExportResult::kFailure;
      }
      ++busy_;
      lock.unlock();
      bool delivered = Deliver(*batch);
      lock.lock();
      --busy_;
      lock.unlock();
      cv_.notify_all();
      return delivered ? trace::ExportResult::kSuccess : trace::ExportResult::kFailure;
    }
    // Back-pressure: wait for a free sender.
    cv_.wait(lock,
             [&] { return shutdown_ || queue_.size() + busy_ < config_.max_concurrent_requests; });
    if (shutdown_) {
      counters_.AddFailedBatch(spans.size());
      return trace::ExportResult::kFailure;
    }
    queue_.push_back(std::move(*batch));
    lock.unlock();
    cv_.notify_all();
    return trace::ExportResult::kSuccess;
  } catch (...) {
    counters_.AddFailedBatch(spans.size());
    return trace::ExportResult::kFailure;
  }
}

void OtlpHttpExporter::SenderLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) {
      // Destruction: whatever was not picked up is lost.
      for (const Batch& b : queue_) counters_.AddFailedBatch(b.spans);
      if (!queue_.empty()) {
        OTLP_LOG(kWarn, "OTLP exporter destroyed with " + std::to_string(queue_.size()) +
                            " batches not sent");
      }
      queue_.clear();
      lock.unlock();
      cv_.notify_all();
      return;
    }
    Batch b = std::move(queue_.front());
    queue_.pop_front();
    ++busy_;
    lock.unlock();
    Deliver(b);
    lock.lock();
    --busy_;
    cv_.notify_all();
  }
}

bool OtlpHttpExporter::SleepUnlessShutdown(steady_clock::time_point until) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_until(lock, until, [&] { return shutdown_; });
}

bool OtlpHttpExporter::Deliver(const Batch& batch) noexcept {
  std::string error;
  try {
    const auto start = steady_clock::now();
    const bool limited = config_.timeout.count() > 0;
    const auto deadline = start + config_.timeout;
    Backoff backoff(config_.retry, seed_ + batch_seq_.fetch_add(1, std::memory_order_relaxed) *
                                               0x9e3779b97f4a7c15ULL);
    for (int attempt = 1;; ++attempt) {
      net::HttpRequest req;
      req.method = "POST";
      req.url = config_.endpoint;
      req.headers.reserve(config_.headers.size() + 2);
      req.headers.emplace_back("Content-Type", config_.protocol == OtlpProtocol::kHttpJson
                                                   ? "application/json"
                                                   : "application/x-protobuf");
      if (config_.compression == Compression::kGzip) {
        req.headers.emplace_back("Content-Encoding", "gzip");
      }
      req.headers.insert(req.headers.end(), config_.headers.begin(), config_.headers.end());
      req.body = batch.body;
      if (limited) {
        auto left = std::chrono::ceil<milliseconds>(deadline - steady_clock::now());
        if (left.count() <= 0) {
          error += "; export timeout of " + DurationText(config_.timeout) + " reached";
          break;
        }
        req.timeout = left;
      } else {
        req.timeout = kUnlimitedAttemptTimeout;
      }

      counters_.AddRequest(batch.body.size(), attempt > 1);
      Result<net::HttpResponse> resp = client_->Send(std::move(req));
      std::optional<milliseconds> server_delay;
      if (resp.ok()) {
        const int code = resp->status;
        if (code >= 200 && code < 300) {
          HandleSuccess(batch, *resp);
          return true;
        }
        error = "HTTP " + std::to_string(code) + ErrorDetail(*resp);
        if (!IsRetryableHttpStatus(code)) break;
        if (HonoursRetryAfter(code)) {
          if (auto h = resp->Header("Retry-After")) {
            server_delay = ParseRetryAfter(*h, std::chrono::system_clock::now());
          }
        }
      } else {
        error = resp.status().ToString();
        if (!resp.status().retryable()) break;
      }

      if (attempt >= config_.retry.max_attempts) {
        error += "; gave up after " + std::to_string(attempt) + " attempts";
        break;
      }
      milliseconds delay =
          server_delay ? std::min(*server_delay, config_.retry.max_retry_after) : backoff.Next();
      auto wake = steady_clock::now() + delay;
      if (limited && wake >= deadline) {
        error += "; gave up after " + std::to_string(attempt) + " attempts: the next retry (in " +
                 std::to_string(delay.count()) + " ms) would pass the export timeout of " +
                 DurationText(config_.timeout);
        break;
      }
      OTLP_LOG(kDebug, "OTLP export attempt " + std::to_string(attempt) + " failed (" + error +
                           "); retrying in " + std::to_string(delay.count()) + " ms");
      if (!SleepUnlessShutdown(wake)) {
        error += "; not retried: the exporter is shutting down";
        break;
      }
    }
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown error";
  }
  counters_.AddFailedBatch(batch.spans);
  if (!error.empty() && error.front() == ';') error.erase(0, 2);
  OTLP_LOG(kWarn, "OTLP export of " + std::to_string(batch.spans) + " spans to " +
                      config_.endpoint + " failed: " + error);
  return false;
}

void OtlpHttpExporter::HandleSuccess(const Batch& batch,
                                     const net::HttpResponse& response) noexcept {
  try {
    bool json = config_.protocol == OtlpProtocol::kHttpJson;
    if (auto ct = response.Header("Content-Type")) {
      if (ContainsIgnoreCase(*ct, "json"))
        json = true;
      else if (ContainsIgnoreCase(*ct, "protobuf"))
        json = false;
    }
    Result<PartialSuccess> ps =
        json ? DecodeTraceResponseJson(response.body) : DecodeTraceResponseProto(response.body);
    if (!ps.ok()) {
      // The collector took the data; only its answer is unreadable.
      OTLP_LOG(kDebug,
               "OTLP export: could not decode the collector's response: " + ps.status().ToString());
      counters_.AddExported(batch.spans);
      return;
    }
    uint64_t rejected = 0;
    if (ps->present()) {
      rejected = static_cast<uint64_t>(
          std::clamp<int64_t>(ps->rejected_spans, 0, static_cast<int64_t>(batch.spans)));
      std::string msg = ps->error_message.empty() ? "(no message)" : ps->error_message;
      if (rejected > 0) {
        OTLP_LOG(kWarn, "OTLP partial success: the collector rejected " + std::to_string(rejected) +
                            " of " + std::to_string(batch.spans) + " spans: " + msg);
      } else {
        OTLP_LOG(kWarn, "OTLP partial success: the collector accepted all " +
                            std::to_string(batch.spans) + " spans with a warning: " + msg);
      }
    }
    counters_.AddRejected(rejected);
    counters_.AddExported(batch.spans - rejected);
  } catch (...) {
    counters_.AddExported(batch.spans);
  }
}

std::string OtlpHttpExporter::ErrorDetail(const net::HttpResponse& response) const {
  if (response.body.empty()) return {};
  bool json = config_.protocol == OtlpProtocol::kHttpJson;
  if (auto ct = response.Header("Content-Type")) {
    if (ContainsIgnoreCase(*ct, "json"))
      json = true;
    else if (ContainsIgnoreCase(*ct, "protobuf"))
      json = false;
    else if (ContainsIgnoreCase(*ct, "text/")) {
      std::string text = BodyExcerpt(response.body);
      return text.empty() ? std::string() : ": " + text;
    }
  }
  std::string msg = DecodeRpcStatusMessage(response.body, json);
  if (msg.empty()) msg = BodyExcerpt(response.body);
  return msg.empty() ? std::string() : ": " + msg;
}

bool OtlpHttpExporter::WaitIdle(std::chrono::microseconds timeout) {
  auto deadline = DeadlineAfter(timeout);
  std::unique_lock<std::mutex> lock(mu_);
  auto idle = [&] { return queue_.empty() && busy_ == 0; };
  if (deadline == steady_clock::time_point::max()) {
    cv_.wait(lock, idle);
    return true;
  }
  return cv_.wait_until(lock, deadline, idle);
}

bool OtlpHttpExporter::ForceFlush(std::chrono::microseconds timeout) noexcept {
  try {
    return WaitIdle(timeout);
  } catch (...) {
    return false;
  }
}

bool OtlpHttpExporter::Shutdown(std::chrono::microseconds timeout) noexcept {
  try {
    {
      std::lock_guard<std::mutex> lock(mu_);
      shutdown_ = true;
    }
    cv_.notify_all();
    if (!WaitIdle(timeout)) return false;
    // Idle: the senders are parked on the condition variable, so joining is immediate.
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    JoinSenders();
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace otlp::exporter
