// Load: 64 concurrent SDK-like clients post gzip batches for a sustained period. No request may
// fail (no SQLITE_BUSY or any other error reaching a client), every acknowledged event is stored,
// the server's memory stays bounded, and a live-stream reader that stops reading is told how
// much it missed (`lagged`) instead of making the server buffer for it.
//
// LOAD_SECONDS (default 8) sets the duration; docs/RELIABILITY.md quotes a longer run.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { test } from 'node:test';
import zlib from 'node:zlib';

import { artifactPath, startServer } from './lib/server.mjs';

const SECONDS = Number(process.env.LOAD_SECONDS || 8);
const CLIENTS = 64;
const EVENTS_PER_REQUEST = 25;

function post(port, agent, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/batch/',
        agent,
        headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function client(port, n, until, stats) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let sent = 0;
  while (Date.now() < until) {
    const batch = Array.from({ length: EVENTS_PER_REQUEST }, (_, i) => ({
      event: i === 0 && sent === 0 ? '$identify' : '$pageview',
      distinct_id: `load-user-${n}`,
      uuid: randomUUID(),
      timestamp: new Date().toISOString(),
      properties: {
        $device_id: `load-device-${n}`,
        $session_id: `s-${n}`,
        $current_url: `https://app.example.com/${i}`,
        $anon_distinct_id: `anon-${n}`,
      },
    }));
    const body = zlib.gzipSync(JSON.stringify({ api_key: 'phc_load', batch }));
    const res = await post(port, agent, body);
    if (res.status !== 200) stats.errors.push(`${res.status} ${res.body.slice(0, 200)}`);
    else stats.acknowledged += batch.length;
    sent += 1;
  }
  agent.destroy();
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/VmRSS:\s+(\d+)/)[1]) / 1024;
}

/** Opens /api/stream, reads the first chunk, then stops reading (the socket fills up). */
function stalledStreamReader(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url + '/api/stream', (res) => {
      res.once('data', () => {
        res.pause();
        resolve({ req, res });
      });
    });
    req.on('error', reject);
  });
}

test(
  `${CLIENTS} clients for ${SECONDS}s: no errors, bounded memory, a stalled stream recovers`,
  { timeout: 120_000 + SECONDS * 5_000 },
  async () => {
    const server = await startServer({ label: 'load' });
    try {
      const stalled = await stalledStreamReader(server.url);
      const stats = { acknowledged: 0, errors: [] };
      const samples = [];
      const sampler = setInterval(() => samples.push(rssMb(server.child.pid)), 250);
      const started = Date.now();
      await Promise.all(
        Array.from({ length: CLIENTS }, (_, n) => client(server.port, n, started + SECONDS * 1000, stats)),
      );
      const elapsed = (Date.now() - started) / 1000;
      clearInterval(sampler);

      assert.deepEqual(stats.errors.slice(0, 5), [], `${stats.errors.length} requests failed`);
      const health = await server.api('/api/health');
      assert.equal(health.totals.events, stats.acknowledged, 'every acknowledged event is stored');

      // The stalled reader reads again: it either kept up (the kernel buffered for it) or is told
      // how much it missed (`lagged`); either way the stream is alive and announces new commits.
      stalled.res.resume();
      let text = '';
      stalled.res.on('data', (c) => {
        text += c.toString('utf8');
      });
      const marker = randomUUID();
      await post(
        server.port,
        undefined,
        zlib.gzipSync(
          JSON.stringify({
            api_key: 'phc_load',
            batch: [{ event: 'after the load', distinct_id: 'x', uuid: marker, properties: {} }],
          }),
        ),
      );
      await server.waitFor(
        () => text.includes('"phc_load"') && /event: events\ndata: .*"count":1\b/.test(text),
        15_000,
        {
          message: () => `the resumed stream announced no new commit; it got ${text.length} bytes: ${text.slice(-500)}`,
        },
      );
      stalled.req.destroy();
      const lagged = [...text.matchAll(/event: lagged\ndata: \{"skipped":(\d+)\}/g)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );

      const peak = Math.max(...samples);
      const summary = {
        clients: CLIENTS,
        seconds: elapsed,
        events: stats.acknowledged,
        events_per_second: Math.round(stats.acknowledged / elapsed),
        failed_requests: stats.errors.length,
        stream_announcements_skipped: lagged,
        peak_rss_mb: Math.round(peak),
        final_rss_mb: Math.round(samples.at(-1)),
      };
      writeFileSync(artifactPath('load-summary.json'), JSON.stringify(summary, null, 2));
      assert.ok(stats.acknowledged > CLIENTS * EVENTS_PER_REQUEST, `load ran: ${stats.acknowledged} events`);
      assert.ok(peak < 1024, `server memory stays bounded: peak ${peak.toFixed(0)} MB`);
    } finally {
      await server.stop();
    }
  },
);
