// The `mixpanel` Python SDK's import path (import_data and merge, both POST /import with a data=
// form) through python/mixpanel_import_flow.py against the real inspector binary: the SDK raises
// on any reply it does not accept, so no error means the replies were right; then the stored rows
// and, in the project's default mode (Simplified ID Merge), the clusters: $merge has no function
// there (Mixpanel docs "Identifying Users (Simplified)").

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { brief, decisions, dumpIdentity, personOf, warnings } from './lib/identity.mjs';
import { ensureVenv, runPython } from './lib/python.mjs';
import { artifactPath, countBy, installWatchdog, startServer, TESTS_DIR } from './lib/server.mjs';

installWatchdog(200_000);

const FLOW = path.join(TESTS_DIR, 'e2e', 'python', 'mixpanel_import_flow.py');
const TOKEN = 'mp_e2e_mixpanel_import_py';

let server;
let sent = false;

before(
  async () => {
    ensureVenv();
    server = await startServer({ label: 'mixpanel-python' });
  },
  { timeout: 150_000 },
);

after(async () => {
  if (server) {
    await dumpIdentity(server, TOKEN, 'mixpanel-python-model').catch(() => {});
    await server.dump('mixpanel-python-data').catch(() => {});
    await server.stop();
  }
});

test(
  'mixpanel python: import_data and merge get replies the SDK accepts, and every row is stored',
  { timeout: 60_000 },
  async () => {
    const r = runPython(FLOW, [server.url, TOKEN]);
    writeFileSync(
      artifactPath('mixpanel-python-flow.log'),
      `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n`,
    );
    assert.ifError(r.error);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() || '{}');
    assert.deepEqual(out.errors, [], `the SDK raised; stderr:\n${r.stderr}`);
    assert.equal(r.status, 0, `mixpanel_import_flow.py exited ${r.status}:\n${r.stderr}`);
    sent = true;

    const all = await server.allEvents({ project: TOKEN });
    const rows = all.map((e) => [e.event, e.distinct_id]);
    assert.equal(all.length, 4, `3 imports and a $merge; ${brief(rows)}`);
    for (const e of all) assert.equal(e.source, 'mixpanel', `source of ${e.event}`);
    for (const [id, n] of countBy(all, (e) => e.uuid)) assert.equal(n, 1, `uuid ${id} stored ${n} times`);
    const merge = all.find((e) => e.event === '$merge');
    assert.ok(merge, `$merge stored; ${brief(rows)}`);
    assert.deepEqual(merge.properties.$distinct_ids, ['mpy-user-1', '$device:mpy-device-2']);
    assert.equal(merge.properties.$inspector_route, undefined, 'the route is never stored in the event');
    const requests = (await server.api('/api/requests?limit=50')).requests;
    assert.deepEqual(
      requests.map((r) => [r.method, r.route, r.status]),
      Array(4).fill(['POST', 'mixpanel_import', 200]),
      brief(requests.map((r) => [r.method, r.path, r.status])),
    );
  },
);

test(
  'mixpanel python, Simplified ID Merge: the imported $device_id joins $user_id; $merge links nothing and says so',
  { timeout: 30_000 },
  async () => {
    assert.ok(sent, 'the flow did not run');
    const u1 = await personOf(server, TOKEN, 'mpy-user-1');
    assert.deepEqual([...u1.distinct_ids].sort(), ['$device:mpy-device-1', 'mpy-device-1', 'mpy-user-1'], brief(u1));
    const d2 = await personOf(server, TOKEN, '$device:mpy-device-2');
    assert.ok(d2 && d2.id !== u1.id, `device-2 keeps its own cluster; ${brief(d2)}`);
    const ignored = (await decisions(server, TOKEN)).filter((d) => d.rule === 'not_in_this_mode');
    assert.equal(ignored.length, 1, brief(ignored));
    assert.match(ignored[0].message, /Simplified ID Merge/);
    assert.deepEqual(
      (await warnings(server, TOKEN)).map((w) => w.rule),
      [],
      'no finding: nothing here is a mistake',
    );
  },
);
