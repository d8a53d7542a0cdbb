// Local security, seen from a real browser: any web page the developer opens can send requests to
// 127.0.0.1. A page on another origin may send capture traffic (that is what SDKs do) but must not
// read the inspector's API, not even with a rebinding-style Host; and the tokens in captured
// traffic never reach the server's log.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { chromiumAvailable, launchChromium, startPageServer } from './lib/browser.mjs';
import { rawRequest, startServer } from './lib/server.mjs';

const SECRET_TOKEN = 'phc_secret_token_that_must_not_be_logged_7f3a';

let server;
let page;
let pageServer;
let browser;

const PROBE = `<!doctype html><meta charset="utf-8"><title>another site</title>
<script>
  async function attempt(url, init) {
    try {
      const res = await fetch(url, init);
      return { read: true, status: res.status, text: (await res.text()).slice(0, 200) };
    } catch (err) {
      return { read: false, error: String(err) };
    }
  }
  window.probe = async (inspector, token) => ({
    events: await attempt(inspector + '/api/events'),
    health: await attempt(inspector + '/api/health', { credentials: 'include' }),
    capture: await attempt(inspector + '/batch/', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ api_key: token, batch: [{ event: 'from another site', distinct_id: 'visitor-1', properties: {} }] }),
    }),
  });
</script><h1>another site</h1>`;

before(async () => {
  server = await startServer({ label: 'local-security' });
  pageServer = await startPageServer({ '/': { type: 'text/html', body: PROBE } });
  if (chromiumAvailable()) {
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(pageServer.url + '/');
  }
});

after(async () => {
  await browser?.close();
  await pageServer?.close();
  await server?.stop();
});

test(
  'a page on another origin can send events but cannot read the API',
  { skip: !chromiumAvailable() && 'no chromium' },
  async () => {
    const result = await page.evaluate(
      ([inspector, token]) => window.probe(inspector, token),
      [server.url, SECRET_TOKEN],
    );
    assert.equal(result.events.read, false, `cross-origin read of /api/events: ${JSON.stringify(result.events)}`);
    assert.match(result.events.error, /TypeError|Failed to fetch/);
    assert.equal(result.health.read, false, `cross-origin read of /api/health: ${JSON.stringify(result.health)}`);
    // SDKs run on any origin: capture answers them with CORS, so the SDK can read its reply.
    assert.equal(result.capture.read, true, JSON.stringify(result.capture));
    assert.equal(result.capture.status, 200);
    const stored = await server.allEvents({ project: SECRET_TOKEN });
    assert.deepEqual(
      stored.map((e) => e.event),
      ['from another site'],
    );
  },
);

test('a rebinding-style Host header gets 403 from the API, while capture still answers', async () => {
  const api = await rawRequest({
    port: server.port,
    path: '/api/events',
    headers: { Host: 'attacker.example:' + server.port },
  });
  assert.equal(api.status, 403);
  assert.match(api.body, /Host/);
  const capture = await rawRequest({
    port: server.port,
    method: 'POST',
    path: '/batch/',
    headers: { Host: 'attacker.example', 'Content-Type': 'application/json' },
    body: JSON.stringify({
      api_key: SECRET_TOKEN,
      batch: [{ event: 'via any host', distinct_id: 'visitor-2', properties: {} }],
    }),
  });
  assert.equal(capture.status, 200);
});

test('tokens seen in traffic are not written to the log', async () => {
  await server.api('/api/health');
  const log = readFileSync(server.logPath, 'utf8');
  assert.ok(log.length > 0, 'the server wrote a log');
  assert.equal(log.includes(SECRET_TOKEN), false, 'the project token appears in the server log');
});
