// The `otlp view` trace page in headless Chromium (issue 11: a 1,000-span trace served and
// rendered in < 200 ms), run by bench/view_bench.sh.
//
//   node bench/view_page_bench.mjs --ui http://127.0.0.1:PORT/ --trace <id> [--spans 1000]
//        [--runs 7] [--label idle] [--list-service payments]
//
// playwright-core comes from tests/browser/node_modules (`npm ci --prefix tests/browser`, the
// browser test's own install; nothing is added for the benchmark) and drives Debian's
// /usr/bin/chromium (CHROMIUM to change it).
//
// Two ways onto the trace page, each timed to the moment the waterfall holds all --spans rows
// ([data-testid=span-row], watched by a MutationObserver installed before the page's scripts),
// and to the next animation frame after that (rows laid out, about to be painted):
//   open     a new tab navigates to <ui>#/trace/<id>: from navigation start (performance
//            timeOrigin): the document, its JavaScript modules, the API calls, the render.
//   click    the list page (#/) is on screen and the hash changes to #/trace/<id>, as a click
//            on a trace row does: from the hash change: the API call and the render.
// The Resource Timing entry of GET /api/traces/{id} gives that request's own time. One warm-up
// of each is not counted; medians are over --runs. With --list-service, the trace list
// (#/?service=...) is opened the same way until its rows ([data-testid=trace-row]) are in.

import path from 'node:path';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const {chromium} = await import(path.join(here, '..', 'tests', 'browser', 'node_modules',
                                          'playwright-core', 'index.mjs'));

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const UI = (arg('ui') || '').replace(/\/$/, '');
const TRACE = arg('trace');
const SPANS = Number(arg('spans', '1000'));
const RUNS = Number(arg('runs', '7'));
const LABEL = arg('label', 'idle');
const LIST_SERVICE = arg('list-service', '');
const LIST_ROWS = Number(arg('list-rows', '100'));
if (!UI || !TRACE) {
  console.error('usage: node bench/view_page_bench.mjs --ui URL --trace ID [--spans N] [--runs N]');
  process.exit(2);
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const spread = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return `${s[0].toFixed(1)} / ${median(s).toFixed(1)} / ${s[s.length - 1].toFixed(1)}`;
};

// Runs in the page before its scripts. __benchArm(selector, count, t0) records (relative to
// t0) when `selector` first matches `count` elements, and the next animation frame after.
function installWatcher({selector, count}) {
  let observer = null;
  window.__benchArm = (sel, n, t0) => {
    if (observer) observer.disconnect();
    const b = window.__bench = {t0};
    const check = () => {
      if (b.rows !== undefined || document.querySelectorAll(sel).length < n) return;
      b.rows = performance.now() - t0;
      observer.disconnect();
      requestAnimationFrame(() => { b.frame = performance.now() - t0; });
    };
    observer = new MutationObserver(check);
    observer.observe(document, {childList: true, subtree: true});
  };
  window.__benchArm(selector, count, 0);
}

const done = () => window.__bench && window.__bench.frame !== undefined;

function apiEntry(part) {
  const api = performance.getEntriesByType('resource').filter((e) => e.name.includes(part));
  const e = api[api.length - 1];
  const t0 = window.__bench.t0;
  return {rows: window.__bench.rows, frame: window.__bench.frame,
          apiMs: e ? e.responseEnd - e.startTime : NaN,
          apiStart: e ? e.startTime - t0 : NaN,
          apiBytes: e ? e.decodedBodySize : 0,
          timeline: [
            ...(t0 === 0 ? performance.getEntriesByType('navigation') : []).map((n) => ({
              name: 'document', start: n.startTime, end: n.responseEnd,
              extra: ` (request sent ${n.requestStart.toFixed(0)}, DOMContentLoaded ${n.domContentLoadedEventEnd.toFixed(0)})`})),
            ...performance.getEntriesByType('resource').filter((e) => e.startTime >= t0).map((e) => ({
              name: new URL(e.name).pathname + (new URL(e.name).search ? '?…' : ''),
              start: e.startTime - t0, end: e.responseEnd - t0, extra: ''})),
          ]};
}

// A new tab opens `url`; times are from navigation start.
async function open(browser, url, selector, count, apiPart) {
  const page = await browser.newPage();
  await page.addInitScript(installWatcher, {selector, count});
  await page.goto(url, {waitUntil: 'commit'});
  await page.waitForFunction(done, null, {timeout: 120000, polling: 10});
  const r = await page.evaluate(apiEntry, apiPart);
  return {page, r};
}

