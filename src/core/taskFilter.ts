// Which tasks a view shows for the user's filter (state chips + text), shared by the tree and the timeline.
import type { TaskInfo, TraceRunView } from './modelTypes';

export type TaskStateFilter = 'failedOrCancelled' | 'alive';

export interface TaskFilter {
  /** Any of these states matches (empty or absent: all states). */
  states?: TaskStateFilter[];
  /** Case-insensitive substring of the task's name or coroutine (empty or absent: any). */
  text?: string;
}

export function isFilterActive(filter: TaskFilter | undefined): boolean {
  return !!filter && ((filter.states?.length ?? 0) > 0 || (filter.text?.trim().length ?? 0) > 0);
}

export function taskMatches(_run: TraceRunView, task: TaskInfo, filter: TaskFilter): boolean {
  return matches(task, filter.states, normalize(filter.text));
}

/**
 * Ids of the tasks to show: the matching tasks plus all their ancestors, so the tree stays nested.
 * An inactive filter shows every task.
 */
export function visibleTaskIds(run: TraceRunView, filter: TaskFilter): Set<number> {
  const out = new Set<number>();
  const states = filter.states;
  const text = normalize(filter.text);
  const all = (states === undefined || states.length === 0) && text === '';
  for (const task of run.tasks.values()) {
    if (!all && !matches(task, states, text)) continue;
    // Climb until an ancestor already shown (its own ancestors are then in too); guard against cycles.
    let cur: TaskInfo | undefined = task;
    while (cur !== undefined && !out.has(cur.id)) {
      out.add(cur.id);
      cur = cur.parent === null ? undefined : run.tasks.get(cur.parent);
    }
  }
  return out;
}

function normalize(text: string | undefined): string {
  return text === undefined ? '' : text.trim().toLowerCase();
}

function matches(task: TaskInfo, states: TaskStateFilter[] | undefined, text: string): boolean {
  if (states !== undefined && states.length > 0) {
    let ok = false;
    for (const s of states) {
      if (s === 'alive' ? task.endState === undefined : task.endState === 'failed' || task.endState === 'cancelled') { ok = true; break; }
    }
    if (!ok) return false;
  }
  if (text !== '') {
    return task.name.toLowerCase().includes(text) || task.coro.toLowerCase().includes(text);
  }
  return true;
}
