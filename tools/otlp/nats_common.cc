#include "nats_common.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>

#include "common.h"
#include "final_flush.h"

namespace otlp::cli {

void AddNatsFlags(Command& command) {
  command.positional = true;
  const std::vector<FlagSpec> flags = {
      {.name = "server",
       .value = "URL",
       .help = "NATS server(s), comma-separated (default $NATS_URL, else\n"
               "nats://127.0.0.1:4222)"},
      {.name = "creds", .value = "FILE", .help = "Credentials file (user JWT + NKey seed)"},
      {.name = "nkey", .value = "SEED", .help = "NKey user seed (SU...)"},
      {.name = "user", .value = "NAME", .help = "User name"},
      {.name = "password", .value = "PW", .help = "Password"},
      {.name = "token", .value = "TOKEN", .help = "Authentication token"},
      {.name = "tls-ca", .value = "FILE", .help = "CA certificates to verify the server with"},
      {.name = "tls-cert", .value = "FILE", .help = "Client certificate (mutual TLS)"},
      {.name = "tls-key", .value = "FILE", .help = "Client key (mutual TLS)"},
      {.name = "no-trace", .help = "No spans and no trace headers (plain PUB)"},
      {.name = "traceparent", .value = "TP", .help = "Parent context (default: $TRACEPARENT)"},
      {.name = "tracestate", .value = "TS", .help = "Parent tracestate (default: $TRACESTATE)"},
  };
  for (const FlagSpec& f : flags) command.flags.push_back(f);
  for (const FlagSpec& f : ExportFlags()) command.flags.push_back(f);
}

std::optional<int> NatsInvocation::Parse(const Command& command,
                                         std::span<const std::string> args, size_t min,
                                         size_t max) {
  std::vector<std::string> flag_args;
  std::vector<std::pair<std::string_view, std::string_view>> short_forms = {
      {"-H", "--header"}, {"-s", "--server"}};
  for (const FlagSpec& f : command.flags) {
    if (f.name == "output") short_forms.emplace_back("-o", "--output");
  }
  SeparatePositional(command, args, short_forms, flag_args, positional);
  if (auto exit_code = ParseOrExit(command, flag_args, flags)) return exit_code;
  if (positional.size() < min) return UsageError(command, "missing arguments (see the usage)");
  if (positional.size() > max) {
    return UsageError(command, "unexpected argument '" + positional[max] + "'");
  }
  std::string servers = flags.Get("server").value_or("");
  if (servers.empty()) {
    const char* env = std::getenv("NATS_URL");
    servers = env != nullptr && *env != '\0' ? env : "nats://127.0.0.1:4222";
  }
  options.servers.clear();
  for (size_t start = 0; start <= servers.size();) {
    size_t comma = servers.find(',', start);
    if (comma == std::string::npos) comma = servers.size();
    if (comma > start) options.servers.push_back(servers.substr(start, comma - start));
    start = comma + 1;
  }
  options.name = "otlp " + std::string(command.name);
  options.randomize = false;
  options.credentials_file = flags.Get("creds").value_or("");
  options.nkey_seed = flags.Get("nkey").value_or("");
  options.user = flags.Get("user").value_or("");
  options.password = flags.Get("password").value_or("");
  options.token = flags.Get("token").value_or("");
  options.tls.ca_file = flags.Get("tls-ca").value_or("");
  options.tls.client_certificate_file = flags.Get("tls-cert").value_or("");
  options.tls.client_key_file = flags.Get("tls-key").value_or("");
  if (flags.Has("no-trace")) {
    options.tracing.enabled = false;
    options.tracing.propagate = false;
  }
  options.allow_reconnect = true;
  options.max_reconnects = 5;
  return std::nullopt;
}

std::optional<int> NatsInvocation::Start(const Command& command) {
  Result<std::unique_ptr<StopSignals>> signals = StopSignals::Install();
  if (!signals.ok()) {
    PrintError(command, signals.status().ToString());
    return 2;
  }
  stop = std::move(*signals);
  SetupOptions setup;
  std::string error;
  if (!ApplyExportFlags(flags, setup, error)) return UsageError(command, error);
  const trace::SpanContext parent = ParentContext(command, flags);
  sdk = SetupOrReport(command, std::move(setup));
  if (!sdk) return 2;
  // What the command publishes, requests or receives synchronously continues the caller's trace.
  if (parent.IsValid()) scope.emplace(trace::Context(parent));
  Result<std::shared_ptr<nats::Connection>> c = nats::Connection::Connect(options);
  if (!c.ok()) {
    PrintError(command, c.status().ToString());
    return Finish(command, 1);
  }
  conn = std::move(*c);
  return std::nullopt;
}

bool NatsInvocation::Stopped() {
  if (!stop) return false;
  // The stop signals are blocked outside Wait(): a look without waiting takes one that is
  // pending.
  return stop->count() > 0 ||
         stop->Wait(StopSignals::Clock::now()) == StopSignals::Event::kSignal;
}

void NatsInvocation::WaitForStop() {
  if (stop) stop->Wait(StopSignals::Clock::time_point::max());
}

int NatsInvocation::Finish(const Command& command, int exit_code) {
  scope.reset();
  if (conn) {
    conn->Drain(std::chrono::seconds(5)).IgnoreError();
    conn.reset();
  }
  std::fflush(stdout);
  if (!sdk) return exit_code;
  const FlushOutcome flush = FinalFlush(*sdk, stop.get());
  if (!flush.clean()) {
    PrintError(command, "warning: not every span was exported before exit");
    ExitNow(exit_code);
  }
  return exit_code;
}

bool ParseHeaderFlags(const ParsedFlags& flags, nats::Headers& out, std::string& error) {
  for (const std::string& h : flags.GetAll("header")) {
    const size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      error = "invalid --header '" + h + "' (expected 'Key: value')";
      return false;
    }
    std::string value = h.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
    out.Add(h.substr(0, colon), std::move(value));
  }
  if (Status s = out.Validate(); !s.ok()) {
    error = s.message();
    return false;
  }
  return true;
}

bool SecondsFlag(const ParsedFlags& flags, std::string_view name, std::chrono::milliseconds& out,
                 std::string& error) {
  std::optional<std::string> v = flags.Get(name);
  if (!v) return true;
  char* end = nullptr;
  const double seconds = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0' || !std::isfinite(seconds) || seconds <= 0 || seconds > 86400) {
    error = "invalid --" + std::string(name) + " '" + *v + "' (expected seconds > 0)";
    return false;
  }
  out = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(seconds * 1000)));
  return true;
}

bool ReadStdin(std::string& out) {
  out.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  return !std::cin.bad();
}

}  // namespace otlp::cli
