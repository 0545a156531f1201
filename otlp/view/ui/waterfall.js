// The waterfall of one trace: the span tree in depth-first order, each span a bar on the
// trace's time axis; collapsible subtrees; the critical path marked.

import {h} from './dom.js';
import {nanos, diffNs, duration, serviceColor, ticks} from './format.js';

// Builds the span tree. Spans whose parent is absent from the trace become roots
// (marked `orphan`). Returns {roots, byId, nodes} with nodes in depth-first order.
export function buildTree(spans) {
  const byId = new Map();
  for (const span of spans) byId.set(span.span_id, {span, children: [], depth: 0, orphan: false});
  const roots = [];
  for (const node of byId.values()) {
    const parentId = node.span.parent_span_id;
    const parent = parentId ? byId.get(parentId) : undefined;
    if (parent && parent !== node) parent.children.push(node);
    else {
      node.orphan = Boolean(parentId);
      roots.push(node);
    }
  }
  const byStart = (a, b) => {
    const d = nanos(a.span.start_unix_nano) - nanos(b.span.start_unix_nano);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  };
  const nodes = [];
  const seen = new Set();
  const visit = (node, depth, parent) => {
    if (seen.has(node)) return;
    seen.add(node);
    node.depth = depth;
    node.parent = parent;
    nodes.push(node);
    node.children.sort(byStart);
    for (const child of node.children) visit(child, depth + 1, node);
  };
  roots.sort(byStart);
  for (const root of roots) visit(root, 0, null);
  // A parent cycle leaves spans unreached: show them as roots rather than lose them.
  for (const node of byId.values()) {
    if (!seen.has(node)) {
      node.orphan = true;
      roots.push(node);
      visit(node, 0, null);
    }
  }
  return {roots, byId, nodes};
}

// The critical path: from the root that ends last, repeatedly the child that ends last.
// These are the spans that determine when the trace ends.
export function criticalPath(tree) {
  const path = new Set();
  const latest = (list) => list.reduce((best, n) =>
      (!best || nanos(n.span.end_unix_nano) > nanos(best.span.end_unix_nano) ? n : best), null);
  let node = latest(tree.roots.filter((r) => !r.orphan)) || latest(tree.roots);
  while (node && !path.has(node.span.span_id)) {
    path.add(node.span.span_id);
    node = latest(node.children);
  }
  return path;
}

function countDescendants(node) {
  let n = 0;
  for (const child of node.children) n += 1 + countDescendants(child);
  return n;
}

