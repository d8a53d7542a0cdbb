// Identity model end to end with the server SDKs: posthog-node and the `posthog` Python SDK
// (python/identity_flow.py in tests/.venv). Checks persons, decisions and warnings against PostHog's
// merge rules (which merges are allowed, in which direction each SDK call merges;
// https://posthog.com/docs/product-analytics/identify) and the inspector's lint rules.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { PostHog } from 'posthog-node';

import {
  brief,
  decisions,
  detailPerson,
  dumpIdentity,
  personDetail,
  personOf,
  personUuid,
  warnings,
} from './lib/identity.mjs';
import { ensureVenv, runPython } from './lib/python.mjs';
import { artifactPath, installWatchdog, startServer, TESTS_DIR } from './lib/server.mjs';

installWatchdog(170_000);

const TOKEN_N = 'phc_e2e_identity_node';
const TOKEN_P = 'phc_e2e_identity_py';
const FLOW = path.join(TESTS_DIR, 'e2e', 'python', 'identity_flow.py');

let server;
let node; // what the posthog-node flow sent
let py; // what identity_flow.py printed

before(
  async () => {
    ensureVenv();
    server = await startServer({ label: 'identity-server-sdks' });
  },
  { timeout: 150_000 },
);

after(async () => {
  if (server) {
    await dumpIdentity(server, TOKEN_N, 'identity-node-model').catch(() => {});
    await dumpIdentity(server, TOKEN_P, 'identity-python-model').catch(() => {});
    await server.dump('identity-server-sdks-data').catch(() => {});
    await server.stop();
  }
});

const rulesOf = (list, rule) => list.filter((w) => w.rule === rule);

// ---------------------------------------------------------------------------------------------
// posthog-node

test(
  'posthog-node: capture, identify with $anon_distinct_id, alias, identify without it, "null"',
  { timeout: 45_000 },
  async () => {
    const client = new PostHog(TOKEN_N, {
      host: server.url,
      flushAt: 100,
      flushInterval: 0,
      fetchRetryCount: 0,
      requestTimeout: 10_000,
      preloadFeatureFlags: false,
    });
    const errors = [];
    client.on('error', (err) => errors.push(String(err?.stack || err)));
    try {
      // One flush per call: arrival order = call order, whatever the SDK does inside a batch.
      client.capture({ distinctId: 'anon-n1', event: 'viewed pricing' });
      await client.flush();
      // posthog-node's identify() passes properties.$anon_distinct_id through to the $identify event.
      client.identify({
        distinctId: 'user-n1',
        properties: { $anon_distinct_id: 'anon-n1', $set: { email: 'n1@example.com' } },
      });
      await client.flush();
      client.alias({ distinctId: 'user-n1', alias: 'alias-n1' });
      await client.flush();
      client.identify({ distinctId: 'user-n2', properties: { $set: { email: 'n2@example.com' } } });
      await client.flush();
      client.capture({ distinctId: 'null', event: 'null distinct id' });
      await client.flush();
    } finally {
      await client.shutdown(10_000);
    }
    assert.deepEqual(errors, [], 'posthog-node reported errors');
    const all = await server.allEvents({ project: TOKEN_N });
    assert.equal(all.length, 5, `5 events stored; ${brief(all.map((e) => [e.event, e.distinct_id]))}`);
    const find = (pred, what) => {
      const f = all.filter(pred);
      assert.equal(f.length, 1, `one ${what}; ${brief(all.map((e) => [e.event, e.distinct_id]))}`);
      return f[0];
    };
    node = {
      identifyN1: find((e) => e.event === '$identify' && e.distinct_id === 'user-n1', '$identify user-n1'),
      identifyN2: find((e) => e.event === '$identify' && e.distinct_id === 'user-n2', '$identify user-n2'),
      alias: find((e) => e.event === '$create_alias', '$create_alias'),
      nullCapture: find((e) => e.distinct_id === 'null', '"null" capture'),
      pricing: find((e) => e.event === 'viewed pricing', '"viewed pricing"'),
    };
    assert.equal(
      node.identifyN1.properties.$anon_distinct_id,
      'anon-n1',
      'posthog-node sent $anon_distinct_id on $identify',
    );
    assert.ok(
      !('$anon_distinct_id' in node.identifyN2.properties),
      'identify() without $anon_distinct_id sends no such key',
    );
    assert.equal(node.alias.distinct_id, 'user-n1', 'alias target = distinctId');
    assert.equal(node.alias.properties.alias, 'alias-n1', 'alias source = alias');
  },
);

