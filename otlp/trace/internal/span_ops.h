// Attribute, event and link helpers shared by span.cc and tracer.cc.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "otlp/core/attributes.h"
#include "otlp/trace/internal/span_record.h"
#include "otlp/trace/provider.h"

namespace otlp::trace::internal {

// Copies the value's data into the arena (strings truncated to `length_limit` characters).
AttributeValue CopyValue(Arena& a, const AttributeValue& v, uint32_t length_limit) noexcept;

// Sets key=value in attrs[begin..]: replaces an existing key, else appends unless the count
// limit is reached (then counts it in `dropped`). Empty keys are ignored.
void SetAttributeIn(Arena& a, std::vector<KeyValue>& attrs, size_t begin, uint32_t& dropped,
                    uint32_t count_limit, uint32_t length_limit, std::string_view key,
                    const AttributeValue& value) noexcept;

void AddLinkTo(SpanRecord& r, const SpanLimits& l, const SpanContext& ctx,
               std::span<const KeyValue> attributes) noexcept;

}  // namespace otlp::trace::internal
