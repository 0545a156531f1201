// docs/CONFIGURATION.md is generated from the option table; this test fails when it is stale.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include "otlp/core/config.h"

#ifndef OTLP_SOURCE_DIR
#error "OTLP_SOURCE_DIR must be defined (see otlp/core/CMakeLists.txt)"
#endif

namespace otlp::config {
namespace {

TEST(ConfigurationDoc, MatchesTheOptionTable) {
  const std::string path = std::string(OTLP_SOURCE_DIR) + "/docs/CONFIGURATION.md";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << path << " is missing.\n"
                         << "Generate it with one of:\n"
                         << "  otlp config --markdown > docs/CONFIGURATION.md\n"
                         << "  cmake --build <build-dir> --target otlp_update_config_doc";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string committed = ss.str();
  const std::string expected = RenderMarkdown();
  if (committed == expected) return;

  // Point at the first difference to make the failure readable.
  size_t i = 0;
  while (i < committed.size() && i < expected.size() && committed[i] == expected[i]) ++i;
  size_t line = 1 + static_cast<size_t>(std::count(expected.begin(), expected.begin() + i, '\n'));
  auto line_at = [](const std::string& s, size_t pos) {
    size_t b = s.rfind('\n', pos == 0 ? 0 : pos - 1);
    b = b == std::string::npos ? 0 : b + 1;
    size_t e = s.find('\n', pos);
    return s.substr(b, e == std::string::npos ? std::string::npos : e - b);
  };
  FAIL() << path << " is stale (it differs from the option table in otlp/core/config.cc at line "
         << line << ").\n"
         << "  file:      " << line_at(committed, std::min(i, committed.size())) << "\n"
         << "  generated: " << line_at(expected, std::min(i, expected.size())) << "\n"
         << "Regenerate it with one of:\n"
         << "  otlp config --markdown > docs/CONFIGURATION.md\n"
         << "  cmake --build <build-dir> --target otlp_update_config_doc\n"
         << "  <build-dir>/otlp/core/otlp_gen_config_doc docs/CONFIGURATION.md";
}

}  // namespace
}  // namespace otlp::config
