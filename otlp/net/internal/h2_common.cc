#include "otlp/net/internal/h2_common.h"

#include <boost/asio/buffer.hpp>
#include <cstdio>

namespace otlp::net::internal {

namespace asio = boost::asio;

namespace {

// Output gathered per write: enough for a large upload to move in big writes, small enough that
// a write does not hold back reads for long.
constexpr size_t kMaxWriteBytes = 1024 * 1024;

}  // namespace

std::string H2ErrorCodeName(uint32_t error_code) {
  const std::string_view name = nghttp2_http2_strerror(error_code);
  if (name != "unknown") return std::string(name);
  char buf[32];
  std::snprintf(buf, sizeof buf, "error code 0x%x", error_code);
  return buf;
}

bool IsConnectionSpecificHeader(std::string_view lower_name, std::string_view value) noexcept {
  if (lower_name == "te") return value != "trailers";
  return lower_name == "connection" || lower_name == "keep-alive" ||
         lower_name == "proxy-connection" || lower_name == "transfer-encoding" ||
         lower_name == "upgrade";
}

bool IsValidFieldValue(std::string_view value) noexcept {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

void NvList::Add(std::string_view name, std::string_view value) {
  nghttp2_nv nv{};
  nv.name = reinterpret_cast<uint8_t*>(const_cast<char*>(name.data()));
  nv.namelen = name.size();
  nv.value = reinterpret_cast<uint8_t*>(const_cast<char*>(value.data()));
  nv.valuelen = value.size();
  // A traceparent is new on every request: indexing it would only churn the HPACK dynamic
  // table, evicting the fields that do repeat (user-agent, accept, ...) on both sides.
  nv.flags = name == "traceparent" ? NGHTTP2_NV_FLAG_NO_INDEX : NGHTTP2_NV_FLAG_NONE;
  nv_.push_back(nv);
}

H2Connection::H2Connection(std::unique_ptr<Stream> stream, size_t read_buffer_bytes)
    : stream_(std::move(stream)),
      executor_(stream_->get_executor()),
      peer_(stream_->RemoteAddress()),
      read_buf_(read_buffer_bytes) {}

H2Connection::~H2Connection() {
  if (session_ != nullptr) nghttp2_session_del(session_);
}

int H2Connection::OnNghttp2Error(nghttp2_session*, int, const char* msg, size_t len,
                                 void* user_data) {
  static_cast<H2Connection*>(user_data)->last_lib_error_.assign(msg, len);
  return 0;
}

int H2Connection::OnFrameSent(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    static_cast<H2Connection*>(user_data)->goaway_sent_code_ = frame->goaway.error_code;
  }
  return 0;
}

Status H2Connection::SessionEndStatus(int lib_error) const {
  const std::string who = peer_.empty() ? std::string("peer") : peer_;
  if (lib_error != 0) {
    std::string msg = "HTTP/2 connection error with " + who + ": " + nghttp2_strerror(lib_error);
    if (!last_lib_error_.empty()) msg += " (" + last_lib_error_ + ")";
    return WithH2Kind(InternalError(std::move(msg)), H2ErrorKind::kProtocol);
  }
  if (goaway_received_ && goaway_received_code_ != NGHTTP2_NO_ERROR) {
    return WithH2Kind(UnavailableError(who + " closed the HTTP/2 connection with GOAWAY (" +
                                       H2ErrorCodeName(goaway_received_code_) + ")"),
                      H2ErrorKind::kGoAway);
  }
  if (!goaway_sent_by_us_ && (goaway_sent_code_ != NGHTTP2_NO_ERROR || !last_lib_error_.empty())) {
    // nghttp2 ended the session itself: the peer broke the protocol.
    std::string msg = "HTTP/2 protocol error by " + who;
    if (goaway_sent_code_ != NGHTTP2_NO_ERROR) {
      msg += " (GOAWAY " + H2ErrorCodeName(goaway_sent_code_) + " sent)";
    }
    if (!last_lib_error_.empty()) msg += ": " + last_lib_error_;
    return WithH2Kind(InternalError(std::move(msg)), H2ErrorKind::kProtocol);
  }
  return Status::Ok();
}

void H2Connection::StartIo() {
  stream_->ExpiresNever();
  // Bytes a protocol detector (or the TLS layer) already read belong to the session.
  auto& buffered = stream_->buffer();
  if (buffered.size() > 0) {
    const auto data = buffered.data();
    const bool ok = Receive(static_cast<const uint8_t*>(data.data()), data.size());
    buffered.consume(buffered.size());
    if (!ok) return;
    AfterReceive();
  }
  Flush();
  if (!closed_) ReadSome();
}

void H2Connection::ReadSome() {
  if (reading_ || closed_) return;
  reading_ = true;
  stream_->async_read_some(
      asio::buffer(read_buf_),
      [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
        self->reading_ = false;
        self->OnRead(ec, n);
      });
}

void H2Connection::OnRead(const boost::system::error_code& ec, size_t n) {
  if (closed_) return;
  if (ec) {
    Status status = stream_->ErrorStatus(ec, peer_);
    if (status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kCancelled) {
      status = WithH2Kind(std::move(status), H2ErrorKind::kConnection);
    }
    CloseConnection(std::move(status));
    return;
  }
  if (!Receive(read_buf_.data(), n)) return;
  AfterReceive();
  Flush();
  if (!closed_) ReadSome();
}

bool H2Connection::Receive(const uint8_t* data, size_t n) {
  const ssize_t rv = nghttp2_session_mem_recv(session_, data, n);
  if (rv < 0) {
    CloseConnection(SessionEndStatus(static_cast<int>(rv)));
    return false;
  }
  return true;
}

void H2Connection::Flush() {
  if (closed_ || writing_) return;
  out_.clear();
  for (;;) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      CloseConnection(SessionEndStatus(static_cast<int>(n)));
      return;
    }
    if (n == 0) break;
    out_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    if (out_.size() >= kMaxWriteBytes) break;
  }
  if (out_.empty()) {
    MaybeFinish();
    return;
  }
  writing_ = true;
  stream_->AsyncWriteAll(asio::buffer(out_),
                         [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                           self->OnWritten(ec);
                         });
}

void H2Connection::OnWritten(const boost::system::error_code& ec) {
  writing_ = false;
  if (closed_) return;
  if (ec) {
    Status status = stream_->ErrorStatus(ec, peer_);
    if (status.code() == StatusCode::kUnavailable) {
      status = WithH2Kind(std::move(status), H2ErrorKind::kConnection);
    }
    CloseConnection(std::move(status));
    return;
  }
  Flush();
}

void H2Connection::MaybeFinish() {
  if (closed_ || writing_) return;
  if (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0) {
    CloseConnection(SessionEndStatus(0));
  }
}

void H2Connection::CloseConnection(Status status) {
  if (closed_) return;
  closed_ = true;
  stream_->Close();
  OnClosed(status);
}

}  // namespace otlp::net::internal
