#include "final_flush.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "common.h"
#include "otlp/core/internal/mutex.h"

namespace otlp::cli {
namespace {

using Clock = std::chrono::steady_clock;
using otlp::internal::MutexLock;

// How long past its bound the SDK's Shutdown may take to return (it stops at the deadline, then
// joins its export thread) before the command stops waiting for it.
constexpr std::chrono::milliseconds kFlushGrace{500};

std::string DurationText(std::chrono::milliseconds d) {
  char buf[32];
  if (d.count() % 1000 == 0) {
    std::snprintf(buf, sizeof(buf), "%lld s", static_cast<long long>(d.count() / 1000));
  } else if (d.count() > 1000) {
    std::snprintf(buf, sizeof(buf), "%.1f s", static_cast<double>(d.count()) / 1000.0);
  } else {
    std::snprintf(buf, sizeof(buf), "%lld ms", static_cast<long long>(d.count()));
  }
  return buf;
}

}  // namespace

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

FlushOutcome FinalFlush(Sdk& sdk, StopSignals* stop) {
  FlushOutcome out;
  out.bound = sdk.shutdown_timeout();
  // Shared with the flush thread, which may outlive this call when the command stops waiting.
  struct State {
    otlp::internal::Mutex mu;
    otlp::internal::CondVar cv;
    bool done OTLP_GUARDED_BY(mu) = false;
    bool ok OTLP_GUARDED_BY(mu) = false;
  };
  auto state = std::make_shared<State>();
  const Clock::time_point give_up = Clock::now() + out.bound + kFlushGrace;
  std::thread flusher([&sdk, state, stop, bound = out.bound] {
    const bool ok = sdk.Shutdown(bound);
    {
      MutexLock lock(state->mu);
      state->done = true;
      state->ok = ok;
    }
    state->cv.NotifyAll();
    if (stop != nullptr) stop->Notify();
  });

  auto done = [&] {
    MutexLock lock(state->mu);
    return state->done;
  };
  if (stop != nullptr) {
    while (!done()) {
      StopSignals::Event event = stop->Wait(give_up);
      if (event == StopSignals::Event::kDeadline) break;
      if (event == StopSignals::Event::kSignal) {
        if (!done()) out.signal = stop->last_signal();
        break;
      }
    }
  } else {
    MutexLock lock(state->mu);
    state->cv.WaitUntil(lock, give_up, [&]() OTLP_REQUIRES(state->mu) { return state->done; });
  }

  MutexLock lock(state->mu);
  out.finished = state->done;
  out.complete = state->done && state->ok;
  if (out.finished) {
    flusher.join();  // it only has Notify() left to do
  } else {
    flusher.detach();
  }
  return out;
}

DeliveryCounts CountDelivery(const Sdk& sdk, uint64_t created) {
  DeliveryCounts c;
  const trace::BatchSpanProcessor* processor = sdk.batch_processor();
  if (processor == nullptr) return c;  // exporter "none" or SDK disabled: nothing to deliver
  // Every span the processor took ends in exactly one of these (the exporter counts the
  // batches it refused too, which the processor also counts as failed).
  const trace::BatchSpanProcessorStats ps = processor->stats();
  c.dropped = ps.spans_dropped;
  if (const exporter::OtlpHttpExporter* e = sdk.otlp_exporter()) {
    const exporter::ExporterStats es = e->stats();
    c.exported = es.spans_exported;
    c.failed = es.spans_failed;
    c.rejected = es.spans_rejected;
  } else {
    c.exported = ps.spans_exported;
    c.failed = ps.spans_failed;
  }
  const uint64_t known = c.exported + c.dropped + c.failed + c.rejected;
  c.unconfirmed = created > known ? created - known : 0;
  return c;
}

void ReportUndelivered(const Command& command, const FlushOutcome& flush,
                       const DeliveryCounts& counts) {
  const uint64_t lost = counts.not_exported();
  if (lost == 0) return;
  std::string parts;
  auto part = [&](const char* what, uint64_t n) {
    if (n == 0) return;
    if (!parts.empty()) parts += ", ";
    parts += what + std::string(" ") + std::to_string(n);
  };
  part("dropped", counts.dropped);
  part("failed", counts.failed);
  part("rejected", counts.rejected);
  part("unconfirmed", counts.unconfirmed);
  std::string message = "warning: " + std::to_string(lost) + (lost == 1 ? " span" : " spans") +
                        " not exported (" + parts + ")";
  if (flush.signal != 0) {
    message += "; the flush was cut short by " + SignalName(flush.signal);
  } else if (!flush.clean()) {
    message += "; the flush stopped at its bound of " + DurationText(flush.bound);
  }
  PrintError(command, message);
}

void ExitNow(int code) {
  std::fflush(nullptr);
  _exit(code);
}

}  // namespace otlp::cli
