#include "otlp/http/internal/content_decoder.h"

#include <brotli/encode.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <random>
#include <string>

#include "tests/support/status_matchers.h"

namespace otlp::http::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr size_t kBig = size_t{1} << 30;

// window_bits: 15 + 16 gzip, 15 zlib, -15 raw deflate.
std::string Deflate(std::string_view in, int window_bits) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, in.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}
std::string Gzip(std::string_view in) {
  return Deflate(in, 15 + 16);
}
std::string Zlib(std::string_view in) {
  return Deflate(in, 15);
}
std::string RawDeflate(std::string_view in) {
  return Deflate(in, -15);
}

std::string Brotli(std::string_view in) {
  size_t size = BrotliEncoderMaxCompressedSize(in.size());
  std::string out(size, '\0');
  EXPECT_TRUE(BrotliEncoderCompress(
      BROTLI_DEFAULT_QUALITY, BROTLI_DEFAULT_WINDOW, BROTLI_DEFAULT_MODE, in.size(),
      reinterpret_cast<const uint8_t*>(in.data()), &size, reinterpret_cast<uint8_t*>(out.data())));
  out.resize(size);
  return out;
}

std::string Zstd(std::string_view in, int window_log = 0) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
  if (window_log != 0) {
    ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, window_log);
    ZSTD_CCtx_setParameter(c, ZSTD_c_enableLongDistanceMatching, 1);
  }
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const size_t n = ZSTD_compress2(c, out.data(), out.size(), in.data(), in.size());
  EXPECT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
  ZSTD_freeCCtx(c);
  out.resize(n);
  return out;
}

std::string Text(size_t n, uint32_t seed = 1) {
  // Compressible but not trivial: words from a small vocabulary.
  static const char* kWords[] = {"span ", "trace ", "otlp ", "http ", "client ", "\n", "42 "};
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < n) s += kWords[rng() % 7];
  s.resize(n);
  return s;
}

std::string Random(size_t n, uint32_t seed = 2) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Feeds `body` in pieces of `in_step` bytes and reads in pieces of at most `out_step`.
Result<std::string> Stream(std::string_view encoding, std::string_view body, size_t in_step,
                           size_t out_step, size_t limit = kBig) {
  OTLP_ASSIGN_OR_RETURN(auto decoder, ContentDecoder::Create(encoding, limit));
  std::string out;
  for (size_t at = 0; at < body.size(); at += in_step) {
    decoder->Feed(body.substr(at, in_step));
    for (;;) {
      const size_t before = out.size();
      OTLP_ASSIGN_OR_RETURN(size_t n, decoder->Read(out, out_step));
      EXPECT_LE(n, out_step);
      EXPECT_EQ(out.size() - before, n);
      if (n == 0) break;
    }
  }
  OTLP_RETURN_IF_ERROR(decoder->Finish());
  EXPECT_EQ(decoder->decoded_size(), out.size());
  return out;
}

TEST(ContentDecoder, AcceptEncodingListsEveryCoding) {
  EXPECT_EQ(kAcceptEncoding, "gzip, deflate, br, zstd");
  for (const char* coding : {"gzip", "deflate", "br", "zstd"}) {
    EXPECT_OK(ContentDecoder::Create(coding, 1));
  }
}

TEST(ContentDecoder, EachCodingRoundTrips) {
  const std::string text = Text(200000);
  EXPECT_THAT(DecodeBody("gzip", Gzip(text), kBig), IsOkAndHolds(text));
  EXPECT_THAT(DecodeBody("x-gzip", Gzip(text), kBig), IsOkAndHolds(text));
  EXPECT_THAT(DecodeBody("deflate", Zlib(text), kBig), IsOkAndHolds(text));
  EXPECT_THAT(DecodeBody("br", Brotli(text), kBig), IsOkAndHolds(text));
  EXPECT_THAT(DecodeBody("zstd", Zstd(text), kBig), IsOkAndHolds(text));
  EXPECT_THAT(DecodeBody("identity", text, kBig), IsOkAndHolds(text));
  EXPECT_THAT(DecodeBody("", text, kBig), IsOkAndHolds(text));
}

