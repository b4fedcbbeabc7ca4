// Stuck tasks and deadlocks: waits that never ended (still going at the end of the trace or live,
// cut by the loop's shutdown, pending when the loop closed), cycles in the wait-for graph (tasks
// awaiting tasks, gathers, joins, lock holders when the trace names them), and tasks whose failure
// nobody retrieved. Each finding carries the chain "who waits on whom" with the lines.
import type { TaskInfo, TraceRunView } from './modelTypes';
import type { AwaitOn } from './traceEvents';

/** One waiting task in a chain: where it waits, on what, since when. */
export interface WaitLink {
  task: number;
  /** Innermost await site of the wait (null: unknown). */
  site: number | null;
  on?: AwaitOn;
  since: number;
  /** The lock/semaphore holder the trace names for this wait (wake links, v1 addition). */
  holder?: number;
  /** When the holder took it and at which line. */
  heldSince?: number;
  heldAt?: number | null;
}

export type StuckKind =
  /** Tasks waiting on each other in a cycle: none can ever go on. */
  | 'deadlock'
  /** Every live task waits on something only another task could set (a lock, event, queue, future): nothing can wake them. */
  | 'quiescent'
  /** Waits on a primitive whose possible setters all ended (or no other task is alive). */
  | 'orphaned'
  /** Still waiting at the end of the trace / live, longer than the threshold. */
  | 'long-wait'
  /** Still waiting when the loop shut down or closed (cancelled by asyncio.run's cleanup or destroyed pending). */
  | 'pending-at-exit'
  /** Failed, and nobody retrieved the exception. */
  | 'unretrieved';

export interface StuckFinding {
  kind: StuckKind;
  /** The task the finding is about (the first of the chain). */
  task: number;
  /** Its wait (absent for 'unretrieved'). */
  wait?: WaitLink;
  /** How long it waited (us): until the shutdown, the trace's end or now. */
  waited: number;
  /** Who waits on whom, starting with `task` (for a deadlock: the whole cycle). */
  chain: WaitLink[];
  /** Tasks that ended (failed or not) while it waited: what might have been meant to wake it. */
  endedWhileWaiting: number[];
  /** Other live tasks at that moment and their waits (for 'quiescent' / 'orphaned'). */
  othersWaiting: WaitLink[];
  /** For a queue get / event wait on a traced object: every task that ever put / set it (all ended). */
  producers?: number[];
  /** The traced object waited on was never put on / set by anyone so far. */
  neverFed?: boolean;
}

export interface StuckOptions {
  /** Minimum wait (us) for a still-going wait to count ('long-wait'). Default 5 s live, 0 otherwise. */
  thresholdUs?: number;
  /**
   * The present on the run's clock (us), for a live run that may have gone quiet (a hung program
   * writes nothing, so the trace's last time stands still). Waits still going count up to it.
   */
  now?: number;
  /** Live runs: waits shorter than this (us) are not reported stuck yet, except cycles. Default 2 s. */
  graceUs?: number;
}

/** Kinds only another task (or a callback) can end: a lock, event, queue, condition, future ... */
const SETTABLE = new Set(['lock', 'event', 'queue', 'condition', 'semaphore', 'barrier', 'future', 'task', 'gather']);
/** Kinds that end by themselves or from outside the loop: a timer, the network, a thread or process. */
const SELF_ENDING = new Set(['sleep', 'yield', 'io', 'executor', 'process', 'hub', 'switch']);

interface OpenWait extends WaitLink {
  /** When it stopped counting: the shutdown cancel, the loop's close, the end of the trace, now. */
  until: number;
  /** Cut by the loop's shutdown (or pending at close) rather than still going. */
  atExit: boolean;
}

/** The wait that `task` was in at time `at` (the step before it), or undefined. */
function waitAt(run: TraceRunView, task: TaskInfo, at: number): WaitLink | undefined {
  const cols = run.steps;
  for (let k = task.steps.length - 1; k >= 0; k--) {
    const i = task.steps.at(k);
    const from = cols.ts[i] + cols.dur[i];
    if (from > at) continue;
    const aid = cols.awaitId[i];
    if (aid < 0) return undefined;
    const entry = run.awaitAt(aid);
    const stack = entry?.stack ?? [];
    return link(task.id, stack.length ? stack[stack.length - 1] : null, entry?.on, from);
  }
  return undefined;
}

