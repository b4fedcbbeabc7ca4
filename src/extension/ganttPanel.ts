// The Gantt timeline panel: one webview panel that shows the selected run (following the run store),
// fed incrementally by GanttEncoder, restored after a window reload by a serializer.
import * as vscode from 'vscode';
import { plainText } from '../core/untrusted';
import type { TraceRunView } from '../core/modelTypes';
import { criticalPath } from '../core/criticalPath';
import { pathOverlay } from '../core/criticalPathOverlay';
import { lagLaneEntries } from '../core/loopLagOverlay';
import { timeSplitRows } from '../core/timeSplitText';
import { groupLaneOf } from '../core/ganttProcessGroups';
import type { FromWebview, GanttStats, GanttStrings, GanttViewState, ToWebview } from '../core/ganttProtocol';
import { GanttEncoder } from './ganttData';
import { GanttCompareEncoder, type CompareSideLabels } from './ganttCompare';
import { resolveTraceFile } from './sourceAnnotations';
import { loadTraceFile } from './traceFiles';
import type { TraceRuns } from './traceRuns';
import { contributeTestState } from './testHooks';

const VIEW_TYPE = 'asyncTrace.timeline';
/** A live run's lag lanes are recomputed at most this often, and at most 10 % of the time (the analysis walks the whole run). */
const LAG_INTERVAL_MS = 2000;

/** Argument shapes of asyncTrace.showTimeline: (runKey, taskId, wait?) or a tree element. */
type ShowArg = string | { runKey?: unknown; taskId?: unknown; run?: { key?: unknown } } | undefined;

/** A wait to show (third argument, from a hover's outlier link): its time range (us) and its await site. */
interface WaitArg { from: number; to: number; site?: number }

function waitArg(c: unknown): WaitArg | undefined {
  if (!c || typeof c !== 'object') return undefined;
  const o = c as Record<string, unknown>;
  if (typeof o.from !== 'number' || typeof o.to !== 'number' || !Number.isFinite(o.from) || !Number.isFinite(o.to) || o.to < o.from) return undefined;
  return { from: o.from, to: o.to, site: typeof o.site === 'number' ? o.site : undefined };
}

let openPanel: vscode.WebviewPanel | undefined;

/** Whether the timeline panel is open (visible or in a background tab). */
export function timelineIsOpen(): boolean {
  return openPanel !== undefined;
}

/** What other features may ask of the timeline. */
export interface GanttPanelApi {
  /** Shows two runs one above the other on one clock (the compare mode). */
  showComparison(before: TraceRunView, after: TraceRunView, labels: CompareSideLabels): void;
  /** Opens the timeline on `run` with the critical path of `taskId` (null: of the run) highlighted. */
  showCriticalPath(run: TraceRunView, taskId: number | null): void;
}

export function registerGanttPanel(context: vscode.ExtensionContext, runs: TraceRuns): GanttPanelApi {
  const controller = new GanttController(context, runs);
  context.subscriptions.push(controller);
  context.subscriptions.push(
    vscode.commands.registerCommand('asyncTrace.showTimeline', (a?: ShowArg, b?: unknown, c?: unknown) => controller.show(a, b, c)),
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
      deserializeWebviewPanel: (panel, state) => controller.restore(panel, state as GanttViewState | undefined),
    }),
  );
  contributeTestState('timeline', () => controller.testState());
  return {
    showComparison: (a, b, labels) => controller.showComparison(a, b, labels),
    showCriticalPath: (run, taskId) => controller.showCriticalPath(run, taskId),
  };
}

