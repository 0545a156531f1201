// otlp — the otlp-cpp command-line tool. Dispatches to one command per file (cmd_*.cc).
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"
#include "otlp/core/version.h"

namespace {

constexpr const char* kHelp =
    "otlp — OpenTelemetry tracing from the command line (otlp-cpp " OTLP_VERSION_STRING
    ")\n"
    "\n"
    "Usage: otlp <command> [flags]\n"
    "\n"
    "Commands:\n"
    "  span     emit one span and print its traceparent (chain spans in shell scripts)\n"
    "  exec     run a command inside a span, passing TRACEPARENT to it\n"
    "  bench    measure the export pipeline (bench trace) against a local sink (bench sink)\n"
    "  config   show the resolved OTEL_* configuration (--markdown: the reference)\n"
    "  http     send one HTTP request, traced (a curl-like client)\n"
    "  view     a local OTLP backend: trace waterfalls in the terminal and the browser\n"
    "  demo     run a traced multi-service checkout and print its trace id\n"
    "  nats     a NATS client, traced: pub, sub, req, reply, bench\n"
    "\n"
    "Run `otlp <command> --help` for a command's flags and examples.\n"
    "Spans are exported with OTLP/HTTP as configured by OTEL_* variables (see `otlp config`);\n"
    "--service, --endpoint and --protocol override them on every command that exports.\n"
    "\n"
    "Examples:\n"
    "  export TRACEPARENT=$(otlp span --name release --service ci)\n"
    "  otlp exec -- make test\n"
    "  otlp bench sink --port 4318 & otlp bench trace --endpoint http://127.0.0.1:4318\n";

// Runs `command`; -1 when there is no such command.
int Dispatch(const std::string& command, std::span<const std::string> args) {
  if (command == "span") return otlp::cli::RunSpan(args);
  if (command == "exec") return otlp::cli::RunExec(args);
  if (command == "bench") return otlp::cli::RunBench(args);
  if (command == "config") return otlp::cli::RunConfig(args);
  if (command == "http") return otlp::cli::RunHttp(args);
  if (command == "view") return otlp::cli::RunView(args);
  if (command == "demo") return otlp::cli::RunDemo(args);
  if (command == "nats") return otlp::cli::RunNats(args);
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  if (args.empty()) {
    std::fputs(kHelp, stderr);
    return 2;
  }
  std::string command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "--help" || command == "-h" || command == "help") {
    if (command != "help" || rest.empty()) {
      std::fputs(kHelp, stdout);
      return 0;
    }
    // `otlp help span` is `otlp span --help`; `otlp help bench trace` works too.
    command = rest[0];
    rest.erase(rest.begin());
    rest.push_back("--help");
  }
  if (command == "--version" || command == "version") {
    std::printf("otlp %s\n", OTLP_VERSION_STRING);
    return 0;
  }
  int rc = Dispatch(command, rest);
  if (rc >= 0) return rc;
  if (!command.empty() && command[0] == '-') {
    std::fprintf(stderr, "otlp: unknown flag %s (see otlp --help)\n", command.c_str());
  } else {
    std::fprintf(stderr, "otlp: unknown command '%s' (see otlp --help)\n", command.c_str());
  }
  return 2;
}
