// The Start page's SDK tabs (Chromium), eleven of them in one row that scrolls sideways: at 1440
// and 800 px the clipped edge says how many tabs lie past it ("N more ›") and scrolls to them;
// ←/→/Home/End move the selection (only the selected tab is a Tab stop) and keep it in view; the
// panel is the selected tab's. axe-core finds nothing in either theme. Screenshots:
// artifacts/ui-start-tabs-*.png.
// The functions passed to `evaluate` run in the page.
/* global document */

import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { expectNoAxeViolations } from './lib/axe.mjs';
import { withBrowserFlow } from './lib/browser.mjs';
import { artifactPath, installWatchdog } from './lib/server.mjs';

installWatchdog(120_000);

const harness = withBrowserFlow({ label: 'ui-start-tabs' });
let server, browser;
before(async () => ({ server, browser } = await harness.ready()));

/**
 * The strip's tabs: title, selected, Tab stop, and whether each is wholly in view: inside the
 * strip and not under an edge's "more" button.
 */
const tabState = (page) =>
  page.getByRole('tablist', { name: 'SDK' }).evaluate((strip) => {
    const box = strip.getBoundingClientRect();
    const edge = (id) => document.querySelector(`[data-testid="${id}"]`)?.getBoundingClientRect();
    const lo = edge('snippet-tab-more-before')?.right ?? box.left;
    const hi = edge('snippet-tab-more-after')?.left ?? box.right;
    return [...strip.querySelectorAll('[role="tab"]')].map((tab) => {
      const r = tab.getBoundingClientRect();
      return {
        title: tab.textContent.trim(),
        selected: tab.getAttribute('aria-selected') === 'true',
        tabIndex: tab.tabIndex,
        inView: r.left >= lo - 1 && r.right <= hi + 1,
      };
    });
  });

/** Waits until the strip stopped scrolling (a smooth scroll, or a reveal and the recount after it). */
async function scrollSettled(page) {
  const strip = page.getByRole('tablist', { name: 'SDK' });
  let last = null;
  for (let i = 0; i < 40; i++) {
    await page.waitForTimeout(100);
    const now = await strip.evaluate((el) => el.scrollLeft);
    if (now === last) return;
    last = now;
  }
}

for (const width of [1440, 800]) {
  test(
    `${width} px: the clipped edge counts the tabs past it, and keys reach every tab`,
    { timeout: 60_000 },
    async () => {
      for (const theme of ['light', 'dark']) {
        const context = await browser.newContext({
          viewport: { width, height: width > 1000 ? 900 : 600 },
          colorScheme: theme,
        });
        try {
          const page = await context.newPage();
          await page.goto(`${server.url}/#/`);
          await page.getByTestId('snippet-code').waitFor({ timeout: 15_000 });
          let tabs = await tabState(page);
          assert.equal(tabs.length, 11, 'a tab per SDK snippet');
          const past = tabs.filter((t) => !t.inView).length;
          assert.ok(past > 0, `the eleven tabs do not fit at ${width} px`);
          const more = page.getByTestId('snippet-tab-more-after');
          assert.equal(await more.textContent(), `${past} more ›`, 'the right edge says how many tabs are past it');
          assert.equal(await page.getByTestId('snippet-tab-more-before').count(), 0, 'nothing is past the left edge');
          await page.screenshot({ path: artifactPath(`ui-start-tabs-${theme}-${width}.png`) });
          await expectNoAxeViolations(page, `Start, ${theme} ${width}`);

          // "N more ›" scrolls to them: the tabs in view change and the left edge now counts some.
          await more.click();
          await page.getByTestId('snippet-tab-more-before').waitFor({ timeout: 5_000 });
          // (a smooth scroll: wait for it to bring in a tab that was past the edge)
          const cameIn = async () => (await tabState(page)).some((t, i) => t.inView && !tabs[i].inView);
          await server.waitFor(cameIn, 5_000, { message: 'tabs past the edge came into view' });
          await scrollSettled(page);
          await page.screenshot({ path: artifactPath(`ui-start-tabs-${theme}-${width}-scrolled.png`) });

          // Keys: only the selected tab is a Tab stop; End selects the last tab and brings it into view.
          assert.deepEqual(
            tabs.filter((t) => t.tabIndex === 0).map((t) => t.title),
            ['posthog-js (browser)'],
            'one Tab stop: the selected tab',
          );
          await page.getByRole('tab', { name: 'posthog-js (browser)' }).focus();
          await page.keyboard.press('End');
          await scrollSettled(page);
          tabs = await tabState(page);
          const last = tabs[tabs.length - 1];
          assert.ok(last.selected && last.inView, `End selected the last tab and showed it: ${JSON.stringify(tabs)}`);
          assert.equal(
            await page.evaluate(() => document.activeElement?.textContent.trim()),
            last.title,
            'and focused it',
          );
          assert.match(await page.getByRole('tabpanel').getAttribute('aria-labelledby'), /kissmetrics-python$/);
          assert.match(await page.getByTestId('snippet-code').textContent(), /KISSmetrics|kissmetrics/i);
          await page.keyboard.press('ArrowRight'); // wraps to the first
          await scrollSettled(page);
          tabs = await tabState(page);
          assert.ok(tabs[0].selected && tabs[0].inView, 'ArrowRight from the last wraps to the first, in view');
          await page.keyboard.press('ArrowLeft');
          await page.keyboard.press('ArrowLeft');
          await scrollSettled(page);
          tabs = await tabState(page);
          assert.ok(tabs[9].selected && tabs[9].inView, 'ArrowLeft moves back, in view');
        } finally {
          await context.close().catch(() => {});
        }
      }
    },
  );
}
