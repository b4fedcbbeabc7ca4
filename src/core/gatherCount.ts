// How many tasks a gather-like wait is on: the listed `tasks`, and `more` not listed (v1 addition:
// the runtime lists at most 100 of the greenlets a gevent joinall still waits on).
import type { AwaitOn } from './traceEvents';

export function gatherCount(on: AwaitOn): number {
  const o = on as Record<string, unknown>;
  const more = typeof o.more === 'number' && Number.isSafeInteger(o.more) && o.more > 0 ? o.more : 0;
  return (Array.isArray(o.tasks) ? o.tasks.length : 0) + more;
}
