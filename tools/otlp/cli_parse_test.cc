// Unit tests of the CLI's parsers: flags, attributes, timestamps, --endpoint, span counting.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "common.h"
#include "flags.h"

namespace otlp::cli {
namespace {

const Command& TestCommand() {
  static const Command cmd{
      .name = "test",
      .summary = "a test command",
      .usage = "otlp test [flags]",
      .flags = {{.name = "name", .value = "N", .help = "a name"},
                {.name = "attr", .value = "K=V", .help = "x", .repeated = true},
                {.name = "verbose", .help = "a boolean"}},
      .examples = "  otlp test --name x\n"};
  return cmd;
}

const Command& PositionalCommand() {
  static const Command cmd{.name = "run",
                           .summary = "runs",
                           .usage = "otlp run [flags] CMD",
                           .flags = {{.name = "name", .value = "N", .help = "a name"}},
                           .positional = true};
  return cmd;
}

bool Parse(const Command& c, std::vector<std::string> args, ParsedFlags& f, std::string& err) {
  return ParseFlags(c, args, f, err);
}

TEST(FlagsTest, SpaceAndEqualsForms) {
  ParsedFlags f;
  std::string err;
  ASSERT_TRUE(Parse(TestCommand(), {"--name", "a b", "--attr=k=v", "--attr", "x=-1"}, f, err))
      << err;
  EXPECT_EQ(f.Get("name"), "a b");
  EXPECT_EQ(f.GetAll("attr"), (std::vector<std::string>{"k=v", "x=-1"}));
  EXPECT_FALSE(f.Has("verbose"));
  EXPECT_FALSE(f.help);
}

TEST(FlagsTest, EmptyValueWithEquals) {
  ParsedFlags f;
  std::string err;
  ASSERT_TRUE(Parse(TestCommand(), {"--name="}, f, err)) << err;
  EXPECT_EQ(f.Get("name"), "");
}

TEST(FlagsTest, BooleanFlag) {
  ParsedFlags f;
  std::string err;
  ASSERT_TRUE(Parse(TestCommand(), {"--verbose"}, f, err)) << err;
  EXPECT_EQ(f.Get("verbose"), "true");
  ParsedFlags g;
  EXPECT_FALSE(Parse(TestCommand(), {"--verbose=yes"}, g, err));
  EXPECT_EQ(err, "flag --verbose takes no value");
}

TEST(FlagsTest, UnknownFlag) {
  ParsedFlags f;
  std::string err;
  EXPECT_FALSE(Parse(TestCommand(), {"--foo=1"}, f, err));
  EXPECT_EQ(err, "unknown flag --foo");
  EXPECT_FALSE(Parse(TestCommand(), {"-x"}, f, err));
  EXPECT_EQ(err, "unknown flag -x");
}

TEST(FlagsTest, MissingValue) {
  ParsedFlags f;
  std::string err;
  EXPECT_FALSE(Parse(TestCommand(), {"--name"}, f, err));
  EXPECT_EQ(err, "flag --name needs a value (N)");
  // The next argument is a known flag: the value was forgotten.
  EXPECT_FALSE(Parse(TestCommand(), {"--name", "--verbose"}, f, err));
  EXPECT_EQ(err, "flag --name needs a value (N)");
}

TEST(FlagsTest, NonRepeatedFlagTwice) {
  ParsedFlags f;
  std::string err;
  EXPECT_FALSE(Parse(TestCommand(), {"--name", "a", "--name", "b"}, f, err));
  EXPECT_EQ(err, "flag --name given more than once");
}

TEST(FlagsTest, PositionalRejectedUnlessAllowed) {
  ParsedFlags f;
  std::string err;
  EXPECT_FALSE(Parse(TestCommand(), {"--name", "a", "stray"}, f, err));
  EXPECT_EQ(err, "unexpected argument 'stray'");
  ParsedFlags g;
  EXPECT_FALSE(Parse(TestCommand(), {"--", "stray"}, g, err));
  ParsedFlags h;
  EXPECT_TRUE(Parse(TestCommand(), {"--name", "a", "--"}, h, err)) << err;
}

TEST(FlagsTest, DashDashAndFirstPositionalEndFlags) {
  ParsedFlags f;
  std::string err;
  ASSERT_TRUE(Parse(PositionalCommand(), {"--name", "n", "--", "ls", "--name", "-l"}, f, err));
  EXPECT_EQ(f.positional, (std::vector<std::string>{"ls", "--name", "-l"}));
  ParsedFlags g;
  ASSERT_TRUE(Parse(PositionalCommand(), {"sh", "-c", "--help"}, g, err));
  EXPECT_EQ(g.positional, (std::vector<std::string>{"sh", "-c", "--help"}));
  EXPECT_FALSE(g.help);
}

TEST(FlagsTest, Help) {
  ParsedFlags f;
  std::string err;
  ASSERT_TRUE(Parse(TestCommand(), {"-h"}, f, err));
  EXPECT_TRUE(f.help);
  std::string text = HelpText(TestCommand());
  EXPECT_NE(text.find("Usage: otlp test [flags]"), std::string::npos);
  EXPECT_NE(text.find("--name N"), std::string::npos);
  EXPECT_NE(text.find("--attr K=V"), std::string::npos);
  EXPECT_NE(text.find("(may be repeated)"), std::string::npos);
  EXPECT_NE(text.find("--verbose"), std::string::npos);
  EXPECT_NE(text.find("Examples:"), std::string::npos);
}

TEST(AttributesTest, TypedForms) {
  AttributeList a;
  std::string err;
  for (const char* s :
       {"s=hello", "n:int=-5", "d:double=1.5", "b:bool=true", "url:x:string=y", "x:string=a=b",
        "ia:int[]=1,2,3", "sa:string[]=a,b", "ba:bool[]=true,false", "da:double[]=0.5"}) {
    ASSERT_TRUE(a.Add(s, err)) << s << ": " << err;
  }
  const auto& kv = a.view();
  ASSERT_EQ(kv.size(), 10u);
  EXPECT_EQ(kv[0].key, "s");
  EXPECT_EQ(kv[0].value.as_string(), "hello");
  EXPECT_EQ(kv[1].value.type(), AttributeType::kInt);
  EXPECT_EQ(kv[1].value.as_int(), -5);
  EXPECT_EQ(kv[2].value.as_double(), 1.5);
  EXPECT_TRUE(kv[3].value.as_bool());
  EXPECT_EQ(kv[4].key, "url:x");  // only the last ':' starts the type
  EXPECT_EQ(kv[4].value.as_string(), "y");
  EXPECT_EQ(kv[5].key, "x");
  EXPECT_EQ(kv[5].value.as_string(), "a=b");
  ASSERT_EQ(kv[6].value.type(), AttributeType::kIntArray);
  EXPECT_EQ(kv[6].value.as_int_array()[2], 3);
  ASSERT_EQ(kv[7].value.type(), AttributeType::kStringArray);
  EXPECT_EQ(kv[7].value.as_string_array()[1], "b");
  ASSERT_EQ(kv[8].value.type(), AttributeType::kBoolArray);
  EXPECT_FALSE(kv[8].value.as_bool_array()[1]);
  EXPECT_EQ(kv[9].value.as_double_array()[0], 0.5);
}

TEST(AttributesTest, Errors) {
  AttributeList a;
  std::string err;
  EXPECT_FALSE(a.Add("novalue", err));
  EXPECT_NE(err.find("expected KEY=VALUE"), std::string::npos);
  EXPECT_FALSE(a.Add("=v", err));
  EXPECT_FALSE(a.Add(":int=5", err));
  EXPECT_FALSE(a.Add("n:int=abc", err));
  EXPECT_NE(err.find("not a 64-bit integer"), std::string::npos);
  EXPECT_FALSE(a.Add("n:int=99999999999999999999", err));
  EXPECT_FALSE(a.Add("d:double=nan", err));
  EXPECT_FALSE(a.Add("d:double=", err));
  EXPECT_FALSE(a.Add("b:bool=yes", err));
  EXPECT_FALSE(a.Add("ia:int[]=1,x", err));
  EXPECT_TRUE(a.view().empty());
}

TEST(AttributesTest, UnknownTypeIsAnErrorNamingTheTypes) {
  AttributeList a;
  std::string err;
  EXPECT_FALSE(a.Add("n:integer=5", err));
  EXPECT_EQ(err,
            "--attr 'n:integer=5': unknown type 'integer' (types: string, int, double, bool, "
            "string[], int[], double[], bool[]; a key that contains ':' needs one, as in "
            "a:b:string=v)");
  // A key containing ':' without a type reads as an unknown type, never as a string key.
  EXPECT_FALSE(a.Add("url:x=y", err));
  EXPECT_NE(err.find("unknown type 'x'"), std::string::npos) << err;
  EXPECT_FALSE(a.Add("k:=v", err));
  EXPECT_NE(err.find("unknown type ''"), std::string::npos) << err;
  EXPECT_FALSE(a.Add(":string=v", err));
  EXPECT_NE(err.find("empty key"), std::string::npos) << err;
  EXPECT_TRUE(a.view().empty());
}

TEST(AttributesTest, KeysWithColonsTakeAnExplicitType) {
  AttributeList a;
  std::string err;
  ASSERT_TRUE(a.Add("k8s:pod:name:string=web-1", err)) << err;
  ASSERT_TRUE(a.Add("a:b:INT=7", err)) << err;    // types are case-insensitive
  ASSERT_TRUE(a.Add("plain=x:int", err)) << err;  // ':' in the value is just text
  const auto& kv = a.view();
  ASSERT_EQ(kv.size(), 3u);
  EXPECT_EQ(kv[0].key, "k8s:pod:name");
  EXPECT_EQ(kv[0].value.as_string(), "web-1");
  EXPECT_EQ(kv[1].key, "a:b");
  EXPECT_EQ(kv[1].value.as_int(), 7);
  EXPECT_EQ(kv[2].key, "plain");
  EXPECT_EQ(kv[2].value.as_string(), "x:int");
}

int64_t Nanos(const trace::SystemTime& t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

TEST(TimestampTest, Forms) {
  trace::SystemTime t;
  std::string err;
  ASSERT_TRUE(ParseTimestamp("1714564800", t, err)) << err;
  EXPECT_EQ(Nanos(t), 1714564800000000000);
  ASSERT_TRUE(ParseTimestamp("1714564800.123456789", t, err)) << err;
  EXPECT_EQ(Nanos(t), 1714564800123456789);
  ASSERT_TRUE(ParseTimestamp("1714564800.5", t, err)) << err;
  EXPECT_EQ(Nanos(t), 1714564800500000000);
  ASSERT_TRUE(ParseTimestamp("1714564800123ms", t, err)) << err;
  EXPECT_EQ(Nanos(t), 1714564800123000000);
  ASSERT_TRUE(ParseTimestamp("1714564800123456us", t, err)) << err;
  EXPECT_EQ(Nanos(t), 1714564800123456000);
  ASSERT_TRUE(ParseTimestamp("1714564800123456789ns", t, err)) << err;
  EXPECT_EQ(Nanos(t), 1714564800123456789);
  ASSERT_TRUE(ParseTimestamp("1714564800s", t, err)) << err;
  EXPECT_EQ(Nanos(t), 1714564800000000000);
  // 2024-05-01T12:00:00Z is 1714564800.
  ASSERT_TRUE(ParseTimestamp("2024-05-01T12:00:00.5Z", t, err)) << err;
  EXPECT_EQ(Nanos(t), 1714564800500000000);
  ASSERT_TRUE(ParseTimestamp("2024-05-01t14:00:00+02:00", t, err)) << err;
  EXPECT_EQ(Nanos(t), 1714564800000000000);
  ASSERT_TRUE(ParseTimestamp("2024-05-01 11:30:00-00:30", t, err)) << err;
  EXPECT_EQ(Nanos(t), 1714564800000000000);
}

TEST(TimestampTest, Errors) {
  trace::SystemTime t;
  std::string err;
  for (const char* bad :
       {"", "abc", "1.2.3", "-5", "12h", "1714564800.", "ms", "2024-13-01T00:00:00Z",
        "2024-02-30T00:00:00Z", "2024-05-01T12:00:00", "2024-05-01T25:00:00Z",
        "2024-05-01T12:00:00.Z", "99999999999999999999", "2024-05-01T12:00:00Zjunk"}) {
    EXPECT_FALSE(ParseTimestamp(bad, t, err)) << bad;
  }
  EXPECT_NE(err.find("RFC 3339"), std::string::npos);
}

TEST(EndpointTest, PathAppendedOnlyWhenMissing) {
  EXPECT_EQ(EndpointFromFlag("http://127.0.0.1:4318"), "http://127.0.0.1:4318/v1/traces");
  EXPECT_EQ(EndpointFromFlag("http://127.0.0.1:4318/"), "http://127.0.0.1:4318/v1/traces");
  EXPECT_EQ(EndpointFromFlag("localhost:4318"), "http://localhost:4318/v1/traces");
  EXPECT_EQ(EndpointFromFlag("https://c.example/otlp/v1/traces"),
            "https://c.example/otlp/v1/traces");
  EXPECT_EQ(EndpointFromFlag("http://h:1?x=1"), "http://h:1/v1/traces?x=1");
}

TEST(EndpointTest, ApplyExportFlags) {
  ParsedFlags f;
  f.values["endpoint"] = {"127.0.0.1:9"};
  f.values["protocol"] = {"HTTP/JSON"};
  f.values["service"] = {"svc"};
  SetupOptions o;
  std::string err;
  ASSERT_TRUE(ApplyExportFlags(f, o, err)) << err;
  EXPECT_EQ(o.otlp.endpoint, "http://127.0.0.1:9/v1/traces");
  EXPECT_EQ(o.otlp.protocol, exporter::OtlpProtocol::kHttpJson);
  EXPECT_EQ(o.service_name, "svc");

  ParsedFlags bad;
  bad.values["protocol"] = {"grpc2"};
  EXPECT_FALSE(ApplyExportFlags(bad, o, err));
  EXPECT_EQ(err, "invalid --protocol 'grpc2' (expected http/protobuf, http/json or grpc)");
  ParsedFlags grpc;
  grpc.values["protocol"] = {"grpc"};
  grpc.values["endpoint"] = {"127.0.0.1:4317"};
  SetupOptions g;
  ASSERT_TRUE(ApplyExportFlags(grpc, g, err)) << err;
  EXPECT_EQ(g.otlp.protocol, exporter::OtlpProtocol::kGrpc);
  EXPECT_EQ(g.otlp.endpoint, "http://127.0.0.1:4317");  // the base URL, no /v1/traces
  ParsedFlags bad2;
  bad2.values["endpoint"] = {"ftp://x"};
  EXPECT_FALSE(ApplyExportFlags(bad2, o, err));
  EXPECT_NE(err.find("invalid --endpoint"), std::string::npos);
  EXPECT_NE(err.find("ftp://x"), std::string::npos);
  ParsedFlags nats;
  nats.values["endpoint"] = {"nats://127.0.0.1:4222"};
  EXPECT_FALSE(ApplyExportFlags(nats, o, err));
  EXPECT_NE(err.find("needs an http:// or https:// URL"), std::string::npos);
  ParsedFlags secret;
  secret.values["endpoint"] = {"tls://user:hunter2@127.0.0.1:4222"};
  EXPECT_FALSE(ApplyExportFlags(secret, o, err));
  EXPECT_EQ(err.find("hunter2"), std::string::npos) << err;
}

}  // namespace
}  // namespace otlp::cli
