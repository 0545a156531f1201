#include "otlp/http/metrics.h"

#include <gtest/gtest.h>

namespace otlp::http {
namespace {

TEST(RequestDurationHistogramTest, BucketsByAttributeSet) {
  RequestDurationHistogram h;
  DurationAttributes get{.method = "GET", .status_code = 200, .server_address = "h",
                         .server_port = 80, .protocol_version = "1.1"};
  DurationAttributes err{.method = "GET", .error_type = "connection_refused",
                         .server_address = "h", .server_port = 80};
  h.Record(get, 0.003);   // (-inf, 0.005]
  h.Record(get, 0.005);   // boundary belongs to its bucket
  h.Record(get, 0.3);     // (0.25, 0.5]
  h.Record(get, 42.0);    // overflow bucket
  h.Record(err, 0.001);
  auto points = h.Snapshot();
  ASSERT_EQ(points.size(), 2u);
  const DurationPoint& p = points[0].attributes == get ? points[0] : points[1];
  EXPECT_EQ(p.count, 4u);
  EXPECT_DOUBLE_EQ(p.sum, 0.003 + 0.005 + 0.3 + 42.0);
  EXPECT_DOUBLE_EQ(p.min, 0.003);
  EXPECT_DOUBLE_EQ(p.max, 42.0);
  ASSERT_EQ(p.bucket_counts.size(), RequestDurationHistogram::kBoundaries.size() + 1);
  EXPECT_EQ(p.bucket_counts[0], 2u);
  EXPECT_EQ(p.bucket_counts[7], 1u);
  EXPECT_EQ(p.bucket_counts.back(), 1u);
  EXPECT_EQ(RequestDurationHistogram::kName, "http.client.request.duration");
  h.Reset();
  EXPECT_TRUE(h.Snapshot().empty());
}

}  // namespace
}  // namespace otlp::http