class GanttController implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private panelDisposables: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private run: TraceRunView | undefined;
  private encoder: GanttEncoder | undefined;
  /** Compare mode: two runs instead of `run` (then `run` and `encoder` are unset). */
  private comparison: GanttCompareEncoder | undefined;
  private comparisonRuns: { before: TraceRunView; after: TraceRunView; labels: CompareSideLabels } | undefined;
  private ready = false;
  private pendingSelect: number | undefined;
  /** A wait to reveal once the run is loaded. */
  private pendingWait: { taskId: number; from: number; to: number } | undefined;
  private restoreState: GanttViewState | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastFlush = 0;
  private stats: GanttStats | undefined;
  private messagesSent = 0;
  /** True while the initial messages of a run are being posted. */
  private loading = false;
  /** The run's selected task, re-sent when the webview reloads (it is not retained while hidden). */
  private selectedTask: number | undefined;
  /** Or the selected process (its key): its group lane is selected, re-sent like the task. */
  private selectedProcess: number | undefined;
  /** The highlighted critical path: of this task, of the run (null), or none (undefined). Re-sent when the webview reloads. */
  private pathTask: number | null | undefined;
  /** When the lag lanes were last sent (a live run's are recomputed at most every LAG_INTERVAL_MS). */
  private lagSentAt = 0;
  private lagInterval = LAG_INTERVAL_MS;

  constructor(private readonly context: vscode.ExtensionContext, private readonly runs: TraceRuns) {
    this.disposables.push(
      runs.onDidChangeRuns(() => this.followSelectedRun()),
      runs.onDidUpdateRun(({ run, delta }) => {
        if (run !== this.run || !this.encoder) return;
        this.encoder.note(delta);
        this.scheduleFlush();
      }),
      runs.onDidSelectTask((sel) => {
        if (sel.source === 'timeline' || !this.panel) return;
        if (sel.run !== this.run) this.setRun(sel.run);
        this.selectTask(sel.taskId);
      }),
      runs.onDidSelectProcess((sel) => {
        if (sel.source === 'timeline' || !this.panel) return;
        if (sel.run !== this.run) this.setRun(sel.run);
        this.selectProcess(sel.process);
      }),
    );
  }

  show(a?: ShowArg, b?: unknown, c?: unknown): void {
    let runKey: string | undefined;
    let taskId: number | undefined;
    if (typeof a === 'string') {
      runKey = a;
      if (typeof b === 'number') taskId = b;
    } else if (a && typeof a === 'object') {
      if (typeof a.runKey === 'string') runKey = a.runKey;
      else if (a.run && typeof a.run.key === 'string') runKey = a.run.key;
      if (typeof a.taskId === 'number') taskId = a.taskId;
    }
    const run = (runKey !== undefined ? this.runs.byKey(runKey) : undefined) ?? this.runs.selected;
    const wait = waitArg(c);
    if (wait && run && taskId !== undefined) { void this.showWait(run, taskId, wait); return; }
    if (!this.panel) {
      const panel = vscode.window.createWebviewPanel(VIEW_TYPE, vscode.l10n.t('Async Trace Timeline'), vscode.ViewColumn.Active, this.webviewOptions());
      this.adopt(panel);
    } else {
      this.panel.reveal(undefined, false);
    }
    if (run && run !== this.runs.selected) this.runs.select(run);
    this.setRun(run);
    if (taskId !== undefined) this.selectTask(taskId, true);
  }

  /** Opens the wait's line, then the timeline beside it zoomed to the wait (marked, its task selected). */
  private async showWait(run: TraceRunView, taskId: number, wait: WaitArg): Promise<void> {
    if (wait.site !== undefined) await vscode.commands.executeCommand('asyncTrace.openSite', run.key, wait.site).then(undefined, () => undefined);
    if (!this.panel) {
      const panel = vscode.window.createWebviewPanel(VIEW_TYPE, vscode.l10n.t('Async Trace Timeline'), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, this.webviewOptions());
      this.adopt(panel);
    } else {
      this.panel.reveal(undefined, true);
    }
    if (run !== this.runs.selected) this.runs.select(run);
    this.setRun(run);
    this.selectedTask = taskId;
    this.selectedProcess = undefined;
    const focus = { taskId, from: wait.from, to: wait.to };
    if (this.ready && this.encoder && !this.loading) {
      this.post({ type: 'select', taskId });
      this.post({ type: 'revealWait', ...focus });
    } else {
      this.pendingSelect = undefined;
      this.pendingWait = focus;
    }
  }

  showCriticalPath(run: TraceRunView, taskId: number | null): void {
    if (!this.panel || this.run !== run || this.comparison) this.show(run.key);
    else this.panel.reveal(undefined, true);
    this.pathTask = taskId;
    if (this.ready && this.encoder && !this.loading) this.postPath();
  }

  /** Sends the lag lanes of the run (recomputed: they cover the whole run). */
  private postLag(): void {
    if (!this.run) return;
    const start = Date.now();
    const lanes = lagLaneEntries(this.run, vscode.l10n.t);
    this.lagSentAt = Date.now();
    this.lagInterval = Math.max(LAG_INTERVAL_MS, 10 * (this.lagSentAt - start));
    this.post({ type: 'lag', lanes });
  }

  /** Sends the highlight of `pathTask` (computed now: a live run's path grows). */
  private postPath(): void {
    const run = this.run;
    if (!run || this.pathTask === undefined) return;
    const cp = criticalPath(run, this.pathTask ?? undefined);
    if (!cp) { this.pathTask = undefined; this.post({ type: 'criticalPath', path: null }); return; }
    this.post({ type: 'criticalPath', path: pathOverlay(run, cp, vscode.l10n.t) });
  }

  showComparison(before: TraceRunView, after: TraceRunView, labels: CompareSideLabels): void {
    if (!this.panel) {
      const panel = vscode.window.createWebviewPanel(VIEW_TYPE, vscode.l10n.t('Async Trace Timeline'), vscode.ViewColumn.Active, this.webviewOptions());
      this.adopt(panel);
    } else {
      this.panel.reveal(undefined, false);
    }
    this.run = undefined;
    this.encoder = undefined;
    this.pendingSelect = undefined;
    this.pendingWait = undefined;
    this.selectedTask = undefined;
    this.selectedProcess = undefined;
    this.pathTask = undefined;
    this.comparisonRuns = { before, after, labels };
    this.comparison = new GanttCompareEncoder(before, after, labels);
    this.panel!.title = vscode.l10n.t('Timeline: {0} \u2194 {1}', plainText(labels.before), plainText(labels.after));
    if (this.ready) this.sendInitial();
  }

  async restore(panel: vscode.WebviewPanel, state: GanttViewState | undefined): Promise<void> {
    if (this.panel) {
      // A second restored panel (should not happen: one panel) is closed instead of duplicated.
      panel.dispose();
      return;
    }
    this.restoreState = state;
    this.adopt(panel);
    let run = state?.runKey ? this.runs.byKey(state.runKey) : undefined;
    if (!run && state?.file) run = this.runs.runs.find((r) => (r as { sourcePath?: string }).sourcePath === state.file);
    if (!run && state?.file) run = await this.reload(state.file);
    this.setRun(run ?? this.runs.selected);
  }

  /** Reopens the trace file a restored panel showed (runs live in memory and are gone after a reload). */
  private async reload(file: string): Promise<TraceRunView | undefined> {
    try {
      const run = await loadTraceFile(vscode.Uri.file(file));
      // Another view may have reopened it meanwhile.
      const again = this.runs.runs.find((r) => (r as { sourcePath?: string }).sourcePath === file);
      if (again) return again;
      if (run.tasks.size === 0 && !run.info) return undefined;
      this.runs.add(run);
      return run;
    } catch {
      return undefined;
    }
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    const ext = this.context.extensionUri;
    return {
      enableScripts: true,
      // Not retained when hidden: the chart reloads from the model in well under a second, and a
      // retained canvas of a big run would hold its memory while invisible.
      retainContextWhenHidden: false,
      enableFindWidget: false,
      localResourceRoots: [vscode.Uri.joinPath(ext, 'dist'), vscode.Uri.joinPath(ext, 'media')],
    };
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    openPanel = panel;
    this.ready = false;
    panel.webview.options = this.webviewOptions();
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'asynctrace.svg');
    panel.webview.html = this.html(panel.webview);
    this.panelDisposables.push(
      panel.webview.onDidReceiveMessage((m: FromWebview) => this.onMessage(m)),
      panel.onDidDispose(() => {
        this.panel = undefined;
        if (openPanel === panel) openPanel = undefined;
        this.ready = false;
        this.encoder = undefined;
        this.run = undefined;
        this.comparison = undefined;
        this.comparisonRuns = undefined;
        this.pathTask = undefined;
        this.stats = undefined;
        for (const d of this.panelDisposables) d.dispose();
        this.panelDisposables = [];
      }),
      panel.onDidChangeViewState(() => {
        // Not retained: a panel that becomes visible again starts a fresh webview, which posts `ready`.
        if (!panel.visible) this.ready = false;
      }),
    );
  }

  private followSelectedRun(): void {
    if (!this.panel || this.comparison) return;
    const sel = this.runs.selected;
    if (this.run && this.runs.runs.includes(this.run) && sel === this.run) return;
    this.setRun(sel);
  }

  private setRun(run: TraceRunView | undefined): void {
    if (!this.panel) return;
    if (run === this.run && this.encoder) return;
    this.comparison = undefined;
    this.comparisonRuns = undefined;
    this.run = run;
    this.encoder = undefined;
    this.pendingSelect = undefined;
    this.pendingWait = undefined;
    this.selectedTask = undefined;
    this.selectedProcess = undefined;
    this.pathTask = undefined;
    this.panel.title = run ? vscode.l10n.t('Timeline: {0}', plainText(run.label)) : vscode.l10n.t('Async Trace Timeline');
    if (this.ready) this.sendInitial();
  }

  private selectTask(taskId: number, zoom = false): void {
    if (!this.panel) return;
    this.selectedTask = taskId;
    this.selectedProcess = undefined;
    if (this.ready && this.encoder && !this.loading) {
      this.post({ type: 'select', taskId });
      if (zoom) this.post({ type: 'command', command: 'zoomToTask', taskId });
    } else if (zoom) {
      this.pendingSelect = taskId;
    }
  }

  /** Selects a process's group lane (a run of one process has none: the chart keeps its selection). */
  private selectProcess(key: number): void {
    if (!this.panel || !this.run || groupLaneOf(this.run, key) === undefined) return;
    this.selectedProcess = key;
    this.selectedTask = undefined;
    // While the run loads, the end of the load sends it.
    if (this.ready && this.encoder && !this.loading) this.post({ type: 'selectProcess', process: key });
  }

  private sendInitial(): void {
    if (!this.panel) return;
    if (this.comparisonRuns) {
      // A fresh encoder each time: the webview starts from nothing after a hide/show.
      const { before, after, labels } = this.comparisonRuns;
      const comparison = new GanttCompareEncoder(before, after, labels);
      this.comparison = comparison;
      void this.load(comparison, comparison.initialMessages(webviewStrings()));
      return;
    }
    const run = this.run;
    if (!run) {
      this.encoder = undefined;
      this.post({
        type: 'empty', strings: webviewStrings(),
        message: vscode.l10n.t('No traced run to show. Trace a Python program or open a trace file, then show its timeline.'),
      });
      return;
    }
    const restore = this.restoreState && (this.restoreState.runKey === run.key || this.restoreState.file === (run as { sourcePath?: string }).sourcePath) ? this.restoreState : undefined;
    this.restoreState = undefined;
    const encoder = new GanttEncoder(run, vscode.l10n.t);
    this.encoder = encoder;
    void this.load(encoder, encoder.initialMessages(webviewStrings(), { ...restore, runKey: run.key, file: (run as { sourcePath?: string }).sourcePath }));
  }

  /** The source of the chart now: a run's encoder, or the comparison's. */
  private current(): object | undefined {
    return this.comparison ?? this.encoder;
  }

  /** Posts the initial messages, yielding to the extension host between step batches. */
  private async load(source: object, messages: Iterable<ToWebview>): Promise<void> {
    this.loading = true;
    try {
      for (const m of messages) {
        // Superseded (another run, panel closed or hidden): stop quietly.
        if (this.current() !== source || !this.panel || !this.ready) return;
        // The lag lanes before `loaded`: the first frame of the loaded run has them (lanes below shift down by them).
        if (m.type === 'loaded' && source === this.encoder) this.postLag();
        this.post(m);
        if (m.type === 'steps') await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      if (this.current() === source) this.loading = false;
    }
    this.lastFlush = Date.now();
    if (this.pendingWait !== undefined && this.current() === this.encoder) {
      const w = this.pendingWait;
      this.pendingWait = undefined;
      this.post({ type: 'select', taskId: w.taskId });
      this.post({ type: 'revealWait', ...w });
    } else if (this.pendingSelect !== undefined) {
      const id = this.pendingSelect;
      this.pendingSelect = undefined;
      this.post({ type: 'select', taskId: id });
      this.post({ type: 'command', command: 'zoomToTask', taskId: id });
    } else if (this.selectedTask !== undefined) {
      this.post({ type: 'select', taskId: this.selectedTask });
    } else if (this.selectedProcess !== undefined) {
      this.post({ type: 'selectProcess', process: this.selectedProcess });
    }
    if (this.encoder && this.encoder === source && this.pathTask !== undefined) this.postPath();
    if (this.encoder && this.encoder === source && this.encoder.pending) this.scheduleFlush();
  }

  /** Live updates at most every `asyncTrace.liveUpdateIntervalMs`. */
  private scheduleFlush(): void {
    if (this.timer || !this.ready || this.loading) return;
    const interval = Math.max(50, vscode.workspace.getConfiguration('asyncTrace').get<number>('liveUpdateIntervalMs', 250));
    const wait = Math.max(0, this.lastFlush + interval - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastFlush = Date.now();
      if (!this.encoder || !this.ready) return;
      for (const m of this.encoder.flush()) this.post(m);
      if (!this.run?.live || Date.now() - this.lagSentAt >= this.lagInterval) this.postLag();
    }, wait);
  }

  private post(m: ToWebview): void {
    if (!this.panel) return;
    this.messagesSent++;
    void this.panel.webview.postMessage(m);
  }

  private onMessage(m: FromWebview): void {
    const run = this.run;
    if (this.comparison && (m.type === 'select' || m.type === 'selectProcess' || m.type === 'reveal' || m.type === 'open')) {
      if (m.type === 'select') this.selectedTask = m.taskId;
      else if (m.type === 'open') this.openComparisonSite(this.comparison, m.siteId);
      return;
    }
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.sendInitial();
        return;
      case 'select':
        // The tree reveals (without taking focus) on onDidSelectTask, so keyboard moves stay here.
        if (run) {
          this.selectedTask = m.taskId;
          this.selectedProcess = undefined;
          this.runs.selectTask({ run, taskId: m.taskId, source: 'timeline' });
        }
        return;
      case 'selectProcess':
        // Like a task: the tree reveals the process's row without taking focus.
        if (run && groupLaneOf(run, m.process) !== undefined) {
          this.selectedProcess = m.process;
          this.selectedTask = undefined;
          this.runs.selectProcess({ run, process: m.process, source: 'timeline' });
        }
        return;
      case 'reveal':
        if (run) void vscode.commands.executeCommand('asyncTrace.revealTask', run.key, m.taskId).then(undefined, () => undefined);
        return;
      case 'open': {
        if (!run || m.siteId < 0) return;
        // Open the source next to the chart, not over it: the group of another visible editor, else beside.
        const panelColumn = this.panel?.viewColumn;
        const other = vscode.window.visibleTextEditors.find((e) => e.viewColumn !== undefined && e.viewColumn !== panelColumn)?.viewColumn;
        const options = { viewColumn: other ?? vscode.ViewColumn.Beside, preserveFocus: false, preview: true };
        void vscode.commands.executeCommand('asyncTrace.openSite', run.key, m.siteId, options).then(undefined, (err: unknown) => {
          void vscode.window.showErrorMessage(vscode.l10n.t('Cannot open the source location: {0}', String(err)));
        });
        return;
      }
      case 'taskDetails': {
        const task = run?.tasks.get(m.taskId);
        if (!run || !task) return;
        this.post({ type: 'taskDetails', taskId: m.taskId, lines: timeSplitRows(run, task, vscode.l10n.t).map(([k, v]) => `${k}: ${v}`) });
        return;
      }
      case 'criticalPath':
        if (!run) return;
        if (m.clear) { this.pathTask = undefined; return; }
        this.pathTask = typeof m.taskId === 'number' ? m.taskId : null;
        this.postPath();
        return;
      case 'stats':
        this.stats = m.stats;
        return;
      case 'error':
        console.error(`Async Trace timeline: ${m.message}`);
        return;
    }
  }

  /** Opens a site of one of the compared runs (they need not be open runs: files picked to compare). */
  private openComparisonSite(comparison: GanttCompareEncoder, chartSite: number): void {
    const origin = comparison.siteOrigin(chartSite);
    const site = origin ? origin.run.sites.get(origin.siteId) : undefined;
    if (!origin || !site) return;
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    const local = resolveTraceFile(site.file, origin.run.info?.cwd, folders);
    if (!local) {
      void vscode.window.showWarningMessage(vscode.l10n.t('{0} is not in this workspace.', plainText(site.file)));
      return;
    }
    const line = Math.max(0, site.line - 1);
    const panelColumn = this.panel?.viewColumn;
    const other = vscode.window.visibleTextEditors.find((e) => e.viewColumn !== undefined && e.viewColumn !== panelColumn)?.viewColumn;
    void vscode.window.showTextDocument(vscode.Uri.file(local), {
      viewColumn: other ?? vscode.ViewColumn.Beside, preview: true, selection: new vscode.Range(line, 0, line, 0),
    }).then(undefined, (err: unknown) => {
      void vscode.window.showErrorMessage(vscode.l10n.t('Cannot open the source location: {0}', String(err)));
    });
  }

  testState(): unknown {
    return {
      compare: this.comparison?.key ?? null,
      open: !!this.panel,
      visible: this.panel?.visible ?? false,
      runKey: this.run?.key ?? null,
      ready: this.ready,
      messagesSent: this.messagesSent,
      drawn: this.stats ?? null,
    };
  }

  private html(webview: vscode.Webview): string {
    const nonce = makeNonce();
    const ext = this.context.extensionUri;
    const script = webview.asWebviewUri(vscode.Uri.joinPath(ext, 'dist', 'webview', 'gantt.js'));
    const css = webview.asWebviewUri(vscode.Uri.joinPath(ext, 'media', 'gantt.css'));
    const codicons = webview.asWebviewUri(vscode.Uri.joinPath(ext, 'dist', 'codicons', 'codicon.css'));
    const csp = [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src ${webview.cspSource} 'nonce-${nonce}'`,
      `font-src ${webview.cspSource}`,
      `img-src ${webview.cspSource} data:`,
    ].join('; ');
    return ganttHtml({ csp, nonce, script: script.toString(), css: css.toString(), codicons: codicons.toString(), lang: vscode.env.language });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** The webview document. Exported for the bench, which loads the same page outside VS Code. */
export function ganttHtml(o: { csp: string; nonce: string; script: string; css: string; codicons: string; lang: string }): string {
  const attr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<!DOCTYPE html>
<html lang="${attr(o.lang)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(o.csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(o.codicons)}">
<link rel="stylesheet" href="${attr(o.css)}">
<title>Async Trace Timeline</title>
</head>
<body>
<div id="app"></div>
<script nonce="${attr(o.nonce)}" src="${attr(o.script)}"></script>
</body>
</html>`;
}

function makeNonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 32; i++) s += chars.charAt(Math.floor(Math.random() * chars.length));
  return s;
}

