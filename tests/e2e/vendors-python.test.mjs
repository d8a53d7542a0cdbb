// The real Segment (segment-analytics-python), RudderStack (rudder-sdk-python) and Mixpanel
// (mixpanel) Python SDKs, in tests/.venv, against the real inspector binary: python/vendor_flow.py
// sends the same identity flow with each, then events, persons, device lanes and warnings are
// checked through the API against each vendor's identity rules (Segment and RudderStack: userId and
// anonymousId; Mixpanel: $device_id and simplified id merge) and the inspector's lint rules.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { brief, dumpIdentity, lanes, personOf, warnings } from './lib/identity.mjs';
import { ensureVenv, runPython } from './lib/python.mjs';
import { artifactPath, countBy, installWatchdog, startServer, TESTS_DIR } from './lib/server.mjs';

installWatchdog(290_000);

const FLOW = path.join(TESTS_DIR, 'e2e', 'python', 'vendor_flow.py');
const KEYS = { segment: 'wk_e2e_segment_py', rudder: 'wk_e2e_rudder_py', mixpanel: 'mp_e2e_mixpanel_py' };

let server;
const sent = {};

before(
  async () => {
    ensureVenv();
    server = await startServer({ label: 'vendors-python' });
  },
  { timeout: 150_000 },
);

after(async () => {
  if (server) {
    for (const [sdk, key] of Object.entries(KEYS))
      await dumpIdentity(server, key, `vendors-python-${sdk}-model`).catch(() => {});
    await server.dump('vendors-python-data').catch(() => {});
    await server.stop();
  }
});

function runFlow(sdk) {
  const r = runPython(FLOW, [sdk, server.url, KEYS[sdk]]);
  writeFileSync(
    artifactPath(`vendors-python-${sdk}-flow.log`),
    `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n`,
  );
  assert.ifError(r.error);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() || '{}');
  assert.deepEqual(out.errors, [], `the ${sdk} SDK reported errors; stderr:\n${r.stderr}`);
  assert.equal(r.status, 0, `vendor_flow.py ${sdk} exited ${r.status}:\n${r.stderr}`);
  sent[sdk] = out;
  return out;
}

const one = (list, pred, what) => {
  const found = list.filter(pred);
  assert.equal(found.length, 1, `exactly one ${what}; ${brief(list.map((e) => [e.event, e.distinct_id, e.source]))}`);
  return found[0];
};

// ---------------------------------------------------------------------------------------------
// Segment and RudderStack: one wire protocol, two sources, the same identity rules.

