#include "otlp/nats/message.h"

#include "otlp/nats/connection.h"
#include "otlp/nats/internal/conn.h"

namespace otlp::nats {

Message::Message(std::string subject, std::string data, std::string reply, Headers headers) {
  std::string block = headers.empty() ? std::string() : headers.Encode();
  storage_.reserve(subject.size() + reply.size() + block.size() + data.size());
  storage_ += subject;
  storage_ += reply;
  storage_ += block;
  storage_ += data;
  subject_len_ = static_cast<uint32_t>(subject.size());
  reply_len_ = static_cast<uint32_t>(reply.size());
  header_len_ = static_cast<uint32_t>(block.size());
  data_len_ = static_cast<uint32_t>(data.size());
  if (!headers.empty()) parsed_ = std::make_shared<const Headers>(std::move(headers));
}

Message Message::FromWire(std::string_view subject, std::string_view reply,
                          std::string_view header_block, std::string_view data, uint64_t sid,
                          std::shared_ptr<internal::SubState> sub) {
  Message m;
  m.storage_.reserve(subject.size() + reply.size() + header_block.size() + data.size());
  m.storage_ += subject;
  m.storage_ += reply;
  m.storage_ += header_block;
  m.storage_ += data;
  m.subject_len_ = static_cast<uint32_t>(subject.size());
  m.reply_len_ = static_cast<uint32_t>(reply.size());
  m.header_len_ = static_cast<uint32_t>(header_block.size());
  m.data_len_ = static_cast<uint32_t>(data.size());
  m.sid_ = sid;
  m.sub_ = std::move(sub);
  return m;
}

const Headers& Message::headers() const {
  static const Headers kEmpty;
  if (header_len_ == 0) return kEmpty;
  if (!parsed_) {
    Result<Headers> h = Headers::Parse(header_block());
    parsed_ = h.ok() ? std::make_shared<const Headers>(std::move(*h))
                     : std::make_shared<const Headers>();
  }
  return *parsed_;
}

std::string_view Message::header(std::string_view key) const noexcept {
  if (header_len_ == 0) return {};
  return FindInHeaderBlock(header_block(), key);
}

int Message::status() const noexcept {
  if (header_len_ == 0) return 0;
  return HeaderBlockStatus(header_block());
}

std::shared_ptr<Connection> Message::connection() const noexcept {
  if (!sub_) return nullptr;
  std::shared_ptr<internal::Conn> conn = sub_->conn.lock();
  if (!conn) return nullptr;
  return conn->owner();
}

Status Message::Respond(std::string_view data) const {
  static const Headers kNone;
  return Respond(kNone, data);
}

Status Message::Respond(const Headers& headers, std::string_view data) const {
  if (reply().empty()) {
    return MakeError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                     "NATS: the message has no reply subject to respond to");
  }
  std::shared_ptr<internal::Conn> conn = sub_ ? sub_->conn.lock() : nullptr;
  if (!conn) {
    return MakeError(StatusCode::kFailedPrecondition, ErrorKind::kConnectionClosed,
                     "NATS: the connection the message came on is gone");
  }
  return conn->Publish(reply(), {}, headers.empty() ? nullptr : &headers, data, /*urgent=*/true);
}

}  // namespace otlp::nats
