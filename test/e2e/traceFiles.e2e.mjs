// Trace files in a real VS Code: open a recorded trace (by Uri and through the file dialog), the
// tree shows its tasks with their states, a damaged file loads with a warning that says what was
// skipped, a file without a trace is refused, the filter narrows the tree, save and remove work.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launch } from './harness.mjs';
import { openTasksView, waitForRows, rowByLabel, notificationText, dismissNotifications, waitForMessage, waitForQuickPick } from './treeDom.mjs';

let h;
before(async () => {
  h = await launch({ workspace: 'test/e2e/workspace' });
  await openTasksView(h);
});
after(async () => {
  await h?.close();
});

const trace = (name) => path.join(h.workspaceDir, 'traces', name);

test('a trace opened by Uri shows its run and tasks with their states', async () => {
  await h.command('asyncTrace.openTraceFile', { $uri: trace('fetch_all.trace.jsonl') });
  const rows = await waitForRows(h, (rs) => rs.some((r) => r.label === 'slow-gamma'), 'the tasks of fetch_all');
  const run = rows.find((r) => r.label === 'fetch_all.py');
  assert.ok(run, 'run row labelled with the program');
  assert.equal(run.level, 1);
  assert.match(run.description, /1\.25 s · exit 0$/);
  const main = rowByLabel(rows, 'Task-1');
  assert.equal(main.level, 2);
  assert.match(main.description, /^main · 1\.25 s · done$/);
  assert.equal(main.icon, 'pass');
  const expect = {
    'fetch-alpha': ['fetch · 500 ms · done', 'pass'],
    'fetch-beta': ['fetch · 800 ms · failed', 'error'],
    'slow-gamma': ['fetch · 1.00 s · cancelled', 'circle-slash'],
  };
  for (const [name, [description, icon]] of Object.entries(expect)) {
    const r = rowByLabel(rows, name);
    assert.equal(r.level, 3, `${name} nested under Task-1`);
    assert.equal(r.description, description);
    assert.equal(r.icon, icon);
  }

  // Expanding the cancelled task lists why: its await site, the fired timeout, the cancellation.
  await h.page.locator('.part.sidebar .monaco-list-row', { hasText: 'slow-gamma' }).first().locator('.monaco-tl-twistie').click();
  const expanded = await waitForRows(h, (rs) => rs.some((r) => /^timeout 1\.0 s · fired$/.test(r.label)), 'detail rows of slow-gamma');
  const detail = (re) => expanded.find((r) => re.test(r.label));
  assert.match(detail(/^fetch_all\.py:12$/).description, /^×1 · total 1\.00 s · longest 1\.00 s · sleep 5\.0 s$/);
  assert.equal(detail(/^timeout 1\.0 s · fired$/).description, 'fetch_all.py:11 · cancelled slow-gamma');
  assert.equal(detail(/^cancellation requested$/).description, 'fetch_all.py:11 · timeout');

  const s = await h.state();
  assert.equal(s.runs.length, 1);
  assert.equal(s.tree.runs[0].label, 'fetch_all.py');
  await h.screenshot('trace-file');
});

test('the filter narrows the tree live as the user types, keeping ancestors', async () => {
  const { page } = h;
  await h.palette('Async Trace: Filter Tasks...');
  await waitForQuickPick(h, 'Filter Tasks');
  await page.keyboard.type('beta');
  // Live: the tree changes while the QuickPick is still open.
  const rows = await waitForRows(h, (rs) => !rs.some((r) => r.label === 'fetch-alpha') && rs.some((r) => r.label === 'fetch-beta'),
    'the tree to keep only fetch-beta');
  assert.ok(rows.some((r) => r.label === 'Task-1'), 'the parent of a match stays');
  assert.ok(!rows.some((r) => r.label === 'slow-gamma'));
  await h.screenshot('trace-filter');
  await page.keyboard.press('Enter');
  // Enter keeps the typed filter and closes the picker.
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10000 });
  await waitForMessage(h, /^Filter: "beta" — 1 of 4 tasks match\.$/);
  assert.deepEqual((await h.state()).tree.filter, { states: [], text: 'beta' });

  // Preset: only failed or cancelled (the text stays empty).
  await h.palette('Async Trace: Clear Task Filter');
  await waitForRows(h, (rs) => rs.some((r) => r.label === 'fetch-alpha'), 'all tasks back after clearing');
  await h.palette('Async Trace: Filter Tasks...');
  await waitForQuickPick(h, 'Filter Tasks');
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Only failed or cancelled' }).first().click();
  const problems = await waitForRows(h, (rs) => !rs.some((r) => r.label === 'fetch-alpha') && rs.some((r) => r.label === 'slow-gamma'),
    'only failed or cancelled tasks');
  assert.ok(problems.some((r) => r.label === 'fetch-beta'));
  await waitForMessage(h, /^Filter: failed or cancelled — 2 of 4 tasks match\.$/);
  const state = await h.state();
  assert.deepEqual(state.tree.filter, { states: ['failedOrCancelled'], text: '' });
  await h.palette('Async Trace: Clear Task Filter');
  await waitForRows(h, (rs) => rs.some((r) => r.label === 'fetch-alpha'), 'all tasks back');
  assert.equal((await h.state()).tree.filter, null);
  await waitForMessage(h, /^$/);
});

