#include "otlp/nats/jetstream.h"

#include <cstdint>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "otlp/nats/error.h"
#include "otlp/nats/internal/conn.h"
#include "otlp/nats/internal/js_util.h"
#include "otlp/nats/internal/nuid.h"
#include "otlp/propagation/global_propagator.h"
#include "otlp/trace/context.h"

namespace otlp::nats {

using internal::Json;
using Clock = std::chrono::steady_clock;

namespace {

Status Err(StatusCode code, ErrorKind kind, std::string message, bool retryable = false) {
  return MakeError(code, kind, "JetStream: " + std::move(message), retryable);
}

Status InvalidName(std::string_view what, std::string_view name) {
  return Err(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
             "invalid " + std::string(what) + " name \"" + std::string(name) + "\"");
}

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Reads a parsed header block for the propagator.
class HeadersReader final : public propagation::TextMapCarrier {
 public:
  explicit HeadersReader(const Headers& h) : h_(h) {}
  std::string_view Get(std::string_view key) const noexcept override {
    return h_.FindIgnoringCase(key).value_or(std::string_view());
  }
  void Set(std::string_view, std::string_view) noexcept override {}

 private:
  const Headers& h_;
};

std::string_view StorageName(StorageType s) { return s == StorageType::kMemory ? "memory" : "file"; }
std::string_view RetentionName(RetentionPolicy r) {
  switch (r) {
    case RetentionPolicy::kInterest: return "interest";
    case RetentionPolicy::kWorkQueue: return "workqueue";
    default: return "limits";
  }
}
std::string_view DeliverName(DeliverPolicy d) {
  switch (d) {
    case DeliverPolicy::kLast: return "last";
    case DeliverPolicy::kNew: return "new";
    case DeliverPolicy::kByStartSequence: return "by_start_sequence";
    case DeliverPolicy::kByStartTime: return "by_start_time";
    case DeliverPolicy::kLastPerSubject: return "last_per_subject";
    default: return "all";
  }
}
DeliverPolicy DeliverFrom(const std::string& s) {
  if (s == "last") return DeliverPolicy::kLast;
  if (s == "new") return DeliverPolicy::kNew;
  if (s == "by_start_sequence") return DeliverPolicy::kByStartSequence;
  if (s == "by_start_time") return DeliverPolicy::kByStartTime;
  if (s == "last_per_subject") return DeliverPolicy::kLastPerSubject;
  return DeliverPolicy::kAll;
}
std::string_view AckName(AckPolicy a) {
  switch (a) {
    case AckPolicy::kNone: return "none";
    case AckPolicy::kAll: return "all";
    default: return "explicit";
  }
}
AckPolicy AckFrom(const std::string& s) {
  if (s == "none") return AckPolicy::kNone;
  if (s == "all") return AckPolicy::kAll;
  return AckPolicy::kExplicit;
}

int64_t TimeField(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return 0;
  return internal::ParseRfc3339(it->get<std::string>()).value_or(0);
}

Json ConsumerConfigToJson(const ConsumerConfig& c) {
  Json j = Json::object();
  if (!c.durable_name.empty()) j["durable_name"] = c.durable_name;
  if (!c.name.empty()) j["name"] = c.name;
  if (!c.description.empty()) j["description"] = c.description;
  j["deliver_policy"] = DeliverName(c.deliver_policy);
  if (c.opt_start_seq > 0) j["opt_start_seq"] = c.opt_start_seq;
  if (c.opt_start_time_unix_nano != 0) {
    j["opt_start_time"] = internal::FormatRfc3339(c.opt_start_time_unix_nano);
  }
  j["ack_policy"] = AckName(c.ack_policy);
  if (c.ack_wait.count() > 0) j["ack_wait"] = c.ack_wait.count();
  if (c.max_deliver != 0) j["max_deliver"] = c.max_deliver;
  if (!c.backoff.empty()) {
    Json b = Json::array();
    for (auto d : c.backoff) b.push_back(d.count());
    j["backoff"] = b;
  }
  if (!c.filter_subject.empty()) j["filter_subject"] = c.filter_subject;
  j["replay_policy"] = c.replay_policy == ReplayPolicy::kOriginal ? "original" : "instant";
  if (c.max_waiting > 0) j["max_waiting"] = c.max_waiting;
  if (c.max_ack_pending > 0) j["max_ack_pending"] = c.max_ack_pending;
  if (c.max_batch > 0) j["max_batch"] = c.max_batch;
  if (c.headers_only) j["headers_only"] = true;
  if (c.inactive_threshold.count() > 0) j["inactive_threshold"] = c.inactive_threshold.count();
  if (!c.deliver_subject.empty()) j["deliver_subject"] = c.deliver_subject;
  if (c.flow_control) j["flow_control"] = true;
  if (c.idle_heartbeat.count() > 0) j["idle_heartbeat"] = c.idle_heartbeat.count();
  if (c.mem_storage) j["mem_storage"] = true;
  if (c.replicas > 0) j["num_replicas"] = c.replicas;
  return j;
}

ConsumerInfo ConsumerInfoFromJson(const Json& r) {
  ConsumerInfo info;
  info.stream = r.value("stream_name", std::string());
  info.name = r.value("name", std::string());
  info.created_unix_nano = TimeField(r, "created");
  if (auto it = r.find("config"); it != r.end() && it->is_object()) {
    const Json& c = *it;
    ConsumerConfig& cc = info.config;
    cc.durable_name = c.value("durable_name", std::string());
    cc.name = c.value("name", std::string());
    cc.description = c.value("description", std::string());
    cc.deliver_policy = DeliverFrom(c.value("deliver_policy", std::string("all")));
    cc.opt_start_seq = c.value("opt_start_seq", uint64_t{0});
    cc.opt_start_time_unix_nano = TimeField(c, "opt_start_time");
    cc.ack_policy = AckFrom(c.value("ack_policy", std::string("explicit")));
    cc.ack_wait = nanoseconds(c.value("ack_wait", int64_t{0}));
    cc.max_deliver = c.value("max_deliver", int64_t{-1});
    if (auto b = c.find("backoff"); b != c.end() && b->is_array()) {
      for (const Json& d : *b) cc.backoff.emplace_back(d.get<int64_t>());
    }
    cc.filter_subject = c.value("filter_subject", std::string());
    cc.replay_policy = c.value("replay_policy", std::string()) == "original"
                           ? ReplayPolicy::kOriginal
                           : ReplayPolicy::kInstant;
    cc.max_waiting = c.value("max_waiting", int64_t{0});
    cc.max_ack_pending = c.value("max_ack_pending", int64_t{0});
    cc.max_batch = c.value("max_batch", int64_t{0});
    cc.headers_only = c.value("headers_only", false);
    cc.inactive_threshold = nanoseconds(c.value("inactive_threshold", int64_t{0}));
    cc.deliver_subject = c.value("deliver_subject", std::string());
    cc.flow_control = c.value("flow_control", false);
    cc.idle_heartbeat = nanoseconds(c.value("idle_heartbeat", int64_t{0}));
    cc.mem_storage = c.value("mem_storage", false);
    cc.replicas = c.value("num_replicas", 0);
  }
  auto seq = [](const Json& obj, const char* key) {
    SequenceInfo s;
    if (auto it = obj.find(key); it != obj.end() && it->is_object()) {
      s.consumer_seq = it->value("consumer_seq", uint64_t{0});
      s.stream_seq = it->value("stream_seq", uint64_t{0});
    }
    return s;
  };
  info.delivered = seq(r, "delivered");
  info.ack_floor = seq(r, "ack_floor");
  info.num_ack_pending = r.value("num_ack_pending", uint64_t{0});
  info.num_redelivered = r.value("num_redelivered", uint64_t{0});
  info.num_waiting = r.value("num_waiting", uint64_t{0});
  info.num_pending = r.value("num_pending", uint64_t{0});
  return info;
}

// Runs `parse` on the JSON, turning a type mismatch into a protocol error.
template <typename T, typename F>
Result<T> Convert(const Json& j, std::string_view what, F parse) {
  try {
    return parse(j);
  } catch (const std::exception& e) {
    return internal::JsProtocolError(std::string(what) + ": unexpected JSON: " + e.what());
  }
}

// A pull request's or a push consumer's status message.
bool IsStatus(const Message& m) { return m.status() != 0 && m.data().empty(); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Shared helpers (internal/js_util.h)

namespace internal {

Status JsProtocolError(std::string what) {
  return MakeError(StatusCode::kInternal, ErrorKind::kProtocol, "JetStream: " + std::move(what));
}

Status JsApiError(int code, int err_code, std::string_view description) {
  const bool not_found = err_code == kJsErrStreamNotFound || err_code == kJsErrConsumerNotFound ||
                         err_code == kJsErrMessageNotFound;
  StatusCode sc = StatusCode::kFailedPrecondition;
  if (not_found) {
    sc = StatusCode::kNotFound;
  } else if (code == 400) {
    sc = err_code == kJsErrWrongLastSequence || err_code == kJsErrWrongLastMsgId ||
                 err_code == kJsErrStreamWrongExpected
             ? StatusCode::kFailedPrecondition
             : StatusCode::kInvalidArgument;
  } else if (code == 503) {
    sc = StatusCode::kUnavailable;
  } else if (code == 500) {
    sc = StatusCode::kInternal;
  }
  std::string message(description.empty() ? std::string_view("API error") : description);
  message += " (code " + std::to_string(code) + ", err_code " + std::to_string(err_code) + ")";
  return MakeError(sc, not_found ? ErrorKind::kNotFound : ErrorKind::kJetStream,
                   "JetStream: " + message, code == 503);
}

Result<Json> ParseApiReply(std::string_view data, std::string_view what) {
  Json j = Json::parse(data, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    std::string head(data.substr(0, 80));
    return JsProtocolError(std::string(what) + ": reply is not a JSON object: \"" + head + "\"");
  }
  if (auto it = j.find("error"); it != j.end()) {
    if (!it->is_object()) return JsProtocolError(std::string(what) + ": malformed error");
    const Json& e = *it;
    int code = 0, err_code = 0;
    std::string description;
    if (auto c = e.find("code"); c != e.end() && c->is_number_integer()) code = c->get<int>();
    if (auto c = e.find("err_code"); c != e.end() && c->is_number_integer()) {
      err_code = c->get<int>();
    }
    if (auto c = e.find("description"); c != e.end() && c->is_string()) {
      description = c->get<std::string>();
    }
    return JsApiError(code, err_code, description);
  }
  return j;
}

Result<Json> ApiJson(JetStream& js, std::string_view subject, std::string_view body,
                     std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) timeout = js.options().timeout;
  std::string full = js.api_prefix();
  full += subject;
  Result<Message> reply = js.connection()->Request(full, body, timeout);
  if (!reply.ok()) {
    if (ErrorKindOf(reply.status()) == ErrorKind::kNoResponders) {
      return MakeError(StatusCode::kUnavailable, ErrorKind::kNoResponders,
                       "JetStream: no responders on " + full +
                           " (JetStream not enabled for this account, or no such API)");
    }
    return reply.status();
  }
  if (reply->status() != 0 && reply->data().empty()) {
    return JsProtocolError(full + ": status " + std::to_string(reply->status()) + " reply");
  }
  return ParseApiReply(reply->data(), full);
}

namespace {
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}
}  // namespace

std::optional<int64_t> ParseRfc3339(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (!Digits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, &h) || s[13] != ':' || !Digits(s, 14, 2, &mi) || s[16] != ':' ||
      !Digits(s, 17, 2, &sec)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  size_t pos = 19;
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 9) {
        frac = frac * 10 + (s[pos] - '0');
        ++n;
      }
      ++pos;
    }
    if (n == 0) return std::nullopt;
    for (; n < 9; ++n) frac *= 10;
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om)) {
      return std::nullopt;
    }
    offset = (oh * 60 + om) * 60 * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset;
  // Beyond what int64 nanoseconds hold (years before 1678 or after 2262): Go's zero time
  // "0001-01-01T00:00:00Z", which the server sends for "never". Read as 0, unset.
  constexpr int64_t kMaxSeconds = INT64_MAX / 1000000000 - 1;
  if (secs > kMaxSeconds || secs < -kMaxSeconds) return 0;
  return secs * 1000000000 + frac;
}

