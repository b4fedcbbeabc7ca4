// Turns a trace run into the timeline's messages: a header, then columns in batches, then (while the
// run is live) only what changed since the last flush. No `vscode` import: the bench uses it as is.
import type { RunDelta, TaskInfo, TraceRunView } from '../core/modelTypes';
import {
  type AwaitEntry, type BlockEntry, type CancelEntry, type ExecEntry, type GanttStrings, type GanttViewState,
  type SiteEntry, type StepBatch, type TaskColumns, type TimeoutEntry, type ToWebview, END_STATES, waitKindCode,
  taskKindCode,
} from '../core/ganttProtocol';
import { formatSeconds } from '../core/format';
import { execFuncLabel } from '../core/executorText';
import { type ProcessGroupEntry, processGroups, timelineParent } from '../core/ganttProcessGroups';
import type { Localize } from '../core/taskTreeModel';

/** Steps per `steps` message: big enough to keep message overhead low, small enough to stay responsive. */
export const STEP_BATCH = 200_000;
const TASK_BATCH = 50_000;

export class GanttEncoder {
  private stepsSent = 0;
  private awaitsSent = 0;
  private sitesSent = new Set<number>();
  private cancelsSent = 0;
  private blocksSent = 0;
  private readonly dirtyTasks = new Set<number>();
  private readonly dirtyTimeouts = new Set<number>();
  private readonly dirtyExecs = new Set<number>();
  private runDirty = false;
  /** Last step index sent per task, to give each step the `woke` of its own resumption. */
  private readonly lastStepOf = new Map<number, number>();
  private highestAwait = -1;
  /** The process groups last sent (as JSON, to send them again only when they changed). */
  private groupsSent = '[]';
  private grouped = false;

  /**
   * `localize`: the views' localizer; with it, a run with child processes is sent as one group lane
   * per process (without it, as plain task lanes: compare mode, the bench).
   */
  constructor(readonly run: TraceRunView, private readonly localize?: Localize) {}

  /** Messages that load the whole run as it is now, from `reset` to `loaded`. */
  initial(strings: GanttStrings, restore?: GanttViewState): ToWebview[] {
    return [...this.initialMessages(strings, restore)];
  }

  /**
   * The same, one message at a time, so a caller can yield to the event loop between step batches
   * (encoding 1,000,000 steps takes ~0.5 s).
   */
  *initialMessages(strings: GanttStrings, restore?: GanttViewState): Generator<ToWebview> {
    const run = this.run;
    const blockMs = run.info?.blockMs ?? 100;
    yield { type: 'reset', runKey: run.key, label: run.label, live: run.live, now: run.now, blockMs, strings, restore };
    for (const id of run.tasks.keys()) this.dirtyTasks.add(id);
    for (const id of run.timeouts.keys()) this.dirtyTimeouts.add(id);
    for (const id of run.execItems?.keys() ?? []) this.dirtyExecs.add(id);
    this.runDirty = true;
    yield* this.messages();
    yield { type: 'loaded' };
  }

  /** Records a model delta; `flush` sends it (callers throttle). */
  note(delta: RunDelta): void {
    for (const id of delta.changedTasks) this.dirtyTasks.add(id);
    for (const id of delta.newTasks) this.dirtyTasks.add(id);
    for (const id of delta.changedTimeouts) this.dirtyTimeouts.add(id);
    for (const id of delta.changedExecItems ?? []) this.dirtyExecs.add(id);
    if (delta.runChanged || delta.stepsFrom < this.run.steps.count) this.runDirty = true;
  }

  get pending(): boolean {
    return this.dirtyTasks.size > 0 || this.dirtyTimeouts.size > 0 || this.dirtyExecs.size > 0 || this.runDirty
      || this.stepsSent < this.run.steps.count || this.cancelsSent < this.run.cancels.length || this.blocksSent < this.run.blocks.length;
  }

  /** Messages for everything that changed since the last flush. */
  flush(): ToWebview[] {
    return [...this.messages()];
  }

