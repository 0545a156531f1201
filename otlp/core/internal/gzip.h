// gzip (RFC 1952) compression and decompression with zlib, shared by the exporter (request
// bodies), the OTLP request decoder, the CLI's sink and the test servers. Built into otlp::net,
// the first module that links zlib (otlp::core itself stays standard-library only).
// Internal: not an API.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "otlp/core/status.h"

namespace otlp::internal {

// Replaces `out` with the gzip stream of `in` (one member, default level). `out`'s capacity is
// reused, so a caller that keeps the string allocates only when a body outgrows the last one.
// Fails (kInternal) only if zlib itself fails.
Status GzipCompress(std::string_view in, std::string& out);

// Inflates a gzip stream of one or more members (concatenated members decode to the
// concatenation of their contents, as gzip(1) does). Errors:
//   kInvalidArgument    not gzip, corrupt data, a bad checksum, or a stream cut short
//   kResourceExhausted  the output would exceed `limit` bytes (decoding stops there)
Result<std::string> GzipDecompress(std::string_view in, size_t limit);

}  // namespace otlp::internal
