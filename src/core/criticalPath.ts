// The critical path: the chain of steps, waits and wake-ups that determined when a task (or the
// whole run) ended. Walked backwards from the end: a step ran; before it the task was ready but
// not running (behind other tasks' steps) or waiting; a wait on a task or a gather continues in
// the awaited task that ended last, down to when the wait began.
import type { TaskInfo, TraceRunView } from './modelTypes';
import type { AwaitOn } from './traceEvents';

export type PathSegmentKind = 'run' | 'ready' | 'wait';

export interface PathSegment {
  kind: PathSegmentKind;
  task: number;
  from: number;
  to: number;
  /** Innermost await site of the wait (for 'wait'), or the step's own suspension site ('run'). */
  site: number | null;
  on?: AwaitOn;
  /** For a wait handed over to another task: that task (the path continues inside it). */
  via?: number;
  /** For 'ready': the task whose steps ran most of that time (it kept this one from running). */
  behind?: number;
}

export interface CriticalPath {
  task: number;
  from: number;
  to: number;
  /** In time order. */
  segments: PathSegment[];
  /** Totals over the segments, us. */
  running: number;
  ready: number;
  waiting: number;
}

/** Slack when matching the end of an awaited task to the end of the wait on it (two clock reads). */
const HANDOFF_TOLERANCE_US = 2000;
/** Nesting bound for hostile traces (a task awaiting itself through a corrupt gather). */
const MAX_DEPTH = 200;

/** The task whose end is the run's end: the root that ended last (or is still going). */
export function runEndTask(run: TraceRunView): number | undefined {
  let best: TaskInfo | undefined;
  for (const id of run.roots) {
    const t = run.tasks.get(id);
    if (t === undefined) continue;
    const end = t.endTs ?? t.lastStepEnd ?? t.createdTs;
    const bestEnd = best === undefined ? -1 : best.endTs ?? best.lastStepEnd ?? best.createdTs;
    if (best === undefined || end > bestEnd || (end === bestEnd && t.runTotal > best.runTotal)) best = t;
  }
  return best?.id;
}

/** The task among `ids` that ended last, no later than `by` (+ tolerance). */
function lastEnded(run: TraceRunView, ids: readonly unknown[], by: number): TaskInfo | undefined {
  let best: TaskInfo | undefined;
  for (const id of ids) {
    if (typeof id !== 'number') continue;
    const t = run.tasks.get(id);
    if (t?.endTs === undefined || t.endTs > by + HANDOFF_TOLERANCE_US) continue;
    if (best === undefined || t.endTs > best.endTs!) best = t;
  }
  return best;
}

/** Segments of `task` over [floor, end], newest first, appended to `out`. */
function walk(run: TraceRunView, task: TaskInfo, floor: number, end: number, out: PathSegment[], depth: number): void {
  const cols = run.steps;
  const idx = task.steps;
  let t = end;
  // The last step starting before `end`.
  let k = idx.length - 1;
  while (k >= 0 && cols.ts[idx.at(k)] >= end && k > 0) k--;
  for (; k >= 0 && t > floor; k--) {
    const i = idx.at(k);
    const ts = cols.ts[i];
    const stepEnd = ts + cols.dur[i];
    if (ts >= t) continue;
    // What came after the step, up to t: its suspension (a wait, maybe ready before t).
    if (stepEnd < t) addWait(run, task, i, stepEnd, t, floor, out, depth);
    const from = Math.max(ts, floor);
    if (Math.min(stepEnd, t) > from) out.push({ kind: 'run', task: task.id, from, to: Math.min(stepEnd, t), site: siteOf(run, i) });
    t = from;
  }
  // Created, not run yet: ready from its creation to its first step.
  const start = Math.max(task.createdTs, floor);
  if (t > start) out.push({ kind: 'ready', task: task.id, from: start, to: t, site: task.site });
}

/** The other task whose steps overlap [from, to] the most (steps are in about time order). */
function busiest(run: TraceRunView, self: number, from: number, to: number): number | undefined {
  const cols = run.steps;
  if (to - from < 1000) return undefined; // a normal hand-over, nobody to blame
  // The step running at `from` started before it: search back from the first step starting after.
  let lo = 0;
  let hi = cols.count;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (cols.ts[mid] < from) lo = mid + 1; else hi = mid; }
  const per = new Map<number, number>();
  for (let i = Math.max(0, lo - 64); i < cols.count && cols.ts[i] < to; i++) {
    if (cols.task[i] === self) continue;
    const o = Math.min(cols.ts[i] + cols.dur[i], to) - Math.max(cols.ts[i], from);
    if (o > 0) per.set(cols.task[i], (per.get(cols.task[i]) ?? 0) + o);
  }
  let best: number | undefined;
  let most = 0;
  for (const [t, o] of per) if (o > most) { most = o; best = t; }
  return best;
}

