#include "otlp/net/internal/h2_server.h"

#include <boost/asio/post.hpp>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/core/internal/ascii.h"

namespace otlp::net::internal {

namespace asio = boost::asio;

namespace {

constexpr size_t kReadBufferBytes = 64 * 1024;

}  // namespace

struct H2ServerSession::ServerStream {
  H2ServerRequest request;
  size_t header_bytes = 0;
  bool headers_too_large = false;
  bool body_too_large = false;
  bool in_trailers = false;  // the request's second header block
  bool dispatched = false;
  bool responded = false;
  std::string body;  // the response body being sent
  size_t body_offset = 0;
  Headers trailers;  // the response trailers, sent after the body
};

void H2Reply::Send(H2ServerResponse response) const {
  auto session = session_.lock();
  if (!session) return;
  asio::post(session->executor(),
             [session, id = stream_id_, response = std::move(response)]() mutable {
               session->Respond(id, std::move(response));
             });
}

void H2Reply::Reset(uint32_t error_code) const {
  auto session = session_.lock();
  if (!session) return;
  asio::post(session->executor(),
             [session, id = stream_id_, error_code] { session->Reset(id, error_code); });
}

H2ServerSession::H2ServerSession(Private, std::unique_ptr<Stream> stream, Options options,
                                 Handler handler)
    : H2Connection(std::move(stream), kReadBufferBytes),
      options_(std::move(options)),
      handler_(std::move(handler)) {}

H2ServerSession::~H2ServerSession() = default;

std::shared_ptr<H2ServerSession> H2ServerSession::Start(std::unique_ptr<Stream> stream,
                                                        Options options, Handler handler) {
  auto session = std::make_shared<H2ServerSession>(Private{}, std::move(stream),
                                                   std::move(options), std::move(handler));
  asio::post(session->executor(), [session] { session->Begin(); });
  return session;
}

void H2ServerSession::Begin() {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cbs, &OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &OnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &OnDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &OnStreamClose);
  nghttp2_session_callbacks_set_error_callback2(cbs, &OnNghttp2Error);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, &OnFrameSent);
  const int rv = nghttp2_session_server_new(&session_, cbs, this);
  nghttp2_session_callbacks_del(cbs);
  if (rv != 0) {
    session_ = nullptr;
    open_ = false;
    stream().Close();
    if (options_.on_closed) {
      options_.on_closed(InternalError(std::string("cannot create an HTTP/2 session: ") +
                                       nghttp2_strerror(rv)));
    }
    return;
  }
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, options_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options_.stream_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, options_.max_header_list_size},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(options_.connection_window));
  StartIo();
}

H2ServerSession::ServerStream* H2ServerSession::Find(int32_t stream_id) {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.get();
}

void H2ServerSession::UpdateCounters() {
  active_.store(streams_.size(), std::memory_order_release);
}

void H2ServerSession::AfterReceive() {
  // Handlers run outside nghttp2's callbacks, so that they may answer at once.
  std::vector<int32_t> ready;
  ready.swap(ready_);
  for (int32_t id : ready) {
    if (ServerStream* s = Find(id)) Dispatch(s);
  }
}

void H2ServerSession::Dispatch(ServerStream* s) {
  const int32_t id = s->request.stream_id;
  if (s->headers_too_large) {
    Respond(id, {.status = 431, .headers = {{"content-type", "text/plain"}},
                 .body = "request header fields too large\n"});
    return;
  }
  if (s->body_too_large) {
    Respond(id, {.status = 413, .headers = {{"content-type", "text/plain"}},
                 .body = "request body too large\n"});
    return;
  }
  requests_.fetch_add(1, std::memory_order_acq_rel);
  if (s->request.authority.empty()) {
    if (auto host = s->request.headers.Find("host")) s->request.authority = std::string(*host);
  }
  handler_(std::move(s->request), H2Reply(self(), id));
}

void H2ServerSession::Respond(int32_t stream_id, H2ServerResponse response) {
  if (closed() || session_ == nullptr) return;
  ServerStream* s = Find(stream_id);
  if (s == nullptr || s->responded) return;
  s->responded = true;
  if (response.status < 200 || response.status > 599) response.status = 500;
  const std::string status = std::to_string(response.status);
  std::vector<std::pair<std::string, std::string>> fields;
  fields.reserve(response.headers.size());
  for (auto& [name, value] : response.headers) {
    std::string lower = otlp::internal::AsciiLower(name);
    if (lower.empty() || lower[0] == ':' || IsConnectionSpecificHeader(lower, value)) continue;
    fields.emplace_back(std::move(lower), std::move(value));
  }
  NvList nv;
  nv.Add(":status", status);
  for (const auto& [name, value] : fields) nv.Add(name, value);
  s->body = std::move(response.body);
  s->trailers = std::move(response.trailers);
  nghttp2_data_provider provider{};
  provider.read_callback = &ReadBody;
  const bool has_data = !s->body.empty() || !s->trailers.empty();
  const int rv = nghttp2_submit_response(session_, stream_id, nv.data(), nv.size(),
                                         has_data ? &provider : nullptr);
  if (rv != 0) nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_INTERNAL_ERROR);
  Flush();
}

void H2ServerSession::Reset(int32_t stream_id, uint32_t error_code) {
  if (closed() || session_ == nullptr) return;
  ServerStream* s = Find(stream_id);
  if (s == nullptr || s->responded) return;
  s->responded = true;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, error_code);
  Flush();
}

void H2ServerSession::Shutdown() {
  asio::post(executor(), [self = self()] {
    if (self->closed() || self->session_ == nullptr || self->shutting_down_) return;
    self->shutting_down_ = true;
    self->goaway_sent_by_us_ = true;
    nghttp2_submit_goaway(self->session_, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(self->session_),
                          NGHTTP2_NO_ERROR, nullptr, 0);
    self->Flush();
  });
}

