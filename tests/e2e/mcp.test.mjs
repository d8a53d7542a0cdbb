// The official TypeScript MCP client driving the inspector's tools over both transports, against
// real posthog-node traffic: Streamable HTTP at /mcp on the running server, and stdio through
// `identity-inspector mcp --data-dir`, which pipes to that server (and, once it has stopped,
// serves the data dir read-only itself).

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { sendWithPosthogNode } from './lib/posthog-node.mjs';
import { INSPECTOR_BIN, installWatchdog, rawRequest, startServer } from './lib/server.mjs';

installWatchdog(150_000);

const TOKEN = 'phc_e2e_mcp';
const TOOLS = [
  'add_fault',
  'clear_faults',
  'clear_project',
  'device_timeline',
  'get_person',
  'list_faults',
  'list_projects',
  'list_rejected_requests',
  'list_warnings',
  'search_events',
  'vendor_lens',
  'wait_for_events',
  'why',
];

let server;
/** The clients, by transport. */
const clients = {};

/** Sends `send(client)` with the real posthog-node SDK (`lib/posthog-node.mjs`). */
const withPostHog = (send) => sendWithPosthogNode(server.url, TOKEN, send);

function stdioClient(dataDir) {
  return new StdioClientTransport({
    command: INSPECTOR_BIN,
    args: ['mcp', '--data-dir', dataDir],
    env: { ...process.env, RUST_LOG: 'warn' },
    stderr: 'pipe',
  });
}

