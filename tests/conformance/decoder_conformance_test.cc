// Conformance of the OTLP request decoder with the official OpenTelemetry JS packages: spans made
// by @opentelemetry/sdk-trace-base and serialized by @opentelemetry/otlp-transformer
// (JsonTraceSerializer, ProtobufTraceSerializer; js_encode.js) are decoded by otlp-cpp, and every
// field it read is compared with what the official protobufjs decoder reads from the same body
// (decode.js --flat), in decode.js's canonical form.
//
// Needs node and `npm ci` in tests/conformance; skipped with a message otherwise.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <variant>

#include "otlp/exporter/otlp_decoder.h"
#include "tests/conformance/conformance_support.h"
#include "tests/support/status_matchers.h"

namespace otlp::exporter {
namespace {

using decoded::AnyValue;
using decoded::KeyValue;
using Flat = std::map<std::string, std::string>;

// ---- decoded data in decode.js's canonical flat form (otlp_decode.js: canonical, flatten)

using test::Hex;
using test::JsonQuote;
using test::Number;

// Fields that hold their default value are left out, as canonical() does outside AnyValue.
class Flattener {
 public:
  Flat flat;

  void Str(const std::string& path, std::string_view v) {
    if (!v.empty()) flat[path] = JsonQuote(v);
  }
  void Count(const std::string& path, uint64_t v) {
    if (v != 0) flat[path] = std::to_string(v);
  }
  void Signed(const std::string& path, int64_t v) {
    if (v != 0) flat[path] = std::to_string(v);
  }
  void Long(const std::string& path, uint64_t v) {
    if (v != 0) flat[path] = "\"" + std::to_string(v) + "\"";
  }
  template <typename Id>
  void IdHex(const std::string& path, const Id& id) {
    if (id.IsValid()) flat[path] = "\"" + Hex(id.bytes().data(), Id::kSize) + "\"";
  }

  // Inside an AnyValue the member that is set is kept, whatever its value.
  void Any(const std::string& path, const AnyValue& v) {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            flat[path] = "{}";
          } else if constexpr (std::is_same_v<T, std::string>) {
            flat[path + ".stringValue"] = JsonQuote(x);
          } else if constexpr (std::is_same_v<T, bool>) {
            flat[path + ".boolValue"] = x ? "true" : "false";
          } else if constexpr (std::is_same_v<T, int64_t>) {
            flat[path + ".intValue"] = "\"" + std::to_string(x) + "\"";
          } else if constexpr (std::is_same_v<T, double>) {
            flat[path + ".doubleValue"] = Number(x);
          } else if constexpr (std::is_same_v<T, AnyValue::Array>) {
            if (x.empty()) flat[path + ".arrayValue"] = "{}";
            for (size_t i = 0; i < x.size(); ++i) {
              Any(path + ".arrayValue.values[" + std::to_string(i) + "]", x[i]);
            }
          } else if constexpr (std::is_same_v<T, AnyValue::KeyValueList>) {
            if (x.empty()) flat[path + ".kvlistValue"] = "{}";
            Attributes(path + ".kvlistValue.values", x);
          } else {
            flat[path + ".bytesValue"] = "\"" + Hex(x.data(), x.size()) + "\"";
          }
        },
        v.value);
  }
  void Attributes(const std::string& path, const std::vector<KeyValue>& kvs) {
    for (size_t i = 0; i < kvs.size(); ++i) {
      const std::string p = path + "[" + std::to_string(i) + "]";
      Str(p + ".key", kvs[i].key);
      Any(p + ".value", kvs[i].value);
    }
  }

  void Request(const decoded::TraceRequest& r) {
    for (size_t i = 0; i < r.resource_spans.size(); ++i) {
      const auto& rs = r.resource_spans[i];
      const std::string p = "resourceSpans[" + std::to_string(i) + "]";
      Attributes(p + ".resource.attributes", rs.resource.attributes);
      Count(p + ".resource.droppedAttributesCount", rs.resource.dropped_attributes_count);
      Str(p + ".schemaUrl", rs.schema_url);
      for (size_t k = 0; k < rs.scope_spans.size(); ++k) {
        const auto& ss = rs.scope_spans[k];
        const std::string q = p + ".scopeSpans[" + std::to_string(k) + "]";
        Str(q + ".scope.name", ss.scope.name);
        Str(q + ".scope.version", ss.scope.version);
        Attributes(q + ".scope.attributes", ss.scope.attributes);
        Count(q + ".scope.droppedAttributesCount", ss.scope.dropped_attributes_count);
        Str(q + ".schemaUrl", ss.schema_url);
        for (size_t n = 0; n < ss.spans.size(); ++n) {
          Span(q + ".spans[" + std::to_string(n) + "]", ss.spans[n]);
        }
      }
    }
  }

  void Span(const std::string& p, const decoded::Span& s) {
    IdHex(p + ".traceId", s.trace_id);
    IdHex(p + ".spanId", s.span_id);
    Str(p + ".traceState", s.trace_state);
    IdHex(p + ".parentSpanId", s.parent_span_id);
    Count(p + ".flags", s.flags);
    Str(p + ".name", s.name);
    Signed(p + ".kind", s.kind);
    Long(p + ".startTimeUnixNano", s.start_time_unix_nano);
    Long(p + ".endTimeUnixNano", s.end_time_unix_nano);
    Attributes(p + ".attributes", s.attributes);
    Count(p + ".droppedAttributesCount", s.dropped_attributes_count);
    for (size_t i = 0; i < s.events.size(); ++i) {
      const std::string e = p + ".events[" + std::to_string(i) + "]";
      Long(e + ".timeUnixNano", s.events[i].time_unix_nano);
      Str(e + ".name", s.events[i].name);
      Attributes(e + ".attributes", s.events[i].attributes);
      Count(e + ".droppedAttributesCount", s.events[i].dropped_attributes_count);
    }
    Count(p + ".droppedEventsCount", s.dropped_events_count);
    for (size_t i = 0; i < s.links.size(); ++i) {
      const std::string l = p + ".links[" + std::to_string(i) + "]";
      IdHex(l + ".traceId", s.links[i].trace_id);
      IdHex(l + ".spanId", s.links[i].span_id);
      Str(l + ".traceState", s.links[i].trace_state);
      Attributes(l + ".attributes", s.links[i].attributes);
      Count(l + ".droppedAttributesCount", s.links[i].dropped_attributes_count);
      Count(l + ".flags", s.links[i].flags);
    }
    Count(p + ".droppedLinksCount", s.dropped_links_count);
    Str(p + ".status.message", s.status.message);
    Signed(p + ".status.code", s.status.code);
  }
};

