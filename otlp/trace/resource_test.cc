#include "otlp/trace/resource.h"

#include <unistd.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include "tests/support/status_matchers.h"

#include "otlp/core/config.h"
#include "otlp/core/log.h"
#include "otlp/core/version.h"

namespace otlp::trace {
namespace {

using ::testing::HasSubstr;

using Env = std::map<std::string, std::string, std::less<>>;

// The string value of `key`, or "<missing>" / "<not a string>".
std::string Str(const Resource& r, std::string_view key) {
  const OwnedAttributeValue* v = r.attributes().Find(key);
  if (v == nullptr) return "<missing>";
  if (const auto* s = std::get_if<std::string>(v)) return *s;
  return "<not a string>";
}

OwnedAttributes Attrs(std::initializer_list<std::pair<std::string, std::string>> kvs) {
  OwnedAttributes a;
  for (const auto& [k, v] : kvs) a.Set(k, OwnedAttributeValue(v));
  return a;
}

// Captures otlp-cpp's diagnostics for the duration of a test.
class ResourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_level_ = GetLogLevel();
    SetLogLevel(LogLevel::kDebug);
    SetLogHandler([this](LogLevel level, std::string_view msg) {
      std::lock_guard<std::mutex> lock(mu_);
      if (level >= LogLevel::kWarn) warnings_.emplace_back(msg);
    });
  }
  void TearDown() override {
    SetLogHandler(nullptr);
    SetLogLevel(saved_level_);
  }
  std::vector<std::string> Warnings() {
    std::lock_guard<std::mutex> lock(mu_);
    return warnings_;
  }
  static Resource FromEnv(Env values) {
    config::Reader env(std::move(values));
    return Resource::Default(env);
  }

 private:
  LogLevel saved_level_ = LogLevel::kInfo;
  std::mutex mu_;
  std::vector<std::string> warnings_;
};

TEST_F(ResourceTest, DefaultHasSdkHostAndProcessAttributes) {
  Resource r = FromEnv({});
  EXPECT_EQ(Str(r, "telemetry.sdk.name"), "otlp-cpp");
  EXPECT_EQ(Str(r, "telemetry.sdk.language"), "cpp");
  EXPECT_EQ(Str(r, "telemetry.sdk.version"), otlp::kVersion);

  std::string host = Str(r, "host.name");
  EXPECT_NE(host, "<missing>");
  EXPECT_FALSE(host.empty());

  const OwnedAttributeValue* pid = r.attributes().Find("process.pid");
  ASSERT_NE(pid, nullptr);
  ASSERT_TRUE(std::holds_alternative<int64_t>(*pid));
  EXPECT_EQ(std::get<int64_t>(*pid), static_cast<int64_t>(getpid()));

  std::string exe = Str(r, "process.executable.name");
  ASSERT_NE(exe, "<missing>");
  ASSERT_FALSE(exe.empty());
  EXPECT_EQ(exe.find('/'), std::string::npos);
  std::string path = Str(r, "process.executable.path");
  ASSERT_NE(path, "<missing>");
  EXPECT_TRUE(path.ends_with("/" + exe)) << path;

  EXPECT_EQ(Str(r, "service.name"), "unknown_service:" + exe);
  EXPECT_EQ(r.attributes().Find("process.command_args"), nullptr);
  EXPECT_TRUE(r.schema_url().empty());
  EXPECT_TRUE(Warnings().empty());
}

TEST_F(ResourceTest, EnvironmentAttributesAreTrimmedAndPercentDecoded) {
  Resource r = FromEnv({{"OTEL_RESOURCE_ATTRIBUTES",
                         " a=b%20c , deployment.environment.name = prod,x=1%2C2%3D3,empty="}});
  EXPECT_EQ(Str(r, "a"), "b c");
  EXPECT_EQ(Str(r, "deployment.environment.name"), "prod");
  EXPECT_EQ(Str(r, "x"), "1,2=3");
  EXPECT_EQ(Str(r, "empty"), "");
  // Detected attributes are still there.
  EXPECT_EQ(Str(r, "telemetry.sdk.name"), "otlp-cpp");
  EXPECT_TRUE(Warnings().empty());
}

TEST_F(ResourceTest, EnvironmentAttributesWinOverDetectedOnes) {
  Resource r = FromEnv({{"OTEL_RESOURCE_ATTRIBUTES", "host.name=from-env"}});
  EXPECT_EQ(Str(r, "host.name"), "from-env");
}

TEST_F(ResourceTest, MalformedPercentEscapeDiscardsTheWholeValueWithAWarning) {
  Resource r = FromEnv({{"OTEL_RESOURCE_ATTRIBUTES", "good=1,a=%zz"}});
  EXPECT_EQ(r.attributes().Find("good"), nullptr);
  EXPECT_EQ(r.attributes().Find("a"), nullptr);
  EXPECT_THAT(Str(r, "service.name"), HasSubstr("unknown_service"));
  auto w = Warnings();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_THAT(w[0], HasSubstr("OTEL_RESOURCE_ATTRIBUTES"));
  EXPECT_THAT(w[0], HasSubstr("a=%zz"));
}

