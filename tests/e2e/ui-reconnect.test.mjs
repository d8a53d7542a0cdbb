// The UI when its server goes away and comes back (Chromium): a full-width banner names the lost
// inspector, a view that fetches meanwhile shows an error with Retry (never "0 persons"), and once
// the server is restarted on the same port and data dir every view refetches by itself: the same
// page, never reloaded, shows the stored data again.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { launchChromium } from './lib/browser.mjs';
import { artifactPath, installWatchdog, makeDataDir, startServer } from './lib/server.mjs';

installWatchdog(120_000);

const TOKEN = 'phc_e2e_reconnect';
const dataDir = makeDataDir('ui-reconnect');
let server;
let browser;
let page;

async function send(server, event, distinctId, properties = {}) {
  const res = await fetch(`${server.url}/batch/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: TOKEN, batch: [{ event, distinct_id: distinctId, properties }] }),
  });
  assert.equal(res.status, 200);
}

before(async () => {
  server = await startServer({ label: 'ui-reconnect', dataDir });
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop({ removeDataDir: false });
  if (!process.env.KEEP_E2E_DATA) rmSync(dataDir, { recursive: true, force: true });
});

const count = () => page.getByTestId('persons-count').textContent();

test(
  'a lost server is a banner and an error with Retry; after a restart the view refetches',
  { timeout: 90_000 },
  async () => {
    await send(server, '$pageview', 'anon-r', { $device_id: 'dev-r' });
    await send(server, '$identify', 'user-r', { $device_id: 'dev-r', $anon_distinct_id: 'anon-r' });
    await server.waitFor(async () => (await server.api(`/api/persons?project=${TOKEN}`)).total === 1, 15_000);

    await page.goto(`${server.url}/#/persons`);
    await page.waitForFunction(
      () => document.querySelector('[data-testid=persons-count]')?.textContent === '1 person',
      null,
      {
        timeout: 15_000,
      },
    );
    await page.evaluate(() => (window.__sameDocument = true));
    const { port } = server;

    await server.stop({ removeDataDir: false });
    const banner = page.getByTestId('server-lost');
    await banner.waitFor({ timeout: 15_000 });
    assert.match(await banner.textContent(), new RegExp(`Lost the inspector at 127\\.0\\.0\\.1:${port}, retrying`));

    // A view that fetches while the server is gone says so, with Retry: not "0 persons".
    await page.getByRole('link', { name: 'Warnings' }).click();
    await page.getByRole('link', { name: 'Persons' }).click();
    await page.getByTestId('load-error').waitFor({ timeout: 10_000 });
    assert.match(await page.getByTestId('load-error').textContent(), /Could not load the persons\..*not answering/s);
    assert.equal(await count(), '', 'no count while the list could not be loaded');
    assert.equal(await page.getByText('0 persons').count(), 0);
    await page.screenshot({ path: artifactPath('ui-reconnect-lost.png') });
    // Retry while it is still down: still an error, still no "0 persons".
    await page.getByTestId('load-error-retry').click();
    await page.getByTestId('load-error').waitFor({ timeout: 10_000 });

    server = await startServer({ label: 'ui-reconnect-again', dataDir, port });
    assert.equal(server.port, port);
    // No new traffic and no reload: only the reconnect can bring the person back.
    await page.waitForFunction(
      () => document.querySelector('[data-testid=persons-count]')?.textContent === '1 person',
      null,
      {
        timeout: 20_000,
      },
    );
    await banner.waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await page.getByTestId('load-error').count(), 0);
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
    await page.screenshot({ path: artifactPath('ui-reconnect-back.png') });
  },
);
