#include "otlp/net/internal/h2_client.h"

#include <boost/asio/post.hpp>
#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "otlp/core/internal/ascii.h"
#include "otlp/net/internal/base64.h"
#include "otlp/net/url.h"

namespace otlp::net::internal {

namespace asio = boost::asio;
using otlp::internal::AsciiLower;
using otlp::internal::IsToken;

namespace {

// Bytes read per read call: large downloads arrive in big DATA frames.
constexpr size_t kReadBufferBytes = 128 * 1024;

bool MethodHasBody(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

}  // namespace

struct H2ClientSession::Call {
  explicit Call(const asio::any_io_executor& executor) : timer(executor) {}

  // Which header block OnHeader is in.
  enum class Block { kNone, kInterim, kFinal, kTrailers };

  uint64_t id = 0;
  int32_t stream_id = 0;  // 0 until submitted to nghttp2
  std::string method;
  std::vector<std::pair<std::string, std::string>> fields;  // pseudo-headers first
  std::string body;
  size_t body_offset = 0;
  bool accept_truncated = false;  // HttpRequest::accept_truncated_body
  Clock::time_point deadline;
  Clock::time_point submitted;  // for HttpResponse::timings.first_byte
  ResponseHandler done;
  BodySink sink;
  HeadersHandler on_headers;
  bool headers_reported = false;
  HttpResponse response;
  Block block = Block::kNone;
  bool final_seen = false;
  bool completed = false;  // `done` has run (the stream may still be open)
  bool headers_sent = false;  // the request's HEADERS frame went to the connection
  bool rst_received = false;
  uint32_t rst_code = 0;
  std::string invalid_frame;  // why nghttp2 rejected a frame of this stream
  size_t header_bytes = 0;
  asio::steady_timer timer;
};

H2ClientSession::H2ClientSession(Private, std::unique_ptr<Stream> stream, Options options)
    : H2Connection(std::move(stream), kReadBufferBytes),
      options_(options),
      tls_(this->stream().is_tls()),
      ping_timer_(executor()) {}

H2ClientSession::~H2ClientSession() = default;

std::shared_ptr<H2ClientSession> H2ClientSession::Start(std::unique_ptr<Stream> stream,
                                                        Options options) {
  auto session = std::make_shared<H2ClientSession>(Private{}, std::move(stream), options);
  asio::post(session->executor(), [session] { session->Begin(); });
  return session;
}

void H2ClientSession::Connect(asio::any_io_executor executor, std::shared_ptr<const TlsContext> tls,
                              std::string host, uint16_t port, Clock::time_point deadline,
                              Options options, SessionHandler done) {
  auto stream = std::make_shared<std::unique_ptr<Stream>>(std::make_unique<Stream>(executor, tls));
  Stream& raw = **stream;
  const std::string peer = host + ":" + std::to_string(port);
  raw.AsyncConnect(host, port, deadline,
                 [stream, peer, options, done = std::move(done)](const boost::system::error_code& ec) {
                   Stream& s = **stream;
                   if (ec) return done(s.ErrorStatus(ec, peer));
                   if (s.is_tls()) {
                     const std::string alpn = s.tls_session().alpn_protocol;
                     if (alpn != "h2") {
                       s.Close();
                       return done(Status(StatusCode::kUnavailable,
                                          "the server " + peer + " did not choose HTTP/2 by ALPN (" +
                                              (alpn.empty() ? std::string("no ALPN")
                                                            : "chose '" + alpn + "'") +
                                              ")"));
                     }
                   }
                   done(Start(std::move(*stream), options));
                 });
}

void H2ClientSession::Begin() {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cbs, &OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &OnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &OnDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &OnStreamClose);
  nghttp2_session_callbacks_set_on_frame_not_send_callback(cbs, &OnFrameNotSend);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs, &OnInvalidFrame);
  nghttp2_session_callbacks_set_error_callback2(cbs, &OnNghttp2Error);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, &OnFrameSend);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  // Flow-control credit goes back as the body is taken (OnDataChunk), not as bytes arrive.
  nghttp2_option_set_no_auto_window_update(opt, 1);
  const int rv = nghttp2_session_client_new2(&session_, cbs, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  if (rv != 0) {
    session_ = nullptr;
    open_ = false;
    draining_ = true;
    close_status_ = InternalError(std::string("cannot create an HTTP/2 session: ") +
                                  nghttp2_strerror(rv));
    FailAll(close_status_);
    stream().Close();
    return;
  }
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options_.stream_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, options_.max_header_list_size},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(options_.connection_window));
  StartIo();
  StartQueued();
  Flush();
  SchedulePing();
}

