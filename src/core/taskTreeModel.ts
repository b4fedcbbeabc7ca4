// What the task tree shows, as plain data: labels, descriptions, detail rows, paging and refresh
// planning. Pure (no `vscode`) so it is unit-tested; taskTreeProvider.ts turns it into TreeItems.
import type { AwaitOn } from './traceEvents';
import { gatherCount } from './gatherCount';
import { futureWaitText } from './objectWaitText';
import type { BlockInfo, RunDelta, TaskInfo, TaskStatus, TraceRunView } from './modelTypes';
import { formatDuration, formatSeconds } from './format';
import { execFuncLabel, execItemsOf, execItemText, execWaitText } from './executorText';
import type { TaskFilter } from './taskFilter';
import { MAX_LINE_CHARS } from './traceParser';
import { ioWaitText } from './ioWaitText';
import { plainText } from './untrusted';

/** Localizer: `vscode.l10n.t` in the extension, plain `{0}` substitution in tests. */
export type Localize = (message: string, ...args: Array<string | number>) => string;

export const plainLocalize: Localize = (message, ...args) =>
  message.replace(/\{(\d+)\}/g, (m, i: string) => (args[Number(i)] !== undefined ? String(args[Number(i)]) : m));

/** Children shown per page under one parent; a "… N more" row reveals the next page. */
export const PAGE_SIZE = 200;

/** Codicon + contributed theme colour (without the `asyncTrace.` prefix handled by the caller). */
export interface IconSpec { icon: string; color?: string }

export const STATUS_ICONS: Record<TaskStatus, IconSpec> = {
  running: { icon: 'sync~spin', color: 'asyncTrace.running' },
  waiting: { icon: 'watch', color: 'asyncTrace.waiting' },
  ready: { icon: 'debug-pause', color: 'asyncTrace.ready' },
  done: { icon: 'pass', color: 'asyncTrace.done' },
  cancelled: { icon: 'circle-slash', color: 'asyncTrace.cancelled' },
  failed: { icon: 'error', color: 'asyncTrace.failed' },
};

export function statusText(status: TaskStatus, t: Localize): string {
  switch (status) {
    case 'running': return t('running');
    case 'waiting': return t('waiting');
    case 'ready': return t('ready');
    case 'done': return t('done');
    case 'cancelled': return t('cancelled');
    case 'failed': return t('failed');
    default: return String(status);
  }
}

/** Last path segment, for either separator (traces may come from Windows). */
export function baseName(file: string): string {
  const i = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return i >= 0 ? file.slice(i + 1) : file;
}

/** `file.py:12`, or undefined for an unknown site. */
export function siteLabel(run: TraceRunView, siteId: number | null | undefined): string | undefined {
  if (siteId === null || siteId === undefined) return undefined;
  const s = run.sites.get(siteId);
  return s ? plainText(`${baseName(s.file)}:${s.line}`) : undefined;
}

export function taskName(run: TraceRunView, id: number | null | undefined): string {
  if (id === null || id === undefined) return '?';
  const name = run.tasks.get(id)?.name;
  return name ? plainText(name) : `#${plainText(id)}`;
}

/** The program a run traced: script base name, `-m module`, or the run's own label. */
export function programLabel(run: TraceRunView): string {
  const info = run.info;
  if (info?.module) return plainText(`-m ${info.module}`);
  const script = info?.argv?.[0];
  return plainText(typeof script === 'string' && script ? baseName(script) : run.label);
}

/** What a suspension waited on, in words: "sleep 1.0 s", "Task-3", "gather of 3 tasks", "recv". */
export function awaitOnText(run: TraceRunView, on: AwaitOn | undefined, t: Localize): string | undefined {
  const text = awaitOnWords(run, on, t);
  return text === undefined ? undefined : plainText(text);
}

