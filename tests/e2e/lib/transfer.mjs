// Helpers for the export, import and replay tests: run the CLI, and read a project's
// identity model in a form that does not depend on where it came from.
//
// Imported data lives under the project `import:<name>/<token>`, whose person ids (uuidv5 of
// "<project>:<first distinct id>") differ from the live ones; times shift by milliseconds when a
// HAR's startedDateTime stands in for the arrival time. `identityShape` keeps what must be
// identical: persons (ids, identified, properties), lanes (segments, transitions), decisions
// (event, kind, rule, source, target) and warnings (rule, severity, events, ids).

import { spawn } from 'node:child_process';

import { allPersons, decisions, lanes, warnings } from './identity.mjs';
import { INSPECTOR_BIN, REPO_DIR } from './server.mjs';

/**
 * Runs `identity-inspector ...args`; resolves to { code, stdout, stderr }. `env` adds to the
 * environment; `input` is written to its standard input.
 */
export function runCli(args, { timeout = 60_000, env = {}, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(INSPECTOR_BIN, args, {
      cwd: REPO_DIR,
      env: { ...process.env, RUST_LOG: 'warn', ...env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (input !== undefined) child.stdin.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Like runCli, but throws with the output unless the exit code is 0. */
export async function cli(args, options) {
  const r = await runCli(args, options);
  if (r.code !== 0) throw new Error(`identity-inspector ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r;
}

const sorted = (list, key) => [...list].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

/** The project's identity model, reduced to what an import or replay must reproduce exactly. */
export async function identityShape(server, project) {
  const persons = sorted(
    (await allPersons(server, project)).map((p) => ({
      distinct_ids: [...p.distinct_ids].sort(),
      is_identified: p.is_identified,
      properties: p.properties,
    })),
    (p) => p.distinct_ids.join('\u0000'),
  );
  const devices = sorted(
    (await lanes(server, project)).map((l) => ({
      device_id: l.device_id,
      key_kind: l.key_kind,
      event_count: l.event_count,
      segments: l.segments.map((s) => [s.distinct_id, s.identified, s.event_count]),
      transitions: l.transitions.map((t) => [t.kind, t.from, t.to, t.event_uuid ?? null, t.inferred]),
      sessions: l.sessions.map((s) => s.session_id),
    })),
    (l) => `${l.key_kind}:${l.device_id}`,
  );
  const decided = (await decisions(server, project)).map((d) => [
    d.event_uuid,
    d.event,
    d.kind,
    d.rule,
    d.source,
    d.target,
  ]);
  const warned = sorted(
    (await warnings(server, project)).map((w) => ({
      rule: w.rule,
      severity: w.severity,
      event_uuids: w.event_uuids,
      distinct_ids: w.distinct_ids,
      device_ids: w.device_ids,
    })),
    (w) => JSON.stringify(w),
  );
  return { persons, devices, decisions: sorted(decided, (d) => d.join('\u0000')), warnings: warned };
}
