// tools/otlp/flags.h — the command-line flag parser every `otlp` command uses.
//
//   otlp::cli::Command cmd{
//       .name = "span", .summary = "Emit one span", .usage = "otlp span --name N [flags]",
//       .flags = {{.name = "name", .value = "N", .help = "Span name (required)"},
//                 {.name = "attr", .value = "K=V", .help = "…", .repeated = true}},
//       .examples = "  otlp span --name deploy\n"};
//   otlp::cli::ParsedFlags f;
//   std::string error;
//   if (!otlp::cli::ParseFlags(cmd, args, f, error)) { /* one-line error, exit 2 */ }
//   std::optional<std::string> name = f.Get("name");
//
// Rules (no getopt quirks, no argument permutation):
//   --flag value  and  --flag=value; a boolean flag takes no value (--flag=x is an error);
//   a flag not marked `repeated` may be given once; repeated flags keep every value in order;
//   "--" ends the flags, everything after it is positional; -h and --help ask for help;
//   the first argument that does not start with '-' ends the flags when the command takes
//   positional arguments (`otlp exec sleep 1`), and is an error otherwise;
//   a value may start with '-' ("--attr n:int=-1"), but a missing value is reported when the
//   next argument is itself a known flag of the command.
// Threading: plain functions and values.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace otlp::cli {

struct FlagSpec {
  std::string_view name;   // without the leading "--"
  std::string_view value;  // metavariable shown in help ("N", "URL"); empty: a boolean flag
  std::string_view help;
  bool repeated = false;
};

struct Command {
  std::string_view name;              // "span", "bench trace"
  std::string_view summary;           // one line
  std::string_view usage;             // "otlp span --name N [flags]"
  std::string_view description = {};  // paragraphs printed after the usage line (may be empty)
  std::vector<FlagSpec> flags = {};
  std::string_view examples = {};
  bool positional = false;  // takes positional arguments (after "--" or the first non-flag)
};

struct ParsedFlags {
  std::map<std::string, std::vector<std::string>, std::less<>> values;
  std::vector<std::string> positional;
  bool help = false;

  bool Has(std::string_view name) const { return values.find(name) != values.end(); }
  // The value of a single flag (for a boolean flag: "true"), or nullopt when absent.
  std::optional<std::string> Get(std::string_view name) const;
  // Every value of a repeated flag, in order (empty when absent).
  std::vector<std::string> GetAll(std::string_view name) const;
};

// Parses `args` (without the program and command names). On failure `error` holds a message
// without the command prefix, e.g. "unknown flag --foo".
bool ParseFlags(const Command& command, std::span<const std::string> args, ParsedFlags& out,
                std::string& error);

// The --help text: summary, usage, description, every flag, examples.
std::string HelpText(const Command& command);

// "otlp span: <message> (see otlp span --help)" on stderr; returns the exit code 2.
int UsageError(const Command& command, std::string_view message);

// The common start of every command: parses `args` into `out`; on a usage error prints it and
// returns 2, on --help prints the help and returns 0; returns nullopt when the command should run.
std::optional<int> ParseOrExit(const Command& command, std::span<const std::string> args,
                               ParsedFlags& out);

// For commands whose positional arguments may come before, between or after the flags (`otlp
// http URL -v`, `otlp nats pub SUBJECT DATA --server URL`): splits `args` into the flags (short
// forms in `short_forms` spelled long; a valued flag's next argument is its value, even when it
// looks like a flag) and the positional arguments, in order. Pass `flag_args` to ParseFlags.
void SeparatePositional(const Command& command, std::span<const std::string> args,
                        const std::vector<std::pair<std::string_view, std::string_view>>& short_forms,
                        std::vector<std::string>& flag_args, std::vector<std::string>& positional);

// Reads flag `name`, when given, as an integer in [min, max] into `out`; false with a one-line
// `error` ("invalid --port '70000' (expected an integer in [0, 65535])") for a bad value.
bool UnsignedFlag(const ParsedFlags& flags, std::string_view name, uint64_t min, uint64_t max,
                  uint64_t& out, std::string& error);

}  // namespace otlp::cli
