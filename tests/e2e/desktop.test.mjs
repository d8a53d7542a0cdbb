// The real desktop binary (Tauri 2, built with `--features desktop`) in a real window under
// Xvfb: it must load the UI from its in-process server, show events that posthog-node sends,
// pause capture without the SDK noticing, focus instead of starting twice, and flush on quit.
//
// The window's page reports what it shows through the test-only probe (`--test-probe`: the shell
// injects a script that posts the page's text to /api/test/probe). A screenshot of the screen is
// saved as tests/artifacts/desktop.png.
//
// Needs INSPECTOR_DESKTOP_BIN (tests/run.sh builds it) and Xvfb. Without them the test is
// skipped with a loud message, except under CI=true, where it fails.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';

import { PostHog } from 'posthog-node';

import { REPO_DIR, artifactPath, installWatchdog, makeDataDir, startServer, waitFor } from './lib/server.mjs';
import { screenshot, startXvfb, xvfbAvailable } from './lib/xvfb.mjs';

installWatchdog(180_000);

const DESKTOP_BIN =
  process.env.INSPECTOR_DESKTOP_BIN || path.join(REPO_DIR, 'target', 'debug', 'identity-inspector-desktop');
const missing = [!existsSync(DESKTOP_BIN) && `the desktop binary (${DESKTOP_BIN})`, !xvfbAvailable() && 'Xvfb'].filter(
  Boolean,
);
if (missing.length && process.env.CI === 'true') {
  throw new Error(`desktop smoke test cannot run in CI: missing ${missing.join(' and ')}`);
}
const skip = missing.length
  ? `SKIPPED: missing ${missing.join(' and ')} (cargo build --features desktop; apt-get install xvfb)`
  : false;
if (skip) console.error(`\n*** desktop smoke test ${skip} ***\n`);

const TOKEN = 'phc_desktop_smoke';
const run = randomUUID().slice(0, 8);
const names = [`desktop opened ${run}`, `desktop clicked ${run}`, `desktop signed up ${run}`];
let xvfb;
let app;
let dataDir;
let launchedAt;

async function control() {
  return app.api('/api/control');
}

