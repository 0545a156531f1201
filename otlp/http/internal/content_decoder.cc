#include "otlp/http/internal/content_decoder.h"

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <utility>

#include "otlp/core/internal/ascii.h"

namespace otlp::http::internal {

// One coding's decompressor. Decode consumes from `in` (advancing it) and writes at most `cap`
// (> 0) bytes to `dst`, returning how many; it returns 0 only when it needs more input or its
// stream has ended, and it fails on data after the end of a stream that cannot continue.
class ContentDecoder::Stage {
 public:
  explicit Stage(std::string name) : name_(std::move(name)) {}
  virtual ~Stage() = default;
  virtual Result<size_t> Decode(std::string_view& in, char* dst, size_t cap) = 0;
  // True when the stream reached its proper end, or was never given a byte.
  virtual bool Complete() const = 0;
  const std::string& name() const { return name_; }

 protected:
  Status Corrupt(std::string_view why) const {
    return {StatusCode::kDataLoss, "corrupt " + name_ + " body: " + std::string(why)};
  }
  Status AfterEnd() const {
    return {StatusCode::kDataLoss, "unexpected data after the end of the " + name_ + " stream"};
  }

 private:
  std::string name_;
};

namespace {

using Stage = ContentDecoder::Stage;

// Decoded bytes a Read() produces per step, and the size of the buffers between stacked stages.
constexpr size_t kStep = 64 * 1024;

class IdentityStage final : public Stage {
 public:
  IdentityStage() : Stage("identity") {}
  Result<size_t> Decode(std::string_view& in, char* dst, size_t cap) override {
    const size_t n = std::min(cap, in.size());
    if (n > 0) std::memcpy(dst, in.data(), n);
    in.remove_prefix(n);
    return n;
  }
  bool Complete() const override { return true; }
};

// gzip (RFC 1952; concatenated members decode to the concatenation, as gzip(1) does) and
// deflate. "deflate" means the zlib format (RFC 1950), but some servers send raw deflate
// (RFC 1951); as browsers do, a stream whose first two bytes are not a zlib header is taken
// as raw deflate.
class ZlibStage final : public Stage {
 public:
  enum class Kind { kGzip, kDeflate };
  ZlibStage(std::string name, Kind kind) : Stage(std::move(name)), kind_(kind) {}
  ~ZlibStage() override {
    if (initialized_) inflateEnd(&z_);
  }

  Result<size_t> Decode(std::string_view& in, char* dst, size_t cap) override {
    if (!in.empty()) seen_input_ = true;
    if (!initialized_) {
      if (kind_ == Kind::kDeflate) {
        while (head_.size() < 2 && !in.empty()) {
          head_ += in.front();
          in.remove_prefix(1);
        }
        if (head_.size() < 2) return size_t{0};
      }
      if (Status s = Init(); !s.ok()) return s;
    }
    size_t written = 0;
    if (head_pos_ < head_.size()) {
      std::string_view head(head_);
      head.remove_prefix(head_pos_);
      const size_t before = head.size();
      if (Status s = Inflate(head, dst, cap, written); !s.ok()) return s;
      head_pos_ += before - head.size();
      if (head_pos_ < head_.size()) return written;
    }
    if (Status s = Inflate(in, dst, cap, written); !s.ok()) return s;
    return written;
  }

  bool Complete() const override { return !seen_input_ || (ended_ && head_pos_ == head_.size()); }

 private:
  Status Init() {
    int window_bits = 15 + 16;  // gzip only
    if (kind_ == Kind::kDeflate) {
      const auto cmf = static_cast<unsigned char>(head_[0]);
      const auto flg = static_cast<unsigned char>(head_[1]);
      const bool zlib_header = (cmf & 0x0F) == 8 && (cmf >> 4) <= 7 && (cmf * 256 + flg) % 31 == 0;
      window_bits = zlib_header ? 15 : -15;
    }
    if (inflateInit2(&z_, window_bits) != Z_OK) {
      return {StatusCode::kResourceExhausted, "cannot start the " + name() + " decoder"};
    }
    initialized_ = true;
    return Status::Ok();
  }

