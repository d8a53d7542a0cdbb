// Export and import, replay and bad files with real SDK traffic: posthog-node sends identity
// flows to inspector A; its bundle (exported with the CLI while A runs) is replayed with
// `identity-inspector replay FILE --to URL` into a second inspector B, which must compute the
// same persons (same ids: same token), lanes, decisions and warnings; `--token` sends it under
// another project. Bad files make import exit non-zero with a clear message and import nothing.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';

import { PostHog } from 'posthog-node';

import { allPersons, brief } from './lib/identity.mjs';
import { artifactPath, installWatchdog, makeDataDir, startServer } from './lib/server.mjs';
import { cli, identityShape, runCli } from './lib/transfer.mjs';

installWatchdog(150_000);

const TOKEN = 'phc_e2e_replay';
let a;
let b;
let bundle;

before(async () => {
  a = await startServer({ label: 'export-replay-a' });
  b = await startServer({ label: 'export-replay-b' });
});

after(async () => {
  await a?.stop();
  await b?.stop();
});

test('posthog-node flows into inspector A, exported as a bundle while A runs', { timeout: 60_000 }, async () => {
  const client = new PostHog(TOKEN, {
    host: a.url,
    flushAt: 100,
    flushInterval: 0,
    fetchRetryCount: 0,
    preloadFeatureFlags: false,
  });
  const errors = [];
  client.on('error', (err) => errors.push(String(err?.stack || err)));
  try {
    // One flush per call: arrival order = call order.
    const steps = [
      () => client.capture({ distinctId: 'anon-r1', event: 'viewed pricing', properties: { $session_id: 's-r1' } }),
      () =>
        client.identify({
          distinctId: 'user-r1',
          properties: { $anon_distinct_id: 'anon-r1', $set: { email: 'r1@example.com' } },
        }),
      () => client.capture({ distinctId: 'anon-r2', event: 'viewed home' }),
      () => client.identify({ distinctId: 'user-r2', properties: { $anon_distinct_id: 'anon-r2' } }),
      // Refused: user-r2 is identified.
      () => client.alias({ distinctId: 'user-r1', alias: 'user-r2' }),
      () => client.capture({ distinctId: 'null', event: 'placeholder id' }),
    ];
    for (const step of steps) {
      step();
      await client.flush();
    }
  } finally {
    await client.shutdown(10_000);
  }
  assert.deepEqual(errors, []);
  assert.equal((await a.allEvents({ project: TOKEN })).length, 6);
  bundle = artifactPath('export-replay.iibundle');
  const r = await cli(['export', '--data-dir', a.dataDir, '--format', 'bundle', '--out', bundle]);
  assert.match(r.stderr, /exported \d+ requests \(6 events\) as bundle/);
});

test(
  'replay into inspector B reproduces the same persons, lanes, decisions and warnings',
  { timeout: 60_000 },
  async () => {
    assert.ok(bundle, 'the export did not run');
    const r = await cli(['replay', bundle, '--to', b.url, '--rate', '50']);
    assert.match(r.stderr, /replayed 6 events in \d+ requests/);
    const shapeA = await identityShape(a, TOKEN);
    assert.ok(shapeA.persons.length >= 3, brief(shapeA.persons));
    assert.ok(
      shapeA.decisions.some((d) => d[2] === 'refused'),
      `a refused merge: ${brief(shapeA.decisions)}`,
    );
    assert.deepEqual(await identityShape(b, TOKEN), shapeA);
    // Same token, same rules: the very same person ids.
    const ids = async (s) => (await allPersons(s, TOKEN)).map((p) => p.id).sort();
    assert.deepEqual(await ids(b), await ids(a));
  },
);

test('replay --token sends under another project', { timeout: 30_000 }, async () => {
  await cli(['replay', bundle, '--to', b.url, '--token', 'phc_e2e_replay_other']);
  assert.equal((await b.allEvents({ project: 'phc_e2e_replay_other' })).length, 6);
  assert.deepEqual(await identityShape(b, 'phc_e2e_replay_other'), await identityShape(a, TOKEN));
});

test('replay to nowhere fails clearly', { timeout: 30_000 }, async () => {
  const r = await runCli(['replay', bundle, '--to', 'http://127.0.0.1:9']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /error: .*request 1 \(\d+ events\) to http:\/\/127\.0\.0\.1:9\/batch\/ failed/);
});

test('bad files: a clear error, a non-zero exit, nothing imported', { timeout: 60_000 }, async () => {
  const good = readFileSync(bundle);
  const files = {
    truncated: [good.subarray(0, Math.floor(good.length / 2)), /truncated/],
    'wrong-version': [
      gzipSync('{"format":"identity-inspector-bundle","version":7}\n'),
      /bundle version 7 is newer than this Identity Inspector understands \(up to 1\)/,
    ],
    'not-json': [Buffer.from('<html>hello</html>'), /not JSON/],
    'har-without-analytics': [
      Buffer.from(
        JSON.stringify({
          log: {
            version: '1.2',
            entries: [
              {
                startedDateTime: new Date().toISOString(),
                request: { method: 'GET', url: 'https://example.com/app.js', headers: [] },
                response: { status: 200 },
              },
            ],
          },
        }),
      ),
      /holds no analytics requests/,
    ],
  };
  const dataDir = makeDataDir('export-bad');
  for (const [name, [bytes, message]] of Object.entries(files)) {
    const file = artifactPath(`export-bad-${name}`);
    writeFileSync(file, bytes);
    const r = await runCli(['import', '--data-dir', dataDir, file]);
    assert.notEqual(r.code, 0, `${name}: non-zero exit`);
    assert.match(r.stderr, message, `${name}: ${r.stderr}`);
    assert.match(r.stderr, /nothing was imported/, name);
  }
  const server = await startServer({ label: 'export-bad', dataDir });
  try {
    const health = await server.api('/api/health');
    assert.deepEqual([health.totals.events, health.totals.requests], [0, 0], 'nothing half-imported');
  } finally {
    await server.stop({ removeDataDir: true });
  }
});
