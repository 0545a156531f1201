#include "otlp/http/multipart.h"

#include <algorithm>
#include <cstring>
#include <random>

namespace otlp::http {
namespace {

constexpr std::string_view kAlphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr int kBoundaryAttempts = 8;

std::string RandomBoundary() {
  thread_local std::mt19937_64 rng = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  std::string b = "otlp-";
  for (int i = 0; i < 32; ++i) b += kAlphabet[rng() % kAlphabet.size()];
  return b;
}

// RFC 2046 §5.1.1: 1–70 bchars, the last not a space.
bool IsValidBoundary(std::string_view b) {
  constexpr std::string_view kSpecials = "'()+_,-./:=? ";
  if (b.empty() || b.size() > 70 || b.back() == ' ') return false;
  return std::all_of(b.begin(), b.end(), [&](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           kSpecials.find(c) != std::string_view::npos;
  });
}

// A name or filename inside the quoted-string of Content-Disposition (WHATWG's encoding).
void AppendQuoted(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '\r': out += "%0D"; break;
      case '\n': out += "%0A"; break;
      case '"': out += "%22"; break;
      default: out += c;
    }
  }
  out += '"';
}

bool HasLineBreakOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

}  // namespace

Multipart::Multipart() : boundary_(RandomBoundary()) {}

Multipart::Multipart(std::string boundary)
    : boundary_(IsValidBoundary(boundary) ? std::move(boundary) : RandomBoundary()) {}

Multipart& Multipart::AddField(std::string_view name, std::string_view value) {
  parts_.push_back(Part{std::string(name), std::nullopt, "", std::string(value), nullptr, {}});
  return *this;
}

Multipart& Multipart::AddFile(std::string_view name, std::string_view filename,
                              std::string_view content, std::string_view content_type) {
  parts_.push_back(
      Part{std::string(name),
           std::string(filename),
           content_type.empty() ? "application/octet-stream" : std::string(content_type),
           std::string(content),
           nullptr,
           {}});
  return *this;
}

Multipart& Multipart::AddStream(std::string_view name, std::string_view filename,
                                std::string_view content_type, MultipartSource source,
                                std::optional<uint64_t> size) {
  parts_.push_back(
      Part{std::string(name), std::string(filename),
           content_type.empty() ? "application/octet-stream" : std::string(content_type), "",
           std::move(source), size});
  return *this;
}

Status Multipart::Validate() const {
  for (const Part& p : parts_) {
    if (HasLineBreakOrNul(p.content_type)) {
      return InvalidArgumentError("multipart part '" + p.name +
                                  "': the content type contains a line break or NUL");
    }
  }
  return Status::Ok();
}

Result<std::string> Multipart::ChooseBoundary() const {
  std::string boundary = boundary_;
  for (int attempt = 0; attempt < kBoundaryAttempts; ++attempt) {
    const bool collides = std::any_of(parts_.begin(), parts_.end(), [&](const Part& p) {
      return p.data.find(boundary) != std::string::npos;
    });
    if (!collides) return boundary;
    boundary = RandomBoundary();
  }
  return InternalError("no multipart boundary found that does not occur in the parts");
}

std::string Multipart::PartHeader(const std::string& boundary, const Part& part, bool first) {
  std::string h;
  if (!first) h += "\r\n";
  h += "--";
  h += boundary;
  h += "\r\nContent-Disposition: form-data; name=";
  AppendQuoted(h, part.name);
  if (part.filename) {
    h += "; filename=";
    AppendQuoted(h, *part.filename);
  }
  h += "\r\n";
  if (!part.content_type.empty()) {
    h += "Content-Type: ";
    h += part.content_type;
    h += "\r\n";
  }
  h += "\r\n";
  return h;
}

namespace {
std::string Closing(const std::string& boundary, bool any_part) {
  return std::string(any_part ? "\r\n" : "") + "--" + boundary + "--\r\n";
}
}  // namespace

