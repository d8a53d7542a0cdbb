// Pressure on a running inspector, and what capture feels while it lasts: used by
// `e2e/pressure.test.mjs` (small, asserted in CI) and `bench/pressure.mjs` (the figures in docs/RELIABILITY.md).
//
//   const probe = startCaptureProbe({ port, token: 'phc_probe' });  // one tiny event every 50 ms
//   const sse = await openSseReaders(url, 1000);                     // readers that keep reading
//   ...
//   const result = await probe.stop();  // { latencies, acknowledged: [uuid], failures: [...] }
//   latencySummary(result)              // { n, p50, p99, max, failed }
//   await sse.close();
//
// Invariants: a probe is acknowledged only when capture answered 200; a probe that failed or timed
// out counts in the latencies with the time it took (at least the timeout), so a stalled capture
// raises p99 instead of vanishing from it. Every pressure has a `close()` that releases all it holds.

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

import { rawRequest } from './server.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A field of /proc/<pid>/status in MB (`VmHWM` is the peak resident set, `VmRSS` the current one). */
export function procStatusMb(pid, field) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  if (!m) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(m[1]) / 1024;
}

/** The soft limit on open files of a process (`self` or a pid), from /proc/<pid>/limits. */
export function openFilesLimit(pid = 'self') {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const m = limits.match(/^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m);
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/** The `p`-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** POSTs one PostHog `/batch/` body; resolves to { status, ms } (status 0 = no answer). */
export function postBatch(port, token, batch, { timeout = 20_000 } = {}) {
  const started = performance.now();
  return rawRequest({
    port,
    method: 'POST',
    path: '/batch/',
    headers: { 'Content-Type': 'application/json', Connection: 'close' },
    body: JSON.stringify({ api_key: token, batch }),
    timeout,
  }).then(
    (res) => ({ status: res.status, ms: performance.now() - started, body: res.body }),
    (err) => ({ status: 0, ms: Math.max(performance.now() - started, 0), body: String(err.message || err) }),
  );
}

/**
 * Sends one small event every `intervalMs` on a fresh connection (as an SDK waking up would),
 * open loop: a slow answer does not delay the next probe. A probe gives up after `timeout` (an
 * SDK's 10 s), so at most `inFlightLimit(...)` are outstanding and none is ever skipped unless
 * `maxInFlight` is set lower (skipped probes are counted: they would hide a stall).
 */
export function startCaptureProbe({ port, token, intervalMs = 50, timeout = 10_000, maxInFlight }) {
  maxInFlight ??= inFlightLimit({ intervalMs, timeout });
  const latencies = [];
  const acknowledged = [];
  const failures = [];
  const inFlight = new Set();
  let skipped = 0;
  let running = true;
  const loop = (async () => {
    let n = 0;
    while (running) {
      if (inFlight.size >= maxInFlight) skipped += 1;
      else {
        const uuid = randomUUID();
        const event = { event: 'probe', distinct_id: `probe-${n % 10}`, uuid, properties: { n } };
        n += 1;
        const p = postBatch(port, token, [event], { timeout }).then((r) => {
          inFlight.delete(p);
          latencies.push(r.ms);
          if (r.status === 200) acknowledged.push(uuid);
          else failures.push(`${r.status} after ${Math.round(r.ms)} ms: ${r.body.slice(0, 200)}`);
        });
        inFlight.add(p);
      }
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await Promise.all(inFlight);
      return { latencies, acknowledged, failures, skipped };
    },
  };
}

/** The most probes `startCaptureProbe` can have outstanding (each holds a socket). */
export function inFlightLimit({ intervalMs = 50, timeout = 10_000 } = {}) {
  return Math.ceil(timeout / intervalMs) + 1;
}

/** p50/p99/max (ms, rounded to 0.1) of a probe result. */
export function latencySummary({ latencies, failures, skipped }) {
  const r = (x) => Math.round(x * 10) / 10;
  return {
    n: latencies.length,
    p50: r(percentile(latencies, 50)),
    p99: r(percentile(latencies, 99)),
    max: r(Math.max(...latencies)),
    failed: failures.length,
    skipped,
  };
}

/** Posts `events` in batches of `size`; returns the uuids capture acknowledged (throws on a refusal). */
export async function sendEvents(port, token, events, { size = 500, timeout = 120_000 } = {}) {
  const acknowledged = [];
  for (let i = 0; i < events.length; i += size) {
    const batch = events.slice(i, i + size);
    const r = await postBatch(port, token, batch, { timeout });
    if (r.status !== 200) throw new Error(`seeding ${token}: /batch/ answered ${r.status}: ${r.body.slice(0, 300)}`);
    acknowledged.push(...batch.map((e) => e.uuid));
  }
  return acknowledged;
}

/**
 * One person with `ids` merged distinct ids: `$identify` of `mega-user` from `anon-<i>`, on
 * `devices` devices (a QA account or a constant id), plus `filler` ordinary events with a few
 * hundred bytes each so an export is larger than the socket buffers.
 */
export function megaPersonEvents({ ids, devices = 50, filler = 0 }) {
  const events = [];
  const t0 = Date.now() - 3_600_000;
  for (let i = 0; i < ids; i++)
    events.push({
      event: '$identify',
      distinct_id: 'mega-user',
      uuid: randomUUID(),
      timestamp: new Date(t0 + i).toISOString(),
      properties: { $anon_distinct_id: `anon-${i}`, $device_id: `mega-device-${i % devices}` },
    });
  const pad = 'x'.repeat(300);
  for (let i = 0; i < filler; i++)
    events.push({
      event: '$pageview',
      distinct_id: `filler-${i % 200}`,
      uuid: randomUUID(),
      timestamp: new Date(t0 + i).toISOString(),
      properties: { $device_id: `filler-device-${i % 200}`, $current_url: `https://app.example.com/${i}`, pad },
    });
  return events;
}

/** Every uuid stored under `project`, read through /api/events (pages of 1 000). */
export async function storedUuids(server, project) {
  return new Set((await server.allEvents({ project })).map((e) => e.uuid));
}

/** `n` clients on /api/stream that read everything; counts bytes and failed connections. */
export async function openSseReaders(url, n, { connectTimeout = 20_000 } = {}) {
  const stats = { open: 0, failed: 0, bytes: 0, ended: 0 };
  const requests = [];
  const opened = Array.from(
    { length: n },
    () =>
      new Promise((resolve) => {
        const req = http.get(`${url}/api/stream`, { agent: false, headers: { Accept: 'text/event-stream' } });
        requests.push(req);
        const timer = setTimeout(() => {
          stats.failed += 1;
          req.destroy();
          resolve();
        }, connectTimeout);
        req.on('response', (res) => {
          clearTimeout(timer);
          if (res.statusCode === 200) stats.open += 1;
          else stats.failed += 1;
          res.on('data', (c) => (stats.bytes += c.length));
          res.on('end', () => (stats.ended += 1));
          res.on('error', () => {});
          resolve();
        });
        req.on('error', () => {
          clearTimeout(timer);
          stats.failed += 1;
          resolve();
        });
      }),
  );
  await Promise.all(opened);
  return {
    stats,
    async close() {
      for (const req of requests) req.destroy();
    },
  };
}

/** `n` TCP connections to the server that never send a byte (as idle keep-alive sockets do). */
export async function openIdleSockets(port, n, { connectTimeout = 10_000 } = {}) {
  const stats = { open: 0, failed: 0, closedByServer: 0 };
  const sockets = [];
  let closing = false;
  await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port });
          sockets.push(s);
          s.setTimeout(connectTimeout, () => {
            if (s.connecting) {
              stats.failed += 1;
              s.destroy();
              resolve();
            }
          });
          s.on('connect', () => {
            stats.open += 1;
            s.setTimeout(0);
            resolve();
          });
          s.on('close', () => {
            if (!closing && stats.open > 0) stats.closedByServer += 1;
          });
          s.on('error', () => {
            if (s.connecting) stats.failed += 1;
            resolve();
          });
        }),
    ),
  );
  return {
    stats,
    async close() {
      closing = true;
      for (const s of sockets) s.destroy();
    },
  };
}

