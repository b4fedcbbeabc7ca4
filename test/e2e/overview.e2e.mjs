// The README's overview: a user traces examples/04_gather.py and sees the task tree, the
// annotated source and the timeline together. Checks that the three views agree on the run, and
// writes the README's overview.png (with UPDATE_SCREENSHOTS=1).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch } from './harness.mjs';

let h;
before(async () => {
  h = await launch({ workspace: 'examples', settings: { 'workbench.colorTheme': 'Default Dark Modern' } });
});
after(async () => {
  await h?.close();
});

test('trace 04_gather.py: tree, source annotations and timeline show the same run', async () => {
  const { page } = h;
  await page.locator('.activitybar .action-item a[aria-label^="Async Trace"]').first().click();
  await h.openFile('04_gather.py');
  await h.palette('Async Trace: Trace Async Run');
  const run = await h.waitFor(async () => {
    const r = (await h.state()).runs.find((x) => x.label === '04_gather.py');
    return r && !r.live && r;
  }, 60000, 'the run to end');
  assert.equal(run.exit?.code, 0);
  const factorials = run.tasks.filter((t) => t.coro === 'factorial');
  assert.equal(factorials.length, 3);
  assert.ok(factorials.every((t) => t.status === 'done' && t.parent === factorials[0].parent));

  // Tree: the three gathered tasks under main.
  const tree = page.locator('.part.sidebar .monaco-list');
  for (const t of factorials) {
    await tree.locator('.monaco-list-row', { hasText: t.name }).first().waitFor({ timeout: 15000 });
  }

  // Timeline below the source, so both are visible as a user would arrange them.
  await h.command('workbench.action.closePanel');
  await h.command('asyncTrace.showTimeline');
  const frame = await h.webviewFrame('Timeline', 30000);
  await frame.locator('canvas').first().waitFor({ timeout: 15000 });
  // The chart is a canvas: what it drew is reported through the timeline's test state.
  const timeline = await h.waitFor(async () => {
    const tl = (await h.state()).timeline;
    return tl?.open && tl.ready && tl.runKey === run.key && tl.drawn && tl;
  }, 20000, 'the timeline to draw the run');
  assert.ok(timeline.visible);
  await h.command('workbench.action.moveEditorToBelowGroup');
  await h.command('workbench.action.focusFirstEditorGroup');
  await h.waitFor(async () => (await h.state()).activeEditor?.file?.endsWith('04_gather.py'), 10000, 'the source on top');

  // Source: the await in factorial() is annotated with its six waits.
  const lines = await h.waitFor(async () => {
    const a = (await h.state()).annotations;
    return a && JSON.stringify(a).includes('04_gather.py') && a;
  }, 15000, 'annotations of 04_gather.py');
  assert.ok(lines, 'annotations state present');
  await page.waitForTimeout(1000); // let the timeline finish its first paint
  await h.screenshot('overview');
});
