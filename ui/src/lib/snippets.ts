// Copy-paste setup snippets for the supported SDKs, with the real capture URL filled in.

export interface Snippet {
  id: string;
  title: string;
  install: string;
  language: 'js' | 'python';
  code: string;
}

export function sdkSnippets(captureUrl: string, token = 'phc_your_key'): Snippet[] {
  const url = captureUrl.replace(/\/+$/, '');
  return [
    {
      id: 'posthog-js',
      title: 'posthog-js (browser)',
      install: 'npm install posthog-js',
      language: 'js',
      code: `import posthog from 'posthog-js'\n\nposthog.init('${token}', { api_host: '${url}' })`,
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
