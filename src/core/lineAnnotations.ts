// Per-file, per-line aggregation of a trace for the editor annotations (gutter, inline hints,
// hovers, problems). Pure: no vscode. Steps are folded incrementally (each step once), so a live
// run with a million steps costs one pass spread over its updates; the rest (tasks, timeouts,
// blocks, cancels) is small and recomputed per snapshot.
import type { AwaitOn } from './traceEvents';
import type { CancelInfo, TaskInfo, TimeoutInfo, TraceRunView } from './modelTypes';
import { formatDuration, formatSeconds } from './format';

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
  /** Per task, longest total first. */
  tasks: TaskAwaitStats[];
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
  /** Tasks cancelled by the timeouts that fired, in order, unique. */
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
}

export interface FileAnnotations { file: string; lines: Map<number, LineInfo> }

export interface RunAnnotations {
  /** Keyed by the file path as the trace names it. */
  files: Map<string, FileAnnotations>;
  /** Sum of all completed innermost waits, us (the heat denominator). */
  totalWait: number;
}

interface Acc { count: number; total: number; max: number; unfinished: number; on?: AwaitOn }

const NO_STACK = -1;
const UNKNOWN = -2;

/**
 * Folds a run's steps into per-stack, per-task waiting statistics, incrementally.
 * `update()` reads only the steps that arrived (or whose wait ended) since the last call.
 */
export class LineAnnotator {
  private cursor = 0;
  /** Steps whose wait has not ended yet (at most one per live task). */
  private pending: number[] = [];
  private stackByAwait = new Int32Array(1024).fill(UNKNOWN);
  private readonly stackIndex = new Map<string, number>();
  private readonly stacks: number[][] = [];
  /** Per stack index: task -> completed wait stats. */
  private readonly acc: Map<number, Acc>[] = [];
  private totalWait = 0;

  constructor(readonly run: TraceRunView) {}

  /** Number of steps folded so far (for tests and measurements). */
  get folded(): number { return this.cursor; }

  update(): void {
    const s = this.run.steps;
    const count = s.count;
    if (this.pending.length) {
      const still: number[] = [];
      for (const i of this.pending) if (!this.fold(i)) still.push(i);
      this.pending = still;
    }
    for (let i = this.cursor; i < count; i++) {
      if (s.awaitId[i] < 0) continue;
      if (!this.fold(i)) this.pending.push(i);
    }
    this.cursor = Math.max(this.cursor, count);
  }

  /** Adds step i's completed wait; false when the wait is still open. */
  private fold(i: number): boolean {
    const s = this.run.steps;
    const end = s.waitEnd[i];
    if (Number.isNaN(end)) return false;
    const stack = this.stackOf(s.awaitId[i]);
    if (stack === NO_STACK) return true;
    const wait = Math.max(0, end - (s.ts[i] + s.dur[i]));
    const a = this.accFor(stack, s.task[i]);
    a.count++;
    a.total += wait;
    if (wait > a.max) a.max = wait;
    a.on = this.run.awaitAt(s.awaitId[i])?.on ?? a.on;
    this.totalWait += wait;
    return true;
  }

