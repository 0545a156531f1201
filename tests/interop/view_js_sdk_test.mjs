// Interop proof of `otlp view` (issue 11): the official OpenTelemetry JS SDK
// (@opentelemetry/sdk-trace-base) sends spans through the official exporters
// (@opentelemetry/exporter-trace-otlp-proto, -otlp-http and -otlp-grpc, each plain and gzip) to a
// real `otlp view`, and every field is read back through the JSON API (docs/VIEW-API.md):
// ids, names, kinds, times in ns, status, trace state, flags, attributes of every type and their
// JSON shape, events, links, dropped counts, resource and instrumentation scope, and the trace
// summaries of /api/traces and /api/services.
//
//   npm ci --prefix tests/interop
//   OTLP_BIN=build/tools/otlp/otlp node tests/interop/view_js_sdk_test.mjs
//
// What is expected is derived from the spans the SDK handed to each exporter (captured by a thin
// wrapper around it), converted by the rules of docs/VIEW-API.md, plus a few literal checks of
// the values whose JSON shape is easiest to get wrong (schema URLs and link flags included).
// The view is killed (by pid) in all cases. Only 127.0.0.1 is used.

import {spawn} from 'node:child_process';
import crypto from 'node:crypto';

// The exporters read OTEL_* from the environment; only what this file configures may apply.
for (const key of Object.keys(process.env)) {
  if (key.startsWith('OTEL_')) delete process.env[key];
}

let api, core, sdk, resources, ProtoExporter, HttpExporter, GrpcExporter;
try {
  api = await import('@opentelemetry/api');
  core = await import('@opentelemetry/core');
  sdk = await import('@opentelemetry/sdk-trace-base');
  resources = await import('@opentelemetry/resources');
  ({OTLPTraceExporter: ProtoExporter} = await import('@opentelemetry/exporter-trace-otlp-proto'));
  ({OTLPTraceExporter: HttpExporter} = await import('@opentelemetry/exporter-trace-otlp-http'));
  ({OTLPTraceExporter: GrpcExporter} = await import('@opentelemetry/exporter-trace-otlp-grpc'));
} catch (e) {
  console.error(`view_js_sdk_test: the OpenTelemetry JS packages are not installed ` +
                `(npm ci --prefix tests/interop): ${e.message}`);
  console.log('interop: 0 passed, 1 failed');
  process.exit(1);
}
const {trace, ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags} = api;

const OTLP_BIN = process.env.OTLP_BIN;
const START_TIMEOUT_MS = 15000;
const TOTAL_TIMEOUT_MS = 120000;
const STORE_TIMEOUT_MS = 10000;

if (!OTLP_BIN) {
  console.error('view_js_sdk_test: set OTLP_BIN to the otlp binary (build/tools/otlp/otlp)');
  console.log('interop: 0 passed, 1 failed');
  process.exit(1);
}

// ---- The view process -------------------------------------------------------------------------

let view = null;
function killView() {
  if (view && view.exitCode === null && view.signalCode === null) {
    try { process.kill(view.pid, 'SIGTERM'); } catch {}
  }
}
process.on('exit', killView);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { killView(); process.exit(130); });
}

