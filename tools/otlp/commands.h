// tools/otlp/commands.h — the entry point of each `otlp` command (one file each: cmd_*.cc).
// Each takes the arguments after the command name and returns the process exit code:
// 0 success, 2 bad usage (one line on stderr), otherwise as the command documents.
#pragma once

#include <span>
#include <string>

namespace otlp::cli {

int RunSpan(std::span<const std::string> args);
int RunExec(std::span<const std::string> args);
int RunBench(std::span<const std::string> args);  // "trace" and "sink" subcommands
int RunConfig(std::span<const std::string> args);
int RunHttp(std::span<const std::string> args);
int RunView(std::span<const std::string> args);
int RunDemo(std::span<const std::string> args);
int RunNats(std::span<const std::string> args);  // pub, sub, req, reply, bench, ...

}  // namespace otlp::cli
