// The OTLP/JSON logs decoder: ExportLogsServiceRequest as OTLP/JSON into decoded:: data.
//
// One function per message, each reading an object member by member with the readers of
// internal/json_request_reader.h; unknown keys are skipped (their values still checked for
// syntax).
#include <string>

#include "otlp/exporter/internal/json_request_reader.h"
#include "otlp/exporter/internal/request_decoding.h"
#include "otlp/exporter/otlp_logs_decoder.h"

namespace otlp::exporter {
namespace {

class JsonLogsDecoder : internal::JsonRequestReader {
 public:
  JsonLogsDecoder(std::string_view body, const DecodeLimits& limits)
      : JsonRequestReader(body, limits) {}

  Result<decoded::LogsRequest> Run() {
    OTLP_RETURN_IF_ERROR(CheckBodySize());
    decoded::LogsRequest request;
    request_ = &request;
    if (!ReadRequest(request) || !AtEnd()) return Failure();
    return request;
  }

 private:
  bool ReadRequest(decoded::LogsRequest& out) {
    return Members([&](std::string_view key) {
      if (key == "resourceLogs") {
        return RepeatedAs(key, out.resource_logs,
                          [&](decoded::ResourceLogs& rl) { return ReadResourceLogs(rl); });
      }
      return j_.SkipValue();
    });
  }

  bool ReadResourceLogs(decoded::ResourceLogs& out) {
    return Members([&](std::string_view key) {
      if (key == "resource") return Message([&] { return ReadResource(out.resource); });
      if (key == "scopeLogs") {
        return RepeatedAs(key, out.scope_logs,
                          [&](decoded::ScopeLogs& sl) { return ReadScopeLogs(sl); });
      }
      if (key == "schemaUrl") return String(out.schema_url);
      return j_.SkipValue();
    });
  }

  bool ReadScopeLogs(decoded::ScopeLogs& out) {
    return Members([&](std::string_view key) {
      if (key == "scope") return Message([&] { return ReadScope(out.scope); });
      if (key == "logRecords") return LogRecords(out.log_records);
      if (key == "schemaUrl") return String(out.schema_url);
      return j_.SkipValue();
    });
  }

  // ScopeLogs.logRecords: records with an id of the wrong length are counted and left out.
  bool LogRecords(std::vector<decoded::LogRecord>& records) {
    if (j_.Null()) return true;
    if (j_.Peek() != '[') return Expected("an array");
    return j_.Array([&](size_t i) {
      if (!Charge(sizeof(decoded::LogRecord))) return false;
      path_.Pop();
      path_.Push("logRecords", i);
      std::string invalid;  // why the record is rejected, when it is
      if (!ReadLogRecord(records.emplace_back(), invalid)) return false;
      if (!invalid.empty()) {
        internal::NoteRejection(request_->rejected_log_records, request_->rejection, 1, path_,
                                invalid);
        records.pop_back();
      }
      path_.Pop();
      path_.Push("logRecords");
      return true;
    });
  }

  // `invalid` is set to the reason when an id has the wrong length.
  bool ReadLogRecord(decoded::LogRecord& out, std::string& invalid) {
    return Members([&](std::string_view key) {
      if (key == "timeUnixNano") return Integer(out.time_unix_nano);
      if (key == "observedTimeUnixNano") return Integer(out.observed_time_unix_nano);
      if (key == "severityNumber") return Integer(out.severity_number, /*strings=*/false);
      if (key == "severityText") return String(out.severity_text);
      if (key == "body") return Message([&] { return ReadAnyValue(out.body, 1); });
      if (key == "attributes") return Attributes(key, out.attributes);
      if (key == "droppedAttributesCount") return Integer(out.dropped_attributes_count);
      if (key == "flags") return Integer(out.flags);
      if (key == "traceId") return OptionalId(key, out.trace_id, invalid);
      if (key == "spanId") return OptionalId(key, out.span_id, invalid);
      if (key == "eventName") return String(out.event_name);
      return j_.SkipValue();
    });
  }

  // An optional id as hex: null or "" for none, or hex digits for exactly N bytes. Hex for
  // another number of bytes makes the record invalid (the id is left all zero); text that is
  // not hex bytes is malformed.
  template <typename Id>
  bool OptionalId(std::string_view key, Id& out, std::string& invalid) {
    out = Id();
    if (j_.Null()) return true;
    if (j_.Peek() != '"') return Expected("a hex string");
    const size_t at = j_.offset();
    std::string_view text;
    if (!j_.StringView(text, scratch_)) return false;
    if (text.size() % 2 != 0) {
      return j_.FailAt(at, std::to_string(text.size()) + " hex digits (an odd number)");
    }
    for (const char c : text) {
      if (internal::HexValue(c) < 0) return j_.FailAt(at, "not a hex string");
    }
    if (text.size() != 2 * Id::kSize) {
      if (!text.empty() && invalid.empty()) {
        invalid = "the " + std::string(key) + " has " + std::to_string(text.size()) +
                  " hex digits, expected " + std::to_string(2 * Id::kSize) + " (or none)";
      }
      return true;
    }
    for (size_t i = 0; i < Id::kSize; ++i) {
      out.mutable_bytes()[i] = static_cast<uint8_t>(internal::HexValue(text[2 * i]) << 4 |
                                                    internal::HexValue(text[2 * i + 1]));
    }
    return true;
  }

  decoded::LogsRequest* request_ = nullptr;
};

}  // namespace

Result<decoded::LogsRequest> DecodeLogsRequestJson(std::string_view body,
                                                   const DecodeLimits& limits) {
  return JsonLogsDecoder(body, limits).Run();
}

}  // namespace otlp::exporter
