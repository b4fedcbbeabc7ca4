// The run's await table: each distinct (stack, on) of the trace's `await` fields stored once, and
// the steps point at it by id.
import type { AwaitInfo, AwaitOn } from './traceEvents';

/** A cheap 32-bit hash of an `on` kind or distinguishing value (equality is checked after). */
function hashValue(v: unknown): number {
  if (typeof v === 'number') return (v * 1000003) | 0;
  if (typeof v === 'string') {
    let h = v.length;
    for (let i = 0; i < v.length; i++) h = (Math.imul(h, 31) + v.charCodeAt(i)) | 0;
    return h;
  }
  return v === undefined ? 0x2545f491 : 0x1b873593;
}

/**
 * What tells two `on` values of the same kind apart. Kinds of the format are keyed by their one
 * defining field (fields a later version may add to them do not split entries); other kinds by a
 * key-sorted text of all fields. No per-step enumeration of fields: it is the hot path.
 */
function onValue(on: AwaitOn): unknown {
  const o = on as Record<string, unknown>;
  switch (on.kind) {
    case 'sleep': return o.delay;
    case 'task': return o.task;
    case 'switch': return o.to;
    case 'gather': return Array.isArray(o.tasks) ? o.tasks.join(',') : '';
    // Kinds with no field or an `op` (io read/write, queue get/put).
    case 'io': case 'future': case 'yield': case 'hub': case 'process':
      return o.op;
    // Synchronisation objects: which object (wake links' `obj`) tells waits apart too.
    case 'lock': case 'event': case 'queue': case 'condition': case 'semaphore': case 'barrier':
      return o.obj === undefined ? o.op : `${String(o.op)}#${String(o.obj)}`;
  }
  let k = '';
  for (const f of Object.keys(o).sort()) k += JSON.stringify(f) + ':' + JSON.stringify(o[f]) + ',';
  return k;
}

export class AwaitTable {
  private readonly entries: { stack: number[]; on?: AwaitOn }[] = [];
  /** Await hash -> entry id, or the ids of all entries sharing that hash. */
  private readonly byHash = new Map<number, number | number[]>();
  /** Kind and distinguishing value of each await entry, for the exact comparison. */
  private readonly kinds: (string | undefined)[] = [];
  private readonly values: unknown[] = [];

  /** Number of distinct (stack, on) entries. */
  get count(): number { return this.entries.length; }

  at(awaitId: number): { stack: readonly number[]; on?: AwaitOn } | undefined {
    return this.entries[awaitId];
  }

  /** The `on` kind of an entry (undefined: the await named none). */
  kind(awaitId: number): string | undefined { return this.kinds[awaitId]; }

  /** The distinguishing value of an entry's `on` (see onValue). */
  value(awaitId: number): unknown { return this.values[awaitId]; }

  /**
   * The await table entry for (stack, on), created on first sight. One numeric-keyed Map probe
   * on a hash of the stack sites, the kind and the kind's distinguishing value (see onValue),
   * then an exact comparison: no string keys are built per step.
   */
  idOf(a: AwaitInfo): number {
    const stack = a.stack;
    let h = stack.length;
    for (let i = 0; i < stack.length; i++) h = (Math.imul(h, 0x9e3779b1) ^ stack[i]) | 0;
    const on = a.on ?? undefined;
    let kind: string | undefined;
    let value: unknown;
    if (on !== undefined) {
      kind = on.kind;
      value = onValue(on);
      h = Math.imul(h ^ hashValue(kind), 0x85ebca6b) ^ hashValue(value);
    }
    h &= 0x3fffffff; // stays a small integer key
    const hit = this.byHash.get(h);
    if (hit !== undefined) {
      if (typeof hit === 'number') {
        if (this.sameAwait(hit, stack, kind, value)) return hit;
      } else {
        for (const id of hit) if (this.sameAwait(id, stack, kind, value)) return id;
      }
    }
    const id = this.entries.length;
    this.entries.push(on === undefined ? { stack } : { stack, on });
    this.kinds.push(kind);
    this.values.push(value);
    if (hit === undefined) this.byHash.set(h, id);
    else if (typeof hit === 'number') this.byHash.set(h, [hit, id]);
    else hit.push(id);
    return id;
  }

  private sameAwait(id: number, stack: number[], kind: string | undefined, value: unknown): boolean {
    const other = this.entries[id].stack;
    if (other.length !== stack.length || this.kinds[id] !== kind) return false;
    for (let i = 0; i < stack.length; i++) if (other[i] !== stack[i]) return false;
    const v = this.values[id];
    return v === value || (v !== v && value !== value); // NaN equals NaN here
  }
}
