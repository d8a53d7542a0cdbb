// Identity context for the rows of the Events table: the person each event ended on (served by
// `/api/events` as `persons`, keyed by event uuid), the words of the decision pill a merge-type
// event gets (`decisions`, picked and ranked by the server), the ids the engine flagged as illegal
// or placeholder ids, and where a text search matched.

import type { DecisionKind, DecisionPill, Finding, LintRule } from './types';

/** `PersonRef` of `/api/events` (`persons[uuid]`); optional until every server sends it. */
export interface PersonRef {
  id: string;
  label: string;
}

/** `/api/events`' `decisions[uuid]`: the decision the server picked for an event's pill. */
export type { DecisionPill };

const PILL_LABEL: Record<DecisionKind, string> = {
  merged: 'merged',
  attached: 'linked',
  created: 'new person',
  refused: 'refused',
  ignored: 'no-op',
  dropped: 'dropped',
};

/** What the table's pill says for a decision kind (the server ranks; the UI words). */
export const pillLabel = (kind: DecisionKind): string => PILL_LABEL[kind];

/** The rules whose ids `flaggedIds` tints: the events table asks the server for these only. */
export const FLAGGING_RULES: LintRule[] = [
  'cannot_merge_with_illegal_distinct_id',
  'blocked_identifier_value',
  'generic_distinct_id',
];

/**
 * The ids a finding calls not a real user id, per project (`project\u0000id`): PostHog's illegal ids
 * (`cannot_merge_with_illegal_distinct_id`, `generic_distinct_id` as an error), placeholder-looking
 * ids (`generic_distinct_id` without device lanes; the variant with lanes is one real user on many
 * devices, which is not a bad id) and values a vendor blocks (`blocked_identifier_value`).
 */
export function flaggedIds(findings: Finding[]): Set<string> {
  const out = new Set<string>();
  for (const f of findings) {
    const bad = FLAGGING_RULES.includes(f.rule) && (f.rule !== 'generic_distinct_id' || f.device_ids.length === 0);
    if (bad) for (const id of f.distinct_ids) out.add(idKey(f.project, id));
  }
  return out;
}

export const idKey = (project: string, id: string) => `${project}\u0000${id}`;

/**
 * Where a text search matched an event when not in a column the table shows: `properties.alias`
 * (the first property path whose value contains the text), or null when a shown column contains
 * it (or nothing does: the server matched something the UI cannot see, such as the raw body).
 */
export function matchedIn(
  e: { event: string; distinct_id: string; device_id: string | null; session_id: string | null; properties: unknown },
  q: string | undefined,
): string | null {
  const needle = q?.trim().toLowerCase();
  if (!needle) return null;
  const shown = [e.event, e.distinct_id, e.device_id ?? '', e.session_id ?? ''];
  if (shown.some((v) => v.toLowerCase().includes(needle))) return null;
  return findPath(e.properties, needle, 'properties', 0);
}

function findPath(value: unknown, needle: string, path: string, depth: number): string | null {
  if (value === null || value === undefined || depth > 6) return null;
  if (typeof value !== 'object') return String(value).toLowerCase().includes(needle) ? path : null;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  // Keys first: a key that matches is as good an answer as a value.
  for (const [k] of entries) if (!Array.isArray(value) && k.toLowerCase().includes(needle)) return `${path}.${k}`;
  for (const [k, v] of entries) {
    const hit = findPath(v, needle, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`, depth + 1);
    if (hit) return hit;
  }
  return null;
}
