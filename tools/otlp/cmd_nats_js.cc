// otlp nats stream|consumer|kv|obj — JetStream streams and pull consumers, the Key/Value store
// and the Object Store on otlp::nats, as the official `nats` tool has them. Each command runs its
// operations inside one NatsInvocation; the library traces them (API requests, publishes with
// their PubAck, fetches, acks, "kv <op>" and "obj <op>" spans).
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common.h"
#include "nats_common.h"
#include "otlp/nats/error.h"
#include "otlp/nats/jetstream.h"
#include "otlp/nats/kv.h"
#include "otlp/nats/object_store.h"

namespace otlp::cli {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

// ---- shared -------------------------------------------------------------------------------

// The command's flags plus --timeout (JetStream API requests) and the connection flags.
Command JsCommand(Command c) {
  c.flags.push_back({.name = "timeout",
                     .value = "S",
                     .help = "Seconds to wait for each JetStream reply (default 5)"});
  AddNatsFlags(c);
  return c;
}

// One JetStream command's life: parse, connect, the JetStream context, finish.
struct JsInvocation {
  NatsInvocation inv;
  std::shared_ptr<nats::JetStream> js;
  milliseconds timeout{5000};

  const std::vector<std::string>& args() const { return inv.positional; }
  const ParsedFlags& flags() const { return inv.flags; }

  std::optional<int> Parse(const Command& cmd, std::span<const std::string> argv, size_t min,
                           size_t max) {
    if (auto code = inv.Parse(cmd, argv, min, max)) return code;
    std::string error;
    if (!SecondsFlag(inv.flags, "timeout", timeout, error)) return UsageError(cmd, error);
    return std::nullopt;
  }
  std::optional<int> Start(const Command& cmd) {
    if (auto code = inv.Start(cmd)) return code;
    Result<std::shared_ptr<nats::JetStream>> j =
        nats::JetStream::Create(inv.conn, {.timeout = timeout});
    if (!j.ok()) return Fail(cmd, "", j.status());
    js = std::move(*j);
    return std::nullopt;
  }
  // "otlp <cmd>: <what>: <status>" on stderr; drains and flushes; exit code 1.
  int Fail(const Command& cmd, std::string_view what, const Status& status) {
    std::string line = std::string(what);
    if (!line.empty()) line += ": ";
    line += status.ToString();
    PrintError(cmd, line);
    js.reset();
    return inv.Finish(cmd, 1);
  }
  int Finish(const Command& cmd, int exit_code) {
    js.reset();
    return inv.Finish(cmd, exit_code);
  }
};

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// An integer flag that may be -1 (unlimited).
bool LimitFlag(const ParsedFlags& flags, std::string_view name, int64_t& out, std::string& error) {
  std::optional<std::string> v = flags.Get(name);
  if (!v) return true;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < -1 || n == 0) {
    error = "invalid --" + std::string(name) + " '" + *v +
            "' (expected a positive integer, or -1 for unlimited)";
    return false;
  }
  out = n;
  return true;
}

// A duration flag: a number with an optional unit s (default), m, h or d ("90", "1.5h", "7d").
bool DurationFlag(const ParsedFlags& flags, std::string_view name, nanoseconds& out,
                  std::string& error) {
  std::optional<std::string> v = flags.Get(name);
  if (!v) return true;
  std::string text = *v;
  double unit = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 's': unit = 1; text.pop_back(); break;
      case 'm': unit = 60; text.pop_back(); break;
      case 'h': unit = 3600; text.pop_back(); break;
      case 'd': unit = 86400; text.pop_back(); break;
      default: break;
    }
  }
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  const double seconds = value * unit;
  if (text.empty() || *end != '\0' || !std::isfinite(seconds) || seconds <= 0 ||
      seconds > 100.0 * 365 * 86400) {
    error = "invalid --" + std::string(name) + " '" + *v +
            "' (expected a duration > 0: seconds, or with a unit s, m, h, d)";
    return false;
  }
  out = nanoseconds(static_cast<int64_t>(std::llround(seconds * 1e9)));
  return true;
}

bool StorageFlag(const ParsedFlags& flags, nats::StorageType& out, std::string& error) {
  std::optional<std::string> v = flags.Get("storage");
  if (!v) return true;
  if (*v == "file") {
    out = nats::StorageType::kFile;
  } else if (*v == "memory") {
    out = nats::StorageType::kMemory;
  } else {
    error = "invalid --storage '" + *v + "' (expected file or memory)";
    return false;
  }
  return true;
}

// A positional unsigned integer (a sequence, a revision).
bool ParseUnsigned(const std::string& text, uint64_t& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && !text.empty();
}

// DATA when given, else stdin.
bool DataArgument(const std::vector<std::string>& positional, size_t index, std::string& out) {
  if (positional.size() > index) {
    out = positional[index];
    return true;
  }
  return ReadStdin(out);
}

std::string FormatTime(int64_t unix_nano) {
  if (unix_nano <= 0) return "-";
  const std::time_t seconds = static_cast<std::time_t>(unix_nano / 1000000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>((unix_nano / 1000000) % 1000));
  return std::string(buf) + frac;
}

std::string FormatDuration(nanoseconds d) {
  if (d.count() <= 0) return "unlimited";
  const double seconds = std::chrono::duration<double>(d).count();
  char buf[64];
  if (seconds >= 86400 && std::fmod(seconds, 86400) == 0) {
    std::snprintf(buf, sizeof buf, "%.0fd", seconds / 86400);
  } else if (seconds >= 3600 && std::fmod(seconds, 3600) == 0) {
    std::snprintf(buf, sizeof buf, "%.0fh", seconds / 3600);
  } else {
    std::snprintf(buf, sizeof buf, "%gs", seconds);
  }
  return buf;
}

