#include "examples/demo/notifications.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "otlp/http/server_tracing.h"
#include "otlp/net/headers.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/span.h"
#include "otlp/trace/tracer.h"

namespace otlp::demo {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;

constexpr const char* kPath = "/notifications";

// One connection: the HTTP upgrade request, then messages until the peer closes. Every step
// runs on the I/O thread; the session lives as long as an operation of its own is pending.
class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : ws_(std::move(socket)) { ws_.read_message_max(64 * 1024); }

  void Start() {
    bhttp::async_read(ws_.next_layer(), buffer_, request_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (!ec) self->OnUpgradeRequest();
                      });
  }

 private:
  void OnUpgradeRequest() {
    beast::error_code ec;
    const tcp::endpoint peer = ws_.next_layer().remote_endpoint(ec);
    peer_address_ = peer.address().to_string();
    peer_port_ = peer.port();
    const std::string client = peer_address_ + ":" + std::to_string(peer_port_);
    const std::string target(request_.target());

    // The request's headers as the library takes them; TraceIncoming extracts the caller's
    // context from them with the global propagator (traceparent, tracestate, baggage).
    net::Headers headers;
    for (const auto& field : request_) {
      headers.Add(std::string(field.name_string()), std::string(field.value()));
    }
    const bool ours = target.substr(0, target.find('?')) == kPath;
    http::TracedRequest traced =
        http::TraceIncoming(request_.method_string(), target, headers,
                            {.route = ours ? kPath : "", .client_address = client});
    if (!ours || !websocket::is_upgrade(request_)) {
      const bhttp::status status =
          ours ? bhttp::status::upgrade_required : bhttp::status::not_found;
      bhttp::response<bhttp::string_body> res{status, request_.version()};
      res.set(bhttp::field::connection, "close");
      res.prepare_payload();
      bhttp::write(ws_.next_layer(), res, ec);
      traced.End(static_cast<int>(status));
      return;
    }
    ws_.accept(request_, ec);  // writes "101 Switching Protocols" (or Beast's 400 on a bad one)
    traced.End(ec ? 400 : 101);
    if (ec) return;
    upgrade_context_ = traced.context();
    ReadMessage();
  }

  void ReadMessage() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      // websocket::error::closed when the peer closed (Beast answered its close frame).
      if (!ec) self->OnMessage();
    });
  }

  void OnMessage() {
    const std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    const nlohmann::json event = nlohmann::json::parse(text, nullptr, false);
    const std::string order_id =
        event.is_object() && event.contains("order_id") && event["order_id"].is_string()
            ? event["order_id"].get<std::string>()
            : "";
    // A child of the upgrade's SERVER span, which has ended: the parent is given explicitly.
    trace::Span span = trace::GetTracer("otlp-demo.notifications")
                           .StartSpan("deliver notification",
                                      {{"network.protocol.name", "websocket"},
                                       {"network.transport", "tcp"},
                                       {"network.peer.address", peer_address_},
                                       {"network.peer.port", static_cast<int64_t>(peer_port_)},
                                       {"app.order.id", order_id}},
                                      {.parent = upgrade_context_});
    // A real service would e-mail or push to the customer here.
    if (order_id.empty()) {
      span.SetAttribute("error.type", "malformed_event");
      span.SetStatus(trace::SpanStatusCode::kError, "message without order_id");
    }
    span.End();
    ReadMessage();
  }

  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> request_;
  trace::Context upgrade_context_;
  std::string peer_address_;
  uint16_t peer_port_ = 0;
};

}  // namespace

struct Notifications::Impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};  // after io: closed before it goes
  uint16_t port = 0;           // read before the I/O thread starts using the acceptor
  std::thread thread;

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<Session>(std::move(socket))->Start();
      Accept();
    });
  }
};

Result<std::unique_ptr<Notifications>> Notifications::Start(Options options) {
  auto impl = std::make_unique<Impl>();
  beast::error_code ec;
  const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return UnavailableError("notifications: cannot listen on 127.0.0.1:" +
                            std::to_string(options.port) + ": " + ec.message());
  }
  impl->port = impl->acceptor.local_endpoint(ec).port();
  impl->Accept();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<Notifications>(new Notifications(std::move(impl)));
}

Notifications::Notifications(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Notifications::~Notifications() {
  impl_->io.stop();
  impl_->thread.join();
  // Destroying the io_context (with impl_) destroys the pending handlers, hence the sessions and
  // their sockets.
}

uint16_t Notifications::port() const noexcept {
  return impl_->port;
}

std::string Notifications::url() const {
  return "ws://127.0.0.1:" + std::to_string(port()) + kPath;
}

}  // namespace otlp::demo
