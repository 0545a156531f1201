// Interop: the official NATS JS client (@nats-io/transport-node) and otlp-cpp's NATS client (run
// through the `otlp nats` CLI) on one real nats-server:
//   - headers both ways (case kept, repeated keys, values), trace context both ways: a JS
//     traceparent becomes the parent of our CONSUMER span (read back from `otlp view`'s API), and
//     our PRODUCER span's context reaches JS in the traceparent header;
//   - request-reply both ways (JS responder ← our request; our responder ← JS request);
//   - queue groups mixed: a JS member and one of ours share 200 messages, each gets some, none is
//     lost or doubled;
//   - Key/Value (@nats-io/kv): a value put by one read by the other, `otlp nats kv watch` seeing
//     a JS put and a JS watch seeing ours;
//   - Object Store (@nats-io/obj): an object put by our CLI fetched by JS (content and digest
//     compared with a SHA-256 computed here), one put by JS fetched by our CLI (bytes compared,
//     our digest check passing);
//   - JetStream (@nats-io/jetstream): a JS publish to a stream read by `otlp nats consumer next`.
// Environment: OTLP_BIN (the otlp binary), NATS_SERVER (the nats-server binary).
// Exit status 0 when every check passed; each failure is printed.
import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync, readFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {createHash, randomBytes} from 'node:crypto';
import {connect, headers as natsHeaders} from '@nats-io/transport-node';
import {jetstream} from '@nats-io/jetstream';
import {Kvm} from '@nats-io/kv';
import {Objm} from '@nats-io/obj';

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

  // ---- Key/Value both ways -----------------------------------------------------------------
  {
    const add = otlp(['kv', 'add', 'INTEROP', '--history', '5']);
    check('kv: our bucket add', (await add.done).code === 0, add.err);
    const kv = await new Kvm(nc).open('INTEROP');

    // Ours → JS.
    const put = otlp(['kv', 'put', 'INTEROP', 'cpp.key', 'from cpp']);
    check('kv cpp→js: our put', (await put.done).code === 0, put.err);
    const rev = Number((put.out.match(/at revision (\d+)/) ?? [])[1]);
    const e = await kv.get('cpp.key');
    check('kv cpp→js: JS get reads our value', e?.string() === 'from cpp', e?.string());
    check('kv cpp→js: same revision', e?.revision === rev, `${e?.revision} vs ${put.out}`);

    // JS → ours.
    const jsRev = await kv.put('js.key', 'from js');
    const get = otlp(['kv', 'get', 'INTEROP', 'js.key']);
    check('kv js→cpp: our get', (await get.done).code === 0, get.err);
    check('kv js→cpp: our get reads the JS value', get.out === 'from js\n', get.out);
    check('kv js→cpp: same revision', get.err.includes(`revision ${jsRev} `), get.err);
    await kv.delete('js.key');
    const gone = otlp(['kv', 'get', 'INTEROP', 'js.key']);
    const goneDone = await gone.done;
    check('kv js→cpp: a JS delete is a missing key for us',
          goneDone.code === 1 && gone.err.includes('not found'), gone.err);

    // Our watch sees a JS put.
    const watch = otlp(['kv', 'watch', 'INTEROP', 'js.watched', '--no-initial', '--count', '1']);
    await until('our watch', () => watch.err.includes('Watching js.watched'));
    const watchedRev = await kv.put('js.watched', 'hello watch');
    const watchDone = await watch.done;
    check('kv watch cpp sees js: exit', watchDone.code === 0, watch.err);
    check('kv watch cpp sees js: the entry',
          watch.out === `PUT js.watched ${watchedRev} hello watch\n`, watch.out);

    // A JS watch sees our put.
    const seen = [];
    const iter = await kv.watch({key: 'cpp.watched'});
    (async () => { for await (const w of iter) seen.push(w); })();
    const put2 = otlp(['kv', 'put', 'INTEROP', 'cpp.watched', 'hello from cpp']);
    check('kv watch js sees cpp: our put', (await put2.done).code === 0, put2.err);
    await until('the JS watcher', () => seen.length > 0);
    check('kv watch js sees cpp: the entry',
          seen[0].key === 'cpp.watched' && seen[0].string() === 'hello from cpp' &&
          seen[0].operation === 'PUT',
          `${seen[0].key} ${seen[0].operation} ${seen[0].string()}`);
    iter.stop();
  }

  // ---- Object Store both ways ----------------------------------------------------------------
  {
    const sha = (bytes) => 'SHA-256=' + createHash('sha256').update(bytes).digest('base64')
        .replace(/\+/g, '-').replace(/\//g, '_');
    const readAll = async (rs) => {
      const parts = [];
      const reader = rs.getReader();
      for (;;) {
        const {done, value} = await reader.read();
        if (done) break;
        parts.push(value);
      }
      return Buffer.concat(parts);
    };
    const add = otlp(['obj', 'add', 'INTEROPOBJ']);
    check('obj: our bucket add', (await add.done).code === 0, add.err);
    const os = await new Objm(nc).open('INTEROPOBJ');

    // Ours → JS: 3 chunks of 128 KiB (the last one short).
    const ours = randomBytes(300 * 1024 + 5);
    writeFileSync(join(dir, 'ours.bin'), ours);
    const put = otlp(['obj', 'put', 'INTEROPOBJ', join(dir, 'ours.bin'), '--name', 'from/cpp.bin']);
    check('obj cpp→js: our put', (await put.done).code === 0, put.err);
    check('obj cpp→js: our put prints the digest', put.out.includes(sha(ours)), put.out);
    check('obj cpp→js: in 3 chunks', put.out.includes(' 3 chunks'), put.out);
    const r = await os.get('from/cpp.bin');
    check('obj cpp→js: JS finds it', r !== null, 'null');
    if (r) {
      const data = await readAll(r.data);
      const err = await r.error;
      check('obj cpp→js: JS read it without error', err == null, String(err));
      check('obj cpp→js: same bytes', Buffer.compare(data, ours) === 0,
            `${data.length} vs ${ours.length} bytes`);
      check('obj cpp→js: digest in the info is the SHA-256', r.info.digest === sha(ours),
            `${r.info.digest} vs ${sha(ours)}`);
      check('obj cpp→js: size and chunks', r.info.size === ours.length && r.info.chunks === 3,
            JSON.stringify(r.info));
    }

    // JS → ours.
    const theirs = randomBytes(200 * 1024 + 3);
    const info = await os.putBlob({name: 'from-js.bin'}, theirs);
    const out = join(dir, 'from-js.bin');
    const get = otlp(['obj', 'get', 'INTEROPOBJ', 'from-js.bin', '-o', out]);
    const getDone = await get.done;
    check('obj js→cpp: our get', getDone.code === 0, get.err);
    check('obj js→cpp: our digest check passed',
          get.err.includes(`digest ${info.digest} (checked)`) && info.digest === sha(theirs),
          `${get.err} / ${info.digest}`);
    let got = Buffer.alloc(0);
    try { got = readFileSync(out); } catch {}
    check('obj js→cpp: same bytes', Buffer.compare(got, theirs) === 0,
          `${got.length} vs ${theirs.length} bytes`);
    const ls = otlp(['obj', 'ls', 'INTEROPOBJ', '--names']);
    await ls.done;
    check('obj: our ls lists both', ls.out === 'from/cpp.bin\nfrom-js.bin\n', ls.out);
  }

  // ---- JetStream: a JS publish read by our pull consumer -----------------------------------
  {
    const add = otlp(['stream', 'add', 'INTEROPSTREAM', '--subjects', 'jsinterop.>']);
    check('stream: our add', (await add.done).code === 0, add.err);
    const cons = otlp(['consumer', 'add', 'INTEROPSTREAM', 'reader']);
    check('consumer: our add', (await cons.done).code === 0, cons.err);
    const js = jetstream(nc);
    const h = natsHeaders();
    h.append('X-From', 'js');
    const ack = await js.publish('jsinterop.order', 'order from js', {headers: h, msgID: 'o-1'});
    check('stream: JS PubAck from our stream', ack.stream === 'INTEROPSTREAM', JSON.stringify(ack));
    const next = otlp(['consumer', 'next', 'INTEROPSTREAM', 'reader', '--expires', '5']);
    const nextDone = await next.done;
    check('stream js→cpp: our consumer next', nextDone.code === 0, next.err);
    check('stream js→cpp: the message, its sequence',
          next.out.includes(`stream INTEROPSTREAM sequence ${ack.seq}`) &&
          next.out.includes('order from js'), next.out);
    check('stream js→cpp: its header', next.out.includes('X-From: js'), next.out);
    // Acknowledged: nothing is pending any more.
    const info = otlp(['consumer', 'info', 'INTEROPSTREAM', 'reader']);
    await info.done;
    check('stream js→cpp: acknowledged', /Ack pending: +0\n/.test(info.out) &&
          /Pending: +0\n/.test(info.out), info.out);
    // Ours → JS: our stream publish is read by a JS consumer.
    const pub = otlp(['stream', 'pub', 'jsinterop.refund', 'refund from cpp']);
    check('stream cpp→js: our publish', (await pub.done).code === 0, pub.err);
    const c = await js.consumers.get('INTEROPSTREAM', 'reader');
    const m = await c.next({expires: 5000});
    check('stream cpp→js: JS consumer reads it', m?.string() === 'refund from cpp', m?.string());
    check('stream cpp→js: carries our trace context',
          /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/.test(m?.headers?.get('traceparent') ?? ''),
          m?.headers?.get('traceparent'));
    m?.ack();
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
