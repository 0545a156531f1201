// The OTLP logs request decoder on hand-built bodies: every field in both encodings, the proto3
// and OTLP/JSON rules, records rejected for ids of the wrong length, gzip, limits, and malformed
// bodies refused with their message.
#include "otlp/exporter/otlp_logs_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "otlp/core/internal/gzip.h"
#include "otlp/core/internal/varint.h"
#include "tests/support/span_fixtures.h"
#include "tests/support/proto_builders.h"
#include "tests/support/status_matchers.h"

namespace otlp::exporter {
namespace {

using decoded::AnyValue;
using decoded::LogsRequest;
using test::Sid;
using test::SidBytes;
using test::Tid;
using test::TidBytes;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// ---- protobuf builders

using test::Fix32;
using test::Fix64;
using test::Key;
using test::Len;
using test::Var;
// A request of one resource and one scope around log record bodies.
std::string RequestOf(const std::vector<std::string>& records) {
  std::string sl;
  for (const std::string& r : records) sl += Len(2, r);
  return Len(1, Len(2, sl));
}

const decoded::LogRecord& OnlyRecord(const LogsRequest& r) {
  static const decoded::LogRecord kNone;
  if (r.log_record_count() != 1) {
    ADD_FAILURE() << "expected exactly one log record, got " << r.log_record_count();
    return kNone;
  }
  return r.resource_logs[0].scope_logs[0].log_records[0];
}

// What the EveryField bodies hold, in either encoding.
void ExpectEveryField(const LogsRequest& r) {
  ASSERT_THAT(r.resource_logs, SizeIs(1));
  const decoded::ResourceLogs& rl = r.resource_logs[0];
  EXPECT_EQ(rl.schema_url, "res-schema");
  EXPECT_EQ(rl.resource.attributes,
            (std::vector<decoded::KeyValue>{{"service.name", AnyValue{std::string("svc")}}}));
  EXPECT_EQ(rl.resource.dropped_attributes_count, 2u);
  ASSERT_THAT(rl.scope_logs, SizeIs(1));
  EXPECT_EQ(rl.scope_logs[0].schema_url, "scope-schema");
  EXPECT_EQ(rl.scope_logs[0].scope.name, "logger");
  EXPECT_EQ(rl.scope_logs[0].scope.version, "3");
  const decoded::LogRecord& log = OnlyRecord(r);
  EXPECT_EQ(log.time_unix_nano, 1700000000000000001u);
  EXPECT_EQ(log.observed_time_unix_nano, 1700000000000000002u);
  EXPECT_EQ(log.severity_number, 17);
  EXPECT_EQ(log.severity_text, "ERROR");
  EXPECT_EQ(log.body, (AnyValue{AnyValue::KeyValueList{
                          {"msg", AnyValue{std::string("disk full")}},
                          {"codes", AnyValue{AnyValue::Array{AnyValue{int64_t{28}}}}}}}));
  EXPECT_EQ(log.attributes, (std::vector<decoded::KeyValue>{{"n", AnyValue{int64_t{-3}}}}));
  EXPECT_EQ(log.dropped_attributes_count, 4u);
  EXPECT_EQ(log.flags, 1u);
  EXPECT_EQ(log.trace_id, Tid());
  EXPECT_EQ(log.span_id, Sid());
  EXPECT_EQ(log.event_name, "device.full");
  EXPECT_EQ(r.rejected_log_records, 0u);
  EXPECT_EQ(r.rejection, "");
}

// ---- protobuf

TEST(DecodeLogsProto, EveryField) {
  const std::string body_value =
      Len(6, Len(1, Len(1, "msg") + Len(2, Len(1, "disk full"))) +
                 Len(1, Len(1, "codes") + Len(2, Len(5, Len(1, Var(3, 28))))));
  const std::string record = Fix64(1, 1700000000000000001) + Var(2, 17) + Len(3, "ERROR") +
                             Len(5, body_value) +
                             Len(6, Len(1, "n") + Len(2, Var(3, static_cast<uint64_t>(-3)))) +
                             Var(7, 4) + Fix32(8, 1) + Len(9, TidBytes()) + Len(10, SidBytes()) +
                             Fix64(11, 1700000000000000002) + Len(12, "device.full");
  const std::string body = Len(
      1,
      Len(1, Len(1, Len(1, "service.name") + Len(2, Len(1, "svc"))) + Var(2, 2)) +
          Len(2, Len(1, Len(1, "logger") + Len(2, "3")) + Len(2, record) + Len(3, "scope-schema")) +
          Len(3, "res-schema"));
  ASSERT_OK_AND_ASSIGN(LogsRequest r, DecodeLogsRequestProto(body));
  ExpectEveryField(r);
}

TEST(DecodeLogsProto, MinimalRecordsAndUnknownFields) {
  const std::string unknown = Var(100, 5) + Fix64(101, 6) + Len(102, "zz") + Fix32(103, 7);
  // Fields 4 (a reserved number) and unknown ones are skipped; absent ids stay all zero.
  const std::string body = unknown + RequestOf({Len(3, "INFO") + Var(4, 1) + unknown, "",
                                                Len(9, "") + Len(10, std::string(8, '\0'))});
  ASSERT_OK_AND_ASSIGN(LogsRequest r, DecodeLogsRequestProto(body));
  ASSERT_EQ(r.log_record_count(), 3u);
  const auto& records = r.resource_logs[0].scope_logs[0].log_records;
  EXPECT_EQ(records[0].severity_text, "INFO");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(records[1].body.value));
  EXPECT_FALSE(records[2].trace_id.IsValid());
  EXPECT_FALSE(records[2].span_id.IsValid());
}

TEST(DecodeLogsProto, RecordsWithIdsOfTheWrongLengthAreRejectedNotFatal) {
  const std::vector<std::string> records = {
      Len(3, "kept"),
      Len(9, TidBytes().substr(1)) + Len(3, "15-byte trace id"),
      Len(9, TidBytes()) + Len(10, SidBytes() + "x"),
      Len(10, "abc"),
      Len(9, TidBytes()) + Len(3, "kept too"),
  };
  ASSERT_OK_AND_ASSIGN(LogsRequest r, DecodeLogsRequestProto(RequestOf(records)));
  EXPECT_EQ(r.log_record_count(), 2u);
  EXPECT_EQ(r.rejected_log_records, 3u);
  EXPECT_EQ(r.rejection,
            "resource_logs[0].scope_logs[0].log_records[1]: the trace_id has 15 bytes, expected "
            "16 (or none)");
  EXPECT_EQ(r.resource_logs[0].scope_logs[0].log_records[1].severity_text, "kept too");
}

TEST(DecodeLogsProto, GzipThroughDecodeLogsRequest) {
  const std::string body = RequestOf({Len(3, "WARN")});
  std::string gz;
  ASSERT_OK(otlp::internal::GzipCompress(body, gz));
  ASSERT_OK_AND_ASSIGN(LogsRequest r, DecodeLogsRequest(gz, OtlpEncoding::kProtobuf, true));
  EXPECT_EQ(OnlyRecord(r).severity_text, "WARN");
  EXPECT_THAT(DecodeLogsRequest(body, OtlpEncoding::kProtobuf, true),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("bad gzip body")));
  EXPECT_THAT(
      DecodeLogsRequest(gz, OtlpEncoding::kProtobuf, true, {.max_body_bytes = body.size() - 1}),
      StatusIs(StatusCode::kResourceExhausted, HasSubstr("inflated gzip body exceeds")));
}

