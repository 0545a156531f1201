// Span details: ids, status, attributes, events, links, resource and scope of one span.

import {h} from './dom.js';
import {attrValue, clock, diffNs, duration} from './format.js';

export function attrTable(attributes, testid, dropped) {
  if (!attributes || attributes.length === 0) {
    return h('div', {class: 'muted small', 'data-testid': testid}, dropped ? `none (${dropped} dropped)` : 'none');
  }
  return h('table', {class: 'kv', 'data-testid': testid},
    h('tbody', {}, attributes.map((a) => h('tr', {'data-testid': 'attr', 'data-key': a.key},
        h('th', {}, a.key), h('td', {class: typeof a.value === 'string' ? '' : 'mono'}, attrValue(a.value))))),
    dropped ? h('caption', {class: 'muted small'}, `${dropped} dropped`) : null);
}

function section(title, testid, ...content) {
  return h('section', {class: 'detail-section', 'data-testid': testid}, h('h4', {}, title), content);
}

export function spanLink(traceId, spanId, text) {
  const href = `#/trace/${encodeURIComponent(traceId)}${spanId ? `?span=${encodeURIComponent(spanId)}` : ''}`;
  return h('a', {href, class: 'mono'}, text ?? (spanId || traceId));
}

export function spanDetails(span, trace, logs) {
  const status = span.status || {code: 'unset', message: ''};
  const ids = [
    ['span id', span.span_id],
    ['parent span id', span.parent_span_id ? spanLink(trace.trace_id, span.parent_span_id) : '(root)'],
    ['trace id', span.trace_id || trace.trace_id],
    ['start', `${clock(span.start_unix_nano)} (+${duration(diffNs(span.start_unix_nano, trace.start_unix_nano))})`],
    ['duration', duration(span.duration_ns)],
    ['kind', span.kind],
    ['status', `${status.code}${status.message ? `: ${status.message}` : ''}`],
    ['trace state', span.trace_state || ''],
    ['flags', String(span.flags ?? '')],
  ];

  const events = (span.events || []).map((ev) =>
    h('li', {'data-testid': 'event'},
      h('div', {},
        h('span', {class: 'offset'}, `+${duration(diffNs(ev.time_unix_nano, span.start_unix_nano))}`),
        ' ', h('strong', {'data-testid': 'event-name'}, ev.name)),
      attrTable(ev.attributes, 'event-attributes', ev.dropped_attributes_count)));

  const links = (span.links || []).map((link) =>
    h('li', {'data-testid': 'link'},
      h('a', {href: `#/trace/${encodeURIComponent(link.trace_id)}?span=${encodeURIComponent(link.span_id)}`,
              class: 'mono', 'data-testid': 'link-href'}, `trace ${link.trace_id} · span ${link.span_id}`),
      link.trace_state ? h('span', {class: 'muted small'}, ` tracestate ${link.trace_state}`) : null,
      attrTable(link.attributes, 'link-attributes', link.dropped_attributes_count)));

  const scope = span.scope || {};
  const resource = span.resource || {};
  const spanLogs = (logs || []).filter((l) => l.span_id === span.span_id);

  return h('div', {class: 'span-details', 'data-testid': 'span-details', 'data-span-id': span.span_id,
                   onclick: (e) => e.stopPropagation()},
    h('header', {},
      h('h3', {'data-testid': 'details-title'}, span.name),
      h('span', {class: 'muted'}, ` ${span.service}`),
      status.code === 'error'
        ? h('div', {class: 'error-text', 'data-testid': 'details-status'}, `Error${status.message ? `: ${status.message}` : ''}`)
        : h('div', {class: 'muted small', 'data-testid': 'details-status'}, `status ${status.code}`)),
    h('div', {class: 'detail-columns'},
      h('div', {},
        section('Span', 'details-ids', h('table', {class: 'kv'}, h('tbody', {},
            ids.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {class: 'mono'}, v)))))),
        section('Attributes', 'details-attributes', attrTable(span.attributes, 'span-attributes', span.dropped_attributes_count)),
        section(`Events (${(span.events || []).length})`, 'details-events',
          events.length ? h('ul', {class: 'plain'}, events) : h('div', {class: 'muted small'}, 'none'),
          span.dropped_events_count ? h('div', {class: 'muted small'}, `${span.dropped_events_count} dropped`) : null),
        section(`Links (${(span.links || []).length})`, 'details-links',
          links.length ? h('ul', {class: 'plain'}, links) : h('div', {class: 'muted small'}, 'none'),
          span.dropped_links_count ? h('div', {class: 'muted small'}, `${span.dropped_links_count} dropped`) : null)),
      h('div', {},
        section('Resource', 'details-resource', attrTable(resource.attributes, 'resource-attributes', resource.dropped_attributes_count)),
        section('Scope', 'details-scope',
          h('div', {class: 'mono'}, `${scope.name || '(unnamed)'}${scope.version ? ` ${scope.version}` : ''}`),
          scope.attributes && scope.attributes.length ? attrTable(scope.attributes, 'scope-attributes') : null),
        spanLogs.length ? section(`Logs (${spanLogs.length})`, 'details-logs',
          h('ul', {class: 'plain'}, spanLogs.map((l) => h('li', {},
            h('span', {class: 'offset'}, `+${duration(diffNs(l.time_unix_nano || l.observed_time_unix_nano, span.start_unix_nano))}`),
            ' ', h('span', {class: `sev sev-${severityClass(l.severity_number)}`}, l.severity_text || String(l.severity_number || '')),
            ' ', attrValue(l.body))))) : null)));
}

export function severityClass(n) {
  if (n >= 17) return 'error';
  if (n >= 13) return 'warn';
  if (n >= 9) return 'info';
  return 'debug';
}
