#include "flags.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace otlp::cli {
namespace {

const FlagSpec* FindFlag(const Command& command, std::string_view name) {
  for (const FlagSpec& f : command.flags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// True when `arg` names a flag of the command ("--kind" or "--kind=x"), or asks for help.
bool LooksLikeKnownFlag(const Command& command, std::string_view arg) {
  if (arg == "-h" || arg == "--help") return true;
  if (arg.substr(0, 2) != "--" || arg.size() == 2) return false;
  std::string_view name = arg.substr(2);
  name = name.substr(0, name.find('='));
  return FindFlag(command, name) != nullptr;
}

}  // namespace

std::optional<std::string> ParsedFlags::Get(std::string_view name) const {
  auto it = values.find(name);
  if (it == values.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> ParsedFlags::GetAll(std::string_view name) const {
  auto it = values.find(name);
  if (it == values.end()) return {};
  return it->second;
}

bool ParseFlags(const Command& command, std::span<const std::string> args, ParsedFlags& out,
                std::string& error) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--") {
      if (!command.positional) {
        if (i + 1 < args.size()) {
          error = "unexpected argument '" + args[i + 1] + "'";
          return false;
        }
        return true;
      }
      out.positional.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      return true;
    }
    if (arg == "-h" || arg == "--help") {
      out.help = true;
      continue;
    }
    if (arg.empty() || arg[0] != '-' || arg == "-") {
      if (!command.positional) {
        error = "unexpected argument '" + std::string(arg) + "'";
        return false;
      }
      out.positional.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      return true;
    }
    if (arg.substr(0, 2) != "--") {
      error = "unknown flag " + std::string(arg);
      return false;
    }
    std::string_view body = arg.substr(2);
    size_t eq = body.find('=');
    std::string_view name = body.substr(0, eq);
    const FlagSpec* spec = FindFlag(command, name);
    if (spec == nullptr) {
      error = "unknown flag --" + std::string(name);
      return false;
    }
    std::string value;
    if (spec->value.empty()) {
      if (eq != std::string_view::npos) {
        error = "flag --" + std::string(name) + " takes no value";
        return false;
      }
      value = "true";
    } else if (eq != std::string_view::npos) {
      value = std::string(body.substr(eq + 1));
    } else {
      if (i + 1 >= args.size() || LooksLikeKnownFlag(command, args[i + 1])) {
        error = "flag --" + std::string(name) + " needs a value (" + std::string(spec->value) + ")";
        return false;
      }
      value = args[++i];
    }
    auto& slot = out.values[std::string(name)];
    if (!slot.empty() && !spec->repeated) {
      error = "flag --" + std::string(name) + " given more than once";
      return false;
    }
    slot.push_back(std::move(value));
  }
  return true;
}

std::string HelpText(const Command& command) {
  std::string s;
  s += "otlp ";
  s += command.name;
  s += " — ";
  s += command.summary;
  s += "\n\nUsage: ";
  s += command.usage;
  s += "\n";
  if (!command.description.empty()) {
    s += "\n";
    s += command.description;
    if (command.description.back() != '\n') s += "\n";
  }
  if (!command.flags.empty()) {
    s += "\nFlags:\n";
    size_t width = 0;
    std::vector<std::string> heads;
    for (const FlagSpec& f : command.flags) {
      std::string head = "  --" + std::string(f.name);
      if (!f.value.empty()) head += " " + std::string(f.value);
      width = std::max(width, head.size());
      heads.push_back(std::move(head));
    }
    heads.push_back("  -h, --help");
    width = std::max(width, heads.back().size());
    for (size_t i = 0; i < heads.size(); ++i) {
      std::string_view help =
          i < command.flags.size() ? command.flags[i].help : std::string_view("Show this help");
      s += heads[i];
      s.append(width + 2 - heads[i].size(), ' ');
      // Continuation lines of a multi-line help are indented under the first.
      size_t start = 0;
      while (true) {
        size_t nl = help.find('\n', start);
        s += help.substr(start, nl == std::string_view::npos ? nl : nl - start);
        s += "\n";
        if (nl == std::string_view::npos) break;
        start = nl + 1;
        s.append(width + 2, ' ');
      }
      if (i < command.flags.size() && command.flags[i].repeated) {
        s.append(width + 2, ' ');
        s += "(may be repeated)\n";
      }
    }
  }
  if (!command.examples.empty()) {
    s += "\nExamples:\n";
    s += command.examples;
    if (command.examples.back() != '\n') s += "\n";
  }
  return s;
}

int UsageError(const Command& command, std::string_view message) {
  std::string line = "otlp " + std::string(command.name) + ": " + std::string(message) +
                     " (see otlp " + std::string(command.name) + " --help)\n";
  std::fputs(line.c_str(), stderr);
  return 2;
}

std::optional<int> ParseOrExit(const Command& command, std::span<const std::string> args,
                               ParsedFlags& out) {
  std::string error;
  if (!ParseFlags(command, args, out, error)) return UsageError(command, error);
  if (out.help) {
    std::fputs(HelpText(command).c_str(), stdout);
    return 0;
  }
  return std::nullopt;
}

bool UnsignedFlag(const ParsedFlags& flags, std::string_view name, uint64_t min, uint64_t max,
                  uint64_t& out, std::string& error) {
  auto v = flags.Get(name);
  if (!v) return true;
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < min || n > max) {
    error = "invalid --" + std::string(name) + " '" + *v + "' (expected an integer in [" +
            std::to_string(min) + ", " + std::to_string(max) + "])";
    return false;
  }
  out = n;
  return true;
}

void SeparatePositional(const Command& command, std::span<const std::string> args,
                        const std::vector<std::pair<std::string_view, std::string_view>>& short_forms,
                        std::vector<std::string>& flag_args, std::vector<std::string>& positional) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    for (const auto& [short_form, long_form] : short_forms) {
      if (arg == short_form) arg = std::string(long_form);
    }
    if (arg.empty() || arg[0] != '-' || arg == "-") {
      positional.push_back(arg);
      continue;
    }
    flag_args.push_back(arg);
    if (!arg.starts_with("--") || arg.find('=') != std::string::npos) continue;
    const std::string_view name = std::string_view(arg).substr(2);
    for (const FlagSpec& f : command.flags) {
      if (f.name == name && !f.value.empty() && i + 1 < args.size()) {
        flag_args.push_back(args[++i]);  // its value, even when it looks like a flag
        break;
      }
    }
  }
}

}  // namespace otlp::cli
