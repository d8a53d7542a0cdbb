// Per-project identity settings end to end: the real binary, the API (a key configured before its
// first event, the control token, a refused body naming its field) and the UI's settings panel in
// Chromium: flipping Mixpanel's ID merge mode changes the label next to the results live.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { chromiumAvailable, launchChromium } from './lib/browser.mjs';
import { artifactPath, installWatchdog, startServer } from './lib/server.mjs';

// The tests themselves take seconds; the margin is for starting a debug binary on a busy machine.
installWatchdog(90_000);

const KEY = 'mp_e2e_settings';
let server, browser, token;

before(async () => {
  server = await startServer({ label: 'settings' });
  token = (await server.api('/api/control')).token;
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

const put = (key, body, headers = { 'x-inspector-token': token }) =>
  server.apiRaw(`/api/projects/${encodeURIComponent(key)}/settings`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** One event as mixpanel-browser sends it: a form with base64 JSON in `data`. */
async function mixpanelEvent(distinctId) {
  const events = [
    {
      event: 'Viewed',
      properties: {
        token: KEY,
        distinct_id: distinctId,
        $device_id: 'dev-e2e-1',
        time: Date.now(),
        $insert_id: `ins-${Date.now()}`,
      },
    },
  ];
  const data = Buffer.from(JSON.stringify(events)).toString('base64');
  const res = await fetch(new URL('/track/?verbose=1', server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `data=${encodeURIComponent(data)}`,
  });
  assert.equal(res.status, 200, await res.text());
}

test(
  'the API: configured before the first event, token required, bad values refused',
  { timeout: 15_000 },
  async () => {
    const fresh = await server.api(`/api/projects/${KEY}/settings`);
    assert.equal(fresh.configured, false);
    assert.equal(fresh.settings.mixpanel_id_merge, 'simplified');

    const set = await put(KEY, { mixpanel_id_merge: 'original' });
    assert.equal(set.status, 200, await set.clone().text());
    const got = await server.api(`/api/projects/${KEY}/settings`);
    assert.equal(got.configured, true);
    assert.equal(got.settings.mixpanel_id_merge, 'original');

    const noToken = await put(KEY, { mixpanel_id_merge: 'simplified' }, {});
    assert.equal(noToken.status, 403, 'like every changing route, without the token: 403 bad_token');
    assert.equal((await noToken.json()).code, 'bad_token');
    const bad = await put(KEY, { mixpanel_id_merge: 'guess' });
    assert.equal(bad.status, 400);
    const body = await bad.json();
    assert.equal(body.code, 'invalid_body');
    assert.match(body.error, /`mixpanel_id_merge`/);
    assert.equal((await server.api(`/api/projects/${KEY}/settings`)).settings.mixpanel_id_merge, 'original');
  },
);

test('the UI: the panel flips the mode and the label follows live', { timeout: 40_000 }, async (t) => {
  if (!chromiumAvailable()) return t.skip('no Chromium');
  await mixpanelEvent('$device:dev-e2e-1');
  await server.waitFor(
    async () => (await server.api('/api/projects')).projects.some((p) => p.project === KEY),
    10_000,
    { message: 'the project listed' },
  );
  browser = await launchChromium();
  const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  await page.goto(`${server.url}/#/persons?project=${KEY}`);
  const headerLabel = page.getByTestId('header-settings-label');
  await headerLabel.waitFor();
  assert.equal(await headerLabel.textContent(), 'Mixpanel, Original ID Merge');

  await page.getByTestId('settings-open').click();
  const panel = page.getByTestId('settings-panel');
  await panel.waitFor();
  assert.equal(await page.getByTestId('mixpanel-original').isChecked(), true, 'the stored mode is shown');
  await page.getByTestId('mixpanel-simplified').check();
  await page.screenshot({ path: artifactPath('settings-panel-open.png') });
  await page.getByTestId('settings-save').click();
  await panel.waitFor({ state: 'hidden' });

  // The server replays the project and announces it; the header label and the persons badge follow.
  await page
    .getByTestId('header-settings-label')
    .filter({ hasText: 'Mixpanel, Simplified ID Merge' })
    .waitFor({ timeout: 10_000 });
  const badge = page.getByTestId('settings-badge').first();
  await badge.waitFor();
  assert.equal(await badge.textContent(), 'Mixpanel, Simplified ID Merge');
  assert.equal((await server.api(`/api/projects/${KEY}/settings`)).settings.mixpanel_id_merge, 'simplified');
  await page.screenshot({ path: artifactPath('settings-after-save.png') });
});
