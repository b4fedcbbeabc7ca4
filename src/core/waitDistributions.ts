// Distributions of wait times per await site and of timeouts per site: count, percentiles, max,
// a small histogram, and the waits behind the slowest percentiles (to open on the timeline).
import type { TraceRunView } from './modelTypes';
import type { AwaitOn } from './traceEvents';

export interface Percentiles { count: number; p50: number; p95: number; p99: number; max: number; total: number }

export interface Histogram {
  /** Upper bounds of the bins (us), log-spaced; the last bin holds everything up to max. */
  bounds: number[];
  counts: number[];
}

export interface SlowWait { task: number; from: number; to: number }

export interface SiteWaits extends Percentiles {
  site: number;
  /** What the site waits on (the most recent `on`). */
  on?: AwaitOn;
  histogram: Histogram;
  /** The longest waits, longest first (at most 5). */
  slowest: SlowWait[];
}

export interface SiteTimeouts {
  site: number | null;
  fired: number;
  cleared: number;
  armed: number;
  /** Cleared ones: how long before their deadline they were cleared (us), percentiles. */
  margin?: Percentiles;
  /** The closest call: the smallest margin of a cleared timeout (us). */
  closest?: number;
}

/** Value at quantile q of sorted values (nearest rank). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[k];
}

export function percentiles(values: number[]): Percentiles {
  const s = Float64Array.from(values).sort();
  let total = 0;
  for (const v of values) total += v;
  return { count: s.length, p50: quantile(s, 0.5), p95: quantile(s, 0.95), p99: quantile(s, 0.99), max: s.length ? s[s.length - 1] : 0, total };
}

/** `bins` log-spaced bins from the smallest to the largest value. */
export function histogram(values: number[], bins = 8): Histogram {
  if (values.length === 0) return { bounds: [], counts: [] };
  let lo = Infinity;
  let hi = 0;
  for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
  lo = Math.max(1, lo);
  hi = Math.max(lo + 1, hi);
  const ratio = Math.pow(hi / lo, 1 / bins);
  const bounds: number[] = [];
  for (let b = 1; b <= bins; b++) bounds.push(b === bins ? hi : lo * Math.pow(ratio, b));
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    let b = 0;
    while (b < bins - 1 && v > bounds[b]) b++;
    counts[b]++;
  }
  return { bounds, counts };
}

/** Completed waits per innermost await site, slowest p99 first. */
export function siteWaits(run: TraceRunView): SiteWaits[] {
  const cols = run.steps;
  const bySite = new Map<number, { values: number[]; on?: AwaitOn; slow: SlowWait[]; slowMin: number }>();
  // Await entry -> its site's bucket, made on first sight (one Map probe per entry, not per step).
  const bucketOf: Array<{ values: number[]; on?: AwaitOn; slow: SlowWait[]; slowMin: number } | null | undefined> = [];
  for (let i = 0; i < cols.count; i++) {
    const aid = cols.awaitId[i];
    if (aid < 0) continue;
    const end = cols.waitEnd[i];
    if (end !== end) continue;
    let s = bucketOf[aid];
    if (s === undefined) {
      const entry = run.awaitAt(aid);
      const stack = entry?.stack ?? [];
      if (stack.length === 0) s = null;
      else {
        const site = stack[stack.length - 1];
        s = bySite.get(site);
        if (s === undefined) bySite.set(site, (s = { values: [], slow: [], slowMin: -1 }));
        if (entry?.on !== undefined) s.on = entry.on;
      }
      bucketOf[aid] = s;
    }
    if (s === null) continue;
    const from = cols.ts[i] + cols.dur[i];
    const d = end > from ? end - from : 0;
    s.values.push(d);
    if (d > s.slowMin) {
      s.slow.push({ task: cols.task[i], from, to: end });
      s.slow.sort((a, b) => (b.to - b.from) - (a.to - a.from));
      if (s.slow.length > 5) s.slow.pop();
      if (s.slow.length === 5) s.slowMin = s.slow[4].to - s.slow[4].from;
    }
  }
  const out: SiteWaits[] = [];
  for (const [site, s] of bySite) {
    const w: SiteWaits = { site, ...percentiles(s.values), histogram: histogram(s.values), slowest: s.slow };
    if (s.on !== undefined) w.on = s.on;
    out.push(w);
  }
  return out.sort((a, b) => b.p99 - a.p99 || b.count - a.count || a.site - b.site);
}

/** Timeouts per site: fired vs cleared, and how close the cleared ones came to firing. */
export function siteTimeouts(run: TraceRunView): SiteTimeouts[] {
  const bySite = new Map<number | null, { fired: number; cleared: number; armed: number; margins: number[] }>();
  for (const to of run.timeouts.values()) {
    let s = bySite.get(to.site);
    if (s === undefined) bySite.set(to.site, (s = { fired: 0, cleared: 0, armed: 0, margins: [] }));
    if (to.state === 'fired') s.fired++;
    else if (to.state === 'armed') s.armed++;
    else {
      s.cleared++;
      if (to.delay !== null && to.endTs !== undefined) {
        const deadline = (to.rescheduledTs ?? to.armedTs) + to.delay * 1e6;
        s.margins.push(Math.max(0, deadline - to.endTs));
      }
    }
  }
  const out: SiteTimeouts[] = [];
  for (const [site, s] of bySite) {
    const t: SiteTimeouts = { site, fired: s.fired, cleared: s.cleared, armed: s.armed };
    if (s.margins.length) { t.margin = percentiles(s.margins); t.closest = Math.min(...s.margins); }
    out.push(t);
  }
  return out.sort((a, b) => b.fired - a.fired || (a.closest ?? Infinity) - (b.closest ?? Infinity));
}

/** siteWaits of a run, kept while the run has the same number of steps (hovers ask line by line). */
const cache = new WeakMap<TraceRunView, { steps: number; sites: SiteWaits[] }>();

/** The wait distribution of the await site(s) at `file:line` (sites merged if several). */
export function lineWaits(run: TraceRunView, file: string, line: number): SiteWaits | undefined {
  let c = cache.get(run);
  if (c === undefined || c.steps !== run.steps.count) cache.set(run, (c = { steps: run.steps.count, sites: siteWaits(run) }));
  const here = c.sites.filter((s) => {
    const info = run.sites.get(s.site);
    return info !== undefined && info.file === file && info.line === line;
  });
  if (here.length <= 1) return here[0];
  // Several sites on one line (different functions or columns): the busiest speaks for the line.
  return here.sort((a, b) => b.count - a.count)[0];
}

/** A histogram as a row of block characters, low to high bins: "▁▃█▂ ▁". */
export function histogramBar(h: Histogram): string {
  const most = Math.max(0, ...h.counts);
  if (most === 0) return '';
  const blocks = ' ▁▂▃▄▅▆▇█';
  return h.counts.map((c) => (c === 0 ? ' ' : blocks[Math.max(1, Math.round((c / most) * 8))])).join('');
}
