// Trace files: a run saved with Save Trace As opens again with Open Trace File; a cut-off file loads
// what it can and says so.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { AsyncTraceTestApi } from '../../src/extension/testApi';
import { extensionApi, row, rows, runState, traceToEnd, workspaceFile } from './helpers';

suite('Trace files', () => {
  let api: AsyncTraceTestApi;
  let dir: string;
  let saved: vscode.Uri;
  suiteSetup(async () => {
    api = await extensionApi();
    await vscode.commands.executeCommand('asyncTrace.clear');
    dir = mkdtempSync(path.join(os.tmpdir(), 'asynctrace-suite-'));
  });
  suiteTeardown(() => rmSync(dir, { recursive: true, force: true }));

  test('a saved trace opens as a run with the same tasks', async () => {
    const key = await traceToEnd(api, workspaceFile('04_gather.py'));
    const traced = runState(api, key);
    assert.ok(traced);
    saved = vscode.Uri.file(path.join(dir, 'gather.trace.jsonl'));
    const written = await vscode.commands.executeCommand<vscode.Uri | undefined>('asyncTrace.saveTraceAs', key, saved);
    assert.equal(written?.fsPath, saved.fsPath);

    await vscode.commands.executeCommand('asyncTrace.clear');
    const opened = await vscode.commands.executeCommand<{ key: string } | undefined>('asyncTrace.openTraceFile', saved);
    assert.ok(opened, 'the file opened as a run');
    const loaded = runState(api, opened.key);
    assert.ok(loaded);
    assert.equal(loaded.live, false);
    assert.equal(loaded.exit?.code, 0);
    const names = (r: NonNullable<typeof loaded>) => r.tasks.map((t) => `${t.name} ${t.status}`).sort();
    assert.deepEqual(names(loaded), names(traced));

    const [run] = await rows(api);
    assert.equal(run.label, '04_gather.py');
    assert.match(row(await rows(api, run.node), 'Task-1').description, /^main · .* · done$/);
  });

  test('a trace cut off mid-line loads what it can and says what it skipped', async () => {
    assert.ok(saved, 'the previous test saved a trace');
    const text = readFileSync(saved.fsPath, 'utf8').trimEnd();
    const cut = vscode.Uri.file(path.join(dir, 'cut.trace.jsonl'));
    writeFileSync(cut.fsPath, text.slice(0, text.length - 5));
    const opened = await vscode.commands.executeCommand<{ key: string } | undefined>('asyncTrace.openTraceFile', cut);
    assert.ok(opened);
    const run = runState(api, opened.key);
    assert.ok(run);
    assert.equal(run.issues.truncatedTail, true);
    assert.ok(run.tasks.some((t) => t.name === 'Task-1'), 'the tasks before the cut are there');
  });
});
