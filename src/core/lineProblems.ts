// Problems-panel entries of a run's editor annotations: fired timeouts, blocking steps, unretrieved
// failures, tasks pending at the loop's close, each at its line with related locations. Pure: no vscode.
import type { TaskInfo, TraceRunView } from './modelTypes';
import { formatDuration } from './format';
import { delayText, englishT, taskList, type RunAnnotations, type Translate } from './lineAnnotations';
import { plainText } from './untrusted';

export type ProblemKind = 'timeoutFired' | 'block' | 'unretrieved' | 'pending';

export interface Problem {
  kind: ProblemKind;
  severity: 'error' | 'warning' | 'information';
  file: string;
  line: number;
  message: string;
  /** Task creation sites (and the like) that explain the problem. */
  related: Array<{ file: string; line: number; message: string }>;
  /** The main task concerned (for links). */
  task?: number;
}

/** Problems of a run: fired timeouts, blocking steps, unretrieved failures, tasks pending at loop close. */
export function collectProblems(run: TraceRunView, ann: RunAnnotations, t: Translate = englishT): Problem[] {
  const out: Problem[] = [];
  const site = (id: number | null | undefined) => (id === null || id === undefined ? undefined : run.sites.get(id));
  const createdAt = (task: TaskInfo | undefined) => {
    const s = site(task?.site);
    return s && task ? [{ file: s.file, line: s.line, message: t('{0} created here', task.name) }] : [];
  };
  /** Creation sites of the first tasks, unique, at most MAX_RELATED (a line may concern thousands). */
  const relatedOf = (ids: readonly number[]) => {
    const out: Array<{ file: string; line: number; message: string }> = [];
    const seen = new Set<string>();
    for (const id of ids) {
      if (out.length >= MAX_RELATED) break;
      for (const r of createdAt(run.tasks.get(id))) {
        const k = `${r.file}\n${r.line}\n${r.message}`;
        if (!seen.has(k)) { seen.add(k); out.push(r); }
      }
    }
    return out;
  };
  for (const f of ann.files.values()) {
    for (const info of f.lines.values()) {
      const tl = info.timeout;
      if (tl && tl.fired > 0) {
        const ids = [...tl.cancelled];
        for (const to of tl.timeouts) {
          if (ids.length >= MAX_RELATED * 4) break;
          if (to.state === 'fired') ids.push(to.task);
        }
        out.push({
          kind: 'timeoutFired', severity: 'warning', file: f.file, line: info.line,
          message: tl.fired === 1
            ? (tl.cancelled.length
              ? t('Timeout of {0} fired and cancelled {1}', delayText(tl, t), taskList(run, tl.cancelled, t))
              : t('Timeout of {0} fired', delayText(tl, t)))
            : (tl.cancelled.length
              ? t('Timeout of {0} fired {1} times and cancelled {2}', delayText(tl, t), tl.fired, taskList(run, tl.cancelled, t))
              : t('Timeout of {0} fired {1} times', delayText(tl, t), tl.fired)),
          related: relatedOf(ids),
          task: tl.timeouts.find((x) => x.state === 'fired')?.task,
        });
      }
      if (info.block) {
        const b = info.block;
        out.push({
          kind: 'block', severity: 'warning', file: f.file, line: info.line,
          message: b.count === 1
            ? t('A step blocked the event loop for {0}', formatDuration(b.max))
            : t('Steps blocked the event loop {0} times, longest {1}, total {2}', b.count, formatDuration(b.max), formatDuration(b.total)),
          related: relatedOf(b.tasks),
          task: b.tasks[0],
        });
      }
    }
  }
  for (const id of ann.unretrieved) {
    const task = run.tasks.get(id);
    if (task?.unretrieved) {
      const at = site(task.error?.site) ?? site(task.site);
      if (at) {
        out.push({
          kind: 'unretrieved', severity: 'error', file: at.file, line: at.line,
          message: t('Task {0} failed with {1}: {2} and nobody retrieved the exception', task.name, task.error?.type ?? '?', task.error?.message ?? ''),
          related: at.id === task.site ? [] : createdAt(task),
          task: task.id,
        });
      }
    }
  }
  for (const id of ann.pendingAtClose) {
    const task = run.tasks.get(id);
    if (task?.pendingAtClose) {
      const at = site(task.site);
      if (at) {
        out.push({
          kind: 'pending', severity: 'warning', file: at.file, line: at.line,
          message: t('Task {0} was still pending when its event loop closed', task.name),
          related: [],
          task: task.id,
        });
      }
    }
  }
  // Problems entries and their related lines are plain text made of the trace's strings.
  for (const p of out) {
    p.message = plainText(p.message);
    for (const r of p.related) r.message = plainText(r.message);
  }
  return out;
}

/** Related locations listed per problem, at most. */
const MAX_RELATED = 10;
