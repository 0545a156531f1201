// tests/support/span_fixtures.h — small SpanData building blocks for encoder and decoder tests:
// fixed ids, a scope, the minimal span, and bytes written like a hex dump.
//
//   SpanData s = otlp::test::MinimalSpan();            // ids Tid()/Sid(), kind internal
//   std::string wire = otlp::test::B({0x0a, 0x02, 'h', 'i'});
//   EXPECT_EQ(otlp::test::HexDump(got), otlp::test::HexDump(want));
//
// Header-only; tests include it as "tests/support/span_fixtures.h".
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "otlp/trace/span_data.h"

namespace otlp::test {

// Bytes from a list of ints, so that expected encodings read like a hex dump.
inline std::string B(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

// "0a 02 68 69 " — readable in failure messages.
inline std::string HexDump(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string h;
  for (unsigned char c : s) {
    h.push_back(kDigits[c >> 4]);
    h.push_back(kDigits[c & 15]);
    h.push_back(' ');
  }
  return h;
}

// Trace id 01 02 … 10 and span id a1 … a7 <last>.
inline trace::TraceId Tid() {
  const uint8_t b[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  return trace::TraceId(b);
}
inline trace::SpanId Sid(uint8_t last = 8) {
  const uint8_t b[8] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, last};
  return trace::SpanId(b);
}
inline std::string TidBytes() {
  return B({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
}
inline std::string SidBytes() {
  return B({0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 8});
}

inline trace::InstrumentationScope Scope(std::string name, std::string version = {},
                                         std::string schema = {}) {
  trace::InstrumentationScope s;
  s.name = std::move(name);
  s.version = std::move(version);
  s.schema_url = std::move(schema);
  return s;
}

// A span with only the always-present fields: ids Tid()/Sid(), kind internal, flags 0x100.
inline trace::SpanData MinimalSpan() {
  trace::SpanData s;
  s.context = trace::SpanContext(Tid(), Sid(), trace::TraceFlags(0), false);
  return s;
}

}  // namespace otlp::test
