// The run's answers in one object (for `async-trace report --json`) and as text: the critical path,
// stuck tasks with their chains, blocking steps with blame, the slowest await sites, timeouts;
// and the `--fail-on` gate over them.
import { criticalPath, pathStages, type PathStage } from './criticalPath';
import { formatDuration } from './format';
import { blockingSteps, type BlockingStep } from './loopBlame';
import type { TraceRunView } from './modelTypes';
import { stuckTasks, type StuckFinding, type WaitLink } from './stuckTasks';
import type { Localize } from './taskTreeModel';
import { awaitOnText, siteLabel, taskName } from './taskTreeModel';
import { siteTimeouts, siteWaits, type SiteTimeouts, type SiteWaits } from './waitDistributions';

/** The blocking step behind a site's slowest wait (it overlapped most of that wait). */
export interface SiteBlame { site: number; block: BlockingStep; overlap: number }

export interface RunReport {
  tasks: number;
  failed: number;
  cancelled: number;
  /** us from the first task to the run's end. */
  wall: number;
  critical?: { task: number; total: number; running: number; ready: number; waiting: number; stages: PathStage[] };
  stuck: StuckFinding[];
  blocking: BlockingStep[];
  sites: SiteWaits[];
  timeouts: SiteTimeouts[];
  /** For sites whose slowest wait overlapped a blocking step by at least half: that step. */
  siteBlame: SiteBlame[];
}

/** `minBlockUs`: the shortest step listed as blocking (default: the run's block threshold). */
export function runReport(run: TraceRunView, minBlockUs?: number): RunReport {
  const cp = criticalPath(run);
  const r: RunReport = {
    tasks: run.counts.tasks, failed: run.counts.failed, cancelled: run.counts.cancelled,
    wall: Math.max(0, (run.exit?.ts ?? run.now) - firstTs(run)),
    stuck: stuckTasks(run), blocking: blockingSteps(run, minBlockUs), sites: siteWaits(run), timeouts: siteTimeouts(run), siteBlame: [],
  };
  for (const s of r.sites) {
    const w = s.slowest[0];
    if (w === undefined) continue;
    let best: SiteBlame | undefined;
    for (const b of r.blocking) {
      const overlap = Math.min(w.to, b.ts + b.dur) - Math.max(w.from, b.ts);
      if (overlap * 2 >= w.to - w.from && (best === undefined || overlap > best.overlap)) best = { site: s.site, block: b, overlap };
    }
    if (best !== undefined) r.siteBlame.push(best);
  }
  if (cp !== undefined) {
    r.critical = { task: cp.task, total: cp.to - cp.from, running: cp.running, ready: cp.ready, waiting: cp.waiting, stages: pathStages(cp) };
  }
  return r;
}

function firstTs(run: TraceRunView): number {
  let first = Infinity;
  for (const id of run.roots) first = Math.min(first, run.tasks.get(id)?.createdTs ?? Infinity);
  return Number.isFinite(first) ? first : 0;
}

/** `file.py:12` or a question mark. */
function where(run: TraceRunView, site: number | null | undefined): string {
  return siteLabel(run, site) ?? '?';
}

/** "left waits on lock at deadlock.py:7 (held by right)" */
export function waitLinkText(run: TraceRunView, l: WaitLink, t: Localize): string {
  const on = awaitOnText(run, l.on, t) ?? t('something');
  const s = t('{0} waits on {1} at {2}', taskName(run, l.task), on, where(run, l.site));
  if (l.holder === undefined) return s;
  return l.heldAt === undefined || l.heldAt === null
    ? `${s} ${t('(held by {0})', taskName(run, l.holder))}`
    : `${s} ${t('(held by {0}, taken at {1})', taskName(run, l.holder), where(run, l.heldAt))}`;
}

