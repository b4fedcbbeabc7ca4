// Per-file, per-line aggregation of a trace for the editor annotations (gutter, inline hints,
// hovers, problems). Pure: no vscode. Steps are folded incrementally (each step once), so a live
// run with a million steps costs one pass spread over its updates; the rest (tasks, timeouts,
// blocks, cancels) is small and recomputed per snapshot.
import type { AwaitOn } from './traceEvents';
import { gatherCount } from './gatherCount';
import { futureWaitText } from './objectWaitText';
import type { CancelInfo, ExecItemInfo, TaskInfo, TimeoutInfo, TraceRunView } from './modelTypes';
import { formatDuration, formatSeconds } from './format';
import { execFuncLabel, execItemText, execRunTime, execWaitText } from './executorText';
import { ioWaitText } from './ioWaitText';
import { plainText } from './untrusted';

/** Heat level of an await line: share of the run's total waiting that happened there. */
export type Heat = 0 | 1 | 2 | 3;
/** Fixed thresholds (share of the run's waiting) for heat 1, 2, 3. */
export const HEAT_THRESHOLDS = [0.05, 0.2, 0.5] as const;

export function heatOf(share: number): Heat {
  if (share >= HEAT_THRESHOLDS[2]) return 3;
  if (share >= HEAT_THRESHOLDS[1]) return 2;
  if (share >= HEAT_THRESHOLDS[0]) return 1;
  return 0;
}

export interface TaskAwaitStats {
  task: number;
  /** Completed waits. */
  count: number;
  /** Sum / longest of completed waits, us. */
  total: number;
  max: number;
  /** Waits not finished (still waiting in a live run; never resumed in a finished one). */
  unfinished: number;
  /** True when the line was only an outer frame of this task's await stacks. */
  outer: boolean;
  /** What it last waited for (innermost) at this line. */
  on?: AwaitOn;
}

export interface AwaitLine {
  count: number;
  total: number;
  max: number;
  unfinished: number;
  /** Only ever an outer frame (the caller's `await helper()`), never the innermost await. */
  outer: boolean;
  /** total / run's total waiting. */
  share: number;
  heat: Heat;
}

export interface TimeoutLine {
  timeouts: TimeoutInfo[];
  fired: number;
  cleared: number;
  /** Still armed (live run) or never resolved. */
  armed: number;
  /** Smallest and largest delay armed here, seconds (undefined if none had a delay). */
  minDelay?: number;
  maxDelay?: number;
  /** Tasks cancelled by the timeouts that fired, unique, by id. */
  cancelled: number[];
  /** Among cleared timeouts with a delay: the one that came closest to firing. */
  closest?: { elapsed: number; delay: number; ratio: number };
}

export interface LineInfo {
  line: number;
  func: string;
  await?: AwaitLine;
  timeout?: TimeoutLine;
  /** Tasks created at this line. */
  creates?: number[];
  /** Steps that blocked the loop while running this line. */
  block?: { count: number; total: number; max: number; tasks: number[] };
  /** Tasks whose failure was raised at this line. */
  failures?: number[];
  /** Cancellation requests made at this line (timeout-caused ones included). */
  cancels?: CancelInfo[];
  /** Executor work items submitted at this line (`to_thread`, `run_in_executor`), in submission order. */
  execs?: ExecItemInfo[];
}

export interface FileAnnotations { file: string; lines: Map<number, LineInfo> }

export interface RunAnnotations {
  /** Keyed by the file path as the trace names it. */
  files: Map<string, FileAnnotations>;
  /** Sum of all completed innermost waits, us (the heat denominator). */
  totalWait: number;
  /** Failed tasks whose exception nobody retrieved, in the order seen. */
  unretrieved: number[];
  /** Tasks still pending when their loop closed. */
  pendingAtClose: number[];
}

