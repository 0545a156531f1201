#!/usr/bin/env node
'use strict';
// A WebSocket test server on the npm `ws` package (an implementation independent of Beast),
// for otlp/http/websocket_test.cc.
//
//   node ws_server.js [--cert=FILE --key=FILE] [--max-payload=BYTES]
//
// Listens on 127.0.0.1 on a free port (wss:// with --cert/--key), prints "PORT <n>" once it
// accepts connections, offers permessage-deflate to clients that ask for it, picks the first
// subprotocol a client offers, and exits when stdin closes. Paths: /refuse answers the upgrade
// with 403. Each data message is echoed with its type, except these text commands:
//   headers            -> the upgrade request's headers as JSON (text)
//   extensions         -> the negotiated extensions header value ("" when none)
//   close:CODE:REASON  -> the server closes with CODE and REASON
//   ping:PAYLOAD       -> the server pings; when the pong arrives it sends "pong:PAYLOAD"
//   fragments:N:TEXT   -> TEXT sent as one text message in N fragments
//   big:N              -> a binary message of N bytes (byte i = i % 251)
// When a connection closes the server prints "CLOSE <code> <reason>" on stdout.

const fs = require('fs');
const http = require('http');
const https = require('https');
const { WebSocketServer } = require('ws');

const opts = {};
for (const arg of process.argv.slice(2)) {
  const [name, ...rest] = arg.split('=');
  opts[name.replace(/^--/, '')] = rest.join('=');
}

const server = opts.cert
  ? https.createServer({ cert: fs.readFileSync(opts.cert), key: fs.readFileSync(opts.key) })
  : http.createServer();
server.on('request', (req, res) => { res.writeHead(426); res.end('upgrade required\n'); });

const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: { threshold: 0 },
  maxPayload: Number(opts['max-payload'] || 256 * 1024 * 1024),
  handleProtocols: (protocols) => (protocols.size ? protocols.values().next().value : false),
});

server.on('upgrade', (req, socket, head) => {
  if (req.url === '/refuse') {
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 7\r\nConnection: close\r\n\r\nnot you');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});

wss.on('connection', (ws, req) => {
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? null : data.toString();
    if (text === 'headers') return ws.send(JSON.stringify(req.headers));
    if (text === 'extensions') return ws.send(req.headers['sec-websocket-extensions'] && ws.extensions ? ws.extensions : '');
    if (text && text.startsWith('close:')) {
      const [, code, ...reason] = text.split(':');
      return ws.close(Number(code), reason.join(':'));
    }
    if (text && text.startsWith('ping:')) return ws.ping(Buffer.from(text.slice(5)));
    if (text && text.startsWith('fragments:')) {
      const [, n, ...body] = text.split(':');
      const whole = body.join(':');
      const count = Number(n);
      const size = Math.ceil(whole.length / count);
      for (let i = 0; i < count; i++) {
        ws.send(whole.slice(i * size, (i + 1) * size), { fin: i === count - 1, binary: false });
      }
      return undefined;
    }
    if (text && text.startsWith('big:')) {
      const n = Number(text.slice(4));
      const buf = Buffer.alloc(n);
      for (let i = 0; i < n; i++) buf[i] = i % 251;
      return ws.send(buf, { binary: true });
    }
    return ws.send(data, { binary: isBinary });
  });
  ws.on('pong', (payload) => ws.send('pong:' + payload.toString()));
  ws.on('close', (code, reason) => process.stdout.write(`CLOSE ${code} ${reason.toString()}\n`));
  ws.on('error', () => {});
});

server.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${server.address().port}\n`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
