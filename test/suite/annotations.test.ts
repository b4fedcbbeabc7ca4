// What a traced run leaves on the source: a Problems entry for the fired timeout (read with
// vscode.languages.getDiagnostics) and decorations on the lines of the open editor.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AsyncTraceTestApi } from '../../src/extension/testApi';
import { extensionApi, traceToEnd, waitFor, workspaceFile } from './helpers';

interface AnnotatedLine { line: number; gutter: string; kinds: string[]; texts: string[] }
interface Annotations { enabled: boolean; decoratedEditors: string[]; files: Record<string, AnnotatedLine[]> }

suite('Source annotations', () => {
  let api: AsyncTraceTestApi;
  suiteSetup(async () => {
    api = await extensionApi();
    await vscode.commands.executeCommand('asyncTrace.clear');
  });

  test('a fired timeout is a warning in Problems and a decorated line in the editor', async () => {
    const file = workspaceFile('05_wait_for_timeout.py');
    await vscode.window.showTextDocument(file, { preview: false });
    await traceToEnd(api, file);

    // Line 14 (0-based 13): `await asyncio.wait_for(eternity(), timeout=1.0)`.
    const diag = await waitFor(() => vscode.languages.getDiagnostics(file).find((d) => d.range.start.line === 13), 'a diagnostic on line 14');
    assert.equal(diag.severity, vscode.DiagnosticSeverity.Warning);
    assert.equal(diag.source, 'Async Trace');
    assert.equal(typeof diag.code === 'object' ? String(diag.code.value) : String(diag.code), 'timeout-fired');
    assert.match(diag.message, /^Timeout of 1\.0 s fired and cancelled Task-\d/);

    const annotations = await waitFor(() => {
      const a = api.state().annotations as Annotations;
      return a.decoratedEditors.includes(file.fsPath) && a.files[file.fsPath]?.some((l) => l.line === 14) && a;
    }, 'decorations on the editor of 05_wait_for_timeout.py');
    assert.equal(annotations.enabled, true);
    const lines = annotations.files[file.fsPath];
    const timeoutLine = lines.find((l) => l.line === 14);
    assert.ok(timeoutLine);
    assert.equal(timeoutLine.gutter, 'timeoutFired');
    assert.ok(timeoutLine.kinds.includes('timeoutFired'), JSON.stringify(timeoutLine));
    // The sleep the timeout cut short (line 7) is annotated as an await.
    assert.ok(lines.some((l) => l.line === 7 && l.kinds.includes('await')), JSON.stringify(lines));
  });

  test('turning annotations off removes the Problems entry; on brings it back', async () => {
    const file = workspaceFile('05_wait_for_timeout.py');
    await vscode.commands.executeCommand('asyncTrace.toggleAnnotations');
    try {
      await waitFor(() => vscode.languages.getDiagnostics(file).length === 0, 'no diagnostics while annotations are off', 15_000);
      assert.equal((api.state().annotations as Annotations).enabled, false);
    } finally {
      await vscode.commands.executeCommand('asyncTrace.toggleAnnotations');
    }
    await waitFor(() => vscode.languages.getDiagnostics(file).some((d) => d.range.start.line === 13), 'the diagnostic back', 15_000);
  });
});
