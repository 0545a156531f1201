#include "otlp/net/url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/support/status_matchers.h"

namespace otlp::net {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

Url MustParse(const std::string& text) {
  Result<Url> url = Url::Parse(text);
  EXPECT_OK(url) << text;
  return url.ok() ? *url : Url{};
}

void ExpectInvalid(const std::string& text, const std::string& message_part) {
  Result<Url> url = Url::Parse(text);
  EXPECT_THAT(url, StatusIs(StatusCode::kInvalidArgument, HasSubstr(message_part)))
      << "for '" << text << "'";
  EXPECT_FALSE(url.status().retryable());
}

TEST(UrlTest, DefaultPortsAndRootTarget) {
  Url http = MustParse("http://example.com");
  EXPECT_EQ(http.scheme, "http");
  EXPECT_EQ(http.host, "example.com");
  EXPECT_EQ(http.port, 80);
  EXPECT_EQ(http.target, "/");
  EXPECT_FALSE(http.is_tls());

  Url https = MustParse("https://example.com/");
  EXPECT_EQ(https.port, 443);
  EXPECT_EQ(https.target, "/");
  EXPECT_TRUE(https.is_tls());
}

TEST(UrlTest, ExplicitPortPathAndQuery) {
  Url url = MustParse("http://127.0.0.1:4318/v1/traces?a=1&b=%20x");
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, 4318);
  EXPECT_EQ(url.target, "/v1/traces?a=1&b=%20x");
}

TEST(UrlTest, QueryWithoutPathGetsSlash) {
  EXPECT_EQ(MustParse("http://h?x=1").target, "/?x=1");
}

TEST(UrlTest, FragmentIsDropped) {
  EXPECT_EQ(MustParse("http://h/p#frag").target, "/p");
  EXPECT_EQ(MustParse("http://h#frag").target, "/");
}

TEST(UrlTest, SchemeAndHostAreCaseInsensitive) {
  Url url = MustParse("HTTPS://Collector.Example.COM:8443/V1/Traces");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.host, "collector.example.com");
  EXPECT_EQ(url.target, "/V1/Traces");  // the path keeps its case
}

TEST(UrlTest, Ipv6LiteralInBrackets) {
  Url url = MustParse("http://[::1]:4318/v1/traces");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 4318);
  EXPECT_EQ(url.Authority(), "[::1]:4318");
  EXPECT_EQ(url.ToString(), "http://[::1]:4318/v1/traces");

  Url no_port = MustParse("https://[2001:db8::1]");
  EXPECT_EQ(no_port.host, "2001:db8::1");
  EXPECT_EQ(no_port.port, 443);
  EXPECT_EQ(no_port.Authority(), "[2001:db8::1]");
}

TEST(UrlTest, EmptyPortMeansDefault) {
  EXPECT_EQ(MustParse("http://h:/x").port, 80);
}

TEST(UrlTest, ToStringOmitsDefaultPortOnly) {
  EXPECT_EQ(MustParse("http://h:80/a").ToString(), "http://h/a");
  EXPECT_EQ(MustParse("https://h:443").ToString(), "https://h/");
  EXPECT_EQ(MustParse("http://h:443").ToString(), "http://h:443/");
  EXPECT_EQ(MustParse("http://h:8080/a?b").Authority(), "h:8080");
}

TEST(UrlTest, PortBoundaries) {
  EXPECT_EQ(MustParse("http://h:1").port, 1);
  EXPECT_EQ(MustParse("http://h:65535").port, 65535);
  ExpectInvalid("http://h:0", "out of range");
  ExpectInvalid("http://h:65536", "out of range");
  ExpectInvalid("http://h:99999999", "not a number");
  ExpectInvalid("http://h:-1", "not a number");
  ExpectInvalid("http://h:80a", "not a number");
  ExpectInvalid("http://h:abc/", "not a number");
}

TEST(UrlTest, RejectsGarbageWithClearMessages) {
  ExpectInvalid("", "empty");
  ExpectInvalid("localhost:4318", "missing scheme");
  ExpectInvalid("127.0.0.1", "missing scheme");
  ExpectInvalid("ftp://example.com/", "unsupported scheme 'ftp'");
  ExpectInvalid("grpc://example.com/", "unsupported scheme");
  ExpectInvalid("://example.com/", "unsupported scheme");
  ExpectInvalid("http://", "missing host");
  ExpectInvalid("http:///path", "missing host");
  ExpectInvalid("http://:80/", "missing host");
  ExpectInvalid("http://user:pass@/", "missing host");
  ExpectInvalid("http://us%zzer@h/", "percent-encoding in the user name");
  ExpectInvalid("http://user:pa%2@h/", "percent-encoding in the password");
  ExpectInvalid("http://exa mple.com/", "whitespace");
  ExpectInvalid(" http://example.com/", "whitespace");
  ExpectInvalid("http://example.com/\n", "control");
  ExpectInvalid("http://exa$mple.com/", "invalid character '$'");
}

