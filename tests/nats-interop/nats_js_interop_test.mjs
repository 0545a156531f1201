// Interop: the official NATS JS client (@nats-io/transport-node) and otlp-cpp's NATS client (run
// through the `otlp nats` CLI) on one real nats-server:
//   - headers both ways (case kept, repeated keys, values), trace context both ways: a JS
//     traceparent becomes the parent of our CONSUMER span (read back from `otlp view`'s API), and
//     our PRODUCER span's context reaches JS in the traceparent header;
//   - request-reply both ways (JS responder ← our request; our responder ← JS request);
//   - queue groups mixed: a JS member and one of ours share 200 messages, each gets some, none is
//     lost or doubled.
// Environment: OTLP_BIN (the otlp binary), NATS_SERVER (the nats-server binary).
// Exit status 0 when every check passed; each failure is printed.
import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync, readFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {connect, headers as natsHeaders} from '@nats-io/transport-node';

const OTLP_BIN = process.env.OTLP_BIN;
const NATS_SERVER = process.env.NATS_SERVER;
if (!OTLP_BIN || !NATS_SERVER) {
  console.error('set OTLP_BIN and NATS_SERVER');
  process.exit(2);
}
const LIMIT_MS = 20000;  // bound against a hang, not a timing check

const children = [];
function killAll() {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try { process.kill(c.pid, 'SIGKILL'); } catch {}
    }
  }
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { killAll(); process.exit(130); });

