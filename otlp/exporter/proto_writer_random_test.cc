// Randomized and boundary tests of the protobuf encoder, aimed at the bugs a fast encoder risks:
// a nested length computed in one pass and written differently in the other, a varint one byte
// short at 127/128 or 16383/16384, an empty string or array written or left out wrongly, spans
// regrouped in the wrong order, bytes lost where the output buffer grows.
//
// Each protobuf batch is checked two ways:
//  - against a reference encoder written here in the plainest way (every nested message built as
//    its own string, then length-prefixed), byte for byte;
//  - by decoding the encoder's output with a strict reader and comparing every field with the
//    SpanData it came from.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/core/internal/varint.h"
#include "otlp/exporter/otlp_encoder.h"
#include "otlp/trace/resource.h"
#include "tests/support/random_spans.h"

namespace otlp::exporter {
namespace {

using test::RandomSpans;
using trace::EventData;
using trace::InstrumentationScope;
using trace::LinkData;
using trace::Resource;
using trace::SpanContext;
using trace::SpanData;
using trace::SpanId;
using trace::SpanKind;
using trace::SpanStatusCode;
using trace::TraceFlags;
using trace::TraceId;
using trace::TraceState;

// ---------------------------------------------------------------------------------------------
// Reference encoder: proto3 rules spelled out, no sizing pass.

class Msg {
 public:
  void Varint(uint32_t field, uint64_t v) {
    Key(field, 0);
    RawVarint(v);
  }
  void OptVarint(uint32_t field, uint64_t v) {
    if (v != 0) Varint(field, v);
  }
  void Fixed64(uint32_t field, uint64_t v) {
    Key(field, 1);
    for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<char>(v >> (8 * i)));
  }
  void OptFixed64(uint32_t field, int64_t v) {
    if (v != 0) Fixed64(field, static_cast<uint64_t>(v));
  }
  void Fixed32(uint32_t field, uint32_t v) {
    Key(field, 5);
    for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<char>(v >> (8 * i)));
  }
  void Bytes(uint32_t field, std::string_view b) {
    Key(field, 2);
    RawVarint(b.size());
    bytes_.append(b);
  }
  void OptBytes(uint32_t field, std::string_view b) {
    if (!b.empty()) Bytes(field, b);
  }
  void Id(uint32_t field, const uint8_t* b, size_t n) {
    Bytes(field, std::string_view(reinterpret_cast<const char*>(b), n));
  }
  const std::string& str() const { return bytes_; }

 private:
  void Key(uint32_t field, uint32_t wire) { RawVarint(uint64_t{field} << 3 | wire); }
  void RawVarint(uint64_t v) {
    do {
      const auto low = static_cast<uint8_t>(v & 0x7F);
      v >>= 7;
      bytes_.push_back(static_cast<char>(v != 0 ? low | 0x80 : low));
    } while (v != 0);
  }
  std::string bytes_;
};

std::string RefAnyValue(const AttributeValue& v) {
  Msg m;
  switch (v.type()) {
    case AttributeType::kString: m.Bytes(1, v.as_string()); break;
    case AttributeType::kBool: m.Varint(2, v.as_bool() ? 1 : 0); break;
    case AttributeType::kInt: m.Varint(3, static_cast<uint64_t>(v.as_int())); break;
    case AttributeType::kDouble: {
      uint64_t bits;
      const double d = v.as_double();
      std::memcpy(&bits, &d, 8);
      m.Fixed64(4, bits);
      break;
    }
    default: {
      Msg array;
      for (size_t i = 0; i < v.array_size(); ++i) {
        switch (v.type()) {
          case AttributeType::kBoolArray: array.Bytes(1, RefAnyValue(v.as_bool_array()[i])); break;
          case AttributeType::kIntArray: array.Bytes(1, RefAnyValue(v.as_int_array()[i])); break;
          case AttributeType::kDoubleArray:
            array.Bytes(1, RefAnyValue(v.as_double_array()[i]));
            break;
          default: array.Bytes(1, RefAnyValue(v.as_string_array()[i])); break;
        }
      }
      m.Bytes(5, array.str());
      break;
    }
  }
  return m.str();
}

std::string RefKeyValue(std::string_view key, const AttributeValue& v) {
  Msg m;
  m.OptBytes(1, key);
  m.Bytes(2, RefAnyValue(v));
  return m.str();
}