/** Aggregates the timeouts armed at one line. */
export function timeoutLineOf(timeouts: readonly TimeoutInfo[]): TimeoutLine {
  const t: TimeoutLine = { timeouts: [...timeouts], fired: 0, cleared: 0, armed: 0, cancelled: [] };
  const seen = new Set<number>();
  for (const to of timeouts) {
    if (to.delay !== null && to.delay !== undefined) {
      t.minDelay = t.minDelay === undefined ? to.delay : Math.min(t.minDelay, to.delay);
      t.maxDelay = t.maxDelay === undefined ? to.delay : Math.max(t.maxDelay, to.delay);
    }
    if (to.state === 'fired') {
      t.fired++;
      for (const c of to.cancelled) if (!seen.has(c)) { seen.add(c); t.cancelled.push(c); }
    } else if (to.state === 'cleared') {
      t.cleared++;
      if (to.delay && to.endTs !== undefined) {
        const elapsed = to.endTs - to.armedTs;
        const ratio = elapsed / (to.delay * 1_000_000);
        if (!t.closest || ratio > t.closest.ratio) t.closest = { elapsed, delay: to.delay, ratio };
      }
    } else t.armed++;
  }
  t.cancelled.sort(byNumber);
  return t;
}

/** Task ids in a stable order whatever order the events came in. */
const byNumber = (a: number, b: number) => a - b;

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

interface StackLine { file: string; line: number; func: string; inner: boolean }

/**
 * Task id -> step index of its open wait. Looked up once per step, so small ids (the norm: they
 * are counters) use a typed array; others a Map.
 */
class OpenWaits {
  private dense = new Int32Array(1024).fill(-1);
  private readonly sparse = new Map<number, number>();
  private readonly ids = new Set<number>();
  get size(): number { return this.ids.size; }
  get(task: number): number {
    if (task >= 0 && task < this.dense.length) return this.dense[task];
    return this.sparse.get(task) ?? -1;
  }
  set(task: number, step: number): void {
    if (task >= 0 && task < DENSE_TASKS) {
      if (task >= this.dense.length) {
        let n = this.dense.length;
        while (n <= task) n *= 2;
        const grown = new Int32Array(n).fill(-1);
        grown.set(this.dense);
        this.dense = grown;
      }
      this.dense[task] = step;
    } else this.sparse.set(task, step);
    this.ids.add(task);
  }
  delete(task: number): void {
    if (task >= 0 && task < this.dense.length) this.dense[task] = -1;
    else this.sparse.delete(task);
    this.ids.delete(task);
  }
  keys(): IterableIterator<number> { return this.ids.values(); }
  *values(): IterableIterator<number> { for (const id of this.ids) yield this.get(id); }
}
const DENSE_TASKS = 1 << 22;

/** Waiting totals of one await stack (all tasks together). */
interface Acc { count: number; total: number; max: number }

const NO_STACK = -1;
/** Steps folded between two looks at the clock. */
const SLICE_STEPS = 16384;
const UNKNOWN = -2;

/**
 * Folds a run's steps into per-await-stack waiting totals, incrementally: `update()` reads only
 * the steps that arrived (or whose wait ended) since the last call. Totals are kept per stack, not
 * per task, so memory and snapshots stay small for 100,000 tasks; the per-task breakdown of one
 * line (for a hover) is computed on demand by `tasksAt` with one pass over the step columns.
 */
export class LineAnnotator {
  private cursor = 0;
  /** Task -> its step whose wait has not ended yet (only a task's last step can be waiting). */
  private readonly pending = new OpenWaits();
  private stackByAwait = new Int32Array(1024).fill(UNKNOWN);
  private readonly stackIndex = new Map<string, number>();
  private readonly stacks: number[][] = [];
  private readonly acc: Acc[] = [];
  private totalWait = 0;
  private readonly tasksCache = new Map<string, TaskAwaitStats[]>();
  private readonly linesOfStack: StackLine[][] = [];