void H2ServerSession::GoAway(int32_t last_stream_id, uint32_t error_code) {
  asio::post(executor(), [self = self(), last_stream_id, error_code] {
    if (self->closed() || self->session_ == nullptr) return;
    self->shutting_down_ = true;
    self->goaway_sent_by_us_ = true;
    nghttp2_submit_goaway(self->session_, NGHTTP2_FLAG_NONE, last_stream_id, error_code, nullptr,
                          0);
    // Streams above last_stream_id are not processed: forget them (their replies do nothing).
    for (auto& [id, s] : self->streams_) {
      if (id > last_stream_id && !s->responded) {
        s->responded = true;
        nghttp2_submit_rst_stream(self->session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
      }
    }
    self->Flush();
  });
}

void H2ServerSession::Close() {
  asio::post(executor(), [self = self()] {
    self->CloseConnection(WithH2Kind(Status(StatusCode::kCancelled,
                                            "the HTTP/2 server closed the connection"),
                                     H2ErrorKind::kCancelled));
  });
}

void H2ServerSession::OnClosed(const Status& status) {
  open_ = false;
  streams_.clear();
  ready_.clear();
  UpdateCounters();
  if (options_.on_closed) options_.on_closed(status);
}

// --- nghttp2 callbacks ---

int H2ServerSession::OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame,
                                    void* user_data) {
  auto* self = static_cast<H2ServerSession*>(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    auto s = std::make_unique<ServerStream>();
    s->request.stream_id = frame->hd.stream_id;
    s->request.remote_address = self->peer();
    self->streams_[frame->hd.stream_id] = std::move(s);
    self->UpdateCounters();
  } else if (ServerStream* s = self->Find(frame->hd.stream_id)) {
    s->in_trailers = true;
  }
  return 0;
}

int H2ServerSession::OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                              size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                              void* user_data) {
  auto* self = static_cast<H2ServerSession*>(user_data);
  ServerStream* s = self->Find(frame->hd.stream_id);
  if (s == nullptr || s->headers_too_large) return 0;
  s->header_bytes += namelen + valuelen + 32;
  if (self->options_.max_header_list_size > 0 &&
      s->header_bytes > self->options_.max_header_list_size) {
    s->headers_too_large = true;
    s->request.headers.clear();
    return 0;
  }
  std::string_view n(reinterpret_cast<const char*>(name), namelen);
  std::string v(reinterpret_cast<const char*>(value), valuelen);
  H2ServerRequest& r = s->request;
  if (n == ":method") {
    r.method = std::move(v);
  } else if (n == ":scheme") {
    r.scheme = std::move(v);
  } else if (n == ":authority") {
    r.authority = std::move(v);
  } else if (n == ":path") {
    r.path = std::move(v);
  } else if (!n.empty() && n[0] == ':') {
    // nghttp2 rejects unknown pseudo-headers before they get here.
  } else if (s->in_trailers) {
    r.trailers.Add(std::string(n), std::move(v));
  } else {
    r.headers.Add(std::string(n), std::move(v));
  }
  return 0;
}

int H2ServerSession::OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  auto* self = static_cast<H2ServerSession*>(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
  ServerStream* s = self->Find(frame->hd.stream_id);
  if (s == nullptr || s->dispatched) return 0;
  const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (end || s->headers_too_large) {
    s->dispatched = true;
    self->ready_.push_back(frame->hd.stream_id);
  }
  return 0;
}

int H2ServerSession::OnDataChunk(nghttp2_session*, uint8_t, int32_t stream_id,
                                 const uint8_t* data, size_t len, void* user_data) {
  auto* self = static_cast<H2ServerSession*>(user_data);
  ServerStream* s = self->Find(stream_id);
  if (s == nullptr || s->dispatched) return 0;  // answered early: the rest is discarded
  const size_t limit = self->options_.max_request_body;
  if (limit > 0 && s->request.body.size() + len > limit) {
    s->body_too_large = true;
    s->request.body.clear();
    s->request.body.shrink_to_fit();
    s->dispatched = true;
    self->ready_.push_back(stream_id);
    return 0;
  }
  s->request.body.append(reinterpret_cast<const char*>(data), len);
  return 0;
}

int H2ServerSession::OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t,
                                   void* user_data) {
  auto* self = static_cast<H2ServerSession*>(user_data);
  self->streams_.erase(stream_id);
  self->UpdateCounters();
  return 0;
}

ssize_t H2ServerSession::ReadBody(nghttp2_session* session, int32_t stream_id, uint8_t* buf,
                                  size_t length, uint32_t* data_flags, nghttp2_data_source*,
                                  void* user_data) {
  auto* self = static_cast<H2ServerSession*>(user_data);
  ServerStream* s = self->Find(stream_id);
  if (s == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  const size_t n = std::min(length, s->body.size() - s->body_offset);
  std::memcpy(buf, s->body.data() + s->body_offset, n);
  s->body_offset += n;
  if (s->body_offset == s->body.size()) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!s->trailers.empty()) {
      std::vector<std::pair<std::string, std::string>> fields;
      for (const auto& [name, value] : s->trailers) {
        std::string lower = otlp::internal::AsciiLower(name);
        if (lower.empty() || lower[0] == ':' || IsConnectionSpecificHeader(lower, value)) continue;
        fields.emplace_back(std::move(lower), value);
      }
      NvList nv;
      for (const auto& [name, value] : fields) nv.Add(name, value);
      if (nghttp2_submit_trailer(session, stream_id, nv.data(), nv.size()) == 0) {
        *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      }
    }
  }
  return static_cast<ssize_t>(n);
}

}  // namespace otlp::net::internal
