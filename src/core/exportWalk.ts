// What an exported trace holds, independent of the file format (Chrome JSON, Perfetto protobuf):
// the process, its OS threads, one track per task nested under its parent's (root tasks under
// their thread), steps and waits as slices inside a task-lifetime slice, executor work items as
// slices on their worker thread, timeouts, cancellations and failures as instants, and flows for
// creation (the parent's step to the child's first step), awaiting (the awaited task's last step to
// the waiter's next step) and wake-ups by a switch (the switching step to the target's next step).
// Slices of one track never overlap: a malformed trace's overlapping steps are pushed later.
import type { TaskInfo, TraceRunView } from './modelTypes';
import { wallTime } from './runCompare';

export type ArgValue = string | number;

export interface ExportTrack {
  /** Unique within the export; > 0. */
  uuid: number;
  parent: number | null;
  name: string;
  kind: 'process' | 'thread' | 'task';
  /** Process / thread ids as the formats want them (small non-negative ints). */
  pid: number;
  tid?: number;
  /** Position among its siblings (Chrome's sort index). */
  order: number;
}

export interface ExportSink {
  track(t: ExportTrack): void;
  /**
   * A slice [ts, ts + dur] (us) on a track. flowsOut start here, flowsIn end here. `args` objects
   * are shared between slices (a sink may cache their encoding by identity); `woke`, when given, is
   * one more argument of this slice alone (`woke_us`).
   */
  slice(track: number, ts: number, dur: number, name: string, category: string, args: Record<string, ArgValue> | undefined,
    flowsOut: readonly number[] | undefined, flowsIn: readonly number[] | undefined, woke?: number): void;
  /** Opens / closes an enclosing slice (the task's lifetime); everything between nests inside. */
  begin(track: number, ts: number, name: string, category: string, args: Record<string, ArgValue> | undefined): void;
  end(track: number, ts: number): void;
  instant(track: number, ts: number, name: string, category: string, args: Record<string, ArgValue> | undefined): void;
}

export interface ExportCounts { tracks: number; slices: number; flows: number; instants: number }

const NO_FLOWS: readonly number[] = [];

function siteArg(run: TraceRunView, id: number | null | undefined): string | undefined {
  if (id === null || id === undefined) return undefined;
  const s = run.sites.get(id);
  return s ? `${s.file}:${s.line} ${s.func}` : undefined;
}

function onArg(run: TraceRunView, on: { kind: string; [k: string]: unknown } | undefined): string | undefined {
  if (!on) return undefined;
  const name = (id: unknown) => { const t = typeof id === 'number' ? run.tasks.get(id) : undefined; return t ? `${t.name} (#${t.id})` : `#${String(id)}`; };
  switch (on.kind) {
    case 'sleep': return `sleep ${String(on.delay)} s`;
    case 'task': return `task ${name(on.task)}`;
    case 'gather': return `gather ${Array.isArray(on.tasks) ? on.tasks.map(name).join(', ') : ''}`;
    case 'switch': return `switch to ${name(on.to)}`;
    case 'io': case 'queue': return typeof on.op === 'string' ? `${on.kind} ${on.op}` : on.kind;
    case 'executor': return `executor item ${String(on.item)}`;
    default: return String(on.kind);
  }
}

/** Walks a run and tells the sink what to write. Returns what it wrote. */
export function walkExport(run: TraceRunView, sink: ExportSink): ExportCounts {
  const it = walkExportSteps(run, sink);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}

/**
 * The walk, pausing after each task's events: a writer hands out what the sink gathered so far
 * (the export streams to its file while it walks, instead of holding the whole output).
 */
