// `identity-inspector check --expect FILE` against a running inspector fed by the real
// posthog-node SDK: a passing file (exit 0, every check listed, a JUnit report with no
// failure), a failing one (exit 1, each failure explained with the decisions behind it, JUnit
// failures), malformed files and no inspector (exit 2, the mistake named), a rejected request
// failing `rejected_requests: none`, `--wait` for traffic still arriving, several projects, a
// file on standard input, and `--reset` deleting only the checked project.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { sendWithPosthogNode } from './lib/posthog-node.mjs';
import { artifactPath, installWatchdog, makeDataDir, startServer } from './lib/server.mjs';
import { runCli } from './lib/transfer.mjs';

installWatchdog(150_000);

const KEY_A = 'phc_e2e_check_a';
const KEY_B = 'phc_e2e_check_b';
let server;
let dir;

before(async () => {
  server = await startServer({ label: 'check' });
  dir = mkdtempSync(path.join(os.tmpdir(), 'inspector-check-'));
  await sendWithPosthogNode(server.url, KEY_A, (ph) => {
    ph.capture({ distinctId: 'anon-1', event: 'viewed pricing' });
    ph.capture({ distinctId: 'user-1', event: 'signed up' });
    ph.identify({ distinctId: 'user-1', properties: { $anon_distinct_id: 'anon-1' } });
    ph.capture({ distinctId: 'user-2', event: 'signed up' });
    // A placeholder id: PostHog's generic_distinct_id finding.
    ph.capture({ distinctId: 'null', event: 'placeholder id' });
  });
  await sendWithPosthogNode(server.url, KEY_B, (ph) => {
    ph.capture({ distinctId: 'anon-b', event: 'viewed pricing' });
    ph.identify({ distinctId: 'user-b', properties: { $anon_distinct_id: 'anon-b' } });
  });
});

