// "Show Critical Path": the chain of steps, waits and wake-ups that determined when the selected
// run (or task) ended, highlighted on the timeline and listed; picking a stage opens its line and
// reveals its task.
import * as vscode from 'vscode';
import { criticalPath, pathStages } from '../core/criticalPath';
import { criticalPathTitle } from '../core/criticalPathOverlay';
import { notableStages, stageText } from '../core/runReport';
import type { GanttPanelApi } from './ganttPanel';
import type { TraceRuns } from './traceRuns';

/** Arguments: (runKey, taskId) from code, or a Tasks tree element ({ runKey, taskId? }). */
function target(a: unknown, b: unknown): { runKey?: string; taskId?: number } {
  if (typeof a === 'string') return { runKey: a, taskId: typeof b === 'number' ? b : undefined };
  if (a && typeof a === 'object') {
    const o = a as { runKey?: unknown; taskId?: unknown };
    return { runKey: typeof o.runKey === 'string' ? o.runKey : undefined, taskId: typeof o.taskId === 'number' ? o.taskId : undefined };
  }
  return {};
}

export function registerCriticalPath(context: vscode.ExtensionContext, runs: TraceRuns, gantt: GanttPanelApi): void {
  context.subscriptions.push(vscode.commands.registerCommand('asyncTrace.showCriticalPath', async (a?: unknown, b?: unknown) => {
    const { runKey, taskId } = target(a, b);
    const run = (runKey !== undefined ? runs.runs.find((r) => r.key === runKey) : undefined) ?? runs.selected;
    if (!run) { void vscode.window.showInformationMessage(vscode.l10n.t('No Async Trace run to analyse.')); return; }
    const cp = criticalPath(run, taskId);
    if (!cp) { void vscode.window.showInformationMessage(vscode.l10n.t('This run has no tasks.')); return; }
    // On the timeline first (others dimmed, the chain's links drawn), then the list of its stages.
    gantt.showCriticalPath(run, taskId ?? null);
    const items = notableStages(pathStages(cp)).map((s) => ({ label: stageText(run, s, vscode.l10n.t), stage: s }));
    const title = criticalPathTitle(run, cp, vscode.l10n.t);
    const picked = await vscode.window.showQuickPick(items, { title, placeHolder: vscode.l10n.t('Pick a stage to open its line') });
    if (!picked) return;
    if (picked.stage.site !== null) await vscode.commands.executeCommand('asyncTrace.openSite', run.key, picked.stage.site);
    await vscode.commands.executeCommand('asyncTrace.revealTask', run.key, picked.stage.task);
  }));
}
