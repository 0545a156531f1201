// The trace page (#/trace/<id>?span=<span_id>): header, waterfall, span details and logs.

import {api} from './api.js';
import {h, mount, errorBox, loading} from './dom.js';
import {attrValue, clock, diffNs, duration, serviceColor, nanos} from './format.js';
import {buildTree, criticalPath, renderWaterfall} from './waterfall.js';
import {spanDetails, spanLink, severityClass} from './details.js';

// The trace on screen, kept so that following a link within the same trace (a log's span,
// a parent span) does not fetch it again and keeps the collapsed subtrees. Coming from
// another page fetches it afresh.
let current = null;

function traceDuration(data) {
  if (data.duration_ns > 0) return data.duration_ns;
  let end = 0n;
  for (const s of data.spans) if (nanos(s.end_unix_nano) > end) end = nanos(s.end_unix_nano);
  return Number(end - nanos(data.start_unix_nano));
}

function header(data, view) {
  const counts = new Map();
  let errors = 0;
  for (const s of data.spans) {
    counts.set(s.service, (counts.get(s.service) || 0) + 1);
    if (s.status && s.status.code === 'error') errors++;
  }
  const root = view.tree.roots[0];
  return h('header', {class: 'trace-header', 'data-testid': 'trace-header'},
    h('div', {class: 'title-line'},
      h('h2', {'data-testid': 'trace-title'}, root ? `${root.span.service}: ${root.span.name}` : 'trace'),
      h('span', {class: 'mono muted', 'data-testid': 'trace-id'}, data.trace_id)),
    h('dl', {class: 'facts'},
      h('div', {}, h('dt', {}, 'Start'), h('dd', {title: data.start_unix_nano}, clock(data.start_unix_nano))),
      h('div', {}, h('dt', {}, 'Duration'), h('dd', {'data-testid': 'trace-duration'}, duration(view.total))),
      h('div', {}, h('dt', {}, 'Spans'), h('dd', {'data-testid': 'trace-span-count'}, data.spans.length)),
      h('div', {}, h('dt', {}, 'Errors'), h('dd', {class: errors ? 'error-text' : '', 'data-testid': 'trace-error-count'}, errors)),
      h('div', {}, h('dt', {}, 'Services'), h('dd', {'data-testid': 'trace-services', class: 'chips'},
        [...counts].map(([name, n]) => h('span', {class: 'chip'},
            h('span', {class: 'dot', style: {background: serviceColor(name)}}), name, h('span', {class: 'muted'}, ` ${n}`)))))),
    h('div', {class: 'toolbar'},
      h('button', {type: 'button', 'data-testid': 'expand-all', onclick: () => { view.state.collapsed.clear(); view.draw(); }}, 'Expand all'),
      h('button', {type: 'button', 'data-testid': 'collapse-all', onclick: () => {
        for (const n of view.tree.nodes) if (n.children.length && n.depth >= 1) view.state.collapsed.add(n.span.span_id);
        view.draw();
      }}, 'Collapse below level 1'),
      h('a', {href: `/api/traces/${encodeURIComponent(data.trace_id)}`, target: '_blank', class: 'button'}, 'JSON'),
      h('span', {class: 'legend', 'data-testid': 'legend'},
        h('span', {class: 'legend-item'}, h('span', {class: 'legend-bar critical'}), 'critical path: from the root, the child that ends last, repeatedly — the spans that decide when the trace ends'),
        h('span', {class: 'legend-item'}, h('span', {class: 'legend-bar error'}), 'status error'),
        h('span', {class: 'legend-item'}, h('span', {class: 'legend-event'}), 'event'))));
}

