// Fault injection against the real SDKs: the inspector answers like a struggling PostHog (503,
// 429, 413, a dropped connection) and the test checks what the SDK did about it, as the
// inspector tells it: retries of one event uuid grouped ("sent 4 times, stored once"), the 413
// batch halving visible in the resent smaller batches, nothing the inspector acknowledged with a
// 200 lost, and an identify the SDK gave up on flagged as a finding.
//
// What the SDKs do (the versions in tests/package.json):
// - posthog-node (@posthog/core, packages/core/src/posthog-core-stateless.ts in PostHog/posthog-js):
//   `fetchWithRetry` retries a batch on 408, 429, 5xx and network errors, `fetchRetryCount` times
//   (default 3) `fetchRetryDelay` apart (default 3 s; it does not read Retry-After for batches);
//   `_flushRoute` halves its batch size and resends on a 413 (`maxBatchSize = floor(n / 2)`), and
//   after the retries of any other error it drops the batch from its queue (a network error keeps it).
// - posthog-js (packages/browser/src/retry-queue.ts): retries a capture answered 5xx (or with no
//   answer) with jittered backoff from about 3 s, adding `retry_count=N` to the URL; a 4xx is not
//   retried.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { PostHog } from 'posthog-node';

import { expectNoAxeViolations } from './lib/axe.mjs';
import { launchChromium, posthogPage, posthogRoutes, startPageServer } from './lib/browser.mjs';
import { INSPECTOR_BIN, installWatchdog, makeDataDir, startServer } from './lib/server.mjs';

installWatchdog(170_000);

const require = createRequire(import.meta.url);
const POSTHOG_JS_VERSION = JSON.parse(readFileSync(require.resolve('posthog-js/package.json'), 'utf8')).version;

let server;
let token;

before(async () => {
  server = await startServer({ label: 'faults', args: ['--fault', 'route=/flags,status=502,count=1'] });
  token = (await server.api('/api/control')).token;
});

after(async () => {
  await server?.dump('faults-data').catch(() => {});
  await server?.stop();
});

/** Puts a rule in force (the text syntax or a JSON object); returns it. */
async function fault(rule) {
  const body = typeof rule === 'string' ? { rule } : rule;
  const res = await server.api('/api/faults', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-inspector-token': token },
    body: JSON.stringify(body),
  });
  return res.rule;
}

async function clearFaults() {
  await server.api('/api/faults', { method: 'DELETE', headers: { 'x-inspector-token': token } });
}

/** The deliveries of a project, by event uuid. */
async function deliveries(project, state) {
  const query = new URLSearchParams({ project, limit: '1000', ...(state ? { state } : {}) });
  const page = await server.api(`/api/deliveries?${query}`);
  return new Map(page.deliveries.map((d) => [d.uuid, d]));
}

/** A posthog-node client that retries quickly (the SDK's logic, not its default 3 s waits). */
function nodeClient(project, errors, options = {}) {
  const client = new PostHog(project, {
    host: server.url,
    flushAt: 1000,
    flushInterval: 0,
    fetchRetryDelay: 100,
    requestTimeout: 10_000,
    preloadFeatureFlags: false,
    disableCompression: true,
    ...options,
  });
  client.on('error', (err) => errors.push(String(err?.message || err)));
  return client;
}

/** The requests that named `project`, oldest first (the API also lists those naming none). */
async function projectRequests(project) {
  return (await server.allRequests({ project })).filter((r) => r.project === project).reverse();
}

/** Every stored event of `project`, counted by uuid. */
async function storedCounts(project) {
  const counts = new Map();
  for (const e of await server.allEvents({ project })) counts.set(e.uuid, (counts.get(e.uuid) ?? 0) + 1);
  return counts;
}

describe('serve --fault and the control API', () => {
  test('a rule given to serve is in force from the start and listed', async () => {
    const page = await server.api('/api/faults');
    assert.equal(page.rules[0].text, 'route=/flags,status=502,count=1');
    assert.equal(page.rules[0].description, 'Answer 502 to requests to /flags (the next one)');
    assert.equal((await server.api('/api/health')).faults, 1, 'health says how many rules are on');
    await clearFaults();
    assert.deepEqual((await server.api('/api/faults')).rules, []);
  });

  test('an impossible rule is a 400 that says why', async () => {
    for (const [rule, says] of [
      [{ source: 'posthog', status: 503, share: 1.5 }, 'share must be between 0 and 1'],
      [{ source: 'posthog', status: 200 }, 'status 200 is not a fault'],
      [{ route: '/nowhere', status: 503 }, 'no capture route starts with "/nowhere"'],
      [{ rule: 'posthog:teapot' }, '"teapot" is not part of a fault rule'],
    ]) {
      const res = await server.apiRaw('/api/faults', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-inspector-token': token },
        body: JSON.stringify(rule),
      });
      const body = await res.json();
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(body.code, 'invalid_body');
      assert.ok(body.error.includes(says), `${JSON.stringify(rule)}: ${body.error}`);
    }
    const noToken = await server.apiRaw('/api/faults', { method: 'POST', body: '{"rule":"posthog:503"}' });
    assert.equal(noToken.status, 403);
  });

  test('serve refuses an impossible --fault before it starts', () => {
    const run = spawnSync(
      INSPECTOR_BIN,
      ['serve', '--port', '0', '--data-dir', makeDataDir('bad-fault'), '--fault', 'posthog:503:share=2'],
      { encoding: 'utf8', timeout: 10_000 },
    );
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /--fault "posthog:503:share=2": share must be between 0 and 1/);
  });
});

