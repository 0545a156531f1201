#include "otlp/net/headers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "otlp/net/http_client.h"

namespace otlp::net {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(HeadersTest, FindIgnoresCaseAndReturnsTheFirst) {
  Headers headers = {{"Content-Type", "a"}, {"retry-after", "5"}, {"Retry-After", "7"}};
  EXPECT_EQ(headers.Find("content-type"), "a");
  EXPECT_EQ(headers.Find("RETRY-AFTER"), "5");
  EXPECT_EQ(headers.Find("missing"), std::nullopt);
  EXPECT_EQ(FindHeader(headers, "Retry-after"), "5");
  EXPECT_TRUE(headers.Contains("CONTENT-type"));
  EXPECT_FALSE(headers.Contains("content"));
  EXPECT_THAT(headers.FindAll("retry-AFTER"), ElementsAre("5", "7"));
  EXPECT_TRUE(headers.FindAll("nope").empty());
}

TEST(HeadersTest, AddKeepsRepeatsAndOrder) {
  Headers headers;
  EXPECT_TRUE(headers.empty());
  headers.Add("Cookie", "a=1");
  headers.Add("X-Id", "9");
  headers.Add("cookie", "b=2");
  EXPECT_EQ(headers.size(), 3u);
  EXPECT_THAT(headers.fields(),
              ElementsAre(Pair("Cookie", "a=1"), Pair("X-Id", "9"), Pair("cookie", "b=2")));
}

TEST(HeadersTest, SetReplacesEveryValueInPlace) {
  Headers headers = {{"Accept", "*/*"}, {"X-A", "1"}, {"accept", "text/html"}, {"X-B", "2"}};
  headers.Set("ACCEPT", "text/plain");
  EXPECT_THAT(headers.fields(),
              ElementsAre(Pair("ACCEPT", "text/plain"), Pair("X-A", "1"), Pair("X-B", "2")));
  headers.Set("X-New", "n");  // absent: appended
  EXPECT_EQ(headers[3], (Headers::value_type{"X-New", "n"}));
}

TEST(HeadersTest, RemoveDropsEveryFieldOfTheName) {
  Headers headers = {{"A", "1"}, {"b", "2"}, {"a", "3"}};
  EXPECT_EQ(headers.Remove("a"), 2u);
  EXPECT_EQ(headers.Remove("a"), 0u);
  EXPECT_THAT(headers.fields(), ElementsAre(Pair("b", "2")));
}

TEST(HeadersTest, BehavesAsTheListItWasBuiltFrom) {
  std::vector<std::pair<std::string, std::string>> parsed = {{"k", "v"}, {"k2", "v2"}};
  Headers from_list = parsed;  // e.g. from OTEL_EXPORTER_OTLP_HEADERS
  Headers copy(from_list.begin(), from_list.end());
  EXPECT_EQ(from_list, copy);
  EXPECT_EQ(from_list, (Headers{{"k", "v"}, {"k2", "v2"}}));
  EXPECT_NE(from_list, (Headers{{"K", "v"}, {"k2", "v2"}}));  // equality is exact
  std::vector<std::string> names;
  for (const auto& [name, value] : from_list) names.push_back(name + "=" + value);
  EXPECT_THAT(names, ElementsAre("k=v", "k2=v2"));
  copy.insert(copy.end(), from_list.begin(), from_list.end());
  copy.emplace_back("x", "y");
  copy.erase(copy.begin());
  EXPECT_EQ(copy.size(), 4u);
  EXPECT_EQ(copy.fields().front().first, "k2");
}

TEST(HeadersTest, DesignatedInitializersOfRequestsAndResponsesStillWork) {
  HttpRequest request{.method = "POST", .headers = {{"Content-Type", "text/plain"}}};
  EXPECT_EQ(request.headers.Find("content-type"), "text/plain");
  HttpResponse response{.status = 200, .headers = {{"Retry-After", "3"}}, .body = ""};
  EXPECT_EQ(response.Header("retry-after"), "3");
  EXPECT_EQ(response.Trailer("grpc-status"), std::nullopt);
}

}  // namespace
}  // namespace otlp::net
