// The Start page when an SDK connects but sends no events (Chromium): real posthog-js in headless
// Chromium WITHOUT `opt_out_useragent_filter` drops every event as bot traffic, yet its remote
// config and /flags requests reach the inspector. The Start page must say exactly that, with the
// token it saw and the option that fixes it, instead of a green "Receiving traffic · 0 events".

import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { posthogPage, posthogRoutes, withBrowserFlow } from './lib/browser.mjs';
import { artifactPath, installWatchdog } from './lib/server.mjs';

installWatchdog(120_000);

const TOKEN = 'phc_e2e_headless';
// The shared page with the option removed: the usual first try at an end-to-end test.
const PAGE = posthogPage('headless, no opt-out').replace('opt_out_useragent_filter: true,', '');
assert.ok(!PAGE.includes('opt_out_useragent_filter'), 'the page must not set the option');

const harness = withBrowserFlow({ label: 'ui-headless-sdk', routes: posthogRoutes(PAGE) });
let server, pages, browser;
before(async () => ({ server, pages, browser } = await harness.ready()));

test('posthog-js that connected but sent no events gets its own Start state', { timeout: 60_000 }, async () => {
  const sdk = await (await browser.newContext()).newPage();
  await sdk.goto(`${pages.url}/?token=${TOKEN}&api_host=${encodeURIComponent(server.url)}`);
  await sdk.waitForFunction(() => window.__posthogLoaded, null, { timeout: 15_000 });
  await sdk.evaluate(() => {
    window.posthog.capture('signed_up');
    window.posthog.identify('user-headless');
  });
  // The SDK reached the inspector (config, flags) and nothing it captured was stored.
  await server.waitFor(async () => (await server.api('/api/health')).totals.requests >= 2, 15_000);
  assert.equal((await server.api('/api/health')).totals.events, 0, 'posthog-js dropped its events');

  const ui = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  await ui.goto(`${server.url}/#/`);
  const status = ui.getByTestId('traffic-status');
  await ui.waitForFunction(
    () => document.querySelector('[data-testid=traffic-status]')?.dataset.state === 'connected-no-events',
    null,
    { timeout: 15_000 },
  );
  assert.doesNotMatch(await status.textContent(), /Receiving traffic/);
  const card = ui.getByTestId('sdk-connected');
  await card.waitFor({ timeout: 10_000 });
  const text = (await card.textContent()).replace(/\s+/g, ' ');
  assert.match(text, new RegExp(`posthog-js connected \\(token ${TOKEN}: [^)]*/flags[^)]*\\) but sent no events yet`));
  assert.match(text, /config/);
  assert.match(text, /headless/i);
  assert.equal(await ui.getByTestId('headless-fix').textContent(), 'opt_out_useragent_filter: true');
  // The token it saw is in the snippets (no event has named the project).
  assert.match(await ui.getByTestId('snippet-code').textContent(), new RegExp(`posthog\\.init\\('${TOKEN}'`));
  await ui.screenshot({ path: artifactPath('ui-headless-sdk-start.png') });
});
