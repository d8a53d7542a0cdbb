// The inspector's UI end to end: the real server (UI embedded in the binary), the real posthog-js
// in one Chromium context, the UI in another. posthog-js goes through
//   identify(user-a) → $set → reset() → identify(user-b) → alias('user-a') (refused) → identify(user-c) without reset
// and the test checks what each view shows: the start page flipping when traffic arrives, the
// live events table (a new event and a rejected request appear without reload), the device lane
// with its segments, markers and the switch without reset, the person graph with its refused
// merge, and the warnings. Screenshots of every view land in tests/artifacts/ui-*.png.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { posthogPage, posthogRoutes, withBrowserFlow } from './lib/browser.mjs';
import { artifactPath, installWatchdog } from './lib/server.mjs';

installWatchdog(280_000);

const TOKEN = 'phc_e2e_ui';
const VIEWPORT = { width: 1440, height: 900 };

const harness = withBrowserFlow({
  label: 'ui',
  routes: posthogRoutes(posthogPage('UI flows')),
  browserLog: 'ui-browser.log',
  beforeStop: (server) => server.dump('ui-data').catch(() => {}),
});
const { log } = harness;
let server, pages, browser; // the harness's, from its `before` on
let sdk; // the posthog-js page
let ui; // the inspector UI page
const flow = {};

before(async () => {
  ({ server, pages, browser } = await harness.ready());
  const uiContext = await browser.newContext({ viewport: VIEWPORT, colorScheme: 'light' });
  ui = await uiContext.newPage();
  ui.on('console', (m) => log(`[ui] [console.${m.type()}] ${m.text()}`));
  ui.on('pageerror', (e) => log(`[ui] [pageerror] ${e.stack || e}`));
});

const stored = async (query) => server.allEvents({ project: TOKEN, ...query });
const waitStored = (what, query, n = 1) =>
  server.waitFor(async () => (await stored(query)).length >= n, 20_000, { message: `${what} in /api/events` });
const shot = (name) => ui.screenshot({ path: artifactPath(`ui-${name}.png`) });
const goto = async (hash) => {
  await ui.goto(`${server.url}/${hash}`);
  await ui.waitForLoadState('domcontentloaded');
};
const count = (selector) => ui.locator(selector).count();

test(
  'start view: the capture URL, SDK snippets with it, and "waiting" until traffic arrives',
  { timeout: 30_000 },
  async () => {
    await goto('#/');
    await ui.getByTestId('capture-url').waitFor();
    assert.equal(await ui.getByTestId('capture-url').textContent(), server.url);
    assert.equal(await ui.getByTestId('traffic-status').getAttribute('data-state'), 'waiting');
    const tabs = [
      'posthog-js (browser)',
      'posthog-node',
      'posthog (python)',
      'Segment analytics-next (browser)',
      'Segment analytics-node',
      'Segment (python)',
      'RudderStack (python)',
      'Mixpanel (browser)',
      'Mixpanel (python)',
      'KISSmetrics (_kmq calls as the JS library sends them)',
      'KISSmetrics (python)',
    ];
    assert.equal(await ui.getByTestId('snippet-tab').count(), tabs.length, 'a setup snippet per supported SDK');
    for (const tab of tabs) {
      await ui.getByRole('tab', { name: tab }).click();
      assert.ok(
        (await ui.getByTestId('snippet-code').textContent()).includes(server.url),
        `${tab} snippet names the capture URL`,
      );
    }
    await ui.getByRole('tab', { name: 'posthog-js (browser)' }).click();
    await shot('start-waiting');
  },
);

