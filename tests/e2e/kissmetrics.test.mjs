// KISSmetrics against the real inspector binary. The KISSmetrics JS library (`_kmq`, served by
// KISSmetrics' CDN) cannot be loaded here, so this sends the image GETs a `_kmq` page sends,
// reconstructed from KISSmetrics' documentation of that library and its API:
// - every call is a GET on the tracking host with `_k` (API key) and `_p` (the current identity),
//   `/e` with `_n` (event name), `_t` (unix seconds) and `_d=1`, other parameters as properties
//   ("API specifications", support.kissmetrics.io; the `km` Ruby gem's tests expect
//   `/e?_d=1&_k=..&_n=..&_p=..&_t=..&foo=bar`);
// - `identify(name)` while anonymous makes the library alias the anonymous id to the name: an
//   `/a?_k=..&_p=<anonymous id>&_n=<name>` ("Identities", "Problems with Identifying Users");
// - `identify(other)` while named sends no alias, `clearIdentity()` sends nothing and starts a new
//   anonymous id ("Multiple People on the Same Browser");
// - `identify('anonymous')` on every visitor squishes them ("Squished Identities").

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { brief, personOf, warnings } from './lib/identity.mjs';
import { installWatchdog, startServer } from './lib/server.mjs';

installWatchdog(90_000);

const KEY = 'km_e2e_key';
// Anonymous ids as the JS library makes them (base64, "Identities").
const ANON_1 = 'qFq2LweZugFNE4o49hLhmRPBW34=';
const ANON_2 = '5tyjk0zrrtnz5xdmcjzhso4bdyau=';
const ANON_3 = 'Zk9wLmN0YXRpYy1hbm9ueW1vdXM=';
const ANON_4 = 'b3RoZXItdmlzaXRvci1hbm9ueW1vdXM=';

let server;
let t = 1_795_491_000;

/** One call as the library's image request sends it; returns the reply. */
async function km(path, params) {
  const query = new URLSearchParams({ _k: KEY, ...params });
  if (path === 'e') {
    t += 1;
    query.set('_t', String(t));
    query.set('_d', '1');
  }
  const resp = await fetch(`${server.url}/${path}?${query}`, { headers: { accept: 'image/*' } });
  const body = Buffer.from(await resp.arrayBuffer());
  return { status: resp.status, type: resp.headers.get('content-type'), body };
}

before(
  async () => {
    server = await startServer({ label: 'kissmetrics' });
  },
  { timeout: 60_000 },
);

after(async () => {
  if (server) {
    await server.dump('kissmetrics-data').catch(() => {});
    await server.stop();
  }
});

test('KISSmetrics calls are answered with a GIF and stored as kissmetrics', { timeout: 30_000 }, async () => {
  // Bob: anonymous visit, identify (the library's alias), a named event.
  const visit = await km('e', { _p: ANON_1, _n: 'Visited Site', URL: 'http://shop.example/' });
  assert.deepEqual([visit.status, visit.type, visit.body.subarray(0, 6).toString()], [200, 'image/gif', 'GIF89a']);
  assert.equal((await km('a', { _p: ANON_1, _n: 'bob@site.com' })).status, 200);
  await km('e', { _p: 'bob@site.com', _n: 'Signed In' });
  await km('s', { _p: 'bob@site.com', Plan: 'Gold' });
  // Bill on the same browser without clearIdentity(): identify while named sends no alias.
  await km('e', { _p: 'bill@site.com', _n: 'Signed In' });
  // Three visitors whose page calls identify('anonymous').
  for (const anon of [ANON_2, ANON_3, ANON_4]) {
    await km('e', { _p: anon, _n: 'Visited Site' });
    await km('a', { _p: anon, _n: 'anonymous' });
  }
  // A call without `_p` is refused, naming it.
  const bad = await km('e', { _n: 'Broken' });
  assert.equal(bad.status, 400);
  assert.match(bad.body.toString(), /`_p`/);

  const events = await server.allEvents({ project: KEY });
  assert.equal(events.length, 11, brief(events.map((e) => [e.event, e.distinct_id])));
  assert.ok(events.every((e) => e.source === 'kissmetrics'));
  const visited = events.find((e) => e.distinct_id === ANON_1 && e.event === 'Visited Site');
  assert.equal(visited.properties.URL, 'http://shop.example/');
  assert.equal(new Date(visited.timestamp).getTime(), 1_795_491_001_000, '_t with _d=1 is the time');
});

test(
  'KISSmetrics persons: aliases join, identify while named does not, placeholders squish',
  { timeout: 20_000 },
  async () => {
    const bob = await personOf(server, KEY, 'bob@site.com');
    assert.deepEqual([...bob.distinct_ids].sort(), ['bob@site.com', ANON_1].sort(), brief(bob));
    assert.equal(bob.properties.Plan, 'Gold');
    const bill = await personOf(server, KEY, 'bill@site.com');
    assert.ok(bill && bill.id !== bob.id, `bill is his own person; ${brief(bill)}`);
    const squished = await personOf(server, KEY, 'anonymous');
    for (const id of [ANON_2, ANON_3, ANON_4])
      assert.ok(squished.distinct_ids.includes(id), `${id} squished; ${brief(squished)}`);

    const found = (await warnings(server, KEY)).filter((w) => w.rule === 'squished_identities');
    assert.equal(found.length, 1, brief(found));
    assert.equal(found[0].severity, 'error');
    assert.deepEqual(found[0].distinct_ids, ['anonymous', ANON_2, ANON_3, ANON_4]);
    const rules = new Set((await warnings(server, KEY)).map((w) => w.rule));
    assert.ok(!rules.has('email_as_distinct_id'), 'KISSmetrics recommends emails as identities');
  },
);
