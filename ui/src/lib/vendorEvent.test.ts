import { describe, expect, it } from 'vitest';
import type { Family, StoredEvent } from './types';
import { fieldText, vendorView } from './vendorEvent';

function stored(source: string, event: string, properties: Record<string, unknown>): StoredEvent {
  return {
    uuid: 'u1',
    project: 'k',
    source,
    event,
    distinct_id: 'd',
    device_id: null,
    session_id: null,
    timestamp: '2026-11-24T12:00:00Z',
    original_timestamp: null,
    sent_at: null,
    received_at: '2026-11-24T12:00:00Z',
    seq: 1,
    request_id: 1,
    properties,
    warnings: null,
  };
}
// What the server's /api/health sends as `families` (identity_engine::Family::of_source).
const FAMILIES: Record<string, Family> = {
  posthog: 'posthog',
  segment: 'segment',
  rudderstack: 'segment',
  mixpanel: 'mixpanel',
};
const view = (event: StoredEvent) => vendorView(event, FAMILIES[event.source] ?? null);
const value = (v: ReturnType<typeof vendorView>, label: string) => v?.fields.find((f) => f.label === label)?.value;

describe('vendorView: Segment and RudderStack messages', () => {
  const identify = {
    type: 'identify',
    userId: 42,
    anonymousId: 'anon-1',
    messageId: 'm-1',
    traits: { email: 'a@example.com', plan: 'pro' },
    context: {
      device: { id: 'dev-9' },
      library: { name: 'analytics-node', version: '2.1.0' },
      traits: { locale: 'en' },
    },
  };
  it('reads the type from the message, not the event name, and shows the ids', () => {
    const v = view(stored('segment', 'identify', identify))!;
    expect(v.title).toBe('Segment identify');
    expect(value(v, 'type')).toBe('identify');
    expect(value(v, 'userId')).toBe('42');
    expect(value(v, 'anonymousId')).toBe('anon-1');
    expect(value(v, 'context.device.id')).toBe('dev-9');
    expect(value(v, 'email (traits)')).toBe('a@example.com');
    expect(value(v, 'library')).toBe('analytics-node 2.1.0');
    expect(v.fields.find((f) => f.label === 'userId')?.filter).toBe('distinct_id');
    expect(v.fields.find((f) => f.label === 'context.device.id')?.filter).toBe('device_id');
    expect(v.sections.map((s) => s.title)).toEqual(['Traits', 'Context traits']);
    expect(v.rawTitle).toContain('Whole message');
  });
  it('shows a track event name, its inner properties, and an alias previousId; labels RudderStack', () => {
    const track = view(
      stored('rudderstack', 'Order Completed', {
        type: 'track',
        event: 'Order Completed',
        anonymousId: 'a',
        properties: { total: 3 },
      }),
    )!;
    expect(track.title).toBe('RudderStack track');
    expect(value(track, 'event')).toBe('Order Completed');
    expect(value(track, 'userId')).toBeNull();
    expect(track.sections).toEqual([{ title: 'Properties', value: { total: 3 } }]);
    const alias = view(stored('segment', 'alias', { type: 'alias', userId: 'new', previousId: 'old' }))!;
    expect(value(alias, 'previousId')).toBe('old');
    expect(value(alias, 'event')).toBeUndefined();
  });
  it('is null for PostHog events (their properties are shown as they are)', () => {
    expect(view(stored('posthog', '$identify', {}))).toBeNull();
  });
});

describe('vendorView: Mixpanel', () => {
  it('shows the ids of a tracked event', () => {
    const v = view(
      stored('mixpanel', 'Signed Up', {
        distinct_id: '$device:abc',
        $device_id: 'abc',
        $user_id: 7,
        $insert_id: 'ins-1',
        time: 1764000000,
      }),
    )!;
    expect(v.title).toBe('Mixpanel Signed Up');
    expect(value(v, 'distinct_id')).toBe('$device:abc');
    expect(value(v, '$device_id')).toBe('abc');
    expect(value(v, '$user_id')).toBe('7');
    expect(value(v, '$insert_id')).toBe('ins-1');
    expect(value(v, '$anon_distinct_id')).toBeUndefined();
  });
  it('shows the merge ids of $identify', () => {
    const v = view(
      stored('mixpanel', '$identify', { distinct_id: 'u1', $anon_distinct_id: 'anon', $identified_id: 'u1' }),
    )!;
    expect(value(v, '$anon_distinct_id')).toBe('anon');
    expect(value(v, '$identified_id')).toBe('u1');
  });
  it('lists $engage operations one by one, in the order Mixpanel applies them', () => {
    const v = view(
      stored('mixpanel', '$engage', {
        $token: 't',
        $distinct_id: 'u1',
        $unset: ['old'],
        $set: { plan: 'pro' },
        $set_once: { first: 1 },
      }),
    )!;
    expect(v.title).toBe('Mixpanel profile update');
    expect(value(v, '$distinct_id')).toBe('u1');
    expect(v.sections).toEqual([
      { title: 'Set ($set)', value: { plan: 'pro' } },
      { title: 'Set once ($set_once)', value: { first: 1 } },
      { title: 'Unset ($unset)', value: ['old'] },
    ]);
  });
});

describe('fieldText', () => {
  it('keeps strings and writes other values as JSON', () => {
    expect(fieldText('x')).toBe('x');
    expect(fieldText(12)).toBe('12');
    expect(fieldText(false)).toBe('false');
    expect(fieldText(null)).toBeNull();
    expect(fieldText(undefined)).toBeNull();
  });
});
