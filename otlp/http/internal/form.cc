#include "otlp/http/internal/form.h"

namespace otlp::http::internal {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

constexpr bool IsUnreserved(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int HexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void Encode(std::string_view text, bool space_as_plus, std::string& out) {
  for (char c : text) {
    if (IsUnreserved(c)) {
      out += c;
    } else if (c == ' ' && space_as_plus) {
      out += '+';
    } else {
      const auto u = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
}

}  // namespace

std::string FormEncode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  Encode(text, true, out);
  return out;
}

std::string PercentEncode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  Encode(text, false, out);
  return out;
}

Result<std::string> FormDecode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_as_space) {
      out += ' ';
    } else if (c != '%') {
      out += c;
    } else {
      const int hi = i + 2 < text.size() ? HexValue(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return InvalidArgumentError("invalid percent-encoding in '" + std::string(text) +
                                    "' at offset " + std::to_string(i) +
                                    " ('%' must be followed by two hex digits)");
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  return out;
}

namespace {

void AppendPairs(const QueryParams& params, bool space_as_plus, std::string& out) {
  bool first = true;
  for (const auto& [name, value] : params) {
    if (!first) out += '&';
    first = false;
    Encode(name, space_as_plus, out);
    out += '=';
    Encode(value, space_as_plus, out);
  }
}

}  // namespace

std::string EncodeForm(const QueryParams& params) {
  std::string out;
  AppendPairs(params, /*space_as_plus=*/true, out);
  return out;
}

std::string AppendQuery(std::string_view url, const QueryParams& params) {
  if (params.empty()) return std::string(url);
  const size_t hash = url.find('#');
  const std::string_view base = url.substr(0, hash);
  const std::string_view fragment =
      hash == std::string_view::npos ? std::string_view() : url.substr(hash);
  std::string out(base);
  if (base.find('?') == std::string_view::npos) {
    out += '?';
  } else if (!base.empty() && base.back() != '?' && base.back() != '&') {
    out += '&';
  }
  AppendPairs(params, /*space_as_plus=*/false, out);
  out += fragment;
  return out;
}

Result<QueryParams> ParseQuery(std::string_view query) {
  if (!query.empty() && query.front() == '?') query.remove_prefix(1);
  QueryParams params;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    const size_t eq = piece.find('=');
    Result<std::string> name = FormDecode(piece.substr(0, eq));
    if (!name.ok()) return name.status();
    Result<std::string> value =
        eq == std::string_view::npos ? std::string() : FormDecode(piece.substr(eq + 1));
    if (!value.ok()) return value.status();
    params.emplace_back(std::move(*name), std::move(*value));
  }
  return params;
}

}  // namespace otlp::http::internal
