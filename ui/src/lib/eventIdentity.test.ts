import { describe, expect, it } from 'vitest';
import { flaggedIds, idKey, matchedIn, pillLabel } from './eventIdentity';
import type { Finding } from './types';

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

describe('pillLabel', () => {
  it('words every decision kind the server can pick', () => {
    expect(pillLabel('merged')).toBe('merged');
    expect(pillLabel('attached')).toBe('linked');
    expect(pillLabel('created')).toBe('new person');
    expect(pillLabel('ignored')).toBe('no-op');
    expect(pillLabel('refused')).toBe('refused');
    expect(pillLabel('dropped')).toBe('dropped');
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
