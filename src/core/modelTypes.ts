// The read side of the trace model: what the tree, the timeline and the source annotations query.
// Implemented by TraceRun in traceModel.ts (folded incrementally from parsed events).
import type { ObjectsView } from './objectLedger';
import type { AwaitOn, CancelEvent, EndState, ErrorInfo, RunEvent, TaskKind } from './traceEvents';

export interface SiteInfo { id: number; file: string; line: number; func: string }

/** Live or final state of a task. 'ready' = woken but not yet running (only when `woke` is known). */
export type TaskStatus = 'running' | 'waiting' | 'ready' | EndState;

/** Waiting statistics of one task at one await site (innermost site of the await stack). */
export interface AwaitSiteStats {
  site: number;
  /** Waits that started at this site, including an ongoing one. */
  count: number;
  /** Sum of completed waits, us. Ongoing wait not included. */
  total: number;
  /** Longest completed wait, us. */
  max: number;
  /** Last 'on' seen at this site (what it waited for). */
  lastOn?: AwaitOn;
}

export interface TimeoutInfo {
  id: number;
  task: number;
  site: number | null;
  delay: number | null;
  armedTs: number;
  state: 'armed' | 'fired' | 'cleared';
  /** ts of 'fired' or 'cleared'. */
  endTs?: number;
  /** ts of the latest re-arm ('armed' repeated with a new delay); the deadline is (rescheduledTs ?? armedTs) + delay. */
  rescheduledTs?: number;
  /** Tasks whose cancellation this timeout caused (cancel events with cause 'timeout' naming it, or by the same task right after firing). */
  cancelled: number[];
}

export type CancelInfo = Omit<CancelEvent, 'type'>;

export interface BlockInfo { task: number | null; ts: number; dur: number; site: number | null }

export interface TaskInfo {
  id: number;
  kind: TaskKind;
  name: string;
  coro: string;
  parent: number | null;
  /** Creation site, or null. */
  site: number | null;
  thread?: number;
  loop?: number;
  createdTs: number;
  /** Child task ids in creation order. */
  children: number[];
  status: TaskStatus;
  endTs?: number;
  endState?: EndState;
  error?: ErrorInfo;
  unretrieved?: boolean;
  /** Number of steps, total running time (us). */
  stepCount: number;
  runTotal: number;
  /** End of the last step seen (us). */
  lastStepEnd?: number;
  /** Keyed by innermost await site id. */
  awaitSites: Map<number, AwaitSiteStats>;
  /** The ongoing wait, while status is 'waiting' or 'ready'. */
  currentWait?: { since: number; stack: number[]; on?: AwaitOn };
  /** Timeout ids armed by/for this task. */
  timeouts: number[];
  /** Cancellation requests that targeted this task. */
  cancels: CancelInfo[];
  /** Step indices (into StepColumns) in time order. */
  steps: { length: number; at(i: number): number };
  /** True if still pending when its loop closed. */
  pendingAtClose?: boolean;
  /** Created by an eager task factory (its first step ran inside creation). */
  eager?: boolean;
  /** The process it ran in (a key of TraceRunView.processes); absent: the main process. */
  process?: number;
}

/** A process of the run: the main one (key 0) or a child that recorded its own stream. */
export interface ProcessInfo {
  key: number;
  pid: number;
  /** The parent's pid (unknown for traces without processes). */
  ppid?: number;
  /** How it started: 'main' | 'fork' | 'spawn' | 'forkserver' | 'exec' (others shown as given). */
  start: string;
  argv: string[];
  /** On the run's shared clock (us since the main process's ts 0). */
  startTs: number;
  endTs?: number;
  exitCode?: number;
  error?: ErrorInfo;
  /** Its end comes from its parent's `reaped` line (it died of a signal and wrote no exit line). */
  reaped?: boolean;
  /** Its stream is still open (more lines may come). */
  live: boolean;
  /** Lines of this stream that could not be read. */
  badLines: number;
}

/** An executor work item: a function run in a worker thread or process for an awaiting task. */
export interface ExecItemInfo {
  id: number;
  /** The task that submitted it (and awaits it), or null. */
  task: number | null;
  /** The user line that submitted it. */
  site: number | null;
  /** The function run, its def line (user code only) and module (library functions). */
  func: string;
  defSite: number | null;
  module?: string;
  executor: string;
  pool: string;
  submittedTs: number;
  startedTs?: number;
  endTs?: number;
  /** The worker thread that ran it (thread pools). */
  thread?: string;
  threadIdent?: number;
  state: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  error?: ErrorInfo;
}

/** An asyncio event loop seen running. */
export interface LoopInfo {
  id: number;
  thread?: number;
  startTs: number;
  state: 'running' | 'closed';
  closedTs?: number;
  /** Tasks that had not ended when it closed. */
  pending?: number[];
  /** The loop's type (`uvloop.Loop`), when the trace says. */
  className?: string;
  /** It makes or runs its tasks itself: the trace has only part of what they do. */
  partial?: boolean;
  /** A library the runtime does not record (curio): none of what ran in it is in the trace. */
  unsupported?: boolean;
  /** What the runtime could not see of it (a trio run: `ends`, `deadlines`, `cancellations`). */
  unseen?: string[];
}

