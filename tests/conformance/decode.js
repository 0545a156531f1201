#!/usr/bin/env node
'use strict';
// Decodes an ExportTraceServiceRequest body produced by otlp-cpp with the official OpenTelemetry
// protobuf definitions and prints its canonical JSON (see otlp_decode.js) on one line.
//
//   node decode.js --format=proto|json [--gzip|--no-gzip] [--flat] [--lenient] <file | ->
//
//   --format   how the body is encoded (required)
//   --gzip     the body is gzip-compressed; --no-gzip: it is not; default: detect the magic bytes
//   --flat     print one "path=value" line per field instead of one JSON line
//   --lenient  JSON only: accept 64-bit integers as numbers and enums as strings, as receivers
//              must; by default the OTLP/JSON rules for senders are enforced, unknown keys
//              are refused and the body must be valid UTF-8
//
// Exit status 0 on success; 1 with a message on stderr when the body is malformed.

const fs = require('fs');
const { decodeRequest, canonicalRequest, flatten } = require('./otlp_decode.js');

function main(argv) {
  const opts = { format: undefined, gzip: 'auto', strict: true, flat: false, file: undefined };
  for (const arg of argv) {
    if (arg.startsWith('--format=')) opts.format = arg.slice('--format='.length);
    else if (arg === '--gzip') opts.gzip = true;
    else if (arg === '--no-gzip') opts.gzip = false;
    else if (arg === '--flat') opts.flat = true;
    else if (arg === '--lenient') opts.strict = false;
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else opts.file = arg;
  }
  if (!opts.format || !opts.file) {
    throw new Error('usage: decode.js --format=proto|json [--gzip|--no-gzip] [--flat] ' +
      '[--lenient] <file | ->');
  }
  const body = fs.readFileSync(opts.file === '-' ? 0 : opts.file);
  const canon = canonicalRequest(decodeRequest(body, opts));
  if (opts.flat) {
    const lines = flatten(canon, '', []);
    process.stdout.write(lines.length ? `${lines.join('\n')}\n` : '');
  } else {
    process.stdout.write(`${JSON.stringify(canon)}\n`);
  }
}

try {
  main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`decode.js: ${e.message}\n`);
  process.exit(1);
}
