// Screenshots of every view, light and dark, 1440×900 and 800×600, with an axe-core run on each:
// what a person sees, to look at before calling a UI change done. The server is fed the recorded
// SDK traffic (tests/fixtures/sdk-traffic/), so every vendor's lanes, persons and findings exist,
// then a little traffic through fault rules (a retried batch, a lost identify, a rule left on).
//
//   cargo build -p identity-inspector && cd tests && node bench/screens.mjs [name-prefix]
//
// A name prefix (e.g. `faults`) takes only the views whose name starts with it.
// Writes tests/artifacts/screens/<view>-<theme>-<width>.png and screens/axe.json, and prints one
// line per view with its axe violations (rule ids and counts).

import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

import { launchChromium } from '../e2e/lib/browser.mjs';
import { ARTIFACTS_DIR, TESTS_DIR, rawRequest, startServer } from '../e2e/lib/server.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const OUT = path.join(ARTIFACTS_DIR, 'screens');
const SIZES = [
  { width: 1440, height: 900 },
  { width: 800, height: 600 },
];

async function replayFixtures(server) {
  const dir = path.join(TESTS_DIR, 'fixtures', 'sdk-traffic');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl'))) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n').filter(Boolean)) {
      const { method, path: reqPath, headers, body_b64: body } = JSON.parse(line);
      const sent = Object.fromEntries(Object.entries(headers).filter(([k]) => !/^(host|content-length)$/i.test(k)));
      await rawRequest({ port: server.port, method, path: reqPath, headers: sent, body: Buffer.from(body, 'base64') });
    }
  }
}

const FAULTS_PROJECT = 'phc_faults_demo';

/** Traffic through fault rules: a batch answered 503 then stored, an identify lost, a rule left on. */
async function injectFaults(server) {
  const { token } = await server.api('/api/control');
  const rule = (text) =>
    server.api('/api/faults', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-inspector-token': token },
      body: JSON.stringify({ rule: text }),
    });
  const batch = (events) =>
    rawRequest({
      port: server.port,
      method: 'POST',
      path: '/batch/',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: FAULTS_PROJECT, batch: events }),
    });
  const uuid = (n) => `01950000-0000-7000-8000-${String(n).padStart(12, '0')}`;
  const retried = [
    {
      event: '$pageview',
      uuid: uuid(1),
      distinct_id: 'anon-demo',
      properties: { $current_url: 'https://shop.example/' },
    },
    { event: 'added to cart', uuid: uuid(2), distinct_id: 'anon-demo', properties: { sku: 'hat-1' } },
  ];
  await rule(`posthog:503:project=${FAULTS_PROJECT}:count=1`);
  await batch(retried);
  await batch(retried);
  await rule(`posthog:429:retry_after=2:project=${FAULTS_PROJECT}:count=1`);
  await batch([
    { event: '$identify', uuid: uuid(3), distinct_id: 'user-demo', properties: { $anon_distinct_id: 'anon-demo' } },
  ]);
  await rule('route=/v1/batch,status=503,share=0.5');
  const faulted = (await server.api(`/api/requests?outcome=faulted&project=${FAULTS_PROJECT}`)).requests;
  return { request: faulted[faulted.length - 1].id, event: uuid(1) };
}

async function views(server, faults) {
  const { persons } = await server.api('/api/persons?limit=1');
  const { projects } = await server.api('/api/projects');
  const views = [
    ['start', '#/'],
    ['events', '#/events'],
    // The Requests toggle on: the recorded flags, config and settings calls between the events.
    ['events-requests', '#/events?requests=1'],
    ['devices', '#/devices'],
    ['persons', '#/persons'],
    ['warnings', '#/warnings'],
  ];
  if (persons[0]) views.push(['person', `#/persons/${persons[0].id}`]);
  if (projects[0]) views.push(['lens', `#/lens?project=${encodeURIComponent(projects[0].project)}`]);
  views.push(
    ['faults-events', `#/events?project=${FAULTS_PROJECT}`],
    ['faults-request', `#/events?project=${FAULTS_PROJECT}&request=${faults.request}`],
    ['faults-event', `#/events?project=${FAULTS_PROJECT}&focus=${faults.event}`],
    ['faults-warnings', `#/warnings?project=${FAULTS_PROJECT}`],
    // The header badge, clicked: the rules panel.
    ['faults-panel', '#/events', (page) => page.click('[data-testid=faults-badge]')],
  );
  const only = process.argv[2];
  return only ? views.filter(([name]) => name.startsWith(only)) : views;
}

const server = await startServer({ label: 'screens' });
const browser = await launchChromium();
try {
  await replayFixtures(server);
  const faults = await injectFaults(server);
  await server.waitFor(async () => (await server.api('/api/health')).identity.applied_seq > 0, 20_000);
  mkdirSync(OUT, { recursive: true });
  const report = [];
  for (const [name, hash, act] of await views(server, faults)) {
    for (const theme of ['light', 'dark']) {
      for (const size of SIZES) {
        const context = await browser.newContext({ viewport: size, colorScheme: theme });
        const page = await context.newPage();
        await page.goto(`${server.url}/${hash}`);
        await page.waitForLoadState('networkidle');
        if (act) await act(page);
        await page.waitForTimeout(400);
        await page.screenshot({ path: path.join(OUT, `${name}-${theme}-${size.width}.png`) });
        await page.addScriptTag({ content: AXE });
        const result = await page.evaluate(() => globalThis.axe.run(globalThis.document));
        const violations = result.violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          nodes: v.nodes.length,
          targets: v.nodes.slice(0, 5).map((n) => `${n.target} ${n.any[0]?.message ?? ''}`),
        }));
        report.push({ view: name, theme, width: size.width, violations });
        console.log(
          `${name.padEnd(9)} ${theme.padEnd(5)} ${size.width}: ` +
            (violations.length ? violations.map((v) => `${v.id}×${v.nodes}`).join(', ') : 'no axe violations'),
        );
        await context.close();
      }
    }
  }
  writeFileSync(path.join(OUT, 'axe.json'), JSON.stringify(report, null, 2));
} finally {
  await browser.close();
  await server.stop();
}
