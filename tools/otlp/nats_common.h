// tools/otlp/nats_common.h — what the `otlp nats` commands share: the connection flags
// (--server, credentials, TLS, --no-trace), the export flags, and one invocation's life:
// parse → install stop signals and set up tracing → connect → run → drain, flush spans.
//
//   NatsInvocation inv;
//   if (auto code = inv.Parse(cmd, args, 1, 2)) return *code;   // SUBJECT [DATA]
//   if (auto code = inv.Start(cmd)) return *code;               // connected: inv.conn
//   ...
//   return inv.Finish(cmd, exit_code);
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "flags.h"
#include "otlp/nats/connection.h"
#include "otlp/otlp.h"
#include "otlp/trace/context.h"
#include "stop_signals.h"

namespace otlp::cli {

// --server, --creds, --nkey, --user, --password, --token, --tls-ca, --tls-cert, --tls-key,
// --no-trace, --traceparent, --tracestate, plus the export flags.
void AddNatsFlags(Command& command);

struct NatsInvocation {
  ParsedFlags flags;
  std::vector<std::string> positional;
  nats::Options options;
  std::unique_ptr<StopSignals> stop;
  std::unique_ptr<Sdk> sdk;
  std::shared_ptr<nats::Connection> conn;
  std::optional<trace::Scope> scope;  // --traceparent / $TRACEPARENT, on the command's thread

  // Flags and `min`..`max` positional arguments (before, between or after the flags); the
  // connection options from the flags. Short forms: -H, -s, and -o for a command with --output.
  // A value: the exit code (help, usage error).
  std::optional<int> Parse(const Command& command, std::span<const std::string> args,
                           size_t min, size_t max);
  // Stop signals, tracing (otlp::Setup), the connection. A value: the exit code of a failure.
  std::optional<int> Start(const Command& command);
  // True once Ctrl-C (or SIGTERM) arrived. On the thread that ran Start() (a system call: call
  // it now and then in a loop, not per message).
  bool Stopped();
  // Waits for Ctrl-C or Notify().
  void WaitForStop();
  // Drains the connection, flushes the spans; returns `exit_code`.
  int Finish(const Command& command, int exit_code);
};

// The JetStream commands (cmd_nats_js.cc): `otlp nats stream|consumer|kv|obj <command>`, with
// the arguments after the group's name.
int RunNatsStream(std::span<const std::string> args);
int RunNatsConsumer(std::span<const std::string> args);
int RunNatsKv(std::span<const std::string> args);
int RunNatsObj(std::span<const std::string> args);

// -H 'K: V' flags into headers.
bool ParseHeaderFlags(const ParsedFlags& flags, nats::Headers& out, std::string& error);
// A flag in (fractional) seconds, e.g. --timeout 2.5.
bool SecondsFlag(const ParsedFlags& flags, std::string_view name, std::chrono::milliseconds& out,
                 std::string& error);
// All of stdin.
bool ReadStdin(std::string& out);

}  // namespace otlp::cli