export function* walkExportSteps(run: TraceRunView, sink: ExportSink): Generator<void, ExportCounts> {
  const counts: ExportCounts = { tracks: 0, slices: 0, flows: 0, instants: 0 };
  const cols = run.steps;
  const wall = wallTime(run);
  const pid = Math.max(0, Math.min(0x7fffffff, Math.trunc(run.info?.pid ?? 1)));
  let uuid = 1;
  const processUuid = uuid++;
  const program = run.info?.module ? `-m ${run.info.module}` : String(run.info?.argv?.[0] ?? run.label);
  sink.track({ uuid: processUuid, parent: null, name: `python ${program}`, kind: 'process', pid, order: 0 });
  counts.tracks++;

  // OS threads: the tasks' threads (first seen = the main thread, tid = pid as on Linux) and the
  // executors' worker threads. Idents are 64-bit: the formats' tids are small, so they are numbered.
  const threadUuid = new Map<string, { uuid: number; tid: number }>();
  const thread = (key: string, name: string): number => {
    let th = threadUuid.get(key);
    if (!th) {
      const tid = threadUuid.size === 0 ? pid : pid + threadUuid.size;
      th = { uuid: uuid++, tid };
      threadUuid.set(key, th);
      sink.track({ uuid: th.uuid, parent: processUuid, name, kind: 'thread', pid, tid, order: threadUuid.size });
      counts.tracks++;
    }
    return th.uuid;
  };

  // Flows, decided before any slice is written (a slice carries the ids of the flows it starts / ends).
  const flowsOut = new Map<number, number[]>();
  const flowsIn = new Map<number, number[]>();
  let flowId = 1;
  const flow = (from: number, to: number) => {
    if (from === to) return;
    const id = flowId++;
    const o = flowsOut.get(from); if (o) o.push(id); else flowsOut.set(from, [id]);
    const i = flowsIn.get(to); if (i) i.push(id); else flowsIn.set(to, [id]);
    counts.flows++;
  };
  const stepAt = (t: TaskInfo, ts: number): number => {
    // The task's step running at ts (binary search over its time-ordered steps), or -1.
    let lo = 0;
    let hi = t.steps.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const i = t.steps.at(mid);
      if (cols.ts[i] <= ts) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (found < 0) return -1;
    const i = t.steps.at(found);
    return cols.ts[i] + cols.dur[i] >= ts ? i : -1;
  };
  const firstStepFrom = (t: TaskInfo, ts: number): number => {
    let lo = 0;
    let hi = t.steps.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (cols.ts[t.steps.at(mid)] >= ts) { found = mid; hi = mid - 1; } else lo = mid + 1;
    }
    return found < 0 ? -1 : t.steps.at(found);
  };
  for (const t of run.tasks.values()) {
    const n = t.steps.length;
    if (n > 0 && t.parent !== null) {
      const p = run.tasks.get(t.parent);
      const from = p ? stepAt(p, t.createdTs) : -1;
      if (from >= 0) flow(from, t.steps.at(0));
    }
    for (let k = 0; k + 1 < n; k++) {
      const i = t.steps.at(k);
      const aid = cols.awaitId[i];
      if (aid < 0) continue;
      const on = run.awaitAt(aid)?.on;
      if (!on) continue;
      const next = t.steps.at(k + 1);
      if (on.kind === 'task' || on.kind === 'gather') {
        const o = on as { task?: unknown; tasks?: unknown };
        const ids: unknown[] = on.kind === 'task' ? [o.task] : Array.isArray(o.tasks) ? o.tasks : [];
        for (const id of ids) {
          const a = typeof id === 'number' ? run.tasks.get(id) : undefined;
          if (!a || a.steps.length === 0 || a.endTs === undefined) continue;
          const last = a.steps.at(a.steps.length - 1);
          // Only when the awaited task ended during this wait: that end is what woke the waiter.
          if (a.endTs >= cols.ts[i] + cols.dur[i] && a.endTs <= cols.ts[next]) flow(last, next);
        }
      } else if (on.kind === 'switch' && typeof on.to === 'number') {
        const target = run.tasks.get(on.to);
        const to = target ? firstStepFrom(target, cols.ts[i] + cols.dur[i]) : -1;
        if (to >= 0) flow(i, to);
      }
    }
  }

  // Task tracks, parents before children (depth first, creation order).
  const taskUuid = new Map<number, number>();
  const order: TaskInfo[] = [];
  const stack: Array<{ id: number; parentUuid: number; order: number }> = [];
  const roots = run.roots;
  for (let r = roots.length - 1; r >= 0; r--) {
    const t = run.tasks.get(roots[r]);
    if (!t) continue;
    stack.push({ id: t.id, parentUuid: thread(`t${t.thread ?? 'main'}`, t.thread !== undefined ? `thread ${t.thread}` : 'main thread'), order: r });
  }
  while (stack.length) {
    const { id, parentUuid, order: pos } = stack.pop()!;
    const t = run.tasks.get(id);
    if (!t || taskUuid.has(id)) continue;
    const u = uuid++;
    taskUuid.set(id, u);
    order.push(t);
    sink.track({ uuid: u, parent: parentUuid, name: `${t.name} (${t.coro}) #${t.id}`, kind: 'task', pid, order: pos });
    counts.tracks++;
    for (let c = t.children.length - 1; c >= 0; c--) stack.push({ id: t.children[c], parentUuid: u, order: c });
  }

  // Executor work items on their worker threads, one after another per thread.
  const byThread = new Map<string, Array<{ s: number; e: number; name: string; args: Record<string, ArgValue> }>>();
  for (const x of run.execItems?.values() ?? []) {
      if (x.startedTs === undefined) continue;
      const key = `x${x.threadIdent ?? x.thread ?? x.executor}`;
      const args: Record<string, ArgValue> = { item: x.id, executor: x.executor, state: x.state };
      if (x.task !== null) args.task = x.task;
      const site = siteArg(run, x.site);
      if (site) args.submitted_at = site;
      if (x.error) args.error = x.error.type;
      const l = byThread.get(key) ?? [];
      if (!byThread.has(key)) { byThread.set(key, l); thread(key, x.thread ?? `worker ${x.threadIdent ?? ''}`); }
      l.push({ s: x.startedTs, e: x.endTs ?? wall, name: x.func, args });
    }

  // A wait's name and arguments depend only on its interned await entry (site, stack, what it
  // waited on): made once per entry, not once per wait (a loop's million waits share a few).
  const waits = new Map<number, { name: string; args: Record<string, ArgValue> }>();
  const waitOf = (aid: number): { name: string; args: Record<string, ArgValue> } => {
    let w = waits.get(aid);
    if (w) return w;
    const entry = run.awaitAt(aid);
    const args: Record<string, ArgValue> = {};
    const st = entry?.stack ?? [];
    const site = siteArg(run, st[st.length - 1]);
    if (site) args.await_site = site;
    const on = onArg(run, entry?.on);
    if (on) args.awaited = on;
    if (st.length > 1) args.stack = st.map((x) => siteArg(run, x) ?? `#${x}`).join(' > ');
    w = { name: `await ${entry?.on?.kind ?? ''}`.trim(), args };
    waits.set(aid, w);
    return w;
  };

  for (const t of order) {
    const track = taskUuid.get(t.id)!;
    const n = t.steps.length;
    // Lifetime: from creation (or an eager task's first step) to its end (or the end of the run).
    let start = t.createdTs;
    if (n > 0) start = Math.min(start, cols.ts[t.steps.at(0)]);
    // First pass: where the last slice ends once overlaps are pushed later.
    let cursor = start;
    for (let k = 0; k < n; k++) {
      const i = t.steps.at(k);
      const s = Math.max(cursor, cols.ts[i]);
      cursor = s + cols.dur[i];
      if (cols.awaitId[i] >= 0) {
        const we = cols.waitEnd[i];
        cursor = Math.max(cursor, we === we ? we : (t.endTs ?? wall));
      }
    }
    const stop = Math.max(cursor, t.endTs ?? wall, start);
    const lifeArgs: Record<string, ArgValue> = { task: t.id, coro: t.coro, kind: t.kind, state: t.endState ?? t.status };
    const created = siteArg(run, t.site);
    if (created) lifeArgs.created_at = created;
    if (t.parent !== null) lifeArgs.parent = t.parent;
    sink.begin(track, start, t.name, 'task', lifeArgs);
    counts.slices++;
    cursor = start;
    for (let k = 0; k < n; k++) {
      const i = t.steps.at(k);
      const s = Math.max(cursor, cols.ts[i]);
      const d = cols.dur[i];
      sink.slice(track, s, d, t.coro || t.name, 'step', undefined, flowsOut.get(i) ?? NO_FLOWS, flowsIn.get(i) ?? NO_FLOWS);
      counts.slices++;
      cursor = s + d;
      const aid = cols.awaitId[i];
      if (aid < 0) continue;
      const wait = waitOf(aid);
      const we = cols.waitEnd[i];
      const until = Math.max(cursor, we === we ? we : Math.min(stop, t.endTs ?? wall));
      const woke = cols.wokeNext[i];
      sink.slice(track, cursor, until - cursor, wait.name, 'wait', wait.args, undefined, undefined, woke === woke ? woke : undefined);
      counts.slices++;
      cursor = until;
    }
    for (const c of t.cancels) {
      const args: Record<string, ArgValue> = { cause: c.cause };
      if (c.by !== null && c.by !== undefined) args.by = c.by;
      const site = siteArg(run, c.site);
      if (site) args.site = site;
      if (c.timeout !== undefined && c.timeout !== null) args.timeout = c.timeout;
      sink.instant(track, clamp(c.ts, start, stop), 'cancel requested', 'cancel', args);
      counts.instants++;
    }
    for (const id of t.timeouts) {
      const tm = run.timeouts.get(id);
      if (!tm || tm.task !== t.id || tm.state !== 'fired' || tm.endTs === undefined) continue;
      const args: Record<string, ArgValue> = { timeout: tm.id };
      const site = siteArg(run, tm.site);
      if (site) args.site = site;
      if (tm.delay !== null) args.delay_s = tm.delay;
      sink.instant(track, clamp(tm.endTs, start, stop), 'timeout fired', 'timeout', args);
      counts.instants++;
    }
    if (t.endState === 'failed' && t.endTs !== undefined) {
      const args: Record<string, ArgValue> = { error: t.error?.type ?? '?', message: t.error?.message ?? '' };
      const site = siteArg(run, t.error?.site);
      if (site) args.site = site;
      sink.instant(track, clamp(t.endTs, start, stop), `failed: ${t.error?.type ?? '?'}`, 'failure', args);
      counts.instants++;
    }
    sink.end(track, stop);
    yield;
  }

  {
    for (const [key, items] of byThread) {
      const track = threadUuid.get(key)!.uuid;
      items.sort((p, q) => p.s - q.s);
      let cursor = -Infinity;
      for (const it of items) {
        const s = Math.max(cursor, it.s);
        const e = Math.max(s, it.e);
        sink.slice(track, s, e - s, it.name, 'executor', it.args, undefined, undefined);
        counts.slices++;
        cursor = e;
      }
    }
  }
  return counts;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
