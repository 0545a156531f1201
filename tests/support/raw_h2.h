// tests/support/raw_h2.h — HTTP/2 spoken by hand over a blocking socket, for the faults no
// well-behaved server (nghttp2 included) would commit: a connection dropped under open streams
// without GOAWAY, a body trickled frame by frame, a response cut off after its HEADERS,
// garbage where frames belong, an invalid :status. Runs inside a RawTcpServer behaviour.
//
//   auto server = otlp::test::RawTcpServer::Start(otlp::test::RawH2::Serve(
//       {.max_concurrent_streams = 1},
//       [](otlp::test::RawH2& h2, uint32_t stream_id) {
//         h2.Headers(stream_id, 200, {{"content-type", "text/plain"}});
//         h2.Data(stream_id, "partial");   // no END_STREAM...
//         return false;                    // ...and the connection ends: truncated
//       }));
//   // http://127.0.0.1:<port>/ with HttpVersionPolicy::kHttp2PriorKnowledge
//
// Only what such scripts need: header blocks are HPACK literals without indexing (never
// Huffman; blocks over 16 KiB continue in CONTINUATION frames); the client's SETTINGS and PINGs are
// acknowledged; WINDOW_UPDATE, PRIORITY and request DATA are read and ignored.
//
// Threading: one RawH2 per connection, used on the RawTcpServer's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/core/status.h"
#include "tests/support/raw_tcp_server.h"

namespace otlp::test {

class RawH2 {
 public:
  // A frame as read (type 0x3 is RST_STREAM: its payload is the 4-byte error code).
  struct Frame {
    uint8_t type = 0;
    uint8_t flags = 0;
    uint32_t stream_id = 0;
    std::string payload;
  };
  struct Options {
    // SETTINGS_MAX_CONCURRENT_STREAMS in the server's SETTINGS (0: not sent).
    uint32_t max_concurrent_streams = 0;
    // Called for every frame from the client but request HEADERS (after SETTINGS and PING were
    // answered); false ends the connection.
    std::function<bool(RawH2& h2, const Frame& frame)> on_frame{};
  };
  // Called for each request HEADERS frame (the request's DATA, if any, may still follow);
  // false ends the connection (the socket is closed; after ResetOnClose() with a TCP RST).
  using OnRequest = std::function<bool(RawH2& h2, uint32_t stream_id)>;

  // A RawTcpServer behaviour: the server preface, then requests to `on_request` until it
  // returns false or the client goes away.
  static RawTcpServer::Behavior Serve(Options options, OnRequest on_request);

  explicit RawH2(int fd) : fd_(fd) {}

  // A HEADERS frame with :status and `headers` (lower-case names), END_HEADERS set.
  bool Headers(uint32_t stream_id, int status,
               const std::vector<std::pair<std::string, std::string>>& headers = {},
               bool end_stream = false);
  // The same with :status given as text (e.g. "abc" for an invalid one).
  bool HeadersRaw(uint32_t stream_id, std::string_view status,
                  const std::vector<std::pair<std::string, std::string>>& headers, bool end_stream);
  // A HEADERS frame whose block adds `name: value` to the HPACK dynamic table once and then
  // refers to it `times` times (a few bytes on the wire, a header list of
  // times × (32 + name + value) bytes once decoded). The entry must fit the default 4 KiB table.
  bool RepeatedHeader(uint32_t stream_id, int status, std::string_view name, std::string_view value,
                      int times, bool end_stream);
  bool Data(uint32_t stream_id, std::string_view data, bool end_stream = false);
  bool RstStream(uint32_t stream_id, uint32_t error_code);
  bool GoAway(uint32_t last_stream_id, uint32_t error_code);
  // Raw bytes (garbage, a partial frame).
  bool Write(std::string_view bytes);
  // Reads frames (acknowledging SETTINGS and PING) until the client closes the connection or
  // `timeout` passes; true when it closed. Frames of other types are ignored.
  bool WaitForClose(std::chrono::milliseconds timeout);
  // Reads frames until the client acknowledged the server's SETTINGS (it then applies them,
  // e.g. max_concurrent_streams); false when the connection ended first.
  bool WaitForSettingsAck();
  // Makes the server's close of this connection a TCP reset (SO_LINGER 0).
  void ResetOnClose();

  // Reads the next frame; frames the connection itself needs (SETTINGS, PING) are answered.
  // False when the client closed the connection or the read failed.
  bool ReadFrame(Frame& frame);

 private:
  bool WriteBlock(uint32_t stream_id, const std::string& block, bool end_stream);
  bool WriteFrame(uint8_t type, uint8_t flags, uint32_t stream_id, std::string_view payload);
  int fd_;
  bool settings_acked_ = false;
};

}  // namespace otlp::test