/** One sentence for a stuck finding: what is stuck, for how long, why nothing wakes it. */
export function stuckText(run: TraceRunView, f: StuckFinding, t: Localize): string {
  const d = formatDuration(f.waited);
  const chain = f.chain.map((l) => waitLinkText(run, l, t)).join(' → ');
  switch (f.kind) {
    case 'deadlock':
      return t('Deadlock for {0}: {1} → back to {2}', d, chain, taskName(run, f.task));
    case 'quiescent':
      return t('Stuck for {0}: {1}; nothing can wake it: every other live task waits too ({2})', d, chain,
        f.othersWaiting.map((l) => waitLinkText(run, l, t)).join('; '));
    case 'orphaned': {
      if (f.producers !== undefined) {
        return t('Stuck for {0}: {1}; no live producer: every task that fed it has ended ({2})', d, chain,
          f.producers.map((id) => endedText(run, id, t)).join(', '));
      }
      if (f.neverFed) {
        return t('Stuck for {0}: {1}; nobody ever set or fed it, and no task is left that could', d, chain);
      }
      const ended = f.endedWhileWaiting.map((id) => endedText(run, id, t)).join(', ');
      return ended
        ? t('Stuck for {0}: {1}; no task is left that could wake it (ended meanwhile: {2})', d, chain, ended)
        : t('Stuck for {0}: {1}; no task is left that could wake it', d, chain);
    }
    case 'pending-at-exit':
      return t('Still waiting after {0} when the program ended: {1}', d, chain);
    case 'long-wait':
      return t('Waiting for {0}: {1}', d, chain);
    case 'unretrieved': {
      const task = run.tasks.get(f.task);
      const err = task?.error ? `${task.error.type}: ${task.error.message}` : '?';
      return t('{0} failed and nobody retrieved its exception ({1}) at {2}', taskName(run, f.task), err, where(run, task?.error?.site));
    }
  }
}

function endedText(run: TraceRunView, id: number, t: Localize): string {
  const task = run.tasks.get(id);
  if (task?.endState === 'failed' && task.error) {
    return t('{0} failed with {1} at {2}', taskName(run, id), task.error.type, where(run, task.error.site));
  }
  return `${taskName(run, id)} ${task?.endState === 'cancelled' ? t('cancelled') : t('done')}`;
}

/** The stages worth listing: hand-overs and tiny steps are noise in a summary (they stay in the JSON). */
export function notableStages(stages: readonly PathStage[]): PathStage[] {
  let sum = 0;
  for (const s of stages) sum += s.total;
  return stages.filter((s) => s.total >= Math.max(1000, sum / 100));
}

/** One stage in words: "346 ms: fetch ready but not running, behind compress". */
export function stageText(run: TraceRunView, s: PathStage, t: Localize): string {
  const name = taskName(run, s.task);
  const times = s.count > 1 ? ` x${s.count}` : '';
  const d = formatDuration(s.total);
  if (s.kind === 'run') return t('{0}: {1} runs{2} ({3})', d, name, times, where(run, s.site));
  if (s.kind === 'ready' && s.behind !== undefined) return t('{0}: {1} ready but not running{2}, behind {3}', d, name, times, taskName(run, s.behind));
  if (s.kind === 'ready') return t('{0}: {1} ready but not running{2}', d, name, times);
  return t('{0}: {1} waits on {2}{3} at {4}', d, name, awaitOnText(run, s.on, t) ?? t('something'), times, where(run, s.site));
}

/** The path's notable stages in words, in time order. */
export function pathText(run: TraceRunView, stages: readonly PathStage[], t: Localize): string[] {
  return notableStages(stages).map((s) => stageText(run, s, t));
}

export function blockingText(run: TraceRunView, b: BlockingStep, t: Localize): string {
  const who = b.task === null ? t('a callback') : taskName(run, b.task);
  const head = t('{0} blocked the loop for {1} at {2}', who, formatDuration(b.dur), where(run, b.site));
  if (b.delayed.length === 0) return head;
  const shown = b.delayed.slice(0, 5).map((d) => `${taskName(run, d.task)} ${d.upTo ? '≤' : ''}${formatDuration(d.delay)}`);
  const more = b.delayed.length > 5 ? ` ${t('and {0} more', b.delayed.length - 5)}` : '';
  return `${head}; ${t('delayed {0} tasks: {1}', b.delayed.length, shown.join(', '))}${more}`;
}

