#include "otlp/nats/internal/parser.h"

#include <cstring>


namespace otlp::nats::internal {
namespace {

bool IsSpace(char c) noexcept { return c == ' ' || c == '\t'; }

bool OpIs(std::string_view word, std::string_view op) noexcept {
  if (word.size() != op.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != op[i]) return false;
  }
  return true;
}

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (s.size() > 64) out += "...";
  return out;
}

ParseResult Fail(std::string* error, std::string message) {
  *error = std::move(message);
  return ParseResult::kError;
}

}  // namespace

bool SplitArgs(std::string_view line, std::string_view* args, size_t max, size_t* count) noexcept {
  size_t n = 0;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    if (i == line.size()) break;
    size_t start = i;
    while (i < line.size() && !IsSpace(line[i])) ++i;
    if (n == max) return false;
    args[n++] = line.substr(start, i - start);
  }
  *count = n;
  return true;
}

bool ParseDecimal(std::string_view s, uint64_t* out) noexcept {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

ParseResult ParseServerOp(std::string_view in, const ParseLimits& limits, ServerOp* op,
                          size_t* consumed, std::string* error) {
  if (in.empty()) return ParseResult::kNeedMore;
  const bool info = in.size() >= 4 && OpIs(in.substr(0, 4), "INFO");
  const size_t max_line = info ? limits.max_info_line : limits.max_control_line;
  const size_t scan = in.size() < max_line + 2 ? in.size() : max_line + 2;
  const void* cr = std::memchr(in.data(), '\n', scan);
  if (cr == nullptr) {
    if (in.size() >= max_line + 2) {
      return Fail(error, "maximum control line exceeded (" + std::to_string(max_line) +
                             " bytes without CRLF): " + Printable(in));
    }
    return ParseResult::kNeedMore;
  }
  const size_t nl = static_cast<size_t>(static_cast<const char*>(cr) - in.data());
  if (nl == 0 || in[nl - 1] != '\r') {
    return Fail(error, "protocol line not terminated by CRLF: " + Printable(in.substr(0, nl)));
  }
  std::string_view line = in.substr(0, nl - 1);
  size_t after_line = nl + 1;

  // The operation word.
  size_t w = 0;
  while (w < line.size() && !IsSpace(line[w])) ++w;
  std::string_view word = line.substr(0, w);
  std::string_view rest = line.substr(w);
  while (!rest.empty() && IsSpace(rest.front())) rest.remove_prefix(1);

  *op = ServerOp{};
  if (OpIs(word, "MSG") || OpIs(word, "HMSG")) {
    const bool with_headers = word.size() == 4;
    std::string_view args[5];
    size_t n = 0;
    if (!SplitArgs(rest, args, 5, &n)) {
      return Fail(error, "too many arguments: " + Printable(line));
    }
    // MSG <subject> <sid> [reply] <size>; HMSG <subject> <sid> [reply] <hdr> <total>
    const size_t fixed = with_headers ? 4 : 3;
    if (n != fixed && n != fixed + 1) {
      return Fail(error, "wrong number of arguments: " + Printable(line));
    }
    op->kind = ServerOp::Kind::kMsg;
    op->subject = args[0];
    if (!ParseDecimal(args[1], &op->sid)) return Fail(error, "bad sid: " + Printable(line));
    if (n == fixed + 1) op->reply = args[2];
    uint64_t header_len = 0;
    uint64_t total = 0;
    if (with_headers) {
      if (!ParseDecimal(args[n - 2], &header_len) || !ParseDecimal(args[n - 1], &total) ||
          header_len > total) {
        return Fail(error, "bad sizes: " + Printable(line));
      }
    } else if (!ParseDecimal(args[n - 1], &total)) {
      return Fail(error, "bad size: " + Printable(line));
    }
    if (total > limits.max_message_bytes) {
      return Fail(error, "message of " + std::to_string(total) + " bytes exceeds the " +
                             std::to_string(limits.max_message_bytes) + "-byte limit");
    }
    if (in.size() - after_line < total + 2) return ParseResult::kNeedMore;
    std::string_view body = in.substr(after_line, total);
    if (in[after_line + total] != '\r' || in[after_line + total + 1] != '\n') {
      return Fail(error, "message payload not followed by CRLF (size mismatch): " +
                             Printable(line));
    }
    if (with_headers) {
      op->header_block = body.substr(0, header_len);
      if (header_len < 10 || op->header_block.substr(0, 5) != "NATS/" ||
          op->header_block.substr(header_len - 4) != "\r\n\r\n") {
        return Fail(error, "malformed header block: " + Printable(op->header_block));
      }
    }
    op->data = body.substr(header_len);
    *consumed = after_line + total + 2;
    return ParseResult::kOp;
  }
  if (OpIs(word, "PING")) {
    if (!rest.empty()) return Fail(error, "unexpected arguments: " + Printable(line));
    op->kind = ServerOp::Kind::kPing;
  } else if (OpIs(word, "PONG")) {
    if (!rest.empty()) return Fail(error, "unexpected arguments: " + Printable(line));
    op->kind = ServerOp::Kind::kPong;
  } else if (OpIs(word, "+OK")) {
    op->kind = ServerOp::Kind::kOk;
  } else if (OpIs(word, "-ERR")) {
    op->kind = ServerOp::Kind::kErr;
    std::string_view text = rest;
    while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
    if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'') {
      text = text.substr(1, text.size() - 2);
    }
    op->text = text;
  } else if (OpIs(word, "INFO")) {
    if (rest.empty() || rest.front() != '{') {
      return Fail(error, "INFO without a JSON object: " + Printable(line));
    }
    op->kind = ServerOp::Kind::kInfo;
    op->text = rest;
  } else {
    return Fail(error, "unknown protocol operation: " + Printable(line));
  }
  *consumed = after_line;
  return ParseResult::kOp;
}

}  // namespace otlp::nats::internal