void RefAttributes(Msg& m, uint32_t field, std::span<const KeyValue> kvs) {
  for (const KeyValue& kv : kvs) m.Bytes(field, RefKeyValue(kv.key, kv.value));
}

void RefOwnedAttributes(Msg& m, uint32_t field, const OwnedAttributes& attrs) {
  for (const auto& item : attrs) {
    const std::string_view key = item.first;
    WithView(item.second, [&](const AttributeValue& v) { m.Bytes(field, RefKeyValue(key, v)); });
  }
}

std::string RefSpan(const SpanData& s) {
  Msg m;
  m.Id(1, s.context.trace_id().bytes().data(), 16);
  m.Id(2, s.context.span_id().bytes().data(), 8);
  m.OptBytes(3, s.context.trace_state().header());
  if (s.parent_span_id.IsValid()) m.Id(4, s.parent_span_id.bytes().data(), 8);
  m.OptBytes(5, s.name);
  m.OptVarint(6, static_cast<uint64_t>(s.kind));
  m.OptFixed64(7, s.start_unix_nano);
  m.OptFixed64(8, s.end_unix_nano);
  RefAttributes(m, 9, s.attributes);
  m.OptVarint(10, s.dropped_attributes_count);
  for (const EventData& e : s.events) {
    Msg em;
    em.OptFixed64(1, e.time_unix_nano);
    em.OptBytes(2, e.name);
    RefAttributes(em, 3, s.EventAttributes(e));
    em.OptVarint(4, e.dropped_attributes_count);
    m.Bytes(11, em.str());
  }
  m.OptVarint(12, s.dropped_events_count);
  for (const LinkData& l : s.links) {
    Msg lm;
    lm.Id(1, l.context.trace_id().bytes().data(), 16);
    lm.Id(2, l.context.span_id().bytes().data(), 8);
    lm.OptBytes(3, l.context.trace_state().header());
    RefAttributes(lm, 4, s.LinkAttributes(l));
    lm.OptVarint(5, l.dropped_attributes_count);
    lm.Fixed32(6, SpanData::OtlpLinkFlags(l.context));
    m.Bytes(13, lm.str());
  }
  m.OptVarint(14, s.dropped_links_count);
  if (s.status_code != SpanStatusCode::kUnset || !s.status_message.empty()) {
    Msg st;
    st.OptBytes(2, s.status_message);
    st.OptVarint(3, static_cast<uint64_t>(s.status_code));
    m.Bytes(15, st.str());
  }
  m.Fixed32(16, s.OtlpFlags());
  return m.str();
}

// Spans grouped by resource, then scope, both in first-seen order; null pointers skipped.
struct RefGroup {
  const Resource* resource;
  std::vector<std::pair<const InstrumentationScope*, std::vector<const SpanData*>>> scopes;
};
std::vector<RefGroup> RefGrouping(const std::vector<const SpanData*>& spans) {
  std::vector<RefGroup> groups;
  for (const SpanData* s : spans) {
    if (s == nullptr) continue;
    auto g = std::find_if(groups.begin(), groups.end(),
                          [&](const RefGroup& x) { return x.resource == s->resource; });
    if (g == groups.end()) g = groups.insert(groups.end(), RefGroup{s->resource, {}});
    auto sc = std::find_if(g->scopes.begin(), g->scopes.end(),
                           [&](const auto& x) { return x.first == s->scope; });
    if (sc == g->scopes.end()) sc = g->scopes.insert(g->scopes.end(), {s->scope, {}});
    sc->second.push_back(s);
  }
  return groups;
}

std::string RefRequest(const std::vector<const SpanData*>& spans) {
  Msg request;
  for (const RefGroup& g : RefGrouping(spans)) {
    Msg rs;
    if (g.resource != nullptr) {
      Msg r;
      RefOwnedAttributes(r, 1, g.resource->attributes());
      r.OptVarint(2, g.resource->dropped_attributes_count());
      rs.Bytes(1, r.str());
    }
    for (const auto& [scope, members] : g.scopes) {
      Msg ss;
      if (scope != nullptr) {
        Msg sc;
        sc.OptBytes(1, scope->name);
        sc.OptBytes(2, scope->version);
        RefOwnedAttributes(sc, 3, scope->attributes);
        ss.Bytes(1, sc.str());
      }
      for (const SpanData* s : members) ss.Bytes(2, RefSpan(*s));
      if (scope != nullptr) ss.OptBytes(3, scope->schema_url);
      rs.Bytes(2, ss.str());
    }
    if (g.resource != nullptr) rs.OptBytes(3, g.resource->schema_url());
    request.Bytes(1, rs.str());
  }
  return request.str();
}

