// otlp/http/multipart.h — multipart/form-data request bodies (RFC 7578): text fields and files,
// built in memory or streamed from callbacks.
//
//   otlp::http::Multipart form;
//   form.AddField("title", "Quarterly report")
//       .AddFile("attachment", "q3.pdf", pdf_bytes, "application/pdf");
//   OTLP_ASSIGN_OR_RETURN(otlp::http::MultipartBody body, form.Build());
//   // body.content_type: "multipart/form-data; boundary=otlp-…"; body.body: the bytes to send
//
//   // Large files without holding them in memory:
//   form.AddStream("upload", "big.bin", "application/octet-stream", ReadChunk, file_size);
//   OTLP_ASSIGN_OR_RETURN(otlp::http::MultipartStream stream, std::move(form).Stream());
//   while (size_t n = *stream.Read(buf, sizeof buf)) Send(buf, n);
//
// Each part is "--boundary CRLF headers CRLF CRLF content CRLF", the body ends with
// "--boundary-- CRLF". The boundary is "otlp-" and 32 random letters and digits; Build() and
// Stream() pick another one if it occurs in the content of an in-memory part (a streamed
// part's content is not known in advance: a 190-bit random boundary does not occur in it by
// chance). In field names and filenames a CR, LF and '"' are written %0D, %0A and %22, as
// browsers do; other bytes (UTF-8 names) are sent as they are. A part content type holding a
// line break or NUL is rejected (kInvalidArgument), so no input can inject a header.
//
// Threading: Multipart and MultipartStream are used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/status.h"

namespace otlp::http {

struct MultipartBody {
  std::string content_type;  // "multipart/form-data; boundary=..."
  std::string body;
};

// Gives the next bytes of a streamed part: writes up to `capacity` bytes to `buffer` and returns
// how many, 0 at the end; an error aborts the body.
using MultipartSource = std::function<Result<size_t>(char* buffer, size_t capacity)>;

class MultipartStream;

class OTLP_EXPORT Multipart {
 public:
  // A random boundary.
  Multipart();
  // `boundary` first (1–70 of RFC 2046's bchars, not ending in a space; otherwise, or when it
  // occurs in a part, a random one is used).
  explicit Multipart(std::string boundary);

  Multipart& AddField(std::string_view name, std::string_view value);
  // A file part from memory. An empty content type is sent as application/octet-stream.
  Multipart& AddFile(std::string_view name, std::string_view filename, std::string_view content,
                     std::string_view content_type = "application/octet-stream");
  // A file part read from `source` when the body is streamed; `size`, when given, is checked
  // and makes the body's length known in advance.
  Multipart& AddStream(std::string_view name, std::string_view filename,
                       std::string_view content_type, MultipartSource source,
                       std::optional<uint64_t> size = std::nullopt);

  // The whole body in memory. kFailedPrecondition when a part is streamed.
  Result<MultipartBody> Build() const;
  // The body as a stream; the parts move into it.
  Result<MultipartStream> Stream() &&;

  size_t part_count() const noexcept { return parts_.size(); }

 private:
  friend class MultipartStream;
  struct Part {
    std::string name;
    std::optional<std::string> filename;
    std::string content_type;  // "" for a text field
    std::string data;          // in-memory content
    MultipartSource source;    // streamed content (data unused)
    std::optional<uint64_t> size;
  };
  Result<std::string> ChooseBoundary() const;
  Status Validate() const;
  static std::string PartHeader(const std::string& boundary, const Part& part, bool first);

  std::string boundary_;
  std::vector<Part> parts_;
};

// A multipart body produced piece by piece (see Multipart::Stream).
class OTLP_EXPORT MultipartStream {
 public:
  MultipartStream(MultipartStream&&) noexcept;
  MultipartStream& operator=(MultipartStream&&) noexcept;
  ~MultipartStream();

  const std::string& content_type() const noexcept { return content_type_; }
  // The body's length when every streamed part declared its size.
  std::optional<uint64_t> content_length() const noexcept { return content_length_; }
  // Writes up to `capacity` bytes of the body to `buffer`; 0 at the end. A source's error, or
  // a source giving a different number of bytes than it declared, is returned (and sticks).
  Result<size_t> Read(char* buffer, size_t capacity);

 private:
  friend class Multipart;
  // Framing text, or the content of part `part`.
  struct Segment {
    std::string text;
    int part = -1;
  };
  MultipartStream() = default;

  std::string content_type_;
  std::optional<uint64_t> content_length_;
  std::vector<Multipart::Part> parts_;
  std::vector<Segment> segments_;
  size_t segment_ = 0;
  size_t offset_ = 0;      // within the current segment
  uint64_t streamed_ = 0;  // bytes of the current streamed part so far
  Status error_;
};

}  // namespace otlp::http
