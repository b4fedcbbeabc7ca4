// Blame for blocking steps: a step that held the loop delays every task that became ready while it
// ran. Where the trace knows when a task was ready (`woke`, inferred for sleeps and yields), the
// delay is exact; for other waits that ended right after the step, it is an upper bound.
import type { TraceRunView } from './modelTypes';

export interface DelayedTask { task: number; delay: number; /** The ready time is not in the trace: at most this much. */ upTo: boolean }

export interface BlockingStep {
  /** The task whose step blocked (null: a callback or unknown). */
  task: number | null;
  ts: number;
  dur: number;
  /** Where it blocked: the block line's site, else the site of the step's suspension. */
  site: number | null;
  /** Tasks it delayed, most delayed first. */
  delayed: DelayedTask[];
  /** Sum of the delays. */
  totalDelay: number;
}

/** Slack for "this wait ended as soon as the loop was free again" (us). */
const RESUME_SLACK_US = 3000;

/** The run's block threshold (us): the trace's `blockMs`, else 100 ms. */
export function blockThresholdUs(run: TraceRunView): number {
  const ms = (run.info as { blockMs?: unknown } | undefined)?.blockMs;
  return (typeof ms === 'number' && ms > 0 ? ms : 100) * 1000;
}

/** Steps at least `minUs` long (default: the run's block threshold), with the tasks they delayed. */
export function blockingSteps(run: TraceRunView, minUs = blockThresholdUs(run)): BlockingStep[] {
  const cols = run.steps;
  const found: BlockingStep[] = [];
  const thread = new Map<number, number | undefined>();
  for (const t of run.tasks.values()) thread.set(t.id, t.loop ?? t.thread);
  for (let i = 0; i < cols.count; i++) {
    if (cols.dur[i] < minUs) continue;
    const task = cols.task[i];
    const aid = cols.awaitId[i];
    const stack = aid >= 0 ? run.awaitAt(aid)?.stack ?? [] : [];
    const block = run.blocks.find((b) => b.task === task && b.ts >= cols.ts[i] - RESUME_SLACK_US && b.ts <= cols.ts[i] + cols.dur[i]);
    const site = block?.site ?? (stack.length ? stack[stack.length - 1] : null);
    found.push({ task, ts: cols.ts[i], dur: cols.dur[i], site, delayed: [], totalDelay: 0 });
  }
  if (found.length === 0) return found;
  // Each task's suspensions (its own step list: no per-step map lookups) against the blocking steps.
  found.sort((a, b) => a.ts - b.ts);
  const first = found[0].ts;
  let last = 0;
  for (const b of found) last = Math.max(last, b.ts + b.dur);
  const byTask = new Map<number, Map<BlockingStep, DelayedTask>>();
  for (const t of run.tasks.values()) {
    const idx = t.steps;
    const place = t.loop ?? t.thread;
    for (let k = 1; k < idx.length; k++) {
      const prev = idx.at(k - 1);
      const i = idx.at(k);
      const resumed = cols.ts[i];
      if (resumed <= first) continue;
      const waitFrom = cols.ts[prev] + cols.dur[prev];
      if (waitFrom >= last) break;
      if (cols.awaitId[prev] < 0) continue;
      const task = t.id;
      const woke = cols.wokeNext[prev];
      for (const b of overlapping(found, waitFrom, resumed)) {
        if (b.task === task || thread.get(b.task ?? -1) !== place) continue;
        const bEnd = b.ts + b.dur;
        let delay: number;
        let upTo = false;
        if (woke === woke) {
          delay = Math.min(resumed, bEnd) - Math.max(woke, b.ts);
        } else {
          if (resumed > bEnd + RESUME_SLACK_US) continue; // it woke later, for its own reasons
          delay = Math.min(resumed, bEnd) - Math.max(waitFrom, b.ts);
          upTo = true;
        }
        if (!(delay > 0)) continue;
        let m = byTask.get(task);
        if (m === undefined) byTask.set(task, (m = new Map()));
        const d = m.get(b);
        if (d === undefined) m.set(b, { task, delay, upTo });
        else { d.delay += delay; d.upTo &&= upTo; }
      }
    }
  }
  for (const m of byTask.values()) for (const [b, d] of m) { b.delayed.push(d); b.totalDelay += d.delay; }
  for (const b of found) b.delayed.sort((x, y) => y.delay - x.delay || x.task - y.task);
  return found;
}

/** The blocking steps (sorted by ts) that overlap [from, to]. */
function overlapping(sorted: BlockingStep[], from: number, to: number): BlockingStep[] {
  const out: BlockingStep[] = [];
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid].ts + sorted[mid].dur <= from) lo = mid + 1; else hi = mid; }
  // Blocking steps do not overlap each other on one loop: the ones after `lo` are in ts order.
  for (let j = Math.max(0, lo - 1); j < sorted.length && sorted[j].ts < to; j++) {
    if (sorted[j].ts + sorted[j].dur > from) out.push(sorted[j]);
  }
  return out;
}