// ---------------------------------------------------------------------------------------------
// Strict decoding of the encoder's output, compared field by field with the SpanData.

// One field of a message; a truncated or malformed message fails the test.
struct Field {
  uint32_t number = 0;
  uint32_t wire = 0;
  uint64_t value = 0;     // varint, fixed32 or fixed64
  std::string_view body;  // length-delimited
};
std::vector<Field> Parse(std::string_view msg) {
  std::vector<Field> out;
  while (!msg.empty()) {
    uint64_t key;
    if (!otlp::internal::ReadVarint(msg, key)) {
      ADD_FAILURE() << "bad field key";
      return out;
    }
    Field f;
    f.number = static_cast<uint32_t>(key >> 3);
    f.wire = static_cast<uint32_t>(key & 7);
    bool ok = true;
    if (f.wire == 0) {
      ok = otlp::internal::ReadVarint(msg, f.value);
    } else if (f.wire == 1 || f.wire == 5) {
      const size_t n = f.wire == 1 ? 8 : 4;
      ok = msg.size() >= n;
      for (size_t i = 0; ok && i < n; ++i) {
        f.value |= uint64_t{static_cast<uint8_t>(msg[i])} << (8 * i);
      }
      if (ok) msg.remove_prefix(n);
    } else if (f.wire == 2) {
      uint64_t n = 0;
      ok = otlp::internal::ReadVarint(msg, n) && n <= msg.size();
      if (ok) {
        f.body = msg.substr(0, n);
        msg.remove_prefix(n);
      }
    } else {
      ok = false;
    }
    if (!ok) {
      ADD_FAILURE() << "malformed field " << f.number << " wire " << f.wire;
      return out;
    }
    out.push_back(f);
  }
  return out;
}

std::string_view AsBytes(const uint8_t* b, size_t n) {
  return {reinterpret_cast<const char*>(b), n};
}

// Checks a decoded AnyValue against `v`.
void CheckAnyValue(std::string_view body, const AttributeValue& v) {
  const std::vector<Field> f = Parse(body);
  ASSERT_EQ(f.size(), 1u) << "AnyValue has exactly one member";
  switch (v.type()) {
    case AttributeType::kString:
      EXPECT_EQ(f[0].number, 1u);
      EXPECT_EQ(f[0].body, v.as_string());
      return;
    case AttributeType::kBool:
      EXPECT_EQ(f[0].number, 2u);
      EXPECT_EQ(f[0].value, v.as_bool() ? 1u : 0u);
      return;
    case AttributeType::kInt:
      EXPECT_EQ(f[0].number, 3u);
      EXPECT_EQ(static_cast<int64_t>(f[0].value), v.as_int());
      return;
    case AttributeType::kDouble: {
      EXPECT_EQ(f[0].number, 4u);
      double d;
      std::memcpy(&d, &f[0].value, 8);
      const double want = v.as_double();
      EXPECT_EQ(std::memcmp(&d, &want, 8), 0);
      return;
    }
    default: break;
  }
  EXPECT_EQ(f[0].number, 5u);
  const std::vector<Field> values = Parse(f[0].body);
  ASSERT_EQ(values.size(), v.array_size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(values[i].number, 1u);
    switch (v.type()) {
      case AttributeType::kBoolArray: CheckAnyValue(values[i].body, v.as_bool_array()[i]); break;
      case AttributeType::kIntArray: CheckAnyValue(values[i].body, v.as_int_array()[i]); break;
      case AttributeType::kDoubleArray:
        CheckAnyValue(values[i].body, v.as_double_array()[i]);
        break;
      default: CheckAnyValue(values[i].body, v.as_string_array()[i]); break;
    }
  }
}

