// otlp/nats/internal/nuid.h — unique tokens for inbox subjects and request replies: 22 base-62
// characters (a random 12-character prefix, renewed now and then, and a 10-character sequence
// with a random increment), the shape of NATS's NUID, unique without coordination.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace otlp::nats::internal {

// Thread-safe (one generator per thread).
std::string NewNuid();
// A short base-62 token for a counter (request tokens within one connection's inbox), and the
// counter back from a token (false when it is not one).
std::string NewToken(uint64_t n);
bool TokenValue(std::string_view token, uint64_t* n);

}  // namespace otlp::nats::internal