for (const [sdk, prefix, source] of [
  ['segment', 'sp', 'segment'],
  ['rudder', 'rp', 'rudderstack'],
]) {
  test(
    `${sdk} python: every message stored once, as sent, with its messageId and source "${source}"`,
    { timeout: 60_000 },
    async () => {
      const out = runFlow(sdk);
      const all = await server.allEvents({ project: KEYS[sdk] });
      assert.equal(all.length, 7, `7 messages stored; ${brief(all.map((e) => [e.event, e.distinct_id]))}`);
      for (const e of all) assert.equal(e.source, source, `source of ${e.event}`);
      for (const [name, id] of Object.entries(out.ids)) {
        assert.ok(id, `the SDK made no messageId for ${name}`);
        assert.equal(countBy(all, (e) => e.uuid).get(id), 1, `${name} (messageId ${id}) stored once`);
      }
      const byId = (name) => all.find((e) => e.uuid === out.ids[name]);
      const browse = byId('browse');
      assert.deepEqual(
        [browse.event, browse.distinct_id, browse.device_id],
        ['Viewed Pricing', `${prefix}-anon-1`, `${prefix}-device-1`],
      );
      assert.equal(browse.properties.type, 'track');
      assert.equal(browse.properties.properties.plan, 'free', 'track properties kept inside the stored message');
      const identify = byId('identify_1');
      assert.deepEqual(
        [identify.event, identify.distinct_id, identify.properties.anonymousId],
        ['identify', `${prefix}-user-1`, `${prefix}-anon-1`],
      );
      // Segment puts identify traits in `traits`, RudderStack in `context.traits`.
      const traits = source === 'rudderstack' ? identify.properties.context?.traits : identify.properties.traits;
      assert.equal(traits?.email, `${prefix}-user-1@example.com`, `traits where ${sdk} puts them`);
      const alias = byId('alias');
      assert.deepEqual(
        [alias.event, alias.distinct_id, alias.properties.previousId],
        ['alias', `${prefix}-user-1`, `${prefix}-legacy-1`],
      );
      // The SDK's own library name travels in context.library.
      assert.match(String(browse.properties.context?.library?.name), /analytics-python/);
    },
  );

  test(
    `${sdk} python: each vendor's own identity (Unify's limits and priorities, RudderStack's plain union); the shared anonymousId is flagged`,
    { timeout: 30_000 },
    async () => {
      assert.ok(sent[sdk], 'flow did not run');
      const key = KEYS[sdk];
      const u1 = await personOf(server, key, `${prefix}-user-1`);
      assert.ok(u1, 'user-1 has a profile');
      // Segment Unify: an alias links nothing (Spec: Alias), and context.device.id without
      // context.device.type is no identifier (Identity Resolution Settings), so user-1 keeps its
      // anonymous id and email only. When user-3 identifies on user-2's anonymousId, Unify demotes
      // the anonymousId rather than give one profile two user ids. RudderStack's Profiles ID
      // stitcher is a plain union: the shared device id and anonymousId join all three users (an
      // alias' previousId is no edge of its identifies/tracks inputs).
      for (const id of [`${prefix}-anon-1`, `${prefix}-user-1`, `${prefix}-user-1@example.com`]) {
        assert.ok(u1.distinct_ids.includes(id), `${id} is in user-1's profile; ${brief(u1)}`);
      }
      assert.ok(!u1.distinct_ids.includes(`${prefix}-legacy-1`), `alias linked nothing; ${brief(u1)}`);
      assert.equal(u1.is_identified, true);
      const u2 = await personOf(server, key, `${prefix}-user-2`);
      const u3 = await personOf(server, key, `${prefix}-user-3`);
      if (sdk === 'rudder') {
        for (const id of [`${prefix}-device-1`, `${prefix}-anon-2`, `${prefix}-user-2`, `${prefix}-user-3`])
          assert.ok(u1.distinct_ids.includes(id), `${id} stitched into user-1's rudder_id; ${brief(u1)}`);
        assert.ok(u2.id === u1.id && u3.id === u1.id, 'one rudder_id');
      } else {
        assert.ok(u2 && u2.id !== u1.id, 'user-2 has its own profile');
        assert.deepEqual(
          [...u2.distinct_ids].sort(),
          [`${prefix}-anon-2`, `${prefix}-user-2`, `${prefix}-user-2@example.com`].sort(),
          `user-2 with its anonymousId and email; ${brief(u2)}`,
        );
        assert.deepEqual(
          [...u3.distinct_ids].sort(),
          [`${prefix}-user-3`, `${prefix}-user-3@example.com`].sort(),
          `user-3 on a profile of its own, without user-2's anonymousId; ${brief(u3)}`,
        );
      }

      const found = await warnings(server, key);
      const rules = new Set(found.map((w) => w.rule));
      assert.ok(
        rules.has('anonymous_id_with_many_user_ids'),
        `one anonymousId with several userIds is flagged; ${brief([...rules])}`,
      );
      // RudderStack's stitcher has no limits, so only Segment drops identifiers.
      assert.equal(
        rules.has('profile_user_id_limit'),
        sdk === 'segment',
        `the dropped identifiers are flagged (Segment only); ${brief([...rules])}`,
      );
      assert.ok(
        rules.has('missing_reset_between_users'),
        `user-2 to user-3 on one device without a new anonymous id; ${brief([...rules])}`,
      );

      const devices = await lanes(server, key);
      const lane = devices.find((d) => d.device_id === `${prefix}-device-1`);
      assert.ok(lane, `a lane for context.device.id; ${brief(devices.map((d) => d.device_id))}`);
    },
  );
}

