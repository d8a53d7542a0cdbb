import { describe, expect, it } from 'vitest';

import type { Attempt, FaultView } from '../lib/types';
import { attemptLabel, badgeLabel, retryNumber, ruleCounters } from './words';

function rule(over: Partial<FaultView>): FaultView {
  return {
    id: 1,
    text: 'source=posthog,status=503,count=3',
    description: 'Answer 503 to PostHog capture requests (the next 3)',
    state: 'active',
    matched: 0,
    fired: 0,
    remaining: 3,
    added_at: '2026-11-24T12:00:00Z',
    expired_at: null,
    match: { source: 'posthog', route: null, project: null },
    effect: { answer: { kind: 'status', status: 503, retry_after: null }, delay_ms: null },
    scope: { count: 3, share: null },
    ...over,
  };
}

function attempt(over: Partial<Attempt>): Attempt {
  return {
    request_id: 1,
    received_at: '2026-11-24T12:00:00Z',
    outcome: 'faulted',
    status: 503,
    path: '/e/',
    query: null,
    fault: 'answered 503 by fault rule #1 (source=posthog,status=503)',
    seq: null,
    ...over,
  };
}

describe('fault words', () => {
  it('counts what a rule did', () => {
    expect(badgeLabel(2)).toBe('Faults active (2)');
    expect(ruleCounters(rule({ fired: 2 }))).toBe('fired 2 of 3');
    expect(ruleCounters(rule({ state: 'expired', fired: 3 }))).toBe('expired after 3');
    expect(ruleCounters(rule({ scope: { count: null, share: 0.5 }, fired: 5, matched: 10 }))).toBe(
      'fired 5 of 10 matched',
    );
    expect(ruleCounters(rule({ scope: { count: null, share: null }, fired: 7 }))).toBe('fired 7');
  });

  it('labels attempts, with posthog-js retry numbers', () => {
    expect(attemptLabel(attempt({}))).toBe('503 faulted');
    expect(attemptLabel(attempt({ status: 0 }))).toBe('dropped');
    expect(attemptLabel(attempt({ outcome: 'accepted', status: 200, query: 'ip=0&_=1&ver=1.2&retry_count=1' }))).toBe(
      '200 stored (retry 1)',
    );
    expect(retryNumber('retry_count=x')).toBeNull();
    expect(retryNumber(null)).toBeNull();
  });
});
