// Browser test of the `otlp view` web UI: starts the view on free loopback ports, seeds it
// with OTLP/JSON traces, logs and metrics, and drives the page in headless Debian chromium
// through playwright-core.
//
//   OTLP_BIN=build/tools/otlp/otlp OTLP_ARTIFACTS=build/artifacts node tests/browser/view_ui_test.mjs
//
// Every step asserts what the page shows. The view is killed at the end, also on failure.
// The screenshot of the trace page is kept as $OTLP_ARTIFACTS/view-trace.png (beside
// view-list.png, view-services.png and view-metrics.png).

import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

let chromium;
try {
  ({chromium} = await import('playwright-core'));
} catch (e) {
  console.error(`view_ui_test: playwright-core is not installed (npm ci --prefix tests/browser): ${e.message}`);
  console.log('browser: 0 passed, 1 failed');
  process.exit(1);
}

const OTLP_BIN = process.env.OTLP_BIN;
const ARTIFACTS = process.env.OTLP_ARTIFACTS;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STEP_TIMEOUT_MS = 10000;
const TOTAL_TIMEOUT_MS = 180000;

// ---- Test data ------------------------------------------------------------------------------

const TRACE_A = '5b8efff798038103d269b633813fc60c'; // client -> frontend -> orders, inventory
const TRACE_B = 'a1b2c3d4e5f60718293a4b5c6d7e8f90'; // batch job, linked from trace A
const TRACE_C = '0123456789abcdef0123456789abcdef'; // one cron span
const S = {
  client: '1000000000000001', frontend: '1000000000000002', callOrders: '1000000000000003',
  orders: '1000000000000004', insert: '1000000000000005', charge: '1000000000000006',
  callInventory: '1000000000000007', inventory: '1000000000000008',
  restock: '2000000000000001', load: '2000000000000002', cleanup: '3000000000000001',
};
const NOW_NS = BigInt(Date.now()) * 1000000n;
const HOSTILE = '<img src=x onerror="window.__injected=1"><b>bold</b>'; // must show as text
const ms = (base, offset) => String(base + BigInt(Math.round(offset * 1e6)));

const str = (v) => ({stringValue: v});
const int = (v) => ({intValue: String(v)});
const kv = (obj) => Object.entries(obj).map(([key, value]) => ({key, value}));

function span(trace, base, id, parent, name, kind, from, to, extra = {}) {
  return {traceId: trace, spanId: id, parentSpanId: parent, name, kind,
          startTimeUnixNano: ms(base, from), endTimeUnixNano: ms(base, to), ...extra};
}
function resourceSpans(service, spans) {
  return {resource: {attributes: kv({'service.name': str(service), 'host.name': str('browser-test')})},
          scopeSpans: [{scope: {name: 'otlp.browser-test', version: '1.0.0'}, spans}]};
}
const SERVER = 2, CLIENT = 3, INTERNAL = 1;

