// The trace list (#/): the search form and the matching traces, newest first.
// The search lives in the hash (#/?service=orders&attr=k%3Dv&range=1h) so it can be linked.

import {api} from './api.js';
import {h, mount, errorBox, loading} from './dom.js';
import {clock, ago, duration, serviceColor, setServices} from './format.js';

const RANGES = [
  ['15m', 'Last 15 minutes', 15 * 60e3],
  ['1h', 'Last hour', 60 * 60e3],
  ['24h', 'Last 24 hours', 24 * 60 * 60e3],
  ['all', 'All time', 0],
  ['custom', 'Between…', 0],
];

let autoRefresh = false;
let timer = 0;

function msToNanoString(ms) {
  return (BigInt(Math.floor(ms)) * 1000000n).toString();
}

// The /api/traces query for the form's values.
function query(params) {
  const q = {
    service: params.get('service'),
    name: params.get('name'),
    attr: params.getAll('attr').filter((a) => a.trim() !== ''),
    min_duration_ms: params.get('min_duration_ms'),
    status: params.get('status'),
    limit: params.get('limit') || '100',
  };
  const range = params.get('range') || 'all';
  const preset = RANGES.find(([key]) => key === range);
  if (preset && preset[2] > 0) q.start = msToNanoString(Date.now() - preset[2]);
  if (range === 'custom') {
    const from = Date.parse(params.get('from') || '');
    const to = Date.parse(params.get('to') || '');
    if (!Number.isNaN(from)) q.start = msToNanoString(from);
    if (!Number.isNaN(to)) q.end = msToNanoString(to);
  }
  return q;
}

function hasFilters(params) {
  return ['service', 'name', 'attr', 'min_duration_ms', 'status'].some((k) => params.getAll(k).some((v) => v)) ||
      (params.get('range') || 'all') !== 'all';
}

function attrInput(value) {
  return h('input', {
    type: 'text', name: 'attr', value, 'data-testid': 'search-attr',
    title: 'A span or resource attribute, compared as text: http.response.status_code=503',
  });
}

// Fills the service select from /api/services, keeping the chosen service.
async function fillServices(select, wanted) {
  let names = [];
  try {
    names = ((await api.services()).services || []).map((svc) => svc.name);
  } catch {
    return; // the results area shows API errors
  }
  setServices(names);
  if (wanted && !names.includes(wanted)) names.unshift(wanted);
  const current = select.value || wanted;
  mount(select, h('option', {value: ''}, 'All services'),
      names.map((name) => h('option', {value: name}, name)));
  select.value = current;
}

function searchForm(params, onSubmit, onRefresh) {
  const serviceSelect = h('select', {name: 'service', 'data-testid': 'search-service'},
      h('option', {value: ''}, 'All services'));
  const wanted = params.get('service') || '';
  if (wanted) serviceSelect.append(h('option', {value: wanted, selected: true}, wanted));

  const attrs = h('span', {class: 'attrs'});
  const attrValues = params.getAll('attr');
  for (const a of attrValues.length ? attrValues : ['']) attrs.append(attrInput(a));

  const range = params.get('range') || 'all';
  const custom = h('span', {class: 'custom-range', hidden: range !== 'custom'},
      h('input', {type: 'datetime-local', name: 'from', step: 1, value: params.get('from') || '',
                  'aria-label': 'from', 'data-testid': 'search-from'}),
      ' – ',
      h('input', {type: 'datetime-local', name: 'to', step: 1, value: params.get('to') || '',
                  'aria-label': 'to', 'data-testid': 'search-to'}));
  const rangeSelect = h('select', {name: 'range', 'data-testid': 'search-range',
                                   onchange: (e) => { custom.hidden = e.target.value !== 'custom'; }},
      RANGES.map(([key, label]) => h('option', {value: key, selected: key === range}, label)));

  const status = params.get('status') || '';
  const form = h('form', {class: 'search', 'data-testid': 'search-form', onsubmit: (e) => {
    e.preventDefault();
    onSubmit(new FormData(form));
  }},
    h('label', {}, 'Service', serviceSelect),
    h('label', {}, 'Span name', h('input', {type: 'text', name: 'name', value: params.get('name') || '',
                                             title: 'The exact span name', 'data-testid': 'search-name'})),
    h('div', {class: 'field'}, h('span', {}, 'Attributes'),
      h('span', {class: 'attr-row'}, attrs,
        h('button', {type: 'button', class: 'small', title: 'Add another attribute filter (all must match)',
                     onclick: () => attrs.append(attrInput(''))}, '+'))),
    h('label', {}, 'Min duration (ms)', h('input', {type: 'number', name: 'min_duration_ms', min: 0, step: 'any',
        value: params.get('min_duration_ms') || '', class: 'narrow', 'data-testid': 'search-min-duration'})),
    h('label', {}, 'Status', h('select', {name: 'status', 'data-testid': 'search-status'},
        [['', 'Any'], ['error', 'Error'], ['ok', 'No error']].map(([v, label]) =>
            h('option', {value: v, selected: v === status}, label)))),
    h('label', {}, 'Time', rangeSelect, custom),
    h('span', {class: 'buttons'},
      h('button', {type: 'submit', class: 'primary', 'data-testid': 'search-submit'}, 'Search'),
      h('button', {type: 'button', 'data-testid': 'search-reset', onclick: () => onSubmit(new FormData())}, 'Reset'),
      h('button', {type: 'button', 'data-testid': 'refresh', onclick: onRefresh}, 'Refresh'),
      h('label', {class: 'inline'}, h('input', {type: 'checkbox', checked: autoRefresh, 'data-testid': 'auto-refresh',
          onchange: (e) => { autoRefresh = e.target.checked; onRefresh(); }}), 'auto-refresh')));
  return form;
}

