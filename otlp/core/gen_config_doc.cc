// otlp_gen_config_doc — writes docs/CONFIGURATION.md from the option table, for builds without
// the `otlp` CLI (which offers the same as `otlp config --markdown`).
//
//   otlp_gen_config_doc                          # Markdown on stdout
//   otlp_gen_config_doc docs/CONFIGURATION.md    # (over)writes the file
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "otlp/core/config.h"

int main(int argc, char** argv) {
  if (argc > 2) {
    std::cerr << "usage: " << argv[0] << " [output-file]\n";
    return 2;
  }
  const std::string md = otlp::config::RenderMarkdown();
  if (argc == 1) {
    std::cout << md;
    return std::cout.good() ? 0 : 1;
  }
  std::ofstream out(argv[1], std::ios::binary | std::ios::trunc);
  out << md;
  out.close();
  if (!out) {
    std::cerr << argv[0] << ": cannot write " << argv[1] << "\n";
    return 1;
  }
  return 0;
}
