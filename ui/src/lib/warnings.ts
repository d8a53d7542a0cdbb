// Lint findings grouped by rule, most severe first, with a title for each rule.

import type { Finding, FindingGroup, FindingVariant, LintRule, Severity } from './types';

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

/** Words for the variants of one rule (see `FindingVariant` in the engine's `lint/group.rs`). */
const VARIANTS: Record<FindingVariant, { title: string; summary: string; fix?: string }> = {
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

/** A group of `/api/warnings/groups` with the words the view states once for it. */
export interface RuleGroup {
  /** Unique per group: rule, severity and variant. */
  key: string;
  rule: LintRule;
  title: string;
  /** Every finding of the group has this severity: groups never mix severities. */
  severity: Severity;
  variant: FindingVariant | null;
  /** The rule's (or variant's) explanation, stated once for the group. */
  summary: string;
  /** The fix stated once for the group: the variant's own, else the one most of its findings give. */
  fix: string;
  /** Every finding of the group; `findings` holds the newest of them. */
  total: number;
  findings: Finding[];
}

/**
 * Titles and explanations for the server's groups (grouped, ordered and counted by
 * `group_findings` in the engine: errors first, bigger groups first, newest finding first).
 */
export function describeGroups(groups: FindingGroup<Finding>[]): RuleGroup[] {
  return groups.map((g) => {
    const words = g.variant ? VARIANTS[g.variant] : null;
    return {
      key: `${g.rule}|${g.severity}|${g.variant ?? ''}`,
      rule: g.rule,
      title: words?.title ?? ruleTitle(g.rule),
      severity: g.severity,
      variant: g.variant,
      summary: words?.summary ?? RULES[g.rule]?.summary ?? '',
      fix: words?.fix ?? g.fix,
      total: g.total,
      findings: g.findings,
    };
  });
}

/** A finding's fix when it differs from its group's (shown on its row; null: the header says it). */
export function ownFix(f: Finding, group: RuleGroup): string | null {
  if (group.variant === 'many_devices') return null;
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

export function countBySeverity(groups: { severity: string; total: number }[]): Record<Severity, number> {
  const out = { error: 0, warning: 0, info: 0 };
  for (const g of groups) if (g.severity in out) out[g.severity as Severity] += g.total;
  return out;
}
