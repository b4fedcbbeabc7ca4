// A task's time split in words, for the tree's tooltip and the timeline's hover: running, ready but
// not running (behind whose steps), waiting (by what).
import { formatDuration } from './format';
import type { TaskInfo, TraceRunView } from './modelTypes';
import { taskTimeSplit, type TimeSplit } from './taskTimeSplit';
import { taskName, type Localize } from './taskTreeModel';
import { plainText } from './untrusted';

/** What a wait kind is, in words ('lock', 'queue', 'event' are Python's own names). */
function waitKindWords(kind: string, t: Localize): string {
  switch (kind) {
    case '': return t('something');
    case 'sleep': return t('sleep');
    case 'task': return t('other tasks');
    case 'gather': return t('gather');
    case 'io': return t('I/O');
    case 'switch': return t('greenlet switches');
    case 'yield': return t('yield');
    case 'executor': return t('executor work');
    default: return plainText(kind);
  }
}

/** "compress 300 ms, Task-1 2.0 ms" (the first `max`, then "+N more"). */
function listText(items: Array<[string, number]>, max: number, t: Localize): string {
  const shown = items.slice(0, max).map(([what, us]) => `${what} ${formatDuration(us)}`).join(', ');
  return items.length > max ? `${shown} ${t('and {0} more', items.length - max)}` : shown;
}

export function timeSplitRows(run: TraceRunView, task: TaskInfo, t: Localize, split: TimeSplit = taskTimeSplit(run, task)): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  rows.push([t('Time split'), t('{0} running, {1} ready but not running, {2} waiting', formatDuration(split.running), formatDuration(split.ready),
    formatDuration([...split.waiting.values()].reduce((a, b) => a + b, 0)))]);
  if (split.behind.length) rows.push([t('Ready behind'), plainText(listText(split.behind.map((b) => [taskName(run, b.task), b.time]), 3, t))]);
  const waits = [...split.waiting].sort((a, b) => b[1] - a[1]);
  if (waits.length) rows.push([t('Waiting on'), listText(waits.map(([k, us]) => [waitKindWords(k, t), us]), 4, t)]);
  return rows;
}
