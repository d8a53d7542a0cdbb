import { describe, expect, it } from 'vitest';
import { countBySeverity, findingVariant, firstSentence, groupFindings, ownFix, ruleTitle } from './warnings';
import type { Finding, LintRule, Severity } from './types';

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

describe('groupFindings', () => {
  it('groups by rule, errors first, then by size, newest first inside', () => {
    const groups = groupFindings([
      f('identified_share', 'info', 1),
      f('email_as_distinct_id', 'warning', 2),
      f('missing_reset_between_users', 'error', 3),
      f('email_as_distinct_id', 'warning', 9),
      f('repeated_identify', 'info', 4),
      f('repeated_identify', 'info', 5),
    ]);
    expect(groups.map((g) => [g.rule, g.severity, g.findings.map((x) => x.seq)])).toEqual([
      ['missing_reset_between_users', 'error', [3]],
      ['email_as_distinct_id', 'warning', [9, 2]],
      ['repeated_identify', 'info', [5, 4]],
      ['identified_share', 'info', [1]],
    ]);
  });

  it('never puts findings of different severities in one group', () => {
    const groups = groupFindings([f('generic_distinct_id', 'warning', 1), f('generic_distinct_id', 'error', 2)]);
    expect(groups.map((g) => [g.severity, g.findings.map((x) => x.seq)])).toEqual([
      ['error', [2]],
      ['warning', [1]],
    ]);
    for (const g of groups) expect(new Set(g.findings.map((x) => x.severity)).size).toBe(1);
  });

  it('tells the generic id variants apart and gives each its own fix', () => {
    const illegal = { ...f('generic_distinct_id', 'error', 1), fix: 'Send a unique id instead of a placeholder.' };
    const placeholder = { ...f('generic_distinct_id', 'warning', 2), fix: illegal.fix };
    const manyDevices = { ...f('generic_distinct_id', 'warning', 3), fix: illegal.fix, device_ids: ['d1', 'd2', 'd3'] };
    expect([illegal, placeholder, manyDevices].map(findingVariant)).toEqual(['illegal', 'placeholder', 'many_devices']);
    expect(findingVariant(f('missing_reset_between_users', 'error', 4))).toBeNull();
    const groups = groupFindings([illegal, placeholder, manyDevices]);
    expect(groups.map((g) => g.title)).toEqual([
      'Illegal distinct id',
      'One user id on many devices',
      'Placeholder distinct id',
    ]);
    const many = groups.find((g) => g.findings[0] === manyDevices)!;
    expect(many.fix).toMatch(/^Nothing to fix if this is one person/);
    expect(groups.find((g) => g.findings[0] === placeholder)!.fix).toBe(illegal.fix);
    expect(ownFix(manyDevices, many)).toBeNull();
  });

  it('states the commonest fix once and keeps a different one on its row', () => {
    const a = { ...f('missing_reset_between_users', 'error', 1), fix: 'Call reset() on logout.' };
    const b = { ...a, seq: 2 };
    const c = { ...a, seq: 3, fix: 'Call clearIdentity() on logout.' };
    const [g] = groupFindings([a, b, c]);
    expect(g.fix).toBe('Call reset() on logout.');
    expect(g.summary).toMatch(/call reset\(\) on logout/);
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

  it('counts by severity', () => {
    expect(
      countBySeverity([
        f('generic_distinct_id', 'error', 1),
        f('identified_share', 'info', 2),
        f('repeated_identify', 'info', 3),
      ]),
    ).toEqual({
      error: 1,
      warning: 0,
      info: 2,
    });
  });
});
