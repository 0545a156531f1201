// examples/demo/checkout_client.h — the client side of the demo's flow: one checkout, traced from
// the first span to the answer.
//
//   auto sdk = otlp::demo::SetupTelemetry("demo-client", traces_url);
//   otlp::Result<otlp::demo::CheckoutResult> r =
//       otlp::demo::PlaceOrder("http://127.0.0.1:9000", {"apple", "pear"});
//   if (r.ok()) std::cout << "trace " << r->trace_id << ": " << r->body << "\n";
//
// PlaceOrder starts the trace: an INTERNAL span "place order" (the unit of work a user would
// recognise), made current with a trace::Scope, and inside it a synchronous otlp::http::Client
// POSTs {"items": [...]} to {frontend_url}/checkout over HTTP/1.1. The client's CLIENT span
// "POST /checkout" is a child of "place order", and its traceparent, sent with the request, makes
// the frontend's SERVER span a child of that CLIENT span — and so on down every service.
// A response other than 200 ends "place order" with status Error; the result has the trace id
// either way, and an error status only when no response arrived.
// Threading: any thread (the Client is created and used by the call).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "otlp/core/status.h"

namespace otlp::demo {

struct CheckoutResult {
  std::string trace_id;  // 32 lowercase hex digits
  int status = 0;        // the frontend's HTTP status
  std::string body;      // the frontend's answer
};

Result<CheckoutResult> PlaceOrder(std::string_view frontend_url,
                                  const std::vector<std::string>& items);

}  // namespace otlp::demo
