// One run, many processes: every child process of a traced run writes its own stream (its own
// file beside the main trace, or its own live connection), with ids of its own. A child stream's
// events are rewritten into the run's id spaces (each child process has a stride of ids of its
// own) and onto the main process's clock (the `t0` wall clock bases of the two `run` lines),
// then folded into the same model: the views see one run whose tasks say which process they ran in.
import type { AwaitInfo, AwaitOn, RunEvent, TraceEvent } from './traceEvents';

/** Ids of child process k are k * PROCESS_ID_STRIDE + its own id. */
export const PROCESS_ID_STRIDE = 100_000_000;

/** The process key of an id rewritten by a child stream (0: the main process). */
export function processOfId(id: number): number {
  return Math.floor(id / PROCESS_ID_STRIDE);
}

/** The id as the process wrote it (what its own trace says). */
export function localId(id: number): number {
  return id % PROCESS_ID_STRIDE;
}

function off(v: unknown, base: number): unknown {
  return typeof v === 'number' ? v + base : v;
}

/** Rewrites the ids and times of one child process's events. */
export class ProcessStreamMap {
  readonly base: number;
  /** Added to every ts of this stream: its clock origin on the main process's clock. */
  shift = 0;

  constructor(readonly key: number) {
    this.base = key * PROCESS_ID_STRIDE;
  }

  /** The shift from the two wall clock bases (0 when either is unknown). */
  align(main: RunEvent | undefined, own: RunEvent): void {
    const a = main?.t0;
    const b = own.t0;
    this.shift = typeof a === 'number' && typeof b === 'number' && Number.isFinite(a - b) ? b - a : 0;
  }

  ts(v: number): number { return v + this.shift; }

  awaitInfo(a: AwaitInfo): AwaitInfo {
    const b = this.base;
    const stack = Array.isArray(a.stack) ? a.stack.map((s) => (typeof s === 'number' ? s + b : s)) : a.stack;
    return a.on === undefined ? { stack } : { stack, on: this.on(a.on) };
  }

  private on(o: AwaitOn): AwaitOn {
    const b = this.base;
    const r: { kind: string; [f: string]: unknown } = { ...o };
    if (typeof r.task === 'number') r.task += b;
    if (typeof r.to === 'number') r.to += b;
    if (typeof r.item === 'number') r.item += b;
    if (Array.isArray(r.tasks)) r.tasks = r.tasks.map((t) => off(t, b));
    return r;
  }

  /** The event in the run's ids and clock (a copy; `run` and `exit` are the caller's). */
  event(e: TraceEvent): TraceEvent {
    const b = this.base;
    const r = { ...e } as Record<string, unknown>;
    if (typeof r.ts === 'number') r.ts = r.ts + this.shift;
    switch (e.type) {
      case 'site': case 'loop': case 'timeout': case 'exec':
        r.id = off(r.id, b);
        break;
      case 'task':
        r.id = off(r.id, b);
        r.parent = off(r.parent, b);
        r.loop = off(r.loop, b);
        break;
      case 'cancel':
        r.by = off(r.by, b);
        r.timeout = off(r.timeout, b);
        break;
      case 'step':
        if (e.await) r.await = this.awaitInfo(e.await);
        if (typeof r.woke === 'number') r.woke = r.woke + this.shift;
        break;
    }
    if (e.type !== 'task' && e.type !== 'site') r.task = off(r.task, b);
    if (e.type !== 'site') r.site = off(r.site, b);
    if (e.type === 'exec') r.def = off(r.def, b);
    if (e.type === 'loop' && Array.isArray(r.pending)) r.pending = r.pending.map((t) => off(t, b));
    if (r.error && typeof r.error === 'object') {
      const err = { ...(r.error as Record<string, unknown>) };
      err.site = off(err.site, b);
      r.error = err;
    }
    for (const k of ['task', 'site', 'def', 'by', 'timeout', 'parent', 'loop'] as const) {
      if (r[k] === undefined && !(k in e)) delete r[k];
    }
    return r as unknown as TraceEvent;
  }
}