test(
  'posthog-js: identify → $set → reset → identify → refused alias → switch without reset; the start view flips live',
  { timeout: 90_000 },
  async () => {
    const context = await browser.newContext();
    sdk = await context.newPage();
    sdk.on('console', (m) => log(`[sdk] [console.${m.type()}] ${m.text()}`));
    sdk.on('pageerror', (e) => log(`[sdk] [pageerror] ${e.stack || e}`));
    await sdk.goto(`${pages.url}/?token=${TOKEN}&api_host=${encodeURIComponent(server.url)}`, { timeout: 15_000 });
    await sdk.waitForFunction(() => window.__posthogLoaded === true, null, { timeout: 15_000 });
    await sdk.waitForFunction(() => window.__captured.some((e) => e.event === '$pageview'), null, { timeout: 15_000 });
    await waitStored('the anonymous $pageview', { event: '$pageview' });

    // The UI's start page, opened before any traffic, flips without a reload.
    await ui.waitForFunction(
      () => document.querySelector('[data-testid="traffic-status"]')?.getAttribute('data-state') === 'receiving',
      null,
      {
        timeout: 15_000,
      },
    );
    await shot('start');

    // Each step waits for its $identify to be stored, so arrival order is the order of the script,
    // and steps are a second or so apart, as a person clicking through would be (client time).
    const step = async (fn) => {
      const out = await sdk.evaluate(fn);
      await sdk.waitForTimeout(1200);
      return out;
    };
    Object.assign(
      flow,
      await step(() => {
        const ph = window.posthog;
        const s = { anon1: ph.get_distinct_id(), deviceId: ph.get_property('$device_id') };
        ph.identify('user-a', { email: 'a@example.com' });
        ph.capture('a did something');
        return s;
      }),
    );
    await waitStored("user-a's $identify", { event: '$identify' });
    await step(() => window.posthog.setPersonProperties({ plan: 'pro' }));
    Object.assign(
      flow,
      await step(() => {
        const ph = window.posthog;
        ph.reset();
        const anon2 = ph.get_distinct_id();
        ph.capture('anonymous again');
        return { anon2 };
      }),
    );
    await step(() => {
      window.posthog.identify('user-b', { email: 'b@example.com' });
      window.posthog.capture('b did something');
    });
    await waitStored("user-b's $identify", { event: '$identify' }, 2);
    await step(() => window.posthog.alias('user-a')); // user-a's person is identified: PostHog refuses this merge
    await step(() => {
      window.posthog.identify('user-c'); // another user, no reset(): the classic logout bug
      window.posthog.capture('c did something');
    });
    // user-a also logs in on a second browser (another device): same person, same colour.
    const phone = await (await browser.newContext()).newPage();
    await phone.goto(`${pages.url}/?token=${TOKEN}&api_host=${encodeURIComponent(server.url)}`, { timeout: 15_000 });
    await phone.waitForFunction(() => window.__posthogLoaded === true, null, { timeout: 15_000 });
    await phone.waitForTimeout(800);
    flow.secondDevice = await phone.evaluate(() => {
      window.posthog.identify('user-a');
      window.posthog.capture('a on the second device');
      return window.posthog.get_property('$device_id');
    });
    const captured = [
      ...(await sdk.evaluate(() => window.__captured.slice())),
      ...(await phone.evaluate(() => window.__captured.slice())),
    ];
    await server.waitFor(
      async () => {
        const have = new Set((await stored({})).map((e) => e.uuid));
        return captured.every((c) => have.has(c.uuid));
      },
      30_000,
      { message: 'every event posthog-js captured, stored' },
    );
    await phone.context().close();
    assert.ok(flow.anon1 && flow.anon2 && flow.deviceId, `ids from the browser: ${JSON.stringify(flow)}`);
    log(`[flow] ${JSON.stringify(flow)}`);
  },
);

