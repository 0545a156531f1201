// Formatting of times, durations, attribute values and service colours.

// Times arrive as strings of nanoseconds since the epoch; BigInt keeps them exact.
export function nanos(value) {
  try {
    return BigInt(value || 0);
  } catch {
    return 0n;
  }
}

// Milliseconds since the epoch (a Number; enough for display).
export function epochMs(unixNano) {
  return Number(nanos(unixNano) / 1000000n);
}

// Nanoseconds between two time strings, as a Number.
export function diffNs(later, earlier) {
  return Number(nanos(later) - nanos(earlier));
}

export function duration(ns) {
  if (ns === undefined || ns === null || Number.isNaN(ns)) return '';
  const abs = Math.abs(ns);
  if (abs < 1e3) return `${ns} ns`;
  if (abs < 1e6) return `${trim(ns / 1e3)} µs`;
  if (abs < 1e9) return `${trim(ns / 1e6)} ms`;
  if (abs < 60e9) return `${trim(ns / 1e9)} s`;
  const minutes = Math.floor(abs / 60e9);
  const seconds = Math.round((abs - minutes * 60e9) / 1e9);
  return `${ns < 0 ? '-' : ''}${minutes} min ${seconds} s`;
}

function trim(x) {
  const digits = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2;
  const text = x.toFixed(digits);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

const pad = (n, width = 2) => String(n).padStart(width, '0');

// "14:03:07.123", with the date in front when it is not today.
export function clock(unixNano) {
  if (!unixNano || unixNano === '0') return '';
  const d = new Date(epochMs(unixNano));
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

// "12 s ago", "3 min ago", ...
export function ago(unixNano) {
  const seconds = (Date.now() - epochMs(unixNano)) / 1000;
  if (seconds < 0) return 'in the future';
  if (seconds < 60) return `${Math.floor(seconds)} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

// An OTLP attribute value as plain JSON (see docs/VIEW-API.md) shown as text.
export function attrValue(value) {
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

export function bytes(n) {
  if (!Number.isFinite(n)) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${trim(n / 1024)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${trim(n / 1024 / 1024)} MiB`;
  return `${trim(n / 1024 / 1024 / 1024)} GiB`;
}

// Service colours: the known services (sorted by name) take distinct colours from a palette
// without red, which means error; others get a colour from a hash of the name.
const PALETTE = ['#4e79a7', '#59a14f', '#f28e2b', '#b07aa1', '#76b7b2', '#edc948',
                 '#9c755f', '#3b5bdb', '#2b8a3e', '#e8590c', '#862e9c', '#0b7285'];
const assigned = new Map();

export function setServices(names) {
  assigned.clear();
  [...names].sort().forEach((name, i) => assigned.set(name, PALETTE[i % PALETTE.length]));
}

export function serviceColor(name) {
  if (assigned.has(name)) return assigned.get(name);
  let hash = 2166136261;
  for (const ch of String(name)) {
    hash ^= ch.codePointAt(0);
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return `hsl(${25 + (hash % 290)}, 55%, 50%)`;
}

export function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// Round tick steps (1, 2, 5 x 10^k) so that about `count` ticks span `total`.
export function ticks(total, count = 5) {
  if (!(total > 0)) return [0];
  const raw = total / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((m) => m >= raw);
  const result = [];
  for (let t = 0; t <= total * 1.0001; t += step) result.push(t);
  return result;
}
