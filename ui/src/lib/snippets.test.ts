import { describe, expect, it } from 'vitest';
import { sdkSnippets, snippetKeys } from './snippets';

describe('sdkSnippets', () => {
  it('fills the real capture URL into every supported SDK', () => {
    const s = sdkSnippets('http://127.0.0.1:40123/');
    expect(s.map((x) => x.id)).toEqual([
      'posthog-js',
      'posthog-node',
      'posthog-python',
      'segment-analytics-next',
      'segment-node',
      'segment-python',
      'rudder-python',
      'mixpanel-browser',
      'mixpanel-python',
      'kissmetrics-browser',
      'kissmetrics-python',
    ]);
    for (const snippet of s) {
      expect(snippet.code).toContain('http://127.0.0.1:40123');
      expect(snippet.code).not.toContain('40123/');
    }
    const key = (id: string) => s.find((x) => x.id === id)!.code;
    expect(key('posthog-node')).toContain('phc_your_key');
    expect(key('segment-node')).toContain("writeKey: 'your_write_key'");
    expect(key('segment-analytics-next')).toContain("cdnURL: 'http://127.0.0.1:40123'");
    expect(key('mixpanel-python')).toContain("events_url=f'{url}/track'");
    expect(key('mixpanel-browser')).toContain("mixpanel.init('your_token', { api_host: 'http://127.0.0.1:40123' })");
    expect(key('kissmetrics-browser')).toContain("new URL(path, 'http://127.0.0.1:40123')");
    expect(key('kissmetrics-browser')).toContain("_k: 'your_api_key'");
    expect(key('kissmetrics-python')).toContain("trk_host='127.0.0.1:40123', trk_scheme='http'");
    expect(s[0].code).toContain("api_host: 'http://127.0.0.1:40123'");
    expect(s[2].code).toContain("host='http://127.0.0.1:40123'");
  });

  it("uses each family's project key when there is one", () => {
    const s = sdkSnippets('http://x', { posthog: 'phc_abc', mixpanel: 'mp_tok' });
    expect(s[1].code).toContain("new PostHog('phc_abc'");
    expect(s.find((x) => x.id === 'mixpanel-browser')!.code).toContain("mixpanel.init('mp_tok'");
    expect(s.find((x) => x.id === 'segment-node')!.code).toContain("writeKey: 'your_write_key'");
  });

  it('picks the selected project for its family, else the first of each family', () => {
    const projects = [
      { project: 'phc_1', source: 'posthog' },
      { project: 'wk_r', source: 'rudderstack' },
      { project: 'phc_2', source: 'posthog' },
    ];
    expect(snippetKeys(projects, 'phc_2')).toEqual({ posthog: 'phc_2', segment: 'wk_r' });
    expect(snippetKeys(projects, null)).toEqual({ posthog: 'phc_1', segment: 'wk_r' });
    expect(snippetKeys([], null)).toEqual({});
    expect(snippetKeys([{ project: 'km_1', source: 'kissmetrics' }], null)).toEqual({ kissmetrics: 'km_1' });
  });
});

describe('the posthog-js snippet', () => {
  it('shows the option headless browsers need, ready to uncomment', () => {
    const js = sdkSnippets('http://x', { posthog: 'phc_abc' }).find((s) => s.id === 'posthog-js');
    expect(js?.code).toContain("posthog.init('phc_abc'");
    expect(js?.code).toContain('// opt_out_useragent_filter: true,');
  });

  it('shows the two calls identity depends on in the browser SDKs: identify on login, reset on logout', () => {
    const s = sdkSnippets('http://127.0.0.1:40123');
    for (const id of ['posthog-js', 'segment-analytics-next', 'mixpanel-browser']) {
      const code = s.find((x) => x.id === id)!.code;
      expect(code, id).toMatch(/\.identify\('user-1'/);
      expect(code, id).toMatch(/\.reset\(\)/);
    }
  });
});