function logsSection(data) {
  const logs = data.logs || [];
  if (!logs.length) return null;
  return h('section', {class: 'logs', 'data-testid': 'trace-logs'},
    h('h3', {}, `Logs (${logs.length})`),
    h('table', {class: 'grid'},
      h('thead', {}, h('tr', {}, ['Time', 'Severity', 'Service', 'Body', 'Attributes', 'Span'].map((c) => h('th', {}, c)))),
      h('tbody', {}, logs.map((l) => {
        const t = l.time_unix_nano && l.time_unix_nano !== '0' ? l.time_unix_nano : l.observed_time_unix_nano;
        return h('tr', {'data-testid': 'log-row'},
          h('td', {title: clock(t)}, `+${duration(diffNs(t, data.start_unix_nano))}`),
          h('td', {}, h('span', {class: `sev sev-${severityClass(l.severity_number)}`}, l.severity_text || String(l.severity_number ?? ''))),
          h('td', {}, l.service || ''),
          h('td', {'data-testid': 'log-body'}, attrValue(l.body ?? '')),
          h('td', {class: 'small'}, (l.attributes || []).map((a) => h('div', {}, `${a.key}=${attrValue(a.value)}`))),
          h('td', {}, l.span_id ? spanLink(data.trace_id, l.span_id) : ''));
      }))));
}

function makeView(data) {
  const tree = buildTree(data.spans || []);
  return {
    id: data.trace_id, data, tree,
    critical: criticalPath(tree),
    total: traceDuration(data),
    state: {collapsed: new Set(), selected: ''},
  };
}

function select(view, spanId) {
  view.state.selected = spanId;
  // Make the selected span visible: expand its collapsed ancestors.
  let node = view.tree.byId.get(spanId);
  for (node = node && node.parent; node; node = node.parent) view.state.collapsed.delete(node.span.span_id);
}

export async function render(main, ctx) {
  const id = ctx.arg;
  const spanId = ctx.params.get('span') || '';
  const shown = main.querySelector('[data-testid="trace-view"]');
  if (!current || current.id !== id || !shown || shown.dataset.traceId !== id) {
    mount(main, loading(`trace ${id}`));
    let data;
    try {
      [data] = await Promise.all([api.trace(id), ctx.colors]);
    } catch (e) {
      if (!ctx.isCurrent()) return;
      mount(main, h('section', {},
          h('p', {}, h('a', {href: '#/'}, '← all traces')), errorBox(e)));
      return;
    }
    if (!ctx.isCurrent()) return;
    current = makeView(data);
  }
  const view = current;
  select(view, spanId);

  if (view.waterfall && shown && shown.dataset.traceId === id && main.contains(view.waterfall.element)) {
    // Same trace already on screen (a link to one of its spans): only move the selection.
    view.waterfall.update();
  } else {
    view.waterfall = renderWaterfall(view.tree, {
      startNs: view.data.start_unix_nano,
      totalNs: view.total,
      state: view.state,
      critical: view.critical,
      onToggle: (sid) => {
        if (view.state.collapsed.has(sid)) view.state.collapsed.delete(sid);
        else view.state.collapsed.add(sid);
        view.waterfall.update();
      },
      onSelect: (sid) => {
        const next = view.state.selected === sid ? '' : sid;
        view.state.selected = next;
        const hash = `#/trace/${encodeURIComponent(view.id)}${next ? `?span=${encodeURIComponent(next)}` : ''}`;
        history.replaceState(null, '', hash);
        view.waterfall.update();
      },
      details: (span) => spanDetails(span, view.data, view.data.logs),
    });
    view.draw = () => view.waterfall.update();
    mount(main, h('section', {class: 'trace-view', 'data-testid': 'trace-view', 'data-trace-id': view.id},
        h('p', {class: 'back'}, h('a', {href: '#/'}, '← all traces')),
        header(view.data, view), h('div', {class: 'waterfall-holder'}, view.waterfall.element),
        logsSection(view.data)));
  }

  if (spanId) {
    const row = main.querySelector(`[data-span-id="${CSS.escape(spanId)}"]`);
    if (row) row.scrollIntoView({block: 'center'});
    else mount(main.querySelector('.back'), h('a', {href: '#/'}, '← all traces'),
        h('span', {class: 'error-text', 'data-testid': 'missing-span'}, ` span ${spanId} is not in this trace`));
  }
}
