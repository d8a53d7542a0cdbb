import { describe, expect, it } from 'vitest';
import { connectionSentence, sdkConnections, tokenOfBody, tokenOfRequest } from './connected';
import type { StoredRequest } from './types';

function request(id: number, over: Partial<StoredRequest>): StoredRequest {
  return {
    id,
    method: 'POST',
    path: '/flags/',
    query: 'v=2',
    received_at: '2026-12-04T00:00:00Z',
    source: 'posthog',
    route: 'flags',
    outcome: 'accepted',
    status: 200,
    error: null,
    error_code: null,
    event_count: 0,
    note: null,
    body_size: 200,
    body_preview: '<gzip, 200 bytes>',
    project: null,
    ...over,
  };
}

// What a headless posthog-js without `opt_out_useragent_filter` sends, newest first as /api/requests lists it.
const headless = [
  request(3, {}),
  request(2, {}),
  request(1, {
    method: 'GET',
    path: '/array/phc_headless/config.js',
    query: null,
    route: 'remote_config',
    body_size: 0,
  }),
];

describe('sdkConnections', () => {
  it('names the SDK, its calls in order and the token from the config path', () => {
    const [c, ...rest] = sdkConnections(headless);
    expect(rest).toEqual([]);
    expect(c).toEqual({ source: 'posthog', calls: ['config', '/flags'], token: 'phc_headless', bodyRequestId: 2 });
    expect(connectionSentence(c)).toBe(
      'posthog-js connected (token phc_headless: config, /flags) but sent no events yet',
    );
  });

  it('leaves out refused requests and requests that carried events', () => {
    expect(
      sdkConnections([request(1, { outcome: 'rejected', status: 400 }), request(2, { event_count: 3, path: '/e/' })]),
    ).toEqual([]);
  });

  it('reads a token from the query or a decoded body when the path has none', () => {
    expect(tokenOfRequest({ path: '/decide/', query: 'v=3&token=phc_q' })).toBe('phc_q');
    expect(tokenOfRequest({ path: '/flags/', query: 'v=2' })).toBeNull();
    expect(tokenOfBody({ token: 'phc_b', distinct_id: 'x' })).toBe('phc_b');
    expect(tokenOfBody({ api_key: 'phc_k' })).toBe('phc_k');
    expect(tokenOfBody('nope')).toBeNull();
    const [c] = sdkConnections([request(5, {})]);
    // Without the remote config call it may be a server SDK asking for flags: not named posthog-js.
    expect(connectionSentence({ ...c, token: null })).toBe('A posthog SDK connected (/flags) but sent no events yet');
  });
});
