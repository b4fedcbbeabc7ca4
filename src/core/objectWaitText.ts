// A `future` wait on an object the trace declares (gevent's AsyncResult: `obj` in its `on`), in
// words with the object's class, so a reader sees which kind of result it waits for:
// "future (AsyncResult)". Plain futures (asyncio's) carry no object and stay "future".
import type { TraceRunView } from './modelTypes';
import type { AwaitOn } from './traceEvents';

export function futureWaitText(run: TraceRunView, on: AwaitOn, t: (message: string, ...args: Array<string | number>) => string): string | undefined {
  if (on.kind !== 'future') return undefined;
  const obj = (on as { obj?: unknown }).obj;
  const cls = typeof obj === 'number' ? run.objects?.get(obj)?.className : undefined;
  if (typeof cls !== 'string' || cls.length === 0) return undefined;
  const short = cls.slice(cls.lastIndexOf('.') + 1).slice(0, 80);
  return short ? t('{0} ({1})', on.kind, short) : undefined;
}
