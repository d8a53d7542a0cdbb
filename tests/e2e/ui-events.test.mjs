// The Events and Warnings views with real posthog-js traffic in Chromium and one request the
// inspector refuses (sent as curl would). posthog-js goes through
//   $pageview (anonymous) → identify(user-a) → capture → alias('user-a-alias') → capture
// and the test checks: the Person column of each row (the server's `persons[uuid]` label), the
// decision pill of the merge events, the "N rejected" toggle showing rejected requests only (with
// the project key the body names), j/k/Enter and ↓/Enter from the filters opening events, the
// "Requests" toggle listing what a headless posthog-js sent when it dropped its events (remote
// config, /flags), and axe-core finding nothing on Events (with and without those requests),
// event detail, Warnings, Start and the lens in both themes.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { axeViolations as axe } from './lib/axe.mjs';
import { posthogPage, posthogRoutes, withBrowserFlow } from './lib/browser.mjs';
import { artifactPath, installWatchdog } from './lib/server.mjs';

installWatchdog(240_000);

const TOKEN = 'phc_e2e_events';
// A second posthog-js, without `opt_out_useragent_filter`: in headless Chromium it drops every
// event as bot traffic, yet loads its remote config and calls /flags.
const QUIET_TOKEN = 'phc_e2e_quiet';
const HEADLESS_PAGE = posthogPage('headless, no opt-out').replace('opt_out_useragent_filter: true,', '');
assert.ok(!HEADLESS_PAGE.includes('opt_out_useragent_filter'), 'the headless page must not set the option');

const harness = withBrowserFlow({
  label: 'ui-events',
  routes: {
    ...posthogRoutes(posthogPage('Events view')),
    '/headless': { type: 'text/html; charset=utf-8', body: HEADLESS_PAGE },
  },
  browserLog: 'ui-events-browser.log',
});
const { log } = harness;
let server, pages, browser;
let ui;

before(async () => {
  ({ server, pages, browser } = await harness.ready());
  ui = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  ui.on('pageerror', (e) => log(`[ui] [pageerror] ${e.stack || e}`));
});

const stored = (query) => server.allEvents({ project: TOKEN, ...query });
const goto = async (hash) => {
  await ui.goto(`${server.url}/${hash}`);
  await ui.waitForLoadState('domcontentloaded');
};
const rowAttr = (attr) =>
  ui.locator('[data-testid="event-row"]').evaluateAll((rows, a) => rows.map((r) => r.getAttribute(a)), attr);