/**
 * `count` downloads of `/api/export` that read the first chunk and then stop reading.
 * `held` says how many were still unfinished a second later (a small export fits in the socket
 * buffers and finishes anyway: seed enough data for it to be held).
 */
export async function holdExports(url, count = 1, { format = 'ndjson' } = {}) {
  const requests = [];
  const states = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise((resolve) => {
          const state = { status: 0, ended: false };
          const req = http.get(`${url}/api/export?format=${format}`, { agent: false });
          requests.push(req);
          const timer = setTimeout(() => resolve(state), 30_000);
          req.on('response', (res) => {
            state.status = res.statusCode;
            res.on('end', () => (state.ended = true));
            res.on('error', () => {});
            res.once('data', () => {
              res.pause();
              clearTimeout(timer);
              resolve(state);
            });
          });
          req.on('error', () => {
            clearTimeout(timer);
            resolve(state);
          });
        }),
    ),
  );
  await sleep(1_000);
  return {
    held: states.filter((s) => s.status === 200 && !s.ended).length,
    async close() {
      for (const req of requests) req.destroy();
    },
  };
}

/** The per-launch token that state-changing /api calls need. */
export async function controlToken(server) {
  return (await server.api('/api/control')).token;
}

/** Streams the file at `file` to /api/import; resolves to { status, ms, body } (status 0: no answer). */
export function importThroughApi(server, token, file, { name, filename, timeout = 600_000 } = {}) {
  const params = new URLSearchParams();
  if (name) params.set('name', name);
  params.set('filename', filename ?? path.basename(file));
  const started = performance.now();
  const done = (status, body) => ({ status, ms: performance.now() - started, body });
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        method: 'POST',
        path: `/api/import?${params}`,
        agent: false,
        headers: {
          'x-inspector-token': token,
          'Content-Type': 'application/octet-stream',
          'Content-Length': statSync(file).size,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(done(res.statusCode, text)));
        res.on('error', (err) => resolve(done(0, String(err.message))));
      },
    );
    req.setTimeout(timeout, () => req.destroy(new Error(`/api/import timed out after ${timeout} ms`)));
    req.on('error', (err) => resolve(done(0, String(err.message))));
    createReadStream(file).pipe(req);
  });
}