std::string FormatRfc3339(int64_t unix_nano) {
  int64_t secs = unix_nano / 1000000000;
  int64_t frac = unix_nano % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  // civil_from_days
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d",
                        static_cast<long long>(y), m, d, static_cast<int>(rem / 3600),
                        static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  std::string out(buf, static_cast<size_t>(n));
  if (frac != 0) {
    char f[16];
    std::snprintf(f, sizeof f, ".%09lld", static_cast<long long>(frac));
    std::string fs(f);
    while (fs.back() == '0') fs.pop_back();
    out += fs;
  }
  out += 'Z';
  return out;
}

std::optional<std::string> Base64Decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

bool ValidJsName(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (char c : name) {
    if (c == '.' || c == '*' || c == '>' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return false;
    }
  }
  return true;
}

Json StreamConfigToJson(const StreamConfig& c) {
  Json j = Json::object();
  j["name"] = c.name;
  if (!c.subjects.empty()) j["subjects"] = c.subjects;
  if (!c.description.empty()) j["description"] = c.description;
  j["retention"] = RetentionName(c.retention);
  j["max_consumers"] = c.max_consumers;
  j["max_msgs"] = c.max_msgs;
  j["max_bytes"] = c.max_bytes;
  j["max_age"] = c.max_age.count();
  j["max_msgs_per_subject"] = c.max_msgs_per_subject;
  j["max_msg_size"] = c.max_msg_size;
  j["discard"] = c.discard == DiscardPolicy::kNew ? "new" : "old";
  j["storage"] = StorageName(c.storage);
  j["num_replicas"] = c.replicas;
  if (c.duplicate_window.count() > 0) j["duplicate_window"] = c.duplicate_window.count();
  j["allow_rollup_hdrs"] = c.allow_rollup;
  j["deny_delete"] = c.deny_delete;
  j["deny_purge"] = c.deny_purge;
  j["allow_direct"] = c.allow_direct;
  if (c.sealed) j["sealed"] = true;
  return j;
}

