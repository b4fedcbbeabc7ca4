// The runs the user has open (live or loaded from files), the selected one, and the selected task or
// process. Every view (tree, timeline, source annotations, status bar) listens here instead of to each other.
import * as vscode from 'vscode';
import type { RunDelta, TraceRunView } from '../core/modelTypes';

export interface TaskSelection {
  run: TraceRunView;
  taskId: number;
  /** Who selected it, so a view does not react to its own selection. */
  source: 'tree' | 'timeline' | 'annotations' | 'command';
}

/** A process of a run with child processes (its row in the tree, its group lane on the timeline). */
export interface ProcessSelection {
  run: TraceRunView;
  /** The process's key (a key of run.processes). */
  process: number;
  source: 'tree' | 'timeline';
}

export class TraceRuns implements vscode.Disposable {
  private readonly list: TraceRunView[] = [];
  private selectedRun: TraceRunView | undefined;
  private readonly unsubscribe = new Map<TraceRunView, () => void>();

  private readonly changeEmitter = new vscode.EventEmitter<void>();
  /** A run was added or removed, or the selected run changed. */
  readonly onDidChangeRuns = this.changeEmitter.event;

  private readonly updateEmitter = new vscode.EventEmitter<{ run: TraceRunView; delta: RunDelta }>();
  /** A run folded new events (unthrottled: listeners throttle to their own needs). */
  readonly onDidUpdateRun = this.updateEmitter.event;

  private readonly selectTaskEmitter = new vscode.EventEmitter<TaskSelection>();
  readonly onDidSelectTask = this.selectTaskEmitter.event;

  private readonly selectProcessEmitter = new vscode.EventEmitter<ProcessSelection>();
  readonly onDidSelectProcess = this.selectProcessEmitter.event;

  get runs(): readonly TraceRunView[] { return this.list; }
  get selected(): TraceRunView | undefined { return this.selectedRun; }

  byKey(key: string): TraceRunView | undefined { return this.list.find((r) => r.key === key); }

  add(run: TraceRunView): void {
    this.list.push(run);
    this.unsubscribe.set(run, run.onDelta((delta) => this.updateEmitter.fire({ run, delta })));
    this.selectedRun = run; // the newest run is selected
    this.changeEmitter.fire();
  }

  remove(run: TraceRunView): void {
    const i = this.list.indexOf(run);
    if (i < 0) return;
    this.list.splice(i, 1);
    this.unsubscribe.get(run)?.();
    this.unsubscribe.delete(run);
    if (this.selectedRun === run) this.selectedRun = this.list[this.list.length - 1];
    this.changeEmitter.fire();
  }

  clear(): void {
    for (const off of this.unsubscribe.values()) off();
    this.unsubscribe.clear();
    this.list.length = 0;
    this.selectedRun = undefined;
    this.changeEmitter.fire();
  }

  select(run: TraceRunView): void {
    if (this.selectedRun === run) return;
    this.selectedRun = run;
    this.changeEmitter.fire();
  }

  selectTask(selection: TaskSelection): void {
    if (this.selectedRun !== selection.run) this.select(selection.run);
    this.selectTaskEmitter.fire(selection);
  }

  selectProcess(selection: ProcessSelection): void {
    if (this.selectedRun !== selection.run) this.select(selection.run);
    this.selectProcessEmitter.fire(selection);
  }

  dispose(): void {
    for (const off of this.unsubscribe.values()) off();
    this.changeEmitter.dispose();
    this.updateEmitter.dispose();
    this.selectTaskEmitter.dispose();
    this.selectProcessEmitter.dispose();
  }
}

export function registerTraceRuns(context: vscode.ExtensionContext): TraceRuns {
  const runs = new TraceRuns();
  context.subscriptions.push(runs);
  return runs;
}