function traceA(base) {
  return {resourceSpans: [
    resourceSpans('client', [span(TRACE_A, base, S.client, '', 'GET /checkout', CLIENT, 0, 50, {
      attributes: kv({'http.request.method': str('GET'), 'url.full': str('http://127.0.0.1/checkout'),
                      'http.response.status_code': int(200)})})]),
    resourceSpans('frontend', [
      span(TRACE_A, base, S.frontend, S.client, 'GET /checkout', SERVER, 2, 48, {
        attributes: kv({'http.request.method': str('GET'), 'http.route': str('/checkout'),
                        'http.response.status_code': int(200)})}),
      span(TRACE_A, base, S.callOrders, S.frontend, 'POST /orders', CLIENT, 5, 30, {
        attributes: kv({'http.request.method': str('POST'), 'server.address': str('orders')})}),
      span(TRACE_A, base, S.callInventory, S.frontend, 'GET /inventory', CLIENT, 5, 45, {
        attributes: kv({'http.request.method': str('GET'), 'server.address': str('inventory')})}),
    ]),
    resourceSpans('orders', [
      span(TRACE_A, base, S.orders, S.callOrders, 'POST /orders', SERVER, 6, 29, {
        attributes: kv({'http.route': str('/orders'), 'http.response.status_code': int(502)}),
        events: [{name: 'order.validated', timeUnixNano: ms(base, 7), attributes: kv({'order.items': int(3)})}]}),
      span(TRACE_A, base, S.insert, S.orders, 'INSERT orders', CLIENT, 8, 12, {
        attributes: kv({'db.system': str('sqlite'), 'db.query.text': str('INSERT INTO orders VALUES (?)')})}),
      span(TRACE_A, base, S.charge, S.orders, 'charge card', INTERNAL, 13, 28, {
        attributes: kv({'payment.provider': str('test-bank'), 'order.id': int(42)}),
        events: [{name: 'exception', timeUnixNano: ms(base, 27),
                  attributes: kv({'exception.type': str('PaymentError'), 'exception.message': str('card declined')})}],
        status: {code: 2, message: 'card declined'}}),
    ]),
    resourceSpans('inventory', [span(TRACE_A, base, S.inventory, S.callInventory, 'GET /inventory', SERVER, 6, 44, {
      attributes: kv({'http.route': str('/inventory'), 'inventory.sku.count': int(12),
                      'feature.flags': {arrayValue: {values: [str('a'), str('b')]}},
                      'note': str(HOSTILE)}),
      links: [{traceId: TRACE_B, spanId: S.restock, attributes: kv({'link.reason': str('restock-job')})}]})]),
  ]};
}
function traceB(base) {
  return {resourceSpans: [resourceSpans('batch', [
    span(TRACE_B, base, S.restock, '', 'restock', INTERNAL, 0, 120, {attributes: kv({'job.name': str('nightly-restock')})}),
    span(TRACE_B, base, S.load, S.restock, 'load stock', INTERNAL, 10, 100),
  ])]};
}
function traceC(base) {
  return {resourceSpans: [resourceSpans('cron', [
    span(TRACE_C, base, S.cleanup, '', 'cleanup', INTERNAL, 0, 5, {attributes: kv({'job.name': str('cleanup')}), status: {code: 1}}),
  ])]};
}
function logsA(base) {
  return {resourceLogs: [{resource: {attributes: kv({'service.name': str('orders')})}, scopeLogs: [{scope: {name: 'otlp.browser-test'},
    logRecords: [{timeUnixNano: ms(base, 27), observedTimeUnixNano: ms(base, 27), severityNumber: 17, severityText: 'ERROR',
                  body: str('payment declined for order 42'), attributes: kv({'order.id': int(42)}),
                  traceId: TRACE_A, spanId: S.charge}]}]}]};
}
function metrics(base) {
  return {resourceMetrics: [{resource: {attributes: kv({'service.name': str('inventory')})}, scopeMetrics: [{scope: {name: 'otlp.browser-test'}, metrics: [
    {name: 'inventory.stock.level', unit: '{item}', gauge: {dataPoints: [{timeUnixNano: ms(base, 0), asInt: '12', attributes: kv({sku: str('A-1')})}]}},
    {name: 'http.server.request.duration', unit: 's', histogram: {aggregationTemporality: 2, dataPoints: [
      {startTimeUnixNano: ms(base, -1000), timeUnixNano: ms(base, 0), count: '3', sum: 0.12, bucketCounts: ['1', '2'], explicitBounds: [0.05],
       attributes: kv({'http.route': str('/inventory')})}]}},
  ]}]}]};
}

// ---- Harness --------------------------------------------------------------------------------

let view = null;
let viewOutput = '';
let browser = null;

function fail(message) {
  throw new Error(message);
}