  Status Inflate(std::string_view& src, char* dst, size_t cap, size_t& written) {
    while (written < cap) {
      if (ended_) {
        if (src.empty()) break;
        if (kind_ != Kind::kGzip) return AfterEnd();
        inflateReset(&z_);  // the next gzip member
        ended_ = false;
        new_member_ = true;
      }
      const size_t in_len = std::min<size_t>(src.size(), UINT_MAX);
      const size_t out_len = std::min<size_t>(cap - written, UINT_MAX);
      z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(src.data()));
      z_.avail_in = static_cast<uInt>(in_len);
      z_.next_out = reinterpret_cast<Bytef*>(dst + written);
      z_.avail_out = static_cast<uInt>(out_len);
      const int rc = inflate(&z_, Z_NO_FLUSH);
      const size_t consumed = in_len - z_.avail_in;
      const size_t produced = out_len - z_.avail_out;
      src.remove_prefix(consumed);
      written += produced;
      if (rc == Z_STREAM_END) {
        ended_ = true;
        new_member_ = false;
        continue;
      }
      if (rc == Z_BUF_ERROR) break;  // no progress without more input
      if (rc == Z_NEED_DICT) return Corrupt("needs a preset dictionary");
      if (rc != Z_OK) {
        std::string why = z_.msg != nullptr ? z_.msg : "zlib error " + std::to_string(rc);
        if (new_member_) why += " (in data after the end of the first gzip member)";
        return Corrupt(why);
      }
      if (produced > 0) new_member_ = false;
      if (consumed == 0 && produced == 0) break;
    }
    return Status::Ok();
  }

  Kind kind_;
  z_stream z_{};
  bool initialized_ = false;
  bool ended_ = false;
  bool seen_input_ = false;
  bool new_member_ = false;
  std::string head_;  // deflate: the two bytes that choose zlib or raw
  size_t head_pos_ = 0;
};

class BrotliStage final : public Stage {
 public:
  BrotliStage() : Stage("br"), state_(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr)) {}

  Result<size_t> Decode(std::string_view& in, char* dst, size_t cap) override {
    if (!state_) return Status(StatusCode::kResourceExhausted, "cannot start the br decoder");
    if (!in.empty()) seen_input_ = true;
    size_t written = 0;
    while (written < cap) {
      if (done_) {
        if (!in.empty()) return AfterEnd();
        break;
      }
      size_t avail_in = in.size();
      const auto* next_in = reinterpret_cast<const uint8_t*>(in.data());
      size_t avail_out = cap - written;
      auto* next_out = reinterpret_cast<uint8_t*>(dst + written);
      const BrotliDecoderResult r = BrotliDecoderDecompressStream(state_.get(), &avail_in, &next_in,
                                                                  &avail_out, &next_out, nullptr);
      in.remove_prefix(in.size() - avail_in);
      written = cap - avail_out;
      if (r == BROTLI_DECODER_RESULT_SUCCESS) {
        done_ = true;
      } else if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) {
        break;
      } else if (r == BROTLI_DECODER_RESULT_ERROR) {
        return Corrupt(BrotliDecoderErrorString(BrotliDecoderGetErrorCode(state_.get())));
      }
      // NEEDS_MORE_OUTPUT: the loop ends with the output full.
    }
    return written;
  }

  bool Complete() const override { return !seen_input_ || done_; }

 private:
  struct Free {
    void operator()(BrotliDecoderState* s) const { BrotliDecoderDestroyInstance(s); }
  };
  std::unique_ptr<BrotliDecoderState, Free> state_;
  bool done_ = false;
  bool seen_input_ = false;
};

// zstd (RFC 8878). Frames may follow one another. The window is limited to 8 MiB, the most
// RFC 8878 §3.1.1.1.2 asks of HTTP decoders, so a frame cannot make us allocate more.
class ZstdStage final : public Stage {
 public:
  static constexpr int kWindowLogMax = 23;

