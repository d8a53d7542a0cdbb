// Copy-paste setup snippets for the supported SDKs, with the real capture URL filled in.

export interface Snippet {
  id: string;
  title: string;
  install: string;
  language: 'js' | 'python';
  code: string;
}

/** The key to show per vendor family: a project's own key when there is one, else a placeholder. */
export interface SnippetKeys {
  posthog?: string;
  segment?: string;
  mixpanel?: string;
  kissmetrics?: string;
}

export function sdkSnippets(captureUrl: string, keys: SnippetKeys = {}): Snippet[] {
  const url = captureUrl.replace(/\/+$/, '');
  return [
    ...posthogSnippets(url, keys.posthog ?? 'phc_your_key'),
    ...segmentSnippets(url, keys.segment ?? 'your_write_key'),
    ...mixpanelSnippets(url, keys.mixpanel ?? 'your_token'),
    ...kissmetricsSnippets(url, keys.kissmetrics ?? 'your_api_key'),
  ];
}

/**
 * Each family's key: the selected project's when it is of that family, else the first project
 * of that family (projects carry their source; RudderStack's are Segment's family).
 */
export function snippetKeys(projects: { project: string; source: string }[], selected: string | null): SnippetKeys {
  const family = (source: string) => (source === 'rudderstack' ? 'segment' : source);
  const keys: SnippetKeys = {};
  const ordered = [...projects.filter((p) => p.project === selected), ...projects];
  for (const p of ordered) {
    const f = family(p.source);
    const known = f === 'posthog' || f === 'segment' || f === 'mixpanel' || f === 'kissmetrics';
    if (known && keys[f] === undefined) keys[f] = p.project;
  }
  return keys;
}

function posthogSnippets(url: string, token: string): Snippet[] {
  return [
    {
      id: 'posthog-js',
      title: 'posthog-js (browser)',
      install: 'npm install posthog-js',
      language: 'js',
      // posthog-js drops events from browsers whose user agent looks like a bot, headless
      // Chromium included, unless `opt_out_useragent_filter` is set (its own console message says
      // so: "Set `opt_out_useragent_filter: true` to capture them, e.g. in end-to-end tests").
      code:
        `import posthog from 'posthog-js'\n\nposthog.init('${token}', {\n  api_host: '${url}',\n` +
        `  // Headless browsers (Playwright, Cypress, Puppeteer) look like bots to posthog-js,\n` +
        `  // which then drops every event: uncomment for end-to-end tests.\n` +
        `  // opt_out_useragent_filter: true,\n})\n\n` +
        `// On login: one person for this browser's anonymous id and the user\n` +
        `posthog.identify('user-1', { email: 'user-1@example.com' })\n` +
        `// On logout: without it, the next user to log in here joins user-1\n` +
        `posthog.reset()`,
    },
    {
      id: 'posthog-node',
      title: 'posthog-node',
      install: 'npm install posthog-node',
      language: 'js',
      code: `import { PostHog } from 'posthog-node'\n\nconst client = new PostHog('${token}', { host: '${url}' })\nclient.capture({ distinctId: 'user-1', event: 'signed up' })\nawait client.shutdown()`,
    },
    {
      id: 'posthog-python',
      title: 'posthog (python)',
      install: 'pip install posthog',
      language: 'python',
      code: `from posthog import Posthog\n\nposthog = Posthog('${token}', host='${url}')\nposthog.capture('signed up', distinct_id='user-1')\nposthog.shutdown()`,
    },
  ];
}

