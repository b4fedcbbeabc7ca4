// The Tasks view's data, read from its provider the way VS Code reads it, for a traced program.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AsyncTraceTestApi } from '../../src/extension/testApi';
import { extensionApi, row, rows, traceToEnd, waitFor, workspaceFile } from './helpers';

suite('Tasks view provider', () => {
  let api: AsyncTraceTestApi;
  suiteSetup(async () => {
    api = await extensionApi();
    await vscode.commands.executeCommand('asyncTrace.clear');
  });

  test('a traced run is a root row; its tasks are nested under the task that created them', async () => {
    const key = await traceToEnd(api, workspaceFile('03_create_task.py'));
    // The run's end redraws its rows: wait for that, not for a fixed time.
    const run = await waitFor(async () => (await rows(api)).find((r) => r.node.kind === 'run' && r.node.runKey === key && / · exit 0$/.test(r.description)), 'the run row to say exit 0');
    assert.equal(run.label, '03_create_task.py');
    assert.equal(run.item.contextValue, 'run');

    const roots = await rows(api, run.node);
    const main = row(roots, 'Task-1');
    assert.match(main.description, /^main · 2\.\d\d s · done$/);
    assert.notEqual(main.item.collapsibleState, vscode.TreeItemCollapsibleState.None);

    const children = await rows(api, main.node);
    for (const [name, secs] of [['Task-2', 1], ['Task-3', 2]] as const) {
      assert.match(row(children, name).description, new RegExp(`^say_after · ${secs}\\.\\d\\d s · done$`));
    }
    const names = children.map((r) => r.label);
    assert.ok(names.indexOf('Task-2') < names.indexOf('Task-3'), 'children in creation order');
    // After its child tasks, why Task-1 waited: its two await sites (lines 22 and 23).
    assert.match(row(children, '03_create_task.py:22').description, /^×1 · total .* · task Task-2$/);
    assert.match(row(children, '03_create_task.py:23').description, /^×1 · total .* · task Task-3$/);

    // A task's details: Task-2's await site, the sleep on line 7.
    const t2 = await rows(api, row(children, 'Task-2').node);
    assert.match(row(t2, '03_create_task.py:7').description, /· sleep 1\.0 s$/);
  });

  test('the newest run comes first and Clear All Runs empties the view', async () => {
    await traceToEnd(api, workspaceFile('01_run_hello.py'));
    const all = await waitFor(async () => { const r = await rows(api); return r.length >= 2 && r; }, 'two runs');
    assert.equal(all[0].label, '01_run_hello.py');
    assert.deepEqual((await rows(api, all[0].node)).map((r) => r.label), ['Task-1']);
    await vscode.commands.executeCommand('asyncTrace.clear');
    assert.deepEqual(await rows(api), []);
  });
});
