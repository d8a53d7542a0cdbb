// Debian's Chromium driven by playwright-core (a browser download is impossible on this machine).

import { existsSync } from 'node:fs';
import http from 'node:http';
import { chromium } from 'playwright-core';

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
