// The "why" answer in the UI, with the real posthog-js in headless Chromium.
//
//   family PC: identify('user-a') → capture logged_out (no reset()) → alias('user-b') → identify('user-b')
//   two more browsers: identify('user-c'), identify('user-d') (never linked)
//
// PostHog adds an alias to the person of the distinct id that sends it
// (https://posthog.com/docs/product-analytics/identify#alias-assigning-multiple-distinct-ids-to-the-same-user),
// so the family PC's alias puts user-b into user-a's person: two real users merged. Checked in the UI:
// the person page's red `distinct_users_merged` banner, its "Why?" opening the why panel with a chain
// through the `$create_alias` event led by the missing reset(), the panel reopened
// from a shared URL, Esc closing it, the "apart" answer for user-c/user-d, the lens' "Why?", and
// axe-core with 0 violations on the person page with the banner and the open panel, in both themes.
// Screenshots: artifacts/ui-why-*.png.

// The functions passed to `page.evaluate` and `waitForFunction` run in the page.
/* global window, document */

import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { axeViolations, expectNoAxeViolations } from './lib/axe.mjs';
import { posthogPage, posthogRoutes, withBrowserFlow } from './lib/browser.mjs';
import { brief, personOf } from './lib/identity.mjs';
import { artifactPath, installWatchdog } from './lib/server.mjs';

installWatchdog(240_000);

const TOKEN = 'phc_e2e_ui_why';

const harness = withBrowserFlow({
  label: 'ui-why',
  routes: posthogRoutes(posthogPage('why')),
  browserLog: 'ui-why-browser.log',
  beforeStop: (server) => server.dump('ui-why-data').catch(() => {}),
});
const { log } = harness;
let server, pages, browser; // the harness's, from its `before` on
before(async () => ({ server, pages, browser } = await harness.ready()));

/** Runs `script` in a fresh browser context with posthog-js loaded; waits until all it sent is stored. */
async function runFlow(name, script) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.on('console', (m) => log(`[${name}] [console.${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => log(`[${name}] [pageerror] ${e.stack || e}`));
    await page.goto(`${pages.url}/?token=${TOKEN}&api_host=${encodeURIComponent(server.url)}`, { timeout: 15_000 });
    await page.waitForFunction(() => window.__posthogLoaded === true, null, { timeout: 15_000 });
    await page.waitForFunction(() => window.__captured.some((e) => e.event === '$pageview'), null, { timeout: 15_000 });
    await page.evaluate(script);
    const captured = await page.evaluate(() => window.__captured.slice());
    await server.waitFor(
      async () => {
        const stored = new Set((await server.allEvents({ project: TOKEN })).map((e) => e.uuid));
        return captured.every((c) => stored.has(c.uuid));
      },
      30_000,
      { message: () => `all events of flow ${name} stored; captured ${brief(captured)}` },
    );
  } finally {
    await context.close().catch(() => {});
  }
}

/** A UI page in `theme` at `width`, with the browser's errors logged. */
async function uiPage(theme, width = 1440) {
  const context = await browser.newContext({
    viewport: { width, height: width > 1000 ? 900 : 600 },
    colorScheme: theme,
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => log(`[ui ${theme}] [pageerror] ${e.stack || e}`));
  return { page, close: () => context.close().catch(() => {}) };
}

let personId;

test(
  'posthog-js: the family PC merges user-a and user-b; two other browsers are user-c and user-d',
  { timeout: 90_000 },
  async () => {
    await runFlow('family-pc', () => {
      const ph = window.posthog;
      ph.identify('user-a');
      ph.capture('viewed_orders');
      ph.capture('logged_out'); // the app forgets posthog.reset() here
      ph.alias('user-b'); // signup of the next user, Mixpanel-era habit
      ph.identify('user-b');
      ph.capture('signed_up');
    });
    await runFlow('browser-c', () => {
      window.posthog.identify('user-c');
      window.posthog.capture('viewed_pricing');
    });
    await runFlow('browser-d', () => {
      window.posthog.identify('user-d');
      window.posthog.capture('viewed_pricing');
    });
    const a = await personOf(server, TOKEN, 'user-a');
    const b = await personOf(server, TOKEN, 'user-b');
    assert.ok(a && b, 'user-a and user-b have persons');
    assert.equal(a.id, b.id, 'the alias put user-b into the person of user-a');
    personId = a.id;
  },
);

test(
  'person page: the red banner, its "Why?" opens the chain through $create_alias, led by the missing reset()',
  { timeout: 60_000 },
  async () => {
    assert.ok(personId, 'needs the first test');
    const { page, close } = await uiPage('light');
    try {
      await page.goto(`${server.url}/#/persons/${personId}`);
      const banner = page.getByTestId('users-merged-banner');
      await banner.waitFor({ timeout: 15_000 });
      const message = await page.getByTestId('users-merged-message').textContent();
      assert.match(message, /user-a/, 'the finding names user-a');
      assert.match(message, /user-b/, 'the finding names user-b');
      assert.ok(await page.getByTestId('users-merged-event').isVisible(), 'a link to the joining event');
      assert.ok(await page.getByTestId('users-merged-lane').isVisible(), 'a link to its device lane');

      await page.getByTestId('users-merged-why').click();
      const panel = page.getByTestId('why-panel');
      await panel.getByTestId('why-chain').waitFor({ timeout: 15_000 });
      const events = await panel.getByTestId('why-step').evaluateAll((els) => els.map((e) => e.dataset.event));
      assert.ok(events.includes('$create_alias'), `the chain goes through the alias; got ${events.join(', ')}`);
      // The panel leads with the root cause when the engine names one, else with what the lint found on
      // the chain's events. posthog-js sends no `$identify` for identify('user-b') right after
      // alias('user-b') (the browser goes on as user-a), so this lane never shows user-b identified.
      const lead = await panel.locator('[data-testid="why-root-cause"], [data-testid="why-findings"]').first();
      const cause = await lead.textContent();
      log(`[ui] why lead: ${cause}`);
      assert.match(cause, /no reset\(\)/, `the panel leads with the missing reset(); got: ${cause}`);
      assert.match(cause, /still identified as 'user-a'/, `and what the device showed before; got: ${cause}`);
      const flags = await panel.getByTestId('why-step-flag').allTextContents();
      assert.ok(
        flags.some((f) => f.includes('distinct_users_merged')),
        `the alias step is flagged; got ${flags}`,
      );
      assert.equal(
        await page.evaluate(() => document.activeElement?.id),
        'why-title',
        'focus moved to the panel when it opened',
      );
      assert.match(page.url(), /why=/, 'the open panel is in the URL');
      assert.deepEqual(await axeViolations(page), [], 'axe: person page with the banner and the why panel, light');
      await page.screenshot({ path: artifactPath('ui-why-person-light-1440.png') });

      await page.keyboard.press('Escape');
      await panel.waitFor({ state: 'detached', timeout: 5_000 });
      assert.doesNotMatch(page.url(), /why=/, 'Esc closed the panel and its URL param');
      assert.equal(
        await page.evaluate(() => document.activeElement?.dataset.testid),
        'users-merged-why',
        'focus went back to the button that opened the panel',
      );
    } finally {
      await close();
    }
  },
);

