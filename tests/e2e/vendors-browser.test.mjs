// The real browser SDKs of Segment (@segment/analytics-next) and Mixpanel (mixpanel-browser) in
// Debian's Chromium, on a page served from another origin, sending to the real inspector binary.
// analytics-next is loaded with the inspector as its CDN: it fetches its settings from
// /v1/projects/<writeKey>/settings, whose reply names the inspector as its API host.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { before, test } from 'node:test';

import { withBrowserFlow } from './lib/browser.mjs';
import { brief, dumpIdentity, lanes, personOf, warnings } from './lib/identity.mjs';
import { artifactPath, countBy, installWatchdog } from './lib/server.mjs';

installWatchdog(170_000);

const require = createRequire(import.meta.url);
const pkgDir = (name) => path.dirname(require.resolve(`${name}/package.json`));
const AJS_BUNDLE = path.join(pkgDir('@segment/analytics-next'), 'dist', 'umd', 'index.js');
const MP_BUNDLE = path.join(pkgDir('mixpanel-browser'), 'dist', 'mixpanel.umd.js');
const WRITE_KEY = 'wk_e2e_ajs_browser';
const MP_TOKEN = 'mp_e2e_browser';

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>vendors → inspector</title></head>
<body><h1>Segment and Mixpanel browser SDKs → inspector</h1>
<script src="/analytics-next.js"></script><script src="/mixpanel.js"></script></body></html>`;

const harness = withBrowserFlow({
  label: 'vendors-browser',
  routes: {
    '/': { type: 'text/html; charset=utf-8', body: PAGE },
    '/analytics-next.js': () => ({ type: 'application/javascript', body: readFileSync(AJS_BUNDLE) }),
    '/mixpanel.js': () => ({ type: 'application/javascript', body: readFileSync(MP_BUNDLE) }),
    '/favicon.ico': { type: 'image/x-icon', body: '' },
  },
  browserLog: 'vendors-browser.log',
  beforeStop: async (server) => {
    await dumpIdentity(server, WRITE_KEY, 'vendors-browser-segment-model').catch(() => {});
    await dumpIdentity(server, MP_TOKEN, 'vendors-browser-mixpanel-model').catch(() => {});
    await server.dump('vendors-browser-data').catch(() => {});
  },
});
const { log } = harness;
let server, pages, browser; // the harness's, from its `before` on
before(async () => ({ server, pages, browser } = await harness.ready()));
const flow = { failed: [], statuses: [] };

async function openPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (m) => log(`[console.${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log(`[pageerror] ${e.stack || e}`));
  page.on('requestfailed', (r) => {
    log(`[requestfailed] ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
    if (r.url().startsWith(server.url)) flow.failed.push(`${r.method()} ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    log(`[response] ${r.status()} ${r.request().method()} ${r.url()}`);
    if (r.url().startsWith(server.url) && r.request().method() !== 'OPTIONS') flow.statuses.push([r.status(), r.url()]);
  });
  await page.goto(`${pages.url}/`, { timeout: 15_000 });
  return { context, page };
}

test(
  'analytics-next: page, identify, track, reset, track, alias reach the inspector through its own settings',
  { timeout: 60_000 },
  async () => {
    const { context, page } = await openPage();
    flow.ajs = await page.evaluate(
      async ({ cdn, writeKey }) => {
        const [analytics] = await window.AnalyticsNext.AnalyticsBrowser.load({ writeKey, cdnURL: cdn });
        const ids = {};
        const keep = async (name, p) => {
          ids[name] = (await p).event.messageId;
        };
        await keep('page', analytics.page());
        const anon1 = analytics.user().anonymousId();
        await keep('identify', analytics.identify('ajs-user-1', { email: 'ajs1@example.com' }));
        await keep('signup', analytics.track('Account Created'));
        analytics.reset();
        const anon2 = analytics.user().anonymousId();
        await keep('after_reset', analytics.track('after reset'));
        await keep('alias', analytics.alias('ajs-user-2'));
        return { ids, anon1, anon2 };
      },
      { cdn: server.url, writeKey: WRITE_KEY },
    );
    log(`[ajs] ${JSON.stringify(flow.ajs)}`);
    await page.screenshot({ path: artifactPath('vendors-browser-page.png') });
    await context.close();
    const ids = Object.values(flow.ajs.ids);
    await server.waitFor(
      async () => {
        const stored = new Set((await server.allEvents({ project: WRITE_KEY })).map((e) => e.uuid));
        return ids.every((id) => stored.has(id));
      },
      20_000,
      { message: 'every analytics-next messageId in /api/events' },
    );
  },
);

test(
  'analytics-next: each message stored once as sent, by messageId, with anonymousId and userId',
  { timeout: 20_000 },
  async () => {
    assert.ok(flow.ajs, 'flow did not run');
    const all = await server.allEvents({ project: WRITE_KEY });
    assert.equal(all.length, 5, `5 messages; ${brief(all.map((e) => [e.event, e.distinct_id]))}`);
    for (const [id, n] of countBy(all, (e) => e.uuid)) assert.equal(n, 1, `messageId ${id} stored ${n} times`);
    const by = (name) => all.find((e) => e.uuid === flow.ajs.ids[name]);
    const { anon1, anon2 } = flow.ajs;
    assert.notEqual(anon1, anon2, 'reset() made a new anonymousId');
    assert.deepEqual([by('page').event, by('page').distinct_id, by('page').source], ['page', anon1, 'segment']);
    assert.deepEqual(
      [by('identify').event, by('identify').distinct_id, by('identify').properties.anonymousId],
      ['identify', 'ajs-user-1', anon1],
    );
    assert.deepEqual([by('signup').event, by('signup').distinct_id], ['Account Created', 'ajs-user-1']);
    assert.deepEqual(
      [by('after_reset').distinct_id, by('after_reset').properties.userId ?? null],
      [anon2, null],
      'reset cleared the user id',
    );
    assert.equal(by('alias').properties.previousId, anon2, 'alias previousId defaults to the current (anonymous) id');
    assert.match(String(by('page').properties.context?.userAgent), /Chrome/);
    assert.deepEqual(flow.failed, [], 'no request to the inspector failed');
  },
);

test(
  'analytics-next: one profile per user, alias links nothing, the browser lane continues across reset, no missing-reset finding',
  { timeout: 20_000 },
  async () => {
    assert.ok(flow.ajs, 'flow did not run');
    const { anon1, anon2 } = flow.ajs;
    const u1 = await personOf(server, WRITE_KEY, 'ajs-user-1');
    assert.ok(u1?.distinct_ids.includes(anon1), `identify linked the first anonymousId; ${brief(u1)}`);
    // "Alias calls can't be used to merge profiles in Unify" (Segment Spec: Alias): alias('ajs-user-2')
    // links nothing, so the new anonymousId stays a profile of its own.
    assert.equal(await personOf(server, WRITE_KEY, 'ajs-user-2'), null, 'alias links nothing in Unify');
    const a2 = await personOf(server, WRITE_KEY, anon2);
    assert.ok(a2 && a2.id !== u1.id, `reset() kept the users apart; ${brief(a2)}`);
    const rules = (await warnings(server, WRITE_KEY)).map((w) => w.rule);
    assert.ok(!rules.includes('missing_reset_between_users'), `reset() was called; ${brief(rules)}`);
    const devices = await lanes(server, WRITE_KEY);
    assert.ok(devices.length >= 1, 'the browser has a lane');
  },
);

test(
  'mixpanel-browser: track, identify, people.set, reset; $device: ids, $insert_id dedup, one cluster per user',
  { timeout: 60_000 },
  async () => {
    const { context, page } = await openPage();
    flow.mp = await page.evaluate(async (apiHost) => {
      const mp = window.mixpanel;
      await new Promise((resolve) =>
        mp.init('mp_e2e_browser', { api_host: apiHost, loaded: resolve, batch_flush_interval_ms: 100 }),
      );
      const anon1 = mp.get_distinct_id();
      const device1 = mp.get_property('$device_id');
      mp.track('viewed signup');
      mp.identify('mp-user-1');
      mp.people.set({ $email: 'mp1@example.com' });
      mp.track('Account Created');
      mp.reset();
      const anon2 = mp.get_distinct_id();
      mp.track('after reset');
      await new Promise((r) => setTimeout(r, 1500));
      return { anon1, device1, anon2 };
    }, server.url);
    log(`[mp] ${JSON.stringify(flow.mp)}`);
    await context.close();
    const all = await server.waitFor(
      async () => {
        const list = await server.allEvents({ project: MP_TOKEN });
        return list.some((e) => e.event === 'after reset') && list.some((e) => e.event === '$engage') ? list : null;
      },
      20_000,
      { message: 'mixpanel-browser events in /api/events' },
    );
    for (const e of all) assert.equal(e.source, 'mixpanel');
    for (const [id, n] of countBy(all, (e) => e.uuid)) assert.equal(n, 1, `$insert_id ${id} stored ${n} times`);
    assert.match(flow.mp.anon1, /^\$device:/);
    const first = all.find((e) => e.event === 'viewed signup');
    assert.deepEqual([first.distinct_id, first.device_id], [flow.mp.anon1, flow.mp.device1]);
    const signup = all.find((e) => e.event === 'Account Created');
    assert.deepEqual([signup.distinct_id, signup.properties.$user_id], ['mp-user-1', 'mp-user-1']);
    const u1 = await personOf(server, MP_TOKEN, 'mp-user-1');
    assert.ok(u1?.distinct_ids.includes(flow.mp.anon1), `the $device: id joined mp-user-1; ${brief(u1)}`);
    assert.equal(u1.properties.$email, 'mp1@example.com', 'people.set reached the cluster');
    const after = await personOf(server, MP_TOKEN, flow.mp.anon2);
    assert.ok(!after || after.id !== u1.id, 'after reset() the new $device: id is not mp-user-1');
    assert.deepEqual(flow.failed, [], 'no request to the inspector failed');
    for (const [status, url] of flow.statuses) assert.equal(status, 200, `${url} answered ${status}`);
  },
);

test(
  'the inspector UI: source badges and the source filter on events, and the vendor lens as the API gives it',
  { timeout: 45_000 },
  async () => {
    assert.ok(flow.ajs && flow.mp, 'flows did not run');
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => log(`[ui pageerror] ${e.stack || e}`));

    // Events of every source, then only Mixpanel's through the filter chips.
    await page.goto(`${server.url}/#/events`, { timeout: 15_000 });
    const filter = page.getByTestId('source-filter');
    await filter.waitFor({ timeout: 15_000 });
    const badges = async () =>
      new Set(await page.locator('[data-testid=source-badge]').evaluateAll((els) => els.map((e) => e.dataset.source)));
    await server.waitFor(async () => (await badges()).has('mixpanel') && (await badges()).has('segment'), 10_000, {
      message: 'badges of both sources',
    });
    await filter.locator('[data-source=mixpanel]').click();
    await server.waitFor(
      async () => {
        const b = await badges();
        return b.has('mixpanel') && !b.has('segment');
      },
      10_000,
      {
        message: async () => `only mixpanel badges after filtering; have ${[...(await badges())]}`,
      },
    );
    assert.match(page.url(), /source=mixpanel/, 'the filter is kept in the URL');

    // The lens of the Segment project: the columns and disagreements the API gives, drawn.
    const lens = await server.api(`/api/lens?project=${WRITE_KEY}`);
    await page.goto(`${server.url}/#/lens?project=${WRITE_KEY}`);
    await page.getByTestId('lens-view').waitFor({ timeout: 15_000 });
    await page.locator('[data-testid=lens-column]').nth(2).waitFor({ timeout: 15_000 });
    for (const v of lens.vendors) {
      const drawn = await page.locator(`[data-testid=lens-cluster][data-vendor=${v.vendor}]`).count();
      assert.equal(drawn, v.clusters.length, `${v.vendor}: clusters drawn`);
    }
    assert.equal(
      await page.locator('[data-testid=lens-disagreement]').count(),
      lens.disagreements.length,
      'every disagreement drawn',
    );
    if (lens.disagreements.length === 0)
      assert.equal(await page.getByTestId('lens-agree').count(), 1, 'agreement said plainly');
    await page.screenshot({ path: artifactPath('vendors-lens-view.png'), fullPage: true });
    await context.close();
  },
);
