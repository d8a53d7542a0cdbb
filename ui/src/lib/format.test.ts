import { describe, expect, it } from 'vitest';
import { describeUserAgent, formatCount, plural, prettyJson, relativeTime, shortId } from './format';

describe('format', () => {
  it('shortens long ids in the middle', () => {
    expect(shortId('0190a1b2-0000-7000-8000-000000000001')).toBe('0190a1…000001');
    expect(shortId('short')).toBe('short');
  });

  it('counts with thousands separators and plurals', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    // The same as Intl's en-US grouping, which it avoids loading (see formatCount).
    for (const n of [0, 7, 999, 1000, -1000, 12345, 100000, 1000000, -987654321, Number.MAX_SAFE_INTEGER, 1.5])
      expect(formatCount(n)).toBe(n.toLocaleString('en-US'));
    expect(plural(1, 'event')).toBe('1 event');
    expect(plural(2000, 'person')).toBe('2,000 persons');
  });

  it('says how long ago', () => {
    const now = Date.parse('2026-11-24T12:00:00Z');
    expect(relativeTime('2026-11-24T11:59:58Z', now)).toBe('just now');
    expect(relativeTime('2026-11-24T11:59:00Z', now)).toBe('1 min ago');
    expect(relativeTime('2026-11-24T09:00:00Z', now)).toBe('3 h ago');
  });

  it('names browsers and server SDKs', () => {
    expect(
      describeUserAgent(
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
      ),
    ).toBe('Headless Chrome 131 · Linux');
    expect(
      describeUserAgent(
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
      ),
    ).toBe('Safari 17 · macOS');
    expect(describeUserAgent('posthog-node/5.7.0')).toBe('posthog-node 5.7.0');
    expect(describeUserAgent(null)).toBe('');
  });

  it('prints JSON without throwing on cycles', () => {
    expect(prettyJson({ a: 1 })).toBe('{\n  "a": 1\n}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(prettyJson(cyclic)).toBe('[object Object]');
  });
});