test(
  'a shared URL reopens the panel (dark, 800 px), and user-c/user-d are apart with no link',
  { timeout: 60_000 },
  async () => {
    const { page, close } = await uiPage('dark', 800);
    try {
      await page.goto(`${server.url}/#/persons/${personId}?why=user-a,user-b&why_project=${TOKEN}`);
      await page.getByTestId('why-chain').waitFor({ timeout: 15_000 });
      await page.getByTestId('users-merged-banner').waitFor({ timeout: 15_000 });
      assert.deepEqual(await axeViolations(page), [], 'axe: person page with the banner and the why panel, dark');
      await page.screenshot({ path: artifactPath('ui-why-person-dark-800.png') });

      const c = await personOf(server, TOKEN, 'user-c');
      await page.goto(`${server.url}/#/persons/${c.id}?why=user-c,user-d&why_project=${TOKEN}`);
      const answer = page.getByTestId('why-answer');
      await answer.waitFor({ timeout: 15_000 });
      assert.equal(await answer.getAttribute('data-together'), 'false', 'user-c and user-d are apart');
      assert.ok(await page.getByTestId('why-no-link').isVisible(), '"No event ever linked them."');
      const sides = await page.getByTestId('why-side-person').allTextContents();
      assert.equal(sides.length, 2, 'each side links to its person');
      assert.match(sides[0], /user-c/, `the side names its person by its label; got ${sides}`);
      assert.equal(await page.getByTestId('users-merged-banner').count(), 0, 'no banner on a person of one user');
      await page.screenshot({ path: artifactPath('ui-why-apart-dark-800.png') });

      // An id no event named: an error with Retry, never an empty panel.
      await page.goto(`${server.url}/#/persons/${c.id}?why=user-c,nobody-ever&why_project=${TOKEN}`);
      const error = page.getByTestId('why-error');
      await error.waitFor({ timeout: 15_000 });
      assert.match(await error.textContent(), /nobody-ever/, 'the error names the unknown id');
      await page.getByTestId('why-retry').click();
      await error.waitFor({ timeout: 15_000 });
    } finally {
      await close();
    }
  },
);

