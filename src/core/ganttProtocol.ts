// Messages between the extension (ganttPanel.ts) and the timeline webview (src/webview/ganttMain.ts).
// Bulky data travels as columns of ArrayBuffers (VS Code >= 1.57 transfers them as binary), so a run of
// 1,000,000 steps is ~30 MB of raw numbers instead of a giant JSON of objects.

/** Wait kinds the chart colours differently (index = code sent per await entry). */
export const WAIT_KINDS = ['other', 'sleep', 'task', 'gather', 'io', 'sync', 'switch', 'future', 'yield', 'hub', 'executor'] as const;
export type WaitKindName = (typeof WAIT_KINDS)[number];

/** Maps a trace `on.kind` to the chart's wait kind code. */
export function waitKindCode(kind: string | undefined): number {
  switch (kind) {
    case 'sleep': return 1;
    case 'task': return 2;
    case 'gather': return 3;
    case 'io': return 4;
    case 'lock': case 'event': case 'queue': case 'condition': case 'semaphore': return 5;
    case 'switch': return 6;
    case 'future': return 7;
    case 'yield': return 8;
    case 'hub': return 9;
    case 'executor': return 10;
    default: return 0;
  }
}

/** Task kinds (index = code sent per task): asyncio task, greenlet, trio task. */
export const TASK_KINDS = ['asyncio', 'greenlet', 'trio'] as const;
export type TaskKindName = (typeof TASK_KINDS)[number];

export function taskKindCode(kind: string): number {
  return kind === 'greenlet' ? 1 : kind === 'trio' ? 2 : 0;
}

/** The kind of a task code (an unknown code reads as asyncio). */
export function taskKindOf(code: number): TaskKindName {
  return TASK_KINDS[code] ?? 'asyncio';
}

export const END_STATES = ['', 'done', 'cancelled', 'failed'] as const;

/** Task columns: one entry per task, upserted by id. Strings as arrays; numbers as ArrayBuffers. */
export interface TaskColumns {
  /** Float64: task id (any safe integer: Int32 made ids past 2^31 collide). */
  id: ArrayBuffer;
  /** Float64: parent id, -1 for none. */
  parent: ArrayBuffer;
  /** Uint8: index into TASK_KINDS (0 asyncio, 1 greenlet, 2 trio). */
  kind: ArrayBuffer;
  /** Float64: created ts (us). */
  created: ArrayBuffer;
  /** Float64: end ts, NaN while alive. */
  end: ArrayBuffer;
  /** Uint8: index into END_STATES (0 = alive). */
  endState: ArrayBuffer;
  /** Float64: creation site, -1 for none. */
  site: ArrayBuffer;
  /** Float64: site of the error that ended it, -1 for none. */
  errorSite: ArrayBuffer;
  name: string[];
  coro: string[];
  /** Error "Type: message" or ''. */
  error: string[];
}

/** Steps appended in arrival order; `from` is the index of the first one (must equal what the webview holds). */
export interface StepBatch {
  from: number;
  /** Float64: task id. */
  task: ArrayBuffer;
  /** Float64 (us). */
  ts: ArrayBuffer;
  /** Float64 (us). */
  dur: ArrayBuffer;
  /** Float64: when the task became ready before this step (NaN unknown). */
  woke: ArrayBuffer;
  /** Int32: index into the await table for the suspension after this step, -1 for none (last step). */
  wait: ArrayBuffer;
}

/** One interned await: innermost site (-1), wait kind code, human detail, tasks it waits on, executor item it waits on. */
export type AwaitEntry = [site: number, kind: number, detail: string, targets: number[], item?: number];

/** An executor work item (upserted by id). Times in us; null: not (yet) seen. */
export interface ExecEntry {
  id: number;
  /** Awaiting task, -1 none. */
  task: number;
  /** Call site and def site, -1 none. */
  site: number;
  def: number;
  /** `blocking_io()`, `socket.getaddrinfo()`. */
  func: string;
  thread: string | null;
  ident: number | null;
  executor: string;
  pool: string;
  submitted: number;
  started: number | null;
  end: number | null;
  state: string;
  /** "Type: message" or ''. */
  error: string;
}

