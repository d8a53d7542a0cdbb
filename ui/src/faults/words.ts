// How fault rules and deliveries read in the UI: the header badge, a rule's counters, one
// delivery attempt. Pure, so Vitest checks the wording (faults.test.ts).

import type { Attempt, FaultView } from '../lib/types';

/** The header badge: "Faults active (2)". */
export function badgeLabel(active: number): string {
  return `Faults active (${active})`;
}

/** What a rule has done so far: "fired 2 of 3", "fired 5 of 12 matched", "expired after 3". */
export function ruleCounters(rule: FaultView): string {
  const count = rule.scope.count;
  if (rule.state === 'expired') return `expired after ${rule.fired}`;
  if (count !== null) return `fired ${rule.fired} of ${count}`;
  if (rule.scope.share !== null) return `fired ${rule.fired} of ${rule.matched} matched`;
  return `fired ${rule.fired}`;
}

/** posthog-js numbers its retries in the query (`retry_count=N`); null when it did not say. */
export function retryNumber(query: string | null): number | null {
  const n = query ? new URLSearchParams(query).get('retry_count') : null;
  return n !== null && /^\d+$/.test(n) ? Number(n) : null;
}

/** One attempt as a short label: "503", "dropped", "200 stored", with posthog-js' retry number. */
export function attemptLabel(a: Attempt): string {
  const answer = a.outcome === 'faulted' ? (a.status === 0 ? 'dropped' : `${a.status} faulted`) : `${a.status} stored`;
  const retry = retryNumber(a.query);
  return retry === null ? answer : `${answer} (retry ${retry})`;
}
