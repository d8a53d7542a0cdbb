// The Persons list with real posthog-js traffic in headless Chromium: the UX review's family PC
// (user-a logs out without reset(), the signup calls alias('user-b'), then identify('user-b'),
// which posthog-js sends as events of user-b with `$is_identified`) merges two users into one
// PostHog person; user-c logs in on two devices (one user, one person, nothing wrong).
//
// Asserted in the UI: the merged person's row names both user ids with the ⚠ "2 user ids" badge
// and comes first (flagged first by default); the "Two users merged" chip counts it, filters to
// it and keeps that in the URL; j/Enter open the person, whose page shows the list's label; axe
// reports no violation on the list in either theme. Screenshots: artifacts/ui-persons-*.png.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { expectNoAxeViolations } from './lib/axe.mjs';
import { posthogPage, posthogRoutes, withBrowserFlow } from './lib/browser.mjs';
import { brief } from './lib/identity.mjs';
import { artifactPath, installWatchdog } from './lib/server.mjs';

installWatchdog(170_000);

const TOKEN = 'phc_e2e_ui_persons';

const harness = withBrowserFlow({
  label: 'ui-persons',
  routes: posthogRoutes(posthogPage('persons list')),
  browserLog: 'ui-persons-browser.log',
  beforeStop: (server) => server.dump('ui-persons-data').catch(() => {}),
});
const { log } = harness;
let server, pages, browser; // the harness's, from its `before` on
before(async () => ({ server, pages, browser } = await harness.ready()));

/** Runs `script` in posthog-js on a fresh browser context and waits until all it sent is stored. */
async function device(name, script) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => log(`[${name}] [pageerror] ${e.stack || e}`));
    await page.goto(`${pages.url}/?token=${TOKEN}&api_host=${encodeURIComponent(server.url)}`, { timeout: 15_000 });
    await page.waitForFunction(() => window.__posthogLoaded === true, null, { timeout: 15_000 });
    await page.waitForFunction(() => window.__captured.some((e) => e.event === '$pageview'), null, { timeout: 15_000 });
    // The anonymous $pageview first, so arrival order does not depend on posthog-js's batching.
    const first = await page.evaluate(() => window.__captured[0].uuid);
    await server.waitFor(
      async () => (await server.allEvents({ project: TOKEN })).some((e) => e.uuid === first),
      15_000,
    );
    await page.evaluate(script);
    const captured = await page.evaluate(() => window.__captured.slice());
    log(`[${name}] ${JSON.stringify(captured)}`);
    await server.waitFor(
      async () => {
        const stored = new Set((await server.allEvents({ project: TOKEN })).map((e) => e.uuid));
        return captured.every((c) => stored.has(c.uuid));
      },
      30_000,
      { message: `every event of ${name} stored` },
    );
  } finally {
    await context.close().catch(() => {});
  }
}

const rows = (page) =>
  page.$$eval('[data-testid="person-row"]', (els) =>
    els.map((el) => ({
      id: el.dataset.personId,
      label: el.dataset.label,
      title: el.querySelector('[data-testid="person-row-title"]')?.textContent.trim(),
      badge: el.querySelector('[data-testid="person-row-merged"]')?.textContent.trim() ?? null,
    })),
  );

test(
  'posthog-js traffic: a family PC that merged two users, and one user on two devices',
  { timeout: 90_000 },
  async () => {
    await device('family-pc', () => {
      const ph = window.posthog;
      ph.identify('user-a', { name: 'Alice' });
      ph.capture('logged_out');
      // No reset(): the signup aliases the new user id onto user-a, then identifies as it.
      ph.alias('user-b');
      ph.identify('user-b', { email: 'bob@example.com' });
      ph.capture('signed_up');
    });
    for (const name of ['laptop', 'phone'])
      await device(name, () => {
        window.posthog.identify('user-c');
        window.posthog.capture('viewed_dashboard');
      });
    await server.waitFor(async () => {
      const page = await server.api(`/api/persons?project=${TOKEN}&flagged=distinct_users_merged`);
      return page.total === 1;
    }, 15_000);
  },
);