test('posthog-js traffic and a refused request', { timeout: 60_000 }, async () => {
  const sdk = await (await browser.newContext()).newPage();
  sdk.on('pageerror', (e) => log(`[sdk] [pageerror] ${e.stack || e}`));
  await sdk.goto(`${pages.url}/?token=${TOKEN}&api_host=${encodeURIComponent(server.url)}`, { timeout: 15_000 });
  await sdk.waitForFunction(() => window.__posthogLoaded === true, null, { timeout: 15_000 });
  await server.waitFor(async () => (await stored({ event: '$pageview' })).length >= 1, 20_000);
  await sdk.evaluate(() => {
    window.posthog.identify('user-a');
    window.posthog.capture('a did something');
  });
  await server.waitFor(async () => (await stored({ event: 'a did something' })).length >= 1, 20_000);
  await sdk.evaluate(() => {
    window.posthog.alias('user-a-alias');
    window.posthog.capture('after alias');
  });
  await server.waitFor(async () => (await stored({ event: 'after alias' })).length >= 1, 20_000);

  // As `curl -d '{"api_key":…,"event":"no id"}' …/e/` would: no distinct id, so refused.
  const res = await fetch(`${server.url}/e/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: TOKEN, event: 'no id' }),
  });
  assert.equal(res.status, 400);
});

test('Person column and decision pills', { timeout: 30_000 }, async () => {
  await goto(`#/events?project=${TOKEN}`);
  await ui.locator('[data-testid="event-row"][data-event="after alias"]').waitFor({ timeout: 15_000 });
  const page = await server.api(`/api/events?project=${TOKEN}&limit=200`);
  const cells = await ui
    .locator('[data-testid="event-row"]:not([data-rejected])')
    .evaluateAll((rows) =>
      rows.map((r) => [
        r.getAttribute('data-uuid'),
        r.querySelector('[data-testid="event-person"]').textContent.trim(),
      ]),
    );
  assert.ok(cells.length >= 4, `rows: ${cells.length}`);
  if (page.persons) {
    // The server labels each event's person; the column shows exactly that label.
    for (const [uuid, text] of cells) assert.equal(text, page.persons[uuid]?.label ?? '', `person of ${uuid}`);
    const identified = cells.find(([uuid]) => page.events.find((e) => e.uuid === uuid)?.event === 'a did something');
    assert.equal(identified[1], 'user-a', 'the identified event names user-a');
  } else {
    // A server without `persons` (older than the person label): the column stays empty, never guessed.
    log('the server sends no persons map: the Person column must be empty');
    for (const [, text] of cells) assert.equal(text, '');
  }

  // The identify merged the anonymous id into user-a; the pill says so, with the engine's sentence.
  const identify = ui.locator('[data-testid="event-row"][data-event="$identify"]');
  const decisions = await server.api(
    `/api/decisions?project=${TOKEN}&event_uuid=${await identify.getAttribute('data-uuid')}`,
  );
  const merge = decisions.decisions.find((d) => d.source !== null);
  assert.ok(merge, `the identify made a merge-type decision: ${JSON.stringify(decisions.decisions)}`);
  const pill = identify.getByTestId('decision-pill');
  await pill.waitFor({ timeout: 10_000 });
  const labels = { merged: 'merged', attached: 'linked', created: 'new person', ignored: 'no-op' };
  assert.equal(await pill.textContent(), labels[merge.kind] ?? merge.kind);
  assert.equal(await pill.getAttribute('title'), merge.message);
  assert.ok(
    await ui.locator('[data-testid="event-row"][data-event="$create_alias"] [data-testid="decision-pill"]').count(),
  );
  assert.equal(
    await ui.locator('[data-testid="event-row"][data-event="$pageview"] [data-testid="decision-pill"]').count(),
    0,
    'plain events carry no pill',
  );
  await ui.screenshot({ path: artifactPath('ui-events-person.png') });
});

test(
  '"N rejected" shows rejected requests only, with the project key the body names',
  { timeout: 30_000 },
  async () => {
    await goto('#/events');
    const toggle = ui.getByTestId('rejected-toggle');
    await toggle.waitFor({ timeout: 15_000 });
    assert.match(await toggle.textContent(), /^1 rejected/);
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    await toggle.click();
    await ui.waitForFunction(() => location.hash.includes('rejected=1'));
    await server.waitFor(async () => (await rowAttr('data-rejected')).join() === 'true', 10_000, {
      message: async () => `only the rejected row: ${await rowAttr('data-rejected')}`,
    });
    assert.equal(await ui.getByTestId('rejected-project').textContent(), TOKEN);
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
    await toggle.click();
    await server.waitFor(async () => (await rowAttr('data-rejected')).filter((r) => r === null).length >= 4, 10_000);
  },
);

test(
  'keyboard: j/k/Enter on the window, ↓ and Enter from the filters, typing never moves the list',
  { timeout: 45_000 },
  async () => {
    // user-a's events only: no rejected row, so every row is an event with a uuid.
    const USER_A = `#/events?project=${TOKEN}&distinct_id=user-a`;
    await goto(USER_A);
    await ui.locator('[data-testid="event-row"]').nth(2).waitFor({ timeout: 15_000 });
    const focusParam = () => ui.evaluate(() => new URLSearchParams(location.hash.split('?')[1]).get('focus'));
    const uuids = await rowAttr('data-uuid');

    // Nothing focused (the page itself): j, j selects the second row and opens it; k goes back one.
    await ui.locator('body').click({ position: { x: 5, y: 5 } });
    await ui.keyboard.press('j');
    await ui.keyboard.press('j');
    await ui.waitForFunction((u) => location.hash.includes(`focus=${u}`), uuids[1]);
    await ui.getByTestId('event-detail').waitFor();
    await ui.keyboard.press('k');
    await ui.waitForFunction((u) => location.hash.includes(`focus=${u}`), uuids[0]);
    await ui.keyboard.press('Escape');
    await ui.waitForFunction(() => !location.hash.includes('focus='));
    await ui.keyboard.press('Enter');
    await ui.waitForFunction((u) => location.hash.includes(`focus=${u}`), uuids[0]);

    // Typing j j Enter in the event-name field is text; Enter then opens the first matching row.
    await goto(`#/events?project=${TOKEN}`);
    await ui.locator('[data-testid="event-row"]').nth(3).waitFor();
    const field = ui.getByTestId('filter-event');
    await field.click();
    await field.pressSequentially('$identifj');
    assert.equal(await field.inputValue(), '$identifj');
    assert.equal(await focusParam(), null, 'j in a field moved nothing');
    await field.press('Backspace');
    await field.press('y');
    await field.press('Enter');
    await ui.waitForFunction(() => location.hash.includes('event=%24identify') && location.hash.includes('focus='));
    const opened = await focusParam();
    const identify = (await stored({ event: '$identify' })).map((e) => e.uuid);
    assert.ok(identify.includes(opened), `Enter opened the first $identify row (${opened})`);

    // ↓ from the search box moves into the list and selects the first row.
    await goto(USER_A);
    await ui.locator('[data-testid="event-row"]').nth(2).waitFor();
    await ui.getByTestId('filter-q').click();
    await ui.keyboard.press('ArrowDown');
    await ui.waitForFunction(() => document.activeElement?.getAttribute('role') === 'grid');
    await ui.waitForFunction((u) => location.hash.includes(`focus=${u}`), uuids[0]);
    await ui.keyboard.press('ArrowDown');
    await ui.waitForFunction((u) => location.hash.includes(`focus=${u}`), uuids[1]);
  },
);

test('"Requests" shows the requests a headless posthog-js sent without events', { timeout: 45_000 }, async () => {
  const sdk = await (await browser.newContext()).newPage();
  sdk.on('pageerror', (e) => log(`[headless sdk] [pageerror] ${e.stack || e}`));
  await sdk.goto(`${pages.url}/headless?token=${QUIET_TOKEN}&api_host=${encodeURIComponent(server.url)}`);
  await sdk.waitForFunction(() => window.__posthogLoaded, null, { timeout: 15_000 });
  await sdk.evaluate(() => window.posthog.capture('never arrives'));
  // What the server keeps of it: accepted requests without events, stored with the token they
  // name (the config path's, the /flags body's).
  const quiet = async () =>
    (await server.api('/api/requests?events=none&limit=1000')).requests.filter((r) => r.project === QUIET_TOKEN);
  await server.waitFor(async () => {
    const paths = (await quiet()).map((r) => r.path).join(' ');
    return paths.includes('/config') && paths.includes('/flags');
  }, 15_000);
  assert.equal((await stored({ project: QUIET_TOKEN })).length, 0, 'posthog-js dropped its events');

  // Off (the default): the project shows no rows at all.
  await goto(`#/events?project=${QUIET_TOKEN}`);
  const toggle = ui.getByTestId('requests-toggle');
  await toggle.waitFor({ timeout: 15_000 });
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  // The project's feed has loaded (not the previous view's rows still on screen) and is empty.
  await ui.locator('[data-testid="events-empty"][data-loading="false"]').waitFor({ timeout: 15_000 });
  assert.equal(await ui.locator('[data-testid="event-row"]').count(), 0, 'no rows without the toggle');

  // On: exactly the quiet requests of the project are rows, and the URL keeps the choice.
  await toggle.click();
  await ui.waitForFunction(() => location.hash.includes('requests=1'));
  const rows = ui.locator('[data-testid="event-row"][data-quiet-request]');
  await rows.first().waitFor({ timeout: 10_000 });
  const expected = (await quiet()).map((r) => r.id).sort((a, b) => a - b);
  await server.waitFor(
    async () =>
      (await rowAttr('data-request-id'))
        .map(Number)
        .sort((a, b) => a - b)
        .join() === expected.join(),
    10_000,
    { message: async () => `rows ${await rowAttr('data-request-id')}, expected ${expected}` },
  );
  const config = (await quiet()).find((r) => r.path.includes('/config'));
  const row = ui.locator(`[data-testid="event-row"][data-request-id="${config.id}"]`);
  assert.equal(await row.getByTestId('request-project').textContent(), QUIET_TOKEN);
  assert.match(await row.textContent(), /no events/);
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');

  // A click opens the request detail, as rejected rows do.
  await row.click();
  await ui.waitForFunction((id) => location.hash.includes(`request=${id}`), config.id);
  await ui.getByTestId('event-detail').waitFor({ timeout: 10_000 });
  // The pane opens with "Loading…" until the request's detail arrives (CI caught it there once).
  const detail = ui.getByTestId('event-detail');
  await detail
    .locator('h2', { hasText: /no events|Rejected/ })
    .first()
    .waitFor({ timeout: 10_000 });
  const heading = await detail.locator('h2').first().textContent();
  assert.match(heading, /no events/);
  assert.doesNotMatch(heading, /Rejected/, 'an accepted request is not called rejected');
  await ui.screenshot({ path: artifactPath('ui-events-requests.png') });

  // Off again: gone.
  await ui.getByTestId('requests-toggle').click();
  await ui.waitForFunction(() => !location.hash.includes('requests=1'));
  await server.waitFor(async () => (await ui.locator('[data-testid="event-row"]').count()) === 0, 10_000);
});

test(
  'axe-core: no violations on Events, event detail, Warnings, Start and the lens, light and dark',
  { timeout: 90_000 },
  async () => {
    const identify = (await stored({ event: '$identify' }))[0].uuid;
    const views = [
      ['events', `#/events?project=${TOKEN}`, '[data-testid="event-row"]'],
      ['events-requests', '#/events?requests=1', '[data-quiet-request]'],
      ['event-detail', `#/events?project=${TOKEN}&focus=${identify}`, '[data-testid="event-request"]'],
      ['warnings', `#/warnings?project=${TOKEN}`, '[data-testid="warning-item"], .empty'],
      // The two views no other e2e file runs axe on: Start with traffic, and the lens of this project.
      ['start', '#/', '[data-testid="snippet-code"]'],
      ['lens', `#/lens?project=${TOKEN}`, '[data-testid="lens-disagreements"]'],
    ];
    const found = [];
    for (const theme of ['light', 'dark']) {
      for (const width of [1440, 800]) {
        const context = await browser.newContext({
          viewport: { width, height: width === 800 ? 600 : 900 },
          colorScheme: theme,
        });
        const page = await context.newPage();
        for (const [name, hash, ready] of views) {
          await page.goto(`${server.url}/${hash}`);
          await page.locator(ready).first().waitFor({ timeout: 15_000 });
          await page.waitForLoadState('networkidle');
          await page.screenshot({ path: artifactPath(`ui-events-${name}-${theme}-${width}.png`) });
          for (const v of await axe(page)) found.push(`${name} ${theme} ${width}: ${v}`);
        }
        await context.close();
      }
    }
    assert.deepEqual(found, []);
  },
);
