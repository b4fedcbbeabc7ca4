// What the integration suite (test/suite/, run by `npx vscode-test` or inside code-server by the
// e2e harness) reaches through `vscode.extensions.getExtension('asynctrace.async-trace').exports`:
// the Tasks view's data provider, exactly as VS Code calls it, and the state the e2e hooks read.
// Only a test host gets it (extension mode Test, or ASYNC_TRACE_TEST_SUITE set); a user's VS Code
// gets no API.
import * as vscode from 'vscode';
import type { TaskTreeProvider, TreeNode } from './taskTreeProvider';
import { collectState } from './testHooks';
import type { TraceRuns } from './traceRuns';

export interface AsyncTraceTestApi {
  tasksTree: vscode.TreeDataProvider<TreeNode>;
  /** The same sections as the e2e hooks' GET /state (runs, diagnostics, annotations, tree, ...). */
  state(): Record<string, unknown>;
}

export function testApi(context: vscode.ExtensionContext, runs: TraceRuns, tree: TaskTreeProvider): AsyncTraceTestApi | undefined {
  if (context.extensionMode !== vscode.ExtensionMode.Test && !process.env.ASYNC_TRACE_TEST_SUITE) return undefined;
  return { tasksTree: tree, state: () => collectState(runs) };
}
