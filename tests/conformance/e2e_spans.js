#!/usr/bin/env node
'use strict';
// Flattens a receiver.js output file (one canonical JSON line per request, see receiver.js) into
// "path=value" lines keyed by span name rather than by position, so a test can compare what it
// sent without depending on how the exporter grouped spans into resources, scopes and requests.
//
//   node e2e_spans.js [--by-kind] <receiver output file>
//
// --by-kind keys spans by kind and name, span[CLIENT GET /items/{id}], for traces where a
// CLIENT and a SERVER span share a name (HTTP spans do).
//
// Prints, in file order:
//   request[i].contentType="…"  request[i].contentEncoding="…"  request[i].userAgent="…"
//   request[i].spans=N                        spans in that request
//   error[i]="…" / failed[i]=STATUS          lines receiver.js wrote for refused requests
//   span[NAME].<field path>=value             every field of the span named NAME
//   span[NAME].resource.<path>=value          its ResourceSpans.resource
//   span[NAME].resourceSchemaUrl="…"          ResourceSpans.schemaUrl (when set)
//   span[NAME].scope.<path>=value             its ScopeSpans.scope
//   span[NAME].scopeSchemaUrl="…"             ScopeSpans.schemaUrl (when set)
// Values are in the canonical form of otlp_decode.js (JSON-quoted strings, bare numbers, {} for
// an empty message). Exit status 1 with a message when the file cannot be read or parsed.

const fs = require('fs');
const { flatten } = require('./otlp_decode.js');

function emit(out, prefix, value) {
  if (value === undefined) return;
  for (const line of flatten(value, prefix, [])) out.push(line);
}

// opentelemetry.proto.trace.v1.Span.SpanKind without the SPAN_KIND_ prefix.
const KIND_NAMES = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];

function main(argv) {
  const byKind = argv[0] === '--by-kind';
  const files = byKind ? argv.slice(1) : argv;
  if (files.length !== 1) throw new Error('usage: e2e_spans.js [--by-kind] <receiver output file>');
  const out = [];
  const lines = fs.readFileSync(files[0], 'utf8').split('\n').filter((l) => l.trim() !== '');
  lines.forEach((line, i) => {
    const rec = JSON.parse(line);
    if (rec.error !== undefined) {
      out.push(`error[${i}]=${JSON.stringify(rec.error)}`);
      return;
    }
    if (rec.failed !== undefined) {
      out.push(`failed[${i}]=${JSON.stringify(rec.failed)}`);
      return;
    }
    const r = `request[${i}]`;
    out.push(`${r}.contentType=${JSON.stringify(rec.contentType)}`);
    out.push(`${r}.contentEncoding=${JSON.stringify(rec.contentEncoding)}`);
    out.push(`${r}.userAgent=${JSON.stringify(rec.userAgent)}`);
    let count = 0;
    for (const rs of (rec.request && rec.request.resourceSpans) || []) {
      for (const ss of rs.scopeSpans || []) {
        for (const span of ss.spans || []) {
          count += 1;
          const { name = '', ...fields } = span;
          const kind = byKind ? `${KIND_NAMES[span.kind || 0] || span.kind} ` : '';
          const p = `span[${kind}${name}]`;
          emit(out, p, fields);
          emit(out, `${p}.resource`, rs.resource);
          emit(out, `${p}.resourceSchemaUrl`, rs.schemaUrl);
          emit(out, `${p}.scope`, ss.scope);
          emit(out, `${p}.scopeSchemaUrl`, ss.schemaUrl);
        }
      }
    }
    out.push(`${r}.spans=${count}`);
  });
  process.stdout.write(out.length ? `${out.join('\n')}\n` : '');
}

try {
  main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`e2e_spans.js: ${e.message}\n`);
  process.exit(1);
}
