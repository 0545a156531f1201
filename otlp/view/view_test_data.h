// otlp/view/view_test_data.h — OTLP/JSON request bodies for the view module's tests.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace otlp::view::testing {

struct TestSpan {
  std::string service;
  std::string trace_id;
  std::string span_id;
  std::string parent;  // "" for a root
  std::string name;
  int kind = 1;
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> attributes;  // string values
};

// One ExportTraceServiceRequest in OTLP/JSON, a ResourceSpans per span (its service).
inline std::string OtlpJson(const std::vector<TestSpan>& spans) {
  nlohmann::json rs = nlohmann::json::array();
  for (const TestSpan& s : spans) {
    nlohmann::json attrs = nlohmann::json::array();
    for (const auto& [k, v] : s.attributes) {
      attrs.push_back({{"key", k}, {"value", {{"stringValue", v}}}});
    }
    nlohmann::json span = {{"traceId", s.trace_id},
                           {"spanId", s.span_id},
                           {"name", s.name},
                           {"kind", s.kind},
                           {"startTimeUnixNano", std::to_string(s.start_ns)},
                           {"endTimeUnixNano", std::to_string(s.end_ns)},
                           {"attributes", attrs},
                           {"status", {{"code", s.status}}}};
    if (!s.parent.empty()) span["parentSpanId"] = s.parent;
    rs.push_back(
        {{"resource",
          {{"attributes",
            nlohmann::json::array(
                {{{"key", "service.name"}, {"value", {{"stringValue", s.service}}}}})}}},
         {"scopeSpans", nlohmann::json::array({{{"scope", {{"name", "test"}}}, {"spans", {span}}}})}});
  }
  return nlohmann::json{{"resourceSpans", rs}}.dump();
}

inline constexpr const char* kTraceA = "4bf92f3577b34da6a3ce929d0e0e4736";
inline constexpr const char* kTraceB = "0af7651916cd43dd8448eb211c80319c";

// A three-service trace: client → frontend (server) → orders (client → server, error).
inline std::vector<TestSpan> ThreeServiceTrace(uint64_t t0 = 1765100000000000000ull) {
  return {
      {"client", kTraceA, "1111111111111111", "", "GET", 3, t0, t0 + 50'000'000, 0,
       {{"http.request.method", "GET"}, {"url.full", "http://127.0.0.1/checkout"}}},
      {"frontend", kTraceA, "2222222222222222", "1111111111111111", "GET /checkout", 2,
       t0 + 1'000'000, t0 + 49'000'000, 0, {{"http.route", "/checkout"}}},
      {"frontend", kTraceA, "3333333333333333", "2222222222222222", "POST", 3, t0 + 2'000'000,
       t0 + 30'000'000, 2, {{"http.response.status_code", "503"}, {"error.type", "503"}}},
      {"orders", kTraceA, "4444444444444444", "3333333333333333", "POST /orders", 2,
       t0 + 3'000'000, t0 + 29'000'000, 2, {{"http.response.status_code", "503"}}},
  };
}

}  // namespace otlp::view::testing
