// Per-test scoping with the real posthog-node SDK: each "test" sends under its own project key,
// `DELETE /api/projects/{key}` (with the control token a test suite reads from
// <data dir>/instance.lock) removes one key's traffic and identity model while the other key's
// stays exactly as it was, and a long-poll read (`wait`, `min`) answers as soon as the SDK's
// events are in, not when its wait ends.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { posthogNode } from './lib/posthog-node.mjs';
import { installWatchdog, startServer } from './lib/server.mjs';

installWatchdog(120_000);

const KEEP = 'phc_e2e_scope_keep';
const GONE = 'phc_e2e_scope_gone';
let server;
let token;

before(async () => {
  server = await startServer({ label: 'project-scoping' });
  // What a test suite does: the running inspector publishes its URL and control token there.
  const lock = JSON.parse(readFileSync(path.join(server.dataDir, 'instance.lock'), 'utf8'));
  assert.equal(lock.url, server.url);
  token = lock.token;
});

after(async () => {
  await server?.dump('project-scoping-data').catch(() => {});
  await server?.stop();
});

const client = (key) => posthogNode(server.url, key);

/** One test's traffic: a visitor who signs up on the same key, and a placeholder id (a finding). */
async function sendTraffic(key) {
  const { ph, errors } = client(key);
  try {
    ph.capture({ distinctId: 'anon-s1', event: 'viewed pricing' });
    ph.capture({ distinctId: 'user-s1', event: 'signed up' });
    ph.identify({ distinctId: 'user-s1', properties: { $anon_distinct_id: 'anon-s1', $set: { plan: 'pro' } } });
    ph.capture({ distinctId: 'null', event: 'placeholder id' });
    await ph.flush();
  } finally {
    await ph.shutdown(10_000);
  }
  assert.deepEqual(errors, [], `posthog-node reported errors for ${key}`);
}

/** Everything the API says about one project. */
async function everything(key) {
  const q = `project=${encodeURIComponent(key)}`;
  return {
    events: (await server.api(`/api/events?${q}&limit=1000`)).events,
    persons: (await server.api(`/api/persons?${q}`)).persons,
    devices: (await server.api(`/api/devices?${q}`)).devices,
    decisions: (await server.api(`/api/decisions?${q}`)).decisions,
    warnings: (await server.api(`/api/warnings?${q}`)).warnings,
  };
}

const remove = (key, headers = { 'x-inspector-token': token }) =>
  server.apiRaw(`/api/projects/${encodeURIComponent(key)}`, { method: 'DELETE', headers });

test('deleting one project key leaves the other exactly as it was', { timeout: 60_000 }, async () => {
  await Promise.all([sendTraffic(KEEP), sendTraffic(GONE)]);
  // Both keys' events, and the model caught up with them (the identity reads wait for it).
  for (const key of [KEEP, GONE]) {
    const page = await server.api(`/api/events?project=${key}&wait=10s&min=4`);
    assert.equal(page.events.length, 4, `${key}: ${JSON.stringify(page.events.map((e) => e.event))}`);
  }
  const kept = await everything(KEEP);
  const gone = await everything(GONE);
  assert.ok(kept.persons.some((p) => p.distinct_ids.includes('anon-s1') && p.distinct_ids.includes('user-s1')));
  assert.ok(gone.warnings.length > 0, 'the traffic makes findings, so their deletion is tested');

  const refused = await remove(GONE, {});
  assert.equal(refused.status, 403, 'no token, no deletion');
  assert.equal((await refused.json()).code, 'bad_token');

  const res = await remove(GONE);
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.project, GONE);
  assert.equal(body.removed.events, 4);
  assert.ok(body.removed.requests >= 1, JSON.stringify(body));
  assert.equal(body.identity.persons, gone.persons.length, JSON.stringify(body));
  assert.equal(body.identity.findings, gone.warnings.length, JSON.stringify(body));

  assert.deepEqual(await everything(KEEP), kept, 'the other project is untouched');
  const after = await everything(GONE);
  for (const [list, items] of Object.entries(after)) assert.deepEqual(items, [], `${list} of the deleted project`);
  const projects = (await server.api('/api/projects')).projects.map((p) => p.project);
  assert.deepEqual(projects, [KEEP]);

  const again = await remove(GONE);
  assert.equal(again.status, 404, 'nothing left to delete');
  assert.equal((await again.json()).parameter, 'key');
});

test('a long-poll read answers as soon as the SDK has flushed its 3 events', { timeout: 30_000 }, async () => {
  const key = 'phc_e2e_scope_wait';
  const started = Date.now();
  // Asked before the SDK sends anything.
  const waiting = server.api(`/api/events?project=${key}&wait=10s&min=3`, { timeout: 20_000 });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const { ph, errors } = client(key);
  const flushedAt = Date.now();
  try {
    for (const n of [1, 2, 3]) ph.capture({ distinctId: 'waiter', event: `step ${n}` });
    await ph.flush();
  } finally {
    await ph.shutdown(10_000);
  }
  assert.deepEqual(errors, []);
  const page = await waiting;
  const answered = Date.now();
  assert.deepEqual(page.events.map((e) => e.event).sort(), ['step 1', 'step 2', 'step 3']);
  assert.equal(page.waited.timed_out, false);
  assert.ok(answered >= flushedAt, 'it waited for the events');
  assert.ok(answered - started < 5_000, `answered after ${answered - started} ms, well before the 10 s wait`);
});
