// otlp/view/internal/ui_assets.h — the web UI's files (otlp/view/ui/), compiled into the library
// by cmake/EmbedFiles.cmake: `otlp view` needs nothing beside its binary.
#pragma once

#include <span>
#include <string_view>

namespace otlp::view::internal {

struct UiAsset {
  std::string_view path;          // relative to otlp/view/ui/, e.g. "index.html"
  std::string_view content_type;  // from the extension
  std::string_view body;
};

std::span<const UiAsset> UiAssets();

}  // namespace otlp::view::internal
