#!/usr/bin/env node
'use strict';
// Writes an ExportTraceServiceRequest made by the official OpenTelemetry JS SDK
// (@opentelemetry/sdk-trace-base spans, serialized by @opentelemetry/otlp-transformer's
// JsonTraceSerializer or ProtobufTraceSerializer), for otlp-cpp's request decoder to read.
//
//   node js_encode.js --format=json|proto <out file>
//
// The spans cover what a decoder must get right: every attribute type (strings with quotes,
// control and non-ASCII characters, integers beyond 32 bits, doubles, booleans, homogeneous
// arrays), every span kind, parents (local and remote, with a tracestate), events and links with
// attributes, an error status, dropped attribute/event/link counts, two instrumentation scopes
// and a resource. Ids come from a counter and times are fixed, so the output is the same on
// every run.

const fs = require('fs');
const api = require('@opentelemetry/api');
const {
  BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor,
} = require('@opentelemetry/sdk-trace-base');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { JsonTraceSerializer, ProtobufTraceSerializer } = require('@opentelemetry/otlp-transformer');

// Deterministic ids: 1, 2, 3, … in the low bytes.
let nextId = 1;
const idGenerator = {
  generateTraceId: () => (nextId++).toString(16).padStart(32, '0').replace(/^0/, 'a'),
  generateSpanId: () => (nextId++).toString(16).padStart(16, '0').replace(/^0/, 'b'),
};

function spans() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'js-checkout',
      'service.version': '1.2.3',
      'host.cpus': 8,
    }),
    idGenerator,
    spanLimits: { attributeCountLimit: 12, eventCountLimit: 2, linkCountLimit: 1 },
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('js-lib', '0.9.1');
  const other = provider.getTracer('js-other');
  const at = (ns) => [1700000000, ns];

  const root = tracer.startSpan('GET /items/{id}', {
    kind: api.SpanKind.SERVER,
    startTime: at(1000),
    attributes: {
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'big.int': 9007199254740991,
      'negative.int': -42,
      'ratio': 0.25,
      'cache.hit': false,
      'text.escapes': 'quote " backslash \\ newline \n tab \t bell \u0007',
      'text.unicode': 'h\u00e9llo \u2713 \ud83d\ude00',
      'tags': ['alpha', 'beta', ''],
      'ints': [1, -2, 3000000000],
      'doubles': [1.5, -0.5],
      'bools': [true, false],
    },
  });
  root.setAttribute('over.the.limit', 'dropped');  // the 13th attribute: counted as dropped
  root.addEvent('cache miss', { key: 'item:17', attempt: 2 }, at(2000));
  root.addEvent('retry', {}, at(3000));
  root.addEvent('third event', {}, at(4000));  // beyond the event limit: counted as dropped
  root.setStatus({ code: api.SpanStatusCode.ERROR, message: 'upstream failed: 503' });

  const rootCtx = api.trace.setSpan(api.context.active(), root);
  const child = tracer.startSpan('SELECT items', {
    kind: api.SpanKind.CLIENT,
    startTime: at(1500),
    attributes: { 'db.system': 'postgresql', 'db.rows': 3 },
    links: [
      { context: { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags: 1,
                   isRemote: true }, attributes: { 'link.kind': 'follows_from' } },
      { context: { traceId: 'e'.repeat(32), spanId: 'f'.repeat(16), traceFlags: 0 } },
    ],
  }, rootCtx);
  child.setStatus({ code: api.SpanStatusCode.OK });
  child.end(at(2500));

  // A child of a remote parent that carries a tracestate.
  const remote = api.trace.setSpanContext(api.context.active(), {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: api.TraceFlags.SAMPLED,
    isRemote: true,
    traceState: api.createTraceState('vendor=abc123,other=x'),
  });
  const consumer = other.startSpan('process message', {
    kind: api.SpanKind.CONSUMER, startTime: at(5000),
  }, remote);
  consumer.end(at(6000));

  const producer = other.startSpan('publish', { kind: api.SpanKind.PRODUCER, startTime: at(7000) });
  producer.end(at(8000));
  const internal = tracer.startSpan('compute', { startTime: at(9000) }, rootCtx);
  internal.end(at(9500));

  root.end(at(10000));
  return exporter.getFinishedSpans();
}

function main(argv) {
  let format;
  let file;
  for (const arg of argv) {
    if (arg.startsWith('--format=')) format = arg.slice('--format='.length);
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else file = arg;
  }
  if ((format !== 'json' && format !== 'proto') || !file) {
    throw new Error('usage: js_encode.js --format=json|proto <out file>');
  }
  const serializer = format === 'json' ? JsonTraceSerializer : ProtobufTraceSerializer;
  fs.writeFileSync(file, Buffer.from(serializer.serializeRequest(spans())));
}

try {
  main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`js_encode.js: ${e.message}\n`);
  process.exit(1);
}