uint32_t H2ClientSession::StreamLimit() const {
  const uint32_t peer =
      nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return std::min(peer, options_.max_concurrent_streams);
}

void H2ClientSession::UpdateCounters() {
  active_.store(by_stream_.size(), std::memory_order_release);
  queued_.store(queue_.size(), std::memory_order_release);
  if (session_ != nullptr) limit_.store(StreamLimit(), std::memory_order_release);
}

bool H2ClientSession::CanTakeRequest() const noexcept {
  return is_open() && !IsDraining() &&
         active_streams() + queued_requests() < limit_.load(std::memory_order_acquire);
}

uint64_t H2ClientSession::Submit(HttpRequest request, Clock::time_point deadline,
                                 ResponseHandler done, BodySink sink, HeadersHandler on_headers) {
  auto call = std::make_unique<Call>(executor());
  call->id = next_id_.fetch_add(1, std::memory_order_relaxed);
  const uint64_t id = call->id;
  call->deadline = deadline;
  call->submitted = Clock::now();
  call->done = std::move(done);
  call->sink = std::move(sink);
  call->on_headers = std::move(on_headers);

  // Build the header block now; a bad request fails without touching the connection.
  Status bad;
  auto url = Url::Parse(request.url);
  if (!url.ok()) {
    bad = url.status();
  } else if (url->scheme != "http" && url->scheme != "https") {
    bad = InvalidArgumentError("an HTTP/2 request needs an http:// or https:// URL, not '" +
                               url->scheme + "://'");
  } else if (!IsToken(request.method)) {
    bad = InvalidArgumentError("invalid HTTP method '" + request.method + "'");
  }
  if (bad.ok()) {
    std::string authority = url->Authority();
    std::vector<std::pair<std::string, std::string>> fields;
    bool has_authorization = false;
    for (const auto& [name, value] : request.headers) {
      std::string lower = AsciiLower(name);
      if (!IsToken(lower) || !IsValidFieldValue(value)) {
        bad = InvalidArgumentError("invalid request header '" + name + "'");
        break;
      }
      if (lower == "host") {
        authority = value;
        continue;
      }
      if (lower == "content-length" || IsConnectionSpecificHeader(lower, value)) continue;
      if (lower == "authorization") has_authorization = true;
      fields.emplace_back(std::move(lower), value);
    }
    if (bad.ok()) {
      call->method = request.method;
      call->fields = {{":method", request.method},
                      {":scheme", url->scheme},
                      {":authority", std::move(authority)},
                      {":path", url->target}};
      if (url->has_credentials() && !has_authorization) {
        call->fields.emplace_back(
            "authorization",
            "Basic " + Base64Encode(url->user + ":" + url->password.value_or("")));
      }
      if (!request.body.empty() || MethodHasBody(request.method)) {
        call->fields.emplace_back("content-length", std::to_string(request.body.size()));
      }
      for (auto& f : fields) call->fields.push_back(std::move(f));
      call->body = std::move(request.body);
      call->accept_truncated = request.accept_truncated_body;
    }
  }
  asio::post(executor(), [self = self(), call = std::move(call), bad = std::move(bad)]() mutable {
    if (!bad.ok()) return call->done(std::move(bad));
    self->Enqueue(std::move(call));
  });
  return id;
}