TEST(UrlTest, RejectsBadIpv6) {
  ExpectInvalid("http://::1:4318/", "brackets");
  ExpectInvalid("http://[::1/", "unterminated");
  ExpectInvalid("http://[]/", "not a valid IPv6");
  ExpectInvalid("http://[not-an-ip]/", "not a valid IPv6");
  ExpectInvalid("http://[::1]x/", "after ']'");
  ExpectInvalid("http://[::1]:0/", "out of range");
}

TEST(UrlTest, EverySchemeHasItsDefaultPortAndTls) {
  struct Case {
    const char* text;
    uint16_t port;
    bool tls;
  };
  for (const Case& c :
       {Case{"http://h", 80, false}, Case{"https://h", 443, true}, Case{"ws://h", 80, false},
        Case{"wss://h", 443, true}, Case{"nats://h", 4222, false}, Case{"tls://h", 4222, true}}) {
    Url url = MustParse(c.text);
    EXPECT_EQ(url.port, c.port) << c.text;
    EXPECT_EQ(url.is_tls(), c.tls) << c.text;
    EXPECT_EQ(url.Authority(), "h") << c.text;  // the default port is left out
    EXPECT_EQ(Url::DefaultPort(url.scheme), c.port);
  }
  EXPECT_EQ(MustParse("wss://h:8443/chat?room=1").ToString(), "wss://h:8443/chat?room=1");
  EXPECT_EQ(MustParse("NATS://Demo.NATS.io:4223").Authority(), "demo.nats.io:4223");
  EXPECT_EQ(Url::DefaultPort("ftp"), 0);
}

TEST(UrlTest, BareHostAndPortTakeTheDefaultScheme) {
  ASSERT_OK_AND_ASSIGN(Url url, Url::Parse("10.0.0.5:4223", "nats"));
  EXPECT_EQ(url.scheme, "nats");
  EXPECT_EQ(url.host, "10.0.0.5");
  EXPECT_EQ(url.port, 4223);

  ASSERT_OK_AND_ASSIGN(Url host_only, Url::Parse("localhost", "nats"));
  EXPECT_EQ(host_only.port, 4222);
  ASSERT_OK_AND_ASSIGN(Url v6, Url::Parse("[::1]:4222", "tls"));
  EXPECT_EQ(v6.host, "::1");
  EXPECT_TRUE(v6.is_tls());
  ASSERT_OK_AND_ASSIGN(Url with_user, Url::Parse("token@h:1", "nats"));
  EXPECT_EQ(with_user.user, "token");

  // A scheme in the text wins over the default.
  ASSERT_OK_AND_ASSIGN(Url explicit_scheme, Url::Parse("tls://h", "nats"));
  EXPECT_EQ(explicit_scheme.scheme, "tls");
  // Errors name the text as written, not the completed URL.
  EXPECT_THAT(Url::Parse("h:99999", "nats"),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'h:99999'"), HasSubstr("out of range"))));
  // Without a default scheme a scheme stays mandatory.
  EXPECT_THAT(Url::Parse("h:4222"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("scheme")));
}

TEST(UrlTest, UserInfoIsKeptDecodedAndNeverPrinted) {
  Url url = MustParse("nats://alice:s%40cr%3At@Example.com:4223/");
  EXPECT_EQ(url.user, "alice");
  EXPECT_EQ(url.password, "s@cr:t");
  EXPECT_TRUE(url.has_credentials());
  EXPECT_EQ(url.host, "example.com");
  EXPECT_EQ(url.port, 4223);
  EXPECT_EQ(url.Authority(), "example.com:4223");
  EXPECT_EQ(url.ToString(), "nats://example.com:4223/");
  EXPECT_EQ(url.ToStringRedacted(), "nats://REDACTED:REDACTED@example.com:4223/");

  Url token = MustParse("nats://s3cr3t-token@h");
  EXPECT_EQ(token.user, "s3cr3t-token");
  EXPECT_EQ(token.password, std::nullopt);
  EXPECT_EQ(token.ToStringRedacted(), "nats://REDACTED@h/");

  Url empty_password = MustParse("https://bob:@h/x");
  EXPECT_EQ(empty_password.user, "bob");
  EXPECT_EQ(empty_password.password, "");

  // An unescaped '@' in the password: the last '@' ends the user info.
  Url at_in_password = MustParse("http://u:p@ss@h:8080/p");
  EXPECT_EQ(at_in_password.password, "p@ss");
  EXPECT_EQ(at_in_password.host, "h");

  Url none = MustParse("http://h/a@b");  // an '@' in the path is not user info
  EXPECT_FALSE(none.has_credentials());
  EXPECT_EQ(none.target, "/a@b");
  EXPECT_EQ(none.ToStringRedacted(), "http://h/a@b");
}

TEST(UrlTest, ErrorsDoNotRevealThePassword) {
  EXPECT_THAT(Url::Parse("http://user:hunter2@h:99999/"),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(Not(HasSubstr("hunter2")), HasSubstr("'http://REDACTED@h:99999/'"))));
  EXPECT_THAT(Url::Parse("user:hunter2@h:x", "nats"),
              StatusIs(StatusCode::kInvalidArgument, Not(HasSubstr("hunter2"))));
}

}  // namespace
}  // namespace otlp::net
