// "Async Trace: Compare Runs...": picks two runs (open ones, or trace files), compares them
// (core/runCompare.ts) and shows the result in the Comparison view and as hints on the await lines
// of the later run's sources. One comparison at a time; "Close Comparison" takes it away.
import * as vscode from 'vscode';
import type { TraceRunView } from '../core/modelTypes';
import { compareRuns, type RunComparison } from '../core/runCompare';
import { criticalPath, type CriticalPath } from '../core/criticalPath';
import { programLabel } from '../core/taskTreeModel';
import { plainText } from '../core/untrusted';
import { registerCompareTree } from './compareTree';
import { CompareDecorations } from './compareDecorations';
import { contributeTestState } from './testHooks';
import { loadTraceFile } from './traceFiles';
import type { TraceRuns } from './traceRuns';
import { beforeAfter, siteHint, wallText } from '../core/compareText';
import { formatDuration } from '../core/format';
import { wallTime } from '../core/runCompare';
import type { GanttPanelApi } from './ganttPanel';

export interface Comparison {
  before: TraceRunView;
  after: TraceRunView;
  result: RunComparison;
  /** The critical path of each run (what its end waited on), when it has one. */
  paths: { before?: CriticalPath; after?: CriticalPath };
}

export class ComparisonState implements vscode.Disposable {
  private value: Comparison | undefined;
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  get current(): Comparison | undefined { return this.value; }
  async set(c: Comparison | undefined): Promise<void> {
    this.value = c;
    this.emitter.fire();
    await vscode.commands.executeCommand('setContext', 'asyncTrace.hasComparison', c !== undefined);
  }
  dispose(): void { this.emitter.dispose(); }
}

const t = (m: string, ...a: Array<string | number>) => vscode.l10n.t(m, ...a);

/** A run given by key (an open run), by path or Uri (a file), else asked for. */
async function pickRun(runs: TraceRuns, arg: unknown, title: string, exclude?: TraceRunView): Promise<TraceRunView | undefined> {
  if (typeof arg === 'string' && runs.byKey(arg)) return runs.byKey(arg);
  if (typeof arg === 'string' && arg) return loadFile(vscode.Uri.file(arg));
  if (arg instanceof vscode.Uri) return loadFile(arg);
  if (arg && typeof arg === 'object' && typeof (arg as { path?: unknown }).path === 'string') return loadFile(vscode.Uri.from(arg as vscode.Uri));
  type Item = vscode.QuickPickItem & { run?: TraceRunView };
  const items: Item[] = runs.runs.filter((r) => r !== exclude && !r.live).slice().reverse().map((r) => ({
    label: programLabel(r),
    description: plainText(r.info?.started ?? r.label),
    detail: t('{0} tasks', r.tasks.size),
    run: r,
  }));
  items.push({ label: `$(folder-opened) ${t('Trace file...')}` });
  const pick = await vscode.window.showQuickPick(items, { title, placeHolder: t('An open run or a trace file') });
  if (!pick) return undefined;
  if (pick.run) return pick.run;
  const uris = await vscode.window.showOpenDialog({
    canSelectMany: false, title, openLabel: t('Compare'),
    filters: { [t('JSON Lines traces')]: ['jsonl', 'json'], [t('All files')]: ['*'] },
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return uris?.[0] ? loadFile(uris[0]) : undefined;
}

async function loadFile(uri: vscode.Uri): Promise<TraceRunView | undefined> {
  try {
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Loading trace {0}', plainText(uri.path.split('/').pop())) },
      () => loadTraceFile(uri));
  } catch (err) {
    void vscode.window.showErrorMessage(t('Could not read {0}: {1}', plainText(uri.fsPath), plainText(err instanceof Error ? err.message : String(err))));
    return undefined;
  }
}

/** Shows the compared runs one above the other in the timeline. */
function showTimelines(gantt: GanttPanelApi, c: Comparison): void {
  gantt.showComparison(c.before, c.after, {
    before: t('Before: {0} ({1})', programLabel(c.before), formatDuration(wallTime(c.before))),
    after: t('After: {0} ({1})', programLabel(c.after), formatDuration(wallTime(c.after))),
  });
}

export function registerRunComparison(context: vscode.ExtensionContext, runs: TraceRuns, gantt: GanttPanelApi): void {
  const state = new ComparisonState();
  const decorations = new CompareDecorations(state);
  context.subscriptions.push(state, decorations);
  registerCompareTree(context, state);
  context.subscriptions.push(
    vscode.commands.registerCommand('asyncTrace.compareRuns', async (a?: unknown, b?: unknown) => {
      const before = await pickRun(runs, a, t('Compare runs: the run BEFORE the change'));
      if (!before) return undefined;
      const after = await pickRun(runs, b, t('Compare runs: the run AFTER the change'), before);
      if (!after) return undefined;
      if (before.live || after.live) {
        void vscode.window.showWarningMessage(t('A run that is still going is compared as far as it got.'));
      }
      const result = compareRuns(before, after);
      await state.set({ before, after, result, paths: { before: criticalPath(before), after: criticalPath(after) } });
      await vscode.commands.executeCommand('asyncTrace.comparison.focus');
      return { slower: result.slower };
    }),
    vscode.commands.registerCommand('asyncTrace.closeComparison', () => state.set(undefined)),
    vscode.commands.registerCommand('asyncTrace.showComparisonTimeline', () => {
      const c = state.current;
      if (!c) {
        void vscode.window.showInformationMessage(t('No comparison to show: run "Compare Runs..." first.'));
        return;
      }
      showTimelines(gantt, c);
    }),
  );
  contributeTestState('compare', () => {
    const c = state.current;
    if (!c) return undefined;
    const r = c.result;
    return {
      before: programLabel(c.before), after: programLabel(c.after), wall: wallText(r, t),
      criticalPath: c.paths.before && c.paths.after ? beforeAfter(c.paths.before.to - c.paths.before.from, c.paths.after.to - c.paths.after.from) : null,
      sites: r.sites.map((s) => ({ file: s.site.file, line: s.site.line, hint: siteHint(s, t) })),
      tasks: r.tasks.map((g) => ({ path: g.path, change: g.change })),
      decorated: decorations.lastApplied,
    };
  });
}
