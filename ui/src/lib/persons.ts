// How a person is named in lists and titles: by the id a human would recognise.

import type { Decision, PersonSummary } from './types';

const UUID_LIKE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** posthog-js and mobile SDKs make anonymous ids that are UUIDs; user ids rarely are. */
export function looksAnonymous(id: string): boolean {
  return UUID_LIKE.test(id);
}

/**
 * The id to show for a person: the server's `label` (the one name every view uses) when the
 * person carries it; otherwise, as a fallback, the target of its first merge (the id it was
 * identified as) when decisions are known, else its newest id that does not look anonymous,
 * else its first id.
 */
export function personLabel(
  person: Pick<PersonSummary, 'distinct_ids'> & { label?: string },
  decisions: Decision[] = [],
): string {
  if (person.label) return person.label;
  const ids = person.distinct_ids;
  const joined = decisions
    .filter(
      (d) =>
        (d.kind === 'merged' || d.kind === 'attached' || d.kind === 'created') &&
        d.source &&
        d.target &&
        ids.includes(d.target),
    )
    .sort((a, b) => a.seq - b.seq)[0];
  if (joined?.target) return joined.target;
  for (let i = ids.length - 1; i >= 0; i--) if (!looksAnonymous(ids[i])) return ids[i];
  return ids[0] ?? '';
}
