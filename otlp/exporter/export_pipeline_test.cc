// The exporter's delivery logic against a scripted Transport (no network): what it does with
// each outcome a transport reports, and how Shutdown cuts off a Send that does not return.
// The same logic serves every transport; the HTTP specifics are tested in
// tests/integration/exporter_fault_test.cc.
#include "otlp/exporter/internal/export_pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "otlp/core/log.h"
#include "otlp/trace/context.h"
#include "tests/support/log_capture.h"
#include "tests/support/span_fixtures.h"

namespace otlp::exporter::internal {
namespace {

using std::chrono::milliseconds;
using test::LogCapture;
using ::testing::HasSubstr;
using Outcome = TransportResponse::Outcome;

// Generous bound: only there so that a broken build fails instead of hanging.
constexpr auto kHangGuard = std::chrono::seconds(30);

// Answers Sends from a script; an empty script blocks Send until Cancel().
class ScriptedTransport final : public Transport {
 public:
  void Push(Result<TransportResponse> r) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.push_back(std::move(r));
  }
  Result<TransportResponse> Send(const TransportRequest& request) override {
    std::unique_lock<std::mutex> lock(mu_);
    bodies_.emplace_back(request.body);
    suppressed_.push_back(trace::IsTracingSuppressed());
    ++sends_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return cancelled_ || !script_.empty(); });
    if (cancelled_) return Status(StatusCode::kCancelled, "cancelled");
    Result<TransportResponse> r = std::move(script_.front());
    script_.pop_front();
    return r;
  }
  void Cancel() noexcept override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }
  std::string_view endpoint() const noexcept override { return "scripted://collector"; }

  bool WaitForSends(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kHangGuard, [&] { return sends_ >= n; });
  }
  size_t sends() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sends_;
  }
  // Whether tracing was suppressed on the thread of each Send.
  std::vector<bool> suppressed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return suppressed_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Result<TransportResponse>> script_;
  std::vector<std::string> bodies_;
  std::vector<bool> suppressed_;
  size_t sends_ = 0;
  bool cancelled_ = false;
};

TransportResponse Answer(Outcome outcome, std::string detail = {}) {
  TransportResponse r;
  r.outcome = outcome;
  r.detail = std::move(detail);
  return r;
}

struct Fixture {
  explicit Fixture(PipelineOptions options = {
                       .timeout = std::chrono::seconds(10),
                       .retry = {.max_attempts = 3, .initial_backoff = milliseconds(1)},
                       .synchronous = true}) {
    auto t = std::make_unique<ScriptedTransport>();
    transport = t.get();
    pipeline = std::make_unique<ExportPipeline>(options, std::move(t));
    pipeline->Start();
    span = test::MinimalSpan();
    ptrs = {&span, &span};
  }
  trace::ExportResult Export() { return pipeline->Export(ptrs); }

  ScriptedTransport* transport;
  std::unique_ptr<ExportPipeline> pipeline;
  trace::SpanData span;
  std::vector<const trace::SpanData*> ptrs;
};

TEST(ExportPipeline, RetryableOutcomesAndErrorsAreRetriedThenDelivered) {
  Fixture f;
  f.transport->Push(Answer(Outcome::kRetryable, "busy"));
  f.transport->Push(Status(StatusCode::kUnavailable, "connection reset", /*retryable=*/true));
  f.transport->Push(Answer(Outcome::kAccepted));
  EXPECT_EQ(f.Export(), trace::ExportResult::kSuccess);
  const ExporterStats s = f.pipeline->stats();
  EXPECT_EQ(s.spans_exported, 2u);
  EXPECT_EQ(s.requests, 3u);
  EXPECT_EQ(s.retries, 2u);
}

TEST(ExportPipeline, SenderThreadsSendWithTracingSuppressed) {
  // Whatever a transport does while sending (an instrumented HTTP client starting a span) must
  // not produce spans: the sender threads run with tracing suppressed.
  Fixture f({.timeout = std::chrono::seconds(10), .synchronous = false});
  f.transport->Push(Answer(Outcome::kAccepted));
  EXPECT_EQ(f.Export(), trace::ExportResult::kSuccess);
  ASSERT_TRUE(f.transport->WaitForSends(1));
  EXPECT_THAT(f.transport->suppressed(), ::testing::ElementsAre(true));
  EXPECT_FALSE(trace::IsTracingSuppressed());  // the calling thread is left alone
}

