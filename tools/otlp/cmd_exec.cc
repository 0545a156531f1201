// otlp exec — runs a command inside a span and passes the span's context to it through the
// TRACEPARENT / TRACESTATE environment variables.
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"
#include "common.h"
#include "final_flush.h"
#include "otlp/core/version.h"
#include "stop_signals.h"

extern char** environ;

namespace otlp::cli {
namespace {

const Command& ExecCommand() {
  static const Command cmd = [] {
    Command c{
        .name = "exec",
        .summary = "run a command inside a span",
        .usage = "otlp exec [flags] [--] CMD [ARGS...]",
        .description =
            "Starts a span (named after the command's basename unless --name is given), runs\n"
            "CMD with TRACEPARENT and TRACESTATE set to the span's context, waits for it and\n"
            "ends the span. Flags end at \"--\" or at the first argument that is not a flag.\n"
            "The parent is --traceparent, else $TRACEPARENT (see otlp span --help).\n"
            "\n"
            "Recorded: process.command (argv[0]), process.command_args (string array),\n"
            "process.pid and process.exit.code (int). A non-zero exit sets status error\n"
            "\"exit code N\"; a command killed by a signal counts as exit code 128+N, with\n"
            "process.exit.signal (int) and status \"killed by SIG<name>\" (e.g. SIGTERM).\n"
            "SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to otlp are forwarded to\n"
            "the command (keyboard signals already reach it through the terminal and are not\n"
            "sent twice).\n"
            "\n"
            "Exit status: the command's (128+N when killed by signal N); 127 when it is not\n"
            "found, 126 when it cannot be executed (both with an error span); 2 for bad usage.\n"
            "The export is flushed before exit, never waiting longer than the export timeout\n"
            "(OTEL_EXPORTER_OTLP_TIMEOUT, 10 s; when 0, OTEL_BSP_EXPORT_TIMEOUT, 30 s), also\n"
            "when the collector is down or silent. SIGINT or SIGTERM during that flush cuts it\n"
            "short (the exit status stays the command's); spans not exported are reported.",
        .flags =
            {
                {.name = "name", .value = "NAME", .help = "Span name (default: CMD's basename)"},
                {.name = "kind",
                 .value = "KIND",
                 .help = "internal (default), server, client, producer or consumer"},
                {.name = "attr",
                 .value = "K=V",
                 .help = "Attribute (typed forms: otlp span --help)",
                 .repeated = true},
                {.name = "traceparent",
                 .value = "TP",
                 .help = "Parent context (default: $TRACEPARENT)"},
                {.name = "tracestate",
                 .value = "TS",
                 .help = "Parent tracestate (default: $TRACESTATE)"},
            },
        .examples =
            "  otlp exec -- make -j4\n"
            "  otlp exec --name migrate --attr db=orders -- ./migrate.sh --dry-run\n"
            "  export TRACEPARENT=$(otlp span --name nightly)\n"
            "  otlp exec -- sh -c 'otlp exec -- backup.sh; otlp exec -- verify.sh'\n",
        .positional = true};
    for (FlagSpec& f : ExportFlags()) c.flags.push_back(f);
    return c;
  }();
  return cmd;
}

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

std::string Basename(const std::string& path) {
  size_t slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return base.empty() ? path : base;
}

// The current environment with TRACEPARENT/TRACESTATE replaced by the span's context (kept as
// they are when the span has no valid context, e.g. a disabled SDK without a parent).
std::vector<std::string> ChildEnvironment(const trace::SpanContext& ctx) {
  std::vector<std::string> env;
  const bool replace = ctx.IsValid();
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (replace && (entry.starts_with("TRACEPARENT=") || entry.starts_with("TRACESTATE="))) {
      continue;
    }
    env.emplace_back(entry);
  }
  if (replace) {
    env.push_back("TRACEPARENT=" + ctx.ToTraceparent());
    std::string state = ctx.trace_state().ToHeader();
    if (!state.empty()) env.push_back("TRACESTATE=" + state);
  }
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (std::string& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

int RunExec(std::span<const std::string> args) {
  const Command& cmd = ExecCommand();
  ParsedFlags flags;
  if (auto exit_code = ParseOrExit(cmd, args, flags)) return *exit_code;
  std::string error;
  if (flags.positional.empty()) return UsageError(cmd, "missing command to run");
  std::vector<std::string> command = flags.positional;

  trace::StartOptions start_options;
  if (auto k = flags.Get("kind"); k && !ParseSpanKind(*k, start_options.kind)) {
    return UsageError(cmd, "invalid --kind '" + *k +
                               "' (expected internal, server, client, producer or consumer)");
  }
  AttributeList attrs;
  for (const std::string& a : flags.GetAll("attr")) {
    if (!attrs.Add(a, error)) return UsageError(cmd, error);
  }
  std::string name = flags.Get("name").value_or(Basename(command[0]));
  if (name.empty()) return UsageError(cmd, "--name must not be empty");
  SetupOptions setup;
  if (!ApplyExportFlags(flags, setup, error)) return UsageError(cmd, error);

  // Block the forwarded signals and SIGCHLD before any thread exists (the SDK's threads
  // inherit the mask), so that they are only ever taken by sigwaitinfo below. SIGCHLD must not
  // be ignored (inherited SIG_IGN would make the kernel reap the child for us).
  signal(SIGCHLD, SIG_DFL);
  sigset_t wait_set, original_mask;
  sigemptyset(&wait_set);
  for (int sig : kForwarded) sigaddset(&wait_set, sig);
  sigaddset(&wait_set, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &wait_set, &original_mask);

  trace::SpanContext parent = ParentContext(cmd, flags);
  std::unique_ptr<Sdk> sdk = SetupOrReport(cmd, std::move(setup));
  if (!sdk) return 2;

  attrs.AddString("process.command", command[0]);
  attrs.AddStringArray("process.command_args", command);
  start_options.root = true;
  if (parent.IsValid()) start_options.parent = parent;
  trace::Span span =
      sdk->GetTracer("otlp-cli", kVersion).StartSpan(name, attrs.view(), start_options);

  std::vector<std::string> env = ChildEnvironment(span.GetContext());
  std::vector<char*> envp = CStrings(env);
  std::vector<char*> argv = CStrings(command);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigmask(&attr, &original_mask);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t child = -1;
  int rc = posix_spawnp(&child, argv[0], nullptr, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);

  int exit_code;
  if (rc != 0) {
    const bool not_found = rc == ENOENT;
    exit_code = not_found ? 127 : 126;
    std::string what = not_found && command[0].find('/') == std::string::npos
                           ? std::string("command not found")
                           : std::string(strerrordesc_np(rc));
    PrintError(cmd, command[0] + ": " + what);
    span.SetAttribute("process.exit.code", exit_code);
    span.SetStatus(trace::SpanStatusCode::kError, what);
  } else {
    span.SetAttribute("process.pid", static_cast<int64_t>(child));
    int status = 0;
    while (true) {
      siginfo_t info{};
      int sig = sigwaitinfo(&wait_set, &info);
      if (sig < 0) {
        if (errno == EINTR) continue;
        // Cannot wait for signals: fall back to a plain wait (no forwarding).
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        break;
      }
      if (sig == SIGCHLD) {
        pid_t r = waitpid(child, &status, WNOHANG);
        if (r == child) break;
        if (r < 0 && errno != EINTR) break;
        continue;
      }
      // Signals a process sent (kill, timeout, systemd) are passed on; signals the terminal
      // generated (SI_KERNEL) already went to the whole foreground process group.
      if (info.si_code != SI_KERNEL) kill(child, sig);
    }
    if (WIFSIGNALED(status)) {
      int sig = WTERMSIG(status);
      exit_code = 128 + sig;
      span.SetAttribute("process.exit.code", exit_code);
      span.SetAttribute("process.exit.signal", sig);
      span.SetStatus(trace::SpanStatusCode::kError, "killed by " + SignalName(sig));
    } else {
      exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
      span.SetAttribute("process.exit.code", exit_code);
      if (exit_code != 0) {
        span.SetStatus(trace::SpanStatusCode::kError, "exit code " + std::to_string(exit_code));
      }
    }
  }
  span.End();

  // SIGINT/SIGTERM stay blocked in every thread; from here on they cut the flush short (in
  // the wait above they were only forwarded to the command).
  auto stop = StopSignals::Install();
  if (!stop.ok()) PrintError(cmd, "warning: " + stop.status().message());
  const FlushOutcome flush = FinalFlush(*sdk, stop.ok() ? stop->get() : nullptr);
  ReportUndelivered(cmd, flush, CountDelivery(*sdk, span.GetContext().IsSampled() ? 1 : 0));
  if (!flush.clean()) ExitNow(exit_code);
  return exit_code;
}

}  // namespace otlp::cli
