#include "otlp/http/response.h"

#include <string>

#include "otlp/http/error.h"

namespace otlp::http {

Result<nlohmann::json> Response::Json() const {
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    return MakeError(StatusCode::kInvalidArgument, ErrorKind::kDecoding,
                     std::string("response body is not JSON: ") + e.what());
  }
}

Status Response::StatusError() const {
  if (ok()) return Status::Ok();
  std::string message = "HTTP " + std::to_string(status) + " from " + url;
  switch (status) {
    case 401: return Status(StatusCode::kUnauthenticated, std::move(message));
    case 403: return Status(StatusCode::kPermissionDenied, std::move(message));
    case 404: return NotFoundError(std::move(message));
    case 429: return Status(StatusCode::kResourceExhausted, std::move(message), true);
    case 502:
    case 503:
    case 504: return UnavailableError(std::move(message));
    default: break;
  }
  if (status >= 400 && status < 500) return InvalidArgumentError(std::move(message));
  if (status >= 500) return InternalError(std::move(message));
  return Status(StatusCode::kUnknown, std::move(message));
}

}  // namespace otlp::http
