import { describe, expect, it } from 'vitest';
import { sdkSnippets } from './snippets';

describe('sdkSnippets', () => {
  it('fills the real capture URL into every supported SDK', () => {
    const s = sdkSnippets('http://127.0.0.1:40123/');
    expect(s.map((x) => x.id)).toEqual(['posthog-js', 'posthog-node', 'posthog-python']);
    for (const snippet of s) {
      expect(snippet.code).toContain('http://127.0.0.1:40123');
      expect(snippet.code).not.toContain('40123/');
      expect(snippet.code).toContain('phc_your_key');
    }
    expect(s[0].code).toContain("api_host: 'http://127.0.0.1:40123'");
    expect(s[2].code).toContain("host='http://127.0.0.1:40123'");
  });

  it('uses the selected project token when there is one', () => {
    expect(sdkSnippets('http://x', 'phc_abc')[1].code).toContain("new PostHog('phc_abc'");
  });
});
