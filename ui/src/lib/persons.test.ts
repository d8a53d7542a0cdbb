import { describe, expect, it } from 'vitest';
import { looksAnonymous, personLabel } from './persons';
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
