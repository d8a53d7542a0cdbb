// The real `posthog` Python SDK (in tests/.venv) sending to the real inspector binary.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { ensureVenv, PY } from './lib/python.mjs';
import { artifactPath, countBy, headerValue, installWatchdog, startServer, TESTS_DIR, toMs } from './lib/server.mjs';

installWatchdog(170_000);

const TOKEN = 'phc_e2e_py';
const FLOW = path.join(TESTS_DIR, 'e2e', 'python', 'flow.py');

let server;
let result;
let startedAt;

before(
  async () => {
    ensureVenv();
    server = await startServer({ label: 'posthog-python' });
  },
  { timeout: 150_000 },
);

after(async () => {
  await server?.dump('posthog-python-data').catch(() => {});
  await server?.stop();
});

test('posthog-python sends capture, alias, set, set_once and a personless capture', { timeout: 45_000 }, () => {
  startedAt = Date.now();
  const r = spawnSync(PY, [FLOW, server.url, TOKEN], { encoding: 'utf8', timeout: 40_000, cwd: TESTS_DIR });
  writeFileSync(
    artifactPath('posthog-python-flow.log'),
    `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n`,
  );
  assert.ifError(r.error);
  const last = r.stdout.trim().split('\n').pop();
  result = JSON.parse(last || '{}');
  assert.deepEqual(result.errors, [], `the SDK reported errors; stderr:\n${r.stderr}`);
  assert.equal(r.status, 0, `flow.py exited ${r.status}:\n${r.stderr}`);
  for (const [k, v] of Object.entries(result.uuids))
    assert.ok(v, `the SDK returned no uuid for ${k} (it dropped the call)`);
});

test('each event arrived exactly once with the identities the SDK sent', { timeout: 15_000 }, async () => {
  assert.ok(result, 'flow did not run');
  const all = await server.allEvents({ project: TOKEN });
  const summary = JSON.stringify(all.map((e) => [e.event, e.distinct_id, e.uuid]));
  const byUuid = countBy(all, (e) => e.uuid);
  for (const [uuid, n] of byUuid) assert.equal(n, 1, `uuid ${uuid} stored ${n} times`);
  assert.equal(all.length, Object.keys(result.uuids).length, `event count; got ${summary}`);
  const get = (key) => {
    const e = all.find((x) => x.uuid === result.uuids[key]);
    assert.ok(e, `${key} (uuid ${result.uuids[key]}) not stored; got ${summary}`);
    return e;
  };

  const capture = get('capture');
  assert.equal(capture.event, 'viewed pricing');
  assert.equal(capture.distinct_id, 'anon-p1');
  assert.equal(capture.properties.plan, 'free');
  assert.equal(capture.properties.$lib, 'posthog-python');

  const alias = get('alias');
  assert.equal(alias.event, '$create_alias');
  assert.equal(alias.distinct_id, 'anon-p1', 'alias(previous_id, distinct_id) is sent as previous_id');
  assert.equal(alias.properties.alias, 'user-p1');

  const set = get('set');
  assert.equal(set.event, '$set');
  assert.equal(set.distinct_id, 'user-p1');
  assert.deepEqual(set.properties.$set, { email: 'a@b.c' }, 'top-level $set of set() must be kept in properties.$set');

  const setOnce = get('set_once');
  assert.equal(setOnce.event, '$set_once');
  assert.equal(setOnce.distinct_id, 'user-p1');
  assert.deepEqual(
    setOnce.properties.$set_once,
    { first_seen: '2026-11-24' },
    'top-level $set_once must be kept in properties.$set_once',
  );

  const personless = get('personless');
  assert.equal(personless.event, 'personless event');
  assert.equal(personless.properties.$process_person_profile, false);
  assert.ok(
    personless.distinct_id && personless.distinct_id.length > 0,
    'personless event has a generated distinct id',
  );
  assert.notEqual(personless.distinct_id, 'user-p1');

  const gz = get('gzip');
  assert.equal(gz.event, 'gzip batch');
  assert.equal(gz.distinct_id, 'user-p1');

  for (const e of all) {
    assert.equal(e.project, TOKEN);
    assert.ok(Math.abs(toMs(e.timestamp) - startedAt) < 60_000, `${e.event} timestamp ${e.timestamp}`);
    assert.ok(Number.isFinite(toMs(e.received_at)), `${e.event} received_at ${e.received_at}`);
  }
});

test('requests: plain JSON and gzip on /batch/, none rejected', { timeout: 15_000 }, async () => {
  assert.ok(result, 'flow did not run');
  const accepted = await server.allRequests({ outcome: 'accepted' });
  const batches = accepted.filter((r) => /^\/batch\/?$/.test(r.path));
  assert.equal(
    batches.length,
    6,
    `expected 6 /batch/ requests (5 sync + 1 gzip), got ${JSON.stringify(accepted.map((r) => [r.method, r.path]))}`,
  );
  let gzipped = 0;
  for (const r of batches) {
    const { request } = await server.api(`/api/requests/${r.id}`);
    assert.match(String(headerValue(request.headers, 'user-agent')), /^posthog-python\//);
    if (headerValue(request.headers, 'content-encoding') === 'gzip') gzipped++;
  }
  assert.equal(gzipped, 1, 'one gzip request');
  const { requests: rejected } = await server.api('/api/requests?outcome=rejected');
  assert.deepEqual(rejected, [], 'rejected requests');
});
