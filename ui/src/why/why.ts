// The "why" answer as the UI shows it: which two ids the open panel asks about (the `why` and
// `why_project` URL params, so a shared link reopens the panel), the answer of `GET /api/why`
// turned into numbered steps, refusals and the two sides, and the `distinct_users_merged`
// findings that concern one person (the person page's banner). Pure: no fetch, no state.
//
// Invariants:
// - `formatWhyParam` and `parseWhyParam` are inverse for any two non-empty ids, commas included
//   (each id is percent-encoded before the two are joined by a comma).
// - Every step and refusal keeps the server's sentence and rule as they are: the engine words
//   each decision once, in its vendor's terms, and the UI never rewords a vendor rule.

import { sourceLabel } from '../lib/sources';
import type { WhyAnswer, WhySide, WhyStep } from '../lib/gen';
import type { Finding } from '../lib/types';

/** The two ids a why panel asks about, in one project. */
export interface WhyTarget {
  project: string;
  a: string;
  b: string;
}

/** The `why` URL param for ids `a` and `b`. */
export function formatWhyParam(a: string, b: string): string {
  return `${encodeURIComponent(a)},${encodeURIComponent(b)}`;
}

/**
 * The panel's target from the route params: `why=<a>,<b>` and `why_project` (the view's project
 * when left out). Null when the params do not name two ids and a project.
 */
export function parseWhyParam(params: Record<string, string>, fallbackProject: string): WhyTarget | null {
  const value = params.why;
  if (!value) return null;
  const parts = value.split(',');
  if (parts.length !== 2) return null;
  let a: string, b: string;
  try {
    [a, b] = parts.map((p) => decodeURIComponent(p));
  } catch {
    return null;
  }
  const project = params.why_project || fallbackProject;
  if (!a || !b || !project) return null;
  return { project, a, b };
}

/** A key that changes exactly when the target does (for reloads and focus moves). */
export function whyKey(target: WhyTarget | null): string {
  return target ? JSON.stringify([target.project, target.a, target.b]) : '';
}

/** One numbered step (or one refusal) as the panel lists it. */
export interface StepView {
  n: number;
  event: string;
  eventUuid: string;
  timestamp: string;
  laneId: string | null;
  from: string;
  to: string;
  kind: WhyStep['kind'];
  rule: WhyStep['rule'];
  /** The rule id in words for its pill ("merge into target"); the id itself stays in a title. */
  ruleLabel: string;
  sentence: string;
  /** Rules of the findings fired on this step's event (e.g. `distinct_users_merged`). */
  flags: Finding['rule'][];
}

export interface SideView {
  id: string;
  personId: string | null;
  /** "person user-a (identified, 3 ids)", "no person". */
  personText: string;
}

export interface WhyView {
  together: boolean;
  /** The panel's question answered in one line ("'a' and 'b' are one person because:"). */
  heading: string;
  summary: string;
  /** Whose rules answered: the project's own vendor, said in words. */
  rules: string;
  rootCause: string | null;
  /**
   * Errors and warnings the lint found on the chain's events, errors first: what the panel leads
   * with when the engine names no root cause (the finding's own sentence says what the device
   * showed before the event).
   */
  findings: Finding[];
  steps: StepView[];
  refusals: StepView[];
  /** Refusals the server counted but did not send (over its cap). */
  moreRefusals: number;
  /** Apart, and no event ever tried to link the two sides. */
  noLink: boolean;
  sides: [SideView, SideView];
}

export function ruleLabel(rule: string): string {
  return rule.replace(/_/g, ' ');
}

const SEVERITY_ORDER: Record<string, number> = { error: 0, warning: 1, info: 2 };

function stepView(step: WhyStep, index: number, findings: readonly Finding[] = []): StepView {
  return {
    n: index + 1,
    event: step.event.event,
    eventUuid: step.event.event_uuid,
    timestamp: step.event.timestamp,
    laneId: step.lane_id,
    from: step.from,
    to: step.to,
    kind: step.kind,
    rule: step.rule,
    ruleLabel: ruleLabel(step.rule),
    sentence: step.sentence,
    flags: [...new Set(findings.filter((f) => f.event_uuids.includes(step.event.event_uuid)).map((f) => f.rule))],
  };
}

function sideView(side: WhySide, labels: Record<string, string>): SideView {
  const label = side.person_id ? labels[side.person_id] : undefined;
  const what = `${side.is_identified ? 'identified' : 'anonymous'}, ${side.person_ids} ${side.person_ids === 1 ? 'id' : 'ids'}`;
  return {
    id: side.distinct_id,
    personId: side.person_id,
    personText: side.person_id ? `person ${label ? `${label} ` : ''}(${what})` : 'no person',
  };
}

/**
 * The panel's view of `answer`; `findings` are the project's findings on the chain's events
 * (any others are ignored), `labels` the display labels of the sides' persons (by person id).
 */
export function whyView(
  answer: WhyAnswer,
  findings: readonly Finding[] = [],
  labels: Record<string, string> = {},
): WhyView {
  const { a, b } = answer;
  const together = answer.together;
  const chainEvents = new Set(together ? answer.chain.map((s) => s.event.event_uuid) : []);
  const seen = new Set<string>();
  const onChain = findings
    .filter((f) => f.severity !== 'info' && f.event_uuids.some((u) => chainEvents.has(u)))
    .sort((x, y) => (SEVERITY_ORDER[x.severity] ?? 3) - (SEVERITY_ORDER[y.severity] ?? 3) || x.seq - y.seq)
    .filter((f) => !seen.has(f.message) && seen.add(f.message));
  return {
    together,
    heading: together
      ? `'${a.distinct_id}' and '${b.distinct_id}' are one person because:`
      : `'${a.distinct_id}' and '${b.distinct_id}' are not one person`,
    summary: answer.summary,
    rules: `Answered with ${sourceLabel(answer.family)} rules, the project's own vendor.`,
    rootCause: together ? answer.root_cause : null,
    findings: onChain,
    steps: together ? answer.chain.map((s, i) => stepView(s, i, findings)) : [],
    refusals: together ? [] : answer.refusals.map((s, i) => stepView(s, i)),
    moreRefusals: together ? 0 : Math.max(0, answer.refusals_total - answer.refusals.length),
    noLink: !together && answer.refusals_total === 0,
    sides: [sideView(a, labels), sideView(b, labels)],
  };
}

/**
 * The `distinct_users_merged` findings about this person: of its project, naming at least one of
 * its ids (a finding names the two users the event joined; both belong to the person they were
 * merged into, unless a later merge moved that person on, when its ids still come along).
 */
export function usersMergedFindings(
  findings: readonly Finding[],
  person: { project: string; distinct_ids: readonly string[] },
): Finding[] {
  const ids = new Set(person.distinct_ids);
  return findings
    .filter(
      (f) =>
        f.rule === 'distinct_users_merged' && f.project === person.project && f.distinct_ids.some((id) => ids.has(id)),
    )
    .sort((x, y) => x.seq - y.seq);
}

/** The two users a `distinct_users_merged` finding names, for its "Why?" link; null if it names fewer. */
export function mergedUsers(finding: Finding): [string, string] | null {
  const [a, b] = finding.distinct_ids;
  return a && b ? [a, b] : null;
}
