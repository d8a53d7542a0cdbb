import { describe, expect, it } from 'vitest';
import type { WhyAnswer, WhyStep } from '../lib/gen';
import type { Finding } from '../lib/types';
import { formatWhyParam, mergedUsers, parseWhyParam, usersMergedFindings, whyKey, whyView } from './why';

const step = (seq: number, event: string, from: string, to: string, over: Partial<WhyStep> = {}): WhyStep => ({
  event: { seq, event_uuid: `uuid-${seq}`, event, timestamp: '2026-12-03T16:32:45Z' },
  lane_id: `lane-${seq}`,
  from,
  to,
  kind: 'merged',
  rule: 'merge_into_target',
  sentence: `sentence ${seq}`,
  ...over,
});

const answer = (over: Partial<WhyAnswer>): WhyAnswer => ({
  project: 'phc_x',
  family: 'posthog',
  a: { distinct_id: 'user-a', person_id: 'p1', person_ids: 3, is_identified: true },
  b: { distinct_id: 'user-b', person_id: 'p1', person_ids: 3, is_identified: true },
  together: true,
  chain: [],
  refusals: [],
  refusals_total: 0,
  root_cause: null,
  summary: 'summary',
  ...over,
});

describe('why URL param', () => {
  it('round-trips two ids, commas and percent signs included', () => {
    for (const [a, b] of [
      ['user-a', 'user-b'],
      ['a,b', 'c%2Cd'],
      ['ünï code', 'x y'],
    ]) {
      const params = { why: formatWhyParam(a, b), why_project: 'phc_x' };
      expect(parseWhyParam(params, '')).toEqual({ project: 'phc_x', a, b });
    }
  });

  it("falls back to the view's project, and refuses what does not name two ids and a project", () => {
    expect(parseWhyParam({ why: 'a,b' }, 'phc_view')).toEqual({ project: 'phc_view', a: 'a', b: 'b' });
    expect(parseWhyParam({ why: 'a,b' }, '')).toBeNull();
    expect(parseWhyParam({ why: 'a', why_project: 'p' }, '')).toBeNull();
    expect(parseWhyParam({ why: 'a,b,c', why_project: 'p' }, '')).toBeNull();
    expect(parseWhyParam({ why: ',b', why_project: 'p' }, '')).toBeNull();
    expect(parseWhyParam({ why: '%E0%A4%A,b', why_project: 'p' }, '')).toBeNull();
    expect(parseWhyParam({}, 'p')).toBeNull();
  });

  it('keys change with the target only', () => {
    const t = { project: 'p', a: 'a', b: 'b' };
    expect(whyKey(t)).toBe(whyKey({ ...t }));
    expect(whyKey(t)).not.toBe(whyKey({ ...t, b: 'c' }));
    expect(whyKey(null)).toBe('');
  });
});

describe('whyView', () => {
  it('numbers the chain in path order, keeps each sentence, and puts the root cause up front', () => {
    const v = whyView(
      answer({
        chain: [step(4, '$identify', 'user-a', 'anon-1'), step(9, '$create_alias', 'anon-1', 'user-b')],
        root_cause: "device 'd' was still identified as 'user-a': no reset()",
      }),
    );
    expect(v.together).toBe(true);
    expect(v.heading).toBe("'user-a' and 'user-b' are one person because:");
    expect(v.rootCause).toContain('no reset()');
    expect(v.steps.map((s) => [s.n, s.event, s.eventUuid, s.from, s.to, s.sentence])).toEqual([
      [1, '$identify', 'uuid-4', 'user-a', 'anon-1', 'sentence 4'],
      [2, '$create_alias', 'uuid-9', 'anon-1', 'user-b', 'sentence 9'],
    ]);
    expect(v.steps[0].ruleLabel).toBe('merge into target');
    expect(v.steps[0].laneId).toBe('lane-4');
    expect(v.refusals).toEqual([]);
    expect(v.noLink).toBe(false);
    expect(v.rules).toBe("Answered with PostHog rules, the project's own vendor.");
  });

  it('apart with no refusal says nothing ever linked them, and shows each side', () => {
    const v = whyView(
      answer({
        together: false,
        a: { distinct_id: 'user-c', person_id: 'p3', person_ids: 2, is_identified: true },
        b: { distinct_id: 'user-d', person_id: null, person_ids: 0, is_identified: false },
      }),
    );
    expect(v.together).toBe(false);
    expect(v.heading).toBe("'user-c' and 'user-d' are not one person");
    expect(v.noLink).toBe(true);
    expect(v.steps).toEqual([]);
    expect(v.sides).toEqual([
      { id: 'user-c', personId: 'p3', personText: 'person (identified, 2 ids)' },
      { id: 'user-d', personId: null, personText: 'no person' },
    ]);
    const named = whyView(answer({ together: false }), [], { p1: 'user-a' });
    expect(named.sides[0].personText).toBe('person user-a (identified, 3 ids)');
  });

  it('apart with refusals lists them and counts the ones left out; a root cause is never shown apart', () => {
    const v = whyView(
      answer({
        together: false,
        b: { distinct_id: 'user-b', person_id: 'p2', person_ids: 1, is_identified: true },
        refusals: [step(7, '$identify', 'user-a', 'user-b', { kind: 'refused', rule: 'source_already_identified' })],
        refusals_total: 3,
        root_cause: 'stale',
      }),
    );
    expect(v.noLink).toBe(false);
    expect(v.refusals.map((r) => [r.n, r.kind, r.ruleLabel])).toEqual([[1, 'refused', 'source already identified']]);
    expect(v.moreRefusals).toBe(2);
    expect(v.rootCause).toBeNull();
    expect(v.steps).toEqual([]);
  });
});