after(async () => {
  await server?.dump('check-data').catch(() => {});
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Writes `text` to a file of this test's directory; returns its path. */
function file(name, text) {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Runs `check` against the test's server; keeps its output as an artifact. */
async function check(label, args, options = {}) {
  const r = await runCli(['check', '--data-dir', server.dataDir, ...args], options);
  writeFileSync(artifactPath(`check-${label}.txt`), `exit ${r.code}\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
  return r;
}

const PASSING = `# What the signup test expects PostHog to make of its traffic.
project: \${CHECK_PROJECT}
persons:
  - [anon-1, user-1]
  - { ids: [user-2], only: true }
apart:
  - [user-1, user-2]
findings:
  must_fire:
    - { rule: generic_distinct_id, ids: ["null"] }
  must_not_fire:
    - distinct_users_merged
    - missing_reset_between_users
rejected_requests: none
events:
  - { event: signed up, distinct_id: user-1, count: 1 }
  - { event: $identify, min: 1 }
`;

test('a file whose expectations hold exits 0 and lists every check, with a JUnit report', async () => {
  const junit = path.join(dir, 'pass.xml');
  const r = await check('pass', ['--expect', file('pass.yaml', PASSING), '--junit', junit], {
    env: { CHECK_PROJECT: KEY_A },
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[1], `project ${KEY_A} (posthog)`);
  for (const title of [
    `project ${KEY_A} has traffic`,
    'anon-1 and user-1 are one person',
    'user-2 is a person with no other id',
    'user-1 and user-2 are different persons',
    'generic_distinct_id naming null fires',
    'distinct_users_merged does not fire',
    'no rejected requests',
    'exactly 1 `signed up` event of user-1',
    'at least 1 `$identify` event',
  ]) {
    assert.ok(lines.includes(`  ✓ ${title}`), `missing ✓ ${title} in\n${r.stdout}`);
  }
  assert.equal(lines.at(-1), '10 checks passed');
  assert.ok(!r.stdout.includes('\u001b['), 'piped output is plain text');
  const xml = readFileSync(junit, 'utf8');
  assert.match(xml, /<testsuites name="[^"]*pass\.yaml" tests="10" failures="0"/);
  assert.equal(xml.match(/<testcase /g).length, 10);
  assert.ok(!xml.includes('<failure'), xml);
});

test('a file whose expectations do not hold exits 1 with what was expected, what is, and why', async () => {
  const junit = path.join(dir, 'fail.xml');
  const failing = JSON.stringify({
    project: KEY_A,
    persons: [['anon-1', 'user-2']],
    apart: [['anon-1', 'user-1']],
    findings: { must_fire: ['repeated_identify'], must_not_fire: ['generic_distinct_id'] },
    events: [{ event: 'signed up', count: 5 }],
  });
  const r = await check('fail', ['--expect', file('fail.json', failing), '--junit', junit]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const out = r.stdout;
  assert.match(out, /✗ anon-1 and user-2 are one person\n {6}expected: one person holding anon-1 and user-2\n/);
  assert.match(out, /actual: {3}anon-1 → \S+ \(2 ids, identified\): /);
  assert.match(out, /why: {6}'anon-1' and 'user-2' are not one person/);
  // The join is explained by the identify that made it.
  assert.match(out, /✗ anon-1 and user-1 are different persons\n/);
  assert.match(out, /1\. \$identify \(#\d+\)[^\n]*: merged/);
  assert.match(
    out,
    /✗ repeated_identify fires\n {6}expected: repeated_identify\n {6}actual: {3}none; this project's findings: /,
  );
  assert.match(out, /✗ generic_distinct_id does not fire\n[\s\S]*fix: /);
  assert.match(out, /✗ exactly 5 `signed up` events\n {6}expected: exactly 5 `signed up` events\n {6}actual: {3}2\n/);
  assert.equal(out.trim().split('\n').at(-1), '5 of 6 checks failed');
  const xml = readFileSync(junit, 'utf8');
  assert.match(xml, /tests="6" failures="5"/);
  assert.equal(xml.match(/<failure /g).length, 5);
});

test('malformed files, a missing file and no inspector exit 2 naming the mistake', async () => {
  const cases = [
    [
      'misspelt key',
      'persons:\n  - [a, b]\nfinding:\n  must_fire: [repeated_identify]\n',
      /unknown field `finding`.*line 3/,
    ],
    [
      'unknown rule',
      'findings:\n  must_fire: [missing_reset]\n',
      /findings\.must_fire\[0\]\.rule: no rule is called "missing_reset"/,
    ],
    ['unset variable', 'persons:\n  - ["${NOT_SET_ANYWHERE}"]\n', /NOT_SET_ANYWHERE is not set/],
    ['nothing expected', `project: ${KEY_A}\n`, /the file expects nothing/],
    ['not YAML', 'persons: [a, b\n', /cannot be checked/],
  ];
  for (const [label, text, message] of cases) {
    const r = await check(`malformed-${label.replaceAll(' ', '-')}`, [
      '--project',
      KEY_A,
      '--expect',
      file(`${label}.yaml`, text),
    ]);
    assert.equal(r.code, 2, `${label}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message, label);
    assert.equal(r.stdout, '', `${label}: nothing is checked`);
  }
  const missing = await check('missing-file', ['--expect', path.join(dir, 'nope.yaml')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read the expectations file .*nope\.yaml/);
  const conflict = await check('project-conflict', ['--project', KEY_B, '--expect', file('named.yaml', PASSING)], {
    env: { CHECK_PROJECT: KEY_A },
  });
  assert.equal(conflict.code, 2);
  assert.match(conflict.stderr, /the file names its project/);
  const nobody = makeDataDir('check-nobody');
  const r = await runCli(['check', '--data-dir', nobody, '--expect', file('any.yaml', 'apart: [[a, b]]\n')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no Identity Inspector is running for/);
});

test('several projects in one file, a file on standard input, and a misspelt project', async () => {
  const several = `projects:
  - project: ${KEY_A}
    persons: [[anon-1, user-1]]
  - project: ${KEY_B}
    persons: [[anon-b, user-b]]
  - project: phc_e2e_chekc_b
    findings: { must_not_fire: [{ severity: error }] }
`;
  const r = await check('stdin', ['--expect', '-'], { input: several });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    new RegExp(`project ${KEY_A} \\(posthog\\)\\n  ✓ project ${KEY_A} has traffic\\n  ✓ anon-1 and user-1`),
  );
  assert.match(r.stdout, /✓ anon-b and user-b are one person/);
  // The typo fails (its must-not-fire holds, as nothing is there): the projects are named.
  assert.match(
    r.stdout,
    /✗ project phc_e2e_chekc_b has traffic\n[^\n]*no events of phc_e2e_chekc_b[^\n]*\n[^\n]*its projects: /,
  );
  assert.match(r.stdout, /1 of 6 checks failed/);
});

test('--wait checks again until traffic still on its way arrives', async () => {
  const text = `project: ${KEY_A}\nevents:\n  - { event: late signup, distinct_id: user-3, count: 1 }\npersons: [[user-3]]\n`;
  const expect = file('late.yaml', text);
  const early = await check('wait-early', ['--expect', expect, '--settle', '0']);
  assert.equal(early.code, 1, 'the event has not been sent yet');
  const waiting = check('wait', ['--expect', expect, '--wait', '20s']);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await sendWithPosthogNode(server.url, KEY_A, (ph) => ph.capture({ distinctId: 'user-3', event: 'late signup' }));
  const r = await waiting;
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /✓ exactly 1 `late signup` event of user-3/);
});

test('a rejected request fails `rejected_requests: none`, and --reset deletes only the checked project', async () => {
  const refused = await server.apiRaw('/batch/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: KEY_B, batch: 'not a list' }),
  });
  assert.equal(refused.status, 400);
  const expect = file('b.yaml', `project: ${KEY_B}\npersons: [[anon-b, user-b]]\nrejected_requests: none\n`);
  const r = await check('reset', ['--expect', expect, '--reset']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /✗ no rejected requests\n[\s\S]*#\d+ POST \/batch\/ → 400 invalid_batch: `batch` is a string/);
  assert.match(r.stderr, new RegExp(`reset: deleted project ${KEY_B} \\(\\d+ events\\)`));
  const projects = (await server.api('/api/projects')).projects.map((p) => p.project);
  assert.ok(!projects.includes(KEY_B), `${KEY_B} is deleted: ${projects}`);
  assert.ok(projects.includes(KEY_A), `${KEY_A} is kept: ${projects}`);
  // The next test of that project starts clean: its check now fails on having no traffic.
  const again = await check('after-reset', ['--expect', expect, '--settle', '0']);
  assert.equal(again.code, 1);
  assert.match(again.stdout, new RegExp(`✗ project ${KEY_B} has traffic`));
  assert.match(again.stdout, /anon-b never arrived/);
  assert.match(again.stdout, /✓ no rejected requests/);
});
