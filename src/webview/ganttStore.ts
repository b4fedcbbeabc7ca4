// The timeline's data inside the webview: tasks, steps in arrival order, and lane-sorted copies of the
// step columns (rebuilt lazily by a counting sort when steps arrived) that the LOD pass reads.
import type {
  AwaitEntry, BlockEntry, CancelEntry, ExecEntry, ProcessGroupEntry, SiteEntry, StepBatch, TaskColumns, TimeoutEntry,
} from '../core/ganttProtocol';
import { childrenIndex, layoutRows, type GanttRows, type LayoutTask } from '../core/ganttLayout';
import { execLanes, type ExecLane } from '../core/executorText';

function growF64(a: Float64Array, n: number): Float64Array { const b = new Float64Array(n); b.set(a); return b; }
function growI32(a: Int32Array, n: number): Int32Array { const b = new Int32Array(n); b.set(a); return b; }

export class GanttStore {
  runKey = '';
  label = '';
  live = false;
  now = 0;
  exitCode: number | null = null;
  blockUs = 100_000;
  readonly sites = new Map<number, SiteEntry>();
  awaits: AwaitEntry[] = [];

  // Tasks, by index (idx). `index` maps a task id to its idx.
  readonly index = new Map<number, number>();
  id: number[] = [];
  parent: number[] = [];
  kind: number[] = [];
  created: number[] = [];
  end: number[] = [];
  endState: number[] = [];
  site: number[] = [];
  errorSite: number[] = [];
  name: string[] = [];
  coro: string[] = [];
  error: string[] = [];
  /** Lowercased "name coro" per task for search, built on first use (costly for 100,000 tasks). */
  private haystackCache: string[] | undefined;

  // Steps in arrival order.
  n = 0;
  private sLane: Int32Array = new Int32Array(1024);
  private sTs: Float64Array = new Float64Array(1024);
  private sDur: Float64Array = new Float64Array(1024);
  private sWoke: Float64Array = new Float64Array(1024);
  private sWait: Int32Array = new Int32Array(1024);

  // Lane-sorted steps: lane idx has [laneStart[idx], laneStart[idx + 1]).
  laneStart: Int32Array = new Int32Array(1);
  lTs: Float64Array = new Float64Array(0);
  lEnd: Float64Array = new Float64Array(0);
  lWoke: Float64Array = new Float64Array(0);
  lWait: Int32Array = new Int32Array(0);
  lCum: Float64Array = new Float64Array(1);
  private sortedN = -1;
  private sortedTasks = -1;

  readonly timeouts = new Map<number, TimeoutEntry>();
  readonly timeoutsByTask = new Map<number, TimeoutEntry[]>();
  readonly cancels: CancelEntry[] = [];
  readonly cancelsByTask = new Map<number, CancelEntry[]>();
  readonly blocks: BlockEntry[] = [];
  readonly blocksByTask = new Map<number, BlockEntry[]>();
  /** Tasks cancelled by a fired timeout: target id -> timeout. */
  readonly cancelledBy = new Map<number, TimeoutEntry>();

  /** Executor work items by id, and the lanes (worker threads, pools) drawn below the tasks. */
  readonly execs = new Map<number, ExecEntry>();
  readonly execsByTask = new Map<number, ExecEntry[]>();
  execLanes: ExecLane[] = [];
  /** Item id -> index into execLanes. */
  readonly execLaneOf = new Map<number, number>();

  /** Process groups by lane id (a run with child processes): each is a lane of its own, its tasks under it. */
  readonly groups = new Map<number, ProcessGroupEntry>();

  minTs = Infinity;
  maxTs = 0;

  // Layout.
  readonly collapsed = new Set<number>();
  private childIndex: Map<number, number[]> | undefined;
  private rowsCache: GanttRows | undefined;
  /** Bumped when tasks change, so views can drop cached text. */
  taskVersion = 0;