function segmentSnippets(url: string, key: string): Snippet[] {
  return [
    {
      id: 'segment-analytics-next',
      title: 'Segment analytics-next (browser)',
      install: 'npm install @segment/analytics-next',
      language: 'js',
      // The inspector is the CDN: its settings reply names it as the API host.
      code: `import { AnalyticsBrowser } from '@segment/analytics-next'\n\nconst analytics = AnalyticsBrowser.load({ writeKey: '${key}', cdnURL: '${url}' })\nanalytics.identify('user-1', { email: 'user-1@example.com' }) // on login\nanalytics.reset() // on logout: a new anonymousId for the next user`,
    },
    {
      id: 'segment-node',
      title: 'Segment analytics-node',
      install: 'npm install @segment/analytics-node',
      language: 'js',
      code: `import { Analytics } from '@segment/analytics-node'\n\nconst analytics = new Analytics({ writeKey: '${key}', host: '${url}' })\nanalytics.track({ userId: 'user-1', event: 'Signed Up' })\nawait analytics.closeAndFlush()`,
    },
    {
      id: 'segment-python',
      title: 'Segment (python)',
      install: 'pip install segment-analytics-python',
      language: 'python',
      code: `import segment.analytics as analytics\n\nanalytics.write_key = '${key}'\nanalytics.host = '${url}'\nanalytics.track(user_id='user-1', event='Signed Up')\nanalytics.flush()`,
    },
    {
      id: 'rudder-python',
      title: 'RudderStack (python)',
      install: 'pip install rudder-sdk-python',
      language: 'python',
      code: `import rudderstack.analytics as rudder_analytics\n\nrudder_analytics.write_key = '${key}'\nrudder_analytics.dataPlaneUrl = '${url}'\nrudder_analytics.track(user_id='user-1', event='Signed Up')\nrudder_analytics.flush()`,
    },
  ];
}

function mixpanelSnippets(url: string, token: string): Snippet[] {
  return [
    {
      id: 'mixpanel-browser',
      title: 'Mixpanel (browser)',
      install: 'npm install mixpanel-browser',
      language: 'js',
      code: `import mixpanel from 'mixpanel-browser'\n\nmixpanel.init('${token}', { api_host: '${url}' })\nmixpanel.identify('user-1') // on login\nmixpanel.reset() // on logout: a new device id for the next user`,
    },
    {
      id: 'mixpanel-python',
      title: 'Mixpanel (python)',
      install: 'pip install mixpanel',
      language: 'python',
      code: `from mixpanel import Mixpanel, Consumer\n\nurl = '${url}'\nmp = Mixpanel('${token}', consumer=Consumer(events_url=f'{url}/track', people_url=f'{url}/engage',\n                                          import_url=f'{url}/import', groups_url=f'{url}/groups'))\nmp.track('user-1', 'Signed Up')`,
    },
  ];
}

/**
 * KISSmetrics: the JS library (`_kmq`, loaded from KISSmetrics' CDN) sends each call as an image
 * GET to trk.kissmetrics.io and has no documented setting for another host, so the browser
 * snippet sends the same GETs (`/e`, `/s`, `/a` with `_k`, `_p`, `_n`) to the inspector. The
 * official Python client takes the host (`trk_host`, `trk_scheme`).
 */
function kissmetricsSnippets(url: string, key: string): Snippet[] {
  const { host, protocol } = splitUrl(url);
  return [
    {
      id: 'kissmetrics-browser',
      title: 'KISSmetrics (_kmq calls as the JS library sends them)',
      install: 'no install: the same image GETs the KISSmetrics JS library sends',
      language: 'js',
      code: `// _kmq.push(['record', ...]) -> /e, ['set', ...] -> /s, ['alias', ...] and identify() while anonymous -> /a\nconst km = (path, params) => {\n  const call = new URL(path, '${url}')\n  call.search = new URLSearchParams({ _k: '${key}', ...params }).toString()\n  new Image().src = call.href\n}\nkm('/e', { _p: 'anon-id', _n: 'Viewed Signup' })\nkm('/a', { _p: 'anon-id', _n: 'user-1@example.com' }) // identify('user-1@example.com')`,
    },
    {
      id: 'kissmetrics-python',
      title: 'KISSmetrics (python)',
      install: 'pip install py-KISSmetrics',
      language: 'python',
      code: `import KISSmetrics\n\n# ${url}\nkm = KISSmetrics.Client(key='${key}', trk_host='${host}', trk_scheme='${protocol}')\nkm.record('user-1@example.com', 'Signed Up')\nkm.alias('anon-id', 'user-1@example.com')`,
    },
  ];
}

/** `http://127.0.0.1:8080` -> host `127.0.0.1:8080`, protocol `http`. */
function splitUrl(url: string): { host: string; protocol: string } {
  const match = /^(https?):\/\/([^/]+)/.exec(url);
  return match ? { protocol: match[1], host: match[2] } : { protocol: 'http', host: url };
}
