#include "otlp/view/store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <ostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <tuple>
#include <thread>
#include <utility>
#include <variant>

#include "otlp/net/internal/base64.h"

namespace otlp::view {

namespace decoded = exporter::decoded;
using nlohmann::json;

const char* SpanKindName(int kind) noexcept {
  switch (kind) {
    case 1: return "internal";
    case 2: return "server";
    case 3: return "client";
    case 4: return "producer";
    case 5: return "consumer";
    default: return "unspecified";
  }
}

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS spans(
  trace_id BLOB NOT NULL, span_id BLOB NOT NULL, parent_span_id BLOB NOT NULL,
  service TEXT NOT NULL, name TEXT NOT NULL, kind INTEGER NOT NULL,
  start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, status INTEGER NOT NULL,
  json TEXT NOT NULL, scope_id INTEGER NOT NULL, otlp TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS spans_id ON spans(trace_id, span_id);
CREATE TABLE IF NOT EXISTS scopes(
  id INTEGER PRIMARY KEY, resource TEXT NOT NULL, scope TEXT NOT NULL,
  api_resource TEXT NOT NULL, api_scope TEXT NOT NULL, UNIQUE(resource, scope));
CREATE INDEX IF NOT EXISTS spans_name ON spans(name, trace_id);
CREATE TABLE IF NOT EXISTS traces(
  trace_id BLOB PRIMARY KEY, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,
  span_count INTEGER NOT NULL, error_count INTEGER NOT NULL,
  root_service TEXT NOT NULL, root_name TEXT NOT NULL, root_start_ns INTEGER NOT NULL,
  has_root INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS traces_start ON traces(start_ns);
CREATE TABLE IF NOT EXISTS trace_services(
  trace_id BLOB NOT NULL, service TEXT NOT NULL, spans INTEGER NOT NULL, errors INTEGER NOT NULL,
  PRIMARY KEY(trace_id, service)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trace_services_service ON trace_services(service, trace_id);
CREATE TABLE IF NOT EXISTS attrs(
  hash INTEGER NOT NULL, trace_id BLOB NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(hash, trace_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS attrs_trace ON attrs(trace_id);
CREATE TABLE IF NOT EXISTS logs(
  trace_id BLOB NOT NULL, span_id BLOB NOT NULL, time_ns INTEGER NOT NULL,
  service TEXT NOT NULL, json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS logs_trace ON logs(trace_id, time_ns);
CREATE TABLE IF NOT EXISTS metrics(
  series TEXT PRIMARY KEY, name TEXT NOT NULL, service TEXT NOT NULL, time_ns INTEGER NOT NULL,
  json TEXT NOT NULL) WITHOUT ROWID;
)sql";

// Ids are stored as their bytes (16 and 8; an empty blob for none), half the size of hex in
// every index.
constexpr int64_t kLayoutVersion = 5;


const char* StatusName(int code) {
  switch (code) {
    case 1: return "ok";
    case 2: return "error";
    default: return "unset";
  }
}

// Bytes values as base64, the form both JSON encodings use.
std::string Base64(const std::vector<uint8_t>& bytes) {
  return net::internal::Base64Encode(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

void AppendApiValue(std::string& out, const decoded::AnyValue& v);

// An attribute value as the text that search compares with ("503", "true", "GET").
std::string ValueText(const decoded::AnyValue& v) {
  if (const auto* s = std::get_if<std::string>(&v.value)) return *s;
  if (const auto* b = std::get_if<bool>(&v.value)) return *b ? "true" : "false";
  if (const auto* i = std::get_if<int64_t>(&v.value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v.value)) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, *d);
    return std::string(buf, r.ptr);
  }
  if (std::holds_alternative<std::monostate>(v.value)) return "";
  std::string out;
  AppendApiValue(out, v);  // arrays and key-value lists as their JSON
  return out;
}

std::string ServiceOf(const decoded::Resource& resource) {
  for (const decoded::KeyValue& kv : resource.attributes) {
    if (kv.key == "service.name") {
      if (const auto* s = std::get_if<std::string>(&kv.value.value)) return *s;
    }
  }
  return "unknown_service";
}

std::string NanosText(uint64_t ns) { return std::to_string(ns); }

uint64_t Duration(uint64_t start, uint64_t end) { return end > start ? end - start : 0; }

// ---- JSON written by hand on the ingest path (the API's and OTLP's forms of a span); nlohmann
// ---- is kept for the rarer logs, metrics and query answers.

void AppendQuoted(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[(c >> 4) & 0xF];
          out += kHex[c & 0xF];
        } else {
          out += c;  // the decoder checked that strings are UTF-8
        }
    }
  }
  out += '"';
}

void AppendUint(std::string& out, uint64_t v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

// A finite double as JSON (with ".0" when it reads as an integer); NaN and infinities as the
// strings OTLP/JSON uses.
void AppendDouble(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += std::isnan(d) ? "\"NaN\"" : (d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    return;
  }
  char buf[32];
  char* end = std::to_chars(buf, buf + sizeof buf, d).ptr;
  out.append(buf, end);
  if (std::find_if(buf, end, [](char c) { return c == '.' || c == 'e'; }) == end) out += ".0";
}

// "key":"digits" — times are strings of nanoseconds in both forms.
void AppendNanosField(std::string& out, std::string_view key, uint64_t ns) {
  AppendQuoted(out, key);
  out += ":\"";
  AppendUint(out, ns);
  out += '"';
}

void AppendHexId(std::string& out, const uint8_t* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xF];
  }
  out += '"';
}

// [{"key": ..., "value": ...}, ...], the attribute list of both forms; `append_value` writes
// a value in that form.
void AppendKeyValues(std::string& out, const std::vector<decoded::KeyValue>& attributes,
                     void (*append_value)(std::string&, const decoded::AnyValue&)) {
  out += '[';
  for (size_t i = 0; i < attributes.size(); ++i) {
    if (i != 0) out += ',';
    out += "{\"key\":";
    AppendQuoted(out, attributes[i].key);
    out += ",\"value\":";
    append_value(out, attributes[i].value);
    out += '}';
  }
  out += ']';
}

// The API's attribute value (docs/VIEW-API.md): plain JSON.
void AppendApiValue(std::string& out, const decoded::AnyValue& v);

void AppendApiAttributes(std::string& out, const std::vector<decoded::KeyValue>& attributes) {
  AppendKeyValues(out, attributes, &AppendApiValue);
}

void AppendApiValue(std::string& out, const decoded::AnyValue& v) {
  constexpr int64_t kExact = int64_t{1} << 53;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          out += "null";
        } else if constexpr (std::is_same_v<T, std::string>) {
          AppendQuoted(out, x);
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, int64_t>) {
          if (x > kExact || x < -kExact) {
            out += '"';
            AppendInt(out, x);
            out += '"';
          } else {
            AppendInt(out, x);
          }
        } else if constexpr (std::is_same_v<T, double>) {
          AppendDouble(out, x);
        } else if constexpr (std::is_same_v<T, decoded::AnyValue::Array>) {
          out += '[';
          for (size_t i = 0; i < x.size(); ++i) {
            if (i != 0) out += ',';
            AppendApiValue(out, x[i]);
          }
          out += ']';
        } else if constexpr (std::is_same_v<T, decoded::AnyValue::KeyValueList>) {
          out += '{';
          for (size_t i = 0; i < x.size(); ++i) {
            if (i != 0) out += ',';
            AppendQuoted(out, x[i].key);
            out += ':';
            AppendApiValue(out, x[i].value);
          }
          out += '}';
        } else {
          AppendQuoted(out, Base64(x));
        }
      },
      v.value);
}

