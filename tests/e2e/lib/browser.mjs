// Debian's Chromium driven by playwright-core (a browser download is impossible on this machine),
// the page server a test page is served from, and `withBrowserFlow`, the setup every browser-flow
// test file shares.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

import { artifactPath, startServer } from './server.mjs';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumAvailable() {
  return existsSync(CHROMIUM_PATH);
}

export async function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

/**
 * A tiny static server on its own port (so the page is cross-origin to the inspector, as in real
 * life). `routes` maps a path to { type, body } or to a function (req) => { type, body }.
 */
export async function startPageServer(routes) {
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://x');
    let route = routes[pathname];
    if (typeof route === 'function') route = route(req);
    if (!route) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': route.type, 'Cache-Control': 'no-store' });
    res.end(route.body);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

const require = createRequire(import.meta.url);

/** The posthog-js browser bundle the test pages load (`dist/array.full.js`, with every extension). */
export const POSTHOG_JS_BUNDLE = path.join(
  path.dirname(require.resolve('posthog-js/package.json')),
  'dist',
  'array.full.js',
);

/**
 * The page server's routes for a `posthogPage`: the page at `/`, the bundle at `/posthog.js` (read
 * on every request, so a page load never sees a stale copy) and an empty favicon.
 */
export function posthogRoutes(page) {
  return {
    '/': { type: 'text/html; charset=utf-8', body: page },
    '/posthog.js': () => ({ type: 'application/javascript', body: readFileSync(POSTHOG_JS_BUNDLE) }),
    '/favicon.ico': { type: 'image/x-icon', body: '' },
  };
}

/**
 * Registers the `before` and `after` hooks of a browser-flow test file and returns the handle
 * they fill in: `server` (the inspector binary, `startServer({ label })`), `pages` (a page server
 * on another origin serving `routes`; none without `routes`) and `browser` (headless Chromium).
 * Take them into the file's own bindings with `await harness.ready()` in a `before` of the file:
 * Node 20 starts top-level `before` hooks without waiting for the one registered earlier, so the
 * file's hook must wait on the start itself (`ready()` starts it once, whoever calls first).
 *
 *   const harness = withBrowserFlow({
 *     label: 'posthog-js',
 *     routes: posthogRoutes(PAGE),
 *     browserLog: 'posthog-js-browser.log',
 *     beforeStop: (server) => server.dump('posthog-js-data').catch(() => {}),
 *   });
 *   const { log } = harness;
 *   let server, pages, browser; // the harness's, from its `before` on
 *   before(async () => ({ server, pages, browser } = await harness.ready()));
 *
 * `harness.log(line)` keeps a timestamped line; with `browserLog` every line is written to
 * tests/artifacts/<browserLog> when the file ends. `beforeStop(server)` runs last before the
 * inspector stops (dumps of its data, other servers to stop); it catches its own errors.
 *
 * Invariants: a missing Chromium fails the file at once (no test means anything without it).
 * Teardown goes browser, page server, `beforeStop`, inspector, so no page still sends while the
 * inspector stops and every dump sees the inspector running. A part `before` never started is
 * skipped, so a failed start still tears down what did start.
 */
export function withBrowserFlow({ label, routes, browserLog, beforeStop }) {
  const logLines = [];
  let starting;
  const harness = {
    server: undefined,
    pages: undefined,
    browser: undefined,
    log: (line) => logLines.push(`${new Date().toISOString()} ${line}`),
    /** Starts the three parts once; resolves to the harness when all are up. */
    ready: () => {
      starting ??= (async () => {
        if (!chromiumAvailable())
          throw new Error(`Chromium is not installed at ${CHROMIUM_PATH} (apt-get install chromium)`);
        harness.server = await startServer({ label });
        if (routes) harness.pages = await startPageServer(routes);
        harness.browser = await launchChromium();
        return harness;
      })();
      return starting;
    },
  };

  before(() => harness.ready());

  after(async () => {
    if (browserLog) writeFileSync(artifactPath(browserLog), `${logLines.join('\n')}\n`);
    await harness.browser?.close().catch(() => {});
    await harness.pages?.close();
    if (harness.server) {
      await beforeStop?.(harness.server);
      await harness.server.stop();
    }
  });

  return harness;
}

/**
 * A page that loads posthog-js from `/posthog.js` and inits it from the query (`token`,
 * `api_host`, `debug`). `window.__captured` lists every event the SDK decided to send, so a test
 * can check each one arrived exactly once; `window.__posthogLoaded` turns true once it loaded.
 */
export function posthogPage(title) {
  return `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>Identity Inspector e2e: ${title}</title>
<script src="/posthog.js"></script>
<script>
  const params = new URLSearchParams(location.search);
  window.__captured = [];
  window.__posthogLoaded = false;
  posthog.init(params.get('token'), {
    api_host: params.get('api_host'),
    persistence: 'localStorage',
    // Headless, automated Chromium (HeadlessChrome user agent, navigator.webdriver) looks like a bot,
    // and posthog-js drops bot traffic unless told otherwise, as its own warning suggests for e2e tests.
    opt_out_useragent_filter: true,
    debug: params.get('debug') === '1',
    before_send: (event) => {
      if (event) {
        window.__captured.push({ uuid: event.uuid, event: event.event, distinct_id: event.properties && event.properties.distinct_id });
        const li = document.createElement('li');
        li.textContent = event.event + '  ' + (event.properties && event.properties.distinct_id) + '  ' + event.uuid;
        document.getElementById('log') && document.getElementById('log').appendChild(li);
      }
      return event;
    },
    loaded: () => { window.__posthogLoaded = true; },
  });
</script>
</head>
<body><h1>${title}</h1><ol id="log"></ol></body>
</html>`;
}
