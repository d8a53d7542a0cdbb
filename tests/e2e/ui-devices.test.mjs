// The devices view with real-sized traffic: 400 posthog-js-shaped browser lanes (7 with a user
// switch and no reset), a few server-SDK chains, a timing-only reset(true) guess, and one real
// posthog-js flow in Chromium that logs user-a out without reset() and logs user-b in.
// Checks: "Only flagged" shows just the flagged lanes, a marker click keeps its lane in view,
// the real lane's human title, a Warnings-style link opening on its transition, possible links
// shown only on request, idle gaps collapsed, and axe-core 0 violations in both themes.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { expectNoAxeViolations } from './lib/axe.mjs';
import { posthogPage, posthogRoutes, withBrowserFlow } from './lib/browser.mjs';
import { sendEvents } from './lib/pressure.mjs';
import { artifactPath } from './lib/server.mjs';

const TOKEN = 'phc_devices_e2e';
const LANES = 400;
const FLAGGED_BULK = [13, 71, 129, 187, 245, 303, 361];
const VIEWPORT = { width: 1440, height: 900 };

const harness = withBrowserFlow({
  label: 'ui-devices',
  routes: posthogRoutes(posthogPage('devices')),
  browserLog: 'ui-devices-browser.log',
});
const { log } = harness;
let server, pages, browser;
let ui;
let realDevice; // the $device_id of the real posthog-js browser

before(async () => {
  ({ server, pages, browser } = await harness.ready());
});

const agent = (i) =>
  `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${100 + (i % 20)}.0.0.0 Safari/537.36`;

