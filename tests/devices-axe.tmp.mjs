import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { launchChromium } from './e2e/lib/browser.mjs';
import { TESTS_DIR, rawRequest, startServer } from './e2e/lib/server.mjs';
const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const server = await startServer({ label: 'axeprobe' });
const browser = await launchChromium();
try {
  const dir = path.join(TESTS_DIR, 'fixtures', 'sdk-traffic');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl')))
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n').filter(Boolean)) {
      const { method, path: reqPath, headers, body_b64: body } = JSON.parse(line);
      const sent = Object.fromEntries(Object.entries(headers).filter(([k]) => !/^(host|content-length)$/i.test(k)));
      await rawRequest({ port: server.port, method, path: reqPath, headers: sent, body: Buffer.from(body, 'base64') });
    }
  await new Promise((r) => setTimeout(r, 2000));
  for (const [theme, width, hash] of [['light', 1440, '#/devices'], ['light', 800, '#/devices'], ['dark', 800, '#/devices?possible=1&lane=x']]) {
    const page = await (await browser.newContext({ viewport: { width, height: width === 800 ? 600 : 900 }, colorScheme: theme })).newPage();
    await page.goto(`${server.url}/${hash}`);
    await page.waitForTimeout(1500);
    await page.addScriptTag({ content: AXE });
    const r = await page.evaluate(() => globalThis.axe.run(globalThis.document));
    console.log(await page.evaluate(() => [...document.querySelectorAll('[data-testid="lane-segment"]')].filter((g) => g.textContent.trim()).slice(0, 12).map((g) => JSON.stringify([g.textContent, g.getAttribute('aria-label')])).join('\n')));
    for (const v of r.violations) for (const n of v.nodes) console.log(theme, width, v.id, n.target.join(' '), n.failureSummary.split('\n').slice(-1)[0].slice(0, 160));
  }
} finally { await browser.close(); await server.stop(); }
