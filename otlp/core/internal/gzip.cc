#include "otlp/core/internal/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <string>

namespace otlp::internal {
namespace {

// windowBits 15 + 16 selects the gzip wrapper (rather than zlib's own).
constexpr int kGzipWindowBits = MAX_WBITS + 16;

Bytef* In(std::string_view s) { return reinterpret_cast<Bytef*>(const_cast<char*>(s.data())); }

}  // namespace

Status GzipCompress(std::string_view in, std::string& out) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return InternalError("zlib: deflateInit2 failed");
  }
  // deflateBound covers a single deflate(Z_FINISH) call; inputs above uInt's range go in steps.
  out.resize(deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(std::min<size_t>(out.size(), std::numeric_limits<uInt>::max()));
  int rc = Z_OK;
  while (rc == Z_OK) {
    const size_t step = std::min<size_t>(in.size(), std::numeric_limits<uInt>::max());
    zs.next_in = In(in);
    zs.avail_in = static_cast<uInt>(step);
    const bool last = step == in.size();
    rc = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
    in.remove_prefix(step - zs.avail_in);
    if (rc == Z_OK && zs.avail_out == 0) {  // only for inputs beyond 4 GiB
      const size_t used = zs.total_out;
      out.resize(out.size() * 2);
      zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
      zs.avail_out =
          static_cast<uInt>(std::min<size_t>(out.size() - used, std::numeric_limits<uInt>::max()));
    }
  }
  const size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    out.clear();
    return InternalError("zlib: deflate failed (" + std::to_string(rc) + ")");
  }
  out.resize(produced);
  return Status::Ok();
}

Result<std::string> GzipDecompress(std::string_view in, size_t limit) {
  if (in.size() < 2 || static_cast<unsigned char>(in[0]) != 0x1f ||
      static_cast<unsigned char>(in[1]) != 0x8b) {
    return InvalidArgumentError("gzip: not a gzip stream (no 1f 8b magic bytes)");
  }
  z_stream zs{};
  if (inflateInit2(&zs, kGzipWindowBits) != Z_OK) return InternalError("zlib: inflateInit2 failed");
  std::string out;
  // A first guess that avoids regrowing for typical OTLP bodies (compression ratios of 4-10).
  out.resize(std::min(limit, std::max<size_t>(in.size() * 4, 4096)));
  size_t produced = 0;
  Status error;
  while (true) {
    if (produced == out.size()) {
      if (out.size() >= limit) {
        error = Status(StatusCode::kResourceExhausted,
                       "gzip: the stream inflates to more than " + std::to_string(limit) + " bytes");
        break;
      }
      out.resize(std::min(limit, out.size() * 2));
    }
    const size_t in_step = std::min<size_t>(in.size(), std::numeric_limits<uInt>::max());
    const size_t out_step = std::min<size_t>(out.size() - produced, std::numeric_limits<uInt>::max());
    zs.next_in = In(in);
    zs.avail_in = static_cast<uInt>(in_step);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(out_step);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    in.remove_prefix(in_step - zs.avail_in);
    produced += out_step - zs.avail_out;
    if (rc == Z_STREAM_END) {
      if (in.empty()) break;
      // Another member follows (RFC 1952 2.2); anything else after a member is an error.
      if (in.size() < 2 || static_cast<unsigned char>(in[0]) != 0x1f ||
          static_cast<unsigned char>(in[1]) != 0x8b) {
        error = InvalidArgumentError("gzip: " + std::to_string(in.size()) +
                                     " bytes of garbage after the end of the stream");
        break;
      }
      inflateReset(&zs);
      continue;
    }
    if (rc == Z_BUF_ERROR && in.empty()) {
      error = InvalidArgumentError("gzip: the stream is cut short (truncated body)");
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      error = InvalidArgumentError(std::string("gzip: corrupt stream: ") +
                                   (zs.msg != nullptr ? zs.msg : "inflate failed"));
      break;
    }
  }
  inflateEnd(&zs);
  if (!error.ok()) return error;
  out.resize(produced);
  return out;
}

}  // namespace otlp::internal
