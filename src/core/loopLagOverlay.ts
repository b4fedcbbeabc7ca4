// The timeline's lag lanes as messages: each loop's lag samples as columns, its blocking steps with
// the blame sentence the hover shows.
import type { LagLaneEntry } from './ganttProtocol';
import { loopLag } from './loopLag';
import type { TraceRunView } from './modelTypes';
import { blockingText } from './runReport';
import type { Localize } from './taskTreeModel';
import { localId, processOfId } from './processStreams';
import { hasChildProcesses, processLabel } from './processText';

/** Blocking steps past this many per lane are left out of the lane (the CLI report lists them all). */
export const MAX_LANE_BLOCKS = 5000;

export function lagLaneEntries(run: TraceRunView, t: Localize): LagLaneEntry[] {
  const grouped = hasChildProcesses(run);
  const lanes = loopLag(run);
  // Process by process (as the task groups below them), main first.
  if (grouped) lanes.sort((a, b) => (a.isLoop && b.isLoop && a.place !== null && b.place !== null ? a.place - b.place : 0));
  return lanes.map((l) => {
    // With child processes, a loop is named by its process (its id is rewritten into the process's stride).
    const proc = grouped && l.isLoop && l.place !== null ? run.processes?.get(processOfId(l.place)) : undefined;
    const which = l.place === null ? '' : proc ? t('{0}, loop {1}', processLabel(proc, t), localId(l.place))
      : l.isLoop ? t('loop {0}', l.place) : t('thread {0}', l.place);
    return {
      label: lanes.length > 1 && which ? t('Event loop lag ({0})', which) : t('Event loop lag'),
      ts: l.ts.buffer as ArrayBuffer, lag: l.lag.buffer as ArrayBuffer, task: l.task.buffer as ArrayBuffer,
      blocks: l.blocks.slice(0, MAX_LANE_BLOCKS).map((b) => ({
        task: b.task ?? -1, ts: b.ts, dur: b.dur, site: b.site ?? -1, text: blockingText(run, b, t), delayed: b.delayed.slice(0, 20).map((d) => d.task),
      })),
    };
  });
}
