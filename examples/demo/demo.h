// examples/demo/demo.h — `otlp demo`: a checkout traced end to end across four services, each a
// process of its own with its own service.name, written with otlp-cpp's public API only.
//
//   demo-client ──HTTP/1.1──▶ frontend ──HTTP/2 (h2c)──▶ orders ──WebSocket──▶ notifications
//                                 └──────HTTP/1.1──────▶ inventory
//
// One checkout of {"apple", "pear"} gives one trace:
//
//   place order                        demo-client    INTERNAL
//   └ POST /checkout                   demo-client    CLIENT   200
//     └ POST /checkout                 frontend       SERVER   200
//       ├ PUT /orders/{id}             frontend       CLIENT   503 (error)   first attempt
//       │ └ PUT /orders/{id}           orders         SERVER   503 (error)   a cold start
//       ├ PUT /orders/{id}             frontend       CLIENT   201           resend_count 1
//       │ └ PUT /orders/{id}           orders         SERVER   201
//       │   └ GET                      orders         CLIENT   101           WebSocket upgrade
//       │     └ GET /notifications     notifications  SERVER   101
//       │       └ deliver notification notifications  INTERNAL
//       ├ POST /stock/{sku}/reserve    frontend       CLIENT   200           apple
//       │ └ POST /stock/{sku}/reserve  inventory      SERVER   200
//       │   └ reserve stock            inventory      INTERNAL
//       └ POST /stock/{sku}/reserve    frontend       CLIENT   409 (error)   pear
//         └ POST /stock/{sku}/reserve  inventory      SERVER   409
//           └ reserve stock            inventory      INTERNAL error: pear is out of stock
//
// What each file shows:
//   telemetry.h        otlp::Setup for one process: service.name, endpoint, sampling
//   checkout_client.h  starting a trace, a synchronous Client inside it
//   frontend.h         a traced Server whose handler calls two services at once (AsyncClient,
//                      HTTP/2 and HTTP/1.1), retries, a deferred response
//   orders.h           blocking work (a WebSocket) off the I/O thread in the request's context
//   inventory.h        a span of your own inside a handler, and how a failure is recorded
//   notifications.h    tracing a server that is not otlp::http::Server (a Boost.Beast
//                      WebSocket endpoint) with TraceIncoming
// The `otlp demo` command (tools/otlp/cmd_demo.cc) starts each service as a child process
// (`otlp demo --service NAME ...`), runs PlaceOrder in its own process as "demo-client", and
// stops them all.
#pragma once

#include "examples/demo/checkout_client.h"
#include "examples/demo/frontend.h"
#include "examples/demo/inventory.h"
#include "examples/demo/notifications.h"
#include "examples/demo/orders.h"
#include "examples/demo/telemetry.h"

namespace otlp::demo {

// The service names of the demo's processes (their resources' service.name).
inline constexpr const char* kClientService = "demo-client";
inline constexpr const char* kFrontendService = "frontend";
inline constexpr const char* kOrdersService = "orders";
inline constexpr const char* kInventoryService = "inventory";
inline constexpr const char* kNotificationsService = "notifications";

}  // namespace otlp::demo
