// The trace model: folds parsed events into tasks, steps, await statistics, timeouts, cancels,
// blocks and run state, incrementally, and tells listeners what changed after each batch.
import { AwaitTable } from './awaitTable';
import type {
  BlockInfo, CancelInfo, ExecItemInfo, LoopInfo, ParseIssues, ProcessInfo, RunDelta, SiteInfo, TimeoutInfo, TraceRunView,
} from './modelTypes';
import { ObjectLedger } from './objectLedger';
import { ProcessStreamMap } from './processStreams';
import { StepStore } from './stepStore';
import { NO_CANCELS, NO_IDS, TaskRecord } from './taskRecord';
import type {
  AwaitOn, BlockEvent, CancelEvent, EndEvent, ExecEvent, ErrorInfo, ExitEvent, LoopEvent, ReapedEvent, RunEvent,
  StepEvent, TaskEvent, TimeoutEvent, TraceEvent,
} from './traceEvents';
import { TraceParser, type TraceSink } from './traceParser';

/** Task ids below this are also indexed in an array (larger ones only in the Map). */
const DENSE_IDS = 1 << 22;

/** A cancel caused by a timeout may be stamped a little after the timeout fired (two clock reads). */
const TIMEOUT_CANCEL_TOLERANCE_US = 1000;

export interface TraceRunOptions {
  /** True while a program is being traced and more events will come. */
  live?: boolean;
  /** The .jsonl file this run was loaded from or is being written to. */
  sourcePath?: string;
}

export class TraceRun implements TraceRunView {
  readonly sourcePath?: string;
  info?: RunEvent;
  live: boolean;
  exit?: { ts: number; code: number; dropped: number; error?: ErrorInfo };
  now = 0;
  readonly tasks = new Map<number, TaskRecord>();
  /**
   * Tasks without a known parent, in creation order. A task stops being a root when its parent
   * turns up (its `task` line after its steps, or its parent's after its own): it is marked, not
   * spliced out (a splice each made such traces load in quadratic time), and the list is
   * compacted when next read.
   */
  get roots(): readonly number[] {
    if (this.rootsRemoved > 0) {
      const kept: number[] = [];
      for (const id of this.rootList) {
        const t = this.lookup(id);
        if (t !== undefined && t.isRoot && !t.rootListed) { t.rootListed = true; kept.push(id); }
      }
      for (const id of kept) this.lookup(id)!.rootListed = false;
      this.rootList = kept;
      this.rootsRemoved = 0;
    }
    return this.rootList;
  }
  private rootList: number[] = [];
  private rootsRemoved = 0;
  readonly sites = new Map<number, SiteInfo>();
  readonly steps = new StepStore();
  readonly timeouts = new Map<number, TimeoutInfo>();
  readonly cancels: CancelInfo[] = [];
  readonly blocks: BlockInfo[] = [];
  readonly loops = new Map<number, LoopInfo>();
  /** Objects tasks wait on, their holders and users (wake links, v1 addition). */
  readonly objects = new ObjectLedger();
  readonly execItems = new Map<number, ExecItemInfo>();
  readonly counts = { tasks: 0, alive: 0, events: 0, failed: 0, cancelled: 0 };
  /** Tasks the trace marks `internal` (asyncio's plumbing): not shown, their lines skipped. */
  hiddenTasks = 0;
  private readonly hidden = new Set<number>();
  /** Processes by key (0: the main process), from each stream's `run` and `exit` lines. */
  readonly processes = new Map<number, ProcessInfo>();
  /** Children reaped dead by a signal, as their parents said (`reaped` lines). */
  private readonly reaped: Array<{ ppid: number; pid: number; ts: number; code: number; signal?: string }> = [];
  /** Child process streams by the caller's stream key. */
  private readonly streams = new Map<string, { map: ProcessStreamMap; parser: TraceParser; sink: TraceSink }>();
  /** Streams of another run (a stale file beside this trace): read and ignored. */
  private readonly foreign = new Set<ProcessStreamMap>();
  /** The child process whose stream is being folded (0: the main one). */
  private folding = 0;

