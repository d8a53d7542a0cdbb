// The real `mixpanel` npm package (mixpanel-node) against the real inspector binary, in the
// project's default ID merge mode (Simplified): track (GET /track), people.set and
// people.increment (/engage), alias ($create_alias on /track), import() (GET /import) and
// import_batch() (POST /import with a data= form). Every call's callback must report no error
// (the library checks the reply body is "1"), every event is stored, the clusters follow
// Mixpanel's Simplified ID Merge, and the findings are exactly the true ones.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import Mixpanel from 'mixpanel';

import { allPersons, brief, dumpIdentity, personOf, warnings } from './lib/identity.mjs';
import { countBy, installWatchdog, startServer } from './lib/server.mjs';

installWatchdog(120_000);

const TOKEN = 'mp_e2e_mixpanel_node';
const D1 = 'mn-device-1';
const D2 = 'mn-device-2';
const U1 = 'mn-user-1';
const U2 = 'mn-user-2';
const DAY = 86_400_000;

let server;
let sent = false;

before(
  async () => {
    server = await startServer({ label: 'mixpanel-node' });
  },
  { timeout: 60_000 },
);

after(async () => {
  if (server) {
    await dumpIdentity(server, TOKEN, 'mixpanel-node-model').catch(() => {});
    await server.dump('mixpanel-node-data').catch(() => {});
    await server.stop();
  }
});

/** Calls `fn(...args, callback)` and resolves to what the callback got (an error, a list of errors, or nothing). */
const call = (fn, ...args) => new Promise((resolve) => fn(...args, (err) => resolve(err)));

test(
  'mixpanel-node: track, people.set, people.increment, alias, import and import_batch get replies the library accepts, and every event is stored',
  { timeout: 45_000 },
  async () => {
    const { host } = new URL(server.url);
    // `key` (the project's API key, sent as ?api_key=) authenticates /import: the library
    // refuses an API secret over http.
    const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
    const mp = Mixpanel.init(TOKEN, { host, protocol: 'http', key: 'e2e-api-key', keepAlive: false, logger: quiet });
    const results = {
      anonymous: await call(mp.track, 'Viewed Pricing', { distinct_id: `$device:${D1}`, $device_id: D1, plan: 'free' }),
      signIn: await call(mp.track, 'Signed In', { distinct_id: U1, $device_id: D1, $user_id: U1 }),
      set: await call(mp.people.set.bind(mp.people), U1, { $email: `${U1}@example.com` }),
      increment: await call(mp.people.increment.bind(mp.people), U1, 'logins', 2),
      alias: await call(mp.alias, U1, 'mn-alias-1'),
      import: await call(mp.import, 'Imported Purchase', Date.now() - 2 * DAY, {
        distinct_id: U1,
        $user_id: U1,
        $insert_id: 'mn-import-1',
      }),
      importBatch: await call(mp.import_batch, [
        {
          event: 'Old Visit',
          properties: {
            time: Date.now() - 3 * DAY,
            distinct_id: `$device:${D2}`,
            $device_id: D2,
            $insert_id: 'mn-b-1',
          },
        },
        {
          event: 'Old Sign In',
          properties: {
            time: Date.now() - 3 * DAY + 1000,
            distinct_id: U2,
            $device_id: D2,
            $user_id: U2,
            $insert_id: 'mn-b-2',
          },
        },
      ]),
    };
    for (const [name, err] of Object.entries(results)) {
      const errs = Array.isArray(err) ? err : err ? [err] : [];
      assert.deepEqual(errs.map(String), [], `${name}: the library reported an error`);
    }
    sent = true;

    const all = await server.allEvents({ project: TOKEN });
    const names = all.map((e) => [e.event, e.distinct_id]);
    assert.equal(all.length, 8, `8 events (2 tracks, 2 engage, 1 alias, 1 import, 2 batch imports); ${brief(names)}`);
    for (const e of all) assert.equal(e.source, 'mixpanel', `source of ${e.event}`);
    for (const [id, n] of countBy(all, (e) => e.uuid)) assert.equal(n, 1, `uuid ${id} stored ${n} times`);
    const by = (event) => all.filter((e) => e.event === event);
    const engage = by('$engage');
    assert.deepEqual(
      engage.map((e) => e.distinct_id),
      [U1, U1],
    );
    assert.equal(engage.find((e) => e.properties.$set)?.properties.$set.$email, `${U1}@example.com`);
    assert.equal(engage.find((e) => e.properties.$add)?.properties.$add.logins, 2);
    assert.equal(by('$create_alias')[0].properties.alias, 'mn-alias-1');
    const imported = by('Imported Purchase')[0];
    assert.ok(imported, `import() stored; ${brief(names)}`);
    assert.equal(imported.distinct_id, U1);
    assert.equal(imported.uuid, 'mn-import-1', 'the dedup key is $insert_id');
    assert.deepEqual(
      ['Old Visit', 'Old Sign In'].map((n) => by(n)[0]?.uuid),
      ['mn-b-1', 'mn-b-2'],
      'import_batch stored both',
    );

    const requests = (await server.api(`/api/requests?limit=50`)).requests;
    const routes = requests.map((r) => [r.method, r.route, r.status]).sort();
    assert.deepEqual(
      routes,
      [
        ['GET', 'mixpanel_engage', 200],
        ['GET', 'mixpanel_engage', 200],
        ['GET', 'mixpanel_import', 200],
        ['GET', 'mixpanel_track', 200],
        ['GET', 'mixpanel_track', 200],
        ['GET', 'mixpanel_track', 200],
        ['POST', 'mixpanel_import', 200],
      ],
      brief(requests.map((r) => [r.method, r.path, r.route, r.status])),
    );
  },
);

test(
  'mixpanel-node, Simplified ID Merge: $device_id joins the first $user_id, the engage updates reach the cluster, alias links nothing, and the findings are exactly the true ones',
  { timeout: 30_000 },
  async () => {
    assert.ok(sent, 'the flow did not run');
    const u1 = await personOf(server, TOKEN, U1);
    assert.deepEqual([...u1.distinct_ids].sort(), [`$device:${D1}`, D1, U1].sort(), `U1's cluster; ${brief(u1)}`);
    assert.equal(u1.properties.$email, `${U1}@example.com`, 'people.set reached the cluster');
    assert.equal(u1.properties.logins, 2, 'people.increment added 2');
    const u2 = await personOf(server, TOKEN, U2);
    assert.deepEqual([...u2.distinct_ids].sort(), [`$device:${D2}`, D2, U2].sort(), `U2's cluster; ${brief(u2)}`);
    assert.equal(await personOf(server, TOKEN, 'mn-alias-1'), null, 'Simplified ID Merge: alias has no function');
    assert.equal((await allPersons(server, TOKEN)).length, 2, 'two clusters');

    const found = (await warnings(server, TOKEN)).map((w) => w.rule).sort();
    assert.deepEqual(
      found,
      [],
      `no finding: nothing in this flow is a mistake; ${brief(await warnings(server, TOKEN))}`,
    );
  },
);