  ZstdStage() : Stage("zstd"), ctx_(ZSTD_createDCtx()) {
    if (ctx_) ZSTD_DCtx_setParameter(ctx_.get(), ZSTD_d_windowLogMax, kWindowLogMax);
  }

  Result<size_t> Decode(std::string_view& in, char* dst, size_t cap) override {
    if (!ctx_) return Status(StatusCode::kResourceExhausted, "cannot start the zstd decoder");
    if (!in.empty()) seen_input_ = true;
    size_t written = 0;
    while (written < cap) {
      ZSTD_inBuffer ib{in.data(), in.size(), 0};
      ZSTD_outBuffer ob{dst + written, cap - written, 0};
      const size_t r = ZSTD_decompressStream(ctx_.get(), &ob, &ib);
      if (ZSTD_isError(r)) {
        if (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge) {
          return Status(StatusCode::kResourceExhausted,
                        "zstd body needs a window larger than 8 MiB, the HTTP limit");
        }
        return Corrupt(ZSTD_getErrorName(r));
      }
      in.remove_prefix(ib.pos);
      written += ob.pos;
      // 0: a frame ended and is flushed. Called again without input, zstd waits for the next
      // frame (and says so with a non-zero hint), which does not undo the end.
      if (ib.pos == 0 && ob.pos == 0) break;
      frame_done_ = r == 0;
    }
    return written;
  }

  bool Complete() const override { return !seen_input_ || frame_done_; }

 private:
  struct Free {
    void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
  };
  std::unique_ptr<ZSTD_DCtx, Free> ctx_;
  bool frame_done_ = false;
  bool seen_input_ = false;
};

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

size_t SaturatingAdd(size_t a, size_t b) {
  return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

}  // namespace

ContentDecoder::ContentDecoder(std::vector<std::unique_ptr<Stage>> stages,
                               std::vector<std::string> names, size_t max_decoded_size)
    : stages_(std::move(stages)),
      names_(std::move(names)),
      buffers_(stages_.size()),
      produced_(stages_.size(), 0),
      max_decoded_size_(max_decoded_size) {}

ContentDecoder::~ContentDecoder() = default;