const finding = (over: Partial<Finding>): Finding => ({
  rule: 'distinct_users_merged',
  severity: 'error',
  project: 'phc_x',
  source: 'posthog',
  family: 'posthog',
  message: 'Two users are now one PostHog person',
  fix: 'reset()',
  event_uuids: ['e1'],
  distinct_ids: ['user-a', 'user-b'],
  device_ids: ['dev'],
  seq: 10,
  ...over,
});

describe('whyView with findings', () => {
  it("leads with the errors and warnings found on the chain's events, errors first, each message once", () => {
    const chain = [step(4, '$identify', 'user-a', 'anon-1'), step(9, '$create_alias', 'anon-1', 'user-b')];
    const v = whyView(answer({ chain }), [
      finding({ rule: 'alias_after_identify', severity: 'warning', event_uuids: ['uuid-9'], message: 'alias', seq: 9 }),
      finding({ event_uuids: ['uuid-9'], message: 'merged', seq: 9 }),
      finding({ event_uuids: ['uuid-9'], message: 'merged', seq: 9 }),
      finding({ rule: 'repeated_identify', severity: 'info', event_uuids: ['uuid-4'], message: 'info', seq: 4 }),
      finding({ event_uuids: ['uuid-77'], message: 'elsewhere', seq: 77 }),
    ]);
    expect(v.findings.map((f) => f.message)).toEqual(['merged', 'alias']);
    expect(v.steps.map((s) => s.flags)).toEqual([
      ['repeated_identify'],
      ['alias_after_identify', 'distinct_users_merged'],
    ]);
  });

  it('shows no findings when the ids are apart', () => {
    const v = whyView(answer({ together: false, refusals: [step(7, '$identify', 'a', 'b')], refusals_total: 1 }), [
      finding({ event_uuids: ['uuid-7'] }),
    ]);
    expect(v.findings).toEqual([]);
    expect(v.refusals[0].flags).toEqual([]);
  });
});

describe('usersMergedFindings', () => {
  const person = { project: 'phc_x', distinct_ids: ['anon', 'user-a', 'user-b'] };
  it("keeps this person's distinct_users_merged findings, oldest first", () => {
    const got = usersMergedFindings(
      [
        finding({ seq: 30, distinct_ids: ['user-b', 'user-z'] }),
        finding({ seq: 10 }),
        finding({ rule: 'missing_reset_between_users', seq: 5 }),
        finding({ project: 'phc_other', seq: 6 }),
        finding({ seq: 7, distinct_ids: ['user-c', 'user-d'] }),
      ],
      person,
    );
    expect(got.map((f) => f.seq)).toEqual([10, 30]);
  });

  it('names the two users for the why link, or none when the finding names fewer', () => {
    expect(mergedUsers(finding({}))).toEqual(['user-a', 'user-b']);
    expect(mergedUsers(finding({ distinct_ids: ['user-a'] }))).toBeNull();
  });
});
