// axe-core in a Playwright page, for the UI e2e files: one copy of the injection and of the report.
// A violation reads as one line naming the rule, how many nodes fail it and the first few failing
// nodes' selectors with axe's reason, so a failed assertion says where to look.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's violations on the page as it is now, one line each (`[]` when there is none). */
export async function axeViolations(page) {
  // A navigation drops the script; on the same document it is injected once.
  if (!(await page.evaluate(() => typeof globalThis.axe?.run === 'function')))
    await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(() => globalThis.axe.run(globalThis.document));
  return result.violations.map(
    (v) =>
      `${v.id}×${v.nodes.length}: ${v.nodes
        .slice(0, 3)
        .map((n) => `${n.target.join(' ')} (${(n.failureSummary ?? '').split('\n').slice(-1)[0].trim()})`)
        .join(' | ')}`,
  );
}

/** Fails with every violation listed when axe-core finds any; `label` names the page and state. */
export async function expectNoAxeViolations(page, label) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `axe: ${label}\n${violations.join('\n')}`);
}