function startView() {
  return new Promise((resolve, reject) => {
    view = spawn(OTLP_BIN, ['view', '--listen', '127.0.0.1', '--http', '0', '--grpc', '0',
                            '--ui', '0', '--no-waterfall', '--color', 'never'],
                 {stdio: ['ignore', 'pipe', 'pipe']});
    const addr = {};
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(
        `otlp view did not print its addresses within ${START_TIMEOUT_MS} ms\nstdout: ${out}\nstderr: ${err}`)),
        START_TIMEOUT_MS);
    const check = () => {
      let m;
      if ((m = out.match(/OTLP\/HTTP on (http:\/\/127\.0\.0\.1:\d+)/))) addr.http = m[1];
      if ((m = out.match(/OTLP\/gRPC on (127\.0\.0\.1:\d+)/))) addr.grpc = m[1];
      if ((m = out.match(/UI on (http:\/\/127\.0\.0\.1:\d+)\//))) addr.ui = m[1];
      if (addr.http && addr.grpc && addr.ui) {
        clearTimeout(timer);
        resolve(addr);
      }
    };
    view.stdout.on('data', (d) => { out += d; check(); });
    view.stderr.on('data', (d) => { err += d; process.stderr.write(`[otlp view] ${d}`); });
    view.on('error', (e) => { clearTimeout(timer); reject(e); });
    view.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`otlp view exited early (code ${code}, signal ${sig})\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

// ---- Checks -----------------------------------------------------------------------------------

let passed = 0;
const failures = [];
function check(label, ok, detail) {
  if (ok) {
    passed++;
  } else {
    failures.push(`${label}: ${detail}`);
    console.error(`FAIL ${label}: ${detail}`);
  }
}
// An exporter error with what the receiver answered (OTLPExporterError keeps status and body).
const errorText = (e) => (e == null ? 'no error given'
  : `${e.message ?? e}${e.code ? ` (status ${e.code})` : ''}${e.data ? `: ${e.data}` : ''}`);
const show = (v) => (v === undefined ? 'undefined' : JSON.stringify(v));

// Compares expected against actual recursively; returns the list of differences with their path.
// Objects: every expected key must be there and equal (extra keys in the answer are allowed).
// Arrays: same length, element by element. Scalars: strict equality (types included).
function diff(expected, actual, path = '') {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: expected array ${show(expected)}, got ${show(actual)}`];
    const out = [];
    if (expected.length !== actual.length) {
      out.push(`${path}: expected ${expected.length} elements ${show(expected)}, got ${actual.length} ${show(actual)}`);
      return out;
    }
    expected.forEach((e, i) => out.push(...diff(e, actual[i], `${path}[${i}]`)));
    return out;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
      return [`${path}: expected object ${show(expected)}, got ${show(actual)}`];
    }
    const out = [];
    for (const key of Object.keys(expected)) {
      if (!(key in actual)) out.push(`${path}.${key}: missing (expected ${show(expected[key])})`);
      else out.push(...diff(expected[key], actual[key], `${path}.${key}`));
    }
    return out;
  }
  if (!Object.is(expected, actual)) return [`${path}: expected ${show(expected)}, got ${show(actual)}`];
  return [];
}
function checkEqual(label, expected, actual) {
  const d = diff(expected, actual);
  check(label, d.length === 0, d.join('\n    '));
}

// ---- What the SDK sent, in the API's JSON shape (docs/VIEW-API.md) ------------------------------

const KINDS = ['internal', 'server', 'client', 'producer', 'consumer'];  // api SpanKind 0..4
const STATUS = ['unset', 'ok', 'error'];                                // api SpanStatusCode 0..2
const nanos = ([s, ns]) => BigInt(s) * 1000000000n + BigInt(ns);

// The OTLP AnyValue the JS transformer makes of a JS value, as the API shows it.
// `json`: the value went out as OTLP/JSON, where the exporter writes an int_value as a JSON number
// with JSON.stringify, i.e. in the shortest form that reads back as the same double:
// 2^62 = 4611686018427387904 goes out as 4611686018427388000 (the receiver keeps that integer).
function apiValue(v, json) {
  if (v === null || v === undefined) return null;  // an empty AnyValue
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    // Integers go out as int_value, the rest as double_value. Integers beyond ±2^53 come back
    // as strings of digits.
    if (Number.isInteger(v) && !Number.isSafeInteger(v)) {
      return (json ? BigInt(JSON.stringify(v)) : BigInt(v)).toString();
    }
    return v;
  }
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map((x) => apiValue(x, json));
  if (typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, apiValue(x, json)]));
  }
  throw new Error(`no OTLP value for ${typeof v}`);
}
const apiAttributes = (attrs, json) =>
  Object.entries(attrs ?? {}).map(([key, value]) => ({key, value: apiValue(value, json)}));

// W3C trace flags in the low byte, plus the OTLP HAS_IS_REMOTE (0x100) and IS_REMOTE (0x200) bits
// of the parent, as the OTLP spec defines Span.flags.
const otlpFlags = (traceFlags, parentIsRemote) =>
  (traceFlags & 0xff) | 0x100 | (parentIsRemote ? 0x200 : 0);

