#include "otlp/exporter/otlp_http_exporter.h"

#include <algorithm>
#include <fstream>
#include <utility>

#include "otlp/core/internal/ascii.h"
#include "otlp/core/version.h"
#include "otlp/exporter/internal/export_pipeline.h"
#include "otlp/exporter/internal/http_exporter_config.h"
#include "otlp/exporter/internal/grpc_transport.h"
#include "otlp/exporter/internal/http_transport.h"
#include "otlp/net/url.h"

namespace otlp::exporter {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kDefaultEndpoint = "http://localhost:4318/v1/traces";
constexpr std::string_view kDefaultGrpcEndpoint = "http://localhost:4317/";
constexpr milliseconds kDefaultTimeout{10000};
constexpr size_t kMaxConcurrentRequests = 64;

// Headers the exporter owns; a user value would corrupt the request.
constexpr std::string_view kReservedHeaders[] = {"content-type",   "content-encoding",
                                                 "content-length", "transfer-encoding",
                                                 "host",           "connection"};

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
                                  const std::optional<std::string>& generic_env, bool insecure,
                                  bool grpc) {
  if (code) return WithRootPath(WithScheme(*code, insecure));
  if (signal_env) return WithRootPath(WithScheme(*signal_env, insecure));
  if (generic_env && grpc) return WithRootPath(WithScheme(*generic_env, insecure));
  if (generic_env) {
    std::string base = WithScheme(*generic_env, insecure);
    size_t path_end = base.find_first_of("?#", AuthorityEnd(base));
    if (path_end == std::string::npos) path_end = base.size();
    std::string rest = base.substr(path_end);
    base.resize(path_end);
    if (base.empty() || base.back() != '/') base += '/';
    return base + "v1/traces" + rest;
  }
  return std::string(grpc ? kDefaultGrpcEndpoint : kDefaultEndpoint);
}

Status ValidateHeader(std::string_view name, std::string_view value) {
  if (name.empty()) return InvalidArgumentError("a header has an empty name");
  if (!otlp::internal::IsToken(name)) {
    return InvalidArgumentError("header name '" + std::string(name) +
                                "' has a character not allowed in a header name");
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
  if (options.protocol) {
    c.protocol = *options.protocol;
  } else if (env) {
    if (auto p = env->GetEnum("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")) {
            if (*p == "http/json")
        c.protocol = OtlpProtocol::kHttpJson;
      else if (*p == "grpc")
        c.protocol = OtlpProtocol::kGrpc;
      else
        c.protocol = OtlpProtocol::kHttpProtobuf;
    }
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
  const bool grpc = c.protocol == OtlpProtocol::kGrpc;
  c.endpoint =
      internal::ResolveTracesEndpoint(options.endpoint, signal_env, generic_env, insecure, grpc);
  // Messages show the URL with any credentials in it redacted (the parser's errors already do).
  if (auto url = net::Url::Parse(c.endpoint); !url.ok()) {
    return InvalidArgumentError("invalid OTLP endpoint (from " + endpoint_source +
                                "): " + url.status().message());
  } else if (url->scheme != "http" && url->scheme != "https") {
    return InvalidArgumentError("invalid OTLP endpoint '" + url->ToStringRedacted() + "' (from " +
                                endpoint_source + "): " + (grpc ? "OTLP/gRPC" : "OTLP/HTTP") +
                                " needs an http:// or https:// URL");
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
      // gRPC's own request metadata (te, grpc-timeout, grpc-encoding ...).
      if (grpc && (EqualsIgnoreCase(name, "te") ||
                   (name.size() > 5 && EqualsIgnoreCase(std::string_view(name).substr(0, 5), "grpc-")))) {
        st = InvalidArgumentError("header '" + name +
                                  "' is set by the exporter and cannot be overridden");
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

struct OtlpHttpExporter::Impl {
  Impl(OtlpHttpExporterConfig c, std::unique_ptr<Transport> transport)
      : config(std::move(c)),
        pipeline(
            internal::PipelineOptions{.json = config.protocol == OtlpProtocol::kHttpJson,
                                      .gzip = config.compression == Compression::kGzip,
                                      .timeout = config.timeout,
                                      .retry = config.retry,
                                      .max_concurrent_requests = config.max_concurrent_requests,
                                      .synchronous = config.synchronous},
            std::move(transport)) {}

  const OtlpHttpExporterConfig config;
  internal::ExportPipeline pipeline;
};

Result<std::unique_ptr<OtlpHttpExporter>> OtlpHttpExporter::Create(OtlpHttpExporterOptions options,
                                                                   config::Reader* env) {
  OTLP_ASSIGN_OR_RETURN(OtlpHttpExporterConfig cfg, ResolveOptions(options, env));
  try {
    milliseconds connect_timeout{10000};
    if (cfg.timeout.count() > 0) connect_timeout = std::min(connect_timeout, cfg.timeout);
    std::unique_ptr<Transport> transport;
    if (cfg.protocol == OtlpProtocol::kGrpc) {
      internal::GrpcTransport::Options topts;
      topts.endpoint = cfg.endpoint;
      topts.headers = cfg.headers;
      topts.user_agent = cfg.user_agent;
      topts.tls = cfg.tls;
      topts.connect_timeout = connect_timeout;
      topts.runtime = std::move(options.runtime);
      OTLP_ASSIGN_OR_RETURN(transport, internal::GrpcTransport::Create(std::move(topts)));
    } else {
      internal::HttpTransport::Options topts;
      topts.endpoint = cfg.endpoint;
      topts.headers = cfg.headers;
      topts.user_agent = cfg.user_agent;
      topts.tls = cfg.tls;
      topts.max_idle_connections = cfg.max_concurrent_requests;
      topts.connect_timeout = connect_timeout;
      topts.runtime = std::move(options.runtime);
      OTLP_ASSIGN_OR_RETURN(transport, internal::HttpTransport::Create(std::move(topts)));
    }
    auto impl = std::make_unique<Impl>(std::move(cfg), std::move(transport));
    impl->pipeline.Start();
    return std::unique_ptr<OtlpHttpExporter>(new OtlpHttpExporter(std::move(impl)));
  } catch (const std::exception& e) {
    return InternalError(std::string("could not create the OTLP exporter: ") + e.what());
  }
}

OtlpHttpExporter::OtlpHttpExporter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

OtlpHttpExporter::~OtlpHttpExporter() = default;

trace::ExportResult OtlpHttpExporter::Export(
    std::span<const trace::SpanData* const> spans) noexcept {
  return impl_->pipeline.Export(spans);
}

bool OtlpHttpExporter::ForceFlush(std::chrono::microseconds timeout) noexcept {
  return impl_->pipeline.ForceFlush(timeout);
}

bool OtlpHttpExporter::Shutdown(std::chrono::microseconds timeout) noexcept {
  return impl_->pipeline.Shutdown(timeout);
}

ExporterStats OtlpHttpExporter::stats() const noexcept {
  return impl_->pipeline.stats();
}

const OtlpHttpExporterConfig& OtlpHttpExporter::config() const noexcept {
  return impl_->config;
}

}  // namespace otlp::exporter
