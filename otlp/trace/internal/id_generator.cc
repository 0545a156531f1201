// Seeding of the per-thread id generators (id_generator.h has the generator itself).
#include "otlp/trace/internal/id_generator.h"

#include <sys/random.h>

#include <chrono>
#include <functional>
#include <thread>

#include "otlp/trace/internal/fast_clock.h"

namespace otlp::trace::internal {

thread_local constinit IdRng t_id_rng;

void IdRng::Seed() noexcept {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed) || seed == 0) {
    // Fall back to time, thread identity and address entropy.
    seed = static_cast<uint64_t>(SystemNowNanos()) ^
           (std::hash<std::thread::id>{}(std::this_thread::get_id()) << 17) ^
           reinterpret_cast<uintptr_t>(this) ^
           static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  state = seed;
  seeded = true;
}

}  // namespace otlp::trace::internal