void H2ClientSession::Enqueue(std::unique_ptr<Call> call) {
  if ((closed() || session_ == nullptr) && goaway_received_) {
    // The peer said goodbye before this request reached the connection: not processed.
    return call->done(WithH2Kind(UnavailableError("the HTTP/2 connection to " + peer() +
                                                  " went away (GOAWAY); the request was not sent"),
                                 H2ErrorKind::kGoAway));
  }
  if (closed() || session_ == nullptr) {
    // It reached the session after the connection ended: never sent.
    return call->done(WithH2Kind(
        UnavailableError("the HTTP/2 connection to " + peer() +
                         " closed before the request was "
                         "sent" +
                         (close_status_.ok() ? "" : " (" + close_status_.message() + ")")),
        H2ErrorKind::kNotSent));
  }
  if (goaway_sent_code_ != NGHTTP2_NO_ERROR) return call->done(SessionEndStatus(0));
  if (IsDraining()) {
    return call->done(WithH2Kind(
        UnavailableError("the HTTP/2 connection to " + peer() +
                         " is going away (GOAWAY); the request was not sent"),
        H2ErrorKind::kGoAway));
  }
  Call* c = call.get();
  calls_.emplace(c->id, std::move(call));
  queue_.push_back(c->id);
  if (c->deadline != Clock::time_point::max()) {
    c->timer.expires_at(c->deadline);
    c->timer.async_wait([self = self(), id = c->id](const boost::system::error_code& ec) {
      if (!ec) self->OnDeadline(id);
    });
  }
  StartQueued();
  Flush();
}

void H2ClientSession::StartQueued() {
  if (session_ == nullptr) return;
  while (!queue_.empty() && !closed() && !IsDraining() && by_stream_.size() < StreamLimit()) {
    const uint64_t id = queue_.front();
    queue_.pop_front();
    auto it = calls_.find(id);
    if (it == calls_.end() || it->second->completed) continue;
    StartCall(it->second.get());
  }
  UpdateCounters();
}

bool H2ClientSession::StartCall(Call* call) {
  NvList nv;
  for (const auto& [name, value] : call->fields) nv.Add(name, value);
  nghttp2_data_provider provider{};
  provider.read_callback = &ReadBody;
  const bool has_body = !call->body.empty();
  const int32_t stream_id = nghttp2_submit_request(session_, nullptr, nv.data(), nv.size(),
                                                   has_body ? &provider : nullptr, nullptr);
  if (stream_id < 0) {
    Status status =
        stream_id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE
            ? WithH2Kind(UnavailableError("the HTTP/2 connection to " + peer() +
                                          " has used up its stream ids"),
                         H2ErrorKind::kGoAway)
            : InternalError(std::string("cannot submit an HTTP/2 request: ") +
                            nghttp2_strerror(stream_id));
    if (stream_id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE) draining_ = true;
    Complete(call, std::move(status));
    return false;
  }
  call->stream_id = stream_id;
  by_stream_[stream_id] = call;
  return true;
}

H2ClientSession::Call* H2ClientSession::FindStream(int32_t stream_id) {
  auto it = by_stream_.find(stream_id);
  return it == by_stream_.end() ? nullptr : it->second;
}

void H2ClientSession::Complete(Call* call, Result<HttpResponse> result) {
  if (call->completed) return;
  call->completed = true;
  call->timer.cancel();
  ResponseHandler done = std::move(call->done);
  call->sink = nullptr;
  call->on_headers = nullptr;
  if (call->stream_id == 0) calls_.erase(call->id);  // never had a stream: nothing refers to it
  UpdateCounters();  // before `done`, so that its caller sees the session as it is now
  done(std::move(result));
}

void H2ClientSession::CompleteFailed(Call* call, Status status) {
  const H2ErrorKind kind = H2ErrorKindOf(status);
  if (call->accept_truncated && call->final_seen && kind != H2ErrorKind::kCancelled &&
      kind != H2ErrorKind::kTimeout) {
    call->response.body_truncated = true;
    Complete(call, std::move(call->response));
  } else {
    Complete(call, std::move(status));
  }
}

void H2ClientSession::OnDeadline(uint64_t id) {
  CancelCall(id,
             WithH2Kind(DeadlineExceededError("HTTP/2 request to " + peer() + " timed out"),
                        H2ErrorKind::kTimeout),
             NGHTTP2_CANCEL);
}