function awaitOnWords(run: TraceRunView, on: AwaitOn | undefined, t: Localize): string | undefined {
  if (!on) return undefined;
  const o = on as Record<string, unknown>;
  switch (on.kind) {
    case 'sleep': return typeof o.delay === 'number' ? t('sleep {0}', formatSeconds(o.delay)) : t('sleep');
    case 'task': return t('task {0}', taskName(run, o.task as number));
    case 'gather': {
      return t('gather of {0} tasks', gatherCount(on));
    }
    case 'io': return plainText(ioWaitText(o.op, t));
    case 'switch': return t('switch to {0}', taskName(run, o.to as number));
    case 'yield': return t('yield');
    case 'executor': return execWaitText(run, o.item, t);
    default: return plainText(futureWaitText(run, on, t) ?? on.kind);
  }
}

/** How long a task lived (ended) or has been alive so far. */
export function lifetime(run: TraceRunView, task: TaskInfo): number {
  const end = task.endTs ?? run.now;
  return Math.max(0, end - task.createdTs);
}

/** What a task is, in words: asyncio task, greenlet, trio task. */
export function taskKindText(kind: TaskInfo['kind'], t: Localize): string {
  return kind === 'greenlet' ? t('greenlet') : kind === 'trio' ? t('trio task') : t('asyncio task');
}

/** Tree row description of a task: `say_after · 2.00 s · cancelled`. */
export function taskDescription(run: TraceRunView, task: TaskInfo, t: Localize): string {
  const parts: string[] = [];
  if (task.coro && task.coro !== task.name) parts.push(plainText(task.coro));
  parts.push(formatDuration(lifetime(run, task)));
  let state = statusText(task.status, t);
  if (task.endState === undefined && !run.live) state = t('{0}, never ended', state);
  parts.push(state);
  return parts.join(' \u00b7 ');
}

/** Label/value pairs for a task's tooltip; the extension renders and escapes them. */
export function taskTooltipRows(run: TraceRunView, task: TaskInfo, t: Localize): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  rows.push([t('Coroutine'), task.coro || '?']);
  rows.push([t('Kind'), taskKindText(task.kind, t)]);
  rows.push([t('Id'), String(task.id)]);
  rows.push([t('State'), statusText(task.status, t)]);
  const where = siteLabel(run, task.site);
  const created = formatDuration(task.createdTs);
  rows.push([t('Created'), where ? t('at {0} by {1}, {2}', created, parentText(run, task, t), where) : t('at {0} by {1}', created, parentText(run, task, t))]);
  if (task.endTs !== undefined) rows.push([t('Ended'), t('at {0}', formatDuration(task.endTs))]);
  rows.push([t('Lifetime'), formatDuration(lifetime(run, task))]);
  rows.push([t('Steps'), t('{0}, running {1} in all', task.stepCount, formatDuration(task.runTotal))]);
  if (task.currentWait) {
    const on = awaitOnText(run, task.currentWait.on, t);
    const at = siteLabel(run, task.currentWait.stack[task.currentWait.stack.length - 1]);
    rows.push([t('Waiting'), [on, at && t('at {0}', at), t('since {0}', formatDuration(task.currentWait.since))].filter(Boolean).join(' ')]);
  }
  if (task.children.length) rows.push([t('Children'), String(task.children.length)]);
  if (task.error) rows.push([t('Error'), `${task.error.type}: ${task.error.message}`]);
  if (task.thread !== undefined) rows.push([t('Thread'), String(task.thread)]);
  return neutralRows(rows);
}

/** Every value of a tooltip as neutral plain text (they mix the trace's strings into sentences). */
function neutralRows(rows: Array<[string, string]>): Array<[string, string]> {
  return rows.map(([label, value]) => [label, plainText(value)]);
}

function parentText(run: TraceRunView, task: TaskInfo, t: Localize): string {
  return task.parent === null ? t('the program') : taskName(run, task.parent);
}

