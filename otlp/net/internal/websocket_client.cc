#include "otlp/net/internal/websocket_client.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <optional>
#include <utility>

#include "otlp/net/internal/error_kind.h"
#include "otlp/net/internal/runtime_impl.h"
#include "otlp/net/internal/stream.h"

namespace otlp::net::internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace bhttp = beast::http;
using boost::system::error_code;

std::string CloseCodeName(uint16_t code) {
  switch (code) {
    case 1000: return "normal closure";
    case 1001: return "going away";
    case 1002: return "protocol error";
    case 1003: return "unsupported data";
    case 1005: return "no status";
    case 1007: return "invalid payload";
    case 1008: return "policy violation";
    case 1009: return "message too big";
    case 1010: return "extension required";
    case 1011: return "internal error";
    default: return "code " + std::to_string(code);
  }
}

Status WithKind(Status s, WebSocketErrorKind kind) {
  return std::move(s).WithDetail(static_cast<uint16_t>(kind));
}

}  // namespace

struct WebSocketClient::Impl {
  struct WriteOp {
    enum Op : uint8_t { kData, kPing, kClose } op = kData;
    DataType type = DataType::kText;
    bool fin = true;
    uint16_t code = 0;
    std::string data;
    DoneHandler done;
  };

  Impl(Runtime& runtime, std::shared_ptr<const TlsContext> tls)
      : strand(asio::make_strand(IoContext(runtime))), ws(strand, std::move(tls)) {}

  asio::strand<asio::io_context::executor_type> strand;
  websocket::stream<Stream> ws;
  std::string peer;  // "host:port" for messages
  size_t max_message_size = 0;
  PongHandler on_pong;

  bool open = false;             // the upgrade completed and the connection was not closed yet
  bool closing_by_us = false;    // our close frame was queued
  std::deque<WriteOp> writes;    // front: the one on the wire while `writing`
  bool writing = false;

  beast::flat_buffer read_buffer;
  bool reading = false;     // a read is pending on the stream
  bool read_ended = false;  // reading stopped for good; read_end says why
  Status read_end;
  std::deque<WebSocketFrameMessage> received;
  size_t received_bytes = 0;
  ReceiveHandler receiver;

  Status ErrorStatus(const error_code& ec) {
    if (ec == websocket::error::closed) {
      return WithKind(FailedPreconditionError("WebSocket connection to " + peer + " is closed"),
                      WebSocketErrorKind::kClosed);
    }
    if (ec == websocket::error::message_too_big || ec == websocket::error::buffer_overflow) {
      return WithKind(Status(StatusCode::kResourceExhausted,
                             "a WebSocket message from " + peer + " exceeds the limit of " +
                                 std::to_string(max_message_size) +
                                 " bytes; the connection was closed with 1009 (message too big)"),
                      WebSocketErrorKind::kMessageTooBig);
    }
    if (ec == beast::error::timeout && ws.next_layer().phase() == Stream::Phase::kOpen) {
      return DeadlineExceededError("WebSocket handshake with " + peer + " timed out");
    }
    if (ec.category() == websocket::make_error_code(websocket::error::closed).category() ||
        ec == websocket::condition::protocol_violation ||
        ec == websocket::condition::handshake_failed) {
      return WithKind(InternalError("WebSocket protocol error with " + peer + ": " + ec.message()),
                      WebSocketErrorKind::kProtocol);
    }
    Status status = ws.next_layer().ErrorStatus(ec, peer);
    const HttpErrorKind kind = SocketErrorKind(ec, status);
    return std::move(status).WithDetail(static_cast<uint16_t>(kind));
  }

