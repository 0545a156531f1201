// The packed span path: what the batch processor exports must equal what the span recorded.
// Each test sends the same spans through a SimpleSpanProcessor (which reads the record
// directly) and a BatchSpanProcessor (record → packed block in a chunk → unpacked on the
// export thread) and compares every field.
#include "otlp/trace/internal/packed_span.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "otlp/trace/batch_processor.h"
#include "otlp/trace/in_memory_exporter.h"
#include "otlp/trace/provider.h"

namespace otlp::trace {
namespace {

std::string Render(const OwnedAttributes& attrs) {
  std::string out = "{";
  for (const auto& kv : attrs) {
    const std::string& k = kv.first;
    WithView(kv.second, [&](const AttributeValue& view) {
      out += k + "=" + AttributeValueToString(view) + "(" +
             std::to_string(static_cast<int>(view.type())) + ");";
    });
  }
  return out + "}";
}

std::string Render(const SpanContext& c) {
  return c.trace_id().ToHex() + "/" + c.span_id().ToHex() + "/" +
         std::to_string(c.trace_flags().value()) + "/" + (c.IsRemote() ? "remote" : "local") +
         "/" + std::string(c.trace_state().header());
}

// Every field of a recorded span, as text (so a mismatch shows what differs).
std::string Render(const RecordedSpan& s) {
  std::ostringstream o;
  o << "context=" << Render(s.context) << "\nparent=" << s.parent_span_id.ToHex()
    << (s.parent_is_remote ? " remote" : "") << "\nname=" << s.name
    << "\nkind=" << static_cast<int>(s.kind) << "\ntimes=" << s.start_unix_nano << ".."
    << s.end_unix_nano << "\nattributes=" << Render(s.attributes)
    << " dropped=" << s.dropped_attributes_count << "\n";
  for (const auto& e : s.events) {
    o << "event " << e.name << "@" << e.time_unix_nano << " " << Render(e.attributes)
      << " dropped=" << e.dropped_attributes_count << "\n";
  }
  o << "dropped_events=" << s.dropped_events_count << "\n";
  for (const auto& l : s.links) {
    o << "link " << Render(l.context) << " " << Render(l.attributes)
      << " dropped=" << l.dropped_attributes_count << "\n";
  }
  o << "dropped_links=" << s.dropped_links_count << "\nstatus=" << static_cast<int>(s.status_code)
    << " " << s.status_message << "\nscope=" << s.scope.name << "/" << s.scope.version
    << "\nresource=" << Render(s.resource_attributes);
  return o.str();
}

// One provider whose spans go both to a simple and to a batch processor.
struct Twin {
  std::shared_ptr<InMemorySpanStore> direct = std::make_shared<InMemorySpanStore>();
  std::shared_ptr<InMemorySpanStore> queued = std::make_shared<InMemorySpanStore>();
  BatchSpanProcessor* bsp = nullptr;
  std::shared_ptr<TracerProvider> provider;
  Tracer tracer;

  explicit Twin(SpanLimits limits = {}, BatchSpanProcessorOptions bsp_options = {}) {
    std::vector<std::unique_ptr<SpanProcessor>> ps;
    ps.push_back(
        std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemorySpanExporter>(direct)));
    auto b = BatchSpanProcessor::Create(std::make_unique<InMemorySpanExporter>(queued),
                                        bsp_options);
    bsp = b.get();
    ps.push_back(std::move(b));
    OwnedAttributes res;
    res.Set("service.name", "twin");
    provider = TracerProvider::Create(
        {.processor = std::make_unique<MultiSpanProcessor>(std::move(ps)),
         .sampler = Sampler::AlwaysOn(),
         .resource = Resource(std::move(res)),
         .limits = limits});
    tracer = provider->GetTracer("packed-test", "9.9");
  }

  // Flushes and checks both sides saw the same spans; returns them.
  std::vector<RecordedSpan> Compare(size_t expected) {
    EXPECT_TRUE(provider->ForceFlush(std::chrono::seconds(30)));
    auto a = direct->Spans();
    auto b = queued->Spans();
    EXPECT_EQ(a.size(), expected);
    EXPECT_EQ(b.size(), expected);
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
      EXPECT_EQ(Render(b[i]), Render(a[i])) << "span " << i;
    }
    return b;
  }
};