  private accFor(stack: number, task: number): Acc {
    let byTask = this.acc[stack];
    if (!byTask) this.acc[stack] = byTask = new Map();
    let a = byTask.get(task);
    if (!a) byTask.set(task, (a = { count: 0, total: 0, max: 0, unfinished: 0 }));
    return a;
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
        this.stackIndex.set(key, idx);
      }
    }
    this.stackByAwait[awaitId] = idx;
    return idx;
  }

  /** The annotations of every file the run touched, as of the last `update()`. */
  snapshot(): RunAnnotations {
    const run = this.run;
    const files = new Map<string, FileAnnotations>();
    const lineAt = (siteId: number | null | undefined): LineInfo | undefined => {
      if (siteId === null || siteId === undefined) return undefined;
      const site = run.sites.get(siteId);
      if (!site) return undefined;
      let f = files.get(site.file);
      if (!f) files.set(site.file, (f = { file: site.file, lines: new Map() }));
      let l = f.lines.get(site.line);
      if (!l) f.lines.set(site.line, (l = { line: site.line, func: site.func }));
      return l;
    };

    // Unfinished waits: counted apart, their 'on' kept for the hover.
    const unfinished = new Map<number, Map<number, Acc>>();
    const s = run.steps;
    for (const i of this.pending) {
      const stack = this.stackOf(s.awaitId[i]);
      if (stack === NO_STACK) continue;
      let byTask = unfinished.get(stack);
      if (!byTask) unfinished.set(stack, (byTask = new Map()));
      const task = s.task[i];
      const a = byTask.get(task) ?? { count: 0, total: 0, max: 0, unfinished: 0 };
      a.unfinished++;
      a.on = run.awaitAt(s.awaitId[i])?.on;
      byTask.set(task, a);
    }

    // Awaits: expand each stack to its lines; innermost = inner, the others = outer.
    type LineAcc = { info: LineInfo; tasks: Map<number, TaskAwaitStats>; inner: boolean };
    const awaitLines = new Map<LineInfo, LineAcc>();
    const addStack = (stackIdx: number, byTask: Map<number, Acc>) => {
      const stack = this.stacks[stackIdx];
      const seen = new Set<LineInfo>();
      for (let k = stack.length - 1; k >= 0; k--) {
        const info = lineAt(stack[k]);
        if (!info || seen.has(info)) continue; // recursion: a line counts once per wait
        seen.add(info);
        const inner = k === stack.length - 1;
        let la = awaitLines.get(info);
        if (!la) awaitLines.set(info, (la = { info, tasks: new Map(), inner: false }));
        if (inner) la.inner = true;
        for (const [task, a] of byTask) {
          let t = la.tasks.get(task);
          if (!t) la.tasks.set(task, (t = { task, count: 0, total: 0, max: 0, unfinished: 0, outer: true }));
          t.count += a.count;
          t.total += a.total;
          if (a.max > t.max) t.max = a.max;
          t.unfinished += a.unfinished;
          if (inner) t.outer = false;
          if (a.on && (inner || !t.on)) t.on = a.on;
        }
      }
    };
    this.acc.forEach((byTask, idx) => { if (byTask) addStack(idx, byTask); });
    for (const [idx, byTask] of unfinished) addStack(idx, byTask);
    for (const la of awaitLines.values()) {
      const tasks = [...la.tasks.values()].sort((a, b) => b.total - a.total || b.unfinished - a.unfinished || a.task - b.task);
      let count = 0, total = 0, max = 0, unf = 0;
      for (const t of tasks) { count += t.count; total += t.total; max = Math.max(max, t.max); unf += t.unfinished; }
      const share = this.totalWait > 0 ? total / this.totalWait : 0;
      la.info.await = { count, total, max, unfinished: unf, outer: !la.inner, share, heat: heatOf(share), tasks };
    }

    // Timeouts, by arming site.
    for (const to of run.timeouts.values()) {
      const info = lineAt(to.site);
      if (!info) continue;
      const t = (info.timeout ??= { timeouts: [], fired: 0, cleared: 0, armed: 0, cancelled: [] });
      t.timeouts.push(to);
      if (to.delay !== null && to.delay !== undefined) {
        t.minDelay = t.minDelay === undefined ? to.delay : Math.min(t.minDelay, to.delay);
        t.maxDelay = t.maxDelay === undefined ? to.delay : Math.max(t.maxDelay, to.delay);
      }
      if (to.state === 'fired') {
        t.fired++;
        for (const c of to.cancelled) if (!t.cancelled.includes(c)) t.cancelled.push(c);
      } else if (to.state === 'cleared') {
        t.cleared++;
        if (to.delay && to.endTs !== undefined) {
          const elapsed = to.endTs - to.armedTs;
          const ratio = elapsed / (to.delay * 1_000_000);
          if (!t.closest || ratio > t.closest.ratio) t.closest = { elapsed, delay: to.delay, ratio };
        }
      } else t.armed++;
    }

    for (const task of run.tasks.values()) {
      const created = lineAt(task.site);
      if (created) (created.creates ??= []).push(task.id);
      if (task.endState === 'failed' && task.error) {
        const raised = lineAt(task.error.site);
        if (raised) (raised.failures ??= []).push(task.id);
      }
    }
    for (const b of run.blocks) {
      const info = lineAt(b.site);
      if (!info) continue;
      const blk = (info.block ??= { count: 0, total: 0, max: 0, tasks: [] });
      blk.count++;
      blk.total += b.dur;
      blk.max = Math.max(blk.max, b.dur);
      if (b.task !== null && !blk.tasks.includes(b.task)) blk.tasks.push(b.task);
    }
    for (const c of run.cancels) {
      const info = lineAt(c.site);
      if (info) (info.cancels ??= []).push(c);
    }
    return { files, totalWait: this.totalWait };
  }
}

