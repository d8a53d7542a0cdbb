// /api/stream (server-sent events), rejected requests, and the Host guard on /api.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';

import { PostHog } from 'posthog-node';

import { installWatchdog, rawRequest, startServer } from './lib/server.mjs';
import { openEventStream } from './lib/sse.mjs';

installWatchdog(120_000);

const TOKEN = 'phc_e2e_stream';
let server;
const streams = [];

before(async () => {
  server = await startServer({ label: 'live-stream' });
});

after(async () => {
  for (const s of streams) s.close();
  await server?.dump('live-stream-data').catch(() => {});
  await server?.stop();
});

async function stream() {
  const s = await openEventStream(`${server.url}/api/stream`);
  streams.push(s);
  assert.equal(s.status, 200, '/api/stream status');
  assert.match(s.contentType, /^text\/event-stream/, '/api/stream content type');
  return s;
}

test('an event captured by posthog-node is announced as an `events` message', { timeout: 20_000 }, async () => {
  const health = await server.api('/api/health');
  assert.equal(health.status, 'ok', `/api/health: ${JSON.stringify(health)}`);
  const s = await stream();
  const errors = [];
  const client = new PostHog(TOKEN, { host: server.url, flushAt: 1, flushInterval: 0, fetchRetryCount: 0 });
  client.on('error', (e) => errors.push(String(e)));
  await client.captureImmediate({ distinctId: 'stream-user', event: 'streamed event' });
  await client.shutdown(5_000);
  assert.deepEqual(errors, []);
  const msg = await s.next((m) => m.event === 'events', 10_000);
  assert.ok(msg.json && typeof msg.json === 'object', `events message data is not JSON: ${msg.data}`);
  if ('project' in msg.json) assert.equal(msg.json.project, TOKEN);
  const stored = await server.allEvents({ project: TOKEN, event: 'streamed event' });
  assert.equal(stored.length, 1);
});

