// Per-thread random ids: xoshiro256++ seeded from the OS (getrandom), never all-zero.
#pragma once

#include <cstdint>
#include <cstring>

#include "otlp/trace/span_context.h"

namespace otlp::trace::internal {

struct IdRng {
  uint64_t s[4];
  bool seeded = false;
  void Seed() noexcept;
  static uint64_t Rotl(uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  uint64_t Next() noexcept {
    const uint64_t result = Rotl(s[0] + s[3], 23) + s[0];
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = Rotl(s[3], 45);
    return result;
  }
};

inline IdRng& ThreadRng() noexcept {
  thread_local IdRng rng;
  if (!rng.seeded) [[unlikely]] rng.Seed();
  return rng;
}

inline SpanId NewSpanId() noexcept {
  IdRng& r = ThreadRng();
  uint64_t v;
  do {
    v = r.Next();
  } while (v == 0);
  SpanId id;
  std::memcpy(id.mutable_bytes().data(), &v, 8);
  return id;
}

inline TraceId NewTraceId() noexcept {
  IdRng& r = ThreadRng();
  uint64_t a, b;
  do {
    a = r.Next();
    b = r.Next();
  } while ((a | b) == 0);
  TraceId id;
  std::memcpy(id.mutable_bytes().data(), &a, 8);
  std::memcpy(id.mutable_bytes().data() + 8, &b, 8);
  return id;
}

}  // namespace otlp::trace::internal
