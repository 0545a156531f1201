#!/usr/bin/env node
'use strict';
// Prints the spans a receiver.js output file holds as an indented tree per trace:
//   node print_spans.js received.jsonl
const fs = require('fs');

function attrValue(v) {
  if (!v) return '';
  if ('stringValue' in v) return JSON.stringify(v.stringValue);
  if ('intValue' in v) return String(v.intValue);
  if ('doubleValue' in v) return String(v.doubleValue);
  if ('boolValue' in v) return String(v.boolValue);
  if ('arrayValue' in v) return '[' + (v.arrayValue.values || []).map(attrValue).join(',') + ']';
  return JSON.stringify(v);
}

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const spans = [];
for (const line of fs.readFileSync(process.argv[2], 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const rec = JSON.parse(line);
  if (!rec.request) continue;
  for (const rs of rec.request.resourceSpans || []) {
    const res = Object.fromEntries(((rs.resource || {}).attributes || [])
      .map((a) => [a.key, attrValue(a.value)]));
    for (const ss of rs.scopeSpans || []) {
      for (const s of ss.spans || []) spans.push({ ...s, service: res['service.name'] });
    }
  }
}
const byId = new Map(spans.map((s) => [s.spanId, s]));
const children = new Map();
const roots = [];
for (const s of spans) {
  if (s.parentSpanId && byId.has(s.parentSpanId)) {
    if (!children.has(s.parentSpanId)) children.set(s.parentSpanId, []);
    children.get(s.parentSpanId).push(s);
  } else {
    roots.push(s);
  }
}
const ns = (x) => BigInt(x || 0);
function print(s, depth, t0) {
  const start = Number(ns(s.startTimeUnixNano) - t0) / 1e6;
  const dur = Number(ns(s.endTimeUnixNano) - ns(s.startTimeUnixNano)) / 1e6;
  const status = s.status && s.status.code === 2 ? ` ERROR(${s.status.message || ''})` : '';
  const attrs = (s.attributes || []).map((a) => `${a.key}=${attrValue(a.value)}`).join(' ');
  console.log(`${'  '.repeat(depth)}${s.name}  [${KINDS[s.kind || 0]}] +${start.toFixed(3)}ms ` +
              `${dur.toFixed(3)}ms${status}  ${attrs}`);
  const kids = (children.get(s.spanId) || [])
    .sort((a, b) => (ns(a.startTimeUnixNano) < ns(b.startTimeUnixNano) ? -1 : 1));
  for (const c of kids) print(c, depth + 1, t0);
}
for (const r of roots) {
  console.log(`trace ${r.traceId} (service ${r.service})`);
  print(r, 1, ns(r.startTimeUnixNano));
}
console.log(`${spans.length} spans`);
