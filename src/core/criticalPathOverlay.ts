// The critical path as the timeline draws it: its segments flattened into numbers (a path through a
// long loop has many), its title and notable stages in words for the chart's accessible summary.
import { pathStages, type CriticalPath } from './criticalPath';
import { formatDuration } from './format';
import { PATH_KINDS, PATH_STRIDE, waitKindCode, type PathOverlay } from './ganttProtocol';
import type { TraceRunView } from './modelTypes';
import { notableStages, stageText } from './runReport';
import { taskName, type Localize } from './taskTreeModel';

/** Segments past this many are left out of the chart (their time stays in the title's totals). */
export const MAX_OVERLAY_SEGMENTS = 200_000;

/** "Critical path of Task-1: 3.02 s (1 ms running, 0 ready but not running, 3.01 s waiting)" */
export function criticalPathTitle(run: TraceRunView, cp: CriticalPath, t: Localize): string {
  return t('Critical path of {0}: {1} ({2} running, {3} ready but not running, {4} waiting)', taskName(run, cp.task),
    formatDuration(cp.to - cp.from), formatDuration(cp.running), formatDuration(cp.ready), formatDuration(cp.waiting));
}

export function pathOverlay(run: TraceRunView, cp: CriticalPath, t: Localize): PathOverlay {
  const n = Math.min(cp.segments.length, MAX_OVERLAY_SEGMENTS);
  const segments: number[] = new Array(n * PATH_STRIDE);
  for (let i = 0; i < n; i++) {
    const s = cp.segments[i];
    const at = i * PATH_STRIDE;
    segments[at] = PATH_KINDS.indexOf(s.kind);
    segments[at + 1] = s.task;
    segments[at + 2] = s.from;
    segments[at + 3] = s.to;
    segments[at + 4] = s.kind === 'wait' ? waitKindCode(s.on?.kind) : 0;
  }
  return {
    task: cp.task,
    title: criticalPathTitle(run, cp, t),
    stages: notableStages(pathStages(cp)).map((s) => stageText(run, s, t)),
    segments,
  };
}
