#include "otlp/http/websocket.h"

#include <future>
#include <utility>

#include "otlp/core/internal/mutex.h"
#include "otlp/core/version.h"
#include "otlp/http/error.h"
#include "otlp/net/internal/base64.h"
#include "otlp/net/internal/tls.h"
#include "otlp/net/internal/websocket_client.h"
#include "otlp/net/url.h"
#include "otlp/propagation/carriers.h"
#include "otlp/propagation/global_propagator.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/span.h"
#include "otlp/trace/tracer.h"

namespace otlp::http {
namespace {

using net::internal::WebSocketClient;
using net::internal::WebSocketFrameMessage;

static_assert(static_cast<uint16_t>(WebSocketErrorKind::kUpgradeRefused) ==
                  static_cast<uint16_t>(net::internal::WebSocketErrorKind::kUpgradeRefused) &&
              static_cast<uint16_t>(WebSocketErrorKind::kProtocol) ==
                  static_cast<uint16_t>(net::internal::WebSocketErrorKind::kProtocol));

Status OnIoThread(std::string_view what) {
  return FailedPreconditionError("WebSocket::" + std::string(what) +
                                 " blocks and cannot run on the runtime's I/O thread");
}

Result<WebSocketMessage> ToMessage(Result<WebSocketFrameMessage> r) {
  if (!r.ok()) return r.status();
  WebSocketMessage m;
  switch (r->kind) {
    case WebSocketFrameMessage::kText: m.type = WebSocketMessage::Type::kText; break;
    case WebSocketFrameMessage::kBinary: m.type = WebSocketMessage::Type::kBinary; break;
    case WebSocketFrameMessage::kClose: m.type = WebSocketMessage::Type::kClose; break;
  }
  m.data = std::move(r->data);
  m.close_code = r->close_code;
  return m;
}

WebSocketClient::DataType ToDataType(WebSocketMessage::Type type) {
  return type == WebSocketMessage::Type::kBinary ? WebSocketClient::DataType::kBinary
                                                 : WebSocketClient::DataType::kText;
}

// A failed upgrade's Status with an http::ErrorKind in its detail: the engine's own kind when it
// set one; otherwise the kind its code means here (the upgrade has a single deadline, the
// connect timeout) or ErrorKindOf's reading of the code.
Status WithUpgradeErrorKind(Status s) {
  if (s.detail() != 0) return s;
  ErrorKind kind = ErrorKindOf(s);
  switch (s.code()) {
    case StatusCode::kDeadlineExceeded: kind = ErrorKind::kConnectTimeout; break;
    case StatusCode::kPermissionDenied: kind = ErrorKind::kCertificate; break;
    case StatusCode::kInternal: kind = ErrorKind::kProtocol; break;
    default: break;
  }
  return std::move(s).WithDetail(static_cast<uint16_t>(kind));
}

// error.type of a failed upgrade: the refusing status, else the kind's name, as on the HTTP
// client's spans (ErrorKindName).
std::string ErrorType(const Status& s, int http_status) {
  if (http_status >= 400) return std::to_string(http_status);
  return std::string(ErrorKindName(ErrorKindOf(s)));
}

}  // namespace

WebSocketErrorKind WebSocketErrorKindOf(const Status& status) noexcept {
  const uint16_t d = status.detail();
  if (d >= static_cast<uint16_t>(WebSocketErrorKind::kUpgradeRefused) &&
      d <= static_cast<uint16_t>(WebSocketErrorKind::kProtocol)) {
    return static_cast<WebSocketErrorKind>(d);
  }
  return WebSocketErrorKind::kNone;
}

// A receive the engine has not answered yet (kept across a Receive that timed out, so the
// message it eventually yields goes to the next receive).
struct PendingReceive {
  otlp::internal::Mutex mu;
  otlp::internal::CondVar cv;
  std::optional<Result<WebSocketMessage>> result OTLP_GUARDED_BY(mu);
};

struct WebSocket::State {
  std::shared_ptr<net::Runtime> runtime;
  std::shared_ptr<WebSocketClient> client;
  otlp::internal::Mutex mu;
  std::shared_ptr<PendingReceive> pending OTLP_GUARDED_BY(mu);
  bool receiving OTLP_GUARDED_BY(mu) = false;    // a Receive call is waiting
  bool fragmenting OTLP_GUARDED_BY(mu) = false;  // a SendFragment message is unfinished
};

Result<std::unique_ptr<WebSocket>> WebSocket::Connect(std::string_view url,
                                                      WebSocketOptions options) {
  OTLP_ASSIGN_OR_RETURN(net::Url parsed, net::Url::Parse(url));
  if (parsed.scheme != "ws" && parsed.scheme != "wss") {
    return InvalidArgumentError("a WebSocket URL must be ws:// or wss://, not '" + parsed.scheme +
                                "://'");
  }
  std::shared_ptr<net::Runtime> runtime = options.runtime;
  if (runtime && runtime->InIoThread()) return OnIoThread("Connect");
  std::shared_ptr<const net::internal::TlsContext> tls;
  if (parsed.is_tls()) {
    OTLP_ASSIGN_OR_RETURN(tls, net::internal::TlsContext::Client(options.tls));
  }
  if (!runtime) runtime = net::Runtime::Create({.threads = 1, .thread_name = "otlp-ws"});

  net::internal::WebSocketConnectParams params{.host = parsed.host,
                                               .port = parsed.port,
                                               .target = parsed.target,
                                               .authority = parsed.Authority(),
                                               .headers = std::move(options.headers),
                                               .subprotocols = std::move(options.subprotocols),
                                               .max_message_size = options.max_message_size,
                                               .permessage_deflate = options.permessage_deflate,
                                               .user_agent = std::move(options.user_agent)};
  if (options.connect_timeout.count() > 0) {
    params.deadline = std::chrono::steady_clock::now() + options.connect_timeout;
  }
  if (parsed.has_credentials() && !params.headers.Contains("Authorization")) {
    params.headers.Add(
        "Authorization",
        "Basic " + net::internal::Base64Encode(parsed.user + ":" + parsed.password.value_or("")));
  }

  // The upgrade's CLIENT span, and its context in the request headers.
  static trace::Tracer tracer = trace::GetTracer("otlp.http", kVersion);
  const std::string full = parsed.ToStringRedacted();
  trace::Span span = tracer.StartSpan("GET",
                                      {{"http.request.method", "GET"},
                                       {"url.full", full},
                                       {"server.address", parsed.host},
                                       {"server.port", static_cast<int64_t>(parsed.port)}},
                                      {.kind = trace::SpanKind::kClient});
  {
    propagation::HeaderVectorCarrier carrier(params.headers.fields());
    propagation::GlobalPropagator().Inject(
        trace::Context::Current().WithSpanContext(span.GetContext()), carrier);
  }

  auto client = WebSocketClient::Create(*runtime, std::move(tls));
  if (options.on_pong) client->SetPongHandler(std::move(options.on_pong));
  std::promise<std::pair<Status, net::internal::WebSocketHandshake>> promise;
  auto future = promise.get_future();
  client->AsyncConnect(std::move(params),
                       [&promise](Status s, net::internal::WebSocketHandshake hs) {
                         promise.set_value({std::move(s), std::move(hs)});
                       });
  auto [engine_status, handshake] = future.get();
  Status status = engine_status.ok() ? std::move(engine_status)
                                     : WithUpgradeErrorKind(std::move(engine_status));

  if (handshake.status != 0) {
    span.SetAttribute("http.response.status_code", static_cast<int64_t>(handshake.status));
  }
  if (!status.ok()) {
    span.SetAttribute("error.type", ErrorType(status, handshake.status));
    span.SetStatus(trace::SpanStatusCode::kError, status.message());
    span.End();
    std::promise<void> aborted;
    client->Abort([&aborted] { aborted.set_value(); });
    aborted.get_future().wait();
    return status;
  }
  span.End();

  std::unique_ptr<WebSocket> ws(new WebSocket());
  ws->state_ = std::make_shared<State>();
  ws->state_->runtime = std::move(runtime);
  ws->state_->client = std::move(client);
  ws->subprotocol_ = std::move(handshake.subprotocol);
  ws->permessage_deflate_ = handshake.permessage_deflate;
  ws->response_headers_ = std::move(handshake.headers);
  return ws;
}

WebSocket::~WebSocket() {
  if (!state_) return;
  if (state_->runtime->InIoThread()) {
    state_->client->Abort(nullptr);
    return;
  }
  std::promise<void> aborted;
  state_->client->Abort([&aborted] { aborted.set_value(); });
  aborted.get_future().wait();
}

Status WebSocket::Wait(std::function<void(std::function<void(Status)>)> start) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  start([&promise](Status s) { promise.set_value(std::move(s)); });
  return future.get();
}