  void Connect(std::shared_ptr<WebSocketClient> self, WebSocketConnectParams params,
               ConnectHandler done) {
    peer = params.host.find(':') != std::string::npos
               ? "[" + params.host + "]:" + std::to_string(params.port)
               : params.host + ":" + std::to_string(params.port);
    max_message_size = params.max_message_size;
    const auto deadline = params.deadline;
    const std::string host = params.host;
    const uint16_t port = params.port;
    ws.next_layer().AsyncConnect(
        host, port, deadline,
        [this, self = std::move(self), params = std::move(params),
         done = std::move(done)](const error_code& ec) mutable {
          if (ec) return done(ErrorStatus(ec), {});
          Upgrade(std::move(self), std::move(params), std::move(done));
        });
  }

  void Upgrade(std::shared_ptr<WebSocketClient> self, WebSocketConnectParams params,
               ConnectHandler done) {
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = websocket::stream_base::none();
    if (params.deadline != std::chrono::steady_clock::time_point::max()) {
      timeouts.handshake_timeout =
          std::max<std::chrono::steady_clock::duration>(
              params.deadline - std::chrono::steady_clock::now(), std::chrono::milliseconds(1));
    }
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws.set_option(timeouts);
    if (params.permessage_deflate) {
      websocket::permessage_deflate pmd;
      pmd.client_enable = true;
      ws.set_option(pmd);
    }
    ws.read_message_max(params.max_message_size);
    ws.auto_fragment(false);

    std::string offered;
    for (const std::string& p : params.subprotocols) {
      if (!offered.empty()) offered += ", ";
      offered += p;
    }
    ws.set_option(websocket::stream_base::decorator(
        [headers = std::move(params.headers), offered,
         agent = std::move(params.user_agent)](websocket::request_type& req) {
          if (!agent.empty()) req.set(bhttp::field::user_agent, agent);
          if (!offered.empty()) req.set(bhttp::field::sec_websocket_protocol, offered);
          for (const auto& [name, value] : headers) req.insert(name, value);
        }));
    ws.control_callback([this](websocket::frame_type kind, beast::string_view payload) {
      if (kind == websocket::frame_type::pong && on_pong) {
        on_pong(std::string_view(payload.data(), payload.size()));
      }
    });

    auto response = std::make_shared<websocket::response_type>();
    ws.async_handshake(
        *response, params.authority, params.target,
        [this, self = std::move(self), response, subprotocols = std::move(params.subprotocols),
         done = std::move(done)](const error_code& ec) mutable {
          WebSocketHandshake hs;
          // After a timeout or an I/O error Beast leaves a made-up response behind (500).
          const bool got_response = !ec || ec == websocket::error::upgrade_declined ||
                                    ec == websocket::condition::handshake_failed;
          if (got_response) {
            hs.status = static_cast<int>(response->result_int());
            for (const auto& field : *response) {
              hs.headers.Add(std::string(field.name_string()), std::string(field.value()));
            }
          }
          if (ec == websocket::error::upgrade_declined) {
            const bool retryable = hs.status >= 500 || hs.status == 429;
            ws.next_layer().Close();
            return done(WithKind(Status(StatusCode::kUnavailable,
                                        "WebSocket upgrade refused by " + peer + ": HTTP " +
                                            std::to_string(hs.status) + " " +
                                            std::string(response->reason()),
                                        retryable),
                                 WebSocketErrorKind::kUpgradeRefused),
                        std::move(hs));
          }
          if (ec) return done(ErrorStatus(ec), std::move(hs));
          if (auto chosen = hs.headers.Find("Sec-WebSocket-Protocol")) {
            hs.subprotocol = std::string(*chosen);
            if (std::find(subprotocols.begin(), subprotocols.end(), hs.subprotocol) ==
                subprotocols.end()) {
              ws.next_layer().Close();
              return done(WithKind(InternalError("WebSocket server " + peer +
                                                 " chose the subprotocol '" + hs.subprotocol +
                                                 "', which was not offered"),
                                   WebSocketErrorKind::kProtocol),
                          std::move(hs));
            }
          }
          if (auto ext = hs.headers.Find("Sec-WebSocket-Extensions")) {
            hs.permessage_deflate = ext->find("permessage-deflate") != std::string_view::npos;
          }
          open = true;
          ReadNext(self);
          done(Status::Ok(), std::move(hs));
        });
  }

