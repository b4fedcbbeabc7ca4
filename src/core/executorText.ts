// Executor work items in words ("blocking_io() in a worker thread (asyncio_0), 100 ms") and the
// lanes of the timeline they run on. Pure: the tree, hovers, annotations and timeline share it.
import type { ExecItemInfo, TraceRunView } from './modelTypes';
import { formatDuration } from './format';
import { plainText } from './untrusted';

export type Translate = (message: string, ...args: Array<string | number>) => string;

/** The function as the user knows it: `blocking_io()`, `socket.getaddrinfo()` (trace text, neutralized). */
export function execFuncLabel(x: Pick<ExecItemInfo, 'func' | 'module'>): string {
  return plainText(`${x.module && x.module !== '__main__' ? `${x.module}.` : ''}${x.func}()`);
}

/** How long it ran (started..end; submitted..end when the start is not seen), ongoing until `now`. */
export function execRunTime(x: ExecItemInfo, now: number): number {
  const from = x.startedTs ?? x.submittedTs;
  return Math.max(0, (x.endTs ?? now) - from);
}

/** What a task waiting on this item waits for, in words. */
export function execItemText(x: ExecItemInfo, now: number, t: Translate): string {
  const fn = execFuncLabel(x);
  if (x.state === 'cancelled' && x.startedTs === undefined) return t('{0} cancelled before it ran', fn);
  const dur = formatDuration(execRunTime(x, now)) + (x.endTs === undefined ? '+' : '');
  let text: string;
  const executor = plainText(x.executor) || '?';
  if (x.thread !== undefined) text = t('{0} in a worker thread ({1}), {2}', fn, plainText(x.thread), dur);
  else if (x.pool === 'process') text = t('{0} in a worker process ({1}), {2}', fn, x.executor ? executor : 'ProcessPoolExecutor', dur);
  else if (x.endTs === undefined) text = t('{0} queued in {1}, {2}', fn, executor, dur);
  else text = t('{0} in {1}, {2}', fn, executor, dur);
  if (x.error) text += `, ${t('raised {0}', plainText(x.error.type))}`;
  return text;
}

/** The text for an await `on` naming an executor item (`{"kind":"executor","item":N}`). */
export function execWaitText(run: TraceRunView, item: unknown, t: Translate): string {
  const x = typeof item === 'number' ? run.execItems?.get(item) : undefined;
  return x ? execItemText(x, run.now, t) : t('work in an executor');
}

/** Items submitted by a task, in submission order. */
export function execItemsOf(run: TraceRunView, task: number): ExecItemInfo[] {
  const out: ExecItemInfo[] = [];
  if (!run.execItems) return out;
  for (const x of run.execItems.values()) if (x.task === task) out.push(x);
  out.sort((a, b) => a.submittedTs - b.submittedTs || a.id - b.id);
  return out;
}

/** One lane of the timeline's executor section: a worker thread, or a pool whose workers are not seen. */
export interface ExecLane {
  /** Thread name, or `ProcessPoolExecutor` (+ ` #2` ... when its items overlap). */
  name: string;
  pool: string;
  /** Item ids in time order, never overlapping. */
  items: number[];
}

export interface ExecLaneItem {
  id: number;
  thread?: string;
  threadIdent?: number;
  executor: string;
  pool: string;
  submitted: number;
  started?: number;
  end?: number;
}

/**
 * Lanes for executor items: one per worker thread (a thread runs one item at a time), sorted by
 * name; items whose thread is unknown (process pools, cancelled in the queue) go to their pool's
 * lanes, packed so that items on one lane never overlap. `now` ends the ongoing ones.
 */
export function execLanes(items: readonly ExecLaneItem[], now: number): ExecLane[] {
  const byThread = new Map<string, ExecLane>();
  const unplaced = new Map<string, ExecLaneItem[]>();
  const sorted = [...items].sort((a, b) => (a.started ?? a.submitted) - (b.started ?? b.submitted) || a.id - b.id);
  for (const x of sorted) {
    if (x.thread !== undefined) {
      const key = `${x.thread}\u0000${x.threadIdent ?? ''}`;
      let lane = byThread.get(key);
      if (!lane) byThread.set(key, (lane = { name: x.thread, pool: x.pool, items: [] }));
      lane.items.push(x.id);
    } else {
      const key = x.executor || x.pool;
      let list = unplaced.get(key);
      if (!list) unplaced.set(key, (list = []));
      list.push(x);
    }
  }
  const lanes = [...byThread.values()].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  for (const [key, list] of unplaced) {
    const packed: { lane: ExecLane; until: number }[] = [];
    for (const x of list) {
      const from = x.started ?? x.submitted;
      const to = x.end ?? now;
      let slot = packed.find((p) => p.until <= from);
      if (!slot) {
        slot = { lane: { name: packed.length ? `${key} #${packed.length + 1}` : key, pool: x.pool, items: [] }, until: 0 };
        packed.push(slot);
      }
      slot.lane.items.push(x.id);
      slot.until = to;
    }
    for (const p of packed) lanes.push(p.lane);
  }
  return lanes;
}