Status WebSocket::SendBlocking(int type, std::string data, bool fin) {
  if (state_->runtime->InIoThread()) return OnIoThread("Send");
  const auto data_type = static_cast<WebSocketClient::DataType>(type);
  return Wait([&](std::function<void(Status)> done) {
    state_->client->AsyncWrite(data_type, std::move(data), fin, std::move(done));
  });
}

Status WebSocket::SendText(std::string_view text) {
  {
    otlp::internal::MutexLock lock(state_->mu);
    if (state_->fragmenting) {
      return FailedPreconditionError("a fragmented WebSocket message is still unfinished");
    }
  }
  return SendBlocking(static_cast<int>(WebSocketClient::DataType::kText), std::string(text), true);
}

Status WebSocket::SendBinary(std::string_view data) {
  {
    otlp::internal::MutexLock lock(state_->mu);
    if (state_->fragmenting) {
      return FailedPreconditionError("a fragmented WebSocket message is still unfinished");
    }
  }
  return SendBlocking(static_cast<int>(WebSocketClient::DataType::kBinary), std::string(data),
                      true);
}

void WebSocket::SendAsync(WebSocketMessage::Type type, std::string data, SendCallback done) {
  if (type == WebSocketMessage::Type::kClose) {
    state_->client->AsyncClose(1000, std::move(data), std::move(done));
    return;
  }
  state_->client->AsyncWrite(ToDataType(type), std::move(data), true, std::move(done));
}