  // ---- writes ----

  void Queue(std::shared_ptr<WebSocketClient> self, WriteOp op) {
    writes.push_back(std::move(op));
    if (!writing) WriteNext(std::move(self));
  }

  void WriteNext(std::shared_ptr<WebSocketClient> self) {
    if (writes.empty()) {
      writing = false;
      return;
    }
    writing = true;
    WriteOp& op = writes.front();
    auto complete = [this, self](const error_code& ec, size_t = 0) mutable {
      WriteOp finished = std::move(writes.front());
      writes.pop_front();
      Status status = ec ? ErrorStatus(ec) : Status::Ok();
      if (finished.op == WriteOp::kClose) open = false;
      if (finished.done) finished.done(std::move(status));
      WriteNext(std::move(self));
    };
    if (!open && op.op != WriteOp::kClose) {
      asio::post(strand, [complete]() mutable { complete(websocket::error::closed); });
      return;
    }
    switch (op.op) {
      case WriteOp::kData:
        ws.binary(op.type == DataType::kBinary);
        ws.async_write_some(op.fin, asio::buffer(op.data), std::move(complete));
        return;
      case WriteOp::kPing:
        ws.async_ping(websocket::ping_data(op.data.data(), op.data.size()), std::move(complete));
        return;
      case WriteOp::kClose:
        if (!open) {
          // Already closed (by the peer or an error): nothing to send.
          asio::post(strand, [complete]() mutable { complete(error_code()); });
          return;
        }
        closing_by_us = true;
        ws.async_close(websocket::close_reason(static_cast<websocket::close_code>(op.code), op.data), std::move(complete));
        return;
    }
  }

  // ---- reads ----

  bool QueueFull() const {
    return received.size() >= kMaxQueuedMessages ||
           (max_message_size != 0 && received_bytes >= max_message_size);
  }

  void ReadNext(std::shared_ptr<WebSocketClient> self) {
    if (reading || read_ended || QueueFull()) return;
    reading = true;
    ws.async_read(read_buffer, [this, self](const error_code& ec, size_t) mutable {
      reading = false;
      if (ec) {
        EndReading(ec);
      } else {
        WebSocketFrameMessage m;
        m.kind = ws.got_text() ? WebSocketFrameMessage::kText : WebSocketFrameMessage::kBinary;
        m.data = beast::buffers_to_string(read_buffer.data());
        read_buffer.consume(read_buffer.size());
        received_bytes += m.data.size();
        received.push_back(std::move(m));
        ReadNext(self);
      }
      Deliver(std::move(self));
    });
  }

  void EndReading(const error_code& ec) {
    read_ended = true;
    open = false;
    if (ec == websocket::error::closed && !closing_by_us) {
      const websocket::close_reason& reason = ws.reason();
      WebSocketFrameMessage m;
      m.kind = WebSocketFrameMessage::kClose;
      m.close_code = reason.code == websocket::close_code::none
                         ? 1005
                         : static_cast<uint16_t>(reason.code);
      m.data = std::string(reason.reason.data(), reason.reason.size());
      read_end = WithKind(FailedPreconditionError("WebSocket connection closed by " + peer +
                                                  " (" + CloseCodeName(m.close_code) + ")"),
                          WebSocketErrorKind::kClosed);
      received.push_back(std::move(m));
      return;
    }
    if (ec == websocket::error::closed || (closing_by_us && ec == asio::error::operation_aborted)) {
      read_end = WithKind(FailedPreconditionError("WebSocket connection to " + peer + " is closed"),
                          WebSocketErrorKind::kClosed);
      return;
    }
    read_end = ErrorStatus(ec);
  }