test(
  'events view: rows newest first, detail with the identity decision, live rows and rejected requests without reload',
  { timeout: 60_000 },
  async () => {
    await goto(`#/events?project=${TOKEN}`);
    await ui.getByTestId('event-row').first().waitFor();
    const names = await ui
      .locator('[data-testid="event-row"]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event')));
    assert.ok(names.includes('$identify') && names.includes('$pageview'), `rows: ${names}`);

    await ui.locator('[data-testid="event-row"][data-event="$identify"]').last().click();
    const detail = ui.getByTestId('event-detail');
    await detail.getByTestId('event-decision').first().waitFor();
    const decision = await detail.getByTestId('event-decision').first().textContent();
    assert.match(decision, /user-a/, `the first identify's decision names user-a: ${decision}`);
    await detail.getByTestId('event-request').waitFor();
    assert.match(await detail.getByTestId('event-request').textContent(), /user-agent/i, 'original headers shown');
    await shot('events-detail');

    // Live: an event captured now appears without a reload…
    await sdk.evaluate(() => window.posthog.capture('live event from the test'));
    await ui.locator('[data-testid="event-row"][data-event="live event from the test"]').waitFor({ timeout: 20_000 });
    // …and so does a request the inspector refuses, in red, with its reason.
    const res = await fetch(`${server.url}/e/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: TOKEN, event: 'no id' }),
    });
    assert.equal(res.status, 400);
    await goto('#/events');
    const rejected = ui.locator('[data-testid="event-row"][data-rejected="true"]').first();
    await rejected.waitFor({ timeout: 20_000 });
    assert.match(await rejected.textContent(), /distinct_id/);
    await rejected.click();
    await ui.getByTestId('event-detail').getByText('Why it was refused').waitFor();

    // Filters live in the URL and narrow the table (typed in the filter box or given in the URL).
    const rowEvents = () =>
      ui.locator('[data-testid="event-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event')));
    await goto(`#/events?project=${TOKEN}`);
    await ui.getByTestId('filter-event').fill('$identify');
    await ui.waitForFunction(() => location.hash.includes('event=%24identify'));
    await server.waitFor(async () => (await rowEvents()).every((e) => e === '$identify'), 10_000, {
      message: async () => `only $identify rows: ${await rowEvents()}`,
    });
    assert.equal((await rowEvents()).length, (await stored({ event: '$identify' })).length, 'every $identify event');
    await goto(`#/events?project=${TOKEN}&q=live%20event`);
    await server.waitFor(async () => (await rowEvents()).join() === 'live event from the test', 10_000, {
      message: async () => `free text finds exactly the live event: ${await rowEvents()}`,
    });
    await goto(`#/events?project=${TOKEN}`);
    await ui.getByTestId('event-row').first().waitFor();
    await shot('events');
  },
);