TEST(PackedSpanTest, EveryFieldSurvivesTheQueue) {
  Twin twin(SpanLimits{.attribute_count = 12, .event_count = 3, .link_count = 3,
                       .event_attribute_count = 2, .link_attribute_count = 1});
  SpanContext remote(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736").value(),
                     SpanId::FromHex("00f067aa0ba902b7").value(), TraceFlags(1), true,
                     TraceState::FromHeader("vendor=value,other=x"));
  SpanContext linked(TraceId::FromHex("0af7651916cd43dd8448eb211c80319c").value(),
                     SpanId::FromHex("b7ad6b7169203331").value(), TraceFlags(0), false,
                     TraceState::FromHeader("k=v"));
  SpanContext plain_link(TraceId::FromHex("1af7651916cd43dd8448eb211c80319c").value(),
                         SpanId::FromHex("c7ad6b7169203331").value(), TraceFlags(1), true);
  const bool bools[] = {true, false, true};
  const int64_t ints[] = {1, -2, INT64_MAX};
  const double doubles[] = {1.5, -0.25};
  const std::string_view strs[] = {"a", "", "a longer element than sixteen bytes"};
  const std::string_view no_strs[1] = {};
  const std::string long_value(5000, 'v');
  const SpanContext start_links[] = {linked};
  auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

  Span s = twin.tracer.StartSpan("first name", {{"at.start", "yes"}},
                                 {.kind = SpanKind::kConsumer,
                                  .parent = remote,
                                  .start_time = t0,
                                  .links = start_links});
  s.SetAttribute("str", "value")
      .SetAttribute("empty", "")
      .SetAttribute("bool", true)
      .SetAttribute("int", -42)
      .SetAttribute("double", 3.25)
      .SetAttribute("bools", std::span<const bool>(bools))
      .SetAttribute("ints", std::span<const int64_t>(ints))
      .SetAttribute("doubles", std::span<const double>(doubles))
      .SetAttribute("strs", std::span<const std::string_view>(strs))
      .SetAttribute("no.strs", std::span<const std::string_view>(no_strs, 0))
      .SetAttribute("int", 7)                  // replaced in place (same size)
      .SetAttribute("str", long_value)         // replaced by a longer value (moves)
      .SetAttribute("héllo.ключ", "ünïcode")   // multi-byte key and value
      .SetAttribute("over.limit", 1);          // 13th key: dropped
  s.AddEvent("ev1", {{"a", 1}, {"b", "two"}, {"c", 3.0}}, t0 + std::chrono::seconds(1))
      .AddEvent("ev2", {{"a", 1}, {"a", "replaced"}})
      .RecordException("std::logic_error", "bad thing", "frame 1\nframe 2")
      .AddEvent("ev4 dropped");
  s.AddLink(plain_link, {{"p", 1}, {"q", 2}}).AddLink(linked).AddLink(plain_link);
  s.UpdateName("final name");
  s.SetStatus(SpanStatusCode::kError, "it failed");
  s.End(t0 + std::chrono::seconds(2));

  auto spans = twin.Compare(1);
  ASSERT_EQ(spans.size(), 1u);
  const RecordedSpan& r = spans[0];
  // Spot checks that the comparison compared something real.
  EXPECT_EQ(r.name, "final name");
  EXPECT_EQ(r.context.trace_state().header(), "vendor=value,other=x");
  EXPECT_EQ(std::get<std::string>(*r.Attribute("str")), long_value);
  EXPECT_EQ(std::get<int64_t>(*r.Attribute("int")), 7);
  EXPECT_EQ(std::get<std::vector<std::string>>(*r.Attribute("strs")),
            (std::vector<std::string>{"a", "", "a longer element than sixteen bytes"}));
  EXPECT_EQ(r.attributes.size(), 12u);
  EXPECT_EQ(r.dropped_attributes_count, 1u);
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[0].dropped_attributes_count, 1u);
  EXPECT_EQ(std::get<std::string>(*r.events[1].attributes.Find("a")), "replaced");
  EXPECT_EQ(r.dropped_events_count, 1u);
  ASSERT_EQ(r.links.size(), 3u);
  EXPECT_EQ(r.links[0].context.trace_state().header(), "k=v");
  EXPECT_EQ(r.links[1].dropped_attributes_count, 1u);
  EXPECT_EQ(r.dropped_links_count, 1u);
  EXPECT_EQ(r.status_message, "it failed");
}

