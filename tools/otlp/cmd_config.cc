// otlp config — shows the configuration the SDK would run with, or the Markdown reference.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.h"
#include "common.h"
#include "otlp/core/config.h"
#include "otlp/trace/resource.h"
#include "otlp/trace/sampler.h"

namespace otlp::cli {
namespace {

const Command& ConfigCommand() {
  static const Command cmd = [] {
    Command c{
        .name = "config",
        .summary = "show the resolved configuration",
        .usage = "otlp config [--markdown] [flags]",
        .description =
            "Lists every OTEL_* option otlp-cpp reads with its value and where it comes from\n"
            "(environment, the fallback variable it inherits, a command-line flag, or the\n"
            "default), then what the SDK resolves them to (endpoint, protocol, service.name,\n"
            "sampler). Invalid values are flagged and explained on stderr.\n"
            "With --markdown, prints the configuration reference (docs/CONFIGURATION.md).",
        .flags = {{.name = "markdown", .help = "Print the Markdown reference instead"}},
        .examples =
            "  otlp config\n"
            "  OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 otlp config\n"
            "  otlp config --markdown > docs/CONFIGURATION.md\n"};
    for (FlagSpec& f : ExportFlags()) c.flags.push_back(f);
    return c;
  }();
  return cmd;
}

// Reads `name` with the getter of its type (which validates it and records warnings).
void Validate(config::Reader& env, const config::OptionSpec& spec) {
  switch (spec.type) {
    case config::OptionType::kBool: (void)env.GetBool(spec.name); break;
    case config::OptionType::kInt: (void)env.GetInt(spec.name); break;
    case config::OptionType::kDurationMs: (void)env.GetDuration(spec.name); break;
    case config::OptionType::kDouble: (void)env.GetDouble(spec.name); break;
    case config::OptionType::kEnum: (void)env.GetEnum(spec.name); break;
    case config::OptionType::kEnumList: (void)env.GetEnumList(spec.name); break;
    case config::OptionType::kKeyValues: (void)env.GetKeyValues(spec.name); break;
    default: (void)env.GetString(spec.name); break;
  }
}

bool IsSecretHeaderList(std::string_view name) {
  return name.find("HEADERS") != std::string::npos;
}

}  // namespace

int RunConfig(std::span<const std::string> args) {
  const Command& cmd = ConfigCommand();
  ParsedFlags flags;
  if (auto exit_code = ParseOrExit(cmd, args, flags)) return *exit_code;
  std::string error;
  if (flags.Has("markdown")) {
    std::fputs(config::RenderMarkdown().c_str(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
  }
  SetupOptions setup;
  if (!ApplyExportFlags(flags, setup, error)) return UsageError(cmd, error);

  struct Row {
    std::string name, value, source;
  };
  std::vector<Row> rows;
  config::Reader env;
  for (const config::OptionSpec& spec : config::AllOptions()) {
    Row row{std::string(spec.name), "", ""};
    std::string_view flag;
    std::string flag_value;
    if (spec.name == "OTEL_SERVICE_NAME" && setup.service_name) {
      flag = "--service", flag_value = *setup.service_name;
    } else if (spec.name == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" && setup.otlp.endpoint) {
      flag = "--endpoint", flag_value = *setup.otlp.endpoint;
    } else if (spec.name == "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" && setup.otlp.protocol) {
      flag = "--protocol", flag_value = *flags.Get("protocol");
    }
    size_t warnings_before = env.warnings().size();
    Validate(env, spec);
    bool invalid = env.warnings().size() != warnings_before;
    std::optional<std::string> raw = env.GetRaw(spec.name);
    if (!flag.empty()) {
      row.value = flag_value;
      row.source = "flag " + std::string(flag);
    } else if (raw) {
      row.value = IsSecretHeaderList(spec.name) ? "(set, values hidden)" : *raw;
      row.source = env.last_source() == spec.name
                       ? std::string("environment")
                       : "environment, from " + std::string(env.last_source());
      if (invalid) row.source += "; INVALID, default applies";
    } else {
      row.value = spec.default_text.empty() ? "(unset)" : std::string(spec.default_text);
      row.source = "default";
    }
    rows.push_back(std::move(row));
  }
  size_t name_width = 0, value_width = 0;
  for (const Row& r : rows) {
    name_width = std::max(name_width, r.name.size());
    value_width = std::max(value_width, std::min<size_t>(r.value.size(), 40));
  }
  std::string out;
  for (const Row& r : rows) {
    out += r.name;
    out.append(name_width + 2 - r.name.size(), ' ');
    out += r.value;
    out.append(r.value.size() < value_width + 2 ? value_width + 2 - r.value.size() : 2, ' ');
    out += "(" + r.source + ")\n";
  }

  // What Setup() makes of it.
  out += "\nResolved:\n";
  config::Reader env2;
  bool disabled = env2.GetBool("OTEL_SDK_DISABLED").value_or(false);
  out += "  sdk:              " + std::string(disabled ? "disabled (no-op tracers)" : "enabled") +
         "\n";
  std::string exporter = env2.GetEnum("OTEL_TRACES_EXPORTER").value_or("otlp");
  out += "  traces exporter:  " + exporter + "\n";
  if (exporter == "otlp") {
    auto resolved = exporter::OtlpHttpExporter::ResolveOptions(setup.otlp, &env2);
    if (resolved.ok()) {
      const char* protocol = resolved->protocol == exporter::OtlpProtocol::kHttpJson ? "http/json"
                             : resolved->protocol == exporter::OtlpProtocol::kGrpc
                                 ? "grpc"
                                 : "http/protobuf";
      out += "  endpoint:         " + resolved->endpoint + "\n";
      out += "  protocol:         " + std::string(protocol) + "\n";
      out += "  timeout:          " + std::to_string(resolved->timeout.count()) + " ms\n";
      out += "  compression:      " +
             std::string(resolved->compression == exporter::Compression::kGzip ? "gzip" : "none") +
             "\n";
    } else {
      out += "  endpoint:         ERROR: " + resolved.status().message() + "\n";
    }
  }
  trace::Resource resource = trace::Resource::Default(env2);
  std::string service;
  if (setup.service_name) {
    service = *setup.service_name;
  } else if (const auto* v = resource.attributes().Find("service.name");
             v != nullptr && std::holds_alternative<std::string>(*v)) {
    service = std::get<std::string>(*v);
  }
  out += "  service.name:     " + service + "\n";
  out += "  sampler:          " + trace::Sampler::FromEnvironment(env2)->Description() + "\n";
  std::fputs(out.c_str(), stdout);

  std::vector<std::string> seen;
  for (const auto* list : {&env.warnings(), &env2.warnings()}) {
    for (const std::string& w : *list) {
      if (std::find(seen.begin(), seen.end(), w) != seen.end()) continue;
      seen.push_back(w);
      PrintError(cmd, "warning: " + w);
    }
  }
  return 0;
}

}  // namespace otlp::cli
