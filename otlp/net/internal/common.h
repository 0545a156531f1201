// otlp/net/internal/common.h — small helpers shared by the net module's sources. Not installed.
#pragma once

#include <string_view>

namespace otlp::net::internal {

// ASCII case-insensitive comparison (header names, schemes).
bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept;

}  // namespace otlp::net::internal