test(
  'posthog-node: user-n1 owns anon-n1 and alias-n1, identified; attach decisions name source and target',
  { timeout: 20_000 },
  async () => {
    assert.ok(node, 'node flow did not run');
    const p = await personOf(server, TOKEN_N, 'user-n1');
    assert.ok(p, 'user-n1 has a person');
    assert.deepEqual([...p.distinct_ids].sort(), ['alias-n1', 'anon-n1', 'user-n1'], `ids; ${brief(p)}`);
    assert.equal(p.is_identified, true);
    assert.equal(p.properties.email, 'n1@example.com');
    // Created by the first (personful) capture of anon-n1; the identify and the alias only attach.
    assert.equal(p.id, personUuid(TOKEN_N, 'anon-n1'), 'person uuid derives from anon-n1, its first id');
    for (const id of ['anon-n1', 'alias-n1'])
      assert.equal((await personOf(server, TOKEN_N, id))?.id, p.id, `${id} resolves to user-n1's person`);

    const list = await decisions(server, TOKEN_N);
    const ofEvent = (uuid) => list.filter((d) => d.event_uuid === uuid);
    const [identify] = ofEvent(node.identifyN1.uuid);
    assert.ok(identify, `a decision for $identify user-n1; ${brief(list)}`);
    assert.deepEqual(
      [identify.kind, identify.rule, identify.source, identify.target, identify.person_id],
      ['attached', 'merge_attached_target', 'anon-n1', 'user-n1', p.id],
      `identify decision ${brief(identify)}`,
    );
    const [alias] = ofEvent(node.alias.uuid);
    assert.ok(alias, `a decision for $create_alias; ${brief(list)}`);
    assert.deepEqual(
      [alias.kind, alias.rule, alias.source, alias.target, alias.person_id],
      ['attached', 'merge_attached_source', 'alias-n1', 'user-n1', p.id],
      `alias decision (source = alias, target = distinctId) ${brief(alias)}`,
    );
    assert.match(alias.message, /alias-n1/);
    assert.match(alias.message, /user-n1/);
  },
);

test(
  'posthog-node: identify without $anon_distinct_id → server_identify_without_anon_id, links nothing',
  { timeout: 20_000 },
  async () => {
    assert.ok(node, 'node flow did not run');
    const ws = rulesOf(await warnings(server, TOKEN_N), 'server_identify_without_anon_id');
    assert.equal(ws.length, 1, `one server_identify_without_anon_id; ${brief(await warnings(server, TOKEN_N))}`);
    assert.deepEqual(ws[0].distinct_ids, ['user-n2']);
    assert.ok(ws[0].event_uuids.includes(node.identifyN2.uuid), `the warning points at the $identify; ${brief(ws[0])}`);
    assert.match(ws[0].message, /user-n2/);

    const ds = (await decisions(server, TOKEN_N)).filter((d) => d.event_uuid === node.identifyN2.uuid);
    assert.equal(ds.length, 1, `one decision for the $identify of user-n2; ${brief(ds)}`);
    assert.equal(ds[0].rule, 'identify_without_anon_id');
    assert.equal(ds[0].kind, 'ignored', 'nothing to merge');
    assert.equal(ds[0].source, null, 'no source');
    assert.equal(ds[0].target, 'user-n2');

    // A refused merge only updates properties (here: creates user-n2's person as a normal event would) and
    // does not make the person identified.
    const p = await personOf(server, TOKEN_N, 'user-n2');
    assert.ok(p, 'user-n2 has a person');
    assert.deepEqual(p.distinct_ids, ['user-n2']);
    assert.equal(p.is_identified, false, '$identify without $anon_distinct_id does not identify');
    assert.equal(p.properties.email, 'n2@example.com', 'its $set still applies');
    assert.equal(ds[0].person_id, p.id);
  },
);

