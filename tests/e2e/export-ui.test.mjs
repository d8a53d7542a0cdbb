// Export and import in the UI (Chromium): the person view's "Export person" menu downloads that
// person's events; a bundle chosen in the import dialog, and one dropped on the window, each become
// their own data set (and project) with a message saying so.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';

import { withBrowserFlow } from './lib/browser.mjs';
import { personOf } from './lib/identity.mjs';
import { artifactPath, installWatchdog } from './lib/server.mjs';
import { cli } from './lib/transfer.mjs';

installWatchdog(120_000);

const TOKEN = 'phc_e2e_export_ui';
// The UI is served by the inspector itself: no page server.
const harness = withBrowserFlow({ label: 'export-ui' });
let server;
let browser;
let page;
let bundle;

before(async () => {
  ({ server, browser } = await harness.ready());
  for (const [event, id, props] of [
    ['$pageview', 'anon-ui', { $device_id: 'dev-ui', $session_id: 'sess-ui' }],
    ['$identify', 'user-ui', { $device_id: 'dev-ui', $session_id: 'sess-ui', $anon_distinct_id: 'anon-ui' }],
  ]) {
    const res = await fetch(`${server.url}/batch/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: TOKEN, batch: [{ event, distinct_id: id, properties: props }] }),
    });
    assert.equal(res.status, 200);
  }
  bundle = artifactPath('export-ui.iibundle');
  await cli(['export', '--data-dir', server.dataDir, '--format', 'bundle', '--out', bundle]);
  page = await (await browser.newContext({ acceptDownloads: true })).newPage();
});

test('the person view exports that person', { timeout: 30_000 }, async () => {
  const person = await personOf(server, TOKEN, 'user-ui');
  await page.goto(`${server.url}/#/persons/${encodeURIComponent(person.id)}`);
  await page.getByTestId('person-title').waitFor({ timeout: 10_000 });
  const menu = page.getByTestId('export-menu');
  await menu.locator('summary').click();
  assert.equal(await menu.getByTestId('export-keep-secrets').isChecked(), false, 'secrets are redacted by default');
  assert.doesNotMatch(await menu.getByTestId('export-har').getAttribute('href'), /secrets=/);
  const [download] = await Promise.all([page.waitForEvent('download'), menu.getByTestId('export-ndjson').click()]);
  assert.match(download.suggestedFilename(), /^inspector-person-.*\.ndjson$/);
  // The menu closes once a format is picked, and the page says which file went where.
  assert.equal(await menu.evaluate((d) => d.open), false, 'the menu closed');
  assert.match(
    await page.getByTestId('export-saved').textContent(),
    /^Saved inspector-person-….ndjson to your browser's downloads folder$/,
  );
  await menu.locator('summary').click();
  await menu.getByTestId('export-keep-secrets').check();
  assert.match(await menu.getByTestId('export-har').getAttribute('href'), /[?&]secrets=keep\b/);
  await menu.locator('summary').click();
  const lines = readFileSync(await download.path(), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.distinct_id).sort(), ['anon-ui', 'user-ui']);
  await page.screenshot({ path: artifactPath('export-ui-person.png') });
});

test('import by dialog and by drag and drop: each file its own data set', { timeout: 30_000 }, async () => {
  await page.getByTestId('import-input').setInputFiles(bundle);
  await page.getByTestId('import-result').filter({ hasText: 'Imported 2 events' }).waitFor({ timeout: 10_000 });
  assert.match(await page.getByTestId('import-result').textContent(), /into import:export-ui\b/);

  // Drag and drop: a real DataTransfer with the file, dispatched as the browser would.
  const bytes = [...readFileSync(bundle)];
  const dataTransfer = await page.evaluateHandle((data) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(data)], 'dropped.iibundle', { type: 'application/gzip' }));
    return dt;
  }, bytes);
  await page.dispatchEvent('body', 'dragenter', { dataTransfer });
  await page.getByTestId('import-drop').waitFor({ timeout: 5_000 });
  await page.dispatchEvent('body', 'drop', { dataTransfer });
  await page
    .getByTestId('import-result')
    .filter({ hasText: 'dropped.iibundle into import:dropped' })
    .waitFor({ timeout: 10_000 });
  await page.screenshot({ path: artifactPath('export-ui-import.png') });

  // The toast opens the imported data set; "All projects" stays live traffic.
  await page.getByTestId('import-open').click();
  await page.waitForFunction(() => location.hash.includes('project=import%3Adropped'), null, { timeout: 5_000 });
  await page.goto(`${server.url}/#/persons`);
  await page.getByTestId('persons-count').filter({ hasText: '1 person' }).waitFor({ timeout: 10_000 });
  await page.getByTestId('project-switcher').selectOption('*with-imports');
  await page.getByTestId('persons-count').filter({ hasText: '3 persons' }).waitFor({ timeout: 10_000 });
  const groups = await page
    .getByTestId('project-switcher')
    .locator('optgroup')
    .evaluateAll((gs) => gs.map((g) => g.label));
  assert.equal(groups[0], 'Live traffic');
  assert.deepEqual(groups.slice(1).sort(), ['Imported: import:dropped', 'Imported: import:export-ui']);

  const { datasets } = await server.api('/api/datasets');
  assert.deepEqual(datasets.map((d) => d.name).sort(), ['import:dropped', 'import:export-ui']);
  const persons = await server.api(`/api/persons?project=${encodeURIComponent(`import:dropped/${TOKEN}`)}`);
  assert.deepEqual(persons.persons[0].distinct_ids, ['anon-ui', 'user-ui']);
});