  // Per-site facts other than waits, kept up to date from the model's deltas so a refresh does
  // not walk every task and timeout of a big run again.
  private scannedAll = false;
  private readonly dirtyTasks = new Set<number>();
  private readonly dirtyTimeouts = new Set<number>();
  private readonly createdBySite = new Map<number, number[]>();
  private readonly created = new Set<number>();
  private readonly failedBySite = new Map<number, number[]>();
  private readonly failed = new Set<number>();
  private readonly unretrieved: number[] = [];
  private readonly unretrievedSeen = new Set<number>();
  private readonly pendingAtClose: number[] = [];
  private readonly pendingSeen = new Set<number>();
  /** Timeout id -> the site and state it is counted under. */
  private readonly timeoutCounted = new Map<number, { site: number; state: TimeoutInfo['state'] }>();
  private readonly timeoutLines = new Map<number, TimeoutLine>();
  private readonly timeoutCancelled = new Map<number, Set<number>>();
  private cancelCursor = 0;
  private readonly cancelsBySite = new Map<number, CancelInfo[]>();
  private blockCursor = 0;
  private readonly blocksBySite = new Map<number, { count: number; total: number; max: number; tasks: number[]; seen: Set<number> }>();
  private readonly unsubscribe: () => void;

  constructor(readonly run: TraceRunView) {
    this.unsubscribe = run.onDelta((d) => {
      if (!this.scannedAll) return; // the first update() scans everything anyway
      for (const id of d.changedTasks) this.dirtyTasks.add(id);
      for (const id of d.changedTimeouts) this.dirtyTimeouts.add(id);
    });
  }

  /** Stops listening to the run. */
  dispose(): void { this.unsubscribe(); }

  /** Number of steps folded so far (for tests and measurements). */
  get folded(): number { return this.cursor; }

  /**
   * Folds what changed since the last call. With a time budget (ms) it stops early and returns
   * false when steps are left, so a caller can spread a big first fold over several ticks.
   */
  update(budgetMs = Infinity): boolean {
    const s = this.run.steps;
    const count = s.count;
    const deadline = performance.now() + budgetMs;
    // An open wait ends when its task steps again (handled below) or ends: the model then lists
    // the task as changed, so only those are looked at (all of them before deltas are followed).
    if (this.pending.size) {
      const ids = this.scannedAll ? this.dirtyTasks : [...this.pending.keys()];
      for (const id of ids) {
        const i = this.pending.get(id);
        if (i >= 0 && this.fold(i)) this.pending.delete(id);
      }
    }
    let i = this.cursor;
    while (i < count) {
      const stop = Math.min(count, i + SLICE_STEPS);
      for (; i < stop; i++) {
        const task = s.task[i];
        const open = this.pending.get(task);
        if (open >= 0 && this.fold(open)) this.pending.delete(task);
        if (s.awaitId[i] < 0) continue;
        if (!this.fold(i)) this.pending.set(task, i);
      }
      this.cursor = i;
      if (i < count && performance.now() > deadline) break;
    }
    this.tasksCache.clear();
    this.updateSites();
    return this.cursor >= count;
  }

  private updateSites(): void {
    const run = this.run;
    if (!this.scannedAll) {
      this.scannedAll = true;
      for (const task of run.tasks.values()) this.foldTask(task);
      for (const to of run.timeouts.values()) this.foldTimeout(to);
    } else {
      for (const id of this.dirtyTasks) { const task = run.tasks.get(id); if (task) this.foldTask(task); }
      for (const id of this.dirtyTimeouts) { const to = run.timeouts.get(id); if (to) this.foldTimeout(to); }
    }
    this.dirtyTasks.clear();
    this.dirtyTimeouts.clear();
    const cancels = run.cancels;
    for (; this.cancelCursor < cancels.length; this.cancelCursor++) {
      const c = cancels[this.cancelCursor];
      if (c.site !== null && c.site !== undefined) pushTo(this.cancelsBySite, c.site, c);
    }
    const blocks = run.blocks;
    for (; this.blockCursor < blocks.length; this.blockCursor++) {
      const b = blocks[this.blockCursor];
      if (b.site === null || b.site === undefined) continue;
      let blk = this.blocksBySite.get(b.site);
      if (!blk) this.blocksBySite.set(b.site, (blk = { count: 0, total: 0, max: 0, tasks: [], seen: new Set() }));
      blk.count++;
      blk.total += b.dur;
      if (b.dur > blk.max) blk.max = b.dur;
      if (b.task !== null && !blk.seen.has(b.task)) { blk.seen.add(b.task); blk.tasks.push(b.task); }
    }
  }