export interface SiteEntry { id: number; file: string; line: number; func: string }

export interface TimeoutEntry { id: number; task: number; armed: number; state: 'armed' | 'fired' | 'cleared'; endTs: number | null; site: number; delay: number | null; cancelled: number[] }
export interface CancelEntry { task: number; ts: number; by: number; cause: string; site: number }
export interface BlockEntry { task: number; ts: number; dur: number; site: number }

export type { ProcessGroupEntry } from './ganttProcessGroups';
import type { ProcessGroupEntry } from './ganttProcessGroups';

/** Strings the webview shows, localized by the extension. */
export type GanttStrings = Record<string, string>;

/** Everything the chart keeps in its webview state, restored after a window reload. */
export interface GanttViewState {
  runKey?: string;
  /** Trace file the run was loaded from, to reopen it after a reload. */
  file?: string;
  t0?: number;
  usPerPx?: number;
  scrollTop?: number;
  follow?: boolean;
  collapsed?: number[];
}

/** Compare mode: two runs, one above the other on one clock (times since each run's start). */
export interface CompareHeader {
  before: string; after: string; beforeWall: number; afterWall: number;
  /** Chart ids of the two root lanes (one per run): drawn as the run's span, not as a task. */
  roots: number[];
}

/** The critical path drawn over the chart (others dimmed): its segments in time order, its text for the accessible summary. */
export interface PathOverlay {
  /** The task whose end the path explains. */
  task: number;
  /** "Critical path of Task-1: 3.02 s (…)", localized. */
  title: string;
  /** Its notable stages, one sentence each, localized. */
  stages: string[];
  /** PATH_STRIDE numbers per segment: kind (PATH_KINDS index), task id, from, to (us), wait kind code (waits; else 0). */
  segments: number[];
}

/** A blocking step on a lag lane: the task whose step held the loop, and whom it delayed. */
export interface LagBlockEntry {
  task: number;
  ts: number;
  dur: number;
  site: number;
  /** "compress blocked the loop for 304 ms at slow.py:13; delayed 1 tasks: fetch 304 ms", localized. */
  text: string;
  /** The tasks it delayed, most delayed first (at most 20). */
  delayed: number[];
}

/** One event loop's (or greenlet thread's) lag lane, drawn above the task lanes. */
export interface LagLaneEntry {
  /** "Event loop lag" (+ which loop when there are several), localized. */
  label: string;
  /** Float64 columns, in time order: when a step started, how long its task had been ready (us), the task. */
  ts: ArrayBuffer;
  lag: ArrayBuffer;
  task: ArrayBuffer;
  blocks: LagBlockEntry[];
}

/** Segment kinds of a PathOverlay (index = code). */
export const PATH_KINDS = ['run', 'ready', 'wait'] as const;
export const PATH_STRIDE = 5;