async function connect(transport) {
  const client = new Client({ name: 'inspector-e2e', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** A tool's text, failing the test when the tool answered an error. */
async function text(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  const body = result.content.map((c) => c.text).join('\n');
  assert.notEqual(result.isError, true, `${name} answered an error: ${body}`);
  return body;
}

/** A tool's error text, failing the test when the tool did not answer an error. */
async function failure(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  const body = result.content.map((c) => c.text).join('\n');
  assert.equal(result.isError, true, `${name} should have failed: ${body}`);
  return body;
}

before(async () => {
  server = await startServer({ label: 'mcp' });
  // A visitor browses anonymously, signs up (identify with the anonymous id), and the backend
  // aliases an old id; another visitor never signs up.
  await withPostHog((posthog) => {
    posthog.capture({ distinctId: 'anon-m1', event: 'viewed pricing', properties: { $device_id: 'device-m1' } });
    posthog.identify({
      distinctId: 'user-m1',
      properties: { $anon_distinct_id: 'anon-m1', $set: { email: 'm1@example.com' } },
    });
    posthog.alias({ distinctId: 'user-m1', alias: 'legacy-m1' });
    posthog.capture({ distinctId: 'visitor-m2', event: 'viewed pricing' });
  });
  // An SDK sending garbage: stored as a rejected request with the reason.
  const refused = await fetch(new URL('/i/v0/e/', server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: TOKEN, event: 'no distinct id' }),
  });
  assert.equal(refused.status, 400, await refused.text());
  await server.waitFor(async () => (await server.allEvents({ project: TOKEN })).length >= 4);

  clients.http = await connect(new StreamableHTTPClientTransport(new URL('/mcp', server.url)));
  clients.stdio = await connect(stdioClient(server.dataDir));
});

after(async () => {
  await Promise.allSettled(Object.values(clients).map((c) => c.close()));
  await server?.stop();
});

for (const transport of ['http', 'stdio']) {
  test(`${transport}: every tool is listed with its input schema`, { timeout: 15_000 }, async () => {
    const { tools } = await clients[transport].listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), TOOLS);
    for (const tool of tools) {
      assert.equal(tool.inputSchema.type, 'object', tool.name);
      assert.equal(tool.inputSchema.additionalProperties, false, tool.name);
      assert.ok(tool.description.length > 40, tool.name);
    }
    assert.deepEqual(tools.find((t) => t.name === 'why').inputSchema.required, ['project', 'a', 'b']);
  });

  test(`${transport}: each tool answers with real ids from the captured traffic`, { timeout: 30_000 }, async () => {
    const client = clients[transport];
    const projects = await text(client, 'list_projects');
    assert.match(projects, new RegExp(`- "${TOKEN}": source posthog, PostHog identity rules`));

    const events = await text(client, 'search_events', { project: TOKEN, event: '$identify' });
    assert.match(events, /^1 event \(newest first;/);
    const personId = events.match(/person ([0-9a-f-]{36})/)?.[1];
    assert.ok(personId, `the event names its person: ${events}`);
    const [apiPerson] = (await server.api(`/api/persons?project=${TOKEN}&distinct_id=user-m1`)).persons;
    assert.equal(personId, apiPerson.id, 'the same person as /api/persons');

    const person = await text(client, 'get_person', { person_id: personId });
    for (const id of ['"anon-m1"', '"user-m1"', '"legacy-m1"']) assert.ok(person.includes(id), `${id}: ${person}`);
    assert.match(person, /- email = "m1@example.com"/);
    assert.match(person, /Decisions about it \(\d+, oldest first\):/);

    // The why answer quotes the decision that joined the ids: its rule and the vendor's sentence,
    // exactly as /api/why gives them.
    const why = await text(client, 'why', { project: TOKEN, a: 'anon-m1', b: 'user-m1' });
    const apiWhy = await server.api(`/api/why?project=${TOKEN}&a=anon-m1&b=user-m1`);
    assert.equal(apiWhy.together, true);
    assert.ok(why.startsWith(apiWhy.summary), why);
    const [step] = apiWhy.chain;
    assert.ok(why.includes(`rule ${step.rule}`), `names the rule ${step.rule}: ${why}`);
    assert.ok(why.includes(step.sentence), `gives the vendor's reason: ${why}`);
    const apart = await text(client, 'why', { project: TOKEN, a: 'user-m1', b: 'visitor-m2' });
    assert.match(apart, /are not one person/);

    const timeline = await text(client, 'device_timeline', { distinct_id: 'user-m1' });
    assert.match(timeline, /^Lane "/);
    assert.match(timeline, /distinct id "user-m1"/);

    const warnings = await text(client, 'list_warnings', { project: TOKEN });
    assert.match(warnings, /^\d+ findings? in \d+ groups?/);

    const [rejected] = (await server.api('/api/requests?outcome=rejected')).requests;
    const rejections = await text(client, 'list_rejected_requests');
    assert.ok(rejections.includes(`- request ${rejected.id} · POST /i/v0/e/`), rejections);
    assert.ok(rejections.includes(rejected.error), `the stored reason: ${rejections}`);

    const lens = await text(client, 'vendor_lens', { project: TOKEN });
    assert.ok(lens.startsWith(`Vendor lens of "${TOKEN}"`), lens);
    for (const vendor of ['PostHog', 'Segment', 'RudderStack', 'Mixpanel', 'KISSmetrics'])
      assert.ok(lens.includes(`- ${vendor}`), `${vendor}: ${lens}`);
  });

  test(`${transport}: wait_for_events returns when the app sends`, { timeout: 30_000 }, async () => {
    const client = clients[transport];
    const newest = Number((await text(client, 'list_projects')).match(/Newest event seq: (\d+)/)[1]);
    const name = `mcp wait ${transport}`;
    const started = Date.now();
    const waiting = text(client, 'wait_for_events', {
      project: TOKEN,
      event: name,
      after_seq: newest,
      timeout_seconds: 25,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await withPostHog((posthog) => posthog.capture({ distinctId: 'user-m1', event: name }));
    const arrived = await waiting;
    assert.ok(Date.now() - started < 20_000, 'woken by the capture, not the timeout');
    assert.match(arrived, new RegExp(`^1 matching event arrived after seq ${newest}`));
    assert.ok(arrived.includes(`"${name}"`) && arrived.includes('distinct_id "user-m1"'), arrived);

    const quiet = await text(client, 'wait_for_events', { project: TOKEN, event: 'never sent', timeout_seconds: 1 });
    assert.match(quiet, /^Timed out after 1 s: 0 of 1 matching events arrived/);
  });

  test(`${transport}: unknown tools and bad arguments are errors`, { timeout: 15_000 }, async () => {
    const client = clients[transport];
    await assert.rejects(client.callTool({ name: 'drop_everything', arguments: {} }), /tool not found/);
    assert.match(await failure(client, 'search_events', { project: 'phc_typo' }), /no project "phc_typo"/);
    assert.match(await failure(client, 'search_events', { projct: TOKEN }), /unknown field `projct`/);
    assert.match(await failure(client, 'list_warnings', { rule: 'nope' }), /unknown rule "nope"/);
    assert.match(await failure(client, 'why', { project: TOKEN, a: 'user-m1', b: 'nobody' }), /'nobody'/);
  });
}

test('clear_project needs the control token over HTTP; the stdio pipe sends it', { timeout: 15_000 }, async () => {
  assert.match(await failure(clients.http, 'clear_project', { project: TOKEN }), /^Error \(bad_token\)/);
  const before = (await server.allEvents({ project: TOKEN })).length;
  assert.ok(before >= 4, 'nothing was deleted');
  // Another key to clear: the read-only test below still reads TOKEN's traffic.
  const scratch = `${TOKEN}_scratch`;
  const batch = [{ event: 'scratch', distinct_id: 'scratch-1' }];
  const sent = await fetch(`${server.url}/batch/`, {
    method: 'POST',
    body: JSON.stringify({ api_key: scratch, batch }),
  });
  assert.equal(sent.status, 200);
  const cleared = await text(clients.stdio, 'clear_project', { project: scratch });
  assert.match(cleared, new RegExp(`^Cleared project "${scratch}": 1 event and`));
  assert.deepEqual(await server.allEvents({ project: scratch }), [], 'the project is gone');
  assert.deepEqual((await server.api(`/api/persons?project=${scratch}`)).persons, []);
  assert.equal((await server.allEvents({ project: TOKEN })).length, before, 'the other project stays');
});

test(
  'fault rules from an agent: added through stdio (token sent), refused over HTTP without it, in force for capture, cleared',
  { timeout: 15_000 },
  async () => {
    assert.match(await failure(clients.http, 'add_fault', { rule: 'posthog:503:count=1' }), /^Error \(bad_token\)/);
    assert.match(await failure(clients.stdio, 'add_fault', { rule: 'posthog:status=200' }), /200/);
    const added = await text(clients.stdio, 'add_fault', { rule: 'route=/batch,status=503,count=1' });
    assert.match(added, /^Fault rule #\d+ in force/);
    assert.match(await text(clients.http, 'list_faults'), /^1 fault rule\(s\) in force\.[\s\S]*in force/);
    const body = JSON.stringify({ api_key: `${TOKEN}_faulted`, batch: [{ event: 'x', distinct_id: 'f-1' }] });
    const faulted = await fetch(`${server.url}/batch/`, { method: 'POST', body });
    assert.equal(faulted.status, 503, 'capture answers like a failing vendor');
    assert.equal((await fetch(`${server.url}/batch/`, { method: 'POST', body })).status, 200, 'count=1: then normal');
    await text(clients.stdio, 'add_fault', { rule: 'posthog:429:retry_after=2' });
    assert.match(await text(clients.stdio, 'clear_faults'), /^Removed 1 fault rule/);
    assert.equal((await fetch(`${server.url}/batch/`, { method: 'POST', body })).status, 200, 'cleared');
  },
);

test('/mcp refuses other Host values and web pages, and sends no CORS headers', { timeout: 15_000 }, async () => {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const rebound = await rawRequest({
    port: server.port,
    method: 'POST',
    path: '/mcp',
    headers: { ...headers, host: `evil.example:${server.port}` },
    body,
  });
  assert.equal(rebound.status, 403, rebound.body);
  assert.equal(JSON.parse(rebound.body).code, 'wrong_host');
  const page = await rawRequest({
    port: server.port,
    method: 'POST',
    path: '/mcp',
    headers: { ...headers, origin: 'http://evil.example' },
    body,
  });
  assert.equal(page.status, 403, page.body);
  assert.equal(page.headers['access-control-allow-origin'], undefined);
  const preflight = await rawRequest({
    port: server.port,
    method: 'OPTIONS',
    path: '/mcp',
    headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
  });
  assert.equal(preflight.headers['access-control-allow-origin'], undefined, 'no CORS preflight answer');
});

test('with no inspector running, stdio serves the data dir read-only', { timeout: 30_000 }, async () => {
  await clients.stdio.close();
  delete clients.stdio;
  await server.stop({ removeDataDir: false });
  const client = await connect(stdioClient(server.dataDir));
  try {
    const projects = await text(client, 'list_projects');
    assert.match(projects, new RegExp(`- "${TOKEN}": source posthog`));
    assert.match(projects, /Nothing new can arrive: .*no Identity Inspector is running/);
    const why = await text(client, 'why', { project: TOKEN, a: 'anon-m1', b: 'user-m1' });
    assert.match(why, /are one person/, 'the identity model is rebuilt from the data dir');
    assert.match(await failure(client, 'wait_for_events', { timeout_seconds: 1 }), /identity-inspector serve/);
  } finally {
    await client.close();
    rmSync(server.dataDir, { recursive: true, force: true });
  }
});