  reset(runKey: string, label: string, live: boolean, now: number, blockMs: number): void {
    this.runKey = runKey;
    this.label = label;
    this.live = live;
    this.now = now;
    this.exitCode = null;
    this.blockUs = blockMs * 1000;
    this.sites.clear();
    this.awaits = [];
    this.index.clear();
    this.id = []; this.parent = []; this.kind = []; this.created = []; this.end = []; this.endState = [];
    this.site = []; this.errorSite = []; this.name = []; this.coro = []; this.error = []; this.haystackCache = undefined;
    this.n = 0;
    this.sortedN = -1;
    this.timeouts.clear(); this.timeoutsByTask.clear(); this.cancelledBy.clear();
    this.cancels.length = 0; this.cancelsByTask.clear();
    this.blocks.length = 0; this.blocksByTask.clear();
    this.execs.clear(); this.execsByTask.clear(); this.execLanes = []; this.execLaneOf.clear();
    this.groups.clear();
    this.minTs = Infinity;
    this.maxTs = now;
    this.collapsed.clear();
    this.childIndex = undefined;
    this.rowsCache = undefined;
    this.taskVersion++;
  }

  /** Tasks (the process group lanes are no tasks). */
  get taskCount(): number { return this.id.length - this.groups.size; }

  /** Indices of tasks whose name or coroutine contains `q` (lowercase). */
  search(q: string): number[] {
    if (!this.haystackCache) this.haystackCache = this.id.map((_, i) => `${this.name[i]} ${this.coro[i]}`.toLowerCase());
    const out: number[] = [];
    const h = this.haystackCache;
    for (let i = 0; i < h.length; i++) if (h[i].includes(q)) out.push(i);
    return out;
  }

  addSites(list: SiteEntry[]): void { for (const s of list) this.sites.set(s.id, s); }

  addAwaits(from: number, entries: AwaitEntry[]): void {
    for (let i = 0; i < entries.length; i++) this.awaits[from + i] = entries[i];
  }

  private ensureTask(id: number): number {
    let i = this.index.get(id);
    if (i !== undefined) return i;
    i = this.id.length;
    this.index.set(id, i);
    this.id.push(id); this.parent.push(-1); this.kind.push(0); this.created.push(this.now); this.end.push(NaN);
    this.endState.push(0); this.site.push(-1); this.errorSite.push(-1);
    this.name.push(`Task ${id}`); this.coro.push(''); this.error.push('');
    this.haystackCache = undefined;
    this.childIndex = undefined;
    return i;
  }

  upsertTasks(c: TaskColumns): void {
    const id = new Float64Array(c.id);
    const parent = new Float64Array(c.parent);
    const kind = new Uint8Array(c.kind);
    const created = new Float64Array(c.created);
    const end = new Float64Array(c.end);
    const endState = new Uint8Array(c.endState);
    const site = new Float64Array(c.site);
    const errorSite = new Float64Array(c.errorSite);
    let structural = false;
    for (let k = 0; k < id.length; k++) {
      const known = this.index.has(id[k]);
      const i = this.ensureTask(id[k]);
      if (!known || this.parent[i] !== parent[k] || this.created[i] !== created[k]) structural = true;
      this.parent[i] = parent[k];
      this.kind[i] = kind[k];
      this.created[i] = created[k];
      this.end[i] = end[k];
      this.endState[i] = endState[k];
      this.site[i] = site[k];
      this.errorSite[i] = errorSite[k];
      this.name[i] = c.name[k];
      this.coro[i] = c.coro[k];
      this.error[i] = c.error[k];
      if (created[k] < this.minTs) this.minTs = created[k];
      if (end[k] > this.maxTs) this.maxTs = end[k];
    }
    if (structural) { this.childIndex = undefined; this.rowsCache = undefined; }
    this.haystackCache = undefined;
    this.taskVersion++;
  }

