// Start and drive the real identity-inspector binary for end-to-end tests.
//
//   const server = await startServer({ label: 'posthog-node' });
//   server.url                      // http://127.0.0.1:<port>, as printed by the binary
//   await server.api('/api/health') // fetch JSON, throws on a non-2xx answer
//   await server.allEvents({ project: 'phc_x' })  // every event, following next_cursor
//   await server.waitFor(async () => ..., 15000)  // poll until truthy
//   await server.stop()             // SIGTERM, wait for the exit
//
// Every server writes its stdout/stderr to tests/artifacts/<label>-server-<n>.log.

import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TESTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REPO_DIR = path.resolve(TESTS_DIR, '..');
export const ARTIFACTS_DIR = path.join(TESTS_DIR, 'artifacts');
export const INSPECTOR_BIN = process.env.INSPECTOR_BIN || path.join(REPO_DIR, 'target', 'debug', 'identity-inspector');

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const URL_RE = /http:\/\/127\.0\.0\.1:(\d+)/;

/** Every child process this test file started and has not yet seen exit. */
const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

export function ensureArtifactsDir() {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return ARTIFACTS_DIR;
}

export function artifactPath(name) {
  return path.join(ensureArtifactsDir(), name.replace(/[^A-Za-z0-9._-]+/g, '_'));
}

/** A fresh, empty data directory under the system temp dir. */
export function makeDataDir(label = 'data') {
  return mkdtempSync(path.join(os.tmpdir(), `inspector-e2e-${label.replace(/[^A-Za-z0-9_-]+/g, '_')}-`));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `predicate` (sync or async) until it returns a truthy value, which is returned.
 * Errors thrown by the predicate count as "not yet" and are reported on timeout.
 */
export async function waitFor(predicate, timeout = 15_000, { interval = 150, message } = {}) {
  const deadline = Date.now() + timeout;
  let lastError;
  let lastValue;
  for (;;) {
    try {
      lastValue = await predicate();
      if (lastValue) return lastValue;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
  const what = message ? (typeof message === 'function' ? await message() : message) : String(predicate);
  const err = new Error(
    `waitFor timed out after ${timeout} ms: ${what}` +
      (lastError ? `\n  last error: ${lastError.stack || lastError}` : `\n  last value: ${safeJson(lastValue)}`),
  );
  throw err;
}

function safeJson(v) {
  try {
    const s = JSON.stringify(v);
    return s && s.length > 2000 ? `${s.slice(0, 2000)}…` : s;
  } catch {
    return String(v);
  }
}

/**
 * A raw HTTP request with node's http module (fetch forbids setting Host).
 * Resolves to { status, headers, body (string), buffer }.
 */
export function rawRequest({
  port,
  host = '127.0.0.1',
  method = 'GET',
  path: reqPath = '/',
  headers = {},
  body,
  timeout = 10_000,
}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, method, path: reqPath, headers, setHost: !('Host' in headers || 'host' in headers) },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const buffer = Buffer.concat(chunks);
          resolve({ status: res.statusCode, headers: res.headers, body: buffer.toString('utf8'), buffer });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(timeout, () => req.destroy(new Error(`${method} ${reqPath} timed out after ${timeout} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

let serverCounter = 0;

/**
 * Starts `$INSPECTOR_BIN serve --port 0 --data-dir <dir>` and resolves once it printed its URL.
 * Options: label (for the log file), dataDir (default: a fresh temp dir, removed on stop),
 * env (extra environment), args (extra CLI arguments), bin (another binary),
 * subcommand (`null` for the desktop mode, which prints the same line) and port (default 0: a
 * free one; a restart passes the port it had, so open pages find it again).
 */
export async function startServer({
  label = 'server',
  dataDir,
  env = {},
  args = [],
  startTimeout = START_TIMEOUT_MS,
  bin = INSPECTOR_BIN,
  subcommand = 'serve',
  port: listenPort = 0,
} = {}) {
  const ownsDataDir = !dataDir;
  const dir = dataDir || makeDataDir(label);
  const logPath = artifactPath(`${label}-server-${++serverCounter}.log`);
  const log = createWriteStream(logPath, { flags: 'w' });
  const argv = [...(subcommand ? [subcommand] : []), '--port', String(listenPort), '--data-dir', dir, ...args];
  log.write(`# ${new Date().toISOString()} ${bin} ${argv.join(' ')}\n`);

  const child = spawn(bin, argv, {
    cwd: REPO_DIR,
    env: { RUST_LOG: process.env.RUST_LOG || 'info', ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);

  let output = '';
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(child);
      log.write(`# exited code=${code} signal=${signal} at ${new Date().toISOString()}\n`);
      resolve({ code, signal });
    });
  });
  let exitInfo = null;
  exited.then((info) => {
    exitInfo = info;
  });

  const url = await new Promise((resolve, reject) => {
    let settled = false;
    const finish = (fn, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn(value);
    };
    const onData = (stream) => (chunk) => {
      const text = chunk.toString('utf8');
      log.write(stream === 'stderr' ? text.replace(/^/gm, '[stderr] ') : text);
      output += text;
      if (stream === 'stdout') {
        const m = output.match(URL_RE);
        if (m) finish(resolve, m[0]);
      }
    };
    child.stdout.on('data', onData('stdout'));
    child.stderr.on('data', onData('stderr'));
    child.on('error', (err) => finish(reject, new Error(`could not start ${bin}: ${err.message}`)));
    exited.then(({ code, signal }) =>
      finish(
        reject,
        new Error(`${bin} exited (code ${code}, signal ${signal}) before printing its URL; output:\n${output}`),
      ),
    );
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(
        reject,
        new Error(`${bin} printed no http://127.0.0.1:<port> line within ${startTimeout} ms; output:\n${output}`),
      );
    }, startTimeout);
  });
  const port = Number(new URL(url).port);

  async function apiRaw(p, init = {}) {
    const ctrl = AbortSignal.timeout(init.timeout ?? 15_000);
    return fetch(new URL(p, url), { ...init, signal: init.signal ?? ctrl });
  }

  async function api(p, init = {}) {
    const res = await apiRaw(p, init);
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method || 'GET'} ${p} answered ${res.status}: ${text.slice(0, 1000)}`);
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`${init.method || 'GET'} ${p} answered ${res.status} with non-JSON: ${text.slice(0, 1000)}`);
    }
  }

  /** Follows next_cursor until null; `key` is the array field of the page. */
  async function paginate(endpoint, key, query = {}) {
    const items = [];
    let cursor = null;
    const seen = new Set();
    for (let page = 0; page < 10_000; page++) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) params.set(k, String(v));
      if (!params.has('limit')) params.set('limit', '1000');
      if (cursor !== null) params.set('cursor', String(cursor));
      const body = await api(`${endpoint}?${params}`);
      if (!Array.isArray(body[key]))
        throw new Error(`${endpoint} answered without a "${key}" array: ${safeJson(body)}`);
      items.push(...body[key]);
      if (body.next_cursor === null || body.next_cursor === undefined) return items;
      const c = String(body.next_cursor);
      if (seen.has(c)) throw new Error(`${endpoint} returned the same next_cursor twice (${c}): pagination loops`);
      seen.add(c);
      cursor = body.next_cursor;
    }
    throw new Error(`${endpoint}: more than 10000 pages`);
  }

  let stopping = null;
  async function stop({ timeout = STOP_TIMEOUT_MS, removeDataDir = ownsDataDir && !process.env.KEEP_E2E_DATA } = {}) {
    if (!stopping) {
      stopping = (async () => {
        if (!exitInfo) child.kill('SIGTERM');
        let timer;
        const result = await Promise.race([
          exited,
          new Promise((resolve) => {
            timer = setTimeout(() => resolve(null), timeout);
          }),
        ]);
        clearTimeout(timer);
        let info = result;
        if (!info) {
          child.kill('SIGKILL');
          info = { ...(await exited), timedOut: true };
        }
        await new Promise((resolve) => log.end(resolve));
        if (removeDataDir) rmSync(dir, { recursive: true, force: true });
        return info;
      })();
    }
    return stopping;
  }

  return {
    url,
    port,
    dataDir: dir,
    logPath,
    child,
    output: () => output,
    exited,
    api,
    apiRaw,
    allEvents: (query = {}) => paginate('/api/events', 'events', query),
    allRequests: (query = {}) => paginate('/api/requests', 'requests', query),
    waitFor,
    stop,
    /** Writes every event and request to tests/artifacts/<name>.json, for looking at after a run. */
    async dump(name) {
      const data = {};
      for (const [key, endpoint] of [
        ['events', '/api/events'],
        ['requests', '/api/requests'],
      ]) {
        data[key] = await paginate(endpoint, key, {}).catch((err) => ({ error: String(err.message || err) }));
      }
      writeFileSync(artifactPath(`${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
    },
  };
}

