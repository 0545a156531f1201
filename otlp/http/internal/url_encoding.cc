#include "otlp/http/internal/url_encoding.h"

namespace otlp::http::internal {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

void AppendPairs(std::string& out, const QueryParams& params, bool space_as_plus) {
  bool first = true;
  for (const auto& [name, value] : params) {
    if (!first) out += '&';
    first = false;
    AppendEncoded(out, name, space_as_plus);
    out += '=';
    AppendEncoded(out, value, space_as_plus);
  }
}

}  // namespace

void AppendEncoded(std::string& out, std::string_view text, bool space_as_plus) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out += ch;
    } else if (c == ' ' && space_as_plus) {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
}

std::string EncodeFormFields(const QueryParams& fields) {
  std::string out;
  AppendPairs(out, fields, /*space_as_plus=*/true);
  return out;
}

std::string WithQueryParams(std::string_view url, const QueryParams& params) {
  if (params.empty()) return std::string(url);
  const size_t hash = url.find('#');
  const std::string_view base = url.substr(0, hash);
  std::string out(base);
  const size_t question = base.find('?');
  if (question == std::string_view::npos) {
    out += '?';
  } else if (!base.ends_with('?') && !base.ends_with('&')) {
    out += '&';
  }
  AppendPairs(out, params, /*space_as_plus=*/false);
  if (hash != std::string_view::npos) out += url.substr(hash);
  return out;
}

}  // namespace otlp::http::internal
