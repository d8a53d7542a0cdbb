import { describe, expect, it } from 'vitest';
import {
  eventsQuery,
  filtersFromParams,
  mergeFeed,
  prependEvents,
  rejectedMatches,
  rejectedOnly,
  requestProject,
  requestsShown,
} from './filters';
import type { StoredEvent, StoredRequest } from './types';

const at = (s: number) => new Date(Date.UTC(2026, 10, 24, 12, 0, s)).toISOString();

function ev(seq: number, s: number): StoredEvent {
  return {
    uuid: `u${seq}`,
    project: 'phc',
    source: 'posthog',
    event: '$pageview',
    distinct_id: 'd',
    device_id: null,
    session_id: null,
    timestamp: at(s),
    original_timestamp: null,
    sent_at: null,
    received_at: at(s),
    seq,
    request_id: seq,
    properties: {},
    warnings: null,
  };
}

function rej(id: number, s: number, extra: Partial<StoredRequest> = {}): StoredRequest {
  return {
    id,
    method: 'POST',
    path: '/e/',
    query: null,
    received_at: at(s),
    source: 'posthog',
    route: 'capture',
    outcome: 'rejected',
    status: 400,
    error: 'event 0 has no distinct_id',
    error_code: 'missing_distinct_id',
    event_count: 0,
    note: null,
    body_size: 10,
    body_preview: '{"token":"phc_abc"}',
    project: null,
    ...extra,
  };
}

describe('filtersFromParams / eventsQuery', () => {
  it('keeps only filter keys with a value', () => {
    expect(filtersFromParams({ project: 'phc', event: ' $identify ', q: '', focus: 'x' })).toEqual({
      project: 'phc',
      event: '$identify',
    });
  });
  it('builds the API query with paging', () => {
    expect(eventsQuery({ project: 'phc', q: 'a b' }, { limit: 200, cursor: 50 })).toBe(
      'project=phc&q=a+b&limit=200&cursor=50',
    );
    expect(eventsQuery({}, { after: 7 })).toBe('after=7');
  });
});

describe('rejectedMatches', () => {
  it('hides rejected requests behind event-only filters', () => {
    expect(rejectedMatches({}, rej(1, 0))).toBe(true);
    expect(rejectedMatches({ event: '$pageview' }, rej(1, 0))).toBe(false);
    expect(rejectedMatches({ distinct_id: 'd' }, rej(1, 0))).toBe(false);
  });
  it('matches text, source and project against what the request shows', () => {
    expect(rejectedMatches({ q: 'DISTINCT_ID' }, rej(1, 0))).toBe(true);
    expect(rejectedMatches({ q: 'gzip' }, rej(1, 0))).toBe(false);
    expect(rejectedMatches({ source: 'segment' }, rej(1, 0))).toBe(false);
    expect(rejectedMatches({ project: 'phc_abc' }, rej(1, 0))).toBe(true);
    expect(rejectedMatches({ project: 'phc_other' }, rej(1, 0))).toBe(false);
  });
});

describe('mergeFeed', () => {
  const events = [ev(3, 30), ev(2, 20), ev(1, 10)];
  it('interleaves rejected requests by arrival time, newest first', () => {
    const rows = mergeFeed(events, [rej(9, 25), rej(8, 40), rej(7, 5)], false);
    expect(rows.map((r) => r.key)).toEqual(['r8', 'u33', 'r9', 'u22', 'u11', 'r7']);
  });
  it('holds back rejected requests older than the loaded events while more pages exist', () => {
    const rows = mergeFeed(events, [rej(9, 25), rej(7, 5)], true);
    expect(rows.map((r) => r.key)).toEqual(['u33', 'r9', 'u22', 'u11']);
  });
  it('shows rejected requests alone when there are no events', () => {
    expect(mergeFeed([], [rej(1, 1), rej(2, 2)], false).map((r) => r.key)).toEqual(['r2', 'r1']);
  });
  it('makes accepted requests without events rows of their own kind', () => {
    const flags = rej(5, 35, { outcome: 'accepted', status: 200, error: null, error_code: null, path: '/flags/' });
    const rows = mergeFeed(events, [rej(9, 25), flags], false);
    expect(rows.map((r) => `${r.key}:${r.kind}`)).toEqual([
      'r5:request',
      'u33:event',
      'r9:rejected',
      'u22:event',
      'u11:event',
    ]);
  });
  it('makes requests a fault rule answered rows of their own kind', () => {
    const faulted = rej(6, 15, { outcome: 'faulted', status: 503, error: 'answered 503 by fault rule #1' });
    const rows = mergeFeed(events, [faulted], false);
    expect(rows.map((r) => `${r.key}:${r.kind}`)).toEqual(['u33:event', 'u22:event', 'r6:faulted', 'u11:event']);
  });
});

