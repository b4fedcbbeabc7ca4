// Deterministic synthetic traces (format v1) for benchmarks and stress tests: a single asyncio loop
// simulated in time order, with a task tree fanning out, await stacks of 1-4 user sites, varied
// `on` kinds, timeouts armed/cleared/fired (with the cancels they cause), failures, cancels,
// blocks, renames, eager tasks, tasks left pending at loop close, and the exit line.

export interface SyntheticTraceOptions {
  /** Total number of tasks, the main task included. */
  tasks: number;
  /** Steps of every task but main (main steps as needed to spawn the others). */
  stepsPerTask: number;
  seed: number;
  /** Number of source files the sites are spread over (default 5). */
  files?: number;
  /** Tasks alive at once that main keeps topping up (default 400). */
  concurrency?: number;
}

/** mulberry32: tiny, fast, good enough for test data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Min-heap of (time, task id) in parallel arrays. */
class WakeHeap {
  private t: number[] = [];
  private id: number[] = [];
  get size(): number { return this.t.length; }
  push(time: number, task: number): void {
    const t = this.t, id = this.id;
    let i = t.length;
    t.push(time); id.push(task);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p] <= time) break;
      t[i] = t[p]; id[i] = id[p];
      i = p;
    }
    t[i] = time; id[i] = task;
  }
  /** Removes the earliest entry; its time is left in `lastTime`. */
  pop(): number {
    const t = this.t, id = this.id;
    const topId = id[0];
    this.lastTime = t[0];
    const lt = t.pop()!, lid = id.pop()!;
    const n = t.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && t[r] < t[l] ? r : l;
        if (t[c] >= lt) break;
        t[i] = t[c]; id[i] = id[c];
        i = c;
      }
      t[i] = lt; id[i] = lid;
    }
    return topId;
  }
  lastTime = 0;
}

interface Func { name: string; file: number; defLine: number; siteIds: number[]; stacks: number[][] }

const SYNC_KINDS = ['lock', 'event', 'queue', 'condition', 'semaphore', 'future'];
const IO_OPS = ['recv', 'send', 'read', 'write', 'connect', 'accept'];
const SLEEPS = [0.001, 0.01, 0.05, 0.1, 0.5, 1];
const ERRORS = ['ValueError', 'KeyError', 'ConnectionResetError', 'RuntimeError'];

