// Source annotations in a real VS Code: after a traced run of the wait_for example, the editor
// shows gutter icons and inline hints on the await and timeout lines, a hover with the details,
// and the Problems panel lists the fired timeout. A trace recorded on another machine maps onto the
// workspace; annotations follow edits, the toggle hides them, "Clear" removes them.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hoverLine, lineDom } from './editorDom.mjs';
import { launch } from './harness.mjs';

const PROGRAM = '05_wait_for_timeout.py';

async function problemsText(h) {
  await h.command('workbench.actions.view.problems');
  const panel = h.page.locator('.markers-panel').first();
  await panel.waitFor({ state: 'visible', timeout: 10000 });
  return panel.innerText();
}

const hasAnnotations = (d) => d && d.gutter.length > 0 && d.hints.length > 0;

describe('source annotations', () => {
  let h;
  before(async () => {
    h = await launch({ workspace: 'examples' });
  });
  after(async () => {
    await h?.close();
  });

  test('a traced run of the wait_for example annotates its await and timeout lines', async () => {
    const { page } = h;
    await h.traceRun(PROGRAM, 30000);

    const l14 = await h.waitFor(async () => {
      const d = await lineDom(page, 14);
      // While the program runs the line says "armed"; the final refresh follows the exit (throttled).
      return hasAnnotations(d) && d.hints.some((t) => /timeout.*fired/.test(t)) && d;
    }, 15000, 'the fired timeout on line 14');
    const timeoutHint = l14.hints.find((t) => t.includes('timeout'));
    assert.match(timeoutHint, /timeout 1\.0 s fired x1/);
    assert.ok(l14.hints.some((t) => /await/.test(t)), `line 14 also shows its await: ${l14.hints}`);
    assert.match(l14.gutter.join(' '), /cgmr/);

    const l7 = await lineDom(page, 7);
    assert.ok(hasAnnotations(l7), 'line 7 has a gutter icon and a hint');
    assert.match(l7.hints.join(' '), /await x1 {2}total 1\.\d+ s {2}max 1\.\d+ s/);
    // Lines where nothing was awaited stay clean.
    assert.deepEqual((await lineDom(page, 8)).hints, []);
    await h.screenshot('annotations-editor');

    const hover = await hoverLine(page, 14, 'wait_for');
    assert.match(hover, /Timeouts armed here/);
    assert.match(hover, /fired after 1\.\d+ s/);
    assert.match(hover, /Task-1/);
    await h.screenshot('annotations-hover');
    // Its links reveal the task in the Tasks tree and in the timeline.
    const links = page.locator('.monaco-hover:not(.hidden) .monaco-hover-content a[data-href*="asyncTrace.revealTask"]');
    assert.ok((await links.count()) >= 1, 'reveal links in the hover');
    assert.ok((await page.locator('.monaco-hover:not(.hidden) a[data-href*="asyncTrace.showTimeline"]').count()) >= 1, 'timeline links');
    const href = decodeURIComponent(await links.first().getAttribute('data-href'));
    assert.match(href, /^command:asyncTrace\.revealTask\?\["[^"]+",1\]$/);
    await links.first().click();
    await h.waitFor(async () => /Task-1/.test(await page.locator('.part.sidebar .monaco-list-row.selected').first().innerText({ timeout: 500 })), 10000, 'Task-1 selected in the tree');
    await hoverLine(page, 14, 'wait_for');
    await page.locator('.monaco-hover:not(.hidden) a[data-href*="asyncTrace.showTimeline"]').first().click();
    await h.waitFor(async () => (await h.state()).timeline?.open, 10000, 'the timeline to open');
    await h.openFile(PROGRAM);

    const problems = await h.waitFor(async () => {
      const text = await problemsText(h);
      return /Timeout of 1\.0 s fired and cancelled Task-\d/.test(text) && text;
    }, 10000, 'the fired timeout in the Problems panel');
    assert.match(problems, /Async Trace/);
    await h.screenshot('annotations-problems');
    const state = await h.state();
    assert.ok(state.annotations.diagnostics.some((d) => d.line === 14 && d.severity === 'Warning' && d.code === 'timeout-fired'));
  });

  test('annotations update live while the program runs', async () => {
    const { page } = h;
    await h.palette('Async Trace: Clear All Runs');
    await h.waitFor(async () => (await h.state()).runs.length === 0, 5000, 'no runs');
    writeFileSync(path.join(h.workspaceDir, 'ticks.py'), [
      'import asyncio',
      '',
      'async def tick():',
      '    for _ in range(30):',
      '        await asyncio.sleep(0.1)',
      '',
      'asyncio.run(tick())',
      '',
    ].join('\n'));
    await h.openFile('ticks.py');
    await h.palette('Async Trace: Trace Async Run');
    // Seen while the run is still live: a partial count.
    const seen = await h.waitFor(async () => {
      const live = (await h.state()).runs.some((r) => r.live);
      const m = /await x(\d+)/.exec((await lineDom(page, 5))?.hints.join(' ') ?? '');
      return live && m && Number(m[1]) < 30 && Number(m[1]);
    }, 20000, 'a live, partial await count on line 5');
    assert.ok(seen >= 1);
    await h.waitFor(async () => (await h.state()).runs.some((r) => r.exit && !r.live), 20000, 'the run to end');
    await h.waitFor(async () => /await x30 /.test((await lineDom(page, 5)).hints.join(' ')), 5000, 'the final count');
    assert.match((await lineDom(page, 7)).hints.join(' '), /creates/);
  });

  test('every kind of problem, escaped task names, a second file annotated when opened', async () => {
    const { page } = h;
    await h.palette('Async Trace: Clear All Runs');
    await h.waitFor(async () => (await h.state()).runs.length === 0, 5000, 'no runs');
    const A = path.join(h.workspaceDir, '03_create_task.py');
    const B = path.join(h.workspaceDir, '04_gather.py');
    const evil = '[click](command:workbench.action.quit)';
    const events = [
      { type: 'run', v: 1, pid: 1, python: '3.12.1', argv: ['03_create_task.py'], cwd: h.workspaceDir, started: '2026-11-25T15:00:00.000Z', blockMs: 100 },
      { type: 'site', id: 1, file: A, line: 27, func: '<module>' },
      { type: 'site', id: 2, file: A, line: 12, func: 'main' },
      { type: 'site', id: 3, file: A, line: 15, func: 'main' },
      { type: 'site', id: 4, file: A, line: 7, func: 'say_after' },
      { type: 'site', id: 5, file: A, line: 18, func: 'main' },
      { type: 'site', id: 6, file: A, line: 22, func: 'main' },
      { type: 'site', id: 7, file: B, line: 9, func: 'factorial' },
      { type: 'site', id: 8, file: A, line: 8, func: 'say_after' },
      { type: 'loop', id: 1, ts: 0, state: 'running' },
      { type: 'task', id: 1, ts: 0, kind: 'asyncio', name: 'Task-1', coro: 'main', parent: null, site: 1, loop: 1 },
      { type: 'task', id: 2, ts: 5, kind: 'asyncio', name: evil, coro: 'say_after', parent: 1, site: 2, loop: 1 },
      { type: 'task', id: 3, ts: 6, kind: 'asyncio', name: 'Task-3', coro: 'factorial', parent: 1, site: 3, loop: 1 },
      { type: 'block', task: 1, ts: 10, dur: 250000, site: 5 },
      { type: 'step', task: 1, ts: 0, dur: 250010, await: { stack: [6], on: { kind: 'task', task: 2 } } },
      { type: 'step', task: 2, ts: 250020, dur: 10, await: { stack: [4], on: { kind: 'sleep', delay: 1 } } },
      { type: 'step', task: 3, ts: 250040, dur: 10, await: { stack: [7], on: { kind: 'sleep', delay: 1 } } },
      { type: 'step', task: 2, ts: 1250030, dur: 20 },
      { type: 'end', task: 2, ts: 1250050, state: 'failed', error: { type: 'ValueError', message: 'bad *value* <b>x</b>', site: 8 } },
      { type: 'step', task: 1, ts: 1250060, dur: 10 },
      { type: 'end', task: 1, ts: 1250070, state: 'failed', error: { type: 'ValueError', message: 'bad', site: 6 } },
      { type: 'loop', id: 1, ts: 1250100, state: 'closed', pending: [3] },
      { type: 'unretrieved', task: 2, ts: 1250100 },
      { type: 'exit', ts: 1250200, code: 1, dropped: 0, error: { type: 'ValueError', message: 'bad' } },
    ];
    const trace = path.join(h.workspaceDir, 'problems.trace.jsonl');
    writeFileSync(trace, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    await h.openFile('03_create_task.py');
    await h.command('asyncTrace.openTraceFile', trace);
    await h.waitFor(async () => hasAnnotations(await lineDom(page, 18)), 15000, 'line 18 annotated');
    assert.deepEqual((await lineDom(page, 18)).hints, ['blocked the loop 250 ms']);
    // Trace text is neutral: a zero-width space breaks the link syntax (`]\u200b(`).
    assert.deepEqual((await lineDom(page, 8)).hints.map((x) => x.replace(/\u200b/g, '')), [`raised ValueError in ${evil}`]);
    assert.deepEqual((await lineDom(page, 15)).hints, ['creates 1 task: Task-3']);

    const problems = await h.waitFor(async () => {
      const text = await problemsText(h);
      return /blocked the event loop/.test(text) && /nobody retrieved/.test(text) && /still pending/.test(text) && text;
    }, 10000, 'three problems in the Problems panel');
    assert.match(problems, /A step blocked the event loop for 250 ms/);
    assert.match(problems, /Task-3 was still pending when its event loop closed/);
    const diags = (await h.state()).annotations.diagnostics;
    assert.deepEqual(diags.map((d) => [d.line, d.severity, d.code]).sort(), [
      [15, 'Warning', 'pending-at-close'], [18, 'Warning', 'blocked-loop'], [8, 'Error', 'exception-never-retrieved'],
    ].sort());

    // Names and messages from the traced program are text, never links or markup.
    await h.openFile('03_create_task.py');
    const hover = await hoverLine(page, 8, 'print');
    assert.ok(hover.replace(/\u200b/g, '').includes(evil), hover);
    assert.ok(hover.includes('bad *value* <b>x</b>'), hover);
    assert.equal(await page.locator('.monaco-hover:not(.hidden) a[data-href*="workbench.action.quit"]').count(), 0);
    await page.keyboard.press('Escape');

    // A file the run touched shows its annotations as soon as it is opened.
    await h.openFile('04_gather.py');
    await h.waitFor(async () => hasAnnotations(await lineDom(page, 9)), 5000, 'line 9 of 04_gather.py annotated');
    assert.deepEqual((await lineDom(page, 9)).hints, ['await  1 never resumed']);
  });

  test('a trace recorded elsewhere maps onto the workspace; edits, toggle and Clear', async () => {
    const { page } = h;
    await h.palette('Async Trace: Clear All Runs');
    await h.waitFor(async () => (await h.state()).runs.length === 0, 5000, 'no runs');
    // The same program traced on another machine, in another folder (Python 3.12 wait_for: no inner task).
    const cwd = '/home/dev/project/examples';
    const file = `${cwd}/${PROGRAM}`;
    const events = [
      { type: 'run', v: 1, pid: 1, python: '3.12.1', argv: [PROGRAM], cwd, started: '2026-11-25T15:00:00.000Z' },
      { type: 'site', id: 1, file, line: 18, func: '<module>' },
      { type: 'site', id: 2, file, line: 14, func: 'main' },
      { type: 'site', id: 3, file, line: 7, func: 'eternity' },
      { type: 'loop', id: 1, ts: 50, state: 'running' },
      { type: 'task', id: 1, ts: 100, kind: 'asyncio', name: 'Task-1', coro: 'main', parent: null, site: 1, loop: 1 },
      { type: 'timeout', id: 1, task: 1, ts: 150, site: 2, delay: 1.0, state: 'armed' },
      { type: 'step', task: 1, ts: 100, dur: 200, await: { stack: [2, 3], on: { kind: 'sleep', delay: 3600 } } },
      { type: 'timeout', id: 1, task: 1, ts: 1000150, state: 'fired' },
      { type: 'cancel', task: 1, ts: 1000150, by: null, site: 2, cause: 'timeout', timeout: 1 },
      { type: 'step', task: 1, ts: 1000300, dur: 300 },
      { type: 'end', task: 1, ts: 1000600, state: 'done' },
      { type: 'loop', id: 1, ts: 1000700, state: 'closed', pending: [] },
      { type: 'exit', ts: 1000800, code: 0, dropped: 0 },
    ];
    const trace = path.join(h.workspaceDir, 'elsewhere.trace.jsonl');
    writeFileSync(trace, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    await h.openFile(PROGRAM);
    await h.command('asyncTrace.openTraceFile', trace);
    const l7 = await h.waitFor(async () => { const d = await lineDom(page, 7); return hasAnnotations(d) && d; }, 15000, 'line 7 annotated');
    assert.deepEqual(l7.hints, ['await x1  total 1.00 s  max 1.00 s']);
    assert.deepEqual((await lineDom(page, 14)).hints, ['timeout 1.0 s fired x1, cancelled Task-1', 'awaits in callee x1  total 1.00 s  max 1.00 s']);
    assert.deepEqual((await lineDom(page, 18)).hints, ['creates 1 task: Task-1']);

    // Enter at the start of line 5: everything below moves down one line, annotations with it.
    await h.openFile(PROGRAM, 5);
    await page.keyboard.press('Enter');
    await h.waitFor(async () => hasAnnotations(await lineDom(page, 8)), 5000, 'the await hint to move to line 8');
    assert.deepEqual((await lineDom(page, 7)).hints, []);
    assert.match((await lineDom(page, 8)).text, /await asyncio\.sleep\(3600\)/);
    assert.match((await lineDom(page, 15)).hints.join(' '), /timeout 1\.0 s fired/);
    await h.waitFor(async () => (await h.state()).annotations.diagnostics.some((d) => d.line === 15), 5000, 'the problem to follow');

    // Typing inside the wait_for line: its annotations and its problem are dropped, the others stay.
    await h.openFile(PROGRAM, 15);
    await page.keyboard.type('# ');
    await h.waitFor(async () => (await lineDom(page, 15)).hints.length === 0, 5000, 'line 15 cleared');
    assert.ok(hasAnnotations(await lineDom(page, 8)));
    await h.waitFor(async () => (await h.state()).annotations.diagnostics.length === 0, 5000, 'the problem dropped');

    // Undoing every edit gives back the traced text: all annotations return to their lines.
    for (let i = 0; i < 5 && !hasAnnotations(await lineDom(page, 14)); i++) {
      await page.keyboard.press('Control+Z');
      await new Promise((r) => setTimeout(r, 200));
    }
    await h.waitFor(async () => (await lineDom(page, 14)).hints.some((t) => /timeout 1\.0 s fired/.test(t)), 5000, 'line 14 annotated again');
    assert.ok(hasAnnotations(await lineDom(page, 7)));
    await h.waitFor(async () => (await h.state()).annotations.diagnostics.some((d) => d.line === 14), 5000, 'the problem back on line 14');

    // The toggle hides everything and brings it back.
    await h.palette('Async Trace: Toggle Source Annotations');
    await h.waitFor(async () => !hasAnnotations(await lineDom(page, 7)), 5000, 'annotations hidden');
    assert.equal((await h.state()).annotations.enabled, false);
    assert.deepEqual((await h.state()).annotations.diagnostics, []);
    await h.palette('Async Trace: Toggle Source Annotations');
    await h.waitFor(async () => hasAnnotations(await lineDom(page, 7)), 5000, 'annotations back');

    // Clear removes annotations and problems.
    await h.palette('Async Trace: Clear All Runs');
    await h.waitFor(async () => { const d = await lineDom(page, 7); return d.hints.length === 0 && d.gutter.length === 0; }, 5000, 'annotations cleared');
    assert.deepEqual((await h.state()).annotations.diagnostics, []);
  });
});
