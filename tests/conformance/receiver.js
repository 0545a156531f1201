#!/usr/bin/env node
'use strict';
// A minimal OTLP/HTTP trace receiver for tests, decoding with the official OpenTelemetry
// protobuf definitions (see otlp_decode.js).
//
//   node receiver.js --out=<file> [--port=N] [--partial-success=N[:message]]
//                    [--fail=STATUS[:COUNT]] [--retry-after=SECONDS] [--exit-on-stdin-eof]
//
// Listens on 127.0.0.1 (port N, default 0 = any free port) and prints the port on stdout as
// the first line once it accepts connections. Accepts POST /v1/traces with Content-Type
// application/x-protobuf or application/json and optional Content-Encoding: gzip.
// For each request that decodes, appends one JSON line to <file> BEFORE answering:
//   {"contentType":…,"contentEncoding":…,"userAgent":…,"request":<canonical request>}
// and answers 200 with an empty ExportTraceServiceResponse in the request's encoding (or one
// carrying partial_success when --partial-success is given).
// A body that does not decode gets 400 with a google.rpc.Status (code 3) explaining why, and a
// line {"error":…} in <file>. Wrong path: 404; wrong method: 405; other content types: 415.
//   --fail=STATUS[:COUNT]   answer the first COUNT (default 1) requests with HTTP STATUS and a
//                           google.rpc.Status body (code 14 UNAVAILABLE), before decoding;
//                           these requests are logged as {"failed":STATUS}
//   --retry-after=SECONDS   add Retry-After to those failure answers
//   --exit-on-stdin-eof     exit when stdin closes (so the receiver never outlives its parent)
// SIGTERM/SIGINT close the server and exit 0.

const fs = require('fs');
const http = require('http');
const {
  Response, decodeRequest, canonicalRequest, encodeRpcStatus,
} = require('./otlp_decode.js');

function parseArgs(argv) {
  const opts = { port: 0, out: undefined, partial: undefined, failStatus: 0, failCount: 0,
    retryAfter: undefined, exitOnStdinEof: false };
  for (const arg of argv) {
    const [name, ...rest] = arg.split('=');
    const value = rest.join('=');
    if (name === '--port') {
      opts.port = Number(value);
    } else if (name === '--out') {
      opts.out = value;
    } else if (name === '--partial-success') {
      const [n, ...msg] = value.split(':');
      opts.partial = { rejectedSpans: Number(n), errorMessage: msg.join(':') };
    } else if (name === '--fail') {
      const [status, count] = value.split(':');
      opts.failStatus = Number(status);
      opts.failCount = count === undefined ? 1 : Number(count);
    } else if (name === '--retry-after') {
      opts.retryAfter = value;
    } else if (name === '--exit-on-stdin-eof') {
      opts.exitOnStdinEof = true;
    } else {
      throw new Error(`unknown argument ${arg}`);
    }
  }
  if (!opts.out) throw new Error('--out=<file> is required');
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new Error('bad --port');
  }
  return opts;
}

function mediaType(header) {
  return (header || '').split(';')[0].trim().toLowerCase();
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const log = (obj) => fs.appendFileSync(opts.out, `${JSON.stringify(obj)}\n`);
  let failuresLeft = opts.failCount;

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const type = mediaType(req.headers['content-type']);
      const json = type === 'application/json';
      const reply = (status, body, extraHeaders = {}) => {
        res.writeHead(status, {
          'Content-Type': json ? 'application/json' : 'application/x-protobuf',
          'Content-Length': body.length,
          ...extraHeaders,
        });
        res.end(body);
      };
      const rpcStatus = (code, message) => (json
        ? Buffer.from(JSON.stringify({ code, message }))
        : encodeRpcStatus(code, message));

      const path = req.url.split('?')[0];
      if (path !== '/v1/traces') return reply(404, rpcStatus(5, `no route ${path}`));
      if (req.method !== 'POST') return reply(405, rpcStatus(12, 'only POST'));
      if (type !== 'application/json' && type !== 'application/x-protobuf') {
        return reply(415, rpcStatus(3, `unsupported Content-Type ${req.headers['content-type']}`));
      }
      const encoding = (req.headers['content-encoding'] || 'identity').trim().toLowerCase();
      if (encoding !== 'gzip' && encoding !== 'identity') {
        return reply(415, rpcStatus(3, `unsupported Content-Encoding ${encoding}`));
      }
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        log({ failed: opts.failStatus });
        const headers = opts.retryAfter !== undefined ? { 'Retry-After': opts.retryAfter } : {};
        return reply(opts.failStatus, rpcStatus(14, 'injected failure'), headers);
      }

      let canon;
      try {
        const msg = decodeRequest(Buffer.concat(chunks), {
          format: json ? 'json' : 'proto', gzip: encoding === 'gzip', strict: true,
        });
        canon = canonicalRequest(msg);
      } catch (e) {
        log({ error: e.message });
        return reply(400, rpcStatus(3, `cannot decode request: ${e.message}`));
      }
      log({
        contentType: type,
        contentEncoding: encoding,
        userAgent: req.headers['user-agent'] || '',
        request: canon,
      });

      const partial = opts.partial;
      let body;
      if (json) {
        body = Buffer.from(JSON.stringify(partial ? {
          partialSuccess: { rejectedSpans: String(partial.rejectedSpans),
            errorMessage: partial.errorMessage },
        } : {}));
      } else {
        body = Buffer.from(Response.encode(Response.fromObject(
          partial ? { partialSuccess: partial } : {})).finish());
      }
      return reply(200, body);
    });
    req.on('error', () => res.destroy());
  });

  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (opts.exitOnStdinEof) {
    process.stdin.on('end', () => process.exit(0));
    process.stdin.on('error', () => process.exit(0));
    process.stdin.resume();
  }
  server.keepAliveTimeout = 30000;
  server.listen(opts.port, '127.0.0.1', () => {
    process.stdout.write(`${server.address().port}\n`);
  });
}

try {
  main();
} catch (e) {
  process.stderr.write(`receiver.js: ${e.message}\n`);
  process.exit(2);
}
