// The step columns of a run (one row per step, typed arrays) and a task's list of its step rows.
import type { StepColumns } from './modelTypes';

/**
 * Step indices of one task. A plain array of small ints (unboxed, no per-step objects): for the
 * typical task of a few dozen steps it is smaller than a typed array with its buffer objects.
 */
export class StepIndexList {
  readonly items: number[] = [];
  get length(): number { return this.items.length; }
  at(i: number): number { return this.items[i]; }
  push(v: number): void { this.items.push(v); }
}

export class StepStore implements StepColumns {
  count = 0;
  /** Float64: task ids are any safe integer (an Int32 column made ids past 2^31 collide). */
  task: Float64Array;
  ts: Float64Array;
  dur: Float64Array;
  wokeNext: Float64Array;
  waitEnd: Float64Array;
  awaitId: Int32Array;

  constructor(capacity = 1024) {
    this.task = new Float64Array(capacity);
    this.ts = new Float64Array(capacity);
    this.dur = new Float64Array(capacity);
    this.wokeNext = new Float64Array(capacity);
    this.waitEnd = new Float64Array(capacity);
    this.awaitId = new Int32Array(capacity);
  }

  push(task: number, ts: number, dur: number, awaitId: number): number {
    const i = this.count;
    if (i === this.task.length) this.grow();
    this.task[i] = task;
    this.ts[i] = ts;
    this.dur[i] = dur;
    this.wokeNext[i] = NaN;
    this.waitEnd[i] = NaN;
    this.awaitId[i] = awaitId;
    this.count = i + 1;
    return i;
  }

  private grow(): void {
    const n = this.task.length * 2;
    const g32 = (a: Int32Array) => { const b = new Int32Array(n); b.set(a); return b; };
    const g64 = (a: Float64Array) => { const b = new Float64Array(n); b.set(a); return b; };
    this.task = g64(this.task);
    this.awaitId = g32(this.awaitId);
    this.ts = g64(this.ts);
    this.dur = g64(this.dur);
    this.wokeNext = g64(this.wokeNext);
    this.waitEnd = g64(this.waitEnd);
  }
}
