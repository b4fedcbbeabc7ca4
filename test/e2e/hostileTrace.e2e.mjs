// A hostile trace file in a real VS Code: command links and bare URLs written into every string of
// a trace (task names, argv, the loop's class, a site's file and function, error messages) show as
// text in the notification, the tree, the tree's tooltip and the editor hover; never as a link
// (trace files open in Restricted Mode: a link there would run a command). A site naming a FIFO is
// not read (the extension host stays responsive).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launch } from './harness.mjs';
import { openTasksView, waitForRows, notificationText } from './treeDom.mjs';

const LINK = '[click](command:workbench.action.quit)';

let h;
before(async () => {
  h = await launch({ workspace: 'test/e2e/workspace' });
  await openTasksView(h);
});
after(async () => {
  await h?.close();
});

test('links written into a trace are text in the notification, the tree, its tooltip and the hover', async () => {
  const { page } = h;
  const source = path.join(h.workspaceDir, 'hostile_app.py');
  writeFileSync(source, ['import asyncio', '', 'async def main():', '    await asyncio.sleep(1)', '', 'asyncio.run(main())', ''].join('\n'));
  let fifo = path.join(h.workspaceDir, 'pipe.py');
  try { execFileSync('mkfifo', [fifo]); } catch { fifo = undefined; }
  const events = [
    { type: 'run', v: 1, pid: 1, python: LINK, argv: [`x${LINK}.py`], cwd: LINK, started: '2026-01-01T00:00:00Z' },
    { type: 'site', id: 1, file: source, line: 4, func: LINK },
    { type: 'site', id: 2, file: fifo ?? '/dev/zero', line: 1, func: 'f' },
    { type: 'loop', id: 1, ts: 0, state: 'running', class: LINK, partial: true },
    { type: 'task', id: 1, ts: 1, kind: 'asyncio', name: LINK, coro: 'http://evil.example/coro', parent: null, site: 1, loop: 1 },
    { type: 'task', id: 2, ts: 1, kind: 'asyncio', name: 'http://evil.example/task', coro: 'c', parent: 1, site: 2, loop: 1 },
    { type: 'step', task: 1, ts: 2, dur: 1, await: { stack: [1], on: { kind: LINK } } },
    { type: 'step', task: 2, ts: 2, dur: 1, await: { stack: [1], on: { kind: 'io', op: LINK } } },
    { type: 'step', task: 2, ts: 500, dur: 1, await: { stack: [2], on: { kind: 'sleep', delay: 1 } } },
    { type: 'end', task: 2, ts: 1000, state: 'failed', error: { type: LINK, message: 'see http://evil.example', site: 1 } },
  ];
  const trace = path.join(h.workspaceDir, 'hostile.trace.jsonl');
  writeFileSync(trace, events.map((e) => JSON.stringify(e)).join('\n') + '\n{"type":"step", broken\n');
  await h.openFile('hostile_app.py');
  await h.command('asyncTrace.openTraceFile', trace);

  // The warning names the loop class and the program (argv): as text, with no link in it.
  const warning = await notificationText(h, /runs its tasks itself/);
  assert.ok(warning.replace(/\u200b/g, '').includes(LINK), warning);
  const toastLinks = page.locator('.notifications-toasts .notification-list-item-message :is(a, [data-href])');
  assert.equal(await toastLinks.count(), 0, 'no link in the notification');

  // The tree: labels are text; the run row's and a task's Markdown tooltips hold no link.
  const rows = await waitForRows(h, (rs) => rs.some((r) => r.label.includes('evil.example/task')), 'the hostile tasks');
  assert.ok(rows.some((r) => r.label.replace(/\u200b/g, '') === LINK), JSON.stringify(rows));
  // (The label itself and the rows' action buttons are <a> elements without a target: a link has one.)
  assert.equal(await page.locator('.part.sidebar .monaco-list-row :is(a[href], [data-href])').count(), 0, 'no link in the tree');
  // The tooltip is resolved on hover (after the workbench's hover delay): keep the mouse on the label.
  const label = page.locator('.part.sidebar .monaco-list-row', { hasText: 'evil.example/task' }).first().locator('.label-name');
  const tooltip = page.locator('.workbench-hover, .monaco-hover:not(.hidden)', { hasText: 'Coroutine' }).first();
  await h.waitFor(async () => {
    const box = await label.boundingBox();
    await page.mouse.move(box.x + 5, box.y + box.height / 2);
    await page.mouse.move(box.x + 15, box.y + box.height / 2, { steps: 4 });
    await tooltip.waitFor({ state: 'visible', timeout: 3000 });
    return true;
  }, 30000, 'the task row tooltip');
  assert.match(await tooltip.innerText(), /http:\/\/evil\.example\/task/);
  assert.equal(await tooltip.locator(':is(a[href], [data-href])').count(), 0, 'no link in the tree tooltip (bare http:// included)');
  await page.mouse.move(5, 5);

  // The editor hover on the annotated line: only the extension's own reveal/timeline links.
  await h.openFile('hostile_app.py');
  const code = page.locator('.part.editor .view-lines .view-line', { hasText: 'asyncio.sleep' }).first();
  await h.waitFor(async () => (await h.state()).annotations?.files?.length > 0 || true, 5000, 'annotations');
  let hoverText;
  await h.waitFor(async () => {
    const b = await code.boundingBox();
    await page.mouse.move(b.x + 10, b.y - 20);
    await page.mouse.move(b.x + 60, b.y + b.height / 2, { steps: 3 });
    const hover = page.locator('.monaco-hover:not(.hidden) .monaco-hover-content', { hasText: 'Async Trace' }).first();
    await hover.waitFor({ state: 'visible', timeout: 3000 });
    hoverText = await hover.innerText();
    return true;
  }, 30000, 'the Async Trace hover on the await line');
  assert.ok(hoverText.includes('evil.example'), hoverText);
  // Every link rendered from Markdown in the hover (those carry a target). Anchors without one are
  // VS Code's own controls, shown when the line also has a Problems entry: the action bar (View
  // Problem, Quick Fix) and the entry's related locations ("file.py(4, 1)").
  // (The Problems part of the hover can show before the extension's own part on a loaded machine:
  // wait for its links.)
  const hoverLinks = () => page.locator('.monaco-hover:not(.hidden) .monaco-hover-content a').evaluateAll(
    (as) => as.filter((a) => a.hasAttribute('data-href') || a.hasAttribute('href')).map((a) => a.getAttribute('data-href') ?? a.getAttribute('href')));
  let links = [];
  await h.waitFor(async () => (links = await hoverLinks()).length > 0, 15000, 'the reveal/timeline links in the hover')
    .catch(() => {});
  assert.ok(links.length > 0, 'the reveal/timeline links are there');
  for (const href of links) assert.match(href, /^command:asyncTrace\.(revealTask|showTimeline)\?/, `only own links: ${href}`);
  await page.keyboard.press('Escape');

  // The extension host stayed responsive (a FIFO read would have blocked it).
  const s = await h.state();
  assert.ok(s.runs.length >= 1);
});
