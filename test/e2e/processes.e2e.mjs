// One run, many processes, in a real VS Code: trace a multiprocessing program (a Pool of 2 forked
// workers, each running a small asyncio job) with "Trace Async Run"; the Tasks tree shows the
// processes as the run's rows with their tasks under them, the timeline shows one group lane per
// process on the run's clock, and collapsing a group (its twistie, or Space) hides its lanes and
// expanding shows them again. Selecting a group selects its process row in the tree, and selecting a
// process row in the tree selects its group and brings it into view. Every wait is on a condition
// (the machine may be loaded).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launch } from './harness.mjs';
import { onFailureShot, openTasksView, waitForRows } from './treeDom.mjs';

const PROGRAM = 'pool_workers.py';

/** The run once it ended and every process's stream said how it ended. */
async function endedRun(h) {
  return h.waitFor(async () => (await h.state()).runs.find((r) => r.exit && !r.live
    && r.processes.length >= 3 && r.processes.every((p) => p.exitCode !== null && !p.live)), 90000, 'the traced run and its 2 workers to end');
}

/** The timeline's process groups once `pred(groups, drawn)` holds. */
async function groupsWhen(h, run, pred, what) {
  return onFailureShot(h, what, () => h.waitFor(async () => {
    const d = (await h.state()).timeline?.drawn;
    return d?.runKey === run.key && d.processGroups && pred(d.processGroups, d) && d;
  }, 20000, what));
}

