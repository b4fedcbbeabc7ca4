import * as vscode from 'vscode';
import type { TraceRun } from '../core/traceModel';

// A newcomer's first "Trace Async Run" should show the product, not only a terminal: the first
// traced run of a window reveals the Async Trace view, and its end offers the timeline.

const SETTING = 'revealOnFirstRun';
let revealedThisWindow = false;
let offeredThisWindow = false;

function enabled(): boolean {
  return vscode.workspace.getConfiguration('asyncTrace').get<boolean>(SETTING, true) !== false;
}

/** Called when a traced run starts: reveals the Tasks view once per window (setting permitting). */
export function revealOnFirstRun(): void {
  if (revealedThisWindow || !enabled()) return;
  revealedThisWindow = true;
  // Opens the view container without taking the focus the run's terminal is about to get.
  void vscode.commands.executeCommand('asyncTrace.tasks.focus').then(undefined, () => undefined);
}

/**
 * Called when the first traced run of a window ends by itself: a message that sums it up and
 * offers the timeline, unless the timeline is already open.
 */
export function offerTimelineOnFirstEnd(run: TraceRun, summary: string, timelineOpen: boolean): void {
  if (offeredThisWindow || !enabled()) return;
  offeredThisWindow = true;
  if (timelineOpen) return;
  const show = vscode.l10n.t('Show Timeline');
  const never = vscode.l10n.t('Don\'t Show Again');
  void vscode.window.showInformationMessage(summary, show, never).then((pick) => {
    if (pick === show) void vscode.commands.executeCommand('asyncTrace.showTimeline', run.key);
    else if (pick === never) void vscode.workspace.getConfiguration('asyncTrace').update(SETTING, false, vscode.ConfigurationTarget.Global);
  });
}
