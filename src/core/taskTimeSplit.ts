// Where a task's time went: running its steps, ready but not running (behind which tasks' steps),
// and waiting, by what it waited on.
import type { TaskInfo, TraceRunView } from './modelTypes';

export interface TimeSplit {
  task: number;
  lifetime: number;
  running: number;
  /** Ready, not running: from its wake-up (when the trace knows it) or creation to its next step. */
  ready: number;
  /** Waiting, by `on` kind ('' when the await named none). */
  waiting: Map<string, number>;
  /** The tasks whose steps ran while it was ready, most first (us of overlap). */
  behind: Array<{ task: number; time: number }>;
}

export function taskTimeSplit(run: TraceRunView, task: TaskInfo): TimeSplit {
  const cols = run.steps;
  const end = task.endTs ?? run.now;
  const split: TimeSplit = { task: task.id, lifetime: Math.max(0, end - task.createdTs), running: 0, ready: 0, waiting: new Map(), behind: [] };
  const readyIntervals: Array<[number, number]> = [];
  let prevEnd = task.createdTs;
  let prev = -1;
  for (let k = 0; k < task.steps.length; k++) {
    const i = task.steps.at(k);
    const ts = cols.ts[i];
    if (prev < 0) {
      if (ts > prevEnd) readyIntervals.push([prevEnd, ts]);
    } else {
      const woke = cols.wokeNext[prev];
      const waitTo = woke === woke && woke >= prevEnd && woke <= ts ? woke : ts;
      addWait(run, split, prev, waitTo - prevEnd);
      if (ts > waitTo) readyIntervals.push([waitTo, ts]);
    }
    split.running += cols.dur[i];
    prevEnd = ts + cols.dur[i];
    prev = i;
  }
  if (prev >= 0 && end > prevEnd && cols.awaitId[prev] >= 0) addWait(run, split, prev, end - prevEnd);
  for (const [a, b] of readyIntervals) split.ready += b - a;
  if (readyIntervals.length > 0) split.behind = behind(run, task, readyIntervals);
  return split;
}

function addWait(run: TraceRunView, split: TimeSplit, step: number, d: number): void {
  if (!(d > 0)) return;
  const aid = run.steps.awaitId[step];
  const kind = aid >= 0 ? run.awaitAt(aid)?.on?.kind ?? '' : '';
  split.waiting.set(kind, (split.waiting.get(kind) ?? 0) + d);
}

/** Steps of other tasks overlapping the ready intervals (sorted, non-overlapping), summed per task. */
function behind(run: TraceRunView, task: TaskInfo, intervals: Array<[number, number]>): Array<{ task: number; time: number }> {
  const cols = run.steps;
  const per = new Map<number, number>();
  const lo = intervals[0][0];
  const hi = intervals[intervals.length - 1][1];
  // Steps are stored in arrival order, which is close to time order: scan and test.
  for (let i = 0; i < cols.count; i++) {
    const s = cols.ts[i];
    const e = s + cols.dur[i];
    if (e <= lo || s >= hi || cols.task[i] === task.id) continue;
    for (const [a, b] of intervals) {
      const o = Math.min(e, b) - Math.max(s, a);
      if (o > 0) per.set(cols.task[i], (per.get(cols.task[i]) ?? 0) + o);
    }
  }
  return [...per].map(([t, time]) => ({ task: t, time })).sort((x, y) => y.time - x.time || x.task - y.task);
}