  private readonly parser = new TraceParser();
  /** The parser hands events straight to the fold, steps as plain numbers (no event objects). */
  private readonly sink: TraceSink = {
    event: (e) => this.fold(e),
    awaitId: (a) => this.awaitTable.idOf(a),
    step: (task, ts, dur, woke, awaitId) => this.foldStepValues(task, ts, dur, woke, awaitId),
  };
  private readonly awaitTable = new AwaitTable();
  private readonly byId: (TaskRecord | undefined)[] = [];
  private readonly listeners = new Set<(delta: RunDelta) => void>();
  /** Children seen before their parent's `task` line, by parent id: relinked when it arrives. */
  private readonly orphans = new Map<number, number[]>();
  /** Timeout-caused cancels not yet linked to a timeout (the `fired` line may come later). */
  private unlinkedCancels: { task: number; by: number | null; ts: number; timeout?: number }[] = [];

  // The batch being folded.
  private batch = 1;
  private newTasks: number[] = [];
  private changedTasks: number[] = [];
  private changedTimeouts = new Set<number>();
  private stepsFrom = 0;
  private newSites = 0;
  private newCancels = 0;
  private newBlocks = 0;
  private changedExecItems = new Set<number>();
  private runChanged = false;
  private hiddenInBatch = false;

  constructor(readonly key: string, readonly label: string, options: TraceRunOptions = {}) {
    this.live = options.live ?? false;
    this.sourcePath = options.sourcePath;
  }

  get issues(): ParseIssues { return this.parser.issues; }

  /** Number of distinct (stack, on) entries in the await table. */
  get awaitCount(): number { return this.awaitTable.count; }

  awaitAt(awaitId: number): { stack: readonly number[]; on?: AwaitOn } | undefined {
    return this.awaitTable.at(awaitId);
  }