test(
  'devices view: a lane per browser, segments per id, identify/reset/set/session markers, the switch without reset',
  { timeout: 60_000 },
  async () => {
    await goto(`#/devices?project=${TOKEN}`);
    const lane = ui.locator(`[data-testid="device-lane"][data-device-id="${flow.deviceId}"]`);
    await lane.waitFor({ timeout: 15_000 });
    assert.equal(await count('[data-testid="device-lane"]'), 2, 'two browsers, two lanes');

    const segments = await lane
      .locator('[data-testid="lane-segment"]')
      .evaluateAll((els) => els.map((e) => [e.getAttribute('data-distinct-id'), e.getAttribute('data-identified')]));
    assert.deepEqual(
      segments,
      [
        [flow.anon1, 'false'],
        ['user-a', 'true'],
        [flow.anon2, 'false'],
        ['user-b', 'true'],
        ['user-c', 'true'],
      ],
      'segments in the order the device used them, anonymous ones marked',
    );
    const kinds = await lane
      .locator('[data-testid="lane-marker"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
    const countOf = (k) => kinds.filter((x) => x === k).length;
    assert.equal(countOf('identify'), 2, `two identify markers: ${kinds}`);
    assert.equal(countOf('reset'), 1, `one reset marker: ${kinds}`);
    assert.ok(countOf('session') >= 1, `a session start: ${kinds}`);
    assert.ok(countOf('set') >= 1, `a $set marker: ${kinds}`);
    assert.ok(
      kinds.every((k) => ['identify', 'alias', 'reset', 'set', 'session'].includes(k)),
      `only contract kinds: ${kinds}`,
    );
    assert.equal(await lane.getByTestId('lane-switch').count(), 1, 'the switch from user-b to user-c is drawn');
    const personColours = await lane
      .locator('[data-testid="lane-segment"] rect:first-of-type')
      .evaluateAll((els) => els.map((e) => e.getAttribute('fill')));
    assert.notEqual(personColours[1], personColours[3], 'user-a and user-b have different colours');
    const second = ui.locator(`[data-testid="device-lane"][data-device-id="${flow.secondDevice}"]`);
    const secondA = second.locator('[data-testid="lane-segment"][data-distinct-id="user-a"] rect:first-of-type');
    assert.equal(await secondA.getAttribute('fill'), personColours[1], 'user-a has the same colour on both devices');
    await shot('devices');

    // A marker shows its explanation; the switch explains the missing reset.
    // (Markers of a fast script sit a few pixels apart: click them as a keyboard user would.)
    await lane.locator('[data-testid="lane-marker"][data-kind="reset"]').dispatchEvent('click');
    await ui.getByTestId('lane-explanation').waitFor();
    assert.match(await ui.getByTestId('lane-explanation').textContent(), /anonymous|reset/i);
    await lane.getByTestId('lane-switch').dispatchEvent('click');
    await ui.waitForFunction(() =>
      /user-c/.test(document.querySelector('[data-testid="lane-explanation"]')?.textContent ?? ''),
    );
    await shot('devices-switch');
    // The README's picture: the lanes and the switch's explanation, without the empty space below.
    await ui.screenshot({
      path: artifactPath('ui-devices-readme.png'),
      clip: { x: 0, y: 0, width: VIEWPORT.width, height: 600 },
    });

    // The selection is in the URL: a reload shows the same thing.
    await ui.reload();
    await ui.getByTestId('lane-explanation').waitFor();
    assert.match(await ui.getByTestId('lane-explanation').textContent(), /user-c/);

    // Arrival order keeps the same lanes and segments.
    await ui.getByTestId('axis-arrival').click();
    await ui.waitForFunction(() => location.hash.includes('order=arrival'));
    assert.equal(await lane.locator('[data-testid="lane-segment"]').count(), 5);

    // Dark theme.
    await ui.getByTestId('axis-time').click();
    await ui.getByTestId('theme-toggle').click();
    assert.equal(await ui.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await shot('devices-dark');
    await ui.getByTestId('theme-toggle').click();
  },
);

test(
  'persons: the list finds user-b; its page draws the id graph with the identify edge and the refused alias',
  { timeout: 60_000 },
  async () => {
    await goto(`#/persons?project=${TOKEN}`);
    await ui.getByTestId('person-row').first().waitFor();
    await ui.getByTestId('persons-search').fill('user-b');
    await ui.waitForFunction(() => document.querySelectorAll('[data-testid="person-row"]').length === 1);
    const row = ui.getByTestId('person-row');
    const personId = await row.getAttribute('data-person-id');
    assert.match(personId, /^[0-9a-f-]{36}$/);
    await shot('persons');
    await row.click();
    await ui.waitForFunction((id) => location.hash.startsWith(`#/persons/${id}`), personId);
    const graph = ui.getByTestId('person-graph');
    await graph.waitFor();
    const nodes = await graph
      .getByTestId('graph-node')
      .evaluateAll((els) => els.map((e) => [e.getAttribute('data-distinct-id'), e.getAttribute('data-external')]));
    assert.deepEqual(
      nodes
        .filter(([, ext]) => ext === 'false')
        .map(([id]) => id)
        .sort(),
      [flow.anon2, 'user-b'].sort(),
      `user-b's own ids: ${JSON.stringify(nodes)}`,
    );
    assert.ok(
      nodes.some(([id, ext]) => id === 'user-a' && ext === 'true'),
      'user-a drawn as another person (refused alias)',
    );
    const edges = await graph
      .getByTestId('graph-edge')
      .evaluateAll((els) =>
        els.map((e) => [
          e.getAttribute('data-from'),
          e.getAttribute('data-to'),
          e.getAttribute('data-refused'),
          e.textContent,
        ]),
      );
    const identify = edges.find(([from, to]) => from === flow.anon2 && to === 'user-b');
    assert.ok(
      identify && identify[2] === 'false' && /\$identify/.test(identify[3]),
      `identify edge anon2 → user-b: ${JSON.stringify(edges)}`,
    );
    const refused = edges.find(([from, to]) => from === 'user-a' && to === 'user-b');
    assert.ok(
      refused && refused[2] === 'true' && /refused/.test(refused[3]),
      `refused alias edge user-a → user-b: ${JSON.stringify(edges)}`,
    );
    assert.match(await ui.getByTestId('refused-merge').first().textContent(), /user-a/);
    await graph.locator('[data-testid="graph-edge"][data-refused="true"] text').click();
    await ui.getByTestId('edge-explanation').waitFor();
    assert.equal(await ui.getByTestId('person-device').count(), 1, 'seen on the one browser');
    assert.ok(
      (await ui.locator('[data-testid="person-property"][data-key="email"]').textContent()).includes('b@example.com'),
    );
    await shot('person');
  },
);

test(
  'warnings: the missing reset is listed under its rule and links to the device lane',
  { timeout: 45_000 },
  async () => {
    await goto(`#/warnings?project=${TOKEN}`);
    const item = ui.locator('[data-testid="warning-item"][data-rule="missing_reset_between_users"]');
    await item.waitFor({ timeout: 15_000 });
    assert.match(await item.textContent(), /user-b[\s\S]*user-c/);
    assert.ok(
      (await count('[data-testid="warning-item"][data-rule="cannot_merge_already_identified"]')) >= 1,
      'the refused alias is a warning too',
    );
    await shot('warnings');
    await item.getByTestId('warning-device').first().click();
    await ui.waitForFunction(() => location.hash.startsWith('#/devices'));
    await ui.locator(`[data-testid="device-lane"][data-device-id="${flow.deviceId}"]`).waitFor();
    await server.waitFor(async () => (await count('[data-testid="device-lane"]')) === 1, 10_000, {
      message: 'only the lane of the warning',
    });

    // Keyboard: the view tabs have number keys.
    await ui.keyboard.press('2');
    await ui.waitForFunction(() => location.hash.startsWith('#/events'));
  },
);

test(
  'warnings: a big group shows its newest 20 and its full count, and "show more" fetches the rest',
  { timeout: 45_000 },
  async () => {
    // 25 emails as distinct ids: 25 findings of email_as_distinct_id, in a project of their own.
    const project = 'phc_e2e_ui_many';
    const batch = Array.from({ length: 25 }, (_, i) => ({
      event: '$pageview',
      distinct_id: `person${i + 1}@example.com`,
      properties: { $lib: 'web' },
    }));
    const res = await fetch(`${server.url}/batch/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: project, batch }),
    });
    assert.equal(res.status, 200, await res.text());
    await goto(`#/warnings?project=${project}`);
    const group = ui.locator('[data-testid="warning-group"][data-rule="email_as_distinct_id"]');
    await group.waitFor({ timeout: 15_000 });
    await server.waitFor(async () => /25 findings/.test(await group.locator('header').textContent()), 10_000, {
      message: 'the group counts all 25',
    });
    const items = group.getByTestId('warning-item');
    assert.equal(await items.count(), 20, 'the newest 20 first');
    assert.match(await items.first().textContent(), /person25@example\.com/, 'newest first');
    await group.getByRole('button', { name: 'Show 5 more of 5' }).click();
    await server.waitFor(async () => (await items.count()) === 25, 10_000, { message: 'all 25 after show more' });
    assert.match(await items.last().textContent(), /person1@example\.com/);
  },
);
