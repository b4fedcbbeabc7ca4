// "Show Critical Path": the chain of steps, waits and wake-ups that determined when the selected
// run (or task) ended, as a list; picking a stage opens its line and reveals its task.
import * as vscode from 'vscode';
import { criticalPath, pathStages } from '../core/criticalPath';
import { formatDuration } from '../core/format';
import { notableStages, stageText } from '../core/runReport';
import { taskName } from '../core/taskTreeModel';
import type { TraceRuns } from './traceRuns';

export function registerCriticalPath(context: vscode.ExtensionContext, runs: TraceRuns): void {
  context.subscriptions.push(vscode.commands.registerCommand('asyncTrace.showCriticalPath', async (runKey?: unknown, taskId?: unknown) => {
    const run = (typeof runKey === 'string' ? runs.runs.find((r) => r.key === runKey) : undefined) ?? runs.selected;
    if (!run) { void vscode.window.showInformationMessage(vscode.l10n.t('No Async Trace run to analyse.')); return; }
    const cp = criticalPath(run, typeof taskId === 'number' ? taskId : undefined);
    if (!cp) { void vscode.window.showInformationMessage(vscode.l10n.t('This run has no tasks.')); return; }
    const items = notableStages(pathStages(cp)).map((s) => ({ label: stageText(run, s, vscode.l10n.t), stage: s }));
    const title = vscode.l10n.t('Critical path of {0}: {1} ({2} running, {3} ready but not running, {4} waiting)', taskName(run, cp.task),
      formatDuration(cp.to - cp.from), formatDuration(cp.running), formatDuration(cp.ready), formatDuration(cp.waiting));
    const picked = await vscode.window.showQuickPick(items, { title, placeHolder: vscode.l10n.t('Pick a stage to open its line') });
    if (!picked) return;
    if (picked.stage.site !== null) await vscode.commands.executeCommand('asyncTrace.openSite', run.key, picked.stage.site);
    await vscode.commands.executeCommand('asyncTrace.revealTask', run.key, picked.stage.task);
  }));
}
