// KV and Object Store interoperability with the official Go client (nats.go 1.22 from Debian's
// sources, testdata/natsgo_interop.go, built offline by this test): objects put by one are read
// by the other with the digest checked, the info JSON nats.go stores is the one we would write,
// KV values written by one are read by the other. Skipped when Go or nats.go is missing.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>

#include "otlp/nats/js_test_util.h"
#include "otlp/nats/kv.h"
#include "otlp/nats/object_store.h"
#include "tests/support/nats_server.h"
#include "tests/support/temp_dir.h"

namespace otlp::nats {
namespace {

using namespace std::chrono_literals;
using test::NatsServer;
using testing::JsEnv;

struct ShellRun {
  int status = -1;
  std::string out;
};

ShellRun Shell(const std::string& command) {
  ShellRun r;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class NatsGoInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Shell("command -v go >/dev/null 2>&1 && echo yes").out.find("yes") == std::string::npos ||
        Shell("test -d /usr/share/gocode/src/github.com/nats-io/nats.go && echo yes")
                .out.find("yes") == std::string::npos) {
      GTEST_SKIP() << "Go or Debian's nats.go sources are not installed";
    }
    ASSERT_TRUE(dir_.ok());
    binary_ = dir_.Join("natsgo_interop");
    const ShellRun built = Shell("cd " + dir_.path() +
                            " && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=" OTLP_GO_CACHE
                            " GOFLAGS= go build -o " + binary_ + " " OTLP_NATSGO_INTEROP_SRC
                            " 2>&1");
    ASSERT_EQ(built.status, 0) << built.out;
    ASSERT_TRUE(server_.ok()) << server_.error();
    ASSERT_TRUE(env_.Init(server_));
  }

  ShellRun Go(const std::string& args) { return Shell(binary_ + " " + server_.url() + " " + args); }

  test::TempDir dir_{"otlp-natsgo-"};
  std::string binary_;
  NatsServer server_{{.jetstream = true}};
  JsEnv env_;
};

TEST_F(NatsGoInteropTest, ObjectsPutByOneAreReadByTheOther) {
  auto obs = ObjectStore::Create(env_.js, {.bucket = "interop"});
  ASSERT_TRUE(obs.ok()) << obs.status().ToString();

  // Ours → nats.go (which checks the digest while reading).
  std::mt19937 rng(11);
  std::string data(1024 * 1024 + 1, '\0');
  for (char& c : data) c = static_cast<char>(rng() & 0xff);
  Result<ObjectInfo> put = (*obs)->PutBytes("from-cpp.bin", data);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  ShellRun got = Go("obj-get interop from-cpp.bin");
  ASSERT_EQ(got.status, 0) << got.out;
  EXPECT_EQ(Trim(got.out), std::to_string(data.size()) + " " + put->digest);

  // nats.go → ours.
  ShellRun go_put = Go("obj-put interop from-go.bin " + std::to_string(300 * 1024 + 7) + " 5");
  ASSERT_EQ(go_put.status, 0) << go_put.out;
  std::ostringstream out;
  Result<ObjectInfo> info = (*obs)->Get("from-go.bin", out);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(Trim(go_put.out), std::to_string(out.str().size()) + " " + info->digest);
  EXPECT_EQ(ObjectDigest(out.str()), info->digest);
  EXPECT_EQ(info->chunks, 3u);

  // The info nats.go stored is byte for byte what we write for the same object; and ours is
  // what nats.go reads back.
  ShellRun meta = Go("obj-meta interop from-go.bin");
  ASSERT_EQ(meta.status, 0) << meta.out;
  Result<ObjectInfo> parsed = ParseObjectInfoJson(meta.out);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(ObjectInfoJson(*parsed), meta.out);
  ShellRun our_meta = Go("obj-meta interop from-cpp.bin");
  ASSERT_EQ(our_meta.status, 0);
  ObjectInfo published = *put;
  published.mtime_unix_nano = 0;
  EXPECT_EQ(our_meta.out, ObjectInfoJson(published));

  // Deleted by us: gone for nats.go too.
  ASSERT_TRUE((*obs)->Delete("from-cpp.bin").ok());
  EXPECT_EQ(Go("obj-get interop from-cpp.bin").status, 2);
}

TEST_F(NatsGoInteropTest, KvValuesWrittenByOneAreReadByTheOther) {
  auto kv = KeyValue::Create(env_.js, {.bucket = "shared", .history = 3});
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  Result<uint64_t> rev = (*kv)->Put("order.1", "paid");
  ASSERT_TRUE(rev.ok());
  ShellRun got = Go("kv-get shared order.1");
  ASSERT_EQ(got.status, 0) << got.out;
  EXPECT_EQ(Trim(got.out), std::to_string(*rev) + " paid");

  ShellRun put = Go("kv-put shared order.2 shipped");
  ASSERT_EQ(put.status, 0) << put.out;
  Result<KvEntry> e = (*kv)->Get("order.2");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->value, "shipped");
  EXPECT_EQ(std::to_string(e->revision), Trim(put.out));

  // Our delete and purge markers are nats.go's.
  ASSERT_TRUE((*kv)->Delete("order.1").ok());
  EXPECT_EQ(Go("kv-get shared order.1").status, 2);
  ASSERT_TRUE((*kv)->Purge("order.2").ok());
  EXPECT_EQ(Go("kv-get shared order.2").status, 2);
}

}  // namespace
}  // namespace otlp::nats