// Builds the waterfall once; collapsing and selecting then only show, hide and mark rows.
// options: {startNs (string), totalNs, state: {collapsed:Set, selected}, critical:Set,
//           onToggle(spanId), onSelect(spanId), details(span) -> Node}
// Returns {element, update()}: update() applies state.collapsed and state.selected.
export function renderWaterfall(tree, options) {
  const {startNs, state, critical} = options;
  const total = options.totalNs > 0 ? options.totalNs : 1;
  const pct = (ns) => `${Math.min(100, Math.max(0, (100 * ns) / total))}%`;
  const tickList = ticks(total, 6);

  const axis = h('div', {class: 'wf-axis', 'data-testid': 'time-axis'},
      h('div', {class: 'wf-name-head'}, 'Service · span'),
      h('div', {class: 'wf-ticks'}, tickList.map((t) =>
          h('span', {class: 'tick', style: {left: pct(t)}, 'data-testid': 'tick'}, duration(Math.round(t))))));

  const grid = h('div', {class: 'wf-grid', 'aria-hidden': 'true'},
      tickList.map((t) => h('div', {class: 'gridline', style: {'--p': (t / total).toString()}})));

  // Rows are clones of one template (much faster than building each element for long traces);
  // every text goes in through textContent.
  const template = h('div', {class: 'span-row', 'data-testid': 'span-row', tabindex: 0, role: 'button', 'aria-expanded': 'false'},
    h('div', {class: 'wf-name'},
      h('span', {class: 'toggle-space'}),
      h('span', {class: 'swatch'}),
      h('span', {class: 'service', 'data-testid': 'span-service'}),
      h('span', {class: 'name', 'data-testid': 'span-name'}),
      h('span', {class: 'kind'})),
    h('div', {class: 'wf-track'},
      h('div', {class: 'bar', 'data-testid': 'span-bar'}),
      h('span', {class: 'bar-label'})));
  const toggleTemplate = h('button', {class: 'toggle', 'data-testid': 'span-toggle', 'aria-expanded': 'true', title: 'Collapse'}, '▾');

  const rows = tree.nodes.map((node) => {
    const span = node.span;
    const offset = diffNs(span.start_unix_nano, startNs);
    const dur = span.duration_ns ?? diffNs(span.end_unix_nano, span.start_unix_nano);
    const isError = span.status && span.status.code === 'error';
    const isCritical = critical.has(span.span_id);
    const color = serviceColor(span.service);

    const row = template.cloneNode(true);
    const [nameCell, track] = row.children;
    const [space, swatch, service, name, kind] = nameCell.children;
    const [bar, label] = track.children;
    if (isError) row.classList.add('error');
    if (isCritical) row.classList.add('critical');
    row.dataset.spanId = span.span_id;
    row.dataset.depth = node.depth;
    row.dataset.critical = String(isCritical);
    row.dataset.error = String(Boolean(isError));
    nameCell.style.paddingLeft = `${4 + node.depth * 16}px`;
    swatch.style.background = color;
    service.textContent = span.service;
    name.textContent = span.name;
    name.title = span.name;
    kind.textContent = span.kind;
    kind.classList.add(`kind-${span.kind}`);
    if (isError) nameCell.append(h('span', {class: 'badge badge-error', title: span.status.message || 'status error'}, '!'));
    if (node.orphan) nameCell.append(h('span', {class: 'badge muted', title: `parent ${span.parent_span_id} not received`}, 'orphan'));

    node.hiddenCount = 0;
    node.toggle = space;
    if (node.children.length) {
      node.hiddenCount = countDescendants(node);
      node.toggle = toggleTemplate.cloneNode(true);
      space.replaceWith(node.toggle);
      node.more = h('span', {class: 'muted small', hidden: true}, ` +${node.hiddenCount}`);
      nameCell.append(node.more);
    }

    bar.style.left = pct(offset);
    bar.style.width = `max(2px, ${pct(dur)})`;
    if (!isError) bar.style.background = color;
    for (const ev of span.events || []) {
      track.append(h('span', {class: 'event-mark', title: ev.name, style: {left: pct(diffNs(ev.time_unix_nano, startNs))}}));
    }
    const barLeft = (100 * offset) / total;
    if (barLeft > 70) {
      label.classList.add('left');
      label.style.right = `calc(${100 - barLeft}% + 4px)`;
    } else {
      label.style.left = `calc(${pct(offset + dur)} + 4px)`;
    }
    label.textContent = duration(dur);
    node.row = row;
    return row;
  });

  // One listener for all rows.
  const spanOf = (target) => {
    if (target.closest('.span-details-row')) return null;
    const row = target.closest('.span-row');
    return row ? row.dataset.spanId : null;
  };
  const rowsEl = h('div', {
    class: 'wf-rows',
    onclick: (e) => {
      const spanId = spanOf(e.target);
      if (!spanId) return;
      if (e.target.closest('.toggle')) options.onToggle(spanId);
      else options.onSelect(spanId);
    },
    onkeydown: (e) => {
      if ((e.key === 'Enter' || e.key === ' ') && e.target.classList.contains('span-row')) {
        e.preventDefault();
        options.onSelect(e.target.dataset.spanId);
      }
    },
  }, grid, rows);

  let detailsRow = null;
  let selectedNode = null;
  const update = () => {
    // Hide the descendants of collapsed spans.
    const hiddenUnder = [];
    for (const node of tree.nodes) {
      while (hiddenUnder.length && hiddenUnder[hiddenUnder.length - 1] >= node.depth) hiddenUnder.pop();
      node.row.hidden = hiddenUnder.length > 0;
      if (!node.children.length) continue;
      const collapsed = state.collapsed.has(node.span.span_id);
      if (collapsed && !node.row.hidden) hiddenUnder.push(node.depth);
      node.toggle.textContent = collapsed ? '▸' : '▾';
      node.toggle.setAttribute('aria-expanded', String(!collapsed));
      node.toggle.title = collapsed ? `Expand (${node.hiddenCount} spans hidden)` : 'Collapse';
      node.more.hidden = !collapsed;
    }
    // Mark the selected span and show its details under it.
    const next = tree.byId.get(state.selected) || null;
    if (next !== selectedNode || (next && detailsRow && detailsRow.previousSibling !== next.row)) {
      if (selectedNode) {
        selectedNode.row.classList.remove('selected');
        selectedNode.row.setAttribute('aria-expanded', 'false');
      }
      if (detailsRow) detailsRow.remove();
      detailsRow = null;
      selectedNode = next;
      if (next) {
        next.row.classList.add('selected');
        next.row.setAttribute('aria-expanded', 'true');
        if (options.details) {
          detailsRow = h('div', {class: 'span-details-row'}, options.details(next.span));
          next.row.after(detailsRow);
        }
      }
    }
    if (detailsRow) detailsRow.hidden = selectedNode.row.hidden;
  };
  update();

  return {element: h('div', {class: 'waterfall', 'data-testid': 'waterfall'}, axis, rowsEl), update};
}