// decode.js keeps present-but-empty messages as {} (message presence); the decoded data does
// not record presence, so those lines are compared only inside attribute values.
Flat WithoutEmptyMessages(Flat flat) {
  std::erase_if(flat, [](const auto& kv) {
    return kv.second == "{}" && kv.first.find(".value") == std::string::npos;
  });
  return flat;
}

// The same number printed by JSON.stringify and by to_chars may differ in form (1e21 / 1e+21).
bool SameValue(const std::string& a, const std::string& b) {
  if (a == b) return true;
  double x, y;
  const auto rx = std::from_chars(a.data(), a.data() + a.size(), x);
  const auto ry = std::from_chars(b.data(), b.data() + b.size(), y);
  return rx.ec == std::errc() && ry.ec == std::errc() && rx.ptr == a.data() + a.size() &&
         ry.ptr == b.data() + b.size() && x == y;
}

class JsSdkToDecoder : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (std::string why = test::NodeSkipReason(); !why.empty()) GTEST_SKIP() << why;
  }
};

TEST_P(JsSdkToDecoder, EveryFieldAsTheOfficialDecoderReadsIt) {
  const std::string format = GetParam();
  const std::string file =
      ::testing::TempDir() + "otlp_js_encode_" + std::to_string(getpid()) + "." + format;
  const test::NodeResult made =
      test::RunNodeScript("js_encode.js", "--format=" + format + " '" + file + "'");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const std::string body = test::ReadAll(file);
  // The JS serializer writes 64-bit integers in attributes as JSON numbers: --lenient.
  const Flat want = WithoutEmptyMessages(test::ParseFlatOutput(
      test::RunNodeScript("decode.js", "--format=" + format + " --lenient --flat '" + file + "'"),
      "decode.js"));
  std::filesystem::remove(file);
  ASSERT_FALSE(body.empty());

  ASSERT_OK_AND_ASSIGN(decoded::TraceRequest request, format == "json"
                                                          ? DecodeTraceRequestJson(body)
                                                          : DecodeTraceRequestProto(body));
  EXPECT_EQ(request.span_count(), 5u);
  EXPECT_EQ(request.rejected_spans, 0u) << request.rejection;
  Flattener f;
  f.Request(request);
  const Flat got = WithoutEmptyMessages(f.flat);

  // Not vacuous: the fields that are easiest to get wrong are among those compared.
  ASSERT_GT(want.size(), 80u);
  for (const char* must : {".traceState", ".parentSpanId", ".droppedAttributesCount",
                           ".droppedEventsCount", ".links[0].flags", ".doubleValue", ".boolValue",
                           ".arrayValue.values[2].intValue", ".status.message"}) {
    EXPECT_TRUE(
        std::any_of(want.begin(), want.end(),
                    [&](const auto& kv) { return kv.first.find(must) != std::string::npos; }))
        << "js_encode.js no longer produces a field " << must;
  }
  for (const auto& [path, value] : want) {
    auto it = got.find(path);
    if (it == got.end()) {
      ADD_FAILURE() << "not decoded: " << path << "=" << value;
    } else if (!SameValue(it->second, value)) {
      ADD_FAILURE() << path << ": decoded " << it->second << ", the JS decoder read " << value;
    }
  }
  for (const auto& [path, value] : got) {
    if (!want.contains(path))
      ADD_FAILURE() << "decoded but not in the request: " << path << "=" << value;
  }
}

INSTANTIATE_TEST_SUITE_P(Serializers, JsSdkToDecoder, ::testing::Values("json", "proto"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           return std::string(p.param) == "json" ? "Json" : "Protobuf";
                         });

}  // namespace
}  // namespace otlp::exporter