StreamInfo StreamInfoFromJson(const Json& r) {
  StreamInfo info;
  info.created_unix_nano = TimeField(r, "created");
  {
    const Json& c = r.at("config");  // required: throws when absent
    if (!c.is_object()) throw std::runtime_error("\"config\" is not an object");
    StreamConfig& sc = info.config;
    sc.name = c.value("name", std::string());
    if (auto s = c.find("subjects"); s != c.end() && s->is_array()) {
      for (const Json& x : *s) sc.subjects.push_back(x.get<std::string>());
    }
    sc.description = c.value("description", std::string());
    const std::string retention = c.value("retention", std::string("limits"));
    sc.retention = retention == "interest"    ? RetentionPolicy::kInterest
                   : retention == "workqueue" ? RetentionPolicy::kWorkQueue
                                              : RetentionPolicy::kLimits;
    sc.max_consumers = c.value("max_consumers", int64_t{-1});
    sc.max_msgs = c.value("max_msgs", int64_t{-1});
    sc.max_bytes = c.value("max_bytes", int64_t{-1});
    sc.max_age = nanoseconds(c.value("max_age", int64_t{0}));
    sc.max_msgs_per_subject = c.value("max_msgs_per_subject", int64_t{-1});
    sc.max_msg_size = c.value("max_msg_size", int32_t{-1});
    sc.discard = c.value("discard", std::string("old")) == "new" ? DiscardPolicy::kNew
                                                                 : DiscardPolicy::kOld;
    sc.storage = c.value("storage", std::string("file")) == "memory" ? StorageType::kMemory
                                                                     : StorageType::kFile;
    sc.replicas = c.value("num_replicas", 1);
    sc.duplicate_window = nanoseconds(c.value("duplicate_window", int64_t{0}));
    sc.allow_rollup = c.value("allow_rollup_hdrs", false);
    sc.deny_delete = c.value("deny_delete", false);
    sc.deny_purge = c.value("deny_purge", false);
    sc.allow_direct = c.value("allow_direct", false);
    sc.sealed = c.value("sealed", false);
  }
  if (auto it = r.find("state"); it != r.end() && it->is_object()) {
    const Json& s = *it;
    StreamState& st = info.state;
    st.messages = s.value("messages", uint64_t{0});
    st.bytes = s.value("bytes", uint64_t{0});
    st.first_seq = s.value("first_seq", uint64_t{0});
    st.last_seq = s.value("last_seq", uint64_t{0});
    st.first_ts_unix_nano = TimeField(s, "first_ts");
    st.last_ts_unix_nano = TimeField(s, "last_ts");
    st.num_subjects = s.value("num_subjects", uint64_t{0});
    st.num_deleted = s.value("num_deleted", uint64_t{0});
    st.consumer_count = s.value("consumer_count", int64_t{0});
  }
  return info;
}

trace::Span StartStoreSpan(Connection& conn, std::string_view kind, std::string_view operation,
                           std::string_view bucket, std::string_view stream,
                           std::string_view item) {
  internal::Conn& c = conn.impl();
  if (!c.SpansOn()) return trace::Span();
  std::string name(kind);
  name += ' ';
  name += operation;
  name += ' ';
  name += bucket;
  std::string op_name(kind);
  op_name += '.';
  op_name += operation;
  const bool kv = kind == "kv";
  std::array<KeyValue, 5> attributes;
  size_t n = 0;
  attributes[n++] = {"messaging.system", "nats"};
  attributes[n++] = {"messaging.operation.name", op_name};
  attributes[n++] = {"messaging.destination.name", stream};
  attributes[n++] = {kv ? "messaging.nats.kv.bucket" : "messaging.nats.obj.bucket", bucket};
  if (!item.empty()) {
    attributes[n++] = {kv ? "messaging.nats.kv.key" : "messaging.nats.obj.name", item};
  }
  trace::StartOptions start{.kind = trace::SpanKind::kClient};
  return c.tracer().StartSpan(name, std::span<const KeyValue>(attributes.data(), n), start);
}

void EndStoreSpan(Connection& conn, trace::Span& span, const Status& status) {
  conn.impl().EndSpan(span, status);
}

}  // namespace internal

int JetStreamErrorCode(const Status& status) noexcept {
  const std::string& m = status.message();
  const size_t at = m.rfind("err_code ");
  if (at == std::string::npos) return 0;
  int v = 0;
  const char* b = m.data() + at + 9;
  std::from_chars(b, m.data() + m.size(), v);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Acks and metadata

Result<JsMetadata> ParseJsAckSubject(std::string_view reply) {
  std::vector<std::string_view> t;
  size_t start = 0;
  for (size_t i = 0; i <= reply.size(); ++i) {
    if (i == reply.size() || reply[i] == '.') {
      t.push_back(reply.substr(start, i - start));
      start = i + 1;
    }
  }
  const auto bad = [&] {
    return MakeError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                     "JetStream: not a JetStream message (reply \"" + std::string(reply) + "\")");
  };
  if (t.size() < 9 || (t.size() > 9 && t.size() < 11) || t[0] != "$JS" || t[1] != "ACK") {
    return bad();
  }
  JsMetadata md;
  size_t base = 2;
  if (t.size() >= 11) {
    md.domain = t[2] == "_" ? std::string() : std::string(t[2]);
    base = 4;
  }
  md.stream = std::string(t[base]);
  md.consumer = std::string(t[base + 1]);
  uint64_t ts = 0;
  if (!ParseU64(t[base + 2], &md.delivered) || !ParseU64(t[base + 3], &md.stream_seq) ||
      !ParseU64(t[base + 4], &md.consumer_seq) || !ParseU64(t[base + 5], &ts) ||
      !ParseU64(t[base + 6], &md.pending)) {
    return bad();
  }
  md.timestamp_unix_nano = static_cast<int64_t>(ts);
  return md;
}

JsMessage::JsMessage(Message message) : message_(std::move(message)) {}

Result<JsMetadata> JsMessage::metadata() const { return ParseJsAckSubject(message_.reply()); }

Status JsMessage::Settle(std::string_view body, std::string_view operation, bool sync,
                         milliseconds timeout) const {
  if (message_.reply().empty()) {
    return MakeError(StatusCode::kFailedPrecondition, ErrorKind::kInvalidArgument,
                     "JetStream: the message has no reply subject to acknowledge");
  }
  std::shared_ptr<Connection> conn = message_.connection();
  if (!conn) {
    return MakeError(StatusCode::kFailedPrecondition, ErrorKind::kConnectionClosed,
                     "JetStream: the message's connection is gone");
  }
  internal::Conn& c = conn->impl();
  trace::Span span;
  if (c.SpansOn()) {
    std::string stream;
    if (auto md = ParseJsAckSubject(message_.reply()); md.ok()) stream = md->stream;
    span = c.StartSpan(trace::SpanKind::kClient, "settle", "settle", stream, 0, nullptr);
    // StartSpan named it "settle <stream>"; the operation is the kind of acknowledgement.
    span.SetAttribute("messaging.operation.name", operation);
  }
  Status s;
  {
    trace::SuppressTracingScope quiet;  // no headers on an ack, no core span
    if (sync) {
      Result<Message> r = c.Request(message_.reply(), nullptr, body, timeout);
      s = r.ok() ? Status::Ok() : r.status();
    } else {
      s = c.PublishWithContext(message_.reply(), {}, nullptr, body, trace::Span());
    }
  }
  c.EndSpan(span, s);
  return s;
}

Status JsMessage::Ack() const { return Settle("+ACK", "ack", false, milliseconds(0)); }
Status JsMessage::AckSync(milliseconds timeout) const {
  return Settle("+ACK", "ack", true, timeout);
}
Status JsMessage::Nak(milliseconds delay) const {
  if (delay.count() > 0) {
    const std::string body =
        "-NAK {\"delay\":" + std::to_string(nanoseconds(delay).count()) + "}";
    return Settle(body, "nak", false, milliseconds(0));
  }
  return Settle("-NAK", "nak", false, milliseconds(0));
}
Status JsMessage::Term() const { return Settle("+TERM", "term", false, milliseconds(0)); }
Status JsMessage::InProgress() const {
  return Settle("+WPI", "in_progress", false, milliseconds(0));
}

// ---------------------------------------------------------------------------------------------
// Async publish state: one reply subscription per context, read by the context's own thread
// (so a PubAck never waits for a delivery thread a caller may be blocking).

struct JetStream::AsyncState : std::enable_shared_from_this<JetStream::AsyncState> {
  struct Pending {
    std::function<void(Result<PubAck>)> done;
    trace::Span span;
    Clock::time_point deadline;
  };
  std::weak_ptr<Connection> conn;
  std::string prefix;  // "_INBOX.<nuid>." of the replies
  size_t max_pending = 4000;

