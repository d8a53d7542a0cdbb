import { describe, expect, it } from 'vitest';

import { conflicts, splitProperties } from './personProps';
import type { PropertyChange } from './types';

const by = { seq: 1, event_uuid: 'u1', event: '$set', timestamp: '2026-12-01T10:00:00Z' };
const change = (key: string, op: PropertyChange['op'], old: unknown, value: unknown, seq = 1): PropertyChange =>
  ({ key, op, old, new: value, by: { ...by, seq }, replaced_origin: null, folded: 0 }) as PropertyChange;

describe('splitProperties', () => {
  it('puts $ keys and nulls behind the toggle, sorted', () => {
    const { own, sdk } = splitProperties({ plan: 'pro', $browser: 'Chrome', gclid: null, email: 'a@x.io' });
    expect(own.map(([k]) => k)).toEqual(['email', 'plan']);
    expect(sdk.map(([k]) => k)).toEqual(['$browser', 'gclid']);
  });
});

describe('conflicts', () => {
  it('marks a value that replaced another value, newest change kept', () => {
    const history = [
      change('email', 'set', null, 'alice@x.io', 1),
      change('email', 'set', 'alice@x.io', 'bob@x.io', 5),
      change('name', 'merge_lost', 'Bob', 'Alice', 7),
      change('$current_url', 'filtered_skipped', 'https://a', 'https://b', 8),
      change('plan', 'set', 'pro', 'pro', 9),
    ];
    const found = conflicts({ history });
    expect([...found.keys()].sort()).toEqual(['email', 'name']);
    expect(found.get('email')?.by.seq).toBe(5);
  });

  it('finds nothing in a first-time set', () => {
    expect(conflicts({ history: [change('email', 'set', null, 'a@x.io')] }).size).toBe(0);
  });
});
