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

/** The lag of every loop (or thread) of the run, loops in order of their first sample. */
export function loopLag(run: TraceRunView, blocks: BlockingStep[] = blockingSteps(run)): LoopLag[] {
  const cols = run.steps;
  const byPlace = new Map<number | null, { isLoop: boolean; ts: number[]; lag: number[]; task: number[]; blocks: BlockingStep[] }>();
  const placeOf = new Map<number, number | null>();
  const lane = (place: number | null, isLoop: boolean) => {
    let l = byPlace.get(place);
    if (l === undefined) byPlace.set(place, (l = { isLoop, ts: [], lag: [], task: [], blocks: [] }));
    return l;
  };
  for (const t of run.tasks.values()) {
    const place = t.loop ?? t.thread ?? null;
    placeOf.set(t.id, place);
    const idx = t.steps;
    if (idx.length === 0) continue;
    const l = lane(place, t.loop !== undefined);
    let prev = -1;
    for (let k = 0; k < idx.length; k++) {
      const i = idx.at(k);
      const ts = cols.ts[i];
      let ready: number;
      if (prev < 0) ready = t.createdTs;
      else {
        const woke = cols.wokeNext[prev];
        const prevEnd = cols.ts[prev] + cols.dur[prev];
        // Unknown wake-up: not a lag sample (the wait may have ended just before the step).
        ready = woke === woke ? Math.max(woke, prevEnd) : NaN;
      }
      prev = i;
      const lag = ts - ready;
      if (!(lag >= MIN_LAG_US)) continue;
      l.ts.push(ts); l.lag.push(lag); l.task.push(t.id);
    }
  }
  for (const b of blocks) {
    const place = b.task === null ? null : placeOf.get(b.task) ?? null;
    const t = b.task === null ? undefined : run.tasks.get(b.task);
    lane(place, t?.loop !== undefined).blocks.push(b);
  }
  const out: LoopLag[] = [];
  for (const [place, l] of byPlace) {
    if (l.ts.length === 0 && l.blocks.length === 0) continue;
    const order = l.ts.map((_, i) => i).sort((a, b) => l.ts[a] - l.ts[b]);
    out.push({
      place, isLoop: l.isLoop,
      ts: Float64Array.from(order, (i) => l.ts[i]), lag: Float64Array.from(order, (i) => l.lag[i]), task: Float64Array.from(order, (i) => l.task[i]),
      blocks: l.blocks.sort((a, b) => a.ts - b.ts),
    });
  }
  const first = (l: LoopLag) => Math.min(l.ts.length ? l.ts[0] : Infinity, l.blocks.length ? l.blocks[0].ts : Infinity);
  return out.sort((a, b) => first(a) - first(b));
}