  std::mutex mu;
  std::condition_variable cv;  // space in the window, or everything completed
  std::unordered_map<uint64_t, Pending> pending;  // by request token (internal/nuid.h)
  size_t completing = 0;  // removed from `pending`, callback not yet returned
  uint64_t next = 1;
  bool stop = false;
  std::shared_ptr<internal::SubState> sub;
  std::thread reader;
  Clock::time_point next_expiry_scan{};  // the reader thread's own

  Status Start(internal::Conn& c) {
    // mu held by the caller.
    if (sub) return Status::Ok();
    auto s = c.Subscribe(prefix + "*", {}, {});
    if (!s.ok()) return s.status();
    sub = *s;
    sub->traced.store(false, std::memory_order_relaxed);
    // The thread keeps the state alive: a callback may drop the last JetStream reference.
    reader = std::thread([self = shared_from_this()] { self->Run(); });
    return Status::Ok();
  }

  void Complete(uint64_t token, Result<PubAck> result) {
    Pending p;
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = pending.find(token);
      if (it == pending.end()) return;
      p = std::move(it->second);
      pending.erase(it);
      ++completing;
    }
    cv.notify_all();
    Finish(p, std::move(result));
    Completed(1);
  }

  // Callbacks that ran: PublishAsyncComplete waits for them too.
  void Completed(size_t n) {
    {
      std::lock_guard<std::mutex> lock(mu);
      completing -= n;
    }
    cv.notify_all();
  }

  void Finish(Pending& p, Result<PubAck> result) {
    if (p.span.IsRecording() && result.ok()) {
      p.span.SetAttribute("messaging.nats.jetstream.stream", result->stream);
      p.span.SetAttribute("messaging.nats.jetstream.sequence",
                          static_cast<int64_t>(result->sequence));
      if (result->duplicate) p.span.SetAttribute("messaging.nats.jetstream.duplicate", true);
    }
    if (auto c = conn.lock()) {
      c->impl().EndSpan(p.span, result.ok() ? Status::Ok() : result.status());
    } else {
      p.span.End();
    }
    if (p.done) p.done(std::move(result));
  }

  static Result<PubAck> ParsePubAck(const Message& m) {
    if (m.status() == 503) {
      return MakeError(StatusCode::kUnavailable, ErrorKind::kNoResponders,
                       "JetStream: no stream stores this subject (503 no responders)");
    }
    if (m.status() != 0 && m.data().empty()) {
      return internal::JsProtocolError("PubAck with status " + std::to_string(m.status()));
    }
    Result<Json> j = internal::ParseApiReply(m.data(), "PubAck");
    if (!j.ok()) return j.status();
    return Convert<PubAck>(*j, "PubAck", [](const Json& r) -> Result<PubAck> {
      PubAck ack;
      ack.stream = r.at("stream").get<std::string>();
      ack.sequence = r.at("seq").get<uint64_t>();
      ack.duplicate = r.value("duplicate", false);
      ack.domain = r.value("domain", std::string());
      return ack;
    });
  }

  void Run() {
    for (;;) {
      std::shared_ptr<internal::SubState> s;
      std::shared_ptr<Connection> c;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (stop) return;
        s = sub;
      }
      c = conn.lock();
      if (!c || !s) return;
      Result<Message> m = [&] {
        trace::SuppressTracingScope quiet;
        return c->impl().NextMsg(*s, milliseconds(50));
      }();
      if (m.ok()) {
        const std::string_view subject = m->subject();
        uint64_t token = 0;
        if (subject.size() > prefix.size() &&
            internal::TokenValue(subject.substr(prefix.size()), &token)) {
          Complete(token, ParsePubAck(*m));
        }
      } else if (ErrorKindOf(m.status()) != ErrorKind::kTimeout &&
                 ErrorKindOf(m.status()) != ErrorKind::kSlowConsumer) {
        FailAll(m.status());
        std::lock_guard<std::mutex> lock(mu);
        if (stop) return;
        // The subscription ended (connection closed): nothing more will come.
        if (c->IsClosed()) return;
      }
      ExpireOld();
    }
  }

  // Fails the publishes whose PubAck is overdue. A scan of the whole window, so at most every
  // 50 ms (not after every PubAck: with thousands in flight that would cost more than the rest).
  void ExpireOld() {
    const auto now = Clock::now();
    if (now < next_expiry_scan) return;
    next_expiry_scan = now + milliseconds(50);
    std::vector<Pending> expired;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (auto it = pending.begin(); it != pending.end();) {
        if (it->second.deadline <= now) {
          expired.push_back(std::move(it->second));
          it = pending.erase(it);
          ++completing;
        } else {
          ++it;
        }
      }
    }
    if (expired.empty()) return;
    cv.notify_all();
    for (Pending& p : expired) {
      Finish(p, MakeError(StatusCode::kDeadlineExceeded, ErrorKind::kTimeout,
                          "JetStream: no PubAck within the timeout", true));
    }
    Completed(expired.size());
  }

  void FailAll(const Status& why) {
    std::unordered_map<uint64_t, Pending> all;
    {
      std::lock_guard<std::mutex> lock(mu);
      all.swap(pending);
      completing += all.size();
    }
    cv.notify_all();
    for (auto& [token, p] : all) Finish(p, why);
    Completed(all.size());
  }

  void Shutdown() {
    std::shared_ptr<internal::SubState> s;
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
      s = sub;
    }
    if (reader.joinable()) {
      if (reader.get_id() == std::this_thread::get_id()) {
        reader.detach();  // destroyed from a PubAck callback: Run() sees `stop` and returns
      } else {
        reader.join();
      }
    }
    if (s) {
      if (auto c = conn.lock()) c->impl().Unsubscribe(s, 0).IgnoreError();
    }
    FailAll(MakeError(StatusCode::kCancelled, ErrorKind::kConnectionClosed,
                      "JetStream: the context was destroyed before the PubAck"));
  }
};

// ---------------------------------------------------------------------------------------------
// JetStream

JetStream::JetStream(std::shared_ptr<Connection> conn, JetStreamOptions options)
    : conn_(std::move(conn)), options_(std::move(options)) {
  if (!options_.domain.empty()) {
    prefix_ = "$JS." + options_.domain + ".API.";
  } else {
    prefix_ = options_.api_prefix.empty() ? "$JS.API." : options_.api_prefix;
    if (prefix_.back() != '.') prefix_ += '.';
  }
  async_ = std::make_shared<AsyncState>();
  async_->conn = conn_;
  async_->prefix = conn_->NewInbox() + ".";
  async_->max_pending = std::max<size_t>(1, options_.max_pending_async);
}

JetStream::~JetStream() { async_->Shutdown(); }

Result<std::shared_ptr<JetStream>> JetStream::Create(std::shared_ptr<Connection> conn,
                                                     JetStreamOptions options) {
  if (!conn) {
    return MakeError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                     "JetStream: no connection");
  }
  if (options.timeout.count() <= 0) {
    return MakeError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                     "JetStream: the request timeout must be positive");
  }
  return std::shared_ptr<JetStream>(new JetStream(std::move(conn), std::move(options)));
}

Result<std::string> JetStream::ApiRequest(std::string_view subject, std::string_view body,
                                          milliseconds timeout) {
  Result<Json> j = internal::ApiJson(*this, subject, body, timeout);
  if (!j.ok()) return j.status();
  return j->dump();
}

Result<StreamInfo> JetStream::CreateStream(const StreamConfig& config) {
  if (!internal::ValidJsName(config.name)) return InvalidName("stream", config.name);
  Result<Json> j = internal::ApiJson(*this, "STREAM.CREATE." + config.name,
                                     internal::StreamConfigToJson(config).dump());
  if (!j.ok()) return j.status();
  return Convert<StreamInfo>(*j, "stream info", internal::StreamInfoFromJson);
}