// On `page` (showing the app), go to the list, then change the hash to the trace as a click does.
async function click(page, id) {
  await page.evaluate(() => { location.hash = '#/'; });
  await page.waitForSelector('[data-testid="trace-row"], [data-testid="empty"]', {timeout: 120000});
  await page.evaluate(() => performance.clearResourceTimings());
  await page.evaluate(({sel, n, hash}) => {
    window.__benchArm(sel, n, performance.now());
    location.hash = hash;
  }, {sel: '[data-testid="span-row"]', n: SPANS, hash: `#/trace/${id}`});
  await page.waitForFunction(done, null, {timeout: 120000, polling: 10});
  return page.evaluate(apiEntry, `/api/traces/${id}`);
}

function report(what, results, target) {
  const rows = results.map((r) => r.rows);
  const m = median(rows);
  const mid = results.reduce((a, b) => (Math.abs(b.rows - m) < Math.abs(a.rows - m) ? b : a));
  console.log(`  ${what}`);
  console.log(`    waterfall rows present      ${spread(rows)}${target ? `  (target < 200 ms: ${m < 200 ? 'met' : 'NOT met'})` : ''}`);
  console.log(`    next animation frame        ${spread(results.map((r) => r.frame))}`);
  console.log(`    GET /api/traces/{id} starts ${spread(results.map((r) => r.apiStart))}; takes ` +
              `${spread(results.map((r) => r.apiMs))} (${(results[0].apiBytes / 1024).toFixed(0)} KiB)`);
  console.log(`    requests of the median run (start → end ms):` +
              mid.timeline.map((t) => ` ${t.name} ${t.start.toFixed(0)}→${t.end.toFixed(0)}${t.extra}`).join(';') +
              `; rows ${mid.rows.toFixed(0)}, frame ${mid.frame.toFixed(0)}`);
  return m;
}

const browser = await chromium.launch({executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
                                       args: ['--no-sandbox']});
try {
  const url = `${UI}/#/trace/${TRACE}`;
  const opened = [], clicked = [];
  for (let i = 0; i <= RUNS; i++) {
    const {page, r} = await open(browser, url, '[data-testid="span-row"]', SPANS, `/api/traces/${TRACE}`);
    const c = await click(page, TRACE);
    await page.close();
    if (i === 0) continue;  // warm-up
    opened.push(r);
    clicked.push(c);
  }
  console.log(`trace page (${LABEL}), ${SPANS}-span trace, ${RUNS} runs after a warm-up, min / median / max ms:`);
  const mo = report('open: a new tab navigates to #/trace/<id> (from navigation start)', opened, true);
  const mc = report('click: from the list, the hash changes to #/trace/<id> (from the hash change)', clicked, true);
  console.log(`RESULT page label="${LABEL}" open_rows_ms=${mo.toFixed(1)} ` +
              `open_api_ms=${median(opened.map((r) => r.apiMs)).toFixed(1)} click_rows_ms=${mc.toFixed(1)} ` +
              `click_api_ms=${median(clicked.map((r) => r.apiMs)).toFixed(1)}`);

  if (LIST_SERVICE) {
    const listUrl = `${UI}/#/?service=${encodeURIComponent(LIST_SERVICE)}`;
    const lists = [];
    for (let i = 0; i <= RUNS; i++) {
      const {page, r} = await open(browser, listUrl, '[data-testid="trace-row"]', LIST_ROWS, '/api/traces?');
      await page.close();
      if (i > 0) lists.push(r);
    }
    console.log(`trace list page (${LABEL}), open #/?service=${LIST_SERVICE} until ${LIST_ROWS} rows, ms from navigation start:`);
    console.log(`    rows present                ${spread(lists.map((r) => r.rows))}`);
    console.log(`    GET /api/traces?… starts    ${spread(lists.map((r) => r.apiStart))}; takes ${spread(lists.map((r) => r.apiMs))}`);
    const lm = median(lists.map((r) => r.rows));
    const lmid = lists.reduce((a, b) => (Math.abs(b.rows - lm) < Math.abs(a.rows - lm) ? b : a));
    console.log(`    requests of the median run (start → end ms):` +
                lmid.timeline.map((t) => ` ${t.name} ${t.start.toFixed(0)}→${t.end.toFixed(0)}${t.extra}`).join(';') +
                `; rows ${lmid.rows.toFixed(0)}`);
    console.log(`RESULT list label="${LABEL}" rows_ms=${median(lists.map((r) => r.rows)).toFixed(1)} ` +
                `api_ms=${median(lists.map((r) => r.apiMs)).toFixed(1)}`);
  }
} finally {
  await browser.close();
}
