#include "otlp/http/request.h"

#include <mutex>

#include "otlp/core/internal/mutex.h"
#include "otlp/http/internal/form.h"
#include "otlp/net/internal/base64.h"

namespace otlp::http {

struct CancelToken::State {
  otlp::internal::Mutex mu;
  bool cancelled OTLP_GUARDED_BY(mu) = false;
  uint64_t next_id OTLP_GUARDED_BY(mu) = 1;
  std::vector<std::pair<uint64_t, std::function<void()>>> subscribers OTLP_GUARDED_BY(mu);
};

CancelToken::CancelToken() : state_(std::make_shared<State>()) {}

void CancelToken::Cancel() noexcept {
  std::vector<std::pair<uint64_t, std::function<void()>>> run;
  {
    otlp::internal::MutexLock lock(state_->mu);
    if (state_->cancelled) return;
    state_->cancelled = true;
    run.swap(state_->subscribers);
  }
  for (auto& [id, f] : run) f();
}

bool CancelToken::cancelled() const noexcept {
  otlp::internal::MutexLock lock(state_->mu);
  return state_->cancelled;
}

uint64_t CancelToken::Subscribe(std::function<void()> f) {
  {
    otlp::internal::MutexLock lock(state_->mu);
    if (!state_->cancelled) {
      const uint64_t id = state_->next_id++;
      state_->subscribers.emplace_back(id, std::move(f));
      return id;
    }
  }
  f();
  return 0;
}

void CancelToken::Unsubscribe(uint64_t id) noexcept {
  if (id == 0) return;
  otlp::internal::MutexLock lock(state_->mu);
  auto& subs = state_->subscribers;
  for (auto it = subs.begin(); it != subs.end(); ++it) {
    if (it->first == id) {
      subs.erase(it);
      return;
    }
  }
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
