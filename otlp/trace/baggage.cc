#include "otlp/trace/baggage.h"

#include <algorithm>
#include <new>
#include <unordered_map>

#include "otlp/core/internal/ascii.h"

namespace otlp::trace {

namespace {

bool IsOws(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view TrimOws(std::string_view s) noexcept {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

using otlp::internal::IsToken;  // W3C baggage keys are RFC 9110 tokens

// W3C baggage-octet: printable US-ASCII except space, '"', ',', ';' and '\'.
bool IsBaggageOctet(char ch) noexcept {
  auto c = static_cast<unsigned char>(ch);
  return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
}

bool IsBaggageValue(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), IsBaggageOctet);
}

int HexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends `in` with every byte that is not a baggage-octet, and '%' itself, percent-encoded.
void PercentEncode(std::string_view in, std::string& out) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  for (char ch : in) {
    if (IsBaggageOctet(ch) && ch != '%') {
      out.push_back(ch);
    } else {
      auto c = static_cast<unsigned char>(ch);
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0x0f]);
    }
  }
}

size_t PercentEncodedSize(std::string_view in) noexcept {
  size_t n = 0;
  for (char ch : in) n += (IsBaggageOctet(ch) && ch != '%') ? 1 : 3;
  return n;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one (overlong forms,
// surrogates and code points past U+10FFFF are invalid).
size_t Utf8SequenceLength(std::string_view s, size_t i) noexcept {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xbf;  // range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return len;
}

// Percent-decodes a baggage value. nullopt on a malformed escape; bytes that do not form UTF-8
// become U+FFFD, as the W3C spec requires.
std::optional<std::string> DecodeValue(std::string_view in) {
  std::string raw;
  raw.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      raw.push_back(in[i]);
      continue;
    }
    if (in.size() - i < 3) return std::nullopt;
    int hi = HexValue(in[i + 1]);
    int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    raw.push_back(static_cast<char>((hi << 4) | lo));
    i += 2;
  }
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    size_t n = Utf8SequenceLength(raw, i);
    if (n == 0) {
      out.append("\xEF\xBF\xBD");
      ++i;
    } else {
      out.append(raw, i, n);
      i += n;
    }
  }
  return out;
}

// property = key OWS "=" OWS value / key OWS. Appends the normalized form ("k=v" or "k").
bool ParseProperty(std::string_view p, std::string& out) {
  size_t eq = p.find('=');
  std::string_view key = TrimOws(p.substr(0, eq));
  if (!IsToken(key)) return false;
  out.append(key);
  if (eq == std::string_view::npos) return true;
  std::string_view value = TrimOws(p.substr(eq + 1));
  if (!IsBaggageValue(value)) return false;
  out.push_back('=');
  out.append(value);
  return true;
}

// Normalizes ";"-separated properties; false when one is malformed. Empty properties (";;") are
// tolerated and dropped.
bool NormalizeMetadata(std::string_view metadata, std::string& out) {
  out.clear();
  while (true) {
    size_t semi = metadata.find(';');
    std::string_view p = TrimOws(metadata.substr(0, semi));
    if (!p.empty()) {
      if (!out.empty()) out.push_back(';');
      if (!ParseProperty(p, out)) return false;
    }
    if (semi == std::string_view::npos) return true;
    metadata.remove_prefix(semi + 1);
  }
}

// Bytes `e` takes in a header: name=encoded-value[;metadata].
size_t SerializedSize(const Baggage::Entry& e) noexcept {
  size_t n = e.name.size() + 1 + PercentEncodedSize(e.value);
  if (!e.metadata.empty()) n += 1 + e.metadata.size();
  return n;
}

// list-member = key OWS "=" OWS value *( OWS ";" OWS property ). False when malformed (the
// member is then skipped); otherwise fills `out` with the decoded entry.
bool ParseMember(std::string_view member, Baggage::Entry& out) {
  size_t semi = member.find(';');
  std::string_view kv = member.substr(0, semi);
  size_t eq = kv.find('=');
  if (eq == std::string_view::npos) return false;
  std::string_view name = TrimOws(kv.substr(0, eq));
  std::string_view raw_value = TrimOws(kv.substr(eq + 1));
  if (!IsToken(name) || !IsBaggageValue(raw_value)) return false;
  if (semi == std::string_view::npos) {
    out.metadata.clear();
  } else if (!NormalizeMetadata(member.substr(semi + 1), out.metadata)) {
    return false;
  }
  std::optional<std::string> value = DecodeValue(raw_value);
  if (!value) return false;
  out.name.assign(name);
  out.value = std::move(*value);
  return true;
}

