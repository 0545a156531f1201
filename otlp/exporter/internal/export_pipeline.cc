#include "otlp/exporter/internal/export_pipeline.h"

#include <algorithm>
#include <optional>
#include <random>
#include <utility>

#include "otlp/core/internal/gzip.h"
#include "otlp/core/log.h"
#include "otlp/exporter/internal/http_transport.h"
#include "otlp/exporter/otlp_encoder.h"
#include "otlp/exporter/otlp_response.h"
#include "otlp/trace/context.h"

namespace otlp::exporter::internal {
namespace {

using otlp::internal::MutexLock;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// After the shutdown deadline cancelled the requests in flight, how long Shutdown waits for
// their senders to notice before it reports what it knows (a transport returns from a
// cancelled Send at once; this only bounds a misbehaving one).
constexpr milliseconds kCancelGrace{1000};

std::string DurationText(std::chrono::microseconds d) {
  if (d.count() % 1000000 == 0) return std::to_string(d.count() / 1000000) + " s";
  return std::to_string(std::chrono::duration_cast<milliseconds>(d).count()) + " ms";
}

steady_clock::time_point DeadlineAfter(std::chrono::microseconds timeout) {
  // Guard against overflow for "wait forever" values such as microseconds::max().
  constexpr auto kFarAway = std::chrono::hours(24 * 365);
  if (timeout > kFarAway) return steady_clock::time_point::max();
  return steady_clock::now() + std::max(timeout, std::chrono::microseconds(0));
}

uint64_t RandomSeed() {
  std::random_device rd;
  return (uint64_t{rd()} << 32) ^ rd();
}

}  // namespace

ExportPipeline::ExportPipeline(PipelineOptions options, std::unique_ptr<Transport> transport)
    : options_(std::move(options)), transport_(std::move(transport)), seed_(RandomSeed()) {}

ExportPipeline::~ExportPipeline() {
  Shutdown(std::chrono::microseconds(0));
  JoinSenders();
}

void ExportPipeline::Start() {
  if (options_.synchronous) return;
  MutexLock lock(mu_);
  for (size_t i = 0; i < options_.max_concurrent_requests; ++i) {
    senders_.emplace_back([this] { SenderMain(); });
  }
}

std::string ExportPipeline::TakeBuffer() {
  MutexLock lock(mu_);
  if (spare_buffers_.empty()) return {};
  std::string buffer = std::move(spare_buffers_.back());
  spare_buffers_.pop_back();
  return buffer;
}

void ExportPipeline::ReturnBuffer(std::string buffer) {
  buffer.clear();
  MutexLock lock(mu_);
  // Enough for every batch that can be in flight or queued at once, plus one being encoded
  // and its compressed copy.
  if (spare_buffers_.size() < options_.max_concurrent_requests + 2) {
    spare_buffers_.push_back(std::move(buffer));
  }
}

Result<ExportPipeline::Batch> ExportPipeline::Encode(
    std::span<const trace::SpanData* const> spans) {
  Batch b;
  b.spans = spans.size();
  b.body = TakeBuffer();
  if (options_.json) {
    EncodeTraceRequestJson(spans, b.body);
  } else {
    EncodeTraceRequestProto(spans, b.body);
  }
  if (options_.gzip) {
    std::string compressed = TakeBuffer();
    const Status status = otlp::internal::GzipCompress(b.body, compressed);
    std::swap(b.body, compressed);
    ReturnBuffer(std::move(compressed));  // the uncompressed request
    OTLP_RETURN_IF_ERROR(status);
  }
  return b;
}

trace::ExportResult ExportPipeline::Export(std::span<const trace::SpanData* const> spans) noexcept {
  if (spans.empty()) return trace::ExportResult::kSuccess;
  try {
    {
      MutexLock lock(mu_);
      if (shutdown_) {
        counters_.AddFailedBatch(spans.size());
        return trace::ExportResult::kFailure;
      }
    }
    auto batch = Encode(spans);
    if (!batch.ok()) {
      counters_.AddFailedBatch(spans.size());
      OTLP_LOG(kWarn, "OTLP export of " + std::to_string(spans.size()) +
                          " spans failed: " + batch.status().ToString());
      return trace::ExportResult::kFailure;
    }
    MutexLock lock(mu_);
    if (shutdown_) {
      counters_.AddFailedBatch(spans.size());
      return trace::ExportResult::kFailure;
    }
    if (options_.synchronous) {
      ++busy_;
      lock.Unlock();
      const bool delivered = Deliver(*batch);
      ReturnBuffer(std::move(batch->body));
      lock.Lock();
      --busy_;
      lock.Unlock();
      cv_.NotifyAll();
      return delivered ? trace::ExportResult::kSuccess : trace::ExportResult::kFailure;
    }
    // Back-pressure: with every sender busy the batch waits in the queue, and Export returns
    // once a sender took it. A sender that finishes a request takes the waiting batch at once
    // instead of going to sleep and being woken for it, so while batches keep coming the one
    // wake-up per request is this thread's.
    const bool sender_free = queue_.size() + busy_ < options_.max_concurrent_requests;
    const uint64_t ticket = ++queued_;
    batch->ticket = ticket;
    queue_.push_back(std::move(*batch));
    if (sender_free) {
      lock.Unlock();
      cv_.NotifyAll();
      return trace::ExportResult::kSuccess;
    }
    cv_.Wait(lock, [&]() OTLP_REQUIRES(mu_) { return shutdown_ || taken_ >= ticket; });
    if (taken_ >= ticket) return trace::ExportResult::kSuccess;
    // Refused by Shutdown before a sender took it (or already dropped by Abort, which counted
    // it).
    auto it = std::find_if(queue_.begin(), queue_.end(),
                           [&](const Batch& b) { return b.ticket == ticket; });
    if (it != queue_.end()) {
      std::string body = std::move(it->body);
      queue_.erase(it);
      lock.Unlock();
      cv_.NotifyAll();
      counters_.AddFailedBatch(spans.size());
      ReturnBuffer(std::move(body));
    }
    return trace::ExportResult::kFailure;
  } catch (...) {
    counters_.AddFailedBatch(spans.size());
    return trace::ExportResult::kFailure;
  }
}

// The entry function of every sender thread: the one place where code that must run on these
// threads goes, such as marking the thread as the exporter's own so that an instrumented HTTP
// client does not trace the export requests (OpenTelemetry's "suppress instrumentation" context
// flag, otlp/trace/context.h).
void ExportPipeline::SenderMain() {
  // The exporter's own requests must never become spans (once HTTP clients are traced, an
  // export would otherwise produce spans that need exporting).
  trace::SuppressTracingScope suppress;
  MutexLock lock(mu_);
  while (true) {
    cv_.Wait(lock, [&]() OTLP_REQUIRES(mu_) { return stop_ || !queue_.empty(); });
    if (stop_) return;  // the queue was emptied (delivered, or dropped by Abort) before stop_
    Batch b = std::move(queue_.front());
    queue_.pop_front();
    ++taken_;
    ++busy_;
    lock.Unlock();
    cv_.NotifyAll();  // an Export waiting for this batch to be taken returns
    Deliver(b);
    ReturnBuffer(std::move(b.body));
    lock.Lock();
    --busy_;
    cv_.NotifyAll();
  }
}

bool ExportPipeline::SleepUnlessShutdown(steady_clock::time_point until) {
  MutexLock lock(mu_);
  return !cv_.WaitUntil(lock, until, [&]() OTLP_REQUIRES(mu_) { return shutdown_; });
}

bool ExportPipeline::Deliver(const Batch& batch) noexcept {
  std::string error;
  bool cut_off = false;  // by the shutdown deadline
  try {
    const auto start = steady_clock::now();
    const bool limited = options_.timeout.count() > 0;
    const auto deadline = start + options_.timeout;
    uint64_t seq;
    {
      MutexLock lock(mu_);
      seq = batch_seq_++;
    }
    Backoff backoff(options_.retry, seed_ + seq * 0x9e3779b97f4a7c15ULL);
    for (int attempt = 1;; ++attempt) {
      {
        MutexLock lock(mu_);
        if (aborted_) {
          cut_off = true;
          break;
        }
      }
      const auto now = steady_clock::now();
      if (limited && now >= deadline) {
        error += "; export timeout of " + DurationText(options_.timeout) + " reached";
        break;
      }
      const TransportRequest request{
          .body = batch.body,
          .json = options_.json,
          .gzip = options_.gzip,
          .deadline = limited ? deadline : now + kUnlimitedAttemptTimeout};
      counters_.AddRequest(batch.body.size(), attempt > 1);
      Result<TransportResponse> resp = transport_->Send(request);
      std::optional<milliseconds> server_delay;
      if (!resp.ok()) {
        {
          MutexLock lock(mu_);
          cut_off = aborted_;
        }
        if (cut_off) break;
        error = resp.status().ToString();
        if (!resp.status().retryable()) break;
      } else if (resp->outcome == TransportResponse::Outcome::kAccepted) {
        HandleAccepted(batch, *resp);
        return true;
      } else {
        error = resp->detail;
        if (resp->outcome == TransportResponse::Outcome::kRejected) break;
        server_delay = resp->retry_after;
      }

      if (attempt >= options_.retry.max_attempts) {
        error += "; gave up after " + std::to_string(attempt) + " attempts";
        break;
      }
      const milliseconds delay =
          server_delay ? std::min(*server_delay, options_.retry.max_retry_after) : backoff.Next();
      const auto wake = steady_clock::now() + delay;
      if (limited && wake >= deadline) {
        error += "; gave up after " + std::to_string(attempt) + " attempts: the next retry (in " +
                 std::to_string(delay.count()) + " ms) would pass the export timeout of " +
                 DurationText(options_.timeout);
        break;
      }
      OTLP_LOG(kDebug, "OTLP export attempt " + std::to_string(attempt) + " failed (" + error +
                           "); retrying in " + std::to_string(delay.count()) + " ms");
      if (!SleepUnlessShutdown(wake)) {
        MutexLock lock(mu_);
        cut_off = aborted_;
        error += "; not retried: the exporter is shutting down";
        break;
      }
    }
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown error";
  }
  if (cut_off) {
    // Reported with the other batches Shutdown dropped, in one line.
    counters_.AddDroppedAtShutdown(batch.spans);
    return false;
  }
  counters_.AddFailedBatch(batch.spans);
  if (!error.empty() && error.front() == ';') error.erase(0, 2);
  OTLP_LOG(kWarn, "OTLP export of " + std::to_string(batch.spans) + " spans to " +
                      std::string(transport_->endpoint()) + " failed: " + error);
  return false;
}

void ExportPipeline::HandleAccepted(const Batch& batch,
                                    const TransportResponse& response) noexcept {
  try {
    if (response.body_truncated) {
      // The status arrived, so the collector took the data; only its answer is incomplete.
      // Resending would store the spans twice.
      std::string excerpt = BodyExcerpt(response.body);
      OTLP_LOG(kWarn, "OTLP export: " + std::string(transport_->endpoint()) + " accepted " +
                          std::to_string(batch.spans) + " spans (status " +
                          std::to_string(response.code) +
                          ") but closed the connection inside its response body; " +
                          std::to_string(response.body.size()) + " bytes arrived" +
                          (excerpt.empty() ? std::string() : ": " + excerpt));
      counters_.AddExported(batch.spans);
      return;
    }
    Result<PartialSuccess> ps = response.body_json ? DecodeTraceResponseJson(response.body)
                                                   : DecodeTraceResponseProto(response.body);
    if (!ps.ok()) {
      // The collector took the data; only its answer is unreadable.
      OTLP_LOG(kDebug,
               "OTLP export: could not decode the collector's response: " + ps.status().ToString());
      counters_.AddExported(batch.spans);
      return;
    }
    uint64_t rejected = 0;
    if (ps->present()) {
      rejected = static_cast<uint64_t>(
          std::clamp<int64_t>(ps->rejected_spans, 0, static_cast<int64_t>(batch.spans)));
      const std::string msg = ps->error_message.empty() ? "(no message)" : ps->error_message;
      if (rejected > 0) {
        OTLP_LOG(kWarn, "OTLP partial success: the collector rejected " + std::to_string(rejected) +
                            " of " + std::to_string(batch.spans) + " spans: " + msg);
      } else {
        OTLP_LOG(kWarn, "OTLP partial success: the collector accepted all " +
                            std::to_string(batch.spans) + " spans with a warning: " + msg);
      }
    }
    counters_.AddRejected(rejected);
    counters_.AddExported(batch.spans - rejected);
  } catch (...) {
    counters_.AddExported(batch.spans);
  }
}

bool ExportPipeline::WaitIdle(steady_clock::time_point deadline) {
  MutexLock lock(mu_);
  auto idle = [&]() OTLP_REQUIRES(mu_) { return queue_.empty() && busy_ == 0; };
  if (deadline == steady_clock::time_point::max()) {
    cv_.Wait(lock, idle);
    return true;
  }
  return cv_.WaitUntil(lock, deadline, idle);
}

bool ExportPipeline::ForceFlush(std::chrono::microseconds timeout) noexcept {
  try {
    return WaitIdle(DeadlineAfter(timeout));
  } catch (...) {
    return false;
  }
}

bool ExportPipeline::Abort(std::chrono::microseconds timeout) {
  const uint64_t dropped_before = counters_.Snapshot().spans_dropped_at_shutdown;
  size_t queued_batches, in_flight;
  {
    MutexLock lock(mu_);
    if (aborted_) return queue_.empty() && busy_ == 0;
    // The last delivery may have ended just after the wait gave up.
    if (queue_.empty() && busy_ == 0) return true;
    aborted_ = true;
    queued_batches = queue_.size();
    in_flight = busy_;
    for (const Batch& b : queue_) counters_.AddDroppedAtShutdown(b.spans);
    queue_.clear();
  }
  cv_.NotifyAll();
  transport_->Cancel();
  const bool settled = WaitIdle(steady_clock::now() + kCancelGrace);
  const uint64_t dropped = counters_.Snapshot().spans_dropped_at_shutdown - dropped_before;
  if (dropped == 0 && settled) return true;  // what was on the wire got through after all
  OTLP_LOG(kWarn, "OTLP exporter shutdown: " + std::to_string(dropped) +
                      " spans not delivered within the shutdown timeout of " +
                      DurationText(timeout) +
                      " were dropped (requests cancelled in flight: " + std::to_string(in_flight) +
                      ", queued batches not sent: " + std::to_string(queued_batches) +
                      (settled ? ")" : "; some requests have not returned yet)"));
  return false;
}

bool ExportPipeline::Shutdown(std::chrono::microseconds timeout) noexcept {
  try {
    const auto deadline = DeadlineAfter(timeout);
    {
      MutexLock lock(mu_);
      shutdown_ = true;
    }
    cv_.NotifyAll();
    const bool in_time = WaitIdle(deadline) || Abort(timeout);
    {
      MutexLock lock(mu_);
      stop_ = true;
    }
    cv_.NotifyAll();
    JoinSenders();
    return in_time;
  } catch (...) {
    return false;
  }
}

void ExportPipeline::JoinSenders() {
  std::vector<std::thread> senders;
  {
    MutexLock lock(mu_);
    senders.swap(senders_);
  }
  for (auto& t : senders) t.join();
}

}  // namespace otlp::exporter::internal