test(
  'posthog-node: distinct id "null" → generic_distinct_id (illegal id), and PostHog still creates a person for it',
  { timeout: 20_000 },
  async () => {
    assert.ok(node, 'node flow did not run');
    const ws = rulesOf(await warnings(server, TOKEN_N), 'generic_distinct_id').filter((w) =>
      w.distinct_ids.includes('null'),
    );
    assert.equal(ws.length, 1, `one generic_distinct_id finding for "null"; ${brief(await warnings(server, TOKEN_N))}`);
    assert.equal(
      ws[0].severity,
      'error',
      'an id PostHog refuses to merge on ("null") is an error, not just a placeholder warning',
    );
    assert.ok(ws[0].event_uuids.includes(node.nullCapture.uuid));
    assert.match(ws[0].message, /null/);
    // For an illegal id only merges are refused; a normal event creates a person called "null".
    const p = await personOf(server, TOKEN_N, 'null');
    assert.ok(p, 'a person for "null"');
    assert.equal(p.is_identified, false);
    const created = (await decisions(server, TOKEN_N, 'created')).filter((d) => d.event_uuid === node.nullCapture.uuid);
    assert.equal(created.length, 1, 'a created decision for the "null" event');
    assert.match(
      created[0].message,
      /WARNING/,
      `the decision says loudly that every such user lands on this person: ${created[0].message}`,
    );
    // No other warnings that should not be there.
    const other = (await warnings(server, TOKEN_N)).filter((w) =>
      [
        'cannot_merge_already_identified',
        'cannot_merge_with_illegal_distinct_id',
        'missing_reset_between_users',
      ].includes(w.rule),
    );
    assert.deepEqual(other, [], 'no merge refusal or reset findings in the node flow');
  },
);

// ---------------------------------------------------------------------------------------------
// posthog (Python)

test('posthog-python: capture, alias, set, personless capture, a refused merge', { timeout: 45_000 }, () => {
  const r = runPython(FLOW, [server.url, TOKEN_P], { timeout: 40_000 });
  writeFileSync(
    artifactPath('identity-python-flow.log'),
    `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n`,
  );
  assert.ifError(r.error);
  const last = (r.stdout || '').trim().split('\n').pop();
  py = JSON.parse(last || '{}');
  assert.deepEqual(py.errors, [], `the SDK reported errors; stderr:\n${r.stderr}`);
  assert.equal(r.status, 0, `identity_flow.py exited ${r.status}:\n${r.stderr}`);
  for (const [k, v] of Object.entries(py.uuids)) assert.ok(v, `the SDK returned no uuid for ${k}`);
});

async function pyEvent(key) {
  const { event } = await server.api(`/api/events/${py.uuids[key]}`);
  return event;
}

test(
  'posthog-python: alias(previous_id=anon-p1, distinct_id=user-p1) → one identified person owning both',
  { timeout: 20_000 },
  async () => {
    assert.ok(py, 'python flow did not run');
    const alias = await pyEvent('alias');
    assert.equal(alias.distinct_id, 'anon-p1', 'event distinct_id = previous_id (target)');
    assert.equal(alias.properties.alias, 'user-p1', 'alias = distinct_id (source)');
    const p = await personOf(server, TOKEN_P, 'anon-p1');
    assert.ok(p, 'anon-p1 has a person');
    assert.deepEqual([...p.distinct_ids].sort(), ['anon-p1', 'user-p1']);
    assert.equal(p.is_identified, true);
    assert.equal((await personOf(server, TOKEN_P, 'user-p1'))?.id, p.id, 'user-p1 resolves to the same person');
    const [d] = (await decisions(server, TOKEN_P)).filter((x) => x.event_uuid === py.uuids.alias);
    assert.ok(d, 'a decision for the alias');
    assert.deepEqual(
      [d.kind, d.rule, d.source, d.target],
      ['attached', 'merge_attached_source', 'user-p1', 'anon-p1'],
      brief(d),
    );
  },
);