// OTLP/JSON's AnyValue ({"stringValue": ...}).
void AppendOtlpValue(std::string& out, const decoded::AnyValue& v);

void AppendOtlpAttributes(std::string& out, const std::vector<decoded::KeyValue>& attributes) {
  AppendKeyValues(out, attributes, &AppendOtlpValue);
}

void AppendOtlpValue(std::string& out, const decoded::AnyValue& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          out += "{}";
        } else if constexpr (std::is_same_v<T, std::string>) {
          out += "{\"stringValue\":";
          AppendQuoted(out, x);
          out += '}';
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? "{\"boolValue\":true}" : "{\"boolValue\":false}";
        } else if constexpr (std::is_same_v<T, int64_t>) {
          out += "{\"intValue\":\"";
          AppendInt(out, x);
          out += "\"}";
        } else if constexpr (std::is_same_v<T, double>) {
          out += "{\"doubleValue\":";
          AppendDouble(out, x);
          out += '}';
        } else if constexpr (std::is_same_v<T, decoded::AnyValue::Array>) {
          out += "{\"arrayValue\":{\"values\":[";
          for (size_t i = 0; i < x.size(); ++i) {
            if (i != 0) out += ',';
            AppendOtlpValue(out, x[i]);
          }
          out += "]}}";
        } else if constexpr (std::is_same_v<T, decoded::AnyValue::KeyValueList>) {
          out += "{\"kvlistValue\":{\"values\":";
          AppendOtlpAttributes(out, x);
          out += "}}";
        } else {
          out += "{\"bytesValue\":";
          AppendQuoted(out, Base64(x));
          out += '}';
        }
      },
      v.value);
}

// The same values as nlohmann objects, for the rarer documents built with it (resources and
// scopes, log records, metric points).
json ValueJson(const decoded::AnyValue& v) {
  std::string text;
  AppendApiValue(text, v);
  return json::parse(text);
}

json AttributesJson(const std::vector<decoded::KeyValue>& attributes) {
  std::string text;
  AppendApiAttributes(text, attributes);
  return json::parse(text);
}

json OtlpAttributes(const std::vector<decoded::KeyValue>& attributes) {
  std::string text;
  AppendOtlpAttributes(text, attributes);
  return json::parse(text);
}

// The API's span without "resource" and "scope" (spliced in when read: they are stored once
// per resource and scope).
void AppendApiSpan(std::string& out, const decoded::Span& span, const std::string& service) {
  out += "{\"span_id\":";
  AppendHexId(out, span.span_id.bytes().data(), trace::SpanId::kSize);
  out += ",\"parent_span_id\":";
  if (span.has_parent()) {
    AppendHexId(out, span.parent_span_id.bytes().data(), trace::SpanId::kSize);
  } else {
    out += "\"\"";
  }
  out += ",\"name\":";
  AppendQuoted(out, span.name);
  out += ",\"kind\":\"";
  out += SpanKindName(span.kind);
  out += "\",\"service\":";
  AppendQuoted(out, service);
  out += ',';
  AppendNanosField(out, "start_unix_nano", span.start_time_unix_nano);
  out += ',';
  AppendNanosField(out, "end_unix_nano", span.end_time_unix_nano);
  out += ",\"duration_ns\":";
  AppendUint(out, Duration(span.start_time_unix_nano, span.end_time_unix_nano));
  out += ",\"status\":{\"code\":\"";
  out += StatusName(span.status.code);
  out += "\",\"message\":";
  AppendQuoted(out, span.status.message);
  out += "},\"trace_state\":";
  AppendQuoted(out, span.trace_state);
  out += ",\"flags\":";
  AppendUint(out, span.flags);
  out += ",\"attributes\":";
  AppendApiAttributes(out, span.attributes);
  out += ",\"dropped_attributes_count\":";
  AppendUint(out, span.dropped_attributes_count);
  out += ",\"events\":[";
  for (size_t i = 0; i < span.events.size(); ++i) {
    const decoded::Event& e = span.events[i];
    if (i != 0) out += ',';
    out += "{\"name\":";
    AppendQuoted(out, e.name);
    out += ',';
    AppendNanosField(out, "time_unix_nano", e.time_unix_nano);
    out += ",\"attributes\":";
    AppendApiAttributes(out, e.attributes);
    out += ",\"dropped_attributes_count\":";
    AppendUint(out, e.dropped_attributes_count);
    out += '}';
  }
  out += "],\"dropped_events_count\":";
  AppendUint(out, span.dropped_events_count);
  out += ",\"links\":[";
  for (size_t i = 0; i < span.links.size(); ++i) {
    const decoded::Link& l = span.links[i];
    if (i != 0) out += ',';
    out += "{\"trace_id\":";
    AppendHexId(out, l.trace_id.bytes().data(), trace::TraceId::kSize);
    out += ",\"span_id\":";
    AppendHexId(out, l.span_id.bytes().data(), trace::SpanId::kSize);
    out += ",\"trace_state\":";
    AppendQuoted(out, l.trace_state);
    out += ",\"flags\":";
    AppendUint(out, l.flags);
    out += ",\"attributes\":";
    AppendApiAttributes(out, l.attributes);
    out += ",\"dropped_attributes_count\":";
    AppendUint(out, l.dropped_attributes_count);
    out += '}';
  }
  out += "],\"dropped_links_count\":";
  AppendUint(out, span.dropped_links_count);
  out += '}';
}

