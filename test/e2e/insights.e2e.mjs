// "Why is it stuck?" in a real VS Code: a deadlocked program traced live shows its stuck tasks in
// the Problems panel (at the waiting line, with the other waits as related information) while it
// hangs, then Stop ends it; the critical path is listed and highlighted on the timeline.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hoverLine } from './editorDom.mjs';
import { launch } from './harness.mjs';
import { openTasksView, treeRows } from './treeDom.mjs';

const DEADLOCK = [
  'import asyncio',
  '',
  '',
  'async def transfer(first, second):',
  '    async with first:',
  '        await asyncio.sleep(0.05)',
  '        async with second:',
  '            print("never")',
  '',
  '',
  'async def main():',
  '    a = asyncio.Lock()',
  '    b = asyncio.Lock()',
  '    left = asyncio.create_task(transfer(a, b), name="left")',
  '    right = asyncio.create_task(transfer(b, a), name="right")',
  '    await asyncio.gather(left, right)',
  '',
  '',
  'asyncio.run(main())',
  '',
].join('\n');

describe('stuck tasks', () => {
  let h;
  before(async () => {
    h = await launch({ workspace: 'examples', settings: { 'terminal.integrated.gpuAcceleration': 'off' } });
  });
  after(async () => {
    await h?.close();
  });

  test('a deadlocked program traced live: stuck tasks in Problems while it hangs, then Stop', async () => {
    const { page } = h;
    writeFileSync(path.join(h.workspaceDir, 'bank_deadlock.py'), DEADLOCK);
    await h.openFile('bank_deadlock.py');
    await h.palette('Async Trace: Trace Async Run');

    // The two transfers wait on each other's lock at line 7 (each holds the lock it took at line 5);
    // main waits on their gather (line 16).
    const stuck = await h.waitFor(async () => {
      const s = (await h.state()).stuck ?? [];
      return s.some((x) => x.line === 7) && s.some((x) => x.line === 16) ? s : undefined;
    }, 60000, 'the stuck lock waits at line 7 and the gather at line 16');
    const run = (await h.state()).runs.find((r) => r.label === 'bank_deadlock.py');
    assert.ok(run?.live, 'found while the program still hangs');
    const cycle = stuck.find((x) => x.line === 7);
    if (cycle.kind === 'deadlock') {
      // The runtime recorded the lock holders (wake links): the cycle itself, with where each lock was taken.
      assert.match(cycle.message, /^Deadlock for .+: (left|right) waits on lock at bank_deadlock\.py:7 \(held by (right|left), taken at bank_deadlock\.py:5\) → (right|left) waits on lock at bank_deadlock\.py:7 \(held by (left|right), taken at bank_deadlock\.py:5\) → back to (left|right)$/);
    } else {
      assert.equal(cycle.kind, 'quiescent');
      assert.match(cycle.message, /^Stuck for .+: (left|right) waits on lock at bank_deadlock\.py:7; nothing can wake it: every other live task waits too \(/);
    }
    assert.ok(cycle.related >= 2, 'the other lines of the chain are related information');
    assert.ok(stuck.some((x) => x.line === 16 && /Task-1 waits on gather of 2 tasks at bank_deadlock\.py:16 → (left|right) waits on lock/.test(x.message)));

    // The Tasks tree shows them in a "stuck" state (warning icon), while the program still hangs.
    await openTasksView(h);
    const rows = await h.waitFor(async () => {
      const r = await treeRows(page);
      return ['left', 'right'].every((n) => r.some((x) => x.label === n && /^stuck · /.test(x.description) && x.icon === 'warning')) ? r : undefined;
    }, 20000, 'left and right shown stuck in the tree');
    assert.ok(rows.some((x) => x.label === 'Task-1' && /^stuck · /.test(x.description)));
    assert.ok((await h.state()).runs.find((r) => r.label === 'bank_deadlock.py')?.live, 'still hanging');

    // The Problems panel lists them (source Async Trace).
    await h.command('workbench.actions.view.problems');
    const problems = page.locator('.markers-panel .monaco-list-row');
    await h.waitFor(async () => /(left|right) waits on lock at bank_deadlock\.py:7/.test((await problems.allInnerTexts()).join('\n')), 20000, 'the Problems panel entries');
    await h.screenshot('insights-stuck-problems');

    await h.command('asyncTrace.stop');
    await h.waitFor(async () => {
      const r = (await h.state()).runs.find((x) => x.label === 'bank_deadlock.py');
      return r && !r.live;
    }, 30000, 'the run to end after Stop');

    // The hover of the sleep line: the distribution of its waits (2 waits of about 50 ms).
    const hover = await h.waitFor(async () => {
      const text = await hoverLine(page, 6, 'sleep').catch(() => '');
      return /Wait times here/.test(text) ? text : undefined;
    }, 20000, 'the hover with wait percentiles');
    assert.match(hover, /Wait times here: 2 waits, p50 \d+(\.\d+)? ms, p95 \d+(\.\d+)? ms, p99 \d+(\.\d+)? ms, max \d+(\.\d+)? ms/);
    await h.screenshot('insights-hover-percentiles');

    // The critical path of the run (tree toolbar / palette): main's wait runs through a transfer's lock wait.
    await page.mouse.move(5, 5);
    // From the palette: executing the command through the test hook would wait for the pick to close.
    await h.palette('Async Trace: Show Critical Path');
    const items = page.locator('.quick-input-widget .monaco-list-row');
    const texts = await h.waitFor(async () => {
      const all = await items.allInnerTexts().catch(() => []);
      return all.some((x) => /waits on lock at bank_deadlock\.py:7/.test(x)) ? all : undefined;
    }, 20000, 'the critical path stages');
    // Stages under 1 % of the path (the 50 ms sleeps of line 6 next to seconds of lock wait) are left out.
    assert.ok(texts.some((x) => /^\d+(\.\d+)? s: (left|right) waits on lock at bank_deadlock\.py:7/.test(x)), texts.join('\n'));
    assert.match(await page.locator('.quick-input-widget .quick-input-title').innerText(), /^Critical path of Task-1: /);
    await h.screenshot('insights-critical-path');
    await page.keyboard.press('Escape');

    // The same command highlighted the path on the timeline: the chain's segments drawn over the
    // dimmed chart, the links where it moves between tasks, its title in a bar and its stages in the
    // accessible summary.
    const ids = Object.fromEntries(run.tasks.map((x) => [x.name, x.id]));
    const frame = await h.webviewFrame('Async Trace Timeline', 20000);
    const shown = await h.waitFor(async () => {
      const cp = (await h.state()).timeline?.drawn?.criticalPath;
      return cp && cp.task === ids['Task-1'] && cp.drawn > 0 && cp.links > 0 ? cp : undefined;
    }, 20000, 'the critical path drawn on the timeline');
    assert.ok(shown.tasks.includes(ids.left) || shown.tasks.includes(ids.right), JSON.stringify(shown));
    const bar = frame.locator('#gantt-critical-path');
    await bar.waitFor({ state: 'visible', timeout: 5000 });
    assert.match(await bar.locator('.path-title').innerText(), /^Critical path of Task-1: /);
    const stages = await bar.locator('ol li').allTextContents();
    assert.ok(stages.some((x) => /(left|right) waits on lock at bank_deadlock\.py:7/.test(x)), stages.join('\n'));
    assert.match(await frame.locator('.legend').innerText(), /Critical path \(the rest dimmed; Esc clears\)/);
    await h.screenshot('insights-critical-path-timeline');

    // Hovering the path says so.
    const drawn = (await h.state()).timeline.drawn;
    const onPath = shown.tasks.includes(ids.left) ? 'left' : 'right';
    const lane = drawn.visibleLanes.find((l) => l.id === ids[onPath]);
    const box = await frame.locator('canvas.canvas').boundingBox();
    const x = box.x + drawn.labelW + (drawn.t1 - drawn.t0) * 0.6 / drawn.usPerPx;
    await page.mouse.move(x - 20, box.y + lane.y);
    await page.mouse.move(x, box.y + lane.y, { steps: 3 });
    const tip = frame.locator('#gantt-tooltip');
    await h.waitFor(async () => /On the critical path/.test(await tip.innerText().catch(() => '')), 10000, 'the hover of a path segment');

    // Escape on the chart clears it.
    await frame.locator('canvas.canvas').focus();
    await page.keyboard.press('Escape');
    await h.waitFor(async () => (await h.state()).timeline?.drawn?.criticalPath === null, 10000, 'Escape to clear the path');
    assert.ok(await bar.isHidden());

    // For a selected task: the toolbar button shows the path of the selected task (right's own life), and clears it.
    await h.command('asyncTrace.showTimeline', { runKey: run.key, taskId: ids.right });
    await h.waitFor(async () => (await h.state()).timeline?.drawn?.selected === ids.right, 10000, 'right selected');
    const button = frame.locator('button[aria-label="Show the Critical Path of the Selected Task, or of the Run"]');
    await button.click();
    const own = await h.waitFor(async () => {
      const cp = (await h.state()).timeline?.drawn?.criticalPath;
      return cp && cp.task === ids.right && cp.drawn > 0 ? cp : undefined;
    }, 10000, 'the path of the selected task');
    assert.deepEqual(own.tasks, [ids.right]);
    assert.equal(await button.getAttribute('aria-pressed'), 'true');
    await button.click();
    await h.waitFor(async () => (await h.state()).timeline?.drawn?.criticalPath === null, 10000, 'the button to clear the path');
  });
});

const SLOW = [
  'import asyncio',
  'import time',
  '',
  '',
  'async def fetch(n):',
  '    for _ in range(3):',
  '        await asyncio.sleep(0.05)',
  '    return n',
  '',
  '',
  'async def compress():',
  '    await asyncio.sleep(0.01)',
  '    time.sleep(0.3)  # blocks the loop',
  '',
  '',
  'async def main():',
  '    slow = asyncio.create_task(fetch(1), name="fetch")',
  '    blocker = asyncio.create_task(compress(), name="compress")',
  '    await asyncio.gather(slow, blocker)',
  '',
  '',
  'asyncio.run(main())',
  '',
].join('\n');

describe('event-loop lag lane', () => {
  let h;
  before(async () => {
    h = await launch({ workspace: 'examples' });
  });
  after(async () => {
    await h?.close();
  });

  test('the timeline shows the loop\'s lag and its blocking step; the hover blames it and names whom it delayed', async () => {
    const { page } = h;
    writeFileSync(path.join(h.workspaceDir, 'slow_compress.py'), SLOW);
    const run = await h.traceRun('slow_compress.py');
    const ids = Object.fromEntries(run.tasks.map((x) => [x.name, x.id]));

    await h.palette('Async Trace: Show Timeline');
    const frame = await h.webviewFrame('Async Trace Timeline', 20000);
    const drawn = await h.waitFor(async () => {
      const d = (await h.state()).timeline?.drawn;
      return d?.runKey === run.key && d.visibleLanes.length >= 3 && d.lagLanes?.length === 1 && d;
    }, 20000, 'the timeline with one lag lane');
    const lane = drawn.lagLanes[0];
    assert.equal(lane.label, 'Event loop lag');
    assert.equal(lane.blocks, 1);
    assert.equal(lane.longestBlock.task, ids.compress);
    assert.ok(lane.longestBlock.dur >= 250_000, JSON.stringify(lane));
    assert.ok(lane.maxLag >= 250_000 && lane.samples >= 1, JSON.stringify(lane));
    // The lag lane sits above the task lanes.
    assert.ok(lane.y < Math.min(...drawn.visibleLanes.map((l) => l.y)));
    // The accessible summary says it in words.
    const summary = await frame.locator('#gantt-lag li').allTextContents();
    assert.equal(summary.length, 1);
    assert.match(summary[0], /^Event loop lag: largest lag [\d.]+ m?s; compress blocked the loop for [\d.]+ m?s at slow_compress\.py:13; delayed 1 tasks: fetch [\d.]+ m?s$/);

    // Hover the blocking step on the lag lane: which step blocked, whom it delayed.
    const box = await frame.locator('canvas.canvas').boundingBox();
    const b = lane.longestBlock;
    const x = box.x + drawn.labelW + (b.ts + b.dur / 2 - drawn.t0) / drawn.usPerPx;
    const y = box.y + lane.y;
    await page.mouse.move(x - 20, y);
    await page.mouse.move(x, y, { steps: 3 });
    const tip = frame.locator('#gantt-tooltip');
    const text = await h.waitFor(async () => {
      const s = await tip.innerText().catch(() => '');
      return /blocked the loop/.test(s) ? s : undefined;
    }, 10000, 'the hover of the blocking step on the lag lane');
    assert.match(text, /compress blocked the loop for [\d.]+ m?s at slow_compress\.py:13; delayed 1 tasks: fetch [\d.]+ m?s/);
    assert.match(text, /Site: slow_compress\.py:13 \(compress\)/);
    await h.screenshot('insights-loop-lag');

    // Click: the blocking task is selected and its line opens.
    await page.mouse.click(x, y);
    await h.waitFor(async () => {
      const s = await h.state();
      return s.timeline?.drawn?.selected === ids.compress && s.activeEditor?.file.endsWith('slow_compress.py') && s.activeEditor.line === 13;
    }, 10000, 'compress selected and slow_compress.py:13 open');

    // The hover of a task's name: where its time went (fetch was ready behind compress's steps).
    const fetchLane = (await h.state()).timeline.drawn.visibleLanes.find((l) => l.id === ids.fetch);
    await page.mouse.move(box.x + 60, box.y + fetchLane.y - 8);
    await page.mouse.move(box.x + 70, box.y + fetchLane.y, { steps: 3 });
    const split = await h.waitFor(async () => {
      const s = await tip.innerText().catch(() => '');
      return /Time split/.test(s) ? s : undefined;
    }, 10000, 'the time split in the hover of fetch\'s name');
    assert.match(split, /Time split: .+ running, [\d.]+ m?s ready but not running, [\d.]+ m?s waiting/);
    assert.match(split, /Ready behind: compress [\d.]+ m?s/);
    assert.match(split, /Waiting on: sleep \d+(\.\d+)? ms/);
    await page.mouse.move(5, 5);

    // The same in the Tasks tree's tooltip of fetch.
    await openTasksView(h);
    const label = page.locator('.part.sidebar .monaco-list-row', { has: page.locator('.label-name', { hasText: /^fetch$/ }) }).first().locator('.label-name');
    const treeTip = page.locator('.workbench-hover, .monaco-hover:not(.hidden)', { hasText: 'Time split' }).first();
    await h.waitFor(async () => {
      const lb = await label.boundingBox();
      await page.mouse.move(lb.x + 5, lb.y + lb.height / 2);
      await page.mouse.move(lb.x + 15, lb.y + lb.height / 2, { steps: 4 });
      await treeTip.waitFor({ state: 'visible', timeout: 3000 });
      return true;
    }, 30000, 'the tooltip of fetch in the tree');
    const treeText = await treeTip.innerText();
    assert.match(treeText, /Ready behind\s*:?\s*compress [\d.]+ m?s/);
    assert.match(treeText, /Waiting on\s*:?\s*sleep/);
    await h.screenshot('insights-time-split-tree');
    await page.mouse.move(5, 5);

    // The hover of fetch's sleep line: its slowest wait (the one held up by compress) opens on the
    // timeline, zoomed to it and marked, with fetch selected and the line in the editor.
    await h.openFile('slow_compress.py');
    const hover = await h.waitFor(async () => {
      const text = await hoverLine(page, 7, 'sleep').catch(() => '');
      return /Slowest: [\d.]+ m?s by fetch/.test(text) ? text : undefined;
    }, 20000, 'the hover of line 7 with its slowest wait');
    assert.match(hover, /Wait times here: 3 waits/);
    const open = page.locator('.monaco-hover:not(.hidden) a[title="Open This Wait on the Timeline"]').first();
    await open.click();
    const focused = await h.waitFor(async () => {
      const d = (await h.state()).timeline?.drawn;
      return d?.focusWait?.task === ids.fetch && d.selected === ids.fetch ? d : undefined;
    }, 15000, 'the slowest wait shown on the timeline');
    const w = focused.focusWait;
    assert.ok(w.to - w.from >= 250_000, `the wait held up by compress: ${JSON.stringify(w)}`);
    assert.ok(focused.t0 <= w.from && focused.t1 >= w.to, 'the wait in view');
    assert.ok(focused.t1 - focused.t0 < 3 * (w.to - w.from), 'zoomed to it');
    const editor = (await h.state()).activeEditor;
    assert.ok(editor?.file.endsWith('slow_compress.py') && editor.line === 7, JSON.stringify(editor));
    await h.screenshot('insights-open-wait');
  });
});
