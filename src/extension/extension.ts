// Entry point: one register call per feature; each pushes its disposables into context.subscriptions.
import * as vscode from 'vscode';
import { registerTraceRuns } from './traceRuns';
import { registerSiteNavigation } from './siteNavigation';
import { registerRunner } from './runner';
import { registerTaskTree } from './taskTreeProvider';
import { registerTraceFiles } from './traceFiles';
import { registerStatusBar } from './statusBar';
import { registerGanttPanel } from './ganttPanel';
import { registerSourceAnnotations } from './sourceAnnotations';
import { registerStuckDiagnostics } from './stuckDiagnostics';
import { registerCriticalPath } from './criticalPathPick';
import { registerRunComparison } from './runComparison';
import { registerTestHooks } from './testHooks';
import { testApi, type AsyncTraceTestApi } from './testApi';

export function activate(context: vscode.ExtensionContext): AsyncTraceTestApi | undefined {
  const runs = registerTraceRuns(context);
  registerSiteNavigation(context, runs);
  registerRunner(context, runs);
  const tree = registerTaskTree(context, runs);
  registerTraceFiles(context, runs);
  registerStatusBar(context, runs);
  const gantt = registerGanttPanel(context, runs);
  registerSourceAnnotations(context, runs);
  registerStuckDiagnostics(context, runs, tree);
  registerCriticalPath(context, runs, gantt);
  registerRunComparison(context, runs, gantt);
  registerTestHooks(context, runs);
  return testApi(context, runs, tree);
}

export function deactivate(): void {
  // Runs are stopped by their disposables in context.subscriptions.
}
