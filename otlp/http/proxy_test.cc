#include "otlp/http/proxy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>

#include "tests/support/status_matchers.h"

namespace otlp::http {
namespace {

using ::testing::HasSubstr;

net::Url U(std::string_view text) {
  Result<net::Url> url = net::Url::Parse(text);
  EXPECT_OK(url);
  return url.ok() ? *url : net::Url{};
}

ProxyConfig::Environment Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// The proxy chosen for `url`, as "host:port", or "direct".
std::string Via(const ProxyConfig& config, std::string_view url) {
  const std::optional<net::Url> proxy = config.ProxyFor(U(url));
  return proxy ? proxy->host + ":" + std::to_string(proxy->port) : "direct";
}

TEST(ProxyConfig, DefaultIsDirect) {
  const ProxyConfig config;
  EXPECT_EQ(Via(config, "http://example.com/"), "direct");
  EXPECT_EQ(Via(config, "https://example.com/"), "direct");
  ASSERT_OK_AND_ASSIGN(ProxyConfig empty, ProxyConfig::FromEnvironment(Env({})));
  EXPECT_EQ(Via(empty, "https://example.com/"), "direct");
}

TEST(ProxyConfig, SchemeSpecificVariables) {
  ASSERT_OK_AND_ASSIGN(ProxyConfig config,
                       ProxyConfig::FromEnvironment(
                           Env({{"http_proxy", "http://p1:3128"}, {"HTTPS_PROXY", "p2:8443"}})));
  EXPECT_EQ(Via(config, "http://example.com/"), "p1:3128");
  EXPECT_EQ(Via(config, "ws://example.com/"), "p1:3128");
  EXPECT_EQ(Via(config, "https://example.com/"), "p2:8443");
  EXPECT_EQ(Via(config, "wss://example.com/"), "p2:8443");
  ASSERT_TRUE(config.https_proxy().has_value());
  EXPECT_EQ(config.https_proxy()->scheme, "http");  // no scheme: http://
}

TEST(ProxyConfig, LowerCaseWins) {
  ASSERT_OK_AND_ASSIGN(ProxyConfig config,
                       ProxyConfig::FromEnvironment(Env({{"http_proxy", "http://lower:1"},
                                                         {"HTTP_PROXY", "http://upper:2"},
                                                         {"https_proxy", "http://lower:3"},
                                                         {"HTTPS_PROXY", "http://upper:4"},
                                                         {"no_proxy", "a.test"},
                                                         {"NO_PROXY", "b.test"}})));
  EXPECT_EQ(Via(config, "http://x/"), "lower:1");
  EXPECT_EQ(Via(config, "https://x/"), "lower:3");
  EXPECT_EQ(Via(config, "http://a.test/"), "direct");
  EXPECT_EQ(Via(config, "http://b.test/"), "lower:1");
}

TEST(ProxyConfig, EmptyValueCountsAsUnset) {
  ASSERT_OK_AND_ASSIGN(ProxyConfig config,
                       ProxyConfig::FromEnvironment(Env({{"http_proxy", ""},
                                                         {"HTTP_PROXY", "http://upper:2"},
                                                         {"no_proxy", ""},
                                                         {"NO_PROXY", "x"}})));
  EXPECT_EQ(Via(config, "http://y/"), "upper:2");
  EXPECT_EQ(Via(config, "http://x/"), "direct");
}

TEST(ProxyConfig, AllProxyIsTheFallback) {
  ASSERT_OK_AND_ASSIGN(ProxyConfig config,
                       ProxyConfig::FromEnvironment(Env(
                           {{"ALL_PROXY", "http://all:1080"}, {"https_proxy", "http://tls:1"}})));
  EXPECT_EQ(Via(config, "http://x/"), "all:1080");
  EXPECT_EQ(Via(config, "https://x/"), "tls:1");
  ASSERT_OK_AND_ASSIGN(ProxyConfig lower,
                       ProxyConfig::FromEnvironment(
                           Env({{"all_proxy", "http://a:1"}, {"ALL_PROXY", "http://b:2"}})));
  EXPECT_EQ(Via(lower, "https://x/"), "a:1");
}

TEST(ProxyConfig, CgiIgnoresUpperCaseHttpProxy) {
  ASSERT_OK_AND_ASSIGN(ProxyConfig cgi,
                       ProxyConfig::FromEnvironment(Env({{"REQUEST_METHOD", "GET"},
                                                         {"HTTP_PROXY", "http://evil:80"},
                                                         {"HTTPS_PROXY", "http://ok:443"}})));
  EXPECT_EQ(Via(cgi, "http://x/"), "direct");
  EXPECT_EQ(Via(cgi, "https://x/"), "ok:443");
  ASSERT_OK_AND_ASSIGN(
      ProxyConfig lower,
      ProxyConfig::FromEnvironment(Env({{"REQUEST_METHOD", "GET"}, {"http_proxy", "http://p:1"}})));
  EXPECT_EQ(Via(lower, "http://x/"), "p:1");
}

TEST(ProxyConfig, ProxyCredentialsAreKept) {
  ASSERT_OK_AND_ASSIGN(ProxyConfig config, ProxyConfig::FromEnvironment(
                                               Env({{"http_proxy", "http://u:p%40ss@p:8080"}})));
  const std::optional<net::Url> proxy = config.ProxyFor(U("http://x/"));
  ASSERT_TRUE(proxy.has_value());
  EXPECT_EQ(proxy->user, "u");
  EXPECT_EQ(proxy->password, "p@ss");
}

TEST(ProxyConfig, InvalidProxyUrlNamesTheVariable) {
  EXPECT_THAT(ProxyConfig::FromEnvironment(Env({{"HTTPS_PROXY", "http://[::1"}})),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("HTTPS_PROXY")));
  EXPECT_THAT(ProxyConfig::FromEnvironment(Env({{"all_proxy", "socks5://s:1080"}})),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("unsupported proxy scheme 'socks5' in all_proxy")));
  EXPECT_THAT(ProxyConfig::FromEnvironment(Env({{"http_proxy", "http://p:99999"}})),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("http_proxy")));
  EXPECT_THAT(ProxyConfig::FromEnvironment(Env({{"http_proxy", "http:// p"}})),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("http_proxy")));
  EXPECT_THAT(ProxyConfig::Create("ftp://p", ""),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("the http proxy")));
}