  onDelta(listener: (delta: RunDelta) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /** Parses a chunk of the trace (any split), folds the complete lines, and sends one delta if anything arrived. */
  ingest(chunk: string | Uint8Array): void {
    const before = this.issueStamp();
    this.stepsFrom = this.steps.count;
    const n = this.parser.pushTo(chunk, this.sink);
    this.counts.events += n;
    if (n > 0 || before !== this.issueStamp() || this.runChanged) this.flush();
  }

  /**
   * Parses a chunk of a child process's stream (`stream`: any key unique to that stream, for
   * example its file name or connection), rewrites its ids and times into the run's (see
   * processStreams.ts) and folds it like `ingest`.
   */
  ingestProcess(stream: string, chunk: string | Uint8Array): void {
    const s = this.streamFor(stream);
    this.stepsFrom = this.steps.count;
    this.folding = s.map.key;
    try {
      const n = s.parser.pushTo(chunk, s.sink);
      this.counts.events += n;
      const p = this.processes.get(s.map.key);
      if (p !== undefined && p.badLines !== s.parser.issues.badLines) {
        p.badLines = s.parser.issues.badLines;
        this.runChanged = true;
      }
      if (n > 0 || this.runChanged) this.flush();
    } finally {
      this.folding = 0;
    }
  }

  /** End of a child process's stream (its file was read, its connection closed). */
  finishProcess(stream: string): void {
    const s = this.streams.get(stream);
    if (s === undefined) return;
    this.stepsFrom = this.steps.count;
    this.folding = s.map.key;
    try {
      this.counts.events += s.parser.endTo(s.sink);
      const p = this.processes.get(s.map.key);
      if (p !== undefined) p.live = false;
      this.runChanged = true;
      this.flush();
    } finally {
      this.folding = 0;
    }
  }

  private streamFor(stream: string): { map: ProcessStreamMap; parser: TraceParser; sink: TraceSink } {
    let s = this.streams.get(stream);
    if (s !== undefined) return s;
    const map = new ProcessStreamMap(this.streams.size + 1);
    const parser = new TraceParser();
    const sink: TraceSink = {
      event: (e) => {
        if (this.foreign.has(map)) return;
        if (e.type === 'run') return this.foldProcessRun(map, e);
        if (e.type === 'exit') return this.foldProcessExit(map, e);
        this.fold(map.event(e));
      },
      awaitId: (a) => this.awaitTable.idOf(map.awaitInfo(a)),
      step: (task, ts, dur, woke, awaitId) => this.foreign.has(map) ? undefined :
        this.foldStepValues(task + map.base, ts + map.shift, dur, woke === woke ? woke + map.shift : woke, awaitId),
    };
    s = { map, parser, sink };
    this.streams.set(stream, s);
    return s;
  }

  private foldProcessRun(map: ProcessStreamMap, e: RunEvent): void {
    const runId = this.info?.runId;
    if (typeof runId === 'string' && runId !== '' && e.runId !== runId) {
      this.foreign.add(map);
      return;
    }
    map.align(this.info, e);
    const wall = Date.parse(e.started);
    const t0 = this.info?.t0;
    const startTs = typeof t0 === 'number' && Number.isFinite(wall) ? Math.max(0, wall * 1000 - t0) : map.shift;
    this.processes.set(map.key, {
      key: map.key, pid: e.pid, ppid: typeof e.ppid === 'number' ? e.ppid : undefined,
      start: typeof e.start === 'string' ? e.start : 'exec', argv: Array.isArray(e.argv) ? e.argv : [],
      startTs, live: true, badLines: 0,
    });
    this.applyReaped();
    this.seen(startTs);
    this.runChanged = true;
  }

  /** A child that died of a signal, as its parent collected it: its end when its stream has none. */
  private foldReaped(e: ReapedEvent): void {
    const parent = this.processes.get(this.folding);
    if (parent === undefined) return;
    this.reaped.push({ ppid: parent.pid, pid: e.pid, ts: e.ts, code: e.code, signal: typeof e.signal === 'string' ? e.signal : undefined });
    this.seen(e.ts);
    this.applyReaped();
  }

  private applyReaped(): void {
    if (this.reaped.length === 0) return;
    for (const p of this.processes.values()) {
      if (p.key === 0 || p.exitCode !== undefined) continue;
      const r = this.reaped.find((x) => x.pid === p.pid && x.ppid === p.ppid);
      if (r === undefined) continue;
      p.exitCode = r.code;
      p.endTs = Math.max(p.startTs, r.ts);
      p.error = { type: r.signal ?? 'Killed', message: '', site: null };
      p.reaped = true;
      this.runChanged = true;
    }
  }

  private foldProcessExit(map: ProcessStreamMap, e: ExitEvent): void {
    const p = this.processes.get(map.key);
    if (p === undefined) return;
    p.endTs = map.ts(e.ts);
    p.exitCode = typeof e.code === 'number' ? e.code : 0;
    p.error = e.error ? e.error : undefined; // (its own exit line outranks what its parent saw)
    p.reaped = undefined;
    this.seen(p.endTs);
    this.runChanged = true;
  }

  /** Folds already parsed events as one batch (one delta). */
  ingestEvents(events: readonly TraceEvent[]): void {
    this.foldBatch(events, false);
  }

  /** End of stream: folds a final unterminated line, marks the run as no longer live. Tasks that did not end stay as they are. */
  finish(): void {
    this.stepsFrom = this.steps.count;
    this.counts.events += this.parser.endTo(this.sink);
    this.live = false;
    const main = this.processes.get(0);
    if (main !== undefined) main.live = false;
    this.runChanged = true;
    this.flush();
  }

  private issueStamp(): number {
    const i = this.parser.issues;
    return i.badLines * 4 + i.unknownTypes * 2 + (i.missingHeader ? 1 : 0) + (i.newerVersion ?? 0) * 1e9
      + ((i.invalidLines ?? 0) + (i.droppedFields ?? 0) + (i.longLines ?? 0)) * 8;
  }

  private foldBatch(events: readonly TraceEvent[], force: boolean): void {
    this.stepsFrom = this.steps.count;
    for (let i = 0; i < events.length; i++) this.fold(events[i]);
    this.counts.events += events.length;
    if (events.length > 0 || force || this.runChanged) this.flush();
  }

  private flush(): void {
    if (this.hiddenInBatch) {
      this.hiddenInBatch = false;
      this.newTasks = this.newTasks.filter((id) => this.tasks.has(id));
      this.changedTasks = this.changedTasks.filter((id) => this.tasks.has(id));
    }
    const delta: RunDelta = {
      newTasks: this.newTasks,
      changedTasks: this.changedTasks,
      stepsFrom: this.stepsFrom,
      newSites: this.newSites,
      changedTimeouts: [...this.changedTimeouts],
      newCancels: this.newCancels,
      newBlocks: this.newBlocks,
      changedExecItems: [...this.changedExecItems],
      runChanged: this.runChanged,
    };
    this.batch++;
    this.newTasks = [];
    this.changedTasks = [];
    this.changedTimeouts.clear();
    this.changedExecItems.clear();
    this.newSites = this.newCancels = this.newBlocks = 0;
    this.runChanged = false;
    this.stepsFrom = this.steps.count;
    // One broken view must not starve the others: every listener runs, then the first error is
    // rethrown to the caller (the model itself is consistent by then).
    let failed = false;
    let error: unknown;
    for (const l of this.listeners) {
      try {
        l(delta);
      } catch (err) {
        if (!failed) { failed = true; error = err; }
      }
    }
    if (failed) throw error;
  }

  private touch(t: TaskRecord): void {
    if (t.batch !== this.batch) {
      t.batch = this.batch;
      this.changedTasks.push(t.id);
    }
  }

  private seen(ts: number): void {
    if (ts > this.now) this.now = ts;
  }

  /** Ids are small counters: an array finds a task with one load instead of a hash probe. */
  private lookup(id: number): TaskRecord | undefined {
    return id >= 0 && id < DENSE_IDS ? this.byId[id] : this.tasks.get(id);
  }

  /** The task with this id, created as a placeholder (a root until its `task` line says otherwise) if unknown. */
  private taskFor(id: number, ts: number): TaskRecord {
    let t = this.lookup(id);
    if (t === undefined) {
      t = new TaskRecord(id, ts, this);
      t.name = `Task ${id}`;
      if (this.folding !== 0) t.process = this.folding;
      this.tasks.set(id, t);
      if (id >= 0 && id < DENSE_IDS) this.byId[id] = t;
      this.rootList.push(id);
      t.isRoot = true;
      if (this.orphans.size > 0) this.adoptOrphans(t);
      this.counts.tasks++;
      this.counts.alive++;
      this.newTasks.push(id);
    }
    this.touch(t);
    return t;
  }

  private fold(e: TraceEvent): void {
    switch (e.type) {
      case 'step': return this.foldStep(e);
      case 'task': return this.foldTask(e);
      case 'end': return this.foldEnd(e);
      case 'site': {
        const prev = this.sites.get(e.id);
        if (prev !== undefined) {
          // Sites are declared once: a reused id that says something else is not believed.
          if (prev.file !== e.file || prev.line !== e.line) this.duplicate();
          return;
        }
        this.sites.set(e.id, { id: e.id, file: e.file, line: e.line, func: typeof e.func === 'string' ? e.func : '' });
        this.newSites++;
        return;
      }
      case 'name': {
        if (this.hidden.has(e.task)) return;
        const t = this.taskFor(e.task, this.now);
        t.name = e.name;
        t.renamed = true;
        return;
      }
      case 'timeout': return this.foldTimeout(e);
      case 'cancel': return this.foldCancel(e);
      case 'block': return this.foldBlock(e);
      case 'exec': return this.foldExec(e);
      case 'unretrieved': {
        if (this.hidden.has(e.task)) return;
        this.taskFor(e.task, e.ts ?? this.now).unretrieved = true;
        if (typeof e.ts === 'number') this.seen(e.ts);
        return;
      }
      case 'loop': return this.foldLoop(e);
      case 'run':
        if (this.info !== undefined) { this.duplicate(); return; } // the first header describes the run
        this.info = e;
        this.processes.set(0, {
          key: 0, pid: e.pid, ppid: typeof e.ppid === 'number' ? e.ppid : undefined, start: 'main',
          argv: Array.isArray(e.argv) ? e.argv : [], startTs: 0, live: true, badLines: 0,
        });
        this.runChanged = true;
        return;
      case 'exit': return this.foldExit(e);
      case 'reaped': return this.foldReaped(e);
      case 'obj': this.objects.foldObj(e); return;
      case 'hold': this.seen(e.ts); this.objects.foldHold(e); return;
      case 'use': this.seen(e.ts); this.objects.foldUse(e); return;
    }
  }

  private foldTask(e: TaskEvent): void {
    this.seen(e.ts);
    if (e.internal === true) return this.hide(e.id);
    const existing = this.tasks.get(e.id);
    const t = this.taskFor(e.id, e.ts);
    const wasDeclared = t.declared;
    t.declared = true;
    t.kind = e.kind === 'greenlet' || e.kind === 'trio' ? e.kind : 'asyncio';
    // A `name` line is newer than the task line's name even if it arrived first.
    if (!t.renamed && typeof e.name === 'string') t.name = e.name;
    t.coro = typeof e.coro === 'string' ? e.coro : '';
    t.site = typeof e.site === 'number' ? e.site : null;
    if (typeof e.thread === 'number') t.thread = e.thread;
    if (typeof e.loop === 'number') t.loop = e.loop;
    if (e.eager === true) t.eager = true;
    // An eager task's first step can precede its task line: the bar starts at whichever came first.
    if (e.ts < t.createdTs) t.createdTs = e.ts;
    if (wasDeclared) { this.duplicate(); return; } // a repeated task line only refreshes the fields above

    let parentId = typeof e.parent === 'number' ? e.parent : null;
    if (parentId !== null && this.makesCycle(t, parentId)) {
      // A corrupt or hostile trace: the task would hang under itself, out of every view's reach
      // (and walks up its ancestors would never end). It stays a root.
      parentId = null;
      this.parser.issues.parentCycles = (this.parser.issues.parentCycles ?? 0) + 1;
      this.runChanged = true;
    }
    t.parent = parentId;
    const parent = parentId === null ? undefined : this.tasks.get(parentId);
    if (parent !== undefined) {
      this.removeRoot(e.id); // the placeholder (or the record taskFor just made) was a root
      if (parent.children === NO_IDS) parent.children = [];
      parent.children.push(e.id);
      this.touch(parent);
    } else if (parentId !== null) {
      // Unknown parent: a root for now, nested under it if its task line turns up later.
      let list = this.orphans.get(parentId);
      if (list === undefined) this.orphans.set(parentId, (list = []));
      list.push(e.id);
    }
  }

  /**
   * Whether `t` under `parentId` closes a parent cycle: the parent is t itself or one of its
   * descendants. Only a task that already has children can close one (every task naming it as
   * parent is in its children: see adoptOrphans), so the usual declaration walks nothing.
   */
  private makesCycle(t: TaskRecord, parentId: number): boolean {
    if (parentId === t.id) return true;
    if (t.children.length === 0) return false;
    let budget = this.tasks.size + 1;
    for (let p = this.tasks.get(parentId); p !== undefined; p = p.parent === null ? undefined : this.tasks.get(p.parent)) {
      if (p === t || --budget < 0) return true;
    }
    return false;
  }

  /** Tasks declared before their parent existed move under it (they were roots so far). */
  private adoptOrphans(t: TaskRecord): void {
    const waiting = this.orphans.get(t.id);
    if (waiting === undefined) return;
    this.orphans.delete(t.id);
    for (const c of waiting) {
      const child = this.tasks.get(c);
      if (child === undefined || child.parent !== t.id || !child.isRoot) continue;
      this.removeRoot(c);
      if (t.children === NO_IDS) t.children = [];
      t.children.push(c);
    }
  }

  private duplicate(): void {
    this.parser.issues.duplicates = (this.parser.issues.duplicates ?? 0) + 1;
    this.runChanged = true;
  }

  /** Leaves an internal task out of the model (and drops what earlier lines made of it). */
  private hide(id: number): void {
    if (this.hidden.has(id)) return;
    this.hidden.add(id);
    this.hiddenTasks++;
    this.runChanged = true;
    const t = this.tasks.get(id);
    if (t === undefined) return;
    // Usually only a placeholder exists (lines that came before the task line): forget it.
    const wasRoot = t.isRoot;
    this.removeRoot(id);
    this.tasks.delete(id);
    if (id >= 0 && id < DENSE_IDS) this.byId[id] = undefined;
    // A task already declared and listed under its parent (a later line says it is internal)
    // leaves that list too: no row may name a task the model no longer has.
    const parent = t.parent === null || wasRoot ? undefined : this.tasks.get(t.parent);
    if (parent !== undefined) {
      const i = parent.children.indexOf(id);
      if (i >= 0) { parent.children.splice(i, 1); this.touch(parent); }
    }
    // Tasks it adopted while a placeholder go back to the roots: hiding one task hides no other.
    for (const c of t.children) {
      const child = this.tasks.get(c);
      if (child !== undefined && !child.isRoot) { child.isRoot = true; this.rootList.push(c); }
    }
    this.counts.tasks--;
    if (t.endState === undefined) this.counts.alive--;
    else if (t.endState === 'failed') this.counts.failed--;
    else if (t.endState === 'cancelled') this.counts.cancelled--;
    // Left out of the batch's lists when it is flushed (a splice per hidden task would be quadratic).
    this.hiddenInBatch = true;
  }

  private removeRoot(id: number): void {
    const t = this.lookup(id);
    if (t === undefined || !t.isRoot) return;
    t.isRoot = false;
    this.rootsRemoved++;
  }

  private foldStep(e: StepEvent): void {
    const a = e.await;
    const awaitId = a !== undefined && a !== null ? this.awaitTable.idOf(a) : -1;
    this.foldStepValues(e.task, e.ts, e.dur, typeof e.woke === 'number' ? e.woke : NaN, awaitId);
  }

  /** The hot path (about 80% of all lines): no objects, no Map probes for dense task ids. */
  private foldStepValues(task: number, ts: number, dur: number, woke: number, awaitId: number): void {
    const end = ts + dur;
    if (end > this.now) this.now = end;
    let t = task >= 0 && task < DENSE_IDS ? this.byId[task] : undefined;
    if (t === undefined || t.batch !== this.batch) {
      // Hidden tasks are never indexed: only a miss pays for the Set probe.
      if (t === undefined && this.hidden.has(task)) return;
      t = this.taskFor(task, ts);
    }
    const steps = this.steps;
    const prev = t.lastStep;
    if (prev >= 0) {
      steps.waitEnd[prev] = ts;
      if (woke !== woke) woke = this.dueAfter(prev, ts); // NaN: the line had none
      if (woke === woke) steps.wokeNext[prev] = woke;
    }
    t.lastStep = steps.push(task, ts, dur, awaitId);
    t.steps.push(t.lastStep);
    t.stepCount++;
    t.runTotal += dur;
    if (t.lastStepEnd === undefined || end > t.lastStepEnd) t.lastStepEnd = end;
    if (t.endState === undefined) t.status = awaitId >= 0 ? 'waiting' : 'running';
  }

  /**
   * When a task that suspended at step `i` was due to run again, where its await says so by
   * itself: a bare yield (`asyncio.sleep(0)`, `gevent.sleep(0)`) at once, a sleep when its delay
   * was up. Past that, until its next step (at `next`), it waited for the loop, not for its
   * await: the timeline shows that as "ready, not running". NaN for every other await (what
   * woke it is not in the trace), and a `woke` in the trace wins.
   */
  private dueAfter(i: number, next: number): number {
    const aid = this.steps.awaitId[i];
    if (aid < 0) return NaN;
    const kind = this.awaitTable.kind(aid);
    let delay = 0;
    if (kind === 'sleep') {
      const d = this.awaitTable.value(aid);
      if (typeof d !== 'number' || !(d >= 0)) return NaN;
      delay = d * 1e6;
    } else if (kind !== 'yield') return NaN;
    const due = this.steps.ts[i] + this.steps.dur[i] + delay;
    return due < next ? due : next; // woken early (a cancellation): nothing was late
  }


  private foldEnd(e: EndEvent): void {
    this.seen(e.ts);
    if (this.hidden.has(e.task)) return;
    const t = this.taskFor(e.task, e.ts);
    if (t.endState !== undefined) { this.duplicate(); return; }
    // The wait the task was in (if any) ended with it.
    if (t.lastStep >= 0 && Number.isNaN(this.steps.waitEnd[t.lastStep]) && this.steps.awaitId[t.lastStep] >= 0) {
      this.steps.waitEnd[t.lastStep] = e.ts;
    }
    t.status = e.state;
    t.endState = e.state;
    t.endTs = e.ts;
    if (e.error) t.error = e.error;
    this.counts.alive--;
    if (e.state === 'failed') this.counts.failed++;
    else if (e.state === 'cancelled') this.counts.cancelled++;
  }

  private foldTimeout(e: TimeoutEvent): void {
    this.seen(e.ts);
    if (this.hidden.has(e.task)) return;
    let to = this.timeouts.get(e.id);
    if (to === undefined) {
      to = { id: e.id, task: e.task, site: e.site ?? null, delay: e.delay ?? null, armedTs: e.ts, state: e.state, cancelled: [] };
      this.timeouts.set(e.id, to);
      const t = this.taskFor(e.task, e.ts);
      if (t.timeouts === NO_IDS) t.timeouts = [];
      t.timeouts.push(e.id);
    } else {
      this.touch(this.taskFor(to.task, e.ts));
    }
    this.changedTimeouts.add(e.id);
    if (e.state === 'armed') {
      if (to.state === 'armed' && to.armedTs !== e.ts) to.rescheduledTs = e.ts;
      if (e.delay !== undefined) to.delay = e.delay;
      if (e.site !== undefined && e.site !== null) to.site = e.site;
      to.state = 'armed';
      to.endTs = undefined;
      return;
    }
    to.state = e.state;
    to.endTs = e.ts;
    if (e.state === 'fired' && this.unlinkedCancels.length > 0) {
      // A cancel that named no timeout (or named this one before its lines arrived).
      this.unlinkedCancels = this.unlinkedCancels.filter((c) => {
        const match = c.timeout !== undefined
          ? c.timeout === to!.id
          : (c.by === to!.task || c.task === to!.task) && Math.abs(c.ts - e.ts) <= TIMEOUT_CANCEL_TOLERANCE_US;
        if (match) this.linkCancel(to!, c.task);
        return !match;
      });
    }
  }

  private linkCancel(to: TimeoutInfo, task: number): void {
    if (!to.cancelled.includes(task)) to.cancelled.push(task);
    this.changedTimeouts.add(to.id);
  }

  private foldCancel(e: CancelEvent): void {
    this.seen(e.ts);
    if (this.hidden.has(e.task)) return;
    const info: CancelInfo = { task: e.task, ts: e.ts, by: e.by ?? null, site: e.site ?? null, cause: e.cause };
    if (typeof e.timeout === 'number') info.timeout = e.timeout;
    this.cancels.push(info);
    this.newCancels++;
    const target = this.taskFor(e.task, e.ts);
    if (target.cancels === NO_CANCELS) target.cancels = [];
    target.cancels.push(info);
    if (e.cause !== 'timeout') return;
    if (typeof e.timeout === 'number') {
      const to = this.timeouts.get(e.timeout);
      if (to !== undefined) this.linkCancel(to, e.task);
      else this.pendingCancel({ task: e.task, by: info.by, ts: e.ts, timeout: e.timeout });
      return;
    }
    const to = this.firedTimeoutFor(info.by, e.ts) ?? this.firedTimeoutFor(e.task, e.ts);
    if (to !== undefined) this.linkCancel(to, e.task);
    else this.pendingCancel({ task: e.task, by: info.by, ts: e.ts });
  }

  private pendingCancel(c: { task: number; by: number | null; ts: number; timeout?: number }): void {
    // Lines arrive only slightly out of order: a short memory is enough.
    if (this.unlinkedCancels.length >= 64) this.unlinkedCancels.shift();
    this.unlinkedCancels.push(c);
  }

  /** The latest timeout of `taskId` that fired at (about) `ts`. */
  private firedTimeoutFor(taskId: number | null, ts: number): TimeoutInfo | undefined {
    if (taskId === null) return undefined;
    const t = this.tasks.get(taskId);
    if (t === undefined) return undefined;
    let best: TimeoutInfo | undefined;
    for (let i = t.timeouts.length - 1; i >= 0; i--) {
      const to = this.timeouts.get(t.timeouts[i]);
      if (to === undefined || to.state !== 'fired' || to.endTs === undefined) continue;
      if (Math.abs(ts - to.endTs) > TIMEOUT_CANCEL_TOLERANCE_US) continue;
      if (best === undefined || Math.abs(ts - to.endTs) < Math.abs(ts - best.endTs!)) best = to;
      if (to.endTs === ts) break;
    }
    return best;
  }

  private foldBlock(e: BlockEvent): void {
    this.seen(e.ts + e.dur);
    const task = typeof e.task === 'number' ? e.task : null;
    if (task !== null && this.hidden.has(task)) return;
    this.blocks.push({ task, ts: e.ts, dur: e.dur, site: e.site ?? null });
    this.newBlocks++;
    if (task !== null) this.taskFor(task, e.ts);
  }

  private foldExec(e: ExecEvent): void {
    this.seen(e.ts);
    let x = this.execItems.get(e.id);
    if (x === undefined) {
      // A line of an item whose submission was lost (a lossy trace) still gets an item.
      x = { id: e.id, task: null, site: null, func: '?', defSite: null, executor: '', pool: 'thread', submittedTs: e.ts, state: 'queued' };
      this.execItems.set(e.id, x);
    }
    switch (e.state) {
      case 'submitted':
        x.submittedTs = e.ts;
        x.task = typeof e.task === 'number' && !this.hidden.has(e.task) ? e.task : null;
        x.site = typeof e.site === 'number' ? e.site : null;
        if (typeof e.func === 'string') x.func = e.func;
        x.defSite = typeof e.def === 'number' ? e.def : null;
        if (typeof e.module === 'string') x.module = e.module;
        if (typeof e.executor === 'string') x.executor = e.executor;
        if (typeof e.pool === 'string') x.pool = e.pool;
        break;
      case 'started':
        x.startedTs = e.ts;
        if (typeof e.thread === 'string') x.thread = e.thread;
        if (typeof e.ident === 'number') x.threadIdent = e.ident;
        if (x.state === 'queued') x.state = 'running';
        break;
      case 'finished':
        x.endTs = e.ts;
        if (e.error && typeof e.error === 'object' && typeof e.error.type === 'string') {
          x.error = { type: e.error.type, message: typeof e.error.message === 'string' ? e.error.message : '', site: typeof e.error.site === 'number' ? e.error.site : null };
          x.state = 'failed';
        } else x.state = 'done';
        break;
      case 'cancelled':
        x.endTs = e.ts;
        x.state = 'cancelled';
        break;
      default:
        return;
    }
    this.changedExecItems.add(e.id);
    if (x.task !== null && this.lookup(x.task) !== undefined) this.touch(this.lookup(x.task)!);
  }

  private foldLoop(e: LoopEvent): void {
    this.seen(e.ts);
    let l = this.loops.get(e.id);
    if (l === undefined) {
      l = { id: e.id, startTs: e.ts, state: 'running' };
      this.loops.set(e.id, l);
    }
    if (typeof e.thread === 'number') l.thread = e.thread;
    if (typeof e.class === 'string') l.className = e.class;
    if (e.partial === true) l.partial = true;
    if (e.unsupported === true) l.unsupported = true;
    if (Array.isArray(e.unseen)) l.unseen = e.unseen.slice(0, 16);
    if (e.state === 'closed') {
      l.state = 'closed';
      l.closedTs = e.ts;
      if (Array.isArray(e.pending)) {
        l.pending = this.hidden.size > 0 ? e.pending.filter((id) => !this.hidden.has(id)) : e.pending;
        for (const id of l.pending) {
          if (typeof id !== 'number') continue;
          this.taskFor(id, e.ts).pendingAtClose = true;
        }
      }
    }
    this.runChanged = true;
  }

  private foldExit(e: ExitEvent): void {
    this.seen(e.ts);
    this.exit = { ts: e.ts, code: typeof e.code === 'number' ? e.code : 0, dropped: typeof e.dropped === 'number' ? e.dropped : 0 };
    if (e.error) this.exit.error = e.error;
    const main = this.processes.get(0);
    if (main !== undefined) {
      main.endTs = e.ts;
      main.exitCode = this.exit.code;
      if (e.error) main.error = e.error;
    }
    this.runChanged = true;
  }
}

export { statusAt } from './taskStatusAt';
