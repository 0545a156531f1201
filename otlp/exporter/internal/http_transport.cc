#include "otlp/exporter/internal/http_transport.h"

#include <algorithm>
#include <utility>

#include "otlp/core/internal/ascii.h"
#include "otlp/exporter/otlp_response.h"
#include "otlp/exporter/retry.h"
#include "otlp/net/url.h"

namespace otlp::exporter::internal {
namespace {

using otlp::internal::ContainsIgnoreCase;

// Whether a body is JSON: the response's Content-Type when it says, else the request's.
bool IsJsonBody(const net::HttpResponse& response, bool request_json) {
  if (auto ct = response.Header("Content-Type")) {
    if (ContainsIgnoreCase(*ct, "json")) return true;
    if (ContainsIgnoreCase(*ct, "protobuf")) return false;
  }
  return request_json;
}

// ": <why>" from an error response's body: its google.rpc.Status message, or an excerpt of a
// text body; empty when there is nothing readable.
std::string ErrorDetail(const net::HttpResponse& response, bool request_json) {
  if (response.body.empty()) return {};
  if (auto ct = response.Header("Content-Type"); ct && ContainsIgnoreCase(*ct, "text/")) {
    std::string text = BodyExcerpt(response.body);
    return text.empty() ? std::string() : ": " + text;
  }
  std::string msg = DecodeRpcStatusMessage(response.body, IsJsonBody(response, request_json));
  if (msg.empty()) msg = BodyExcerpt(response.body);
  return msg.empty() ? std::string() : ": " + msg;
}

}  // namespace

std::string BodyExcerpt(std::string_view body) {
  constexpr size_t kMax = 200;
  std::string out;
  for (char c : body.substr(0, kMax)) {
    const auto u = static_cast<unsigned char>(c);
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

Result<std::unique_ptr<HttpTransport>> HttpTransport::Create(Options options) {
  std::shared_ptr<net::Runtime> runtime = std::move(options.runtime);
  // By default the thread that sends runs the I/O itself: no hand-off to an I/O thread and
  // back for each request (two context switches).
  if (!runtime) runtime = net::Runtime::CreateCallerDriven();
  net::HttpClient::Options copts;
  copts.tls = std::move(options.tls);
  copts.user_agent = std::move(options.user_agent);
  copts.max_idle_per_host = std::max<size_t>(1, options.max_idle_connections);
  copts.connect_timeout = options.connect_timeout;
  auto client = net::HttpClient::Create(runtime, std::move(copts));
  if (!client.ok()) {
    const Status& st = client.status();
    return Status(st.code(), "OTLP exporter: " + st.message(), st.retryable());
  }
  return std::unique_ptr<HttpTransport>(new HttpTransport(std::move(options.endpoint),
                                                          std::move(options.headers),
                                                          std::move(runtime), std::move(*client)));
}

namespace {
std::string RedactedUrl(const std::string& url) {
  auto parsed = net::Url::Parse(url);
  return parsed.ok() ? parsed->ToStringRedacted() : url;
}
}  // namespace

HttpTransport::HttpTransport(std::string endpoint, net::Headers headers,
                             std::shared_ptr<net::Runtime> runtime,
                             std::unique_ptr<net::HttpClient> client)
    : endpoint_(std::move(endpoint)),
      endpoint_for_messages_(RedactedUrl(endpoint_)),
      headers_(std::move(headers)),
      runtime_(std::move(runtime)),
      client_(std::move(client)) {}

Result<TransportResponse> HttpTransport::Send(const TransportRequest& request) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(request.deadline -
                                                                 std::chrono::steady_clock::now());
  if (left.count() <= 0) return DeadlineExceededError("the export deadline passed");

  net::HttpRequest req;
  req.method = "POST";
  req.url = endpoint_;
  req.headers.reserve(headers_.size() + 2);
  req.headers.emplace_back("Content-Type",
                           request.json ? "application/json" : "application/x-protobuf");
  if (request.gzip) req.headers.emplace_back("Content-Encoding", "gzip");
  req.headers.insert(req.headers.end(), headers_.begin(), headers_.end());
  req.body_view = request.body;  // valid during Send: not copied
  req.timeout = left;
  // A 2xx whose body is cut short was still delivered: resending it would store duplicates.
  req.accept_truncated_body = true;

  OTLP_ASSIGN_OR_RETURN(net::HttpResponse resp, client_->Send(std::move(req)));
  TransportResponse out;
  out.code = resp.status;
  if (resp.status >= 200 && resp.status < 300) {
    out.outcome = TransportResponse::Outcome::kAccepted;
    out.body_json = IsJsonBody(resp, request.json);
    out.body_truncated = resp.body_truncated;
    out.body = std::move(resp.body);
  } else {
    out.detail = "HTTP " + std::to_string(resp.status) + ErrorDetail(resp, request.json);
    if (resp.body_truncated) out.detail += " (response body cut short)";
    if (IsRetryableHttpStatus(resp.status)) {
      out.outcome = TransportResponse::Outcome::kRetryable;
      if (HonoursRetryAfter(resp.status)) {
        if (auto h = resp.Header("Retry-After")) {
          out.retry_after = ParseRetryAfter(*h, std::chrono::system_clock::now());
        }
      }
    } else {
      out.outcome = TransportResponse::Outcome::kRejected;
    }
  }
  out.headers = std::move(resp.headers);
  return out;
}

void HttpTransport::Cancel() noexcept {
  client_->Shutdown();
}

}  // namespace otlp::exporter::internal