Result<StreamInfo> JetStream::UpdateStream(const StreamConfig& config) {
  if (!internal::ValidJsName(config.name)) return InvalidName("stream", config.name);
  Result<Json> j = internal::ApiJson(*this, "STREAM.UPDATE." + config.name,
                                     internal::StreamConfigToJson(config).dump());
  if (!j.ok()) return j.status();
  return Convert<StreamInfo>(*j, "stream info", internal::StreamInfoFromJson);
}

Result<StreamInfo> JetStream::GetStreamInfo(std::string_view stream) {
  if (!internal::ValidJsName(stream)) return InvalidName("stream", stream);
  Result<Json> j = internal::ApiJson(*this, "STREAM.INFO." + std::string(stream), "");
  if (!j.ok()) return j.status();
  return Convert<StreamInfo>(*j, "stream info", internal::StreamInfoFromJson);
}

Status JetStream::DeleteStream(std::string_view stream) {
  if (!internal::ValidJsName(stream)) return InvalidName("stream", stream);
  Result<Json> j = internal::ApiJson(*this, "STREAM.DELETE." + std::string(stream), "");
  if (!j.ok()) return j.status();
  if (!j->value("success", false)) return internal::JsProtocolError("stream delete not confirmed");
  return Status::Ok();
}

Result<uint64_t> JetStream::PurgeStream(std::string_view stream, std::string_view subject,
                                        uint64_t keep) {
  if (!internal::ValidJsName(stream)) return InvalidName("stream", stream);
  Json body = Json::object();
  if (!subject.empty()) body["filter"] = subject;
  if (keep > 0) body["keep"] = keep;
  Result<Json> j = internal::ApiJson(*this, "STREAM.PURGE." + std::string(stream),
                                     body.empty() ? std::string() : body.dump());
  if (!j.ok()) return j.status();
  return Convert<uint64_t>(*j, "purge", [](const Json& r) -> Result<uint64_t> {
    if (!r.value("success", false)) return internal::JsProtocolError("purge not confirmed");
    return r.value("purged", uint64_t{0});
  });
}

namespace {

// Every page of a JetStream listing ($JS.API.<api>, {"offset": n} plus `extra`): the array
// under `key` of each reply, each element turned into a T by `item`.
template <typename T, typename Item>
Result<std::vector<T>> ListAll(JetStream& js, const std::string& api, const Json& extra,
                               const char* key, const char* what, Item item) {
  std::vector<T> out;
  for (uint64_t offset = 0;;) {
    Json body = extra;
    body["offset"] = offset;
    Result<Json> j = internal::ApiJson(js, api, body.dump());
    if (!j.ok()) return j.status();
    Result<uint64_t> page = Convert<uint64_t>(*j, what, [&](const Json& r) -> Result<uint64_t> {
      const Json& list = r.at(key);
      if (list.is_null()) return uint64_t{0};
      for (const Json& n : list) out.push_back(item(n));
      return static_cast<uint64_t>(list.size());
    });
    if (!page.ok()) return page.status();
    offset += *page;
    if (*page == 0 || offset >= j->value("total", uint64_t{0})) break;
  }
  return out;
}

Json SubjectFilter(std::string_view subject) {
  Json extra = Json::object();
  if (!subject.empty()) extra["subject"] = subject;
  return extra;
}

}  // namespace

Result<std::vector<std::string>> JetStream::StreamNames(std::string_view subject) {
  return ListAll<std::string>(*this, "STREAM.NAMES", SubjectFilter(subject), "streams",
                              "stream names", [](const Json& n) { return n.get<std::string>(); });
}

Result<std::vector<StreamInfo>> JetStream::Streams(std::string_view subject) {
  return ListAll<StreamInfo>(*this, "STREAM.LIST", SubjectFilter(subject), "streams",
                             "stream list", internal::StreamInfoFromJson);
}

Result<std::string> JetStream::StreamNameBySubject(std::string_view subject) {
  Result<std::vector<std::string>> names = StreamNames(subject);
  if (!names.ok()) return names.status();
  if (names->empty()) {
    return MakeError(StatusCode::kNotFound, ErrorKind::kNotFound,
                     "JetStream: no stream matches subject " + std::string(subject));
  }
  return names->front();
}

// Publishing

Result<PubAck> JetStream::Publish(std::string_view subject, std::string_view data,
                                  const PublishOptions& options) {
  return Publish(subject, Headers(), data, options);
}

Result<PubAck> JetStream::Publish(std::string_view subject, const Headers& headers,
                                  std::string_view data, const PublishOptions& options) {
  std::future<Result<PubAck>> f = PublishAsync(subject, headers, data, options);
  return f.get();  // completes by the PubAck, an error or the timeout (the reader thread's)
}

std::future<Result<PubAck>> JetStream::PublishAsync(std::string_view subject,
                                                    const Headers& headers, std::string_view data,
                                                    const PublishOptions& options) {
  auto promise = std::make_shared<std::promise<Result<PubAck>>>();
  std::future<Result<PubAck>> f = promise->get_future();
  PublishAsync(subject, headers, data, options,
               [promise](Result<PubAck> r) { promise->set_value(std::move(r)); });
  return f;
}

void JetStream::PublishAsync(std::string_view subject, const Headers& headers,
                             std::string_view data, const PublishOptions& options,
                             std::function<void(Result<PubAck>)> done) {
  const milliseconds timeout = options.timeout.count() > 0 ? options.timeout : options_.timeout;
  internal::Conn& c = conn_->impl();
  auto fail = [&](Status s) {
    if (done) done(std::move(s));
  };
  if (!internal::ValidSubject(subject, false)) {
    fail(MakeError(StatusCode::kInvalidArgument, ErrorKind::kInvalidSubject,
                   "JetStream: invalid subject \"" + std::string(subject) + "\""));
    return;
  }
  Headers h = headers;
  if (!options.msg_id.empty()) h.Set("Nats-Msg-Id", options.msg_id);
  if (!options.expected_stream.empty()) h.Set("Nats-Expected-Stream", options.expected_stream);
  if (options.expected_last_sequence) {
    h.Set("Nats-Expected-Last-Sequence", std::to_string(*options.expected_last_sequence));
  }
  if (options.expected_last_subject_sequence) {
    h.Set("Nats-Expected-Last-Subject-Sequence",
          std::to_string(*options.expected_last_subject_sequence));
  }
  if (!options.expected_last_msg_id.empty()) {
    h.Set("Nats-Expected-Last-Msg-Id", options.expected_last_msg_id);
  }
  AsyncState& a = *async_;
  uint64_t token = 0;
  {
    std::unique_lock<std::mutex> lock(a.mu);
    if (Status s = a.Start(c); !s.ok()) {
      lock.unlock();
      fail(std::move(s));
      return;
    }
    if (!a.cv.wait_for(lock, timeout, [&] { return a.pending.size() < a.max_pending || a.stop; })) {
      lock.unlock();
      fail(MakeError(StatusCode::kResourceExhausted, ErrorKind::kTimeout,
                     "JetStream: " + std::to_string(a.max_pending) +
                         " async publishes still await their PubAck",
                     true));
      return;
    }
    if (a.stop) {
      lock.unlock();
      fail(MakeError(StatusCode::kCancelled, ErrorKind::kConnectionClosed,
                     "JetStream: the context is closing"));
      return;
    }
    token = a.next++;
    AsyncState::Pending& p = a.pending[token];
    p.done = std::move(done);
    p.deadline = Clock::now() + timeout;
  }
  // The span is handed to the pending entry before the publish (its PubAck may come back before
  // PublishWithContext returns); the publish injects its context through a non-recording copy.
  trace::Span carrier;
  if (c.SpansOn()) {
    trace::Span span = c.StartSpan(trace::SpanKind::kProducer, "send", "publish", subject,
                                   data.size(), nullptr);
    carrier = trace::Span::Wrap(span.GetContext());
    std::lock_guard<std::mutex> lock(a.mu);
    auto it = a.pending.find(token);
    if (it != a.pending.end()) it->second.span = std::move(span);
  }
  Status sent = c.PublishWithContext(subject, a.prefix + internal::NewToken(token),
                                     h.empty() ? nullptr : &h, data, carrier);
  if (sent.ok()) return;
  std::optional<AsyncState::Pending> failed;
  {
    std::lock_guard<std::mutex> lock(a.mu);
    auto it = a.pending.find(token);
    if (it != a.pending.end()) {
      failed.emplace(std::move(it->second));
      a.pending.erase(it);
      ++a.completing;
    }
  }
  if (failed) {
    a.cv.notify_all();
    a.Finish(*failed, sent);
    a.Completed(1);
  }
}