std::string FormatLimit(int64_t n) { return n < 0 ? "unlimited" : std::to_string(n); }

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::vector<std::string> SplitComma(const std::string& text) {
  std::vector<std::string> out;
  for (size_t start = 0; start <= text.size();) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

const char* StorageName(nats::StorageType s) {
  return s == nats::StorageType::kMemory ? "memory" : "file";
}

const char* RetentionName(nats::RetentionPolicy r) {
  switch (r) {
    case nats::RetentionPolicy::kInterest: return "interest";
    case nats::RetentionPolicy::kWorkQueue: return "workqueue";
    default: return "limits";
  }
}

const char* AckName(nats::AckPolicy a) {
  switch (a) {
    case nats::AckPolicy::kNone: return "none";
    case nats::AckPolicy::kAll: return "all";
    default: return "explicit";
  }
}

void PrintBody(std::string_view data) {
  std::fwrite(data.data(), 1, data.size(), stdout);
  std::fputc('\n', stdout);
}

void PrintHeaders(const nats::Headers& headers) {
  for (const auto& [k, v] : headers) std::printf("%s: %s\n", k.c_str(), v.c_str());
  if (headers.size() > 0) std::printf("\n");
}

void PrintStreamInfo(const nats::StreamInfo& info) {
  const nats::StreamConfig& c = info.config;
  const nats::StreamState& s = info.state;
  std::printf("Stream %s (created %s)\n", c.name.c_str(), FormatTime(info.created_unix_nano).c_str());
  std::printf("  Subjects:      %s\n", Join(c.subjects, ", ").c_str());
  std::printf("  Storage:       %s, %d replica%s\n", StorageName(c.storage), c.replicas,
              c.replicas == 1 ? "" : "s");
  std::printf("  Retention:     %s\n", RetentionName(c.retention));
  std::printf("  Max messages:  %s\n", FormatLimit(c.max_msgs).c_str());
  std::printf("  Max bytes:     %s\n", FormatLimit(c.max_bytes).c_str());
  std::printf("  Max age:       %s\n", FormatDuration(c.max_age).c_str());
  std::printf("  Messages:      %llu (%llu bytes)\n", static_cast<unsigned long long>(s.messages),
              static_cast<unsigned long long>(s.bytes));
  std::printf("  Sequences:     %llu..%llu\n", static_cast<unsigned long long>(s.first_seq),
              static_cast<unsigned long long>(s.last_seq));
  std::printf("  Consumers:     %lld\n", static_cast<long long>(s.consumer_count));
}

void PrintConsumerInfo(const nats::ConsumerInfo& info) {
  const nats::ConsumerConfig& c = info.config;
  std::printf("Consumer %s on stream %s (created %s)\n", info.name.c_str(), info.stream.c_str(),
              FormatTime(info.created_unix_nano).c_str());
  std::printf("  Kind:          %s\n", c.deliver_subject.empty() ? "pull" : "push");
  std::printf("  Ack policy:    %s\n", AckName(c.ack_policy));
  std::printf("  Filter:        %s\n", c.filter_subject.empty() ? "-" : c.filter_subject.c_str());
  std::printf("  Pending:       %llu\n", static_cast<unsigned long long>(info.num_pending));
  std::printf("  Ack pending:   %llu\n", static_cast<unsigned long long>(info.num_ack_pending));
  std::printf("  Redelivered:   %llu\n", static_cast<unsigned long long>(info.num_redelivered));
  std::printf("  Delivered:     stream seq %llu, consumer seq %llu\n",
              static_cast<unsigned long long>(info.delivered.stream_seq),
              static_cast<unsigned long long>(info.delivered.consumer_seq));
  std::printf("  Ack floor:     stream seq %llu, consumer seq %llu\n",
              static_cast<unsigned long long>(info.ack_floor.stream_seq),
              static_cast<unsigned long long>(info.ack_floor.consumer_seq));
}

// Subcommand tables.
struct Subcommand {
  std::string_view name;
  int (*run)(std::span<const std::string>);
};

int Dispatch(std::string_view group, const char* help, const std::vector<Subcommand>& table,
             std::span<const std::string> args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(help, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  for (const Subcommand& s : table) {
    if (args[0] == s.name) return s.run(args.subspan(1));
  }
  std::fprintf(stderr, "otlp nats %.*s: unknown command '%s' (see otlp nats %.*s --help)\n",
               static_cast<int>(group.size()), group.data(), args[0].c_str(),
               static_cast<int>(group.size()), group.data());
  return 2;
}

// ---- stream -------------------------------------------------------------------------------

constexpr const char* kStreamHelp =
    "otlp nats stream — JetStream streams\n"
    "\n"
    "Usage: otlp nats stream <command> [args] [flags]\n"
    "\n"
    "Commands:\n"
    "  add NAME --subjects a,b   create a stream\n"
    "  info NAME                 its configuration and state\n"
    "  ls                        every stream\n"
    "  rm NAME                   delete a stream and its messages\n"
    "  purge NAME                remove its messages (--subject S: only those)\n"
    "  pub SUBJECT [DATA]        publish and wait for the stream's acknowledgement\n"
    "  get NAME SEQ              print a stored message\n"
    "\n"
    "Run `otlp nats stream <command> --help` for its flags.\n";

int StreamAdd(std::span<const std::string> argv) {
  static const Command cmd = JsCommand(
      {.name = "nats stream add",
       .summary = "create a JetStream stream",
       .usage = "otlp nats stream add NAME --subjects a,b [flags]",
       .flags = {{.name = "subjects",
                  .value = "LIST",
                  .help = "Subjects the stream stores, comma-separated (wildcards allowed)"},
                 {.name = "storage", .value = "file|memory", .help = "Storage (default file)"},
                 {.name = "max-msgs", .value = "N", .help = "Messages kept at most (default unlimited)"},
                 {.name = "max-bytes", .value = "B", .help = "Bytes kept at most (default unlimited)"},
                 {.name = "max-age",
                  .value = "D",
                  .help = "Age at most, in seconds or with a unit (90, 30m, 2h, 7d)"},
                 {.name = "replicas", .value = "N", .help = "Replicas (default 1)"},
                 {.name = "description", .value = "TEXT", .help = "Description"}},
       .examples = "  otlp nats stream add ORDERS --subjects 'orders.>' --max-age 7d\n"
                   "  otlp nats stream add EVENTS --subjects ev.a,ev.b --storage memory "
                   "--max-msgs 1000\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 1, 1)) return *code;
  nats::StreamConfig sc{.name = j.args()[0]};
  std::string error;
  uint64_t replicas = 1;
  if (!j.flags().Has("subjects")) return UsageError(cmd, "--subjects is required");
  sc.subjects = SplitComma(*j.flags().Get("subjects"));
  if (sc.subjects.empty()) return UsageError(cmd, "--subjects is empty");
  if (!StorageFlag(j.flags(), sc.storage, error) ||
      !LimitFlag(j.flags(), "max-msgs", sc.max_msgs, error) ||
      !LimitFlag(j.flags(), "max-bytes", sc.max_bytes, error) ||
      !DurationFlag(j.flags(), "max-age", sc.max_age, error) ||
      !UnsignedFlag(j.flags(), "replicas", 1, 5, replicas, error)) {
    return UsageError(cmd, error);
  }
  sc.replicas = static_cast<int>(replicas);
  sc.description = j.flags().Get("description").value_or("");
  if (auto code = j.Start(cmd)) return *code;
  Result<nats::StreamInfo> info = j.js->CreateStream(sc);
  if (!info.ok()) return j.Fail(cmd, "stream " + sc.name, info.status());
  PrintStreamInfo(*info);
  return j.Finish(cmd, 0);
}

int StreamInfo(std::span<const std::string> argv) {
  static const Command cmd =
      JsCommand({.name = "nats stream info",
                 .summary = "print a stream's configuration and state",
                 .usage = "otlp nats stream info NAME [flags]",
                 .examples = "  otlp nats stream info ORDERS\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 1, 1)) return *code;
  if (auto code = j.Start(cmd)) return *code;
  Result<nats::StreamInfo> info = j.js->GetStreamInfo(j.args()[0]);
  if (!info.ok()) return j.Fail(cmd, "stream " + j.args()[0], info.status());
  PrintStreamInfo(*info);
  return j.Finish(cmd, 0);
}

int StreamLs(std::span<const std::string> argv) {
  static const Command cmd = JsCommand(
      {.name = "nats stream ls",
       .summary = "list the streams: name, messages, bytes, subjects",
       .usage = "otlp nats stream ls [flags]",
       .flags = {{.name = "subject", .value = "S", .help = "Only streams that store subject S"},
                 {.name = "names", .help = "Print only the names"}},
       .examples = "  otlp nats stream ls\n  otlp nats stream ls --subject orders.new --names\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 0, 0)) return *code;
  if (auto code = j.Start(cmd)) return *code;
  Result<std::vector<nats::StreamInfo>> streams =
      j.js->Streams(j.flags().Get("subject").value_or(""));
  if (!streams.ok()) return j.Fail(cmd, "listing streams", streams.status());
  std::sort(streams->begin(), streams->end(),
            [](const auto& a, const auto& b) { return a.config.name < b.config.name; });
  if (streams->empty()) std::fprintf(stderr, "No streams\n");
  for (const nats::StreamInfo& s : *streams) {
    if (j.flags().Has("names")) {
      std::printf("%s\n", s.config.name.c_str());
      continue;
    }
    std::printf("%-24s %10llu msgs %12llu bytes  %s\n", s.config.name.c_str(),
                static_cast<unsigned long long>(s.state.messages),
                static_cast<unsigned long long>(s.state.bytes),
                Join(s.config.subjects, ",").c_str());
  }
  return j.Finish(cmd, 0);
}

int StreamRm(std::span<const std::string> argv) {
  static const Command cmd =
      JsCommand({.name = "nats stream rm",
                 .summary = "delete a stream, its messages and its consumers",
                 .usage = "otlp nats stream rm NAME [flags]",
                 .examples = "  otlp nats stream rm ORDERS\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 1, 1)) return *code;
  if (auto code = j.Start(cmd)) return *code;
  if (Status s = j.js->DeleteStream(j.args()[0]); !s.ok()) {
    return j.Fail(cmd, "stream " + j.args()[0], s);
  }
  std::printf("Deleted stream %s\n", j.args()[0].c_str());
  return j.Finish(cmd, 0);
}

int StreamPurge(std::span<const std::string> argv) {
  static const Command cmd = JsCommand(
      {.name = "nats stream purge",
       .summary = "remove a stream's messages (all, or a subject's)",
       .usage = "otlp nats stream purge NAME [flags]",
       .flags = {{.name = "subject", .value = "S", .help = "Only the messages of S (wildcards allowed)"},
                 {.name = "keep", .value = "N", .help = "Keep the last N messages"}},
       .examples = "  otlp nats stream purge ORDERS\n"
                   "  otlp nats stream purge ORDERS --subject orders.test --keep 10\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 1, 1)) return *code;
  uint64_t keep = 0;
  std::string error;
  if (!UnsignedFlag(j.flags(), "keep", 0, UINT64_MAX, keep, error)) return UsageError(cmd, error);
  if (auto code = j.Start(cmd)) return *code;
  Result<uint64_t> purged =
      j.js->PurgeStream(j.args()[0], j.flags().Get("subject").value_or(""), keep);
  if (!purged.ok()) return j.Fail(cmd, "stream " + j.args()[0], purged.status());
  std::printf("Purged %llu messages from stream %s\n", static_cast<unsigned long long>(*purged),
              j.args()[0].c_str());
  return j.Finish(cmd, 0);
}

int StreamPub(std::span<const std::string> argv) {
  static const Command cmd = JsCommand(
      {.name = "nats stream pub",
       .summary = "publish to a stream and print where it was stored (PRODUCER span)",
       .usage = "otlp nats stream pub SUBJECT [DATA] [flags]",
       .description = "DATA is the body; without it, stdin is read. Waits for the PubAck and "
                      "prints the stream and\nsequence (\"duplicate\" when --msg-id was seen "
                      "within the stream's duplicate window).",
       .flags = {{.name = "header",
                  .value = "'K: V'",
                  .help = "Message header (-H); repeatable",
                  .repeated = true},
                 {.name = "msg-id", .value = "ID", .help = "De-duplication id (Nats-Msg-Id)"},
                 {.name = "expect-stream", .value = "NAME", .help = "Fail unless NAME stores it"},
                 {.name = "expect-last-seq",
                  .value = "N",
                  .help = "Fail unless the stream's last sequence is N"}},
       .examples = "  otlp nats stream pub orders.new '{\"id\":42}' --msg-id order-42\n"
                   "  echo hello | otlp nats stream pub orders.new -H 'X-Source: shell'\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 1, 2)) return *code;
  nats::Headers headers;
  std::string error;
  if (!ParseHeaderFlags(j.flags(), headers, error)) return UsageError(cmd, error);
  nats::PublishOptions po;
  po.msg_id = j.flags().Get("msg-id").value_or("");
  po.expected_stream = j.flags().Get("expect-stream").value_or("");
  if (j.flags().Has("expect-last-seq")) {
    uint64_t seq = 0;
    if (!UnsignedFlag(j.flags(), "expect-last-seq", 0, UINT64_MAX, seq, error)) {
      return UsageError(cmd, error);
    }
    po.expected_last_sequence = seq;
  }
  std::string data;
  if (!DataArgument(j.args(), 1, data)) return UsageError(cmd, "reading stdin failed");
  if (auto code = j.Start(cmd)) return *code;
  Result<nats::PubAck> ack = j.js->Publish(j.args()[0], headers, data, po);
  if (!ack.ok()) return j.Fail(cmd, "publish to " + j.args()[0], ack.status());
  std::printf("Stored in stream %s at sequence %llu%s\n", ack->stream.c_str(),
              static_cast<unsigned long long>(ack->sequence), ack->duplicate ? " (duplicate)" : "");
  return j.Finish(cmd, 0);
}

int StreamGet(std::span<const std::string> argv) {
  static const Command cmd = JsCommand(
      {.name = "nats stream get",
       .summary = "print a stored message by sequence",
       .usage = "otlp nats stream get NAME SEQ [flags]",
       .description = "Prints a line with the subject and time, the headers, then the body.",
       .flags = {{.name = "raw", .help = "Print only the body"}},
       .examples = "  otlp nats stream get ORDERS 1\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 2, 2)) return *code;
  uint64_t seq = 0;
  if (!ParseUnsigned(j.args()[1], seq) || seq == 0) {
    return UsageError(cmd, "invalid sequence '" + j.args()[1] + "' (expected an integer > 0)");
  }
  if (auto code = j.Start(cmd)) return *code;
  Result<nats::JetStream::StoredMessage> m = j.js->GetMessage(j.args()[0], seq);
  if (!m.ok()) {
    return j.Fail(cmd, "message " + j.args()[1] + " of stream " + j.args()[0], m.status());
  }
  if (!j.flags().Has("raw")) {
    std::printf("[%llu] subject \"%s\" stored %s\n", static_cast<unsigned long long>(m->sequence),
                m->subject.c_str(), FormatTime(m->time_unix_nano).c_str());
    PrintHeaders(m->headers);
  }
  PrintBody(m->data);
  return j.Finish(cmd, 0);
}

// ---- consumer -----------------------------------------------------------------------------

constexpr const char* kConsumerHelp =
    "otlp nats consumer — JetStream pull consumers\n"
    "\n"
    "Usage: otlp nats consumer <command> [args] [flags]\n"
    "\n"
    "Commands:\n"
    "  add STREAM NAME       create a durable pull consumer\n"
    "  info STREAM NAME      its configuration and state\n"
    "  ls STREAM             the stream's consumers\n"
    "  rm STREAM NAME        delete a consumer\n"
    "  next STREAM NAME      fetch messages, print and acknowledge them\n"
    "\n"
    "Run `otlp nats consumer <command> --help` for its flags.\n";

int ConsumerAdd(std::span<const std::string> argv) {
  static const Command cmd = JsCommand(
      {.name = "nats consumer add",
       .summary = "create a durable pull consumer",
       .usage = "otlp nats consumer add STREAM NAME [flags]",
       .flags = {{.name = "filter", .value = "S", .help = "Only messages on subject S"},
                 {.name = "ack",
                  .value = "POLICY",
                  .help = "explicit (default), none or all"},
                 {.name = "deliver",
                  .value = "POLICY",
                  .help = "Where to start: all (default), last, new"},
                 {.name = "max-deliver", .value = "N", .help = "Deliveries at most per message"},
                 {.name = "description", .value = "TEXT", .help = "Description"}},
       .examples = "  otlp nats consumer add ORDERS billing --filter orders.new\n"
                   "  otlp nats consumer add ORDERS audit --ack none --deliver new\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 2, 2)) return *code;
  nats::ConsumerConfig cc{.durable_name = j.args()[1]};
  cc.filter_subject = j.flags().Get("filter").value_or("");
  cc.description = j.flags().Get("description").value_or("");
  const std::string ack = j.flags().Get("ack").value_or("explicit");
  if (ack == "explicit") {
    cc.ack_policy = nats::AckPolicy::kExplicit;
  } else if (ack == "none") {
    cc.ack_policy = nats::AckPolicy::kNone;
  } else if (ack == "all") {
    cc.ack_policy = nats::AckPolicy::kAll;
  } else {
    return UsageError(cmd, "invalid --ack '" + ack + "' (expected explicit, none or all)");
  }
  const std::string deliver = j.flags().Get("deliver").value_or("all");
  if (deliver == "all") {
    cc.deliver_policy = nats::DeliverPolicy::kAll;
  } else if (deliver == "last") {
    cc.deliver_policy = nats::DeliverPolicy::kLast;
  } else if (deliver == "new") {
    cc.deliver_policy = nats::DeliverPolicy::kNew;
  } else {
    return UsageError(cmd, "invalid --deliver '" + deliver + "' (expected all, last or new)");
  }
  std::string error;
  if (!LimitFlag(j.flags(), "max-deliver", cc.max_deliver, error)) return UsageError(cmd, error);
  if (auto code = j.Start(cmd)) return *code;
  Result<nats::ConsumerInfo> info = j.js->CreateConsumer(j.args()[0], cc);
  if (!info.ok()) {
    return j.Fail(cmd, "consumer " + j.args()[1] + " on stream " + j.args()[0], info.status());
  }
  PrintConsumerInfo(*info);
  return j.Finish(cmd, 0);
}

int ConsumerInfo(std::span<const std::string> argv) {
  static const Command cmd =
      JsCommand({.name = "nats consumer info",
                 .summary = "print a consumer's configuration and state",
                 .usage = "otlp nats consumer info STREAM NAME [flags]",
                 .examples = "  otlp nats consumer info ORDERS billing\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 2, 2)) return *code;
  if (auto code = j.Start(cmd)) return *code;
  Result<nats::ConsumerInfo> info = j.js->GetConsumerInfo(j.args()[0], j.args()[1]);
  if (!info.ok()) {
    return j.Fail(cmd, "consumer " + j.args()[1] + " on stream " + j.args()[0], info.status());
  }
  PrintConsumerInfo(*info);
  return j.Finish(cmd, 0);
}

int ConsumerLs(std::span<const std::string> argv) {
  static const Command cmd = JsCommand(
      {.name = "nats consumer ls",
       .summary = "list a stream's consumers: name, pending, ack pending",
       .usage = "otlp nats consumer ls STREAM [flags]",
       .flags = {{.name = "names", .help = "Print only the names"}},
       .examples = "  otlp nats consumer ls ORDERS\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 1, 1)) return *code;
  if (auto code = j.Start(cmd)) return *code;
  Result<std::vector<nats::ConsumerInfo>> list = j.js->Consumers(j.args()[0]);
  if (!list.ok()) return j.Fail(cmd, "stream " + j.args()[0], list.status());
  std::sort(list->begin(), list->end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  if (list->empty()) std::fprintf(stderr, "No consumers on stream %s\n", j.args()[0].c_str());
  for (const nats::ConsumerInfo& c : *list) {
    if (j.flags().Has("names")) {
      std::printf("%s\n", c.name.c_str());
      continue;
    }
    std::printf("%-24s %10llu pending %10llu ack pending  ack %s\n", c.name.c_str(),
                static_cast<unsigned long long>(c.num_pending),
                static_cast<unsigned long long>(c.num_ack_pending), AckName(c.config.ack_policy));
  }
  return j.Finish(cmd, 0);
}

int ConsumerRm(std::span<const std::string> argv) {
  static const Command cmd = JsCommand({.name = "nats consumer rm",
                                        .summary = "delete a consumer",
                                        .usage = "otlp nats consumer rm STREAM NAME [flags]",
                                        .examples = "  otlp nats consumer rm ORDERS billing\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 2, 2)) return *code;
  if (auto code = j.Start(cmd)) return *code;
  if (Status s = j.js->DeleteConsumer(j.args()[0], j.args()[1]); !s.ok()) {
    return j.Fail(cmd, "consumer " + j.args()[1] + " on stream " + j.args()[0], s);
  }
  std::printf("Deleted consumer %s on stream %s\n", j.args()[1].c_str(), j.args()[0].c_str());
  return j.Finish(cmd, 0);
}

int ConsumerNext(std::span<const std::string> argv) {
  static const Command cmd = JsCommand(
      {.name = "nats consumer next",
       .summary = "fetch messages from a pull consumer, print and acknowledge them",
       .usage = "otlp nats consumer next STREAM NAME [flags]",
       .description =
           "Pulls up to --count messages (one fetch: a CONSUMER span linked to each message's\n"
           "producer), prints each (a line with its stream sequence and subject, its headers, "
           "its\nbody) and acknowledges it (a settle span) unless --no-ack. Exit status 1 when "
           "no message\narrived within --expires.",
       .flags = {{.name = "count", .value = "N", .help = "Messages to fetch (default 1)"},
                 {.name = "expires",
                  .value = "S",
                  .help = "Seconds the server waits for messages (default 5)"},
                 {.name = "no-ack", .help = "Do not acknowledge (they are redelivered later)"},
                 {.name = "raw", .help = "Print only the bodies, one per line"}},
       .examples = "  otlp nats consumer next ORDERS billing --count 10\n"
                   "  otlp nats consumer next ORDERS billing --no-ack --expires 1\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 2, 2)) return *code;
  uint64_t count = 1;
  milliseconds expires{5000};
  std::string error;
  if (!UnsignedFlag(j.flags(), "count", 1, 10000, count, error) ||
      !SecondsFlag(j.flags(), "expires", expires, error)) {
    return UsageError(cmd, error);
  }
  // The fetch waits up to `expires` for the server, and up to the JetStream timeout beyond.
  if (j.timeout < expires + milliseconds(2000)) j.timeout = expires + milliseconds(2000);
  const bool ack = !j.flags().Has("no-ack");
  const bool raw = j.flags().Has("raw");
  if (auto code = j.Start(cmd)) return *code;
  Result<std::vector<nats::JsMessage>> batch = j.js->Fetch(
      j.args()[0], j.args()[1], {.batch = static_cast<int>(count), .expires = expires});
  if (!batch.ok()) {
    if (nats::ErrorKindOf(batch.status()) == nats::ErrorKind::kTimeout) {
      // A pull to a consumer (or stream) that does not exist goes unanswered: tell that apart.
      if (Result<nats::ConsumerInfo> exists = j.js->GetConsumerInfo(j.args()[0], j.args()[1]);
          !exists.ok() && nats::ErrorKindOf(exists.status()) == nats::ErrorKind::kNotFound) {
        return j.Fail(cmd, "consumer " + j.args()[1] + " on stream " + j.args()[0],
                      exists.status());
      }
      char within[32];
      std::snprintf(within, sizeof within, "%g s", static_cast<double>(expires.count()) / 1000);
      PrintError(cmd, "no message from consumer " + j.args()[1] + " on stream " + j.args()[0] +
                          " within " + within);
      return j.Finish(cmd, 1);
    }
    return j.Fail(cmd, "consumer " + j.args()[1] + " on stream " + j.args()[0], batch.status());
  }
  int exit_code = 0;
  uint64_t n = 0;
  for (const nats::JsMessage& m : *batch) {
    ++n;
    if (raw) {
      PrintBody(m.data());
    } else {
      Result<nats::JsMetadata> meta = m.metadata();
      std::printf("[#%llu] Received on \"%.*s\"", static_cast<unsigned long long>(n),
                  static_cast<int>(m.subject().size()), m.subject().data());
      if (meta.ok()) {
        std::printf(", stream %s sequence %llu, delivered %llu time%s, %llu pending",
                    meta->stream.c_str(), static_cast<unsigned long long>(meta->stream_seq),
                    static_cast<unsigned long long>(meta->delivered),
                    meta->delivered == 1 ? "" : "s",
                    static_cast<unsigned long long>(meta->pending));
      }
      std::printf("\n");
      PrintHeaders(m.headers());
      std::fwrite(m.data().data(), 1, m.data().size(), stdout);
      std::printf("\n\n");
    }
    std::fflush(stdout);
    if (ack) {
      if (Status s = m.Ack(); !s.ok()) {
        PrintError(cmd, "ack: " + s.ToString());
        exit_code = 1;
      }
    }
  }
  if (ack && exit_code == 0) {
    if (Status s = j.inv.conn->Flush(j.timeout); !s.ok()) {
      PrintError(cmd, "ack: " + s.ToString());
      exit_code = 1;
    }
  }
  if (n < count) {
    std::fprintf(stderr, "%llu of %llu messages arrived within the expiry\n",
                 static_cast<unsigned long long>(n), static_cast<unsigned long long>(count));
  }
  return j.Finish(cmd, exit_code);
}

// ---- kv -----------------------------------------------------------------------------------

constexpr const char* kKvHelp =
    "otlp nats kv — the JetStream Key/Value store\n"
    "\n"
    "Usage: otlp nats kv <command> [args] [flags]\n"
    "\n"
    "Commands:\n"
    "  add BUCKET                      create a bucket (--history, --ttl, ...)\n"
    "  info BUCKET                     the bucket's configuration and size\n"
    "  ls [BUCKET]                     every bucket, or a bucket's keys\n"
    "  put BUCKET KEY [VALUE]          store a value (stdin without VALUE)\n"
    "  get BUCKET KEY                  print a value (--revision N: an older one)\n"
    "  create BUCKET KEY [VALUE]       store a value only when the key has none\n"
    "  update BUCKET KEY VALUE REV     store a value only when the latest revision is REV\n"
    "  del BUCKET KEY                  delete a key (its history is kept)\n"
    "  purge BUCKET KEY                delete a key and its history\n"
    "  keys BUCKET                     the keys with a value\n"
    "  history BUCKET KEY              every stored revision of a key\n"
    "  watch BUCKET [KEYS]             print the values, then the changes as they happen\n"
    "  rm BUCKET                       delete a bucket\n"
    "\n"
    "Run `otlp nats kv <command> --help` for its flags.\n";

// Binds to BUCKET; on failure prints the error and sets `exit_code`.
std::unique_ptr<nats::KeyValue> BindKv(const Command& cmd, JsInvocation& j,
                                       const std::string& bucket, int& exit_code) {
  Result<std::unique_ptr<nats::KeyValue>> kv = nats::KeyValue::Bind(j.js, bucket);
  if (!kv.ok()) {
    exit_code = j.Fail(cmd, "", kv.status());
    return nullptr;
  }
  return std::move(*kv);
}

void PrintEntryLine(const nats::KvEntry& e) {
  std::printf("%.*s %s %llu", static_cast<int>(nats::KvOperationName(e.operation).size()),
              nats::KvOperationName(e.operation).data(), e.key.c_str(),
              static_cast<unsigned long long>(e.revision));
  if (e.operation == nats::KvOperation::kPut) {
    std::fputc(' ', stdout);
    std::fwrite(e.value.data(), 1, e.value.size(), stdout);
  }
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void PrintBucketInfo(const std::string& bucket, const nats::StreamInfo& info) {
  const nats::StreamConfig& c = info.config;
  std::printf("Bucket %s (stream %s, created %s)\n", bucket.c_str(), c.name.c_str(),
              FormatTime(info.created_unix_nano).c_str());
  std::printf("  History:         %lld\n", static_cast<long long>(c.max_msgs_per_subject));
  std::printf("  TTL:             %s\n", FormatDuration(c.max_age).c_str());
  std::printf("  Max value size:  %s\n", FormatLimit(c.max_msg_size).c_str());
  std::printf("  Max bytes:       %s\n", FormatLimit(c.max_bytes).c_str());
  std::printf("  Storage:         %s, %d replica%s\n", StorageName(c.storage), c.replicas,
              c.replicas == 1 ? "" : "s");
  std::printf("  Values:          %llu (%llu bytes)\n",
              static_cast<unsigned long long>(info.state.messages),
              static_cast<unsigned long long>(info.state.bytes));
}

int KvAdd(std::span<const std::string> argv) {
  static const Command cmd = JsCommand(
      {.name = "nats kv add",
       .summary = "create a Key/Value bucket",
       .usage = "otlp nats kv add BUCKET [flags]",
       .flags = {{.name = "history", .value = "N", .help = "Values kept per key, 1..64 (default 1)"},
                 {.name = "ttl",
                  .value = "D",
                  .help = "Values expire after D: seconds, or with a unit (30m, 2h, 7d)"},
                 {.name = "max-value-size", .value = "B", .help = "Largest value in bytes"},
                 {.name = "max-bytes", .value = "B", .help = "Bucket size at most in bytes"},
                 {.name = "storage", .value = "file|memory", .help = "Storage (default file)"},
                 {.name = "replicas", .value = "N", .help = "Replicas (default 1)"},
                 {.name = "description", .value = "TEXT", .help = "Description"}},
       .examples = "  otlp nats kv add CONFIG --history 5\n"
                   "  otlp nats kv add SESSIONS --ttl 30m --storage memory\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 1, 1)) return *code;
  nats::KvConfig kc{.bucket = j.args()[0]};
  uint64_t history = 1, replicas = 1;
  int64_t max_value = -1;
  std::string error;
  if (!UnsignedFlag(j.flags(), "history", 1, nats::kKvMaxHistory, history, error) ||
      !DurationFlag(j.flags(), "ttl", kc.ttl, error) ||
      !LimitFlag(j.flags(), "max-value-size", max_value, error) ||
      !LimitFlag(j.flags(), "max-bytes", kc.max_bytes, error) ||
      !StorageFlag(j.flags(), kc.storage, error) ||
      !UnsignedFlag(j.flags(), "replicas", 1, 5, replicas, error)) {
    return UsageError(cmd, error);
  }
  if (max_value > INT32_MAX) return UsageError(cmd, "--max-value-size is too large");
  kc.history = static_cast<int>(history);
  kc.replicas = static_cast<int>(replicas);
  kc.max_value_size = static_cast<int32_t>(max_value);
  kc.description = j.flags().Get("description").value_or("");
  if (!nats::KeyValue::ValidBucket(kc.bucket)) {
    return UsageError(cmd, "invalid bucket name '" + kc.bucket + "' (letters, digits, _ and -)");
  }
  if (auto code = j.Start(cmd)) return *code;
  Result<std::unique_ptr<nats::KeyValue>> kv = nats::KeyValue::Create(j.js, kc);
  if (!kv.ok()) return j.Fail(cmd, "bucket " + kc.bucket, kv.status());
  Result<nats::StreamInfo> info = (*kv)->BucketInfo();
  if (!info.ok()) return j.Fail(cmd, "bucket " + kc.bucket, info.status());
  PrintBucketInfo(kc.bucket, *info);
  return j.Finish(cmd, 0);
}

int KvInfo(std::span<const std::string> argv) {
  static const Command cmd = JsCommand({.name = "nats kv info",
                                        .summary = "print a bucket's configuration and size",
                                        .usage = "otlp nats kv info BUCKET [flags]",
                                        .examples = "  otlp nats kv info CONFIG\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 1, 1)) return *code;
  if (auto code = j.Start(cmd)) return *code;
  int exit_code = 0;
  auto kv = BindKv(cmd, j, j.args()[0], exit_code);
  if (!kv) return exit_code;
  Result<nats::StreamInfo> info = kv->BucketInfo();
  if (!info.ok()) return j.Fail(cmd, "bucket " + j.args()[0], info.status());
  PrintBucketInfo(j.args()[0], *info);
  return j.Finish(cmd, 0);
}

// Keys of a bound bucket, sorted, one per line.
int PrintKeys(const Command& cmd, JsInvocation& j, nats::KeyValue& kv) {
  Result<std::vector<std::string>> keys = kv.Keys();
  if (!keys.ok()) return j.Fail(cmd, "bucket " + kv.bucket(), keys.status());
  std::sort(keys->begin(), keys->end());
  if (keys->empty()) std::fprintf(stderr, "No keys in bucket %s\n", kv.bucket().c_str());
  for (const std::string& k : *keys) std::printf("%s\n", k.c_str());
  return j.Finish(cmd, 0);
}

int KvLs(std::span<const std::string> argv) {
  static const Command cmd =
      JsCommand({.name = "nats kv ls",
                 .summary = "list the buckets, or a bucket's keys",
                 .usage = "otlp nats kv ls [BUCKET] [flags]",
                 .examples = "  otlp nats kv ls\n  otlp nats kv ls CONFIG\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 0, 1)) return *code;
  if (auto code = j.Start(cmd)) return *code;
  if (j.args().size() == 1) {
    int exit_code = 0;
    auto kv = BindKv(cmd, j, j.args()[0], exit_code);
    if (!kv) return exit_code;
    return PrintKeys(cmd, j, *kv);
  }
  Result<std::vector<std::string>> names = j.js->StreamNames();
  if (!names.ok()) return j.Fail(cmd, "listing buckets", names.status());
  std::sort(names->begin(), names->end());
  size_t n = 0;
  for (const std::string& s : *names) {
    if (s.starts_with("KV_")) {
      std::printf("%s\n", s.c_str() + 3);
      ++n;
    }
  }
  if (n == 0) std::fprintf(stderr, "No Key/Value buckets\n");
  return j.Finish(cmd, 0);
}

int KvKeys(std::span<const std::string> argv) {
  static const Command cmd = JsCommand({.name = "nats kv keys",
                                        .summary = "list the keys that have a value",
                                        .usage = "otlp nats kv keys BUCKET [flags]",
                                        .examples = "  otlp nats kv keys CONFIG\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 1, 1)) return *code;
  if (auto code = j.Start(cmd)) return *code;
  int exit_code = 0;
  auto kv = BindKv(cmd, j, j.args()[0], exit_code);
  if (!kv) return exit_code;
  return PrintKeys(cmd, j, *kv);
}

// put and create: BUCKET KEY [VALUE].
int KvStore(std::span<const std::string> argv, bool create) {
  static const Command put_cmd = JsCommand(
      {.name = "nats kv put",
       .summary = "store a value and print its revision",
       .usage = "otlp nats kv put BUCKET KEY [VALUE] [flags]",
       .description = "Without VALUE the value is read from stdin.",
       .examples = "  otlp nats kv put CONFIG db.host 10.0.0.5\n"
                   "  otlp nats kv put CONFIG tls.pem < cert.pem\n"});
  static const Command create_cmd = JsCommand(
      {.name = "nats kv create",
       .summary = "store a value only when the key has none (never set, deleted or purged)",
       .usage = "otlp nats kv create BUCKET KEY [VALUE] [flags]",
       .description = "Without VALUE the value is read from stdin. Exit status 1 when the key "
                      "has a value.",
       .examples = "  otlp nats kv create LOCKS job.42 worker-1\n"});
  const Command& cmd = create ? create_cmd : put_cmd;
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 2, 3)) return *code;
  const std::string& key = j.args()[1];
  if (!nats::KeyValue::ValidKey(key)) return UsageError(cmd, "invalid key '" + key + "'");
  std::string value;
  if (!DataArgument(j.args(), 2, value)) return UsageError(cmd, "reading stdin failed");
  if (auto code = j.Start(cmd)) return *code;
  int exit_code = 0;
  auto kv = BindKv(cmd, j, j.args()[0], exit_code);
  if (!kv) return exit_code;
  Result<uint64_t> rev = create ? kv->Create(key, value) : kv->Put(key, value);
  if (!rev.ok()) {
    if (create && nats::JetStreamErrorCode(rev.status()) == nats::kJsErrWrongLastSequence) {
      PrintError(cmd, "key " + Quote(key) + " already has a value in bucket " + j.args()[0]);
      return j.Finish(cmd, 1);
    }
    return j.Fail(cmd, "key " + Quote(key), rev.status());
  }
  std::printf("Stored %s at revision %llu\n", key.c_str(), static_cast<unsigned long long>(*rev));
  return j.Finish(cmd, 0);
}
int KvPut(std::span<const std::string> argv) { return KvStore(argv, false); }
int KvCreate(std::span<const std::string> argv) { return KvStore(argv, true); }

int KvUpdate(std::span<const std::string> argv) {
  static const Command cmd = JsCommand(
      {.name = "nats kv update",
       .summary = "store a value only when the key's latest revision is REVISION",
       .usage = "otlp nats kv update BUCKET KEY VALUE REVISION [flags]",
       .description = "Compare-and-set. Exit status 1 when the latest revision is another.",
       .examples = "  otlp nats kv update CONFIG db.host 10.0.0.6 3\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 4, 4)) return *code;
  const std::string& key = j.args()[1];
  if (!nats::KeyValue::ValidKey(key)) return UsageError(cmd, "invalid key '" + key + "'");
  uint64_t last = 0;
  if (!ParseUnsigned(j.args()[3], last)) {
    return UsageError(cmd, "invalid revision '" + j.args()[3] + "' (expected an integer)");
  }
  if (auto code = j.Start(cmd)) return *code;
  int exit_code = 0;
  auto kv = BindKv(cmd, j, j.args()[0], exit_code);
  if (!kv) return exit_code;
  Result<uint64_t> rev = kv->Update(key, j.args()[2], last);
  if (!rev.ok()) {
    if (nats::JetStreamErrorCode(rev.status()) == nats::kJsErrWrongLastSequence) {
      PrintError(cmd, "key " + Quote(key) + " is not at revision " + j.args()[3] +
                          " (another revision is the latest)");
      return j.Finish(cmd, 1);
    }
    return j.Fail(cmd, "key " + Quote(key), rev.status());
  }
  std::printf("Stored %s at revision %llu\n", key.c_str(), static_cast<unsigned long long>(*rev));
  return j.Finish(cmd, 0);
}

int KvGet(std::span<const std::string> argv) {
  static const Command cmd = JsCommand(
      {.name = "nats kv get",
       .summary = "print a key's value",
       .usage = "otlp nats kv get BUCKET KEY [flags]",
       .description = "Prints the value on stdout (followed by a newline unless --raw) and its "
                      "revision and time on\nstderr. Exit status 1 when the key has no value "
                      "(never set, deleted or purged).",
       .flags = {{.name = "revision", .value = "N", .help = "The value at revision N"},
                 {.name = "raw", .help = "The value's bytes only, no newline after it"}},
       .examples = "  otlp nats kv get CONFIG db.host\n"
                   "  otlp nats kv get CONFIG db.host --revision 2\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 2, 2)) return *code;
  const std::string& key = j.args()[1];
  if (!nats::KeyValue::ValidKey(key)) return UsageError(cmd, "invalid key '" + key + "'");
  uint64_t revision = 0;
  std::string error;
  if (!UnsignedFlag(j.flags(), "revision", 1, UINT64_MAX, revision, error)) {
    return UsageError(cmd, error);
  }
  if (auto code = j.Start(cmd)) return *code;
  int exit_code = 0;
  auto kv = BindKv(cmd, j, j.args()[0], exit_code);
  if (!kv) return exit_code;
  Result<nats::KvEntry> e = revision > 0 ? kv->Get(key, revision) : kv->Get(key);
  if (!e.ok()) return j.Fail(cmd, "", e.status());
  std::fprintf(stderr, "%s > %s revision %llu created %s\n", j.args()[0].c_str(), key.c_str(),
               static_cast<unsigned long long>(e->revision),
               FormatTime(e->created_unix_nano).c_str());
  std::fwrite(e->value.data(), 1, e->value.size(), stdout);
  if (!j.flags().Has("raw")) std::fputc('\n', stdout);
  return j.Finish(cmd, 0);
}

// del and purge: BUCKET KEY.
int KvRemoveKey(std::span<const std::string> argv, bool purge) {
  static const Command del_cmd = JsCommand(
      {.name = "nats kv del",
       .summary = "delete a key (a delete marker; the history is kept)",
       .usage = "otlp nats kv del BUCKET KEY [flags]",
       .flags = {{.name = "revision", .value = "N", .help = "Only when N is the latest revision"}},
       .examples = "  otlp nats kv del CONFIG db.host\n"});
  static const Command purge_cmd = JsCommand(
      {.name = "nats kv purge",
       .summary = "delete a key and its history (a purge marker)",
       .usage = "otlp nats kv purge BUCKET KEY [flags]",
       .flags = {{.name = "revision", .value = "N", .help = "Only when N is the latest revision"}},
       .examples = "  otlp nats kv purge CONFIG db.host\n"});
  const Command& cmd = purge ? purge_cmd : del_cmd;
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 2, 2)) return *code;
  const std::string& key = j.args()[1];
  if (!nats::KeyValue::ValidKey(key)) return UsageError(cmd, "invalid key '" + key + "'");
  uint64_t revision = 0;
  std::string error;
  if (!UnsignedFlag(j.flags(), "revision", 1, UINT64_MAX, revision, error)) {
    return UsageError(cmd, error);
  }
  if (auto code = j.Start(cmd)) return *code;
  int exit_code = 0;
  auto kv = BindKv(cmd, j, j.args()[0], exit_code);
  if (!kv) return exit_code;
  Status s = purge ? kv->Purge(key, revision) : kv->Delete(key, revision);
  if (!s.ok()) return j.Fail(cmd, "key " + Quote(key), s);
  std::printf("%s %s in bucket %s\n", purge ? "Purged" : "Deleted", key.c_str(),
              j.args()[0].c_str());
  return j.Finish(cmd, 0);
}
int KvDel(std::span<const std::string> argv) { return KvRemoveKey(argv, false); }
int KvPurge(std::span<const std::string> argv) { return KvRemoveKey(argv, true); }

int KvHistory(std::span<const std::string> argv) {
  static const Command cmd = JsCommand(
      {.name = "nats kv history",
       .summary = "print every stored revision of a key, oldest first",
       .usage = "otlp nats kv history BUCKET KEY [flags]",
       .description = "One line each: PUT key revision value, DEL key revision or PURGE key "
                      "revision.",
       .examples = "  otlp nats kv history CONFIG db.host\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 2, 2)) return *code;
  const std::string& key = j.args()[1];
  if (!nats::KeyValue::ValidKey(key)) return UsageError(cmd, "invalid key '" + key + "'");
  if (auto code = j.Start(cmd)) return *code;
  int exit_code = 0;
  auto kv = BindKv(cmd, j, j.args()[0], exit_code);
  if (!kv) return exit_code;
  Result<std::vector<nats::KvEntry>> history = kv->History(key);
  if (!history.ok()) return j.Fail(cmd, "", history.status());
  for (const nats::KvEntry& e : *history) PrintEntryLine(e);
  return j.Finish(cmd, 0);
}

int KvWatch(std::span<const std::string> argv) {
  static const Command cmd = JsCommand(
      {.name = "nats kv watch",
       .summary = "print a bucket's values, then every change as it happens",
       .usage = "otlp nats kv watch BUCKET [KEYS] [flags]",
       .description =
           "KEYS is a key or a pattern ('config.*', '>' for all, the default). Prints the "
           "latest value of\neach matching key, then each change: PUT key revision value, DEL "
           "key revision, PURGE key\nrevision. Runs until --count entries or Ctrl-C.",
       .flags = {{.name = "count", .value = "N", .help = "Exit after N entries"},
                 {.name = "no-initial", .help = "Only changes from now on, not the current values"},
                 {.name = "history", .help = "Every stored value first, not only the latest"},
                 {.name = "ignore-deletes", .help = "Skip DEL and PURGE entries"}},
       .examples = "  otlp nats kv watch CONFIG\n"
                   "  otlp nats kv watch CONFIG 'db.*' --no-initial --count 1\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 1, 2)) return *code;
  const std::string keys = j.args().size() == 2 ? j.args()[1] : ">";
  if (!nats::KeyValue::ValidKey(keys, true)) {
    return UsageError(cmd, "invalid key pattern '" + keys + "'");
  }
  uint64_t count = 0;
  std::string error;
  if (!UnsignedFlag(j.flags(), "count", 1, 1000000000, count, error)) return UsageError(cmd, error);
  nats::KvWatchOptions wo;
  wo.updates_only = j.flags().Has("no-initial");
  wo.include_history = j.flags().Has("history");
  wo.ignore_deletes = j.flags().Has("ignore-deletes");
  if (wo.updates_only && wo.include_history) {
    return UsageError(cmd, "--no-initial and --history exclude each other");
  }
  if (auto code = j.Start(cmd)) return *code;
  int exit_code = 0;
  auto kv = BindKv(cmd, j, j.args()[0], exit_code);
  if (!kv) return exit_code;
  Result<std::unique_ptr<nats::KvWatcher>> w = kv->Watch(keys, wo);
  if (!w.ok()) return j.Fail(cmd, "watch " + keys, w.status());
  std::fprintf(stderr, "Watching %s in bucket %s\n", keys.c_str(), j.args()[0].c_str());
  // The stop signals reach only this thread's WaitForStop: the entries are read on another,
  // which wakes it after --count entries or a failure.
  std::atomic<bool> done{false};
  Status failure;
  std::thread reader([&] {
    uint64_t seen = 0;
    while (!done.load() && (count == 0 || seen < count)) {
      Result<std::optional<nats::KvEntry>> next = (*w)->Next(milliseconds(200));
      if (!next.ok()) {
        if (nats::ErrorKindOf(next.status()) == nats::ErrorKind::kTimeout) continue;
        failure = next.status();
        break;
      }
      if (!next->has_value()) continue;  // the end of the initial values
      PrintEntryLine(**next);
      ++seen;
    }
    j.inv.stop->Notify();
  });
  j.inv.WaitForStop();
  done.store(true);
  reader.join();
  (*w)->Stop();
  if (!failure.ok()) return j.Fail(cmd, "watch " + keys, failure);
  return j.Finish(cmd, 0);
}

int KvRm(std::span<const std::string> argv) {
  static const Command cmd = JsCommand({.name = "nats kv rm",
                                        .summary = "delete a bucket and every value in it",
                                        .usage = "otlp nats kv rm BUCKET [flags]",
                                        .examples = "  otlp nats kv rm SESSIONS\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 1, 1)) return *code;
  if (auto code = j.Start(cmd)) return *code;
  if (Status s = nats::KeyValue::DeleteBucket(*j.js, j.args()[0]); !s.ok()) {
    return j.Fail(cmd, "bucket " + j.args()[0], s);
  }
  std::printf("Deleted bucket %s\n", j.args()[0].c_str());
  return j.Finish(cmd, 0);
}

// ---- obj ----------------------------------------------------------------------------------

constexpr const char* kObjHelp =
    "otlp nats obj — the JetStream Object Store\n"
    "\n"
    "Usage: otlp nats obj <command> [args] [flags]\n"
    "\n"
    "Commands:\n"
    "  add BUCKET               create a bucket\n"
    "  put BUCKET FILE          store a file (- for stdin; --name to name it)\n"
    "  get BUCKET NAME          fetch an object, digest checked (-o FILE, else stdout)\n"
    "  info BUCKET NAME         an object's size, chunks, digest\n"
    "  ls [BUCKET]              every bucket, or a bucket's objects\n"
    "  rm BUCKET NAME           delete an object\n"
    "  rm-bucket BUCKET         delete a bucket and every object in it\n"
    "\n"
    "Run `otlp nats obj <command> --help` for its flags.\n";

std::unique_ptr<nats::ObjectStore> BindObj(const Command& cmd, JsInvocation& j,
                                           const std::string& bucket, int& exit_code) {
  Result<std::unique_ptr<nats::ObjectStore>> obs = nats::ObjectStore::Bind(j.js, bucket);
  if (!obs.ok()) {
    if (nats::ErrorKindOf(obs.status()) == nats::ErrorKind::kNotFound) {
      exit_code = j.Fail(cmd, "",
                         nats::MakeError(StatusCode::kNotFound, nats::ErrorKind::kNotFound,
                                         "Object Store: bucket " + bucket + " not found"));
    } else {
      exit_code = j.Fail(cmd, "bucket " + bucket, obs.status());
    }
    return nullptr;
  }
  return std::move(*obs);
}

void PrintObjectInfo(const nats::ObjectInfo& info) {
  std::printf("Object %s in bucket %s\n", info.name.c_str(), info.bucket.c_str());
  std::printf("  Size:          %llu bytes\n", static_cast<unsigned long long>(info.size));
  std::printf("  Chunks:        %u\n", info.chunks);
  std::printf("  Digest:        %s\n", info.digest.c_str());
  std::printf("  Modified:      %s\n", FormatTime(info.mtime_unix_nano).c_str());
  if (!info.description.empty()) std::printf("  Description:   %s\n", info.description.c_str());
  for (const auto& [k, v] : info.headers) std::printf("  Header:        %s: %s\n", k.c_str(), v.c_str());
}

int ObjAdd(std::span<const std::string> argv) {
  static const Command cmd = JsCommand(
      {.name = "nats obj add",
       .summary = "create an Object Store bucket",
       .usage = "otlp nats obj add BUCKET [flags]",
       .flags = {{.name = "ttl",
                  .value = "D",
                  .help = "Objects expire after D: seconds, or with a unit (30m, 2h, 7d)"},
                 {.name = "max-bytes", .value = "B", .help = "Bucket size at most in bytes"},
                 {.name = "storage", .value = "file|memory", .help = "Storage (default file)"},
                 {.name = "replicas", .value = "N", .help = "Replicas (default 1)"},
                 {.name = "description", .value = "TEXT", .help = "Description"}},
       .examples = "  otlp nats obj add RECEIPTS\n  otlp nats obj add SCRATCH --ttl 1h\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 1, 1)) return *code;
  nats::ObjectStoreConfig oc{.bucket = j.args()[0]};
  uint64_t replicas = 1;
  std::string error;
  if (!DurationFlag(j.flags(), "ttl", oc.ttl, error) ||
      !LimitFlag(j.flags(), "max-bytes", oc.max_bytes, error) ||
      !StorageFlag(j.flags(), oc.storage, error) ||
      !UnsignedFlag(j.flags(), "replicas", 1, 5, replicas, error)) {
    return UsageError(cmd, error);
  }
  oc.replicas = static_cast<int>(replicas);
  oc.description = j.flags().Get("description").value_or("");
  if (auto code = j.Start(cmd)) return *code;
  Result<std::unique_ptr<nats::ObjectStore>> obs = nats::ObjectStore::Create(j.js, oc);
  if (!obs.ok()) return j.Fail(cmd, "bucket " + oc.bucket, obs.status());
  std::printf("Created bucket %s (stream %s)\n", oc.bucket.c_str(), (*obs)->stream().c_str());
  return j.Finish(cmd, 0);
}

int ObjPut(std::span<const std::string> argv) {
  static const Command cmd = JsCommand(
      {.name = "nats obj put",
       .summary = "store a file as an object (read in chunks, SHA-256 digest)",
       .usage = "otlp nats obj put BUCKET FILE [flags]",
       .description = "FILE - reads stdin (then --name is required). An object of the same "
                      "name is replaced.\nPrints the name, size, chunks and digest.",
       .flags = {{.name = "name", .value = "N", .help = "Object name (default: FILE's name)"},
                 {.name = "description", .value = "TEXT", .help = "Description"},
                 {.name = "header",
                  .value = "'K: V'",
                  .help = "Object header (-H); repeatable",
                  .repeated = true},
                 {.name = "chunk-size", .value = "B", .help = "Chunk size (default 131072)"}},
       .examples = "  otlp nats obj put RECEIPTS ./order-42.pdf\n"
                   "  tar c dir | otlp nats obj put BACKUPS - --name dir.tar\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 2, 2)) return *code;
  const std::string& file = j.args()[1];
  nats::ObjectMeta meta;
  meta.name = j.flags().Get("name").value_or("");
  if (meta.name.empty()) {
    if (file == "-") return UsageError(cmd, "give --name when reading stdin");
    const size_t slash = file.find_last_of('/');
    meta.name = slash == std::string::npos ? file : file.substr(slash + 1);
    if (meta.name.empty()) return UsageError(cmd, "give --name (FILE has no name)");
  }
  meta.description = j.flags().Get("description").value_or("");
  std::string error;
  if (!ParseHeaderFlags(j.flags(), meta.headers, error)) return UsageError(cmd, error);
  uint64_t chunk = 0;
  if (!UnsignedFlag(j.flags(), "chunk-size", 1, 8 * 1024 * 1024, chunk, error)) {
    return UsageError(cmd, error);
  }
  meta.chunk_size = static_cast<uint32_t>(chunk);
  std::ifstream in;
  if (file != "-") {
    in.open(file, std::ios::binary);
    if (!in) {
      PrintError(cmd, "cannot read " + file + ": " + std::strerror(errno));
      return 1;
    }
  }
  if (auto code = j.Start(cmd)) return *code;
  int exit_code = 0;
  auto obs = BindObj(cmd, j, j.args()[0], exit_code);
  if (!obs) return exit_code;
  Result<nats::ObjectInfo> info = obs->Put(meta, file == "-" ? std::cin : in);
  if (!info.ok()) return j.Fail(cmd, "object " + Quote(meta.name), info.status());
  std::printf("Stored %s in bucket %s: %llu bytes, %u chunks, digest %s\n", info->name.c_str(),
              j.args()[0].c_str(), static_cast<unsigned long long>(info->size), info->chunks,
              info->digest.c_str());
  return j.Finish(cmd, 0);
}

int ObjGet(std::span<const std::string> argv) {
  static const Command cmd = JsCommand(
      {.name = "nats obj get",
       .summary = "fetch an object, checking its size and digest",
       .usage = "otlp nats obj get BUCKET NAME [flags]",
       .description = "Writes the object to --output (-o) or stdout; prints its size and digest "
                      "on stderr. Exit\nstatus 1 when it is missing or what arrived does not "
                      "match its digest (FILE is then\nremoved).",
       .flags = {{.name = "output", .value = "FILE", .help = "Write to FILE (-o)"}},
       .examples = "  otlp nats obj get RECEIPTS order-42.pdf -o /tmp/order-42.pdf\n"
                   "  otlp nats obj get RECEIPTS notes.txt | less\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 2, 2)) return *code;
  const std::string& name = j.args()[1];
  const std::string output = j.flags().Get("output").value_or("");
  if (auto code = j.Start(cmd)) return *code;
  int exit_code = 0;
  auto obs = BindObj(cmd, j, j.args()[0], exit_code);
  if (!obs) return exit_code;
  std::ofstream file;
  if (!output.empty()) {
    // Checked before anything is written, so a missing object leaves no empty file behind.
    Result<nats::ObjectInfo> exists = obs->GetInfo(name);
    if (!exists.ok()) return j.Fail(cmd, "", exists.status());
    file.open(output, std::ios::binary | std::ios::trunc);
    if (!file) {
      PrintError(cmd, "cannot write " + output + ": " + std::strerror(errno));
      return j.Finish(cmd, 1);
    }
  }
  std::ostream& out = output.empty() ? std::cout : file;
  Result<nats::ObjectInfo> info = obs->Get(name, out);
  out.flush();
  const bool write_failed = !out;
  if (file.is_open()) file.close();
  if (!info.ok() || write_failed) {
    if (!output.empty()) std::remove(output.c_str());
    if (!info.ok()) return j.Fail(cmd, "", info.status());
    PrintError(cmd, "writing " + (output.empty() ? std::string("stdout") : output) + " failed");
    return j.Finish(cmd, 1);
  }
  std::fprintf(stderr, "Wrote %s: %llu bytes, %u chunks, digest %s (checked)%s%s\n",
               info->name.c_str(), static_cast<unsigned long long>(info->size), info->chunks,
               info->digest.c_str(), output.empty() ? "" : " to ", output.c_str());
  return j.Finish(cmd, 0);
}

int ObjInfo(std::span<const std::string> argv) {
  static const Command cmd = JsCommand({.name = "nats obj info",
                                        .summary = "print an object's size, chunks and digest",
                                        .usage = "otlp nats obj info BUCKET NAME [flags]",
                                        .examples = "  otlp nats obj info RECEIPTS order-42.pdf\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 2, 2)) return *code;
  if (auto code = j.Start(cmd)) return *code;
  int exit_code = 0;
  auto obs = BindObj(cmd, j, j.args()[0], exit_code);
  if (!obs) return exit_code;
  Result<nats::ObjectInfo> info = obs->GetInfo(j.args()[1]);
  if (!info.ok()) return j.Fail(cmd, "", info.status());
  PrintObjectInfo(*info);
  return j.Finish(cmd, 0);
}

int ObjLs(std::span<const std::string> argv) {
  static const Command cmd = JsCommand(
      {.name = "nats obj ls",
       .summary = "list the buckets, or a bucket's objects: name, size, digest",
       .usage = "otlp nats obj ls [BUCKET] [flags]",
       .flags = {{.name = "names", .help = "Print only the names"}},
       .examples = "  otlp nats obj ls\n  otlp nats obj ls RECEIPTS\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 0, 1)) return *code;
  if (auto code = j.Start(cmd)) return *code;
  if (j.args().empty()) {
    Result<std::vector<std::string>> names = j.js->StreamNames();
    if (!names.ok()) return j.Fail(cmd, "listing buckets", names.status());
    std::sort(names->begin(), names->end());
    size_t n = 0;
    for (const std::string& s : *names) {
      if (s.starts_with("OBJ_")) {
        std::printf("%s\n", s.c_str() + 4);
        ++n;
      }
    }
    if (n == 0) std::fprintf(stderr, "No Object Store buckets\n");
    return j.Finish(cmd, 0);
  }
  int exit_code = 0;
  auto obs = BindObj(cmd, j, j.args()[0], exit_code);
  if (!obs) return exit_code;
  Result<std::vector<nats::ObjectInfo>> list = obs->List();
  if (!list.ok()) return j.Fail(cmd, "bucket " + j.args()[0], list.status());
  if (list->empty()) std::fprintf(stderr, "No objects in bucket %s\n", j.args()[0].c_str());
  for (const nats::ObjectInfo& o : *list) {
    if (j.flags().Has("names")) {
      std::printf("%s\n", o.name.c_str());
      continue;
    }
    std::printf("%-32s %12llu bytes  %s  %s\n", o.name.c_str(),
                static_cast<unsigned long long>(o.size), FormatTime(o.mtime_unix_nano).c_str(),
                o.digest.c_str());
  }
  return j.Finish(cmd, 0);
}

int ObjRm(std::span<const std::string> argv) {
  static const Command cmd = JsCommand({.name = "nats obj rm",
                                        .summary = "delete an object",
                                        .usage = "otlp nats obj rm BUCKET NAME [flags]",
                                        .examples = "  otlp nats obj rm RECEIPTS order-42.pdf\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 2, 2)) return *code;
  if (auto code = j.Start(cmd)) return *code;
  int exit_code = 0;
  auto obs = BindObj(cmd, j, j.args()[0], exit_code);
  if (!obs) return exit_code;
  if (Status s = obs->Delete(j.args()[1]); !s.ok()) return j.Fail(cmd, "", s);
  std::printf("Deleted %s in bucket %s\n", j.args()[1].c_str(), j.args()[0].c_str());
  return j.Finish(cmd, 0);
}

int ObjRmBucket(std::span<const std::string> argv) {
  static const Command cmd = JsCommand({.name = "nats obj rm-bucket",
                                        .summary = "delete a bucket and every object in it",
                                        .usage = "otlp nats obj rm-bucket BUCKET [flags]",
                                        .examples = "  otlp nats obj rm-bucket SCRATCH\n"});
  JsInvocation j;
  if (auto code = j.Parse(cmd, argv, 1, 1)) return *code;
  if (auto code = j.Start(cmd)) return *code;
  if (Status s = nats::ObjectStore::DeleteBucket(*j.js, j.args()[0]); !s.ok()) {
    return j.Fail(cmd, "bucket " + j.args()[0], s);
  }
  std::printf("Deleted bucket %s\n", j.args()[0].c_str());
  return j.Finish(cmd, 0);
}

}  // namespace

int RunNatsStream(std::span<const std::string> args) {
  static const std::vector<Subcommand> table = {
      {"add", StreamAdd},     {"create", StreamAdd}, {"info", StreamInfo}, {"ls", StreamLs},
      {"list", StreamLs},     {"rm", StreamRm},      {"delete", StreamRm}, {"purge", StreamPurge},
      {"pub", StreamPub},     {"get", StreamGet}};
  return Dispatch("stream", kStreamHelp, table, args);
}

int RunNatsConsumer(std::span<const std::string> args) {
  static const std::vector<Subcommand> table = {
      {"add", ConsumerAdd}, {"create", ConsumerAdd}, {"info", ConsumerInfo}, {"ls", ConsumerLs},
      {"list", ConsumerLs}, {"rm", ConsumerRm},      {"delete", ConsumerRm}, {"next", ConsumerNext}};
  return Dispatch("consumer", kConsumerHelp, table, args);
}

int RunNatsKv(std::span<const std::string> args) {
  static const std::vector<Subcommand> table = {
      {"add", KvAdd},         {"info", KvInfo},   {"ls", KvLs},       {"put", KvPut},
      {"get", KvGet},         {"create", KvCreate}, {"update", KvUpdate}, {"del", KvDel},
      {"purge", KvPurge},     {"keys", KvKeys},   {"history", KvHistory}, {"watch", KvWatch},
      {"rm", KvRm}};
  return Dispatch("kv", kKvHelp, table, args);
}

int RunNatsObj(std::span<const std::string> args) {
  static const std::vector<Subcommand> table = {
      {"add", ObjAdd}, {"put", ObjPut}, {"get", ObjGet},         {"info", ObjInfo},
      {"ls", ObjLs},   {"rm", ObjRm},   {"del", ObjRm},          {"rm-bucket", ObjRmBucket}};
  return Dispatch("obj", kObjHelp, table, args);
}

}  // namespace otlp::cli
