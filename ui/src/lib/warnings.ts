// Lint findings grouped by rule, most severe first, with a title for each rule.

import type { Finding, LintRule } from './types';

// Keyed by the engine's LintRule (generated from Rust): a new rule fails svelte-check until it has a title.
export const RULES: Record<LintRule, { title: string; summary: string }> = {
  missing_reset_between_users: {
    title: 'Missing reset between users',
    summary: 'A device went from user A to user B without a new anonymous id: call reset() on logout.',
  },
  cannot_merge_with_illegal_distinct_id: {
    title: 'Merge with an illegal distinct id',
    summary: 'identify/alias with an id PostHog refuses to merge (null, undefined, anonymous, 0…).',
  },
  cannot_merge_already_identified: {
    title: 'Merge refused: already identified',
    summary: 'The source person is identified, so PostHog refuses to merge it.',
  },
  invalid_event_when_process_person_profile_is_false: {
    title: 'Merge event sent personless',
    summary: 'PostHog drops merge events sent with $process_person_profile: false.',
  },
  invalid_process_person_profile: {
    title: 'Invalid $process_person_profile',
    summary: '$process_person_profile must be a boolean.',
  },
  server_identify_without_anon_id: {
    title: 'Server identify without anonymous id',
    summary: 'A backend $identify without $anon_distinct_id links nothing.',
  },
  generic_distinct_id: {
    title: 'Generic distinct id',
    summary: 'A placeholder-looking id (null, user, test, 1…) collects unrelated users into one person.',
  },
  identified_before_identify: {
    title: 'Signup or login before identify',
    summary: 'A signup/login event was captured on the anonymous id, before identify.',
  },
  repeated_identify: { title: 'Repeated identify', summary: 'The same identify was sent more than once in a session.' },
  alias_after_identify: {
    title: 'Alias after identify',
    summary: 'alias sent for a user already identified; an error when it joined a second user id to that person.',
  },
  email_as_distinct_id: {
    title: 'Email as distinct id',
    summary: 'The distinct id is an email address: it changes when the user changes it.',
  },
  identified_share: {
    title: 'Identified events share',
    summary: 'Share of identified vs anonymous events (identified events cost more).',
  },
  blocked_identifier_value: {
    title: 'Blocked identifier value',
    summary: 'A blocked (Segment) or disallowed (Mixpanel) value was sent as an id: it links nobody.',
  },
  profile_user_id_limit: {
    title: 'One user id per profile',
    summary: 'Segment dropped an identifier or refused a merge to keep one user id per profile.',
  },
  cluster_already_has_user_id: {
    title: 'Cluster already has a user id',
    summary: 'Mixpanel refused a second $user_id on a cluster.',
  },
  self_alias: { title: 'Alias to itself', summary: 'alias with previousId == userId links nothing.' },
  group_key_too_long: {
    title: 'Group key too long',
    summary: 'PostHog dropped a $groupidentify whose $group_key is over 400 characters.',
  },
  anonymous_id_with_many_user_ids: {
    title: 'Anonymous id with many user ids',
    summary: 'One anonymousId (or $device_id) was sent with several user ids.',
  },
  squished_identities: {
    title: 'Squished identities',
    summary: 'KISSmetrics: a placeholder id, or one id, aliased to many people; aliases cannot be undone.',
  },
  distinct_users_merged: {
    title: 'Two users merged',
    summary:
      'One person owns two user ids (identify targets, identified ids, userIds): usually a missing reset() at logout, or an alias() of an already identified user.',
  },
};