export type ToWebview =
  | { type: 'reset'; runKey: string; label: string; live: boolean; now: number; blockMs: number; strings: GanttStrings; restore?: GanttViewState; compare?: CompareHeader }
  | { type: 'empty'; message: string; strings: GanttStrings }
  | { type: 'sites'; sites: SiteEntry[] }
  | { type: 'awaits'; from: number; entries: AwaitEntry[] }
  | { type: 'tasks'; columns: TaskColumns }
  /** The process groups of a run with child processes (all of them, replacing the previous ones; none: not grouped). */
  | { type: 'processes'; groups: ProcessGroupEntry[] }
  | { type: 'steps'; batch: StepBatch }
  | { type: 'execs'; items: ExecEntry[] }
  | { type: 'markers'; timeouts: TimeoutEntry[]; cancelsFrom: number; cancels: CancelEntry[]; blocksFrom: number; blocks: BlockEntry[] }
  | { type: 'run'; live: boolean; now: number; exitCode: number | null }
  /** The end of the initial load (after it, messages are live deltas). */
  | { type: 'loaded' }
  | { type: 'select'; taskId: number }
  /** Select a process's group lane (by the process's key) and scroll it into view: its row was selected in the tree. */
  | { type: 'selectProcess'; process: number }
  /** Show one wait of a task: select the task, zoom to the wait and mark it. */
  | { type: 'revealWait'; taskId: number; from: number; to: number }
  /** The answer to a `taskDetails` request: lines for the hover of a task's name (its time split). */
  | { type: 'taskDetails'; taskId: number; lines: string[] }
  /** The event-loop lag lanes (replacing the previous ones). */
  | { type: 'lag'; lanes: LagLaneEntry[] }
  /** Highlight a critical path (null: clear it). */
  | { type: 'criticalPath'; path: PathOverlay | null }
  | { type: 'command'; command: 'fit' | 'zoomIn' | 'zoomOut' | 'follow' | 'zoomToTask'; taskId?: number };

/** What the webview reports it drew (for tests and the bench). */
export interface GanttStats {
  runKey: string;
  frames: number;
  lastFrameMs: number;
  slicesDrawn: number;
  visibleLanes: { id: number; name: string; coro: string; kind: string; state: string; depth: number; y: number; slices: number }[];
  totalLanes: number;
  /** Executor lanes on screen (worker threads, process pools), below the task lanes. */
  execLanes?: { name: string; y: number; items: number[] }[];
  steps: number;
  /** Time (us) at the left and right edges of the chart area. */
  t0: number;
  t1: number;
  usPerPx: number;
  /** Width of the label column: the chart area starts there (CSS px from the canvas' left). */
  labelW: number;
  /** Height of the time axis: lane y values are from the canvas' top. */
  axisH: number;
  follow: boolean;
  selected: number | null;
  tooltip: string | null;
  firstFrameMs: number | null;
  /** Compare mode's header, when two runs are shown. */
  compare?: CompareHeader;
  /** The process groups (runs with child processes): label, description, open or collapsed, the canvas y of its row (null: scrolled away), lanes shown under it. */
  processGroups?: { id: number; label: string; description: string; collapsed: boolean; y: number | null; lanesUnder: number }[];
  /** The wait marked by a `revealWait` (an outlier opened from a hover), until another selection or Escape. */
  focusWait?: { task: number; from: number; to: number } | null;
  /** The highlighted critical path: its task, the tasks it runs through, segments in all and drawn in the last frame. */
  criticalPath?: { task: number; tasks: number[]; segments: number; drawn: number; links: number } | null;
  /** The lag lanes on screen: label, canvas y of the lane's middle, samples, blocking steps, the largest lag (us). */
  lagLanes?: { label: string; y: number; samples: number; blocks: number; maxLag: number; longestBlock: { task: number; ts: number; dur: number } | null }[];
  /** Colours the last frame used (read from the theme's CSS variables). */
  colors: { background: string; running: string; waiting: string };
}

export type FromWebview =
  | { type: 'ready' }
  | { type: 'select'; taskId: number }
  /** The user selected a process's group lane (by the process's key): the tree reveals its process row. */
  | { type: 'selectProcess'; process: number }
  | { type: 'open'; taskId: number; siteId: number }
  | { type: 'reveal'; taskId: number }
  /** Asks for the hover lines of a task's name (computed by the extension: they walk the whole run). */
  | { type: 'taskDetails'; taskId: number }
  /** Asks for the critical path of a task (null: of the run), or to clear it (`clear`). */
  | { type: 'criticalPath'; taskId: number | null; clear?: boolean }
  | { type: 'stats'; stats: GanttStats }
  | { type: 'error'; message: string };