size_t JetStream::PublishAsyncPending() const {
  std::lock_guard<std::mutex> lock(async_->mu);
  return async_->pending.size();
}

Status JetStream::PublishAsyncComplete(milliseconds timeout) {
  std::unique_lock<std::mutex> lock(async_->mu);
  if (!async_->cv.wait_for(lock, timeout, [&] {
        return async_->pending.empty() && async_->completing == 0;
      })) {
    return MakeError(StatusCode::kDeadlineExceeded, ErrorKind::kTimeout,
                     "JetStream: " + std::to_string(async_->pending.size()) +
                         " async publishes still pending after " +
                         std::to_string(timeout.count()) + " ms",
                     true);
  }
  return Status::Ok();
}

// Consumers

Result<ConsumerInfo> JetStream::UpsertConsumer(std::string_view stream,
                                               const ConsumerConfig& config) {
  if (!internal::ValidJsName(stream)) return InvalidName("stream", stream);
  const std::string& name = !config.durable_name.empty() ? config.durable_name : config.name;
  std::string subject;
  if (name.empty()) {
    subject = "CONSUMER.CREATE." + std::string(stream);
  } else {
    if (!internal::ValidJsName(name)) return InvalidName("consumer", name);
    if (config.filter_subject.empty() || config.filter_subject == ">") {
      subject = "CONSUMER.CREATE." + std::string(stream) + "." + name;
    } else {
      subject = "CONSUMER.CREATE." + std::string(stream) + "." + name + "." +
                config.filter_subject;
    }
  }
  Json body = {{"stream_name", stream}, {"config", ConsumerConfigToJson(config)}};
  Result<Json> j = internal::ApiJson(*this, subject, body.dump());
  if (!j.ok()) return j.status();
  return Convert<ConsumerInfo>(*j, "consumer info", ConsumerInfoFromJson);
}

Result<ConsumerInfo> JetStream::CreateConsumer(std::string_view stream,
                                               const ConsumerConfig& config) {
  return UpsertConsumer(stream, config);
}

Result<ConsumerInfo> JetStream::UpdateConsumer(std::string_view stream,
                                               const ConsumerConfig& config) {
  if (config.durable_name.empty() && config.name.empty()) {
    return MakeError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                     "JetStream: updating a consumer needs its name");
  }
  return UpsertConsumer(stream, config);
}

Result<ConsumerInfo> JetStream::GetConsumerInfo(std::string_view stream,
                                                std::string_view consumer) {
  if (!internal::ValidJsName(stream)) return InvalidName("stream", stream);
  if (!internal::ValidJsName(consumer)) return InvalidName("consumer", consumer);
  Result<Json> j = internal::ApiJson(
      *this, "CONSUMER.INFO." + std::string(stream) + "." + std::string(consumer), "");
  if (!j.ok()) return j.status();
  return Convert<ConsumerInfo>(*j, "consumer info", ConsumerInfoFromJson);
}

