#include "otlp/trace/span_context.h"

#include <algorithm>
#include <new>

namespace otlp::trace {

namespace internal {

void HexEncode(const uint8_t* bytes, size_t n, char* out) noexcept {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0x0f];
  }
}

namespace {
int HexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool HexDecode(std::string_view hex, uint8_t* out, size_t n) noexcept {
  if (hex.size() != 2 * n) return false;
  for (size_t i = 0; i < n; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return true;
}

}  // namespace internal

// ---- TraceId / SpanId ----

std::optional<TraceId> TraceId::FromHex(std::string_view hex) noexcept {
  TraceId id;
  if (!internal::HexDecode(hex, id.b_.data(), kSize)) return std::nullopt;
  return id;
}

std::string TraceId::ToHex() const {
  std::string s(2 * kSize, '0');
  internal::HexEncode(b_.data(), kSize, s.data());
  return s;
}

uint64_t TraceId::Low64() const noexcept {
  uint64_t v = 0;
  for (size_t i = 8; i < kSize; ++i) v = (v << 8) | b_[i];
  return v;
}

std::optional<SpanId> SpanId::FromHex(std::string_view hex) noexcept {
  SpanId id;
  if (!internal::HexDecode(hex, id.b_.data(), kSize)) return std::nullopt;
  return id;
}

std::string SpanId::ToHex() const {
  std::string s(2 * kSize, '0');
  internal::HexEncode(b_.data(), kSize, s.data());
  return s;
}

// ---- TraceState ----

// The serialized header plus the offsets of each key and value inside it. Never copied, so the
// offsets stay meaningful for the life of the object.
struct TraceState::Impl {
  struct Entry {
    uint16_t key_pos, key_len, value_pos, value_len;
  };
  std::string header;
  std::vector<Entry> entries;