/** posthog-js-shaped events: a `$pageview` on the anonymous id (= `$device_id`), `$identify`, a pageview. */
function bulkEvents(t0) {
  const events = [];
  let n = 0;
  const ev = (event, distinctId, device, at, props = {}) =>
    events.push({
      uuid: `0192a000-0000-7000-8000-${String(++n).padStart(12, '0')}`,
      event,
      distinct_id: distinctId,
      timestamp: new Date(at).toISOString(),
      properties: { $device_id: device, $lib: 'web', $raw_user_agent: agent(Number(device.slice(4))), ...props },
    });
  for (let i = 0; i < LANES; i++) {
    const device = `dev-${String(i).padStart(4, '0')}`;
    // The first 390 devices within ~7 minutes; the last 10 half an hour later (an idle gap).
    const at = t0 + (i < 390 ? i * 1000 : 30 * 60_000 + (i - 390) * 1000);
    ev('$pageview', device, device, at, { $is_identified: false });
    ev('$identify', `user-${i}`, device, at + 200, { $anon_distinct_id: device, $is_identified: true });
    if (FLAGGED_BULK.includes(i))
      // Another user on the same browser, no reset() in between.
      ev('$pageview', `user-${i}-b`, device, at + 400, { $is_identified: true });
  }
  // Server-SDK traffic: no $device_id, no user agent: anonymous-id chains.
  for (let k = 0; k < 3; k++)
    events.push({
      uuid: `0192a000-0000-7000-9000-${String(k).padStart(12, '0')}`,
      event: 'order placed',
      distinct_id: `srv-user-${k}`,
      timestamp: new Date(t0 + 5000 + k).toISOString(),
      properties: { $lib: 'posthog-node' },
    });
  // A fresh lane 60 s after the only other lane of its (unique) user agent, with no
  // $last_posthog_reset: a timing-only, "possible" reset(true) continuation.
  const ua = { $raw_user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0' };
  events.push(
    {
      uuid: '0192a000-0000-7000-a000-000000000001',
      event: '$pageview',
      distinct_id: 'old-firefox',
      timestamp: new Date(t0 + 60_000).toISOString(),
      properties: { $device_id: 'old-firefox', $lib: 'web', ...ua },
    },
    {
      uuid: '0192a000-0000-7000-a000-000000000002',
      event: '$pageview',
      distinct_id: 'new-firefox',
      timestamp: new Date(t0 + 120_000).toISOString(),
      properties: { $device_id: 'new-firefox', $lib: 'web', ...ua },
    },
  );
  return events;
}

const devicesApi = (query = '') => server.api(`/api/devices?project=${TOKEN}${query}`);

test(
  'seed: 400 lanes posted, then a real posthog-js browser switches users without reset()',
  { timeout: 120_000 },
  async () => {
    const t0 = Date.now() - 45 * 60_000;
    await sendEvents(server.port, TOKEN, bulkEvents(t0));

    const sdk = await (await browser.newContext()).newPage();
    sdk.on('console', (m) => log(`[sdk] [console.${m.type()}] ${m.text()}`));
    await sdk.goto(`${pages.url}/?token=${TOKEN}&api_host=${encodeURIComponent(server.url)}`, { timeout: 15_000 });
    await sdk.waitForFunction(() => window.__posthogLoaded === true, null, { timeout: 15_000 });
    realDevice = await sdk.evaluate(() => window.posthog.get_property('$device_id'));
    const step = async (fn) => {
      await sdk.evaluate(fn);
      await sdk.waitForTimeout(700);
    };
    await step(() => window.posthog.identify('user-a'));
    await step(() => window.posthog.capture('logged_out')); // the app forgets posthog.reset() here
    await step(() => window.posthog.identify('user-b'));
    await step(() => window.posthog.capture('b did something'));

    await server.waitFor(
      async () => {
        const page = await devicesApi('&limit=1&flagged=only');
        return page.flagged_total >= FLAGGED_BULK.length + 1 ? page : null;
      },
      30_000,
      {
        message: async () =>
          `flagged lanes: ${JSON.stringify((await devicesApi('&flagged=only')).devices.map((l) => l.id))}`,
      },
    );
  },
);

const openUi = async (hash, colorScheme = 'light') => {
  ui = await (await browser.newContext({ viewport: VIEWPORT, colorScheme })).newPage();
  ui.on('pageerror', (e) => log(`[ui] [pageerror] ${e.stack || e}`));
  await ui.goto(`${server.url}/${hash}`);
  await ui.getByTestId('device-lane').first().waitFor({ timeout: 15_000 });
};
const rowIds = () =>
  ui
    .locator('[data-testid="device-lane"]')
    .evaluateAll((rows) => rows.map((r) => [r.dataset.laneId, r.dataset.flagged]));

test(
  '"Only flagged" shows exactly the flagged lanes, and the real browser lane is titled by its users',
  { timeout: 60_000 },
  async () => {
    await openUi(`#/devices?project=${TOKEN}`);
    const all = await devicesApi('&limit=1');
    assert.ok(all.total >= LANES + 1, `every lane: ${all.total}`);
    assert.match(await ui.getByTestId('devices-count').textContent(), new RegExp(`${all.total}`));

    await ui.getByTestId('flagged-only').click();
    await ui.waitForFunction(() => location.hash.includes('flagged=only'));
    const want = (await devicesApi('&flagged=only')).devices.map((l) => l.id).sort();
    assert.equal(want.length, FLAGGED_BULK.length + 1, `7 bulk lanes and the real one: ${want}`);
    await server.waitFor(async () => (await rowIds()).length === want.length, 10_000, {
      message: async () => `rows: ${JSON.stringify(await rowIds())}`,
    });
    const rows = await rowIds();
    assert.deepEqual(rows.map(([id]) => id).sort(), want, 'only the flagged lanes, all of them');
    assert.ok(
      rows.every(([, flagged]) => flagged === 'true'),
      `each row marked flagged: ${JSON.stringify(rows)}`,
    );
    for (const i of FLAGGED_BULK) assert.ok(want.includes(`${TOKEN}/dev-${String(i).padStart(4, '0')}`), `dev-${i}`);

    // The real posthog-js lane: "<browser> · Linux — user-a → user-b", its device id below.
    const real = ui.locator(`[data-testid="device-lane"][data-device-id="${realDevice}"]`);
    const title = await real.getByTestId('lane-title').innerText();
    assert.match(title, /Chrome \d+ · Linux — user-a → user-b/, title);
    assert.ok(title.includes(realDevice.slice(0, 8)), `the id below the title: ${title}`);
    await ui.screenshot({ path: artifactPath('ui-devices-only-flagged.png') });
  },
);

test('a marker click deep in 400 lanes keeps its lane in view (no jump to the top)', { timeout: 60_000 }, async () => {
  await openUi(`#/devices?project=${TOKEN}`);
  const viewport = ui.getByTestId('devices-viewport');
  await viewport.evaluate((el) => (el.scrollTop = 56 * 150));
  await ui.waitForTimeout(400);
  const row = ui.locator('[data-testid="device-lane"]').nth(8);
  const laneId = await row.getAttribute('data-lane-id');
  await row.locator('[data-testid="lane-marker"]').first().click();
  await ui.waitForFunction((id) => decodeURIComponent(location.hash).includes(`lane=${id}`), laneId);
  await ui.waitForTimeout(600);
  const scrollTop = await viewport.evaluate((el) => el.scrollTop);
  assert.ok(scrollTop > 56 * 100, `still scrolled down: scrollTop ${scrollTop}`);
  const box = await ui.locator(`[data-testid="device-lane"][data-lane-id="${laneId}"]`).boundingBox();
  const view = await viewport.boundingBox();
  assert.ok(
    box && box.y >= view.y - 1 && box.y + box.height <= view.y + view.height + 1,
    `lane in view: ${JSON.stringify({ box, view })}`,
  );
  assert.ok(await ui.locator(`[data-testid="device-lane"][data-lane-id="${laneId}"].selected`).count(), 'selected');
});

test('the time axis collapses the half-hour idle gap into a labelled break', { timeout: 30_000 }, async () => {
  await openUi(`#/devices?project=${TOKEN}`);
  await ui.getByTestId('axis-break').first().waitFor({ timeout: 10_000 });
  // Between the first 390 devices (within ~7 min) and the last 10 (30 min after the start).
  const labels = await ui.getByTestId('axis-break').allTextContents();
  const minutes = labels
    .map((l) => l.match(/^(\d+) min$/))
    .filter(Boolean)
    .map((m) => Number(m[1]));
  assert.ok(
    minutes.some((m) => m >= 20 && m <= 30),
    `a break of ~23 minutes: ${labels}`,
  );
  await ui.getByTestId('collapse-gaps').click();
  await ui.waitForFunction(() => location.hash.includes('gaps=off'));
  assert.equal(await ui.getByTestId('axis-break').count(), 0, 'no breaks once turned off');
});

/** A ctrl + wheel step (zoom in) at page point (x, y) over the lanes; waits until the view wrote its new zoom. */
async function ctrlWheelAt(x, y, deltaY = -400) {
  const before = await ui.evaluate(() => location.hash);
  await ui
    .getByTestId('devices-viewport')
    .evaluate(
      (el, [clientX, clientY, dy]) =>
        el.dispatchEvent(
          new WheelEvent('wheel', { clientX, clientY, deltaY: dy, ctrlKey: true, bubbles: true, cancelable: true }),
        ),
      [x, y, deltaY],
    );
  await ui.waitForFunction((prev) => location.hash !== prev && location.hash.includes('from='), before);
}

test(
  'ctrl + wheel on the broken axis keeps the instant under the pointer: on a break and on a lane',
  { timeout: 30_000 },
  async () => {
    await openUi(`#/devices?project=${TOKEN}`);
    const view = await ui.getByTestId('devices-viewport').boundingBox();
    const y = view.y + 40;
    // On the ~23 minute break, a third of the way in: that instant of the gap stays put.
    const gapBreak = ui.getByTestId('axis-break').filter({ hasText: /^2\d min$/ });
    const label = await gapBreak.textContent();
    const b0 = await gapBreak.boundingBox();
    const x0 = b0.x + b0.width / 3;
    await ctrlWheelAt(x0, y);
    const b1 = await ui.getByTestId('axis-break').filter({ hasText: label }).boundingBox();
    assert.ok(Math.abs(b1.x + b1.width / 3 - x0) < 1.5, `the break stayed under the pointer: ${b0.x} → ${b1.x}`);

    // From the whole range again, on a lane's segment left of the break: its middle (a short
    // segment is drawn a few px wide about its middle) stays under the pointer, and the break, right of it, moves further right (or out of the window).
    await ui.context().close();
    await openUi(`#/devices?project=${TOKEN}`);
    const lane = ui.locator('[data-testid="device-lane"]').nth(2);
    const laneId = await lane.getAttribute('data-lane-id');
    const segment = lane.getByTestId('lane-segment').first();
    const distinctId = await segment.getAttribute('data-distinct-id');
    const s0 = await segment.boundingBox();
    const breakX0 = (await ui.getByTestId('axis-break').filter({ hasText: label }).boundingBox()).x;
    assert.ok(s0.x < breakX0, `the segment is left of the break (${s0.x} < ${breakX0})`);
    const mid0 = s0.x + s0.width / 2;
    await ctrlWheelAt(mid0, y);
    const s1 = await ui
      .locator(
        `[data-testid="device-lane"][data-lane-id="${laneId}"] [data-testid="lane-segment"][data-distinct-id="${distinctId}"]`,
      )
      .first()
      .boundingBox();
    const mid1 = s1.x + s1.width / 2;
    assert.ok(Math.abs(mid1 - mid0) < 1.5, `the segment stayed under the pointer: ${mid0} → ${mid1}`);
    const moved = await ui.getByTestId('axis-break').filter({ hasText: label });
    const breakX1 = (await moved.count()) ? (await moved.boundingBox()).x : Infinity;
    assert.ok(breakX1 > breakX0 + 20, `zoomed in: the break moved right (${breakX0} → ${breakX1})`);
  },
);

test('a Warnings link (device + at) opens the lane selected on its switch, zoomed', { timeout: 30_000 }, async () => {
  const { warnings } = await server.api(`/api/warnings?project=${TOKEN}`);
  const finding = warnings.find((f) => f.rule === 'missing_reset_between_users' && f.device_ids.includes(realDevice));
  const seq =
    finding?.seq ??
    (await devicesApi(`&device_id=${realDevice}`)).devices[0].transitions.find((t) => t.kind === 'switch_without_reset')
      .seq;
  await openUi(`#/devices?project=${TOKEN}&device=${encodeURIComponent(realDevice)}&at=${seq}`);
  await ui.waitForFunction(
    () => /item=tr%3A\d+%3Aswitch_without_reset|item=tr:\d+:switch_without_reset/.test(location.hash),
    null,
    {
      timeout: 10_000,
    },
  );
  await ui.waitForFunction(() => location.hash.includes('from=') && location.hash.includes('to='), null, {
    timeout: 5_000,
  });
  assert.ok(await ui.locator('[data-testid="lane-switch"]').count(), 'the switch is on screen');
  await ui.screenshot({ path: artifactPath('ui-devices-warning-link.png') });
});

test(
  'a timing-only reset(true) guess is shown only with "Show possible links", evidence in the detail',
  { timeout: 30_000 },
  async () => {
    const lane = (await devicesApi('&device_id=new-firefox')).devices[0];
    assert.ok(lane.linked_from?.possible, `possible link: ${JSON.stringify(lane.linked_from)}`);
    assert.ok(!lane.transitions.some((t) => t.kind === 'reset_device'), 'no reset marker for a guess');
    await openUi(`#/devices?project=${TOKEN}&q=firefox`);
    const row = ui.locator('[data-testid="device-lane"][data-device-id="new-firefox"]');
    await row.waitFor();
    assert.equal(await row.getByTestId('possible-badge').count(), 0, 'hidden by default');
    await ui.getByTestId('show-possible').click();
    await row.getByTestId('possible-badge').waitFor();
    assert.equal(await row.getByTestId('possible-link').count(), 1, 'drawn faintly on the lane');
    await row.getByTestId('lane-title').click();
    const evidence = await ui.getByTestId('lane-link').innerText();
    assert.match(evidence, /Possibly continues another lane/i);
    assert.match(evidence, /Timing is the only evidence/);
  },
);

test('axe-core: 0 violations on Devices, light and dark', { timeout: 60_000 }, async () => {
  for (const theme of ['light', 'dark']) {
    await openUi(`#/devices?project=${TOKEN}&flagged=first`, theme);
    assert.equal(
      await ui.evaluate(() => document.documentElement.dataset.theme),
      theme,
      'the theme follows the system',
    );
    await ui.screenshot({ path: artifactPath(`ui-devices-${theme}.png`) });
    await expectNoAxeViolations(ui, `Devices, ${theme}`);
  }
});