/** One row under an expanded task: an await site, a timeout, a cancellation, an error, a block. */
export interface DetailRow {
  /** Stable within the task (used in tree ids). */
  key: string;
  kind: 'await' | 'timeout' | 'cancel' | 'error' | 'unretrieved' | 'block' | 'pending' | 'moreBlocks' | 'executor';
  label: string;
  description?: string;
  tooltip: string[];
  /** Clicking opens this site. */
  site?: number;
  icon: IconSpec;
}

/** Block rows listed per task before a summary row. */
export const MAX_BLOCK_ROWS = 50;
/** Executor work items listed per task. */
export const MAX_EXEC_ROWS = 50;

export function taskDetails(run: TraceRunView, task: TaskInfo, blocks: readonly BlockInfo[], t: Localize): DetailRow[] {
  const rows: DetailRow[] = [];
  const waitingAt = task.currentWait ? task.currentWait.stack[task.currentWait.stack.length - 1] : undefined;
  for (const s of task.awaitSites.values()) {
    const label = siteLabel(run, s.site) ?? t('unknown site');
    const on = awaitOnText(run, s.lastOn, t);
    const parts = [`\u00d7${s.count}`];
    if (s.total > 0 || s.count > 0) parts.push(t('total {0}', formatDuration(s.total)), t('longest {0}', formatDuration(s.max)));
    if (on) parts.push(on);
    if (waitingAt === s.site) parts.push(t('waiting now'));
    const site = run.sites.get(s.site);
    rows.push({
      key: `await:${s.site}`,
      kind: 'await',
      label,
      description: parts.join(' \u00b7 '),
      tooltip: [
        t('Await in {0} at {1}', site?.func ?? '?', label),
        t('Waited {0} times: {1} in all, longest {2}', s.count, formatDuration(s.total), formatDuration(s.max)),
        ...(on ? [t('Waits on: {0}', on)] : []),
        ...(site ? [site.file] : []),
      ],
      site: s.site,
      icon: { icon: 'debug-pause', color: waitingAt === s.site ? 'asyncTrace.waiting' : undefined },
    });
  }
  const items = execItemsOf(run, task.id);
  for (const x of items.slice(0, MAX_EXEC_ROWS)) {
    const where = siteLabel(run, x.site);
    const def = siteLabel(run, x.defSite);
    const text = execItemText(x, run.now, t);
    const waiting = task.currentWait?.on?.kind === 'executor' && (task.currentWait.on as { item?: unknown }).item === x.id;
    rows.push({
      key: `exec:${x.id}`,
      kind: 'executor',
      label: t('waiting on {0}', text),
      description: where,
      tooltip: [
        t('{0} ran in an executor for this task', execFuncLabel(x)),
        ...(where ? [t('Submitted at {0}', where)] : []),
        ...(def ? [t('Defined at {0}', def)] : []),
        ...(x.startedTs !== undefined ? [t('Queued {0}, ran {1}', formatDuration(x.startedTs - x.submittedTs), formatDuration((x.endTs ?? run.now) - x.startedTs))] : []),
        ...(x.error ? [plainText(`${x.error.type}: ${x.error.message}`)] : []),
      ],
      site: x.site ?? undefined,
      icon: { icon: 'server-process', color: x.error ? 'asyncTrace.failed' : waiting ? 'asyncTrace.waiting' : undefined },
    });
  }
  for (const id of task.timeouts) {
    const to = run.timeouts.get(id);
    if (!to) continue;
    const delay = to.delay === null ? t('no deadline') : formatSeconds(to.delay);
    const state = to.state === 'fired' ? t('fired') : to.state === 'cleared' ? t('cleared') : t('armed');
    const where = siteLabel(run, to.site);
    const parts: string[] = [];
    if (where) parts.push(where);
    if (to.cancelled.length) parts.push(t('cancelled {0}', to.cancelled.map((c) => taskName(run, c)).join(', ')));
    rows.push({
      key: `timeout:${id}`,
      kind: 'timeout',
      label: t('timeout {0} \u00b7 {1}', delay, state),
      description: parts.join(' \u00b7 ') || undefined,
      tooltip: [
        t('Timeout of {0} armed at {1}', delay, formatDuration(to.armedTs)),
        ...(to.endTs !== undefined ? [t('{0} at {1}', state, formatDuration(to.endTs))] : []),
        ...(to.cancelled.length ? [t('Cancelled: {0}', to.cancelled.map((c) => taskName(run, c)).join(', '))] : []),
      ],
      site: to.site ?? undefined,
      icon: to.state === 'fired' ? { icon: 'bell-dot', color: 'asyncTrace.timeout' } : to.state === 'cleared' ? { icon: 'bell-slash' } : { icon: 'bell' },
    });
  }
  task.cancels.forEach((c, i) => {
    const by = c.by === null ? undefined : taskName(run, c.by);
    const where = siteLabel(run, c.site);
    const cause = causeText(String(c.cause), t);
    rows.push({
      key: `cancel:${i}`,
      kind: 'cancel',
      label: by ? t('cancelled by {0}', by) : t('cancellation requested'),
      description: [where, cause].filter(Boolean).join(' \u00b7 '),
      tooltip: [
        by ? t('Cancellation requested by {0} at {1}', by, formatDuration(c.ts)) : t('Cancellation requested at {0}', formatDuration(c.ts)),
        t('Cause: {0}', cause),
        ...(where ? [t('From {0}', where)] : []),
      ],
      site: c.site ?? undefined,
      icon: { icon: 'circle-slash', color: 'asyncTrace.cancelled' },
    });
  });
  if (task.error && task.status === 'failed') {
    const where = siteLabel(run, task.error.site);
    rows.push({
      key: 'error',
      kind: 'error',
      label: task.error.message ? `${task.error.type}: ${oneLine(task.error.message)}` : task.error.type,
      description: where,
      tooltip: [`${task.error.type}: ${task.error.message}`, ...(where ? [t('Raised at {0}', where)] : [])],
      site: task.error.site ?? undefined,
      icon: { icon: 'error', color: 'asyncTrace.failed' },
    });
  }
  if (task.unretrieved) {
    rows.push({
      key: 'unretrieved',
      kind: 'unretrieved',
      label: t('exception never retrieved'),
      tooltip: [t('The program never awaited this task or read its exception.')],
      site: task.error?.site ?? undefined,
      icon: { icon: 'warning', color: 'asyncTrace.failed' },
    });
  }
  if (task.pendingAtClose) {
    rows.push({
      key: 'pending',
      kind: 'pending',
      label: t('still pending when its loop closed'),
      tooltip: [t('The event loop closed before this task ended.')],
      site: task.site ?? undefined,
      icon: { icon: 'warning', color: 'asyncTrace.cancelled' },
    });
  }
  blocks.slice(0, MAX_BLOCK_ROWS).forEach((b, i) => {
    const where = siteLabel(run, b.site);
    rows.push({
      key: `block:${i}`,
      kind: 'block',
      label: t('blocked the loop for {0}', formatDuration(b.dur)),
      description: [where, t('at {0}', formatDuration(b.ts))].filter(Boolean).join(' \u00b7 '),
      tooltip: [t('This step held the event loop for {0}, from {1}', formatDuration(b.dur), formatDuration(b.ts)), ...(where ? [t('Running {0}', where)] : [])],
      site: b.site ?? undefined,
      icon: { icon: 'flame', color: 'asyncTrace.block' },
    });
  });
  if (blocks.length > MAX_BLOCK_ROWS) {
    const rest = blocks.slice(MAX_BLOCK_ROWS);
    rows.push({
      key: 'moreBlocks',
      kind: 'moreBlocks',
      label: t('\u2026 {0} more blocking steps', rest.length),
      description: t('{0} in all', formatDuration(rest.reduce((a, b) => a + b.dur, 0))),
      tooltip: [],
      icon: { icon: 'flame', color: 'asyncTrace.block' },
    });
  }
  // The trace's strings (names, paths, functions, messages, causes) are in these sentences.
  for (const r of rows) {
    r.label = plainText(r.label);
    if (r.description !== undefined) r.description = plainText(r.description);
    r.tooltip = r.tooltip.map((line) => plainText(line));
  }
  return rows;
}

