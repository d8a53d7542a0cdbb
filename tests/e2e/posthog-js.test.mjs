// The real posthog-js browser bundle, in Debian's Chromium, on a page served from another origin,
// sending to the real inspector binary.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { before, test } from 'node:test';

import { posthogPage, posthogRoutes, withBrowserFlow } from './lib/browser.mjs';
import { artifactPath, countBy, firstSeqOrderViolation, headerValue, installWatchdog, toMs } from './lib/server.mjs';

installWatchdog(170_000);

const require = createRequire(import.meta.url);
const TOKEN = 'phc_e2e_js';
const POSTHOG_JS_VERSION = JSON.parse(readFileSync(require.resolve('posthog-js/package.json'), 'utf8')).version;

const PAGE = posthogPage(`posthog-js ${POSTHOG_JS_VERSION} → inspector`);

const harness = withBrowserFlow({
  label: 'posthog-js',
  routes: posthogRoutes(PAGE),
  browserLog: 'posthog-js-browser.log',
  beforeStop: (server) => server.dump('posthog-js-data').catch(() => {}),
});
const { log } = harness;
let server, pages, browser; // the harness's, from its `before` on
before(async () => ({ server, pages, browser } = await harness.ready()));
/** What the browser side saw, filled by the flow test. */
const flow = { captureResponses: [], failedRequests: [] };

test('posthog-js sends a whole identity flow to the inspector, page close included', { timeout: 60_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (m) => log(`[console.${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log(`[pageerror] ${e.stack || e}`));
  page.on('request', (r) => {
    if (r.url().startsWith(server.url)) log(`[request] ${r.method()} ${r.url()} ${r.headers()['content-type'] || ''}`);
  });
  page.on('requestfailed', (r) => {
    log(`[requestfailed] ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
    if (r.url().startsWith(server.url))
      flow.failedRequests.push({ url: r.url(), method: r.method(), error: r.failure()?.errorText });
  });
  page.on('response', (r) => {
    log(`[response] ${r.status()} ${r.request().method()} ${r.url()}`);
    const u = new URL(r.url());
    if (r.url().startsWith(server.url) && /^\/(e|i\/v0\/e|batch)\/?$/.test(u.pathname)) {
      flow.captureResponses.push({ url: r.url(), status: r.status() });
    }
  });

  const pageUrl = `${pages.url}/?token=${TOKEN}&api_host=${encodeURIComponent(server.url)}${process.env.E2E_DEBUG ? '&debug=1' : ''}`;
  log(`[goto] ${pageUrl}`);
  await page.goto(pageUrl, { timeout: 15_000 });
  await page.waitForFunction(() => window.__posthogLoaded === true, null, { timeout: 15_000 });
  // The initial $pageview is captured once the page is visible; wait for it so it stays anonymous.
  await page.waitForFunction(() => window.__captured.some((e) => e.event === '$pageview'), null, { timeout: 15_000 });

  flow.first = await page.evaluate(() => ({
    distinctId: window.posthog.get_distinct_id(),
    deviceId: window.posthog.get_property('$device_id'),
  }));
  log(`[state] first ${JSON.stringify(flow.first)}`);

  const result = await page.evaluate(() => {
    const ph = window.posthog;
    const uuids = {};
    uuids['viewed signup'] = ph.capture('viewed signup')?.uuid;
    ph.identify('user-42', { email: 'a@example.com' });
    uuids['Account Created'] = ph.capture('Account Created')?.uuid;
    ph.reset();
    const afterReset = { distinctId: ph.get_distinct_id(), deviceId: ph.get_property('$device_id') };
    uuids['after reset'] = ph.capture('after reset')?.uuid;
    ph.identify('user-43');
    ph.alias('alias-43');
    ph.group('company', 'acme');
    return { uuids, afterReset, final: { distinctId: ph.get_distinct_id(), deviceId: ph.get_property('$device_id') } };
  });
  Object.assign(flow, result);
  log(`[state] ${JSON.stringify(result)}`);

  // Everything the SDK captured so far must reach the inspector (batched, on its own schedule).
  flow.captured = await page.evaluate(() => window.__captured.slice());
  log(`[captured] ${JSON.stringify(flow.captured)}`);
  await server.waitFor(
    async () => {
      const uuids = new Set((await server.allEvents({ project: TOKEN })).map((e) => e.uuid));
      return flow.captured.every((c) => uuids.has(c.uuid));
    },
    30_000,
    {
      message: async () =>
        `all captured events in /api/events; have ${JSON.stringify((await server.allEvents({ project: TOKEN })).map((e) => e.event))}`,
    },
  );
  await page.screenshot({ path: artifactPath('posthog-js-page.png'), fullPage: true });

  // Closing the page fires pagehide/unload: posthog-js sends $pageleave with navigator.sendBeacon.
  await page.close({ runBeforeUnload: true });
  await server.waitFor(
    async () => (await server.allEvents({ project: TOKEN, event: '$pageleave' })).length > 0,
    20_000,
    { message: '$pageleave (sent by sendBeacon on page close) in /api/events' },
  );
  await context.close().catch(() => {});
});

