// Comparing and exporting runs in a real VS Code: a program is traced, edited (its sleeps shortened,
// its loop of awaits turned into tasks gathered), traced again; "Compare Runs..." picks the two runs
// in its quick picks; the Comparison view lists the changes biggest first, the edited await line
// shows its before -> after hint, and both timelines open one above the other. "Save Trace As..."
// writes Perfetto and Chrome files that the format checkers of the unit tests read back.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { tsImport } from 'tsx/esm/api';
import { lineDom } from './editorDom.mjs';
import { launch } from './harness.mjs';
import { openTasksView, waitForQuickPick } from './treeDom.mjs';

const PROGRAM = 'compare_me.py';
const BEFORE = [
  'import asyncio',
  '',
  '',
  'async def fetch(i):',
  '    await asyncio.sleep(0.3)',
  '',
  '',
  'async def main():',
  '    for i in range(3):',
  '        await fetch(i)',
  '',
  '',
  'asyncio.run(main())',
  '',
].join('\n');
// Same lines, same await line (5): shorter sleeps, the three fetches now run as tasks.
const AFTER = BEFORE
  .replace('await asyncio.sleep(0.3)', 'await asyncio.sleep(0.1)')
  .replace('    for i in range(3):\n        await fetch(i)', '    tasks = [asyncio.create_task(fetch(i)) for i in range(3)]\n    await asyncio.gather(*tasks)');

let h;
before(async () => {
  h = await launch({ workspace: 'examples' });
});
after(async () => {
  await h?.close();
});

/** Rows of the Comparison view as shown. */
async function comparisonRows(page) {
  const pane = page.locator('.part.sidebar .pane', { has: page.locator('.pane-header', { hasText: 'Comparison' }) }).first();
  return pane.locator('.monaco-list-row').evaluateAll((els) => els.map((el) => ({
    label: el.querySelector('.label-name')?.textContent?.trim() ?? '',
    description: el.querySelector('.label-description')?.textContent?.trim() ?? '',
    level: Number(el.getAttribute('aria-level')),
  })));
}

async function traceOnce(n) {
  await h.openFile(PROGRAM);
  await h.palette('Async Trace: Trace Async Run');
  await h.waitFor(async () => (await h.state()).runs.filter((r) => r.exit && !r.live).length === n, 60000, `traced run ${n} to end`);
}