function causeText(cause: string, t: Localize): string {
  switch (cause) {
    case 'timeout': return t('timeout');
    case 'cancel': return t('cancel()');
    case 'shutdown': return t('shutdown');
    case 'kill': return t('kill');
    default: return plainText(cause);
  }
}

function oneLine(s: string): string {
  const line = s.split('\n', 1)[0];
  return line.length > 200 ? `${line.slice(0, 199)}\u2026` : line;
}

/** Whether the task row can expand (children or detail rows). */
export function taskHasContent(task: TaskInfo, blockCount: number): boolean {
  return task.children.length > 0 || task.awaitSites.size > 0 || task.timeouts.length > 0 || task.cancels.length > 0
    || task.status === 'failed' || !!task.unretrieved || !!task.pendingAtClose || blockCount > 0;
}

/** Run row description: `14:02:11 · 2.00 s · exit 0`, or `live · 1.2 s`. */
export function runDescription(run: TraceRunView, t: Localize, formatTime: (iso: string) => string): string {
  const parts: string[] = [];
  if (run.info?.started) parts.push(formatTime(run.info.started));
  parts.push(formatDuration(run.exit?.ts ?? run.now));
  if (run.live) parts.push(t('live'));
  else if (run.exit) parts.push(t('exit {0}', run.exit.code));
  else parts.push(t('no exit (killed?)'));
  return plainText(parts.join(' \u00b7 '));
}

