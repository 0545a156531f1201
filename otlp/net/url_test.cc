#include <gtest/gtest.h>

#include <string>

#include "otlp/net/http_client.h"

namespace otlp::net {
namespace {

Url MustParse(const std::string& text) {
  Result<Url> url = Url::Parse(text);
  EXPECT_TRUE(url.ok()) << text << ": " << url.status().ToString();
  return url.ok() ? *url : Url{};
}

void ExpectInvalid(const std::string& text, const std::string& message_part) {
  Result<Url> url = Url::Parse(text);
  ASSERT_FALSE(url.ok()) << "accepted '" << text << "'";
  EXPECT_EQ(url.status().code(), StatusCode::kInvalidArgument) << text;
  EXPECT_FALSE(url.status().retryable());
  EXPECT_NE(url.status().message().find(message_part), std::string::npos)
      << "for '" << text << "' got: " << url.status().message();
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
  ExpectInvalid("http://user:pass@example.com/", "credentials");
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

TEST(UrlTest, FindHeaderIsCaseInsensitive) {
  Headers headers = {{"Content-Type", "a"}, {"retry-after", "5"}, {"Retry-After", "7"}};
  EXPECT_EQ(FindHeader(headers, "content-type"), "a");
  EXPECT_EQ(FindHeader(headers, "RETRY-AFTER"), "5");  // the first one
  EXPECT_EQ(FindHeader(headers, "missing"), std::nullopt);
  HttpResponse response{.status = 200, .headers = headers, .body = ""};
  EXPECT_EQ(response.Header("Content-type"), "a");
}

}  // namespace
}  // namespace otlp::net
