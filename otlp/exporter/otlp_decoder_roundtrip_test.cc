// Encode → decode round trips: random batches (tests/support/random_spans.h, valid UTF-8
// strings) written by the protobuf and the JSON encoder, with and without gzip, decode to exactly
// the resources, scopes and spans they were made from.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "otlp/core/internal/gzip.h"
#include "otlp/exporter/otlp_decoder.h"
#include "otlp/exporter/otlp_encoder.h"
#include "otlp/trace/resource.h"
#include "tests/support/random_spans.h"
#include "tests/support/status_matchers.h"

namespace otlp::exporter {
namespace {

using decoded::AnyValue;
using test::RandomSpans;
using trace::InstrumentationScope;
using trace::Resource;
using trace::SpanData;

// ---- what the decoder must give back, built from the SpanData

AnyValue Expected(const AttributeValue& v) {
  auto array = [](auto values) {
    AnyValue::Array out;
    for (const auto& x : values) out.push_back(AnyValue{x});
    return AnyValue{std::move(out)};
  };
  switch (v.type()) {
    case AttributeType::kBool: return AnyValue{v.as_bool()};
    case AttributeType::kInt: return AnyValue{v.as_int()};
    case AttributeType::kDouble: return AnyValue{v.as_double()};
    case AttributeType::kString: return AnyValue{std::string(v.as_string())};
    case AttributeType::kBoolArray: return array(v.as_bool_array());
    case AttributeType::kIntArray: return array(v.as_int_array());
    case AttributeType::kDoubleArray: return array(v.as_double_array());
    case AttributeType::kStringArray: {
      AnyValue::Array out;
      for (std::string_view s : v.as_string_array()) out.push_back(AnyValue{std::string(s)});
      return AnyValue{std::move(out)};
    }
  }
  return {};
}

std::vector<decoded::KeyValue> Expected(std::span<const KeyValue> kvs) {
  std::vector<decoded::KeyValue> out;
  for (const KeyValue& kv : kvs) out.push_back({std::string(kv.key), Expected(kv.value)});
  return out;
}

std::vector<decoded::KeyValue> Expected(const OwnedAttributes& attrs) {
  std::vector<decoded::KeyValue> out;
  for (const auto& kv : attrs) {
    WithView(kv.second, [&](const AttributeValue& v) { out.push_back({kv.first, Expected(v)}); });
  }
  return out;
}

decoded::Span Expected(const SpanData& s) {
  decoded::Span d;
  d.trace_id = s.context.trace_id();
  d.span_id = s.context.span_id();
  d.trace_state = std::string(s.context.trace_state().header());
  if (s.HasParent()) d.parent_span_id = s.parent_span_id;
  d.flags = s.OtlpFlags();
  d.name = std::string(s.name);
  d.kind = static_cast<int32_t>(s.kind);
  d.start_time_unix_nano = static_cast<uint64_t>(s.start_unix_nano);
  d.end_time_unix_nano = static_cast<uint64_t>(s.end_unix_nano);
  d.attributes = Expected(s.attributes);
  d.dropped_attributes_count = s.dropped_attributes_count;
  for (const trace::EventData& e : s.events) {
    d.events.push_back({static_cast<uint64_t>(e.time_unix_nano), std::string(e.name),
                        Expected(s.EventAttributes(e)), e.dropped_attributes_count});
  }
  d.dropped_events_count = s.dropped_events_count;
  for (const trace::LinkData& l : s.links) {
    d.links.push_back({l.context.trace_id(), l.context.span_id(),
                       std::string(l.context.trace_state().header()), Expected(s.LinkAttributes(l)),
                       l.dropped_attributes_count, SpanData::OtlpLinkFlags(l.context)});
  }
  d.dropped_links_count = s.dropped_links_count;
  d.status = {std::string(s.status_message), static_cast<int32_t>(s.status_code)};
  return d;
}

// Grouped as the encoders group: resources in first-seen order, scopes in first-seen order
// within each (null pointers read back as empty ones).
decoded::TraceRequest Expected(const std::vector<const SpanData*>& spans) {
  std::vector<const Resource*> resources;
  for (const SpanData* s : spans) {
    if (s != nullptr &&
        std::find(resources.begin(), resources.end(), s->resource) == resources.end()) {
      resources.push_back(s->resource);
    }
  }
  decoded::TraceRequest out;
  for (const Resource* r : resources) {
    decoded::ResourceSpans& rs = out.resource_spans.emplace_back();
    if (r != nullptr) {
      rs.resource.attributes = Expected(r->attributes());
      rs.resource.dropped_attributes_count = r->dropped_attributes_count();
      rs.schema_url = r->schema_url();
    }
    std::vector<const InstrumentationScope*> scopes;
    for (const SpanData* s : spans) {
      if (s != nullptr && s->resource == r &&
          std::find(scopes.begin(), scopes.end(), s->scope) == scopes.end()) {
        scopes.push_back(s->scope);
      }
    }
    for (const InstrumentationScope* sc : scopes) {
      decoded::ScopeSpans& ss = rs.scope_spans.emplace_back();
      if (sc != nullptr) {
        ss.scope = {sc->name, sc->version, Expected(sc->attributes), 0};
        ss.schema_url = sc->schema_url;
      }
      for (const SpanData* s : spans) {
        if (s != nullptr && s->resource == r && s->scope == sc) ss.spans.push_back(Expected(*s));
      }
    }
  }
  return out;
}

// Compares piece by piece so that a failure names the first span that differs.
void ExpectSame(const decoded::TraceRequest& got, const decoded::TraceRequest& want) {
  EXPECT_EQ(got.rejected_spans, 0u) << got.rejection;
  ASSERT_EQ(got.resource_spans.size(), want.resource_spans.size());
  for (size_t i = 0; i < want.resource_spans.size(); ++i) {
    const auto& g = got.resource_spans[i];
    const auto& w = want.resource_spans[i];
    EXPECT_TRUE(g.resource == w.resource) << "resource " << i;
    EXPECT_EQ(g.schema_url, w.schema_url) << "resource " << i;
    ASSERT_EQ(g.scope_spans.size(), w.scope_spans.size()) << "resource " << i;
    for (size_t k = 0; k < w.scope_spans.size(); ++k) {
      const auto& gs = g.scope_spans[k];
      const auto& ws = w.scope_spans[k];
      EXPECT_TRUE(gs.scope == ws.scope) << "resource " << i << " scope " << k;
      EXPECT_EQ(gs.schema_url, ws.schema_url);
      ASSERT_EQ(gs.spans.size(), ws.spans.size()) << "resource " << i << " scope " << k;
      for (size_t n = 0; n < ws.spans.size(); ++n) {
        if (!(gs.spans[n] == ws.spans[n])) {
          ADD_FAILURE() << "resource " << i << " scope " << k << " span " << n << " differs (name '"
                        << ws.spans[n].name << "')";
          return;
        }
      }
    }
  }
}

enum class Wire { kProto, kJson, kProtoGzip, kJsonGzip };

Result<decoded::TraceRequest> RoundTrip(const std::vector<const SpanData*>& spans, Wire wire) {
  const bool json = wire == Wire::kJson || wire == Wire::kJsonGzip;
  std::string body;
  if (json) {
    EncodeTraceRequestJson(spans, body);
  } else {
    EncodeTraceRequestProto(spans, body);
  }
  if (wire == Wire::kProto) return DecodeTraceRequestProto(body);
  if (wire == Wire::kJson) return DecodeTraceRequestJson(body);
  std::string gz;
  OTLP_RETURN_IF_ERROR(otlp::internal::GzipCompress(body, gz));
  return DecodeTraceRequest(gz, json ? OtlpEncoding::kJson : OtlpEncoding::kProtobuf, true);
}

class RoundTripTest : public ::testing::TestWithParam<Wire> {};

TEST_P(RoundTripTest, RandomBatchesDecodeToWhatWasEncoded) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RandomSpans w(seed, RandomSpans::kUtf8);
    const std::vector<const SpanData*> batch = w.Batch(seed % 10 == 0 ? 200 : seed % 7);
    ASSERT_OK_AND_ASSIGN(decoded::TraceRequest got, RoundTrip(batch, GetParam()));
    ExpectSame(got, Expected(batch));
    if (HasFatalFailure() || HasNonfatalFailure()) return;
  }
}

