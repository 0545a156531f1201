#include "otlp/exporter/internal/json_reader.h"

#include <cstring>

#include "otlp/exporter/internal/json_text.h"

namespace otlp::exporter::internal {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

bool JsonReader::Fail(std::string_view message) {
  SkipWhitespace();
  return FailAt(pos_, message);
}

bool JsonReader::FailAt(size_t offset, std::string_view message) {
  if (!failed_) {
    failed_ = true;
    error_.assign(message);
    error_offset_ = offset;
  }
  return false;
}

std::string JsonReader::Location(size_t offset) const {
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < offset && i < in_.size(); ++i) {
    if (in_[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(offset - line_start + 1);
}

bool JsonReader::Enter() {
  if (++depth_ > max_depth_) {
    return Fail("nested deeper than " + std::to_string(max_depth_) + " levels");
  }
  return true;
}

bool JsonReader::Literal(std::string_view word) noexcept {
  if (in_.substr(pos_, word.size()) != word) return false;
  pos_ += word.size();
  return true;
}

bool JsonReader::Null() noexcept {
  return Peek() == 'n' && Literal("null");
}

bool JsonReader::Bool(bool& v) noexcept {
  const char c = Peek();
  if (c == 't' && Literal("true")) {
    v = true;
    return true;
  }
  if (c == 'f' && Literal("false")) {
    v = false;
    return true;
  }
  return Fail("expected true or false");
}

bool JsonReader::Hex4(size_t at, uint32_t& cp) const noexcept {
  if (in_.size() - at < 4 || at > in_.size()) return false;
  cp = 0;
  for (size_t k = 0; k < 4; ++k) {
    const char h = in_[at + k];
    cp <<= 4;
    if (h >= '0' && h <= '9') {
      cp |= static_cast<uint32_t>(h - '0');
    } else if (h >= 'a' && h <= 'f') {
      cp |= static_cast<uint32_t>(h - 'a' + 10);
    } else if (h >= 'A' && h <= 'F') {
      cp |= static_cast<uint32_t>(h - 'A' + 10);
    } else {
      return false;
    }
  }
  return true;
}

bool JsonReader::String(std::string& out) {
  std::string_view view;
  if (!StringView(view, out)) return false;
  if (view.data() != out.data()) out.assign(view);
  return true;
}

bool JsonReader::StringView(std::string_view& out, std::string& scratch) {
  if (Peek() != '"') return Fail("expected a string");
  const auto* b = reinterpret_cast<const unsigned char*>(in_.data());
  const size_t n = in_.size();
  const size_t start = pos_ + 1;
  size_t i = start;
  size_t run = start;  // first byte not yet copied to scratch (when copying)
  bool copying = false;
  auto copy_run = [&](size_t end) {
    if (!copying) {
      scratch.clear();
      copying = true;
    }
    scratch.append(in_.data() + run, end - run);
  };
  while (true) {
    // Eight ordinary bytes at a time.
    while (n - i >= 8) {
      uint64_t x;
      std::memcpy(&x, b + i, 8);
      if (HasSpecialByte(x)) break;
      i += 8;
    }
    if (i >= n) return FailAt(start - 1, "unterminated string");
    const unsigned char c = b[i];
    if (!kJsonSpecial[c]) {
      ++i;
      continue;
    }
    if (c == '"') break;
    if (c >= 0x80) {
      const int len = Utf8Sequence(b + i, n - i);
      if (len > 0) {
        i += static_cast<size_t>(len);
        continue;
      }
      if (!replace_) return FailAt(i, "invalid UTF-8 in a string");
      copy_run(i);
      scratch.append(kReplacement);
      i += static_cast<size_t>(-len);
      run = i;
      continue;
    }
    if (c != '\\') return FailAt(i, "control character in a string (must be escaped)");
    copy_run(i);
    if (i + 1 >= n) return FailAt(start - 1, "unterminated string");
    const char e = in_[i + 1];
    i += 2;
    switch (e) {
      case '"': scratch.push_back('"'); break;
      case '\\': scratch.push_back('\\'); break;
      case '/': scratch.push_back('/'); break;
      case 'b': scratch.push_back('\b'); break;
      case 'f': scratch.push_back('\f'); break;
      case 'n': scratch.push_back('\n'); break;
      case 'r': scratch.push_back('\r'); break;
      case 't': scratch.push_back('\t'); break;
      case 'u': {
        uint32_t cp;
        if (!Hex4(i, cp)) return FailAt(i - 2, "invalid \\u escape (needs 4 hex digits)");
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {  // a high surrogate needs its low half
          uint32_t lo;
          if (i + 1 < n && in_[i] == '\\' && in_[i + 1] == 'u' && Hex4(i + 2, lo) && lo >= 0xDC00 &&
              lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) {
          if (!replace_) return FailAt(i - 6, "unpaired surrogate in a \\u escape");
          cp = 0xFFFD;
        }
        AppendUtf8(cp, scratch);
        break;
      }
      default: return FailAt(i - 2, "invalid escape sequence in a string");
    }
    run = i;
  }
  if (copying) {
    copy_run(i);
    out = scratch;
  } else {
    out = in_.substr(start, i - start);
  }
  pos_ = i + 1;
  return true;
}

bool JsonReader::Number(std::string_view& token) noexcept {
  SkipWhitespace();
  const size_t start = pos_;
  auto digit = [&] { return pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9'; };
  if (pos_ < in_.size() && in_[pos_] == '-') ++pos_;
  if (!digit()) {
    pos_ = start;
    return Fail(start == in_.size() ? "unexpected end of input, expected a value"
                                    : "expected a number");
  }
  if (in_[pos_] == '0') {
    ++pos_;
    if (digit()) {
      pos_ = start;
      return Fail("invalid number (leading zero)");
    }
  } else {
    while (digit()) ++pos_;
  }
  if (pos_ < in_.size() && in_[pos_] == '.') {
    ++pos_;
    if (!digit()) {
      pos_ = start;
      return Fail("invalid number (no digit after '.')");
    }
    while (digit()) ++pos_;
  }
  if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
    ++pos_;
    if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) ++pos_;
    if (!digit()) {
      pos_ = start;
      return Fail("invalid number (no digit in the exponent)");
    }
    while (digit()) ++pos_;
  }
  token = in_.substr(start, pos_ - start);
  return true;
}

bool JsonReader::SkipValue() {
  switch (Peek()) {
    case '{': return Object([this](std::string_view) { return SkipValue(); });
    case '[': return Array([this](size_t) { return SkipValue(); });
    case '"': {
      std::string scratch;
      std::string_view ignored;
      return StringView(ignored, scratch);
    }
    case 't':
    case 'f': {
      bool ignored;
      return Bool(ignored);
    }
    case 'n':
      if (Null()) return true;
      return Fail("expected a value");
    case '\0':
      if (pos_ == in_.size()) return Fail("unexpected end of input, expected a value");
      return Fail("unexpected character");
    default: {
      std::string_view ignored;
      if (const char c = Peek(); c != '-' && (c < '0' || c > '9')) {
        return Fail("unexpected character");
      }
      return Number(ignored);
    }
  }
}

}  // namespace otlp::exporter::internal
