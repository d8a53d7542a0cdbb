// The real posthog-node SDK sending to the real inspector binary.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';

import { PostHog } from 'posthog-node';

import { countBy, headerValue, installWatchdog, startServer, toMs } from './lib/server.mjs';

installWatchdog(120_000);

const TOKEN = 'phc_e2e_node';
let server;
const sdkErrors = [];
const uuids = { pricing: randomUUID(), signedUp: randomUUID(), nullCapture: randomUUID() };
let sentAt;

before(async () => {
  server = await startServer({ label: 'posthog-node' });
});

after(async () => {
  await server?.dump('posthog-node-data').catch(() => {});
  await server?.stop();
});

test(
  'posthog-node sends capture, identify, alias, groupIdentify and a "null" distinct id',
  { timeout: 45_000 },
  async () => {
    const client = new PostHog(TOKEN, {
      host: server.url,
      flushAt: 100,
      flushInterval: 0,
      fetchRetryCount: 0,
      requestTimeout: 10_000,
      preloadFeatureFlags: false,
    });
    client.on('error', (err) => sdkErrors.push(String(err?.stack || err)));
    sentAt = Date.now();
    try {
      client.capture({
        distinctId: 'anon-n1',
        event: 'viewed pricing',
        properties: { plan: 'free' },
        uuid: uuids.pricing,
      });
      client.identify({
        distinctId: 'user-n1',
        properties: { $set: { email: 'max@hedgehogmail.com' }, $anon_distinct_id: 'anon-n1' },
      });
      client.alias({ distinctId: 'user-n1', alias: 'legacy-n1' });
      client.capture({
        distinctId: 'user-n1',
        event: 'signed up',
        properties: { $set: { plan: 'free' }, $set_once: { first_seen: '2026-11-24' } },
        uuid: uuids.signedUp,
      });
      client.groupIdentify({ groupType: 'company', groupKey: 'acme', properties: { name: 'Acme' } });
      await client.flush();
      // In its own request, so that a server refusing it can't take the others down with it.
      client.capture({ distinctId: 'null', event: 'null distinct id', uuid: uuids.nullCapture });
      await client.flush();
    } finally {
      await client.shutdown(10_000);
    }
    assert.deepEqual(sdkErrors, [], 'posthog-node reported errors');
  },
);

async function events() {
  return server.allEvents({ project: TOKEN });
}

test('each event arrived exactly once, with the right names and distinct ids', { timeout: 15_000 }, async () => {
  const all = await events();
  const summary = JSON.stringify(all.map((e) => [e.event, e.distinct_id]));
  const byUuid = countBy(all, (e) => e.uuid);
  for (const [uuid, n] of byUuid) assert.equal(n, 1, `uuid ${uuid} stored ${n} times`);
  assert.equal(all.length, 6, `expected 6 events, got ${summary}`);

  const find = (pred, what) => {
    const f = all.filter(pred);
    assert.equal(f.length, 1, `expected one ${what}, got ${summary}`);
    return f[0];
  };
  const pricing = find((e) => e.event === 'viewed pricing', '"viewed pricing"');
  assert.equal(pricing.uuid, uuids.pricing);
  assert.equal(pricing.distinct_id, 'anon-n1');
  assert.equal(pricing.properties.plan, 'free');
  assert.equal(pricing.properties.$lib, 'posthog-node');

  const identify = find((e) => e.event === '$identify', '$identify');
  assert.equal(identify.distinct_id, 'user-n1');
  assert.equal(identify.properties.$anon_distinct_id, 'anon-n1');
  assert.equal(identify.properties.$set?.email, 'max@hedgehogmail.com');

  const alias = find((e) => e.event === '$create_alias', '$create_alias');
  assert.equal(alias.distinct_id, 'user-n1');
  assert.equal(alias.properties.alias, 'legacy-n1');

  const signedUp = find((e) => e.event === 'signed up', '"signed up"');
  assert.equal(signedUp.uuid, uuids.signedUp);
  assert.equal(signedUp.distinct_id, 'user-n1');
  assert.deepEqual(signedUp.properties.$set, { plan: 'free' });
  assert.deepEqual(signedUp.properties.$set_once, { first_seen: '2026-11-24' });

  const group = find((e) => e.event === '$groupidentify', '$groupidentify');
  assert.equal(group.distinct_id, '$company_acme');
  assert.equal(group.properties.$group_type, 'company');
  assert.equal(group.properties.$group_key, 'acme');
  assert.deepEqual(group.properties.$group_set, { name: 'Acme' });

  const nullCapture = find((e) => e.event === 'null distinct id', '"null distinct id"');
  assert.equal(nullCapture.uuid, uuids.nullCapture);
  assert.equal(nullCapture.distinct_id, 'null', 'the string "null" is kept as the distinct id');

  for (const e of all) {
    assert.equal(e.project, TOKEN);
    assert.ok(Math.abs(toMs(e.timestamp) - sentAt) < 60_000, `${e.event} timestamp ${e.timestamp}`);
    assert.ok(Number.isFinite(toMs(e.received_at)), `${e.event} received_at ${e.received_at}`);
  }
});