/**
 * All steps of a run, columnar (cheap at 1,000,000 steps). Index i is one step; arrays may be
 * longer than `count` (growable buffers): only [0, count) is valid.
 */
export interface StepColumns {
  count: number;
  /** Task ids: Float64 so any safe-integer id is exact (Int32 made ids past 2^31 collide). */
  task: Float64Array;
  ts: Float64Array;
  dur: Float64Array;
  /** When the task became ready again after this step's suspension (NaN: unknown). Mirrors the *next* step's `woke`. */
  wokeNext: Float64Array;
  /** When the wait after this step ended = the next step's ts, or the task's end ts; NaN while ongoing or for the last step. */
  waitEnd: Float64Array;
  /** Index into the await table (run.awaitAt), -1 for a final step without await. */
  awaitId: Int32Array;
}

/** A change notification after a batch of events was folded in. */
export interface RunDelta {
  /** Tasks that appeared in this batch. */
  newTasks: number[];
  /** Tasks whose info changed (state, name, stats, children ...), including new ones. */
  changedTasks: number[];
  /** Steps [stepsFrom, steps.count) are new. */
  stepsFrom: number;
  /** New or changed sites / timeouts / cancels / blocks in this batch. */
  newSites: number;
  changedTimeouts: number[];
  newCancels: number;
  newBlocks: number;
  /** Executor work items new or changed in this batch (optional: older test doubles omit it). */
  changedExecItems?: number[];
  /** Run-level fields (exit, live, info) changed. */
  runChanged: boolean;
}

export interface ParseIssues {
  /** Lines that were not valid JSON or lacked required fields. */
  badLines: number;
  firstBadLine?: number;
  /** Lines with a type this reader does not know (ignored, not an error). */
  unknownTypes: number;
  /** The trace's version when newer than this reader's, else undefined. */
  newerVersion?: number;
  /** The last line was cut off (killed process or still being written). */
  truncatedTail: boolean;
  /** No `run` line first. */
  missingHeader: boolean;
  // What an untrusted trace got wrong beyond malformed lines (docs/trace-format.md): optional so
  // hand-made issue objects need not list them; a reader counts them where it finds them.
  /** Well-formed lines skipped for impossible values (negative duration, non-finite number, id out of range, nesting too deep). */
  invalidLines?: number;
  firstInvalidLine?: number;
  /** Optional fields of the wrong type, ignored (the line itself was kept). */
  droppedFields?: number;
  /** Lines longer than the reader's bound, skipped. */
  longLines?: number;
  /** Repeated declarations ignored (a second `run` line, a task declared or ended twice, a site id reused). */
  duplicates?: number;
  /** Tasks whose `parent` would have made a cycle, shown as roots instead. */
  parentCycles?: number;
}

export interface TraceRunView {
  /** Unique key of this run within the extension session. */
  readonly key: string;
  /** Label for humans: program name. */
  readonly label: string;
  readonly info?: RunEvent;
  /** True while events may still arrive. */
  readonly live: boolean;
  readonly exit?: { ts: number; code: number; dropped: number; error?: ErrorInfo };
  /** Latest ts seen in the run (us). */
  readonly now: number;
  readonly tasks: ReadonlyMap<number, TaskInfo>;
  /** Tasks without a (known) parent, in creation order. */
  readonly roots: readonly number[];
  readonly sites: ReadonlyMap<number, SiteInfo>;
  readonly steps: StepColumns;
  readonly timeouts: ReadonlyMap<number, TimeoutInfo>;
  readonly cancels: readonly CancelInfo[];
  readonly blocks: readonly BlockInfo[];
  /** Executor work items by id (optional so hand-written test doubles need not provide it). */
  readonly execItems?: ReadonlyMap<number, ExecItemInfo>;
  /** Processes by key, the main one 0 (optional: test doubles; one entry for a single-process run). */
  readonly processes?: ReadonlyMap<number, ProcessInfo>;
  /** Objects tasks wait on with holders and users (wake links; optional: test doubles). */
  readonly objects?: ObjectsView;
  /** Event loops by id (optional so hand-written test doubles need not provide it). */
  readonly loops?: ReadonlyMap<number, LoopInfo>;
  readonly issues: ParseIssues;
  /** Await table entry of a step (stack outermost first, innermost last). */
  awaitAt(awaitId: number): { stack: readonly number[]; on?: AwaitOn } | undefined;
  /** Counts for the status bar and the tree's run node. */
  readonly counts: { tasks: number; alive: number; events: number; failed: number; cancelled: number };
  /** asyncio's own plumbing tasks (`internal` in the trace) left out of tasks, roots and counts. */
  readonly hiddenTasks?: number;
  /** Listen for folded batches. Returns an unsubscribe function. */
  onDelta(listener: (delta: RunDelta) => void): () => void;
}
