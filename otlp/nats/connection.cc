#include "otlp/nats/connection.h"

#include "otlp/nats/internal/conn.h"

namespace otlp::nats {

std::string_view ConnectionStateName(ConnectionState state) noexcept {
  switch (state) {
    case ConnectionState::kConnecting: return "connecting";
    case ConnectionState::kConnected: return "connected";
    case ConnectionState::kReconnecting: return "reconnecting";
    case ConnectionState::kDraining: return "draining";
    case ConnectionState::kClosed: return "closed";
  }
  return "unknown";
}

bool IsValidPublishSubject(std::string_view subject) noexcept {
  return internal::ValidSubject(subject, false);
}
bool IsValidSubscribeSubject(std::string_view subject) noexcept {
  return internal::ValidSubject(subject, true);
}
bool IsValidQueueName(std::string_view queue) noexcept {
  return internal::ValidSubject(queue, false);
}

// ---------------------------------------------------------------------------------------------
// Subscription

namespace {

Status Gone() {
  return MakeError(StatusCode::kFailedPrecondition, ErrorKind::kConnectionClosed,
                   "NATS: the connection is closed");
}

}  // namespace

Subscription::~Subscription() = default;

const std::string& Subscription::subject() const noexcept { return state_->subject; }
const std::string& Subscription::queue() const noexcept { return state_->queue; }
uint64_t Subscription::sid() const noexcept { return state_->sid; }

bool Subscription::IsValid() const noexcept {
  otlp::internal::MutexLock lock(state_->mu);
  return !state_->closed;
}

Status Subscription::Unsubscribe() {
  auto conn = state_->conn.lock();
  return conn ? conn->Unsubscribe(state_, 0) : Gone();
}

Status Subscription::AutoUnsubscribe(uint64_t max) {
  if (max == 0) {
    return MakeError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                     "NATS: AutoUnsubscribe needs a maximum above 0");
  }
  auto conn = state_->conn.lock();
  return conn ? conn->Unsubscribe(state_, max) : Gone();
}

Status Subscription::Drain(std::chrono::milliseconds timeout) {
  auto conn = state_->conn.lock();
  return conn ? conn->DrainSubscription(state_, timeout) : Gone();
}

Result<Message> Subscription::NextMsg(std::chrono::milliseconds timeout) {
  auto conn = state_->conn.lock();
  if (!conn) return Gone();
  return conn->NextMsg(*state_, timeout);
}

void Subscription::SetPendingLimits(size_t messages, size_t bytes) {
  otlp::internal::MutexLock lock(state_->mu);
  state_->max_pending_messages = messages;
  state_->max_pending_bytes = bytes;
}

size_t Subscription::pending_messages() const noexcept {
  otlp::internal::MutexLock lock(state_->mu);
  return state_->pending.size();
}

size_t Subscription::pending_bytes() const noexcept {
  otlp::internal::MutexLock lock(state_->mu);
  return state_->pending_bytes;
}

