// Decoding of HTTP response bodies by their Content-Encoding (RFC 9110 §8.4): gzip and x-gzip,
// deflate (zlib-wrapped, or raw deflate as some servers send it), br, zstd, identity, and
// several stacked ("gzip, br": applied in that order, so decoded br first, then gzip).
// Internal: the client decodes bodies with it.
//
// Streaming: Feed() the body as it arrives, Read() decoded bytes in bounded pieces until it
// returns 0 (it needs more input), and call Finish() after the last piece to learn whether the
// body was complete.
//
//   OTLP_ASSIGN_OR_RETURN(auto decoder, ContentDecoder::Create("gzip", 64 << 20));
//   while (auto chunk = NextBodyChunk()) {
//     decoder->Feed(*chunk);
//     std::string out;
//     for (;;) {
//       OTLP_ASSIGN_OR_RETURN(size_t n, decoder->Read(out, 64 * 1024));
//       if (n == 0) break;
//       Deliver(out);
//       out.clear();
//     }
//   }
//   OTLP_RETURN_IF_ERROR(decoder->Finish());
//
// Errors: an unknown coding is kUnimplemented, naming it; a corrupt stream, data after the
// end of a stream, or (from Finish) a truncated one is kDataLoss naming the coding; more than
// `max_decoded_size` decoded bytes is kResourceExhausted (a decompression bomb stops there).
// After an error the decoder keeps returning it. A body of zero bytes decodes to nothing
// under any coding (servers label empty bodies "gzip").
//
// Threading: a decoder is used by one thread at a time; Create and DecodeBody are pure.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/core/status.h"

namespace otlp::http::internal {

// The Accept-Encoding value the client sends: every coding it decodes.
inline constexpr std::string_view kAcceptEncoding = "gzip, deflate, br, zstd";

// At most this many stacked codings in one Content-Encoding header.
inline constexpr size_t kMaxStackedCodings = 4;

class ContentDecoder {
 public:
  // One step of a stacked decoding. Implemented in content_decoder.cc.
  class Stage;

  // A decoder for a Content-Encoding value (codings case-insensitive, separated by commas;
  // "identity" and empty elements add nothing).
  static Result<std::unique_ptr<ContentDecoder>> Create(std::string_view content_encoding,
                                                        size_t max_decoded_size);
  ~ContentDecoder();
  ContentDecoder(const ContentDecoder&) = delete;
  ContentDecoder& operator=(const ContentDecoder&) = delete;

  // Queues the next piece of the encoded body (copied).
  void Feed(std::string_view encoded);
  // Appends at most `max` decoded bytes to `out` and returns how many; 0 when all that was fed
  // is decoded (or the stream ended). `max` of 0 is treated as 1.
  Result<size_t> Read(std::string& out, size_t max);
  // After the whole body was fed and Read() returned 0: OK when every coding's stream ended
  // properly; kDataLoss "truncated" otherwise; kFailedPrecondition when decoded output is still
  // unread.
  Status Finish();

  // Decoded bytes produced so far.
  size_t decoded_size() const noexcept { return decoded_; }
  // The codings in the order they are decoded ("gzip, br" gives {"br", "gzip"}).
  const std::vector<std::string>& codings() const noexcept { return names_; }

 private:
  ContentDecoder(std::vector<std::unique_ptr<Stage>> stages, std::vector<std::string> names,
                 size_t max_decoded_size);
  Result<size_t> Pull(size_t stage, char* dst, size_t cap);

  // Encoded bytes not yet consumed by the first stage, and the bytes between stages i and i+1
  // (each with the offset of its first unconsumed byte).
  struct Buffer {
    std::string bytes;
    size_t pos = 0;
  };
  std::vector<std::unique_ptr<Stage>> stages_;
  std::vector<std::string> names_;
  std::vector<Buffer> buffers_;   // buffers_[i] feeds stages_[i]
  std::vector<size_t> produced_;  // bytes each stage has written
  size_t max_decoded_size_;
  size_t decoded_ = 0;
  Status error_;
};

// Decodes a whole body: Create, Feed, Read all, Finish.
Result<std::string> DecodeBody(std::string_view content_encoding, std::string_view body,
                               size_t max_decoded_size);

}  // namespace otlp::http::internal
