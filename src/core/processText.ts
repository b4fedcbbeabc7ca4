// What the views say about the processes of a run (the tree's process rows, their tooltips, the
// timeline's process groups). Pure: strings come through the caller's localizer.
import type { ProcessInfo, TaskInfo, TraceRunView } from './modelTypes';
import { plainText } from './untrusted';
import type { Localize } from './taskTreeModel';

/** True when the run recorded more than its main process (the views then group by process). */
export function hasChildProcesses(run: TraceRunView): boolean {
  return (run.processes?.size ?? 0) > 1;
}

/** The processes of a run in the order the views show them: main first, then as they started. */
export function processesInOrder(run: TraceRunView): ProcessInfo[] {
  return [...(run.processes?.values() ?? [])].sort((a, b) => (a.key === 0 ? -1 : b.key === 0 ? 1 : a.startTs - b.startTs || a.key - b.key));
}

/** The process a task ran in (0: main). */
export function processOf(task: TaskInfo): number {
  return task.process ?? 0;
}

function baseName(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return i >= 0 ? p.slice(i + 1) : p;
}

/** `main pid 4300`, `worker pid 4312`, `tool.py pid 4320` (an executed program). */
export function processLabel(p: ProcessInfo, t: Localize): string {
  if (p.key === 0 || p.start === 'main') return t('main pid {0}', p.pid);
  if (p.start === 'fork' || p.start === 'spawn' || p.start === 'forkserver') {
    const a = p.argv.join(' ');
    if (/multiprocessing[./]resource_tracker/.test(a)) return t('resource tracker pid {0}', p.pid);
    if (/multiprocessing[./]forkserver/.test(a) && p.start === 'spawn') return t('forkserver pid {0}', p.pid);
    return t('worker pid {0}', p.pid);
  }
  const first = p.argv.find((a) => a !== '' && !a.startsWith('-'));
  const name = p.argv[0] === '-c' ? 'python -c' : p.argv[0] === '-m' && p.argv[1] ? p.argv[1] : first ? baseName(first) : 'python';
  return t('{0} pid {1}', plainText(name, 60), p.pid);
}

function seconds(us: number): string {
  return us >= 10_000_000 ? `${(us / 1e6).toFixed(0)} s` : us >= 1_000_000 ? `${(us / 1e6).toFixed(1)} s` : `${Math.round(us / 1000)} ms`;
}

/** `2.1 s · exit 0`, `1.3 s · running`, `0.4 s · no exit line (killed?)`. */
export function processDescription(run: TraceRunView, p: ProcessInfo, t: Localize): string {
  const end = p.endTs ?? (p.live ? run.now : undefined);
  const parts: string[] = [];
  if (end !== undefined) parts.push(seconds(Math.max(0, end - p.startTs)));
  if (p.exitCode !== undefined) {
    parts.push(t('exit {0}', p.exitCode));
    if (p.reaped && p.error) parts.push(t('killed by {0}', plainText(p.error.type, 40)));
  } else if (p.live && run.live) parts.push(t('running'));
  else parts.push(t('no exit line (killed?)'));
  return parts.join(' \u00b7 ');
}

/** Rows of a process's tooltip. */
export function processTooltipRows(run: TraceRunView, p: ProcessInfo, t: Localize): Array<[string, string]> {
  const how: Record<string, string> = {
    main: t('the traced program'), fork: t('forked'), spawn: t('spawned (multiprocessing)'),
    forkserver: t('forked by the forkserver'), exec: t('executed Python program'),
  };
  const rows: Array<[string, string]> = [
    [t('Process'), String(p.pid)],
    [t('Started'), how[p.start] ?? plainText(p.start, 40)],
  ];
  if (p.ppid !== undefined) {
    const parent = [...(run.processes?.values() ?? [])].find((q) => q.pid === p.ppid && q.key !== p.key);
    rows.push([t('Parent'), parent ? processLabel(parent, t) : String(p.ppid)]);
  }
  if (p.argv.length) rows.push([t('Command line'), plainText(p.argv.join(' '), 300)]);
  rows.push([t('Ran'), processDescription(run, p, t)]);
  if (p.reaped && p.error) rows.push([t('Error'), t('killed by {0} (no exit line; its parent collected its status)', plainText(p.error.type, 40))]);
  else if (p.error) rows.push([t('Error'), plainText(`${p.error.type}: ${p.error.message}`, 300)]);
  let tasks = 0;
  for (const task of run.tasks.values()) if (processOf(task) === p.key) tasks++;
  rows.push([t('Tasks'), String(tasks)]);
  if (p.badLines) rows.push([t('Unreadable lines'), String(p.badLines)]);
  return rows;
}