function siteOf(run: TraceRunView, step: number): number | null {
  const aid = run.steps.awaitId[step];
  if (aid < 0) return null;
  const stack = run.awaitAt(aid)?.stack ?? [];
  return stack.length ? stack[stack.length - 1] : null;
}

function addWait(run: TraceRunView, task: TaskInfo, i: number, from: number, to: number, floor: number, out: PathSegment[], depth: number): void {
  const cols = run.steps;
  const aid = cols.awaitId[i];
  const entry = aid >= 0 ? run.awaitAt(aid) : undefined;
  const site = siteOf(run, i);
  const on = entry?.on;
  const woke = cols.wokeNext[i];
  let waitTo = to;
  if (woke === woke && woke >= from && woke < to) {
    const seg: PathSegment = { kind: 'ready', task: task.id, from: Math.max(woke, floor), to, site };
    const b = busiest(run, task.id, seg.from, to);
    if (b !== undefined) seg.behind = b;
    out.push(seg);
    waitTo = woke;
  }
  const lo = Math.max(from, floor);
  if (waitTo <= lo) return;
  // A wait on other tasks ends when the one that ended last did: the path goes through it.
  const o = (on ?? {}) as Record<string, unknown>;
  const awaited = on?.kind === 'task' ? lastEnded(run, [o.task], waitTo)
    : on?.kind === 'gather' && Array.isArray(o.tasks) ? lastEnded(run, o.tasks, waitTo) : undefined;
  if (awaited !== undefined && depth < MAX_DEPTH && awaited.id !== task.id && awaited.endTs! > lo) {
    const handoff = Math.min(awaited.endTs!, waitTo);
    // From the awaited task's end to the waiter's wake-up: the hand-over (usually a few us).
    if (waitTo > handoff) out.push({ kind: 'wait', task: task.id, from: handoff, to: waitTo, site, on, via: awaited.id });
    walk(run, awaited, lo, handoff, out, depth + 1);
    return;
  }
  const seg: PathSegment = { kind: 'wait', task: task.id, from: lo, to: waitTo, site };
  if (on !== undefined) seg.on = on;
  out.push(seg);
}

/** The critical path of `taskId` (default: the task whose end is the run's end). */
export function criticalPath(run: TraceRunView, taskId?: number): CriticalPath | undefined {
  const id = taskId ?? runEndTask(run);
  const task = id === undefined ? undefined : run.tasks.get(id);
  if (task === undefined) return undefined;
  const end = task.endTs ?? Math.max(task.lastStepEnd ?? task.createdTs, run.now);
  const rev: PathSegment[] = [];
  walk(run, task, task.createdTs, end, rev, 0);
  const segments = rev.reverse();
  const cp: CriticalPath = { task: task.id, from: task.createdTs, to: end, segments, running: 0, ready: 0, waiting: 0 };
  for (const s of segments) {
    const d = s.to - s.from;
    if (s.kind === 'run') cp.running += d;
    else if (s.kind === 'ready') cp.ready += d;
    else cp.waiting += d;
  }
  return cp;
}

/** Consecutive segments of one task and kind at one site, merged: "sleep(0.05) x3 at line 6". */
export interface PathStage {
  task: number;
  kind: PathSegmentKind;
  site: number | null;
  on?: AwaitOn;
  count: number;
  from: number;
  to: number;
  /** Sum of the merged segments' durations (us). */
  total: number;
  /** For 'ready': whose steps kept it from running (the first merged segment's). */
  behind?: number;
}

/** The path's waits grouped into stages (runs and short ready gaps fold into the wait they precede). */
export function pathStages(cp: CriticalPath): PathStage[] {
  const stages: PathStage[] = [];
  for (const s of cp.segments) {
    const d = s.to - s.from;
    const last = stages[stages.length - 1];
    const kind = s.kind === 'wait' && s.via !== undefined ? 'run' : s.kind;
    if (last !== undefined && last.task === s.task && last.kind === kind && last.site === s.site && sameOn(last.on, s.on)) {
      last.count++;
      last.to = s.to;
      last.total += d;
      continue;
    }
    const st: PathStage = { task: s.task, kind, site: s.site, count: 1, from: s.from, to: s.to, total: d };
    if (s.on !== undefined && s.via === undefined) st.on = s.on;
    if (s.behind !== undefined) st.behind = s.behind;
    stages.push(st);
  }
  return stages;
}

function sameOn(a: AwaitOn | undefined, b: AwaitOn | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.kind === b.kind && JSON.stringify(a) === JSON.stringify(b);
}