// The OTLP/JSON Span message (for --export).
void AppendOtlpSpan(std::string& out, const decoded::Span& span) {
  out += "{\"traceId\":";
  AppendHexId(out, span.trace_id.bytes().data(), trace::TraceId::kSize);
  out += ",\"spanId\":";
  AppendHexId(out, span.span_id.bytes().data(), trace::SpanId::kSize);
  if (!span.trace_state.empty()) {
    out += ",\"traceState\":";
    AppendQuoted(out, span.trace_state);
  }
  if (span.has_parent()) {
    out += ",\"parentSpanId\":";
    AppendHexId(out, span.parent_span_id.bytes().data(), trace::SpanId::kSize);
  }
  if (span.flags != 0) {
    out += ",\"flags\":";
    AppendUint(out, span.flags);
  }
  out += ",\"name\":";
  AppendQuoted(out, span.name);
  out += ",\"kind\":";
  AppendInt(out, span.kind);
  out += ',';
  AppendNanosField(out, "startTimeUnixNano", span.start_time_unix_nano);
  out += ',';
  AppendNanosField(out, "endTimeUnixNano", span.end_time_unix_nano);
  out += ",\"attributes\":";
  AppendOtlpAttributes(out, span.attributes);
  if (span.dropped_attributes_count != 0) {
    out += ",\"droppedAttributesCount\":";
    AppendUint(out, span.dropped_attributes_count);
  }
  if (!span.events.empty()) {
    out += ",\"events\":[";
    for (size_t i = 0; i < span.events.size(); ++i) {
      const decoded::Event& e = span.events[i];
      if (i != 0) out += ',';
      out += '{';
      AppendNanosField(out, "timeUnixNano", e.time_unix_nano);
      out += ",\"name\":";
      AppendQuoted(out, e.name);
      out += ",\"attributes\":";
      AppendOtlpAttributes(out, e.attributes);
      if (e.dropped_attributes_count != 0) {
        out += ",\"droppedAttributesCount\":";
        AppendUint(out, e.dropped_attributes_count);
      }
      out += '}';
    }
    out += ']';
  }
  if (span.dropped_events_count != 0) {
    out += ",\"droppedEventsCount\":";
    AppendUint(out, span.dropped_events_count);
  }
  if (!span.links.empty()) {
    out += ",\"links\":[";
    for (size_t i = 0; i < span.links.size(); ++i) {
      const decoded::Link& l = span.links[i];
      if (i != 0) out += ',';
      out += "{\"traceId\":";
      AppendHexId(out, l.trace_id.bytes().data(), trace::TraceId::kSize);
      out += ",\"spanId\":";
      AppendHexId(out, l.span_id.bytes().data(), trace::SpanId::kSize);
      if (!l.trace_state.empty()) {
        out += ",\"traceState\":";
        AppendQuoted(out, l.trace_state);
      }
      if (l.flags != 0) {
        out += ",\"flags\":";
        AppendUint(out, l.flags);
      }
      out += ",\"attributes\":";
      AppendOtlpAttributes(out, l.attributes);
      if (l.dropped_attributes_count != 0) {
        out += ",\"droppedAttributesCount\":";
        AppendUint(out, l.dropped_attributes_count);
      }
      out += '}';
    }
    out += ']';
  }
  if (span.dropped_links_count != 0) {
    out += ",\"droppedLinksCount\":";
    AppendUint(out, span.dropped_links_count);
  }
  out += ",\"status\":{\"code\":";
  AppendInt(out, span.status.code);
  out += ",\"message\":";
  AppendQuoted(out, span.status.message);
  out += "}}";
}

// The search key of an attribute: a 64-bit FNV-1a hash of key, NUL, value. The attribute index
// is ordered by it (integer comparisons instead of long common prefixes like "http.request.");
// key and value are kept beside it and compared too, so a collision can only drop a pair from
// the index (the first one in wins), never match a wrong one.
int64_t AttrHash(std::string_view key, std::string_view value) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&](std::string_view s) {
    for (const char c : s) {
      h ^= static_cast<uint8_t>(c);
      h *= 1099511628211ull;
    }
  };
  mix(key);
  mix(std::string_view("\0", 1));
  mix(value);
  return static_cast<int64_t>(h);
}

std::string IdBytes(const uint8_t* bytes, size_t n) {
  return std::string(reinterpret_cast<const char*>(bytes), n);
}

std::string HexOf(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    out += kHex[static_cast<uint8_t>(c) >> 4];
    out += kHex[static_cast<uint8_t>(c) & 0xF];
  }
  return out;
}

// A trace id given in hex (the API's form) as the stored bytes; empty when it is not 32 hex
// digits.
std::string TraceKey(const std::string& hex) {
  auto id = trace::TraceId::FromHex(hex);
  return id ? IdBytes(id->bytes().data(), trace::TraceId::kSize) : std::string();
}

// RAII for a prepared statement.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() { return stmt_; }
  Stmt& BindBlob(int i, std::string_view bytes) {
    sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    return *this;
  }
  std::string Blob(int col) {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }
  Stmt& Bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& BindU(int i, uint64_t v) { return Bind(i, static_cast<int64_t>(v)); }
  int Step() { return sqlite3_step(stmt_); }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string Text(int col) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Items (spans, log records, metric data points) of a queued request.
size_t ItemCount(const std::variant<decoded::TraceRequest, decoded::LogsRequest,
                                    decoded::MetricsRequest>& request) {
  if (const auto* t = std::get_if<decoded::TraceRequest>(&request)) return t->span_count();
  if (const auto* l = std::get_if<decoded::LogsRequest>(&request)) return l->log_record_count();
  size_t n = 0;
  for (const auto& rm : std::get<decoded::MetricsRequest>(request).resource_metrics) {
    for (const auto& sm : rm.scope_metrics) {
      for (const auto& m : sm.metrics) n += m.data_point_count();
    }
  }
  return n;
}

// One transaction holds at most this many items, so that readers sharing the connection (an
// in-memory database) get it between transactions.
constexpr size_t kMaxItemsPerTransaction = 4096;

}  // namespace

struct Store::Impl {
  StoreOptions options;
  sqlite3* db = nullptr;  // the writer's connection
  std::mutex db_mu;       // one user at a time
  // A file database is read through a second connection: with the write-ahead log, readers
  // see the last commit and never wait for the writer's transaction. An in-memory database
  // has only `db`.
  sqlite3* reader = nullptr;
  std::mutex reader_mu;

  struct ReadLock {
    std::unique_lock<std::mutex> lock;
    sqlite3* db;
  };
  ReadLock Reader() {
    if (reader != nullptr) return {std::unique_lock(reader_mu), reader};
    return {std::unique_lock(db_mu), db};
  }

  std::mutex queue_mu;
  std::condition_variable queue_cv;
  using Request =
      std::variant<decoded::TraceRequest, decoded::LogsRequest, decoded::MetricsRequest>;
  std::deque<Request> queue;
  uint64_t enqueued = 0;  // requests queued so far
  uint64_t written = 0;   // requests written (or failed) so far
  size_t queued_items = 0;
  std::condition_variable written_cv;
  bool stopping = false;
  std::thread writer;

  ~Impl() {
    {
      std::lock_guard lock(queue_mu);
      stopping = true;
    }
    queue_cv.notify_all();
    if (writer.joinable()) writer.join();
    if (reader != nullptr) sqlite3_close(reader);
    if (db != nullptr) sqlite3_close(db);
  }

