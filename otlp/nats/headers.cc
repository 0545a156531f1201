#include "otlp/nats/headers.h"

#include <algorithm>

namespace otlp::nats {
namespace {

constexpr std::string_view kVersion = "NATS/1.0";

bool EqualsIgnoringCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool IsKeyChar(char c) noexcept { return c > 32 && c < 127 && c != ':'; }

bool HasLineBreak(std::string_view value) noexcept {
  for (char c : value) {
    if (c == '\r' || c == '\n') return true;
  }
  return false;
}

std::string_view Trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Status Invalid(std::string message) {
  return Status(StatusCode::kInvalidArgument, "NATS header block: " + std::move(message));
}

// The status code and description of a version line ("NATS/1.0 503 No Responders").
bool ParseVersionLine(std::string_view line, int* code, std::string_view* description) noexcept {
  if (line.substr(0, kVersion.size()) != kVersion) return false;
  std::string_view rest = Trim(line.substr(kVersion.size()));
  *code = 0;
  *description = {};
  if (rest.empty()) return true;
  size_t digits = 0;
  while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
  if (digits != 3) return false;
  *code = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
  *description = Trim(rest.substr(3));
  return true;
}

}  // namespace

Result<Headers> Headers::Parse(std::string_view block) {
  Headers h;
  size_t eol = block.find("\r\n");
  if (eol == std::string_view::npos) return Invalid("no version line");
  int code = 0;
  std::string_view description;
  if (!ParseVersionLine(block.substr(0, eol), &code, &description)) {
    return Invalid("bad version line \"" + std::string(block.substr(0, std::min<size_t>(eol, 40))) +
                   "\"");
  }
  h.status_ = code;
  h.description_ = std::string(description);
  size_t pos = eol + 2;
  while (true) {
    eol = block.find("\r\n", pos);
    if (eol == std::string_view::npos) return Invalid("not terminated by an empty line");
    std::string_view line = block.substr(pos, eol - pos);
    pos = eol + 2;
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Invalid("line without \"key:\" \"" + std::string(line.substr(0, 40)) + "\"");
    }
    std::string_view key = line.substr(0, colon);
    for (char c : key) {
      if (!IsKeyChar(c)) return Invalid("bad character in key \"" + std::string(key) + "\"");
    }
    h.fields_.emplace_back(std::string(key), std::string(Trim(line.substr(colon + 1))));
  }
  if (pos != block.size()) return Invalid("bytes after the empty line");
  return h;
}

void Headers::Set(std::string_view key, std::string value) {
  auto first = std::find_if(fields_.begin(), fields_.end(),
                            [&](const Field& f) { return f.first == key; });
  if (first == fields_.end()) {
    fields_.emplace_back(std::string(key), std::move(value));
    return;
  }
  first->second = std::move(value);
  fields_.erase(std::remove_if(first + 1, fields_.end(),
                               [&](const Field& f) { return f.first == key; }),
                fields_.end());
}

size_t Headers::Remove(std::string_view key) {
  size_t before = fields_.size();
  fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                               [&](const Field& f) { return f.first == key; }),
                fields_.end());
  return before - fields_.size();
}

std::optional<std::string_view> Headers::Find(std::string_view key) const noexcept {
  for (const Field& f : fields_) {
    if (f.first == key) return std::string_view(f.second);
  }
  return std::nullopt;
}

std::optional<std::string_view> Headers::FindIgnoringCase(std::string_view key) const noexcept {
  if (auto exact = Find(key)) return exact;
  for (const Field& f : fields_) {
    if (EqualsIgnoringCase(f.first, key)) return std::string_view(f.second);
  }
  return std::nullopt;
}

std::vector<std::string_view> Headers::FindAll(std::string_view key) const {
  std::vector<std::string_view> out;
  for (const Field& f : fields_) {
    if (f.first == key) out.emplace_back(f.second);
  }
  return out;
}

Status Headers::Validate() const {
  if (status_ != 0 && (status_ < 100 || status_ > 999)) {
    return Invalid("status " + std::to_string(status_) + " is not three digits");
  }
  if (HasLineBreak(description_)) {
    return Invalid("status description contains CR or LF");
  }
  for (const Field& f : fields_) {
    if (f.first.empty()) return Invalid("empty key");
    for (char c : f.first) {
      if (!IsKeyChar(c)) {
        return Invalid("key \"" + f.first + "\" has a character that is not printable ASCII " +
                       "or is ':' or a space");
      }
    }
    if (HasLineBreak(f.second)) {
      return Invalid("value of \"" + f.first + "\" contains CR or LF");
    }
  }
  return Status::Ok();
}

size_t Headers::EncodedSize() const noexcept {
  size_t n = kVersion.size() + 2 + 2;
  if (status_ != 0) n += 4 + (description_.empty() ? 0 : 1 + description_.size());
  for (const Field& f : fields_) n += f.first.size() + 2 + f.second.size() + 2;
  return n;
}

void Headers::EncodeTo(std::string& out) const {
  out.reserve(out.size() + EncodedSize());
  out += kVersion;
  if (status_ != 0) {
    out += ' ';
    out += std::to_string(status_);
    if (!description_.empty()) {
      out += ' ';
      out += description_;
    }
  }
  out += "\r\n";
  for (const Field& f : fields_) {
    out += f.first;
    out += ": ";
    out += f.second;
    out += "\r\n";
  }
  out += "\r\n";
}

std::string Headers::Encode() const {
  std::string out;
  EncodeTo(out);
  return out;
}

int HeaderBlockStatus(std::string_view block) noexcept {
  size_t eol = block.find("\r\n");
  if (eol == std::string_view::npos) return 0;
  int code = 0;
  std::string_view description;
  if (!ParseVersionLine(block.substr(0, eol), &code, &description)) return 0;
  return code;
}

std::string_view FindInHeaderBlock(std::string_view block, std::string_view key) noexcept {
  std::string_view loose;
  bool have_loose = false;
  size_t pos = block.find("\r\n");
  if (pos == std::string_view::npos) return {};
  pos += 2;
  while (pos < block.size()) {
    size_t eol = block.find("\r\n", pos);
    if (eol == std::string_view::npos || eol == pos) break;
    std::string_view line = block.substr(pos, eol - pos);
    pos = eol + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view k = line.substr(0, colon);
    if (k == key) return Trim(line.substr(colon + 1));
    if (!have_loose && EqualsIgnoringCase(k, key)) {
      loose = Trim(line.substr(colon + 1));
      have_loose = true;
    }
  }
  return loose;
}

}  // namespace otlp::nats
