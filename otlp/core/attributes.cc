#include "otlp/core/attributes.h"

#include <charconv>
#include <cstdio>

namespace otlp {

OwnedAttributeValue ToOwned(const AttributeValue& v) {
  switch (v.type()) {
    case AttributeType::kBool: return v.as_bool();
    case AttributeType::kInt: return v.as_int();
    case AttributeType::kDouble: return v.as_double();
    case AttributeType::kString: return std::string(v.as_string());
    case AttributeType::kBoolArray: {
      auto a = v.as_bool_array();
      return std::vector<bool>(a.begin(), a.end());
    }
    case AttributeType::kIntArray: {
      auto a = v.as_int_array();
      return std::vector<int64_t>(a.begin(), a.end());
    }
    case AttributeType::kDoubleArray: {
      auto a = v.as_double_array();
      return std::vector<double>(a.begin(), a.end());
    }
    case AttributeType::kStringArray: {
      auto a = v.as_string_array();
      return std::vector<std::string>(a.begin(), a.end());
    }
  }
  return false;
}

namespace {
void AppendDouble(std::string& out, double d) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, ec == std::errc() ? p : buf);
}
void AppendQuoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}
}  // namespace

std::string AttributeValueToString(const AttributeValue& v) {
  std::string out;
  switch (v.type()) {
    case AttributeType::kBool: return v.as_bool() ? "true" : "false";
    case AttributeType::kInt: return std::to_string(v.as_int());
    case AttributeType::kDouble: AppendDouble(out, v.as_double()); return out;
    case AttributeType::kString: AppendQuoted(out, v.as_string()); return out;
    default: break;
  }
  out.push_back('[');
  for (size_t i = 0; i < v.array_size(); ++i) {
    if (i) out.push_back(',');
    switch (v.type()) {
      case AttributeType::kBoolArray: out += v.as_bool_array()[i] ? "true" : "false"; break;
      case AttributeType::kIntArray: out += std::to_string(v.as_int_array()[i]); break;
      case AttributeType::kDoubleArray: AppendDouble(out, v.as_double_array()[i]); break;
      default: AppendQuoted(out, v.as_string_array()[i]); break;
    }
  }
  out.push_back(']');
  return out;
}

void OwnedAttributes::SetView(std::string_view key, const AttributeValue& value) {
  Set(std::string(key), ToOwned(value));
}

void OwnedAttributes::Set(std::string key, OwnedAttributeValue value) {
  for (auto& [k, v] : items_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  items_.emplace_back(std::move(key), std::move(value));
}

const OwnedAttributeValue* OwnedAttributes::Find(std::string_view key) const noexcept {
  for (const auto& [k, v] : items_)
    if (k == key) return &v;
  return nullptr;
}

bool OwnedAttributes::Erase(std::string_view key) {
  for (auto it = items_.begin(); it != items_.end(); ++it) {
    if (it->first == key) {
      items_.erase(it);
      return true;
    }
  }
  return false;
}

}  // namespace otlp
