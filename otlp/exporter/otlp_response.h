// otlp/exporter/otlp_response.h — reading a collector's answer to an OTLP trace export: the
// ExportTraceServiceResponse (partial success) and the google.rpc.Status of an error.
//
//   otlp::Result<PartialSuccess> ps = otlp::exporter::DecodeTraceResponseProto(response_body);
//   if (!ps.ok()) { /* malformed answer */ } else if (ps->present()) { /* some spans rejected */ }
//   std::string why = otlp::exporter::DecodeRpcStatusMessage(error_body, /*json=*/false);
//
// Decoders never crash on malformed input: they return an error Status (kInvalidArgument).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "otlp/core/export.h"
#include "otlp/core/status.h"

namespace otlp::exporter {

// ExportTraceServiceResponse.partial_success.
struct PartialSuccess {
  int64_t rejected_spans = 0;
  std::string error_message;
  bool present() const noexcept { return rejected_spans != 0 || !error_message.empty(); }
};

// An empty body is a full success. A malformed body is an error (kInvalidArgument).
// JSON is read leniently, as an answer from any collector deserves: lowerCamelCase and
// snake_case keys, 64-bit integers as numbers or strings, invalid UTF-8 replaced by U+FFFD.
OTLP_EXPORT Result<PartialSuccess> DecodeTraceResponseProto(std::string_view body);
OTLP_EXPORT Result<PartialSuccess> DecodeTraceResponseJson(std::string_view body);

// The message of a google.rpc.Status error body (protobuf or JSON); empty when there is none or
// the body is not a Status.
OTLP_EXPORT std::string DecodeRpcStatusMessage(std::string_view body, bool json);

}  // namespace otlp::exporter
