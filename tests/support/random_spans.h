// tests/support/random_spans.h — random batches of SpanData for encoder and decoder tests: every
// field set or left at its default at random, strings and counts of every length around the
// varint boundaries, several resources and scopes interleaved, null entries.
//
//   otlp::test::RandomSpans w(/*seed=*/7, otlp::test::RandomSpans::kUtf8);
//   std::vector<const SpanData*> batch = w.Batch(300);   // valid while `w` lives
//
// String kinds: kBytes (any bytes, also invalid UTF-8), kText (mostly printable ASCII, some
// random bytes), kUtf8 (valid UTF-8, mostly ASCII with 2-, 3- and 4-byte characters) — what a
// decoder that checks UTF-8 gets back unchanged.
// Header-only; tests include it as "tests/support/random_spans.h". Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/core/attributes.h"
#include "otlp/exporter/internal/json_text.h"
#include "otlp/trace/resource.h"
#include "otlp/trace/span_data.h"

namespace otlp::test {

using trace::InstrumentationScope;
using trace::Resource;
using trace::SpanContext;
using trace::SpanData;
using trace::SpanId;
using trace::SpanKind;
using trace::SpanStatusCode;
using trace::TraceFlags;
using trace::TraceId;
using trace::TraceState;

// Everything a SpanData points to is owned here (deques keep addresses stable).
class RandomSpans {
 public:
  enum Strings { kBytes, kText, kUtf8 };
  explicit RandomSpans(uint32_t seed, Strings strings = kBytes)
      : rng_(seed), strings_kind_(strings) {}

  // A string of about n bytes (exactly n unless kUtf8 ends on a multi-byte character).
  std::string_view Bytes(size_t n) {
    std::string s;
    s.reserve(n + 3);
    while (s.size() < n) {
      switch (strings_kind_) {
        case kBytes: s.push_back(static_cast<char>(rng_())); break;
        case kText:
          s.push_back(static_cast<char>(Below(64) != 0 ? ' ' + Below(95) : rng_()));
          break;
        case kUtf8: AppendCodePoint(s); break;
      }
    }
    return strings_.emplace_back(std::move(s));
  }
  // Mostly short, sometimes 0, sometimes just around a varint boundary.
  size_t Length() {
    switch (Below(10)) {
      case 0: return 0;
      case 1: return 120 + Below(16);  // nested sizes cross 127/128
      case 2: return Below(3) == 0 ? 16370 + Below(20) : 1 + Below(300);
      default: return 1 + Below(24);
    }
  }
  std::string_view Str() { return Bytes(Length()); }
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(rng_() % n); }
  uint64_t U64() { return (uint64_t{rng_()} << 32) | rng_(); }
  // Varints of every length: 0, small, 10-byte negatives…
  uint64_t AnyWidth() { return Below(5) == 0 ? 0 : U64() >> Below(64); }

  AttributeValue Value() {
    switch (Below(9)) {
      case 0: return Below(2) == 0;
      case 1: return static_cast<int64_t>(AnyWidth());
      case 2: return static_cast<double>(static_cast<int64_t>(U64())) / 7.0;
      case 3: {
        const size_t n = Below(4);
        auto b = std::make_unique<bool[]>(n + 1);
        for (size_t i = 0; i < n; ++i) b[i] = Below(2) == 0;
        return std::span<const bool>(bools_.emplace_back(std::move(b)).get(), n);
      }
      case 4: {
        auto& v = ints_.emplace_back(Below(4));
        for (int64_t& x : v) x = static_cast<int64_t>(AnyWidth());
        return std::span<const int64_t>(v);
      }
      case 5: {
        auto& v = doubles_.emplace_back(Below(4));
        for (double& x : v) x = static_cast<double>(U64() >> 11) * 1e-3;
        return std::span<const double>(v);
      }
      case 6: {
        auto& v = string_arrays_.emplace_back(Below(4));
        for (std::string_view& x : v) x = Str();
        return std::span<const std::string_view>(v);
      }
      default: return Str();
    }
  }
  std::vector<KeyValue> Attributes(size_t max) {
    std::vector<KeyValue> kvs(Below(static_cast<uint32_t>(max) + 1));
    for (KeyValue& kv : kvs) kv = {Below(8) == 0 ? std::string_view() : Str(), Value()};
    return kvs;
  }
  OwnedAttributes Owned(size_t max) {
    OwnedAttributes a;
    for (const KeyValue& kv : Attributes(max)) a.Set(kv.key, kv.value);
    return a;
  }
  uint32_t Count() { return Below(3) == 0 ? static_cast<uint32_t>(AnyWidth()) : 0; }
  int64_t Time() { return Below(6) == 0 ? 0 : static_cast<int64_t>(U64()); }