function servicesCell(services) {
  return h('div', {class: 'chips'}, (services || []).map((svc) =>
      h('span', {class: 'chip', title: `${svc.spans} spans`},
        h('span', {class: 'dot', style: {background: serviceColor(svc.name)}}), svc.name,
        h('span', {class: 'muted'}, ` ${svc.spans}`))));
}

function resultsTable(body, params) {
  const traces = body.traces || [];
  if (traces.length === 0) {
    if (hasFilters(params)) {
      return h('div', {class: 'empty', 'data-testid': 'empty'}, 'No traces match these filters.');
    }
    return h('div', {class: 'empty', 'data-testid': 'empty'},
        h('p', {}, h('strong', {}, 'No traces yet.')),
        h('p', {}, 'Point your program at this viewer: ',
          h('code', {}, 'OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318'),
          ' (the OTLP/HTTP address `otlp view` printed at start; OTLP/gRPC listens on 4317 by default).'));
  }
  const longest = Math.max(1, ...traces.map((t) => t.duration_ns || 0));
  const rows = traces.map((t) => {
    const href = `#/trace/${encodeURIComponent(t.trace_id)}`;
    return h('tr', {class: ['trace-row', t.error_count > 0 && 'has-error'], 'data-testid': 'trace-row',
                    'data-trace-id': t.trace_id, onclick: (e) => {
                      if (!e.target.closest('a')) location.hash = href;
                    }},
      h('td', {},
        h('a', {href, class: 'trace-title', 'data-testid': 'trace-link'},
          h('span', {class: 'dot', style: {background: serviceColor(t.root_service)}}),
          h('span', {class: 'service'}, t.root_service), ' ', h('span', {'data-testid': 'trace-name'}, t.root_name)),
        h('div', {class: 'mono muted small'}, t.trace_id)),
      h('td', {title: t.start_unix_nano}, clock(t.start_unix_nano), h('div', {class: 'muted small'}, ago(t.start_unix_nano))),
      h('td', {class: 'duration-cell'}, h('span', {'data-testid': 'trace-duration'}, duration(t.duration_ns)),
        h('div', {class: 'minibar'}, h('div', {style: {width: `${Math.max(1, (100 * (t.duration_ns || 0)) / longest)}%`}}))),
      h('td', {class: 'num', 'data-testid': 'trace-spans'}, t.span_count),
      h('td', {class: ['num', t.error_count > 0 && 'error-text'], 'data-testid': 'trace-errors'}, t.error_count),
      h('td', {}, servicesCell(t.services)));
  });
  return h('div', {},
    h('div', {class: 'muted summary', 'data-testid': 'trace-count'},
      `${traces.length} of ${body.total ?? traces.length} matching traces, newest first`),
    h('table', {class: 'grid traces', 'data-testid': 'trace-table'},
      h('thead', {}, h('tr', {}, ['Trace', 'Start', 'Duration', 'Spans', 'Errors', 'Services'].map((c) => h('th', {}, c)))),
      h('tbody', {}, rows)));
}

export async function render(main, ctx) {
  const params = ctx.params;
  const results = h('div', {class: 'results', 'data-testid': 'results'}, loading('traces'));

  const submit = (data) => {
    const next = new URLSearchParams();
    for (const [key, value] of data.entries()) {
      if (typeof value === 'string' && value.trim() !== '' && !(key === 'range' && value === 'all')) {
        next.append(key, value.trim());
      }
    }
    const hash = next.toString() ? `#/?${next}` : '#/';
    if (location.hash === hash || (hash === '#/' && !location.hash)) render(main, ctx); // same search: draw afresh
    else location.hash = hash;
  };

  // One request at a time; a refresh asked for meanwhile runs when it is done.
  let inflight = null;
  let again = false;
  const load = async () => {
    if (inflight) {
      again = true;
      return;
    }
    inflight = (async () => {
      try {
        const [body] = await Promise.all([api.traces(query(params)), ctx.colors]);
        if (ctx.isCurrent()) mount(results, resultsTable(body, params));
      } catch (e) {
        if (ctx.isCurrent()) mount(results, errorBox(e));
      }
    })();
    await inflight;
    inflight = null;
    if (again) {
      again = false;
      load();
    }
  };

  let form;
  clearInterval(timer);
  const refresh = async () => {
    window.dispatchEvent(new Event('otlp-view-refresh'));
    await fillServices(form.elements.service, params.get('service') || '');
    clearInterval(timer);
    if (autoRefresh) {
      timer = setInterval(() => (ctx.isCurrent() ? load() : clearInterval(timer)), 5000);
    }
    load();
  };

  form = searchForm(params, submit, refresh);
  mount(main, h('section', {class: 'list-view'},
      form, results));
  refresh();
}
