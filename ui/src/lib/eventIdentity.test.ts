import { describe, expect, it } from 'vitest';
import { decisionPills, flaggedIds, idKey, matchedIn } from './eventIdentity';
import type { Decision, Finding } from './types';

const decision = (
  event_uuid: string,
  kind: Decision['kind'],
  source: string | null,
  message: string = kind,
): Decision => ({
  seq: 1,
  event_uuid,
  timestamp: '2026-12-03T16:28:12Z',
  project: 'p',
  event: '$identify',
  kind,
  rule: 'merge_into_target',
  source,
  target: 'user-a',
  person_id: null,
  message,
});

const finding = (
  rule: Finding['rule'],
  severity: Finding['severity'],
  ids: string[],
  devices: string[] = [],
): Finding => ({
  rule,
  severity,
  project: 'p',
  source: 'posthog',
  family: 'posthog',
  message: '',
  fix: '',
  event_uuids: [],
  distinct_ids: ids,
  device_ids: devices,
  seq: 1,
});

describe('decisionPills', () => {
  it('labels merge-type decisions only, the most telling one per event', () => {
    const pills = decisionPills([
      decision('e1', 'merged', 'anon'),
      decision('e2', 'refused', 'user-b', 'Refused: user-b is identified'),
      decision('e2', 'ignored', 'user-b'),
      decision('e3', 'ignored', 'anon'),
      decision('e4', 'attached', null),
      decision('e5', 'created', 'anon'),
    ]);
    expect(pills.get('e1')?.label).toBe('merged');
    expect(pills.get('e2')).toEqual({ label: 'refused', kind: 'refused', message: 'Refused: user-b is identified' });
    expect(pills.get('e3')?.label).toBe('no-op');
    expect(pills.has('e4')).toBe(false); // a plain event attached to its person says nothing
    expect(pills.get('e5')?.label).toBe('new person');
  });
});

describe('flaggedIds', () => {
  it('flags illegal, placeholder and blocked ids per project, not a user on many devices', () => {
    const flagged = flaggedIds([
      finding('cannot_merge_with_illegal_distinct_id', 'error', ['null']),
      finding('generic_distinct_id', 'error', ['undefined']),
      finding('generic_distinct_id', 'warning', ['guest']),
      finding('generic_distinct_id', 'warning', ['user-a'], ['d1', 'd2', 'd3']),
      finding('blocked_identifier_value', 'warning', ['0']),
      finding('missing_reset_between_users', 'error', ['user-b']),
    ]);
    expect([...flagged].sort()).toEqual(['0', 'guest', 'null', 'undefined'].map((id) => idKey('p', id)).sort());
    expect(flagged.has(idKey('other', 'null'))).toBe(false);
  });
});

describe('matchedIn', () => {
  const e = {
    event: '$create_alias',
    distinct_id: 'user-a',
    device_id: 'dev-1',
    session_id: null,
    properties: { alias: 'user-b', $set: { email: 'b@example.com' }, list: ['x', 'needle'] },
  };
  it('names the property path when the search matched outside the shown columns', () => {
    expect(matchedIn(e, 'USER-B')).toBe('properties.alias');
    expect(matchedIn(e, 'b@example')).toBe('properties.$set.email');
    expect(matchedIn(e, 'needle')).toBe('properties.list[1]');
    expect(matchedIn(e, '$set')).toBe('properties.$set');
  });
  it('says nothing when a shown column matched, nothing matched, or there is no search', () => {
    expect(matchedIn(e, 'user-a')).toBeNull();
    expect(matchedIn(e, 'alias')).toBeNull(); // in the event name
    expect(matchedIn(e, 'zzz')).toBeNull();
    expect(matchedIn(e, '  ')).toBeNull();
    expect(matchedIn(e, undefined)).toBeNull();
  });
});
