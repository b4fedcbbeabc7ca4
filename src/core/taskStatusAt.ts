// A task's state at a given time, from its step rows (binary search).
import type { TaskInfo, TaskStatus, TraceRunView } from './modelTypes';

/**
 * What a task was doing at time `t` (us): running inside a step, ready (woken, not yet running;
 * only when the trace has `woke`), waiting between steps, or its end state after it ended.
 * Undefined before the task existed.
 */
export function statusAt(run: TraceRunView, task: TaskInfo, t: number): TaskStatus | undefined {
  if (t < task.createdTs) return undefined;
  if (task.endTs !== undefined && t >= task.endTs) return task.endState;
  const cols = run.steps;
  const idx = task.steps;
  // Last step starting at or before t.
  let lo = 0;
  let hi = idx.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cols.ts[idx.at(mid)] <= t) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  if (found < 0) return 'ready'; // created, not run yet
  const s = idx.at(found);
  if (t < cols.ts[s] + cols.dur[s]) return 'running';
  const woke = cols.wokeNext[s];
  if (!Number.isNaN(woke) && t >= woke) return 'ready';
  return cols.awaitId[s] >= 0 ? 'waiting' : 'running';
}