async function post(p, body) {
  const { token } = await control();
  return app.apiRaw(p, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-inspector-token': token },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function report() {
  return (await app.api('/api/test/probe')).report;
}

async function send(events) {
  const errors = [];
  const client = new PostHog(TOKEN, {
    host: app.url,
    flushAt: 100,
    flushInterval: 0,
    fetchRetryCount: 0,
    preloadFeatureFlags: false,
  });
  client.on('error', (e) => errors.push(String(e?.stack || e)));
  for (const event of events) client.capture({ distinctId: `user-${run}`, event, properties: { run } });
  await client.shutdown(10_000);
  assert.deepEqual(errors, [], 'posthog-node reported errors');
}

before(async () => {
  if (skip) return;
  xvfb = await startXvfb();
  dataDir = makeDataDir('desktop');
  launchedAt = Date.now();
  app = await startServer({
    label: 'desktop',
    bin: DESKTOP_BIN,
    subcommand: null,
    dataDir,
    args: ['--test-probe'],
    env: { DISPLAY: xvfb.display, WAYLAND_DISPLAY: '' },
    startTimeout: 60_000,
  });
});

after(async () => {
  await app?.stop();
  await xvfb?.stop();
  if (dataDir && !process.env.KEEP_E2E_DATA) rmSync(dataDir, { recursive: true, force: true });
});

test('the window loads the UI from the in-process server', { skip, timeout: 60_000 }, async () => {
  const shown = await waitFor(
    async () => {
      const r = await report();
      return r?.ready && r.text.includes('Point your SDK at the inspector') && r;
    },
    45_000,
    { message: 'the window never reported the rendered start page' },
  );
  console.log(`# launch to UI shown in the window: ${Date.now() - launchedAt} ms`);
  assert.ok(shown.text.includes(app.url), 'the start page shows the capture URL');
  assert.ok(shown.width >= 400 && shown.height >= 300, `a real window size: ${shown.width}x${shown.height}`);
});

test('events sent with posthog-node show up in the window', { skip, timeout: 60_000 }, async () => {
  await send(names);
  await waitFor(
    async () => {
      const r = await report();
      return r?.text.includes('Receiving traffic') && r.text.includes('3 events');
    },
    20_000,
    { message: async () => `the start page did not flip: ${JSON.stringify((await report())?.text?.slice(0, 500))}` },
  );

  const res = await post('/api/test/navigate', { hash: '#/events' });
  assert.equal(res.status, 200);
  const r = await waitFor(
    async () => {
      const r = await report();
      return r?.hash.startsWith('#/events') && names.every((n) => r.text.includes(n)) && r;
    },
    20_000,
    {
      message: async () =>
        `the events view did not list the events: ${JSON.stringify((await report())?.text?.slice(0, 800))}`,
    },
  );
  assert.ok(r.text.includes(`user-${run}`));
  // Let WebKit paint the rows it just laid out before taking the picture.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const file = artifactPath('desktop.png');
  if (screenshot(xvfb.display, file)) console.log(`# screenshot: ${file}`);
  else console.error('*** no screenshot: ImageMagick (/usr/bin/import) is not installed ***');
});

test(
  'paused capture answers the SDK normally but stores nothing, and health says so',
  { skip, timeout: 60_000 },
  async () => {
    assert.equal((await post('/api/control/pause')).status, 200);
    const health = await app.api('/api/health');
    assert.equal(health.capture.paused, true);
    await send([`desktop while paused ${run}`]);
    assert.ok((await app.api('/api/health')).capture.ignored_while_paused >= 1);
    assert.equal((await post('/api/control/resume')).status, 200);
    const events = await app.allEvents({ project: TOKEN });
    assert.equal(events.length, 3, 'nothing captured while paused');
    // Without the token, a state-changing call is refused.
    const refused = await app.apiRaw('/api/control/pause', { method: 'POST' });
    assert.equal(refused.status, 403);
  },
);

test(
  'a second launch on the same data dir brings the first window forward and exits',
  { skip, timeout: 30_000 },
  async () => {
    const second = spawnSync(DESKTOP_BIN, ['--data-dir', dataDir], {
      env: { ...process.env, DISPLAY: xvfb.display },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(second.status, 0, `second launch: ${second.stdout}\n${second.stderr}`);
    assert.match(second.stdout, /already running/);
    assert.ok((await report()).ready, 'the first window is still there');
  },
);

test(
  'the theme toggle in the window belongs to the page, not written to the settings file',
  { skip, timeout: 30_000 },
  async () => {
    const before = (await report()).theme;
    assert.ok(before === 'light' || before === 'dark', `the page has a theme: ${before}`);
    const other = before === 'dark' ? 'light' : 'dark';
    const settings = path.join(dataDir, 'settings.json');
    const saved = () => (existsSync(settings) ? JSON.parse(readFileSync(settings, 'utf8')).theme : undefined);
    const savedBefore = saved();
    const controlBefore = (await control()).theme;
    // Click the header's toggle, as a user would: the page switches at once.
    assert.equal((await post('/api/test/navigate', { hash: '#!click=[data-testid=theme-toggle]' })).status, 200);
    await waitFor(async () => (await report())?.theme === other, 10_000, { message: 'the page did not switch theme' });
    // The theme is per client (localStorage): one tab or window never changes every other client's.
    // The desktop's Theme menu is what saves a default in the settings file.
    assert.equal(saved(), savedBefore, 'the toggle left settings.json alone');
    assert.equal((await control()).theme, controlBefore);
  },
);

test('quitting flushes every accepted event to disk', { skip, timeout: 60_000 }, async () => {
  const info = await app.stop({ removeDataDir: false });
  assert.equal(info.code, 0, `the desktop app exited with ${JSON.stringify(info)}`);
  const again = await startServer({ label: 'desktop-after', dataDir });
  try {
    const events = await again.allEvents({ project: TOKEN });
    assert.deepEqual(events.map((e) => e.event).sort(), [...names].sort());
    // The next launch's page starts in the theme saved from the window.
    const saved = JSON.parse(readFileSync(path.join(dataDir, 'settings.json'), 'utf8')).theme;
    const page = await (await fetch(`${again.url}/`)).text();
    assert.ok(page.includes(`<meta name="inspector-theme" content="${saved}">`), `the page starts ${saved}`);
  } finally {
    await again.stop();
  }
});

// The quick-start script (src-tauri/run.sh) decides what to install, build and run; --print-plan
// says so without doing anything. A fake pkg-config on PATH plays a machine without WebKitGTK.
function plan(args, env) {
  const out = spawnSync('bash', [path.join(REPO_DIR, 'src-tauri', 'run.sh'), '--print-plan', ...args], {
    env: { ...process.env, CARGO_TARGET_DIR: '/tmp/t', ...env },
    encoding: 'utf8',
  });
  assert.equal(out.status, 0, out.stderr);
  return {
    plan: Object.fromEntries(
      out.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/: (.*)/s).slice(0, 2)),
    ),
    stderr: out.stderr,
  };
}

test('run.sh: a display and no WebKitGTK: install the packages, build the window, run it', () => {
  const bin = mkdtempSync(path.join(os.tmpdir(), 'fake-pkg-config-'));
  writeFileSync(path.join(bin, 'pkg-config'), '#!/bin/sh\nexit 1\n');
  chmodSync(path.join(bin, 'pkg-config'), 0o755);
  try {
    const { plan: p } = plan(['--port', '28121'], {
      PATH: `${bin}:${process.env.PATH}`,
      DISPLAY: ':7',
      WAYLAND_DISPLAY: '',
    });
    assert.equal(p.mode, 'desktop');
    assert.match(p.install, /apt-get install libwebkit2gtk-4.1-dev libayatana-appindicator3-dev/);
    assert.match(p.install, process.getuid() === 0 ? /\(as root\)$/ : /^sudo apt-get/);
    assert.equal(p.build, 'cargo build --release --locked -p identity-inspector --features desktop');
    assert.equal(p.run, '/tmp/t/release/identity-inspector --port 28121');
    // Headless runs never install anything.
    const headless = plan(['serve'], { PATH: `${bin}:${process.env.PATH}`, DISPLAY: ':7' }).plan;
    assert.equal(headless.install, 'none (everything needed is installed)');
    assert.equal(headless.build, 'cargo build --release --locked -p identity-inspector');
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});

test('run.sh: no display runs serve and says where to look; arguments pass through', () => {
  const { plan: p, stderr } = plan(['--port', '9000'], { DISPLAY: '', WAYLAND_DISPLAY: '' });
  assert.equal(p.mode, 'headless');
  assert.equal(p.run, '/tmp/t/release/identity-inspector serve --port 9000');
  assert.match(stderr, /no display/);
  assert.match(stderr, /http:\/\/127\.0\.0\.1:9000/);
  const serve = plan(['serve', '--port', '9000'], { DISPLAY: ':7' }).plan;
  assert.equal(serve.mode, 'headless');
  assert.equal(serve.run, '/tmp/t/release/identity-inspector serve --port 9000');
  const windowed = plan([], { DISPLAY: '', WAYLAND_DISPLAY: 'wayland-0' }).plan;
  assert.equal(windowed.mode, 'desktop', 'Wayland counts as a display');
});