export function runTooltipRows(run: TraceRunView, t: Localize, sourcePath?: string): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  const info = run.info;
  if (info) {
    const argv = Array.isArray(info.argv) ? info.argv : [];
    rows.push([t('Command'), (info.module ? ['-m', info.module, ...argv.slice(1)] : argv).join(' ')]);
    rows.push([t('Python'), info.python]);
    rows.push([t('Process id'), String(info.pid)]);
    rows.push([t('Working directory'), info.cwd]);
    rows.push([t('Started'), info.started]);
  }
  const c = run.counts;
  rows.push([t('Tasks'), t('{0} ({1} alive, {2} failed, {3} cancelled)', c.tasks, c.alive, c.failed, c.cancelled)]);
  rows.push([t('Events'), String(c.events)]);
  const loops = loopsText(run, t);
  if (loops) rows.push([t('Event loops'), loops]);
  if (run.exit) {
    rows.push([t('Exit code'), String(run.exit.code)]);
    if (run.exit.error) rows.push([t('Uncaught error'), `${run.exit.error.type}: ${run.exit.error.message}`]);
    if (run.exit.dropped) rows.push([t('Dropped events'), String(run.exit.dropped)]);
  }
  for (const line of issueLines(run, t)) rows.push([t('Trace issue'), line]);
  if (sourcePath) rows.push([t('Trace file'), sourcePath]);
  return neutralRows(rows);
}

