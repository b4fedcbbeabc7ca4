// The timeline's compare mode: two runs shown one above the other on one clock. Both runs' times are
// microseconds since their own start, so the two charts line up at 0 without shifting. Each run's
// usual messages (GanttEncoder) are renumbered into one id space: a synthetic root lane per run
// ("Before: …", "After: …") holds that run's top-level tasks, and task, site, await, step, executor,
// timeout, cancel and block numbers of the later run follow those of the earlier one, so the webview
// needs nothing but its ordinary store. No `vscode` import: unit tests use it as is.
import type { TaskInfo, TraceRunView } from '../core/modelTypes';
import type { GanttStrings, GanttViewState, ToWebview } from '../core/ganttProtocol';
import { wallTime } from '../core/runCompare';
import { GanttEncoder, encodeTasks } from './ganttData';

export interface CompareSideLabels { before: string; after: string }

interface Side {
  run: TraceRunView;
  root: number;
  taskIds: Map<number, number>;
  siteOff: number;
  awaitOff: number;
  stepOff: number;
  execOff: number;
  timeoutOff: number;
  cancelOff: number;
  blockOff: number;
}

/** Where a chart site id of the compare view came from. */
export interface SiteOrigin { run: TraceRunView; siteId: number }

const maxKey = (m: ReadonlyMap<number, unknown> | undefined): number => {
  let max = -1;
  for (const k of m?.keys() ?? []) if (k > max) max = k;
  return max;
};

export class GanttCompareEncoder {
  /** Chart ids 1 and 2 are the root lanes of the earlier and the later run. */
  private nextTask = 3;
  private readonly sides: Side[] = [];

  constructor(readonly before: TraceRunView, readonly after: TraceRunView, private readonly labels: CompareSideLabels) {}

  /** The key the webview's state is saved under (never a real run's key). */
  get key(): string {
    return `compare:${this.before.key}:${this.after.key}`;
  }

  /** The run and site id a chart site id stands for. */
  siteOrigin(siteId: number): SiteOrigin | undefined {
    if (siteId < 0) return undefined;
    for (let i = this.sides.length - 1; i >= 0; i--) {
      const s = this.sides[i];
      if (siteId >= s.siteOff) return { run: s.run, siteId: siteId - s.siteOff };
    }
    return undefined;
  }

  /** Which run a chart task id belongs to, and its id there (undefined for the synthetic roots). */
  taskOrigin(taskId: number): { run: TraceRunView; taskId: number } | undefined {
    for (const s of this.sides) for (const [orig, id] of s.taskIds) if (id === taskId) return { run: s.run, taskId: orig };
    return undefined;
  }

  *initialMessages(strings: GanttStrings, restore?: GanttViewState): Generator<ToWebview> {
    const wallBefore = wallTime(this.before);
    const wallAfter = wallTime(this.after);
    yield {
      type: 'reset', runKey: this.key, label: `${this.labels.before} \u2194 ${this.labels.after}`, live: false,
      now: Math.max(wallBefore, wallAfter), blockMs: this.after.info?.blockMs ?? this.before.info?.blockMs ?? 100, strings,
      restore: restore ? { ...restore, runKey: this.key } : undefined,
      compare: { before: this.labels.before, after: this.labels.after, beforeWall: wallBefore, afterWall: wallAfter, roots: [1, 2] },
    };
    const a = this.side(this.before, 1, { siteOff: 0, awaitOff: 0, stepOff: 0, execOff: 0, timeoutOff: 0, cancelOff: 0, blockOff: 0 });
    let awaitsA = 0;
    yield this.rootMessage(a, this.labels.before, wallBefore);
    for (const m of new GanttEncoder(this.before).initialMessages(strings)) {
      if (m.type === 'awaits') awaitsA = Math.max(awaitsA, m.from + m.entries.length);
      const out = this.rewrite(a, m);
      if (out) yield out;
    }
    const b = this.side(this.after, 2, {
      siteOff: maxKey(this.before.sites) + 1, awaitOff: awaitsA, stepOff: this.before.steps.count,
      execOff: maxKey(this.before.execItems) + 1, timeoutOff: maxKey(this.before.timeouts) + 1,
      cancelOff: this.before.cancels.length, blockOff: this.before.blocks.length,
    });
    yield this.rootMessage(b, this.labels.after, wallAfter);
    for (const m of new GanttEncoder(this.after).initialMessages(strings)) {
      const out = this.rewrite(b, m);
      if (out) yield out;
    }
    yield { type: 'run', live: false, now: Math.max(wallBefore, wallAfter), exitCode: null };
    yield { type: 'loaded' };
  }

