// The CLI against a running inspector, fed by the real posthog-node SDK: `tail` piped (plain
// text, one line per event, the merge an identify made on its line, a finding), `tail` under a
// pseudo-terminal (util-linux `script`: colour), `tail --format json`, and `persons`, `why`,
// `warnings` (human and `--json`); and the error when no inspector runs for the data dir.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import {
  INSPECTOR_BIN,
  REPO_DIR,
  artifactPath,
  installWatchdog,
  makeDataDir,
  startServer,
  waitFor,
} from './lib/server.mjs';
import { sendWithPosthogNode } from './lib/posthog-node.mjs';
import { cli, runCli } from './lib/transfer.mjs';

installWatchdog(150_000);

const KEY = 'phc_e2e_cli';
let server;
const tails = [];

/** Starts a long-running CLI command; its output accumulates in `.out`. */
function follow(label, command, args, env = {}) {
  // Colour is what the terminal test looks for: a NO_COLOR in the caller's environment goes.
  const inherited = { ...process.env };
  delete inherited.NO_COLOR;
  const child = spawn(command, args, {
    cwd: REPO_DIR,
    env: { ...inherited, RUST_LOG: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail = { label, child, out: '', err: '' };
  child.stdout.on('data', (c) => (tail.out += c));
  child.stderr.on('data', (c) => (tail.err += c));
  tails.push(tail);
  return tail;
}

const dirArgs = () => ['--data-dir', server.dataDir];

before(async () => {
  server = await startServer({ label: 'cli-queries' });
});

after(async () => {
  for (const t of tails) {
    t.child.kill('SIGTERM');
    writeFileSync(artifactPath(`cli-queries-tail-${t.label}.txt`), `${t.out}\n--- stderr ---\n${t.err}`);
  }
  await server?.dump('cli-queries-data').catch(() => {});
  await server?.stop();
});

/** Sends with the real posthog-node SDK (`lib/posthog-node.mjs`). */
const send = (key, build) => sendWithPosthogNode(server.url, key, build);

const ESC = '\u001b[';
const stripAnsi = (text) => text.replaceAll(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');

test('tail follows posthog-node traffic: plain when piped, coloured on a terminal', { timeout: 60_000 }, async () => {
  const piped = follow('piped', INSPECTOR_BIN, ['tail', ...dirArgs()]);
  const json = follow('json', INSPECTOR_BIN, ['tail', ...dirArgs(), '--project', KEY, '--format', 'json']);
  // A pseudo-terminal: `script` runs the command with a tty as its standard output.
  const command = [INSPECTOR_BIN, 'tail', ...dirArgs()].map((a) => `'${a}'`).join(' ');
  const tty = follow('tty', 'script', ['-qfec', command, '/dev/null'], { TERM: 'xterm-256color' });

  // Every tail is following once it shows a warm-up event sent after it started.
  let ping = 0;
  await waitFor(
    async () => {
      ping += 1;
      await send('phc_e2e_warmup', (ph) => ph.capture({ distinctId: 'warm', event: `ping-${ping}` }));
      await new Promise((resolve) => setTimeout(resolve, 300));
      return [piped, tty].every((t) => t.out.includes('ping-'));
    },
    30_000,
    { message: () => tails.map((t) => `${t.label}: ${t.out}${t.err}`).join('\n') },
  );

  await send(KEY, (ph) => {
    ph.capture({ distinctId: 'anon-c1', event: 'viewed pricing' });
    ph.capture({ distinctId: 'user-c1', event: 'signed up' });
  });
  // Both ids have a person now; the identify merges them.
  await send(KEY, (ph) => ph.identify({ distinctId: 'user-c1', properties: { $anon_distinct_id: 'anon-c1' } }));
  await send(KEY, (ph) => ph.capture({ distinctId: 'null', event: 'placeholder id' }));

  const lineOf = (text, ...words) =>
    stripAnsi(text)
      .split('\n')
      .find((l) => words.every((w) => l.includes(w)));
  await waitFor(() => lineOf(piped.out, 'generic_distinct_id'), 20_000, {
    message: () => `piped tail:\n${piped.out}${piped.err}`,
  });
  const pricing = lineOf(piped.out, 'viewed pricing');
  assert.ok(pricing && pricing.includes('posthog') && pricing.includes(KEY) && pricing.includes('anon-c1'), piped.out);
  const identify = lineOf(piped.out, '$identify', 'user-c1');
  assert.ok(identify, piped.out);
  assert.match(identify, /merged: /, `the identify's line says it merged: ${identify}`);
  assert.ok(lineOf(piped.out, 'ERROR', 'generic_distinct_id', KEY), `a finding line:\n${piped.out}`);
  assert.ok(!piped.out.includes(ESC), 'no colour codes when piped');
  const order = ['viewed pricing', 'signed up', '$identify', 'placeholder id'].map((w) => piped.out.indexOf(w));
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    order,
    `events in arrival order:\n${piped.out}`,
  );

  await waitFor(() => lineOf(tty.out, '$identify', 'merged'), 20_000, { message: () => `tty tail:\n${tty.out}` });
  assert.ok(tty.out.includes(ESC), `colour codes on a terminal:\n${JSON.stringify(tty.out.slice(0, 400))}`);

  await waitFor(() => json.out.includes('placeholder id'), 20_000, { message: () => `json tail:\n${json.out}` });
  const objects = json.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(
    objects.every((o) => o.type !== 'event' || o.project === KEY),
    'the project filter',
  );
  const merged = objects.find((o) => o.type === 'event' && o.event === '$identify');
  assert.equal(merged?.decision?.kind, 'merged', JSON.stringify(merged));
  assert.equal(merged.person.label, 'user-c1');
});

test('tail prints a burst bigger than its pages once each, in arrival order', { timeout: 60_000 }, async () => {
  // 2 500 events (pages are 1 000): the tail reads them oldest first, page after page, and while
  // capture is live its reads are paced (`followers.rs`), so it may lag; it must not skip or repeat.
  const burstKey = 'phc_e2e_cli_burst';
  const json = follow('burst', INSPECTOR_BIN, ['tail', ...dirArgs(), '--project', burstKey, '--format', 'json']);
  const events = () =>
    json.out
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l))
      .filter((o) => o.type === 'event');
  await waitFor(
    async () => {
      await send(burstKey, (ph) => ph.capture({ distinctId: 'burst-warm', event: 'warm-up' }));
      await new Promise((resolve) => setTimeout(resolve, 300));
      return events().length > 0;
    },
    20_000,
    { message: () => `burst tail:\n${json.out}${json.err}` },
  );
  const total = 2500;
  await send(burstKey, (ph) => {
    for (let i = 0; i < total; i += 1) ph.capture({ distinctId: `burst-${i % 50}`, event: `burst ${i}` });
  });
  await waitFor(() => events().filter((o) => o.event.startsWith('burst ')).length >= total, 40_000, {
    message: () => `burst tail printed ${events().length} events:\n${json.err}`,
  });
  const burst = events().filter((o) => o.event.startsWith('burst '));
  assert.equal(burst.length, total, 'each event once');
  const seqs = burst.map((o) => o.seq);
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => a - b),
    'in arrival order',
  );
  assert.equal(new Set(burst.map((o) => o.event)).size, total, 'no event repeated or missing');
});