  void Deliver(std::shared_ptr<WebSocketClient> self) {
    if (!receiver) return;
    if (!received.empty()) {
      ReceiveHandler handler = std::move(receiver);
      receiver = nullptr;
      WebSocketFrameMessage m = std::move(received.front());
      received.pop_front();
      received_bytes -= std::min(received_bytes, m.data.size());
      ReadNext(self);
      handler(std::move(m));
      return;
    }
    if (read_ended) {
      ReceiveHandler handler = std::move(receiver);
      receiver = nullptr;
      handler(read_end);
    }
  }
};

WebSocketClient::WebSocketClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WebSocketClient::~WebSocketClient() = default;

std::shared_ptr<WebSocketClient> WebSocketClient::Create(Runtime& runtime,
                                                         std::shared_ptr<const TlsContext> tls) {
  return std::shared_ptr<WebSocketClient>(
      new WebSocketClient(std::make_unique<Impl>(runtime, std::move(tls))));
}

void WebSocketClient::SetPongHandler(PongHandler handler) {
  asio::post(impl_->strand, [self = shared_from_this(), handler = std::move(handler)]() mutable {
    self->impl_->on_pong = std::move(handler);
  });
}

void WebSocketClient::AsyncConnect(WebSocketConnectParams params, ConnectHandler done) {
  asio::post(impl_->strand, [self = shared_from_this(), params = std::move(params),
                             done = std::move(done)]() mutable {
    Impl& impl = *self->impl_;
    impl.Connect(std::move(self), std::move(params), std::move(done));
  });
}

void WebSocketClient::AsyncWrite(DataType type, std::string data, bool fin, DoneHandler done) {
  Impl::WriteOp op{.op = Impl::WriteOp::kData,
                   .type = type,
                   .fin = fin,
                   .data = std::move(data),
                   .done = std::move(done)};
  asio::post(impl_->strand, [self = shared_from_this(), op = std::move(op)]() mutable {
    Impl& impl = *self->impl_;
    impl.Queue(std::move(self), std::move(op));
  });
}

void WebSocketClient::AsyncPing(std::string payload, DoneHandler done) {
  if (payload.size() > 125) {
    asio::post(impl_->strand, [done = std::move(done)] {
      if (done) done(InvalidArgumentError("a WebSocket ping payload is at most 125 bytes"));
    });
    return;
  }
  Impl::WriteOp op{.op = Impl::WriteOp::kPing, .data = std::move(payload), .done = std::move(done)};
  asio::post(impl_->strand, [self = shared_from_this(), op = std::move(op)]() mutable {
    Impl& impl = *self->impl_;
    impl.Queue(std::move(self), std::move(op));
  });
}

void WebSocketClient::AsyncClose(uint16_t code, std::string reason, DoneHandler done) {
  Impl::WriteOp op{
      .op = Impl::WriteOp::kClose, .code = code, .data = std::move(reason), .done = std::move(done)};
  asio::post(impl_->strand, [self = shared_from_this(), op = std::move(op)]() mutable {
    Impl& impl = *self->impl_;
    impl.Queue(std::move(self), std::move(op));
  });
}

void WebSocketClient::AsyncReceive(ReceiveHandler done) {
  asio::post(impl_->strand, [self = shared_from_this(), done = std::move(done)]() mutable {
    Impl& impl = *self->impl_;
    if (impl.receiver) {
      return done(FailedPreconditionError("another WebSocket receive is already pending"));
    }
    impl.receiver = std::move(done);
    impl.Deliver(std::move(self));
  });
}

void WebSocketClient::Abort(std::function<void()> done) {
  asio::post(impl_->strand, [self = shared_from_this(), done = std::move(done)]() mutable {
    Impl& impl = *self->impl_;
    impl.receiver = nullptr;
    impl.on_pong = nullptr;
    for (Impl::WriteOp& op : impl.writes) op.done = nullptr;
    impl.open = false;
    impl.ws.next_layer().Close();
    if (done) done();
  });
}

}  // namespace otlp::net::internal