test('a damaged trace opened through the file dialog loads with a warning saying what was skipped', async () => {
  const { page } = h;
  await dismissNotifications(h);
  await h.palette('Async Trace: Open Trace File...');
  // code-server uses VS Code's simple file dialog: a quick input holding a path.
  const input = await waitForQuickPick(h, 'Open Trace File');
  // The dialog fills in its folder and lists it asynchronously, and may overwrite early input.
  await page.locator('.quick-input-widget .monaco-list-row').first().waitFor({ state: 'visible' });
  const file = trace('damaged.trace.jsonl');
  await h.waitFor(async () => {
    if ((await input.inputValue()) !== file) await input.fill(file);
    await page.waitForTimeout(300);
    return (await input.inputValue()) === file;
  }, 10000, 'the path typed into the dialog');
  await page.keyboard.press('Enter');
  const text = await notificationText(h, /malformed/);
  assert.match(text, /damaged\.trace\.jsonl/);
  assert.match(text, /Skipped 2 malformed lines \(first at line 11\)\./);
  assert.match(text, /last line was cut off/);
  // Several runs open; the newest is on top and selected.
  const rows = await waitForRows(h, (rs) => rs.filter((r) => r.level === 1).length === 2, 'two runs');
  const runs = rows.filter((r) => r.level === 1);
  assert.match(runs[0].description, /no exit \(killed\?\)$/);
  const s = await h.state();
  assert.equal(s.selectedRun, s.tree.runs[0].key);
  await h.screenshot('trace-damaged');
});

test('a newer format loads with a note; a file without a trace is refused with a clear error', async () => {
  const { page } = h;
  await dismissNotifications(h);
  await h.command('asyncTrace.openTraceFile', { $uri: trace('newer.trace.jsonl') });
  assert.match(await notificationText(h, /newer Async Trace/), /format v3\): some details may be missing/);
  await dismissNotifications(h);
  const before = (await h.state()).runs.length;
  await h.command('asyncTrace.openTraceFile', { $uri: trace('notes.json') });
  assert.match(await notificationText(h, /holds no Async Trace events/), /notes\.json/);
  assert.equal((await h.state()).runs.length, before);
  await dismissNotifications(h);
});

test('save a run as a new file, then remove runs from the tree', async () => {
  const s = await h.state();
  const first = s.tree.runs[s.tree.runs.length - 1]; // newest first: the last is the first opened
  const target = path.join(h.workspaceDir, 'saved.trace.jsonl');
  await h.command('asyncTrace.saveTraceAs', first.key, { $uri: target });
  assert.ok(existsSync(target));
  assert.equal(readFileSync(target, 'utf8'), readFileSync(trace('fetch_all.trace.jsonl'), 'utf8'));

  // The inline "Remove Run" action on the newest run's row.
  const { page } = h;
  const count = (await h.state()).runs.length;
  const top = page.locator('.part.sidebar .monaco-list-row[aria-level="1"]').first();
  await top.hover();
  await top.locator('.action-label[aria-label="Remove Run"]').click();
  await h.waitFor(async () => (await h.state()).runs.length === count - 1, 10000, 'the run to be removed');
  await h.palette('Async Trace: Clear All Runs');
  await h.waitFor(async () => (await h.state()).runs.length === 0, 10000, 'all runs cleared');
  await page.locator('.part.sidebar .welcome-view-content').waitFor({ state: 'visible', timeout: 10000 });
});

test('in Restricted Mode the welcome view still opens a trace file', async () => {
  // One VS Code at a time on a small machine: the trusted window is done.
  await h?.close();
  h = undefined;
  const u = await launch({ workspace: 'test/e2e/workspace', trusted: false });
  try {
    const { page } = u;
    assert.equal((await u.state()).workspaceTrusted, false);
    await openTasksView(u);
    const welcome = page.locator('.part.sidebar .welcome-view-content');
    await welcome.waitFor({ state: 'visible', timeout: 20000 });
    assert.match(await welcome.innerText(), /not trusted/);
    await welcome.locator('.monaco-button', { hasText: 'Open Trace File...' }).click();
    const input = await waitForQuickPick(u, 'Open Trace File');
    await page.locator('.quick-input-widget .monaco-list-row').first().waitFor({ state: 'visible' });
    const file = path.join(u.workspaceDir, 'traces', 'fetch_all.trace.jsonl');
    await u.waitFor(async () => {
      if ((await input.inputValue()) !== file) await input.fill(file);
      await page.waitForTimeout(300);
      return (await input.inputValue()) === file;
    }, 10000, 'the path typed into the dialog');
    await page.keyboard.press('Enter');
    const rows = await waitForRows(u, (rs) => rs.some((r) => r.label === 'fetch-beta'), 'the trace in the tree');
    assert.equal(rowByLabel(rows, 'fetch_all.py').level, 1);
  } finally {
    await u.close();
  }
});