/** What the reader skipped or could not trust, one sentence each (empty when the trace is clean). */
export function issueLines(run: TraceRunView, t: Localize): string[] {
  const i = run.issues;
  const out: string[] = [];
  if (i.badLines > 0) {
    out.push(i.badLines === 1
      ? t('Skipped 1 malformed line (line {0}).', i.firstBadLine ?? '?')
      : t('Skipped {0} malformed lines (first at line {1}).', i.badLines, i.firstBadLine ?? '?'));
  }
  if (i.truncatedTail) out.push(t('The last line was cut off (the program was killed, or the file is still being written).'));
  if (i.newerVersion !== undefined) out.push(t('Written by a newer Async Trace (format v{0}): some details may be missing.', i.newerVersion));
  if (i.missingHeader) out.push(t('The trace does not start with a run header: it may be incomplete.'));
  if (i.invalidLines) {
    out.push(t('Skipped {0} lines with impossible values (negative durations, infinite numbers, bad ids or nesting too deep; first at line {1}).',
      i.invalidLines, i.firstInvalidLine ?? '?'));
  }
  if (i.longLines) out.push(t('Skipped {0} lines longer than {1} MB.', i.longLines, MAX_LINE_CHARS / (1024 * 1024)));
  if (i.droppedFields) out.push(t('Ignored {0} fields of the wrong type.', i.droppedFields));
  if (i.duplicates) out.push(t('Ignored {0} repeated declarations (a second run header, a task declared or ended twice, a reused site id).', i.duplicates));
  if (i.parentCycles) out.push(t('Listed {0} tasks at the top level: their parents would have made a cycle.', i.parentCycles));
  const partial = partialLoopsMessage(run, t);
  if (partial) out.push(partial);
  return out.map((line) => plainText(line));
}

/** The run's event loops, in words: `asyncio (uvloop.Loop, recorded in part), trio`. */
export function loopsText(run: Pick<TraceRunView, 'loops'>, t: Localize): string {
  const names = new Set<string>();
  for (const l of run.loops?.values() ?? []) {
    if (names.size >= 10) break;
    const cls = plainText(l.className ?? '', 200);
    let name = cls === 'trio' ? 'trio' : cls ? t('asyncio ({0})', cls) : 'asyncio';
    if (l.unsupported) name = t('{0} (not recorded)', cls || `#${l.id}`);
    else if (l.partial) name = t('{0} (recorded in part)', name);
    names.add(name);
  }
  return [...names].join(', ');
}

/**
 * What to tell the user when part of the run escaped the runtime's hooks, naming the loops: a
 * loop that makes or runs its tasks itself (uvloop), a trio version that hides part of its runs,
 * a loop library the runtime does not record at all (curio); undefined when none did.
 */
export function partialLoopsMessage(run: Pick<TraceRunView, 'loops'>, t: Localize): string | undefined {
  const unrecorded = new Set<string>();
  const trioUnseen = new Set<string>();
  const partial = new Set<string>();
  for (const l of run.loops?.values() ?? []) {
    if (!l.partial && !l.unsupported) continue;
    const name = plainText(l.className ?? `#${l.id}`, 200);
    if (l.unsupported) unrecorded.add(name);
    else if (l.className === 'trio') for (const u of l.unseen?.length ? l.unseen : ['?']) trioUnseen.add(unseenText(u, t));
    else partial.add(name);
  }
  const out: string[] = [];
  if (unrecorded.size) {
    out.push(t('{0} ran, but Async Trace does not record it: what ran there is not in this trace.', [...unrecorded].join(', ')));
  }
  if (trioUnseen.size) {
    out.push(t('This trio version hides part of its runs from Async Trace: not recorded: {0}.', [...trioUnseen].join(', ')));
  }
  if (partial.size) {
    out.push(t('The event loop {0} runs its tasks itself (as uvloop does): only part of what they do is recorded. Run it on the standard asyncio loop to see everything.', [...partial].join(', ')));
  }
  return out.length ? plainText(out.join(' ')) : undefined;
}

function unseenText(what: string, t: Localize): string {
  switch (what) {
    case 'ends': return t('how tasks end');
    case 'deadlines': return t('deadlines');
    case 'cancellations': return t('cancellations');
    case '?': return t('some events');
    default: return plainText(what, 40);
  }
}

/** A page window over a child list: which ids to show and how many stay hidden behind "… N more". */
export function pageOf<T>(items: readonly T[], limit: number): { shown: readonly T[]; hidden: number } {
  if (items.length <= limit) return { shown: items, hidden: 0 };
  return { shown: items.slice(0, limit), hidden: items.length - limit };
}

