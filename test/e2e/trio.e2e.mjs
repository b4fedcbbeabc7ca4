// trio in a real VS Code: trace a trio program (a nursery of named workers fed through a memory
// channel, a deadline that fires, a task cancelled by its nursery) with "Trace Async Run"; the
// Tasks tree shows its tasks under the main task with their states, the kind "trio task" in a
// task's tooltip, and the timeline draws their lanes as trio tasks.
// Needs a Python with trio (Debian: python3-trio, for /usr/bin/python3), found among the machine's
// interpreters and pinned in the folder's asyncTrace.pythonPath: skipped with a message when none has it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launch } from './harness.mjs';
import { pythonWith } from './pythons.mjs';
import { onFailureShot, openTasksView, waitForRows } from './treeDom.mjs';

const PROGRAM = 'trio_workers.py';
const CHILDREN = ['producer', 'worker-0', 'worker-1', 'victim'];

const python = pythonWith(['trio']);

describe('trio', { skip: python ? false : 'needs a Python >= 3.9 with trio (Debian: python3-trio); none of the interpreters found has it' }, () => {
  let h;
  before(async () => {
    h = await launch({ workspace: 'test/e2e/workspace', pythonPath: python });
  });
  after(async () => {
    await h?.close();
  });

  test('a traced trio program: its tasks in the tree (trio task) and in the timeline', async () => {
    const { page } = h;
    const run = await h.traceRun(PROGRAM);
    assert.equal(run.exit.code, 0);
    // It ran on the pinned interpreter, from the folder's setting (not whatever python3 PATH had first).
    const finished = await h.waitFor(async () => (await h.state()).runner.finished.find((f) => f.key === run.key), 10000, 'the run\'s record');
    assert.deepEqual(finished.interpreter, { command: python, source: 'setting' });
    // trio's own tasks (its init task, its run_sync_soon task) are hidden: the program's main task is the root.
    assert.equal(run.roots.length, 1);
    const main = run.tasks.find((x) => x.id === run.roots[0]);
    assert.equal(main.coro, 'main');
    const kids = main.children.map((id) => run.tasks.find((x) => x.id === id));
    assert.deepEqual(kids.map((k) => k.name), CHILDREN);
    assert.ok([main, ...kids].every((k) => k.kind === 'trio'), JSON.stringify(run.tasks.map((x) => x.kind)));
    assert.equal(kids.find((k) => k.name === 'victim').status, 'cancelled');
    assert.equal(main.timeouts.length, 1);

    // The Tasks tree, as the user sees it.
    await openTasksView(h);
    const runRow = page.locator('.part.sidebar .monaco-list-row[aria-level="1"]', { hasText: PROGRAM }).first();
    await runRow.waitFor({ state: 'visible', timeout: 15000 });
    if ((await runRow.getAttribute('aria-expanded')) !== 'true') await runRow.locator('.monaco-tl-twistie').click();
    const mainRow = page.locator('.part.sidebar .monaco-list-row[aria-level="2"]', { hasText: main.name }).first();
    await mainRow.waitFor({ state: 'visible', timeout: 15000 });
    if ((await mainRow.getAttribute('aria-expanded')) !== 'true') await mainRow.locator('.monaco-tl-twistie').click();
    const rows = await waitForRows(h, (rs) => CHILDREN.every((n) => rs.some((r) => r.level === 3 && r.label === n)), 'the trio tasks under main');
    const victim = rows.find((r) => r.level === 3 && r.label === 'victim');
    assert.match(victim.description, /^forever · .* · cancelled$/);
    assert.match(rows.find((r) => r.label === 'worker-0').description, /^worker · .* · done$/);
    await h.screenshot('task-tree-trio');

    // The task's tooltip names its kind.
    const victimRow = page.locator('.part.sidebar .monaco-list-row[aria-level="3"]', { hasText: 'victim' }).first();
    await victimRow.hover();
    const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'trio task' }).first();
    await onFailureShot(h, 'tree tooltip of a trio task', () => hover.waitFor({ state: 'visible', timeout: 15000 }));
    assert.match(await hover.innerText(), /Kind\W+trio task/);
    await page.mouse.move(0, 0);

    // The timeline: one lane per task, drawn as trio tasks.
    await h.palette('Async Trace: Show Timeline');
    const frame = await h.webviewFrame('Async Trace Timeline', 20000);
    const drawn = await onFailureShot(h, 'trio lanes drawn', () => h.waitFor(async () => {
      const tl = (await h.state()).timeline;
      const lanes = tl?.drawn?.runKey === run.key ? tl.drawn.visibleLanes : [];
      return CHILDREN.every((n) => lanes.some((l) => l.name === n)) && tl.drawn;
    }, 20000, 'the timeline to draw the trio tasks'));
    for (const name of [main.name, ...CHILDREN]) {
      const lane = drawn.visibleLanes.find((l) => l.name === name);
      assert.ok(lane, `no lane for ${name}`);
      assert.equal(lane.kind, 'trio');
    }
    assert.equal(drawn.visibleLanes.find((l) => l.name === 'victim').state, 'cancelled');
    assert.ok(drawn.steps > 10, `steps drawn: ${drawn.steps}`);
    // The accessible lane list says what each lane is.
    const summary = await frame.locator('#gantt-lanes li', { hasText: 'victim' }).first().textContent();
    assert.match(summary, /^victim \(forever\), trio task, Cancelled, \d+ steps$/);
    await h.screenshot('timeline-trio');
  });
});