/** Finds a header value in whatever shape the API stores headers in (object, [[k,v]], [{name,value}]). */
export function headerValue(headers, name) {
  const want = name.toLowerCase();
  if (!headers) return undefined;
  if (Array.isArray(headers)) {
    for (const h of headers) {
      if (Array.isArray(h) && String(h[0]).toLowerCase() === want) return h[1];
      if (h && typeof h === 'object' && String(h.name ?? h.key ?? '').toLowerCase() === want) return h.value;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(headers))
    if (k.toLowerCase() === want) return Array.isArray(v) ? v.join(', ') : v;
  return undefined;
}

/** Unix ms of an API time value (RFC 3339 string, or a number in s/ms/µs). */
export function toMs(value) {
  if (typeof value === 'number') {
    if (value > 1e14) return value / 1000; // µs
    if (value > 1e11) return value; // ms
    return value * 1000; // s
  }
  if (typeof value === 'string') return Date.parse(value);
  return NaN;
}

/** Counts values of `key(item)`. */
export function countBy(items, key) {
  const out = new Map();
  for (const item of items) {
    const k = key(item);
    out.set(k, (out.get(k) || 0) + 1);
  }
  return out;
}

/** Asserts the list is newest first: seq strictly decreasing. Returns the offending pair or null. */
export function firstSeqOrderViolation(events) {
  for (let i = 1; i < events.length; i++) {
    if (!(events[i - 1].seq > events[i].seq)) return [events[i - 1], events[i]];
  }
  return null;
}

/**
 * Kills every server this file started if the whole file takes longer than `ms`, so a hang can
 * never block the test runner. The timer is unref'd: it never keeps the process alive.
 */
export function installWatchdog(ms = 150_000) {
  const t = setTimeout(() => {
    console.error(`watchdog: test file still running after ${ms} ms, killing servers and exiting`);
    for (const child of live) child.kill('SIGKILL');
    process.exit(1);
  }, ms);
  t.unref();
  return t;
}