TEST(PackedSpanTest, ValueLengthLimitAppliesOnBothPaths) {
  Twin twin(SpanLimits{.attribute_value_length = 4});
  const std::string_view strs[] = {"abcdefgh", "xy"};
  twin.tracer.StartSpan("op")
      .SetAttribute("s", "h\xC3\xA9llo world")
      .SetAttribute("a", std::span<const std::string_view>(strs))
      .AddEvent("e", {{"long", "0123456789"}})
      .End();
  auto spans = twin.Compare(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(std::get<std::string>(*spans[0].Attribute("s")), "h\xC3\xA9ll");
  EXPECT_EQ(std::get<std::string>(*spans[0].events[0].attributes.Find("long")), "0123");
}

TEST(PackedSpanTest, SpanLargerThanAChunkIsExportedWhole) {
  Twin twin;
  const std::string huge(200 * 1024, 'h');  // far beyond one 64 KiB chunk
  for (int i = 0; i < 3; ++i) twin.tracer.StartSpan("before").SetAttribute("i", i).End();
  twin.tracer.StartSpan("huge").SetAttribute("payload", huge).End();
  for (int i = 0; i < 3; ++i) twin.tracer.StartSpan("after").SetAttribute("i", i).End();
  auto spans = twin.Compare(7);
  ASSERT_EQ(spans.size(), 7u);
  EXPECT_EQ(std::get<std::string>(*spans[3].Attribute("payload")), huge);
}

TEST(PackedSpanTest, ChunksAreRecycledAcrossManyBatches) {
  // Spans of ~300 bytes: 20000 of them fill about a hundred chunks, flushed in small steps
  // so exported chunks go back to the thread and are reused.
  Twin twin({}, {.max_queue_size = 4096, .max_export_batch_size = 256,
                 .schedule_delay = std::chrono::milliseconds(60000)});
  const std::string value(200, 'x');
  for (int i = 0; i < 20000; ++i) {
    twin.tracer.StartSpan("s" + std::to_string(i)).SetAttribute("v", value).End();
    if (i % 1000 == 999) {
      ASSERT_TRUE(twin.provider->ForceFlush(std::chrono::seconds(30)));
    }
  }
  auto spans = twin.Compare(20000);
  ASSERT_EQ(spans.size(), 20000u);
  for (int i = 0; i < 20000; i += 997) EXPECT_EQ(spans[i].name, "s" + std::to_string(i));
  EXPECT_EQ(twin.bsp->stats().spans_dropped, 0u);
}

TEST(PackedSpanTest, SpansFromManyThreadsKeepTheirContent) {
  Twin twin({}, {.max_queue_size = 20000, .schedule_delay = std::chrono::milliseconds(60000)});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        twin.tracer.StartSpan("t" + std::to_string(t))
            .SetAttribute("i", i)
            .SetAttribute("thread", std::to_string(t))
            .End();
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(twin.provider->ForceFlush(std::chrono::seconds(30)));
  auto spans = twin.queued->Spans();
  ASSERT_EQ(spans.size(), 8000u);
  for (const auto& s : spans) {
    EXPECT_EQ(s.name, "t" + std::get<std::string>(*s.Attribute("thread")));
  }
}

// The inline attribute path (keys of 1-32 bytes, strings of up to 32) and the general one
// must produce the same spans; lengths straddle every copy width and both limits, keys are
// literals and run-time strings, and the span bodies straddle the 64 bytes Enqueue copies
// inline.
TEST(PackedSpanTest, InlineAndGeneralAttributePathsAgree) {
  Twin twin;
  const size_t lengths[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 200};
  std::vector<std::string> expected_keys;
  for (size_t kl : lengths) {
    if (kl == 0) continue;
    for (size_t vl : lengths) {
      const std::string key = std::string(kl - 1, 'k') + static_cast<char>('a' + vl % 26);
      const std::string value(vl, static_cast<char>('0' + vl % 10));
      Span s = twin.tracer.StartSpan(std::string(vl % 40, 'n'));
      s.SetAttribute(key, value).SetAttribute("num", static_cast<int64_t>(vl));
      s.SetAttribute("flag", vl % 2 == 0).SetAttribute("ratio", 0.5 * static_cast<double>(vl));
      s.End();
      expected_keys.push_back(key);
    }
  }
  auto spans = twin.Compare(expected_keys.size());
  ASSERT_EQ(spans.size(), expected_keys.size());
  size_t i = 0;
  for (size_t kl : lengths) {
    if (kl == 0) continue;
    for (size_t vl : lengths) {
      const RecordedSpan& r = spans[i];
      ASSERT_NE(r.Attribute(expected_keys[i]), nullptr) << expected_keys[i];
      EXPECT_EQ(std::get<std::string>(*r.Attribute(expected_keys[i])),
                std::string(vl, static_cast<char>('0' + vl % 10)));
      EXPECT_EQ(std::get<int64_t>(*r.Attribute("num")), static_cast<int64_t>(vl));
      EXPECT_EQ(std::get<bool>(*r.Attribute("flag")), vl % 2 == 0);
      EXPECT_EQ(r.attributes.size(), 4u);
      ++i;
    }
  }
}

// Keys that share the filter bit (same length, first and last byte) are told apart by the
// duplicate scan; replacing one leaves the other.
TEST(PackedSpanTest, KeysSharingAFilterBitStayDistinct) {
  Twin twin;
  Span s = twin.tracer.StartSpan("op");
  s.SetAttribute("axb", 1).SetAttribute("ayb", 2).SetAttribute("azb", "three");
  s.SetAttribute("ayb", "two").SetAttribute("axb", 10);
  s.End();
  auto spans = twin.Compare(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].attributes.size(), 3u);
  EXPECT_EQ(std::get<int64_t>(*spans[0].Attribute("axb")), 10);
  EXPECT_EQ(std::get<std::string>(*spans[0].Attribute("ayb")), "two");
  EXPECT_EQ(std::get<std::string>(*spans[0].Attribute("azb")), "three");
}