// Polls `probe` until it returns a truthy value; fails with `what` and the last value seen.
async function until(what, probe, timeoutMs = STEP_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > deadline) fail(`timed out waiting for ${what} (last seen: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startView() {
  return new Promise((resolve, reject) => {
    const args = ['view', '--http', '0', '--grpc', '0', '--ui', '0', '--no-waterfall'];
    view = spawn(OTLP_BIN, args, {stdio: ['ignore', 'pipe', 'pipe']});
    const ports = {};
    const timer = setTimeout(() => reject(new Error(`otlp view printed no addresses within 15 s:\n${viewOutput}`)), 15000);
    const onData = (chunk) => {
      viewOutput += chunk;
      const otlp = viewOutput.match(/OTLP\/HTTP on (http:\/\/127\.0\.0\.1:\d+)/);
      const ui = viewOutput.match(/UI on (http:\/\/127\.0\.0\.1:\d+)\/?/);
      if (otlp && ui && !ports.ready) {
        ports.ready = true;
        clearTimeout(timer);
        resolve({otlp: otlp[1], ui: `${ui[1]}/`});
      }
    };
    view.stdout.setEncoding('utf8').on('data', onData);
    view.stderr.setEncoding('utf8').on('data', (c) => { viewOutput += c; });
    view.on('error', (e) => { clearTimeout(timer); reject(new Error(`cannot start ${OTLP_BIN}: ${e.message}`)); });
    view.on('exit', (code, signal) => {
      if (!ports.ready) {
        clearTimeout(timer);
        reject(new Error(`otlp view exited (${code ?? signal}) before printing its addresses:\n${viewOutput}`));
      }
    });
  });
}

async function stopView() {
  if (!view || view.exitCode !== null || view.signalCode !== null) return;
  const exited = new Promise((r) => view.once('exit', r));
  view.kill('SIGTERM');
  const timer = setTimeout(() => view.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

// POSTs an OTLP/JSON request; returns false when the receiver has no such endpoint (404).
async function post(url, body, {optional = false} = {}) {
  const response = await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
  const text = await response.text();
  if (optional && response.status === 404) return false;
  assert.equal(response.status, 200, `POST ${url}: HTTP ${response.status} ${text}`);
  const answer = text ? JSON.parse(text) : {};
  const partial = answer.partialSuccess || answer.partial_success;
  assert.ok(!partial || !(Number(partial.rejectedSpans || partial.rejected_spans || 0) > 0),
            `POST ${url}: partial success ${text}`);
  return true;
}

async function getJSON(url) {
  const response = await fetch(url);
  assert.equal(response.status, 200, `GET ${url}: HTTP ${response.status}`);
  return response.json();
}

// ---- The steps ------------------------------------------------------------------------------

async function main() {
  assert.ok(OTLP_BIN, 'set OTLP_BIN to the path of the otlp binary');
  assert.ok(ARTIFACTS, 'set OTLP_ARTIFACTS to a directory for screenshots');
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  fs.mkdirSync(ARTIFACTS, {recursive: true});

  const {otlp, ui} = await startView();
  console.log(`# view: OTLP/HTTP ${otlp}, UI ${ui}`);
  browser = await chromium.launch({executablePath: CHROMIUM, headless: true,
                                   args: ['--disable-gpu', '--disable-dev-shm-usage', '--no-first-run']});
  const page = await browser.newPage({viewport: {width: 1280, height: 800}});
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 404/.test(m.text())) pageErrors.push(`console error: ${m.text()}`);
  });

  const $ = (selector) => page.locator(selector);
  const testid = (id) => `[data-testid="${id}"]`;
  const texts = (selector) => $(selector).allTextContents();
  const rowIds = () => $(testid('trace-row')).evaluateAll((rows) => rows.map((r) => r.dataset.traceId));
  const shownRows = `${testid('span-row')}:not([hidden])`;  // collapsed subtrees are hidden
  const visibleSpanIds = () => $(shownRows).evaluateAll((rows) => rows.map((r) => r.dataset.spanId));
  const untilRows = (what, ids) => until(what, async () => {
    const got = await rowIds();
    return JSON.stringify(got) === JSON.stringify(ids) ? got : false;
  });
  // Resets the search, waits for the fresh form and the full list, then fills and submits.
  const search = async (fill) => {
    const old = await $(testid('search-form')).elementHandle();
    await $(testid('search-reset')).click();
    await until('a fresh search form', () => old.evaluate((el) => !el.isConnected));
    await untilRows('all traces after reset', [TRACE_A, TRACE_C, TRACE_B]);
    await fill();
    await $(testid('search-submit')).click();
  };

  let passed = 0;
  let skipped = 0;
  const receives = {logs: false, metrics: false};
  const skip = (name, why) => {
    skipped++;
    console.log(`ok - ${name} # SKIP ${why}`);
  };
  const step = async (name, body) => {
    await body();
    passed++;
    console.log(`ok ${passed} - ${name}`);
  };

  try {
    await step('an empty view says where to send traces', async () => {
      await page.goto(ui);
      const empty = await until('the empty state', async () => (await $(testid('empty')).count()) && $(testid('empty')).textContent());
      assert.match(empty, /No traces yet/);
      assert.match(empty, /OTEL_EXPORTER_OTLP_ENDPOINT/);
    });

    await step('seed three traces, a log and metrics over OTLP/HTTP JSON', async () => {
      await post(`${otlp}/v1/traces`, traceB(NOW_NS - 60000000000n));
      await post(`${otlp}/v1/traces`, traceC(NOW_NS - 30000000000n));
      await post(`${otlp}/v1/traces`, traceA(NOW_NS - 2000000000n));
      // Logs and metrics are checked when the view receives them (skips are counted and shown).
      receives.logs = await post(`${otlp}/v1/logs`, logsA(NOW_NS - 2000000000n), {optional: true});
      receives.metrics = await post(`${otlp}/v1/metrics`, metrics(NOW_NS - 1000000000n), {optional: true});
      for (const [signal, ok] of Object.entries(receives)) {
        if (!ok) console.log(`# SKIP ${signal}: POST /v1/${signal} answered 404, so its checks are skipped`);
      }
      await until('three traces in /api/traces', async () => (await getJSON(`${ui}api/traces`)).total === 3);
    });

    await step('the list shows the traces newest first with their summary', async () => {
      await $(testid('refresh')).click();
      await untilRows('three trace rows', [TRACE_A, TRACE_C, TRACE_B]);
      const row = $(`${testid('trace-row')}[data-trace-id="${TRACE_A}"]`);
      assert.equal(await row.locator(testid('trace-name')).textContent(), 'GET /checkout');
      assert.equal((await row.locator(testid('trace-spans')).textContent()).trim(), '8');
      assert.equal((await row.locator(testid('trace-errors')).textContent()).trim(), '1');
      assert.match(await row.locator(testid('trace-duration')).textContent(), /^50 ms$/);
      const text = await row.textContent();
      for (const service of ['client', 'frontend', 'orders', 'inventory']) assert.ok(text.includes(service), `row lacks ${service}: ${text}`);
      assert.match(await $(testid('trace-count')).textContent(), /3 of 3/);
      const durations = await $(testid('trace-duration')).allTextContents();
      assert.deepEqual(durations, ['50 ms', '5 ms', '120 ms']);
      await page.screenshot({path: path.join(ARTIFACTS, 'view-list.png')});
    });

    await step('search by service', async () => {
      await until('service options', async () => (await $(`${testid('search-service')} option[value="inventory"]`).count()) > 0);
      const options = await texts(`${testid('search-service')} option`);
      assert.deepEqual(options, ['All services', 'batch', 'client', 'cron', 'frontend', 'inventory', 'orders']);
      await search(() => $(testid('search-service')).selectOption('inventory'));
      await untilRows('only trace A for service inventory', [TRACE_A]);
      assert.match(await page.evaluate(() => location.hash), /service=inventory/);
    });

    await step('search by attribute key=value', async () => {
      await search(() => $(testid('search-attr')).first().fill('job.name=nightly-restock'));
      await untilRows('only trace B for job.name=nightly-restock', [TRACE_B]);
      await search(() => $(testid('search-attr')).first().fill('http.response.status_code=502'));
      await untilRows('only trace A for http.response.status_code=502', [TRACE_A]);
    });

    await step('search by status, span name and minimum duration', async () => {
      await search(() => $(testid('search-status')).selectOption('error'));
      await untilRows('only trace A with errors', [TRACE_A]);
      await search(() => $(testid('search-name')).fill('cleanup'));
      await untilRows('only trace C named cleanup', [TRACE_C]);
      await search(() => $(testid('search-min-duration')).fill('100'));
      await untilRows('only trace B of at least 100 ms', [TRACE_B]);
      await search(() => $(testid('search-name')).fill('no such span'));
      await until('the no-match state', async () => /No traces match/.test(await $(testid('empty')).textContent()));
      await search(async () => {});
      await untilRows('all traces after reset', [TRACE_A, TRACE_C, TRACE_B]);
    });

    const treeOrder = [S.client, S.frontend, S.callOrders, S.orders, S.insert, S.charge, S.callInventory, S.inventory];
    await step('open a trace: header and waterfall in tree order', async () => {
      await $(`${testid('trace-row')}[data-trace-id="${TRACE_A}"] ${testid('trace-link')}`).click();
      await until('trace A page', async () => (await $(`${testid('trace-view')}[data-trace-id="${TRACE_A}"]`).count()) === 1);
      assert.equal(await $(testid('trace-id')).textContent(), TRACE_A);
      assert.equal(await $(testid('trace-span-count')).textContent(), '8');
      assert.equal(await $(testid('trace-error-count')).textContent(), '1');
      assert.equal(await $(testid('trace-duration')).textContent(), '50 ms');
      const services = await $(testid('trace-services')).textContent();
      for (const service of ['client', 'frontend', 'orders', 'inventory']) assert.ok(services.includes(service), services);
      assert.deepEqual(await visibleSpanIds(), treeOrder);
      const depths = await $(shownRows).evaluateAll((rows) => rows.map((r) => Number(r.dataset.depth)));
      assert.deepEqual(depths, [0, 1, 2, 3, 4, 4, 2, 3]);
      const ticks = await texts(testid('tick'));
      assert.ok(ticks.length >= 3 && ticks.some((t) => /ms$/.test(t)), `tick labels: ${ticks}`);
    });

    await step('the critical path and the error span are marked', async () => {
      const marked = await $(`${testid('span-row')}[data-critical="true"]`).evaluateAll((rows) => rows.map((r) => r.dataset.spanId));
      assert.deepEqual(marked, [S.client, S.frontend, S.callInventory, S.inventory]);
      const errors = await $(`${testid('span-row')}[data-error="true"]`).evaluateAll((rows) => rows.map((r) => r.dataset.spanId));
      assert.deepEqual(errors, [S.charge]);
      const color = await $(`[data-span-id="${S.charge}"] ${testid('span-bar')}`).evaluate((el) => getComputedStyle(el).backgroundColor);
      assert.equal(color, 'rgb(210, 60, 60)', 'the error span bar is red');
      assert.match(await $(testid('legend')).textContent(), /critical path/);
    });

    await step('collapse and expand a subtree', async () => {
      await $(`[data-span-id="${S.callOrders}"] ${testid('span-toggle')}`).click();
      await until('the orders subtree hidden', async () => (await $(shownRows).count()) === 5);
      assert.deepEqual(await visibleSpanIds(), [S.client, S.frontend, S.callOrders, S.callInventory, S.inventory]);
      assert.equal(await $(`${testid('span-row')}[data-span-id="${S.charge}"]`).isVisible(), false);
      assert.equal(await $(`[data-span-id="${S.callOrders}"] ${testid('span-toggle')}`).getAttribute('aria-expanded'), 'false');
      await $(`[data-span-id="${S.callOrders}"] ${testid('span-toggle')}`).click();
      await until('the orders subtree shown again', async () => (await $(shownRows).count()) === 8);
      assert.deepEqual(await visibleSpanIds(), treeOrder);
    });

    await step('span details: status, attributes, events, resource, scope, logs', async () => {
      await $(`[data-span-id="${S.charge}"]`).click();
      const details = $(`${testid('span-details')}[data-span-id="${S.charge}"]`);
      await details.waitFor();
      assert.match(await page.evaluate(() => location.hash), new RegExp(`span=${S.charge}`));
      assert.equal(await details.locator(testid('details-title')).textContent(), 'charge card');
      assert.match(await details.locator(testid('details-status')).textContent(), /Error: card declined/);
      const attrs = await details.locator(`${testid('span-attributes')} ${testid('attr')}`).evaluateAll((rows) =>
          rows.map((r) => [r.querySelector('th').textContent, r.querySelector('td').textContent]));
      assert.deepEqual(attrs, [['payment.provider', 'test-bank'], ['order.id', '42']]);
      const events = details.locator(testid('event'));
      assert.equal(await events.count(), 1);
      assert.equal(await events.locator(testid('event-name')).textContent(), 'exception');
      assert.match(await events.textContent(), /\+14 ms/);
      assert.match(await events.locator(testid('event-attributes')).textContent(), /exception\.message\s*card declined/);
      assert.match(await details.locator(testid('resource-attributes')).textContent(), /service\.name\s*orders/);
      assert.match(await details.locator(testid('details-scope')).textContent(), /otlp\.browser-test 1\.0\.0/);
      if (receives.logs) {
        assert.match(await $(testid('trace-logs')).textContent(), /payment declined for order 42/);
        assert.match(await details.locator(testid('details-logs')).textContent(), /ERROR\s*payment declined/);
        const logSpan = await $(`${testid('log-row')} a`).getAttribute('href');
        assert.equal(logSpan, `#/trace/${TRACE_A}?span=${S.charge}`);
      } else {
        skip('the trace\'s logs are listed with a link to their span', 'no /v1/logs');
      }
    });

    await step('screenshot of the trace page', async () => {
      const file = path.join(ARTIFACTS, 'view-trace.png');
      await page.screenshot({path: file, fullPage: true});
      assert.ok(fs.statSync(file).size > 10000, `${file} is too small`);
      console.log(`# screenshot: ${file}`);
    });

    await step('follow a link to the other trace', async () => {
      await $(`[data-span-id="${S.inventory}"]`).click();
      const details = $(`${testid('span-details')}[data-span-id="${S.inventory}"]`);
      await details.waitFor();
      const attrs = await details.locator(testid('span-attributes')).textContent();
      assert.match(attrs, /feature\.flags\s*\["a","b"\]/);
      assert.match(attrs, /inventory\.sku\.count\s*12/);
      assert.ok(attrs.includes(HOSTILE), 'an attribute with markup is shown as text');
      assert.equal(await details.locator('img, b').count(), 0, 'no markup from the API is interpreted');
      assert.equal(await page.evaluate(() => window.__injected), undefined);
      const link = details.locator(testid('link-href'));
      assert.equal(await link.getAttribute('href'), `#/trace/${TRACE_B}?span=${S.restock}`);
      assert.match(await details.locator(testid('link-attributes')).textContent(), /link\.reason\s*restock-job/);
      await link.click();
      await until('trace B page', async () => (await $(`${testid('trace-view')}[data-trace-id="${TRACE_B}"]`).count()) === 1);
      assert.equal(await page.evaluate(() => location.hash), `#/trace/${TRACE_B}?span=${S.restock}`);
      const linked = $(`${testid('span-details')}[data-span-id="${S.restock}"]`);
      await linked.waitFor();
      assert.equal(await linked.locator(testid('details-title')).textContent(), 'restock');
      assert.deepEqual(await visibleSpanIds(), [S.restock, S.load]);
      await page.goBack();
      await until('trace A again after Back', async () => (await $(`${testid('trace-view')}[data-trace-id="${TRACE_A}"]`).count()) === 1);
    });

    await step('the service map shows who calls whom', async () => {
      await $(testid('nav-services')).click();
      await $(testid('edge-table')).waitFor();
      const edges = await $(testid('edge-row')).evaluateAll((rows) => rows.map((r) =>
          `${r.dataset.parent}->${r.dataset.child}:${r.querySelector('[data-testid="edge-calls"]').textContent}/` +
          r.querySelector('[data-testid="edge-errors"]').textContent).sort());
      assert.deepEqual(edges, ['client->frontend:1/0', 'frontend->inventory:1/0', 'frontend->orders:1/0']);
      const drawn = await $(testid('map-edge')).evaluateAll((els) => els.map((e) => `${e.dataset.parent}->${e.dataset.child}`).sort());
      assert.deepEqual(drawn, ['client->frontend', 'frontend->inventory', 'frontend->orders']);
      assert.match(await $(`${testid('map-edge')}[data-child="orders"]`).textContent(), /1 call/);
      const nodes = await $(testid('map-node')).evaluateAll((els) => els.map((e) => e.dataset.service).sort());
      assert.deepEqual(nodes, ['batch', 'client', 'cron', 'frontend', 'inventory', 'orders']);
      await page.screenshot({path: path.join(ARTIFACTS, 'view-services.png')});
    });

    if (!receives.metrics) skip('the metrics table shows the latest points, filterable by name', 'no /v1/metrics');
    else await step('the metrics table shows the latest points, filterable by name', async () => {
      await $(testid('nav-metrics')).click();
      await $(testid('metric-table')).waitFor();
      assert.deepEqual(await texts(testid('metric-name')), ['http.server.request.duration', 'inventory.stock.level']);
      await page.screenshot({path: path.join(ARTIFACTS, 'view-metrics.png')});
      await $(testid('metric-filter')).fill('stock');
      await until('one metric after filtering', async () => (await $(testid('metric-row')).count()) === 1);
      assert.equal((await $(testid('metric-value')).textContent()).trim(), '12');
      await $(testid('metric-filter')).fill('duration');
      await until('the histogram after filtering', async () => /count 3 · sum 0\.12/.test(await $(testid('metric-value')).textContent()));
    });

    await step('an API error is shown on the page', async () => {
      await page.goto(`${ui}#/trace/ffffffffffffffffffffffffffffffff`);
      const message = await until('the error box', async () => (await $(testid('error')).count()) && $(testid('error')).textContent());
      assert.match(message, /404/);
    });

    await step('a trace page opened directly asks for its trace once, before the modules run', async () => {
      const tab = await browser.newPage({viewport: {width: 1280, height: 800}});
      const asked = [];
      tab.on('request', (r) => { if (r.url().includes(`/api/traces/${TRACE_A}`)) asked.push(r.url()); });
      tab.on('pageerror', (e) => pageErrors.push(e.message));
      await tab.goto(`${ui}#/trace/${TRACE_A}`);
      await until('the rows of the directly opened trace', async () => (await tab.locator(shownRows).count()) > 0);
      assert.equal(asked.length, 1, `requests for the trace: ${asked.join(', ')}`);
      // index.html started it (window.otlpEarlyTrace) and api.js took it (set back to null).
      assert.strictEqual(await tab.evaluate(() => window.otlpEarlyTrace), null);
      await tab.close();
    });

    await step('no script errors on the page', async () => {
      assert.deepEqual(pageErrors, []);
    });
    console.log(`browser: ${passed} passed, 0 failed${skipped ? `, ${skipped} skipped` : ''}`);
  } catch (e) {
    console.log(`not ok ${passed + 1} - ${e.message}`);
    try {
      const file = path.join(ARTIFACTS, 'view-failure.png');
      await page.screenshot({path: file, fullPage: true});
      console.log(`# failure screenshot: ${file}`);
    } catch {}
    console.log(`# otlp view output:\n${viewOutput.replace(/^/gm, '#   ')}`);
    console.log(`browser: ${passed} passed, 1 failed`);
    e.counted = true;
    throw e;
  }
}

const watchdog = setTimeout(() => {
  console.error(`view_ui_test: gave up after ${TOTAL_TIMEOUT_MS / 1000} s`);
  stopView().finally(() => process.exit(1));
}, TOTAL_TIMEOUT_MS);

let status = 0;
try {
  await main();
} catch (e) {
  console.error(`view_ui_test FAILED: ${e.stack || e.message}`);
  if (!e.counted) console.log('browser: 0 passed, 1 failed');
  status = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  await stopView();
  clearTimeout(watchdog);
}
process.exit(status);
