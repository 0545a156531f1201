// DecodeTraceRequest: the body as received, gzip included. Kept apart from the two decoders so
// that they build without zlib (the fuzzing build has no network layer).
#include "otlp/core/internal/gzip.h"
#include "otlp/exporter/otlp_decoder.h"

namespace otlp::exporter {

Result<decoded::TraceRequest> DecodeTraceRequest(std::string_view body, OtlpEncoding encoding,
                                                 bool gzip, const DecodeLimits& limits) {
  std::string inflated;
  if (gzip) {
    Result<std::string> r = otlp::internal::GzipDecompress(body, limits.max_body_bytes);
    if (!r.ok()) {
      const Status& st = r.status();
      return Status(st.code(), (st.code() == StatusCode::kResourceExhausted
                                    ? "OTLP request refused: the inflated gzip body exceeds the "
                                      "limit of " + std::to_string(limits.max_body_bytes) + " bytes"
                                    : "invalid OTLP request: bad gzip body: " + st.message()));
    }
    inflated = std::move(*r);
    body = inflated;
  }
  return encoding == OtlpEncoding::kJson ? DecodeTraceRequestJson(body, limits)
                                         : DecodeTraceRequestProto(body, limits);
}

}  // namespace otlp::exporter