test('two runs before and after an edit: the diff tree, the hint on the edited await, both timelines', async () => {
  const { page } = h;
  const file = path.join(h.workspaceDir, PROGRAM);
  writeFileSync(file, BEFORE);
  await openTasksView(h);
  await traceOnce(1);
  // The edit, as saved from another tool: the open editor follows the file on disk.
  writeFileSync(file, AFTER);
  await h.waitFor(async () => {
    await h.openFile(PROGRAM);
    return page.locator('.part.editor .view-lines', { hasText: 'asyncio.gather' }).first().isVisible();
  }, 20000, 'the editor to show the edited file');
  await traceOnce(2);

  await h.palette('Async Trace: Compare Runs...');
  const first = await waitForQuickPick(h, 'BEFORE');
  // Newest first: the earlier run is the second row.
  await first.press('ArrowDown');
  await first.press('Enter');
  const second = await waitForQuickPick(h, 'AFTER');
  await second.press('Enter');

  const state = await h.waitFor(async () => (await h.state()).compare, 20000, 'the comparison');
  const site5 = state.sites.find((s) => s.file.endsWith(PROGRAM) && s.line === 5);
  assert.ok(site5, `line 5 compared: ${JSON.stringify(state.sites)}`);
  assert.match(site5.hint, /^await x3 total (9\d\d ms|[12]\.\d\d s) → \d+ ms, −\d+ %$/);
  assert.ok(state.tasks.some((g) => g.change === 'new' && g.path.join('/') === 'main/fetch'), `the fetch tasks are new: ${JSON.stringify(state.tasks)}`);
  assert.match(state.wall, /^wall time \d/);
  // The later run's critical path is shorter: three sleeps of 0.3 s in a row, then one of 0.1 s.
  assert.match(state.criticalPath, /^(9\d\d ms|[12]\.\d\d s) → \d+ ms \(−\d+ %\)$/);

  // The tree, as the user sees it: wall time first, then the sections; the await site's row.
  const rows = await h.waitFor(async () => {
    const rs = await comparisonRows(page);
    return rs.some((r) => r.label === 'Wall time') && rs.some((r) => r.label.startsWith('Await sites')) && rs.some((r) => /compare_me\.py:5 fetch/.test(r.label)) && rs;
  }, 20000, 'the Comparison view rows');
  assert.equal(rows[0].label, 'Wall time');
  assert.equal(rows[1].label, 'Critical path');
  assert.match(rows[0].description, /→ .*\(−\d+ %\)/);
  const siteRow = rows.find((r) => /compare_me\.py:5 fetch/.test(r.label));
  assert.match(siteRow.description, /^await x3 total .* → .*, −\d+ %$/);
  assert.ok(rows.some((r) => r.label === 'main › fetch' && /^new: 3 task\(s\)/.test(r.description)), JSON.stringify(rows));
  await h.screenshot('compare-tree');

  // The hint in the source, on the await line of the later run.
  await h.openFile(PROGRAM);
  const hints = await h.waitFor(async () => {
    const hs = (await lineDom(page, 5))?.hints ?? [];
    return hs.some((x) => /→/.test(x)) && hs;
  }, 15000, 'the compare hint on line 5');
  assert.ok(hints.some((x) => /^await x3 total .* → .*, −\d+ %$/.test(x)), JSON.stringify(hints));
  assert.ok((await h.state()).compare.decorated.some((d) => d.line === 5 && d.style === 'faster'));
  await h.screenshot('compare-hints');

  // Both timelines, one above the other: two root lanes, every task of both runs below them.
  await page.locator('.part.sidebar .monaco-list-row', { hasText: 'Both timelines' }).first().click();
  const drawn = await h.waitFor(async () => {
    const tl = (await h.state()).timeline;
    return tl?.compare && tl.drawn?.compare && tl.drawn.frames > 0 && tl.drawn.visibleLanes.length > 0 && tl.drawn;
  }, 30000, 'the compare timeline drawn');
  const roots = drawn.visibleLanes.filter((l) => l.depth === 0).map((l) => l.name);
  assert.equal(roots.length, 2, JSON.stringify(drawn.visibleLanes));
  assert.match(roots[0], /^Before: compare_me\.py \(/);
  assert.match(roots[1], /^After: compare_me\.py \(/);
  const before = drawn.visibleLanes.findIndex((l) => l.name.startsWith('Before'));
  const afterIdx = drawn.visibleLanes.findIndex((l) => l.name.startsWith('After'));
  assert.ok(drawn.visibleLanes[before].y < drawn.visibleLanes[afterIdx].y, 'the earlier run above');
  // One clock: the chart spans the longer run from 0.
  assert.ok(drawn.t0 <= 0 + drawn.usPerPx * 2, `starts at 0: ${drawn.t0}`);
  assert.equal(drawn.compare.before, roots[0]);
  await h.screenshot('compare-timelines');
});

test('Save Trace As... writes Perfetto and Chrome files that the format checkers read back', async () => {
  const check = await tsImport('../unit/exportCheck.ts', import.meta.url);
  const run = (await h.state()).runs.at(-1);
  const perfetto = path.join(h.workspaceDir, 'after.perfetto-trace.gz');
  const chrome = path.join(h.workspaceDir, 'after.chrome-trace.json');
  await h.command('asyncTrace.saveTraceAs', run.key, { $uri: perfetto }, 'perfetto');
  await h.command('asyncTrace.saveTraceAs', run.key, { $uri: chrome }, 'chrome');
  const p = check.checkPerfetto(gunzipSync(readFileSync(perfetto)));
  assert.ok(p.tracks >= 5 && p.slices > 0 && p.flows > 0, JSON.stringify(p));
  const c = check.checkChrome(JSON.parse(readFileSync(chrome, 'utf8')).traceEvents);
  assert.equal(c.slices, p.slices);
  assert.equal(c.flows, p.flows);
  const exports = (await h.state()).traceFiles.exports;
  assert.equal(exports.length, 2);
  assert.match(exports[0].summary, new RegExp(`^${p.tracks} tracks, ${p.slices} slices, ${p.flows} flows`));

  // Through the user's path: the format pick, then the save dialog (its file name typed).
  // (On a loaded machine the workbench can take the focus back and close the pick as it opens,
  // "inert" then hidden: open it again, as a user would.)
  for (let attempt = 1; ; attempt++) {
    await h.palette('Async Trace: Save Trace As...');
    const pick = await waitForQuickPick(h, 'as');
    try {
      await pick.fill('Chrome', { timeout: 10000 });
      await pick.press('Enter', { timeout: 5000 });
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
      await h.page.keyboard.press('Escape');
    }
  }
  const input = h.page.locator('.quick-input-widget .quick-input-box input');
  await h.waitFor(async () => /\.chrome-trace\.json$/.test(await input.inputValue().catch(() => '')), 15000, 'the save dialog with the format\'s file name');
  const typed = path.join(h.workspaceDir, 'typed.chrome-trace.json');
  await input.fill(typed);
  await input.press('Enter');
  await h.waitFor(async () => (await h.state()).traceFiles.exports.some((e) => e.file === typed), 20000, 'the typed file written');
  const c2 = check.checkChrome(JSON.parse(readFileSync(typed, 'utf8')).traceEvents);
  assert.equal(c2.slices, c.slices);
});
