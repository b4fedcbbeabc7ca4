// Stuck tasks and deadlocks of the selected run in the Problems panel, at the waiting line, with
// the chain's other lines as related information. Live runs are re-checked on a timer: a hung
// program writes nothing, so only the clock tells that its waits go on.
import * as vscode from 'vscode';
import type { TraceRunView } from '../core/modelTypes';
import { liveNow, stuckProblems, type StuckProblem } from '../core/stuckProblems';
import { DIAGNOSTIC_SOURCE } from './traceDiagnostics';
import { resolveTraceFile } from './sourceAnnotations';
import { contributeTestState } from './testHooks';
import type { TaskTreeProvider } from './taskTreeProvider';
import type { TraceRuns } from './traceRuns';

/** How often a live run is re-checked (ms). */
const LIVE_CHECK_MS = 2000;

const CODES: Record<StuckProblem['finding']['kind'], string> = {
  deadlock: 'deadlock',
  quiescent: 'stuck-nothing-can-wake',
  orphaned: 'stuck-no-waker-left',
  'long-wait': 'stuck-long-wait',
  'pending-at-exit': 'stuck-at-exit',
  unretrieved: 'exception-never-retrieved',
};

class StuckDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('asyncTrace.stuck');
  private readonly disposables: vscode.Disposable[] = [this.collection];

  /** Whether `taskId` of `run` is stuck (the selected run only: the others are not analysed). */
  isStuck(run: TraceRunView, taskId: number): boolean {
    return run === this.problemsRun && this.stuckIds.has(taskId);
  }
  private timer: NodeJS.Timeout | undefined;
  private problems: StuckProblem[] = [];
  private problemsRun: TraceRunView | undefined;
  private stuckIds = new Set<number>();
  private key = '';
  private readonly changeEmitter = new vscode.EventEmitter<TraceRunView>();
  /** The stuck tasks of a run changed (the tree redraws their state). */
  readonly onDidChange = this.changeEmitter.event;

  constructor(private readonly runs: TraceRuns) {
    this.disposables.push(runs.onDidChangeRuns(() => this.check()));
    this.disposables.push(runs.onDidUpdateRun(({ run }) => { if (run === runs.selected) this.schedule(); }));
    contributeTestState('stuck', () => this.problems.map((p) => ({
      kind: p.finding.kind, task: p.task, file: p.file, line: p.line, message: p.message, related: p.related.length,
    })));
    this.check();
  }

  private schedule(delay = Math.max(500, this.lastCostMs * 10)): void {
    if (this.timer) return;
    this.timer = setTimeout(() => { this.timer = undefined; this.check(); }, delay);
  }

  private lastCostMs = 0;

  private check(): void {
    const run = this.runs.selected;
    const started = Date.now();
    try {
      this.checkRun(run);
    } finally {
      this.lastCostMs = Date.now() - started;
    }
  }

  private checkRun(run: TraceRunView | undefined): void {
    const started = Date.now();
    this.problems = run ? stuckProblems(run, vscode.l10n.t, { now: liveNow(run, Date.now()) }) : [];
    // A deadlock is one entry for the whole cycle: every task of it is stuck.
    const ids = new Set(this.problems.flatMap((p) => (p.finding.kind === 'deadlock' ? p.finding.chain.map((l) => l.task) : [p.task])));
    const changed = run !== this.problemsRun || ids.size !== this.stuckIds.size || [...ids].some((id) => !this.stuckIds.has(id));
    const before = this.problemsRun;
    this.problemsRun = run;
    this.stuckIds = ids;
    if (changed && before !== undefined && before !== run) this.changeEmitter.fire(before);
    if (changed && run !== undefined) this.changeEmitter.fire(run);
    this.render(run);
    // A huge live run: never spend more than about a tenth of the time on this check.
    if (run?.live) this.schedule(Math.max(LIVE_CHECK_MS, (Date.now() - started) * 10));
  }

  private render(run: TraceRunView | undefined): void {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    const place = (file: string) => (run ? resolveTraceFile(file, run.info?.cwd, folders) : undefined);
    const line = (n: number) => new vscode.Range(Math.max(0, n - 1), 0, Math.max(0, n - 1), Number.MAX_SAFE_INTEGER);
    const byFile = new Map<string, vscode.Diagnostic[]>();
    const keys: string[] = [];
    for (const p of this.problems) {
      const local = place(p.file);
      if (local === undefined) continue;
      const d = new vscode.Diagnostic(line(p.line), p.message,
        p.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
      d.source = DIAGNOSTIC_SOURCE;
      d.code = CODES[p.finding.kind];
      d.relatedInformation = p.related.flatMap((r) => {
        const rl = place(r.file);
        return rl === undefined ? [] : [new vscode.DiagnosticRelatedInformation(new vscode.Location(vscode.Uri.file(rl), line(r.line)), r.message)];
      });
      let list = byFile.get(local);
      if (list === undefined) byFile.set(local, (list = []));
      list.push(d);
      keys.push(`${local}:${p.line}:${p.message}`);
    }
    // Waits that go on change the message's duration: refresh only when something else changed,
    // or the duration's text did (the key holds the message).
    const key = keys.join('\n');
    if (key === this.key) return;
    this.key = key;
    this.collection.clear();
    for (const [file, list] of byFile) this.collection.set(vscode.Uri.file(file), list);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
    this.changeEmitter.dispose();
  }
}

export function registerStuckDiagnostics(context: vscode.ExtensionContext, runs: TraceRuns, tree: TaskTreeProvider): void {
  const stuck = new StuckDiagnostics(runs);
  tree.setStuckSource((run, id) => stuck.isStuck(run, id));
  context.subscriptions.push(stuck, stuck.onDidChange((run) => tree.stuckChanged(run)));
}
