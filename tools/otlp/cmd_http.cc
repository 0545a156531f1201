// otlp http — a traced, curl-like HTTP client on otlp::http.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "common.h"
#include "final_flush.h"
#include "otlp/http/client.h"

namespace otlp::cli {
namespace {

const Command& HttpCommand() {
  static const Command cmd = [] {
    Command c{
        .name = "http",
        .summary = "send one HTTP request, traced (a curl-like client)",
        .usage = "otlp http [METHOD] URL [flags]",
        .description =
            "Sends METHOD (default GET) to URL with otlp::http and writes the response body on\n"
            "stdout (or to --output). The request is a CLIENT span exported as configured by\n"
            "OTEL_* (see `otlp config`), a child of --traceparent or TRACEPARENT when given;\n"
            "traceparent, tracestate and baggage are sent with it. Redirects are followed (at\n"
            "most 10). Short forms: -H header, -d data, -o output, -v verbose.\n"
            "-v prints the request and response headers, the traceparent sent, the attempts,\n"
            "redirects and timings on stderr.\n"
            "Exit status: 0 for a response below 400, 3 for a 4xx/5xx response, 1 when no\n"
            "response arrived (the error on stderr), 2 for bad usage.",
        .flags =
            {
                {.name = "header",
                 .value = "'K: V'",
                 .help = "Request header (-H); repeatable",
                 .repeated = true},
                {.name = "data", .value = "BODY", .help = "Request body (-d); @FILE reads FILE"},
                {.name = "json",
                 .value = "BODY",
                 .help = "JSON request body (checked), with Content-Type and Accept\n"
                         "application/json; @FILE reads FILE"},
                {.name = "http2", .help = "Use HTTP/2 (h2 by ALPN, h2c for http://)"},
                {.name = "retries",
                 .value = "N",
                 .help = "Retries of idempotent requests on 429/502/503/504 and lost\n"
                         "connections (default 0)"},
                {.name = "timeout",
                 .value = "S",
                 .help = "Whole-request timeout in seconds, e.g. 2.5 (default 30)"},
                {.name = "output", .value = "FILE", .help = "Write the body to FILE (-o)"},
                {.name = "verbose", .help = "Headers, traceparent and timings on stderr (-v)"},
                {.name = "traceparent",
                 .value = "TP",
                 .help = "Parent context (default: $TRACEPARENT)"},
                {.name = "tracestate",
                 .value = "TS",
                 .help = "Parent tracestate (default: $TRACESTATE)"},
            },
        .examples =
            "  otlp http https://example.com/\n"
            "  otlp http POST http://127.0.0.1:8080/items --json '{\"name\":\"x\"}' -v\n"
            "  otlp http PUT http://127.0.0.1:8080/f -H 'Content-Type: text/plain' -d @notes.txt\n"
            "  otlp http GET http://127.0.0.1:8080/flaky --retries 3 --timeout 5 -o out.bin\n"};
    for (FlagSpec& f : ExportFlags()) c.flags.push_back(f);
    return c;
  }();
  return cmd;
}

// Splits curl-style arguments into flags and the positional METHOD / URL, which may come
// before, between or after the flags.
bool SplitArgs(const Command& cmd, std::span<const std::string> args,
               std::vector<std::string>& flag_args, std::vector<std::string>& positional,
               std::string& error) {
  SeparatePositional(cmd, args,
                     {{"-H", "--header"}, {"-d", "--data"}, {"-o", "--output"}, {"-v", "--verbose"}},
                     flag_args, positional);
  if (positional.empty() || positional.size() > 2) {
    error = positional.empty() ? "a URL is required"
                               : "unexpected argument '" + positional[2] + "'";
    return false;
  }
  return true;
}

// The value, or the contents of FILE for "@FILE".
bool ReadBodyArg(const std::string& value, std::string& out, std::string& error) {
  if (!value.starts_with('@')) {
    out = value;
    return true;
  }
  std::ifstream in(value.substr(1), std::ios::binary);
  if (!in) {
    error = "cannot read '" + value.substr(1) + "': " + std::strerror(errno);
    return false;
  }
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

std::string Milliseconds(std::chrono::microseconds us) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f ms", static_cast<double>(us.count()) / 1000.0);
  return buf;
}

}  // namespace

int RunHttp(std::span<const std::string> args) {
  const Command& cmd = HttpCommand();
  std::vector<std::string> flag_args, positional;
  std::string error;
  const bool help = std::find(args.begin(), args.end(), "--help") != args.end() ||
                    std::find(args.begin(), args.end(), "-h") != args.end();
  if (!help && !SplitArgs(cmd, args, flag_args, positional, error)) {
    return UsageError(cmd, error);
  }
  ParsedFlags flags;
  if (help) flag_args = {"--help"};
  if (auto exit_code = ParseOrExit(cmd, flag_args, flags)) return *exit_code;

  http::Request request = positional.size() == 2
                              ? http::Request::Make(positional[0], positional[1])
                              : http::Request::Get(positional[0]);
  for (const std::string& h : flags.GetAll("header")) {
    const size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      return UsageError(cmd, "invalid --header '" + h + "' (expected 'Name: value')");
    }
    std::string value = h.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
    request.headers.Add(h.substr(0, colon), std::move(value));
  }
  if (flags.Has("data") && flags.Has("json")) {
    return UsageError(cmd, "--data and --json exclude each other");
  }
  if (auto data = flags.Get("data")) {
    if (!ReadBodyArg(*data, request.body, error)) return UsageError(cmd, "--data: " + error);
  }
  if (auto json = flags.Get("json")) {
    std::string text;
    if (!ReadBodyArg(*json, text, error)) return UsageError(cmd, "--json: " + error);
    nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return UsageError(cmd, "--json: the body is not valid JSON");
    request.body = std::move(text);
    if (!request.headers.Contains("Content-Type")) {
      request.headers.Add("Content-Type", "application/json");
    }
    if (!request.headers.Contains("Accept")) request.headers.Add("Accept", "application/json");
  }
  http::ClientOptions options;
  if (flags.Has("http2")) {
    // https: h2 offered by ALPN (HTTP/1.1 when the server declines); http: h2c, prior knowledge.
    options.transport.http_version = net::HttpVersionPolicy::kHttp2PriorKnowledge;
  }
  options.retry = http::RetryPolicy::Disabled();
  if (auto retries = flags.Get("retries")) {
    char* end = nullptr;
    const long n = std::strtol(retries->c_str(), &end, 10);
    if (retries->empty() || *end != '\0' || n < 0 || n > 100) {
      return UsageError(cmd, "invalid --retries '" + *retries + "' (expected 0 to 100)");
    }
    options.retry.max_attempts = static_cast<int>(n) + 1;
  }
  if (auto timeout = flags.Get("timeout")) {
    char* end = nullptr;
    const double seconds = std::strtod(timeout->c_str(), &end);
    if (timeout->empty() || *end != '\0' || !std::isfinite(seconds) || seconds <= 0 ||
        seconds > 86400) {
      return UsageError(cmd, "invalid --timeout '" + *timeout + "' (expected seconds > 0)");
    }
    request.timeout = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(seconds * 1000)));
  }
  // -o streams the final response's body to the file as it arrives (not held in memory).
  std::optional<std::string> output_path = flags.Get("output");
  if (output_path) request.save_to = *output_path;
  const bool verbose = flags.Has("verbose");

  SetupOptions setup;
  if (!ApplyExportFlags(flags, setup, error)) return UsageError(cmd, error);
  trace::SpanContext parent = ParentContext(cmd, flags);
  std::unique_ptr<Sdk> sdk = SetupOrReport(cmd, std::move(setup));
  if (!sdk) return 2;

  int exit_code = 0;
  uint64_t spans = 0;
  {
    Result<std::unique_ptr<http::Client>> client = http::Client::Create(std::move(options));
    if (!client.ok()) {
      PrintError(cmd, client.status().ToString());
      return 2;
    }
    std::optional<trace::Scope> scope;
    if (parent.IsValid()) scope.emplace(trace::Context(parent));
    if (verbose) {
      std::fprintf(stderr, "> %s %s\n", request.method.c_str(), request.FullUrl().c_str());
      for (const auto& [name, value] : request.headers) {
        std::fprintf(stderr, "> %s: %s\n", name.c_str(), value.c_str());
      }
    }
    Result<http::Response> response = (*client)->Send(std::move(request));
    scope.reset();
    if (!response.ok()) {
      PrintError(cmd, response.status().ToString());
      exit_code = 1;
    } else {
      if (response->trace_context.IsSampled()) spans = static_cast<uint64_t>(response->attempts);
      if (verbose) {
        std::fprintf(stderr, "* traceparent sent: %s\n",
                     response->trace_context.IsValid()
                         ? response->trace_context.ToTraceparent().c_str()
                         : "(none)");
        std::fprintf(stderr, "< HTTP/%s %d\n", response->protocol_version.c_str(),
                     response->status);
        for (const auto& [name, value] : response->headers) {
          std::fprintf(stderr, "< %s: %s\n", name.c_str(), value.c_str());
        }
        const http::Timings& t = response->timings;
        std::string timings = "* total " + Milliseconds(t.total);
        for (const auto& [label, phase] :
             {std::pair{"dns", t.dns}, std::pair{"connect", t.connect}, std::pair{"tls", t.tls},
              std::pair{"first byte", t.first_byte}}) {
          if (phase) timings += std::string(", ") + label + " " + Milliseconds(*phase);
        }
        std::fprintf(stderr, "%s; %d attempt(s), %d redirect(s)%s; final URL %s\n",
                     timings.c_str(), response->attempts, response->redirects,
                     response->connection_reused ? ", connection reused" : "",
                     response->url.c_str());
      }
      if (!output_path) {
        const std::string& body = response->body;
        if (std::fwrite(body.data(), 1, body.size(), stdout) != body.size()) {
          PrintError(cmd, "writing the body failed: " + std::string(std::strerror(errno)));
          exit_code = 1;
        }
      }
      if (exit_code == 0 && response->status >= 400) exit_code = 3;
    }
  }
  std::fflush(stdout);
  const FlushOutcome flush = FinalFlush(*sdk, nullptr);
  ReportUndelivered(cmd, flush, CountDelivery(*sdk, spans));
  if (!flush.clean()) ExitNow(exit_code);
  return exit_code;
}

}  // namespace otlp::cli
