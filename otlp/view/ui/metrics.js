// The metrics table (#/metrics): the latest point of each series, filterable by name.

import {api} from './api.js';
import {h, mount, errorBox, loading} from './dom.js';
import {attrValue, clock, ago, serviceColor} from './format.js';

function number(x) {
  if (typeof x !== 'number') return x === undefined || x === null ? '' : String(x);
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  return Math.abs(x) >= 1e6 || Math.abs(x) < 1e-3 ? x.toExponential(3) : String(+x.toPrecision(6));
}

function valueCell(m) {
  if (m.type === 'histogram' || m.type === 'exponential_histogram' || m.type === 'summary') {
    const mean = m.count ? m.sum / m.count : undefined;
    return h('td', {class: 'num', 'data-testid': 'metric-value'},
      `count ${number(m.count)} · sum ${number(m.sum)}`,
      mean !== undefined ? h('div', {class: 'muted small'}, `mean ${number(mean)}`) : null);
  }
  return h('td', {class: 'num', 'data-testid': 'metric-value'}, number(m.value));
}

export async function render(main, ctx) {
  mount(main, loading('metrics'));
  let body;
  try {
    [body] = await Promise.all([api.metrics(), ctx.colors]);
  } catch (e) {
    if (ctx.isCurrent()) mount(main, errorBox(e));
    return;
  }
  if (!ctx.isCurrent()) return;
  const metrics = (body.metrics || []).slice().sort((a, b) =>
      a.name.localeCompare(b.name) || String(a.service).localeCompare(String(b.service)));

  const tbody = h('tbody', {});
  const count = h('span', {class: 'muted', 'data-testid': 'metric-count'});
  const filter = h('input', {type: 'search', title: 'Metric names containing this text', value: ctx.params.get('name') || '',
                             'data-testid': 'metric-filter', 'aria-label': 'filter by name'});
  const draw = () => {
    const needle = filter.value.trim().toLowerCase();
    const shown = metrics.filter((m) => !needle || m.name.toLowerCase().includes(needle));
    count.textContent = `${shown.length} of ${metrics.length} series`;
    mount(tbody, shown.map((m) => h('tr', {'data-testid': 'metric-row', 'data-name': m.name},
      h('td', {'data-testid': 'metric-name', title: m.description || ''}, m.name,
        m.description ? h('div', {class: 'muted small'}, m.description) : null),
      h('td', {}, h('span', {class: 'dot', style: {background: serviceColor(m.service)}}), m.service),
      h('td', {}, m.type), h('td', {}, m.unit || ''),
      h('td', {class: 'small'}, (m.attributes || []).map((a) => h('div', {}, h('span', {class: 'muted'}, `${a.key}=`), attrValue(a.value)))),
      valueCell(m),
      h('td', {title: clock(m.time_unix_nano)}, ago(m.time_unix_nano)))));
  };
  filter.addEventListener('input', draw);

  if (metrics.length === 0) {
    mount(main, h('section', {}, h('h2', {}, 'Metrics'),
        h('div', {class: 'empty', 'data-testid': 'empty'},
          'No metrics yet — point OTEL_EXPORTER_OTLP_METRICS_ENDPOINT (or OTEL_EXPORTER_OTLP_ENDPOINT) at this viewer\'s OTLP address.')));
    return;
  }
  draw();
  mount(main, h('section', {class: 'metrics-view'},
    h('div', {class: 'title-line'}, h('h2', {}, 'Metrics'), filter, count),
    h('p', {class: 'muted'}, 'The latest point of each series (metric name, resource and point attributes).'),
    h('table', {class: 'grid', 'data-testid': 'metric-table'},
      h('thead', {}, h('tr', {}, ['Name', 'Service', 'Type', 'Unit', 'Attributes', 'Value', 'Time'].map((c) => h('th', {}, c)))),
      tbody)));
}