function expectedSpan(s, json) {
  const ctx = s.spanContext();
  const start = nanos(s.startTime);
  const end = nanos(s.endTime);
  return {
    span_id: ctx.spanId,
    parent_span_id: s.parentSpanContext?.spanId ?? '',
    name: s.name,
    kind: KINDS[s.kind],
    service: s.resource.attributes['service.name'],
    start_unix_nano: start.toString(),
    end_unix_nano: end.toString(),
    duration_ns: Number(end - start),
    status: {code: STATUS[s.status.code], message: s.status.message ?? ''},
    trace_state: ctx.traceState?.serialize() ?? '',
    flags: otlpFlags(ctx.traceFlags, s.parentSpanContext?.isRemote),
    attributes: apiAttributes(s.attributes, json),
    dropped_attributes_count: s.droppedAttributesCount,
    events: s.events.map((e) => ({
      name: e.name,
      time_unix_nano: nanos(e.time).toString(),
      attributes: apiAttributes(e.attributes, json),
      dropped_attributes_count: e.droppedAttributesCount ?? 0,
    })),
    dropped_events_count: s.droppedEventsCount,
    links: s.links.map((l) => ({
      trace_id: l.context.traceId,
      span_id: l.context.spanId,
      trace_state: l.context.traceState?.serialize() ?? '',
      flags: otlpFlags(l.context.traceFlags, l.context.isRemote),
      attributes: apiAttributes(l.attributes, json),
      dropped_attributes_count: l.droppedAttributesCount ?? 0,
    })),
    dropped_links_count: s.droppedLinksCount,
    resource: {attributes: apiAttributes(s.resource.attributes, json), dropped_attributes_count: 0,
               schema_url: s.resource.schemaUrl ?? ''},
    scope: {name: s.instrumentationScope.name, version: s.instrumentationScope.version ?? '',
            attributes: [], dropped_attributes_count: 0,
            schema_url: s.instrumentationScope.schemaUrl ?? ''},
  };
}

// ---- The spans ----------------------------------------------------------------------------------

// Wraps an exporter: records the spans it was given and the result of each export.
class RecordingExporter {
  constructor(inner) { this.inner = inner; this.spans = []; this.results = []; }
  export(spans, done) {
    this.spans.push(...spans);
    this.inner.export(spans, (result) => { this.results.push(result); done(result); });
  }
  forceFlush() { return this.inner.forceFlush ? this.inner.forceFlush() : Promise.resolve(); }
  shutdown() { return this.inner.shutdown(); }
}

const randomHex = (bytes) => crypto.randomBytes(bytes).toString('hex');
const BASE_S = Math.floor(Date.now() / 1000) - 60;  // a minute ago, whole seconds
// An HrTime at `ms` milliseconds plus `extraNs` nanoseconds after BASE_S: odd nanoseconds make a
// microsecond- or millisecond-rounding store visible.
const at = (ms, extraNs = 0) => {
  const total = BigInt(ms) * 1000000n + BigInt(extraNs) + 123457n;
  return [BASE_S + Number(total / 1000000000n), Number(total % 1000000000n)];
};

// Span attributes of every kind an SDK can set (the SDK allows primitives and homogeneous arrays).
const SPAN_ATTRIBUTES = {
  'http.request.method': 'GET',
  'str.unicode': 'grüße ✓ 日本 "quoted" \\ back\nslash\ttab',
  'str.empty': '',
  'bool.true': true,
  'bool.false': false,
  'int.small': 42,
  'int.negative': -7,
  'int.zero': 0,
  'int.max_safe': Number.MAX_SAFE_INTEGER,       // 2^53-1: still a JSON number
  'int.large': 2 ** 62,                          // 4611686018427387904: a string of digits
  'int.large_negative': -(2 ** 60),              // -1152921504606846976
  'double': 3.141592653589793,
  'double.negative': -0.000123,
  'double.tiny': 5e-324,
  'double.large': 123456789.125,  // (a double of 2^53 or more is integral in JS: sent as an int)
  'array.string': ['a', 'b', ''],
  'array.bool': [true, false, true],
  'array.int': [1, -2, 3, 2 ** 62],
  'array.double': [1.5, -2.25],
  'array.empty': [],
  'array.with_null': ['x', null, 'y'],
};
// Literal checks of the JSON shapes (besides the derived expectation above). Over OTLP/JSON the
// exporter writes 2^62 as 4611686018427388000 and -2^60 as -1152921504606847000 (see apiValue).
const literalShapes = (json) => ({
  'int.large': json ? '4611686018427388000' : '4611686018427387904',
  'int.large_negative': json ? '-1152921504606847000' : '-1152921504606846976',
  'int.max_safe': 9007199254740991,
  'int.small': 42,
  'double': 3.141592653589793,
  'double.tiny': 5e-324,
  'array.int': [1, -2, 3, json ? '4611686018427388000' : '4611686018427387904'],
  'bool.false': false,
  'str.empty': '',
  'array.empty': [],
  'array.with_null': ['x', null, 'y'],
});

