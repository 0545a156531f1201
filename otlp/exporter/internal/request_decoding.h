// What the protobuf and the JSON request decoders share: the path of the field being read (for
// error messages), the memory budget, and the rules that drop invalid spans, metrics and log
// records.
// Internal: not an API.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/exporter/otlp_decoder.h"

namespace otlp::exporter::internal {

// Where the decoder is: "resource_spans[0].scope_spans[1].spans[3]". Entries are pushed when a
// nested message is entered and popped when it was read successfully, so after a failure the
// path still names the place of the error.
class DecodePath {
 public:
  // Push and Pop run for every field a decoder reads: a fixed array, no allocation. Entries
  // beyond kMaxEntries (deeply nested values) are counted but not recorded.
  void Push(std::string_view name, size_t index) noexcept { Set({name, index, true}); }
  void Push(std::string_view name) noexcept { Set({name, 0, false}); }
  void Pop() noexcept { --size_; }
  // The path, then `field` when non-empty: "a[0].b.field".
  std::string ToString(std::string_view field = {}) const {
    std::string out;
    for (size_t i = 0; i < size_ && i < kMaxEntries; ++i) {
      const Entry& e = entries_[i];
      if (!out.empty()) out += '.';
      out += e.name;
      if (e.indexed) out += "[" + std::to_string(e.index) + "]";
    }
    if (size_ > kMaxEntries) out += ". ...";
    if (!field.empty()) {
      if (!out.empty()) out += '.';
      out += field;
    }
    return out;
  }

 private:
  struct Entry {
    std::string_view name;
    size_t index;
    bool indexed;
  };
  static constexpr size_t kMaxEntries = 64;
  void Set(const Entry& e) noexcept {
    if (size_ < kMaxEntries) entries_[size_] = e;
    ++size_;
  }
  std::array<Entry, kMaxEntries> entries_;
  size_t size_ = 0;
};

// The estimated memory a decoded request may take (DecodeLimits::max_decoded_bytes).
class DecodeBudget {
 public:
  explicit DecodeBudget(size_t bytes) noexcept : left_(bytes) {}
  // False once the estimate passes the limit.
  bool Charge(size_t bytes) noexcept {
    if (bytes > left_) {
      left_ = 0;
      return false;
    }
    left_ -= bytes;
    return true;
  }

 private:
  size_t left_;
};

// Drops the span just decoded (the last of `spans`) when it lacks a valid trace or span id, as
// the OTLP definitions require: counts it in the request and describes the first such span.
// `where` is the span's path. True when the span was kept.
inline bool KeepValidSpan(std::vector<decoded::Span>& spans, decoded::TraceRequest& request,
                          const DecodePath& where, std::string_view trace_id_name,
                          std::string_view span_id_name) {
  const decoded::Span& s = spans.back();
  const bool trace_ok = s.trace_id.IsValid(), span_ok = s.span_id.IsValid();
  if (trace_ok && span_ok) return true;
  if (request.rejected_spans++ == 0) {
    request.rejection = where.ToString() + ": the " +
                        std::string(!trace_ok ? trace_id_name : span_id_name) +
                        " is missing or all zero (it is required)";
  }
  spans.pop_back();
  return false;
}

// Counts `items` refused items (data points, log records) of a request and describes the first
// refusal: "<where>: <why>". The first refusal may count no items (a metric without data points),
// so the description, not the count, says whether anything was refused.
inline void NoteRejection(uint64_t& rejected, std::string& rejection, uint64_t items,
                          const DecodePath& where, std::string_view why) {
  rejected += items;
  if (rejection.empty()) rejection = where.ToString() + ": " + std::string(why);
}

// Messages for limits, shared so that both encodings word them alike.
inline std::string BodyTooLarge(size_t size, size_t limit) {
  return "the request body of " + std::to_string(size) + " bytes exceeds the limit of " +
         std::to_string(limit) + " bytes";
}
inline std::string DecodedTooLarge(size_t limit) {
  return "the decoded request would take more than " + std::to_string(limit) +
         " bytes (DecodeLimits::max_decoded_bytes)";
}

// CountTraceRequestSpans on an uncompressed body (proto_decoder.cc, json_decoder.cc).
Result<uint64_t> CountSpansProto(std::string_view body, const DecodeLimits& limits);
Result<uint64_t> CountSpansJson(std::string_view body, const DecodeLimits& limits);

}  // namespace otlp::exporter::internal
