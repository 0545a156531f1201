// otlp/nats/internal/parser.h — the server half of the NATS client protocol, parsed from a byte
// buffer: INFO, MSG, HMSG, PING, PONG, +OK, -ERR. Pure (no I/O, no allocation), so the reader
// calls it on whatever it has buffered and the fuzzer calls it on anything.
//
//   size_t used = 0;
//   internal::ServerOp op;
//   std::string error;
//   while (true) {
//     ParseResult r = ParseServerOp(buffered, limits, &op, &used, &error);
//     if (r == ParseResult::kNeedMore) break;           // read more, call again from the start
//     if (r == ParseResult::kError) Fail(error);        // not the protocol: close the connection
//     Handle(op);                                       // views into `buffered`
//     buffered.remove_prefix(used);
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace otlp::nats::internal {

struct ServerOp {
  enum class Kind { kInfo, kMsg, kPing, kPong, kOk, kErr };
  Kind kind = Kind::kPing;
  std::string_view text;  // INFO's JSON, -ERR's message (quotes removed)
  // MSG / HMSG
  std::string_view subject;
  std::string_view reply;
  uint64_t sid = 0;
  std::string_view header_block;  // HMSG only: "NATS/1.0...\r\n\r\n"
  std::string_view data;
};

struct ParseLimits {
  size_t max_control_line = 4096;  // INFO may be longer: see max_info_line
  size_t max_info_line = 1024 * 1024;
  size_t max_message_bytes = 64 * 1024 * 1024;  // header block + data of one message
};

enum class ParseResult { kOp, kNeedMore, kError };

// Parses the operation at the start of `in`. kOp: `*op` filled (views into `in`), `*consumed`
// bytes used. kNeedMore: `in` holds only part of an operation (nothing used). kError: `*error`
// says what is wrong; the stream cannot be resynchronised.
ParseResult ParseServerOp(std::string_view in, const ParseLimits& limits, ServerOp* op,
                          size_t* consumed, std::string* error);

// Splits a control line's arguments on spaces and tabs; at most `max` (extra → false).
bool SplitArgs(std::string_view line, std::string_view* args, size_t max, size_t* count) noexcept;
// A decimal without sign, overflow or other characters.
bool ParseDecimal(std::string_view s, uint64_t* out) noexcept;

}  // namespace otlp::nats::internal
