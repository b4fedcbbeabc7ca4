// Executors in a real VS Code: trace a program that moves a blocking call to a worker thread with
// asyncio.to_thread; the timeline shows the worker thread as a lane with the work item's bar and
// an arrow from the awaiting task, its hover says what ran where; the Tasks tree says what the
// task waited on.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launch } from './harness.mjs';
import { onFailureShot, openTasksView, waitForRows } from './treeDom.mjs';

const PROGRAM = 'to_thread_app.py';
const CALL_LINE = 18; // took = await asyncio.to_thread(blocking_io, 0.3)

describe('executor', () => {
  let h;
  before(async () => {
    h = await launch({ workspace: 'test/e2e/workspace' });
  });
  after(async () => {
    await h?.close();
  });

  test('a to_thread work item: its lane, the link from the awaiting task, the hover, the tree row', async () => {
    const { page } = h;
    const run = await h.traceRun(PROGRAM, 30000);

    await h.palette('Async Trace: Show Timeline');
    const frame = await h.webviewFrame('Async Trace Timeline', 20000);
    const drawn = await onFailureShot(h, 'executor lane drawn', () => h.waitFor(async () => {
      const tl = (await h.state()).timeline;
      return tl?.drawn?.runKey === run.key && tl.drawn.execLanes?.length === 1 && tl.drawn.visibleLanes.length >= 2 && tl.drawn;
    }, 20000, 'the timeline to draw the executor lane'));
    const lane = drawn.execLanes[0];
    assert.equal(lane.name, 'asyncio_0');
    assert.equal(lane.items.length, 1);
    // The accessible summary lists it after the tasks.
    const summary = await frame.locator('#gantt-lanes li[data-exec-lane]').first().textContent();
    assert.match(summary, /asyncio_0: executor lane, ran blocking_io\(\)/);
    const main = drawn.visibleLanes.find((l) => l.coro === 'main');
    assert.ok(main && lane.y > main.y, 'the executor lane is below the task lanes');
    await h.screenshot('timeline-executor');

    // Hover the work item's bar in the middle of its 0.3 s.
    const box = await frame.locator('canvas.canvas').boundingBox();
    const span = await frame.evaluate(() => window.asyncTraceGantt.stats());
    // The item runs from ~0.08 s to ~0.38 s of a ~0.4 s run: the middle of the run is inside it.
    const mid = (span.t0 + span.t1) / 2;
    const px = box.x + drawn.labelW + (mid - drawn.t0) / drawn.usPerPx;
    await page.mouse.move(px - 30, box.y + lane.y);
    await page.mouse.move(px, box.y + lane.y, { steps: 4 });
    const tooltip = frame.locator('#gantt-tooltip');
    await tooltip.waitFor({ state: 'visible', timeout: 5000 });
    const text = await tooltip.innerText();
    assert.match(text, /blocking_io\(\) in a worker thread \(asyncio_0\)/);
    assert.match(text, /Awaited by Task-1/);
    assert.match(text, new RegExp(`Submitted at: ${PROGRAM.replace('.', '\\.')}:${CALL_LINE} \\(main\\)`));
    assert.match(text, /Defined at: to_thread_app\.py:6 \(blocking_io\)/);
    assert.match(text, /Ran: 3\d\d(\.\d+)? ms/);
    await h.screenshot('timeline-executor-hover');

    // Hover the awaiting task's wait: it names the work item (and the arrow to it is drawn).
    const py = box.y + main.y;
    await page.mouse.move(px, py, { steps: 4 });
    await h.waitFor(async () => /Waited on: blocking_io\(\) in a worker thread \(asyncio_0\), 3\d\d/.test(await tooltip.innerText()), 5000, 'the wait hover naming the work item');

    // Clicking the work item selects the awaiting task and opens the line that submitted it.
    await page.mouse.move(px, box.y + lane.y, { steps: 2 });
    await page.mouse.click(px, box.y + lane.y);
    await onFailureShot(h, 'click opens the call line', () => h.waitFor(async () => {
      const s = await h.state();
      return s.activeEditor?.file.endsWith(PROGRAM) && s.activeEditor.line === CALL_LINE && s.timeline?.drawn?.selected === main.id;
    }, 10000, `the editor at ${PROGRAM}:${CALL_LINE} and Task-1 selected`));

    // The source annotations of the call line say what ran where (the editor's inline hint).
    const ann = await h.waitFor(async () => {
      const files = (await h.state()).annotations?.files ?? {};
      const lines = Object.entries(files).find(([f]) => f.endsWith(PROGRAM))?.[1];
      const l = lines?.find((x) => x.line === CALL_LINE);
      return l?.kinds.includes('executor') && l;
    }, 15000, `the executor hint on line ${CALL_LINE}`);
    assert.ok(ann.texts.some((x) => /^blocking_io\(\) in a worker thread \(asyncio_0\), 3\d\d(\.\d+)? ms$/.test(x)), ann.texts.join(' | '));
    assert.ok(ann.kinds.includes('await'), 'the call line also shows its await');

    // The Tasks tree: Task-1 lists what it waited on.
    await openTasksView(h);
    const taskRow = page.locator('.part.sidebar .monaco-list-row', { hasText: 'Task-1' }).first();
    await taskRow.waitFor({ state: 'visible', timeout: 10000 });
    if ((await taskRow.getAttribute('aria-expanded')) !== 'true') await taskRow.locator('.monaco-tl-twistie').click();
    const rows = await waitForRows(h, (rs) => rs.some((r) => /^waiting on blocking_io\(\)/.test(r.label)), 'the executor row of Task-1');
    const row = rows.find((r) => /^waiting on blocking_io\(\)/.test(r.label));
    assert.match(row.label, /^waiting on blocking_io\(\) in a worker thread \(asyncio_0\), 3\d\d(\.\d+)? ms$/);
    assert.match(row.description, new RegExp(`${PROGRAM.replace('.', '\\.')}:${CALL_LINE}`));
    assert.equal(row.icon, 'server-process');
    const awaitRow = rows.find((r) => r.label === `${PROGRAM}:${CALL_LINE}`);
    assert.ok(awaitRow, rows.map((r) => r.label).join(', '));
    assert.match(awaitRow.description, /blocking_io\(\) in a worker thread \(asyncio_0\)/);
    await h.screenshot('task-tree-executor');
  });
});
