// Durability: what the inspector answered 200 for is still there after SIGTERM and a restart on the
// same data directory, with the same uuid and seq.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';

import { PostHog } from 'posthog-node';

import { countBy, installWatchdog, makeDataDir, startServer } from './lib/server.mjs';

installWatchdog(170_000);

const TOKEN = 'phc_e2e_restart';
const dataDir = makeDataDir('restart');
const servers = [];

after(async () => {
  for (const s of servers) await s.stop();
  if (!process.env.KEEP_E2E_DATA) rmSync(dataDir, { recursive: true, force: true });
});

async function start() {
  const s = await startServer({ label: 'restart', dataDir });
  servers.push(s);
  return s;
}

/** The fields that must survive a restart unchanged. */
const durable = (e) => ({
  uuid: e.uuid,
  seq: e.seq,
  project: e.project,
  source: e.source,
  event: e.event,
  distinct_id: e.distinct_id,
  device_id: e.device_id,
  session_id: e.session_id,
  timestamp: e.timestamp,
  received_at: e.received_at,
  original_timestamp: e.original_timestamp,
  properties: e.properties,
});

let before;
let beforeRequests;

test('events sent with posthog-node, then SIGTERM: clean exit', { timeout: 45_000 }, async () => {
  const server = await start();
  const errors = [];
  const client = new PostHog(TOKEN, { host: server.url, flushAt: 10, flushInterval: 0, fetchRetryCount: 0 });
  client.on('error', (e) => errors.push(String(e)));
  for (let i = 0; i < 25; i++)
    client.capture({ distinctId: `anon-r${i % 3}`, event: `restart event ${i}`, properties: { i } });
  client.identify({
    distinctId: 'user-r1',
    properties: { $set: { email: 'r@example.com' }, $anon_distinct_id: 'anon-r1' },
  });
  client.alias({ distinctId: 'user-r1', alias: 'legacy-r1' });
  await client.shutdown(10_000);
  assert.deepEqual(errors, []);

  before = await server.allEvents({});
  beforeRequests = await server.allRequests({});
  assert.equal(before.length, 27, `events before restart: ${before.length}`);
  assert.equal(new Set(before.map((e) => e.uuid)).size, 27, 'uuids unique');

  const exit = await server.stop({ removeDataDir: false });
  assert.ok(!exit.timedOut, 'the server did not exit within 10 s of SIGTERM');
  assert.equal(exit.code, 0, `exit after SIGTERM: ${JSON.stringify(exit)}`);
});

test(
  'after a restart on the same data dir every event is there with the same uuid and seq',
  { timeout: 30_000 },
  async () => {
    assert.ok(before, 'first run did not complete');
    const server = await start();
    const afterRestart = await server.allEvents({});
    assert.deepEqual(afterRestart.map(durable), before.map(durable));
    const requests = await server.allRequests({});
    assert.deepEqual(
      requests.map((r) => [r.id, r.path, r.status, r.outcome]),
      beforeRequests.map((r) => [r.id, r.path, r.status, r.outcome]),
      'the request log survives too',
    );

    // New events continue the sequence; no seq is reused.
    const client = new PostHog(TOKEN, { host: server.url, flushAt: 1, flushInterval: 0, fetchRetryCount: 0 });
    client.capture({ distinctId: 'user-r1', event: 'after restart' });
    await client.shutdown(10_000);
    const now = await server.allEvents({});
    const fresh = now.filter((e) => e.event === 'after restart');
    assert.equal(fresh.length, 1);
    const maxBefore = Math.max(...before.map((e) => e.seq));
    assert.ok(fresh[0].seq > maxBefore, `new seq ${fresh[0].seq} must be above ${maxBefore}`);
    assert.equal(now[0].uuid, fresh[0].uuid, 'newest first');

    const exit = await server.stop({ removeDataDir: false });
    assert.equal(exit.code, 0, `exit after SIGTERM: ${JSON.stringify(exit)}`);
  },
);

test('SIGTERM during a burst: every capture answered 200 survives the restart', { timeout: 45_000 }, async (t) => {
  const server = await start();
  const makeBatch = (i) => ({
    api_key: TOKEN,
    batch: [
      {
        event: 'burst',
        uuid: randomUUID(),
        distinct_id: `burst-${i}`,
        properties: { i },
        timestamp: new Date().toISOString(),
      },
      {
        event: 'burst',
        uuid: randomUUID(),
        distinct_id: `burst-${i}`,
        properties: { i, second: true },
        timestamp: new Date().toISOString(),
      },
    ],
  });
  const batches = [];
  const statuses = [];
  let acknowledged = 0;
  let sigterm;
  const sigtermSent = new Promise((resolve) => {
    sigterm = resolve;
  });
  // 8 clients keep posting until the server stops answering (or 2000 requests), SIGTERM lands
  // after the first 40 acknowledgements, in the middle of the traffic.
  const worker = async () => {
    while (batches.length < 2000) {
      const i = batches.length;
      const body = makeBatch(i);
      batches.push(body);
      let status;
      try {
        const res = await fetch(`${server.url}/batch/`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(15_000),
        });
        await res.arrayBuffer().catch(() => {});
        status = res.status;
      } catch (err) {
        status = `error: ${err.cause?.code || err.message}`;
      }
      statuses[i] = status;
      if (status === 200 && ++acknowledged === 40) sigterm();
      if (status !== 200) return;
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  let fallback;
  await Promise.race([sigtermSent, new Promise((r) => (fallback = setTimeout(r, 10_000)))]);
  clearTimeout(fallback);
  const exit = await server.stop({ removeDataDir: false });
  await Promise.all(workers);
  t.diagnostic(
    `requests: ${batches.length}; outcomes: ${JSON.stringify(Object.fromEntries(countBy(statuses, (s) => String(s))))}`,
  );
  assert.ok(!exit.timedOut, 'the server did not exit within 10 s of SIGTERM while requests were in flight');
  assert.equal(exit.code, 0, `exit after SIGTERM: ${JSON.stringify(exit)}`);
  const ok = batches.filter((_, i) => statuses[i] === 200);
  assert.ok(ok.length >= 40, `only ${ok.length} captures were answered 200`);
  for (const s of statuses)
    assert.ok(s === 200 || s === 503 || String(s).startsWith('error'), `unexpected status during shutdown: ${s}`);

  const again = await start();
  const stored = new Set((await again.allEvents({ project: TOKEN, event: 'burst' })).map((e) => e.uuid));
  const lost = ok.flatMap((b) => b.batch.map((e) => e.uuid)).filter((u) => !stored.has(u));
  assert.deepEqual(lost, [], `events answered 200 but missing after restart (${ok.length} requests acknowledged)`);
  // And a request is all-or-nothing.
  for (const b of batches) {
    const n = b.batch.filter((e) => stored.has(e.uuid)).length;
    assert.ok(
      n === 0 || n === b.batch.length,
      `request for ${b.batch[0].distinct_id} stored ${n} of ${b.batch.length} events`,
    );
  }
});