const VARIANTS = [
  {name: 'proto', transport: 'OTLP/HTTP protobuf', compression: 'none', batch: false},
  {name: 'proto-gzip', transport: 'OTLP/HTTP protobuf', compression: 'gzip', batch: true},
  {name: 'json', transport: 'OTLP/HTTP JSON', compression: 'none', batch: true},
  {name: 'json-gzip', transport: 'OTLP/HTTP JSON', compression: 'gzip', batch: false},
  {name: 'grpc', transport: 'OTLP/gRPC', compression: 'none', batch: false},
  {name: 'grpc-gzip', transport: 'OTLP/gRPC', compression: 'gzip', batch: true},
];

function makeExporter(v, addr) {
  const opts = {compression: v.compression, timeoutMillis: 10000};
  if (v.name.startsWith('proto')) return new ProtoExporter({...opts, url: `${addr.http}/v1/traces`});
  if (v.name.startsWith('json')) return new HttpExporter({...opts, url: `${addr.http}/v1/traces`});
  return new GrpcExporter({...opts, url: `http://${addr.grpc}`});
}

// Sends two traces through one exporter:
//   B: a CONSUMER span continuing a remote parent (not sent) that carries a W3C tracestate;
//   A: SERVER root "GET /checkout" (error) -> CLIENT "SELECT orders" (second scope)
//                                          -> PRODUCER "publish order.created" (links to B and
//                                             to B's remote parent) -> INTERNAL "compute total"
//                                          -> INTERNAL "noisy" (over the span limits: dropped
//                                             attributes and events)
async function sendTraces(v, addr) {
  const service = `interop-${v.name}`;
  const resourceAttributes = {
    'service.name': service,
    'service.version': '2.4.0-interop',
    'service.instance.id': randomHex(8),
    'deployment.environment.name': 'test',
    'telemetry.sdk.language': 'nodejs',
    'process.pid': process.pid,
    'res.bool': true,
    'res.double': 0.25,
    'res.array': ['x', 'y'],
    // Not reachable through the SDK's span API, but the resource keeps any value and the
    // transformer sends an object as a key-value list.
    'res.kvlist': {nested: 'v', count: 3, deep: {flag: true, list: [1, 2]}},
  };
  // Bytes: the protobuf encoders send a Uint8Array as bytes_value; the JSON exporter would
  // JSON.stringify it as an object of indices (a JS-side limitation), so not there.
  if (!v.name.startsWith('json')) resourceAttributes['res.bytes'] = new Uint8Array([0, 1, 2, 254, 255]);
  const resource = resources.resourceFromAttributes(resourceAttributes,
                                                    {schemaUrl: 'https://opentelemetry.io/schemas/1.26.0'});
  const exporter = new RecordingExporter(makeExporter(v, addr));
  const processor = v.batch
    ? new sdk.BatchSpanProcessor(exporter, {scheduledDelayMillis: 50, maxExportBatchSize: 3})
    : new sdk.SimpleSpanProcessor(exporter);
  const provider = new sdk.BasicTracerProvider({
    resource,
    spanProcessors: [processor],
    spanLimits: {attributeCountLimit: 64, eventCountLimit: 4},
  });
  const tracer = provider.getTracer('interop.checkout', '1.2.3',
                                    {schemaUrl: 'https://opentelemetry.io/schemas/1.26.0'});
  const dbTracer = provider.getTracer('interop.db', '0.9.0');
  const child = (parent) => trace.setSpan(ROOT_CONTEXT, parent);

  // Trace B: continues a remote parent that carries a tracestate.
  const remote = {
    traceId: randomHex(16), spanId: randomHex(8), traceFlags: TraceFlags.SAMPLED, isRemote: true,
    traceState: new core.TraceState('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'),
  };
  const consumer = tracer.startSpan('process order.created', {
    kind: SpanKind.CONSUMER, startTime: at(0),
    attributes: {'messaging.system': 'nats', 'messaging.operation.type': 'process'},
  }, trace.setSpanContext(ROOT_CONTEXT, remote));
  consumer.setStatus({code: SpanStatusCode.OK});
  consumer.end(at(7, 1));

  // Trace A.
  const root = tracer.startSpan('GET /checkout', {kind: SpanKind.SERVER, startTime: at(10),
                                                  attributes: SPAN_ATTRIBUTES}, ROOT_CONTEXT);
  root.addEvent('cache.miss', {'cache.key': 'cart:42', 'cache.size': 3, 'cache.ratio': 0.5,
                               'cache.hit': false, 'cache.keys': ['a', 'b']}, at(11, 7));
  root.addEvent('no attributes', at(12, 9));
  root.recordException(Object.assign(new Error('card declined'), {name: 'PaymentError'}), at(40, 3));
  root.setStatus({code: SpanStatusCode.ERROR, message: 'payment declined: card 4242 "expired"'});

  const db = dbTracer.startSpan('SELECT orders', {kind: SpanKind.CLIENT, startTime: at(12, 500)},
                                child(root));
  db.setAttributes({'db.system.name': 'sqlite', 'db.query.text': 'SELECT * FROM orders WHERE id = ?',
                    'db.response.returned_rows': 1});
  db.end(at(15, 11));

  const producer = tracer.startSpan('publish order.created', {
    kind: SpanKind.PRODUCER, startTime: at(16, 3),
    links: [{context: consumer.spanContext(),
             attributes: {'link.reason': 'follows', 'link.count': 2, 'link.ok': true,
                          'link.weights': [0.5, 1.5]},
             droppedAttributesCount: 3}],
  }, child(root));
  producer.addLink({context: remote});  // a link without attributes, to a span not sent
  producer.setAttribute('messaging.destination.name', 'orders');
  producer.end(at(20, 5));

  const internal = tracer.startSpan('compute total', {kind: SpanKind.INTERNAL, startTime: at(21, 1)},
                                    child(producer));
  internal.setAttribute('total.cents', 129900);
  internal.setStatus({code: SpanStatusCode.OK});
  internal.end(at(23, 2));

  const noisy = tracer.startSpan('noisy', {startTime: at(24, 4)}, child(root));
  for (let i = 0; i < 70; i++) noisy.setAttribute(`noisy.attr.${String(i).padStart(2, '0')}`, i);
  for (let i = 0; i < 6; i++) noisy.addEvent(`tick ${i}`, {'tick.n': i}, at(25 + i, i));
  noisy.end(at(32, 8));

  root.end(at(50, 99));

  await provider.forceFlush();
  await provider.shutdown();

  const failed = exporter.results.filter((r) => r.code !== 0);
  check(`${v.name}: every export succeeded`, exporter.results.length > 0 && failed.length === 0,
        `${exporter.results.length} exports, failed: ` +
        failed.map((r) => errorText(r.error)).join('; '));
  check(`${v.name}: the SDK exported all 6 spans`, exporter.spans.length === 6,
        `${exporter.spans.length} spans exported`);
  // Sanity of the test itself: the limits dropped what they should.
  check(`${v.name}: span limits dropped 6 attributes and 2 events`,
        noisy.droppedAttributesCount === 6 && noisy.droppedEventsCount === 2,
        `dropped ${noisy.droppedAttributesCount} attributes, ${noisy.droppedEventsCount} events`);

  return {service, spans: exporter.spans, traceA: root.spanContext().traceId,
          traceB: consumer.spanContext().traceId, rootId: root.spanContext().spanId,
          consumerId: consumer.spanContext().spanId};
}