function link(task: number, site: number | null, on: AwaitOn | undefined, since: number): WaitLink {
  const l: WaitLink = { task, site, since };
  if (on !== undefined) {
    l.on = on;
    const h = (on as Record<string, unknown>).holder;
    if (typeof h === 'number') l.holder = h;
  }
  return l;
}

/** The waits that never ended: tasks alive at the end (or now), and waits cut by the shutdown. */
function openWaits(run: TraceRunView, now: number | undefined): Map<number, OpenWait> {
  const open = new Map<number, OpenWait>();
  const end = now !== undefined && now > run.now ? now : run.now;
  const interrupted = interruptTs(run);
  for (const task of run.tasks.values()) {
    if (task.endState === undefined) {
      const w = task.currentWait;
      if (w === undefined) continue;
      const stack = w.stack;
      const l = link(task.id, stack.length ? stack[stack.length - 1] : null, w.on, w.since);
      open.set(task.id, { ...l, until: end, atExit: task.pendingAtClose === true });
      continue;
    }
    // Cancelled by the loop's cleanup (asyncio.run cancels what is left): it was stuck until then.
    const shutdown = task.cancels.find((c) => c.cause === 'shutdown' || (c.ts >= interrupted && c.by === null));
    if (shutdown === undefined && task.pendingAtClose !== true) continue;
    const at = shutdown?.ts ?? task.endTs ?? end;
    const l = waitAt(run, task, at);
    if (l !== undefined) open.set(task.id, { ...l, until: at, atExit: true });
  }
  for (const w of open.values()) addHolder(run, w, w.until);
  return open;
}

/** A sleep whose delay is not up yet: the task is resting, not stuck. */
function sleepingOnTime(w: OpenWait): boolean {
  const delay = (w.on as { delay?: unknown } | undefined)?.delay;
  return w.on?.kind === 'sleep' && typeof delay === 'number' && w.since + delay * 1e6 >= w.until;
}

/** Kinds whose waits have a holder (wake links' `hold` lines). */
const HELD = new Set(['lock', 'semaphore', 'condition']);

/** The task holding the object `w` waits on at `at`, from the `hold` lines (a condition: its lock). */
function addHolder(run: TraceRunView, w: WaitLink, at: number): void {
  const objects = run.objects;
  const obj = (w.on as { obj?: unknown } | undefined)?.obj;
  if (w.holder !== undefined || objects === undefined || typeof obj !== 'number' || !HELD.has(w.on?.kind ?? '')) return;
  for (const h of objects.holdersAt(obj, at)) {
    if (h.task === null || h.task === w.task) continue;
    w.holder = h.task;
    w.heldSince = h.since;
    w.heldAt = h.site;
    return;
  }
}

/** Whether the traced queue / event `w` waits on was never put on / set (the `use` lines say who did). */
function neverFed(run: TraceRunView, w: WaitLink): boolean {
  const obj = (w.on as { obj?: unknown } | undefined)?.obj;
  const o = typeof obj === 'number' ? run.objects?.get(obj) : undefined;
  if (o === undefined || o.partial === true) return false;
  if (w.on?.kind === 'event') return (o.uses.get('set') ?? []).length === 0;
  if (w.on?.kind === 'queue' && (w.on as { op?: unknown }).op === 'get') return (o.uses.get('put') ?? []).length === 0;
  return false;
}

/** For a queue get / event wait on a traced object: the tasks that ever put / set it, if all ended by `at`. */
function deadProducers(run: TraceRunView, w: WaitLink, at: number): number[] | undefined {
  const obj = (w.on as { obj?: unknown; op?: unknown } | undefined)?.obj;
  const o = typeof obj === 'number' ? run.objects?.get(obj) : undefined;
  if (o === undefined || o.partial === true) return undefined;
  const op = w.on?.kind === 'queue' && (w.on as { op?: unknown }).op === 'get' ? 'put' : w.on?.kind === 'event' ? 'set' : undefined;
  if (op === undefined) return undefined;
  const users = (o.uses.get(op) ?? []).map((u) => u.task);
  if (users.length === 0 || users.some((u) => u === null)) return undefined;
  const ids = [...new Set(users as number[])].filter((id) => id !== w.task);
  if (ids.length === 0) return undefined;
  for (const id of ids) {
    const t = run.tasks.get(id);
    if (t === undefined || t.endTs === undefined || t.endTs > at) return undefined;
  }
  return ids;
}

