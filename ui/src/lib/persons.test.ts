import { describe, expect, it } from 'vitest';
import {
  looksAnonymous,
  looksUserLike,
  parsePersonsSort,
  personLabel,
  personRow,
  personsParams,
  userLikeIds,
} from './persons';
import type { Decision } from './types';

const anon = '019a2b3c-4d5e-7f00-8abc-0123456789ab';
const d = (seq: number, kind: Decision['kind'], target: string): Decision => ({
  seq,
  event_uuid: `e${seq}`,
  timestamp: '2026-11-24T12:00:00Z',
  project: 'p',
  event: '$identify',
  kind,
  rule: 'same_person',
  source: 'x',
  target,
  person_id: 'P',
  message: '',
});

describe('personLabel', () => {
  it('recognises SDK anonymous ids', () => {
    expect(looksAnonymous(anon)).toBe(true);
    expect(looksAnonymous('user-1')).toBe(false);
  });
  it('names a person by the id it was identified as', () => {
    const created = { ...d(1, 'created', 'anon-c1'), source: null };
    expect(
      personLabel({ distinct_ids: ['anon-c1', 'carol', 'anon-e1'] }, [
        created,
        d(9, 'attached', 'carol'),
        d(3, 'refused', 'bob'),
      ]),
    ).toBe('carol');
  });
  it("uses the server's label when the person carries one (the review's user-b/user-a mislabel)", () => {
    expect(personLabel({ distinct_ids: [anon, 'user-a', 'user-b'], label: 'user-a' })).toBe('user-a');
    expect(personLabel({ distinct_ids: [anon, 'user-a', 'user-b'], label: '' })).toBe('user-b');
  });
  it('falls back to the newest non-anonymous id, then the first id', () => {
    expect(personLabel({ distinct_ids: [anon, 'alice@example.com'] })).toBe('alice@example.com');
    expect(personLabel({ distinct_ids: ['alice', anon] })).toBe('alice');
    expect(personLabel({ distinct_ids: [anon] })).toBe(anon);
  });
});

describe('personRow', () => {
  const anon2 = '019a2b3c-4d5e-7f00-8abc-0123456789ac';
  it("names every user id of the review's family PC, label first, with the ⚠ badge", () => {
    const row = personRow({
      distinct_ids: [anon, 'user-a', anon2, 'user-b'],
      label: 'user-a',
      flags: ['alias_after_identify', 'distinct_users_merged'],
    });
    expect(row).toEqual({ title: 'user-a + user-b', others: 2, badge: '2 user ids' });
  });
  it("takes the server's user ids when it sends them (a Segment anonymousId can look like anything)", () => {
    const row = personRow({
      distinct_ids: ['anon-kiosk', 'user-a', 'user-b'],
      label: 'user-a',
      user_ids: ['user-a', 'user-b'],
      flags: ['distinct_users_merged'],
    });
    expect(row).toEqual({ title: 'user-a + user-b', others: 1, badge: '2 user ids' });
  });
  it('puts the label first even when it is not the first user-like id', () => {
    expect(userLikeIds({ distinct_ids: ['legacy-4711', anon, 'user-d'], label: 'user-d' })).toEqual([
      'user-d',
      'legacy-4711',
    ]);
  });
  it('has no badge without the flag, whatever the ids look like', () => {
    const row = personRow({
      distinct_ids: [anon, 'user-d', 'legacy-4711'],
      label: 'user-d',
      flags: ['alias_after_identify'],
    });
    expect(row.badge).toBeNull();
    expect(row.title).toBe('user-d + legacy-4711');
  });
  it('names an anonymous person by its label, counting the other ids', () => {
    expect(personRow({ distinct_ids: [anon, anon2], label: anon, flags: [] })).toEqual({
      title: anon,
      others: 1,
      badge: null,
    });
  });
  it('caps the title and counts the rest', () => {
    const row = personRow({
      distinct_ids: ['a', 'b', 'c', 'd', 'e', anon],
      label: 'a',
      flags: ['distinct_users_merged'],
    });
    expect(row).toEqual({ title: 'a + b + c + 2 more', others: 1, badge: '5 user ids' });
  });
  it('does not take KISSmetrics or Mixpanel anonymous ids for user ids', () => {
    expect(looksUserLike('aBcDeFgHiJkLmNoPqRsTuVwXyZ0=', 'kissmetrics')).toBe(false);
    expect(looksUserLike('$device:18f2c3', 'mixpanel')).toBe(false);
    expect(looksUserLike('alice@example.com', 'kissmetrics')).toBe(true);
  });
});

describe('persons list URL state', () => {
  it('sorts flagged persons first unless the URL says newest', () => {
    expect(parsePersonsSort(undefined)).toBe('flagged');
    expect(parsePersonsSort('newest')).toBe('newest');
    expect(parsePersonsSort('bogus')).toBe('flagged');
  });
  it('asks the server for the filter and the sort', () => {
    const base = { project: 'p', q: '', source: undefined };
    expect(personsParams({ ...base, flagged: 'distinct_users_merged', sort: 'flagged' })).toMatchObject({
      flagged: 'distinct_users_merged',
      sort: 'flagged',
      order: 'newest',
    });
    const plain = personsParams({ ...base, flagged: '', sort: 'newest' });
    expect(plain.flagged).toBeUndefined();
    expect(plain.sort).toBeUndefined();
  });
});
