#!/usr/bin/env node
'use strict';
// Writes an ExportMetricsServiceRequest or ExportLogsServiceRequest made by the official
// OpenTelemetry JS SDK (@opentelemetry/sdk-metrics, @opentelemetry/sdk-logs), serialized by
// @opentelemetry/otlp-transformer (Json/ProtobufMetricsSerializer, Json/ProtobufLogsSerializer),
// for otlp-cpp's metrics and logs decoders to read; and prints what the official protobufjs
// decoder (the transformer's generated root.js) reads from the protobuf serialization of the same
// data, one "path=value" line per field.
//
//   node js_encode_metrics_logs.js --signal=metrics|logs --format=json|proto <out file>
//
// The lines: paths in lowerCamelCase with [i] for list elements; strings as JSON strings,
// numbers (64-bit ones included) bare, booleans bare, ids and bytes as lowercase hex in quotes.
// Fields holding their default value (0, "", false, an empty list) are left out, except the
// members of a oneof or an optional field (asInt, asDouble, sum, min, max, and the AnyValue
// members), which are printed whatever their value when they are set.
//
// The metrics cover a monotonic counter (integers), an up-down counter, a gauge (doubles), an
// explicit-bucket histogram with min and max, an exponential histogram (positive and negative
// values, a zero), attributes of every type and two scopes. The SDK makes no summaries; the
// decoder's unit tests cover them. The logs cover every severity field, a structured body, a
// record inside a span (trace and span ids, flags), an event name and a record without context.

const fs = require('fs');
const api = require('@opentelemetry/api');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const {
  MeterProvider, MetricReader, AggregationType, AggregationTemporality,
} = require('@opentelemetry/sdk-metrics');
const {
  LoggerProvider, SimpleLogRecordProcessor, InMemoryLogRecordExporter,
} = require('@opentelemetry/sdk-logs');
const {
  JsonMetricsSerializer, ProtobufMetricsSerializer, JsonLogsSerializer, ProtobufLogsSerializer,
} = require('@opentelemetry/otlp-transformer');
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');

const P = root.opentelemetry.proto;
const resource = resourceFromAttributes({
  'service.name': 'js-meter', 'service.version': '4.5.6', 'host.cpus': 8,
});

// A reader the test collects from once.
class OnceReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  onForceFlush() { return Promise.resolve(); }
  onShutdown() { return Promise.resolve(); }
}

async function metrics() {
  const reader = new OnceReader();
  const provider = new MeterProvider({
    resource,
    readers: [reader],
    views: [{
      instrumentName: 'payload.size',
      aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 20 } },
    }],
  });
  const meter = provider.getMeter('js-meter-lib', '1.0.0');
  const other = provider.getMeter('js-other');

  const requests = meter.createCounter('http.requests', {
    description: 'requests served', unit: '{request}', valueType: api.ValueType.INT,
  });
  requests.add(3, { 'http.route': '/items', ok: true, ratio: 0.5, codes: [200, 404] });
  requests.add(9007199254740, { 'http.route': '/big' });
  const queue = meter.createUpDownCounter('queue.depth', { valueType: api.ValueType.INT });
  queue.add(5);
  queue.add(-8);
  const temperature = meter.createGauge('temperature', { unit: 'Cel' });
  temperature.record(-12.75, { room: 'cellar \u00e9\u2713' });
  const latency = meter.createHistogram('http.duration', {
    unit: 's', advice: { explicitBucketBoundaries: [0.005, 0.1, 1, 10] },
  });
  for (const v of [0.001, 0.05, 0.07, 3, 42]) latency.record(v, { method: 'GET' });
  const size = other.createHistogram('payload.size', { unit: 'By' });
  for (const v of [0, 1, 2, 1000, 1e6, -3, -0.25]) size.record(v);

  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length) throw errors[0];
  return resourceMetrics;
}

