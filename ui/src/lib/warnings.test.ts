import { describe, expect, it } from 'vitest';
import { countBySeverity, describeGroups, firstSentence, ownFix, ruleTitle } from './warnings';
import type { Finding, FindingGroup, LintRule, Severity } from './types';

const f = (rule: LintRule, severity: Severity, seq: number): Finding => ({
  rule,
  severity,
  project: 'p',
  source: 'posthog',
  family: 'posthog',
  message: `${rule} ${seq}`,
  fix: '',
  event_uuids: [],
  distinct_ids: [],
  device_ids: [],
  seq,
});

const group = (
  rule: LintRule,
  severity: Severity,
  findings: Finding[],
  extra: Partial<FindingGroup<Finding>> = {},
): FindingGroup<Finding> => ({ rule, severity, variant: null, total: findings.length, fix: '', findings, ...extra });

describe('describeGroups', () => {
  it("keeps the server's order and counts, and titles each group", () => {
    const groups = describeGroups([
      group('missing_reset_between_users', 'error', [f('missing_reset_between_users', 'error', 3)], { total: 40 }),
      group('repeated_identify', 'info', [f('repeated_identify', 'info', 5)]),
    ]);
    expect(groups.map((g) => [g.key, g.title, g.total, g.findings.length])).toEqual([
      ['missing_reset_between_users|error|', 'Missing reset between users', 40, 1],
      ['repeated_identify|info|', 'Repeated identify', 1, 1],
    ]);
    expect(groups[0].summary).toMatch(/call reset\(\) on logout/);
  });

  it('gives the generic id variants their own words and the many-devices one its own fix', () => {
    const fix = 'Send a unique id instead of a placeholder.';
    const illegal = { ...f('generic_distinct_id', 'error', 1), fix };
    const placeholder = { ...f('generic_distinct_id', 'warning', 2), fix };
    const manyDevices = { ...f('generic_distinct_id', 'warning', 3), fix, device_ids: ['d1', 'd2', 'd3'] };
    const groups = describeGroups([
      group('generic_distinct_id', 'error', [illegal], { variant: 'illegal', fix }),
      group('generic_distinct_id', 'warning', [manyDevices], { variant: 'many_devices', fix }),
      group('generic_distinct_id', 'warning', [placeholder], { variant: 'placeholder', fix }),
    ]);
    expect(groups.map((g) => g.title)).toEqual([
      'Illegal distinct id',
      'One user id on many devices',
      'Placeholder distinct id',
    ]);
    expect(new Set(groups.map((g) => g.key)).size).toBe(3);
    expect(groups[1].fix).toMatch(/^Nothing to fix if this is one person/);
    expect(groups[2].fix).toBe(fix);
    expect(ownFix(manyDevices, groups[1])).toBeNull();
  });

  it("shows a finding's fix on its row only when it differs from the group's", () => {
    const a = { ...f('missing_reset_between_users', 'error', 1), fix: 'Call reset() on logout.' };
    const c = { ...a, seq: 3, fix: 'Call clearIdentity() on logout.' };
    const [g] = describeGroups([group('missing_reset_between_users', 'error', [c, a], { fix: a.fix })]);
    expect(g.fix).toBe('Call reset() on logout.');
    expect(ownFix(a, g)).toBeNull();
    expect(ownFix(c, g)).toBe('Call clearIdentity() on logout.');
  });

  it('cuts a message to its first sentence', () => {
    expect(firstSentence("'null' is not a real user id. PostHog refuses it.")).toBe("'null' is not a real user id.");
    expect(firstSentence('user.name@example.com is an email. Use an id.')).toBe('user.name@example.com is an email.');
    expect(firstSentence('no full stop')).toBe('no full stop');
    expect(firstSentence("Not merged: 'null' (the target, i.e. the id). PostHog refuses it.")).toBe(
      "Not merged: 'null' (the target, i.e. the id).",
    );
  });

  it('titles known and unknown rules', () => {
    expect(ruleTitle('missing_reset_between_users')).toBe('Missing reset between users');
    expect(ruleTitle('some_new_rule')).toBe('Some new rule');
  });

  it("counts by severity over every group's total", () => {
    expect(
      countBySeverity([
        { severity: 'error', total: 1 },
        { severity: 'info', total: 2 },
        { severity: 'info', total: 30 },
      ]),
    ).toEqual({ error: 1, warning: 0, info: 32 });
  });
});