test('persons, why and warnings print what the views show', { timeout: 30_000 }, async () => {
  const persons = JSON.parse((await cli(['persons', ...dirArgs(), '--project', KEY, '--json'])).stdout);
  const joined = persons.persons.find((p) => p.distinct_ids.includes('user-c1'));
  assert.deepEqual([...joined.distinct_ids].sort(), ['anon-c1', 'user-c1'], JSON.stringify(persons));

  const table = (await cli(['persons', ...dirArgs(), '--project', KEY])).stdout;
  const lines = table.trimEnd().split('\n');
  assert.match(lines[0], /^PERSON +PROJECT +IDENTIFIED +DISTINCT IDS/);
  assert.ok(
    lines.some((l) => l.startsWith('user-c1') && l.includes('anon-c1')),
    table,
  );
  assert.ok(
    lines.every((l) => l.length <= 80),
    `fits 80 columns:\n${table}`,
  );
  assert.match(lines.at(-1), /^\d+ persons?$/);

  const why = (await cli(['why', 'anon-c1', 'user-c1', ...dirArgs(), '--project', KEY])).stdout;
  assert.match(why, /one person/, why);
  assert.match(why, /merged/, why);
  const answer = JSON.parse(
    (await cli(['why', 'anon-c1', 'user-c1', ...dirArgs(), '--project', KEY, '--json'])).stdout,
  );
  assert.equal(answer.together, true);
  assert.ok(answer.chain.length >= 1);
  const unknown = await runCli(['why', 'anon-c1', 'nobody', ...dirArgs(), '--project', KEY]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /nobody/);

  const warnings = JSON.parse((await cli(['warnings', ...dirArgs(), '--project', KEY, '--json'])).stdout);
  assert.ok(
    warnings.warnings.some((w) => w.rule === 'generic_distinct_id' && w.distinct_ids.includes('null')),
    JSON.stringify(warnings),
  );
  const text = (await cli(['warnings', ...dirArgs(), '--project', KEY, '--rule', 'generic_distinct_id'])).stdout;
  assert.match(text, /^ERROR {2}generic_distinct_id {2}phc_e2e_cli$/m, text);

  const devices = (await cli(['devices', '--url', server.url, '--project', KEY])).stdout;
  assert.match(devices, /anon-c1 → user-c1|user-c1/, devices);
});

test('with no inspector running for the data dir, the CLI says how to start one', { timeout: 15_000 }, async () => {
  const dir = makeDataDir('cli-none');
  for (const command of [['persons'], ['tail'], ['why', 'a', 'b']]) {
    const r = await runCli([...command, '--data-dir', dir]);
    assert.equal(r.code, 1, `${command[0]}: ${r.stderr}`);
    assert.match(r.stderr, /no Identity Inspector is running for /);
    assert.ok(r.stderr.includes(`identity-inspector serve --data-dir ${dir}`), r.stderr);
  }
});