void H2ClientSession::Cancel(uint64_t id) {
  asio::post(executor(), [self = self(), id] {
    self->CancelCall(id,
                     WithH2Kind(Status(StatusCode::kCancelled, "HTTP/2 request cancelled"),
                                H2ErrorKind::kCancelled),
                     NGHTTP2_CANCEL);
  });
}

void H2ClientSession::CancelCall(uint64_t id, Status status, uint32_t rst_code) {
  auto it = calls_.find(id);
  if (it == calls_.end() || it->second->completed) return;
  Call* call = it->second.get();
  const int32_t stream_id = call->stream_id;
  if (stream_id == 0) std::erase(queue_, id);
  Complete(call, std::move(status));
  if (stream_id > 0 && !closed() && session_ != nullptr) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, rst_code);
  }
  StartQueued();
  Flush();
}

void H2ClientSession::Close() {
  asio::post(executor(), [self = self()] {
    if (self->closed() || self->session_ == nullptr) return;
    self->draining_ = true;
    self->FailAll(WithH2Kind(Status(StatusCode::kCancelled, "the HTTP/2 session was closed"),
                             H2ErrorKind::kCancelled));
    self->goaway_sent_by_us_ = true;
    nghttp2_session_terminate_session(self->session_, NGHTTP2_NO_ERROR);
    self->Flush();
  });
}

void H2ClientSession::Ping(std::function<void(Status)> done) {
  asio::post(executor(), [self = self(), done = std::move(done)]() mutable {
    if (self->closed() || self->session_ == nullptr) {
      return done(WithH2Kind(UnavailableError("the HTTP/2 connection to " + self->peer() +
                                              " is closed"),
                             H2ErrorKind::kConnection));
    }
    self->ping_waiters_.push_back(std::move(done));
    nghttp2_submit_ping(self->session_, NGHTTP2_FLAG_NONE, nullptr);
    self->Flush();
  });
}

void H2ClientSession::SchedulePing() {
  if (options_.ping_interval.count() <= 0 || closed()) return;
  ping_timer_.expires_after(options_.ping_interval);
  ping_timer_.async_wait([self = self()](const boost::system::error_code& ec) {
    if (ec || self->closed()) return;
    const auto now = Clock::now();
    if (self->ping_outstanding_) {
      if (now - self->ping_sent_ >= self->options_.ping_timeout) {
        self->CloseConnection(WithH2Kind(
            UnavailableError("no PING acknowledgement from " + self->peer() + " within " +
                             std::to_string(self->options_.ping_timeout.count()) + " ms"),
            H2ErrorKind::kConnection));
        return;
      }
    } else {
      self->ping_outstanding_ = true;
      self->ping_sent_ = now;
      // Our own liveness PING carries a marker so that its ACK is not taken for a Ping() call's.
      const uint8_t opaque[8] = {'o', 't', 'l', 'p', 'l', 'i', 'v', 'e'};
      nghttp2_submit_ping(self->session_, NGHTTP2_FLAG_NONE, opaque);
      self->Flush();
    }
    self->SchedulePing();
  });
}

void H2ClientSession::FailAll(const Status& status) {
  std::vector<Call*> pending;
  pending.reserve(calls_.size());
  for (auto& [id, call] : calls_) {
    if (!call->completed) pending.push_back(call.get());
  }
  const H2ErrorKind kind = H2ErrorKindOf(status);
  // A connection that failed under the session: requests whose HEADERS never went out are
  // safe to send elsewhere.
  const bool connection_failed = kind == H2ErrorKind::kConnection || kind == H2ErrorKind::kProtocol;
  for (Call* call : pending) {
    Status s = status;
    if (goaway_received_ && call->stream_id > goaway_last_stream_id_) {
      s = WithH2Kind(UnavailableError("the peer " + peer() +
                                      " sent GOAWAY before processing the request"),
                     H2ErrorKind::kGoAway);
    } else if (connection_failed && !call->headers_sent) {
      s = WithH2Kind(
          UnavailableError("the HTTP/2 connection to " + peer() +
                           " failed before the request was sent (" + status.message() + ")"),
          H2ErrorKind::kNotSent);
    }
    // Complete() erases calls without a stream; keep the rest until the maps are cleared.
    CompleteFailed(call, std::move(s));
  }
  queue_.clear();
  UpdateCounters();
}