Status JetStream::DeleteConsumer(std::string_view stream, std::string_view consumer) {
  if (!internal::ValidJsName(stream)) return InvalidName("stream", stream);
  if (!internal::ValidJsName(consumer)) return InvalidName("consumer", consumer);
  Result<Json> j = internal::ApiJson(
      *this, "CONSUMER.DELETE." + std::string(stream) + "." + std::string(consumer), "");
  if (!j.ok()) return j.status();
  if (!j->value("success", false)) {
    return internal::JsProtocolError("consumer delete not confirmed");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> JetStream::ConsumerNames(std::string_view stream) {
  if (!internal::ValidJsName(stream)) return InvalidName("stream", stream);
  return ListAll<std::string>(*this, "CONSUMER.NAMES." + std::string(stream), Json::object(),
                              "consumers", "consumer names",
                              [](const Json& n) { return n.get<std::string>(); });
}

Result<std::vector<ConsumerInfo>> JetStream::Consumers(std::string_view stream) {
  if (!internal::ValidJsName(stream)) return InvalidName("stream", stream);
  return ListAll<ConsumerInfo>(*this, "CONSUMER.LIST." + std::string(stream), Json::object(),
                               "consumers", "consumer list",
                               [](const Json& n) { return ConsumerInfoFromJson(n); });
}

// Fetch

Result<std::vector<JsMessage>> JetStream::Fetch(std::string_view stream,
                                                std::string_view consumer,
                                                const FetchOptions& options) {
  if (!internal::ValidJsName(stream)) return InvalidName("stream", stream);
  if (!internal::ValidJsName(consumer)) return InvalidName("consumer", consumer);
  if (options.batch <= 0) {
    return MakeError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                     "JetStream: the batch must be positive");
  }
  internal::Conn& c = conn_->impl();
  const std::string inbox = conn_->NewInbox();
  auto sub_or = c.Subscribe(inbox, {}, {});
  if (!sub_or.ok()) return sub_or.status();
  std::shared_ptr<internal::SubState> sub = *sub_or;
  sub->traced.store(false, std::memory_order_relaxed);

  trace::Span span;
  if (c.SpansOn()) {
    span = c.StartSpan(trace::SpanKind::kConsumer, "receive", "receive", stream, 0, nullptr);
    span.SetAttribute("messaging.consumer.group.name", consumer);
  }

  Json body = {{"batch", options.batch}};
  // (With no_wait, an expiry would make the server wait for it instead of answering 404.)
  if (options.expires.count() > 0 && !options.no_wait) {
    body["expires"] = nanoseconds(options.expires).count();
  }
  if (options.no_wait) body["no_wait"] = true;
  if (options.idle_heartbeat.count() > 0) {
    body["idle_heartbeat"] = nanoseconds(options.idle_heartbeat).count();
  }
  if (options.max_bytes > 0) body["max_bytes"] = options.max_bytes;
  const std::string subject =
      prefix_ + "CONSUMER.MSG.NEXT." + std::string(stream) + "." + std::string(consumer);
  Status sent;
  {
    trace::SuppressTracingScope quiet;
    sent = c.PublishWithContext(subject, inbox, nullptr, body.dump(), trace::Span());
  }
  std::vector<JsMessage> messages;
  Status ended;  // why the pull ended without a full batch
  if (sent.ok()) {
    const auto start = Clock::now();
    const auto deadline =
        start + (options.expires.count() > 0 && !options.no_wait
                     ? options.expires + std::max(options.expires / 10, milliseconds(500))
                     : options_.timeout);
    auto last_activity = start;
    const milliseconds hb = options.idle_heartbeat;
    while (static_cast<int>(messages.size()) < options.batch) {
      const auto now = Clock::now();
      if (now >= deadline) {
        ended = MakeError(StatusCode::kDeadlineExceeded, ErrorKind::kTimeout,
                          "JetStream: fetch from " + std::string(consumer) + " timed out", true);
        break;
      }
      auto wait = std::chrono::duration_cast<milliseconds>(deadline - now) + milliseconds(1);
      if (hb.count() > 0) wait = std::min(wait, hb);
      Result<Message> m = [&] {
        trace::SuppressTracingScope quiet;
        return c.NextMsg(*sub, wait);
      }();
      if (!m.ok()) {
        if (ErrorKindOf(m.status()) != ErrorKind::kTimeout) {
          ended = m.status();
          break;
        }
        if (hb.count() > 0 && Clock::now() - last_activity > 2 * hb) {
          ended = MakeError(StatusCode::kDeadlineExceeded, ErrorKind::kTimeout,
                            "JetStream: fetch from " + std::string(consumer) +
                                ": no idle heartbeat from the server",
                            true);
          break;
        }
        continue;
      }
      last_activity = Clock::now();
      if (IsStatus(*m)) {
        const int st = m->status();
        if (st == 100) continue;  // idle heartbeat
        const std::string desc(m->headers().description());
        if (st == 404) {
          ended = MakeError(StatusCode::kDeadlineExceeded, ErrorKind::kTimeout,
                            "JetStream: no messages (404) for " + std::string(consumer), true);
        } else if (st == 408) {
          ended = MakeError(StatusCode::kDeadlineExceeded, ErrorKind::kTimeout,
                            "JetStream: the pull request expired (408) for " +
                                std::string(consumer),
                            true);
        } else {
          ended = MakeError(st == 409 ? StatusCode::kAborted : StatusCode::kUnknown,
                            ErrorKind::kJetStream,
                            "JetStream: pull request ended: " + std::to_string(st) + " " + desc);
        }
        break;
      }
      messages.emplace_back(std::move(*m));
    }
  } else {
    ended = sent;
  }
  c.Unsubscribe(sub, 0).IgnoreError();
  Status result = messages.empty() ? ended : Status::Ok();
  if (span.IsRecording()) {
    span.SetAttribute("messaging.batch.message_count", static_cast<int64_t>(messages.size()));
    for (const JsMessage& m : messages) {
      if (!m.message().has_headers()) continue;
      HeadersReader reader(m.headers());
      trace::Context sent_ctx = propagation::GlobalPropagator().Extract(reader);
      if (sent_ctx.span_context().IsValid()) span.AddLink(sent_ctx.span_context());
    }
  }
  c.EndSpan(span, result);
  if (!result.ok()) return result;
  return messages;
}

// Stored messages

Result<JetStream::StoredMessage> JetStream::GetMsg(std::string_view stream, uint64_t sequence,
                                                   std::string_view last_for, bool direct) {
  if (!internal::ValidJsName(stream)) return InvalidName("stream", stream);
  auto not_found = [&] {
    return internal::JsApiError(404, kJsErrMessageNotFound, "no message found");
  };
  if (direct) {
    std::string subject = prefix_ + "DIRECT.GET." + std::string(stream);
    std::string body;
    if (!last_for.empty()) {
      subject += ".";
      subject += last_for;
    } else {
      body = Json({{"seq", sequence}}).dump();
    }
    Result<Message> r = conn_->Request(subject, body, options_.timeout);
    if (!r.ok()) {
      if (ErrorKindOf(r.status()) == ErrorKind::kNoResponders) {
        return MakeError(StatusCode::kUnavailable, ErrorKind::kNoResponders,
                         "JetStream: no direct get responder for " + std::string(stream));
      }
      return r.status();
    }
    if (r->status() == 404) return not_found();
    if (r->status() != 0) {
      return internal::JsApiError(r->status(), 0,
                                  std::string(r->headers().description().empty()
                                                  ? "direct get failed"
                                                  : r->headers().description()));
    }
    StoredMessage out;
    const Headers& h = r->headers();
    auto seq = h.Find("Nats-Sequence");
    auto subj = h.Find("Nats-Subject");
    auto ts = h.Find("Nats-Time-Stamp");
    if (!seq || !subj || !ParseU64(*seq, &out.sequence)) {
      return internal::JsProtocolError("direct get reply without Nats-Sequence / Nats-Subject");
    }
    out.subject = std::string(*subj);
    if (ts) out.time_unix_nano = internal::ParseRfc3339(*ts).value_or(0);
    for (const auto& [k, v] : h) {
      if (k == "Nats-Stream" || k == "Nats-Sequence" || k == "Nats-Subject" ||
          k == "Nats-Time-Stamp") {
        continue;
      }
      out.headers.Add(k, v);
    }
    out.data = std::string(r->data());
    return out;
  }
  Json body = Json::object();
  if (!last_for.empty()) {
    body["last_by_subj"] = last_for;
  } else {
    body["seq"] = sequence;
  }
  Result<Json> j = internal::ApiJson(*this, "STREAM.MSG.GET." + std::string(stream), body.dump());
  if (!j.ok()) return j.status();
  return Convert<StoredMessage>(*j, "stored message", [](const Json& r) -> Result<StoredMessage> {
    const Json& m = r.at("message");
    StoredMessage out;
    out.subject = m.at("subject").get<std::string>();
    out.sequence = m.at("seq").get<uint64_t>();
    out.time_unix_nano = TimeField(m, "time");
    if (auto d = m.find("data"); d != m.end() && !d->is_null()) {
      auto bytes = internal::Base64Decode(d->get<std::string>());
      if (!bytes) return internal::JsProtocolError("stored message data is not base64");
      out.data = std::move(*bytes);
    }
    if (auto h = m.find("hdrs"); h != m.end() && !h->is_null()) {
      auto bytes = internal::Base64Decode(h->get<std::string>());
      if (!bytes) return internal::JsProtocolError("stored message headers are not base64");
      Result<Headers> parsed = Headers::Parse(*bytes);
      if (!parsed.ok()) return internal::JsProtocolError("stored message headers do not parse");
      out.headers = std::move(*parsed);
    }
    return out;
  });
}

Result<JetStream::StoredMessage> JetStream::GetMessage(std::string_view stream, uint64_t sequence,
                                                       bool direct) {
  return GetMsg(stream, sequence, {}, direct);
}

Result<JetStream::StoredMessage> JetStream::GetLastMessage(std::string_view stream,
                                                           std::string_view subject, bool direct) {
  if (!internal::ValidSubject(subject, false)) {
    return MakeError(StatusCode::kInvalidArgument, ErrorKind::kInvalidSubject,
                     "JetStream: invalid subject \"" + std::string(subject) + "\"");
  }
  return GetMsg(stream, 0, subject, direct);
}

Status JetStream::DeleteMessage(std::string_view stream, uint64_t sequence) {
  if (!internal::ValidJsName(stream)) return InvalidName("stream", stream);
  Result<Json> j = internal::ApiJson(*this, "STREAM.MSG.DELETE." + std::string(stream),
                                     Json({{"seq", sequence}}).dump());
  if (!j.ok()) return j.status();
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Ordered consumer

struct OrderedConsumer::State : std::enable_shared_from_this<OrderedConsumer::State> {
  std::shared_ptr<JetStream> js;
  std::string stream;
  OrderedConsumerConfig config;
  std::function<void(JsMessage&)> handler;

  mutable std::mutex mu;
  std::condition_variable cv;  // queue, reset request, stop
  std::shared_ptr<internal::SubState> sub;
  std::string consumer;  // the server's name for the current consumer
  uint64_t generation = 0;
  uint64_t expected_dseq = 1;
  uint64_t last_sseq = 0;
  uint64_t initial_pending = 0;
  uint64_t resets = 0;
  bool active = false;
  bool reset_needed = false;
  bool stopped = false;
  std::deque<JsMessage> queue;
  std::thread monitor;

  // Creates the consumer (again): from the configured start the first time, then from the
  // stream sequence after the last one delivered.
  Status Reset(bool first) {
    std::shared_ptr<internal::SubState> old_sub;
    std::string old_consumer;
    uint64_t gen;
    uint64_t start_seq;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stopped) return Status::Ok();
      gen = ++generation;
      old_sub = std::move(sub);
      old_consumer = std::move(consumer);
      start_seq = last_sseq + 1;
      reset_needed = false;
      if (!first) ++resets;
    }
    internal::Conn& c = js->connection()->impl();
    if (old_sub) c.Unsubscribe(old_sub, 0).IgnoreError();
    if (!old_consumer.empty() && js->connection()->IsConnected()) {
      trace::SuppressTracingScope quiet;
      js->DeleteConsumer(stream, old_consumer).IgnoreError();
    }
    const std::string deliver = js->connection()->NewInbox();
    std::weak_ptr<State> weak = weak_from_this();
    auto s = c.Subscribe(deliver, {}, [weak, gen](Message& m) {
      if (auto self = weak.lock()) self->OnMessage(m, gen);
    });
    if (!s.ok()) return s.status();
    (*s)->traced.store(false, std::memory_order_relaxed);
    ConsumerConfig cc;
    cc.deliver_subject = deliver;
    cc.ack_policy = AckPolicy::kNone;
    cc.max_deliver = 1;
    cc.ack_wait = std::chrono::hours(22);
    cc.flow_control = true;
    cc.idle_heartbeat = config.heartbeat;
    cc.mem_storage = true;
    cc.replicas = 1;
    cc.filter_subject = config.filter_subject;
    cc.headers_only = config.headers_only;
    cc.inactive_threshold = std::chrono::minutes(5);
    if (first || start_seq == 1) {  // nothing delivered yet: start as configured
      cc.deliver_policy = config.deliver_policy;
      cc.opt_start_seq = config.opt_start_seq;
    } else {
      cc.deliver_policy = DeliverPolicy::kByStartSequence;
      cc.opt_start_seq = start_seq;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      sub = *s;
      expected_dseq = 1;
      active = true;
    }
    Result<ConsumerInfo> info = [&] {
      trace::SuppressTracingScope quiet;
      return js->CreateConsumer(stream, cc);
    }();
    if (!info.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      reset_needed = true;
      return info.status();
    }
    std::lock_guard<std::mutex> lock(mu);
    consumer = info->name;
    initial_pending = info->num_pending;
    return Status::Ok();
  }

  void OnMessage(Message& m, uint64_t gen) {
    std::unique_lock<std::mutex> lock(mu);
    if (gen != generation || stopped) return;
    active = true;
    if (IsStatus(m)) {
      if (m.status() == 100) {
        if (!m.reply().empty()) {  // flow control request
          lock.unlock();
          trace::SuppressTracingScope quiet;
          js->connection()->impl().PublishWithContext(m.reply(), {}, nullptr, {}, trace::Span())
              .IgnoreError();
          return;
        }
        const std::string_view stalled = m.header("Nats-Consumer-Stalled");
        const std::string_view last = m.header("Nats-Last-Consumer");
        uint64_t ldseq = 0;
        if (!last.empty() && ParseU64(last, &ldseq) && ldseq != expected_dseq - 1) {
          reset_needed = true;
          cv.notify_all();
        }
        if (!stalled.empty()) {
          lock.unlock();
          trace::SuppressTracingScope quiet;
          js->connection()->impl().PublishWithContext(stalled, {}, nullptr, {}, trace::Span())
              .IgnoreError();
        }
        return;
      }
      reset_needed = true;  // 409 consumer deleted and the like
      cv.notify_all();
      return;
    }
    Result<JsMetadata> md = ParseJsAckSubject(m.reply());
    if (!md.ok()) return;
    if (md->consumer_seq != expected_dseq) {
      reset_needed = true;
      cv.notify_all();
      return;
    }
    expected_dseq = md->consumer_seq + 1;
    last_sseq = md->stream_seq;
    JsMessage jm(std::move(m));
    if (handler) {
      lock.unlock();
      handler(jm);
      return;
    }
    queue.push_back(std::move(jm));
    cv.notify_all();
  }

  void Monitor() {
    const auto window = config.heartbeat * 2 + config.heartbeat / 2;
    std::unique_lock<std::mutex> lock(mu);
    while (!stopped) {
      const bool woke = cv.wait_for(lock, window, [&] { return stopped || reset_needed; });
      if (stopped) break;
      if (woke || !active) {
        lock.unlock();
        Status s = Reset(false);
        lock.lock();
        if (!s.ok() && !stopped) {
          // The server may be away: try again after a heartbeat interval.
          cv.wait_for(lock, config.heartbeat, [&] { return stopped; });
          reset_needed = true;
        }
        continue;
      }
      active = false;
    }
  }

  void Stop() {
    std::shared_ptr<internal::SubState> s;
    std::string name;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stopped) return;
      stopped = true;
      s = std::move(sub);
      name = std::move(consumer);
    }
    cv.notify_all();
    if (monitor.joinable()) {
      if (monitor.get_id() == std::this_thread::get_id()) {
        monitor.detach();
      } else {
        monitor.join();
      }
    }
    if (s) js->connection()->impl().Unsubscribe(s, 0).IgnoreError();
    if (!name.empty() && js->connection()->IsConnected()) {
      trace::SuppressTracingScope quiet;
      internal::ApiJson(*js, "CONSUMER.DELETE." + stream + "." + name, "",
                        std::min(js->options().timeout, milliseconds(2000)))
          .status()
          .IgnoreError();
    }
  }
};