const std::vector<Baggage::Entry>& EmptyEntries() noexcept {
  static const std::vector<Baggage::Entry> kEmpty;
  return kEmpty;
}

}  // namespace

Baggage Baggage::FromHeader(std::string_view header) noexcept {
  try {
    auto impl = std::make_shared<Impl>();
    auto& entries = impl->entries;
    std::unordered_map<std::string, size_t> index;  // name -> position in entries
    Entry e;
    while (true) {
      size_t comma = header.find(',');
      std::string_view member = TrimOws(header.substr(0, comma));
      if (!member.empty() && ParseMember(member, e)) {
        auto it = index.find(e.name);
        if (it != index.end()) {
          // A repeated name: the later value wins; the entry keeps its first position.
          entries[it->second].value = std::move(e.value);
          entries[it->second].metadata = std::move(e.metadata);
        } else if (entries.size() < kMaxEntries) {
          index.emplace(e.name, entries.size());
          entries.push_back(std::move(e));
        }
      }
      if (comma == std::string_view::npos) break;
      header.remove_prefix(comma + 1);
    }
    // The byte limit, measured on the form ToHeader() writes; entries that do not fit are
    // dropped whole.
    size_t total = 0, kept = 0;
    for (auto& entry : entries) {
      size_t n = SerializedSize(entry) + (kept == 0 ? 0 : 1);
      if (total + n > kMaxHeaderSize) continue;
      total += n;
      if (&entries[kept] != &entry) entries[kept] = std::move(entry);
      ++kept;
    }
    entries.resize(kept);
    if (entries.empty()) return {};
    return Baggage(std::move(impl));
  } catch (const std::bad_alloc&) {
    return {};
  }
}

std::string Baggage::ToHeader() const {
  std::string out;
  if (!impl_) return out;
  size_t count = 0;
  std::string metadata;
  for (const Entry& e : impl_->entries) {
    if (count == kMaxEntries) break;
    if (!IsToken(e.name)) continue;  // cannot be carried by the W3C format
    // Metadata set through the API is written only when it is well-formed.
    if (!NormalizeMetadata(e.metadata, metadata)) metadata.clear();
    size_t n = e.name.size() + 1 + PercentEncodedSize(e.value) +
               (metadata.empty() ? 0 : 1 + metadata.size()) + (out.empty() ? 0 : 1);
    if (out.size() + n > kMaxHeaderSize) continue;
    if (!out.empty()) out.push_back(',');
    out.append(e.name);
    out.push_back('=');
    PercentEncode(e.value, out);
    if (!metadata.empty()) {
      out.push_back(';');
      out.append(metadata);
    }
    ++count;
  }
  return out;
}

std::optional<std::string_view> Baggage::Get(std::string_view name) const noexcept {
  if (!impl_) return std::nullopt;
  for (const Entry& e : impl_->entries) {
    if (e.name == name) return std::string_view(e.value);
  }
  return std::nullopt;
}

const std::vector<Baggage::Entry>& Baggage::entries() const noexcept {
  return impl_ ? impl_->entries : EmptyEntries();
}

Baggage Baggage::Set(std::string_view name, std::string_view value,
                     std::string_view metadata) const {
  if (name.empty()) return *this;
  auto impl = std::make_shared<Impl>();
  if (impl_) impl->entries = impl_->entries;
  auto it = std::find_if(impl->entries.begin(), impl->entries.end(),
                         [&](const Entry& e) { return e.name == name; });
  if (it != impl->entries.end()) {
    it->value.assign(value);
    it->metadata.assign(metadata);
  } else {
    impl->entries.push_back(Entry{std::string(name), std::string(value), std::string(metadata)});
  }
  return Baggage(std::move(impl));
}

Baggage Baggage::Remove(std::string_view name) const {
  if (!Get(name)) return *this;
  auto impl = std::make_shared<Impl>();
  for (const Entry& e : impl_->entries) {
    if (e.name != name) impl->entries.push_back(e);
  }
  if (impl->entries.empty()) return {};
  return Baggage(std::move(impl));
}

bool operator==(const Baggage& a, const Baggage& b) noexcept {
  if (a.size() != b.size()) return false;
  // Names are unique, so equal sizes plus inclusion means the same set of entries.
  const auto& be = b.entries();
  for (const Baggage::Entry& e : a.entries()) {
    auto it = std::find_if(be.begin(), be.end(),
                           [&](const Baggage::Entry& x) { return x.name == e.name; });
    if (it == be.end() || it->value != e.value || it->metadata != e.metadata) return false;
  }
  return true;
}

}  // namespace otlp::trace
