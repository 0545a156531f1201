// otlp/trace/resource.h — the entity producing telemetry: service.name, telemetry.sdk.*,
// host.name, process.* and whatever OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME add.
//
//   Resource r = Resource::Default();                 // detectors + environment
//   OwnedAttributes extra;
//   extra.Set("deployment.environment.name", AttributeValue("prod"));
//   Resource mine = r.Merge(Resource(std::move(extra)));
//
// Thread-safety: immutable after construction; Default() may be called from any thread (it reads
// the process environment).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "otlp/core/attributes.h"
#include "otlp/core/export.h"
#include "otlp/core/status.h"

namespace otlp::config {
class Reader;
}  // namespace otlp::config

namespace otlp::trace {

class OTLP_EXPORT Resource {
 public:
  Resource() = default;
  explicit Resource(OwnedAttributes attributes, std::string schema_url = {})
      : attributes_(std::move(attributes)), schema_url_(std::move(schema_url)) {}

  // SDK attributes (telemetry.sdk.name/language/version), detected host.name, process.pid,
  // process.executable.name/.path, then OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME;
  // service.name defaults to "unknown_service:<executable>". A malformed
  // OTEL_RESOURCE_ATTRIBUTES is discarded whole, with a warning through OTLP_LOG.
  static Resource Default();
  // The same, reading the variables from `env` (tests pass a map-based Reader).
  static Resource Default(config::Reader& env);

  // Parses OTEL_RESOURCE_ATTRIBUTES syntax ("k=v,k2=v%202"). On any decoding error the whole
  // value is rejected with a message (the specification discards it).
  static Result<OwnedAttributes> ParseAttributeList(std::string_view text);

  // Attributes of `other` (the updating resource) win on conflicts. The schema URL is kept when
  // only one side has one; when both have different ones the specification calls it a merge
  // error: we keep `other`'s URL and log a warning rather than fail.
  Resource Merge(const Resource& other) const;

  const OwnedAttributes& attributes() const noexcept { return attributes_; }
  const std::string& schema_url() const noexcept { return schema_url_; }
  uint32_t dropped_attributes_count() const noexcept { return 0; }

 private:
  OwnedAttributes attributes_;
  std::string schema_url_;
};

}  // namespace otlp::trace
