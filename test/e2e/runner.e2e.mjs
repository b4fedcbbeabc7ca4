// Running traced programs in a real VS Code: "Trace Async Run" from the command palette, the
// program's own terminal (output and input), the status bar item, Stop, and the errors a user
// meets (bad interpreter, too old, gevent missing, untrusted workspace).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, launch } from './harness.mjs';
import { pythonWith } from './pythons.mjs';

// The DOM renderer keeps terminal rows as text the test can read (no GPU in headless Chromium).
const SETTINGS = { 'terminal.integrated.gpuAcceleration': 'off' };

/** Text of the visible terminal's rows (xterm DOM renderer). */
async function terminalText(page) {
  const rows = page.locator('.part.panel .terminal-wrapper.active .xterm-rows').first();
  return (await rows.innerText({ timeout: 2000 }).catch(() => '')).replace(/\u00a0/g, ' ');
}

/** Visible notification toasts' messages. */
async function notifications(page) {
  return page.locator('.notifications-toasts .notification-toast .notification-list-item-message').allInnerTexts();
}

async function clearNotifications(h) {
  await h.command('notifications.clearAll').catch(() => undefined);
}

// The extension's own status bar entry (id = publisher.name.itemId), not the window progress item.
const statusItem = (page) => page.locator('.part.statusbar [id$=".asyncTrace.run"]').first();

/** A pyenv Python whose version matches `re` (e.g. older than 3.9 for the "too old" error), if any. */
function pyenvPython(re) {
  const roots = [];
  const pr = spawnSync('pyenv', ['root'], { encoding: 'utf8' });
  if (pr.status === 0 && pr.stdout.trim()) roots.push(pr.stdout.trim());
  roots.push(path.join(os.homedir(), '.pyenv'));
  for (const root of roots) {
    const dir = path.join(root, 'versions');
    if (!existsSync(dir)) continue;
    for (const v of readdirSync(dir).filter((n) => re.test(n)).sort()) {
      const exe = path.join(dir, v, 'bin', 'python3');
      if (existsSync(exe)) return exe;
    }
  }
  return undefined;
}
const oldPython = () => pyenvPython(/^3\.[5-8](\.\d+)?$/);

/**
 * A stand-in for the Python extension (ms-python.python) exposing the part of its published API
 * the runner uses; its "selected interpreter" is read from `.selected-python` in the workspace.
 * Packaged with vsce so it can be installed into the running VS Code like a real extension.
 */