TEST_P(RoundTripTest, ExtremeValues) {
  RandomSpans w(77, RandomSpans::kUtf8);
  SpanData& s = w.NewSpan(w.NewResource(), w.NewScope());
  s.start_unix_nano = INT64_MAX;
  s.end_unix_nano = INT64_MIN;  // written as fixed64: 2^63
  s.dropped_attributes_count = UINT32_MAX;
  const double doubles[] = {0.0, -0.0, 5e-324, 1.7976931348623157e308, -1e-300, 0.1};
  const int64_t ints[] = {INT64_MIN, INT64_MAX, -1, 0};
  s.attributes = {{"d", std::span<const double>(doubles)},
                  {"i", std::span<const int64_t>(ints)},
                  {"\xF0\x9F\x98\x80 key", "\xE2\x82\xAC value \x7f \"quoted\" \\ \n"}};
  ASSERT_OK_AND_ASSIGN(decoded::TraceRequest got, RoundTrip({&s}, GetParam()));
  ExpectSame(got, Expected(std::vector<const SpanData*>{&s}));
}

INSTANTIATE_TEST_SUITE_P(Encodings, RoundTripTest,
                         ::testing::Values(Wire::kProto, Wire::kJson, Wire::kProtoGzip,
                                           Wire::kJsonGzip),
                         [](const ::testing::TestParamInfo<Wire>& p) {
                           switch (p.param) {
                             case Wire::kProto: return "Proto";
                             case Wire::kJson: return "Json";
                             case Wire::kProtoGzip: return "ProtoGzip";
                             default: return "JsonGzip";
                           }
                         });

}  // namespace
}  // namespace otlp::exporter
