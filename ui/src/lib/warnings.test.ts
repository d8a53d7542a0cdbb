import { describe, expect, it } from 'vitest';
import { countBySeverity, groupFindings, ruleTitle } from './warnings';
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

  it('takes the most severe severity of a mixed group', () => {
    expect(
      groupFindings([f('generic_distinct_id', 'warning', 1), f('generic_distinct_id', 'error', 2)])[0].severity,
    ).toBe('error');
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
