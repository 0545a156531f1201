#include "tests/support/raw_h2.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace otlp::test {
namespace {

constexpr uint8_t kData = 0x0;
constexpr uint8_t kHeaders = 0x1;
constexpr uint8_t kRstStream = 0x3;
constexpr uint8_t kSettings = 0x4;
constexpr uint8_t kPing = 0x6;
constexpr uint8_t kGoAway = 0x7;
constexpr uint8_t kContinuation = 0x9;
constexpr uint8_t kFlagEndStream = 0x1;
constexpr uint8_t kFlagAck = 0x1;
constexpr uint8_t kFlagEndHeaders = 0x4;
constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

bool ReadExactly(int fd, char* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::recv(fd, out + got, n - got, 0);
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      return false;
    }
    got += static_cast<size_t>(r);
  }
  return true;
}

void Put32(std::string& out, uint32_t v) {
  out += static_cast<char>((v >> 24) & 0xff);
  out += static_cast<char>((v >> 16) & 0xff);
  out += static_cast<char>((v >> 8) & 0xff);
  out += static_cast<char>(v & 0xff);
}

// HPACK integer (RFC 7541 §5.1) with `prefix` bits, the bits above them set to `high`.
void HpackInt(std::string& out, uint8_t high, int prefix, size_t value) {
  const size_t max = (size_t{1} << prefix) - 1;
  if (value < max) {
    out += static_cast<char>(high | value);
    return;
  }
  out += static_cast<char>(high | max);
  value -= max;
  while (value >= 128) {
    out += static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

void HpackString(std::string& out, std::string_view s) {
  HpackInt(out, 0x00, 7, s.size());
  out.append(s);
}

}  // namespace

RawTcpServer::Behavior RawH2::Serve(Options options, OnRequest on_request) {
  return [options, on_request = std::move(on_request)](int fd) {
    char preface[kPreface.size()];
    if (!ReadExactly(fd, preface, sizeof(preface)) ||
        std::string_view(preface, sizeof(preface)) != kPreface) {
      return;
    }
    RawH2 h2(fd);
    std::string settings;
    if (options.max_concurrent_streams != 0) {
      settings += '\0';
      settings += '\x03';  // SETTINGS_MAX_CONCURRENT_STREAMS
      Put32(settings, options.max_concurrent_streams);
    }
    if (!h2.WriteFrame(kSettings, 0, 0, settings)) return;
    Frame frame;
    while (h2.ReadFrame(frame)) {
      if (frame.type == kHeaders) {
        if (!on_request(h2, frame.stream_id)) return;
      } else if (options.on_frame && !options.on_frame(h2, frame)) {
        return;
      }
    }
  };
}

bool RawH2::ReadFrame(Frame& frame) {
  char header[9];
  if (!ReadExactly(fd_, header, sizeof(header))) return false;
  const auto byte = [&](int i) { return static_cast<uint8_t>(header[i]); };
  const size_t length = (size_t{byte(0)} << 16) | (size_t{byte(1)} << 8) | byte(2);
  frame.type = byte(3);
  frame.flags = byte(4);
  frame.stream_id = ((uint32_t{byte(5)} & 0x7f) << 24) | (uint32_t{byte(6)} << 16) |
                    (uint32_t{byte(7)} << 8) | byte(8);
  frame.payload.resize(length);
  if (length > 0 && !ReadExactly(fd_, frame.payload.data(), length)) return false;
  if (frame.type == kSettings) {
    if ((frame.flags & kFlagAck) != 0) {
      settings_acked_ = true;
      return true;
    }
    return WriteFrame(kSettings, kFlagAck, 0, {});
  }
  if (frame.type == kPing && (frame.flags & kFlagAck) == 0) {
    return WriteFrame(kPing, kFlagAck, 0, frame.payload);
  }
  return true;
}

bool RawH2::WriteFrame(uint8_t type, uint8_t flags, uint32_t stream_id, std::string_view payload) {
  std::string out;
  out += static_cast<char>((payload.size() >> 16) & 0xff);
  out += static_cast<char>((payload.size() >> 8) & 0xff);
  out += static_cast<char>(payload.size() & 0xff);
  out += static_cast<char>(type);
  out += static_cast<char>(flags);
  Put32(out, stream_id & 0x7fffffff);
  out.append(payload);
  return Write(out);
}

bool RawH2::Write(std::string_view bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

bool RawH2::Headers(uint32_t stream_id, int status,
                    const std::vector<std::pair<std::string, std::string>>& headers,
                    bool end_stream) {
  return HeadersRaw(stream_id, std::to_string(status), headers, end_stream);
}

bool RawH2::HeadersRaw(uint32_t stream_id, std::string_view status,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       bool end_stream) {
  std::string block;
  // :status, literal without indexing, name from the static table (index 8).
  HpackInt(block, 0x00, 4, 8);
  HpackString(block, status);
  for (const auto& [name, value] : headers) {
    block += '\0';  // literal without indexing, new name
    HpackString(block, name);
    HpackString(block, value);
  }
  return WriteBlock(stream_id, block, end_stream);
}

bool RawH2::RepeatedHeader(uint32_t stream_id, int status, std::string_view name,
                           std::string_view value, int times, bool end_stream) {
  std::string block;
  HpackInt(block, 0x00, 4, 8);
  HpackString(block, std::to_string(status));
  block += '\x40';  // literal with incremental indexing, new name: dynamic table entry 62
  HpackString(block, name);
  HpackString(block, value);
  for (int i = 1; i < times; ++i) HpackInt(block, 0x80, 7, 62);  // indexed field 62
  return WriteBlock(stream_id, block, end_stream);
}

bool RawH2::WriteBlock(uint32_t stream_id, const std::string& block, bool end_stream) {
  // Blocks beyond the default SETTINGS_MAX_FRAME_SIZE go on in CONTINUATION frames.
  constexpr size_t kMaxFrame = 16384;
  size_t offset = 0;
  bool first = true;
  do {
    const size_t n = std::min(kMaxFrame, block.size() - offset);
    const bool last = offset + n == block.size();
    uint8_t flags = last ? kFlagEndHeaders : 0;
    if (first && end_stream) flags |= kFlagEndStream;
    if (!WriteFrame(first ? kHeaders : kContinuation, flags, stream_id,
                    std::string_view(block).substr(offset, n))) {
      return false;
    }
    offset += n;
    first = false;
  } while (offset < block.size());
  return true;
}

bool RawH2::Data(uint32_t stream_id, std::string_view data, bool end_stream) {
  return WriteFrame(kData, end_stream ? kFlagEndStream : 0, stream_id, data);
}

bool RawH2::RstStream(uint32_t stream_id, uint32_t error_code) {
  std::string payload;
  Put32(payload, error_code);
  return WriteFrame(kRstStream, 0, stream_id, payload);
}

bool RawH2::GoAway(uint32_t last_stream_id, uint32_t error_code) {
  std::string payload;
  Put32(payload, last_stream_id & 0x7fffffff);
  Put32(payload, error_code);
  return WriteFrame(kGoAway, 0, 0, payload);
}

bool RawH2::WaitForClose(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Frame frame;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    if (!ReadFrame(frame)) return true;
  }
}

bool RawH2::WaitForSettingsAck() {
  Frame frame;
  while (!settings_acked_) {
    if (!ReadFrame(frame)) return false;
  }
  return true;
}

void RawH2::ResetOnClose() {
  linger l{.l_onoff = 1, .l_linger = 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

}  // namespace otlp::test
