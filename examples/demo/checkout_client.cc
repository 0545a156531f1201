#include "examples/demo/checkout_client.h"

#include <chrono>
#include <memory>

#include "otlp/http/client.h"
#include "otlp/trace/context.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/span.h"
#include "otlp/trace/tracer.h"

namespace otlp::demo {

Result<CheckoutResult> PlaceOrder(std::string_view frontend_url,
                                  const std::vector<std::string>& items) {
  trace::Span span =
      trace::GetTracer("otlp-demo.client")
          .StartSpan("place order", {{"code.function.name", "otlp::demo::PlaceOrder"},
                                     {"app.cart.items", static_cast<int64_t>(items.size())}});
  trace::Scope scope(span);  // requests made on this thread from here on are its children
  CheckoutResult result{.trace_id = span.GetContext().trace_id().ToHex()};

  OTLP_ASSIGN_OR_RETURN(std::unique_ptr<http::Client> client,
                        http::Client::Create({.proxy = http::ProxyConfig{}}));
  Result<http::Response> response =
      client->Post(std::string(frontend_url) + "/checkout", http::Json{{"items", items}},
                   http::UrlTemplate{"/checkout"}, http::Timeout{std::chrono::seconds(20)});
  if (!response.ok()) {
    span.SetStatus(trace::SpanStatusCode::kError, response.status().message());
    return response.status();
  }
  if (response->status != 200) {
    span.SetStatus(trace::SpanStatusCode::kError,
                   "checkout answered " + std::to_string(response->status));
  }
  result.status = response->status;
  result.body = response->Text();
  return result;
}

}  // namespace otlp::demo