test(
  "segment python through the vendor lens: PostHog would put user-3 on user-2's person and RudderStack's stitcher would join them; Segment, Mixpanel and KISSmetrics keep them apart, each saying why",
  { timeout: 20_000 },
  async () => {
    assert.ok(sent.segment, 'flow did not run');
    const lens = await server.api(`/api/lens?project=${KEYS.segment}`);
    assert.deepEqual(
      lens.vendors.map((v) => v.vendor),
      ['posthog', 'segment', 'rudderstack', 'mixpanel', 'kissmetrics'],
    );
    assert.equal(lens.family, 'segment');
    const d = lens.disagreements.find((x) => x.ids.includes('sp-user-3') && x.ids.includes('sp-anon-2'));
    assert.ok(
      d,
      `a disagreement about user-3 and anon-2; ${brief(lens.disagreements.map((x) => [x.ids, x.together]))}`,
    );
    // RudderStack's ID stitcher unions every id seen on one message; KISSmetrics' identify(user-3)
    // on an identity already named user-2 sends no alias (KISSmetrics "Identities").
    assert.deepEqual(
      [d.together, d.apart],
      [
        ['posthog', 'rudderstack'],
        ['segment', 'mixpanel', 'kissmetrics'],
      ],
    );
    assert.match(d.why.segment, /dropped 'sp-anon-2'/);
    assert.match(d.why.mixpanel, /already has \$user_id/);
    assert.match(d.why.posthog, /sp-user-3/);
    const seg = lens.vendors[1].clusters.find((c) => c.ids.includes('sp-user-3'));
    assert.equal(seg.kinds['sp-user-3'], 'user_id');
  },
);

// ---------------------------------------------------------------------------------------------
// Mixpanel: Simplified ID Merge from a server SDK.

test(
  'mixpanel python: events, the engage update and $create_alias stored with their $insert_id and device ids',
  { timeout: 60_000 },
  async () => {
    runFlow('mixpanel');
    const key = KEYS.mixpanel;
    const all = await server.allEvents({ project: key });
    assert.equal(all.length, 8, `7 tracks + 1 engage; ${brief(all.map((e) => [e.event, e.distinct_id]))}`);
    for (const e of all) assert.equal(e.source, 'mixpanel');
    for (const [id, n] of countBy(all, (e) => e.uuid)) assert.equal(n, 1, `uuid ${id} stored ${n} times`);
    const first = one(
      all,
      (e) => e.event === 'Viewed Pricing' && e.distinct_id === '$device:mp-device-1',
      'anonymous Viewed Pricing',
    );
    assert.equal(first.device_id, 'mp-device-1');
    assert.ok(first.properties.$insert_id, 'the SDK sets $insert_id');
    assert.equal(first.uuid, first.properties.$insert_id, 'the dedup key is $insert_id');
    const engage = one(all, (e) => e.event === '$engage', '$engage');
    assert.equal(engage.distinct_id, 'mp-user-1');
    assert.equal(engage.properties.$set.$email, 'mp-user-1@example.com');
    const alias = one(all, (e) => e.event === '$create_alias', '$create_alias');
    assert.equal(alias.properties.alias, 'mp-alias-1');
  },
);

test(
  'mixpanel python: $device_id joins the first $user_id; a second $user_id on that cluster is refused',
  { timeout: 30_000 },
  async () => {
    assert.ok(sent.mixpanel, 'flow did not run');
    const key = KEYS.mixpanel;
    const u1 = await personOf(server, key, 'mp-user-1');
    assert.ok(u1, 'user-1 has a cluster');
    assert.ok(u1.distinct_ids.includes('$device:mp-device-1'), `the anonymous $device: id joined user-1; ${brief(u1)}`);
    assert.equal(u1.properties.$email, 'mp-user-1@example.com', 'the engage $set reached the cluster');
    const u2 = await personOf(server, key, 'mp-user-2');
    const u3 = await personOf(server, key, 'mp-user-3');
    assert.ok(u2 && u3 && u2.id !== u3.id, `user-3 did not join user-2's cluster; ${brief([u2, u3])}`);
    const rules = new Set((await warnings(server, key)).map((w) => w.rule));
    assert.ok(rules.has('missing_reset_between_users'), `user-2 then user-3 on one device; ${brief([...rules])}`);
  },
);