Result<MultipartBody> Multipart::Build() const {
  OTLP_RETURN_IF_ERROR(Validate());
  for (const Part& p : parts_) {
    if (p.source) {
      return FailedPreconditionError("multipart part '" + p.name +
                                     "' is streamed: use Multipart::Stream()");
    }
  }
  OTLP_ASSIGN_OR_RETURN(std::string boundary, ChooseBoundary());
  MultipartBody out;
  out.content_type = "multipart/form-data; boundary=" + boundary;
  for (size_t i = 0; i < parts_.size(); ++i) {
    out.body += PartHeader(boundary, parts_[i], i == 0);
    out.body += parts_[i].data;
  }
  out.body += Closing(boundary, !parts_.empty());
  return out;
}

Result<MultipartStream> Multipart::Stream() && {
  OTLP_RETURN_IF_ERROR(Validate());
  OTLP_ASSIGN_OR_RETURN(std::string boundary, ChooseBoundary());
  MultipartStream s;
  s.content_type_ = "multipart/form-data; boundary=" + boundary;
  uint64_t length = 0;
  bool known = true;
  for (size_t i = 0; i < parts_.size(); ++i) {
    const Part& p = parts_[i];
    s.segments_.push_back({PartHeader(boundary, p, i == 0), -1});
    length += s.segments_.back().text.size();
    if (p.source) {
      s.segments_.push_back({"", static_cast<int>(i)});
      if (p.size) {
        length += *p.size;
      } else {
        known = false;
      }
    } else {
      length += p.data.size();
      s.segments_.push_back({std::move(parts_[i].data), -1});
    }
  }
  s.segments_.push_back({Closing(boundary, !parts_.empty()), -1});
  length += s.segments_.back().text.size();
  if (known) s.content_length_ = length;
  s.parts_ = std::move(parts_);
  parts_.clear();
  return s;
}

MultipartStream::MultipartStream(MultipartStream&&) noexcept = default;
MultipartStream& MultipartStream::operator=(MultipartStream&&) noexcept = default;
MultipartStream::~MultipartStream() = default;

Result<size_t> MultipartStream::Read(char* buffer, size_t capacity) {
  if (!error_.ok()) return error_;
  size_t written = 0;
  while (written < capacity && segment_ < segments_.size()) {
    Segment& seg = segments_[segment_];
    if (seg.part < 0) {
      const size_t n = std::min(capacity - written, seg.text.size() - offset_);
      std::memcpy(buffer + written, seg.text.data() + offset_, n);
      written += n;
      offset_ += n;
      if (offset_ == seg.text.size()) {
        ++segment_;
        offset_ = 0;
      }
      continue;
    }
    Multipart::Part& part = parts_[static_cast<size_t>(seg.part)];
    size_t room = capacity - written;
    if (part.size) room = static_cast<size_t>(std::min<uint64_t>(room, *part.size - streamed_ + 1));
    Result<size_t> n = part.source(buffer + written, room);
    if (!n.ok()) {
      error_ = Status(n.status().code(),
                      "multipart part '" + part.name + "': source failed: " + n.status().message(),
                      n.status().retryable());
      return error_;
    }
    if (*n > room) {
      error_ = InvalidArgumentError("multipart part '" + part.name +
                                    "': source wrote more than it was given room for");
      return error_;
    }
    streamed_ += *n;
    written += *n;
    if (part.size && streamed_ > *part.size) {
      error_ = InvalidArgumentError("multipart part '" + part.name + "': source gave more than " +
                                    "the declared " + std::to_string(*part.size) + " bytes");
      return error_;
    }
    if (*n == 0) {
      if (part.size && streamed_ != *part.size) {
        error_ = InvalidArgumentError("multipart part '" + part.name + "': source gave " +
                                      std::to_string(streamed_) + " bytes, declared " +
                                      std::to_string(*part.size));
        return error_;
      }
      ++segment_;
      offset_ = 0;
      streamed_ = 0;
    }
  }
  return written;
}

}  // namespace otlp::http
