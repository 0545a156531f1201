// libFuzzer target: the NATS client's protocol parser (otlp/nats/internal/parser.h) and header
// block reader (otlp/nats/headers.h) on arbitrary server bytes, the way the connection's reader
// uses them: operations parsed one after another from a buffer that grows in two steps (so
// split operations are exercised), header blocks of messages parsed and searched. No input may
// crash, read out of bounds or loop; a result must lie within the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "otlp/nats/headers.h"
#include "otlp/nats/internal/parser.h"

namespace {

bool Within(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void ParseAll(std::string_view in) {
  otlp::nats::internal::ParseLimits limits;
  limits.max_control_line = 256;
  limits.max_info_line = 2048;
  limits.max_message_bytes = 4096;
  otlp::nats::internal::ServerOp op;
  std::string error;
  while (!in.empty()) {
    size_t used = 0;
    auto r = otlp::nats::internal::ParseServerOp(in, limits, &op, &used, &error);
    if (r != otlp::nats::internal::ParseResult::kOp) return;
    if (used == 0 || used > in.size()) std::abort();
    if (!Within(op.subject, in) || !Within(op.reply, in) || !Within(op.data, in) ||
        !Within(op.header_block, in) || !Within(op.text, in)) {
      std::abort();
    }
    if (!op.header_block.empty()) {
      (void)otlp::nats::Headers::Parse(op.header_block);
      (void)otlp::nats::HeaderBlockStatus(op.header_block);
      (void)otlp::nats::FindInHeaderBlock(op.header_block, "traceparent");
    }
    in.remove_prefix(used);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  // As one read, and as two reads split at a point chosen by the input.
  ParseAll(in);
  if (size > 1) ParseAll(in.substr(0, data[0] % size));
  // Any bytes as a header block on their own.
  (void)otlp::nats::Headers::Parse(in);
  (void)otlp::nats::FindInHeaderBlock(in, "Nats-Msg-Id");
  return 0;
}
