// The timeline's process groups: when a run recorded child processes, each process is a header lane
// ("worker pid 4312 · 2.1 s · exit 0") with the process's top-level tasks nested under it, all on
// the run's one clock. Pure: the extension sends the groups, the webview lays them out as lanes.
import type { ProcessInfo, TaskInfo, TraceRunView } from './modelTypes';
import type { Localize } from './taskTreeModel';
import { hasChildProcesses, processDescription, processLabel, processOf, processTooltipRows, processesInOrder } from './processText';

/**
 * Chart ids of the group lanes: above every task id (a child process's ids are its key times
 * 100,000,000 plus its own), still exact in a Float64 and in JSON.
 */
export const PROCESS_GROUP_BASE = 2 ** 52;

export function processGroupId(key: number): number {
  return PROCESS_GROUP_BASE + key;
}

export function isProcessGroupId(id: number): boolean {
  return id >= PROCESS_GROUP_BASE;
}

/**
 * The group lane that stands for a process of `run` (what selecting its row in the tree selects on
 * the timeline); undefined when the run is not grouped (one process: no group lanes) or has no such process.
 */
export function groupLaneOf(run: TraceRunView, key: number): number | undefined {
  return hasChildProcesses(run) && run.processes?.has(key) ? processGroupId(key) : undefined;
}

/** One group lane, as the webview draws it. */
export interface ProcessGroupEntry {
  /** Chart id of its lane (processGroupId(key)). */
  id: number;
  key: number;
  /** `worker pid 4312`, localized. */
  label: string;
  /** `2.1 s · exit 0`, localized. */
  description: string;
  /** When it started and ended on the run's clock (us); end null while it runs or when unknown. */
  start: number;
  end: number | null;
  /** 'running' (stream open), 'done' (exit 0), 'failed' (other exit code), 'unknown' (no exit line). */
  state: 'running' | 'done' | 'failed' | 'unknown';
  /** Hover lines: the label, then "Key: value" rows (pid, how it started, parent, command line ...). */
  tooltip: string[];
}

function groupState(run: TraceRunView, p: ProcessInfo): ProcessGroupEntry['state'] {
  if (p.exitCode !== undefined) return p.exitCode === 0 && !p.error ? 'done' : 'failed';
  return p.live && run.live ? 'running' : 'unknown';
}

/** The group lanes of a run, main process first: none for a run of one process (it looks as it always did). */
export function processGroups(run: TraceRunView, t: Localize): ProcessGroupEntry[] {
  if (!hasChildProcesses(run)) return [];
  return processesInOrder(run).map((p) => {
    const label = processLabel(p, t);
    return {
      id: processGroupId(p.key), key: p.key, label, description: processDescription(run, p, t),
      start: p.startTs, end: p.endTs ?? null, state: groupState(run, p),
      tooltip: [label, ...processTooltipRows(run, p, t).map(([k, v]) => `${k}: ${v}`)],
    };
  });
}

/**
 * The lane a task hangs under on the timeline: its creator when that ran in the same process, else
 * (a top-level task, or one whose creator is unknown or in another process) its process's group;
 * -1 (a root lane) when the run is not grouped.
 */
export function timelineParent(run: TraceRunView, task: TaskInfo, grouped: boolean): number {
  const parent = task.parent !== null && task.parent >= 0 ? run.tasks.get(task.parent) : undefined;
  if (!grouped) return task.parent ?? -1;
  if (parent !== undefined && parent.id !== task.id && processOf(parent) === processOf(task)) return parent.id;
  return processGroupId(processOf(task));
}
