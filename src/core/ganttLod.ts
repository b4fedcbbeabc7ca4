// Level of detail for one timeline lane: steps (sorted by time, non-overlapping) are emitted as they
// are when they are at least a pixel apart, and runs of steps closer than a pixel are merged into one
// aggregated bar with its busy fraction. Binary search skips whole pixels, so the cost of a lane is
// O(visible pixels * log steps), independent of how many steps the lane has.

/** Growable output of `lodLane`: one entry per bar to draw. */
export class LodOut {
  count = 0;
  start: Float64Array = new Float64Array(256);
  end: Float64Array = new Float64Array(256);
  /** First and last step index (into the lane-sorted arrays) of the bar. first === last: a single step. */
  first: Int32Array = new Int32Array(256);
  last: Int32Array = new Int32Array(256);
  /** Running time / bar length (1 for a single step). */
  busy: Float32Array = new Float32Array(256);

  reset(): void { this.count = 0; }

  push(start: number, end: number, first: number, last: number, busy: number): void {
    if (this.count === this.start.length) this.grow();
    const i = this.count++;
    this.start[i] = start;
    this.end[i] = end;
    this.first[i] = first;
    this.last[i] = last;
    this.busy[i] = busy;
  }

  private grow(): void {
    const n = this.start.length * 2;
    const f64 = (a: Float64Array): Float64Array => { const b = new Float64Array(n); b.set(a); return b; };
    const i32 = (a: Int32Array): Int32Array => { const b = new Int32Array(n); b.set(a); return b; };
    this.start = f64(this.start);
    this.end = f64(this.end);
    this.first = i32(this.first);
    this.last = i32(this.last);
    const busy = new Float32Array(n); busy.set(this.busy); this.busy = busy;
  }
}

/** First index k in [lo, hi) with a[k] >= x (hi if none). */
export function lowerBound(a: ArrayLike<number>, lo: number, hi: number, x: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** First index k in [lo, hi) with a[k] > x (hi if none). */
export function upperBound(a: ArrayLike<number>, lo: number, hi: number, x: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/**
 * Bars of one lane visible in [t0, t1] at `usPerPx` microseconds per pixel.
 * `ts`/`end`: step start/end, sorted, for the lane's range [lo, hi) of lane-sorted arrays;
 * `cum`: prefix sums of durations over the same arrays (cum[k] = sum of dur[0..k), length >= hi + 1).
 * A step is kept alone when the gaps to its neighbours are at least `minGapPx` pixels; steps closer
 * than that merge. Returns the number of bars appended to `out`.
 */
export function lodLane(
  ts: ArrayLike<number>, end: ArrayLike<number>, cum: ArrayLike<number>,
  lo: number, hi: number, t0: number, t1: number, usPerPx: number, out: LodOut, minGapPx = 1,
): number {
  const before = out.count;
  const gap = usPerPx * minGapPx;
  // First step that ends at or after the left edge (ends are sorted: steps of a task never overlap).
  let k = lowerBound(end, lo, hi, t0);
  while (k < hi && ts[k] <= t1) {
    const first = k;
    let last = k;
    let ge = end[k];
    // Absorb every step that starts less than a pixel after the group's end, a pixel at a time.
    // Stops past the right edge: the rest is off screen (keeps deep zoom into dense lanes cheap).
    while (ge <= t1) {
      const j = upperBound(ts, last + 1, hi, ge + gap - 1e-9) - 1;
      if (j <= last) break;
      last = j;
      if (end[j] > ge) ge = end[j];
    }
    const gs = ts[first];
    const len = ge - gs;
    const busy = first === last ? 1 : len > 0 ? Math.min(1, (cum[last + 1] - cum[first]) / len) : 1;
    out.push(gs, ge, first, last, busy);
    k = last + 1;
  }
  return out.count - before;
}

/** Builds prefix sums of `dur` (length n + 1). */
export function prefixSums(dur: ArrayLike<number>, n: number, into?: Float64Array): Float64Array {
  const cum = into && into.length >= n + 1 ? into : new Float64Array(n + 1);
  cum[0] = 0;
  for (let i = 0; i < n; i++) cum[i + 1] = cum[i] + dur[i];
  return cum;
}
