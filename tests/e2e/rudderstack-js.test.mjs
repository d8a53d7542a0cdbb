// The real RudderStack browser SDK (@rudderstack/analytics-js v3, its "bundled" UMD build, so no
// plugin is lazy-loaded from a CDN) in Debian's Chromium, on a page served from another origin,
// sending to the real inspector binary: configUrl (the inspector answers /sourceConfig) and
// dataPlaneUrl both point at the inspector. Flow: load, page, track, identify, alias, reset,
// identify another user. Asserted: the stored messages, RudderStack's own stitching (the Profiles
// ID stitcher: a plain union of the ids seen on one message), and exactly which findings fire,
// with wording true of v3 (a plain reset() keeps the anonymousId; alias() keeps the SDK's user id;
// `userId: ""` on anonymous messages is no id).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { before, test } from 'node:test';

import { withBrowserFlow } from './lib/browser.mjs';
import { brief, dumpIdentity, lanes, personOf, warnings } from './lib/identity.mjs';
import { countBy, installWatchdog } from './lib/server.mjs';

installWatchdog(150_000);

const require = createRequire(import.meta.url);
// The package exports no package.json: its main is dist/npm/modern/cjs/index.cjs.
const modernDir = path.dirname(path.dirname(require.resolve('@rudderstack/analytics-js')));
const RS_BUNDLE = path.join(modernDir, 'bundled', 'umd', 'index.js');
const WRITE_KEY = 'wk_e2e_rudder_js';

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>rudderstack → inspector</title></head>
<body><h1>RudderStack JS v3 → inspector</h1><script src="/rudderstack.js"></script></body></html>`;

const harness = withBrowserFlow({
  label: 'rudderstack-js',
  routes: {
    '/': { type: 'text/html; charset=utf-8', body: PAGE },
    '/rudderstack.js': () => ({ type: 'application/javascript', body: readFileSync(RS_BUNDLE) }),
    '/favicon.ico': { type: 'image/x-icon', body: '' },
  },
  browserLog: 'rudderstack-js.log',
  beforeStop: async (server) => {
    await dumpIdentity(server, WRITE_KEY, 'rudderstack-js-model').catch(() => {});
    await server.dump('rudderstack-js-data').catch(() => {});
  },
});
const { log } = harness;
let server, pages, browser;
before(async () => ({ server, pages, browser } = await harness.ready()));
const flow = { failed: [], statuses: [], outside: [] };
const EXPECTED = 9;

test(
  'analytics-js v3: load, page, track, identify, alias, reset, identify another user',
  { timeout: 60_000 },
  async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('console', (m) => log(`[console.${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => log(`[pageerror] ${e.stack || e}`));
    page.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith(server.url) && !url.startsWith(pages.url)) flow.outside.push(url);
    });
    page.on('requestfailed', (r) => {
      log(`[requestfailed] ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
      if (r.url().startsWith(server.url)) flow.failed.push(`${r.method()} ${r.url()} ${r.failure()?.errorText}`);
    });
    page.on('response', (r) => {
      log(`[response] ${r.status()} ${r.request().method()} ${r.url()}`);
      if (r.url().startsWith(server.url) && r.request().method() !== 'OPTIONS')
        flow.statuses.push([r.status(), r.url()]);
    });
    await page.goto(`${pages.url}/`, { timeout: 15_000 });
    flow.rs = await page.evaluate(
      async ({ url, writeKey }) => {
        const analytics = new window.rudderanalytics.RudderAnalytics();
        await new Promise((resolve) =>
          analytics.load(writeKey, url, {
            configUrl: url,
            logLevel: 'WARN',
            onLoaded: () => resolve(),
            // Nothing from a CDN: the bundled build carries its plugins; no error reporting.
            destSDKBaseURL: `${url}/no-destinations`,
            pluginsSDKBaseURL: `${url}/no-plugins`,
          }),
        );
        analytics.page();
        analytics.track('Clicked');
        const anon1 = analytics.getAnonymousId();
        analytics.identify('rs-user-1', { email: 'rs1@example.com' });
        analytics.track('Account Created');
        analytics.alias('rs-user-1-alias');
        analytics.track('after alias');
        analytics.reset();
        const anon2 = analytics.getAnonymousId();
        analytics.track('after reset');
        analytics.identify('rs-user-2');
        analytics.track('second user');
        return { anon1, anon2, user: analytics.getUserId() };
      },
      { url: server.url, writeKey: WRITE_KEY },
    );
    log(`[rs] ${JSON.stringify(flow.rs)}`);
    flow.events = await server.waitFor(
      async () => {
        const list = await server.allEvents({ project: WRITE_KEY });
        return list.length >= EXPECTED ? list : null;
      },
      30_000,
      { message: `${EXPECTED} analytics-js messages in /api/events` },
    );
    await context.close();
  },
);

test('analytics-js v3: every message stored once, as sent, offline', { timeout: 20_000 }, async () => {
  assert.ok(flow.events, 'flow did not run');
  const all = flow.events;
  assert.equal(all.length, EXPECTED, brief(all.map((e) => [e.event, e.distinct_id])));
  for (const e of all) assert.equal(e.source, 'rudderstack');
  for (const [id, n] of countBy(all, (e) => e.uuid)) assert.equal(n, 1, `messageId ${id} stored ${n} times`);
  const { anon1, anon2 } = flow.rs;
  assert.equal(anon2, anon1, 'a plain reset() keeps the anonymousId in v3');
  // The SDK's queue delivers concurrently: arrival order is not call order, so find each by id.
  const by = (name, id) => all.find((e) => e.event === name && (id === undefined || e.distinct_id === id));
  assert.equal(by('Clicked').distinct_id, anon1);
  assert.equal(by('Clicked').properties.userId, '', 'v3 sends userId "" on anonymous messages');
  assert.equal(by('identify', 'rs-user-1').properties.anonymousId, anon1);
  assert.equal(by('identify', 'rs-user-2').properties.anonymousId, anon1);
  const alias = by('alias');
  assert.deepEqual([alias.properties.userId, alias.properties.previousId], ['rs-user-1-alias', 'rs-user-1']);
  assert.equal(by('after alias').distinct_id, 'rs-user-1', 'alias() keeps the SDK user id');
  assert.equal(by('after reset').distinct_id, anon1, 'reset() cleared the user id');
  assert.equal(by('second user').distinct_id, 'rs-user-2');
  assert.deepEqual(flow.failed, [], 'no request to the inspector failed');
  for (const [status, url] of flow.statuses) assert.ok(status < 300, `${url} answered ${status}`);
  assert.deepEqual(flow.outside, [], 'no request left for another host');
});

test(
  'analytics-js v3: RudderStack stitching, lanes, and exactly the findings that are true',
  { timeout: 20_000 },
  async () => {
    assert.ok(flow.events, 'flow did not run');
    const { anon1 } = flow.rs;
    const u1 = await personOf(server, WRITE_KEY, 'rs-user-1');
    // The ID stitcher is a plain union: the shared anonymousId joins both users and the email.
    for (const id of [anon1, 'rs-user-2', 'rs1@example.com'])
      assert.ok(u1?.distinct_ids.includes(id), `${id} stitched to rs-user-1; ${brief(u1)}`);
    assert.equal(await personOf(server, WRITE_KEY, 'rs-user-1-alias'), null, 'an alias previousId is no edge');
    const devices = await lanes(server, WRITE_KEY);
    assert.equal(devices.length, 1, brief(devices));
    // Lanes follow the device's own clock (originalTimestamp), whatever the arrival order.
    const moves = devices[0].transitions.map((t) => `${t.kind}:${t.from}>${t.to}`);
    const trail = brief(devices[0].transitions);
    assert.ok(moves.includes(`identify:${anon1}>rs-user-1`), trail);
    // alias() leaves the SDK on its user id: the lane shows the alias as a marker on rs-user-1.
    assert.ok(moves.includes('alias:rs-user-1-alias>rs-user-1'), trail);
    assert.ok(!devices[0].segments.some((g) => g.distinct_id === 'rs-user-1-alias'), trail);
    // The SDK's queue sends concurrently, so the second user's identify may arrive before the
    // first user's messages; the lane then keeps that identify as it arrived and shows no switch.
    // Whatever the order, a switch is only ever rs-user-1 -> rs-user-2.
    for (const m of moves.filter((x) => x.startsWith('switch_without_reset')))
      assert.equal(m, 'switch_without_reset:rs-user-1>rs-user-2', trail);
    const found = await warnings(server, WRITE_KEY);
    const rules = found.map((w) => w.rule).sort();
    log(`[rs findings] ${JSON.stringify(rules)} ${trail}`);
    // userId "" raises no blocked_identifier_value; alias() is no missing reset; the two users
    // sharing the anonymousId after the plain reset() are reported, in words true of v3
    // (reset(true), the stitcher's rudder_id; never "without reset()" or Segment's rules). The
    // stitcher really joins the two users through that anonymousId, so distinct_users_merged is
    // true too, and it must name reset(true), not a plain reset().
    assert.ok(rules.includes('anonymous_id_with_many_user_ids'), brief(rules));
    const allowed = [
      'alias_after_identify',
      'anonymous_id_with_many_user_ids',
      'missing_reset_between_users',
      'distinct_users_merged',
    ];
    for (const w of found.filter((x) => x.rule === 'distinct_users_merged')) {
      assert.match(w.message, /rudder_id/, w.message);
      assert.ok(!/no reset\(\) /.test(w.message), w.message);
    }
    for (const r of rules) assert.ok(allowed.includes(r), `unexpected finding ${r}; ${brief(found)}`);
    for (const w of found) {
      assert.ok(!w.message.includes('without reset()'), w.message);
      assert.ok(!/Segment/.test(w.message), w.message);
    }
    const many = found.find((w) => w.rule === 'anonymous_id_with_many_user_ids');
    assert.deepEqual(
      [...many.distinct_ids].sort(),
      ['rs-user-1', 'rs-user-2'],
      'the alias is no user of the anonymousId',
    );
    assert.match(many.message, /rudder_id/);
    const missing = found.find((w) => w.rule === 'missing_reset_between_users');
    if (missing) {
      assert.deepEqual(missing.distinct_ids, ['rs-user-1', 'rs-user-2']);
      assert.match(missing.fix, /reset\(true\)/);
    }
  },
);
