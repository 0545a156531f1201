// otlp/nats/message.h — a message received on a subscription (or built to be published):
// subject, reply subject, header block and data.
//
//   sub = conn->Subscribe("svc.echo", [](otlp::nats::Message& m) {
//     std::string_view who = m.headers().Find("X-User").value_or("?");
//     m.Respond(m.data()).IgnoreError();                  // publishes to m.reply()
//   });
//
// A received message holds its bytes in one block (subject, reply, header block and data, as
// they came off the wire: one allocation per message). headers() parses the header block on
// first use; header(key) and status() read the raw block without building a Headers.
//
// Threading: a value type; a message may be moved to and read from any thread. Respond() may be
// called from any thread while the connection is open.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/nats/headers.h"

namespace otlp::nats {

class Connection;

namespace internal {
struct SubState;
}

class OTLP_EXPORT Message {
 public:
  Message() = default;
  // A message to publish (Connection::Publish(const Message&)).
  Message(std::string subject, std::string data, std::string reply = {}, Headers headers = {});

  std::string_view subject() const noexcept { return View(0, subject_len_); }
  std::string_view reply() const noexcept { return View(subject_len_, reply_len_); }
  std::string_view data() const noexcept {
    return View(subject_len_ + reply_len_ + header_len_, data_len_);
  }
  // The raw header block ("NATS/1.0...\r\n\r\n"), empty when the message has none.
  std::string_view header_block() const noexcept {
    return View(subject_len_ + reply_len_, header_len_);
  }
  bool has_headers() const noexcept { return header_len_ > 0; }
  // The parsed headers (empty when none, or when the block does not parse).
  const Headers& headers() const;
  // The first value of `key` (exact, then ignoring case), or an empty view.
  std::string_view header(std::string_view key) const noexcept;
  // The status on the header block's version line (503, 408, 404, 409, 100...), 0 when none.
  int status() const noexcept;

  // Publishes `data` (and headers) to reply() on the connection the message came from, inside
  // the current context (a PRODUCER span when traced). kInvalidArgument without a reply subject,
  // kConnectionClosed when the connection is gone.
  Status Respond(std::string_view data) const;
  Status Respond(const Headers& headers, std::string_view data) const;

  // The subscription's id this message came on (0 for a message built to be published).
  uint64_t sid() const noexcept { return sid_; }
  // The connection it came on (null when built locally or when the connection is gone).
  std::shared_ptr<Connection> connection() const noexcept;

  // For the connection's reader: one block `subject reply header data`, lengths of each.
  static Message FromWire(std::string_view subject, std::string_view reply,
                          std::string_view header_block, std::string_view data, uint64_t sid,
                          std::shared_ptr<internal::SubState> sub);

 private:
  std::string_view View(size_t offset, size_t length) const noexcept {
    return std::string_view(storage_).substr(offset, length);
  }

  std::string storage_;
  uint32_t subject_len_ = 0;
  uint32_t reply_len_ = 0;
  uint32_t header_len_ = 0;
  uint32_t data_len_ = 0;
  uint64_t sid_ = 0;
  std::shared_ptr<internal::SubState> sub_;
  mutable std::shared_ptr<const Headers> parsed_;
  friend class Connection;
};

}  // namespace otlp::nats
