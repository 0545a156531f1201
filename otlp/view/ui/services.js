// The service map (#/services): who calls whom, as an SVG graph laid out in layers (callers
// left of callees) and as tables.

import {api} from './api.js';
import {h, s, mount, errorBox, loading} from './dom.js';
import {plural, serviceColor} from './format.js';

const NODE_W = 160;
const NODE_H = 44;
const COL_GAP = 110;
const ROW_GAP = 30;
const PAD = 24;

function rate(errors, calls) {
  return calls ? `${((100 * errors) / calls).toFixed(errors && errors < calls / 100 ? 2 : 0)}%` : '0%';
}

// Layer of each service: the longest chain of callers above it (bounded, so cycles end).
function layers(names, edges) {
  const layer = new Map(names.map((n) => [n, 0]));
  for (let i = 0; i < names.length; i++) {
    let changed = false;
    for (const e of edges) {
      const want = Math.min(layer.get(e.parent) + 1, names.length - 1);
      if (want > layer.get(e.child)) {
        layer.set(e.child, want);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return layer;
}

function graph(names, edges, servicesByName) {
  const layer = layers(names, edges);
  const columns = [];
  for (const name of names) {
    const l = layer.get(name);
    (columns[l] ||= []).push(name);
  }
  const pos = new Map();
  const tallest = Math.max(1, ...columns.map((c) => (c ? c.length : 0)));
  const height = PAD * 2 + tallest * NODE_H + (tallest - 1) * ROW_GAP + 20;
  columns.forEach((col, i) => {
    if (!col) return;
    const colHeight = col.length * NODE_H + (col.length - 1) * ROW_GAP;
    const top = (height - colHeight) / 2;
    col.forEach((name, j) => pos.set(name, {x: PAD + i * (NODE_W + COL_GAP), y: top + j * (NODE_H + ROW_GAP)}));
  });
  const width = PAD * 2 + columns.length * NODE_W + (columns.length - 1) * COL_GAP;

  const edgeEls = edges.map((e) => {
    const a = pos.get(e.parent);
    const b = pos.get(e.child);
    let d;
    let label;
    if (layer.get(e.child) > layer.get(e.parent)) {
      const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2;
      const mx = (x1 + x2) / 2;
      d = `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}`;
      label = {x: mx, y: (y1 + y2) / 2 - 6};
    } else {
      // A call back to an earlier (or the same) layer: an arc below the nodes.
      const x1 = a.x + NODE_W / 2, y1 = a.y + NODE_H, x2 = b.x + NODE_W / 2 + 8, y2 = b.y + NODE_H;
      const dip = Math.max(y1, y2) + 36;
      d = `M${x1},${y1} C${x1},${dip} ${x2},${dip} ${x2},${y2 + 2}`;
      label = {x: (x1 + x2) / 2, y: dip - 4};
    }
    const bad = e.errors > 0;
    return s('g', {class: ['edge', bad && 'has-error'], 'data-testid': 'map-edge', 'data-parent': e.parent, 'data-child': e.child},
      s('title', {}, `${e.parent} → ${e.child}: ${e.calls} calls, ${e.errors} errors`),
      s('path', {d, 'marker-end': bad ? 'url(#arrow-error)' : 'url(#arrow)'}),
      s('text', {x: label.x, y: label.y, 'text-anchor': 'middle', class: 'edge-label'},
        `${e.calls} call${e.calls === 1 ? '' : 's'}${bad ? ` · ${rate(e.errors, e.calls)} err` : ''}`));
  });

  const nodeEls = names.map((name) => {
    const p = pos.get(name);
    const info = servicesByName.get(name);
    return s('a', {href: `#/?service=${encodeURIComponent(name)}`, 'data-testid': 'map-node', 'data-service': name},
      s('title', {}, info ? `${name}: ${info.spans} spans, ${info.errors} errors, ${info.traces} traces` : name),
      s('rect', {x: p.x, y: p.y, width: NODE_W, height: NODE_H, rx: 6, class: 'node'}),
      s('rect', {x: p.x, y: p.y, width: 6, height: NODE_H, rx: 2, fill: serviceColor(name)}),
      s('text', {x: p.x + 14, y: p.y + 19, class: 'node-name'}, name.length > 20 ? `${name.slice(0, 19)}…` : name),
      s('text', {x: p.x + 14, y: p.y + 35, class: 'node-sub'},
        info ? `${plural(info.spans, 'span')}${info.errors ? ` · ${plural(info.errors, 'error')}` : ''}` : ''));
  });

  const marker = (id, cls) => s('marker', {id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse'},
      s('path', {d: 'M0,0 L10,5 L0,10 z', class: cls}));
  return s('svg', {class: 'service-map', 'data-testid': 'service-map', width, height: height + 30,
                   viewBox: `0 0 ${width} ${height + 30}`, role: 'img', 'aria-label': 'service map'},
    s('defs', {}, marker('arrow', 'arrow'), marker('arrow-error', 'arrow error')),
    edgeEls, nodeEls);
}

export async function render(main, ctx) {
  mount(main, loading('service map'));
  const [mapResult, servicesResult] = await Promise.allSettled([api.serviceMap(), api.services(), ctx.colors]);
  if (!ctx.isCurrent()) return;
  if (mapResult.status === 'rejected') {
    mount(main, errorBox(mapResult.reason));
    return;
  }
  const edges = (mapResult.value.edges || []).slice().sort((a, b) => b.calls - a.calls);
  const services = servicesResult.status === 'fulfilled' ? servicesResult.value.services || [] : [];
  const servicesByName = new Map(services.map((svc) => [svc.name, svc]));
  const names = [...new Set([...services.map((svc) => svc.name), ...edges.flatMap((e) => [e.parent, e.child])])].sort();

  if (names.length === 0) {
    mount(main, h('section', {}, h('h2', {}, 'Service map'),
        h('div', {class: 'empty', 'data-testid': 'empty'}, 'No services yet — send some traces first.')));
    return;
  }

  mount(main, h('section', {class: 'services-view'},
    h('h2', {}, 'Service map'),
    h('p', {class: 'muted'}, 'An arrow for each pair of services where a span of one is the parent of a span of the other, over all stored traces.'),
    servicesResult.status === 'rejected' ? errorBox(servicesResult.reason) : null,
    h('div', {class: 'map-holder'}, graph(names, edges, servicesByName)),
    h('div', {class: 'two-columns'},
      h('div', {},
        h('h3', {}, 'Calls'),
        edges.length === 0 ? h('div', {class: 'empty'}, 'No calls between services yet.') :
        h('table', {class: 'grid', 'data-testid': 'edge-table'},
          h('thead', {}, h('tr', {}, ['Caller', 'Callee', 'Calls', 'Errors', 'Error rate'].map((c) => h('th', {}, c)))),
          h('tbody', {}, edges.map((e) => h('tr', {'data-testid': 'edge-row', 'data-parent': e.parent, 'data-child': e.child},
            h('td', {}, e.parent), h('td', {}, e.child), h('td', {class: 'num', 'data-testid': 'edge-calls'}, e.calls),
            h('td', {class: ['num', e.errors && 'error-text'], 'data-testid': 'edge-errors'}, e.errors),
            h('td', {class: 'num'}, rate(e.errors, e.calls))))))),
      h('div', {},
        h('h3', {}, 'Services'),
        h('table', {class: 'grid', 'data-testid': 'service-table'},
          h('thead', {}, h('tr', {}, ['Service', 'Traces', 'Spans', 'Errors'].map((c) => h('th', {}, c)))),
          h('tbody', {}, services.map((svc) => h('tr', {'data-testid': 'service-row', 'data-service': svc.name},
            h('td', {}, h('a', {href: `#/?service=${encodeURIComponent(svc.name)}`},
              h('span', {class: 'dot', style: {background: serviceColor(svc.name)}}), svc.name)),
            h('td', {class: 'num'}, svc.traces), h('td', {class: 'num'}, svc.spans),
            h('td', {class: ['num', svc.errors && 'error-text']}, svc.errors)))))))));
}