TEST(ContentDecoder, RawDeflateIsAcceptedAsBrowsersDo) {
  const std::string text = Text(50000, 3);
  EXPECT_THAT(DecodeBody("deflate", RawDeflate(text), kBig), IsOkAndHolds(text));
  EXPECT_THAT(Stream("deflate", RawDeflate(text), 1, 7), IsOkAndHolds(text));
  // Short bodies, where the first two bytes decide.
  for (const std::string_view s : {"", "a", "ab", "hello"}) {
    EXPECT_THAT(DecodeBody("deflate", RawDeflate(s), kBig), IsOkAndHolds(s)) << s;
    EXPECT_THAT(DecodeBody("deflate", Zlib(s), kBig), IsOkAndHolds(s)) << s;
  }
}

TEST(ContentDecoder, CodingNamesAreCaseInsensitiveAndTrimmed) {
  const std::string text = Text(1000);
  EXPECT_THAT(DecodeBody(" GZip\t", Gzip(text), kBig), IsOkAndHolds(text));
  EXPECT_THAT(DecodeBody("BR", Brotli(text), kBig), IsOkAndHolds(text));
  EXPECT_THAT(DecodeBody("identity, gzip,, Identity", Gzip(text), kBig), IsOkAndHolds(text));
}

TEST(ContentDecoder, StackedCodingsDecodeInReverseOrder) {
  const std::string text = Text(100000, 4);
  // "gzip, br": gzip was applied first, then br.
  const std::string body = Brotli(Gzip(text));
  ASSERT_OK_AND_ASSIGN(auto decoder, ContentDecoder::Create("gzip, br", kBig));
  EXPECT_THAT(decoder->codings(), ElementsAre("br", "gzip"));
  EXPECT_THAT(DecodeBody("gzip, br", body, kBig), IsOkAndHolds(text));
  EXPECT_THAT(Stream("gzip, br", body, 13, 1000), IsOkAndHolds(text));
  EXPECT_THAT(DecodeBody("br, gzip", body, kBig), StatusIs(StatusCode::kDataLoss));
  const std::string three = Zstd(Zlib(Gzip(text)));
  EXPECT_THAT(Stream("gzip,deflate,zstd", three, 4096, 333), IsOkAndHolds(text));
}

TEST(ContentDecoder, StreamingInTinyPiecesGivesTheSameBytes) {
  const std::string text = Text(30000, 5) + Random(5000);
  for (const char* coding : {"gzip", "deflate", "br", "zstd", "identity"}) {
    std::string body;
    const std::string_view c = coding;
    if (c == "gzip") body = Gzip(text);
    if (c == "deflate") body = Zlib(text);
    if (c == "br") body = Brotli(text);
    if (c == "zstd") body = Zstd(text);
    if (c == "identity") body = text;
    EXPECT_THAT(Stream(coding, body, 1, 1), IsOkAndHolds(text)) << coding;
    EXPECT_THAT(Stream(coding, body, 1000, 100000), IsOkAndHolds(text)) << coding;
    EXPECT_THAT(Stream(coding, body, body.size(), 17), IsOkAndHolds(text)) << coding;
  }
}

TEST(ContentDecoder, ReadIsBoundedAndZeroMeansOne) {
  ASSERT_OK_AND_ASSIGN(auto decoder, ContentDecoder::Create("gzip", kBig));
  decoder->Feed(Gzip(std::string(1 << 20, 'z')));
  std::string out = "prefix:";
  EXPECT_THAT(decoder->Read(out, 0), IsOkAndHolds(1u));
  EXPECT_EQ(out, "prefix:z");
  EXPECT_THAT(decoder->Read(out, 300000), IsOkAndHolds(300000u));
  EXPECT_EQ(out.size(), 7u + 1 + 300000);
  // Finish with output still unread is a caller error.
  EXPECT_THAT(decoder->Finish(), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("unread")));
}