/** One-shot helper: all annotations of a run. */
export function computeLineAnnotations(run: TraceRunView): RunAnnotations {
  const a = new LineAnnotator(run);
  a.update();
  return a.snapshot();
}

// ---------------------------------------------------------------------------------------------
// Texts. Every user-facing string goes through `t` (vscode.l10n.t in the extension, englishT in
// tests): the message is the English text with {0} placeholders.

export type Translate = (message: string, ...args: Array<string | number>) => string;

export const englishT: Translate = (message, ...args) =>
  message.replace(/\{(\d+)\}/g, (m, n: string) => (args[Number(n)] !== undefined ? String(args[Number(n)]) : m));

export type HintKind = 'await' | 'timeoutFired' | 'timeoutCleared' | 'timeoutArmed' | 'create' | 'block' | 'failure' | 'cancel';

export interface LineHint { kind: HintKind; text: string; heat?: Heat }

export function taskName(run: TraceRunView, id: number): string {
  return run.tasks.get(id)?.name ?? `#${id}`;
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

/** What a task waited for, in words. */
export function describeOn(run: TraceRunView, on: AwaitOn | undefined, t: Translate): string {
  if (!on) return '';
  switch (on.kind) {
    case 'sleep': return typeof on.delay === 'number' ? t('sleep {0}', formatSeconds(on.delay)) : t('sleep');
    case 'task': return t('task {0}', taskName(run, on.task as number));
    case 'gather': return t('gather of {0} tasks', Array.isArray(on.tasks) ? on.tasks.length : 0);
    case 'io': return t('I/O {0}', String(on.op ?? ''));
    case 'switch': return t('switch to {0}', taskName(run, on.to as number));
    default: return on.kind;
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
  return hints.sort((a, b) => HINT_ORDER[a.kind] - HINT_ORDER[b.kind]);
}

/** Most important first: the order hints are shown on a line and in hovers. */
const HINT_ORDER: Record<HintKind, number> = {
  failure: 0, block: 1, timeoutFired: 2, timeoutCleared: 3, timeoutArmed: 3, await: 4, cancel: 5, create: 6,
};

// ---------------------------------------------------------------------------------------------
// Problems.

export type ProblemKind = 'timeoutFired' | 'block' | 'unretrieved' | 'pending';

export interface Problem {
  kind: ProblemKind;
  severity: 'error' | 'warning' | 'information';
  file: string;
  line: number;
  message: string;
  /** Task creation sites (and the like) that explain the problem. */
  related: Array<{ file: string; line: number; message: string }>;
  /** The main task concerned (for links). */
  task?: number;
}

/** Problems of a run: fired timeouts, blocking steps, unretrieved failures, tasks pending at loop close. */
export function collectProblems(run: TraceRunView, ann: RunAnnotations, t: Translate = englishT): Problem[] {
  const out: Problem[] = [];
  const site = (id: number | null | undefined) => (id === null || id === undefined ? undefined : run.sites.get(id));
  const createdAt = (task: TaskInfo | undefined) => {
    const s = site(task?.site);
    return s && task ? [{ file: s.file, line: s.line, message: t('{0} created here', task.name) }] : [];
  };
  for (const f of ann.files.values()) {
    for (const info of f.lines.values()) {
      const tl = info.timeout;
      if (tl && tl.fired > 0) {
        const related = tl.cancelled.flatMap((id) => createdAt(run.tasks.get(id)));
        for (const to of tl.timeouts) if (to.state === 'fired') related.push(...createdAt(run.tasks.get(to.task)));
        out.push({
          kind: 'timeoutFired', severity: 'warning', file: f.file, line: info.line,
          message: tl.fired === 1
            ? (tl.cancelled.length
              ? t('Timeout of {0} fired and cancelled {1}', delayText(tl, t), taskList(run, tl.cancelled, t))
              : t('Timeout of {0} fired', delayText(tl, t)))
            : (tl.cancelled.length
              ? t('Timeout of {0} fired {1} times and cancelled {2}', delayText(tl, t), tl.fired, taskList(run, tl.cancelled, t))
              : t('Timeout of {0} fired {1} times', delayText(tl, t), tl.fired)),
          related: dedupe(related),
          task: tl.timeouts.find((x) => x.state === 'fired')?.task,
        });
      }
      if (info.block) {
        const b = info.block;
        out.push({
          kind: 'block', severity: 'warning', file: f.file, line: info.line,
          message: b.count === 1
            ? t('A step blocked the event loop for {0}', formatDuration(b.max))
            : t('Steps blocked the event loop {0} times, longest {1}, total {2}', b.count, formatDuration(b.max), formatDuration(b.total)),
          related: dedupe(b.tasks.flatMap((id) => createdAt(run.tasks.get(id)))),
          task: b.tasks[0],
        });
      }
    }
  }
  for (const task of run.tasks.values()) {
    if (task.unretrieved) {
      const at = site(task.error?.site) ?? site(task.site);
      if (at) {
        out.push({
          kind: 'unretrieved', severity: 'error', file: at.file, line: at.line,
          message: t('Task {0} failed with {1}: {2} and nobody retrieved the exception', task.name, task.error?.type ?? '?', task.error?.message ?? ''),
          related: at.id === task.site ? [] : createdAt(task),
          task: task.id,
        });
      }
    }
    if (task.pendingAtClose) {
      const at = site(task.site);
      if (at) {
        out.push({
          kind: 'pending', severity: 'warning', file: at.file, line: at.line,
          message: t('Task {0} was still pending when its event loop closed', task.name),
          related: [],
          task: task.id,
        });
      }
    }
  }
  return out;
}

function dedupe<T extends { file: string; line: number; message: string }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const k = `${i.file}\n${i.line}\n${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Keeping annotations on their lines while the user edits.

/**
 * One text change, in lines of the document before the change (0-based, like vscode):
 * lines start..end were replaced by text containing `newlines` line breaks. `kept` names the one
 * original line (if any) whose content survives unchanged, and where it lands.
 */
export interface LineEdit { start: number; end: number; newlines: number; kept?: { from: number; to: number } }

/** Where an original line is after an edit; undefined when the edit touched it. */
export function mapLine(line: number, e: LineEdit): number | undefined {
  if (line < e.start) return line;
  if (line > e.end) return line + e.newlines - (e.end - e.start);
  if (e.kept && e.kept.from === line) return e.kept.to;
  return undefined;
}

/**
 * Classifies a change like vscode's TextDocumentContentChangeEvent (range in the old document,
 * inserted text). `startLineLength` is the old length of the start line when known (to tell an
 * Enter at the end of a line, which keeps that line, from one that splits it).
 */
export function lineEditOf(
  range: { start: { line: number; character: number }; end: { line: number; character: number } },
  text: string,
  startLineLength?: number,
): LineEdit {
  const newlines = (text.match(/\n/g) ?? []).length;
  const { start, end } = range;
  const e: LineEdit = { start: start.line, end: end.line, newlines };
  const empty = start.line === end.line && start.character === end.character;
  if (empty) {
    if (newlines === 0) return e; // typing inside the line: the line is edited
    if (start.character === 0 && text.endsWith('\n')) e.kept = { from: start.line, to: start.line + newlines };
    else if (text.startsWith('\n') || text.startsWith('\r\n')) {
      if (startLineLength !== undefined && start.character >= startLineLength) e.kept = { from: start.line, to: start.line };
    }
    return e;
  }
  // Whole lines replaced or deleted: the line the range ends on keeps its content.
  if (start.character === 0 && end.character === 0 && (text === '' || text.endsWith('\n'))) {
    e.kept = { from: end.line, to: start.line + newlines };
  }
  return e;
}

/** Maps a line (1-based, as in traces) through a list of edits; undefined if it was edited. */
export function mapTraceLine(line1: number, edits: readonly LineEdit[]): number | undefined {
  let l: number | undefined = line1 - 1;
  for (const e of edits) {
    l = mapLine(l, e);
    if (l === undefined) return undefined;
  }
  return l + 1;
}