void H2ClientSession::Drain(const Status& why) {
  draining_ = true;
  std::vector<uint64_t> waiting(queue_.begin(), queue_.end());
  queue_.clear();
  for (uint64_t id : waiting) {
    auto it = calls_.find(id);
    if (it != calls_.end()) Complete(it->second.get(), why);
  }
  UpdateCounters();
}

void H2ClientSession::AfterReceive() {
  StartQueued();
}

void H2ClientSession::OnClosed(const Status& status) {
  open_ = false;
  draining_ = true;
  ping_timer_.cancel();
  close_status_ = status.ok() ? WithH2Kind(UnavailableError("the HTTP/2 connection to " + peer() +
                                                            " was closed"),
                                           H2ErrorKind::kConnection)
                              : status;
  FailAll(close_status_);
  by_stream_.clear();
  calls_.clear();
  UpdateCounters();
  while (!ping_waiters_.empty()) {
    auto done = std::move(ping_waiters_.front());
    ping_waiters_.pop_front();
    done(close_status_);
  }
}

// --- nghttp2 callbacks (run inside mem_recv / mem_send on the executor) ---

int H2ClientSession::OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame,
                                    void* user_data) {
  auto* self = static_cast<H2ClientSession*>(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  if (Call* call = self->FindStream(frame->hd.stream_id)) {
    call->block = Call::Block::kNone;
    if (call->response.timings.first_byte.count() == 0) {
      call->response.timings.first_byte = Clock::now() - call->submitted;
    }
  }
  return 0;
}

int H2ClientSession::OnHeader(nghttp2_session* session, const nghttp2_frame* frame,
                              const uint8_t* name, size_t namelen, const uint8_t* value,
                              size_t valuelen, uint8_t, void* user_data) {
  auto* self = static_cast<H2ClientSession*>(user_data);
  Call* call = self->FindStream(frame->hd.stream_id);
  if (call == nullptr || call->completed) return 0;
  const std::string_view n(reinterpret_cast<const char*>(name), namelen);
  const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
  const int32_t stream_id = frame->hd.stream_id;

  call->header_bytes += namelen + valuelen + 32;
  if (self->options_.max_header_list_size > 0 &&
      call->header_bytes > self->options_.max_header_list_size) {
    self->Complete(call, WithH2Kind(Status(StatusCode::kResourceExhausted,
                                           "the response headers from " + self->peer() +
                                               " exceed " +
                                               std::to_string(self->options_.max_header_list_size) +
                                               " bytes"),
                                    H2ErrorKind::kTooLarge));
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
    return 0;
  }
  if (n == ":status") {
    int status = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), status);
    if (ec != std::errc() || end != v.data() + v.size() || v.size() != 3 || status < 100 ||
        status > 599 || status == 101 || call->final_seen) {
      self->Complete(call, WithH2Kind(InternalError("invalid HTTP/2 :status '" + std::string(v) +
                                                    "' from " + self->peer()),
                                      H2ErrorKind::kProtocol));
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_PROTOCOL_ERROR);
      return 0;
    }
    if (status < 200) {
      call->block = Call::Block::kInterim;
    } else {
      call->block = Call::Block::kFinal;
      call->final_seen = true;
      call->response.status = status;
    }
    return 0;
  }
  if (call->block == Call::Block::kNone) {
    call->block = call->final_seen ? Call::Block::kTrailers : Call::Block::kInterim;
  }
  if (!n.empty() && n[0] == ':') return 0;  // nghttp2 has validated pseudo-headers
  switch (call->block) {
    case Call::Block::kFinal: call->response.headers.Add(std::string(n), std::string(v)); break;
    case Call::Block::kTrailers: call->response.trailers.Add(std::string(n), std::string(v)); break;
    default: break;
  }
  return 0;
}