struct Malformed {
  std::string name;
  std::string body;
  std::string message;
  StatusCode code = StatusCode::kInvalidArgument;
};

std::string RecordPath(std::string_view field) {
  return "resource_logs[0].scope_logs[0].log_records[0]." + std::string(field);
}

TEST(DecodeLogsProto, MalformedBodiesAreRefusedWithTheirMessage) {
  std::string deep = Len(1, "leaf");
  for (int i = 0; i < 40; ++i) deep = Len(5, Len(1, deep));
  const Malformed cases[] = {
      {"flags as varint", RequestOf({Var(8, 1)}),
       RecordPath("flags: wire type 0 (varint), expected 5 (fixed32) (at byte 6)")},
      {"time as varint", RequestOf({Var(1, 1)}),
       RecordPath("time_unix_nano: wire type 0 (varint), expected 1 (fixed64)")},
      {"observed time truncated", RequestOf({Key(11, 1) + "1234"}),
       RecordPath("observed_time_unix_nano: truncated fixed64 value")},
      {"severity as bytes", RequestOf({Len(2, "x")}),
       RecordPath("severity_number: wire type 2 (length-delimited), expected 0 (varint)")},
      {"trace id as varint", RequestOf({Var(9, 1)}),
       RecordPath("trace_id: wire type 0 (varint), expected 2 (length-delimited)")},
      {"severity text not UTF-8", RequestOf({Len(3, "\xc3")}),
       RecordPath("severity_text: invalid UTF-8 at byte 0")},
      {"body string not UTF-8", RequestOf({Len(5, Len(1, "ok\xff"))}),
       RecordPath("body.string_value: invalid UTF-8 at byte 2")},
      {"event name not UTF-8", RequestOf({Len(12, "\x80")}), RecordPath("event_name: invalid")},
      {"body nested too deep", RequestOf({Len(5, deep)}),
       "AnyValue nested deeper than 32 levels (DecodeLimits::max_value_depth)",
       StatusCode::kResourceExhausted},
      {"record length past the end", Len(1, Len(2, Key(2, 2) + "\x30")),
       "resource_logs[0].scope_logs[0].log_records: truncated"},
  };
  for (const Malformed& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(DecodeLogsRequestProto(c.body), StatusIs(c.code, HasSubstr(c.message)));
  }
  const std::string full = RequestOf({Len(3, "x") + Len(5, Len(1, "body")) + Len(9, TidBytes())});
  ASSERT_OK(DecodeLogsRequestProto(full));
  for (size_t n = 1; n < full.size(); ++n) {
    EXPECT_THAT(DecodeLogsRequestProto(full.substr(0, n)), StatusIs(StatusCode::kInvalidArgument))
        << n;
  }
}