function logs() {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource, processors: [new SimpleLogRecordProcessor(exporter)],
  });
  const logger = provider.getLogger('js-logger', '2.0.0');
  const span = api.trace.wrapSpanContext({
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7',
    traceFlags: api.TraceFlags.SAMPLED,
  });
  logger.emit({
    timestamp: [1700000000, 123],
    observedTimestamp: [1700000001, 456],
    severityNumber: 17,
    severityText: 'ERROR',
    body: { message: 'disk full', free: 0, paths: ['/var', '/tmp'], retry: false, load: 0.75 },
    attributes: { 'exception.type': 'IOError', attempt: 3, big: 12345678901234 },
    context: api.trace.setSpan(api.context.active(), span),
    eventName: 'device.full',
  });
  logger.emit({
    timestamp: [1700000002, 0],
    severityNumber: 9,
    severityText: 'INFO',
    body: 'quote " backslash \\ newline \n unicode \u00e9',
  });
  logger.emit({ body: 42 });
  return exporter.getFinishedLogRecords();
}

// ---- the official decoder's reading, flattened

const LONGS = new Set(['timeUnixNano', 'startTimeUnixNano', 'observedTimeUnixNano', 'count',
  'zeroCount', 'asInt', 'intValue', 'bucketCounts']);
const HEX = new Set(['traceId', 'spanId', 'bytesValue']);
const KEEP = new Set(['asInt', 'asDouble', 'sum', 'min', 'max', 'stringValue', 'boolValue',
  'intValue', 'doubleValue', 'bytesValue']);

function flatten(value, path, key, out) {
  if (HEX.has(key)) {
    const hex = Buffer.from(value).toString('hex');
    if (hex || KEEP.has(key)) out.push(`${path}="${hex}"`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => flatten(v, `${path}[${i}]`, key, out));
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, path ? `${path}.${k}` : k, k, out);
    return;
  }
  const keep = KEEP.has(key);
  if (typeof value === 'string' && LONGS.has(key)) {
    if (value !== '0' || keep) out.push(`${path}=${value}`);
  } else if (typeof value === 'string') {
    if (value !== '' || keep) out.push(`${path}=${JSON.stringify(value)}`);
  } else if (typeof value === 'number') {
    if (value !== 0 || keep) out.push(`${path}=${value}`);
  } else if (typeof value === 'boolean') {
    if (value || keep) out.push(`${path}=${value}`);
  }
}

function officialReading(type, protobufBody) {
  const message = type.decode(protobufBody);
  const object = type.toObject(message, { longs: String, enums: Number, bytes: Array });
  const out = [];
  flatten(object, '', '', out);
  return out;
}

async function main(argv) {
  const opts = {};
  for (const arg of argv) {
    const m = /^--(signal|format)=(.*)$/.exec(arg);
    if (m) opts[m[1]] = m[2];
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else opts.file = arg;
  }
  if (!['metrics', 'logs'].includes(opts.signal) || !['json', 'proto'].includes(opts.format) ||
      !opts.file) {
    throw new Error('usage: js_encode_metrics_logs.js --signal=metrics|logs --format=json|proto ' +
      '<out file>');
  }
  const isMetrics = opts.signal === 'metrics';
  const data = isMetrics ? [await metrics()] : logs();
  const [json, proto] = isMetrics
    ? [JsonMetricsSerializer, ProtobufMetricsSerializer]
    : [JsonLogsSerializer, ProtobufLogsSerializer];
  // Metrics are serialized one ResourceMetrics at a time; logs as a list of records.
  const serialize = (s) => Buffer.from(s.serializeRequest(isMetrics ? data[0] : data));
  const protobufBody = serialize(proto);
  fs.writeFileSync(opts.file, opts.format === 'json' ? serialize(json) : protobufBody);
  const type = isMetrics
    ? P.collector.metrics.v1.ExportMetricsServiceRequest
    : P.collector.logs.v1.ExportLogsServiceRequest;
  const lines = officialReading(type, protobufBody);
  process.stdout.write(lines.length ? `${lines.join('\n')}\n` : '');
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`js_encode_metrics_logs.js: ${e.message}\n`);
  process.exit(1);
});
