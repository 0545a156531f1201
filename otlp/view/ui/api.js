// The JSON API of `otlp view` (docs/VIEW-API.md). Every call resolves to the parsed body or
// rejects with an Error whose message is the server's {"error": ...} text.

async function get(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === '') continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== '') query.append(key, v);
    }
  }
  const url = query.toString() ? `${path}?${query}` : path;
  return parse(url, fetch(url, {headers: {Accept: 'application/json'}}));
}

// Waits for `pending` (a fetch of `url`) and reads its JSON body.
async function parse(url, pending) {
  let response;
  try {
    response = await pending;
  } catch (e) {
    throw new Error(`${url}: cannot reach otlp view (${e.message})`);
  }
  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw new Error(`${url}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
  }
  if (!response.ok) {
    throw new Error(`${url}: HTTP ${response.status}: ${body.error || text.slice(0, 200)}`);
  }
  return body;
}

export const api = {
  services: () => {
    // The request index.html started when the page loaded, used once.
    const early = window.otlpEarlyServices;
    if (early) {
      window.otlpEarlyServices = null;
      return parse('/api/services', early);
    }
    return get('/api/services');
  },
  traces: (params) => get('/api/traces', params),
  trace: (id) => {
    // The request index.html started for the page it was opened on, used once.
    const early = window.otlpEarlyTrace;
    if (early && early.id === id) {
      window.otlpEarlyTrace = null;
      return parse(`/api/traces/${id}`, early.response);
    }
    return get(`/api/traces/${encodeURIComponent(id)}`);
  },
  serviceMap: () => get('/api/service-map'),
  metrics: () => get('/api/metrics'),
  stats: () => get('/api/stats'),
};
