#include "span_count.h"

#include <zlib.h>

#include <vector>

namespace otlp::cli {
namespace {

bool ReadVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    uint8_t b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

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

Result<std::string> Gunzip(std::string_view data, size_t limit) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return InternalError("zlib init failed");
  std::string out;
  char buf[64 * 1024];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return InvalidArgumentError("corrupt gzip body");
    }
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (out.size() > limit) {
      inflateEnd(&zs);
      return Status(StatusCode::kResourceExhausted, "gzip body inflates past the limit");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return InvalidArgumentError("truncated gzip body");
    }
  }
  inflateEnd(&zs);
  return out;
}

}  // namespace otlp::cli
