// Stuck tasks as Problems-panel entries: at the line where the task waits, with related
// information at the lines of the rest of the chain (the holder's line where it took the lock,
// the other waits of a cycle, where a producer failed).
import type { TraceRunView } from './modelTypes';
import { stuckText } from './runReport';
import { stuckTasks, type StuckFinding, type StuckOptions } from './stuckTasks';
import type { Localize } from './taskTreeModel';
import { taskName } from './taskTreeModel';

export interface StuckProblem {
  kind: 'stuck';
  finding: StuckFinding;
  severity: 'error' | 'warning';
  file: string;
  line: number;
  message: string;
  related: Array<{ file: string; line: number; message: string }>;
  task: number;
}

const MAX_RELATED = 8;

export function stuckProblems(run: TraceRunView, t: Localize, options: StuckOptions = {}): StuckProblem[] {
  const out: StuckProblem[] = [];
  const at = (site: number | null | undefined) => (site === null || site === undefined ? undefined : run.sites.get(site));
  for (const f of stuckTasks(run, options)) {
    // Unretrieved failures and tasks pending at the loop's close are the source annotations' own problems.
    if (f.kind === 'unretrieved' || run.tasks.get(f.task)?.pendingAtClose === true) continue;
    const where = at(f.wait?.site);
    if (where === undefined) continue;
    const related: StuckProblem['related'] = [];
    const add = (site: number | null | undefined, message: string) => {
      const s = at(site);
      if (s === undefined || related.length >= MAX_RELATED) return;
      if (related.some((r) => r.file === s.file && r.line === s.line && r.message === message)) return;
      related.push({ file: s.file, line: s.line, message });
    };
    for (const l of f.chain) {
      if (l.task !== f.task) add(l.site, t('{0} waits here', taskName(run, l.task)));
      if (l.holder !== undefined) add(l.heldAt, t('{0} took it here', taskName(run, l.holder)));
    }
    for (const l of f.othersWaiting) add(l.site, t('{0} waits here', taskName(run, l.task)));
    for (const id of f.producers ?? f.endedWhileWaiting) {
      const task = run.tasks.get(id);
      if (task?.endState === 'failed') add(task.error?.site, t('{0} failed here', taskName(run, id)));
    }
    out.push({
      kind: 'stuck', finding: f, severity: f.kind === 'deadlock' || f.kind === 'quiescent' ? 'error' : 'warning',
      file: where.file, line: where.line, message: stuckText(run, f, t), related, task: f.task,
    });
  }
  return out;
}

/** The present on a live run's clock: its `t0` is the wall clock (us since the epoch) at ts 0. */
export function liveNow(run: TraceRunView, wallMs: number): number | undefined {
  const t0 = run.info?.t0;
  return run.live && typeof t0 === 'number' && Number.isFinite(t0) ? wallMs * 1000 - t0 : undefined;
}
