// tools/otlp/final_flush.h — the end of every command that exports: flush and shut the SDK down
// within a bound that always holds, optionally cut short by SIGINT/SIGTERM, then account for
// every span the command handed to the SDK.
//
//   FlushOutcome flush = FinalFlush(*sdk, stop.get());      // stop: may be null
//   DeliveryCounts counts = CountDelivery(*sdk, created);
//   ReportUndelivered(cmd, flush, counts);
//   if (!flush.finished) ExitNow(exit_code);                 // never destroy the Sdk then
//   return exit_code;
//
// The bound is Sdk::shutdown_timeout() (OTEL_EXPORTER_OTLP_TIMEOUT, 10 s by default; when that
// is 0, OTEL_BSP_EXPORT_TIMEOUT, 30 s by default). Sdk::Shutdown gets that bound and runs on a
// helper thread; the command stops waiting for it a short grace after the bound, or at once on
// a stop signal, whether or not the SDK kept its own bound. Spans whose export had no outcome by
// then are reported as unconfirmed, and the process must then end without destroying the Sdk
// (its threads may still wait on a request that was given up).
// Threading: call from the thread that owns the Sdk (and that installed `stop`).
#pragma once

#include <chrono>
#include <cstdint>

#include "flags.h"
#include "otlp/otlp.h"
#include "stop_signals.h"

namespace otlp::cli {

struct FlushOutcome {
  std::chrono::milliseconds bound{0};
  // Sdk::Shutdown returned in time. When false it is still running on its thread: the caller
  // must leave through ExitNow().
  bool finished = false;
  // ... and reported that everything queued got an outcome. When false, the Sdk's threads may
  // still be busy too (its destructor could wait on them): leave through ExitNow() as well.
  bool complete = false;
  int signal = 0;  // the stop signal that cut the flush short; 0 when none did

  // Whether the process may return normally (destroying the Sdk).
  bool clean() const noexcept { return finished && complete; }
};

// Runs sdk.Shutdown(sdk.shutdown_timeout()) and waits for it as described above. With `stop`,
// a stop signal that arrives during the flush (or arrived earlier and no Wait() reported yet)
// cuts it short.
FlushOutcome FinalFlush(Sdk& sdk, StopSignals* stop);

// What became of the spans a command handed to the SDK (`created`: ended and sampled), after
// FinalFlush. Each span is counted once: exported, or in one of the other fields.
struct DeliveryCounts {
  uint64_t exported = 0;     // accepted by the collector (console exporter: written)
  uint64_t dropped = 0;      // batch processor: queue full, or ended after shutdown
  uint64_t failed = 0;       // export failed after its retries, or was refused at shutdown
  uint64_t rejected = 0;     // refused by the collector in a partial success
  uint64_t unconfirmed = 0;  // no outcome when the command stopped waiting (in flight, queued)

  uint64_t not_exported() const noexcept { return dropped + failed + rejected + unconfirmed; }
};
DeliveryCounts CountDelivery(const Sdk& sdk, uint64_t created);

// When spans were not exported, one warning line on stderr, with the reason when the flush did
// not end by itself: "otlp exec: warning: 1 span not exported (unconfirmed 1); the flush was cut
// short by SIGINT".
void ReportUndelivered(const Command& command, const FlushOutcome& flush,
                       const DeliveryCounts& counts);

// Ends the process now with `code` after flushing stdio, without running destructors (the SDK's
// threads may be blocked on a request the command gave up on).
[[noreturn]] void ExitNow(int code);

// "SIGINT", "SIGTERM", or "signal N".
std::string SignalName(int sig);

}  // namespace otlp::cli