// ---- Reading back -------------------------------------------------------------------------------

async function getJson(base, path) {
  const res = await fetch(`${base}${path}`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}: ${text}`);
  const ct = res.headers.get('content-type') ?? '';
  if (!ct.startsWith('application/json')) throw new Error(`GET ${path}: Content-Type ${ct}`);
  return JSON.parse(text);
}

// Storage is batched: waits until the service's traces hold all spans sent.
async function waitStored(ui, service, spanCount) {
  const deadline = Date.now() + STORE_TIMEOUT_MS;
  let last;
  while (Date.now() < deadline) {
    last = await getJson(ui, `/api/traces?service=${encodeURIComponent(service)}`);
    const stored = last.traces.reduce((n, t) => n + t.span_count, 0);
    if (stored >= spanCount) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

function expectedSummary(traceId, spans) {
  const mine = spans.filter((s) => s.spanContext().traceId === traceId);
  const start = mine.reduce((m, s) => (nanos(s.startTime) < m ? nanos(s.startTime) : m), nanos(mine[0].startTime));
  const end = mine.reduce((m, s) => (nanos(s.endTime) > m ? nanos(s.endTime) : m), nanos(mine[0].endTime));
  // The root: the span without a parent id; when none arrived, the earliest span.
  const roots = mine.filter((s) => !s.parentSpanContext?.spanId);
  const earliest = [...mine].sort((a, b) => (nanos(a.startTime) < nanos(b.startTime) ? -1 : 1))[0];
  const root = roots[0] ?? earliest;
  const services = {};
  for (const s of mine) {
    const name = s.resource.attributes['service.name'];
    services[name] = (services[name] ?? 0) + 1;
  }
  return {
    trace_id: traceId,
    root_service: root.resource.attributes['service.name'],
    root_name: root.name,
    start_unix_nano: start.toString(),
    duration_ns: Number(end - start),
    span_count: mine.length,
    error_count: mine.filter((s) => s.status.code === SpanStatusCode.ERROR).length,
    services: Object.entries(services).sort().map(([name, n]) => ({name, spans: n})),
  };
}

async function verify(v, sent, ui) {
  const {service, spans} = sent;
  const list = await waitStored(ui, service, spans.length);
  const listed = new Map(list.traces.map((t) => [t.trace_id, t]));
  check(`${v.name}: /api/traces?service=${service} lists traces A and B`,
        listed.has(sent.traceA) && listed.has(sent.traceB) && list.traces.length === 2 && list.total === 2,
        `got ${show(list.traces.map((t) => t.trace_id))} total ${list.total}, ` +
        `want ${sent.traceA} and ${sent.traceB}`);
  check(`${v.name}: the list is newest first`,
        list.traces.length !== 2 || list.traces[0].trace_id === sent.traceA,
        `order ${show(list.traces.map((t) => t.trace_id))}`);

  for (const [label, traceId] of [['trace A', sent.traceA], ['trace B', sent.traceB]]) {
    const mine = spans.filter((s) => s.spanContext().traceId === traceId);
    const summary = expectedSummary(traceId, spans);
    if (listed.has(traceId)) checkEqual(`${v.name}: ${label} summary in /api/traces`, summary, listed.get(traceId));

    let detail;
    try {
      detail = await getJson(ui, `/api/traces/${traceId}`);
    } catch (e) {
      check(`${v.name}: GET /api/traces/${traceId} (${label})`, false, e.message);
      continue;
    }
    check(`${v.name}: ${label} detail trace_id/start/duration`,
          detail.trace_id === traceId && detail.start_unix_nano === summary.start_unix_nano &&
          detail.duration_ns === summary.duration_ns,
          `got ${show({trace_id: detail.trace_id, start_unix_nano: detail.start_unix_nano,
                        duration_ns: detail.duration_ns})}, want ${show({trace_id: traceId,
                        start_unix_nano: summary.start_unix_nano, duration_ns: summary.duration_ns})}`);
    checkEqual(`${v.name}: ${label} logs`, [], detail.logs);
    const expected = [...mine].sort((a, b) => (nanos(a.startTime) < nanos(b.startTime) ? -1 : 1))
      .map((s) => expectedSpan(s, v.name.startsWith('json')));
    check(`${v.name}: ${label} has ${expected.length} spans sorted by start time`,
          Array.isArray(detail.spans) && detail.spans.length === expected.length &&
          detail.spans.every((s, i) => s.span_id === expected[i].span_id),
          `got ${show((detail.spans ?? []).map((s) => `${s.name} ${s.span_id}`))}, ` +
          `want ${show(expected.map((s) => `${s.name} ${s.span_id}`))}`);
    for (const exp of expected) {
      const got = (detail.spans ?? []).find((s) => s.span_id === exp.span_id);
      if (!got) {
        check(`${v.name}: ${label} span "${exp.name}"`, false, `span ${exp.span_id} not returned`);
        continue;
      }
      checkEqual(`${v.name}: ${label} span "${exp.name}" (${exp.span_id})`, exp, got);
    }

    if (label === 'trace A') {
      const root = (detail.spans ?? []).find((s) => s.span_id === sent.rootId);
      if (root) {
        const byKey = Object.fromEntries(root.attributes.map((a) => [a.key, a.value]));
        const want = literalShapes(v.name.startsWith('json'));
        checkEqual(`${v.name}: literal JSON shapes of the root's attributes`, want,
                   Object.fromEntries(Object.keys(want).map((k) => [k, byKey[k]])));
        const res = Object.fromEntries(root.resource.attributes.map((a) => [a.key, a.value]));
        const wantRes = {'res.kvlist': {nested: 'v', count: 3, deep: {flag: true, list: [1, 2]}},
                         'process.pid': process.pid, 'res.double': 0.25};
        if (!v.name.startsWith('json')) wantRes['res.bytes'] = 'AAEC/v8=';
        checkEqual(`${v.name}: literal JSON shapes of the resource attributes`, wantRes,
                   Object.fromEntries(Object.keys(wantRes).map((k) => [k, res[k]])));
        checkEqual(`${v.name}: root status and flags`,
                   {status: {code: 'error', message: 'payment declined: card 4242 "expired"'}, flags: 0x101},
                   {status: root.status, flags: root.flags});
      }
      const producer = (detail.spans ?? []).find((s) => s.name === 'publish order.created');
      if (producer) {
        check(`${v.name}: the producer's link leads to trace B's consumer span`,
              producer.links?.[0]?.trace_id === sent.traceB && producer.links?.[0]?.span_id === sent.consumerId,
              `links ${show(producer.links)}`);
      }
    } else {
      const consumer = (detail.spans ?? []).find((s) => s.span_id === sent.consumerId);
      if (consumer) {
        checkEqual(`${v.name}: remote-parented consumer (tracestate, IS_REMOTE flag)`,
                   {trace_state: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7', flags: 0x301, kind: 'consumer'},
                   {trace_state: consumer.trace_state, flags: consumer.flags, kind: consumer.kind});
      }
    }
  }
}

