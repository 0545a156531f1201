// Per-thread random ids: wyrand (64-bit state, one multiply per value) seeded from the OS
// (getrandom) per thread, never all-zero. Ids need uniqueness and unpredictability across
// processes, not cryptographic strength; seeding from the OS gives the former, and wyrand's
// output passes the usual statistical batteries.
// Every bit of a trace id is random, so the tracer marks the traces it starts with the W3C
// random-trace-id flag (tracer.cc, NewIds): ids from a generator that is not random must not
// get that flag.
#pragma once

#include <cstdint>
#include <cstring>

#include "otlp/trace/span_context.h"

namespace otlp::trace::internal {

struct IdRng {
  static constexpr uint64_t kIncrement = 0xa0761d6478bd642full;
  uint64_t state = 0;
  bool seeded = false;
  void Seed() noexcept;
  // wyrand's output for a given state.
  static uint64_t Mix(uint64_t s) noexcept {
    __extension__ using U128 = unsigned __int128;
    U128 t = static_cast<U128>(s) * (s ^ 0xe7037ed1a0b428dbull);
    return static_cast<uint64_t>(t >> 64) ^ static_cast<uint64_t>(t);
  }
  uint64_t Next() noexcept {
    state += kIncrement;
    return Mix(state);
  }
};

// This thread's generator (plain data: no thread_local guard on the hot path).
extern thread_local constinit IdRng t_id_rng;

// This thread's generator, seeded.
inline IdRng& ThreadRng() noexcept {
  IdRng& rng = t_id_rng;
  if (!rng.seeded) [[unlikely]] rng.Seed();
  return rng;
}

inline SpanId NewSpanId(IdRng& r) noexcept {
  uint64_t v;
  do {
    v = r.Next();
  } while (v == 0);
  SpanId id;
  std::memcpy(id.mutable_bytes().data(), &v, 8);
  return id;
}

inline TraceId NewTraceId(IdRng& r) noexcept {
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

// A new trace id and span id at once: three independent multiplies the CPU overlaps, one
// check (all-zero outputs are vanishingly rare and simply drawn again).
inline void NewTraceAndSpanId(IdRng& r, TraceId& trace_id, SpanId& span_id) noexcept {
  const uint64_t s = r.state;
  const uint64_t a = IdRng::Mix(s + IdRng::kIncrement);
  const uint64_t b = IdRng::Mix(s + 2 * IdRng::kIncrement);
  const uint64_t c = IdRng::Mix(s + 3 * IdRng::kIncrement);
  r.state = s + 3 * IdRng::kIncrement;
  if ((a | b) == 0 || c == 0) [[unlikely]] {
    trace_id = NewTraceId(r);
    span_id = NewSpanId(r);
    return;
  }
  std::memcpy(trace_id.mutable_bytes().data(), &a, 8);
  std::memcpy(trace_id.mutable_bytes().data() + 8, &b, 8);
  std::memcpy(span_id.mutable_bytes().data(), &c, 8);
}

inline SpanId NewSpanId() noexcept { return NewSpanId(ThreadRng()); }
inline TraceId NewTraceId() noexcept { return NewTraceId(ThreadRng()); }

}  // namespace otlp::trace::internal
