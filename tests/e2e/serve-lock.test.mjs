// One inspector per data dir, for `serve` too: a second `serve` on a data dir that one already
// serves exits non-zero at once, naming the running one's URL, and the first keeps working. A
// `serve` on another data dir runs side by side, and the lock goes with the process that held it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';

import { INSPECTOR_BIN, REPO_DIR, installWatchdog, makeDataDir, startServer } from './lib/server.mjs';

installWatchdog(90_000);

const dataDir = makeDataDir('serve-lock');
const otherDir = makeDataDir('serve-lock-other');
const servers = [];

after(async () => {
  for (const s of servers) await s.stop();
  if (!process.env.KEEP_E2E_DATA) {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(otherDir, { recursive: true, force: true });
  }
});

/** A second `serve` on `dir`, run to its exit. */
function serveAgain(dir) {
  return spawnSync(INSPECTOR_BIN, ['serve', '--port', '0', '--data-dir', dir], {
    cwd: REPO_DIR,
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, RUST_LOG: 'warn' },
  });
}

test(
  'a second serve on the same data dir refuses to start and names the running one',
  { timeout: 60_000 },
  async () => {
    const first = await startServer({ label: 'serve-lock', dataDir });
    servers.push(first);
    const second = serveAgain(dataDir);
    assert.notEqual(second.status, 0, `the second serve must fail: ${second.stdout}${second.stderr}`);
    assert.equal(second.signal, null, 'it exits by itself, it does not hang');
    assert.match(second.stderr, /already running/);
    assert.ok(second.stderr.includes(first.url), `names ${first.url}: ${second.stderr}`);
    assert.doesNotMatch(second.stdout, /listening on/);

    // The first one is untouched.
    const health = await first.api('/api/health');
    assert.equal(health.status, 'ok');

    // Another data dir runs side by side.
    const other = await startServer({ label: 'serve-lock-other', dataDir: otherDir });
    servers.push(other);
    assert.notEqual(other.url, first.url);

    // Once the first stops, the data dir is free again.
    await first.stop();
    servers.splice(servers.indexOf(first), 1);
    const again = await startServer({ label: 'serve-lock-again', dataDir });
    servers.push(again);
    assert.equal((await again.api('/api/health')).status, 'ok');
  },
);