  /** The run's process groups (all of them): each a lane spanning the process's life, named by it. */
  setProcessGroups(groups: readonly ProcessGroupEntry[]): void {
    // Processes only add up within a run: a group once sent stays.
    for (const g of groups) {
      this.groups.set(g.id, g);
      const known = this.index.has(g.id);
      const i = this.ensureTask(g.id);
      if (!known || this.created[i] !== g.start) { this.childIndex = undefined; this.rowsCache = undefined; }
      this.parent[i] = -1;
      this.kind[i] = 0;
      this.created[i] = g.start;
      this.end[i] = g.end ?? NaN;
      this.endState[i] = g.state === 'done' ? 1 : g.state === 'failed' ? 3 : 0;
      this.name[i] = g.label;
      this.coro[i] = g.description;
      this.error[i] = '';
      if (g.start < this.minTs) this.minTs = g.start;
      if (g.end !== null && g.end > this.maxTs) this.maxTs = g.end;
    }
    this.haystackCache = undefined;
    this.taskVersion++;
  }

  isGroup(id: number): boolean { return this.groups.has(id); }

  addSteps(b: StepBatch): void {
    const task = new Float64Array(b.task);
    const ts = new Float64Array(b.ts);
    const dur = new Float64Array(b.dur);
    const woke = new Float64Array(b.woke);
    const wait = new Int32Array(b.wait);
    const m = task.length;
    // Batches are contiguous; a gap would mean a lost message: keep what arrived in order.
    const at = b.from <= this.n ? b.from : this.n;
    const need = at + m;
    if (need > this.sTs.length) {
      const cap = Math.max(need, this.sTs.length * 2);
      this.sLane = growI32(this.sLane, cap);
      this.sTs = growF64(this.sTs, cap);
      this.sDur = growF64(this.sDur, cap);
      this.sWoke = growF64(this.sWoke, cap);
      this.sWait = growI32(this.sWait, cap);
    }
    let lastId = -1;
    let lastIdx = -1;
    for (let k = 0; k < m; k++) {
      const t = task[k];
      if (t !== lastId) { lastId = t; lastIdx = this.ensureTask(t); }
      this.sLane[at + k] = lastIdx;
    }
    this.sTs.set(ts, at);
    this.sDur.set(dur, at);
    this.sWoke.set(woke, at);
    this.sWait.set(wait, at);
    this.n = need;
    if (m) {
      if (ts[0] < this.minTs) this.minTs = ts[0];
      const e = ts[m - 1] + dur[m - 1];
      if (e > this.maxTs) this.maxTs = e;
    }
  }

  setMarkers(timeouts: TimeoutEntry[], cancelsFrom: number, cancels: CancelEntry[], blocksFrom: number, blocks: BlockEntry[]): void {
    for (const t of timeouts) {
      const old = this.timeouts.get(t.id);
      this.timeouts.set(t.id, t);
      let list = this.timeoutsByTask.get(t.task);
      if (!list) this.timeoutsByTask.set(t.task, (list = []));
      const i = old ? list.indexOf(old) : -1;
      if (i >= 0) list[i] = t; else list.push(t);
      if (t.state === 'fired') for (const c of t.cancelled) this.cancelledBy.set(c, t);
    }
    if (cancelsFrom === this.cancels.length) {
      for (const c of cancels) {
        this.cancels.push(c);
        let list = this.cancelsByTask.get(c.task);
        if (!list) this.cancelsByTask.set(c.task, (list = []));
        list.push(c);
      }
    }
    if (blocksFrom === this.blocks.length) {
      for (const b of blocks) {
        this.blocks.push(b);
        let list = this.blocksByTask.get(b.task);
        if (!list) this.blocksByTask.set(b.task, (list = []));
        list.push(b);
      }
    }
  }

  upsertExecs(items: ExecEntry[]): void {
    for (const x of items) {
      const old = this.execs.get(x.id);
      this.execs.set(x.id, x);
      if (x.task >= 0) {
        let list = this.execsByTask.get(x.task);
        if (!list) this.execsByTask.set(x.task, (list = []));
        const i = old ? list.indexOf(old) : -1;
        if (i >= 0) list[i] = x; else list.push(x);
      }
      if (x.submitted < this.minTs) this.minTs = x.submitted;
      if (x.end !== null && x.end > this.maxTs) this.maxTs = x.end;
    }
    this.relayoutExecs();
  }

