// tests/support/proto_builders.h — protobuf wire data written by hand, field by field, for
// decoder tests that need bytes no encoder would produce (wrong wire types, truncation,
// repeated fields):
//
//   std::string span = Len(1, TidBytes()) + Len(2, SidBytes()) + Var(6, 2) + Fix64(7, 1000);
//
// Header-only; tests include it as "tests/support/proto_builders.h".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "otlp/core/internal/varint.h"

namespace otlp::test {

// A field key: the field number and wire type (0 varint, 1 fixed64, 2 length-delimited, 5
// fixed32).
inline std::string Key(uint32_t field, uint32_t wire) {
  std::string s;
  otlp::internal::AppendVarint(uint64_t{field} << 3 | wire, s);
  return s;
}
// A length-delimited field (strings, bytes, messages, packed repeated scalars).
inline std::string Len(uint32_t field, std::string_view payload) {
  std::string s = Key(field, 2);
  otlp::internal::AppendVarint(payload.size(), s);
  return s.append(payload);
}
inline std::string Var(uint32_t field, uint64_t v) {
  std::string s = Key(field, 0);
  otlp::internal::AppendVarint(v, s);
  return s;
}
inline std::string Fix64(uint32_t field, uint64_t v) {
  std::string s = Key(field, 1);
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}
inline std::string Fix32(uint32_t field, uint32_t v) {
  std::string s = Key(field, 5);
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}

}  // namespace otlp::test