/**
 * Keeps `concurrency` loops each calling `once()` until closed; counts calls, failures and their
 * durations. `close()` stops starting new calls and waits (at most `drainMs`) for running ones.
 */
export function repeat(once, { concurrency = 1, drainMs = 30_000 } = {}) {
  const stats = { done: 0, failed: 0, ms: [], errors: [] };
  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const started = performance.now();
      try {
        await once();
        stats.done += 1;
      } catch (err) {
        stats.failed += 1;
        if (stats.errors.length < 5) stats.errors.push(String(err.message || err).slice(0, 300));
        await sleep(100);
      }
      stats.ms.push(Math.round(performance.now() - started));
    }
  });
  return {
    stats,
    async close() {
      running = false;
      await Promise.race([Promise.all(loops), sleep(drainMs)]);
    },
  };
}

/** Repeated `/api/import` of one file (the import pressure), each into a new data set. */
export function importLoop(server, token, file, { name = 'pressure' } = {}) {
  return repeat(async () => {
    const r = await importThroughApi(server, token, file, { name: `${name}-${randomUUID().slice(0, 8)}` });
    if (r.status !== 200) throw new Error(`/api/import answered ${r.status}: ${r.body.slice(0, 200)}`);
  });
}

/** `concurrency` open lens tabs on `project`, each asking again as soon as it got an answer. */
export function lensLoop(server, project, { concurrency = 2, timeout = 600_000 } = {}) {
  return repeat(() => server.api(`/api/lens?project=${encodeURIComponent(project)}`, { timeout }), { concurrency });
}

/**
 * Runs `bin ...args` and samples its peak resident set (VmHWM, monotonic) every `everyMs` until it
 * exits; resolves to { code, signal, peakMb, ms, stderr }. The last sample is taken at most
 * `everyMs` before the exit, which a peak reached in that window would escape.
 */
export function runWithPeakRss(bin, args, { timeout = 600_000, everyMs = 20, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(bin, args, {
      env: { ...process.env, RUST_LOG: 'warn', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let peakMb = 0;
    child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-4000)));
    const sample = () => {
      try {
        peakMb = Math.max(peakMb, procStatusMb(child.pid, 'VmHWM'));
      } catch {
        // exited between two samples
      }
    };
    const sampler = setInterval(sample, everyMs);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(sampler);
      clearTimeout(timer);
      resolve({ code, signal, peakMb, ms: performance.now() - started, stderr });
    });
  });
}