/**
 * When Ctrl-C (or another exception ending the program) made asyncio.run cancel the main task:
 * the first cancel by nobody of a root task, if the run exited with an error. Infinity otherwise.
 */
function interruptTs(run: TraceRunView): number {
  if (run.exit?.error === undefined) return Infinity;
  let at = Infinity;
  for (const c of run.cancels) {
    if (c.by !== null || c.cause !== 'cancel' || c.ts >= at) continue;
    if (run.tasks.get(c.task)?.parent === null) at = c.ts;
  }
  return at;
}

/** Tasks a wait is on: an awaited task, the unfinished tasks of a gather, the named holder. */
function waitsOn(run: TraceRunView, w: WaitLink, open: ReadonlyMap<number, OpenWait>): number[] {
  const o = (w.on ?? {}) as Record<string, unknown>;
  const out: number[] = [];
  if (w.on?.kind === 'task' && typeof o.task === 'number') out.push(o.task);
  if (w.on?.kind === 'switch' && typeof o.to === 'number') out.push(o.to);
  if (w.on?.kind === 'gather' && Array.isArray(o.tasks)) {
    for (const id of o.tasks) if (typeof id === 'number' && open.has(id)) out.push(id);
  }
  if (w.holder !== undefined) out.push(w.holder);
  void run;
  return out;
}

function stripped(w: OpenWait): WaitLink {
  const l: WaitLink = { task: w.task, site: w.site, since: w.since };
  if (w.on !== undefined) l.on = w.on;
  if (w.holder !== undefined) { l.holder = w.holder; l.heldSince = w.heldSince; l.heldAt = w.heldAt; }
  return l;
}

/** Tasks listed at most per finding (othersWaiting, endedWhileWaiting). */
const MAX_LISTED = 10;

interface Census { waits: WaitLink[]; actors: number; running: Set<number> }

const isActor = (l: WaitLink) => !SETTABLE.has(l.on?.kind ?? '');

/** The tasks alive at `at`: their waits, and how many could still act (running, or waiting on a timer, I/O ...). */
function aliveAt(run: TraceRunView, open: ReadonlyMap<number, OpenWait>, at: number): Census {
  const c: Census = { waits: [], actors: 0, running: new Set() };
  for (const task of run.tasks.values()) {
    if (task.createdTs > at) continue;
    // (A task that ended at that very moment is not alive then: a greenlet program's main ends at
    // the same time as the greenlets its exit cuts.)
    if (task.endTs !== undefined && task.endTs <= at && !open.has(task.id)) continue;
    const ow = open.get(task.id);
    const l = ow !== undefined && ow.since <= at ? stripped(ow) : waitAt(run, task, at);
    if (l === undefined) { c.actors++; c.running.add(task.id); continue; }
    c.waits.push(l);
    if (isActor(l)) c.actors++;
  }
  return c;
}

/** Ended tasks by end time, failed ones apart (they are listed first). */
function endOrder(run: TraceRunView): { all: TaskInfo[]; failed: TaskInfo[] } {
  const all: TaskInfo[] = [];
  for (const t of run.tasks.values()) if (t.endTs !== undefined) all.push(t);
  all.sort((a, b) => a.endTs! - b.endTs!);
  return { all, failed: all.filter((t) => t.endState === 'failed') };
}

/** Tasks that ended in [from, to] (not those cut by the exit): failed ones first, at most MAX_LISTED. */
function endedBetween(ends: { all: TaskInfo[]; failed: TaskInfo[] }, from: number, to: number, self: number, open: ReadonlyMap<number, OpenWait>): number[] {
  const out: number[] = [];
  const pick = (list: TaskInfo[]) => {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (list[mid].endTs! < from) lo = mid + 1; else hi = mid; }
    for (let i = lo; i < list.length && list[i].endTs! <= to && out.length < MAX_LISTED; i++) {
      const id = list[i].id;
      if (id !== self && !open.has(id) && !out.includes(id)) out.push(id);
    }
  };
  pick(ends.failed);
  pick(ends.all);
  return out;
}

/**
 * The stuck tasks of a run (final or live), most serious first: deadlock cycles, then tasks nothing
 * can wake, then waits cut by the exit, long waits, unretrieved failures.
 */