  std::string_view Key(const Entry& s) const noexcept {
    return std::string_view(header).substr(s.key_pos, s.key_len);
  }
  std::string_view Value(const Entry& s) const noexcept {
    return std::string_view(header).substr(s.value_pos, s.value_len);
  }
};

namespace {

using KeyValue = std::pair<std::string_view, std::string_view>;

bool IsOws(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view TrimOws(std::string_view s) noexcept {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

bool IsLcAlpha(char c) noexcept { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) noexcept { return c >= '0' && c <= '9'; }
// keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
bool IsKeyChar(char c) noexcept {
  return IsLcAlpha(c) || IsDigit(c) || c == '_' || c == '-' || c == '*' || c == '/' || c == '@';
}

size_t SerializedSize(const std::vector<KeyValue>& kvs) noexcept {
  size_t n = kvs.empty() ? 0 : kvs.size() - 1;  // commas
  for (const auto& [k, v] : kvs) n += k.size() + 1 + v.size();
  return n;
}

// W3C §3.3.3.1: when the list does not fit, entries longer than 128 characters go first, then
// entries from the end.
void TruncateToFit(std::vector<KeyValue>& kvs, size_t max_chars) {
  constexpr size_t kLongEntry = 128;
  size_t total = SerializedSize(kvs);
  while (total > max_chars && !kvs.empty()) {
    size_t victim = kvs.size() - 1;
    for (size_t i = kvs.size(); i-- > 0;) {
      if (kvs[i].first.size() + 1 + kvs[i].second.size() > kLongEntry) {
        victim = i;
        break;
      }
    }
    total -= kvs[victim].first.size() + 1 + kvs[victim].second.size();
    if (kvs.size() > 1) total -= 1;  // its comma
    kvs.erase(kvs.begin() + static_cast<std::ptrdiff_t>(victim));
  }
}

}  // namespace

// key = ( lcalpha / DIGIT ) 0*255( keychar )   (Level 2, §3.3.2.2.1)
bool TraceState::IsValidKey(std::string_view key) noexcept {
  if (key.empty() || key.size() > kMaxKeySize) return false;
  if (!IsLcAlpha(key[0]) && !IsDigit(key[0])) return false;
  return std::all_of(key.begin() + 1, key.end(), IsKeyChar);
}

bool TraceState::IsValidValue(std::string_view value) noexcept {
  if (value.empty() || value.size() > kMaxValueSize) return false;
  for (char c : value) {
    if (c < 0x20 || c > 0x7e || c == ',' || c == '=') return false;
  }
  return value.back() != ' ';
}

// Entries must already be valid; an empty list gives the empty state.
TraceState TraceState::Build(
    const std::vector<std::pair<std::string_view, std::string_view>>& kvs) {
  if (kvs.empty()) return {};
  auto impl = std::make_shared<Impl>();
  impl->header.reserve(SerializedSize(kvs));
  impl->entries.reserve(kvs.size());
  for (const auto& [k, v] : kvs) {
    if (!impl->header.empty()) impl->header.push_back(',');
    Impl::Entry s{};
    s.key_pos = static_cast<uint16_t>(impl->header.size());
    s.key_len = static_cast<uint16_t>(k.size());
    impl->header.append(k);
    impl->header.push_back('=');
    s.value_pos = static_cast<uint16_t>(impl->header.size());
    s.value_len = static_cast<uint16_t>(v.size());
    impl->header.append(v);
    impl->entries.push_back(s);
  }
  return TraceState(std::move(impl));
}

TraceState TraceState::FromHeader(std::string_view header) noexcept {
  try {
    std::vector<KeyValue> kvs;
    while (true) {
      size_t comma = header.find(',');
      std::string_view member = TrimOws(header.substr(0, comma));
      if (!member.empty()) {
        if (kvs.size() == kMaxEntries) return {};  // more than 32 list-members
        size_t eq = member.find('=');
        if (eq == std::string_view::npos) return {};
        std::string_view key = member.substr(0, eq);
        std::string_view value = member.substr(eq + 1);
        if (!IsValidKey(key) || !IsValidValue(value)) return {};
        kvs.emplace_back(key, value);  // a repeated key included: see the header
      }
      if (comma == std::string_view::npos) break;
      header.remove_prefix(comma + 1);
    }
    TruncateToFit(kvs, kMaxHeaderSize);
    return Build(kvs);
  } catch (const std::bad_alloc&) {
    return {};
  }
}

std::string TraceState::ToHeader() const { return std::string(header()); }

std::string_view TraceState::header() const noexcept {
  return impl_ ? std::string_view(impl_->header) : std::string_view();
}

size_t TraceState::size() const noexcept { return impl_ ? impl_->entries.size() : 0; }

std::optional<std::string_view> TraceState::Get(std::string_view key) const noexcept {
  if (!impl_) return std::nullopt;
  for (const auto& e : impl_->entries) {
    if (impl_->Key(e) == key) return impl_->Value(e);
  }
  return std::nullopt;
}

std::vector<std::pair<std::string_view, std::string_view>> TraceState::Entries() const {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  if (!impl_) return out;
  out.reserve(impl_->entries.size());
  for (const auto& e : impl_->entries) out.emplace_back(impl_->Key(e), impl_->Value(e));
  return out;
}

TraceState TraceState::Set(std::string_view key, std::string_view value) const {
  if (!IsValidKey(key) || !IsValidValue(value)) return *this;
  std::vector<KeyValue> kvs;
  kvs.reserve(size() + 1);
  kvs.emplace_back(key, value);
  if (impl_) {
    for (const auto& e : impl_->entries) {
      if (kvs.size() == kMaxEntries) break;  // the last entry falls off
      if (impl_->Key(e) != key) kvs.emplace_back(impl_->Key(e), impl_->Value(e));
    }
  }
  return Build(kvs);
}

TraceState TraceState::Delete(std::string_view key) const {
  if (!Get(key)) return *this;
  std::vector<KeyValue> kvs;
  for (const auto& e : impl_->entries) {
    if (impl_->Key(e) != key) kvs.emplace_back(impl_->Key(e), impl_->Value(e));
  }
  return Build(kvs);
}

// ---- SpanContext ----

std::string SpanContext::ToTraceparent() const {
  if (!IsValid()) return {};
  // "00-" 32 "-" 16 "-" 2
  std::string s(55, '-');
  s[0] = '0';
  s[1] = '0';
  trace_id_.ToHex(s.data() + 3);
  span_id_.ToHex(s.data() + 36);
  const uint8_t flags = flags_.value();
  internal::HexEncode(&flags, 1, s.data() + 53);
  return s;
}

}  // namespace otlp::trace