  // Queues `request` unless the queue is full (the writer is behind).
  bool Enqueue(Request request) {
    const size_t items = ItemCount(request);
    {
      std::lock_guard lock(queue_mu);
      if (queued_items > 0 && queued_items + items > options.max_queued_items) return false;
      queued_items += items;
      queue.push_back(std::move(request));
      ++enqueued;
    }
    queue_cv.notify_one();
    return true;
  }

  Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errmsg(db);
      sqlite3_free(err);
      return InternalError(msg);
    }
    return Status::Ok();
  }

  void WriterLoop() {
    for (;;) {
      std::deque<Request> batch;
      size_t items = 0;
      {
        std::unique_lock lock(queue_mu);
        queue_cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty() && stopping) return;
        // The oldest requests, up to one transaction's worth (at least one request).
        while (!queue.empty() && (batch.empty() || items < kMaxItemsPerTransaction)) {
          items += ItemCount(queue.front());
          batch.push_back(std::move(queue.front()));
          queue.pop_front();
        }
      }
      std::vector<std::string> touched;
      Status st = WriteBatch(batch, touched);
      if (st.ok()) st = EnforceCap();
      if (!st.ok() && options.on_error) options.on_error(st);
      if (st.ok() && options.on_traces_written && !touched.empty()) {
        options.on_traces_written(touched);
      }
      {
        std::lock_guard lock(queue_mu);
        written += batch.size();
        queued_items -= items;
      }
      written_cv.notify_all();
    }
  }

  Status WriteBatch(std::deque<Request>& batch, std::vector<std::string>& touched) {
    std::lock_guard lock(db_mu);
    OTLP_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status st = WriteBatchInTransaction(batch, touched);
    if (!st.ok()) {
      (void)Exec("ROLLBACK");
      return st;
    }
    return Exec("COMMIT");
  }

  // Per trace, what the batch's new spans add to its row in `traces`.
  struct TraceUpdate {
    uint64_t start = UINT64_MAX;
    uint64_t end = 0;
    int64_t spans = 0;
    int64_t errors = 0;
    bool has_root = false;  // the root (or, without one, the earliest span) named below
    uint64_t root_start = UINT64_MAX;
    std::string root_service;
    std::string root_name;
  };

  Status WriteBatchInTransaction(std::deque<Request>& batch, std::vector<std::string>& touched) {
    Stmt insert_span(db,
                     "INSERT OR IGNORE INTO spans(trace_id, span_id, parent_span_id, service, "
                     "name, kind, start_ns, end_ns, status, json, scope_id, otlp) "
                     "VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
    Stmt insert_scope(db,
                      "INSERT OR IGNORE INTO scopes(resource, scope, api_resource, api_scope) "
                      "VALUES(?,?,?,?)");
    Stmt find_scope(db, "SELECT id FROM scopes WHERE resource = ? AND scope = ?");
    Stmt upsert_trace(
        db,
        "INSERT INTO traces(trace_id, start_ns, end_ns, span_count, error_count, root_service, "
        "root_name, root_start_ns, has_root) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9) "
        "ON CONFLICT(trace_id) DO UPDATE SET start_ns = min(start_ns, excluded.start_ns), "
        "end_ns = max(end_ns, excluded.end_ns), span_count = span_count + excluded.span_count, "
        "error_count = error_count + excluded.error_count, "
        "root_service = CASE WHEN excluded.has_root > has_root OR (excluded.has_root = has_root "
        "AND excluded.root_start_ns < root_start_ns) THEN excluded.root_service ELSE root_service "
        "END, "
        "root_name = CASE WHEN excluded.has_root > has_root OR (excluded.has_root = has_root AND "
        "excluded.root_start_ns < root_start_ns) THEN excluded.root_name ELSE root_name END, "
        "root_start_ns = CASE WHEN excluded.has_root > has_root OR (excluded.has_root = has_root "
        "AND excluded.root_start_ns < root_start_ns) THEN excluded.root_start_ns ELSE "
        "root_start_ns END, "
        "has_root = max(has_root, excluded.has_root)");
    Stmt upsert_service(db,
                        "INSERT INTO trace_services(trace_id, service, spans, errors) "
                        "VALUES(?,?,?,?) ON CONFLICT(trace_id, service) DO UPDATE SET "
                        "spans = spans + excluded.spans, errors = errors + excluded.errors");
    Stmt insert_attr(db,
                     "INSERT OR IGNORE INTO attrs(hash, trace_id, key, value) VALUES(?,?,?,?)");
    for (Stmt* s : {&insert_span, &insert_scope, &find_scope, &upsert_trace, &upsert_service,
                    &insert_attr}) {
      if (!s->ok()) return InternalError(sqlite3_errmsg(db));
    }

    // What the batch adds, gathered first and written once per trace, service and attribute.
    std::map<std::string, TraceUpdate> traces;
    std::map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>> services;
    std::set<std::tuple<std::string, std::string, std::string>> attrs;  // key, value, trace
    std::string api, otlp;  // reused for every span
    for (const Request& any : batch) {
      if (const auto* logs = std::get_if<decoded::LogsRequest>(&any)) {
        OTLP_RETURN_IF_ERROR(WriteLogs(*logs));
        continue;
      }
      if (const auto* metrics = std::get_if<decoded::MetricsRequest>(&any)) {
        OTLP_RETURN_IF_ERROR(WriteMetrics(*metrics));
        continue;
      }
      for (const decoded::ResourceSpans& rs : std::get<decoded::TraceRequest>(any).resource_spans) {
        const std::string service = ServiceOf(rs.resource);
        json otlp_resource = {{"resource", {{"attributes", OtlpAttributes(rs.resource.attributes)}}}};
        if (rs.resource.dropped_attributes_count != 0) {
          otlp_resource["resource"]["droppedAttributesCount"] = rs.resource.dropped_attributes_count;
        }
        if (!rs.schema_url.empty()) otlp_resource["schemaUrl"] = rs.schema_url;
        const std::string otlp_resource_text = otlp_resource.dump();
        const std::string api_resource =
            json{{"attributes", AttributesJson(rs.resource.attributes)},
                 {"dropped_attributes_count", rs.resource.dropped_attributes_count},
                 {"schema_url", rs.schema_url}}
                .dump();
        std::vector<std::pair<std::string, std::string>> resource_attrs;
        for (const decoded::KeyValue& kv : rs.resource.attributes) {
          resource_attrs.emplace_back(kv.key, ValueText(kv.value));
        }
        for (const decoded::ScopeSpans& ss : rs.scope_spans) {
          json otlp_scope = {{"scope",
                              {{"name", ss.scope.name},
                               {"version", ss.scope.version},
                               {"attributes", OtlpAttributes(ss.scope.attributes)}}}};
          if (ss.scope.dropped_attributes_count != 0) {
            otlp_scope["scope"]["droppedAttributesCount"] = ss.scope.dropped_attributes_count;
          }
          if (!ss.schema_url.empty()) otlp_scope["schemaUrl"] = ss.schema_url;
          const std::string otlp_scope_text = otlp_scope.dump();
          const std::string api_scope =
              json{{"name", ss.scope.name},
                   {"version", ss.scope.version},
                   {"attributes", AttributesJson(ss.scope.attributes)},
                   {"dropped_attributes_count", ss.scope.dropped_attributes_count},
                   {"schema_url", ss.schema_url}}
                  .dump();
          insert_scope.Bind(1, otlp_resource_text).Bind(2, otlp_scope_text);
          insert_scope.Bind(3, api_resource).Bind(4, api_scope);
          insert_scope.Step();
          insert_scope.Reset();
          find_scope.Bind(1, otlp_resource_text).Bind(2, otlp_scope_text);
          const int64_t scope_id = find_scope.Step() == SQLITE_ROW ? find_scope.Int(0) : 0;
          find_scope.Reset();

          for (const decoded::Span& span : ss.spans) {
            const std::string trace_id = IdBytes(span.trace_id.bytes().data(), trace::TraceId::kSize);
            const std::string span_id = IdBytes(span.span_id.bytes().data(), trace::SpanId::kSize);
            const std::string parent =
                span.has_parent()
                    ? IdBytes(span.parent_span_id.bytes().data(), trace::SpanId::kSize)
                    : std::string();
            api.clear();
            AppendApiSpan(api, span, service);
            otlp.clear();
            AppendOtlpSpan(otlp, span);
            insert_span.BindBlob(1, trace_id).BindBlob(2, span_id).BindBlob(3, parent);
            insert_span.Bind(4, service);
            insert_span.Bind(5, span.name).Bind(6, int64_t{span.kind});
            insert_span.BindU(7, span.start_time_unix_nano).BindU(8, span.end_time_unix_nano);
            insert_span.Bind(9, int64_t{span.status.code}).Bind(10, api);
            insert_span.Bind(11, scope_id).Bind(12, otlp);
            const int rc = insert_span.Step();
            insert_span.Reset();
            if (rc != SQLITE_DONE) return InternalError(sqlite3_errmsg(db));
            if (sqlite3_changes(db) == 0) continue;  // seen before: counted once

            const bool error = span.status.code == 2;
            auto [it, first_of_trace] = traces.try_emplace(trace_id);
            TraceUpdate& t = it->second;
            t.start = std::min(t.start, span.start_time_unix_nano);
            t.end = std::max(t.end, span.end_time_unix_nano);
            ++t.spans;
            t.errors += error;
            const bool root = !span.has_parent();
            if ((root && !t.has_root) || (root == t.has_root && span.start_time_unix_nano < t.root_start)) {
              t.has_root = root;
              t.root_start = span.start_time_unix_nano;
              t.root_service = service;
              t.root_name = span.name;
            }
            auto& svc = services[{trace_id, service}];
            ++svc.first;
            svc.second += error;
            for (const decoded::KeyValue& kv : span.attributes) {
              attrs.emplace(kv.key, ValueText(kv.value), trace_id);
            }
            if (first_of_trace) {
              for (const auto& [k, v] : resource_attrs) attrs.emplace(k, v, trace_id);
            }
          }
        }
      }
    }
    for (const auto& [trace_id, t] : traces) {
      upsert_trace.BindBlob(1, trace_id).BindU(2, t.start).BindU(3, t.end).Bind(4, t.spans);
      upsert_trace.Bind(5, t.errors).Bind(6, t.root_service).Bind(7, t.root_name);
      upsert_trace.BindU(8, t.root_start).Bind(9, int64_t{t.has_root});
      upsert_trace.Step();
      upsert_trace.Reset();
      touched.push_back(HexOf(trace_id));
    }
    for (const auto& [key, counts] : services) {
      upsert_service.BindBlob(1, key.first).Bind(2, key.second).Bind(3, counts.first);
      upsert_service.Bind(4, counts.second);
      upsert_service.Step();
      upsert_service.Reset();
    }
    for (const auto& [key, value, trace_id] : attrs) {
      insert_attr.Bind(1, AttrHash(key, value)).BindBlob(2, trace_id).Bind(3, key).Bind(4, value);
      insert_attr.Step();
      insert_attr.Reset();
    }
    return Status::Ok();
  }

  // Under db_mu, inside the batch's transaction.
  Status WriteLogs(const decoded::LogsRequest& request) {
    Stmt insert(db, "INSERT INTO logs(trace_id, span_id, time_ns, service, json) VALUES(?,?,?,?,?)");
    if (!insert.ok()) return InternalError(sqlite3_errmsg(db));
    for (const decoded::ResourceLogs& rl : request.resource_logs) {
      const std::string service = ServiceOf(rl.resource);
      for (const decoded::ScopeLogs& sl : rl.scope_logs) {
        for (const decoded::LogRecord& r : sl.log_records) {
          const std::string trace_id = r.trace_id.IsValid() ? r.trace_id.ToHex() : "";
          const std::string span_id = r.span_id.IsValid() ? r.span_id.ToHex() : "";
          const std::string trace_key =
              r.trace_id.IsValid() ? IdBytes(r.trace_id.bytes().data(), trace::TraceId::kSize)
                                   : std::string();
          const std::string span_key =
              r.span_id.IsValid() ? IdBytes(r.span_id.bytes().data(), trace::SpanId::kSize)
                                  : std::string();
          // A record without a time is placed at the time it was observed.
          const uint64_t time = r.time_unix_nano != 0 ? r.time_unix_nano : r.observed_time_unix_nano;
          const json j = {{"time_unix_nano", NanosText(r.time_unix_nano)},
                          {"observed_time_unix_nano", NanosText(r.observed_time_unix_nano)},
                          {"severity_number", r.severity_number},
                          {"severity_text", r.severity_text},
                          {"body", ValueJson(r.body)},
                          {"attributes", AttributesJson(r.attributes)},
                          {"dropped_attributes_count", r.dropped_attributes_count},
                          {"event_name", r.event_name},
                          {"trace_id", trace_id},
                          {"span_id", span_id},
                          {"flags", r.flags},
                          {"service", service},
                          {"scope", {{"name", sl.scope.name}, {"version", sl.scope.version}}}};
          insert.BindBlob(1, trace_key).BindBlob(2, span_key).BindU(3, time).Bind(4, service);
          insert.Bind(5, j.dump());
          const int rc = insert.Step();
          insert.Reset();
          if (rc != SQLITE_DONE) return InternalError(sqlite3_errmsg(db));
        }
      }
    }
    return Status::Ok();
  }

  Status WriteMetrics(const decoded::MetricsRequest& request) {
    Stmt upsert(db,
                "INSERT INTO metrics(series, name, service, time_ns, json) VALUES(?,?,?,?,?) "
                "ON CONFLICT(series) DO UPDATE SET time_ns = excluded.time_ns, json = excluded.json "
                "WHERE excluded.time_ns >= metrics.time_ns");
    if (!upsert.ok()) return InternalError(sqlite3_errmsg(db));
    for (const decoded::ResourceMetrics& rm : request.resource_metrics) {
      const std::string service = ServiceOf(rm.resource);
      const std::string resource_key = AttributesJson(rm.resource.attributes).dump();
      for (const decoded::ScopeMetrics& sm : rm.scope_metrics) {
        for (const decoded::Metric& m : sm.metrics) {
          auto store_point = [&](const char* type, const std::vector<decoded::KeyValue>& attrs,
                                 uint64_t time, json fields) -> Status {
            json j = {{"name", m.name},
                      {"service", service},
                      {"type", type},
                      {"unit", m.unit},
                      {"description", m.description},
                      {"attributes", AttributesJson(attrs)},
                      {"time_unix_nano", NanosText(time)}};
            j.update(fields);
            const std::string series =
                m.name + '\x1f' + resource_key + '\x1f' + j["attributes"].dump();
            upsert.Bind(1, series).Bind(2, m.name).Bind(3, service).BindU(4, time);
            upsert.Bind(5, j.dump());
            const int rc = upsert.Step();
            upsert.Reset();
            return rc == SQLITE_DONE ? Status::Ok() : InternalError(sqlite3_errmsg(db));
          };
          auto number = [](const decoded::NumberDataPoint& p) -> json {
            if (const auto* i = std::get_if<int64_t>(&p.value)) return json{{"value", *i}};
            if (const auto* d = std::get_if<double>(&p.value)) {
              // NaN and infinities as the API writes them everywhere ("NaN", "Infinity").
              return json{{"value", ValueJson(decoded::AnyValue{*d})}};
            }
            return json{{"value", nullptr}};
          };
          Status st = std::visit(
              [&](const auto& data) -> Status {
                using T = std::decay_t<decltype(data)>;
                if constexpr (std::is_same_v<T, std::monostate>) {
                  return Status::Ok();
                } else {
                  for (const auto& p : data.data_points) {
                    json fields;
                    const char* type = "";
                    if constexpr (std::is_same_v<T, decoded::Gauge>) {
                      type = "gauge";
                      fields = number(p);
                    } else if constexpr (std::is_same_v<T, decoded::Sum>) {
                      type = "sum";
                      fields = number(p);
                      fields["monotonic"] = data.is_monotonic;
                    } else if constexpr (std::is_same_v<T, decoded::Histogram>) {
                      type = "histogram";
                      fields = {{"count", p.count}, {"sum", p.sum ? json(*p.sum) : json(nullptr)},
                                {"bucket_counts", p.bucket_counts},
                                {"explicit_bounds", p.explicit_bounds}};
                    } else if constexpr (std::is_same_v<T, decoded::ExponentialHistogram>) {
                      type = "exponential_histogram";
                      fields = {{"count", p.count}, {"sum", p.sum ? json(*p.sum) : json(nullptr)},
                                {"scale", p.scale}};
                    } else {
                      type = "summary";
                      fields = {{"count", p.count}, {"sum", p.sum}};
                    }
                    OTLP_RETURN_IF_ERROR(store_point(type, p.attributes, p.time_unix_nano, fields));
                  }
                  return Status::Ok();
                }
              },
              m.data);
          OTLP_RETURN_IF_ERROR(st);
        }
      }
    }
    return Status::Ok();
  }

  static uint64_t UsedBytes(sqlite3* db) {
    Stmt count(db, "SELECT (SELECT page_count FROM pragma_page_count()) - "
                   "(SELECT freelist_count FROM pragma_freelist_count()), "
                   "(SELECT page_size FROM pragma_page_size())");
    if (!count.ok() || count.Step() != SQLITE_ROW) return 0;
    return static_cast<uint64_t>(count.Int(0)) * static_cast<uint64_t>(count.Int(1));
  }

  // Deletes the earliest traces while the used size is over the cap.
  Status EnforceCap() {
    if (options.max_bytes == 0) return Status::Ok();
    std::lock_guard lock(db_mu);
    for (int round = 0; round < 1000 && UsedBytes(db) > options.max_bytes; ++round) {
      // A tenth of the traces (at least one) per round, oldest first.
      OTLP_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
      OTLP_RETURN_IF_ERROR(Exec(
          "CREATE TEMP TABLE IF NOT EXISTS doomed(trace_id BLOB PRIMARY KEY);"
          "DELETE FROM doomed;"
          "INSERT INTO doomed SELECT trace_id FROM traces ORDER BY start_ns LIMIT "
          "max(1, (SELECT count(*) FROM traces) / 10);"
          "DELETE FROM spans WHERE trace_id IN doomed;"
          "DELETE FROM attrs WHERE trace_id IN doomed;"
          "DELETE FROM trace_services WHERE trace_id IN doomed;"
          "DELETE FROM logs WHERE trace_id IN doomed;"
          "DELETE FROM traces WHERE trace_id IN doomed;"));
      OTLP_RETURN_IF_ERROR(Exec("COMMIT"));
      Stmt left(db, "SELECT count(*) FROM traces");
      if (left.ok() && left.Step() == SQLITE_ROW && left.Int(0) == 0) break;
    }
    return Status::Ok();
  }
};

