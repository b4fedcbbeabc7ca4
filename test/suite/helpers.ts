// Shared by the integration suites: the extension's test API, workspace files, the Tasks view's rows
// as VS Code gets them from the provider, and a traced run awaited to its end.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AsyncTraceTestApi } from '../../src/extension/testApi';
import type { TreeNode } from '../../src/extension/taskTreeProvider';

export const EXTENSION_ID = 'asynctrace.async-trace';

export async function extensionApi(): Promise<AsyncTraceTestApi> {
  const ext = vscode.extensions.getExtension<AsyncTraceTestApi | undefined>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is installed`);
  const api = await ext.activate();
  assert.ok(api, 'the extension gives its test API in a test host');
  return api;
}

/** A file of the opened folder (the examples/ folder, or the harness's copy of it). */
export function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'a folder is open');
  return vscode.Uri.joinPath(folder.uri, name);
}

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 90_000): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as Truthy<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Row { label: string; description: string; node: TreeNode; item: vscode.TreeItem }

/** The children of `parent` (the roots without it), read through the provider as the view reads them. */
export async function rows(api: AsyncTraceTestApi, parent?: TreeNode): Promise<Row[]> {
  const nodes = (await api.tasksTree.getChildren(parent)) ?? [];
  return Promise.all(nodes.map(async (node) => {
    const item = await api.tasksTree.getTreeItem(node);
    const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
    return { label, description: String(item.description ?? ''), node, item };
  }));
}

export function row(list: readonly Row[], label: string): Row {
  const found = list.find((r) => r.label === label);
  assert.ok(found, `a row "${label}" among ${JSON.stringify(list.map((r) => `${r.label} ${r.description}`))}`);
  return found;
}

interface RunSummary { key: string; live: boolean; exit: { code: number } | null; issues: Record<string, unknown>; tasks: { name: string; status: string }[] }

export function runState(api: AsyncTraceTestApi, key: string): RunSummary | undefined {
  return (api.state().runs as RunSummary[]).find((r) => r.key === key);
}

/** Runs "Trace Async Run" on `file` and waits until the program has exited; returns the run's key. */
export async function traceToEnd(api: AsyncTraceTestApi, file: vscode.Uri): Promise<string> {
  const key = await vscode.commands.executeCommand<string | undefined>('asyncTrace.traceRun', file);
  assert.ok(key, `tracing ${file.fsPath} started (errors shown: ${JSON.stringify((api.state().runner as { errors?: unknown })?.errors)})`);
  await waitFor(() => { const r = runState(api, key); return r && !r.live && r.exit; }, `${file.fsPath} to exit`);
  return key;
}
