#include "otlp/http/request.h"

#include "otlp/http/internal/form.h"
#include "otlp/net/internal/base64.h"

namespace otlp::http {

CancelToken::CancelToken() : signal_(net::CancelSignal::Create()) {}

void CancelToken::Cancel() noexcept {
  signal_->Cancel();
}

bool CancelToken::cancelled() const noexcept {
  return signal_->cancelled();
}

uint64_t CancelToken::Subscribe(std::function<void()> f) {
  return signal_->Subscribe(std::move(f));
}

void CancelToken::Unsubscribe(uint64_t id) noexcept {
  signal_->Unsubscribe(id);
}

void Request::Apply(const net::Headers& h) {
  for (const auto& [name, value] : h) headers.Add(name, value);
}

void Request::Apply(Body b) {
  body = std::move(b.data);
  if (!b.content_type.empty()) headers.Set("Content-Type", std::move(b.content_type));
}

void Request::Apply(const Json& j) {
  body = j.value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  headers.Set("Content-Type", "application/json");
}

void Request::Apply(const Form& f) {
  body = internal::EncodeForm(f.fields);
  headers.Set("Content-Type", "application/x-www-form-urlencoded");
}

void Request::Apply(const Bearer& b) {
  headers.Set("Authorization", "Bearer " + b.token);
}

void Request::Apply(const Basic& b) {
  headers.Set("Authorization",
              "Basic " + net::internal::Base64Encode(b.user + ":" + b.password));
}

void Request::Apply(Multipart m) {
  Result<MultipartBody> built = m.Build();
  if (built.ok()) {
    body = std::move(built->body);
    headers.Set("Content-Type", std::move(built->content_type));
    return;
  }
  if (built.status().code() != StatusCode::kFailedPrecondition) {  // an invalid part
    error = built.status();
    return;
  }
  // Streamed parts: the body is read from them as it is sent.
  Result<MultipartStream> stream = std::move(m).Stream();
  if (!stream.ok()) {
    error = stream.status();
    return;
  }
  auto shared = std::make_shared<MultipartStream>(std::move(*stream));
  Apply(BodyStream{.read = [shared](char* buffer, size_t capacity) {
                     return shared->Read(buffer, capacity);
                   },
                   .length = shared->content_length(),
                   .content_type = shared->content_type()});
}

void Request::Apply(BodyStream b) {
  if (!b.content_type.empty()) headers.Set("Content-Type", std::move(b.content_type));
  body.clear();
  body_stream = std::move(b);
}

std::string Request::FullUrl() const {
  return internal::AppendQuery(url, query);
}

}  // namespace otlp::http