/** The limit needed so `index` falls inside the shown page. */
export function limitToShow(index: number, current: number, page = PAGE_SIZE): number {
  if (index < current) return current;
  return (Math.floor(index / page) + 1) * page;
}

/** Tasks created in a task, or root tasks, kept if visible under the filter. */
export function visibleChildren(run: TraceRunView, parent: number | null, visible: ReadonlySet<number> | undefined): number[] {
  const ids = parent === null ? run.roots : run.tasks.get(parent)?.children ?? [];
  return visible ? ids.filter((id) => visible.has(id)) : ids.slice();
}

/** The parent under which a task is listed: its creator when known to the run, else the run. */
export function treeParent(run: TraceRunView, taskId: number): number | null {
  const task = run.tasks.get(taskId);
  if (!task || task.parent === null) return null;
  return run.tasks.has(task.parent) ? task.parent : null;
}

/** Accumulates deltas between throttled refreshes and says which rows to refresh. */
export class RefreshPlanner {
  private readonly changed = new Set<number>();
  private readonly added = new Set<number>();
  private runChanged = false;

  get pending(): boolean { return this.runChanged || this.changed.size > 0 || this.added.size > 0; }

  /**
   * `alsoChanged`: tasks whose detail rows changed without the task being listed in the delta
   * (the owner of a changed timeout, the target of a new cancel, the task of a new block).
   */
  add(delta: RunDelta, alsoChanged: Iterable<number> = []): void {
    for (const id of delta.newTasks) this.added.add(id);
    for (const id of delta.changedTasks) this.changed.add(id);
    for (const id of alsoChanged) this.changed.add(id);
    if (delta.runChanged) this.runChanged = true;
  }

  /**
   * Drains the accumulated changes. `parentOf` gives a task's tree parent (null: the run row).
   * Returns the task ids whose rows to refresh and whether the run row (with its roots) must,
   * falling back to the whole run when more than `max` rows would refresh (cheaper in one go).
   */
  take(parentOf: (id: number) => number | null, max = 300): { run: boolean; tasks: number[]; changed: number[] } {
    const refresh = new Set<number>();
    let runRow = this.runChanged;
    for (const id of this.added) {
      const p = parentOf(id);
      if (p === null) runRow = true;
      else refresh.add(p);
    }
    for (const id of this.changed) if (!this.added.has(id)) refresh.add(id);
    const changed = [...new Set([...this.changed, ...this.added])];
    this.changed.clear();
    this.added.clear();
    this.runChanged = false;
    if (refresh.size > max) return { run: true, tasks: [], changed };
    return { run: runRow, tasks: [...refresh], changed };
  }
}

/** Per-task index of blocking steps, grown incrementally from `run.blocks`. */
export class BlockIndex {
  private seen = 0;
  private readonly byTask = new Map<number, BlockInfo[]>();

  update(run: TraceRunView): number[] {
    const touched: number[] = [];
    const blocks = run.blocks;
    for (; this.seen < blocks.length; this.seen++) {
      const b = blocks[this.seen];
      if (b.task === null) continue;
      let list = this.byTask.get(b.task);
      if (!list) this.byTask.set(b.task, (list = []));
      list.push(b);
      touched.push(b.task);
    }
    return touched;
  }

  of(taskId: number): readonly BlockInfo[] { return this.byTask.get(taskId) ?? []; }
}

/** The active filter in words, for the view's description: `failed or cancelled, "worker"`. */
export function describeFilter(filter: TaskFilter, t: Localize): string {
  const parts: string[] = [];
  for (const s of filter.states ?? []) parts.push(s === 'alive' ? t('still running') : t('failed or cancelled'));
  const text = filter.text?.trim();
  if (text) parts.push(`"${text}"`);
  return parts.join(', ');
}
