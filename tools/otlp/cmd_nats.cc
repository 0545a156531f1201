// otlp nats — the everyday commands of the official `nats` tool on otlp::nats, traced:
// pub, sub, req, reply, bench; stream, consumer, kv and obj are in cmd_nats_js.cc.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "common.h"
#include "final_flush.h"
#include "nats_common.h"
#include "otlp/nats/connection.h"

namespace otlp::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kNatsHelp =
    "otlp nats — a NATS client, traced (the official `nats` tool's everyday commands)\n"
    "\n"
    "Usage: otlp nats <command> [args] [flags]\n"
    "\n"
    "Commands:\n"
    "  pub SUBJECT [DATA]     publish (DATA or stdin), with headers, --count times\n"
    "  sub SUBJECT            print the messages of a subject (--queue to share the work)\n"
    "  req SUBJECT [DATA]     send a request and print the reply\n"
    "  reply SUBJECT [DATA]   answer requests with DATA (or echo them with --echo)\n"
    "  bench SUBJECT          publish (and subscribe) N messages, print the rates\n"
    "  stream add|info|ls|rm|purge|pub|get\n"
    "                         JetStream streams (pub: publish, print the stream sequence)\n"
    "  consumer add|info|ls|rm|next\n"
    "                         pull consumers (next: fetch, print and acknowledge messages)\n"
    "  kv add|info|ls|put|get|create|update|del|purge|keys|history|watch|rm\n"
    "                         Key/Value buckets\n"
    "  obj add|put|get|info|ls|rm|rm-bucket\n"
    "                         Object Store buckets (get checks the digest)\n"
    "\n"
    "Every command takes --server URL (default $NATS_URL, else nats://127.0.0.1:4222) and the\n"
    "credentials flags; spans go where OTEL_* says (see `otlp config`). Run\n"
    "`otlp nats <command> --help` for its flags.\n";

const Command& PubCommand() {
  static const Command cmd = [] {
    Command c{.name = "nats pub",
              .summary = "publish a message (PRODUCER span, context in the headers)",
              .usage = "otlp nats pub SUBJECT [DATA] [flags]",
              .description = "DATA is the body; without it, stdin is read. {{Count}} in DATA is "
                             "replaced by the message's number (1..N).",
              .flags = {{.name = "header",
                         .value = "'K: V'",
                         .help = "Message header (-H); repeatable",
                         .repeated = true},
                        {.name = "count", .value = "N", .help = "Publish N messages (default 1)"},
                        {.name = "reply", .value = "SUBJECT", .help = "Reply subject"}},
              .examples = "  otlp nats pub orders.created '{\"id\":42}' -H 'Nats-Msg-Id: 42'\n"
                          "  otlp nats pub load 'n={{Count}}' --count 1000\n"};
    AddNatsFlags(c);
    return c;
  }();
  return cmd;
}

const Command& SubCommand() {
  static const Command cmd = [] {
    Command c{.name = "nats sub",
              .summary = "print the messages of a subject (CONSUMER spans)",
              .usage = "otlp nats sub SUBJECT [flags]",
              .description = "Prints each message: a header line, its headers, its body. Stops "
                             "after --count messages or at Ctrl-C.",
              .flags = {{.name = "queue", .value = "GROUP", .help = "Join a queue group"},
                        {.name = "count", .value = "N", .help = "Exit after N messages"},
                        {.name = "raw", .help = "Print only the bodies, one per line"}},
              .examples = "  otlp nats sub 'orders.>'\n  otlp nats sub work --queue workers\n"};
    AddNatsFlags(c);
    return c;
  }();
  return cmd;
}

const Command& ReqCommand() {
  static const Command cmd = [] {
    Command c{.name = "nats req",
              .summary = "send a request and print the reply (CLIENT span)",
              .usage = "otlp nats req SUBJECT [DATA] [flags]",
              .description = "Exit status: 0 with a reply, 1 on timeout or no responders.",
              .flags = {{.name = "header",
                         .value = "'K: V'",
                         .help = "Request header (-H); repeatable",
                         .repeated = true},
                        {.name = "timeout",
                         .value = "S",
                         .help = "Seconds to wait for the reply (default 5)"},
                        {.name = "raw", .help = "Print only the reply's body"}},
              .examples = "  otlp nats req inventory.check pear --timeout 2\n"};
    AddNatsFlags(c);
    return c;
  }();
  return cmd;
}

