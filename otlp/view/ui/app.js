// Entry point: hash routing between the views.
//   #/                        trace list (search parameters after '?')
//   #/trace/<trace_id>        one trace (optionally ?span=<span_id>)
//   #/services                service map
//   #/metrics                 metrics table

import {api} from './api.js';
import {bytes, setServices} from './format.js';
import {mount, errorBox} from './dom.js';
import * as list from './list.js';
import * as trace from './trace.js';
import * as services from './services.js';
import * as metrics from './metrics.js';

const main = document.getElementById('main');
let generation = 0;

function parseHash() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const q = hash.indexOf('?');
  const path = q < 0 ? hash : hash.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : hash.slice(q + 1));
  return {path, params};
}

function pick(path) {
  const m = path.match(/^\/trace\/([^/]+)$/);
  if (m) return {view: trace, nav: 'traces', arg: decodeURIComponent(m[1])};
  if (path === '/services') return {view: services, nav: 'services'};
  if (path === '/metrics') return {view: metrics, nav: 'metrics'};
  return {view: list, nav: 'traces'};
}

async function route() {
  const token = ++generation;
  const {path, params} = parseHash();
  const {view, nav, arg} = pick(path);
  for (const a of document.querySelectorAll('[data-nav]')) {
    a.classList.toggle('active', a.dataset.nav === nav);
  }
  // Colours per service are assigned over the sorted list of known services; views wait for
  // this (`ctx.colors`) beside their own request.
  const colors = api.services().then((body) => setServices((body.services || []).map((svc) => svc.name)), () => {});
  const ctx = {params, arg, colors, isCurrent: () => token === generation};
  try {
    await view.render(main, ctx);
  } catch (e) {
    if (ctx.isCurrent()) mount(main, errorBox(e));
  }
  refreshStats();
}

async function refreshStats() {
  const el = document.getElementById('stats');
  try {
    const st = await api.stats();
    el.textContent = `${st.traces} traces · ${st.spans} spans · ${st.logs} logs · ` +
        `${st.metric_points} metric points · ${bytes(st.db_bytes)}`;
    el.title = '';
  } catch (e) {
    el.textContent = 'stats unavailable';
    el.title = e.message;
  }
}

window.addEventListener('hashchange', route);
// The list's Refresh button asks for fresh figures too.
window.addEventListener('otlp-view-refresh', refreshStats);
route();
