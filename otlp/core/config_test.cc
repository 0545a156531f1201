#include "otlp/core/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>
#include <string>

namespace otlp::config {
namespace {

using ::testing::HasSubstr;
using Env = std::map<std::string, std::string, std::less<>>;
using KV = std::vector<std::pair<std::string, std::string>>;

TEST(OptionTable, NamesAreUniqueAndFallbacksExist) {
  std::set<std::string_view> names;
  for (const OptionSpec& o : AllOptions()) {
    EXPECT_TRUE(names.insert(o.name).second) << "duplicate " << o.name;
    EXPECT_TRUE(o.name.starts_with("OTEL_")) << o.name;
    EXPECT_FALSE(o.description.empty()) << o.name;
    EXPECT_FALSE(o.group.empty()) << o.name;
    if (!o.fallback.empty()) {
      const OptionSpec* f = FindOption(o.fallback);
      ASSERT_NE(f, nullptr) << o.name << " falls back to unknown " << o.fallback;
      EXPECT_EQ(f->type, o.type) << o.name;
    }
    if (o.type == OptionType::kEnum || o.type == OptionType::kEnumList) {
      EXPECT_FALSE(o.choices.empty()) << o.name;
    }
    EXPECT_LE(o.min, o.max) << o.name;
  }
  EXPECT_EQ(FindOption("OTEL_NOT_A_THING"), nullptr);
  ASSERT_NE(FindOption("OTEL_BSP_MAX_QUEUE_SIZE"), nullptr);
}

TEST(OptionTable, EnumDefaultsAreAmongTheChoices) {
  for (const OptionSpec& o : AllOptions()) {
    if (o.type != OptionType::kEnum || o.default_text.empty()) continue;
    Reader r(Env{{std::string(o.name), std::string(o.default_text)}});
    EXPECT_EQ(r.GetEnum(o.name), std::string(o.default_text)) << o.name;
    EXPECT_TRUE(r.warnings().empty()) << o.name;
  }
}

TEST(Reader, UnsetAndEmptyAreTheSame) {
  Reader r(Env{{"OTEL_BSP_MAX_QUEUE_SIZE", ""}, {"OTEL_SERVICE_NAME", "   "}});
  EXPECT_EQ(r.GetInt("OTEL_BSP_MAX_QUEUE_SIZE"), std::nullopt);
  EXPECT_EQ(r.GetString("OTEL_SERVICE_NAME"), std::nullopt);
  EXPECT_EQ(r.GetInt("OTEL_BSP_SCHEDULE_DELAY"), std::nullopt);
  EXPECT_TRUE(r.warnings().empty());
}

TEST(Reader, ValuesAreTrimmed) {
  Reader r(Env{{"OTEL_BSP_MAX_QUEUE_SIZE", " 4096 "}, {"OTEL_SERVICE_NAME", " checkout "}});
  EXPECT_EQ(r.GetInt("OTEL_BSP_MAX_QUEUE_SIZE"), 4096);
  EXPECT_EQ(r.GetString("OTEL_SERVICE_NAME"), "checkout");
}

TEST(Reader, BadIntegerWarnsAndIsIgnored) {
  Reader r(Env{{"OTEL_BSP_MAX_QUEUE_SIZE", "abc"}, {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "12x"}});
  EXPECT_EQ(r.GetInt("OTEL_BSP_MAX_QUEUE_SIZE"), std::nullopt);
  EXPECT_EQ(r.GetInt("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"), std::nullopt);
  ASSERT_EQ(r.warnings().size(), 2u);
  EXPECT_THAT(r.warnings()[0], HasSubstr("OTEL_BSP_MAX_QUEUE_SIZE=abc"));
  EXPECT_THAT(r.warnings()[0], HasSubstr("not an integer"));
  EXPECT_THAT(r.warnings()[0], HasSubstr("2048"));  // says which default applies
}

TEST(Reader, IntegersOutsideTheRangeWarn) {
  Reader r(Env{{"OTEL_BSP_MAX_QUEUE_SIZE", "0"},  // min 1
               {"OTEL_ATTRIBUTE_COUNT_LIMIT", "2147483648"},
               {"OTEL_SPAN_EVENT_COUNT_LIMIT", "-1"},
               {"OTEL_SPAN_LINK_COUNT_LIMIT", "2147483647"}});
  EXPECT_EQ(r.GetInt("OTEL_BSP_MAX_QUEUE_SIZE"), std::nullopt);
  EXPECT_EQ(r.GetInt("OTEL_ATTRIBUTE_COUNT_LIMIT"), std::nullopt);
  EXPECT_EQ(r.GetInt("OTEL_SPAN_EVENT_COUNT_LIMIT"), std::nullopt);
  EXPECT_EQ(r.GetInt("OTEL_SPAN_LINK_COUNT_LIMIT"), 2147483647);
  ASSERT_EQ(r.warnings().size(), 3u);
  EXPECT_THAT(r.warnings()[0], HasSubstr("out of range"));
}

TEST(Reader, DurationsAreMilliseconds) {
  Reader r(Env{{"OTEL_BSP_SCHEDULE_DELAY", "250"}, {"OTEL_EXPORTER_OTLP_TIMEOUT", "0"}});
  EXPECT_EQ(r.GetDuration("OTEL_BSP_SCHEDULE_DELAY"), std::chrono::milliseconds(250));
  EXPECT_EQ(r.GetDuration("OTEL_EXPORTER_OTLP_TIMEOUT"), std::chrono::milliseconds(0));
}

TEST(Reader, DoublesWithRange) {
  Reader r(Env{{"OTEL_TRACES_SAMPLER_ARG", "0.25"}});
  EXPECT_EQ(r.GetDouble("OTEL_TRACES_SAMPLER_ARG"), 0.25);
  for (const char* bad : {"1.5", "-0.1", "half", "nan", "inf", "0.5x"}) {
    Reader b(Env{{"OTEL_TRACES_SAMPLER_ARG", bad}});
    EXPECT_EQ(b.GetDouble("OTEL_TRACES_SAMPLER_ARG"), std::nullopt) << bad;
    EXPECT_EQ(b.warnings().size(), 1u) << bad;
  }
}

TEST(Reader, BooleansAreCaseInsensitiveAndOtherValuesWarn) {
  for (const char* t : {"true", "TRUE", "True"}) {
    Reader r(Env{{"OTEL_SDK_DISABLED", t}});
    EXPECT_EQ(r.GetBool("OTEL_SDK_DISABLED"), true) << t;
    EXPECT_TRUE(r.warnings().empty());
  }
  Reader f(Env{{"OTEL_SDK_DISABLED", "False"}});
  EXPECT_EQ(f.GetBool("OTEL_SDK_DISABLED"), false);
  EXPECT_TRUE(f.warnings().empty());
  Reader y(Env{{"OTEL_SDK_DISABLED", "yes"}});
  EXPECT_EQ(y.GetBool("OTEL_SDK_DISABLED"), false);
  ASSERT_EQ(y.warnings().size(), 1u);
  EXPECT_THAT(y.warnings()[0], HasSubstr("not a boolean"));
}

TEST(Reader, EnumsAreCaseInsensitiveAndLowercased) {
  Reader r(Env{{"OTEL_TRACES_SAMPLER", "ParentBased_TraceIdRatio"},
               {"OTEL_EXPORTER_OTLP_PROTOCOL", "HTTP/JSON"}});
  EXPECT_EQ(r.GetEnum("OTEL_TRACES_SAMPLER"), "parentbased_traceidratio");
  EXPECT_EQ(r.GetEnum("OTEL_EXPORTER_OTLP_PROTOCOL"), "http/json");
  EXPECT_TRUE(r.warnings().empty());
}

TEST(Reader, UnknownEnumWarnsListingTheChoices) {
  Reader r(Env{{"OTEL_TRACES_EXPORTER", "kafka"}});
  EXPECT_EQ(r.GetEnum("OTEL_TRACES_EXPORTER"), std::nullopt);
  ASSERT_EQ(r.warnings().size(), 1u);
  EXPECT_THAT(r.warnings()[0], HasSubstr("kafka"));
  EXPECT_THAT(r.warnings()[0], HasSubstr("otlp,console,none"));
}

TEST(Reader, EnumListsDeduplicateAndSkipUnknown) {
  Reader r(Env{{"OTEL_PROPAGATORS", "TraceContext, baggage,tracecontext,,xyz,b3"}});
  auto v = r.GetEnumList("OTEL_PROPAGATORS");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, (std::vector<std::string>{"tracecontext", "baggage", "b3"}));
  ASSERT_EQ(r.warnings().size(), 1u);
  EXPECT_THAT(r.warnings()[0], HasSubstr("xyz"));
}

TEST(Reader, KeyValuesArePercentDecoded) {
  Reader r(Env{{"OTEL_RESOURCE_ATTRIBUTES",
                "service.name=shop%20api, deployment.environment.name = prod ,k=a%3Db%2Cc"}});
  auto kv = r.GetKeyValues("OTEL_RESOURCE_ATTRIBUTES");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(
      *kv,
      (KV{{"service.name", "shop api"}, {"deployment.environment.name", "prod"}, {"k", "a=b,c"}}));
}

TEST(Reader, MalformedKeyValuesDiscardTheWholeValue) {
  for (const char* bad : {"a=1,b", "a=%zz", "a=1,=2", "a=%4"}) {
    Reader r(Env{{"OTEL_EXPORTER_OTLP_HEADERS", bad}});
    EXPECT_EQ(r.GetKeyValues("OTEL_EXPORTER_OTLP_HEADERS"), std::nullopt) << bad;
    ASSERT_EQ(r.warnings().size(), 1u) << bad;
    EXPECT_THAT(r.warnings()[0], HasSubstr("whole value is ignored"));
  }
}

TEST(Reader, SignalOptionFallsBackToGeneric) {
  Reader generic(Env{{"OTEL_EXPORTER_OTLP_TIMEOUT", "3000"}});
  EXPECT_EQ(generic.GetDuration("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"),
            std::chrono::milliseconds(3000));
  EXPECT_EQ(generic.last_source(), "OTEL_EXPORTER_OTLP_TIMEOUT");

  Reader both(
      Env{{"OTEL_EXPORTER_OTLP_TIMEOUT", "3000"}, {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "1000"}});
  EXPECT_EQ(both.GetDuration("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"), std::chrono::milliseconds(1000));
  EXPECT_EQ(both.last_source(), "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT");

  // An empty signal value is unset, so the generic one applies.
  Reader empty(
      Env{{"OTEL_EXPORTER_OTLP_HEADERS", "a=1"}, {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", ""}});
  EXPECT_EQ(empty.GetKeyValues("OTEL_EXPORTER_OTLP_TRACES_HEADERS"), (KV{{"a", "1"}}));

  // Limits: span-specific falls back to the general attribute limit.
  Reader limits(Env{{"OTEL_ATTRIBUTE_COUNT_LIMIT", "7"}});
  EXPECT_EQ(limits.GetInt("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT"), 7);
  EXPECT_EQ(limits.GetInt("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT"), 7);
}

TEST(Reader, GenericDoesNotReadTheSignalVariable) {
  Reader r(Env{{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "1000"}});
  EXPECT_EQ(r.GetDuration("OTEL_EXPORTER_OTLP_TIMEOUT"), std::nullopt);
}

TEST(Reader, UnknownNamesAreReadRaw) {
  Reader r(Env{{"OTEL_SOMETHING_NEW", "x"}});
  EXPECT_EQ(r.GetString("OTEL_SOMETHING_NEW"), "x");
  EXPECT_EQ(r.last_source(), "OTEL_SOMETHING_NEW");
}

TEST(Reader, CustomLookupAndProcessEnvironment) {
  int calls = 0;
  Reader r([&](std::string_view name) -> std::optional<std::string> {
    ++calls;
    if (name == "OTEL_SERVICE_NAME") return "from-lookup";
    return std::nullopt;
  });
  EXPECT_EQ(r.GetString("OTEL_SERVICE_NAME"), "from-lookup");
  EXPECT_GE(calls, 1);

  ::setenv("OTEL_BSP_MAX_QUEUE_SIZE", "77", 1);
  Reader process;
  EXPECT_EQ(process.GetInt("OTEL_BSP_MAX_QUEUE_SIZE"), 77);
  ::unsetenv("OTEL_BSP_MAX_QUEUE_SIZE");
  EXPECT_EQ(process.GetInt("OTEL_BSP_MAX_QUEUE_SIZE"), std::nullopt);
}

TEST(PercentDecode, DecodesAndRejectsMalformedEscapes) {
  EXPECT_EQ(PercentDecode("a%20b%2C%3d"), "a b,=");
  EXPECT_EQ(PercentDecode("%E2%9C%93"), "\xE2\x9C\x93");
  EXPECT_EQ(PercentDecode("plain"), "plain");
  EXPECT_EQ(PercentDecode("%"), std::nullopt);
  EXPECT_EQ(PercentDecode("%2"), std::nullopt);
  EXPECT_EQ(PercentDecode("%g0"), std::nullopt);
}

TEST(ParseKeyValueList, ErrorNamesTheMember) {
  KV out;
  std::string error;
  EXPECT_FALSE(ParseKeyValueList("a=1,broken", out, error));
  EXPECT_THAT(error, HasSubstr("broken"));
  EXPECT_TRUE(ParseKeyValueList(" , a = 1 ,", out, error));
  EXPECT_EQ(out, (KV{{"a", "1"}}));
  EXPECT_TRUE(ParseKeyValueList("", out, error));
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(ParseKeyValueList("k=", out, error));
  EXPECT_EQ(out, (KV{{"k", ""}}));
}

TEST(RenderMarkdown, ListsEveryOptionOnce) {
  std::string md = RenderMarkdown();
  for (const OptionSpec& o : AllOptions()) {
    // Rows start a line; the name may appear elsewhere (descriptions, fallback defaults).
    std::string cell = "\n| `" + std::string(o.name) + "` |";
    size_t first = md.find(cell);
    EXPECT_NE(first, std::string::npos) << o.name;
    EXPECT_EQ(md.find(cell, first + 1), std::string::npos) << o.name;
  }
  EXPECT_TRUE(md.starts_with("# Configuration\n"));
  EXPECT_THAT(md, HasSubstr("## OTLP exporter"));
}

}  // namespace
}  // namespace otlp::config
