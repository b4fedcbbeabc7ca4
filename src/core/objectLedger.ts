// The objects tasks wait on (wake links, v1 addition: `obj`, `hold`, `use` lines): what each is,
// who holds a lock or semaphore and since which line, and who ever put on a queue or set an event.
// Answers "held by whom" and "is there still a producer" for the stuck-task analysis.
import type { HoldEvent, ObjEvent, UseEvent } from './traceEvents';

export interface Holding { task: number | null; since: number; site: number | null }

export interface TracedObject {
  id: number;
  kind: string;
  className?: string;
  /** The task and line that created it, when the trace says. */
  task: number | null;
  site: number | null;
  /** Holdings in acquisition order: for a lock, the last one open is its holder. */
  holds: Array<Holding & { until?: number; releaseSite?: number | null }>;
  /** The trace does not say who sets, feeds or releases it (its `obj` line is `partial`): missing `set`/`put` uses mean nothing. */
  partial?: boolean;
  /** Per op (put, get, set, clear, wait): the tasks that did it (null: a loop callback), first use. */
  uses: Map<string, Array<{ task: number | null; ts: number; site: number | null }>>;
}

/** Read side, for analyses (the model's `objects`). */
export interface ObjectsView {
  get(id: number): TracedObject | undefined;
  /** Who held `obj` at time `at` (the open holdings then). */
  holdersAt(obj: number, at: number): Holding[];
  readonly size: number;
}

export class ObjectLedger implements ObjectsView {
  private readonly objects = new Map<number, TracedObject>();

  get size(): number { return this.objects.size; }

  get(id: number): TracedObject | undefined { return this.objects.get(id); }

  private objectFor(id: number): TracedObject {
    let o = this.objects.get(id);
    if (o === undefined) this.objects.set(id, (o = { id, kind: '?', task: null, site: null, holds: [], uses: new Map() }));
    return o;
  }

  foldObj(e: ObjEvent): void {
    const o = this.objectFor(e.id);
    o.kind = e.kind;
    if (typeof e.class === 'string') o.className = e.class;
    o.task = typeof e.task === 'number' ? e.task : null;
    o.site = typeof e.site === 'number' ? e.site : null;
    if (e.partial === true) o.partial = true;
  }

  foldHold(e: HoldEvent): void {
    const o = this.objectFor(e.obj);
    const task = typeof e.task === 'number' ? e.task : null;
    const site = typeof e.site === 'number' ? e.site : null;
    if (e.state === 'acquired') { o.holds.push({ task, since: e.ts, site }); return; }
    // A release ends the oldest open holding of the same task, else the oldest open one.
    let open = o.holds.find((h) => h.until === undefined && h.task === task);
    open ??= o.holds.find((h) => h.until === undefined);
    if (open !== undefined) { open.until = e.ts; open.releaseSite = site; }
  }

  foldUse(e: UseEvent): void {
    const o = this.objectFor(e.obj);
    let list = o.uses.get(e.op);
    if (list === undefined) o.uses.set(e.op, (list = []));
    list.push({ task: typeof e.task === 'number' ? e.task : null, ts: e.ts, site: typeof e.site === 'number' ? e.site : null });
  }

  holdersAt(obj: number, at: number): Holding[] {
    const o = this.objects.get(obj);
    if (o === undefined) return [];
    return o.holds.filter((h) => h.since <= at && (h.until === undefined || h.until > at))
      .map((h) => ({ task: h.task, since: h.since, site: h.site }));
  }
}
