#include "span_count.h"

#include <vector>

#include "otlp/core/internal/varint.h"

namespace otlp::cli {
namespace {

using otlp::internal::ReadVarint;

// Calls f(field_number, payload) for every length-delimited field of `msg`, skipping the
// others. False on malformed input.
template <typename F>
bool ForEachLenField(std::string_view msg, F&& f) {
  while (!msg.empty()) {
    uint64_t tag;
    if (!ReadVarint(msg, tag)) return false;
    uint64_t field = tag >> 3;
    if (field == 0) return false;
    switch (tag & 7) {
      case 0: {
        uint64_t ignored;
        if (!ReadVarint(msg, ignored)) return false;
        break;
      }
      case 1:
        if (msg.size() < 8) return false;
        msg.remove_prefix(8);
        break;
      case 5:
        if (msg.size() < 4) return false;
        msg.remove_prefix(4);
        break;
      case 2: {
        uint64_t len;
        if (!ReadVarint(msg, len) || len > msg.size()) return false;
        if (!f(field, msg.substr(0, len))) return false;
        msg.remove_prefix(len);
        break;
      }
      default: return false;  // groups (3, 4) are not used by OTLP; 6 and 7 do not exist
    }
  }
  return true;
}

}  // namespace

Result<uint64_t> CountSpansProtobuf(std::string_view body) {
  uint64_t spans = 0;
  bool ok = ForEachLenField(body, [&](uint64_t field, std::string_view resource_spans) {
    if (field != 1) return true;
    return ForEachLenField(resource_spans, [&](uint64_t f2, std::string_view scope_spans) {
      if (f2 != 2) return true;
      return ForEachLenField(scope_spans, [&](uint64_t f3, std::string_view) {
        if (f3 == 2) ++spans;
        return true;
      });
    });
  });
  if (!ok) return InvalidArgumentError("malformed protobuf ExportTraceServiceRequest");
  return spans;
}

Result<uint64_t> CountSpansJson(std::string_view body) {
  struct Level {
    bool object;
    bool counting;  // an array that is the value of a "spans" key
  };
  std::vector<Level> stack;
  std::string key;  // the last object key seen
  uint64_t spans = 0;
  size_t i = 0;
  auto fail = [] { return InvalidArgumentError("malformed JSON ExportTraceServiceRequest"); };
  while (i < body.size()) {
    char c = body[i];
    if (c == '"') {
      std::string s;
      ++i;
      while (i < body.size() && body[i] != '"') {
        if (body[i] == '\\') {
          if (++i >= body.size()) return fail();
        }
        s += body[i++];
      }
      if (i >= body.size()) return fail();
      ++i;
      size_t j = i;
      while (j < body.size() &&
             (body[j] == ' ' || body[j] == '\t' || body[j] == '\n' || body[j] == '\r')) {
        ++j;
      }
      if (j < body.size() && body[j] == ':') key = std::move(s);
      continue;
    }
    if (c == '{') {
      if (!stack.empty() && stack.back().counting) ++spans;
      stack.push_back({true, false});
    } else if (c == '[') {
      bool counting = !stack.empty() && stack.back().object && key == "spans";
      stack.push_back({false, counting});
    } else if (c == '}' || c == ']') {
      if (stack.empty() || stack.back().object != (c == '}')) return fail();
      stack.pop_back();
    }
    ++i;
  }
  if (!stack.empty()) return fail();
  return spans;
}

}  // namespace otlp::cli