const Command& ReplyCommand() {
  static const Command cmd = [] {
    Command c{.name = "nats reply",
              .summary = "answer requests on a subject (a traced service)",
              .usage = "otlp nats reply SUBJECT [DATA] [flags]",
              .description = "Answers every request with DATA ({{Count}} replaced), or with the "
                             "request's own body\nand headers (--echo). Runs until --count "
                             "requests or Ctrl-C.",
              .flags = {{.name = "queue",
                         .value = "GROUP",
                         .help = "Queue group (default: none; several repliers share with one)"},
                        {.name = "echo", .help = "Reply with the request's body and headers"},
                        {.name = "count", .value = "N", .help = "Exit after N requests"}},
              .examples = "  otlp nats reply inventory.check 'in stock' --queue inventory\n"};
    AddNatsFlags(c);
    return c;
  }();
  return cmd;
}

const Command& BenchCommand() {
  static const Command cmd = [] {
    Command c{.name = "nats bench",
              .summary = "publish (and subscribe to) N messages and print the rates",
              .usage = "otlp nats bench SUBJECT [flags]",
              .description = "Publishes --msgs messages of --size bytes as fast as the client "
                             "goes, with --subs subscribers\nreceiving them on the same "
                             "connection count; prints messages per second for each side.",
              .flags = {{.name = "msgs", .value = "N", .help = "Messages (default 100000)"},
                        {.name = "size", .value = "B", .help = "Body size (default 16)"},
                        {.name = "subs",
                         .value = "N",
                         .help = "Subscribers, each on its own connection (default 0)"}},
              .examples = "  otlp nats bench bench.x --msgs 1000000 --size 16 --subs 1\n"};
    AddNatsFlags(c);
    return c;
  }();
  return cmd;
}

std::string WithCount(const std::string& data, uint64_t n) {
  std::string out = data;
  const std::string token = "{{Count}}";
  for (size_t at = out.find(token); at != std::string::npos; at = out.find(token, at)) {
    out.replace(at, token.size(), std::to_string(n));
  }
  return out;
}