TEST(ContentDecoder, EmptyBodyDecodesToNothingUnderAnyCoding) {
  for (const char* coding : {"gzip", "deflate", "br", "zstd", "gzip, br", "identity"}) {
    EXPECT_THAT(DecodeBody(coding, "", kBig), IsOkAndHolds(std::string())) << coding;
  }
}

TEST(ContentDecoder, ConcatenatedGzipMembersAndZstdFrames) {
  EXPECT_THAT(DecodeBody("gzip", Gzip("hello ") + Gzip("world"), kBig),
              IsOkAndHolds(std::string("hello world")));
  EXPECT_THAT(Stream("gzip", Gzip("hello ") + Gzip("") + Gzip("world"), 3, 2),
              IsOkAndHolds(std::string("hello world")));
  EXPECT_THAT(DecodeBody("zstd", Zstd("hello ") + Zstd("world"), kBig),
              IsOkAndHolds(std::string("hello world")));
}

TEST(ContentDecoder, UnknownCodingIsAClearError) {
  EXPECT_THAT(
      ContentDecoder::Create("compress", kBig),
      StatusIs(StatusCode::kUnimplemented, HasSubstr("unsupported Content-Encoding 'compress'")));
  EXPECT_THAT(DecodeBody("gzip, lzma", "x", kBig),
              StatusIs(StatusCode::kUnimplemented, HasSubstr("'lzma'")));
  EXPECT_THAT(ContentDecoder::Create("gzip, gzip, gzip, gzip, gzip", kBig),
              StatusIs(StatusCode::kUnimplemented, HasSubstr("stacks 5 codings")));
}

TEST(ContentDecoder, TruncatedBodiesAreNamedByCoding) {
  const std::string text = Text(100000, 6);
  const struct {
    const char* coding;
    std::string body;
  } cases[] = {{"gzip", Gzip(text)},
               {"deflate", Zlib(text)},
               {"deflate", RawDeflate(text)},
               {"br", Brotli(text)},
               {"zstd", Zstd(text)}};
  for (const auto& c : cases) {
    for (size_t keep : {size_t{1}, c.body.size() / 2, c.body.size() - 1}) {
      EXPECT_THAT(DecodeBody(c.coding, c.body.substr(0, keep), kBig),
                  StatusIs(StatusCode::kDataLoss,
                           HasSubstr(std::string("truncated ") + c.coding + " body")))
          << c.coding << " keep " << keep;
    }
  }
}

TEST(ContentDecoder, CorruptBodiesAreNamedByCoding) {
  EXPECT_THAT(DecodeBody("gzip", "definitely not gzip", kBig),
              StatusIs(StatusCode::kDataLoss, HasSubstr("corrupt gzip body")));
  EXPECT_THAT(DecodeBody("br", Random(1000), kBig),
              StatusIs(StatusCode::kDataLoss, HasSubstr("corrupt br body")));
  EXPECT_THAT(DecodeBody("zstd", "not zstd at all", kBig),
              StatusIs(StatusCode::kDataLoss, HasSubstr("corrupt zstd body")));
  std::string gz = Gzip(Text(10000));
  gz[gz.size() - 6] ^= 0x40;  // the CRC-32
  EXPECT_THAT(DecodeBody("gzip", gz, kBig),
              StatusIs(StatusCode::kDataLoss, HasSubstr("corrupt gzip body")));
  std::string zl = Zlib(Text(10000));
  zl[zl.size() - 1] ^= 0x01;  // the Adler-32
  EXPECT_THAT(DecodeBody("deflate", zl, kBig),
              StatusIs(StatusCode::kDataLoss, HasSubstr("corrupt deflate body")));
}

