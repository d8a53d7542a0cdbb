// The real @segment/analytics-node SDK against the real inspector binary: the identity flow of
// python/vendor_flow.py (anonymous browsing, identify, signup, a proper logout, alias, a logout
// without a new anonymous id), then events, profiles, lanes and warnings through the API.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Analytics } from '@segment/analytics-node';

import { brief, dumpIdentity, personOf, warnings } from './lib/identity.mjs';
import { countBy, installWatchdog, startServer } from './lib/server.mjs';

installWatchdog(120_000);

const WRITE_KEY = 'wk_e2e_segment_node';

let server;
let sent;

before(
  async () => {
    server = await startServer({ label: 'vendors-node' });
  },
  { timeout: 60_000 },
);

after(async () => {
  if (server) {
    await dumpIdentity(server, WRITE_KEY, 'vendors-node-model').catch(() => {});
    await server.dump('vendors-node-data').catch(() => {});
    await server.stop();
  }
});

test(
  '@segment/analytics-node: the flow is sent in batches and every message is stored once',
  { timeout: 45_000 },
  async () => {
    const analytics = new Analytics({
      writeKey: WRITE_KEY,
      host: server.url,
      flushAt: 1,
      maxRetries: 0,
      httpRequestTimeout: 10_000,
    });
    const errors = [];
    analytics.on('error', (err) => errors.push(String(err?.stack || err?.reason || JSON.stringify(err))));
    const ids = {};
    const call = (name, method, params) =>
      new Promise((resolve) => {
        analytics[method](params, (err, ctx) => {
          if (err) errors.push(`${name}: ${err}`);
          ids[name] = ctx?.event?.messageId;
          resolve();
        });
      });
    const context = { device: { id: 'sn-device-1' } };
    // One callback per call: arrival order = call order.
    await call('browse', 'track', {
      anonymousId: 'sn-anon-1',
      event: 'Viewed Pricing',
      properties: { plan: 'free' },
      context,
    });
    await call('identify_1', 'identify', {
      userId: 'sn-user-1',
      anonymousId: 'sn-anon-1',
      traits: { email: 'sn-user-1@example.com' },
      context,
    });
    await call('signup', 'track', { userId: 'sn-user-1', anonymousId: 'sn-anon-1', event: 'Account Created', context });
    await call('browse_2', 'track', { anonymousId: 'sn-anon-2', event: 'Viewed Pricing', context });
    await call('identify_2', 'identify', { userId: 'sn-user-2', anonymousId: 'sn-anon-2', context });
    await call('alias', 'alias', { userId: 'sn-user-1', previousId: 'sn-legacy-1' });
    await call('identify_3', 'identify', { userId: 'sn-user-3', anonymousId: 'sn-anon-2', context });
    await analytics.closeAndFlush({ timeout: 10_000 });
    assert.deepEqual(errors, [], 'analytics-node reported errors');
    sent = ids;

    const all = await server.allEvents({ project: WRITE_KEY });
    assert.equal(all.length, 7, `7 messages; ${brief(all.map((e) => [e.event, e.distinct_id]))}`);
    for (const [id, n] of countBy(all, (e) => e.uuid)) assert.equal(n, 1, `messageId ${id} stored ${n} times`);
    for (const [name, id] of Object.entries(ids))
      assert.ok(
        all.some((e) => e.uuid === id),
        `${name} (${id}) stored`,
      );
    const identify = all.find((e) => e.uuid === ids.identify_1);
    assert.deepEqual(
      [identify.source, identify.event, identify.distinct_id, identify.device_id],
      ['segment', 'identify', 'sn-user-1', 'sn-device-1'],
    );
    assert.equal(identify.properties.context.library.name, '@segment/analytics-node');
  },
);

test('@segment/analytics-node: profiles, the refused second userId and its findings', { timeout: 20_000 }, async () => {
  assert.ok(sent, 'flow did not run');
  const u1 = await personOf(server, WRITE_KEY, 'sn-user-1');
  for (const id of ['sn-anon-1', 'sn-user-1'])
    assert.ok(u1?.distinct_ids.includes(id), `${id} in user-1's profile; ${brief(u1)}`);
  // "Alias calls can't be used to merge profiles in Unify" (Segment Spec: Alias).
  assert.ok(!u1.distinct_ids.includes('sn-legacy-1'), `alias linked nothing; ${brief(u1)}`);
  const u2 = await personOf(server, WRITE_KEY, 'sn-user-2');
  const u3 = await personOf(server, WRITE_KEY, 'sn-user-3');
  assert.ok(u2 && u3 && u2.id !== u3.id, `a profile holds one userId; ${brief([u2, u3])}`);
  const rules = new Set((await warnings(server, WRITE_KEY)).map((w) => w.rule));
  for (const rule of ['anonymous_id_with_many_user_ids', 'missing_reset_between_users']) {
    assert.ok(rules.has(rule), `${rule} fired; ${brief([...rules])}`);
  }
  assert.ok(!rules.has('email_as_distinct_id'), 'no id here is an email');
});