TEST(DecodeLogsProto, LimitsAreResourceExhausted) {
  const std::string body = RequestOf({Len(3, "x")});
  EXPECT_THAT(DecodeLogsRequestProto(body, {.max_body_bytes = body.size() - 1}),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("exceeds the limit")));
  // Many empty records: two bytes each on the wire, a LogRecord each in memory.
  const std::string many = RequestOf(std::vector<std::string>(1000, ""));
  EXPECT_OK(DecodeLogsRequestProto(many));
  EXPECT_THAT(DecodeLogsRequestProto(many, {.max_decoded_bytes = 20000}),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("max_decoded_bytes")));
  // A body is an attribute value: depth 1.
  std::string deep = Len(1, "leaf");
  for (int i = 0; i < 3; ++i) deep = Len(5, Len(1, deep));
  EXPECT_OK(DecodeLogsRequestProto(RequestOf({Len(5, deep)}), {.max_value_depth = 4}));
  EXPECT_THAT(DecodeLogsRequestProto(RequestOf({Len(5, deep)}), {.max_value_depth = 3}),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("deeper than 3 levels")));
}

// ---- JSON

constexpr std::string_view kTraceHex = "0102030405060708090a0b0c0d0e0f10";

std::string JsonRequestOf(const std::string& records) {
  return R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[)" + records + "]}]}]}";
}

TEST(DecodeLogsJson, EveryField) {
  ASSERT_EQ(Tid().ToHex(), kTraceHex);
  const std::string body = R"({"resourceLogs":[{
    "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}],
                "droppedAttributesCount":2},
    "scopeLogs":[{
      "scope":{"name":"logger","version":"3"},
      "logRecords":[{
        "timeUnixNano":"1700000000000000001","observedTimeUnixNano":1700000000000000002,
        "severityNumber":17,"severityText":"ERROR",
        "body":{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"disk full"}},
                {"key":"codes","value":{"arrayValue":{"values":[{"intValue":"28"}]}}}]}},
        "attributes":[{"key":"n","value":{"intValue":-3}}],"droppedAttributesCount":4,
        "flags":1,"traceId":"0102030405060708090A0B0C0D0E0F10","spanId":")" +
                           Sid().ToHex() + R"(",
        "eventName":"device.full"}],
      "schemaUrl":"scope-schema"}],
    "schemaUrl":"res-schema"}]})";
  ASSERT_OK_AND_ASSIGN(LogsRequest r, DecodeLogsRequestJson(body));
  ExpectEveryField(r);
}

TEST(DecodeLogsJson, NullsEmptyIdsAndUnknownKeys) {
  const std::string body = JsonRequestOf(
      R"({"body":null,"traceId":"","spanId":null,"future":[{"a":1}],"severityText":null},)"
      R"({"body":{"stringValue":"hello"},"flags":"1"})");
  ASSERT_OK_AND_ASSIGN(LogsRequest r, DecodeLogsRequestJson(body));
  ASSERT_EQ(r.log_record_count(), 2u);
  const auto& records = r.resource_logs[0].scope_logs[0].log_records;
  EXPECT_TRUE(std::holds_alternative<std::monostate>(records[0].body.value));
  EXPECT_FALSE(records[0].trace_id.IsValid());
  EXPECT_EQ(records[1].body, AnyValue{std::string("hello")});
  EXPECT_EQ(records[1].flags, 1u);
}

