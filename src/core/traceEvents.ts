// Wire types of trace format version 1 (docs/trace-format.md). Pure data, no behaviour.

export const TRACE_FORMAT_VERSION = 1;

export interface RunEvent {
  type: 'run';
  v: number;
  pid: number;
  python: string;
  argv: string[];
  cwd: string;
  started: string;
  blockMs?: number;
  module?: string;
  /** Processes (v1 addition): the run this process belongs to, its parent, how it started. */
  runId?: string;
  /** Wall clock time of this stream's ts 0, microseconds since the epoch. */
  t0?: number;
  ppid?: number;
  /** 'main' | 'fork' | 'spawn' | 'forkserver' | 'exec'. */
  start?: string;
}

export interface SiteEvent { type: 'site'; id: number; file: string; line: number; func: string }

export interface LoopEvent {
  type: 'loop';
  id: number;
  ts: number;
  state: 'running' | 'closed';
  thread?: number;
  pending?: number[];
  /** The loop's type, `module.QualifiedName`. */
  class?: string;
  /** The loop makes or runs its tasks itself (uvloop): what the trace has of them is partial. */
  partial?: boolean;
  /** An event loop library the runtime does not record at all (curio): nothing of it is in the trace. */
  unsupported?: boolean;
  /** What the runtime could not see of a trio run (`ends`, `deadlines`, `cancellations`). */
  unseen?: string[];
  /** A trio run in guest mode on a host loop. */
  guest?: boolean;
}

export type TaskKind = 'asyncio' | 'greenlet' | 'trio';

export interface TaskEvent {
  type: 'task';
  id: number;
  ts: number;
  kind: TaskKind;
  name: string;
  coro: string;
  parent: number | null;
  site: number | null;
  thread?: number;
  loop?: number;
  eager?: boolean;
  /** asyncio's own plumbing (asyncio.run's shutdown tasks): readers hide it. */
  internal?: boolean;
}

export interface NameEvent { type: 'name'; task: number; name: string }

/** What a suspended task waits for. Unknown kinds are kept and shown by name. */
export type AwaitOn =
  | { kind: 'sleep'; delay: number }
  | { kind: 'task'; task: number }
  /** `more` (v1 addition): tasks of the wait not listed in `tasks` (a gevent joinall of many greenlets). */
  | { kind: 'gather'; tasks: number[]; more?: number }
  | { kind: 'io'; op: string }
  | { kind: 'switch'; to: number }
  | { kind: string; [field: string]: unknown };

export interface AwaitInfo { stack: number[]; on?: AwaitOn }

/**
 * What made a waiting task ready (wake links, v1 addition): a task's step, a timer, I/O readiness,
 * another thread (an executor work item), or a loop callback of unknown origin. Unknown kinds
 * are kept and shown by name. `task`: the waking task (kind 'task'), or the task that armed the
 * timer (kind 'timer'); `item`: the executor work item (kind 'thread').
 */
export interface WokeBy {
  kind: 'task' | 'timer' | 'io' | 'thread' | 'callback' | string;
  task?: number;
  item?: number;
}

export interface StepEvent {
  type: 'step';
  task: number;
  ts: number;
  dur: number;
  await?: AwaitInfo;
  woke?: number;
  /** Wake links (v1 addition): what made the task ready at `woke`. */
  wokeBy?: WokeBy;
}

export interface TimeoutEvent {
  type: 'timeout';
  id: number;
  task: number;
  ts: number;
  state: 'armed' | 'fired' | 'cleared';
  site?: number | null;
  delay?: number | null;
}

export type CancelCause = 'timeout' | 'cancel' | 'shutdown' | 'kill';

export interface CancelEvent {
  type: 'cancel';
  task: number;
  ts: number;
  by: number | null;
  site?: number | null;
  cause: CancelCause | string;
  timeout?: number;
}

export interface ErrorInfo { type: string; message: string; site?: number | null }

export type EndState = 'done' | 'cancelled' | 'failed';

export interface EndEvent { type: 'end'; task: number; ts: number; state: EndState; error?: ErrorInfo }

export interface UnretrievedEvent { type: 'unretrieved'; task: number; ts: number }

export interface BlockEvent { type: 'block'; task: number | null; ts: number; dur: number; site?: number | null }

/** An executor work item (`run_in_executor`, `to_thread`): one line per state, same id. */
export interface ExecEvent {
  type: 'exec';
  id: number;
  ts: number;
  state: 'submitted' | 'started' | 'finished' | 'cancelled' | string;
  /** submitted: the awaiting task, the user line that submitted it, the function and its def line. */
  task?: number | null;
  site?: number | null;
  func?: string;
  def?: number | null;
  module?: string;
  executor?: string;
  pool?: 'thread' | 'process' | 'other' | string;
  /** started: the worker thread's name and ident. */
  thread?: string;
  ident?: number;
  /** finished: what the function raised. */
  error?: ErrorInfo;
}

/** An object tasks wait on (wake links, v1 addition): declared once before lines name it. */
export interface ObjEvent {
  type: 'obj';
  id: number;
  kind: 'lock' | 'semaphore' | 'condition' | 'event' | 'queue' | 'barrier' | 'future' | string;
  ts?: number;
  class?: string;
  /** The task and user line that created it, when seen. */
  task?: number | null;
  site?: number | null;
  /** A condition's lock (an obj id). */
  lock?: number | null;
  /** The runtime does not see who sets / feeds / releases it (gevent's compiled classes): no `set`/`put` use lines. */
  partial?: boolean;
}

/** A lock or semaphore acquired or released by a task (null: a loop callback). */
export interface HoldEvent {
  type: 'hold';
  obj: number;
  task: number | null;
  ts: number;
  state: 'acquired' | 'released';
  site?: number | null;
}

/** The first time a task did an operation on an object (queue put/get, event set/clear/wait). */
export interface UseEvent {
  type: 'use';
  obj: number;
  task: number | null;
  ts: number;
  op: string;
  site?: number | null;
}

export interface ExitEvent { type: 'exit'; ts: number; code: number; dropped: number; error?: ErrorInfo }

/** The process collected the status of a child that died of a signal (which leaves no exit line). */
export interface ReapedEvent { type: 'reaped'; ts: number; pid: number; code: number; signal?: string }

export type TraceEvent =
  | RunEvent | SiteEvent | LoopEvent | TaskEvent | NameEvent | StepEvent | TimeoutEvent
  | CancelEvent | EndEvent | UnretrievedEvent | BlockEvent | ExecEvent | ObjEvent | HoldEvent | UseEvent
  | ExitEvent | ReapedEvent;