async function events() {
  return server.allEvents({ project: TOKEN });
}

function one(list, predicate, what) {
  const found = list.filter(predicate);
  assert.equal(
    found.length,
    1,
    `expected exactly one ${what}, found ${found.length}: ${JSON.stringify(found.map((e) => [e.event, e.distinct_id, e.uuid]))}`,
  );
  return found[0];
}

test('no request from the page to the inspector failed, every capture answered 200', { timeout: 10_000 }, () => {
  assert.ok(flow.captured, 'flow did not run');
  assert.deepEqual(flow.failedRequests, [], 'browser requests to the inspector failed (CORS or network)');
  assert.ok(flow.captureResponses.length > 0, 'the page made no capture request that the browser saw');
  for (const r of flow.captureResponses) assert.equal(r.status, 200, `capture ${r.url} answered ${r.status}`);
});

test('every event the SDK captured arrived exactly once, by uuid and by name', { timeout: 15_000 }, async () => {
  assert.ok(flow.captured, 'flow did not run');
  const all = await events();
  const byUuid = countBy(all, (e) => e.uuid);
  for (const [uuid, n] of byUuid) assert.equal(n, 1, `uuid ${uuid} stored ${n} times`);
  for (const c of flow.captured)
    assert.equal(byUuid.get(c.uuid), 1, `captured ${c.event} (${c.uuid}) stored ${byUuid.get(c.uuid) ?? 0} times`);
  for (const [name, uuid] of Object.entries(flow.uuids)) {
    assert.ok(uuid, `posthog.capture('${name}') returned no uuid`);
    const named = all.filter((e) => e.event === name);
    assert.equal(named.length, 1, `"${name}" stored ${named.length} times`);
    assert.equal(named[0].uuid, uuid, `"${name}" stored with another uuid`);
  }
  const byName = countBy(all, (e) => e.event);
  assert.equal(byName.get('$pageview'), 1, '$pageview count');
  assert.equal(byName.get('$identify'), 2, '$identify count');
  assert.equal(byName.get('$create_alias'), 1, '$create_alias count');
  assert.equal(byName.get('$groupidentify'), 1, '$groupidentify count');
  assert.equal(byName.get('$pageleave'), 1, '$pageleave count');
  for (const e of all) {
    assert.equal(e.project, TOKEN, `event ${e.uuid} project`);
    assert.equal(typeof e.source, 'string', `event ${e.uuid} source`);
    assert.ok(e.source.length > 0, `event ${e.uuid} has an empty source`);
  }
});

