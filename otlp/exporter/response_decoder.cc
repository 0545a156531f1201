// The response decoder: ExportTraceServiceResponse and google.rpc.Status bodies.
#include <charconv>
#include <cmath>

#include "otlp/exporter/internal/json_reader.h"
#include "otlp/exporter/internal/proto_wire.h"
#include "otlp/exporter/otlp_response.h"

namespace otlp::exporter {
namespace {

using internal::JsonReader;
using internal::kWireLen;
using internal::kWireVarint;
using internal::ProtoReader;

constexpr JsonReader::Options kLenient{.max_depth = 64, .replace_invalid_unicode = true};

Status Malformed(std::string_view what) {
  return InvalidArgumentError("malformed OTLP response: " + std::string(what));
}

bool IsBlank(std::string_view body) noexcept {
  return body.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// proto3 JSON int64: a number or a decimal string, integral and in range.
bool ReadInt64(JsonReader& j, int64_t& v) {
  std::string_view tok;
  std::string str;
  if (j.Peek() == '"') {
    if (!j.String(str)) return false;
    tok = str;
  } else if (!j.Number(tok)) {
    return false;
  }
  auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
  if (!tok.empty() && ec == std::errc() && p == tok.data() + tok.size()) return true;
  // Exponent or fraction forms ("3e2", "5.0") are accepted when integral.
  double d;
  auto [pd, ecd] = std::from_chars(tok.data(), tok.data() + tok.size(), d);
  if (tok.empty() || ecd != std::errc() || pd != tok.data() + tok.size() ||
      !(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != std::trunc(d)) {
    return j.Fail("not a 64-bit integer");
  }
  v = static_cast<int64_t>(d);
  return true;
}

}  // namespace

Result<PartialSuccess> DecodeTraceResponseProto(std::string_view body) {
  PartialSuccess result;
  ProtoReader top(body);
  while (!top.done()) {
    uint32_t field, wire;
    if (!top.Next(field, wire)) return Malformed("bad protobuf field header");
    if (field != 1) {
      if (!top.Skip(wire)) return Malformed("truncated protobuf field");
      continue;
    }
    std::string_view ps;
    if (wire != kWireLen || !top.Len(ps)) return Malformed("bad partial_success field");
    // Repeated occurrences of a message field merge, as protobuf parsers do.
    ProtoReader r(ps);
    while (!r.done()) {
      if (!r.Next(field, wire)) return Malformed("bad partial_success field header");
      if (field == 1) {
        uint64_t v;
        if (wire != kWireVarint || !r.Varint(v)) return Malformed("bad rejected_spans");
        result.rejected_spans = static_cast<int64_t>(v);
      } else if (field == 2) {
        std::string_view msg;
        if (wire != kWireLen || !r.Len(msg)) return Malformed("bad error_message");
        result.error_message.assign(msg);
      } else if (!r.Skip(wire)) {
        return Malformed("truncated partial_success field");
      }
    }
  }
  return result;
}

Result<PartialSuccess> DecodeTraceResponseJson(std::string_view body) {
  PartialSuccess result;
  if (IsBlank(body)) return result;
  JsonReader j(body, kLenient);
  const bool ok = j.Object([&](std::string_view key) {
    if (key != "partialSuccess" && key != "partial_success") return j.SkipValue();
    if (j.Null()) return true;
    return j.Object([&](std::string_view k) {
      if (k == "rejectedSpans" || k == "rejected_spans") {
        return j.Null() || ReadInt64(j, result.rejected_spans);
      }
      if (k == "errorMessage" || k == "error_message") {
        if (j.Null()) return true;
        return j.String(result.error_message);
      }
      return j.SkipValue();
    });
  });
  if (!ok || !j.AtEnd()) {
    if (ok) j.Fail("unexpected text after the JSON value");
    return Malformed("invalid JSON ExportTraceServiceResponse: " + j.error() + " at " +
                     j.Location(j.error_offset()));
  }
  return result;
}

std::string DecodeRpcStatusMessage(std::string_view body, bool json) {
  std::string message;
  if (json) {
    JsonReader j(body, kLenient);
    const bool ok = j.Object([&](std::string_view key) {
      if (key == "message" && j.Peek() == '"') return j.String(message);
      return j.SkipValue();
    });
    if (!ok || !j.AtEnd()) return {};
    return message;
  }
  ProtoReader r(body);
  while (!r.done()) {
    uint32_t field, wire;
    if (!r.Next(field, wire)) return {};
    if (field == 2 && wire == kWireLen) {
      std::string_view msg;
      if (!r.Len(msg)) return {};
      message.assign(msg);
    } else if (!r.Skip(wire)) {
      return {};
    }
  }
  return message;
}

}  // namespace otlp::exporter
