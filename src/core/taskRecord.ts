// A task as the model keeps it: the fields views read (TaskInfo) and the fold's bookkeeping.
import type { AwaitSiteStats, CancelInfo, StepColumns, TaskInfo, TaskStatus } from './modelTypes';
import { StepIndexList } from './stepStore';
import type { AwaitOn, ErrorInfo, TaskKind } from './traceEvents';

/** What a task record reads of its run: the step columns and the await table. */
export interface TaskRecordRun {
  readonly steps: StepColumns;
  awaitAt(awaitId: number): { stack: readonly number[]; on?: AwaitOn } | undefined;
}

/**
 * Shared by every task that has no children / timeouts / cancels yet (most tasks): replaced by a
 * task's own array on its first entry. Frozen, so a stray push elsewhere fails loudly.
 */
export const NO_IDS = Object.freeze([]) as unknown as number[];
export const NO_CANCELS = Object.freeze([]) as unknown as CancelInfo[];

export class TaskRecord implements TaskInfo {
  kind: TaskKind = 'asyncio';
  name = '';
  coro = '';
  parent: number | null = null;
  site: number | null = null;
  thread?: number;
  loop?: number;
  children: number[] = NO_IDS;
  status: TaskStatus = 'ready';
  endTs?: number;
  endState?: TaskInfo['endState'];
  error?: ErrorInfo;
  unretrieved?: boolean;
  stepCount = 0;
  runTotal = 0;
  lastStepEnd?: number;
  timeouts: number[] = NO_IDS;
  cancels: CancelInfo[] = NO_CANCELS;
  steps = new StepIndexList();
  pendingAtClose?: boolean;
  eager?: boolean;
  process?: number;

  /** Set by a `name` line. */
  renamed = false;
  /** False while only known from events that came before its `task` line (eager tasks). */
  declared = false;
  /** Index of the task's last step in the columns, -1 before the first. */
  lastStep = -1;
  /** Batch number of the last delta that listed this task as changed (dedupes changedTasks). */
  batch = 0;
  /** Listed in the run's roots (see TraceRun.roots); rootListed is scratch for its compaction. */
  isRoot = false;
  rootListed = false;

  // Await statistics and the ongoing wait are derived from the step columns when read, not
  // kept up to date per step: at 1,000,000 steps the per-step Map and object updates (random
  // memory touches across tens of thousands of tasks) cost more than parsing.
  /** Made on first read: a Map per task at creation is a large share of the fold's allocation. */
  private sites?: Map<number, AwaitSiteStats>;
  /** Steps [0, counted) are in `sites` counts; waits of steps [0, closed) are in totals. */
  private counted = 0;
  private closed = 0;
  private wait?: { since: number; stack: number[]; on?: AwaitOn };
  private waitFor = -1;

  constructor(readonly id: number, public createdTs: number, private readonly run: TaskRecordRun) {}

  get awaitSites(): Map<number, AwaitSiteStats> {
    const items = this.steps.items;
    const n = items.length;
    const sites = (this.sites ??= new Map());
    if (this.closed === n) return sites;
    const cols = this.run.steps;
    const run = this.run;
    for (; this.counted < n; this.counted++) {
      const aid = cols.awaitId[items[this.counted]];
      if (aid < 0) continue;
      const entry = run.awaitAt(aid)!;
      const st = entry.stack;
      if (st.length === 0) continue;
      const site = st[st.length - 1];
      let s = sites.get(site);
      if (s === undefined) sites.set(site, (s = { site, count: 0, total: 0, max: 0, lastOn: undefined }));
      s.count++;
      if (entry.on !== undefined) s.lastOn = entry.on;
    }
    // Waits end in order (a task waits once at a time): stop at the first one still going on.
    for (; this.closed < n; this.closed++) {
      const i = items[this.closed];
      const aid = cols.awaitId[i];
      if (aid < 0) continue;
      const until = cols.waitEnd[i];
      if (until !== until) break; // NaN: ongoing
      const st = run.awaitAt(aid)!.stack;
      if (st.length === 0) continue;
      const s = sites.get(st[st.length - 1])!;
      const from = cols.ts[i] + cols.dur[i];
      const d = until > from ? until - from : 0;
      s.total += d;
      if (d > s.max) s.max = d;
    }
    return sites;
  }

  get currentWait(): { since: number; stack: number[]; on?: AwaitOn } | undefined {
    const last = this.lastStep;
    if (this.endState !== undefined || last < 0) return undefined;
    const cols = this.run.steps;
    const aid = cols.awaitId[last];
    if (aid < 0) return undefined;
    if (this.waitFor !== last) {
      const entry = this.run.awaitAt(aid)!;
      const since = cols.ts[last] + cols.dur[last];
      const stack = entry.stack as number[]; // shared with the await table, never mutated
      this.wait = entry.on === undefined ? { since, stack } : { since, stack, on: entry.on };
      this.waitFor = last;
    }
    return this.wait;
  }
}