test(
  'anonymous events, $identify and $anon_distinct_id tie to the first anonymous id = $device_id',
  { timeout: 15_000 },
  async () => {
    assert.ok(flow.first, 'flow did not run');
    const { distinctId: anon1, deviceId } = flow.first;
    assert.ok(anon1, 'no anonymous distinct id in the browser');
    assert.equal(anon1, deviceId, 'posthog-js: first anonymous distinct id should equal $device_id');
    const all = await events();

    const pageview = one(all, (e) => e.event === '$pageview', '$pageview');
    assert.equal(pageview.distinct_id, anon1, '$pageview distinct_id');
    const signup = one(all, (e) => e.event === 'viewed signup', '"viewed signup"');
    assert.equal(signup.distinct_id, anon1, '"viewed signup" distinct_id');

    const identify = one(all, (e) => e.event === '$identify' && e.distinct_id === 'user-42', '$identify for user-42');
    assert.equal(identify.properties.$anon_distinct_id, anon1, '$identify user-42 $anon_distinct_id');
    assert.equal(identify.properties.$device_id, deviceId, '$identify user-42 $device_id');
    assert.equal(
      identify.properties.$set?.email,
      'a@example.com',
      '$identify user-42 $set.email (sent top-level by posthog-js)',
    );

    const created = one(all, (e) => e.event === 'Account Created', '"Account Created"');
    assert.equal(created.distinct_id, 'user-42', '"Account Created" distinct_id');

    for (const e of all) {
      assert.equal(e.properties.$device_id, deviceId, `${e.event} ${e.uuid} properties.$device_id`);
      assert.equal(e.device_id, deviceId, `${e.event} ${e.uuid}: API device_id should be the event's $device_id`);
      if (e.properties.$session_id)
        assert.equal(e.session_id, e.properties.$session_id, `${e.event} ${e.uuid}: API session_id`);
    }
  },
);

test(
  'after reset(): a new anonymous distinct id, the same $device_id; then identify, alias, group',
  { timeout: 15_000 },
  async () => {
    assert.ok(flow.afterReset, 'flow did not run');
    const anon1 = flow.first.distinctId;
    const anon2 = flow.afterReset.distinctId;
    assert.notEqual(anon2, anon1, 'reset() should give a new anonymous id');
    assert.notEqual(anon2, 'user-42');
    assert.equal(flow.afterReset.deviceId, flow.first.deviceId, 'reset() keeps $device_id in the browser');
    const all = await events();

    const afterReset = one(all, (e) => e.event === 'after reset', '"after reset"');
    assert.equal(afterReset.distinct_id, anon2, '"after reset" distinct_id');
    assert.equal(afterReset.properties.$device_id, flow.first.deviceId, '"after reset" $device_id unchanged');

    const identify43 = one(all, (e) => e.event === '$identify' && e.distinct_id === 'user-43', '$identify for user-43');
    assert.equal(identify43.properties.$anon_distinct_id, anon2, '$identify user-43 $anon_distinct_id');

    const alias = one(all, (e) => e.event === '$create_alias', '$create_alias');
    assert.equal(alias.properties.alias, 'alias-43', '$create_alias properties.alias');
    assert.equal(alias.distinct_id, 'user-43', '$create_alias distinct_id');

    const group = one(all, (e) => e.event === '$groupidentify', '$groupidentify');
    assert.equal(group.properties.$group_type, 'company');
    assert.equal(group.properties.$group_key, 'acme');
    assert.equal(group.distinct_id, 'user-43', '$groupidentify distinct_id');

    const leave = one(all, (e) => e.event === '$pageleave', '$pageleave');
    assert.equal(leave.distinct_id, 'user-43', '$pageleave distinct_id');
    // It came from navigator.sendBeacon on page close (beacons are sent in no-cors mode; posthog-js's
    // fetch/XHR requests are cors).
    const { request: beacon } = await server.api(`/api/requests/${leave.request_id}`);
    log(`[beacon request] ${JSON.stringify(beacon)}`);
    assert.equal(beacon.method, 'POST');
    assert.equal(headerValue(beacon.headers, 'sec-fetch-mode'), 'no-cors', '$pageleave was sent by sendBeacon');
    assert.ok(beacon.event_uuids.includes(leave.uuid), 'the request detail lists the $pageleave uuid');
  },
);