uint64_t Subscription::delivered() const noexcept {
  return state_->delivered.load(std::memory_order_relaxed);
}
uint64_t Subscription::dropped() const noexcept {
  return state_->dropped.load(std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------------------------
// Connection

Result<std::shared_ptr<Connection>> Connection::Connect(Options options) {
  std::shared_ptr<Connection> c(new Connection());
  c->impl_ = std::make_shared<internal::Conn>(std::move(options));
  if (Status s = c->impl_->Start(c); !s.ok()) {
    c->impl_->Close(s);
    return s;
  }
  return c;
}

Result<std::shared_ptr<Connection>> Connection::Connect(std::string url) {
  Options o;
  o.servers = {std::move(url)};
  return Connect(std::move(o));
}

Connection::~Connection() {
  if (impl_) impl_->Close(Status::Ok());
}

Status Connection::Publish(std::string_view subject, std::string_view data) {
  return impl_->Publish(subject, {}, nullptr, data);
}
Status Connection::Publish(std::string_view subject, const Headers& headers,
                           std::string_view data) {
  return impl_->Publish(subject, {}, &headers, data);
}
Status Connection::PublishRequest(std::string_view subject, std::string_view reply,
                                  std::string_view data) {
  return impl_->Publish(subject, reply, nullptr, data);
}
Status Connection::PublishRequest(std::string_view subject, std::string_view reply,
                                  const Headers& headers, std::string_view data) {
  return impl_->Publish(subject, reply, &headers, data);
}
Status Connection::Publish(const Message& message) {
  return impl_->Publish(message.subject(), message.reply(),
                        message.has_headers() ? &message.headers() : nullptr, message.data());
}

Result<std::shared_ptr<Subscription>> Connection::Subscribe(std::string_view subject,
                                                            MessageHandler handler) {
  if (!handler) {
    return MakeError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                     "NATS: Subscribe needs a handler (SubscribeSync for NextMsg)");
  }
  return internal::Conn::WrapSub(impl_->Subscribe(subject, {}, std::move(handler)));
}
Result<std::shared_ptr<Subscription>> Connection::QueueSubscribe(std::string_view subject,
                                                                 std::string_view queue,
                                                                 MessageHandler handler) {
  if (!handler) {
    return MakeError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                     "NATS: QueueSubscribe needs a handler (QueueSubscribeSync for NextMsg)");
  }
  if (queue.empty()) {
    return MakeError(StatusCode::kInvalidArgument, ErrorKind::kInvalidSubject,
                     "NATS: empty queue group");
  }
  return internal::Conn::WrapSub(impl_->Subscribe(subject, queue, std::move(handler)));
}
Result<std::shared_ptr<Subscription>> Connection::SubscribeSync(std::string_view subject) {
  return internal::Conn::WrapSub(impl_->Subscribe(subject, {}, nullptr));
}
Result<std::shared_ptr<Subscription>> Connection::QueueSubscribeSync(std::string_view subject,
                                                                     std::string_view queue) {
  if (queue.empty()) {
    return MakeError(StatusCode::kInvalidArgument, ErrorKind::kInvalidSubject,
                     "NATS: empty queue group");
  }
  return internal::Conn::WrapSub(impl_->Subscribe(subject, queue, nullptr));
}

Result<Message> Connection::Request(std::string_view subject, std::string_view data,
                                    std::chrono::milliseconds timeout) {
  return impl_->Request(subject, nullptr, data, timeout);
}
Result<Message> Connection::Request(std::string_view subject, const Headers& headers,
                                    std::string_view data, std::chrono::milliseconds timeout) {
  return impl_->Request(subject, &headers, data, timeout);
}
void Connection::RequestAsync(std::string_view subject, const Headers& headers,
                              std::string_view data, std::chrono::milliseconds timeout,
                              std::function<void(Result<Message>)> done) {
  impl_->RequestAsync(subject, headers.empty() ? nullptr : &headers, data, timeout,
                      std::move(done));
}

Status Connection::Flush(std::chrono::milliseconds timeout) { return impl_->Flush(timeout); }
Status Connection::Drain(std::chrono::milliseconds timeout) { return impl_->Drain(timeout); }
void Connection::Close() { impl_->Close(Status::Ok()); }
ConnectionState Connection::state() const noexcept { return impl_->state(); }
ServerInfo Connection::server_info() const { return impl_->server_info(); }
std::string Connection::connected_url() const { return impl_->connected_url(); }
std::vector<std::string> Connection::servers() const { return impl_->servers(); }
int64_t Connection::max_payload() const noexcept { return impl_->max_payload(); }
ConnectionStats Connection::stats() const noexcept { return impl_->stats(); }
Status Connection::last_error() const { return impl_->last_error(); }
std::string Connection::NewInbox() const { return impl_->NewInbox(); }
Result<std::chrono::microseconds> Connection::Rtt(std::chrono::milliseconds timeout) {
  return impl_->Rtt(timeout);
}

}  // namespace otlp::nats
