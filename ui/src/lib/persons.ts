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

/** The finding that one person owns two or more user ids (two real users merged). */
export const MERGED_USERS = 'distinct_users_merged';

/**
 * KISSmetrics' JS library makes base64 anonymous ids of about 28 characters ("Identities"); other
 * libraries make UUIDs; Mixpanel's device ids start with `$device:`. Mirrors the server's rule
 * for the display label, so the ids shown next to the label are the ones it could have picked.
 */
export function looksUserLike(id: string, family?: string): boolean {
  if (!id || looksAnonymous(id) || id.startsWith('$device:')) return false;
  if (family === 'kissmetrics' && id.length >= 20 && /^[A-Za-z0-9+/=]+$/.test(id)) return false;
  return true;
}

type Listed = Pick<PersonSummary, 'distinct_ids'> & {
  label?: string;
  family?: string;
  flags?: string[];
  user_ids?: string[];
};

/**
 * The person's ids that name a user, its label first: the server's `user_ids` (which knows each
 * vendor's id kinds) when the person carries them, else guessed from how the ids look.
 */
export function userLikeIds(person: Listed): string[] {
  if (person.user_ids) return person.user_ids;
  const label = personLabel(person);
  const rest = person.distinct_ids.filter((id) => id !== label && looksUserLike(id, person.family));
  return looksUserLike(label, person.family) ? [label, ...rest] : rest;
}

/**
 * What a list row says about a person: its title (every user-like id, "user-a + user-b", at most
 * `max` of them), how many other ids it has, and the ⚠ badge when two users were merged into it.
 */
export interface PersonRow {
  title: string;
  /** Ids not named in the title. */
  others: number;
  /** "2 user ids" when the person is flagged `distinct_users_merged`, else null. */
  badge: string | null;
}

export function personRow(person: Listed, max = 3): PersonRow {
  const users = userLikeIds(person);
  const named = users.length ? users.slice(0, max) : [personLabel(person)];
  const more = users.length - named.length;
  const title = named.join(' + ') + (more > 0 ? ` + ${more} more` : '');
  const merged = person.flags?.includes(MERGED_USERS) ?? false;
  // The server flagged two user ids; the client-side count of user-like ids can only add to it.
  const badge = merged ? `${Math.max(2, users.length)} user ids` : null;
  return { title, others: person.distinct_ids.length - named.length - Math.max(0, more), badge };
}

/** The list's sort: flagged persons first unless the URL asks for `sort=newest`. */
export type PersonsSort = 'flagged' | 'newest';

export function parsePersonsSort(param: string | undefined): PersonsSort {
  return param === 'newest' ? 'newest' : 'flagged';
}

/** `/api/persons` parameters for the list's URL state (flagged: a lint rule name or empty). */
export function personsParams(state: {
  project: string;
  q: string;
  source?: string;
  flagged?: string;
  sort: PersonsSort;
}) {
  return {
    project: state.project,
    source: state.source,
    q: state.q,
    order: 'newest',
    flagged: state.flagged || undefined,
    sort: state.sort === 'flagged' ? 'flagged' : undefined,
  };
}