describe('prependEvents', () => {
  it('adds only events newer than the top row, newest first', () => {
    const loaded = [ev(3, 30), ev(2, 20)];
    const out = prependEvents(loaded, [ev(3, 30), ev(4, 40), ev(5, 50)]);
    expect(out.map((e) => e.seq)).toEqual([5, 4, 3, 2]);
    expect(prependEvents(loaded, [])).toBe(loaded);
  });
});

describe('source filter (several sources)', () => {
  it('normalises the source param and sends it comma-separated', () => {
    const filters = filtersFromParams({ source: 'mixpanel,bogus,segment' });
    expect(filters).toEqual({ source: 'segment,mixpanel' });
    expect(eventsQuery(filters, { limit: 5 })).toBe('source=segment%2Cmixpanel&limit=5');
    expect(filtersFromParams({ source: 'bogus' })).toEqual({});
  });
  it('keeps rejected requests of the selected sources only', () => {
    const r = (source: string | null) => ({
      id: 1,
      method: 'POST',
      path: '/v1/batch',
      query: null,
      received_at: '2026-11-24T12:00:00Z',
      source,
      route: null,
      outcome: 'rejected' as const,
      status: 400,
      error: 'bad',
      error_code: 'bad',
      event_count: 0,
      note: null,
      body_size: 1,
      body_preview: '',
      project: null,
    });
    const filters = filtersFromParams({ source: 'segment,rudderstack' });
    expect(rejectedMatches(filters, r('rudderstack'))).toBe(true);
    expect(rejectedMatches(filters, r('posthog'))).toBe(false);
    expect(rejectedMatches(filters, r(null))).toBe(false);
    expect(rejectedMatches({}, r(null))).toBe(true);
  });
});

describe('rejected requests', () => {
  it('toggles "rejected only" from the URL', () => {
    expect(rejectedOnly({ rejected: '1' })).toBe(true);
    expect(rejectedOnly({})).toBe(false);
    expect(rejectedOnly({ rejected: '0' })).toBe(false);
  });
  it('reads the project key a rejected request names in its body or query', () => {
    expect(requestProject({ body_preview: '{"api_key": "phc_shop", "event": "x"}', query: null })).toBe('phc_shop');
    expect(requestProject({ body_preview: '{"batch":[],"writeKey":"wk_1"}', query: null })).toBe('wk_1');
    expect(requestProject({ body_preview: '{"properties":{"token":"mp_tok"}}', query: null })).toBe('mp_tok');
    expect(requestProject({ body_preview: '\u001f\u008b binary', query: 'token=phc%20x&v=1' })).toBe('phc x');
    expect(requestProject({ body_preview: '{"event":"no key"}', query: 'ip=1' })).toBeNull();
  });
  it("prefers the server's project, which compressed bodies keep too", () => {
    expect(requestProject({ body_preview: '<gzip, 80 bytes>', query: null, project: 'phc_zip' })).toBe('phc_zip');
    const zipped = rej(3, 3, { body_preview: '<gzip, 80 bytes>', project: 'phc_zip' });
    expect(rejectedMatches({ project: 'phc_zip' }, zipped)).toBe(true);
    expect(rejectedMatches({ project: 'phc_other' }, zipped)).toBe(false);
    // Named in the path or body but stored under another key: the stored key decides.
    expect(rejectedMatches({ project: 'phc' }, rej(4, 4, { project: 'phc_zip' }))).toBe(false);
  });
});

describe('requestsShown', () => {
  it('is on only with requests=1', () => {
    expect(requestsShown({ requests: '1' })).toBe(true);
    expect(requestsShown({})).toBe(false);
    expect(requestsShown({ requests: '0' })).toBe(false);
  });
});