TEST(ProxyConfig, NoProxyStar) {
  ASSERT_OK_AND_ASSIGN(ProxyConfig config, ProxyConfig::Create("http://p:1", "http://p:2", "*"));
  EXPECT_EQ(Via(config, "http://anything/"), "direct");
  EXPECT_EQ(Via(config, "https://10.1.1.1/"), "direct");
}

TEST(ProxyConfig, NoProxyDomainSuffixes) {
  ASSERT_OK_AND_ASSIGN(
      ProxyConfig config,
      ProxyConfig::Create("http://p:1", "http://p:2", "example.com, .internal ,*.corp,,LOCALHOST"));
  EXPECT_EQ(Via(config, "http://example.com/"), "direct");
  EXPECT_EQ(Via(config, "https://www.example.com/"), "direct");
  EXPECT_EQ(Via(config, "http://example.com./"), "direct");
  EXPECT_EQ(Via(config, "http://notexample.com/"), "p:1");
  EXPECT_EQ(Via(config, "http://example.com.evil/"), "p:1");
  EXPECT_EQ(Via(config, "http://internal/"), "direct");
  EXPECT_EQ(Via(config, "http://db.internal/"), "direct");
  EXPECT_EQ(Via(config, "http://a.b.corp/"), "direct");
  EXPECT_EQ(Via(config, "http://localhost:8080/"), "direct");
  EXPECT_EQ(Via(config, "http://other/"), "p:1");
}

TEST(ProxyConfig, NoProxyIpAddressesAndCidr) {
  ASSERT_OK_AND_ASSIGN(ProxyConfig config,
                       ProxyConfig::Create("http://p:1", "",
                                           "127.0.0.1, 10.0.0.0/8, 192.168.1.0/25, ::1, fd00::/8"));
  EXPECT_EQ(Via(config, "http://127.0.0.1/"), "direct");
  EXPECT_EQ(Via(config, "http://127.0.0.2/"), "p:1");
  EXPECT_EQ(Via(config, "http://10.200.3.4/"), "direct");
  EXPECT_EQ(Via(config, "http://11.0.0.1/"), "p:1");
  EXPECT_EQ(Via(config, "http://192.168.1.127/"), "direct");
  EXPECT_EQ(Via(config, "http://192.168.1.128/"), "p:1");
  EXPECT_EQ(Via(config, "http://[::1]:8080/"), "direct");
  EXPECT_EQ(Via(config, "http://[fd12:3456::1]/"), "direct");
  EXPECT_EQ(Via(config, "http://[fe80::1]/"), "p:1");
  // Names are not resolved: an IP entry does not match a host name.
  EXPECT_EQ(Via(config, "http://localhost/"), "p:1");
  // No https proxy configured.
  EXPECT_EQ(Via(config, "https://11.0.0.1/"), "direct");
}

TEST(ProxyConfig, NoProxyWithPorts) {
  ASSERT_OK_AND_ASSIGN(
      ProxyConfig config,
      ProxyConfig::Create("http://p:1", "http://p:2", "example.com:8080 [::1]:9000 10.0.0.1:80"));
  EXPECT_EQ(Via(config, "http://example.com:8080/"), "direct");
  EXPECT_EQ(Via(config, "http://example.com/"), "p:1");
  EXPECT_EQ(Via(config, "http://[::1]:9000/"), "direct");
  EXPECT_EQ(Via(config, "http://[::1]:9001/"), "p:1");
  EXPECT_EQ(Via(config, "http://10.0.0.1/"), "direct");  // default port 80
  EXPECT_EQ(Via(config, "https://10.0.0.1/"), "p:2");    // 443
}

TEST(ProxyConfig, MalformedNoProxyEntriesAreSkipped) {
  ASSERT_OK_AND_ASSIGN(ProxyConfig config,
                       ProxyConfig::Create("http://p:1", "",
                                           "10.0.0.0/33, [::1, host:port, a:0, "
                                           "name/8, ::1/129, ., *., 1.2.3.4/x, good.test"));
  EXPECT_EQ(Via(config, "http://10.0.0.1/"), "p:1");
  EXPECT_EQ(Via(config, "http://[::1]/"), "p:1");
  EXPECT_EQ(Via(config, "http://host/"), "p:1");
  EXPECT_EQ(Via(config, "http://name/"), "p:1");
  EXPECT_EQ(Via(config, "http://1.2.3.4/"), "p:1");
  EXPECT_EQ(Via(config, "http://good.test/"), "direct");
}

TEST(ProxyConfig, ReadsTheProcessEnvironment) {
  ASSERT_EQ(setenv("https_proxy", "http://from-env:3129", 1), 0);
  ASSERT_EQ(setenv("no_proxy", "skip.test", 1), 0);
  ASSERT_OK_AND_ASSIGN(ProxyConfig config, ProxyConfig::FromEnvironment());
  unsetenv("https_proxy");
  unsetenv("no_proxy");
  EXPECT_EQ(Via(config, "https://x/"), "from-env:3129");
  EXPECT_EQ(Via(config, "https://skip.test/"), "direct");
}

}  // namespace
}  // namespace otlp::http