// ---- Main ---------------------------------------------------------------------------------------

const watchdog = setTimeout(() => {
  console.error(`view_js_sdk_test: timed out after ${TOTAL_TIMEOUT_MS} ms`);
  console.log(`interop: ${passed} passed, ${failures.length + 1} failed`);
  killView();
  process.exit(1);
}, TOTAL_TIMEOUT_MS);

let exitCode = 0;
try {
  const addr = await startView();
  console.log(`otlp view: HTTP ${addr.http}, gRPC ${addr.grpc}, UI ${addr.ui}`);
  const sent = [];
  for (const v of VARIANTS) {
    const how = `${v.transport}, compression ${v.compression}, ` +
                `${v.batch ? 'BatchSpanProcessor' : 'SimpleSpanProcessor'}`;
    try {
      sent.push(await sendTraces(v, addr));
      console.log(`sent ${v.name} (${how})`);
    } catch (e) {  // e.g. the BatchSpanProcessor's flush rejects when an export failed
      sent.push(null);
      check(`${v.name}: sending through ${how}`, false, errorText(e));
    }
  }
  for (let i = 0; i < VARIANTS.length; i++) {
    if (sent[i]) await verify(VARIANTS[i], sent[i], addr.ui);
  }

  const services = await getJson(addr.ui, '/api/services');
  for (const s of sent.filter(Boolean)) {
    const got = services.services?.find((x) => x.name === s.service);
    checkEqual(`/api/services entry of ${s.service}`,
               {name: s.service, spans: 6, errors: 1, traces: 2}, got ?? null);
  }
  const stats = await getJson(addr.ui, '/api/stats');
  check('/api/stats counts', stats.traces === 2 * VARIANTS.length && stats.spans === 6 * VARIANTS.length,
        `got ${show(stats)}`);
} catch (e) {
  failures.push(`error: ${errorText(e)}\n${e.stack ?? ""}`);
  console.error(`FAIL ${errorText(e)}\n${e.stack ?? ""}`);
} finally {
  clearTimeout(watchdog);
  killView();
}

if (failures.length) exitCode = 1;
console.log(exitCode === 0
  ? `view_js_sdk_test: every field sent by the OpenTelemetry JS SDK through ${VARIANTS.length} exporters came back`
  : `view_js_sdk_test: ${failures.length} check(s) failed`);
console.log(`interop: ${passed} passed, ${failures.length} failed`);
process.exit(exitCode);
