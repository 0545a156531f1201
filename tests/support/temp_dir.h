// tests/support/temp_dir.h — a private temporary directory removed (recursively) on destruction.
//
//   otlp::test::TempDir dir;
//   ASSERT_TRUE(dir.ok()) << dir.error();
//   ASSERT_OK(dir.WriteFile("nginx.conf", conf));
//   std::string path = dir.Join("nginx.conf");
//
// Threading: not thread-safe; use from one thread.
#pragma once

#include <string>
#include <string_view>

#include "otlp/core/status.h"

namespace otlp::test {

class TempDir {
 public:
  // Creates $TMPDIR/<prefix>XXXXXX (mode 0700).
  explicit TempDir(std::string_view prefix = "otlp-test-");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const noexcept { return !path_.empty(); }
  const std::string& error() const noexcept { return error_; }
  const std::string& path() const noexcept { return path_; }
  std::string Join(std::string_view name) const;
  // Writes (replaces) path()/name.
  Status WriteFile(std::string_view name, std::string_view contents) const;
  // Reads a file; empty string when it does not exist.
  std::string ReadFile(std::string_view name) const;

 private:
  std::string path_;
  std::string error_;
};

}  // namespace otlp::test