export function stuckTasks(run: TraceRunView, options: StuckOptions = {}): StuckFinding[] {
  const threshold = options.thresholdUs ?? (run.live ? 5_000_000 : 0);
  const open = openWaits(run, options.now);
  const grace = run.live ? options.graceUs ?? 2_000_000 : 0;
  const findings: StuckFinding[] = [];
  const explained = new Set<number>();

  // Cycles in the wait-for graph (each reported once, from its lowest task id).
  for (const start of [...open.keys()].sort((a, b) => a - b)) {
    if (explained.has(start)) continue;
    const path: number[] = [];
    const onPath = new Map<number, number>();
    let cur: number | undefined = start;
    while (cur !== undefined && open.has(cur) && !onPath.has(cur) && !explained.has(cur)) {
      onPath.set(cur, path.length);
      path.push(cur);
      const next: number[] = waitsOn(run, open.get(cur)!, open).filter((id) => open.has(id));
      cur = next.find((id) => onPath.has(id)) ?? next[0];
    }
    if (cur === undefined || !onPath.has(cur)) continue;
    const cycle = path.slice(onPath.get(cur)!);
    const first = cycle.indexOf(Math.min(...cycle));
    const ordered = [...cycle.slice(first), ...cycle.slice(0, first)];
    const w = open.get(ordered[0])!;
    const since = Math.max(...ordered.map((id) => open.get(id)!.since));
    findings.push({
      kind: 'deadlock', task: ordered[0], wait: stripped(w), waited: w.until - since,
      chain: ordered.map((id) => stripped(open.get(id)!)), endedWhileWaiting: [], othersWaiting: [],
    });
    for (const id of ordered) explained.add(id);
  }

  // The rest: follow each wait's chain; tell why nothing can wake the primitive waits.
  const census = new Map<number, Census>();
  const ends = endOrder(run);
  let exitAt = Infinity;
  for (const w of open.values()) if (w.atExit && w.until < exitAt) exitAt = w.until;
  const ordered = [...open.values()].filter((w) => !explained.has(w.task)).sort((a, b) => a.since - b.since || a.task - b.task);
  for (const w of ordered) {
    const waited = w.until - w.since;
    const chain: WaitLink[] = [stripped(w)];
    const seen = new Set([w.task]);
    for (let next = waitsOn(run, w, open)[0]; next !== undefined && !seen.has(next); ) {
      seen.add(next);
      const nw = open.get(next);
      if (nw === undefined) break;
      chain.push(stripped(nw));
      next = waitsOn(run, nw, open)[0];
    }
    const tail = chain[chain.length - 1];
    const tailKind = tail.on?.kind ?? '';
    // Whoever else was alive at that moment, and what they waited on (one census per moment).
    const at = w.atExit ? exitAt : w.until;
    let c = census.get(at);
    if (c === undefined) census.set(at, (c = aliveAt(run, open, at)));
    const self = c.waits.find((x) => x.task === w.task);
    const someoneCanAct = c.actors - (self === undefined ? (c.running.has(w.task) ? 1 : 0) : (isActor(self) ? 1 : 0)) > 0;
    const othersWaiting = c.waits.filter((x) => x.task !== w.task).slice(0, MAX_LISTED);
    const endedWhileWaiting = endedBetween(ends, w.since, w.until, w.task, open);
    if (waited < grace) continue;
    const producers = deadProducers(run, tail, w.until);
    let kind: StuckKind;
    if (producers !== undefined) kind = 'orphaned';
    else if (SETTABLE.has(tailKind) && !SELF_ENDING.has(tailKind) && !someoneCanAct) kind = othersWaiting.length > 0 ? 'quiescent' : 'orphaned';
    else if (w.atExit) kind = 'pending-at-exit';
    else if (waited >= threshold && !sleepingOnTime(w)) kind = 'long-wait';
    else continue;
    const f: StuckFinding = { kind, task: w.task, wait: stripped(w), waited, chain, endedWhileWaiting, othersWaiting };
    if (producers !== undefined) f.producers = producers;
    else if (kind === 'orphaned' || kind === 'quiescent' || kind === 'pending-at-exit') {
      if (neverFed(run, tail)) f.neverFed = true;
    }
    findings.push(f);
  }

  for (const task of run.tasks.values()) {
    if (task.unretrieved !== true) continue;
    findings.push({ kind: 'unretrieved', task: task.id, waited: 0, chain: [], endedWhileWaiting: [], othersWaiting: [] });
  }
  return findings;
}
