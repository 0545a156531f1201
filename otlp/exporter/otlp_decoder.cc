// DecodeTraceRequest, DecodeMetricsRequest, DecodeLogsRequest: the body as received, gzip
// included. Kept apart from the decoders so that they build without zlib (the fuzzing build has
// no network layer).
#include "otlp/exporter/otlp_decoder.h"

#include "otlp/core/internal/gzip.h"
#include "otlp/exporter/internal/request_decoding.h"
#include "otlp/exporter/otlp_logs_decoder.h"
#include "otlp/exporter/otlp_metrics_decoder.h"

namespace otlp::exporter {

namespace {

// The body to decode: `body` itself, or its inflation into `inflated`.
Result<std::string_view> Inflate(std::string_view body, bool gzip, const DecodeLimits& limits,
                                 std::string& inflated) {
  if (!gzip) return body;
  Result<std::string> r = otlp::internal::GzipDecompress(body, limits.max_body_bytes);
  if (!r.ok()) {
    const Status& st = r.status();
    return Status(st.code(), st.code() == StatusCode::kResourceExhausted
                                 ? "OTLP request refused: the inflated gzip body exceeds the "
                                   "limit of " +
                                       std::to_string(limits.max_body_bytes) + " bytes"
                                 : "invalid OTLP request: bad gzip body: " + st.message());
  }
  inflated = std::move(*r);
  return std::string_view(inflated);
}

}  // namespace

Result<decoded::TraceRequest> DecodeTraceRequest(std::string_view body, OtlpEncoding encoding,
                                                 bool gzip, const DecodeLimits& limits) {
  std::string inflated;
  OTLP_ASSIGN_OR_RETURN(std::string_view plain, Inflate(body, gzip, limits, inflated));
  return encoding == OtlpEncoding::kJson ? DecodeTraceRequestJson(plain, limits)
                                         : DecodeTraceRequestProto(plain, limits);
}

Result<decoded::MetricsRequest> DecodeMetricsRequest(std::string_view body, OtlpEncoding encoding,
                                                     bool gzip, const DecodeLimits& limits) {
  std::string inflated;
  OTLP_ASSIGN_OR_RETURN(std::string_view plain, Inflate(body, gzip, limits, inflated));
  return encoding == OtlpEncoding::kJson ? DecodeMetricsRequestJson(plain, limits)
                                         : DecodeMetricsRequestProto(plain, limits);
}

Result<decoded::LogsRequest> DecodeLogsRequest(std::string_view body, OtlpEncoding encoding,
                                               bool gzip, const DecodeLimits& limits) {
  std::string inflated;
  OTLP_ASSIGN_OR_RETURN(std::string_view plain, Inflate(body, gzip, limits, inflated));
  return encoding == OtlpEncoding::kJson ? DecodeLogsRequestJson(plain, limits)
                                         : DecodeLogsRequestProto(plain, limits);
}

Result<uint64_t> CountTraceRequestSpans(std::string_view body, OtlpEncoding encoding, bool gzip,
                                        const DecodeLimits& limits) {
  std::string inflated;
  OTLP_ASSIGN_OR_RETURN(std::string_view plain, Inflate(body, gzip, limits, inflated));
  return encoding == OtlpEncoding::kJson ? internal::CountSpansJson(plain, limits)
                                         : internal::CountSpansProto(plain, limits);
}

}  // namespace otlp::exporter
