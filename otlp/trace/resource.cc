#include "otlp/trace/resource.h"

#include <unistd.h>

#include <cerrno>  // program_invocation_short_name (glibc)
#include <climits>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "otlp/core/config.h"
#include "otlp/core/log.h"
#include "otlp/core/version.h"

namespace otlp::trace {
namespace {

constexpr std::string_view kServiceName = "service.name";

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return {};
  buf[sizeof buf - 1] = '\0';  // POSIX leaves truncated names unterminated
  return buf;
}

// Absolute path of the running executable, or empty when unknown.
std::string ExecutablePath() {
#if defined(__linux__)
  std::vector<char> buf(PATH_MAX);
  while (true) {
    ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size());
    if (n < 0) return {};
    if (static_cast<size_t>(n) < buf.size()) {
      std::string path(buf.data(), static_cast<size_t>(n));
      // The kernel marks a replaced or removed binary this way; the path itself is still useful.
      constexpr std::string_view kDeleted = " (deleted)";
      if (path.size() > kDeleted.size() && path.ends_with(kDeleted)) {
        path.resize(path.size() - kDeleted.size());
      }
      return path;
    }
    if (buf.size() >= 1u << 16) return {};
    buf.resize(buf.size() * 2);
  }
#else
  return {};
#endif
}

std::string BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string ExecutableName(const std::string& path) {
  if (!path.empty()) return BaseName(path);
#if defined(__GLIBC__)
  if (program_invocation_short_name != nullptr) return program_invocation_short_name;
#endif
  return {};
}

// Everything the SDK knows without looking at OTEL_* variables.
OwnedAttributes DetectedAttributes() {
  OwnedAttributes a;
  a.Set(std::string("telemetry.sdk.name"), OwnedAttributeValue(std::string("otlp-cpp")));
  a.Set(std::string("telemetry.sdk.language"), OwnedAttributeValue(std::string("cpp")));
  a.Set(std::string("telemetry.sdk.version"), OwnedAttributeValue(std::string(otlp::kVersion)));
  if (std::string host = HostName(); !host.empty()) {
    a.Set(std::string("host.name"), OwnedAttributeValue(std::move(host)));
  }
  a.Set(std::string("process.pid"), OwnedAttributeValue(int64_t{getpid()}));
  std::string path = ExecutablePath();
  std::string name = ExecutableName(path);
  if (!name.empty()) {
    a.Set(std::string("process.executable.name"), OwnedAttributeValue(name));
  }
  if (!path.empty()) {
    a.Set(std::string("process.executable.path"), OwnedAttributeValue(std::move(path)));
  }
  std::string service = name.empty() ? std::string("unknown_service") : "unknown_service:" + name;
  a.Set(std::string(kServiceName), OwnedAttributeValue(std::move(service)));
  return a;
}

}  // namespace

Resource Resource::Default() {
  config::Reader env;
  return Default(env);
}

Resource Resource::Default(config::Reader& env) {
  Resource resource(DetectedAttributes());

  if (auto text = env.GetRaw("OTEL_RESOURCE_ATTRIBUTES")) {
    Result<OwnedAttributes> parsed = ParseAttributeList(*text);
    if (parsed.ok()) {
      resource = resource.Merge(Resource(std::move(*parsed)));
    } else {
      OTLP_LOG(kWarn, "OTEL_RESOURCE_ATTRIBUTES: " + parsed.status().message() +
                          "; the whole value is ignored");
    }
  }
  if (auto service = env.GetRaw("OTEL_SERVICE_NAME")) {
    resource.attributes_.Set(std::string(kServiceName), OwnedAttributeValue(std::move(*service)));
  }
  return resource;
}

Result<OwnedAttributes> Resource::ParseAttributeList(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> members;
  std::string error;
  if (!config::ParseKeyValueList(text, members, error)) return InvalidArgumentError(error);
  OwnedAttributes out;
  for (auto& [key, value] : members) {
    out.Set(std::move(key), OwnedAttributeValue(std::move(value)));
  }
  return out;
}

Resource Resource::Merge(const Resource& other) const {
  OwnedAttributes merged = attributes_;
  for (const auto& [key, value] : other.attributes_) merged.Set(key, value);

  std::string schema_url;
  if (schema_url_.empty()) {
    schema_url = other.schema_url_;
  } else if (other.schema_url_.empty() || other.schema_url_ == schema_url_) {
    schema_url = schema_url_;
  } else {
    OTLP_LOG(kWarn, "merging resources with different schema URLs ('" + schema_url_ + "' and '" +
                        other.schema_url_ + "'); keeping '" + other.schema_url_ + "'");
    schema_url = other.schema_url_;
  }
  return Resource(std::move(merged), std::move(schema_url));
}

}  // namespace otlp::trace
