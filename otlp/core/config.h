// otlp/core/config.h — every OTEL_* option otlp-cpp reads, in one table that drives parsing,
// validation, defaults and the generated docs/CONFIGURATION.md.
//
//   otlp::config::Reader env;                         // reads the process environment
//   int64_t q = env.GetInt("OTEL_BSP_MAX_QUEUE_SIZE").value_or(2048);
//   for (const auto& w : env.warnings()) std::cerr << w << "\n";
//
// Rules (OpenTelemetry SDK configuration spec): an empty value means unset; a value that does
// not parse or is out of range is ignored with a warning (the default applies); enum values are
// case-insensitive. Code-given options win over the environment, which wins over defaults: every
// option struct keeps environment-overridable fields as std::optional so "unset" is not zero.
//
// Thread-safety: the table is immutable; a Reader is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/core/export.h"

namespace otlp::config {

enum class OptionType : unsigned char {
  kBool,        // "true" (case-insensitive) or "false"; anything else warns and is false
  kInt,         // decimal integer within [min, max]
  kDurationMs,  // integer milliseconds within [min, max]
  kDouble,      // decimal number within [min, max]
  kString,      // any text
  kEnum,        // one of `choices` (case-insensitive)
  kEnumList,    // comma-separated list of `choices`
  kKeyValues,   // "k1=v1,k2=v2" with percent-encoded values
  kUrl,         // an absolute http:// or https:// URL
  kFile,        // a path to a readable file
};

struct OTLP_EXPORT OptionSpec {
  std::string_view name;
  OptionType type;
  std::string_view default_text;  // shown in the docs; empty = unset / no limit
  std::string_view description;
  std::string_view choices = {};   // for enums: "a|b|c"
  std::string_view fallback = {};  // a generic option consulted when this one is unset
  double min = 0;
  double max = 2147483647;  // the spec's integer range
  std::string_view group = {};
};

// The whole table, in documentation order.
OTLP_EXPORT std::span<const OptionSpec> AllOptions() noexcept;
OTLP_EXPORT const OptionSpec* FindOption(std::string_view name) noexcept;

// Markdown for docs/CONFIGURATION.md, generated from the table.
OTLP_EXPORT std::string RenderMarkdown();

// Reads options from an environment (the process's, or a map given by tests) and validates them
// against the table. Problems are collected as warnings ("OTEL_BSP_MAX_QUEUE_SIZE=abc: not an
// integer; using the default 2048").
class OTLP_EXPORT Reader {
 public:
  using Lookup = std::function<std::optional<std::string>(std::string_view)>;
  Reader();  // the process environment
  explicit Reader(Lookup lookup);
  explicit Reader(std::map<std::string, std::string, std::less<>> values);

  // Raw text, after the fallback rule; nullopt when unset or empty.
  std::optional<std::string> GetRaw(std::string_view name);
  std::optional<bool> GetBool(std::string_view name);
  std::optional<int64_t> GetInt(std::string_view name);
  std::optional<std::chrono::milliseconds> GetDuration(std::string_view name);
  std::optional<double> GetDouble(std::string_view name);
  std::optional<std::string> GetString(std::string_view name);
  // Lowercased, validated against the choices.
  std::optional<std::string> GetEnum(std::string_view name);
  std::optional<std::vector<std::string>> GetEnumList(std::string_view name);
  std::optional<std::vector<std::pair<std::string, std::string>>> GetKeyValues(
      std::string_view name);

  // The name of the variable that supplied the last successful Get (the option itself or its
  // fallback), for rules such as the OTLP endpoint path.
  std::string_view last_source() const noexcept { return last_source_; }
  const std::vector<std::string>& warnings() const noexcept { return warnings_; }
  void Warn(std::string message) { warnings_.push_back(std::move(message)); }

 private:
  std::optional<std::pair<const OptionSpec*, std::string>> Lookup_(std::string_view name);
  Lookup lookup_;
  std::string_view last_source_;
  std::vector<std::string> warnings_;
};

// Percent-decodes `in` ("%20" → ' '); nullopt on a malformed escape.
OTLP_EXPORT std::optional<std::string> PercentDecode(std::string_view in);
// Parses "k1=v1,k2=v2" (keys and values trimmed, values percent-decoded). An error message
// names the offending member.
OTLP_EXPORT bool ParseKeyValueList(std::string_view text,
                                   std::vector<std::pair<std::string, std::string>>& out,
                                   std::string& error);

}  // namespace otlp::config