void PrintMessage(const nats::Message& m, uint64_t n, bool raw) {
  if (raw) {
    std::fwrite(m.data().data(), 1, m.data().size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    return;
  }
  std::printf("[#%llu] Received on \"%.*s\"", static_cast<unsigned long long>(n),
              static_cast<int>(m.subject().size()), m.subject().data());
  if (!m.reply().empty()) {
    std::printf(" with reply \"%.*s\"", static_cast<int>(m.reply().size()), m.reply().data());
  }
  std::printf("\n");
  for (const auto& [k, v] : m.headers()) std::printf("%s: %s\n", k.c_str(), v.c_str());
  if (m.has_headers()) std::printf("\n");
  std::fwrite(m.data().data(), 1, m.data().size(), stdout);
  std::printf("\n\n");
  std::fflush(stdout);
}

int RunPub(std::span<const std::string> args) {
  const Command& cmd = PubCommand();
  NatsInvocation inv;
  if (auto exit_code = inv.Parse(cmd, args, 1, 2)) return *exit_code;
  std::string data;
  if (inv.positional.size() == 2) {
    data = inv.positional[1];
  } else if (!ReadStdin(data)) {
    return UsageError(cmd, "reading stdin failed");
  }
  nats::Headers headers;
  std::string error;
  if (!ParseHeaderFlags(inv.flags, headers, error)) return UsageError(cmd, error);
  uint64_t count = 1;
  if (!UnsignedFlag(inv.flags, "count", 1, 1000000000, count, error)) return UsageError(cmd, error);
  const std::string reply = inv.flags.Get("reply").value_or("");
  if (auto exit_code = inv.Start(cmd)) return *exit_code;
  int exit_code = 0;
  for (uint64_t i = 1; i <= count; ++i) {
    if (i % 1024 == 0 && inv.Stopped()) break;  // Ctrl-C ends a long run
    const std::string body = WithCount(data, i);
    Status s = reply.empty() ? inv.conn->Publish(inv.positional[0], headers, body)
                             : inv.conn->PublishRequest(inv.positional[0], reply, headers, body);
    if (!s.ok()) {
      PrintError(cmd, s.ToString());
      exit_code = 1;
      break;
    }
  }
  if (exit_code == 0) {
    if (Status s = inv.conn->Flush(std::chrono::seconds(30)); !s.ok()) {
      PrintError(cmd, s.ToString());
      exit_code = 1;
    } else if (count == 1) {
      std::fprintf(stderr, "Published %zu bytes to \"%s\"\n", data.size(),
                   inv.positional[0].c_str());
    } else {
      std::fprintf(stderr, "Published %llu messages to \"%s\"\n",
                   static_cast<unsigned long long>(count), inv.positional[0].c_str());
    }
  }
  return inv.Finish(cmd, exit_code);
}

int RunSub(std::span<const std::string> args) {
  const Command& cmd = SubCommand();
  NatsInvocation inv;
  if (auto exit_code = inv.Parse(cmd, args, 1, 1)) return *exit_code;
  std::string error;
  uint64_t count = 0;
  if (!UnsignedFlag(inv.flags, "count", 1, 1000000000, count, error)) return UsageError(cmd, error);
  const bool raw = inv.flags.Has("raw");
  if (auto exit_code = inv.Start(cmd)) return *exit_code;
  std::atomic<uint64_t> received{0};
  auto handler = [&](nats::Message& m) {
    const uint64_t n = ++received;
    if (count > 0 && n > count) return;
    PrintMessage(m, n, raw);
    if (count > 0 && n == count) inv.stop->Notify();
  };
  const std::string queue = inv.flags.Get("queue").value_or("");
  auto sub = queue.empty() ? inv.conn->Subscribe(inv.positional[0], handler)
                           : inv.conn->QueueSubscribe(inv.positional[0], queue, handler);
  if (!sub.ok()) {
    PrintError(cmd, sub.status().ToString());
    return inv.Finish(cmd, 1);
  }
  if (count > 0) (*sub)->AutoUnsubscribe(count).IgnoreError();
  if (Status s = inv.conn->Flush(); !s.ok()) {
    PrintError(cmd, s.ToString());
    return inv.Finish(cmd, 1);
  }
  std::fprintf(stderr, "Subscribing on \"%s\"%s%s\n", inv.positional[0].c_str(),
               queue.empty() ? "" : " in queue group ", queue.c_str());
  inv.WaitForStop();
  (*sub)->Drain(std::chrono::seconds(5)).IgnoreError();
  return inv.Finish(cmd, 0);
}

int RunReq(std::span<const std::string> args) {
  const Command& cmd = ReqCommand();
  NatsInvocation inv;
  if (auto exit_code = inv.Parse(cmd, args, 1, 2)) return *exit_code;
  std::string data;
  if (inv.positional.size() == 2) data = inv.positional[1];
  nats::Headers headers;
  std::string error;
  if (!ParseHeaderFlags(inv.flags, headers, error)) return UsageError(cmd, error);
  std::chrono::milliseconds timeout{5000};
  if (!SecondsFlag(inv.flags, "timeout", timeout, error)) return UsageError(cmd, error);
  if (auto exit_code = inv.Start(cmd)) return *exit_code;
  const Clock::time_point start = Clock::now();
  Result<nats::Message> reply = inv.conn->Request(inv.positional[0], headers, data, timeout);
  if (!reply.ok()) {
    PrintError(cmd, reply.status().ToString());
    return inv.Finish(cmd, 1);
  }
  if (inv.flags.Has("raw")) {
    PrintMessage(*reply, 1, true);
  } else {
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    std::fprintf(stderr, "Received with rtt %.3f ms\n", static_cast<double>(us) / 1000.0);
    for (const auto& [k, v] : reply->headers()) std::printf("%s: %s\n", k.c_str(), v.c_str());
    if (reply->has_headers()) std::printf("\n");
    std::fwrite(reply->data().data(), 1, reply->data().size(), stdout);
    std::printf("\n");
  }
  return inv.Finish(cmd, 0);
}

int RunReply(std::span<const std::string> args) {
  const Command& cmd = ReplyCommand();
  NatsInvocation inv;
  if (auto exit_code = inv.Parse(cmd, args, 1, 2)) return *exit_code;
  const bool echo = inv.flags.Has("echo");
  if (!echo && inv.positional.size() < 2) return UsageError(cmd, "give DATA or --echo");
  const std::string data = inv.positional.size() == 2 ? inv.positional[1] : "";
  std::string error;
  uint64_t count = 0;
  if (!UnsignedFlag(inv.flags, "count", 1, 1000000000, count, error)) return UsageError(cmd, error);
  if (auto exit_code = inv.Start(cmd)) return *exit_code;
  std::atomic<uint64_t> answered{0};
  auto handler = [&](nats::Message& m) {
    const uint64_t n = ++answered;
    if (count > 0 && n > count) return;
    Status s = echo ? m.Respond(m.headers(), m.data()) : m.Respond(WithCount(data, n));
    if (!s.ok()) PrintError(cmd, s.ToString());
    std::fprintf(stderr, "[#%llu] answered a request on \"%.*s\"\n",
                 static_cast<unsigned long long>(n), static_cast<int>(m.subject().size()),
                 m.subject().data());
    if (count > 0 && n == count) inv.stop->Notify();
  };
  const std::string queue = inv.flags.Get("queue").value_or("");
  auto sub = queue.empty() ? inv.conn->Subscribe(inv.positional[0], handler)
                           : inv.conn->QueueSubscribe(inv.positional[0], queue, handler);
  if (!sub.ok()) {
    PrintError(cmd, sub.status().ToString());
    return inv.Finish(cmd, 1);
  }
  if (Status s = inv.conn->Flush(); !s.ok()) {
    PrintError(cmd, s.ToString());
    return inv.Finish(cmd, 1);
  }
  std::fprintf(stderr, "Listening for requests on \"%s\"\n", inv.positional[0].c_str());
  inv.WaitForStop();
  (*sub)->Drain(std::chrono::seconds(5)).IgnoreError();
  return inv.Finish(cmd, 0);
}

int RunNatsBench(std::span<const std::string> args) {
  const Command& cmd = BenchCommand();
  NatsInvocation inv;
  if (auto exit_code = inv.Parse(cmd, args, 1, 1)) return *exit_code;
  std::string error;
  uint64_t msgs = 100000, size = 16, subs = 0;
  if (!UnsignedFlag(inv.flags, "msgs", 1, 100000000, msgs, error) ||
      !UnsignedFlag(inv.flags, "size", 0, 1024 * 1024, size, error) ||
      !UnsignedFlag(inv.flags, "subs", 0, 64, subs, error)) {
    return UsageError(cmd, error);
  }
  if (auto exit_code = inv.Start(cmd)) return *exit_code;
  const std::string subject = inv.positional[0];
  std::vector<std::shared_ptr<nats::Connection>> sub_conns;
  std::vector<std::shared_ptr<nats::Subscription>> subscriptions;
  std::atomic<uint64_t> received{0};
  const uint64_t expected = msgs * subs;
  Clock::time_point first_received{};
  std::atomic<bool> first{false};
  for (uint64_t i = 0; i < subs; ++i) {
    Result<std::shared_ptr<nats::Connection>> c = nats::Connection::Connect(inv.options);
    if (!c.ok()) {
      PrintError(cmd, c.status().ToString());
      return inv.Finish(cmd, 1);
    }
    auto sub = (*c)->Subscribe(subject, [&](nats::Message&) {
      if (!first.exchange(true)) first_received = Clock::now();
      if (++received == expected) inv.stop->Notify();
    });
    if (!sub.ok() || !(*c)->Flush().ok()) {
      PrintError(cmd, "subscribing failed");
      return inv.Finish(cmd, 1);
    }
    (*sub)->SetPendingLimits(0, 0);
    subscriptions.push_back(*sub);
    sub_conns.push_back(*c);
  }
  const std::string body(size, 'x');
  const Clock::time_point start = Clock::now();
  for (uint64_t i = 0; i < msgs; ++i) {
    if (Status s = inv.conn->Publish(subject, body); !s.ok()) {
      PrintError(cmd, s.ToString());
      return inv.Finish(cmd, 1);
    }
  }
  Status flushed = inv.conn->Flush(std::chrono::seconds(120));
  const double pub_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!flushed.ok()) {
    PrintError(cmd, flushed.ToString());
    return inv.Finish(cmd, 1);
  }
  std::printf("Pub stats: %.0f msgs/sec ~ %.2f MB/sec (%llu messages of %llu bytes in %.3f s)\n",
              static_cast<double>(msgs) / pub_seconds,
              static_cast<double>(msgs * size) / pub_seconds / 1e6,
              static_cast<unsigned long long>(msgs), static_cast<unsigned long long>(size),
              pub_seconds);
  if (subs > 0) {
    inv.WaitForStop();
    const double sub_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("Sub stats: %.0f msgs/sec ~ %.2f MB/sec (%llu received by %llu subscribers)\n",
                static_cast<double>(received.load()) / sub_seconds,
                static_cast<double>(received.load() * size) / sub_seconds / 1e6,
                static_cast<unsigned long long>(received.load()),
                static_cast<unsigned long long>(subs));
  }
  std::fflush(stdout);
  return inv.Finish(cmd, received.load() == expected ? 0 : 1);
}

}  // namespace

int RunNats(std::span<const std::string> args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kNatsHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string& sub = args[0];
  std::span<const std::string> rest = args.subspan(1);
  if (sub == "pub") return RunPub(rest);
  if (sub == "sub") return RunSub(rest);
  if (sub == "req" || sub == "request") return RunReq(rest);
  if (sub == "reply") return RunReply(rest);
  if (sub == "bench") return RunNatsBench(rest);
  if (sub == "stream") return RunNatsStream(rest);
  if (sub == "consumer") return RunNatsConsumer(rest);
  if (sub == "kv") return RunNatsKv(rest);
  if (sub == "obj") return RunNatsObj(rest);
  std::fprintf(stderr, "otlp nats: unknown command '%s' (see otlp nats --help)\n", sub.c_str());
  return 2;
}

}  // namespace otlp::cli