describe('posthog-node against a failing PostHog', () => {
  test('503, 503, 429, then 200: every event sent 4 times, stored once, nothing lost', async () => {
    const project = 'phc_faults_retry';
    await fault(`posthog:503:project=${project}:count=2`);
    await fault(`posthog:429:retry_after=1:project=${project}:count=1`);
    const errors = [];
    const client = nodeClient(project, errors, { fetchRetryCount: 3 });
    const sent = [randomUUID(), randomUUID(), randomUUID()];
    sent.forEach((uuid, i) => client.capture({ distinctId: 'node-user', event: `step ${i}`, uuid }));
    await client.flush();
    await client.shutdown(10_000);
    assert.deepEqual(errors, [], 'the SDK got through in the end');

    const requests = await projectRequests(project);
    const answered = requests.map((r) => `${r.outcome} ${r.status}`);
    assert.deepEqual(answered, ['faulted 503', 'faulted 503', 'faulted 429', 'accepted 200']);
    const counts = await storedCounts(project);
    for (const uuid of sent) assert.equal(counts.get(uuid), 1, `${uuid} stored once`);
    const byUuid = await deliveries(project);
    for (const uuid of sent) {
      const d = byUuid.get(uuid);
      assert.equal(d?.summary, 'sent 4 times, stored once', JSON.stringify(d));
      assert.deepEqual(
        d.attempts.map((a) => a.status),
        [503, 503, 429, 200],
      );
    }
    assert.equal((await deliveries(project, 'lost')).size, 0, 'nothing acknowledged is lost');
  });

  test('a 413 halves the batch: the resent halves are visible, each event stored once', async () => {
    const project = 'phc_faults_413';
    await fault(`posthog:413:project=${project}:count=1`);
    const errors = [];
    const client = nodeClient(project, errors, { fetchRetryCount: 0 });
    const sent = Array.from({ length: 8 }, () => randomUUID());
    sent.forEach((uuid, i) => client.capture({ distinctId: 'node-user', event: `item ${i}`, uuid }));
    await client.flush();
    await client.shutdown(10_000);
    assert.deepEqual(errors, []);

    const requests = await projectRequests(project);
    assert.deepEqual(
      requests.map((r) => [r.outcome, r.status, r.event_count]),
      [
        ['faulted', 413, 8],
        ['accepted', 200, 4],
        ['accepted', 200, 4],
      ],
      'the batch of 8, refused, then resent as two halves',
    );
    const refused = await server.api(`/api/requests/${requests[0].id}`);
    assert.match(
      refused.request.error,
      new RegExp(`^answered 413 by fault rule #\\d+ \\(source=posthog,project=${project},status=413,count=1\\)$`),
    );
    assert.deepEqual(refused.request.event_uuids.slice().sort(), sent.slice().sort());
    const counts = await storedCounts(project);
    for (const uuid of sent) assert.equal(counts.get(uuid), 1);
    for (const d of (await deliveries(project)).values()) assert.equal(d.summary, 'sent twice, stored once');
  });

  test('an identify the SDK gave up on is lost, and a finding', async () => {
    const project = 'phc_faults_identify';
    const errors = [];
    const client = nodeClient(project, errors, { fetchRetryCount: 2 });
    client.capture({ distinctId: 'anon-lost', event: 'viewed pricing' });
    await client.flush();
    // Three copies (a try and two retries), all answered 503: @posthog/core then drops the batch.
    await fault(`posthog:503:project=${project}:count=3`);
    client.identify({ distinctId: 'user-lost', properties: { $anon_distinct_id: 'anon-lost' } });
    await client.flush().catch(() => {});
    await client.shutdown(10_000);
    assert.ok(
      errors.some((e) => e.includes('503')),
      `the SDK reported the failure: ${JSON.stringify(errors)}`,
    );

    const lost = [...(await deliveries(project, 'lost')).values()];
    assert.equal(lost.length, 1, JSON.stringify(lost));
    assert.equal(lost[0].event, '$identify');
    assert.equal(lost[0].summary, 'lost: sent 3 times, never stored');
    const { warnings } = await server.api(`/api/warnings?project=${project}&rules=undelivered_identify`);
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.equal(warnings[0].severity, 'error');
    assert.deepEqual(warnings[0].distinct_ids, ['anon-lost', 'user-lost']);
    assert.match(warnings[0].message, /never reached PostHog: .*the person would not be merged/);
    const persons = (await server.api(`/api/persons?project=${project}`)).persons;
    assert.ok(
      persons.every((p) => !p.distinct_ids.includes('user-lost')),
      'the model has no person merged by the lost identify',
    );
  });

  test('a dropped connection keeps the batch in the SDK: the next flush delivers it', async () => {
    const project = 'phc_faults_drop';
    await fault(`posthog:drop:project=${project}:count=1`);
    const errors = [];
    const client = nodeClient(project, errors, { fetchRetryCount: 0 });
    const uuid = randomUUID();
    client.capture({ distinctId: 'node-user', event: 'dropped once', uuid });
    await client.flush().catch(() => {});
    await client.shutdown(10_000);
    const requests = await projectRequests(project);
    assert.deepEqual(
      requests.map((r) => [r.outcome, r.status]),
      [
        ['faulted', 0],
        ['accepted', 200],
      ],
    );
    assert.match(requests[0].error, /^connection closed unanswered by fault rule #\d+/);
    assert.equal((await deliveries(project)).get(uuid)?.summary, 'sent twice, stored once');
  });
});

describe('posthog-js in Chromium against a 503', () => {
  let pages;
  let browser;
  before(async () => {
    pages = await startPageServer(posthogRoutes(posthogPage(`posthog-js ${POSTHOG_JS_VERSION} → faults`)));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await pages?.close();
  });

  test('the faulted batch is retried with retry_count=1 and stored once', { timeout: 60_000 }, async () => {
    const project = 'phc_faults_js';
    await fault(`posthog:503:project=${project}:count=1`);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${pages.url}/?token=${project}&api_host=${encodeURIComponent(server.url)}`);
    await page.waitForFunction(() => window.__posthogLoaded === true, null, { timeout: 15_000 });
    await page.evaluate(() => window.posthog.capture('clicked buy'));
    // posthog-js retries after about 3 s (2.25–3.75 s of jittered backoff).
    await server.waitFor(
      async () => {
        const all = await deliveries(project);
        return all.size > 0 && (await deliveries(project, 'lost')).size === 0;
      },
      20_000,
      { message: 'the faulted batch was retried and stored' },
    );
    const captured = await page.evaluate(() => window.__captured);
    await context.close();

    const faulted = (await projectRequests(project)).filter((r) => r.outcome === 'faulted' && r.event_count > 0);
    assert.equal(faulted.length, 1);
    assert.equal(faulted[0].status, 503);
    const byUuid = await deliveries(project);
    const retried = [...byUuid.values()];
    assert.ok(retried.length > 0, 'the faulted batch carried events');
    for (const d of retried) {
      assert.equal(d.summary, 'sent twice, stored once', JSON.stringify(d));
      assert.match(d.attempts[1].query ?? '', /retry_count=1/, 'posthog-js numbers its retry');
    }
    await server.waitFor(async () => {
      const counts = await storedCounts(project);
      return captured.every((e) => counts.get(e.uuid) === 1);
    }, 15_000);
    const counts = await storedCounts(project);
    for (const e of captured) assert.equal(counts.get(e.uuid), 1, `${e.event} ${e.uuid} stored exactly once`);
  });
});

describe('the UI says when faults are on', () => {
  let browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close().catch(() => {});
  });

  for (const theme of ['light', 'dark']) {
    test(`a "Faults active" badge opens the rules, which can be cleared (${theme})`, { timeout: 40_000 }, async () => {
      await clearFaults();
      const context = await browser.newContext({ colorScheme: theme, viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await page.goto(`${server.url}/#/events`);
      await page.waitForSelector('[data-testid=live-status]');
      assert.equal(await page.locator('[data-testid=faults-badge]').count(), 0, 'no badge without a rule');

      // Set elsewhere (an agent's curl, a test): the page learns it from the stream.
      await fault('posthog:503:count=2');
      await fault('route=/v1/batch,status=429,retry_after=2,share=0.5');
      const badge = page.locator('[data-testid=faults-badge]');
      await page.locator('[data-testid=faults-badge]', { hasText: 'Faults active (2)' }).waitFor({ timeout: 10_000 });
      await expectNoAxeViolations(page, `events with the faults badge (${theme})`);

      await badge.click();
      const panel = page.locator('[data-testid=faults-panel]');
      await panel.waitFor();
      const rules = panel.locator('[data-testid=fault-rule]');
      assert.equal(await rules.count(), 2);
      assert.match(await rules.first().textContent(), /Answer 503 to PostHog capture requests \(the next 2\)/);
      await expectNoAxeViolations(page, `the faults panel (${theme})`);

      // A bad rule typed in the panel is refused in the server's words.
      await panel.locator('[data-testid=fault-input]').fill('posthog:503:share=7');
      await panel.getByRole('button', { name: 'Add' }).click();
      await page.waitForSelector('[data-testid=fault-error]');
      assert.match(await page.locator('[data-testid=fault-error]').textContent(), /share must be between 0 and 1/);

      await panel.locator('[data-testid=faults-clear]').click();
      await page.waitForSelector('[data-testid=faults-empty]');
      await page.keyboard.press('Escape');
      await badge.waitFor({ state: 'detached', timeout: 10_000 });
      assert.deepEqual((await server.api('/api/faults')).rules, []);
      await context.close();
    });
  }
});