let passed = 0;
const failures = [];
function check(label, ok, detail = '') {
  if (ok) {
    passed++;
  } else {
    failures.push(`${label}: ${detail}`);
    console.error(`FAIL ${label}: ${detail}`);
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(label, predicate) {
  const end = Date.now() + LIMIT_MS;
  while (Date.now() < end) {
    if (await predicate()) return true;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${label}`);
}

// A child process whose stdout and stderr are collected.
function run(bin, args, env = {}) {
  const child = spawn(bin, args, {stdio: ['ignore', 'pipe', 'pipe'],
                                  env: {...process.env, ...env}});
  children.push(child);
  child.out = '';
  child.err = '';
  child.stdout.on('data', (d) => { child.out += d; });
  child.stderr.on('data', (d) => { child.err += d; });
  child.done = new Promise((resolve) => child.on('exit', (code, sig) => resolve({code, sig})));
  return child;
}

// ---- Servers ----------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'otlp-nats-interop-'));
writeFileSync(join(dir, 'server.conf'), 'listen: 127.0.0.1:-1\nhttp: 0\n' +
              `jetstream { store_dir: "${join(dir, 'js')}" }\n`);
const server = run(NATS_SERVER, ['-c', join(dir, 'server.conf'), '-l', join(dir, 'server.log')]);
let natsUrl = null;
await until('nats-server to listen', () => {
  let log = '';
  try { log = readFileSync(join(dir, 'server.log'), 'utf8'); } catch {}
  const m = log.match(/Listening for client connections on (127\.0\.0\.1:\d+)/);
  if (m && log.includes('Server is ready')) natsUrl = `nats://${m[1]}`;
  return natsUrl !== null;
});

const view = run(OTLP_BIN, ['view', '--listen', '127.0.0.1', '--http', '0', '--grpc', '0',
                            '--ui', '0', '--no-waterfall', '--color', 'never']);
let viewHttp = null;
let viewUi = null;
await until('otlp view to start', () => {
  const h = view.out.match(/OTLP\/HTTP on (http:\/\/127\.0\.0\.1:\d+)/);
  const u = view.out.match(/UI on (http:\/\/127\.0\.0\.1:\d+)\//);
  if (h && u) { viewHttp = h[1]; viewUi = u[1]; }
  return viewHttp !== null;
});
// Our CLI exports its spans to the view, promptly.
const cliEnv = {OTEL_EXPORTER_OTLP_ENDPOINT: viewHttp, OTEL_BSP_SCHEDULE_DELAY: '50',
                OTEL_SERVICE_NAME: 'otlp-nats-cli', TRACEPARENT: '', TRACESTATE: ''};
const otlp = (args) => run(OTLP_BIN, ['nats', ...args, '--server', natsUrl], cliEnv);

const nc = await connect({servers: natsUrl, name: 'nats.js interop'});

async function traceFromView(traceId) {
  const r = await fetch(`${viewUi}/api/traces/${traceId}`);
  return r.status === 200 ? r.json() : null;
}

try {
  // ---- JS → ours: headers and trace context -----------------------------------------------
  {
    const sub = otlp(['sub', 'interop.js2cpp', '--count', '2']);
    await until('our subscriber', () => sub.err.includes('Subscribing on'));
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const jsSpan = '00f067aa0ba902b7';
    const h = natsHeaders();
    h.append('X-Case', 'Kept');
    h.append('Multi', 'one');
    h.append('Multi', 'two');
    h.append('traceparent', `00-${traceId}-${jsSpan}-01`);
    nc.publish('interop.js2cpp', 'from js 1', {headers: h});
    nc.publish('interop.js2cpp', 'from js 2');
    await nc.flush();
    const {code} = await sub.done;
    check('js→cpp: subscriber exit', code === 0, `exit ${code}: ${sub.err}`);
    check('js→cpp: both bodies in order', /from js 1[\s\S]*from js 2/.test(sub.out), sub.out);
    check('js→cpp: header case kept', sub.out.includes('X-Case: Kept'), sub.out);
    check('js→cpp: repeated key, both values in order',
          /Multi: one\nMulti: two/.test(sub.out), sub.out);
    // Our CONSUMER span is a child of the JS context.
    let trace = null;
    await until('the process span in otlp view', async () => {
      trace = await traceFromView(traceId);
      return trace && trace.spans.some((s) => s.name === 'process interop.js2cpp');
    });
    const process_ = trace.spans.find((s) => s.name === 'process interop.js2cpp');
    check('js→cpp: process span parent is the JS span', process_.parent_span_id === jsSpan,
          JSON.stringify(process_));
    check('js→cpp: process span is a consumer', process_.kind === 'consumer', process_.kind);
  }

  // ---- Ours → JS: headers and trace context -----------------------------------------------
  {
    const got = [];
    const sub = nc.subscribe('interop.cpp2js', {max: 1});
    const reader = (async () => { for await (const m of sub) got.push(m); })();
    await nc.flush();
    const parentTrace = '0af7651916cd43dd8448eb211c80319c';
    const pub = run(OTLP_BIN, ['nats', 'pub', 'interop.cpp2js', 'from cpp', '-H', 'X-Case: Kept',
                               '-H', 'Multi: a', '-H', 'Multi: b', '--server', natsUrl,
                               '--traceparent', `00-${parentTrace}-b7ad6b7169203331-01`], cliEnv);
    const {code} = await pub.done;
    check('cpp→js: publisher exit', code === 0, pub.err);
    await until('the JS subscriber', () => got.length === 1);
    await reader;
    const m = got[0];
    check('cpp→js: body', m.string() === 'from cpp', m.string());
    check('cpp→js: header case kept', m.headers?.get('X-Case') === 'Kept',
          JSON.stringify(m.headers?.keys()));
    check('cpp→js: repeated key', JSON.stringify(m.headers?.values('Multi')) === '["a","b"]',
          JSON.stringify(m.headers?.values('Multi')));
    const tp = m.headers?.get('traceparent') ?? '';
    check('cpp→js: traceparent continues the parent trace',
          tp.startsWith(`00-${parentTrace}-`) && !tp.includes('b7ad6b7169203331'), tp);
    // The span id in the header is our PRODUCER span's.
    let trace = null;
    await until('the send span in otlp view', async () => {
      trace = await traceFromView(parentTrace);
      return trace && trace.spans.some((s) => s.name === 'send interop.cpp2js');
    });
    const send = trace.spans.find((s) => s.name === 'send interop.cpp2js');
    check('cpp→js: header carries the producer span', tp.split('-')[2] === send.span_id,
          `${tp} vs ${send.span_id}`);
  }

  // ---- Request-reply both ways -------------------------------------------------------------
  {
    const svc = nc.subscribe('interop.js.echo');
    (async () => {
      for await (const m of svc) {
        const h = natsHeaders();
        h.append('X-Replied-By', 'js');
        m.respond(`js echo: ${m.string()}`, {headers: h});
      }
    })();
    await nc.flush();
    const req = otlp(['req', 'interop.js.echo', 'hello', '--timeout', '5']);
    const {code} = await req.done;
    check('req cpp→js: exit', code === 0, req.err);
    check('req cpp→js: reply body', req.out.includes('js echo: hello'), req.out);
    check('req cpp→js: reply header', req.out.includes('X-Replied-By: js'), req.out);

    const reply = otlp(['reply', 'interop.cpp.echo', '--echo', '--count', '1']);
    await until('our responder', () => reply.err.includes('Listening for requests'));
    const h = natsHeaders();
    h.append('X-Asked-By', 'js');
    const r = await nc.request('interop.cpp.echo', 'ping', {timeout: 5000, headers: h});
    check('req js→cpp: echoed body', r.string() === 'ping', r.string());
    check('req js→cpp: echoed header', r.headers?.get('X-Asked-By') === 'js',
          JSON.stringify(r.headers?.keys()));
    check('req js→cpp: the reply carries our trace context',
          /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/.test(r.headers?.get('traceparent') ?? ''),
          r.headers?.get('traceparent'));
    const done = await reply.done;
    check('req js→cpp: responder exit', done.code === 0, reply.err);

    // No responders is an error on our side, at once.
    const none = otlp(['req', 'interop.nobody', 'x', '--timeout', '5']);
    const noneDone = await none.done;
    check('req to nobody fails', noneDone.code === 1, none.err);
    check('req to nobody says so', /no responders/i.test(none.err), none.err);
  }

  // ---- Queue groups mixed ------------------------------------------------------------------
  {
    let jsCount = 0;
    const q = nc.subscribe('interop.work', {queue: 'workers'});
    (async () => { for await (const m of q) { void m; jsCount++; } })();
    const ours = otlp(['sub', 'interop.work', '--queue', 'workers', '--raw']);
    await until('our queue member', () => ours.err.includes('Subscribing on'));
    await nc.flush();
    for (let i = 0; i < 200; i++) nc.publish('interop.work', `job ${i}`);
    await nc.flush();
    const ourCount = () => ours.out.split('\n').filter((l) => l.startsWith('job ')).length;
    await until('200 jobs handled', () => jsCount + ourCount() >= 200);
    await sleep(100);  // a duplicate would show up as more than 200
    check('queue: every job handled once', jsCount + ourCount() === 200,
          `js ${jsCount} + ours ${ourCount()}`);
    check('queue: both members got work', jsCount > 0 && ourCount() > 0,
          `js ${jsCount}, ours ${ourCount()}`);
    process.kill(ours.pid, 'SIGINT');
    const done = await ours.done;
    check('queue: our member stops on SIGINT', done.code === 0, `${done.code} ${done.sig}`);
    q.unsubscribe();
  }
} catch (e) {
  failures.push(`exception: ${e.stack ?? e}`);
  console.error(e);
} finally {
  await nc.close();
  killAll();
  rmSync(dir, {recursive: true, force: true});
}

console.log(`nats interop: ${passed} checks passed, ${failures.length} failed`);
process.exit(failures.length === 0 ? 0 : 1);
