// Small readers for the identity API (persons, devices, decisions, warnings), shared by the
// identity-*.test.mjs files. Every read waits server-side until the model applied every committed
// event, so no polling is needed once the events themselves are stored.

import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';

import { artifactPath } from './server.mjs';

const q = (params) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) s.set(k, String(v));
  return s.toString();
};

/** The person owning `distinctId` in `project`, or null when there is none. */
export async function personOf(server, project, distinctId) {
  const body = await server.api(`/api/persons?${q({ project, distinct_id: distinctId })}`);
  if (!Array.isArray(body.persons)) throw new Error(`/api/persons answered without persons: ${JSON.stringify(body)}`);
  if (body.persons.length > 1)
    throw new Error(`/api/persons?distinct_id=${distinctId} answered ${body.persons.length} persons`);
  return body.persons[0] ?? null;
}

/** `GET /api/persons/{id}`: the detail object (person fields + decisions + devices). */
export async function personDetail(server, id) {
  return server.api(`/api/persons/${encodeURIComponent(id)}`);
}

/** Unwraps a person detail answer that may or may not nest the person under `person`. */
export function detailPerson(detail) {
  return detail && typeof detail.person === 'object' && detail.person !== null ? detail.person : detail;
}

export async function allPersons(server, project) {
  const out = [];
  let cursor = null;
  for (let i = 0; i < 100; i++) {
    const body = await server.api(`/api/persons?${q({ project, limit: 1000, cursor })}`);
    out.push(...body.persons);
    if (body.next_cursor === null || body.next_cursor === undefined) return out;
    cursor = body.next_cursor;
  }
  throw new Error('/api/persons: too many pages');
}

export async function lanes(server, project) {
  return (await server.api(`/api/devices?${q({ project })}`)).devices;
}

export async function decisions(server, project, outcome) {
  return (await server.api(`/api/decisions?${q({ project, outcome })}`)).decisions;
}

export async function warnings(server, project) {
  return (await server.api(`/api/warnings?${q({ project })}`)).warnings;
}

/** Writes persons (with details), devices, decisions and warnings of a project to tests/artifacts. */
export async function dumpIdentity(server, project, name) {
  const data = { project };
  try {
    const persons = await allPersons(server, project);
    data.persons = [];
    for (const p of persons)
      data.persons.push(await personDetail(server, p.id).catch((e) => ({ id: p.id, error: String(e.message || e) })));
  } catch (e) {
    data.persons = { error: String(e.message || e) };
  }
  for (const [key, fn] of [
    ['devices', () => lanes(server, project)],
    ['decisions', () => decisions(server, project)],
    ['warnings', () => warnings(server, project)],
    ['events', () => server.allEvents({ project })],
  ]) {
    data[key] = await fn().catch((e) => ({ error: String(e.message || e) }));
  }
  writeFileSync(artifactPath(`${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
  return data;
}

/** Compact text for assertion messages. */
export function brief(v, max = 3000) {
  const s = JSON.stringify(v);
  return s && s.length > max ? `${s.slice(0, max)}…` : s;
}

/** RFC 4122 uuid v5 (sha1) of `name` in namespace `ns`. */
export function uuidv5(name, ns) {
  const nsBytes = Buffer.from(ns.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1')
    .update(Buffer.concat([nsBytes, Buffer.from(name, 'utf8')]))
    .digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** PostHog's person uuid (uuidv5 of "<team>:<first distinct id>"), with the project token in place of the team id. */
export const PERSON_NAMESPACE = '932979b4-65c3-4424-8467-0b66ec27bc22';
export const personUuid = (project, distinctId) => uuidv5(`${project}:${distinctId}`, PERSON_NAMESPACE);
