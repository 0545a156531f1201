#include "otlp/http/internal/redact.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace otlp::http::internal {
namespace {

TEST(Redact, PlainUrlIsUnchanged) {
  for (const char* url : {"https://example.com/", "http://h:8080/a/b?x=1&y=2#frag",
                          "http://[::1]:4318/v1/traces", "https://example.com"}) {
    EXPECT_EQ(RedactUrl(url), url);
  }
}

TEST(Redact, CredentialsBecomeRedactedPair) {
  EXPECT_EQ(RedactUrl("https://user:pass@www.example.com/"),
            "https://REDACTED:REDACTED@www.example.com/");
  EXPECT_EQ(RedactUrl("https://user@www.example.com/p"),
            "https://REDACTED:REDACTED@www.example.com/p");
  EXPECT_EQ(RedactUrl("http://a:b@c@host:81?q"), "http://REDACTED:REDACTED@host:81?q");
  EXPECT_EQ(RedactUrl("http://@host/"), "http://REDACTED:REDACTED@host/");
  EXPECT_EQ(RedactUrl("//u:p@host/x"), "//REDACTED:REDACTED@host/x");
}

TEST(Redact, AtSignOutsideTheAuthorityIsKept) {
  EXPECT_EQ(RedactUrl("https://host/users/a@b.c?mail=x@y"), "https://host/users/a@b.c?mail=x@y");
  EXPECT_EQ(RedactUrl("https://host#u:p@x"), "https://host#u:p@x");
}

TEST(Redact, SensitiveQueryValuesKeepTheirKeys) {
  EXPECT_EQ(RedactUrl("https://www.example.com/path?color=blue&sig=s3cr3t"),
            "https://www.example.com/path?color=blue&sig=REDACTED");
  EXPECT_EQ(RedactUrl("https://s3/o?AWSAccessKeyId=AK&Signature=xyz&Expires=1"),
            "https://s3/o?AWSAccessKeyId=REDACTED&Signature=REDACTED&Expires=1");
  EXPECT_EQ(RedactUrl("https://g/o?X-Goog-Signature=abc#frag"),
            "https://g/o?X-Goog-Signature=REDACTED#frag");
  EXPECT_EQ(RedactUrl("https://a/o?X-Amz-Credential=c&X-Amz-Signature=s&X-Amz-Security-Token=t"),
            "https://a/o?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED"
            "&X-Amz-Security-Token=REDACTED");
  EXPECT_EQ(RedactUrl("https://u:p@h/?sig=1&sig=2"),
            "https://REDACTED:REDACTED@h/?sig=REDACTED&sig=REDACTED");
}

TEST(Redact, KeyMatchIsExactAndCaseSensitive) {
  EXPECT_EQ(RedactUrl("http://h/?SIG=1&signature=2&sigx=3&xsig=4&sig"),
            "http://h/?SIG=1&signature=2&sigx=3&xsig=4&sig");
  EXPECT_EQ(RedactUrl("http://h/?sig="), "http://h/?sig=REDACTED");
  EXPECT_EQ(RedactUrl("http://h/?&&sig=a=b&"), "http://h/?&&sig=REDACTED&");
}

TEST(Redact, OddInputsNeverFail) {
  EXPECT_EQ(RedactUrl(""), "");
  EXPECT_EQ(RedactUrl("?"), "?");
  EXPECT_EQ(RedactUrl("?sig=x"), "?sig=REDACTED");
  EXPECT_EQ(RedactUrl("/relative?sig=x#f"), "/relative?sig=REDACTED#f");
  EXPECT_EQ(RedactUrl("://@"), "://REDACTED:REDACTED@");
  EXPECT_EQ(RedactUrl("not a url"), "not a url");
  EXPECT_EQ(RedactUrl("/path://u:p@h"), "/path://u:p@h");  // "://" inside a path
  EXPECT_EQ(RedactUrl("#?sig=x"), "#?sig=x");              // the query is after '#'
  // Random text: no crash, no sanitizer report, and redacting twice changes nothing more.
  std::mt19937 rng(11);
  const std::string alphabet = "ab:/?#@&=%sig\0";
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 24, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    const std::string r = RedactUrl(s);
    ASSERT_EQ(RedactUrl(r), r) << s;
  }
}

}  // namespace
}  // namespace otlp::http::internal
