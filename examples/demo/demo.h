// examples/demo/demo.h — `otlp demo`: a checkout traced end to end across five services, each a
// process of its own with its own service.name, written with otlp-cpp's public API only.
//
//   demo-client ──HTTP/1.1──▶ frontend ──HTTP/2 (h2c)──▶ orders ──WebSocket──▶ notifications
//                                 └──────HTTP/1.1──────▶ inventory ◀─────────┐ │ NATS
//                                                                 request-reply orders.created
//                                                                            │ ▼
//                       stream ORDERS, KV orders, object store receipts ◀── fulfillment
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
//       │   ├ GET                      orders         CLIENT   101           WebSocket upgrade
//       │   │ └ GET /notifications     notifications  SERVER   101
//       │   │   └ deliver notification notifications  INTERNAL
//       │   └ send orders.created      orders         PRODUCER               context in headers
//       │     └ process orders.created fulfillment    CONSUMER               queue group
//       │       ├ request inventory.check fulfillment CLIENT
//       │       │ └ process inventory.check inventory CONSUMER
//       │       │   ├ check stock      inventory      INTERNAL               "short: pear"
//       │       │   └ send (temporary) inventory      PRODUCER               the reply
//       │       ├ send orders.log.1001 fulfillment    PRODUCER               JetStream, PubAck
//       │       ├ kv put orders        fulfillment    CLIENT
//       │       │ └ send $KV.orders.1001 fulfillment  PRODUCER
//       │       ├ obj put receipts     fulfillment    CLIENT
//       │       │ └ request $JS.API.STREAM.MSG.GET.OBJ_receipts  CLIENT  (is there one to replace?)
//       │       └ send orders.fulfilled fulfillment   PRODUCER               the demo waits for it
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
//   fulfillment.h      NATS: a queue-group worker, request-reply, JetStream, KV, Object Store
//                      (the messaging hops run when `otlp demo` has a nats-server to start)
// The `otlp demo` command (tools/otlp/cmd_demo.cc) starts each service as a child process
// (`otlp demo --service NAME ...`), runs PlaceOrder in its own process as "demo-client", and
// stops them all.
#pragma once

#include "examples/demo/checkout_client.h"
#include "examples/demo/frontend.h"
#include "examples/demo/fulfillment.h"
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
inline constexpr const char* kFulfillmentService = "fulfillment";

}  // namespace otlp::demo