TEST(ContentDecoder, DataAfterTheEndIsRejected) {
  EXPECT_THAT(DecodeBody("gzip", Gzip("abc") + "junk", kBig),
              StatusIs(StatusCode::kDataLoss, HasSubstr("after the end of the first gzip")));
  EXPECT_THAT(DecodeBody("deflate", Zlib("abc") + "x", kBig),
              StatusIs(StatusCode::kDataLoss, HasSubstr("after the end of the deflate stream")));
  EXPECT_THAT(DecodeBody("br", Brotli("abc") + "x", kBig),
              StatusIs(StatusCode::kDataLoss, HasSubstr("after the end of the br stream")));
  EXPECT_THAT(DecodeBody("zstd", Zstd("abc") + "xxxxxxxx", kBig),
              StatusIs(StatusCode::kDataLoss, HasSubstr("corrupt zstd body")));
}

TEST(ContentDecoder, RandomGarbageNeverCrashes) {
  std::mt19937 rng(9);
  const std::string valid = Gzip(Text(3000));
  for (int i = 0; i < 300; ++i) {
    for (const char* coding : {"gzip", "deflate", "br", "zstd", "gzip, br"}) {
      std::string body = Random(rng() % 400, rng());
      const Result<std::string> r = DecodeBody(coding, body, 1 << 20);
      if (!r.ok()) {
        EXPECT_NE(r.status().code(), StatusCode::kOk);
        EXPECT_FALSE(r.status().message().empty());
      }
    }
    std::string flipped = valid;  // a valid stream with one byte changed
    flipped[rng() % flipped.size()] ^= static_cast<char>(1 + rng() % 255);
    const Result<std::string> r = DecodeBody("gzip", flipped, 1 << 20);
    EXPECT_FALSE(r.ok() && r->size() != 3000);
  }
}

TEST(ContentDecoder, DecompressionBombStopsAtTheLimit) {
  const std::string zeros(64 << 20, '\0');
  for (const auto& [coding, body] : {std::pair<const char*, std::string>{"gzip", Gzip(zeros)},
                                     {"deflate", Zlib(zeros)},
                                     {"br", Brotli(zeros)},
                                     {"zstd", Zstd(zeros)},
                                     {"gzip, gzip", Gzip(Gzip(zeros))}}) {
    EXPECT_LT(body.size(), 1u << 20);
    EXPECT_THAT(DecodeBody(coding, body, 1 << 20),
                StatusIs(StatusCode::kResourceExhausted, HasSubstr("limit of 1048576 bytes")))
        << coding;
    // Streaming: the error comes once the limit is passed, never with more than the limit read.
    ASSERT_OK_AND_ASSIGN(auto decoder, ContentDecoder::Create(coding, 1 << 20));
    decoder->Feed(body);
    std::string out;
    Status error;
    for (;;) {
      Result<size_t> n = decoder->Read(out, 100000);
      if (!n.ok()) {
        error = n.status();
        break;
      }
      ASSERT_NE(*n, 0u);
    }
    EXPECT_EQ(error.code(), StatusCode::kResourceExhausted);
    EXPECT_LE(out.size(), 1u << 20);
    EXPECT_THAT(decoder->Read(out, 1), StatusIs(StatusCode::kResourceExhausted));  // sticky
    EXPECT_THAT(decoder->Finish(), StatusIs(StatusCode::kResourceExhausted));
  }
}

TEST(ContentDecoder, ExactlyTheLimitIsAllowed) {
  const std::string text = Text(5000);
  EXPECT_THAT(DecodeBody("gzip", Gzip(text), 5000), IsOkAndHolds(text));
  EXPECT_THAT(DecodeBody("gzip", Gzip(text), 4999), StatusIs(StatusCode::kResourceExhausted));
  EXPECT_THAT(DecodeBody("identity", text, 4999), StatusIs(StatusCode::kResourceExhausted));
}

TEST(ContentDecoder, ZstdWindowAboveEightMebibytesIsRefused) {
  const std::string data = Random(1 << 20, 7) + Text(20 << 20, 8);
  EXPECT_THAT(DecodeBody("zstd", Zstd(data, 27), kBig),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("window")));
  EXPECT_THAT(DecodeBody("zstd", Zstd(data, 23), kBig), IsOkAndHolds(data));
}

}  // namespace
}  // namespace otlp::http::internal
