#include "otlp/http/cookies.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "tests/support/status_matchers.h"

namespace otlp::http {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;
using std::chrono::sys_seconds;
using std::chrono::system_clock;
using ::testing::HasSubstr;

net::Url U(std::string_view text) {
  Result<net::Url> url = net::Url::Parse(text);
  EXPECT_OK(url);
  return url.ok() ? *url : net::Url{};
}

// A jar whose clock the test moves.
class CookieJarTest : public ::testing::Test {
 protected:
  system_clock::time_point now_ = sys_days(std::chrono::year(2026) / 1 / 1) + 12h;
  CookieJar jar_{[this] { return now_; }};

  void Set(std::string_view url, std::string_view header) {
    EXPECT_OK(jar_.SetCookie(U(url), header)) << header;
  }
  std::string Header(std::string_view url) { return jar_.CookieHeader(U(url)); }
};

TEST_F(CookieJarTest, HostOnlyCookieGoesBackToTheSameHostOnly) {
  Set("http://example.com/", "a=1");
  EXPECT_EQ(Header("http://example.com/"), "a=1");
  EXPECT_EQ(Header("http://EXAMPLE.com/other"), "a=1");
  EXPECT_EQ(Header("http://www.example.com/"), "");
  EXPECT_EQ(Header("http://example.org/"), "");
  ASSERT_EQ(jar_.size(), 1u);
  const Cookie c = jar_.Cookies()[0];
  EXPECT_TRUE(c.host_only);
  EXPECT_EQ(c.domain, "example.com");
  EXPECT_EQ(c.path, "/");
  EXPECT_FALSE(c.expires.has_value());
}

TEST_F(CookieJarTest, DomainCookieCoversSubdomains) {
  Set("http://www.example.com/", "a=1; Domain=.Example.COM");
  EXPECT_EQ(Header("http://example.com/"), "a=1");
  EXPECT_EQ(Header("http://www.example.com/"), "a=1");
  EXPECT_EQ(Header("http://deep.sub.example.com/"), "a=1");
  EXPECT_EQ(Header("http://badexample.com/"), "");  // suffix but not at a label boundary
  EXPECT_EQ(Header("http://example.com.evil/"), "");
  const Cookie c = jar_.Cookies()[0];
  EXPECT_FALSE(c.host_only);
  EXPECT_EQ(c.domain, "example.com");
}

TEST_F(CookieJarTest, ForeignDomainIsRejected) {
  EXPECT_THAT(jar_.SetCookie(U("http://www.example.com/"), "a=1; Domain=other.com"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("does not domain-match")));
  EXPECT_THAT(jar_.SetCookie(U("http://example.com/"), "a=1; Domain=www.example.com"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("does not domain-match")));
  EXPECT_EQ(jar_.size(), 0u);
}

TEST_F(CookieJarTest, PublicSuffixLikeDomainIsRejected) {
  EXPECT_THAT(jar_.SetCookie(U("http://www.example.com/"), "a=1; Domain=com"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("public suffix")));
  EXPECT_THAT(jar_.SetCookie(U("http://www.example.com/"), "a=1; Domain=.com"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("public suffix")));
  EXPECT_EQ(jar_.size(), 0u);
  // The single-label host itself may name itself; the cookie stays host-only.
  Set("http://localhost:8080/", "a=1; Domain=localhost");
  EXPECT_TRUE(jar_.Cookies()[0].host_only);
  EXPECT_EQ(Header("http://localhost/"), "a=1");  // cookies ignore the port
}

TEST_F(CookieJarTest, IpHostsAreHostOnly) {
  Set("http://127.0.0.1/", "a=1");
  Set("http://127.0.0.1/", "b=2; Domain=127.0.0.1");
  EXPECT_THAT(jar_.SetCookie(U("http://127.0.0.1/"), "c=3; Domain=0.0.1"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(Header("http://127.0.0.1/"), "a=1; b=2");
  for (const Cookie& c : jar_.Cookies()) EXPECT_TRUE(c.host_only) << c.name;
  Set("http://[::1]/", "v6=1");
  EXPECT_EQ(Header("http://[::1]/x"), "v6=1");
  EXPECT_EQ(Header("http://127.0.0.2/"), "");
}

TEST_F(CookieJarTest, DefaultPathIsTheRequestDirectory) {
  Set("http://h/docs/guide/page.html?x=/y", "a=1");
  EXPECT_EQ(jar_.Cookies()[0].path, "/docs/guide");
  EXPECT_EQ(Header("http://h/docs/guide"), "a=1");
  EXPECT_EQ(Header("http://h/docs/guide/other"), "a=1");
  EXPECT_EQ(Header("http://h/docs/guidebook"), "");
  EXPECT_EQ(Header("http://h/docs"), "");
  jar_.Clear();
  Set("http://h/top", "b=1");
  EXPECT_EQ(jar_.Cookies()[0].path, "/");
  jar_.Clear();
  Set("http://h/a/b", "c=1; Path=relative");  // not starting with '/': default path
  EXPECT_EQ(jar_.Cookies()[0].path, "/a");
  jar_.Clear();
  Set("http://h/a/b", "d=1; Path=");
  EXPECT_EQ(jar_.Cookies()[0].path, "/a");
}

TEST_F(CookieJarTest, PathMatching) {
  Set("http://h/", "root=1; Path=/");
  Set("http://h/", "api=1; Path=/api");
  Set("http://h/", "slash=1; Path=/api/");
  EXPECT_EQ(Header("http://h/api"), "api=1; root=1");
  EXPECT_EQ(Header("http://h/api/v1"), "slash=1; api=1; root=1");
  EXPECT_EQ(Header("http://h/apix"), "root=1");
  EXPECT_EQ(Header("http://h/?q=/api"), "root=1");
}

TEST_F(CookieJarTest, OrderIsLongerPathThenEarlierCreation) {
  Set("http://h/", "b=1; Path=/");
  now_ += 1s;
  Set("http://h/", "a=1; Path=/");
  Set("http://h/", "z=1; Path=/x/y");
  Set("http://h/", "c=1; Path=/x");
  EXPECT_EQ(Header("http://h/x/y/z"), "z=1; c=1; b=1; a=1");
  // Same creation time: the order they arrived in.
  Set("http://h/", "y=1; Path=/q");
  Set("http://h/", "x=1; Path=/q");
  EXPECT_EQ(Header("http://h/q"), "y=1; x=1; b=1; a=1");
}

TEST_F(CookieJarTest, ReplacementKeepsCreationTime) {
  Set("http://h/", "a=1");
  now_ += 10s;
  Set("http://h/", "b=1");
  now_ += 10s;
  Set("http://h/", "a=2");  // replaces a, which keeps its place before b
  EXPECT_EQ(Header("http://h/"), "a=2; b=1");
  EXPECT_EQ(jar_.size(), 2u);
  // A different path is a different cookie.
  Set("http://h/", "a=3; Path=/p");
  EXPECT_EQ(Header("http://h/p"), "a=3; a=2; b=1");
}

TEST_F(CookieJarTest, MaxAgeWinsOverExpires) {
  Set("http://h/", "a=1; Expires=Thu, 01 Jan 2099 00:00:00 GMT; Max-Age=60");
  EXPECT_EQ(jar_.Cookies()[0].expires, std::chrono::floor<std::chrono::seconds>(now_) + 60s);
  Set("http://h/", "b=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(Header("http://h/"), "a=1; b=1");
  now_ += 59s;
  EXPECT_EQ(Header("http://h/"), "a=1; b=1");
  now_ += 1s;
  EXPECT_EQ(Header("http://h/"), "");
  EXPECT_EQ(jar_.size(), 0u);
}

TEST_F(CookieJarTest, ExpiresInThePastOrZeroMaxAgeDeletes) {
  Set("http://h/", "a=1");
  Set("http://h/", "b=1");
  Set("http://h/", "c=1");
  Set("http://h/", "a=; Expires=Wed, 21 Oct 2015 07:28:00 GMT");
  Set("http://h/", "b=x; Max-Age=0");
  Set("http://h/", "c=x; Max-Age=-5");
  EXPECT_EQ(Header("http://h/"), "");
  EXPECT_EQ(jar_.size(), 0u);
}

TEST_F(CookieJarTest, ExpiresInTheFuture) {
  Set("http://h/", "a=1; expires=Fri, 02-Jan-2026 12:00:00 GMT");
  ASSERT_EQ(jar_.size(), 1u);
  now_ += 24h - 1s;
  EXPECT_EQ(Header("http://h/"), "a=1");
  now_ += 1s;
  EXPECT_EQ(Header("http://h/"), "");
}

TEST_F(CookieJarTest, ExpiryIsCappedAtFourHundredDays) {
  Set("http://h/", "a=1; Max-Age=999999999999999999999999");
  Set("http://h/", "b=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT");
  const sys_seconds cap = std::chrono::floor<std::chrono::seconds>(now_) + CookieJar::kMaxAge;
  for (const Cookie& c : jar_.Cookies()) EXPECT_EQ(c.expires, cap) << c.name;
}

TEST_F(CookieJarTest, BadMaxAgeOrExpiresIsIgnoredNotTheCookie) {
  Set("http://h/", "a=1; Max-Age=10s; Expires=not a date");
  Set("http://h/", "b=1; Max-Age=; Max-Age=+5");
  for (const Cookie& c : jar_.Cookies()) EXPECT_FALSE(c.expires.has_value()) << c.name;
  EXPECT_EQ(jar_.size(), 2u);
}

TEST_F(CookieJarTest, SecureCookiesOnlyOverHttps) {
  Set("https://h/", "s=1; Secure");
  Set("https://h/", "p=1");
  EXPECT_EQ(Header("https://h/"), "s=1; p=1");
  EXPECT_EQ(Header("wss://h/"), "s=1; p=1");
  EXPECT_EQ(Header("http://h/"), "p=1");
  // An insecure origin can neither set nor overwrite a Secure cookie.
  EXPECT_THAT(jar_.SetCookie(U("http://h/"), "t=1; Secure"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("insecure origin")));
  EXPECT_THAT(jar_.SetCookie(U("http://h/"), "s=evil"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("replace a Secure cookie")));
  EXPECT_EQ(Header("https://h/"), "s=1; p=1");
}

TEST_F(CookieJarTest, AttributesAreKept) {
  Set("https://h/", "a=1; HttpOnly; SAMESITE=strict; Secure");
  Set("https://h/", "b=1; SameSite=Lax");
  Set("https://h/", "c=1; SameSite=None");
  Set("https://h/", "d=1; SameSite=bogus; unknown=attr; flag");
  const std::vector<Cookie> cs = jar_.Cookies();
  ASSERT_EQ(cs.size(), 4u);
  EXPECT_TRUE(cs[0].http_only);
  EXPECT_TRUE(cs[0].secure);
  EXPECT_EQ(cs[0].same_site, SameSite::kStrict);
  EXPECT_EQ(cs[1].same_site, SameSite::kLax);
  EXPECT_EQ(cs[2].same_site, SameSite::kNone);
  EXPECT_EQ(cs[3].same_site, SameSite::kDefault);
  EXPECT_FALSE(cs[3].http_only);
}

TEST_F(CookieJarTest, NameAndValueAreTrimmedAndValueMayHoldEquals) {
  Set("http://h/", "  tok =  a=b=c  ; Path=/");
  Set("http://h/", "empty=");
  EXPECT_EQ(Header("http://h/"), "tok=a=b=c; empty=");
}

TEST_F(CookieJarTest, InvalidSetCookieLinesAreIgnoredWithAReason) {
  const struct {
    std::string_view line;
    std::string_view why;
  } cases[] = {
      {"", "no '='"},
      {"novalue", "no '='"},
      {"=value", "empty cookie name"},
      {"  =v; Path=/", "empty cookie name"},
      {std::string_view("a=b\0c", 5), "control characters"},
      {"a=b\r\nSet-Cookie: x=y", "control characters"},
      {"a\x7f=b", "control characters"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(jar_.SetCookie(U("http://h/"), c.line),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.why)))
        << c.line;
  }
  EXPECT_THAT(jar_.SetCookie(U("http://h/"), "a=" + std::string(5000, 'x')),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("4096")));
  EXPECT_EQ(jar_.size(), 0u);
}

TEST_F(CookieJarTest, EmptyDomainAttributeIsIgnored) {
  Set("http://www.example.com/", "a=1; Domain=");
  Set("http://www.example.com/", "b=1; Domain=.");
  for (const Cookie& c : jar_.Cookies()) EXPECT_TRUE(c.host_only) << c.name;
}

TEST_F(CookieJarTest, PerDomainLimitEvictsTheOldest) {
  for (size_t i = 0; i < CookieJar::kMaxPerDomain + 5; ++i) {
    Set("http://h/", "c" + std::to_string(i) + "=v");
  }
  EXPECT_EQ(jar_.size(), CookieJar::kMaxPerDomain);
  const std::string header = Header("http://h/");
  EXPECT_FALSE(header.starts_with("c0=")) << header.substr(0, 40);
  EXPECT_TRUE(header.starts_with("c5=v;")) << header.substr(0, 40);
  Set("http://other/", "o=1");
  EXPECT_EQ(Header("http://other/"), "o=1");
}

TEST(CookieJar, DefaultClockIsTheSystemClock) {
  CookieJar jar;
  EXPECT_OK(jar.SetCookie(U("http://h/"), "a=1; Max-Age=3600"));
  EXPECT_OK(jar.SetCookie(U("http://h/"), "b=1; Expires=Thu, 01 Jan 1998 00:00:00 GMT"));
  EXPECT_EQ(jar.CookieHeader(U("http://h/")), "a=1");
  const auto expires = jar.Cookies()[0].expires;
  ASSERT_TRUE(expires.has_value());
  EXPECT_GT(*expires, system_clock::now() + 3000s);
}

TEST(CookieDate, ParsesTheFormsServersSend) {
  const sys_seconds want = sys_days(std::chrono::year(2015) / 10 / 21) + 7h + 28min;
  for (const char* s : {"Wed, 21 Oct 2015 07:28:00 GMT", "Wednesday, 21-Oct-15 07:28:00 GMT",
                        "Wed Oct 21 07:28:00 2015", "21 october 2015 7:28:0",
                        "Wed, 21-Oct-2015 07:28:00 GMT", "2015 Oct 21 07:28:00 +0000"}) {
    EXPECT_EQ(ParseCookieDate(s), want) << s;
  }
  EXPECT_EQ(ParseCookieDate("Thu, 01 Jan 70 00:00:00 GMT"), sys_seconds(0s));
  EXPECT_EQ(ParseCookieDate("Sat, 01 Jan 69 00:00:00 GMT"),
            sys_seconds(sys_days(std::chrono::year(2069) / 1 / 1)));
}

TEST(CookieDate, RejectsImpossibleOrIncompleteDates) {
  for (const char* s : {"", "garbage", "Wed, 21 Oct 2015", "21 Oct 07:28:00",
                        "Wed, 31 Feb 2015 07:28:00 GMT", "Wed, 21 Oct 2015 24:00:00 GMT",
                        "Wed, 21 Oct 2015 07:60:00 GMT", "Wed, 21 Oct 1600 07:28:00 GMT",
                        "Wed, 32 Oct 2015 07:28:00 GMT", "Wed, 21 Xyz 2015 07:28:00 GMT",
                        "Wed, 21 Oct 20155 07:28:00 GMT", "Wed, 21 Oct 2015 123:00:00 GMT"}) {
    EXPECT_EQ(ParseCookieDate(s), std::nullopt) << s;
  }
}

TEST(CookieJar, RandomSetCookieLinesNeverBreakTheJar) {
  const char* pieces[] = {
      "a",      "=",  ";",        " ",  "Domain=",   "example.com", ".com",
      "Path=/", "/x", "Max-Age=", "-",  "9",         "Expires=",    "Jan 2030 1:2:3 ",
      "Secure", "\r", "\n",       "\"", "SameSite=", "\xff"};
  std::mt19937 rng(5);
  CookieJar jar;
  for (int i = 0; i < 20000; ++i) {
    std::string line;
    for (int n = static_cast<int>(rng() % 12); n > 0; --n) line += pieces[rng() % 20];
    const net::Url url = U(rng() % 2 ? "https://a.example.com/x/y" : "http://a.example.com/");
    jar.SetCookie(url, line).IgnoreError();
  }
  const std::string header = jar.CookieHeader(U("https://a.example.com/x/y"));
  EXPECT_EQ(header.find_first_of("\r\n"), std::string::npos);
  for (const Cookie& c : jar.Cookies()) {
    EXPECT_TRUE(c.domain == "a.example.com" || c.domain == "example.com") << c.domain;
    EXPECT_FALSE(c.name.empty());
    EXPECT_TRUE(c.path.starts_with("/")) << c.path;
    if (c.expires) {  // never beyond the 400-day cap
      EXPECT_LE(*c.expires,
                std::chrono::ceil<std::chrono::seconds>(system_clock::now()) + CookieJar::kMaxAge);
    }
  }
}

// Writers and readers at once; run under TSan.
TEST(CookieJar, ConcurrentUseIsSafe) {
  CookieJar jar;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&jar, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string name = "t" + std::to_string(t) + "_" + std::to_string(i % 40);
        EXPECT_OK(jar.SetCookie(U("http://h.example/"), name + "=" + std::to_string(i)));
        if (i % 7 == 0) {
          EXPECT_OK(jar.SetCookie(U("http://h.example/"), name + "=; Max-Age=0"));
        }
      }
    });
  }
  std::atomic<size_t> reads{0};
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        const std::string h = jar.CookieHeader(U("http://h.example/"));
        EXPECT_TRUE(h.empty() || h.find('=') != std::string::npos);
        EXPECT_LE(jar.size(), 160u);
        reads.fetch_add(1);
      }
    });
  }
  for (int t = 0; t < 4; ++t) threads[t].join();
  stop = true;
  for (size_t i = 4; i < threads.size(); ++i) threads[i].join();
  EXPECT_GT(reads.load(), 0u);
  // 4 × 40 names stay under the per-domain limit, so each name's fate is its writer's last
  // pass: set, and deleted again when i % 7 == 0.
  size_t live = 0;
  for (int i = 2000 - 40; i < 2000; ++i) live += i % 7 != 0 ? 1 : 0;
  EXPECT_EQ(jar.size(), 4 * live);
  jar.Clear();
  EXPECT_EQ(jar.CookieHeader(U("http://h.example/")), "");
}

}  // namespace
}  // namespace otlp::http