/** Yields the trace line by line, each line ending with "\n". */
export function* generateTrace(options: SyntheticTraceOptions): Generator<string> {
  const rnd = prng(options.seed);
  const nTasks = Math.max(1, Math.floor(options.tasks));
  const stepsPerTask = Math.max(1, Math.floor(options.stepsPerTask));
  const nFiles = Math.max(1, Math.floor(options.files ?? 5));
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 400));
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
  const expo = (mean: number) => -Math.log(1 - rnd()) * mean;

  // Sites: a few dozen coroutine functions spread over the files, each with await points whose
  // stacks reach 1-4 frames deep into other functions.
  const siteLines: string[] = [];
  const declared: boolean[] = [];
  const funcs: Func[] = [];
  const nFuncs = 12 * nFiles;
  let nextSite = 1;
  for (let f = 0; f < nFuncs; f++) {
    const file = f % nFiles;
    const defLine = 10 + Math.floor(f / nFiles) * 30;
    const name = `${pick(['fetch', 'handle', 'process', 'worker', 'poll', 'sync', 'load', 'send'])}_${f}`;
    const siteIds: number[] = [];
    for (let k = 0; k < 6; k++) {
      const id = nextSite++;
      siteIds.push(id);
      siteLines[id] = `{"type":"site","id":${id},"file":"/project/app/module_${file}.py","line":${defLine + 2 + k * 4},"func":"${name}"}\n`;
    }
    funcs.push({ name, file, defLine, siteIds, stacks: [] });
  }
  for (const fn of funcs) {
    for (let k = 0; k < 5; k++) {
      const depth = 1 + Math.floor(rnd() * 4);
      const stack = [fn.siteIds[k]];
      for (let d = 1; d < depth; d++) stack.push(pick(pick(funcs).siteIds));
      fn.stacks.push(stack);
    }
  }
  function* declare(ids: readonly number[]): Generator<string> {
    for (const id of ids) {
      if (!declared[id]) { declared[id] = true; yield siteLines[id]; }
    }
  }

  // Per-task state, indexed by id.
  const stepsLeft: number[] = [0];
  const funcOf: number[] = [0];
  const depthOf: number[] = [0];
  const recentChildren: number[][] = [[]];
  const wakeAt: number[] = [0];
  const timeoutId: number[] = [0]; // armed timeout around the current wait (0: none)
  const timeoutFires: boolean[] = [false];
  const timeoutDeadline: number[] = [0];
  const stuck: boolean[] = [false];
  const unretrieved: number[] = [];
  const pendingAtClose: number[] = [];

  let now = 0;
  let created = 0;
  let alive = 0;
  let nextTimeout = 1;
  const blockChance = Math.min(0.01, 20 / (nTasks * stepsPerTask));
  const heap = new WakeHeap();

  yield `{"type":"run","v":1,"pid":4242,"python":"3.12.3","argv":["app/main.py","--synthetic"],"cwd":"/project","started":"2026-11-25T15:00:00.000Z","blockMs":100}\n`;
  yield `{"type":"loop","id":1,"ts":0,"state":"running","thread":140001}\n`;

  const lines: string[] = [];
  /** Creates a task during its parent's step at `ts`; lines go to `lines` (flushed before the step line). */
  const spawn = (parent: number, ts: number): void => {
    const id = ++created;
    const fi = id === 1 ? 0 : Math.floor(rnd() * funcs.length);
    const fn = funcs[fi];
    stepsLeft[id] = id === 1 ? Number.MAX_SAFE_INTEGER : stepsPerTask;
    funcOf[id] = fi;
    depthOf[id] = parent === 0 ? 0 : depthOf[parent] + 1;
    recentChildren[id] = [];
    timeoutId[id] = 0;
    timeoutFires[id] = false;
    stuck[id] = id !== 1 && rnd() < 0.002;
    alive++;
    const createSite = parent === 0 ? null : funcs[funcOf[parent]].siteIds[5];
    if (createSite !== null) for (const l of declare([createSite])) lines.push(l);
    const name = id === 1 ? 'main' : `Task-${id}`;
    const coro = id === 1 ? 'main' : fn.name;
    const eager = id !== 1 && rnd() < 0.01;
    const taskLine = `{"type":"task","id":${id},"ts":${ts},"kind":"asyncio","name":"${name}","coro":"${coro}","parent":${parent === 0 ? 'null' : parent},"site":${createSite},"thread":140001,"loop":1${eager ? ',"eager":true' : ''}}\n`;
    if (eager) {
      // An eager task's first step runs inside creation and is reported before its task line.
      const dur = 2 + Math.floor(expo(20));
      const stack = pick(fn.stacks);
      for (const l of declare(stack)) lines.push(l);
      lines.push(`{"type":"step","task":${id},"ts":${ts},"dur":${dur},"await":{"stack":[${stack.join(',')}],"on":{"kind":"sleep","delay":0.01}}}\n`);
      lines.push(taskLine);
      stepsLeft[id]--;
      wakeAt[id] = ts + dur + 10_000;
      heap.push(wakeAt[id], id);
    } else {
      lines.push(taskLine);
      wakeAt[id] = ts;
      heap.push(ts, id);
    }
    if (id !== 1 && rnd() < 0.05) lines.push(`{"type":"name","task":${id},"name":"${rnd() < 0.5 ? 'worker' : 'tâche'}-${id}"}\n`);
    if (parent !== 0) {
      const rc = recentChildren[parent];
      rc.push(id);
      if (rc.length > 6) rc.shift();
    }
  };

  spawn(0, 0);
  yield* lines.splice(0);

  while (heap.size > 0) {
    const id = heap.pop();
    const wakeTime = heap.lastTime;
    if (wakeTime > now) now = wakeTime;
    const ts = now;
    const fn = funcs[funcOf[id]];

    // The wait that just ended: its timeout fired (the task is cancelled, catches TimeoutError) or was left in time.
    const to = timeoutId[id];
    if (to !== 0) {
      if (timeoutFires[id]) {
        const t = timeoutDeadline[id];
        lines.push(`{"type":"timeout","id":${to},"task":${id},"ts":${t},"state":"fired"}\n`);
        // Older runtimes do not name the timeout: readers link it by task and time.
        lines.push(rnd() < 0.5
          ? `{"type":"cancel","task":${id},"ts":${t},"by":${id},"site":${fn.siteIds[4]},"cause":"timeout","timeout":${to}}\n`
          : `{"type":"cancel","task":${id},"ts":${t},"by":${id},"site":${fn.siteIds[4]},"cause":"timeout"}\n`);
      } else {
        lines.push(`{"type":"timeout","id":${to},"task":${id},"ts":${ts},"state":"cleared"}\n`);
      }
      timeoutId[id] = 0;
    }

    // This step: main tops up the number of live tasks; others sometimes fan out.
    let dur = 3 + Math.floor(expo(id === 1 ? 60 : 30));
    if (rnd() < blockChance) {
      dur = 120_000 + Math.floor(rnd() * 200_000);
      lines.push(`{"type":"block","task":${id},"ts":${ts},"dur":${dur},"site":${fn.siteIds[1]}}\n`);
      for (const l of declare([fn.siteIds[1]])) lines.unshift(l);
    }
    if (id === 1) {
      const want = Math.min(nTasks - created, Math.max(0, concurrency - alive), 64);
      for (let k = 0; k < want; k++) spawn(1, ts + Math.floor((k * dur) / Math.max(want, 1)));
    } else if (created < nTasks && depthOf[id] < 8 && rnd() < 0.05) {
      const k = Math.min(nTasks - created, 1 + Math.floor(rnd() * 6));
      for (let j = 0; j < k; j++) spawn(id, ts + Math.floor((j * dur) / k));
    }
    const end = ts + dur;
    stepsLeft[id]--;
    const mainDone = id === 1 && created >= nTasks && alive - pendingAtClose.length <= 1;
    const last = id === 1 ? mainDone : stepsLeft[id] <= 0;

    if (last) {
      for (const l of lines.splice(0)) yield l;
      yield `{"type":"step","task":${id},"ts":${ts},"dur":${dur}}\n`;
      now = end;
      if (id === 1) break; // main ends after everything else, below
      const r = rnd();
      if (r < 0.03) {
        const site = fn.siteIds[3];
        yield* declare([site]);
        yield `{"type":"end","task":${id},"ts":${end + 5},"state":"failed","error":{"type":"${pick(ERRORS)}","message":"synthetic failure \\"${id}\\"","site":${site}}}\n`;
        if (rnd() < 0.3) unretrieved.push(id);
      } else if (r < 0.05) {
        yield `{"type":"end","task":${id},"ts":${end + 5},"state":"cancelled","error":{"type":"CancelledError","message":""}}\n`;
      } else {
        yield `{"type":"end","task":${id},"ts":${end + 5},"state":"done"}\n`;
      }
      alive--;
      continue;
    }

    // Suspend: what it waits for, how long, maybe under a timeout.
    const stack = pick(fn.stacks);
    for (const l of declare(stack)) lines.push(l);
    const kids = recentChildren[id];
    const r = rnd();
    let on: string;
    let wait: number;
    if (id === 1) {
      on = kids.length > 1 && r < 0.5 ? `{"kind":"gather","tasks":[${kids.join(',')}]}` : '{"kind":"sleep","delay":0.001}';
      wait = 1000 + Math.floor(expo(2000));
    } else if (r < 0.35) {
      const d = pick(SLEEPS);
      on = `{"kind":"sleep","delay":${d}}`;
      wait = Math.round(d * 1e6);
    } else if (r < 0.55) {
      on = `{"kind":"io","op":"${pick(IO_OPS)}"}`;
      wait = Math.floor(expo(20_000));
    } else if (r < 0.65 && kids.length > 0) {
      on = `{"kind":"task","task":${kids[kids.length - 1]}}`;
      wait = Math.floor(expo(50_000));
    } else if (r < 0.72 && kids.length > 1) {
      on = `{"kind":"gather","tasks":[${kids.join(',')}]}`;
      wait = Math.floor(expo(80_000));
    } else if (r < 0.8) {
      on = '{"kind":"yield"}';
      wait = 0;
    } else {
      on = `{"kind":"${pick(SYNC_KINDS)}"}`;
      wait = Math.floor(expo(10_000));
    }
    if (id !== 1 && wait > 0 && rnd() < 0.05) {
      const tid = nextTimeout++;
      const delay = pick([0.01, 0.05, 0.2]);
      const site = fn.siteIds[4];
      for (const l of declare([site])) lines.push(l);
      lines.push(`{"type":"timeout","id":${tid},"task":${id},"ts":${end - 1},"site":${site},"delay":${delay},"state":"armed"}\n`);
      timeoutId[id] = tid;
      timeoutDeadline[id] = end - 1 + Math.round(delay * 1e6);
      timeoutFires[id] = wait > Math.round(delay * 1e6);
      if (timeoutFires[id]) wait = Math.round(delay * 1e6);
    }
    for (const l of lines.splice(0)) yield l;
    const woke = wakeAt[id] < ts ? `,"woke":${wakeAt[id]}` : '';
    yield `{"type":"step","task":${id},"ts":${ts},"dur":${dur}${woke},"await":{"stack":[${stack.join(',')}],"on":${on}}}\n`;
    now = end;
    if (stuck[id]) {
      // Waits forever: still pending when the loop closes.
      pendingAtClose.push(id);
      continue;
    }
    wakeAt[id] = end + Math.round(wait);
    heap.push(wakeAt[id], id);
  }

  for (const id of unretrieved) yield `{"type":"unretrieved","task":${id},"ts":${now + 10}}\n`;
  yield `{"type":"end","task":1,"ts":${now + 20},"state":"done"}\n`;
  yield `{"type":"loop","id":1,"ts":${now + 30},"state":"closed","pending":[${pendingAtClose.join(',')}]}\n`;
  yield `{"type":"exit","ts":${now + 40},"code":0,"dropped":0}\n`;
}