Status WebSocket::SendFragment(WebSocketMessage::Type type, std::string_view data, bool last) {
  if (type == WebSocketMessage::Type::kClose) {
    return InvalidArgumentError("a WebSocket message fragment is text or binary");
  }
  {
    otlp::internal::MutexLock lock(state_->mu);
    state_->fragmenting = !last;
  }
  return SendBlocking(static_cast<int>(ToDataType(type)), std::string(data), last);
}

Result<WebSocketMessage> WebSocket::Receive(std::chrono::milliseconds timeout) {
  if (state_->runtime->InIoThread()) return OnIoThread("Receive");
  std::shared_ptr<PendingReceive> pending;
  bool start = false;
  {
    otlp::internal::MutexLock lock(state_->mu);
    if (state_->receiving) {
      return FailedPreconditionError("another thread is already receiving on this WebSocket");
    }
    state_->receiving = true;
    if (!state_->pending) {
      state_->pending = std::make_shared<PendingReceive>();
      start = true;
    }
    pending = state_->pending;
  }
  if (start) {
    state_->client->AsyncReceive([pending](Result<WebSocketFrameMessage> r) {
      otlp::internal::MutexLock lock(pending->mu);
      pending->result = ToMessage(std::move(r));
      pending->cv.NotifyAll();
    });
  }
  std::optional<Result<WebSocketMessage>> result;
  {
    otlp::internal::MutexLock lock(pending->mu);
    if (pending->cv.WaitFor(lock, timeout, [&]() OTLP_REQUIRES(pending->mu) {
          return pending->result.has_value();
        })) {
      result = std::move(pending->result);
    }
  }
  otlp::internal::MutexLock lock(state_->mu);
  state_->receiving = false;
  if (!result) {
    return DeadlineExceededError("no WebSocket message within " + std::to_string(timeout.count()) +
                                 " ms");
  }
  state_->pending.reset();
  return std::move(*result);
}

void WebSocket::ReceiveAsync(ReceiveCallback done) {
  std::shared_ptr<PendingReceive> pending;
  {
    otlp::internal::MutexLock lock(state_->mu);
    if (state_->receiving) {
      state_->runtime->Post([done = std::move(done)] {
        done(FailedPreconditionError("another thread is already receiving on this WebSocket"));
      });
      return;
    }
    pending = std::exchange(state_->pending, nullptr);
  }
  if (!pending) {
    state_->client->AsyncReceive([done = std::move(done)](Result<WebSocketFrameMessage> r) {
      done(ToMessage(std::move(r)));
    });
    return;
  }
  // A Receive timed out before its message arrived: that message comes first.
  std::optional<Result<WebSocketMessage>> earlier;
  {
    otlp::internal::MutexLock lock(pending->mu);
    earlier = std::move(pending->result);
  }
  if (earlier) {
    state_->runtime->Post(
        [done = std::move(done), r = std::move(*earlier)]() mutable { done(std::move(r)); });
    return;
  }
  {
    otlp::internal::MutexLock lock(state_->mu);
    state_->pending = std::move(pending);
  }
  state_->runtime->Post([done = std::move(done)] {
    done(FailedPreconditionError(
        "a timed-out WebSocket Receive is still waiting for its message; call Receive again"));
  });
}

Status WebSocket::Ping(std::string_view payload) {
  if (state_->runtime->InIoThread()) return OnIoThread("Ping");
  return Wait([&](std::function<void(Status)> done) {
    state_->client->AsyncPing(std::string(payload), std::move(done));
  });
}

Status WebSocket::Close(uint16_t code, std::string_view reason) {
  if (state_->runtime->InIoThread()) return OnIoThread("Close");
  if (reason.size() > 123) {
    return InvalidArgumentError("a WebSocket close reason is at most 123 bytes");
  }
  if (code < 1000 || code == 1004 || code == 1005 || code == 1006 || code == 1015 ||
      (code > 1015 && code < 3000) || code > 4999) {
    return InvalidArgumentError("WebSocket close code " + std::to_string(code) +
                                " may not be sent (1000-1014 or 3000-4999)");
  }
  return Wait([&](std::function<void(Status)> done) {
    state_->client->AsyncClose(code, std::string(reason), std::move(done));
  });
}

}  // namespace otlp::http