TEST_F(ResourceTest, MemberWithoutEqualsDiscardsTheWholeValueWithAWarning) {
  Resource r = FromEnv({{"OTEL_RESOURCE_ATTRIBUTES", "good=1,novalue"}});
  EXPECT_EQ(r.attributes().Find("good"), nullptr);
  EXPECT_EQ(r.attributes().Find("novalue"), nullptr);
  auto w = Warnings();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_THAT(w[0], HasSubstr("novalue"));
}

TEST_F(ResourceTest, ServiceNameVariableWinsOverResourceAttributes) {
  Resource r = FromEnv({{"OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs,team=core"},
                        {"OTEL_SERVICE_NAME", "checkout"}});
  EXPECT_EQ(Str(r, "service.name"), "checkout");
  EXPECT_EQ(Str(r, "team"), "core");
}

TEST_F(ResourceTest, ServiceNameFromResourceAttributesWinsOverTheDefault) {
  Resource r = FromEnv({{"OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs"}});
  EXPECT_EQ(Str(r, "service.name"), "from-attrs");
}

TEST_F(ResourceTest, EmptyServiceNameMeansUnset) {
  Resource r = FromEnv({{"OTEL_SERVICE_NAME", "  "}});
  EXPECT_THAT(Str(r, "service.name"), HasSubstr("unknown_service:"));
}

TEST_F(ResourceTest, ParseAttributeListNamesTheBadMember) {
  auto bad = Resource::ParseAttributeList("a=1, oops ,b=2");
  EXPECT_THAT(bad, StatusIs(StatusCode::kInvalidArgument, HasSubstr("oops")));

  auto empty_key = Resource::ParseAttributeList("=v");
  EXPECT_THAT(empty_key, StatusIs(StatusCode::kInvalidArgument));

  auto none = Resource::ParseAttributeList("");
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());

  auto dup = Resource::ParseAttributeList("k=1,k=2");
  ASSERT_OK(dup);
  ASSERT_EQ(dup->size(), 1u);
  EXPECT_EQ(std::get<std::string>(*dup->Find("k")), "2");
}

TEST_F(ResourceTest, MergeKeepsAllKeysAndTheUpdatingValuesWin) {
  Resource old_r(Attrs({{"a", "old"}, {"b", "old"}}));
  Resource new_r(Attrs({{"b", "new"}, {"c", "new"}}));
  Resource m = old_r.Merge(new_r);
  EXPECT_EQ(m.attributes().size(), 3u);
  EXPECT_EQ(Str(m, "a"), "old");
  EXPECT_EQ(Str(m, "b"), "new");
  EXPECT_EQ(Str(m, "c"), "new");
  // Inputs are unchanged.
  EXPECT_EQ(Str(old_r, "b"), "old");
  EXPECT_EQ(old_r.attributes().size(), 2u);
}

TEST_F(ResourceTest, MergeKeepsTheOnlySchemaUrl) {
  const std::string kUrl = "https://opentelemetry.io/schemas/1.26.0";
  EXPECT_EQ(Resource({}, kUrl).Merge(Resource()).schema_url(), kUrl);
  EXPECT_EQ(Resource().Merge(Resource({}, kUrl)).schema_url(), kUrl);
  EXPECT_EQ(Resource({}, kUrl).Merge(Resource({}, kUrl)).schema_url(), kUrl);
  EXPECT_TRUE(Resource().Merge(Resource()).schema_url().empty());
  EXPECT_TRUE(Warnings().empty());
}

TEST_F(ResourceTest, MergeWithConflictingSchemaUrlsKeepsTheUpdatingOneAndWarns) {
  Resource old_r(Attrs({{"a", "1"}}), "https://example.com/schemas/1");
  Resource new_r(Attrs({{"b", "2"}}), "https://example.com/schemas/2");
  Resource m = old_r.Merge(new_r);
  EXPECT_EQ(m.schema_url(), "https://example.com/schemas/2");
  EXPECT_EQ(Str(m, "a"), "1");
  EXPECT_EQ(Str(m, "b"), "2");
  auto w = Warnings();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_THAT(w[0], HasSubstr("schema"));
}

TEST_F(ResourceTest, MergeKeepsNonStringValues) {
  OwnedAttributes a;
  a.Set(std::string("n"), OwnedAttributeValue(int64_t{7}));
  a.Set(std::string("list"), OwnedAttributeValue(std::vector<std::string>{"x", "y"}));
  Resource m = Resource().Merge(Resource(std::move(a)));
  ASSERT_NE(m.attributes().Find("n"), nullptr);
  EXPECT_EQ(std::get<int64_t>(*m.attributes().Find("n")), 7);
  ASSERT_NE(m.attributes().Find("list"), nullptr);
  EXPECT_EQ(std::get<std::vector<std::string>>(*m.attributes().Find("list")).size(), 2u);
}

TEST_F(ResourceTest, HeaderExampleCompiles) {
  Resource r = Resource::Default();
  OwnedAttributes extra;
  extra.Set("deployment.environment.name", AttributeValue("prod"));
  Resource mine = r.Merge(Resource(std::move(extra)));
  EXPECT_EQ(Str(mine, "deployment.environment.name"), "prod");
  EXPECT_NE(mine.attributes().Find("service.name"), nullptr);
}

}  // namespace
}  // namespace otlp::trace