/** Every string the chart shows, localized here (the webview has no l10n API). */
export function webviewStrings(): GanttStrings {
  return {
    title: vscode.l10n.t('Timeline'),
    fitAll: vscode.l10n.t('Fit All'),
    zoomIn: vscode.l10n.t('Zoom In (+)'),
    zoomOut: vscode.l10n.t('Zoom Out (-)'),
    zoomToTask: vscode.l10n.t('Zoom to Selected Task (Z)'),
    follow: vscode.l10n.t('Follow Live Run'),
    following: vscode.l10n.t('Following the live run: panning or zooming releases it'),
    search: vscode.l10n.t('Find task by name or coroutine'),
    searchNext: vscode.l10n.t('Next Match (Enter)'),
    noMatch: vscode.l10n.t('No match'),
    matchOf: vscode.l10n.t('{0} of {1}'),
    legend: vscode.l10n.t('Legend'),
    running: vscode.l10n.t('Running'),
    waiting: vscode.l10n.t('Waiting'),
    ready: vscode.l10n.t('Ready, not running'),
    scheduled: vscode.l10n.t('Created, not started yet'),
    merged: vscode.l10n.t('{0} steps, running {1} of {2}'),
    done: vscode.l10n.t('Done'),
    cancelled: vscode.l10n.t('Cancelled'),
    failed: vscode.l10n.t('Failed'),
    alive: vscode.l10n.t('Alive'),
    created: vscode.l10n.t('Created'),
    ended: vscode.l10n.t('Ended'),
    timeoutArmed: vscode.l10n.t('Timeout armed'),
    timeoutFired: vscode.l10n.t('Timeout fired'),
    timeoutCleared: vscode.l10n.t('Timeout cleared'),
    cancelRequested: vscode.l10n.t('Cancellation requested'),
    blocking: vscode.l10n.t('Blocking step (held the loop for {0})'),
    blockingLegend: vscode.l10n.t('Blocking step'),
    criticalPath: vscode.l10n.t('Critical path'),
    criticalPathLegend: vscode.l10n.t('Critical path (the rest dimmed; Esc clears)'),
    criticalPathButton: vscode.l10n.t('Show the Critical Path of the Selected Task, or of the Run'),
    criticalPathClear: vscode.l10n.t('Clear the Critical Path (Esc)'),
    criticalPathCleared: vscode.l10n.t('Critical path cleared'),
    onCriticalPath: vscode.l10n.t('On the critical path'),
    waitShown: vscode.l10n.t('Wait shown: {0} of {1}, from {2}'),
    lagLegend: vscode.l10n.t('Event loop lag: how long tasks were ready before they ran (red: over the block threshold)'),
    lagLaneLabel: vscode.l10n.t('{0} · max {1}'),
    lagMax: vscode.l10n.t('largest lag {0}'),
    lagHelp: vscode.l10n.t('How long tasks were ready before they ran; red along the bottom: steps that blocked the loop'),
    lagSample: vscode.l10n.t('{0} was ready {1} before it ran'),
    lagBehind: vscode.l10n.t('behind the blocking step of {0} ({1} of it)'),
    'wait.other': vscode.l10n.t('other'),
    'wait.sleep': vscode.l10n.t('sleep'),
    'wait.task': vscode.l10n.t('another task'),
    'wait.gather': vscode.l10n.t('gather / wait'),
    'wait.io': vscode.l10n.t('I/O'),
    'wait.sync': vscode.l10n.t('lock / queue / event'),
    'wait.switch': vscode.l10n.t('greenlet switch'),
    'wait.future': vscode.l10n.t('future'),
    'wait.yield': vscode.l10n.t('yield'),
    'wait.hub': vscode.l10n.t('gevent hub'),
    'wait.executor': vscode.l10n.t('work in an executor'),
    execLegend: vscode.l10n.t('Work item in an executor (worker thread or process)'),
    workerThread: vscode.l10n.t('worker thread'),
    workerProcess: vscode.l10n.t('worker processes'),
    execLaneItems: vscode.l10n.t('{0} work items'),
    execLaneSummary: vscode.l10n.t('{0}: executor lane, ran {1}'),
    execAwaitedBy: vscode.l10n.t('Awaited by {0}'),
    execSubmittedAt: vscode.l10n.t('Submitted at'),
    execDefinedAt: vscode.l10n.t('Defined at'),
    execQueued: vscode.l10n.t('Queued'),
    execRan: vscode.l10n.t('Ran'),
    execInThread: vscode.l10n.t('{0} in a worker thread ({1})'),
    execInProcess: vscode.l10n.t('{0} in a worker process ({1})'),
    execIn: vscode.l10n.t('{0} in {1}'),
    asyncio: vscode.l10n.t('asyncio task'),
    greenlet: vscode.l10n.t('greenlet'),
    trio: vscode.l10n.t('trio task'),
    task: vscode.l10n.t('Task'),
    state: vscode.l10n.t('State'),
    start: vscode.l10n.t('Start'),
    duration: vscode.l10n.t('Duration'),
    site: vscode.l10n.t('Site'),
    suspendedAt: vscode.l10n.t('Suspended at'),
    waitedOn: vscode.l10n.t('Waited on'),
    createdAt: vscode.l10n.t('Created at'),
    error: vscode.l10n.t('Error'),
    cause: vscode.l10n.t('Cause'),
    steps: vscode.l10n.t('{0} steps'),
    lanesSummary: vscode.l10n.t('{0}: {1} tasks, {2} lanes shown'),
    laneSummary: vscode.l10n.t('{0} ({1}), {2}, {3}, {4} steps'),
    live: vscode.l10n.t('live'),
    cursor: vscode.l10n.t('Cursor: {0}'),
    links: vscode.l10n.t('Arrows: creator to child, awaiting task to awaited task or executor work item, fired timeout to cancelled task'),
    keyboardHelp: vscode.l10n.t('Up/Down: select task, Left/Right: pan, +/-: zoom, Enter: open source, Space: expand/collapse, Z: zoom to task, F: fit all'),
    processLaneSummary: vscode.l10n.t('{0} ({1}), process, {2}'),
    expanded: vscode.l10n.t('expanded'),
    collapsed: vscode.l10n.t('collapsed'),
    expand: vscode.l10n.t('Expand'),
    collapse: vscode.l10n.t('Collapse'),
    loading: vscode.l10n.t('Loading trace…'),
  };
}