export function siteWaitsText(run: TraceRunView, s: SiteWaits, t: Localize): string {
  return t('{0} ({1}): {2} waits, p50 {3}, p95 {4}, p99 {5}, max {6}', where(run, s.site), awaitOnText(run, s.on, t) ?? '?', s.count,
    formatDuration(s.p50), formatDuration(s.p95), formatDuration(s.p99), formatDuration(s.max));
}

export function reportLines(run: TraceRunView, r: RunReport, t: Localize): string[] {
  const out: string[] = [];
  out.push(t('{0} tasks ({1} failed, {2} cancelled), {3}', r.tasks, r.failed, r.cancelled, formatDuration(r.wall)));
  if (r.critical !== undefined) {
    const c = r.critical;
    out.push('', t('Critical path ({0}: {1} running, {2} ready but not running, {3} waiting):', formatDuration(c.total),
      formatDuration(c.running), formatDuration(c.ready), formatDuration(c.waiting)));
    for (const l of pathText(run, c.stages, t)) out.push(`  ${l}`);
  }
  out.push('', r.stuck.length ? t('Stuck tasks ({0}):', r.stuck.length) : t('Stuck tasks: none'));
  for (const f of r.stuck) out.push(`  ${stuckText(run, f, t)}`);
  out.push('', r.blocking.length ? t('Blocking steps ({0}):', r.blocking.length) : t('Blocking steps: none'));
  for (const b of r.blocking.slice(0, 10)) out.push(`  ${blockingText(run, b, t)}`);
  if (r.sites.length) {
    out.push('', t('Slowest await sites:'));
    for (const s of r.sites.slice(0, 5)) {
      const blame = r.siteBlame.find((x) => x.site === s.site);
      const why = blame === undefined ? '' : `; ${t('the slowest wait overlapped {0} of the blocking step of {1} at {2}', formatDuration(blame.overlap),
        blame.block.task === null ? t('a callback') : taskName(run, blame.block.task), where(run, blame.block.site))}`;
      out.push(`  ${siteWaitsText(run, s, t)}${why}`);
    }
  }
  const fired = r.timeouts.filter((x) => x.fired > 0 || x.closest !== undefined);
  if (fired.length) {
    out.push('', t('Timeouts:'));
    for (const x of fired.slice(0, 5)) {
      const close = x.closest === undefined ? '' : `, ${t('closest call {0} before the deadline', formatDuration(x.closest))}`;
      out.push(`  ${t('{0}: {1} fired, {2} cleared', where(run, x.site), x.fired, x.cleared)}${close}`);
    }
  }
  return out;
}

/** A `--fail-on` condition: stuck, unretrieved, blocked>100ms. */
export type FailCondition = { kind: 'stuck' } | { kind: 'unretrieved' } | { kind: 'blocked'; overUs: number };

/** Parses "stuck,blocked>100ms,unretrieved"; undefined if a part is not understood. */
export function parseFailOn(text: string): FailCondition[] | undefined {
  const out: FailCondition[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    if (part === 'stuck' || part === 'unretrieved') { out.push({ kind: part }); continue; }
    const m = /^blocked(?:>(\d+(?:\.\d+)?)(us|µs|ms|s)?)?$/.exec(part);
    if (m === null) return undefined;
    const v = m[1] === undefined ? 0 : Number(m[1]);
    const unit = m[2] ?? 'ms';
    out.push({ kind: 'blocked', overUs: unit === 's' ? v * 1e6 : unit === 'ms' ? v * 1e3 : v });
  }
  return out.length ? out : undefined;
}

/** The reasons the gate fails (empty: it passes). */
export function failReasons(run: TraceRunView, r: RunReport, conditions: readonly FailCondition[], t: Localize): string[] {
  const out: string[] = [];
  for (const c of conditions) {
    if (c.kind === 'stuck') {
      for (const f of r.stuck) if (f.kind !== 'unretrieved') out.push(stuckText(run, f, t));
    } else if (c.kind === 'unretrieved') {
      for (const f of r.stuck) if (f.kind === 'unretrieved') out.push(stuckText(run, f, t));
    } else {
      for (const b of r.blocking) if (b.dur > c.overUs) out.push(blockingText(run, b, t));
    }
  }
  return out;
}