int H2ClientSession::OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  auto* self = static_cast<H2ClientSession*>(user_data);
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
    case NGHTTP2_DATA: {
      Call* call = self->FindStream(frame->hd.stream_id);
      if (call == nullptr || call->completed) break;
      if (frame->hd.type == NGHTTP2_HEADERS && call->final_seen && !call->headers_reported) {
        call->headers_reported = true;
        if (call->on_headers) call->on_headers(call->response.status, call->response.headers);
        if (call->completed) break;
      }
      if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
        if (!call->final_seen) {
          self->Complete(call, WithH2Kind(InternalError("the HTTP/2 stream from " + self->peer() +
                                                        " ended without a final response"),
                                          H2ErrorKind::kProtocol));
        } else {
          self->Complete(call, std::move(call->response));
        }
      }
      break;
    }
    case NGHTTP2_RST_STREAM: {
      if (Call* call = self->FindStream(frame->hd.stream_id)) {
        call->rst_received = true;
        call->rst_code = frame->rst_stream.error_code;
      }
      break;
    }
    case NGHTTP2_GOAWAY: {
      self->goaway_received_ = true;
      self->goaway_received_code_ = frame->goaway.error_code;
      self->goaway_last_stream_id_ = frame->goaway.last_stream_id;
      self->Drain(WithH2Kind(UnavailableError("the HTTP/2 connection to " + self->peer() +
                                              " is going away (GOAWAY " +
                                              H2ErrorCodeName(frame->goaway.error_code) +
                                              "); the request was not sent"),
                             H2ErrorKind::kGoAway));
      break;
    }
    case NGHTTP2_PING: {
      if ((frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) break;
      static constexpr uint8_t kLive[8] = {'o', 't', 'l', 'p', 'l', 'i', 'v', 'e'};
      if (std::equal(std::begin(kLive), std::end(kLive), frame->ping.opaque_data)) {
        self->ping_outstanding_ = false;
      } else if (!self->ping_waiters_.empty()) {
        auto done = std::move(self->ping_waiters_.front());
        self->ping_waiters_.pop_front();
        done(Status::Ok());
      }
      break;
    }
    case NGHTTP2_SETTINGS: self->UpdateCounters(); break;
    default: break;
  }
  return 0;
}

int H2ClientSession::OnDataChunk(nghttp2_session* session, uint8_t, int32_t stream_id,
                                 const uint8_t* data, size_t len, void* user_data) {
  auto* self = static_cast<H2ClientSession*>(user_data);
  // The credit goes back whatever happens to the bytes: the connection window must not leak.
  nghttp2_session_consume(session, stream_id, len);
  Call* call = self->FindStream(stream_id);
  if (call == nullptr || call->completed) return 0;
  const std::string_view chunk(reinterpret_cast<const char*>(data), len);
  if (call->sink) {
    call->sink(chunk);
    return 0;
  }
  const size_t limit = self->options_.max_response_body;
  if (limit > 0 && call->response.body.size() + len > limit) {
    self->Complete(call, WithH2Kind(Status(StatusCode::kResourceExhausted,
                                           "the response body from " + self->peer() +
                                               " exceeds " + std::to_string(limit) + " bytes"),
                                    H2ErrorKind::kTooLarge));
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
    return 0;
  }
  call->response.body.append(chunk);
  return 0;
}