describe('processes', () => {
  let h;
  before(async () => {
    h = await launch({ workspace: 'test/e2e/workspace' });
  });
  after(async () => {
    await h?.close();
  });

  test('a traced multiprocessing Pool: processes in the tree and as collapsible groups on the timeline', async () => {
    const { page } = h;
    await h.openFile(PROGRAM);
    await h.palette('Async Trace: Trace Async Run');
    const run = await endedRun(h);
    assert.equal(run.exit.code, 0);
    const main = run.processes.find((p) => p.key === 0);
    // In the views' order: as they started.
    const workers = run.processes.filter((p) => p.start === 'fork' && p.ppid === main.pid).sort((a, b) => a.startTs - b.startTs || a.key - b.key);
    assert.equal(workers.length, 2, JSON.stringify(run.processes));
    // Each worker ran its own asyncio job: work() and its two fetches, on the run's one clock.
    for (const w of workers) {
      const tasks = run.tasks.filter((x) => x.process === w.key);
      assert.deepEqual(tasks.map((x) => x.coro).sort(), ['fetch', 'fetch', 'work'], JSON.stringify(tasks));
      assert.ok(w.exitCode === 0, JSON.stringify(w));
      for (const x of tasks) assert.ok(x.createdTs >= w.startTs - 50_000 && x.endTs <= w.endTs, `${JSON.stringify(x)} in ${JSON.stringify(w)}`);
      assert.ok(w.startTs >= main.startTs && w.endTs <= main.endTs, JSON.stringify([w, main]));
    }
    const mainTasks = run.tasks.filter((x) => x.process === 0);
    assert.ok(mainTasks.some((x) => x.coro === 'summary'), JSON.stringify(mainTasks));

    // The Tasks tree, as the user sees it: the run's rows are its processes, their tasks under them
    // (the view shown after the run, so it draws what it deferred while hidden).
    await openTasksView(h);
    const runRow = page.locator('.part.sidebar .monaco-list-row[aria-level="1"]', { hasText: PROGRAM }).first();
    await runRow.waitFor({ state: 'visible', timeout: 15000 });
    if ((await runRow.getAttribute('aria-expanded')) !== 'true') await runRow.locator('.monaco-tl-twistie').click();
    const labels = [`main pid ${main.pid}`, ...workers.map((w) => `worker pid ${w.pid}`)];
    const rows = await waitForRows(h, (rs) => labels.every((l) => rs.some((r) => r.level === 2 && r.label === l))
      && rs.filter((r) => r.level === 3 && r.label === 'Task-1' && /^work · /.test(r.description)).length === 2
      && rs.filter((r) => r.level === 4 && r.label.startsWith('fetch-')).length === 4, 'the processes and their tasks in the tree');
    for (const l of labels) {
      const row = rows.find((r) => r.level === 2 && r.label === l);
      assert.match(row.description, /^\d+(\.\d)? m?s · exit 0$/, `${l}: ${row.description}`);
      assert.equal(row.icon, 'server-process');
    }
    await h.screenshot('task-tree-processes');

    // The timeline: a group lane per process (main first), each process's tasks nested under it.
    await h.palette('Async Trace: Show Timeline');
    const frame = await h.webviewFrame('Async Trace Timeline', 20000);
    const drawn = await groupsWhen(h, run, (gs, d) => gs.length === 3 && gs.every((g) => g.y !== null && !g.collapsed)
      && d.visibleLanes.filter((l) => l.coro === 'fetch').length === 4, 'the timeline to draw 3 process groups and the 4 fetches');
    assert.deepEqual(drawn.processGroups.map((g) => g.label), labels);
    for (const g of drawn.processGroups) assert.match(g.description, /exit 0$/);
    const groupLanes = drawn.visibleLanes.filter((l) => l.kind === 'process');
    assert.deepEqual(groupLanes.map((l) => [l.name, l.depth]), labels.map((l) => [l, 0]));
    const worker = drawn.processGroups[1];
    const workerTasks = new Set(run.tasks.filter((x) => x.process === workers[0].key).map((x) => x.id));
    // Its lanes follow it, nested (work() at depth 1, its fetches at depth 2).
    const at = drawn.visibleLanes.findIndex((l) => l.id === worker.id);
    const under = drawn.visibleLanes.slice(at + 1, at + 1 + worker.lanesUnder);
    assert.equal(worker.lanesUnder, 3);
    assert.deepEqual(new Set(under.map((l) => l.id)), workerTasks);
    assert.deepEqual(under.map((l) => l.depth), [1, 2, 2]);
    const summary = await frame.locator('#gantt-lanes li', { hasText: labels[1] }).first().textContent();
    assert.match(summary, new RegExp(`^${labels[1]} \\(.* · exit 0\\), process, expanded$`));
    await h.screenshot('timeline-processes');

    // Hovering a group's name shows what the tree's tooltip says about that process.
    const box = await frame.locator('canvas.canvas').boundingBox();
    await page.mouse.move(box.x + 60, box.y + worker.y);
    const tooltip = frame.locator('#gantt-tooltip');
    await onFailureShot(h, 'group tooltip', () => tooltip.waitFor({ state: 'visible', timeout: 10000 }));
    const tip = await tooltip.innerText();
    assert.match(tip, new RegExp(labels[1]));
    assert.match(tip, /Started: forked/);
    assert.match(tip, new RegExp(`Parent: main pid ${main.pid}`));

    // Click its twistie: the worker's lanes are hidden, the others stay.
    await page.mouse.click(box.x + 10, box.y + worker.y);
    const collapsed = await groupsWhen(h, run, (gs) => gs[1].collapsed && gs[1].lanesUnder === 0, 'the worker group collapsed');
    assert.ok(collapsed.visibleLanes.every((l) => !workerTasks.has(l.id)), JSON.stringify(collapsed.visibleLanes));
    assert.equal(collapsed.processGroups[2].lanesUnder, 3);
    assert.equal(collapsed.visibleLanes.filter((l) => l.coro === 'fetch').length, 2);
    await frame.locator('#gantt-lanes li', { hasText: /process, collapsed$/ }).first().waitFor({ state: 'attached', timeout: 10000 });

    // Keyboard: select the group (click its name), Space expands it again, Space collapses it.
    await page.mouse.click(box.x + 60, box.y + collapsed.processGroups[1].y);
    await h.waitFor(async () => (await h.state()).timeline?.drawn?.selected === worker.id, 10000, 'the worker group selected');
    // Selecting a group on the timeline selects its process's row in the tree (and only that row).
    const workerRowId = `run:${run.key}/process:${workers[0].key}`;
    await onFailureShot(h, 'the worker row selected in the tree', () => h.waitFor(async () => {
      const sel = (await h.state()).tree?.selection;
      return sel?.length === 1 && sel[0] === workerRowId;
    }, 10000, 'the tree to select the worker process row'));
    await waitForRows(h, (rs) => rs.some((r) => r.level === 2 && r.label === labels[1] && r.selected)
      && rs.filter((r) => r.selected).length === 1, 'the worker process row shown selected in the tree');
    await frame.locator('canvas.canvas').focus();
    await page.keyboard.press(' ');
    const expanded = await groupsWhen(h, run, (gs) => !gs[1].collapsed && gs[1].lanesUnder === 3, 'Space expands the worker group');
    assert.deepEqual(new Set(expanded.visibleLanes.filter((l) => workerTasks.has(l.id)).map((l) => l.id)), workerTasks);
    await page.keyboard.press(' ');
    await groupsWhen(h, run, (gs) => gs[1].collapsed && gs[1].lanesUnder === 0, 'Space collapses it again');
    await page.keyboard.press(' ');
    await groupsWhen(h, run, (gs) => !gs[1].collapsed && gs[1].lanesUnder === 3, 'and Space expands it');

    // And the other way: the chart zoomed in and panned past the second worker's life, selecting its
    // row in the tree selects its group on the timeline and brings its life back into view.
    const second = drawn.processGroups[2];
    const span = await frame.evaluate((id) => {
      const g = window.asyncTraceGantt;
      const s = g.taskSpan(id);
      g.zoom(0.2, 0);
      const v = g.view();
      g.center(s[1] + 2 * (v.width - v.labelW) * v.upp, 0);
      g.draw();
      return s;
    }, second.id);
    const away = await frame.evaluate(() => window.asyncTraceGantt.stats());
    assert.ok(away.t0 > span[1], JSON.stringify({ span, t0: away.t0 }));
    const secondRow = page.locator('.part.sidebar .monaco-list-row[aria-level="2"]')
      .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${labels[2]}$`) }) }).first();
    await secondRow.locator('.label-name').click();
    const revealed = await groupsWhen(h, run, (gs, d) => d.selected === second.id && gs[2].y !== null && d.t0 <= span[1] && d.t1 >= span[0],
      'the second worker\'s group selected and in view after selecting its tree row');
    assert.ok(revealed.usPerPx < drawn.usPerPx, 'the zoom is kept');
    // No echo: the tree keeps the row the user selected.
    assert.deepEqual((await h.state()).tree.selection, [`run:${run.key}/process:${workers[1].key}`]);
  });
});
