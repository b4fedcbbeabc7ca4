// Event-loop lag over time, per loop (or thread for greenlets): for every step whose ready time the
// trace knows (its wake-up, or the task's creation for its first step), how long the task was ready
// before it ran. With the loop's blocking steps and whom they delayed (loopBlame), the timeline's lag
// lane shows when the loop fell behind and which step held it.
import { blockingSteps, type BlockingStep } from './loopBlame';
import type { TraceRunView } from './modelTypes';

export interface LoopLag {
  /** The loop id (asyncio), else the thread id (greenlets), null when the trace names neither. */
  place: number | null;
  /** Whether `place` is a loop id (else a thread id). */
  isLoop: boolean;
  /** Samples in time order: when the step started (us), how long its task was ready before (us), the task. */
  ts: Float64Array;
  lag: Float64Array;
  task: Float64Array;
  /** Its blocking steps (in time order), with the tasks they delayed. */
  blocks: BlockingStep[];
}

/** Lag under this is a normal hand-over and left out (us). */
export const MIN_LAG_US = 100;

interface LaneBuild { place: number | null; isLoop: boolean; ts: number[]; lag: number[]; task: number[]; sorted: boolean; blocks: BlockingStep[] }

/** The lag of every loop (or thread) of the run, loops in order of their first sample. */
export function loopLag(run: TraceRunView, blocks: BlockingStep[] = blockingSteps(run)): LoopLag[] {
  const cols = run.steps;
  const byPlace = new Map<number | null, LaneBuild>();
  const lane = (place: number | null, isLoop: boolean): LaneBuild => {
    let l = byPlace.get(place);
    if (l === undefined) byPlace.set(place, (l = { place, isLoop, ts: [], lag: [], task: [], sorted: true, blocks: [] }));
    return l;
  };
  // One pass in arrival order (on one loop, steps do not overlap: arrival order is time order), with
  // each task's lane and previous step at hand (one map probe per step).
  const perTask = new Map<number, { lane: LaneBuild; created: number; prev: number }>();
  for (let i = 0; i < cols.count; i++) {
    const id = cols.task[i];
    let s = perTask.get(id);
    if (s === undefined) {
      const t = run.tasks.get(id);
      s = { lane: lane(t?.loop ?? t?.thread ?? null, t?.loop !== undefined), created: t?.createdTs ?? NaN, prev: -1 };
      perTask.set(id, s);
    }
    const ts = cols.ts[i];
    let ready: number;
    if (s.prev < 0) ready = s.created;
    else {
      // Unknown wake-up: not a lag sample (the wait may have ended just before the step).
      const woke = cols.wokeNext[s.prev];
      const prevEnd = cols.ts[s.prev] + cols.dur[s.prev];
      ready = woke === woke ? Math.max(woke, prevEnd) : NaN;
    }
    s.prev = i;
    const lag = ts - ready;
    if (!(lag >= MIN_LAG_US)) continue;
    const l = s.lane;
    const n = l.ts.length;
    if (n > 0 && ts < l.ts[n - 1]) l.sorted = false;
    l.ts.push(ts); l.lag.push(lag); l.task.push(id);
  }
  const placeOf = (task: number | null): LaneBuild | undefined => (task === null ? undefined : perTask.get(task)?.lane);
  for (const b of blocks) {
    const t = b.task === null ? undefined : run.tasks.get(b.task);
    (placeOf(b.task) ?? lane(t?.loop ?? t?.thread ?? null, t?.loop !== undefined)).blocks.push(b);
  }
  const out: LoopLag[] = [];
  for (const l of byPlace.values()) {
    if (l.ts.length === 0 && l.blocks.length === 0) continue;
    let ts = Float64Array.from(l.ts), lag = Float64Array.from(l.lag), task = Float64Array.from(l.task);
    if (!l.sorted) {
      // Interleaved threads on one place, or a merged trace: sort the samples by time.
      const order = Array.from(ts.keys()).sort((a, b) => l.ts[a] - l.ts[b]);
      ts = Float64Array.from(order, (i) => l.ts[i]); lag = Float64Array.from(order, (i) => l.lag[i]); task = Float64Array.from(order, (i) => l.task[i]);
    }
    out.push({ place: l.place, isLoop: l.isLoop, ts, lag, task, blocks: l.blocks.sort((a, b) => a.ts - b.ts) });
  }
  const first = (l: LoopLag) => Math.min(l.ts.length ? l.ts[0] : Infinity, l.blocks.length ? l.blocks[0].ts : Infinity);
  return out.sort((a, b) => first(a) - first(b));
}