TEST(ExportPipeline, RejectedAndNonRetryableErrorsAreFinal) {
  Fixture f;
  LogCapture logs;
  f.transport->Push(Answer(Outcome::kRejected, "HTTP 400: bad span"));
  EXPECT_EQ(f.Export(), trace::ExportResult::kFailure);
  f.transport->Push(Status(StatusCode::kPermissionDenied, "certificate"));
  EXPECT_EQ(f.Export(), trace::ExportResult::kFailure);
  EXPECT_EQ(f.transport->sends(), 2u);
  EXPECT_EQ(f.pipeline->stats().batches_failed, 2u);
  EXPECT_THAT(logs.text(), HasSubstr("failed: HTTP 400: bad span"));
  EXPECT_THAT(logs.text(), HasSubstr("to scripted://collector failed"));
}

TEST(ExportPipeline, ServerDelayReplacesTheBackoffAndCountsAgainstTheTimeout) {
  Fixture f({.timeout = milliseconds(500),
             .retry = {.max_attempts = 5, .initial_backoff = milliseconds(1)},
             .synchronous = true});
  LogCapture logs;
  TransportResponse slow = Answer(Outcome::kRetryable, "HTTP 429");
  slow.retry_after = std::chrono::seconds(20);
  f.transport->Push(slow);
  EXPECT_EQ(f.Export(), trace::ExportResult::kFailure);
  EXPECT_EQ(f.transport->sends(), 1u);
  EXPECT_THAT(logs.text(), HasSubstr("would pass the export timeout"));
}

TEST(ExportPipeline, PartialSuccessAndTruncatedAnswers) {
  Fixture f;
  LogCapture logs;
  TransportResponse partial = Answer(Outcome::kAccepted);
  partial.body = std::string("\x0a\x06\x08\x01\x12\x02no", 8);  // rejected_spans 1, "no"
  f.transport->Push(partial);
  EXPECT_EQ(f.Export(), trace::ExportResult::kSuccess);
  TransportResponse cut = Answer(Outcome::kAccepted);
  cut.code = 200;
  cut.body = "\x0a\x06\x08";
  cut.body_truncated = true;
  f.transport->Push(cut);
  EXPECT_EQ(f.Export(), trace::ExportResult::kSuccess);
  const ExporterStats s = f.pipeline->stats();
  EXPECT_EQ(s.spans_rejected, 1u);
  EXPECT_EQ(s.spans_exported, 3u);  // 1 of the first batch, both of the second
  EXPECT_EQ(f.transport->sends(), 2u);
  EXPECT_THAT(logs.text(), HasSubstr("rejected 1 of 2 spans: no"));
  EXPECT_THAT(logs.text(), HasSubstr("accepted 2 spans (status 200) but closed the connection"));
}

TEST(ExportPipeline, ShutdownCancelsASendThatDoesNotReturn) {
  Fixture f({.timeout = milliseconds(0), .retry = {}, .max_concurrent_requests = 1});
  LogCapture logs;
  ASSERT_EQ(f.Export(), trace::ExportResult::kSuccess);  // queued; its Send blocks
  ASSERT_TRUE(f.transport->WaitForSends(1));
  EXPECT_FALSE(f.pipeline->Shutdown(milliseconds(50)));
  const ExporterStats s = f.pipeline->stats();
  EXPECT_EQ(s.spans_dropped_at_shutdown, 2u);
  EXPECT_EQ(s.spans_failed, 2u);
  EXPECT_EQ(f.Export(), trace::ExportResult::kFailure);
  EXPECT_EQ(f.transport->sends(), 1u);
  EXPECT_THAT(logs.text(), HasSubstr("2 spans not delivered within the shutdown timeout of 50 ms"));
  EXPECT_TRUE(f.pipeline->Shutdown(milliseconds(0)));  // later calls return at once
}

TEST(ExportPipeline, ShutdownInTimeDropsNothing) {
  Fixture f({.timeout = milliseconds(0), .retry = {}, .max_concurrent_requests = 1});
  f.transport->Push(Answer(Outcome::kAccepted));
  ASSERT_EQ(f.Export(), trace::ExportResult::kSuccess);
  EXPECT_TRUE(f.pipeline->Shutdown(kHangGuard));
  EXPECT_EQ(f.pipeline->stats().spans_exported, 2u);
  EXPECT_EQ(f.pipeline->stats().spans_dropped_at_shutdown, 0u);
}

}  // namespace
}  // namespace otlp::exporter::internal
