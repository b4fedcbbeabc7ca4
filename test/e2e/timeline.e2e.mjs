// The Gantt timeline in a real VS Code: trace the create_task example, open the timeline, check the
// lanes of its tasks are drawn (the webview's accessible lane list and what it reports it drew),
// hover a waiting slice (tooltip text), click it (the editor jumps to the await line), select a task
// from the tree's command (the chart scrolls/selects it), and take screenshots for the README.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launch } from './harness.mjs';
import { openTasksView } from './treeDom.mjs';

const PROGRAM = '03_create_task.py';
// say_after's `await asyncio.sleep(delay)`.
const AWAIT_LINE = 7;

/** The chart's visible lanes, as the webview's accessible summary lists them. */
async function laneItems(frame) {
  return frame.locator('#gantt-lanes li').evaluateAll((lis) => lis.map((li) => ({
    id: Number(li.dataset.taskId), y: Number(li.dataset.y), text: li.textContent,
  })));
}

/** Page coordinates of time `us` on the lane at canvas y `laneY`. */
async function chartPoint(frame, drawn, us, laneY) {
  const box = await frame.locator('canvas.canvas').boundingBox();
  return { x: box.x + drawn.labelW + (us - drawn.t0) / drawn.usPerPx, y: box.y + laneY };
}

