// Durability: several writers post batches while the server is killed with SIGKILL at a random
// moment, again and again on the same data directory. Every event whose request got a 200 must
// be in the database afterwards, and SQLite's integrity check must pass.
//
// DURABILITY_ROUNDS (default 8) sets how many kills; docs/RELIABILITY.md quotes a
// longer run: DURABILITY_ROUNDS=100 node --test e2e/durability.test.mjs

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';

import { artifactPath, makeDataDir, startServer } from './lib/server.mjs';
import { writeFileSync, rmSync } from 'node:fs';

const ROUNDS = Number(process.env.DURABILITY_ROUNDS || 8);
const WRITERS = 6;
const EVENTS_PER_REQUEST = 20;

function post(port, agent, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/batch/',
        agent,
        headers: { 'Content-Type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Posts batches until the server dies; returns the uuids of every batch answered 200. */
async function writer(port, n, stats) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const acked = [];
  for (;;) {
    const uuids = Array.from({ length: EVENTS_PER_REQUEST }, () => randomUUID());
    const batch = uuids.map((uuid, i) => ({
      event: '$pageview',
      distinct_id: `writer-${n}`,
      uuid,
      timestamp: new Date().toISOString(),
      properties: { i, $device_id: `dev-${n}`, $process_person_profile: false },
    }));
    let status;
    try {
      status = await post(port, agent, JSON.stringify({ api_key: 'phc_durability', batch }));
    } catch {
      stats.failed += 1; // the kill: this request may or may not have been committed
      break;
    }
    assert.equal(status, 200, `writer ${n}: a live server must accept the batch`);
    acked.push(...uuids);
  }
  agent.destroy();
  return acked;
}

/** uuids in the database and the integrity check, read with Python's sqlite3 (no server). */
function inspectDatabase(dataDir) {
  const script = `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
check = db.execute("PRAGMA integrity_check").fetchall()
uuids = [r[0] for r in db.execute("SELECT uuid FROM events")]
print(json.dumps({"integrity": [c[0] for c in check], "uuids": uuids}))
`;
  const r = spawnSync('python3', ['-c', script, path.join(dataDir, 'inspector.db')], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test(
  `every acknowledged event survives ${ROUNDS} SIGKILLs under load`,
  { timeout: 60_000 + ROUNDS * 15_000 },
  async () => {
    const dataDir = makeDataDir('durability');
    const acked = new Set();
    const stats = { failed: 0, rounds: 0 };
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const server = await startServer({ label: `durability-${round}`, dataDir });
        const writers = Array.from({ length: WRITERS }, (_, n) => writer(server.port, n, stats));
        // Let the writers get going, then kill at a random moment.
        await sleep(200 + Math.floor(Math.random() * 700));
        server.child.kill('SIGKILL');
        for (const uuids of await Promise.all(writers)) uuids.forEach((u) => acked.add(u));
        await server.stop({ removeDataDir: false });
        stats.rounds += 1;
      }
      assert.ok(
        acked.size > ROUNDS * WRITERS * EVENTS_PER_REQUEST,
        `load actually ran: ${acked.size} acknowledged events`,
      );

      // A clean start on the data directory, then the database itself.
      const server = await startServer({ label: 'durability-final', dataDir });
      const health = await server.api('/api/health');
      await server.stop({ removeDataDir: false });
      const { integrity, uuids } = inspectDatabase(dataDir);
      assert.deepEqual(integrity, ['ok']);
      const stored = new Set(uuids);
      const lost = [...acked].filter((u) => !stored.has(u));
      const summary = {
        rounds: stats.rounds,
        writers: WRITERS,
        acknowledged_events: acked.size,
        stored_events: stored.size,
        requests_cut_by_the_kill: stats.failed,
        lost: lost.length,
        totals_after_restart: health.totals,
      };
      writeFileSync(artifactPath('durability-summary.json'), JSON.stringify(summary, null, 2));
      assert.equal(lost.length, 0, `acknowledged but missing after a kill: ${lost.slice(0, 5).join(', ')}`);
      assert.ok(stored.size >= acked.size);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);
