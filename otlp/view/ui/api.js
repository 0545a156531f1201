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
  let response;
  try {
    response = await fetch(url, {headers: {Accept: 'application/json'}});
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
  services: () => get('/api/services'),
  traces: (params) => get('/api/traces', params),
  trace: (id) => get(`/api/traces/${encodeURIComponent(id)}`),
  serviceMap: () => get('/api/service-map'),
  metrics: () => get('/api/metrics'),
  stats: () => get('/api/stats'),
};
