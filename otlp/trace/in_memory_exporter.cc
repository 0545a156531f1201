#include "otlp/trace/in_memory_exporter.h"

#include <utility>

#include "otlp/trace/resource.h"

namespace otlp::trace {
namespace {

OwnedAttributes Own(std::span<const KeyValue> attributes) {
  OwnedAttributes out;
  for (const KeyValue& kv : attributes) out.Set(kv.key, kv.value);
  return out;
}

// A sub-range of `all`, or empty when [begin, begin + count) is out of bounds (malformed data).
std::span<const KeyValue> Range(const std::vector<KeyValue>& all, uint32_t begin, uint32_t count) {
  if (size_t{begin} + count > all.size()) return {};
  return {all.data() + begin, count};
}

}  // namespace

RecordedSpan RecordedSpan::From(const SpanData& data) {
  RecordedSpan r;
  r.context = data.context;
  r.parent_span_id = data.parent_span_id;
  r.parent_is_remote = data.parent_is_remote;
  r.name = std::string(data.name);
  r.kind = data.kind;
  r.start_unix_nano = data.start_unix_nano;
  r.end_unix_nano = data.end_unix_nano;
  r.attributes = Own(data.attributes);
  r.dropped_attributes_count = data.dropped_attributes_count;

  r.events.reserve(data.events.size());
  for (const EventData& e : data.events) {
    r.events.push_back(Event{
        .name = std::string(e.name),
        .time_unix_nano = e.time_unix_nano,
        .attributes = Own(Range(data.event_attributes, e.attr_begin, e.attr_count)),
        .dropped_attributes_count = e.dropped_attributes_count,
    });
  }
  r.dropped_events_count = data.dropped_events_count;

  r.links.reserve(data.links.size());
  for (const LinkData& l : data.links) {
    r.links.push_back(Link{
        .context = l.context,
        .attributes = Own(Range(data.link_attributes, l.attr_begin, l.attr_count)),
        .dropped_attributes_count = l.dropped_attributes_count,
    });
  }
  r.dropped_links_count = data.dropped_links_count;

  r.status_code = data.status_code;
  r.status_message = std::string(data.status_message);
  if (data.scope != nullptr) r.scope = *data.scope;
  if (data.resource != nullptr) r.resource_attributes = data.resource->attributes();
  return r;
}

void InMemorySpanStore::Add(RecordedSpan span) {
  {
    otlp::internal::MutexLock lock(mu_);
    spans_.push_back(std::move(span));
  }
  cv_.NotifyAll();
}

std::vector<RecordedSpan> InMemorySpanStore::Spans() const {
  otlp::internal::MutexLock lock(mu_);
  return spans_;
}

size_t InMemorySpanStore::size() const {
  otlp::internal::MutexLock lock(mu_);
  return spans_.size();
}

void InMemorySpanStore::Clear() {
  otlp::internal::MutexLock lock(mu_);
  spans_.clear();
}

bool InMemorySpanStore::WaitForSpans(size_t n, std::chrono::milliseconds timeout) const {
  otlp::internal::MutexLock lock(mu_);
  return cv_.WaitFor(lock, timeout, [&]() OTLP_REQUIRES(mu_) { return spans_.size() >= n; });
}

ExportResult InMemorySpanExporter::Export(std::span<const SpanData* const> spans) noexcept {
  if (shutdown_.load(std::memory_order_acquire) || !store_) return ExportResult::kFailure;
  try {
    for (const SpanData* span : spans) {
      if (span != nullptr) store_->Add(RecordedSpan::From(*span));
    }
    return ExportResult::kSuccess;
  } catch (...) {
    return ExportResult::kFailure;  // out of memory while copying
  }
}

bool InMemorySpanExporter::Shutdown(std::chrono::microseconds timeout) noexcept {
  (void)timeout;
  shutdown_.store(true, std::memory_order_release);
  return true;
}

}  // namespace otlp::trace