// Checks the KeyValue fields numbered `number` among `fields` against `kvs`.
void CheckAttributes(const std::vector<Field>& fields, uint32_t number,
                     std::span<const KeyValue> kvs) {
  size_t i = 0;
  for (const Field& f : fields) {
    if (f.number != number) continue;
    ASSERT_LT(i, kvs.size()) << "more attributes than the span has";
    std::string_view key;
    size_t values = 0;
    for (const Field& m : Parse(f.body)) {
      if (m.number == 1) key = m.body;
      if (m.number == 2) {
        ++values;
        CheckAnyValue(m.body, kvs[i].value);
      }
    }
    EXPECT_EQ(key, kvs[i].key);
    EXPECT_EQ(values, 1u);
    ++i;
  }
  EXPECT_EQ(i, kvs.size());
}

// The value of the last field `number` (proto3: absent means default), checking the wire type.
uint64_t Scalar(const std::vector<Field>& fields, uint32_t number, uint32_t wire) {
  uint64_t v = 0;
  for (const Field& f : fields) {
    if (f.number != number) continue;
    EXPECT_EQ(f.wire, wire) << "field " << number;
    v = f.value;
  }
  return v;
}
std::string_view Str(const std::vector<Field>& fields, uint32_t number) {
  std::string_view v;
  for (const Field& f : fields) {
    if (f.number != number) continue;
    EXPECT_EQ(f.wire, 2u) << "field " << number;
    v = f.body;
  }
  return v;
}

void CheckSpan(std::string_view body, const SpanData& s) {
  const std::vector<Field> f = Parse(body);
  EXPECT_EQ(Str(f, 1), AsBytes(s.context.trace_id().bytes().data(), 16));
  EXPECT_EQ(Str(f, 2), AsBytes(s.context.span_id().bytes().data(), 8));
  EXPECT_EQ(Str(f, 3), s.context.trace_state().header());
  EXPECT_EQ(Str(f, 4), s.HasParent() ? AsBytes(s.parent_span_id.bytes().data(), 8) : "");
  EXPECT_EQ(Str(f, 5), s.name);
  EXPECT_EQ(Scalar(f, 6, 0), static_cast<uint64_t>(s.kind));
  EXPECT_EQ(static_cast<int64_t>(Scalar(f, 7, 1)), s.start_unix_nano);
  EXPECT_EQ(static_cast<int64_t>(Scalar(f, 8, 1)), s.end_unix_nano);
  CheckAttributes(f, 9, s.attributes);
  EXPECT_EQ(Scalar(f, 10, 0), s.dropped_attributes_count);
  size_t e = 0, l = 0;
  for (const Field& x : f) {
    if (x.number == 11) {
      ASSERT_LT(e, s.events.size());
      const EventData& ev = s.events[e++];
      const std::vector<Field> ef = Parse(x.body);
      EXPECT_EQ(static_cast<int64_t>(Scalar(ef, 1, 1)), ev.time_unix_nano);
      EXPECT_EQ(Str(ef, 2), ev.name);
      CheckAttributes(ef, 3, s.EventAttributes(ev));
      EXPECT_EQ(Scalar(ef, 4, 0), ev.dropped_attributes_count);
    } else if (x.number == 13) {
      ASSERT_LT(l, s.links.size());
      const LinkData& ln = s.links[l++];
      const std::vector<Field> lf = Parse(x.body);
      EXPECT_EQ(Str(lf, 1), AsBytes(ln.context.trace_id().bytes().data(), 16));
      EXPECT_EQ(Str(lf, 2), AsBytes(ln.context.span_id().bytes().data(), 8));
      EXPECT_EQ(Str(lf, 3), ln.context.trace_state().header());
      CheckAttributes(lf, 4, s.LinkAttributes(ln));
      EXPECT_EQ(Scalar(lf, 5, 0), ln.dropped_attributes_count);
      EXPECT_EQ(Scalar(lf, 6, 5), SpanData::OtlpLinkFlags(ln.context));
    }
  }
  EXPECT_EQ(e, s.events.size());
  EXPECT_EQ(l, s.links.size());
  EXPECT_EQ(Scalar(f, 12, 0), s.dropped_events_count);
  EXPECT_EQ(Scalar(f, 14, 0), s.dropped_links_count);
  const std::vector<Field> st = Parse(Str(f, 15));
  EXPECT_EQ(Str(st, 2), s.status_message);
  EXPECT_EQ(Scalar(st, 3, 0), static_cast<uint64_t>(s.status_code));
  EXPECT_EQ(Scalar(f, 16, 5), s.OtlpFlags());
}