  /** Sites, tasks, steps (each batch followed by the await entries it introduced), markers, run state. */
  private *messages(): Generator<ToWebview> {
    const run = this.run;
    const sites: SiteEntry[] = [];
    for (const s of run.sites.values()) {
      if (this.sitesSent.has(s.id)) continue;
      this.sitesSent.add(s.id);
      sites.push({ id: s.id, file: s.file, line: s.line, func: s.func });
    }
    if (sites.length) yield { type: 'sites', sites };

    if (this.localize && (this.runDirty || this.dirtyTasks.size)) {
      const groups: ProcessGroupEntry[] = processGroups(run, this.localize);
      const json = JSON.stringify(groups);
      if (json !== this.groupsSent) {
        this.groupsSent = json;
        // A worker that appears mid-run turns grouping on: every task hangs under a group from now on.
        if (this.grouped !== groups.length > 0) for (const id of run.tasks.keys()) this.dirtyTasks.add(id);
        this.grouped = groups.length > 0;
        yield { type: 'processes', groups };
      }
    }

    if (this.dirtyTasks.size) {
      const list: TaskInfo[] = [];
      for (const id of this.dirtyTasks) {
        const t = run.tasks.get(id);
        if (t) list.push(t);
      }
      this.dirtyTasks.clear();
      const grouped = this.grouped;
      const parentOf = grouped ? (t: TaskInfo): number => timelineParent(run, t, true) : undefined;
      for (let i = 0; i < list.length; i += TASK_BATCH) yield { type: 'tasks', columns: encodeTasks(list.slice(i, i + TASK_BATCH), parentOf) };
    }

    // Steps of tasks not sent yet (a live run moves on while we yield) get placeholder lanes in the
    // webview until the next flush sends their tasks.
    const steps = run.steps;
    while (this.stepsSent < steps.count) {
      const from = this.stepsSent;
      const to = Math.min(steps.count, from + STEP_BATCH);
      this.stepsSent = to;
      const batch = this.encodeSteps(from, to);
      if (this.highestAwait >= this.awaitsSent) {
        const entries: AwaitEntry[] = [];
        for (let id = this.awaitsSent; id <= this.highestAwait; id++) entries.push(this.encodeAwait(id));
        const fromAwait = this.awaitsSent;
        this.awaitsSent = this.highestAwait + 1;
        yield { type: 'awaits', from: fromAwait, entries };
      }
      yield { type: 'steps', batch };
    }

    if (this.dirtyExecs.size) {
      const items: ExecEntry[] = [];
      for (const id of this.dirtyExecs) {
        const x = run.execItems?.get(id);
        if (!x) continue;
        items.push({
          id: x.id, task: x.task ?? -1, site: x.site ?? -1, def: x.defSite ?? -1, func: execFuncLabel(x),
          thread: x.thread ?? null, ident: x.threadIdent ?? null, executor: x.executor, pool: x.pool,
          submitted: x.submittedTs, started: x.startedTs ?? null, end: x.endTs ?? null, state: x.state,
          error: x.error ? (x.error.message ? `${x.error.type}: ${x.error.message}` : x.error.type) : '',
        });
      }
      this.dirtyExecs.clear();
      if (items.length) yield { type: 'execs', items };
    }

    const timeouts: TimeoutEntry[] = [];
    for (const id of this.dirtyTimeouts) {
      const t = run.timeouts.get(id);
      if (!t) continue;
      timeouts.push({
        id: t.id, task: t.task, armed: t.armedTs, state: t.state, endTs: t.endTs ?? null,
        site: t.site ?? -1, delay: t.delay, cancelled: t.cancelled.slice(),
      });
    }
    this.dirtyTimeouts.clear();
    const cancelsFrom = this.cancelsSent, blocksFrom = this.blocksSent;
    const cancels: CancelEntry[] = run.cancels.slice(cancelsFrom).map((c) => ({
      task: c.task, ts: c.ts, by: c.by ?? -1, cause: String(c.cause), site: c.site ?? -1,
    }));
    const blocks: BlockEntry[] = run.blocks.slice(blocksFrom).map((b) => ({ task: b.task ?? -1, ts: b.ts, dur: b.dur, site: b.site ?? -1 }));
    this.cancelsSent = cancelsFrom + cancels.length;
    this.blocksSent = blocksFrom + blocks.length;
    if (timeouts.length || cancels.length || blocks.length) {
      yield { type: 'markers', timeouts, cancelsFrom, cancels, blocksFrom, blocks };
    }

    if (this.runDirty) {
      this.runDirty = false;
      yield { type: 'run', live: run.live, now: run.now, exitCode: run.exit ? run.exit.code : null };
    }
  }