function buildFakePythonExtension() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fake-python-ext-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
    name: 'python', publisher: 'ms-python', version: '9.9.9', displayName: 'Python API test double', description: 'test only',
    license: 'MIT', repository: 'https://example.invalid/test', engines: { vscode: '^1.80.0' }, main: './extension.js', activationEvents: [],
  }));
  writeFileSync(path.join(dir, 'LICENSE'), 'MIT\n');
  writeFileSync(path.join(dir, 'extension.js'), `
const vscode = require('vscode');
const fs = require('fs');
const path = require('path');
const selected = () => fs.readFileSync(path.join(vscode.workspace.workspaceFolders[0].uri.fsPath, '.selected-python'), 'utf8').trim();
exports.activate = (context) => {
  context.subscriptions.push(vscode.commands.registerCommand('python.setInterpreter', () => undefined));
  return { environments: {
    getActiveEnvironmentPath: () => ({ id: selected(), path: selected() }),
    resolveEnvironment: async (p) => ({ id: p.path, path: p.path, executable: { uri: vscode.Uri.file(p.path) } }),
    onDidChangeActiveEnvironmentPath: () => ({ dispose() {} }),
  } };
};
`);
  const vsix = path.join(dir, 'fake-python.vsix');
  const vsce = path.join(ROOT, 'node_modules', '.bin', 'vsce');
  const r = spawnSync(vsce, ['package', '--no-dependencies', '--allow-missing-repository', '-o', vsix], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vsce failed: ${r.stderr || r.stdout}`);
  return { dir, vsix };
}

/** Sets workspace settings by writing .vscode/settings.json (VS Code picks the change up). */
async function setWorkspaceSettings(h, settings) {
  const dir = path.join(h.workspaceDir, '.vscode');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings, null, 2));
  await h.waitFor(async () => {
    const applied = (await h.state()).runner?.settings ?? {};
    return Object.entries(settings).every(([k, v]) => JSON.stringify(applied[k.replace('asyncTrace.', '')]) === JSON.stringify(v));
  }, 10000, 'the settings to apply');
}

describe('trusted workspace', () => {
  let h;
  before(async () => {
    h = await launch({ workspace: 'examples', settings: SETTINGS });
  });
  after(async () => {
    await h?.close();
  });

  test('Trace Async Run from the palette: output in its terminal, status bar while it runs', async () => {
    const { page } = h;
    // Show the Async Trace view, so the screenshots show the live tasks next to the terminal.
    await page.locator('.activitybar .action-item a[aria-label^="Async Trace"]').first().click();
    await h.openFile('03_create_task.py');
    await h.palette('Async Trace: Trace Async Run');

    // The status bar item shows the live run (the program runs about 2 s).
    const item = statusItem(page);
    await h.waitFor(async () => /tasks alive/.test(await item.innerText({ timeout: 500 })), 15000, 'the live status bar item');
    assert.match(await item.innerText(), /Async Trace: [\d,]+ tasks alive · [\d,]+ events · \d/);

    // The program's own output appears in its terminal, named after the program: "hello" after
    // 1 s (the run still live), "world" after 2 s.
    await h.waitFor(async () => (await terminalText(page)).includes('hello'), 20000, 'hello in the terminal');
    if (/tasks alive/.test(await item.innerText())) await h.screenshot('runner-live');
    await h.waitFor(async () => /hello[\s\S]*world/.test(await terminalText(page)), 20000, 'hello/world in the terminal');
    const tab = page.locator('.part.panel .tabs-list .monaco-list-row, .part.panel .single-terminal-tab, .part.panel .terminal-tabs-entry')
      .filter({ hasText: 'Async Trace: 03_create_task.py' });
    await h.waitFor(async () => (await tab.count()) > 0 || (await page.locator('.part.panel').innerText()).includes('Async Trace: 03_create_task.py'), 5000, 'terminal named after the program');

    // At the end: the summary line in the terminal, the run finished with its tasks.
    await h.waitFor(async () => /Process exited with code 0 — \d+ tasks, \d+ events/.test(await terminalText(page)), 20000, 'exit summary');
    const s = await h.state();
    const run = s.runs.find((r) => r.label === '03_create_task.py');
    assert.ok(run, 'the run is in the store');
    assert.equal(run.live, false);
    assert.equal(run.exit?.code, 0);
    const coros = run.tasks.map((t) => t.coro);
    assert.ok(coros.filter((c) => c === 'say_after').length === 2, `two say_after tasks: ${coros}`);
    assert.equal(s.selectedRun, run.key);
    // The trace file written for "Save Trace As" is in the extension's storage.
    assert.match(await item.innerText(), /exit code 0|Async Trace/);
    await h.screenshot('runner-finished');
  });

  test('a long program: the terminal relays input, Stop keeps the trace and ends the run', async () => {
    const { page } = h;
    const prog = path.join(h.workspaceDir, 'long_run.py');
    writeFileSync(prog, [
      'import asyncio',
      '',
      'async def ticker(n):',
      '    while True:',
      '        await asyncio.sleep(0.05 * n)',
      '',
      'async def main():',
      '    name = await asyncio.to_thread(input, "Your name? ")',
      '    print(f"Hello, {name}!", flush=True)',
      '    await asyncio.gather(*(ticker(i) for i in range(1, 6)))',
      '',
      'asyncio.run(main())',
      '',
    ].join('\n'));
    await h.openFile('long_run.py');
    await h.palette('Async Trace: Trace Async Run');
    await h.waitFor(async () => (await terminalText(page)).includes('Your name?'), 20000, 'the prompt');

    // Typing goes to the program's stdin (echoed locally).
    await page.locator('.part.panel .terminal-wrapper.active .xterm').first().click();
    await page.keyboard.type('Ada');
    await page.keyboard.press('Enter');
    await h.waitFor(async () => (await terminalText(page)).includes('Hello, Ada!'), 10000, 'the program read the line');

    // Tasks stream live.
    await h.waitFor(async () => {
      const r = (await h.state()).runs.find((x) => x.label === 'long_run.py');
      return r && r.live && r.tasks.filter((t) => t.coro === 'ticker').length === 5;
    }, 10000, '5 ticker tasks live');

    // Stop from the status bar item (its click stops the run).
    const item = statusItem(page);
    assert.match(await item.innerText(), /tasks alive/);
    await h.screenshot('runner-long-live');
    await item.click();
    await h.waitFor(async () => {
      const r = (await h.state()).runs.find((x) => x.label === 'long_run.py');
      return r && !r.live;
    }, 20000, 'the run to finish after Stop').catch(async (e) => {
      e.message += `\nrunner state: ${JSON.stringify((await h.state()).runner).slice(0, 3000)}`;
      throw e;
    });
    const run = (await h.state()).runs.find((x) => x.label === 'long_run.py');
    assert.ok(run.tasks.length >= 6, 'the trace up to the stop is kept');
    assert.equal(run.tasks.filter((t) => t.coro === 'ticker').length, 5);
    await h.waitFor(async () => /\[Async Trace\] Process (exited with code|stopped by)/.test(await terminalText(page)), 10000, 'stop summary');
    const st = await h.state();
    assert.deepEqual(st.runner.sessions, [], 'no session left running');
    // The program's whole process group is gone.
    const { pid } = st.runner.finished.at(-1);
    assert.ok(pid > 0);
    assert.throws(() => process.kill(-pid, 0), /ESRCH/);
    assert.match(await statusItem(page).innerText(), /stopped/);
    await h.screenshot('runner-stopped');
  });

  test('sites open at their line, also for a trace recorded on another machine', async () => {
    const { page } = h;
    const file = path.join(h.workspaceDir, 'recorded-elsewhere.jsonl');
    const lines = [
      { type: 'run', v: 1, pid: 7, python: '3.12.1', argv: ['03_create_task.py'], cwd: '/srv/build/examples', started: '2026-11-25T15:00:00.000Z' },
      { type: 'site', id: 1, file: '/srv/build/examples/03_create_task.py', line: 7, func: 'say_after' },
      { type: 'site', id: 2, file: '/srv/build/examples/gone.py', line: 3, func: 'f' },
      { type: 'site', id: 3, file: path.join(h.workspaceDir, '04_gather.py'), line: 5, func: 'g' },
      { type: 'task', id: 1, ts: 0, kind: 'asyncio', name: 'Task-1', coro: 'main', parent: null, site: 1 },
      { type: 'exit', ts: 10, code: 0, dropped: 0 },
    ];
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    await h.command('asyncTrace.openTraceFile', file);
    const run = await h.waitFor(async () => (await h.state()).runs.find((r) => r.tasks.length === 1 && r.tasks[0].coro === 'main' && r.exit), 10000, 'the loaded trace');

    const cursorLine = () => page.locator('.part.statusbar').innerText().then((t) => /Ln (\d+)/.exec(t)?.[1]);
    // The active tab's accessible name starts with the file name.
    const activeTab = () => page.locator('.tabs-container .tab.active').first().getAttribute('aria-label').then((l) => l?.split(',')[0].trim());

    // A recorded path below the trace's cwd maps to the same file in the workspace.
    assert.equal(await h.command('asyncTrace.openSite', run.key, 1), true);
    await h.waitFor(async () => (await activeTab()) === '03_create_task.py' && (await cursorLine()) === '7', 10000, '03_create_task.py at line 7');
    // A local file opens as is.
    await h.command('asyncTrace.openSite', run.key, 3);
    await h.waitFor(async () => (await activeTab()) === '04_gather.py' && (await cursorLine()) === '5', 10000, '04_gather.py at line 5');
    // A file that is nowhere here: a clear message, no editor change.
    await clearNotifications(h);
    assert.equal(await h.command('asyncTrace.openSite', run.key, 2), false);
    const msg = await h.waitFor(async () => (await notifications(page)).find((m) => m.includes('gone.py')), 10000, 'missing file message');
    assert.match(msg, /\/srv\/build\/examples\/gone\.py:3 is not on this machine/);
    assert.equal(await activeTab(), '04_gather.py');
    await h.command('asyncTrace.removeRun', run.key).catch(() => undefined);
    await clearNotifications(h);
  });

  test('Ctrl-C in the terminal interrupts the program; closing the terminal stops the run', async () => {
    const { page } = h;
    writeFileSync(path.join(h.workspaceDir, 'tickers.py'), [
      'import asyncio',
      '',
      'async def ticker(n):',
      '    while True:',
      '        await asyncio.sleep(0.05 * n)',
      '',
      'async def main():',
      '    print("ticking", flush=True)',
      '    await asyncio.gather(*(ticker(i) for i in range(1, 4)))',
      '',
      'asyncio.run(main())',
      '',
    ].join('\n'));
    const liveRun = () => h.waitFor(async () => {
      const r = (await h.state()).runs.filter((x) => x.label === 'tickers.py').at(-1);
      return r && r.live && r.tasks.filter((t) => t.coro === 'ticker').length === 3 && r;
    }, 20000, '3 live ticker tasks');
    await h.command('asyncTrace.traceRun', { $uri: path.join(h.workspaceDir, 'tickers.py') });
    const first = await liveRun();
    await h.waitFor(async () => (await terminalText(page)).includes('ticking'), 10000, 'the program output');
    await page.locator('.part.panel .terminal-wrapper.active .xterm').first().click();
    await page.keyboard.press('Control+C');
    // The echo of ^C, then Python's KeyboardInterrupt, then the summary (long: may scroll the ^C away).
    await h.waitFor(async () => /KeyboardInterrupt[\s\S]*Process exited with code 130/.test(await terminalText(page)), 15000, 'KeyboardInterrupt and exit 130 in the terminal')
      .catch(async (e) => { e.message += `\nterminal: ${await terminalText(page)}\nrunner: ${JSON.stringify((await h.state()).runner).slice(0, 2000)}`; throw e; });
    assert.match((await h.state()).runner.finished.at(-1).terminal, /\^C\r\n/);
    const done = (await h.state()).runs.find((r) => r.key === first.key);
    assert.equal(done.live, false);
    assert.equal(done.tasks.filter((t) => t.coro === 'ticker').length, 3);

    // Closing the run's terminal while it runs stops the program.
    await h.command('asyncTrace.traceRun', { $uri: path.join(h.workspaceDir, 'tickers.py') });
    const second = await liveRun();
    assert.notEqual(second.key, first.key);
    await h.command('workbench.action.terminal.kill');
    await h.waitFor(async () => (await h.state()).runs.find((r) => r.key === second.key)?.live === false, 15000, 'the run to end when its terminal closes');
    const st = await h.state();
    assert.deepEqual(st.runner.sessions, []);
    const { pid } = st.runner.finished.at(-1);
    assert.throws(() => process.kill(-pid, 0), /ESRCH/);
  });

  test('the runtime failing before it connects: its error, not a stack trace', async () => {
    await clearNotifications(h);
    await setWorkspaceSettings(h, { 'asyncTrace.module': 'no_such_module_xyz' });
    try {
      await h.palette('Async Trace: Trace Async Run');
      const msg = await h.waitFor(async () => (await notifications(h.page)).find((m) => m.includes('failed to start')), 20000, 'failed-to-start notification');
      // As `python -m` fails: its own message, exit code 1.
      assert.match(msg, /The traced run failed to start \(exit code 1\): \S*python\S*: No module named no_such_module_xyz/);
      const toast = h.page.locator('.notifications-toasts .notification-toast').filter({ hasText: 'failed to start' }).first();
      assert.equal(await toast.locator('.monaco-button', { hasText: 'Show Terminal' }).count(), 1);
      // No empty run is left in the store; the terminal keeps the runtime's message.
      assert.equal((await h.state()).runs.filter((r) => r.label === '-m no_such_module_xyz').length, 0);
      // (the terminal may render its last lines a moment after the notification shows)
      await h.waitFor(async () => /No module named no_such_module_xyz/.test(await terminalText(h.page)),
        10000, 'the runtime\'s message in the terminal');
    } finally {
      rmSync(path.join(h.workspaceDir, '.vscode'), { recursive: true, force: true });
      await h.waitFor(async () => (await h.state()).runner?.settings?.module === '', 10000, 'module setting cleared');
    }
  });

  test('10,000 tasks stream over the socket without loss, and the same events are in the trace file', async () => {
    writeFileSync(path.join(h.workspaceDir, 'many_tasks.py'), [
      'import asyncio',
      '',
      'async def work(i):',
      '    await asyncio.sleep(0)',
      '    await asyncio.sleep(0.001)',
      '',
      'async def main():',
      '    await asyncio.gather(*(work(i) for i in range(10000)))',
      '    print("all done", flush=True)',
      '',
      'asyncio.run(main())',
      '',
    ].join('\n'));
    const t0 = Date.now();
    const key = await h.command('asyncTrace.traceRun', { $uri: path.join(h.workspaceDir, 'many_tasks.py') });
    assert.equal(typeof key, 'string');
    const fin = await h.waitFor(async () => {
      await new Promise((r) => setTimeout(r, 400)); // the state carries all 10,000 tasks: poll gently
      return (await h.state()).runner.finished.find((f) => f.key === key);
    }, 60000, 'the 10,000-task run to finish');
    const elapsed = Date.now() - t0;
    const run = (await h.state()).runs.find((x) => x.key === key);
    assert.equal(run.live, false);
    assert.equal(run.exit?.code, 0);
    assert.equal(run.exit?.dropped, 0);
    assert.equal(run.tasks.filter((t) => t.coro === 'work').length, 10000);
    assert.equal(run.issues.badLines, 0);
    // The file the runtime wrote (what "Save Trace As" copies) holds exactly the streamed events.
    const dir = path.join(h.userDataDir, 'User', 'globalStorage', 'asynctrace.async-trace', 'traces');
    const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl') && f.includes('many_tasks'));
    assert.equal(files.length, 1);
    const lines = readFileSync(path.join(dir, files[0]), 'utf8').split('\n').filter(Boolean).length;
    assert.equal(run.counts.events, lines);
    console.log(`# 10,000-task run: ${lines} events, process start to exit ${fin.exitAtMs} ms, to stream end ${fin.streamEndAtMs} ms, to finished run ${fin.durationMs} ms, command to finished ${elapsed} ms`);
  });

  test('the editor title run button traces the file; two runs at once do not mix', async () => {
    const { page } = h;
    await h.openFile('04_gather.py');
    const before = (await h.state()).runs.length;
    // The run button in the editor title (group "navigation" of editor/title/run).
    const button = page.locator('.editor-actions .action-item a.action-label[aria-label*="Trace Async Run"]').first();
    await button.waitFor({ state: 'visible', timeout: 10000 });
    await button.click();
    // While it runs, start another program from the Explorer's context menu command (a Uri argument).
    const other = await h.command('asyncTrace.traceRun', { $uri: path.join(h.workspaceDir, '03_create_task.py') });
    const [gather, create] = await h.waitFor(async () => {
      const runs = (await h.state()).runs.slice(before);
      const g = runs.find((r) => r.label === '04_gather.py');
      const c = runs.find((r) => r.key === other);
      return g && c && !g.live && !c.live && [g, c];
    }, 30000, 'both runs to finish');
    assert.notEqual(gather.key, create.key);
    assert.equal(gather.exit?.code, 0);
    assert.equal(create.exit?.code, 0);
    const coros = (r) => new Set(r.tasks.map((t) => t.coro));
    assert.ok(coros(gather).has('factorial') && !coros(gather).has('say_after'), `04_gather.py tasks: ${[...coros(gather)]}`);
    assert.ok(coros(create).has('say_after') && !coros(create).has('factorial'), `03_create_task.py tasks: ${[...coros(create)]}`);
  });

  test('a loop that runs its tasks itself (as uvloop does): said in a warning and in the run terminal', async () => {
    // A stand-in for uvloop (not installable here): a loop that makes its tasks and runs its
    // callbacks itself, past the standard loop's machinery the runtime watches.
    writeFileSync(path.join(h.workspaceDir, 'own_loop.py'), [
      'import asyncio',
      'from _asyncio import Task',
      'class OwnHandle(asyncio.Handle):',
      '    def _run(self):',
      '        self._context.run(self._callback, *self._args)',
      'class OwnLoop(asyncio.SelectorEventLoop):',
      '    def create_task(self, coro, *, name=None, context=None):',
      '        return Task(coro, loop=self, name=name)',
      '    def call_soon(self, callback, *args, context=None):',
      '        h = OwnHandle(callback, args, self, context)',
      '        self._ready.append(h)',
      '        return h',
      'async def main():',
      '    await asyncio.gather(asyncio.sleep(0.2), asyncio.sleep(0.1))',
      '    print("own loop done")',
      'loop = OwnLoop()',
      'loop.run_until_complete(main())',
      'loop.close()',
      '',
    ].join('\n'));
    await clearNotifications(h);
    const key = await h.command('asyncTrace.traceRun', { $uri: path.join(h.workspaceDir, 'own_loop.py') });
    const msg = await h.waitFor(async () => (await notifications(h.page)).find((m) => m.includes('runs its tasks itself')), 20000, 'partial-loop warning');
    assert.match(msg, /The event loop __main__\.OwnLoop runs its tasks itself \(as uvloop does\)/);
    assert.match(msg, /standard asyncio loop/);
    const run = await h.waitFor(async () => (await h.state()).runs.find((r) => r.key === key && !r.live), 20000, 'the run to finish');
    assert.equal(run.exit?.code, 0);
    await h.waitFor(async () => /\[Async Trace\] The event loop __main__\.OwnLoop runs its tasks itself[\s\S]*Process exited with code 0/.test(
      (await h.state()).runner.finished.at(-1)?.terminal ?? ''), 10000, 'the note in the run terminal');
  });

  test('gevent program without gevent: clear error with the fix', async (t) => {
    // A Python without gevent, pinned in the folder's settings (not whichever python3 PATH has first).
    const python = pythonWith([], { without: ['gevent'] });
    if (!python) {
      t.skip('every Python >= 3.9 on this machine has gevent');
      return;
    }
    await clearNotifications(h);
    await setWorkspaceSettings(h, { 'asyncTrace.pythonPath': python });
    try {
      await h.command('asyncTrace.traceRun', { $uri: path.join(h.workspaceDir, '08_gevent_spawn.py') });
      const msg = await h.waitFor(async () => (await notifications(h.page)).find((m) => m.includes('gevent')), 20000, 'gevent notification');
      assert.match(msg, /needs gevent/);
      assert.match(msg, /pip install gevent/);
      await h.page.waitForTimeout(600); // let the toast finish sliding in for the screenshot
      await h.screenshot('runner-gevent-missing');
    } finally {
      rmSync(path.join(h.workspaceDir, '.vscode'), { recursive: true, force: true });
    }
  });

  test('a bad asyncTrace.pythonPath gives a clear error', async () => {
    await clearNotifications(h);
    await setWorkspaceSettings(h, { 'asyncTrace.pythonPath': '/nonexistent/bin/python3' });
    await h.openFile('03_create_task.py');
    await h.palette('Async Trace: Trace Async Run');
    const msg = await h.waitFor(async () => (await notifications(h.page)).find((m) => m.includes('asyncTrace.pythonPath')), 15000, 'error notification');
    assert.match(msg, /"\/nonexistent\/bin\/python3" set in "asyncTrace.pythonPath" was not found/);
    const toast = h.page.locator('.notifications-toasts .notification-toast').filter({ hasText: 'was not found' }).first();
    assert.equal(await toast.locator('.monaco-button', { hasText: 'Open Settings' }).count(), 1);
    await h.screenshot('runner-bad-python');

    // Something that runs but is not Python.
    await clearNotifications(h);
    await setWorkspaceSettings(h, { 'asyncTrace.pythonPath': '/bin/true' });
    await h.palette('Async Trace: Trace Async Run');
    const msg2 = await h.waitFor(async () => (await notifications(h.page)).find((m) => m.includes('did not run as Python')), 15000, 'not-Python notification');
    assert.match(msg2, /"\/bin\/true" set in "asyncTrace.pythonPath" did not run as Python: it printed no Python version/);
  });

  test('a Python older than 3.9 is refused with the fix', async (t) => {
    const old = oldPython();
    if (!old) {
      t.skip('no Python < 3.9 on this machine');
      return;
    }
    await clearNotifications(h);
    await setWorkspaceSettings(h, { 'asyncTrace.pythonPath': old });
    await h.palette('Async Trace: Trace Async Run');
    const msg = await h.waitFor(async () => (await notifications(h.page)).find((m) => m.includes('too old')), 15000, 'too old notification');
    assert.match(msg, /Python 3\.[5-8]\.\d+ .* is too old: Async Trace needs Python 3\.9 or newer/);
    rmSync(path.join(h.workspaceDir, '.vscode'), { recursive: true, force: true });
  });

  // Last in this suite: once installed, the Python extension stays.
  test('with the Python extension installed, its selected interpreter runs the program', async (t) => {
    const selected = pyenvPython(/^3\.(9|10|11|13)(\.\d+)?$/);
    const old = oldPython();
    if (!selected) {
      t.skip('no second Python >= 3.9 on this machine');
      return;
    }
    const { dir, vsix } = buildFakePythonExtension();
    try {
      writeFileSync(path.join(h.workspaceDir, '.selected-python'), selected);
      // Under load the install may restart the extension host before it answers: the answer is
      // then lost with the connection, and the state below tells whether the install happened.
      await h.command('workbench.extensions.installExtension', { $uri: vsix }).catch((e) => {
        if (!/fetch failed/.test(String(e?.message))) throw e;
      });
      await h.waitFor(async () => (await h.state()).runner.pythonExtension, 60000, 'the Python extension to be installed');

      // Its interpreter wins over asyncTrace.pythonPath (which the test profile sets).
      const key = await h.command('asyncTrace.traceRun', { $uri: path.join(h.workspaceDir, '01_run_hello.py') });
      const fin = await h.waitFor(async () => (await h.state()).runner.finished.find((f) => f.key === key), 20000, 'the run to end');
      assert.deepEqual(fin.interpreter, { command: selected, source: 'pythonExtension' });
      const version = spawnSync(selected, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8' }).stdout.trim();
      await h.waitFor(async () => (await terminalText(h.page)).includes(`Tracing 01_run_hello.py with Python ${version} (${selected})`), 10000, 'the interpreter in the terminal banner');

      // A too old selection: the error offers "Select Interpreter" (the Python extension's picker).
      if (old) {
        await clearNotifications(h);
        writeFileSync(path.join(h.workspaceDir, '.selected-python'), old);
        await h.command('asyncTrace.traceRun', { $uri: path.join(h.workspaceDir, '01_run_hello.py') });
        const msg = await h.waitFor(async () => (await notifications(h.page)).find((m) => m.includes('too old')), 15000, 'too old notification');
        assert.match(msg, /selected in the Python extension/);
        const toast = h.page.locator('.notifications-toasts .notification-toast').filter({ hasText: 'too old' }).first();
        assert.equal(await toast.locator('.monaco-button', { hasText: 'Select Interpreter' }).count(), 1);
        await h.screenshot('runner-python-extension-too-old');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      writeFileSync(path.join(h.workspaceDir, '.selected-python'), selected); // a working selection for what follows
    }
  });

  // Last: it shuts VS Code down.
  test('shutting VS Code down while a program runs does not leave the program running', async () => {
    writeFileSync(path.join(h.workspaceDir, 'forever.py'), [
      'import asyncio',
      '',
      'async def main():',
      '    while True:',
      '        await asyncio.sleep(0.1)',
      '',
      'asyncio.run(main())',
      '',
    ].join('\n'));
    const key = await h.command('asyncTrace.traceRun', { $uri: path.join(h.workspaceDir, 'forever.py') });
    const session = await h.waitFor(async () => (await h.state()).runner.sessions.find((x) => x.key === key && x.connected), 20000, 'the run to connect');
    assert.ok(session.pid > 0);
    process.kill(session.pid, 0); // running
    // The harness stops code-server with SIGTERM to its process group; the program is not in it.
    const closing = h;
    h = undefined;
    await closing.close();
    await closing.waitFor(() => {
      try { process.kill(session.pid, 0); return false; } catch { return true; }
    }, 10000, 'the traced program to be gone');
  });
});

describe('untrusted workspace', () => {
  let h;
  before(async () => {
    h = await launch({ workspace: 'examples', trusted: false, settings: SETTINGS });
  });
  after(async () => {
    await h?.close();
  });

  test('Trace Async Run refuses with a message and a Manage Workspace Trust button', async () => {
    const s = await h.state();
    assert.equal(s.workspaceTrusted, false);
    await h.command('asyncTrace.traceRun', { $uri: path.join(h.workspaceDir, '03_create_task.py') });
    const msg = await h.waitFor(async () => (await notifications(h.page)).find((m) => m.includes('not trusted')), 15000, 'trust notification');
    assert.match(msg, /Tracing runs code from this workspace, which is not trusted/);
    const toast = h.page.locator('.notifications-toasts .notification-toast').filter({ hasText: 'not trusted' }).first();
    assert.equal(await toast.locator('.monaco-button', { hasText: 'Manage Workspace Trust' }).count(), 1);
    assert.deepEqual((await h.state()).runs, [], 'nothing ran');
    await h.screenshot('runner-untrusted');
  });
});