// Decodes a whole request and checks it span by span, in the reference grouping order.
void CheckDecoded(std::string_view request, const std::vector<const SpanData*>& spans) {
  const std::vector<RefGroup> groups = RefGrouping(spans);
  const std::vector<Field> rss = Parse(request);
  ASSERT_EQ(rss.size(), groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    EXPECT_EQ(rss[g].number, 1u);
    const std::vector<Field> rs = Parse(rss[g].body);
    size_t resources = 0, scope_index = 0;
    for (const Field& x : rs) {
      if (x.number == 1) ++resources;
      if (x.number == 3 && groups[g].resource != nullptr) {
        EXPECT_EQ(x.body, groups[g].resource->schema_url());
      }
      if (x.number != 2) continue;
      ASSERT_LT(scope_index, groups[g].scopes.size());
      const auto& [scope, members] = groups[g].scopes[scope_index++];
      size_t span_index = 0;
      for (const Field& y : Parse(x.body)) {
        if (y.number == 1) {
          ASSERT_NE(scope, nullptr);
          const std::vector<Field> sc = Parse(y.body);
          EXPECT_EQ(Str(sc, 1), scope->name);
          EXPECT_EQ(Str(sc, 2), scope->version);
        } else if (y.number == 2) {
          ASSERT_LT(span_index, members.size());
          CheckSpan(y.body, *members[span_index++]);
        } else if (y.number == 3) {
          ASSERT_NE(scope, nullptr);
          EXPECT_EQ(y.body, scope->schema_url);
        }
      }
      EXPECT_EQ(span_index, members.size());
    }
    EXPECT_EQ(resources, groups[g].resource != nullptr ? 1u : 0u);
    EXPECT_EQ(scope_index, groups[g].scopes.size());
  }
}


std::string Encode(const std::vector<const SpanData*>& spans) {
  std::string out;
  EncodeTraceRequestProto(spans, out);
  return out;
}

// Both checks; `what` names the case in failure messages.
void CheckBatch(const std::vector<const SpanData*>& spans, const std::string& what) {
  SCOPED_TRACE(what);
  const std::string got = Encode(spans);
  const std::string want = RefRequest(spans);
  ASSERT_EQ(got.size(), want.size());
  if (got != want) {
    const auto at = std::mismatch(got.begin(), got.end(), want.begin()).first - got.begin();
    FAIL() << "first differing byte at offset " << at << " of " << got.size();
  }
  CheckDecoded(got, spans);
}

// ---------------------------------------------------------------------------------------------

TEST(EncodeProtoRandom, MatchesReferenceAndDecodesFieldByField) {
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    RandomSpans w(seed, seed % 2 == 0 ? RandomSpans::kText : RandomSpans::kBytes);
    const size_t n = seed % 10 == 0 ? 300 : seed % 7;  // empty, small and multi-step batches
    CheckBatch(w.Batch(n), "seed " + std::to_string(seed));
    if (HasFatalFailure()) return;
  }
}

// A span whose body is exactly `target` bytes, reached by trying name and one attribute value
// lengths (a length prefix growing from 1 to 2 bytes makes some sizes unreachable by the name
// alone). `rich` adds an event, a link and a status.
const SpanData* SpanOfBodySize(RandomSpans& w, size_t target, bool rich) {
  SpanData& s = w.NewSpan(nullptr, nullptr);
  s.context = SpanContext(s.context.trace_id(), s.context.span_id(), s.context.trace_flags(),
                          false);  // no trace state
  s.events.clear();
  s.event_attributes.clear();
  s.links.clear();
  s.link_attributes.clear();
  s.status_message = {};
  s.dropped_attributes_count = s.dropped_events_count = s.dropped_links_count = 0;
  if (rich) {
    s.event_attributes = {{"ek", "ev"}};
    s.events = {{"event", 42, 0, 1, 0}};
    s.link_attributes = {{"lk", int64_t{7}}};
    s.links = {{SpanContext(s.context.trace_id(), s.parent_span_id, TraceFlags(1), true), 0, 1, 3}};
    s.status_code = SpanStatusCode::kError;
    s.status_message = "failed";
  }
  for (size_t extra = 0; extra < 4; ++extra) {
    s.attributes = {{"k", w.Bytes(extra)}};
    s.name = {};
    const size_t base = RefSpan(s).size();
    if (base > target) continue;
    for (size_t name = target - base > 3 ? target - base - 3 : 0; name <= target - base; ++name) {
      s.name = w.Bytes(name);
      if (RefSpan(s).size() == target) return &s;
    }
  }
  ADD_FAILURE() << "could not build a span of " << target << " bytes";
  return nullptr;
}