test('timestamps are close to now and received_at is set', { timeout: 15_000 }, async () => {
  const now = Date.now();
  const all = await events();
  assert.ok(all.length >= 9, `expected at least 9 events, got ${all.length}`);
  for (const e of all) {
    const ts = toMs(e.timestamp);
    const rx = toMs(e.received_at);
    assert.ok(Number.isFinite(ts), `${e.event} ${e.uuid}: timestamp ${JSON.stringify(e.timestamp)} does not parse`);
    assert.ok(Number.isFinite(rx), `${e.event} ${e.uuid}: received_at ${JSON.stringify(e.received_at)} does not parse`);
    assert.ok(Math.abs(now - ts) < 60_000, `${e.event}: timestamp ${e.timestamp} is not within a minute of now`);
    assert.ok(Math.abs(now - rx) < 60_000, `${e.event}: received_at ${e.received_at} is not within a minute of now`);
  }
});

test(
  '/api/events is newest first (seq strictly decreasing), across projects and pages',
  { timeout: 15_000 },
  async () => {
    for (const list of [await events(), await server.allEvents({}), await server.allEvents({ limit: 2 })]) {
      const bad = firstSeqOrderViolation(list);
      assert.equal(bad, null, `seq not strictly decreasing: ${JSON.stringify(bad?.map((e) => [e.seq, e.event]))}`);
    }
    const paged = await server.allEvents({ project: TOKEN, limit: 3 });
    const whole = await events();
    assert.deepEqual(
      paged.map((e) => e.uuid),
      whole.map((e) => e.uuid),
      'paging with limit=3 gives the same list',
    );
  },
);

test('/api/requests lists every request the page made, GETs without a body included', { timeout: 15_000 }, async () => {
  const all = await events();
  // The unfiltered list and the accepted list: posthog-js also GETs /array/<token>/config.js (no body).
  for (const query of [{}, { outcome: 'accepted' }]) {
    const requests = await server.allRequests(query);
    const ids = new Set(requests.map((r) => r.id));
    for (const e of all)
      assert.ok(
        ids.has(e.request_id),
        `request ${e.request_id} of ${e.event} missing from /api/requests?${new URLSearchParams(query)}`,
      );
  }
});

test('/api/projects lists the token with its event count; nothing was rejected', { timeout: 15_000 }, async () => {
  const all = await events();
  const { projects } = await server.api('/api/projects');
  const p = projects.filter((x) => x.project === TOKEN);
  assert.equal(p.length, 1, `projects: ${JSON.stringify(projects)}`);
  assert.equal(p[0].events, all.length, 'project event count');
  const { requests } = await server.api('/api/requests?outcome=rejected');
  assert.deepEqual(requests, [], 'rejected requests');
});

test(
  'events still queued when the tab closes are delivered by the unload beacon, once',
  { timeout: 45_000 },
  async () => {
    const token = 'phc_e2e_js_unload';
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('console', (m) => log(`[unload console.${m.type()}] ${m.text()}`));
    await page.goto(`${pages.url}/?token=${token}&api_host=${encodeURIComponent(server.url)}`, { timeout: 15_000 });
    await page.waitForFunction(() => window.__posthogLoaded === true, null, { timeout: 15_000 });
    // Captured and closed at once: the batch (flushed every few seconds) has not gone out yet.
    const uuids = await page.evaluate(() => [
      window.posthog.capture('last words', { n: 1 })?.uuid,
      window.posthog.capture('last words', { n: 2 })?.uuid,
    ]);
    await page.close({ runBeforeUnload: true });
    const stored = await server.waitFor(
      async () => {
        const all = await server.allEvents({ project: token });
        return all.some((e) => e.event === '$pageleave') && uuids.every((u) => all.some((e) => e.uuid === u)) && all;
      },
      20_000,
      {
        message: async () =>
          `"last words" x2 and $pageleave for ${token}; have ${JSON.stringify((await server.allEvents({ project: token })).map((e) => e.event))}`,
      },
    );
    await context.close().catch(() => {});
    for (const [uuid, n] of countBy(stored, (e) => e.uuid)) assert.equal(n, 1, `uuid ${uuid} stored ${n} times`);
    assert.deepEqual(
      stored
        .filter((e) => e.event === 'last words')
        .map((e) => e.properties.n)
        .sort(),
      [1, 2],
      'each queued event exactly once',
    );
    const { requests } = await server.api('/api/requests?outcome=rejected');
    assert.deepEqual(requests, [], 'rejected requests');
  },
);