  private side(run: TraceRunView, root: number, offsets: Omit<Side, 'run' | 'root' | 'taskIds'>): Side {
    const s: Side = { run, root, taskIds: new Map(), ...offsets };
    this.sides.push(s);
    return s;
  }

  private rootMessage(s: Side, label: string, wall: number): ToWebview {
    const root: TaskInfo = {
      id: s.root, kind: 'asyncio', name: label, coro: '', parent: null, site: null, createdTs: 0, children: [],
      status: 'done', endTs: wall, endState: 'done', stepCount: 0, runTotal: 0, awaitSites: new Map(), timeouts: [], cancels: [], steps: { length: 0, at: () => -1 },
    };
    const columns = encodeTasks([root]);
    return { type: 'tasks', columns };
  }

  private task(s: Side, id: number): number {
    if (id < 0) return -1;
    let n = s.taskIds.get(id);
    if (n === undefined) s.taskIds.set(id, (n = this.nextTask++));
    return n;
  }

  private rewrite(s: Side, m: ToWebview): ToWebview | undefined {
    const site = (x: number): number => (x >= 0 ? x + s.siteOff : -1);
    switch (m.type) {
      case 'reset': case 'processes': case 'run': case 'loaded': case 'empty': case 'select': case 'command':
        return undefined;
      case 'sites':
        return { type: 'sites', sites: m.sites.map((x) => ({ ...x, id: x.id + s.siteOff })) };
      case 'awaits':
        return {
          type: 'awaits', from: m.from + s.awaitOff,
          entries: m.entries.map(([st, kind, detail, targets, item]) => item === undefined
            ? [site(st), kind, detail, targets.map((t) => this.task(s, t))]
            : [site(st), kind, detail, targets.map((t) => this.task(s, t)), item >= 0 ? item + s.execOff : -1]),
        };
      case 'tasks': {
        const c = m.columns;
        const id = new Float64Array(c.id);
        const parent = new Float64Array(c.parent);
        const siteCol = new Float64Array(c.site);
        const errorSite = new Float64Array(c.errorSite);
        for (let i = 0; i < id.length; i++) {
          id[i] = this.task(s, id[i]);
          parent[i] = parent[i] >= 0 ? this.task(s, parent[i]) : s.root;
          siteCol[i] = site(siteCol[i]);
          errorSite[i] = site(errorSite[i]);
        }
        return m;
      }
      case 'steps': {
        const b = m.batch;
        const task = new Float64Array(b.task);
        const wait = new Int32Array(b.wait);
        let lastOrig = NaN, lastNew = -1;
        for (let i = 0; i < task.length; i++) {
          if (task[i] !== lastOrig) { lastOrig = task[i]; lastNew = this.task(s, lastOrig); }
          task[i] = lastNew;
          if (wait[i] >= 0) wait[i] += s.awaitOff;
        }
        return { type: 'steps', batch: { ...b, from: b.from + s.stepOff } };
      }
      case 'execs':
        return {
          type: 'execs', items: m.items.map((x) => ({
            ...x, id: x.id + s.execOff, task: this.task(s, x.task), site: site(x.site), def: site(x.def),
          })),
        };
      case 'markers':
        return {
          type: 'markers',
          timeouts: m.timeouts.map((x) => ({ ...x, id: x.id + s.timeoutOff, task: this.task(s, x.task), site: site(x.site), cancelled: x.cancelled.map((c) => this.task(s, c)) })),
          cancelsFrom: m.cancelsFrom + s.cancelOff,
          cancels: m.cancels.map((x) => ({ ...x, task: this.task(s, x.task), by: this.task(s, x.by), site: site(x.site) })),
          blocksFrom: m.blocksFrom + s.blockOff,
          blocks: m.blocks.map((x) => ({ ...x, task: this.task(s, x.task), site: site(x.site) })),
        };
    }
  }
}