TEST(EncodeProtoRandom, SpanBodiesAtVarintBoundaries) {
  RandomSpans w(99);
  for (size_t target : {126u, 127u, 128u, 129u, 16382u, 16383u, 16384u, 16385u}) {
    for (bool rich : {false, true}) {
      if (rich && target < 200) continue;  // ids, an event, a link and a status take more
      const SpanData* s = SpanOfBodySize(w, target, rich);
      ASSERT_NE(s, nullptr);
      ASSERT_EQ(RefSpan(*s).size(), target);
      CheckBatch({s}, "span body of " + std::to_string(target) + " bytes" +
                          (rich ? " with events and links" : ""));
    }
  }
}

TEST(EncodeProtoRandom, EveryStringLengthAcrossTheBoundaries) {
  // Sweeping a name and a string attribute through both boundaries moves every enclosing
  // length (KeyValue, AnyValue, Span, ScopeSpans, ResourceSpans) across them one byte at a time.
  RandomSpans w(5);
  const Resource* r = w.NewResource();
  const InstrumentationScope* sc = w.NewScope();
  for (size_t lo : {100u, 16350u}) {
    for (size_t n = lo; n < lo + 60; ++n) {
      SpanData& s = w.NewSpan(r, sc);
      s.events.clear();
      s.links.clear();
      s.name = w.Bytes(n);
      s.attributes = {{"key", w.Bytes(n)}, {w.Bytes(n), int64_t{-1}}};
      CheckBatch({&s}, "length " + std::to_string(n));
      if (HasFatalFailure()) return;
    }
  }
}

TEST(EncodeProtoRandom, EmptyValuesAndManyGroups) {
  RandomSpans w(11);
  SpanData& bare = w.NewSpan(nullptr, nullptr);  // nothing but ids and flags
  bare = SpanData{};
  SpanData& empties = w.NewSpan(w.NewResource(), w.NewScope());
  empties.name = "";
  empties.attributes = {{"", ""},
                        {"s", ""},
                        {"b", std::span<const bool>()},
                        {"i", std::span<const int64_t>()},
                        {"d", std::span<const double>()},
                        {"a", std::span<const std::string_view>()}};
  CheckBatch({&bare}, "default span");
  CheckBatch({&empties}, "empty strings and arrays");
  CheckBatch({nullptr, nullptr}, "only null spans");
  CheckBatch({}, "empty batch");

  // Many resources and scopes, interleaved, so that grouping reorders spans.
  std::vector<const Resource*> rs;
  std::vector<const InstrumentationScope*> scs;
  for (int i = 0; i < 5; ++i) rs.push_back(w.NewResource());
  for (int i = 0; i < 25; ++i) scs.push_back(w.NewScope());
  std::vector<const SpanData*> batch;
  for (uint32_t i = 0; i < 400; ++i) {
    batch.push_back(&w.NewSpan(rs[w.Below(5)], scs[w.Below(25)]));
  }
  CheckBatch(batch, "5 resources x 25 scopes");
}

TEST(EncodeProtoRandom, AppendsToExistingContentAcrossBufferSteps) {
  // Large spans (bigger than the writer's growth step) and a non-empty output to append to.
  RandomSpans w(3);
  std::vector<const SpanData*> batch = w.Batch(300);
  SpanData& big = w.NewSpan(w.NewResource(), w.NewScope());
  big.name = w.Bytes(70000);
  batch.push_back(&big);
  const std::string want = RefRequest(batch);
  for (size_t prefix : {0u, 1u, 5000u}) {
    std::string out(prefix, 'x');
    EncodeTraceRequestProto(batch, out);
    ASSERT_EQ(out.size(), prefix + want.size());
    EXPECT_EQ(out.substr(0, prefix), std::string(prefix, 'x'));
    EXPECT_TRUE(out.compare(prefix, std::string::npos, want) == 0) << "prefix " << prefix;
    // Encoding again into the same string (capacity already there) appends the same bytes.
    EncodeTraceRequestProto(batch, out);
    ASSERT_EQ(out.size(), prefix + 2 * want.size());
    EXPECT_TRUE(out.compare(prefix + want.size(), std::string::npos, want) == 0);
  }
}
}  // namespace
}  // namespace otlp::exporter