test(
  'the list marks, sorts first and filters the merged users; the person page names it the same',
  { timeout: 60_000 },
  async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
    try {
      const page = await context.newPage();
      await page.goto(`${server.url}/#/persons?project=${TOKEN}`);
      await page.waitForSelector('[data-testid="person-row"]');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="person-row"]').length === 2);
      const all = await rows(page);
      assert.equal(all.length, 2, brief(all));
      const [merged, clean] = all;
      assert.equal(merged.label, 'user-a', `flagged first, named by its identify target; ${brief(all)}`);
      assert.equal(merged.title, 'user-a + user-b', brief(all));
      assert.match(merged.badge ?? '', /⚠\s*2 user ids/, brief(all));
      assert.deepEqual([clean.label, clean.title, clean.badge], ['user-c', 'user-c', null], brief(all));
      assert.equal(await page.locator('h1', { hasText: 'Persons' }).count(), 1, 'the view has an h1');

      const chip = page.getByTestId('persons-merged-filter');
      await page.waitForFunction(
        () => document.querySelector('[data-testid="persons-merged-filter"]')?.dataset.count === '1',
      );
      assert.match(await chip.innerText(), /Two users merged\s*1/);
      await chip.click();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="person-row"]').length === 1);
      assert.match(page.url(), /flagged=distinct_users_merged/);
      assert.equal(await chip.getAttribute('aria-pressed'), 'true');
      // URL state: a reload (or a shared link) keeps the filter.
      await page.reload();
      await page.waitForSelector('[data-testid="person-row"]');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="person-row"]').length === 1);
      assert.deepEqual(
        (await rows(page)).map((r) => r.label),
        ['user-a'],
      );

      // Keyboard: j selects the first row, Enter opens it; its page carries the list's label.
      await page.locator('body').press('j');
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-testid="person-title"]');
      assert.match(page.url(), new RegExp(`#/persons/${merged.id}`));
      assert.equal((await page.getByTestId('person-title').innerText()).trim(), merged.label);

      // The clean user's page too.
      await page.goto(`${server.url}/#/persons/${clean.id}`);
      await page.waitForSelector('[data-testid="person-title"]');
      assert.equal((await page.getByTestId('person-title').innerText()).trim(), 'user-c');
    } finally {
      await context.close().catch(() => {});
    }
  },
);

test('axe reports no violation on the Persons list in both themes; screenshots', { timeout: 60_000 }, async () => {
  for (const theme of ['light', 'dark']) {
    for (const viewport of [
      { width: 1440, height: 900 },
      { width: 800, height: 600 },
    ]) {
      const context = await browser.newContext({ viewport, colorScheme: theme });
      try {
        const page = await context.newPage();
        await page.goto(`${server.url}/#/persons?project=${TOKEN}`);
        await page.waitForFunction(() => document.querySelectorAll('[data-testid="person-row"]').length === 2);
        await page.waitForFunction(
          () => document.querySelector('[data-testid="persons-merged-filter"]')?.dataset.count === '1',
        );
        await page.locator('body').press('j');
        await page.screenshot({ path: artifactPath(`ui-persons-${theme}-${viewport.width}.png`) });
        await expectNoAxeViolations(page, `Persons list, ${theme} ${viewport.width}`);
        // The list itself never scrolls sideways (the app header's own width is not this view's).
        const overflow = await page.evaluate(() => {
          const list = document.querySelector('[role="listbox"][aria-label="Persons"]');
          return list.scrollWidth - list.clientWidth;
        });
        assert.ok(overflow <= 0, `the list does not scroll sideways at ${viewport.width} px (${overflow} px too wide)`);
      } finally {
        await context.close().catch(() => {});
      }
    }
  }
});