  private foldTask(task: TaskInfo): void {
    const id = task.id;
    if (task.site !== null && !this.created.has(id)) {
      this.created.add(id);
      pushTo(this.createdBySite, task.site, id);
    }
    if (task.endState === 'failed' && task.error && task.error.site !== null && task.error.site !== undefined && !this.failed.has(id)) {
      this.failed.add(id);
      pushTo(this.failedBySite, task.error.site, id);
    }
    if (task.unretrieved && !this.unretrievedSeen.has(id)) { this.unretrievedSeen.add(id); this.unretrieved.push(id); }
    if (task.pendingAtClose && !this.pendingSeen.has(id)) { this.pendingSeen.add(id); this.pendingAtClose.push(id); }
  }

  /** Counts a new or changed timeout at its site: O(1) per change (plus its new cancellations). */
  private foldTimeout(to: TimeoutInfo): void {
    const counted = this.timeoutCounted.get(to.id);
    const site = to.site ?? undefined;
    if (counted && counted.site !== site) {
      // Re-armed at another line (rare): take it out of the old one.
      const old = this.timeoutLines.get(counted.site);
      if (old) {
        this.count(old, counted.state, -1);
        old.timeouts.splice(old.timeouts.indexOf(to), 1);
        if (old.timeouts.length === 0) this.timeoutLines.delete(counted.site);
      }
      this.timeoutCounted.delete(to.id);
    }
    if (site === undefined) return;
    let tl = this.timeoutLines.get(site);
    if (!tl) this.timeoutLines.set(site, (tl = { timeouts: [], fired: 0, cleared: 0, armed: 0, cancelled: [] }));
    const now = this.timeoutCounted.get(to.id);
    if (now) this.count(tl, now.state, -1);
    else tl.timeouts.push(to);
    this.count(tl, to.state, 1);
    this.timeoutCounted.set(to.id, { site, state: to.state });
    if (to.delay !== null && to.delay !== undefined) {
      tl.minDelay = tl.minDelay === undefined ? to.delay : Math.min(tl.minDelay, to.delay);
      tl.maxDelay = tl.maxDelay === undefined ? to.delay : Math.max(tl.maxDelay, to.delay);
    }
    if (to.state === 'fired') {
      let seen = this.timeoutCancelled.get(site);
      if (!seen) this.timeoutCancelled.set(site, (seen = new Set()));
      for (const c of to.cancelled) if (!seen.has(c)) { seen.add(c); tl.cancelled.push(c); }
    } else if (to.state === 'cleared' && to.delay && to.endTs !== undefined) {
      const elapsed = to.endTs - to.armedTs;
      const ratio = elapsed / (to.delay * 1_000_000);
      if (!tl.closest || ratio > tl.closest.ratio) tl.closest = { elapsed, delay: to.delay, ratio };
    }
  }

  private count(tl: TimeoutLine, state: TimeoutInfo['state'], n: number): void {
    if (state === 'fired') tl.fired += n;
    else if (state === 'cleared') tl.cleared += n;
    else tl.armed += n;
  }

  /** Adds step i's completed wait; false when the wait is still open. */
  private fold(i: number): boolean {
    const s = this.run.steps;
    const end = s.waitEnd[i];
    if (Number.isNaN(end)) return false;
    const stack = this.stackOf(s.awaitId[i]);
    if (stack === NO_STACK) return true;
    const wait = Math.max(0, end - (s.ts[i] + s.dur[i]));
    const a = this.acc[stack];
    a.count++;
    a.total += wait;
    if (wait > a.max) a.max = wait;
    this.totalWait += wait;
    return true;
  }