describe('timeline', () => {
  let h;
  before(async () => {
    h = await launch({ workspace: 'examples' });
  });
  after(async () => {
    await h?.close();
  });

  test('a traced run shows its tasks as lanes; hover explains a slice; click opens its await line', async () => {
    const { page } = h;
    const run = await h.traceRun(PROGRAM, 30000);

    await h.palette('Async Trace: Show Timeline');
    const frame = await h.webviewFrame('Async Trace Timeline', 20000);
    const drawn = await h.waitFor(async () => {
      const tl = (await h.state()).timeline;
      return tl?.drawn?.runKey === run.key && tl.drawn.visibleLanes.length >= 3 && tl.drawn.slicesDrawn >= 6 && tl.drawn;
    }, 20000, 'the timeline to draw the run');

    // Lanes the user sees: main and its two say_after children, nested under it.
    const lanes = await h.waitFor(async () => {
      const items = await laneItems(frame);
      return items.filter((l) => /say_after/.test(l.text)).length === 2 && items;
    }, 10000, 'two say_after lanes in the accessible summary');
    assert.match(lanes[0].text, /Task-1 \(main\)/);
    assert.match(lanes[0].text, /asyncio task/);
    assert.match(lanes[0].text, /Done/);
    const sayAfter = drawn.visibleLanes.filter((l) => l.coro === 'say_after');
    assert.equal(sayAfter.length, 2);
    assert.ok(sayAfter.every((l) => l.depth === 1 && l.slices === 2), JSON.stringify(sayAfter));
    assert.ok(drawn.slicesDrawn >= 6, `slices drawn: ${drawn.slicesDrawn}`);
    assert.ok(drawn.lastFrameMs < 100, `frame took ${drawn.lastFrameMs} ms`);
    await h.screenshot('timeline-light');

    // Hover the second say_after lane in the middle of its 2 s sleep.
    const task3 = sayAfter[1];
    // Fit-all view: the middle of the run (~1.25 s) is inside Task-3's sleep (0.25 s .. 2.25 s).
    const point = await chartPoint(frame, drawn, (drawn.t0 + drawn.t1) / 2, task3.y);
    await page.mouse.move(point.x - 40, point.y);
    await page.mouse.move(point.x, point.y, { steps: 4 });
    const tooltip = frame.locator('#gantt-tooltip');
    await tooltip.waitFor({ state: 'visible', timeout: 5000 });
    const text = await tooltip.innerText();
    assert.match(text, new RegExp(`${task3.name} · say_after`));
    assert.match(text, /Waiting/);
    assert.match(text, /Duration: 2\.\d\d s/);
    assert.match(text, new RegExp(`Site: ${PROGRAM.replace('.', '\\.')}:${AWAIT_LINE} \\(say_after\\)`));
    assert.match(text, /Waited on: sleep 2\.0 s/);
    await h.screenshot('timeline-hover');

    // Click it: the task is selected and the editor opens at the await line.
    await page.mouse.click(point.x, point.y);
    const editor = await h.waitFor(async () => {
      const e = (await h.state()).activeEditor;
      return e && e.file.endsWith(PROGRAM) && e.line === AWAIT_LINE && e;
    }, 10000, `the editor at ${PROGRAM}:${AWAIT_LINE}`);
    assert.equal(editor.line, AWAIT_LINE);
    // What the user sees: the editor tab and its highlighted current line.
    await h.waitFor(async () => {
      const tab = await page.locator('.part.editor .editor-group-container.active .tab.active').first().getAttribute('aria-label');
      return tab?.includes(PROGRAM) || tab;
    }, 5000, 'the program tab active');
    await h.waitFor(async () => (await page.locator('.part.editor .editor-group-container.active .line-numbers.active-line-number').first().textContent())?.trim() === String(AWAIT_LINE), 5000, 'line 7 highlighted');
    await h.screenshot('timeline-click-opens-source');
    const selected = await h.waitFor(async () => (await h.state()).timeline?.drawn?.selected === task3.id, 5000, 'the task selected in the chart');
    assert.ok(selected);
  });

  test('the tree context command opens the timeline at a task; keyboard moves the selection', async () => {
    const { page } = h;
    const state = await h.state();
    const run = state.runs[0];
    // The tree's context menu passes its element: { runKey, taskId }.
    await h.command('asyncTrace.showTimeline', { runKey: run.key, taskId: 2 });
    const frame = await h.webviewFrame('Async Trace Timeline', 15000);
    await h.waitFor(async () => (await h.state()).timeline?.drawn?.selected === 2, 10000, 'Task-2 selected');
    const current = await h.waitFor(async () => {
      const li = frame.locator('#gantt-lanes li[aria-current="true"]');
      return (await li.count()) === 1 && li.textContent();
    }, 5000, 'the selected lane marked in the summary');
    assert.match(current, /Task-2 \(say_after\)/);

    // Keyboard: focus the canvas, Down selects the next lane (Task-3).
    await frame.locator('canvas.canvas').focus();
    await page.keyboard.press('ArrowDown');
    await h.waitFor(async () => (await h.state()).timeline?.drawn?.selected === 3, 5000, 'Down selects Task-3');
    const before = (await h.state()).timeline.drawn;
    await page.keyboard.press('=');
    const zoomed = await h.waitFor(async () => {
      const d = (await h.state()).timeline.drawn;
      return d.usPerPx < before.usPerPx * 0.75 && d;
    }, 5000, '+ zooms in');
    assert.ok(zoomed.t1 - zoomed.t0 < before.t1 - before.t0);
    await page.keyboard.press('f');
    await h.waitFor(async () => (await h.state()).timeline.drawn.usPerPx > zoomed.usPerPx, 5000, 'F fits all');

    // Selecting a task in the Tasks tree selects (and scrolls to) its lane in the chart.
    await openTasksView(h);
    const row = page.locator('.part.sidebar .pane-body .monaco-list-row', { has: page.locator('.label-name', { hasText: /^Task-1$/ }) }).first();
    await row.waitFor({ state: 'visible', timeout: 10000 });
    await row.click();
    // The tree opens the task's creation site (line 27, asyncio.run) over the chart; the chart
    // keeps the selection for when it is shown again.
    await h.waitFor(async () => (await h.state()).activeEditor?.line === 27, 5000, 'the tree to open the source').catch(() => {});
    await h.command('asyncTrace.showTimeline');
    await h.waitFor(async () => (await h.state()).timeline?.drawn?.selected === 1, 10000, 'Task-1 selected in the chart from the tree');
  });

  test('search jumps to matching tasks; a theme change repaints with the new colours', async () => {
    const { page } = h;
    const frame = await h.webviewFrame('Async Trace Timeline', 15000);
    const search = frame.locator('input.search');
    await search.fill('say_after');
    await h.waitFor(async () => (await frame.locator('.search-count').textContent()) === '1 of 2', 5000, 'first of two matches');
    await h.waitFor(async () => (await h.state()).timeline.drawn.selected === 2, 5000, 'first match selected');
    await search.press('Enter');
    await h.waitFor(async () => (await h.state()).timeline.drawn.selected === 3, 5000, 'Enter goes to the next match');
    await search.fill('no such task');
    await h.waitFor(async () => (await frame.locator('.search-count').textContent()) === 'No match', 5000, 'no match shown');
    await search.fill('');

    // The contributed colours reach the webview as CSS variables (including ones that default to other colours).
    const vars = await frame.evaluate(() => ['running', 'waiting', 'timelineIo', 'timelineSync', 'timelineSwitch']
      .map((n) => getComputedStyle(document.documentElement).getPropertyValue(`--vscode-asyncTrace-${n}`).trim()));
    assert.ok(vars.every((v) => v.length > 0), `theme variables: ${vars}`);
    const before = (await h.state()).timeline.drawn.colors;
    // The chart alone, for the README screenshot.
    await h.command('workbench.action.closeSidebar');
    await h.command('workbench.action.closePanel');
    await h.command('asyncTrace.showTimeline');
    await h.command('workbench.action.closeEditorsInOtherGroups');
    await h.command('workbench.action.toggleLightDarkThemes');
    const after = await h.waitFor(async () => {
      const c = (await h.state()).timeline.drawn.colors;
      return c.background !== before.background && c;
    }, 10000, 'the chart to repaint with the other theme');
    assert.notEqual(after.running, before.running, 'theme colour asyncTrace.running re-read');
    // Hover main's wait on Task-2: the tooltip and the arrow to the awaited task.
    const dark = await h.webviewFrame('Async Trace Timeline', 15000);
    await dark.locator('canvas.canvas').focus();
    await page.keyboard.press('f');
    const drawn = await h.waitFor(async () => {
      const d = (await h.state()).timeline.drawn;
      return d.visibleLanes.length >= 3 && d.labelW > 200 && d;
    }, 10000, 'the full-width chart');
    const main = drawn.visibleLanes[0];
    const p = await chartPoint(dark, drawn, drawn.t0 + (drawn.t1 - drawn.t0) * 0.3, main.y);
    await page.mouse.move(p.x - 20, p.y);
    await page.mouse.move(p.x, p.y, { steps: 3 });
    await dark.locator('#gantt-tooltip').waitFor({ state: 'visible', timeout: 5000 });
    assert.match(await dark.locator('#gantt-tooltip').innerText(), /Waited on: another task: Task-2/);
    await h.screenshot('timeline-dark');
    await page.mouse.move(5, 5);
    await h.command('workbench.action.toggleLightDarkThemes');
  });

  test('a sleep held up by a busy loop shows as ready, not running, until the task ran', async () => {
    const { page } = h;
    // A sleeper due after 1.0 s, while another task blocks the loop from 0.15 s to 1.65 s: it
    // runs 0.55 s late, and the chart says so.
    const file = path.join(h.workspaceDir, 'busy_loop.py');
    writeFileSync(file, 'import asyncio, time\nasync def sleeper():\n    await asyncio.sleep(1.0)\nasync def blocker():\n    time.sleep(1.5)\n');
    const events = [
      { type: 'run', v: 1, pid: 1, python: '3.12.1', argv: ['busy_loop.py'], cwd: h.workspaceDir, started: '2026-11-25T00:00:00.000Z', blockMs: 100 },
      { type: 'site', id: 1, file, line: 3, func: 'sleeper' },
      { type: 'site', id: 2, file, line: 5, func: 'blocker' },
      { type: 'task', id: 1, ts: 0, kind: 'asyncio', name: 'Task-1', coro: 'sleeper', parent: null, site: null, thread: 1 },
      { type: 'task', id: 2, ts: 10, kind: 'asyncio', name: 'Task-2', coro: 'blocker', parent: null, site: null, thread: 1 },
      { type: 'step', task: 1, ts: 100000, dur: 100, await: { stack: [1], on: { kind: 'sleep', delay: 1.0 } } },
      { type: 'block', task: 2, ts: 150000, dur: 1500000, site: 2 },
      { type: 'step', task: 2, ts: 150000, dur: 1500000 },
      { type: 'end', task: 2, ts: 1650000, state: 'done' },
      { type: 'step', task: 1, ts: 1650100, dur: 100 },
      { type: 'end', task: 1, ts: 1650200, state: 'done' },
      { type: 'exit', ts: 1650300, code: 0, dropped: 0 },
    ];
    const trace = path.join(h.workspaceDir, 'busy_loop.trace.jsonl');
    writeFileSync(trace, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    await h.command('asyncTrace.openTraceFile', trace);
    const run = await h.waitFor(async () => (await h.state()).runs.find((r) => /busy_loop/.test(r.label)), 10000, 'the trace opened');
    await h.command('asyncTrace.showTimeline', { runKey: run.key, taskId: 1 });
    const frame = await h.webviewFrame('Async Trace Timeline', 15000);
    const drawn = await h.waitFor(async () => {
      const d = (await h.state()).timeline?.drawn;
      return d?.runKey === run.key && d.visibleLanes.length === 2 && d;
    }, 15000, 'the busy run drawn');
    await frame.locator('canvas.canvas').focus();
    await page.keyboard.press('0'); // fit the whole run
    const fit = await h.waitFor(async () => {
      const d = (await h.state()).timeline?.drawn;
      return d && d.t0 <= 0 && d.t1 >= 1650300 && d;
    }, 5000, 'the whole run in view').catch(() => drawn);
    const lane = fit.visibleLanes.find((l) => l.coro === 'sleeper');
    // Between the sleep's end (1.1001 s) and the step that finally ran (1.6501 s).
    const point = await chartPoint(frame, fit, 1375000, lane.y);
    await page.mouse.move(point.x - 30, point.y);
    await page.mouse.move(point.x, point.y, { steps: 4 });
    const tooltip = frame.locator('#gantt-tooltip');
    await tooltip.waitFor({ state: 'visible', timeout: 5000 });
    const text = await tooltip.innerText();
    assert.match(text, /Task-1 · sleeper/);
    assert.match(text, /\bready\b/i);
    assert.match(text, /Duration: 550(\.\d+)? ms/);
    // The file's loading toast stays up a moment after loading (VS Code's minimum display time).
    await h.waitFor(async () => (await page.locator('.notifications-toasts .notification-toast').count()) === 0, 5000, 'no toast')
      .catch(() => undefined);
    await h.screenshot('timeline-ready');
    // Before the sleep was up it was waiting, as before.
    const early = await chartPoint(frame, fit, 600000, lane.y);
    await page.mouse.move(early.x, early.y, { steps: 4 });
    await h.waitFor(async () => /Waiting/.test(await tooltip.innerText()), 5000, 'waiting before the sleep was up');
  });

  test('a live run grows on the chart while it runs, following "now"', async () => {
    const program = 'live_timeline.py';
    writeFileSync(path.join(h.workspaceDir, program), [
      '# Starts a worker every 100 ms for about 5 s: the timeline grows while it runs.',
      'import asyncio',
      '',
      '',
      'async def worker(i):',
      '    for _ in range(3):',
      '        await asyncio.sleep(0.05)',
      '',
      '',
      'async def main():',
      '    tasks = []',
      '    for i in range(50):',
      "        tasks.append(asyncio.create_task(worker(i), name=f'worker-{i}'))",
      '        await asyncio.sleep(0.1)',
      '    await asyncio.gather(*tasks)',
      '',
      'asyncio.run(main())',
      '',
    ].join('\n'));
    // The timeline is open before the run starts: it follows the newly selected (live) run.
    await h.command('asyncTrace.showTimeline');
    const frame = await h.webviewFrame('Async Trace Timeline', 15000);
    await h.command('asyncTrace.traceRun', { $uri: path.join(h.workspaceDir, program) });
    const run = await h.waitFor(async () => (await h.state()).runs.find((r) => r.label.includes('live_timeline')), 20000, 'the live run');
    const first = await h.waitFor(async () => {
      const s = await h.state();
      const d = s.timeline?.drawn;
      return d?.runKey === run.key && d.steps > 0 && s.runs.find((r) => r.key === run.key)?.live
        && (await frame.locator('.live-badge').isVisible()) && d;
    }, 15000, 'the live run drawn, with its live badge');
    assert.equal(first.follow, true, 'follow mode is on for a live run');
    const later = await h.waitFor(async () => {
      const s = await h.state();
      const d = s.timeline.drawn;
      return d.steps > first.steps && d.visibleLanes.length > first.visibleLanes.length && d;
    }, 15000, 'more steps and lanes while it runs');
    assert.ok(later.t1 >= first.t1, 'the view moved along with "now"');
    await h.screenshot('timeline-live');
    const done = await h.waitFor(async () => {
      const s = await h.state();
      const r = s.runs.find((x) => x.key === run.key);
      const d = s.timeline.drawn;
      return r && !r.live && d.totalLanes >= 51 && !(await frame.locator('.live-badge').isVisible()) && d;
    }, 20000, 'all 51 tasks drawn after the run ends');
    assert.ok(done.steps >= 50 * 4, `steps drawn: ${done.steps}`);
  });

  // Last: the reload restarts the extension host, so the harness's state() no longer answers.
  test('a window reload restores the timeline with its run (reopened from its trace file) and view', async () => {
    const { page } = h;
    const before = (await h.state()).timeline.drawn;
    await h.waitFor(async () => !(await h.state()).runs.some((r) => r.live), 20000, 'no live run');
    const portFile = path.join(path.dirname(h.logFile), 'hooks.port');
    const oldPort = readFileSync(portFile, 'utf8').trim();
    await page.waitForTimeout(500); // the webview saves its view state (debounced)
    await page.reload();
    const port = await h.waitFor(() => { const p = readFileSync(portFile, 'utf8').trim(); return p && p !== oldPort && p; }, 60000, 'the new extension host');
    // The file holds `<port>\n<token>`: every request carries the new host's token.
    const [hooksPort, token] = port.split('\n');
    const state = async () => (await fetch(`http://127.0.0.1:${hooksPort}/state`, { headers: { 'x-async-trace-token': token } })).json();
    // A restored panel comes back as a tab; VS Code revives its webview when the tab is shown.
    const tab = page.locator('.tabs-container .tab', { hasText: 'Timeline:' }).first();
    await tab.waitFor({ state: 'visible', timeout: 30000 });
    await tab.click();
    let last;
    const drawn = await h.waitFor(async () => {
      last = await state();
      const d = last.timeline?.drawn;
      return d && d.totalLanes >= 51 && d;
    }, 60000, 'the restored timeline drawn').catch(async (e) => {
      throw new Error(`${e.message}\n${JSON.stringify({ timeline: last?.timeline, runs: last?.runs?.map((r) => r.label) }).slice(0, 2000)}`);
    });
    const s = await state();
    assert.ok(s.runs.some((r) => r.key === drawn.runKey && /live_timeline/.test(r.label)), 'the run was reopened from its trace file');
    assert.ok(drawn.visibleLanes.some((l) => /^worker-/.test(l.name)));
    assert.ok(Math.abs(drawn.usPerPx - before.usPerPx) / before.usPerPx < 0.05, `zoom kept: ${before.usPerPx} -> ${drawn.usPerPx}`);

    // With no run left, the panel says so instead of showing an empty chart.
    await fetch(`http://127.0.0.1:${hooksPort}/command`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-async-trace-token': token }, body: JSON.stringify({ id: 'asyncTrace.clear', args: [] }) });
    const frame = await h.webviewFrame('Async Trace Timeline', 15000);
    const empty = frame.locator('.empty');
    await empty.waitFor({ state: 'visible', timeout: 10000 });
    assert.match(await empty.textContent(), /No traced run to show/);
  });
});