Result<std::unique_ptr<ContentDecoder>> ContentDecoder::Create(std::string_view content_encoding,
                                                               size_t max_decoded_size) {
  std::vector<std::string> listed;
  std::string_view rest = content_encoding;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view item = TrimOws(rest.substr(0, comma));
    if (!item.empty()) {
      std::string name = otlp::internal::AsciiLower(item);
      if (name != "identity") listed.push_back(std::move(name));
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (listed.size() > kMaxStackedCodings) {
    return Status(StatusCode::kUnimplemented,
                  "Content-Encoding '" + std::string(content_encoding) + "' stacks " +
                      std::to_string(listed.size()) + " codings (at most " +
                      std::to_string(kMaxStackedCodings) + " are decoded)");
  }
  // Codings are listed in the order they were applied: decode from the last.
  std::reverse(listed.begin(), listed.end());
  std::vector<std::unique_ptr<Stage>> stages;
  for (const std::string& name : listed) {
    if (name == "gzip" || name == "x-gzip") {
      stages.push_back(std::make_unique<ZlibStage>(name, ZlibStage::Kind::kGzip));
    } else if (name == "deflate") {
      stages.push_back(std::make_unique<ZlibStage>(name, ZlibStage::Kind::kDeflate));
    } else if (name == "br") {
      stages.push_back(std::make_unique<BrotliStage>());
    } else if (name == "zstd") {
      stages.push_back(std::make_unique<ZstdStage>());
    } else {
      return Status(StatusCode::kUnimplemented,
                    "unsupported Content-Encoding '" + name +
                        "' (supported: gzip, x-gzip, deflate, br, zstd, identity)");
    }
  }
  if (stages.empty()) stages.push_back(std::make_unique<IdentityStage>());
  return std::unique_ptr<ContentDecoder>(
      new ContentDecoder(std::move(stages), std::move(listed), max_decoded_size));
}

void ContentDecoder::Feed(std::string_view encoded) {
  Buffer& in = buffers_.front();
  if (in.pos > 0 && in.pos >= in.bytes.size() / 2) {
    in.bytes.erase(0, in.pos);
    in.pos = 0;
  }
  in.bytes.append(encoded);
}

Result<size_t> ContentDecoder::Pull(size_t i, char* dst, size_t cap) {
  const bool last = i + 1 == stages_.size();
  // Each stage's output is bounded: the last by the limit, the inner ones by the limit plus
  // room for an incompressible inner coding's overhead. One byte past the bound is allowed to
  // tell "exactly at the limit" from "over it".
  const size_t bound =
      last ? max_decoded_size_ : SaturatingAdd(max_decoded_size_, max_decoded_size_ / 64 + 4096);
  const size_t room = bound - std::min(bound, produced_[i]);
  cap = std::min(cap, SaturatingAdd(room, 1));
  Buffer& buf = buffers_[i];
  for (;;) {
    std::string_view in(buf.bytes);
    in.remove_prefix(buf.pos);
    const size_t before = in.size();
    Result<size_t> n = stages_[i]->Decode(in, dst, cap);
    if (!n.ok()) return n.status();
    buf.pos += before - in.size();
    if (buf.pos == buf.bytes.size()) {
      buf.bytes.clear();
      buf.pos = 0;
    }
    if (*n > 0) {
      produced_[i] += *n;
      if (produced_[i] > bound) {
        return Status(StatusCode::kResourceExhausted,
                      "decoded body exceeds the limit of " + std::to_string(max_decoded_size_) +
                          " bytes (Content-Encoding " + stages_[i]->name() + ")");
      }
      return n;
    }
    if (!in.empty()) {
      if (in.size() == before) {
        return InternalError("the " + stages_[i]->name() + " decoder made no progress");
      }
      continue;
    }
    if (i == 0) return size_t{0};
    // Refill this stage's input from the stage before it.
    buf.bytes.resize(kStep);
    Result<size_t> m = Pull(i - 1, buf.bytes.data(), kStep);
    if (!m.ok()) return m.status();
    buf.bytes.resize(*m);
    buf.pos = 0;
    if (*m == 0) return size_t{0};
  }
}

Result<size_t> ContentDecoder::Read(std::string& out, size_t max) {
  if (!error_.ok()) return error_;
  max = std::max<size_t>(max, 1);
  const size_t start = out.size();
  size_t total = 0;
  while (total < max) {
    const size_t step = std::min(max - total, kStep);
    out.resize(start + total + step);
    Result<size_t> n = Pull(stages_.size() - 1, out.data() + start + total, step);
    if (!n.ok()) {
      out.resize(start + total);
      error_ = n.status();
      return error_;
    }
    total += *n;
    if (*n == 0) break;
  }
  out.resize(start + total);
  decoded_ += total;
  return total;
}

Status ContentDecoder::Finish() {
  if (!error_.ok()) return error_;
  std::string probe;
  Result<size_t> n = Read(probe, 1);
  if (!n.ok()) return n.status();
  if (*n > 0) {
    error_ = FailedPreconditionError(
        "ContentDecoder::Finish() called with decoded output unread (Read() until it returns 0)");
    return error_;
  }
  for (const auto& stage : stages_) {
    if (!stage->Complete()) {
      error_ = Status(StatusCode::kDataLoss, "truncated " + stage->name() +
                                                 " body: the data ended before the end of the " +
                                                 stage->name() + " stream");
      return error_;
    }
  }
  return Status::Ok();
}

Result<std::string> DecodeBody(std::string_view content_encoding, std::string_view body,
                               size_t max_decoded_size) {
  OTLP_ASSIGN_OR_RETURN(std::unique_ptr<ContentDecoder> decoder,
                        ContentDecoder::Create(content_encoding, max_decoded_size));
  decoder->Feed(body);
  std::string out;
  for (;;) {
    OTLP_ASSIGN_OR_RETURN(size_t n, decoder->Read(out, kStep));
    if (n == 0) break;
  }
  OTLP_RETURN_IF_ERROR(decoder->Finish());
  return out;
}

}  // namespace otlp::http::internal
