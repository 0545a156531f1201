#include "otlp/exporter/internal/grpc_transport.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "otlp/core/internal/ascii.h"
#include "otlp/core/internal/gzip.h"
#include "otlp/exporter/internal/http_transport.h"
#include "otlp/exporter/internal/proto_wire.h"
#include "otlp/net/http_client.h"
#include "otlp/net/url.h"

namespace otlp::exporter::internal {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// The largest response message accepted (an ExportTraceServiceResponse is a few bytes).
constexpr size_t kMaxResponseMessage = 4 * 1024 * 1024;

constexpr std::string_view kRetryInfoType = "type.googleapis.com/google.rpc.RetryInfo";

Status Malformed(std::string_view what) {
  return InvalidArgumentError("malformed grpc-status-details-bin: " + std::string(what));
}

// google.protobuf.Duration {int64 seconds = 1; int32 nanos = 2;} as milliseconds (rounded up).
Result<milliseconds> DecodeDuration(std::string_view bytes) {
  ProtoReader r(bytes);
  int64_t seconds = 0;
  int64_t nanos = 0;
  while (!r.done()) {
    uint32_t field, wire;
    if (!r.Next(field, wire)) return Malformed("bad Duration field header");
    uint64_t v;
    if (field == 1 || field == 2) {
      if (wire != kWireVarint || !r.Varint(v)) return Malformed("bad Duration field");
      if (field == 1) {
        seconds = static_cast<int64_t>(v);
      } else {
        nanos = static_cast<int32_t>(static_cast<uint32_t>(v));
      }
    } else if (!r.Skip(wire)) {
      return Malformed("truncated Duration field");
    }
  }
  // Durations beyond a day are nonsense for a retry delay (and would overflow below).
  constexpr int64_t kMaxSeconds = 24 * 3600;
  if (seconds < 0 || nanos < 0 || nanos > 999999999 || seconds > kMaxSeconds) {
    return Malformed("RetryInfo.retry_delay out of range (" + std::to_string(seconds) + " s, " +
                     std::to_string(nanos) + " ns)");
  }
  return milliseconds(seconds * 1000 + (nanos + 999999) / 1000000);
}

// A google.protobuf.Any detail; sets `delay` when it is a RetryInfo with a retry_delay.
Status DecodeDetail(std::string_view any, std::optional<milliseconds>& delay) {
  ProtoReader r(any);
  std::string_view type_url, value;
  while (!r.done()) {
    uint32_t field, wire;
    if (!r.Next(field, wire)) return Malformed("bad Any field header");
    if (field == 1 || field == 2) {
      std::string_view v;
      if (wire != kWireLen || !r.Len(v)) return Malformed("bad Any field");
      (field == 1 ? type_url : value) = v;
    } else if (!r.Skip(wire)) {
      return Malformed("truncated Any field");
    }
  }
  if (type_url != kRetryInfoType) return Status::Ok();
  ProtoReader info(value);
  while (!info.done()) {
    uint32_t field, wire;
    if (!info.Next(field, wire)) return Malformed("bad RetryInfo field header");
    if (field == 1) {
      std::string_view d;
      if (wire != kWireLen || !info.Len(d)) return Malformed("bad RetryInfo.retry_delay");
      OTLP_ASSIGN_OR_RETURN(milliseconds ms, DecodeDuration(d));
      delay = ms;
    } else if (!info.Skip(wire)) {
      return Malformed("truncated RetryInfo field");
    }
  }
  return Status::Ok();
}

int HexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string GrpcCodeName(int code) {
  static constexpr std::string_view kNames[] = {
      "OK",        "CANCELLED",         "UNKNOWN",          "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",   "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",      "UNAVAILABLE",      "DATA_LOSS",
      "UNAUTHENTICATED"};
  if (code >= 0 && code < static_cast<int>(std::size(kNames))) return std::string(kNames[code]);
  return "code " + std::to_string(code);
}

bool IsRetryableGrpcCode(int code) noexcept {
  switch (static_cast<GrpcCode>(code)) {
    case GrpcCode::kCancelled:
    case GrpcCode::kDeadlineExceeded:
    case GrpcCode::kAborted:
    case GrpcCode::kOutOfRange:
    case GrpcCode::kUnavailable:
    case GrpcCode::kDataLoss:
      return true;
    default:
      return false;
  }
}

int GrpcCodeFromHttpStatus(int http_status) noexcept {
  switch (http_status) {
    case 400:
      return static_cast<int>(GrpcCode::kInternal);
    case 401:
      return static_cast<int>(GrpcCode::kUnauthenticated);
    case 403:
      return static_cast<int>(GrpcCode::kPermissionDenied);
    case 404:
      return static_cast<int>(GrpcCode::kUnimplemented);
    case 429:
    case 502:
    case 503:
    case 504:
      return static_cast<int>(GrpcCode::kUnavailable);
    default:
      return static_cast<int>(GrpcCode::kUnknown);
  }
}

std::string FrameGrpcMessage(std::string_view message, bool compressed) {
  std::string out;
  out.reserve(5 + message.size());
  const auto n = static_cast<uint32_t>(message.size());
  out.push_back(compressed ? '\1' : '\0');
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  out.append(message);
  return out;
}

Result<std::vector<GrpcMessage>> ParseGrpcMessages(std::string_view body) {
  std::vector<GrpcMessage> out;
  while (!body.empty()) {
    if (body.size() < 5) {
      return InvalidArgumentError("truncated gRPC message prefix (" + std::to_string(body.size()) +
                                  " of 5 bytes)");
    }
    const auto flag = static_cast<unsigned char>(body[0]);
    if (flag > 1) {
      return InvalidArgumentError("bad gRPC compressed flag " + std::to_string(flag));
    }
    const uint32_t n = uint32_t{static_cast<unsigned char>(body[1])} << 24 |
                       uint32_t{static_cast<unsigned char>(body[2])} << 16 |
                       uint32_t{static_cast<unsigned char>(body[3])} << 8 |
                       uint32_t{static_cast<unsigned char>(body[4])};
    body.remove_prefix(5);
    if (n > body.size()) {
      return InvalidArgumentError("truncated gRPC message (" + std::to_string(body.size()) +
                                  " of " + std::to_string(n) + " bytes)");
    }
    out.push_back({body.substr(0, n), flag == 1});
    body.remove_prefix(n);
  }
  return out;
}

std::string FormatGrpcTimeout(milliseconds timeout) {
  // TimeoutValue is at most 8 digits (grpc/doc/PROTOCOL-HTTP2.md).
  constexpr int64_t kMaxValue = 99999999;
  const int64_t ms = std::max<int64_t>(1, timeout.count());
  if (ms <= kMaxValue) return std::to_string(ms) + "m";
  const int64_t s = (ms + 999) / 1000;
  if (s <= kMaxValue) return std::to_string(s) + "S";
  const int64_t m = (s + 59) / 60;
  if (m <= kMaxValue) return std::to_string(m) + "M";
  return std::to_string(std::min(kMaxValue, (m + 59) / 60)) + "H";
}

std::optional<std::string> DecodeBase64(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+' || c == '-') {
      v = 62;
    } else if (c == '/' || c == '_') {
      v = 63;
    } else {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string PercentDecodeGrpcMessage(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '%' && i + 2 < value.size()) {
      const int hi = HexValue(value[i + 1]);
      const int lo = HexValue(value[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(value[i]);
  }
  return out;
}

Result<GrpcStatusDetails> DecodeGrpcStatusDetails(std::string_view header_value) {
  std::optional<std::string> bytes = DecodeBase64(header_value);
  if (!bytes) return Malformed("not base64");
  GrpcStatusDetails out;
  ProtoReader r(*bytes);
  while (!r.done()) {
    uint32_t field, wire;
    if (!r.Next(field, wire)) return Malformed("bad google.rpc.Status field header");
    if (field == 1) {
      uint64_t v;
      if (wire != kWireVarint || !r.Varint(v)) return Malformed("bad google.rpc.Status.code");
      out.code = static_cast<int32_t>(static_cast<uint32_t>(v));
    } else if (field == 2) {
      std::string_view msg;
      if (wire != kWireLen || !r.Len(msg)) return Malformed("bad google.rpc.Status.message");
      out.message.assign(msg);
    } else if (field == 3) {
      std::string_view any;
      if (wire != kWireLen || !r.Len(any)) return Malformed("bad google.rpc.Status.details");
      OTLP_RETURN_IF_ERROR(DecodeDetail(any, out.retry_delay));
    } else if (!r.Skip(wire)) {
      return Malformed("truncated google.rpc.Status field");
    }
  }
  return out;
}

// ---- the transport ----

// The call goes through the project's one HTTP client (net::HttpClient), which keeps one HTTP/2
// connection per origin, lets concurrent exports share it as streams, replaces it after GOAWAY
// and resends a call the server did not process.
struct GrpcTransport::Impl {
  std::string url;  // endpoint prefix + kGrpcTraceExportPath
  net::Headers headers;
  // Declared before the client so that it outlives it.
  std::shared_ptr<net::Runtime> runtime;
  std::unique_ptr<net::HttpClient> client;
};

namespace {

// The response's grpc-status: the trailers', else the headers' (a trailers-only response).
std::optional<std::string_view> Field(const net::HttpResponse& r, std::string_view name) {
  if (auto v = r.Trailer(name)) return v;
  return r.Header(name);
}

}  // namespace

Result<std::unique_ptr<GrpcTransport>> GrpcTransport::Create(Options options) {
  auto url = net::Url::Parse(options.endpoint);
  if (!url.ok()) return InvalidArgumentError("invalid OTLP/gRPC endpoint: " + url.status().message());
  if (url->scheme != "http" && url->scheme != "https") {
    return InvalidArgumentError("invalid OTLP/gRPC endpoint '" + url->ToStringRedacted() +
                                "': it needs an http:// or https:// URL");
  }
  std::shared_ptr<net::Runtime> runtime = std::move(options.runtime);
  // By default the thread that sends runs the I/O itself: no hand-off to an I/O thread and
  // back for each request (two context switches).
  if (!runtime) runtime = net::Runtime::CreateCallerDriven();
  net::HttpClient::Options client_options;
  client_options.tls = std::move(options.tls);
  client_options.tls.alpn_protocols.clear();  // the client offers "h2" (and "http/1.1")
  client_options.http_version = net::HttpVersionPolicy::kHttp2PriorKnowledge;
  client_options.connect_timeout = options.connect_timeout;
  if (!options.user_agent.empty()) client_options.user_agent = std::move(options.user_agent);
  client_options.max_response_body = kMaxResponseMessage + 5;
  auto client = net::HttpClient::Create(runtime, std::move(client_options));
  if (!client.ok()) {
    const Status& st = client.status();
    return Status(st.code(), "OTLP exporter: " + st.message(), st.retryable());
  }
  auto impl = std::make_unique<Impl>();
  impl->runtime = std::move(runtime);
  impl->client = std::move(*client);
  // The endpoint's path, if any, is a prefix of the method path (for proxies that route by
  // path); "/" adds nothing. The query is not part of a gRPC call.
  std::string prefix = url->target.substr(0, url->target.find_first_of("?#"));
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  std::string base = options.endpoint.substr(0, options.endpoint.find("://") + 3);
  if (!url->user.empty()) {
    // Keep user info: the HTTP/2 session sends it as Basic authentication.
    const size_t at = options.endpoint.find('@', base.size());
    if (at != std::string::npos) base = options.endpoint.substr(0, at + 1);
  }
  const std::string host_port =
      (url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host) + ":" +
      std::to_string(url->port);
  impl->url = base + host_port + prefix + std::string(kGrpcTraceExportPath);
  impl->headers = std::move(options.headers);
  auto t = std::unique_ptr<GrpcTransport>(new GrpcTransport(std::move(impl)));
  t->endpoint_for_messages_ = url->ToStringRedacted();
  return t;
}

GrpcTransport::GrpcTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GrpcTransport::~GrpcTransport() = default;

// Fails every call in flight with kCancelled at once, and every later one.
void GrpcTransport::Cancel() noexcept { impl_->client->Shutdown(); }

Result<TransportResponse> GrpcTransport::Send(const TransportRequest& request) {
  if (request.json) {
    return InvalidArgumentError("OTLP/gRPC carries protobuf only, not JSON");
  }
  const auto left =
      std::chrono::ceil<milliseconds>(request.deadline - steady_clock::now());
  if (left.count() <= 0) return DeadlineExceededError("the export deadline passed");

  net::HttpRequest req;
  req.method = "POST";
  req.url = impl_->url;
  req.timeout = left;
  req.headers.reserve(impl_->headers.size() + 6);
  req.headers.emplace_back("content-type", "application/grpc");
  req.headers.emplace_back("te", "trailers");
  req.headers.emplace_back("grpc-timeout", FormatGrpcTimeout(left));
  if (request.gzip) req.headers.emplace_back("grpc-encoding", "gzip");
  req.headers.emplace_back("grpc-accept-encoding", "identity,gzip");
  req.headers.insert(req.headers.end(), impl_->headers.begin(), impl_->headers.end());
  req.body = FrameGrpcMessage(request.body, request.gzip);

  OTLP_ASSIGN_OR_RETURN(net::HttpResponse resp, impl_->client->Send(std::move(req)));
  if (resp.version != "2") {
    // Only over TLS can this happen: ALPN chose HTTP/1.1.
    return FailedPreconditionError(endpoint_for_messages_ + " answered over HTTP/" +
                                   resp.version + ", not HTTP/2: it is no gRPC endpoint");
  }

  TransportResponse out;
  int code;
  std::string message;
  const auto status_field = Field(resp, "grpc-status");
  if (status_field) {
    int v = -1;
    const std::string_view s = *status_field;
    if (!s.empty() && s.size() <= 3 && std::all_of(s.begin(), s.end(), [](char c) {
          return c >= '0' && c <= '9';
        })) {
      v = std::stoi(std::string(s));
    }
    if (v < 0) {
      code = static_cast<int>(GrpcCode::kUnknown);
      message = "malformed grpc-status '" + BodyExcerpt(s) + "'";
    } else {
      code = v;
      if (auto m = Field(resp, "grpc-message")) message = PercentDecodeGrpcMessage(*m);
    }
  } else if (resp.status != 200) {
    code = GrpcCodeFromHttpStatus(resp.status);
    message = "HTTP " + std::to_string(resp.status) + " without grpc-status";
  } else {
    code = static_cast<int>(GrpcCode::kInternal);
    message = "the response carries no grpc-status";
  }
  out.code = code;

  if (code == 0) {
    auto messages = ParseGrpcMessages(resp.body);
    if (!messages.ok()) {
      // The status says the call succeeded; only its answer is unreadable.
      out.body.clear();
    } else if (!messages->empty()) {
      const GrpcMessage& m = messages->front();
      if (m.compressed) {
        const auto enc = resp.Header("grpc-encoding");
        if (enc && otlp::internal::EqualsIgnoreCase(*enc, "gzip")) {
          auto plain = otlp::internal::GzipDecompress(m.data, kMaxResponseMessage);
          if (plain.ok()) out.body = std::move(*plain);
        }
      } else {
        out.body.assign(m.data);
      }
    }
    out.outcome = TransportResponse::Outcome::kAccepted;
    out.headers = std::move(resp.headers);
    return out;
  }

  std::optional<milliseconds> retry_delay;
  std::string details_note;
  if (auto bin = Field(resp, "grpc-status-details-bin")) {
    auto details = DecodeGrpcStatusDetails(*bin);
    if (details.ok()) {
      retry_delay = details->retry_delay;
      if (message.empty()) message = details->message;
    } else {
      details_note = " (" + details.status().message() + ")";
    }
  }
  out.detail = "gRPC status " + GrpcCodeName(code) + " (" + std::to_string(code) + ")";
  if (!message.empty()) out.detail += ": " + message;
  out.detail += details_note;
  const bool retryable =
      IsRetryableGrpcCode(code) ||
      (code == static_cast<int>(GrpcCode::kResourceExhausted) && retry_delay.has_value());
  if (retryable) {
    out.outcome = TransportResponse::Outcome::kRetryable;
    out.retry_after = retry_delay;
  } else {
    out.outcome = TransportResponse::Outcome::kRejected;
  }
  out.headers = std::move(resp.headers);
  return out;
}

}  // namespace otlp::exporter::internal