// The name shares the record's buffer with the attributes: renaming to a longer or shorter
// name moves them, and nothing is lost either way.
TEST(PackedSpanTest, UpdateNameMovesTheAttributes) {
  Twin twin;
  const char* names[] = {"a", "eight ch", "nine char", "a name well past sixteen bytes", "x", ""};
  for (const char* first : names) {
    for (const char* second : names) {
      Span s = twin.tracer.StartSpan(first);
      s.SetAttribute("before", "rename").SetAttribute("i", 1);
      s.UpdateName(second);
      s.SetAttribute("after", "rename").SetAttribute("i", 2);
      s.SetStatus(SpanStatusCode::kError, "status after the attributes");
      s.End();
    }
  }
  auto spans = twin.Compare(std::size(names) * std::size(names));
  size_t i = 0;
  for (const char* first : names) {
    for (const char* second : names) {
      (void)first;
      ASSERT_LT(i, spans.size());
      EXPECT_EQ(spans[i].name, second);
      EXPECT_EQ(std::get<std::string>(*spans[i].Attribute("before")), "rename");
      EXPECT_EQ(std::get<std::string>(*spans[i].Attribute("after")), "rename");
      EXPECT_EQ(std::get<int64_t>(*spans[i].Attribute("i")), 2);
      EXPECT_EQ(spans[i].status_message, "status after the attributes");
      ++i;
    }
  }
}

// With a BatchSpanProcessor as the provider's only processor, Span::End enqueues directly;
// small spans take the inline copy, larger ones and spans with extras the general one.
TEST(PackedSpanTest, DirectEnqueueOfSmallAndLargeSpans) {
  auto store = std::make_shared<InMemorySpanStore>();
  auto provider = TracerProvider::Create(
      {.processor = BatchSpanProcessor::Create(std::make_unique<InMemorySpanExporter>(store)),
       .sampler = Sampler::AlwaysOn(),
       .resource = Resource()});
  Tracer tracer = provider->GetTracer("t");
  for (int i = 0; i < 200; ++i) {
    Span s = tracer.StartSpan("op" + std::to_string(i));
    if (i % 3 == 1) s.SetAttribute("payload", std::string(static_cast<size_t>(i), 'p'));
    if (i % 5 == 2) s.SetStatus(SpanStatusCode::kError, "e" + std::to_string(i));
    s.End();
  }
  ASSERT_TRUE(provider->ForceFlush(std::chrono::seconds(30)));
  auto spans = store->Spans();
  ASSERT_EQ(spans.size(), 200u);
  for (int i = 0; i < 200; ++i) {
    const RecordedSpan& r = spans[static_cast<size_t>(i)];
    EXPECT_EQ(r.name, "op" + std::to_string(i));
    if (i % 3 == 1) {
      EXPECT_EQ(std::get<std::string>(*r.Attribute("payload")),
                std::string(static_cast<size_t>(i), 'p'));
    } else {
      EXPECT_TRUE(r.attributes.empty());
    }
    EXPECT_EQ(r.status_message, i % 5 == 2 ? "e" + std::to_string(i) : "");
  }
}