  /** Interns the await stack of an await table entry (the model may or may not dedupe entries). */
  private stackOf(awaitId: number): number {
    if (awaitId >= this.stackByAwait.length) {
      let n = this.stackByAwait.length;
      while (n <= awaitId) n *= 2;
      const grown = new Int32Array(n).fill(UNKNOWN);
      grown.set(this.stackByAwait);
      this.stackByAwait = grown;
    }
    const known = this.stackByAwait[awaitId];
    if (known !== UNKNOWN) return known;
    const entry = this.run.awaitAt(awaitId);
    let idx = NO_STACK;
    if (entry && entry.stack.length) {
      const key = entry.stack.join(',');
      const found = this.stackIndex.get(key);
      if (found !== undefined) idx = found;
      else {
        idx = this.stacks.length;
        this.stacks.push([...entry.stack]);
        this.acc.push({ count: 0, total: 0, max: 0 });
        this.stackIndex.set(key, idx);
      }
    }
    this.stackByAwait[awaitId] = idx;
    return idx;
  }

  /** The (file, line) of each frame of a stack, innermost first, a line listed once (recursion). */
  private stackLines(idx: number): StackLine[] {
    const cached = this.linesOfStack[idx];
    if (cached) return cached;
    const stack = this.stacks[idx];
    const out: StackLine[] = [];
    const seen = new Set<string>();
    for (let k = stack.length - 1; k >= 0; k--) {
      const site = this.run.sites.get(stack[k]);
      if (!site) continue;
      const key = `${site.line}\n${site.file}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ file: site.file, line: site.line, func: site.func, inner: k === stack.length - 1 });
    }
    // Sites are declared before the first event naming them, so a complete result never changes.
    if (stack.every((id) => this.run.sites.has(id))) this.linesOfStack[idx] = out;
    return out;
  }

  /** The annotations of every file the run touched, as of the last `update()`. */
  snapshot(): RunAnnotations {
    const run = this.run;
    const files = new Map<string, FileAnnotations>();
    const lineOf = (file: string, line: number, func: string): LineInfo => {
      let f = files.get(file);
      if (!f) files.set(file, (f = { file, lines: new Map() }));
      let l = f.lines.get(line);
      if (!l) f.lines.set(line, (l = { line, func }));
      return l;
    };
    const lineAt = (siteId: number | null | undefined): LineInfo | undefined => {
      if (siteId === null || siteId === undefined) return undefined;
      const site = run.sites.get(siteId);
      return site ? lineOf(site.file, site.line, site.func) : undefined;
    };

    // Awaits: each stack's totals go to all its lines; the innermost is "inner", the others "outer".
    const unfinished = new Map<number, number>();
    const s = run.steps;
    for (const i of this.pending.values()) {
      const stack = this.stackOf(s.awaitId[i]);
      if (stack !== NO_STACK) unfinished.set(stack, (unfinished.get(stack) ?? 0) + 1);
    }
    const inner = new Set<LineInfo>();
    for (let idx = 0; idx < this.stacks.length; idx++) {
      const a = this.acc[idx];
      const unf = unfinished.get(idx) ?? 0;
      if (a.count === 0 && unf === 0) continue;
      for (const fl of this.stackLines(idx)) {
        const info = lineOf(fl.file, fl.line, fl.func);
        const aw = (info.await ??= { count: 0, total: 0, max: 0, unfinished: 0, outer: true, share: 0, heat: 0 });
        aw.count += a.count;
        aw.total += a.total;
        if (a.max > aw.max) aw.max = a.max;
        aw.unfinished += unf;
        if (fl.inner) inner.add(info);
      }
    }
    for (const f of files.values()) {
      for (const info of f.lines.values()) {
        const aw = info.await;
        if (!aw) continue;
        aw.outer = !inner.has(info);
        aw.share = this.totalWait > 0 ? aw.total / this.totalWait : 0;
        aw.heat = heatOf(aw.share);
      }
    }

    // The other facts, by site; several sites may share a line (different functions on one line).
    const siteLine = (site: number) => lineAt(site);
    for (const [site, tl] of this.timeoutLines) {
      const info = siteLine(site);
      if (!info) continue;
      info.timeout = info.timeout
        ? timeoutLineOf([...info.timeout.timeouts, ...tl.timeouts])
        : { ...tl, timeouts: tl.timeouts.slice(), cancelled: tl.cancelled.slice().sort(byNumber), closest: tl.closest && { ...tl.closest } };
    }
    for (const [site, ids] of this.createdBySite) {
      const info = siteLine(site);
      if (info) info.creates = info.creates ? [...info.creates, ...ids] : ids.slice();
    }
    for (const [site, ids] of this.failedBySite) {
      const info = siteLine(site);
      if (info) info.failures = info.failures ? [...info.failures, ...ids] : ids.slice();
    }
    for (const [site, b] of this.blocksBySite) {
      const info = siteLine(site);
      if (!info) continue;
      if (!info.block) info.block = { count: b.count, total: b.total, max: b.max, tasks: b.tasks.slice() };
      else {
        const m = info.block;
        m.count += b.count;
        m.total += b.total;
        m.max = Math.max(m.max, b.max);
        for (const t of b.tasks) if (!m.tasks.includes(t)) m.tasks.push(t);
      }
    }
    for (const [site, list] of this.cancelsBySite) {
      const info = siteLine(site);
      if (info) info.cancels = info.cancels ? [...info.cancels, ...list] : list.slice();
    }
    if (run.execItems) {
      for (const x of run.execItems.values()) {
        const info = siteLine(x.site ?? -1);
        if (info) (info.execs ??= []).push(x);
      }
    }
    return { files, totalWait: this.totalWait, unretrieved: this.unretrieved.slice(), pendingAtClose: this.pendingAtClose.slice() };
  }

  /**
   * Per task waiting at one line (innermost or outer frame), longest total first: one pass over
   * the step columns, cached until the next `update()`.
   */
  tasksAt(file: string, line: number): TaskAwaitStats[] {
    const key = `${line}\n${file}`;
    const cached = this.tasksCache.get(key);
    if (cached) return cached;
    // 0: stack does not touch the line, 1: outer frame, 2: innermost.
    const role = new Int8Array(this.stacks.length);
    let any = false;
    this.stacks.forEach((_stack, idx) => {
      for (const fl of this.stackLines(idx)) {
        if (fl.line === line && fl.file === file) { role[idx] = fl.inner ? 2 : 1; any = true; }
      }
    });
    const byTask = new Map<number, TaskAwaitStats>();
    if (any) {
      const s = this.run.steps;
      const n = Math.min(this.cursor, s.count);
      for (let i = 0; i < n; i++) {
        const awaitId = s.awaitId[i];
        if (awaitId < 0) continue;
        const stack = this.stackByAwait[awaitId];
        if (stack < 0 || role[stack] === 0) continue;
        const task = s.task[i];
        let t = byTask.get(task);
        if (!t) byTask.set(task, (t = { task, count: 0, total: 0, max: 0, unfinished: 0, outer: true }));
        const end = s.waitEnd[i];
        if (Number.isNaN(end)) t.unfinished++;
        else {
          const wait = Math.max(0, end - (s.ts[i] + s.dur[i]));
          t.count++;
          t.total += wait;
          if (wait > t.max) t.max = wait;
        }
        if (role[stack] === 2) t.outer = false;
        t.on = this.run.awaitAt(awaitId)?.on ?? t.on;
      }
    }
    const list = [...byTask.values()].sort((a, b) => b.total - a.total || b.unfinished - a.unfinished || a.task - b.task);
    this.tasksCache.set(key, list);
    return list;
  }
}

/** One-shot helper: all annotations of a run. */
export function computeLineAnnotations(run: TraceRunView): RunAnnotations {
  const a = new LineAnnotator(run);
  try {
    a.update();
    return a.snapshot();
  } finally {
    a.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Texts. Every user-facing string goes through `t` (vscode.l10n.t in the extension, englishT in
// tests): the message is the English text with {0} placeholders.

export type Translate = (message: string, ...args: Array<string | number>) => string;

export const englishT: Translate = (message, ...args) =>
  message.replace(/\{(\d+)\}/g, (m, n: string) => (args[Number(n)] !== undefined ? String(args[Number(n)]) : m));

export type HintKind = 'await' | 'timeoutFired' | 'timeoutCleared' | 'timeoutArmed' | 'create' | 'block' | 'failure' | 'cancel' | 'executor';

export interface LineHint { kind: HintKind; text: string; heat?: Heat }

export function taskName(run: TraceRunView, id: number): string {
  const name = run.tasks.get(id)?.name;
  return name !== undefined ? plainText(name) : `#${plainText(id)}`;
}

/** "Task-1, Task-2, Task-3 +4". */
export function taskList(run: TraceRunView, ids: readonly number[], t: Translate, max = 3): string {
  const names = ids.slice(0, max).map((id) => taskName(run, id));
  return ids.length > max ? t('{0} +{1}', names.join(', '), ids.length - max) : names.join(', ');
}

/**
 * A timeout's delay for display, to the millisecond: runtimes derive it from a deadline, so
 * `wait_for(..., 1.0)` may arrive as 0.99993 s.
 */
export function formatDelay(seconds: number): string {
  return formatSeconds(Math.round(seconds * 1000) / 1000);
}

export function delayText(tl: TimeoutLine, t: Translate): string {
  if (tl.minDelay === undefined || tl.maxDelay === undefined) return t('(no delay)');
  const lo = formatDelay(tl.minDelay);
  const hi = formatDelay(tl.maxDelay);
  return lo === hi ? lo : t('{0} to {1}', lo, hi);
}

/** What a task waited for, in words (neutral plain text: the trace's kinds and ops are in it). */
export function describeOn(run: TraceRunView, on: AwaitOn | undefined, t: Translate): string {
  return plainText(describeOnWords(run, on, t));
}

function describeOnWords(run: TraceRunView, on: AwaitOn | undefined, t: Translate): string {
  if (!on) return '';
  switch (on.kind) {
    case 'sleep': return typeof on.delay === 'number' ? t('sleep {0}', formatSeconds(on.delay)) : t('sleep');
    case 'task': return t('task {0}', taskName(run, on.task as number));
    case 'gather': return t('gather of {0} tasks', gatherCount(on));
    case 'io': return ioWaitText(on.op, t);
    case 'switch': return t('switch to {0}', taskName(run, on.to as number));
    case 'executor': return execWaitText(run, on.item, t);
    default: return futureWaitText(run, on, t) ?? String(on.kind);
  }
}

/** The inline hints of one line, in display order. */
export function lineHints(run: TraceRunView, info: LineInfo, t: Translate = englishT): LineHint[] {
  const hints: LineHint[] = [];
  const tl = info.timeout;
  if (tl) {
    if (tl.fired > 0) {
      const times = tl.fired + tl.cleared + tl.armed > tl.fired ? t('x{0} of {1}', tl.fired, tl.timeouts.length) : t('x{0}', tl.fired);
      hints.push({
        kind: 'timeoutFired',
        text: tl.cancelled.length
          ? t('timeout {0} fired {1}, cancelled {2}', delayText(tl, t), times, taskList(run, tl.cancelled, t))
          : t('timeout {0} fired {1}', delayText(tl, t), times),
      });
    } else if (tl.cleared > 0) {
      hints.push({
        kind: 'timeoutCleared',
        text: tl.closest
          ? t('timeout {0} cleared x{1}, closest: {2} of {3}', delayText(tl, t), tl.cleared, formatDuration(tl.closest.elapsed), formatDelay(tl.closest.delay))
          : t('timeout {0} cleared x{1}', delayText(tl, t), tl.cleared),
      });
    } else hints.push({ kind: 'timeoutArmed', text: t('timeout {0} armed', delayText(tl, t)) });
  }
  const aw = info.await;
  if (aw) {
    const parts: string[] = [];
    if (aw.count > 0) {
      parts.push(aw.outer
        ? t('awaits in callee x{0}  total {1}  max {2}', aw.count, formatDuration(aw.total), formatDuration(aw.max))
        : t('await x{0}  total {1}  max {2}', aw.count, formatDuration(aw.total), formatDuration(aw.max)));
    }
    if (aw.unfinished > 0) parts.push(run.live ? t('{0} waiting now', aw.unfinished) : t('{0} never resumed', aw.unfinished));
    if (parts.length) hints.push({ kind: 'await', text: aw.count > 0 ? parts.join('  ') : t('await  {0}', parts.join('  ')), heat: aw.heat });
  }
  if (info.execs?.length) hints.push({ kind: 'executor', text: execHint(run, info.execs, t) });
  if (info.block) {
    const b = info.block;
    hints.push({
      kind: 'block',
      text: b.count === 1
        ? t('blocked the loop {0}', formatDuration(b.max))
        : t('blocked the loop x{0}, longest {1}', b.count, formatDuration(b.max)),
    });
  }
  if (info.failures?.length) {
    const types = [...new Set(info.failures.map((id) => run.tasks.get(id)?.error?.type ?? '?'))].join(', ');
    hints.push({ kind: 'failure', text: t('raised {0} in {1}', types, taskList(run, info.failures, t)) });
  }
  // Timeout-caused cancels are already told by the timeout hint of the same line.
  const cancels = info.cancels?.filter((c) => !(info.timeout && c.cause === 'timeout')) ?? [];
  if (cancels.length) {
    const targets = [...new Set(cancels.map((c) => c.task))];
    hints.push({ kind: 'cancel', text: t('cancel requested for {0}', taskList(run, targets, t)) });
  }
  if (info.creates?.length) {
    const n = info.creates.length;
    hints.push({ kind: 'create', text: n === 1 ? t('creates 1 task: {0}', taskName(run, info.creates[0])) : t('creates {0} tasks', n) });
  }
  // Error types, task and function names from the trace are in these texts.
  for (const h of hints) h.text = plainText(h.text, 500);
  return hints.sort((a, b) => HINT_ORDER[a.kind] - HINT_ORDER[b.kind]);
}

/** Most important first: the order hints are shown on a line and in hovers. */
const HINT_ORDER: Record<HintKind, number> = {
  failure: 0, block: 1, timeoutFired: 2, timeoutCleared: 3, timeoutArmed: 3, await: 4, executor: 5, cancel: 6, create: 7,
};

/** "blocking_io() in a worker thread (asyncio_0), 300 ms", or for many items a summary. */
function execHint(run: TraceRunView, items: readonly ExecItemInfo[], t: Translate): string {
  if (items.length === 1) return execItemText(items[0], run.now, t);
  const funcs = [...new Set(items.map(execFuncLabel))];
  let total = 0;
  let max = 0;
  for (const x of items) { const d = execRunTime(x, run.now); total += d; if (d > max) max = d; }
  const failed = items.filter((x) => x.error).length;
  const text = t('{0} in executors x{1}, total {2}, longest {3}', funcs.length > 2 ? t('{0} +{1}', funcs.slice(0, 2).join(', '), funcs.length - 2) : funcs.join(', '), items.length, formatDuration(total), formatDuration(max));
  return failed ? `${text}, ${t('{0} raised', failed)}` : text;
}