OrderedConsumer::~OrderedConsumer() { Stop(); }

void OrderedConsumer::Stop() { state_->Stop(); }

Result<JsMessage> OrderedConsumer::Next(milliseconds timeout) {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mu);
  s.cv.wait_for(lock, timeout, [&] { return !s.queue.empty() || s.stopped; });
  if (!s.queue.empty()) {
    JsMessage m = std::move(s.queue.front());
    s.queue.pop_front();
    return m;
  }
  if (s.stopped) {
    return MakeError(StatusCode::kFailedPrecondition, ErrorKind::kSubscriptionClosed,
                     "JetStream: the ordered consumer is stopped");
  }
  return MakeError(StatusCode::kDeadlineExceeded, ErrorKind::kTimeout,
                   "JetStream: no message within " + std::to_string(timeout.count()) + " ms",
                   true);
}

uint64_t OrderedConsumer::initial_pending() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->initial_pending;
}
uint64_t OrderedConsumer::resets() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->resets;
}
uint64_t OrderedConsumer::last_stream_seq() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->last_sseq;
}

Result<std::unique_ptr<OrderedConsumer>> JetStream::OrderedSubscribe(
    std::string_view stream, const OrderedConsumerConfig& config,
    std::function<void(JsMessage&)> handler) {
  if (!internal::ValidJsName(stream)) return InvalidName("stream", stream);
  if (config.heartbeat.count() <= 0) {
    return MakeError(StatusCode::kInvalidArgument, ErrorKind::kInvalidArgument,
                     "JetStream: an ordered consumer needs a positive heartbeat");
  }
  auto state = std::make_shared<OrderedConsumer::State>();
  state->js = shared_from_this();
  state->stream = std::string(stream);
  state->config = config;
  state->handler = std::move(handler);
  if (Status s = state->Reset(true); !s.ok()) {
    state->Stop();
    return s;
  }
  state->monitor = std::thread([raw = state.get()] { raw->Monitor(); });
  return std::unique_ptr<OrderedConsumer>(new OrderedConsumer(std::move(state)));
}

}  // namespace otlp::nats