test(
  'a bad capture is answered 400, announced as `rejected` and listed with its error',
  { timeout: 20_000 },
  async () => {
    const s = await stream();
    const res = await fetch(`${server.url}/e/`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: 'not json',
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    assert.equal(res.status, 400, `POST /e/ "not json" answered ${res.status}: ${text}`);
    assert.ok(text.length > 0, 'the 400 body should say what was wrong');

    const msg = await s.next((m) => m.event === 'rejected', 10_000);
    assert.ok(msg.json && typeof msg.json === 'object', `rejected message data is not JSON: ${msg.data}`);

    const { requests } = await server.api('/api/requests?outcome=rejected');
    assert.equal(requests.length, 1, `rejected requests: ${JSON.stringify(requests)}`);
    const [r] = requests;
    assert.equal(r.method, 'POST');
    assert.match(r.path, /^\/e\/?$/);
    assert.equal(r.outcome, 'rejected');
    assert.equal(r.status, 400);
    assert.equal(typeof r.error, 'string');
    assert.ok(r.error.trim().length > 0, 'error must say why');
    assert.ok(
      String(r.body_preview).includes('not json'),
      `body_preview keeps the raw body: ${JSON.stringify(r.body_preview)}`,
    );
    if ('request_id' in msg.json) assert.equal(msg.json.request_id, r.id, 'the rejected message names the request');

    // The accepted request from the previous test is not in the rejected list, and vice versa.
    const { requests: accepted } = await server.api('/api/requests?outcome=accepted');
    assert.ok(accepted.every((x) => x.outcome === 'accepted' && x.id !== r.id));
  },
);

test('an empty capture is rejected with 400 and listed like any other', { timeout: 15_000 }, async () => {
  const res = await fetch(`${server.url}/e/`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain' },
    body: '',
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  assert.equal(res.status, 400, `POST /e/ with an empty body answered ${res.status}: ${text}`);
  const { requests } = await server.api('/api/requests?outcome=rejected');
  assert.equal(requests.length, 2, `rejected requests: ${JSON.stringify(requests)}`);
  assert.equal(requests[0].status, 400);
  assert.ok(requests[0].error && requests[0].error.length > 0);
  assert.equal(requests[0].body_preview, '', 'an empty body has an empty preview');
});

test('/api refuses a foreign Host header (DNS rebinding), capture does not', { timeout: 20_000 }, async () => {
  const { port } = server;
  for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.nip.io:${port}`]) {
    const res = await rawRequest({ port, path: `/api/events?project=${TOKEN}`, headers: { Host: host } });
    assert.ok(
      res.status >= 400 && res.status < 500,
      `GET /api/events with Host ${host} answered ${res.status}: ${res.body.slice(0, 300)}`,
    );
    assert.ok(!res.body.includes('streamed event'), 'no event data leaks to a foreign Host');
  }
  for (const p of ['/api/stream', '/api/requests', '/api/projects', '/api/health']) {
    const res = await rawRequest({ port, path: p, headers: { Host: 'evil.example' }, timeout: 5_000 });
    assert.ok(res.status >= 400 && res.status < 500, `GET ${p} with Host evil.example answered ${res.status}`);
  }
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
    const res = await rawRequest({ port, path: `/api/events?project=${TOKEN}`, headers: { Host: host } });
    assert.equal(
      res.status,
      200,
      `GET /api/events with Host ${host} answered ${res.status}: ${res.body.slice(0, 300)}`,
    );
  }

  const uuid = randomUUID();
  const body = JSON.stringify({
    api_key: TOKEN,
    batch: [
      {
        event: 'via foreign host',
        uuid,
        properties: { distinct_id: 'host-user', $lib: 'web' },
        timestamp: new Date().toISOString(),
      },
    ],
    sent_at: new Date().toISOString(),
  });
  const res = await rawRequest({
    port,
    method: 'POST',
    path: '/e/',
    headers: {
      Host: 'evil.example',
      'Content-Type': 'text/plain',
      'Content-Length': Buffer.byteLength(body),
      Origin: 'http://evil.example',
    },
    body,
  });
  assert.equal(res.status, 200, `capture with Host evil.example answered ${res.status}: ${res.body}`);
  assert.equal(res.headers['access-control-allow-origin'], 'http://evil.example', 'capture reflects Origin');
  assert.equal(res.headers['access-control-allow-credentials'], 'true');
  const stored = await server.allEvents({ project: TOKEN, event: 'via foreign host' });
  assert.deepEqual(
    stored.map((e) => [e.uuid, e.distinct_id]),
    [[uuid, 'host-user']],
  );
});

test('capture answers CORS preflights for any origin', { timeout: 10_000 }, async () => {
  const res = await rawRequest({
    port: server.port,
    method: 'OPTIONS',
    path: '/e/',
    headers: {
      Origin: 'http://shop.example:8080',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'content-type,x-custom',
    },
  });
  assert.ok(res.status === 200 || res.status === 204, `preflight status ${res.status}`);
  assert.equal(res.headers['access-control-allow-origin'], 'http://shop.example:8080');
  assert.equal(res.headers['access-control-allow-credentials'], 'true');
  assert.match(String(res.headers['access-control-allow-headers']).toLowerCase(), /content-type/);
  assert.match(String(res.headers['access-control-allow-methods']).toUpperCase(), /POST/);
});

test('SIGTERM with a live stream open: the server still exits promptly and cleanly', { timeout: 20_000 }, async () => {
  const s = await stream();
  const exit = await server.stop();
  assert.ok(!exit.timedOut, 'the server did not exit within 10 s of SIGTERM with an open /api/stream');
  assert.equal(exit.code, 0, `exit after SIGTERM: ${JSON.stringify(exit)}`);
  await waitClosed(s);
});

async function waitClosed(s) {
  const deadline = Date.now() + 5_000;
  while (!s.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(s.closed, 'the event stream ended when the server stopped');
}
