import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, isFetchFailure, isUnreachable, scopedPath } from './api';

/** Answers each fetch from `answer(url)` and records the URLs asked for. */
function mockFetch(answer: (url: string) => { status?: number; body: unknown }) {
  const urls: string[] = [];
  vi.stubGlobal('fetch', async (url: string) => {
    urls.push(url);
    const { status = 200, body } = answer(url);
    return new Response(JSON.stringify(body), { status });
  });
  return urls;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('api.lens', () => {
  it('asks /api/lens for the project and returns its answer', async () => {
    const urls = mockFetch(() => ({
      body: { project: 'wk 1', source: 'segment', family: 'segment', events: 0, vendors: [], disagreements: [] },
    }));
    const res = await api.lens('wk 1');
    expect(urls).toEqual(['/api/lens?project=wk+1']);
    expect(res.family).toBe('segment');
  });
  it("turns an error answer into an ApiError carrying the server's message", async () => {
    mockFetch(() => ({ status: 400, body: { error: 'project is required' } }));
    const err = await api.lens('').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(400);
    expect(err.message).toBe('project is required');
  });
});

describe('api.eventBySeq', () => {
  const event = (seq: number) => ({ uuid: `u${seq}`, seq });
  it('reads the one-event page below seq + 1', async () => {
    const urls = mockFetch(() => ({ body: { events: [event(41)], next_cursor: 41 } }));
    expect((await api.eventBySeq(41, 'wk'))?.uuid).toBe('u41');
    expect(urls).toEqual(['/api/events?project=wk&cursor=42&limit=1']);
  });
  it('is null when that seq is not in the project (the page holds an older event, or none)', async () => {
    mockFetch(() => ({ body: { events: [event(38)], next_cursor: 38 } }));
    expect(await api.eventBySeq(41, 'wk')).toBeNull();
    mockFetch(() => ({ body: { events: [], next_cursor: null } }));
    expect(await api.eventBySeq(41)).toBeNull();
  });
});

describe('list endpoints and ?source=', () => {
  it('send the selected sources comma-separated', async () => {
    const urls = mockFetch((url) => ({
      body: url.startsWith('/api/persons') ? { persons: [], total: 0, next_cursor: null } : { warnings: [] },
    }));
    await api.persons({ project: 'p', source: 'segment,mixpanel' });
    await api.warnings({ source: undefined });
    // No project: "All projects" is live traffic (`live_only=1`).
    expect(urls).toEqual(['/api/persons?project=p&source=segment%2Cmixpanel', '/api/warnings?live_only=1']);
  });
});

describe('api.control', () => {
  it('fetches the token, then sends the write with it', async () => {
    const calls: { url: string; init?: RequestInit }[] = [];
    vi.stubGlobal('fetch', async (url: string, init?: RequestInit) => {
      calls.push({ url, init });
      const body = url === '/api/control' ? { token: 't0k' } : { capture: { paused: false } };
      return new Response(JSON.stringify(body));
    });
    await api.control.setTheme('dark');
    expect(calls.map((c) => [c.url, c.init?.method ?? 'GET'])).toEqual([
      ['/api/control', 'GET'],
      ['/api/control/theme', 'PUT'],
    ]);
    const headers = calls[1].init?.headers as Record<string, string>;
    expect(headers['x-inspector-token']).toBe('t0k');
    expect(headers['content-type']).toBe('application/json');
    expect(calls[1].init?.body).toBe('{"theme":"dark"}');
  });
  it("reports the server's error for a refused import", async () => {
    vi.stubGlobal('fetch', async (url: string) =>
      url === '/api/control'
        ? new Response(JSON.stringify({ token: 't' }))
        : new Response(JSON.stringify({ error: 'not a bundle; nothing was imported' }), { status: 400 }),
    );
    const err = await api.control.importFile(new File(['x'], 'a.har')).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toBe('not a bundle; nothing was imported');
  });
});

describe('live traffic under All projects', () => {
  it('adds live_only=1 to list reads without a project, and only to those', () => {
    expect(scopedPath('/api/persons?q=a', true)).toBe('/api/persons?q=a&live_only=1');
    expect(scopedPath('/api/events', true)).toBe('/api/events?live_only=1');
    expect(scopedPath('/api/persons?project=phc_x', true)).toBe('/api/persons?project=phc_x');
    expect(scopedPath('/api/lens?project=x', true)).toBe('/api/lens?project=x');
    expect(scopedPath('/api/health', true)).toBe('/api/health');
    expect(scopedPath('/api/devices?limit=5', false)).toBe('/api/devices?limit=5');
  });
});

describe('a server that does not answer', () => {
  it('is an unreachable error naming the inspector, not the browser\'s "Failed to fetch"', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    const err = await api.health().catch((e) => e);
    expect(isUnreachable(err)).toBe(true);
    expect(err.message).toMatch(/could not reach the inspector/);
    mockFetch(() => ({ status: 404, body: { error: 'no person' } }));
    expect(isUnreachable(await api.person('x').catch((e) => e))).toBe(false);
  });
});

describe('isFetchFailure', () => {
  it('tells a failed read from a definite no', () => {
    expect(isFetchFailure(new ApiError(0, 'unreachable'))).toBe(true);
    expect(isFetchFailure(new ApiError(503, 'busy'))).toBe(true);
    expect(isFetchFailure(new ApiError(404, 'no person'))).toBe(false);
    expect(isFetchFailure(new ApiError(400, 'bad id'))).toBe(false);
  });
});