test('the SDK posted gzip bodies to /batch/ and nothing was rejected', { timeout: 15_000 }, async () => {
  const accepted = await server.allRequests({ outcome: 'accepted' });
  const batches = accepted.filter((r) => r.path === '/batch/' || r.path === '/batch');
  assert.ok(
    batches.length >= 2,
    `expected at least two /batch/ requests (two flushes), got ${JSON.stringify(accepted.map((r) => [r.method, r.path]))}`,
  );
  for (const r of batches) {
    assert.equal(r.method, 'POST');
    assert.equal(r.status, 200, `request ${r.id} status`);
    const { request, body_base64: bodyBase64 } = await server.api(`/api/requests/${r.id}`);
    assert.equal(headerValue(request.headers, 'content-encoding'), 'gzip', `request ${r.id} Content-Encoding`);
    assert.match(String(headerValue(request.headers, 'user-agent')), /^posthog-node\//, `request ${r.id} User-Agent`);
    assert.ok(bodyBase64, `request ${r.id}: /api/requests/<id> has no body_base64`);
    const raw = Buffer.from(bodyBase64, 'base64');
    assert.deepEqual(
      [...raw.subarray(0, 3)],
      [0x1f, 0x8b, 0x08],
      `request ${r.id}: stored body is not the gzip bytes as received`,
    );
    const json = JSON.parse(gunzipSync(raw).toString('utf8'));
    assert.equal(json.api_key, TOKEN);
    assert.ok(Array.isArray(json.batch) && json.batch.length > 0);
  }
  const { requests: rejected } = await server.api('/api/requests?outcome=rejected');
  assert.deepEqual(rejected, [], 'rejected requests');
});

test(
  '1100 events from posthog-node: /api/events pages at most 1000 and the cursor walks them all',
  { timeout: 30_000 },
  async () => {
    const token = 'phc_e2e_node_many';
    const client = new PostHog(token, { host: server.url, flushAt: 100, flushInterval: 0, fetchRetryCount: 0 });
    const errors = [];
    client.on('error', (e) => errors.push(String(e)));
    for (let i = 0; i < 1100; i++) client.capture({ distinctId: `many-${i % 7}`, event: 'many', properties: { i } });
    await client.shutdown(20_000);
    assert.deepEqual(errors, []);

    const first = await server.api(`/api/events?project=${token}&limit=5000`);
    assert.equal(first.events.length, 1000, 'limit is capped at 1000');
    assert.notEqual(first.next_cursor, null, 'a next_cursor when more events exist');
    const all = await server.allEvents({ project: token });
    assert.equal(all.length, 1100);
    assert.equal(new Set(all.map((e) => e.uuid)).size, 1100);
    assert.deepEqual(
      all.map((e) => e.properties.i).sort((a, b) => a - b),
      Array.from({ length: 1100 }, (_, i) => i),
    );
    for (let k = 1; k < all.length; k++) assert.ok(all[k - 1].seq > all[k].seq, 'newest first');
    const filtered = await server.allEvents({ project: token, distinct_id: 'many-3' });
    assert.equal(filtered.length, Array.from({ length: 1100 }, (_, i) => i).filter((i) => i % 7 === 3).length);
    assert.ok(filtered.every((e) => e.distinct_id === 'many-3'));
  },
);
