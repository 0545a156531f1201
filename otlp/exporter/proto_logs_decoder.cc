// The protobuf logs decoder: ExportLogsServiceRequest wire format into decoded:: data.
//
// One function per message, on the field readers of internal/proto_request_reader.h (wire types
// checked, unknown fields skipped, the first failure recorded with its path and byte offset).
#include <cstring>
#include <string>

#include "otlp/exporter/internal/proto_request_reader.h"
#include "otlp/exporter/internal/proto_wire.h"
#include "otlp/exporter/internal/request_decoding.h"
#include "otlp/exporter/otlp_logs_decoder.h"

namespace otlp::exporter {
namespace {

using internal::ProtoReader;

class ProtoLogsDecoder : internal::ProtoRequestReader {
 public:
  ProtoLogsDecoder(std::string_view body, const DecodeLimits& limits)
      : ProtoRequestReader(body, limits) {}

  Result<decoded::LogsRequest> Run() {
    OTLP_RETURN_IF_ERROR(CheckBodySize());
    decoded::LogsRequest request;
    request_ = &request;
    if (!ReadRequest(body_, request)) return Failure();
    return request;
  }

 private:
  bool ReadRequest(std::string_view msg, decoded::LogsRequest& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      if (field == 1) {
        return RepeatedField(
            r, wire, at, "resource_logs", out.resource_logs,
            [&](std::string_view m, decoded::ResourceLogs& rl) { return ReadResourceLogs(m, rl); });
      }
      return SkipUnknown(r, field, wire, at);
    });
  }

  bool ReadResourceLogs(std::string_view msg, decoded::ResourceLogs& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1:
          return MessageField(r, wire, at, "resource",
                              [&](std::string_view m) { return ReadResource(m, out.resource); });
        case 2:
          return RepeatedField(
              r, wire, at, "scope_logs", out.scope_logs,
              [&](std::string_view m, decoded::ScopeLogs& sl) { return ReadScopeLogs(m, sl); });
        case 3: return StringField(r, wire, at, "schema_url", out.schema_url);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  bool ReadScopeLogs(std::string_view msg, decoded::ScopeLogs& out) {
    size_t record_index = 0;  // as received (rejected records are left out of out.log_records)
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1:
          return MessageField(r, wire, at, "scope",
                              [&](std::string_view m) { return ReadScope(m, out.scope); });
        case 2: {
          std::string_view payload;
          if (!LenField(r, wire, at, "log_records", payload) ||
              !Charge(at, sizeof(decoded::LogRecord))) {
            return false;
          }
          path_.Push("log_records", record_index++);
          std::string invalid;  // why the record is rejected, when it is
          if (!ReadLogRecord(payload, out.log_records.emplace_back(), invalid)) return false;
          if (!invalid.empty()) {
            internal::NoteRejection(request_->rejected_log_records, request_->rejection, 1, path_,
                                    invalid);
            out.log_records.pop_back();
          }
          path_.Pop();
          return true;
        }
        case 3: return StringField(r, wire, at, "schema_url", out.schema_url);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  // `invalid` is set to the reason when an id has the wrong length.
  bool ReadLogRecord(std::string_view msg, decoded::LogRecord& out, std::string& invalid) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1: return Fixed64Field(r, wire, at, "time_unix_nano", out.time_unix_nano);
        case 2: return VarintField(r, wire, at, "severity_number", out.severity_number);
        case 3: return StringField(r, wire, at, "severity_text", out.severity_text);
        case 5:
          return MessageField(r, wire, at, "body",
                              [&](std::string_view m) { return ReadAnyValue(m, out.body, 1); });
        case 6: return ReadAttribute(r, wire, at, "attributes", out.attributes);
        case 7:
          return VarintField(r, wire, at, "dropped_attributes_count", out.dropped_attributes_count);
        case 8: return Fixed32Field(r, wire, at, "flags", out.flags);
        case 9: return OptionalId(r, wire, at, "trace_id", out.trace_id, invalid);
        case 10: return OptionalId(r, wire, at, "span_id", out.span_id, invalid);
        case 11:
          return Fixed64Field(r, wire, at, "observed_time_unix_nano", out.observed_time_unix_nano);
        case 12: return StringField(r, wire, at, "event_name", out.event_name);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  // An optional id: none (empty), or exactly N bytes; another length makes the record invalid
  // (the id is left all zero).
  template <typename Id>
  bool OptionalId(ProtoReader& r, uint32_t wire, const char* at, std::string_view name, Id& out,
                  std::string& invalid) {
    std::string_view v;
    if (!LenField(r, wire, at, name, v)) return false;
    out = Id();
    if (v.size() == Id::kSize) {
      std::memcpy(out.mutable_bytes().data(), v.data(), Id::kSize);
    } else if (!v.empty() && invalid.empty()) {
      invalid = "the " + std::string(name) + " has " + std::to_string(v.size()) +
                " bytes, expected " + std::to_string(Id::kSize) + " (or none)";
    }
    return true;
  }

  decoded::LogsRequest* request_ = nullptr;
};

}  // namespace

Result<decoded::LogsRequest> DecodeLogsRequestProto(std::string_view body,
                                                    const DecodeLimits& limits) {
  return ProtoLogsDecoder(body, limits).Run();
}

}  // namespace otlp::exporter