// A provider whose processor is the batch processor itself takes the lean start and end
// (a name of at most 64 bytes, no start attributes, links, time or inherited tracestate, a
// pooled record) and falls back to the general ones for everything else: both must record the
// same span.
TEST(PackedSpanTest, LeanAndGeneralStartAndEndAgree) {
  auto store = std::make_shared<InMemorySpanStore>();
  auto provider = TracerProvider::Create(
      {.processor = BatchSpanProcessor::Create(std::make_unique<InMemorySpanExporter>(store),
                                               {.max_queue_size = 16384}),
       .sampler = Sampler::AlwaysOn(),
       .resource = Resource()});
  Tracer tracer = provider->GetTracer("t");
  TraceId remote_trace = TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736").value();
  SpanId remote_span = SpanId::FromHex("00f067aa0ba902b7").value();
  SpanContext plain_parent(remote_trace, remote_span, TraceFlags(TraceFlags::kSampled), true);
  SpanContext stated_parent(remote_trace, remote_span, TraceFlags(TraceFlags::kSampled), true,
                            TraceState::FromHeader("vendor=abc"));

  struct Want {
    std::string name;
    SpanKind kind;
    const SpanContext* parent;
  };
  std::vector<Want> wants;
  for (size_t len : {0, 1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 200}) {
    const SpanContext* parents[] = {nullptr, &plain_parent, &stated_parent};
    for (const SpanContext* parent : parents) {
      std::string name(len, static_cast<char>('a' + len % 26));
      SpanKind kind = len % 2 == 0 ? SpanKind::kServer : SpanKind::kClient;
      if (parent != nullptr) {
        tracer.StartSpan(name, {.kind = kind, .parent = *parent}).End();
      } else {
        tracer.StartSpan(name, {.kind = kind}).End();
      }
      wants.push_back({name, kind, parent});
    }
  }
  // The implicit parent, with an explicit end time on the child.
  Span outer = tracer.StartSpan("outer");
  {
    Scope scope(outer);
    tracer.StartSpan("inner").End(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }
  outer.End();
  // More spans open at once than the record pool keeps: the last ones end the general way.
  std::vector<Span> open;
  for (int i = 0; i < 5000; ++i) open.push_back(tracer.StartSpan("burst" + std::to_string(i)));
  for (Span& s : open) s.End();

  ASSERT_TRUE(provider->ForceFlush(std::chrono::seconds(30)));
  auto spans = store->Spans();
  ASSERT_EQ(spans.size(), wants.size() + 2 + 5000);
  for (size_t i = 0; i < wants.size(); ++i) {
    const RecordedSpan& r = spans[i];
    const Want& w = wants[i];
    SCOPED_TRACE("span " + std::to_string(i) + " name length " + std::to_string(w.name.size()));
    EXPECT_EQ(r.name, w.name);
    EXPECT_EQ(r.kind, w.kind);
    EXPECT_TRUE(r.context.IsValid());
    EXPECT_TRUE(r.context.IsSampled());
    EXPECT_LE(r.start_unix_nano, r.end_unix_nano);
    EXPECT_GT(r.start_unix_nano, 0);
    if (w.parent == nullptr) {
      EXPECT_FALSE(r.parent_span_id.IsValid());
      EXPECT_FALSE(r.parent_is_remote);
      EXPECT_TRUE(r.context.trace_state().empty());
    } else {
      EXPECT_EQ(r.context.trace_id(), remote_trace);
      EXPECT_EQ(r.parent_span_id, remote_span);
      EXPECT_TRUE(r.parent_is_remote);
      EXPECT_EQ(r.context.trace_state().header(), w.parent->trace_state().header());
    }
  }
  const RecordedSpan& inner = spans[wants.size()];
  const RecordedSpan& outer_r = spans[wants.size() + 1];
  EXPECT_EQ(inner.name, "inner");
  EXPECT_EQ(inner.parent_span_id, outer_r.context.span_id());
  EXPECT_EQ(inner.context.trace_id(), outer_r.context.trace_id());
  EXPECT_FALSE(inner.parent_is_remote);
  EXPECT_GT(inner.end_unix_nano, outer_r.end_unix_nano);
  for (int i = 0; i < 5000; ++i) {
    EXPECT_EQ(spans[wants.size() + 2 + static_cast<size_t>(i)].name, "burst" + std::to_string(i));
  }
  EXPECT_EQ(provider->GetTracer("t").StartSpan("after").IsRecording(), true);
}

// Spans still queued when Shutdown gives up are dropped; the tracestates their blocks hold are
// released (LeakSanitizer checks that under the sanitizer run).
TEST(PackedSpanTest, SpansDroppedAtShutdownReleaseWhatTheyHold) {
  // Blocks in Export until shut down.
  struct Blocking final : SpanExporter {
    std::atomic<bool>* entered;
    std::atomic<bool>* release;
    Blocking(std::atomic<bool>* e, std::atomic<bool>* r) : entered(e), release(r) {}
    ExportResult Export(std::span<const SpanData* const>) noexcept override {
      entered->store(true);
      while (!release->load()) std::this_thread::yield();
      return ExportResult::kSuccess;
    }
    bool Shutdown(std::chrono::microseconds) noexcept override {
      release->store(true);
      return true;
    }
  };
  std::atomic<bool> entered{false}, release{false};
  auto p = BatchSpanProcessor::Create(std::make_unique<Blocking>(&entered, &release),
                                      {.max_queue_size = 1000, .max_export_batch_size = 10,
                                       .schedule_delay = std::chrono::milliseconds(60000)});
  BatchSpanProcessor* bsp = p.get();
  auto provider = TracerProvider::Create(
      {.processor = std::move(p), .sampler = Sampler::AlwaysOn(), .resource = Resource()});
  SpanContext parent(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736").value(),
                     SpanId::FromHex("00f067aa0ba902b7").value(), TraceFlags(1), true,
                     TraceState::FromHeader("held=by-the-block"));
  Tracer tracer = provider->GetTracer("t");
  // A full batch wakes the export thread, which then blocks exporting it.
  for (int i = 0; i < 10; ++i) tracer.StartSpan("first", {.parent = parent}).End();
  while (!entered.load()) std::this_thread::yield();
  for (int i = 0; i < 490; ++i) {
    tracer.StartSpan("queued", {.parent = parent}).AddLink(parent).End();
  }
  provider->Shutdown(std::chrono::milliseconds(0));  // gives up at once: the 490 are dropped
  auto st = bsp->stats();
  EXPECT_EQ(st.spans_exported, 10u);
  EXPECT_EQ(st.spans_dropped, 490u);
}

// OnStart sees the span itself (read/write, as the specification says) when asked for.
TEST(PackedSpanTest, OnStartMayAddAttributes) {
  struct Enricher final : SpanProcessor {
    bool WantsOnStart() const noexcept override { return true; }
    void OnStart(Span& span) noexcept override { span.SetAttribute("enriched", true); }
    void OnEnd(EndedSpan&) noexcept override {}
    bool ForceFlush(std::chrono::microseconds) noexcept override { return true; }
    bool Shutdown(std::chrono::microseconds) noexcept override { return true; }
  };
  auto store = std::make_shared<InMemorySpanStore>();
  std::vector<std::unique_ptr<SpanProcessor>> ps;
  ps.push_back(std::make_unique<Enricher>());
  ps.push_back(BatchSpanProcessor::Create(std::make_unique<InMemorySpanExporter>(store)));
  auto provider = TracerProvider::Create(
      {.processor = std::make_unique<MultiSpanProcessor>(std::move(ps)),
       .sampler = Sampler::AlwaysOn(),
       .resource = Resource()});
  provider->GetTracer("t").StartSpan("op").End();
  ASSERT_TRUE(provider->ForceFlush(std::chrono::seconds(30)));
  ASSERT_EQ(store->size(), 1u);
  EXPECT_EQ(std::get<bool>(*store->Spans()[0].Attribute("enriched")), true);
}

}  // namespace
}  // namespace otlp::trace