test(
  'person page asks "Why is X in this person?"; the lens offers "Why?" with the project\'s own rules',
  { timeout: 60_000 },
  async () => {
    for (const theme of ['light', 'dark']) {
      const { page, close } = await uiPage(theme);
      try {
        await page.goto(`${server.url}/#/persons/${personId}`);
        const ask = page.locator('[data-testid="why-in-person"][data-id="user-b"]');
        await ask.waitFor({ timeout: 15_000 });
        await ask.click();
        await page.getByTestId('why-chain').waitFor({ timeout: 15_000 });
        assert.match(await page.getByTestId('why-heading').textContent(), /one person because/);
        assert.deepEqual(await axeViolations(page), [], `axe: person page, why from the ids list, ${theme}`);
        await page.screenshot({ path: artifactPath(`ui-why-person-ids-${theme}-1440.png`) });

        await page.goto(`${server.url}/#/lens?project=${TOKEN}`);
        const pair = page.locator(
          '[data-testid="lens-disagreement"][data-ids="user-a,user-b"], [data-testid="lens-disagreement"][data-ids="user-b,user-a"]',
        );
        await pair.first().waitFor({ timeout: 15_000 });
        const why = pair.first().getByTestId('why-link');
        assert.match(await why.textContent(), /PostHog rules/, 'the lens says whose rules answer');
        await why.scrollIntoViewIfNeeded();
        await page.screenshot({ path: artifactPath(`ui-why-lens-button-${theme}-1440.png`) });
        await why.click();
        await page.getByTestId('why-chain').waitFor({ timeout: 15_000 });
        await page.screenshot({ path: artifactPath(`ui-why-lens-${theme}-1440.png`) });
      } finally {
        await close();
      }
    }
  },
);

test(
  'person graph: each id is a button; Enter or Space copies the whole id and says so; axe 0 in both themes',
  { timeout: 90_000 },
  async () => {
    assert.ok(personId, 'needs the first test');
    for (const theme of ['light', 'dark']) {
      for (const width of [1440, 800]) {
        const { page, close } = await uiPage(theme, width);
        try {
          await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
          await page.goto(`${server.url}/#/persons/${personId}`);
          const graph = page.getByTestId('person-graph');
          await graph.getByTestId('graph-node').first().waitFor({ timeout: 15_000 });
          const ids = await graph
            .getByTestId('graph-node')
            .evaluateAll((els) => els.map((el) => [el.dataset.distinctId, el.getAttribute('aria-label')]));
          for (const [id, name] of ids) assert.ok(name.startsWith(id), `a node's name starts with its id: ${name}`);
          // The longest id (posthog-js's anonymous uuid) does not fit its box: the button still copies all of it.
          const [longest] = ids.map(([id]) => id).sort((a, b) => b.length - a.length);
          assert.ok(longest.length > 30, `an id longer than its box: ${longest}`);
          const node = graph.locator(`[data-testid="graph-node"][data-distinct-id="${longest}"]`);
          // The hidden end of the id (under its fade) takes no clicks: just right of the box is not the node.
          const beside = await node.evaluate((g) => {
            const box = g.querySelector('rect').getBoundingClientRect();
            const hit = document.elementFromPoint(box.right + 12, box.top + box.height / 2);
            return {
              textRunsOn: g.querySelector('text').getBoundingClientRect().right > box.right + 12,
              inNode: g.contains(hit),
            };
          });
          assert.deepEqual(beside, { textRunsOn: true, inNode: false }, 'the clipped id does not catch clicks');
          await node.focus();
          await page.keyboard.press('Enter');
          const note = graph.getByTestId('graph-node-copied');
          await note.waitFor({ timeout: 5_000 });
          assert.match(await note.textContent(), /Copied/);
          assert.equal(await page.evaluate(() => navigator.clipboard.readText()), longest, 'the whole id copied');
          assert.equal(await graph.getByRole('status').textContent(), `Copied ${longest}`, 'read out too');
          await page.screenshot({ path: artifactPath(`ui-why-graph-${theme}-${width}.png`) });
          await expectNoAxeViolations(page, `person page with a copied graph id, ${theme} ${width}`);
          // Space on another node copies that one.
          const other = ids.map(([id]) => id).find((id) => id !== longest);
          await graph.locator(`[data-testid="graph-node"][data-distinct-id="${other}"]`).focus();
          await page.keyboard.press(' ');
          await page.waitForFunction((want) => navigator.clipboard.readText().then((t) => t === want), other, {
            timeout: 5_000,
          });
        } finally {
          await close();
        }
      }
    }
  },
);
