// Rebuild == incremental, end to end: the identity model built live while posthog-node's traffic
// arrives must equal the one the server rebuilds from SQLite after a restart (persons, decisions,
// device lanes, warnings), byte for byte in the API.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';

import { PostHog } from 'posthog-node';

import { installWatchdog, makeDataDir, startServer } from './lib/server.mjs';

installWatchdog(120_000);

const TOKEN = 'phc_e2e_identity_restart';
const dataDir = makeDataDir('identity-restart');
const servers = [];

after(async () => {
  for (const s of servers) await s.stop();
  if (!process.env.KEEP_E2E_DATA) rmSync(dataDir, { recursive: true, force: true });
});

async function snapshot(server) {
  const q = `project=${TOKEN}`;
  const persons = await server.api(`/api/persons?${q}&limit=5000`);
  const details = [];
  for (const p of persons.persons) details.push(await server.api(`/api/persons/${p.id}`));
  return {
    persons,
    details,
    devices: await server.api(`/api/devices?${q}`),
    decisions: await server.api(`/api/decisions?${q}`),
    warnings: await server.api(`/api/warnings?${q}`),
  };
}

let live;

test('identity built live from posthog-node traffic', { timeout: 45_000 }, async () => {
  const server = await startServer({ label: 'identity-restart', dataDir });
  servers.push(server);
  const client = new PostHog(TOKEN, { host: server.url, flushAt: 7, flushInterval: 0, fetchRetryCount: 0 });
  for (let u = 0; u < 6; u++) {
    client.capture({ distinctId: `anon-${u}`, event: 'viewed pricing', properties: { $device_id: `dev-${u}` } });
    client.identify({
      distinctId: `user-${u % 4}`,
      properties: { $anon_distinct_id: `anon-${u}`, $device_id: `dev-${u}`, $set: { plan: u % 2 ? 'pro' : 'free' } },
    });
    client.capture({ distinctId: `user-${u % 4}`, event: 'signed up', properties: { $device_id: `dev-${u}` } });
  }
  client.alias({ distinctId: 'user-1', alias: 'user-2' }); // refused: user-2 is identified
  client.capture({ distinctId: 'null', event: 'bad id' });
  await client.shutdown(10_000);

  live = await snapshot(server);
  assert.ok(live.persons.persons.length >= 4, JSON.stringify(live.persons).slice(0, 500));
  assert.ok(live.decisions.decisions.some((d) => d.kind === 'refused' && d.rule === 'source_already_identified'));
  assert.ok(live.warnings.warnings.some((w) => w.rule === 'generic_distinct_id'));
  assert.ok(live.devices.devices.length >= 6);
  await server.stop();
});

test('after a restart the model rebuilt from SQLite is identical', { timeout: 45_000 }, async () => {
  assert.ok(live, 'the live snapshot was taken');
  const server = await startServer({ label: 'identity-restart-2', dataDir });
  servers.push(server);
  const rebuilt = await snapshot(server);
  assert.deepEqual(rebuilt, live);
});