int H2ClientSession::OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                                   void* user_data) {
  auto* self = static_cast<H2ClientSession*>(user_data);
  Call* call = self->FindStream(stream_id);
  if (call == nullptr) return 0;
  self->by_stream_.erase(stream_id);
  if (!call->completed) {
    Status status;
    if (self->goaway_received_ && stream_id > self->goaway_last_stream_id_) {
      status = WithH2Kind(UnavailableError("the peer " + self->peer() +
                                           " sent GOAWAY before processing the request"),
                          H2ErrorKind::kGoAway);
    } else if (call->rst_received) {
      const uint32_t code = call->rst_code;
      status = WithH2Kind(Status(StatusCode::kUnavailable,
                                 "HTTP/2 stream reset by " + self->peer() + " (RST_STREAM " +
                                     H2ErrorCodeName(code) + ")",
                                 code == NGHTTP2_REFUSED_STREAM),
                          H2ErrorKind::kStreamReset);
    } else if (!call->invalid_frame.empty() || error_code != NGHTTP2_NO_ERROR) {
      status = WithH2Kind(
          InternalError("HTTP/2 protocol error on a stream from " + self->peer() + ": " +
                        (call->invalid_frame.empty() ? H2ErrorCodeName(error_code)
                                                     : call->invalid_frame)),
          H2ErrorKind::kProtocol);
    } else {
      status = WithH2Kind(UnavailableError("the HTTP/2 stream from " + self->peer() +
                                           " closed before the response was complete"),
                          H2ErrorKind::kProtocol);
    }
    self->CompleteFailed(call, std::move(status));
  }
  self->calls_.erase(call->id);
  self->UpdateCounters();
  if (!self->queue_.empty()) {
    // A slot opened; nghttp2 must not be re-entered from inside its own callback.
    asio::post(self->executor(), [s = self->self()] {
      s->StartQueued();
      s->Flush();
    });
  }
  return 0;
}

int H2ClientSession::OnFrameNotSend(nghttp2_session*, const nghttp2_frame* frame,
                                    int lib_error_code, void* user_data) {
  auto* self = static_cast<H2ClientSession*>(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  Call* call = self->FindStream(frame->hd.stream_id);
  if (call == nullptr) return 0;
  self->by_stream_.erase(frame->hd.stream_id);
  Status status =
      self->goaway_sent_code_ != NGHTTP2_NO_ERROR
          // nghttp2 ended the session because the peer broke the protocol.
          ? self->SessionEndStatus(0)
      : lib_error_code == NGHTTP2_ERR_START_STREAM_NOT_ALLOWED ||
              lib_error_code == NGHTTP2_ERR_STREAM_CLOSING
          ? WithH2Kind(UnavailableError("the HTTP/2 connection to " + self->peer() +
                                        " is going away (GOAWAY); the request was not sent"),
                       H2ErrorKind::kGoAway)
          : WithH2Kind(InternalError(std::string("cannot send the HTTP/2 request: ") +
                                     nghttp2_strerror(lib_error_code)),
                       H2ErrorKind::kProtocol);
  self->Complete(call, std::move(status));
  self->calls_.erase(call->id);
  self->UpdateCounters();
  return 0;
}

int H2ClientSession::OnFrameSend(nghttp2_session* session, const nghttp2_frame* frame,
                                 void* user_data) {
  auto* self = static_cast<H2ClientSession*>(user_data);
  if (frame->hd.type == NGHTTP2_HEADERS) {
    if (Call* call = self->FindStream(frame->hd.stream_id)) call->headers_sent = true;
  }
  return OnFrameSent(session, frame, static_cast<H2Connection*>(self));
}

int H2ClientSession::OnInvalidFrame(nghttp2_session*, const nghttp2_frame* frame,
                                    int lib_error_code, void* user_data) {
  auto* self = static_cast<H2ClientSession*>(user_data);
  if (Call* call = self->FindStream(frame->hd.stream_id)) {
    call->invalid_frame = nghttp2_strerror(lib_error_code);
  }
  return 0;
}

ssize_t H2ClientSession::ReadBody(nghttp2_session*, int32_t stream_id, uint8_t* buf,
                                  size_t length, uint32_t* data_flags, nghttp2_data_source*,
                                  void* user_data) {
  auto* self = static_cast<H2ClientSession*>(user_data);
  Call* call = self->FindStream(stream_id);
  if (call == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  const size_t n = std::min(length, call->body.size() - call->body_offset);
  std::memcpy(buf, call->body.data() + call->body_offset, n);
  call->body_offset += n;
  if (call->body_offset == call->body.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

}  // namespace otlp::net::internal