Result<std::unique_ptr<Store>> Store::Open(StoreOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  if (impl->options.max_bytes != 0) {
    // A capped store keeps its waiting requests (~1 KB per item decoded) to a small part of
    // the cap too.
    impl->options.max_queued_items = std::min(
        impl->options.max_queued_items, std::max<size_t>(impl->options.max_bytes / 8192, 1000));
  }
  const std::string& path = impl->options.path;
  const std::string where = path.empty() ? std::string("the in-memory database") : "'" + path + "'";
  struct stat file{};
  if (!path.empty() && ::stat(path.c_str(), &file) == 0 && (file.st_mode & 0222) == 0) {
    // Nobody may write it (mode 0444): refused even for root, who could write it anyway.
    return FailedPreconditionError(where + " is read-only; otlp view needs to write its database");
  }
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.empty() ? ":memory:" : path.c_str(), &impl->db, flags, nullptr) !=
      SQLITE_OK) {
    std::string msg = impl->db ? sqlite3_errmsg(impl->db) : "out of memory";
    return FailedPreconditionError("cannot open " + where + ": " + msg);
  }
  sqlite3_busy_timeout(impl->db, 5000);
  if (!path.empty()) {
    // Write-ahead log: readers (the API) do not wait for the writer's transaction.
    if (Status st = impl->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !st.ok()) {
      return FailedPreconditionError(where + " is not a usable SQLite database: " + st.message());
    }
    // Span keys are random trace ids, so inserts land all over the tables: with SQLite's 2 MiB
    // default page cache nearly every one re-reads a page from the file. A cache of a quarter of
    // the size cap (64 MiB at most) keeps the working set in memory; checkpoints of the log into
    // the database every ~40 MB rather than every 4 MB write each page once per many batches.
    const size_t cache = std::min<size_t>(impl->options.max_bytes == 0
                                              ? size_t{64} << 20
                                              : impl->options.max_bytes / 4,
                                          size_t{64} << 20);
    (void)impl->Exec(("PRAGMA cache_size=-" + std::to_string(std::max<size_t>(cache >> 10, 2048)) +
                      "; PRAGMA wal_autocheckpoint=10000;")
                         .c_str());
  }
  if (Status st = impl->Exec(kSchema); !st.ok()) {
    return FailedPreconditionError(where + " is not a usable otlp view database: " +
                                   st.message());
  }
  {
    // The layout version: a database written by another version of otlp view is refused
    // rather than misread.
    Stmt version(impl->db, "PRAGMA user_version");
    const int64_t v = version.ok() && version.Step() == SQLITE_ROW ? version.Int(0) : -1;
    Stmt count(impl->db, "SELECT count(*) FROM spans");
    const int64_t spans = count.ok() && count.Step() == SQLITE_ROW ? count.Int(0) : 0;
    if (v == 0 && spans == 0) {
      (void)impl->Exec(("PRAGMA user_version = " + std::to_string(kLayoutVersion)).c_str());
    } else if (v != kLayoutVersion) {
      return FailedPreconditionError(where + " was written by another version of otlp view "
                                     "(layout " + std::to_string(v) + ", this one reads " +
                                     std::to_string(kLayoutVersion) + ")");
    }
  }
  if (sqlite3_db_readonly(impl->db, "main") == 1) {
    return FailedPreconditionError(where + " is read-only; otlp view needs to write its database");
  }
  if (!path.empty()) {
    if (sqlite3_open_v2(path.c_str(), &impl->reader, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      return FailedPreconditionError("cannot open " + where + " for reading: " +
                                     sqlite3_errmsg(impl->reader));
    }
    sqlite3_busy_timeout(impl->reader, 5000);
  }
  Impl* raw = impl.get();
  raw->writer = std::thread([raw] { raw->WriterLoop(); });
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

bool Store::AddTraces(exporter::decoded::TraceRequest request) {
  return impl_->Enqueue(std::move(request));
}

bool Store::AddLogs(exporter::decoded::LogsRequest request) {
  return impl_->Enqueue(std::move(request));
}

bool Store::AddMetrics(exporter::decoded::MetricsRequest request) {
  return impl_->Enqueue(std::move(request));
}

void Store::Flush() {
  std::unique_lock lock(impl_->queue_mu);
  const uint64_t target = impl_->enqueued;
  impl_->written_cv.wait(lock, [&] { return impl_->written >= target; });
}

std::string Store::ServicesJson() {
  auto r = impl_->Reader();
  Stmt q(r.db,
         "SELECT service, sum(spans), sum(errors), count(*) FROM trace_services "
         "GROUP BY service ORDER BY service");
  json services = json::array();
  while (q.ok() && q.Step() == SQLITE_ROW) {
    services.push_back(
        {{"name", q.Text(0)}, {"spans", q.Int(1)}, {"errors", q.Int(2)}, {"traces", q.Int(3)}});
  }
  return json{{"services", services}}.dump();
}

std::string Store::TracesJson(const TraceQuery& query) {
  std::string where = " WHERE 1";
  std::vector<std::string> params;
  if (!query.service.empty()) {
    where += " AND t.trace_id IN (SELECT trace_id FROM trace_services WHERE service = ?)";
    params.push_back(query.service);
  }
  if (!query.span_name.empty()) {
    where += " AND t.trace_id IN (SELECT trace_id FROM spans WHERE name = ?)";
    params.push_back(query.span_name);
  }
  for (const auto& [k, v] : query.attributes) {
    where += " AND t.trace_id IN (SELECT trace_id FROM attrs WHERE hash = " +
             std::to_string(AttrHash(k, v)) + " AND key = ? AND value = ?)";
    params.push_back(k);
    params.push_back(v);
  }
  if (query.min_duration_ns) {
    where += " AND t.end_ns - t.start_ns >= " + std::to_string(*query.min_duration_ns);
  }
  if (query.status == TraceQuery::StatusFilter::kError) where += " AND t.error_count > 0";
  if (query.status == TraceQuery::StatusFilter::kOk) where += " AND t.error_count = 0";
  if (query.start_unix_nano) where += " AND t.start_ns >= " + std::to_string(*query.start_unix_nano);
  if (query.end_unix_nano) where += " AND t.start_ns <= " + std::to_string(*query.end_unix_nano);
  const size_t limit = std::clamp<size_t>(query.limit, 1, 1000);

  auto r = impl_->Reader();
  auto bind_all = [&](Stmt& s) {
    for (size_t i = 0; i < params.size(); ++i) s.Bind(static_cast<int>(i + 1), params[i]);
  };
  Stmt total(r.db, ("SELECT count(*) FROM traces t" + where).c_str());
  bind_all(total);
  const int64_t total_count = total.ok() && total.Step() == SQLITE_ROW ? total.Int(0) : 0;

  Stmt q(r.db, ("SELECT t.trace_id, t.root_service, t.root_name, t.start_ns, t.end_ns, "
                     "t.span_count, t.error_count FROM traces t" +
                     where + " ORDER BY t.start_ns DESC LIMIT " + std::to_string(limit))
                        .c_str());
  bind_all(q);
  Stmt services(r.db,
                "SELECT service, spans FROM trace_services WHERE trace_id = ? ORDER BY service");
  json traces = json::array();
  while (q.ok() && q.Step() == SQLITE_ROW) {
    const std::string key = q.Blob(0);
    const std::string id = HexOf(key);
    json svc = json::array();
    services.BindBlob(1, key);
    while (services.Step() == SQLITE_ROW) {
      svc.push_back({{"name", services.Text(0)}, {"spans", services.Int(1)}});
    }
    services.Reset();
    const auto start = static_cast<uint64_t>(q.Int(3));
    const auto end = static_cast<uint64_t>(q.Int(4));
    traces.push_back({{"trace_id", id},
                      {"root_service", q.Text(1)},
                      {"root_name", q.Text(2)},
                      {"start_unix_nano", NanosText(start)},
                      {"duration_ns", Duration(start, end)},
                      {"span_count", q.Int(5)},
                      {"error_count", q.Int(6)},
                      {"services", svc}});
  }
  return json{{"traces", traces}, {"total", total_count}}.dump();
}

std::optional<std::string> Store::TraceJson(const std::string& trace_id) {
  auto r = impl_->Reader();
  const std::string key = TraceKey(trace_id);
  Stmt t(r.db, "SELECT start_ns, end_ns FROM traces WHERE trace_id = ?");
  t.BindBlob(1, key);
  if (!t.ok() || t.Step() != SQLITE_ROW) return std::nullopt;
  const auto start = static_cast<uint64_t>(t.Int(0));
  const auto end = static_cast<uint64_t>(t.Int(1));
  // The spans are stored as JSON already: concatenated, not parsed again, with their
  // resource and scope (stored once each) spliced in before the closing brace.
  std::string out = "{\"trace_id\":" + json(trace_id).dump() + ",\"start_unix_nano\":\"" +
                    NanosText(start) + "\",\"duration_ns\":" +
                    std::to_string(Duration(start, end)) + ",\"spans\":[";
  Stmt spans(r.db,
             "SELECT s.json, c.api_resource, c.api_scope FROM spans s JOIN scopes c "
             "ON c.id = s.scope_id WHERE s.trace_id = ? ORDER BY s.start_ns, s.span_id");
  spans.BindBlob(1, key);
  bool first = true;
  while (spans.ok() && spans.Step() == SQLITE_ROW) {
    if (!first) out += ',';
    first = false;
    const std::string span = spans.Text(0);
    out.append(span, 0, span.size() - 1);
    out += ",\"resource\":";
    out += spans.Text(1);
    out += ",\"scope\":";
    out += spans.Text(2);
    out += '}';
  }
  out += "],\"logs\":[";
  Stmt logs(r.db, "SELECT json FROM logs WHERE trace_id = ? ORDER BY time_ns");
  logs.BindBlob(1, key);
  first = true;
  while (logs.ok() && logs.Step() == SQLITE_ROW) {
    if (!first) out += ',';
    first = false;
    out += logs.Text(0);
  }
  out += "]}";
  return out;
}

std::string Store::ServiceMapJson() {
  auto r = impl_->Reader();
  Stmt q(r.db,
         "SELECT p.service, c.service, count(*), sum(c.status = 2) FROM spans c "
         "JOIN spans p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id "
         "WHERE p.service != c.service GROUP BY p.service, c.service ORDER BY 1, 2");
  json edges = json::array();
  while (q.ok() && q.Step() == SQLITE_ROW) {
    edges.push_back({{"parent", q.Text(0)},
                     {"child", q.Text(1)},
                     {"calls", q.Int(2)},
                     {"errors", q.Int(3)}});
  }
  return json{{"edges", edges}}.dump();
}

std::string Store::MetricsJson() {
  auto r = impl_->Reader();
  Stmt q(r.db, "SELECT json FROM metrics ORDER BY name, service, series");
  std::string out = "{\"metrics\":[";
  bool first = true;
  while (q.ok() && q.Step() == SQLITE_ROW) {
    if (!first) out += ',';
    first = false;
    out += q.Text(0);
  }
  return out + "]}";
}

StoreStats Store::Stats() {
  auto r = impl_->Reader();
  StoreStats s;
  Stmt q(r.db,
         "SELECT (SELECT count(*) FROM traces), (SELECT count(*) FROM spans), "
         "(SELECT count(*) FROM logs), (SELECT count(*) FROM metrics)");
  if (q.ok() && q.Step() == SQLITE_ROW) {
    s.traces = static_cast<uint64_t>(q.Int(0));
    s.spans = static_cast<uint64_t>(q.Int(1));
    s.logs = static_cast<uint64_t>(q.Int(2));
    s.metric_series = static_cast<uint64_t>(q.Int(3));
  }
  s.db_bytes = Impl::UsedBytes(r.db);
  return s;
}

std::string Store::StatsJson() {
  const StoreStats s = Stats();
  return json{{"traces", s.traces},
              {"spans", s.spans},
              {"logs", s.logs},
              {"metric_points", s.metric_series},
              {"db_bytes", s.db_bytes}}
      .dump();
}

Result<uint64_t> Store::ExportJsonLines(std::ostream& out) {
  Flush();
  auto r = impl_->Reader();
  Stmt traces(r.db, "SELECT trace_id FROM traces ORDER BY start_ns, trace_id");
  Stmt spans(r.db,
             "SELECT s.otlp, c.resource, c.scope, s.scope_id FROM spans s "
             "JOIN scopes c ON c.id = s.scope_id WHERE s.trace_id = ? ORDER BY s.scope_id, "
             "s.start_ns, s.span_id");
  if (!traces.ok() || !spans.ok()) return InternalError(sqlite3_errmsg(r.db));
  uint64_t lines = 0;
  while (traces.Step() == SQLITE_ROW) {
    spans.BindBlob(1, traces.Blob(0));
    // One ResourceSpans per (resource, scope) pair the trace's spans came with.
    std::string line = "{\"resourceSpans\":[";
    int64_t current = -1;
    bool first_group = true, first_span = true;
    while (spans.Step() == SQLITE_ROW) {
      const int64_t scope_id = spans.Int(3);
      if (scope_id != current) {
        if (current != -1) line += "]}]}";
        if (!first_group) line += ',';
        first_group = false;
        current = scope_id;
        // {"resource":{...},"schemaUrl":...} and {"scope":{...},"schemaUrl":...}, opened up.
        const std::string resource = spans.Text(1);
        const std::string scope = spans.Text(2);
        line += resource.substr(0, resource.size() - 1) + ",\"scopeSpans\":[" +
                scope.substr(0, scope.size() - 1) + ",\"spans\":[";
        first_span = true;
      }
      if (!first_span) line += ',';
      first_span = false;
      line += spans.Text(0);
    }
    spans.Reset();
    if (current != -1) line += "]}]}";
    line += "]}\n";
    out << line;
    ++lines;
  }
  out.flush();
  if (!out) return InternalError("writing the export failed");
  return lines;
}

std::vector<StoredSpan> Store::TraceSpans(const std::string& trace_id) {
  auto r = impl_->Reader();
  Stmt q(r.db,
         "SELECT json FROM spans WHERE trace_id = ? ORDER BY start_ns, span_id");
  q.BindBlob(1, TraceKey(trace_id));
  std::vector<StoredSpan> spans;
  while (q.ok() && q.Step() == SQLITE_ROW) {
    const json j = json::parse(q.Text(0), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) continue;
    StoredSpan s;
    s.span_id = j.value("span_id", "");
    s.parent_span_id = j.value("parent_span_id", "");
    s.service = j.value("service", "");
    s.name = j.value("name", "");
    const std::string kind = j.value("kind", "");
    for (int k = 0; k <= 5; ++k) {
      if (kind == SpanKindName(k)) s.kind = k;
    }
    s.start_unix_nano = std::stoull(j.value("start_unix_nano", "0"));
    s.end_unix_nano = std::stoull(j.value("end_unix_nano", "0"));
    const std::string status = j["status"].value("code", "unset");
    s.status = status == "error" ? 2 : status == "ok" ? 1 : 0;
    s.status_message = j["status"].value("message", "");
    for (const json& kv : j["attributes"]) {
      const json& v = kv["value"];
      s.attributes.emplace_back(kv.value("key", ""), v.is_string() ? v.get<std::string>() : v.dump());
    }
    spans.push_back(std::move(s));
  }
  return spans;
}

}  // namespace otlp::view
