// A person's properties as the person page shows them: the app's own first, SDK bookkeeping
// (`$`-prefixed keys, nulls) behind a toggle, as PostHog's person page does, and values that
// replaced another user's value marked, since that is how two merged users show in the data.

import type { PersonDetail, PropertyChange } from './types';

/** `$`-prefixed keys are the SDK's and PostHog's; a null is a leftover (`gclid: null`). */
export function isSdkProperty(key: string, value: unknown): boolean {
  return key.startsWith('$') || value === null;
}

/** The person's properties sorted by key, split into the app's own and the SDK's. */
export function splitProperties(properties: Record<string, unknown>): {
  own: [string, unknown][];
  sdk: [string, unknown][];
} {
  const own: [string, unknown][] = [];
  const sdk: [string, unknown][] = [];
  for (const entry of Object.entries(properties).sort(([a], [b]) => a.localeCompare(b))) {
    (isSdkProperty(entry[0], entry[1]) ? sdk : own).push(entry);
  }
  return { own, sdk };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * For each key whose current value replaced a different, non-null value (a `$set` over another
 * value, or a value lost in a merge), the newest such change: the page marks these values,
 * because "email: alice@ → bob@" after a merge is the visible damage of two users in one person.
 * Skipped writes (PostHog's filtered keys) changed nothing and are not conflicts.
 */
export function conflicts(person: Pick<PersonDetail, 'history'>): Map<string, PropertyChange> {
  const out = new Map<string, PropertyChange>();
  for (const change of person.history ?? []) {
    if (change.op === 'filtered_skipped' || change.op === 'set_once' || change.op === 'merge_adopted') continue;
    if (change.old === null || change.new === null || same(change.old, change.new)) continue;
    out.set(change.key, change);
  }
  return out;
}