test(
  'posthog-python: set(user-p1, plan=pro) → person property plan=pro, origin the $set event',
  { timeout: 20_000 },
  async () => {
    assert.ok(py, 'python flow did not run');
    const set = await pyEvent('set');
    assert.equal(set.event, '$set');
    const p = await personOf(server, TOKEN_P, 'user-p1');
    assert.equal(p.properties.plan, 'pro');
    const detail = await personDetail(server, p.id);
    writeFileSync(artifactPath('identity-python-person-p1.json'), `${JSON.stringify(detail, null, 2)}\n`);
    const origins = detailPerson(detail).property_origins ?? detail.property_origins;
    assert.ok(origins?.plan, `an origin for plan; ${brief(origins)}`);
    assert.equal(origins.plan.op, 'set');
    assert.equal(origins.plan.by?.event, '$set');
    assert.equal(origins.plan.by?.event_uuid, py.uuids.set, `plan was set by the $set event; ${brief(origins.plan)}`);
  },
);

test(
  'posthog-python: a personless capture creates no person, the event is still listed',
  { timeout: 20_000 },
  async () => {
    assert.ok(py, 'python flow did not run');
    const e = await pyEvent('personless');
    assert.equal(e.properties.$process_person_profile, false);
    assert.ok(e.distinct_id, 'the SDK generated a distinct id');
    const listed = await server.allEvents({ project: TOKEN_P, distinct_id: e.distinct_id });
    assert.deepEqual(
      listed.map((x) => x.uuid),
      [py.uuids.personless],
      '/api/events lists the personless event',
    );
    const body = await server.api(`/api/persons?project=${TOKEN_P}&distinct_id=${encodeURIComponent(e.distinct_id)}`);
    assert.deepEqual(body.persons, [], `no person for the personless id; ${brief(body)}`);
    const ds = (await decisions(server, TOKEN_P)).filter(
      (d) => d.event_uuid === py.uuids.personless && d.kind === 'created',
    );
    assert.deepEqual(ds, [], 'no created decision for a personless event');
  },
);

test(
  'posthog-python: $identify(user-x2, $anon_distinct_id=user-x1) is refused: user-x1 is already identified',
  { timeout: 20_000 },
  async () => {
    assert.ok(py, 'python flow did not run');
    const x1 = await personOf(server, TOKEN_P, 'user-x1');
    const x2 = await personOf(server, TOKEN_P, 'user-x2');
    assert.ok(x1 && x2, 'both users have persons');
    assert.notEqual(x1.id, x2.id, 'not merged');
    assert.deepEqual([...x1.distinct_ids].sort(), ['anon-x', 'user-x1']);
    assert.deepEqual(x2.distinct_ids, ['user-x2']);
    assert.equal(x1.is_identified, true);
    assert.equal(x1.properties.email, 'x1@example.com', 'the refused identify does not touch user-x1');
    // A refused merge's target still gets the event's property updates and is_identified = true.
    assert.equal(x2.is_identified, true, 'the refused target is identified anyway');
    assert.equal(x2.properties.email, 'x2@example.com', 'the refused target gets the $set');

    const refused = (await decisions(server, TOKEN_P, 'refused')).filter((d) => d.event_uuid === py.uuids.x2_identify);
    assert.equal(
      refused.length,
      1,
      `one refused decision for the $identify of user-x2; ${brief(await decisions(server, TOKEN_P))}`,
    );
    const d = refused[0];
    assert.equal(d.rule, 'source_already_identified');
    assert.equal(d.source, 'user-x1');
    assert.equal(d.target, 'user-x2');
    assert.equal(d.person_id, x2.id);
    assert.match(d.message, /user-x1/);

    const ws = rulesOf(await warnings(server, TOKEN_P), 'cannot_merge_already_identified');
    assert.equal(ws.length, 1, `one cannot_merge_already_identified; ${brief(await warnings(server, TOKEN_P))}`);
    assert.ok(ws[0].event_uuids.includes(py.uuids.x2_identify));
    assert.deepEqual([...ws[0].distinct_ids].sort(), ['user-x1', 'user-x2']);
    assert.match(ws[0].message, /user-x1/);
    // The first identify (anon-x → user-x1) attached, it was not refused.
    const first = (await decisions(server, TOKEN_P)).filter((x) => x.event_uuid === py.uuids.x1_identify);
    assert.deepEqual(
      first.map((x) => [x.kind, x.source, x.target]),
      [['attached', 'anon-x', 'user-x1']],
    );
  },
);