export function ruleTitle(rule: string): string {
  return RULES[rule as LintRule]?.title ?? rule.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

const RANK: Record<string, number> = { error: 0, warning: 1, info: 2 };

export function severityRank(severity: string): number {
  return RANK[severity] ?? 3;
}

/**
 * Findings of one rule that need different words: `generic_distinct_id` is three cases that the
 * engine reports under one rule (see its lint rules): an id PostHog refuses outright (an error),
 * a placeholder-looking id (no device lanes), and one user id identified on several unrelated
 * devices (it lists the lanes), which is fine for one person on many devices.
 */
export type Variant = 'illegal' | 'placeholder' | 'many_devices' | null;

export function findingVariant(f: Finding): Variant {
  if (f.rule !== 'generic_distinct_id') return null;
  if (f.severity === 'error') return 'illegal';
  return f.device_ids.length > 0 ? 'many_devices' : 'placeholder';
}

const VARIANTS: Record<Exclude<Variant, null>, { title: string; summary: string; fix?: string }> = {
  illegal: {
    title: 'Illegal distinct id',
    summary: 'An id PostHog never merges (null, undefined, anonymous, 0…) collects every user who sends it.',
  },
  placeholder: {
    title: 'Placeholder distinct id',
    summary: 'A placeholder-looking id (user, test, 1…) collects unrelated users into one person.',
  },
  many_devices: {
    title: 'One user id on many devices',
    summary: 'One identified id on several unrelated devices: one person on many devices, or a shared id.',
    fix:
      'Nothing to fix if this is one person signing in on several devices. If the devices belong to ' +
      'different people, the id is shared (a constant, a test or team account): send each user their own ' +
      'id (your database id).',
  },
};

export interface RuleGroup {
  /** Unique per group: rule, severity and variant. */
  key: string;
  rule: LintRule;
  title: string;
  /** Every finding of the group has this severity: groups never mix severities. */
  severity: string;
  /** The rule's (or variant's) explanation, stated once for the group. */
  summary: string;
  /** The fix stated once for the group: the variant's own, else the one most of its findings give. */
  fix: string;
  findings: Finding[];
}

/** Groups by rule, severity and variant: errors first, then warnings, then info; bigger groups first; newest finding first. */
export function groupFindings(findings: Finding[]): RuleGroup[] {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = `${f.rule}|${f.severity}|${findingVariant(f) ?? ''}`;
    const list = groups.get(key);
    if (list) list.push(f);
    else groups.set(key, [f]);
  }
  const out: RuleGroup[] = [];
  for (const [key, list] of groups) {
    const first = list[0];
    const variant = findingVariant(first);
    const words = variant ? VARIANTS[variant] : null;
    out.push({
      key,
      rule: first.rule,
      title: words?.title ?? ruleTitle(first.rule),
      severity: first.severity,
      summary: words?.summary ?? RULES[first.rule]?.summary ?? '',
      fix: words?.fix ?? commonest(list.map((f) => f.fix).filter(Boolean)) ?? '',
      findings: [...list].sort((a, b) => b.seq - a.seq),
    });
  }
  return out.sort(
    (a, b) =>
      severityRank(a.severity) - severityRank(b.severity) ||
      b.findings.length - a.findings.length ||
      a.key.localeCompare(b.key),
  );
}

function commonest(values: string[]): string | undefined {
  const counts = new Map<string, number>();
  let best: string | undefined;
  for (const v of values) {
    const n = (counts.get(v) ?? 0) + 1;
    counts.set(v, n);
    if (best === undefined || n > counts.get(best)!) best = v;
  }
  return best;
}

/** A finding's fix when it differs from its group's (shown on its row; null: the header says it). */
export function ownFix(f: Finding, group: RuleGroup): string | null {
  if (findingVariant(f) === 'many_devices') return null;
  return f.fix && f.fix !== group.fix ? f.fix : null;
}

/**
 * The first sentence of a finding's message: its one-line summary in a compact row. A sentence
 * ends at . ! or ? followed by a space and a capital (or a quote or parenthesis), so "i.e. the"
 * or an id with dots does not cut it.
 */
export function firstSentence(message: string): string {
  const m = /^(.+?[.!?])\s+(?=[A-Z'"(])/.exec(message);
  return m ? m[1] : message;
}

export function countBySeverity(findings: Finding[]): Record<'error' | 'warning' | 'info', number> {
  const out = { error: 0, warning: 0, info: 0 };
  for (const f of findings) if (f.severity in out) out[f.severity as keyof typeof out]++;
  return out;
}