TEST(DecodeLogsJson, RecordsWithIdsOfTheWrongLengthAreRejectedNotFatal) {
  const std::string body = JsonRequestOf(R"({"severityText":"kept"},)"
                                         R"({"spanId":"0102"},)"
                                         R"({"traceId":"0102030405060708"},)"
                                         R"({"traceId":")" +
                                         std::string(kTraceHex) + R"(","severityText":"too"})");
  ASSERT_OK_AND_ASSIGN(LogsRequest r, DecodeLogsRequestJson(body));
  EXPECT_EQ(r.log_record_count(), 2u);
  EXPECT_EQ(r.rejected_log_records, 2u);
  EXPECT_EQ(r.rejection,
            "resourceLogs[0].scopeLogs[0].logRecords[1]: the spanId has 4 hex digits, expected "
            "16 (or none)");
  EXPECT_EQ(r.resource_logs[0].scope_logs[0].log_records[1].trace_id, Tid());
}

TEST(DecodeLogsJson, GzipThroughDecodeLogsRequest) {
  const std::string body = JsonRequestOf(R"({"severityText":"WARN"})");
  std::string gz;
  ASSERT_OK(otlp::internal::GzipCompress(body, gz));
  ASSERT_OK_AND_ASSIGN(LogsRequest r, DecodeLogsRequest(gz, OtlpEncoding::kJson, true));
  EXPECT_EQ(OnlyRecord(r).severity_text, "WARN");
  ASSERT_OK_AND_ASSIGN(LogsRequest plain, DecodeLogsRequest(body, OtlpEncoding::kJson, false));
  EXPECT_EQ(OnlyRecord(plain).severity_text, "WARN");
}

TEST(DecodeLogsJson, MalformedBodiesAreRefusedWithTheirMessage) {
  const std::string p = "resourceLogs[0].scopeLogs[0].logRecords[0].";
  const Malformed cases[] = {
      {"odd number of hex digits", JsonRequestOf(R"({"traceId":"abc"})"),
       p + "traceId: 3 hex digits (an odd number) (line 1, column 58)"},
      {"not hex", JsonRequestOf(R"({"spanId":"zz"})"), p + "spanId: not a hex string"},
      {"id as a number", JsonRequestOf(R"({"spanId":5})"),
       p + "spanId: expected a hex string, got a number"},
      {"severity as a name", JsonRequestOf(R"({"severityNumber":"SEVERITY_NUMBER_INFO"})"),
       p + "severityNumber: expected an integer (OTLP/JSON enums are numbers), got a string"},
      {"negative time", JsonRequestOf(R"({"timeUnixNano":-1})"),
       p + "timeUnixNano: integer out of range or not integral"},
      {"body not an object", JsonRequestOf(R"({"body":"text"})"),
       p + "body: expected an object, got a string"},
      {"body with two members", JsonRequestOf(R"({"body":{"stringValue":"a","intValue":1}})"),
       p + "body.intValue: a second value member (stringValue is already set)"},
      {"records not an array", R"({"resourceLogs":[{"scopeLogs":[{"logRecords":{}}]}]})",
       "resourceLogs[0].scopeLogs[0].logRecords: expected an array, got an object"},
      {"text after the object", "{} x", "unexpected text after the request object"},
  };
  for (const Malformed& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(DecodeLogsRequestJson(c.body), StatusIs(c.code, HasSubstr(c.message)));
  }
  const std::string full = JsonRequestOf(R"({"severityNumber":9,"body":{"stringValue":"x"}})");
  ASSERT_OK(DecodeLogsRequestJson(full));
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_THAT(DecodeLogsRequestJson(full.substr(0, n)), StatusIs(StatusCode::kInvalidArgument))
        << n;
  }
}

TEST(DecodeLogsJson, LimitsAreResourceExhausted) {
  const std::string body = JsonRequestOf("{}");
  EXPECT_THAT(DecodeLogsRequestJson(body, {.max_body_bytes = body.size() - 1}),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("exceeds the limit")));
  std::string many;
  for (int i = 0; i < 1000; ++i) many += i ? ",{}" : "{}";
  EXPECT_THAT(DecodeLogsRequestJson(JsonRequestOf(many), {.max_decoded_bytes = 20000}),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("max_decoded_bytes")));
}

}  // namespace
}  // namespace otlp::exporter
