// The why panel's state: which two ids it asks about (read from the URL, so a shared link or a
// reload reopens it), the answer being fetched, and where focus goes back when it closes.
// `openWhy` is the one entry point every view calls; the panel itself is mounted once, by App.
//
// Invariants:
// - The URL is the only source of the target: `openWhy` and `closeWhy` only change params,
//   and the panel follows the route (Back closes a panel opened by a click).
// - Only the newest target's answer is shown (LiveQuery aborts the older fetch).

import { api } from '../lib/api';
import { LiveQuery } from '../lib/liveQuery.svelte';
import { app } from '../lib/state.svelte';
import type { WhyAnswer } from '../lib/gen';
import type { Finding } from '../lib/types';
import { formatWhyParam, parseWhyParam, whyKey, type WhyTarget } from './why';

/** The element that opened the panel, focused again when it closes (if still on the page). */
let opener: HTMLElement | null = null;

/** Opens the why panel for ids `a` and `b` of `project`, in whatever view is showing. */
export function openWhy(project: string, a: string, b: string): void {
  opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  app.setParams({ why: formatWhyParam(a, b), why_project: project }, true);
}

/** Closes the panel and gives focus back to what opened it. */
export function closeWhy(): void {
  app.setParams({ why: undefined, why_project: undefined });
  const back = opener;
  opener = null;
  if (back?.isConnected) back.focus();
}

/** Findings are fetched for at most this many steps of a chain (one request per event). */
const FINDINGS_STEPS = 8;

/** An answer, with the project's findings on the events of its chain. */
export interface WhyResult {
  answer: WhyAnswer;
  findings: Finding[];
  /** person id -> its display label, for the two sides of an "apart" answer. */
  labels: Record<string, string>;
}

async function loadWhy(t: WhyTarget, signal: AbortSignal): Promise<WhyResult> {
  const answer = await api.why(t.project, t.a, t.b, signal);
  const events = [...new Set(answer.chain.map((s) => s.event.event_uuid))].slice(0, FINDINGS_STEPS);
  const pages = await Promise.all(
    events.map((event_uuid) => api.warnings({ project: t.project, event_uuid }, signal).then((p) => p.warnings)),
  );
  const labels: Record<string, string> = {};
  if (!answer.together) {
    const sides = [answer.a, answer.b].filter((s) => s.person_id);
    const found = await Promise.all(
      sides.map((s) => api.persons({ project: t.project, distinct_id: s.distinct_id, limit: 1 }, signal)),
    );
    for (const page of found) for (const p of page.persons) labels[p.id] = p.label;
  }
  return { answer, findings: pages.flat(), labels };
}

/** The open panel's target and answer; constructed by the panel while it initialises. */
export class WhyPanel {
  readonly target = $derived<WhyTarget | null>(parseWhyParam(app.route.params, app.project));
  readonly key = $derived(whyKey(this.target));
  readonly query: LiveQuery<WhyResult | null>;

  constructor() {
    this.query = new LiveQuery<WhyResult | null>({
      key: () => this.key,
      load: (signal) => {
        const t = this.target;
        return t ? loadWhy(t, signal) : Promise.resolve(null);
      },
      initial: null,
      // A new target never shows the previous answer, even for a moment.
      onKeyChange: () => null,
      // New traffic can join (or split) the two ids: the answer follows, at most every 2 s.
      live: [{ revision: () => (this.target ? app.live.revision.persons : 0), throttleMs: 2000 }],
    });
  }

  get result(): WhyResult | null {
    return this.query.value;
  }

  get error(): Error | null {
    return this.query.error;
  }

  retry(): void {
    this.query.reload();
  }
}