  private encodeSteps(from: number, to: number): StepBatch {
    const s = this.run.steps;
    const n = to - from;
    const task = new Float64Array(n);
    const ts = new Float64Array(n);
    const dur = new Float64Array(n);
    const woke = new Float64Array(n);
    const wait = new Int32Array(n);
    task.set(s.task.subarray(from, to));
    ts.set(s.ts.subarray(from, to));
    dur.set(s.dur.subarray(from, to));
    wait.set(s.awaitId.subarray(from, to));
    const last = this.lastStepOf;
    let highest = this.highestAwait;
    for (let i = 0; i < n; i++) {
      const j = from + i;
      const t = task[i];
      const prev = last.get(t);
      // The model stores a resumption's `woke` on the step before it; the chart wants it on the step it precedes.
      woke[i] = prev === undefined ? NaN : s.wokeNext[prev];
      last.set(t, j);
      if (wait[i] > highest) highest = wait[i];
    }
    this.highestAwait = highest;
    return { from, task: task.buffer, ts: ts.buffer, dur: dur.buffer, woke: woke.buffer, wait: wait.buffer };
  }

  private encodeAwait(id: number): AwaitEntry {
    const a = this.run.awaitAt(id);
    if (!a) return [-1, 0, '', []];
    const site = a.stack.length ? a.stack[a.stack.length - 1] : -1;
    const on = a.on as (Record<string, unknown> & { kind: string }) | undefined;
    if (!on) return [site, 0, '', []];
    const kind = waitKindCode(on.kind);
    let detail = on.kind;
    let targets: number[] = [];
    switch (on.kind) {
      case 'sleep': detail = typeof on.delay === 'number' ? formatSeconds(on.delay) : ''; break;
      case 'task': if (typeof on.task === 'number') targets = [on.task]; detail = ''; break;
      case 'gather': if (Array.isArray(on.tasks)) targets = on.tasks.filter((x): x is number => typeof x === 'number'); detail = ''; break;
      case 'switch': if (typeof on.to === 'number') targets = [on.to]; detail = ''; break;
      case 'io': detail = typeof on.op === 'string' ? on.op : ''; break;
      case 'executor': return [site, kind, '', [], typeof on.item === 'number' ? on.item : -1];
      default: detail = kind === 0 ? on.kind : ''; break;
    }
    return [site, kind, detail, targets];
  }
}

/** `parentOf`: the lane each task hangs under (default: its creator). */
export function encodeTasks(list: readonly TaskInfo[], parentOf?: (t: TaskInfo) => number): TaskColumns {
  const n = list.length;
  const id = new Float64Array(n);
  const parent = new Float64Array(n);
  const kind = new Uint8Array(n);
  const created = new Float64Array(n);
  const end = new Float64Array(n);
  const endState = new Uint8Array(n);
  const site = new Float64Array(n);
  const errorSite = new Float64Array(n);
  const name: string[] = new Array(n);
  const coro: string[] = new Array(n);
  const error: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const t = list[i];
    id[i] = t.id;
    parent[i] = parentOf ? parentOf(t) : t.parent ?? -1;
    kind[i] = taskKindCode(t.kind);
    created[i] = t.createdTs;
    end[i] = t.endTs ?? NaN;
    endState[i] = t.endState ? END_STATES.indexOf(t.endState) : 0;
    site[i] = t.site ?? -1;
    errorSite[i] = t.error?.site ?? -1;
    name[i] = t.name;
    coro[i] = t.coro;
    error[i] = t.error ? (t.error.message ? `${t.error.type}: ${t.error.message}` : t.error.type) : '';
  }
  return {
    id: id.buffer, parent: parent.buffer, kind: kind.buffer, created: created.buffer, end: end.buffer,
    endState: endState.buffer, site: site.buffer, errorSite: errorSite.buffer, name, coro, error,
  };
}