  SpanContext Context() {
    uint8_t tid[16], sid[8];
    for (uint8_t& b : tid) b = static_cast<uint8_t>(rng_());
    for (uint8_t& b : sid) b = static_cast<uint8_t>(rng_());
    TraceState ts;
    if (Below(4) == 0) {
      // Valid lowercase keys and printable values; sometimes long enough for a 2-byte length.
      std::string header;
      const uint32_t entries = 1 + Below(4);
      for (uint32_t i = 0; i < entries; ++i) {
        if (i != 0) header += ',';
        header += "k" + std::to_string(i) + "=" +
                  std::string(1 + Below(100), static_cast<char>('a' + Below(26)));
      }
      ts = TraceState::FromHeader(header);
    }
    return SpanContext(TraceId(tid), SpanId(sid), TraceFlags(static_cast<uint8_t>(rng_())),
                       Below(2) == 0, ts);
  }

  const Resource* NewResource() {
    return &resources_.emplace_back(Owned(3), Below(2) == 0 ? "" : std::string(Str()));
  }
  const InstrumentationScope* NewScope() {
    InstrumentationScope& s = scopes_.emplace_back();
    s.name = Str();
    s.version = Str();
    s.schema_url = Str();
    s.attributes = Owned(2);
    return &s;
  }

  SpanData& NewSpan(const Resource* r, const InstrumentationScope* sc) {
    SpanData& s = spans_.emplace_back();
    s.context = Context();
    if (Below(4) != 0) {
      uint8_t pid[8];
      for (uint8_t& b : pid) b = static_cast<uint8_t>(rng_());
      pid[0] |= 1;  // valid
      s.parent_span_id = SpanId(pid);
    }
    s.parent_is_remote = Below(2) == 0;
    s.name = Str();
    s.kind = static_cast<SpanKind>(1 + Below(5));
    s.start_unix_nano = Time();
    s.end_unix_nano = Time();
    s.attributes = Attributes(6);
    s.dropped_attributes_count = Count();
    for (uint32_t i = Below(3) == 0 ? Below(4) : 0; i > 0; --i) {
      const std::vector<KeyValue> kvs = Attributes(3);
      s.events.push_back({Str(), Time(), static_cast<uint32_t>(s.event_attributes.size()),
                          static_cast<uint32_t>(kvs.size()), Count()});
      s.event_attributes.insert(s.event_attributes.end(), kvs.begin(), kvs.end());
    }
    s.dropped_events_count = Count();
    for (uint32_t i = Below(3) == 0 ? Below(4) : 0; i > 0; --i) {
      const std::vector<KeyValue> kvs = Attributes(3);
      s.links.push_back({Context(), static_cast<uint32_t>(s.link_attributes.size()),
                         static_cast<uint32_t>(kvs.size()), Count()});
      s.link_attributes.insert(s.link_attributes.end(), kvs.begin(), kvs.end());
    }
    s.dropped_links_count = Count();
    s.status_code = static_cast<SpanStatusCode>(Below(3));
    s.status_message = Below(3) == 0 ? Str() : std::string_view();
    s.resource = r;
    s.scope = sc;
    return s;
  }

  // A batch over a few resources and scopes (sometimes null), interleaved, with null entries.
  std::vector<const SpanData*> Batch(size_t n) {
    std::vector<const Resource*> rs{nullptr};
    for (uint32_t i = Below(3); i < 3; ++i) rs.push_back(NewResource());
    std::vector<const InstrumentationScope*> scs{nullptr};
    for (uint32_t i = Below(4); i < 4; ++i) scs.push_back(NewScope());
    std::vector<const SpanData*> batch;
    for (size_t i = 0; i < n; ++i) {
      if (Below(20) == 0) {
        batch.push_back(nullptr);
        continue;
      }
      // Runs of the same group, as a batch processor would see them.
      const auto nr = static_cast<uint32_t>(rs.size()), ns = static_cast<uint32_t>(scs.size());
      const Resource* r = rs[Below(8) == 0 ? Below(nr) : nr - 1];
      const InstrumentationScope* sc = scs[Below(4) == 0 ? Below(ns) : ns - 1];
      batch.push_back(&NewSpan(r, sc));
    }
    return batch;
  }

 private:
  void AppendCodePoint(std::string& s) {
    uint32_t cp;
    switch (Below(16)) {
      case 0: cp = 0x80 + Below(0x800 - 0x80); break;
      case 1: cp = 0x800 + Below(0xD800 - 0x800); break;
      case 2: cp = 0xE000 + Below(0x10000 - 0xE000); break;
      case 3: cp = 0x10000 + Below(0x110000 - 0x10000); break;
      case 4: cp = Below(0x20); break;  // control characters are valid UTF-8 too
      default: cp = ' ' + Below(95); break;
    }
    exporter::internal::AppendUtf8(cp, s);
  }

  std::mt19937 rng_;
  Strings strings_kind_;
  std::deque<std::string> strings_;
  std::deque<std::unique_ptr<bool[]>> bools_;
  std::deque<std::vector<int64_t>> ints_;
  std::deque<std::vector<double>> doubles_;
  std::deque<std::vector<std::string_view>> string_arrays_;
  std::deque<Resource> resources_;
  std::deque<InstrumentationScope> scopes_;
  std::deque<SpanData> spans_;
};

}  // namespace otlp::test