  private relayoutExecs(): void {
    const list = [...this.execs.values()].map((x) => ({
      id: x.id, thread: x.thread ?? undefined, threadIdent: x.ident ?? undefined, executor: x.executor, pool: x.pool,
      submitted: x.submitted, started: x.started ?? undefined, end: x.end ?? undefined,
    }));
    this.execLanes = execLanes(list, Math.max(this.now, this.maxTs));
    this.execLaneOf.clear();
    this.execLanes.forEach((l, i) => { for (const id of l.items) this.execLaneOf.set(id, i); });
  }

  /** When an item's bar stops: its end, or the run's latest time. */
  execEnd(x: ExecEntry): number {
    return x.end ?? Math.max(this.now, this.maxTs);
  }

  /** Lane-sorted columns, rebuilt when steps or tasks were added since the last call. */
  ensureSorted(): void {
    const T = this.id.length;
    if (this.sortedN === this.n && this.sortedTasks === T) return;
    const n = this.n;
    const start = new Int32Array(T + 1);
    const lane = this.sLane;
    for (let i = 0; i < n; i++) start[lane[i] + 1]++;
    for (let t = 0; t < T; t++) start[t + 1] += start[t];
    const fill = start.slice(0, T);
    if (this.lTs.length < n) {
      const cap = Math.max(n, Math.ceil(this.lTs.length * 1.5));
      this.lTs = new Float64Array(cap);
      this.lEnd = new Float64Array(cap);
      this.lWoke = new Float64Array(cap);
      this.lWait = new Int32Array(cap);
      this.lCum = new Float64Array(cap + 1);
    }
    const lTs = this.lTs, lEnd = this.lEnd, lWoke = this.lWoke, lWait = this.lWait;
    const sTs = this.sTs, sDur = this.sDur, sWoke = this.sWoke, sWait = this.sWait;
    // Arrival order is time order within a task, so the counting sort keeps each lane sorted.
    for (let i = 0; i < n; i++) {
      const j = fill[lane[i]]++;
      lTs[j] = sTs[i];
      lEnd[j] = sTs[i] + sDur[i];
      lWoke[j] = sWoke[i];
      lWait[j] = sWait[i];
    }
    const cum = this.lCum;
    cum[0] = 0;
    for (let j = 0; j < n; j++) cum[j + 1] = cum[j] + (lEnd[j] - lTs[j]);
    this.laneStart = start;
    this.sortedN = n;
    this.sortedTasks = T;
  }

  /** Visible rows for the current collapse state. */
  rows(): GanttRows {
    if (this.rowsCache) return this.rowsCache;
    const T = this.id.length;
    const tasks: LayoutTask[] = new Array(T);
    for (let i = 0; i < T; i++) tasks[i] = { id: this.id[i], parent: this.parent[i], created: this.created[i] };
    if (!this.childIndex) this.childIndex = childrenIndex(tasks);
    this.rowsCache = layoutRows(tasks, this.collapsed, this.childIndex);
    return this.rowsCache;
  }

  children(id: number): readonly number[] {
    this.rows();
    return this.childIndex?.get(id) ?? [];
  }

  toggle(id: number, open?: boolean): void {
    const isOpen = !this.collapsed.has(id);
    const want = open ?? !isOpen;
    if (want === isOpen) return;
    if (want) this.collapsed.delete(id); else this.collapsed.add(id);
    this.rowsCache = undefined;
  }

  /** Expands every collapsed ancestor so the task gets a row. */
  revealRow(id: number): void {
    const seen = new Set<number>();
    let i = this.index.get(id);
    while (i !== undefined) {
      const p = this.parent[i];
      if (p < 0 || seen.has(p)) break;
      seen.add(p);
      if (this.collapsed.delete(p)) this.rowsCache = undefined;
      i = this.index.get(p);
    }
  }

  /** When the lane of task idx stops: its end, or the run's latest time. */
  laneEnd(idx: number): number {
    const e = this.end[idx];
    return Number.isNaN(e) ? Math.max(this.now, this.maxTs) : e;
  }
}
