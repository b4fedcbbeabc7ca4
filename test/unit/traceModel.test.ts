import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TraceRun, statusAt } from '../../src/core/traceModel';
import { taskMatches, visibleTaskIds, isFilterActive } from '../../src/core/taskFilter';
import { generateTrace } from '../../src/core/syntheticTrace';
import type { RunDelta } from '../../src/core/modelTypes';

const RUN = '{"type":"run","v":1,"pid":1,"python":"3.12.1","argv":["p.py"],"cwd":"/p","started":"2026-11-25T15:00:00.000Z"}';
const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name));

function load(text: string | Uint8Array, options?: { live?: boolean }): { run: TraceRun; deltas: RunDelta[] } {
  const run = new TraceRun('k', 'test', options);
  const deltas: RunDelta[] = [];
  run.onDelta((d) => deltas.push(d));
  run.ingest(text);
  run.finish();
  return { run, deltas };
}

const lines = (...l: string[]) => l.join('\n') + '\n';

test('03_create_task (recorded): two children of main overlap, await stats per innermost site', () => {
  const { run } = load(fixture('03_create_task.jsonl'));
  assert.equal(run.live, false);
  assert.equal(run.info?.python, '3.11.7');
  assert.deepEqual(run.roots, [1, 4, 5]);
  const main = run.tasks.get(1)!;
  assert.deepEqual(main.children, [2, 3]);
  const [t2, t3] = [run.tasks.get(2)!, run.tasks.get(3)!];
  assert.equal(t2.parent, 1);
  assert.equal(t2.coro, 'say_after');
  assert.equal(t2.site, 2);
  assert.equal(run.sites.get(t2.site!)!.line, 12);
  // Overlap: each child was created before the other ended.
  assert.ok(t2.createdTs < t3.endTs! && t3.createdTs < t2.endTs!);
  for (const t of [main, t2, t3]) assert.equal(t.status, 'done');
  // say_after waits at line 7 (site 5): 1 s and 2 s.
  const w2 = t2.awaitSites.get(5)!;
  assert.deepEqual({ count: w2.count, total: w2.total, max: w2.max }, { count: 1, total: 1172192 - 170760, max: 1172192 - 170760 });
  assert.deepEqual(w2.lastOn, { kind: 'sleep', delay: 1.0 });
  assert.equal(t3.awaitSites.get(5)!.total, 2172630 - 170812);
  // main waits on task1 at line 22 (site 4), then on task2 at line 23 (site 6).
  assert.equal(main.awaitSites.get(4)!.total, 1172270 - 170710);
  assert.equal(main.awaitSites.get(6)!.total, 2172705 - 1172273);
  assert.deepEqual(main.awaitSites.get(6)!.lastOn, { kind: 'task', task: 3 });
  assert.equal(main.stepCount, 3);
  assert.equal(main.runTotal, 97 + 3 + 28);
  assert.equal(main.lastStepEnd, 2172733);
  assert.equal(main.currentWait, undefined);
  // Columns: per-task step indices in time order, wait ends filled in.
  assert.equal(run.steps.count, 9);
  const s0 = t2.steps.at(0);
  assert.equal(run.steps.task[s0], 2);
  assert.equal(run.steps.ts[s0], 170741);
  assert.equal(run.steps.waitEnd[s0], 1172192);
  // A sleep of 1.0 s: due 1 s after it suspended; from then until its next step it waited for the loop.
  assert.equal(run.steps.wokeNext[s0], 170741 + run.steps.dur[s0] + 1e6);
  assert.ok(run.steps.wokeNext[s0] < 1172192);
  assert.deepEqual(run.awaitAt(run.steps.awaitId[s0]), { stack: [5], on: { kind: 'sleep', delay: 1.0 } });
  const last = t2.steps.at(1);
  assert.equal(run.steps.awaitId[last], -1);
  assert.ok(Number.isNaN(run.steps.waitEnd[last]));
  assert.deepEqual(run.counts, { tasks: 5, alive: 0, events: 29, failed: 0, cancelled: 0 });
  assert.equal(run.now, 2173216);
  assert.deepEqual(run.exit, { ts: 2173216, code: 0, dropped: 0 });
  assert.equal(run.loops.get(1)?.state, 'closed');
});

test('03_create_task recorded with 3.12 folds the same tree', () => {
  const { run } = load(fixture('03_create_task.py312.jsonl'));
  assert.deepEqual(run.tasks.get(1)!.children, [2, 3]);
  assert.equal(run.counts.alive, 0);
  assert.equal(run.tasks.get(3)!.awaitSites.get(run.tasks.get(3)!.steps.length > 0 ? run.awaitAt(run.steps.awaitId[run.tasks.get(3)!.steps.at(0)])!.stack.at(-1)! : -1)!.count, 1);
});

test('05_wait_for_timeout on 3.11 (recorded): the timeout fired and cancelled the inner task', () => {
  const { run } = load(fixture('05_wait_for_timeout.jsonl'));
  const to = run.timeouts.get(1)!;
  assert.equal(to.task, 1);
  assert.equal(to.state, 'fired');
  assert.equal(to.delay, 1.0);
  assert.equal(to.armedTs, 251870);
  assert.equal(to.endTs, 1253247);
  assert.deepEqual(to.cancelled, [2]);
  assert.deepEqual(run.tasks.get(1)!.timeouts, [1]);
  const inner = run.tasks.get(2)!;
  assert.equal(inner.status, 'cancelled');
  assert.equal(inner.error?.type, 'CancelledError');
  assert.equal(inner.cancels.length, 1);
  assert.equal(inner.cancels[0].cause, 'timeout');
  assert.equal(inner.cancels[0].by, 1);
  assert.equal(run.cancels.length, 1);
  assert.equal(run.counts.cancelled, 1);
  assert.equal(run.tasks.get(1)!.status, 'done');
});

test('05_wait_for_timeout on 3.12 (recorded): the caller itself is cancelled by its timeout', () => {
  const { run } = load(fixture('05_wait_for_timeout.py312.jsonl'));
  const to = run.timeouts.get(1)!;
  assert.equal(to.state, 'fired');
  assert.deepEqual(to.cancelled, [1]);
  const main = run.tasks.get(1)!;
  assert.equal(main.cancels[0].by, null);
  // The wait spans the nested await stack; stats go to the innermost site (eternity's sleep).
  assert.equal(main.awaitSites.size, 1);
  const [site] = main.awaitSites.keys();
  assert.equal(run.sites.get(site)!.func, 'eternity');
});

test('timeout-caused cancels without a timeout id are linked by task and time, in either order', () => {
  const base = [
    RUN,
    '{"type":"task","id":1,"ts":1,"kind":"asyncio","name":"M","coro":"main","parent":null,"site":null}',
    '{"type":"task","id":2,"ts":2,"kind":"asyncio","name":"W","coro":"work","parent":1,"site":null}',
    '{"type":"timeout","id":7,"task":1,"ts":3,"site":null,"delay":0.5,"state":"armed"}',
  ];
  // fired first, then the cancel of the inner task by the timeout's task
  let { run } = load(lines(...base,
    '{"type":"timeout","id":7,"task":1,"ts":500003,"state":"fired"}',
    '{"type":"cancel","task":2,"ts":500003,"by":1,"site":null,"cause":"timeout"}'));
  assert.deepEqual(run.timeouts.get(7)!.cancelled, [2]);
  // the cancel line first (lines of different tasks may be slightly out of order)
  ({ run } = load(lines(...base,
    '{"type":"cancel","task":2,"ts":500010,"by":1,"site":null,"cause":"timeout"}',
    '{"type":"timeout","id":7,"task":1,"ts":500003,"state":"fired"}')));
  assert.deepEqual(run.timeouts.get(7)!.cancelled, [2]);
  // the task cancelled by its own timeout, requester unknown
  ({ run } = load(lines(...base,
    '{"type":"timeout","id":7,"task":1,"ts":500003,"state":"fired"}',
    '{"type":"cancel","task":1,"ts":500003,"by":null,"site":null,"cause":"timeout"}')));
  assert.deepEqual(run.timeouts.get(7)!.cancelled, [1]);
  // a plain cancel is not attributed to a timeout
  ({ run } = load(lines(...base,
    '{"type":"timeout","id":7,"task":1,"ts":500003,"state":"fired"}',
    '{"type":"cancel","task":2,"ts":500003,"by":1,"site":null,"cause":"cancel"}')));
  assert.deepEqual(run.timeouts.get(7)!.cancelled, []);
  // a cleared timeout causes nothing; a rescheduled one updates its delay
  ({ run } = load(lines(...base,
    '{"type":"timeout","id":7,"task":1,"ts":100,"site":null,"delay":2.0,"state":"armed"}',
    '{"type":"timeout","id":7,"task":1,"ts":200,"state":"cleared"}')));
  const to = run.timeouts.get(7)!;
  assert.equal(to.state, 'cleared');
  assert.equal(to.delay, 2.0);
  assert.equal(to.armedTs, 3);
  assert.equal(to.rescheduledTs, 100);
  assert.equal(to.endTs, 200);
});

test('failures, unretrieved exceptions and the exit error', () => {
  const { run } = load(lines(
    RUN,
    '{"type":"site","id":1,"file":"/p/p.py","line":9,"func":"boom"}',
    '{"type":"task","id":1,"ts":1,"kind":"asyncio","name":"M","coro":"main","parent":null,"site":null}',
    '{"type":"task","id":2,"ts":2,"kind":"asyncio","name":"B","coro":"boom","parent":1,"site":null}',
    '{"type":"step","task":2,"ts":3,"dur":4}',
    '{"type":"end","task":2,"ts":7,"state":"failed","error":{"type":"ValueError","message":"bad","site":1}}',
    '{"type":"step","task":1,"ts":8,"dur":2}',
    '{"type":"end","task":1,"ts":10,"state":"failed","error":{"type":"KeyError","message":"k"}}',
    '{"type":"unretrieved","task":2,"ts":20}',
    '{"type":"exit","ts":30,"code":1,"dropped":3,"error":{"type":"KeyError","message":"k"}}',
  ));
  const b = run.tasks.get(2)!;
  assert.equal(b.status, 'failed');
  assert.equal(b.endState, 'failed');
  assert.equal(b.endTs, 7);
  assert.deepEqual(b.error, { type: 'ValueError', message: 'bad', site: 1 });
  assert.equal(b.unretrieved, true);
  assert.equal(run.tasks.get(1)!.unretrieved, undefined);
  assert.deepEqual(run.counts, { tasks: 2, alive: 0, events: 10, failed: 2, cancelled: 0 });
  assert.deepEqual(run.exit, { ts: 30, code: 1, dropped: 3, error: { type: 'KeyError', message: 'k' } });
  assert.equal(run.now, 30);
});

test('name events rename tasks (06_introspection, recorded), even before the task line', () => {
  const { run } = load(fixture('06_introspection.py312.jsonl'));
  assert.deepEqual([2, 3, 4].map((id) => run.tasks.get(id)!.name), ['worker-0', 'worker-1', 'worker-2']);
  const { run: r2 } = load(lines(RUN,
    '{"type":"name","task":1,"name":"renamed"}',
    '{"type":"task","id":1,"ts":1,"kind":"asyncio","name":"Task-1","coro":"main","parent":null,"site":null}'));
  assert.equal(r2.tasks.get(1)!.name, 'renamed');
  assert.equal(r2.tasks.get(1)!.coro, 'main');
  assert.equal(r2.counts.tasks, 1);
});

test('greenlets (07_greenlet_switch, 08_gevent_spawn, recorded)', () => {
  const { run } = load(fixture('07_greenlet_switch.jsonl'));
  assert.equal(run.tasks.get(1)!.kind, 'greenlet');
  assert.equal(run.tasks.get(1)!.coro, '');
  assert.deepEqual(run.roots, [1]);
  assert.deepEqual(run.tasks.get(1)!.children, [2, 3]);
  assert.equal(run.tasks.get(2)!.status, 'cancelled');
  assert.deepEqual(run.tasks.get(2)!.awaitSites.get(2)!.lastOn, { kind: 'switch', to: 3 });
  const { run: g } = load(fixture('08_gevent_spawn.jsonl'));
  assert.deepEqual(g.tasks.get(1)!.children, [2, 3]);
  const gather = g.tasks.get(1)!.awaitSites.get(3)!;
  assert.equal(gather.count, 2);
  assert.equal(gather.total, (1225907 - 224148) + (2227276 - 1225923));
  assert.equal(gather.max, 1225907 - 224148);
  assert.equal(g.counts.alive, 0);
});

test('eager task: a step before its task line is kept and the task nests under its parent', () => {
  const { run, deltas } = load(lines(
    RUN,
    '{"type":"task","id":1,"ts":1,"kind":"asyncio","name":"M","coro":"main","parent":null,"site":null}',
    '{"type":"step","task":2,"ts":5,"dur":3,"await":{"stack":[],"on":{"kind":"yield"}}}',
    '{"type":"task","id":2,"ts":6,"kind":"asyncio","name":"E","coro":"eager","parent":1,"site":null,"eager":true}',
    '{"type":"step","task":2,"ts":20,"dur":1}',
    '{"type":"end","task":2,"ts":22,"state":"done"}',
  ));
  const e = run.tasks.get(2)!;
  assert.deepEqual(run.roots, [1]);
  assert.deepEqual(run.tasks.get(1)!.children, [2]);
  assert.equal(e.parent, 1);
  assert.equal(e.name, 'E');
  assert.equal(e.eager, true);
  assert.equal(e.createdTs, 5);
  assert.equal(e.stepCount, 2);
  assert.equal(run.steps.waitEnd[e.steps.at(0)], 20);
  assert.equal(run.counts.tasks, 2);
  assert.deepEqual(deltas[0].newTasks, [1, 2]);
});

test('a child whose parent is unknown is a root, and nests once the parent turns up', () => {
  const { run } = load(lines(RUN,
    '{"type":"task","id":5,"ts":1,"kind":"asyncio","name":"C","coro":"c","parent":4,"site":null}',
    '{"type":"task","id":6,"ts":1,"kind":"asyncio","name":"D","coro":"d","parent":99,"site":null}'));
  assert.deepEqual(run.roots, [5, 6]);
  const { run: r2 } = load(lines(RUN,
    '{"type":"task","id":5,"ts":1,"kind":"asyncio","name":"C","coro":"c","parent":4,"site":null}',
    '{"type":"task","id":4,"ts":2,"kind":"asyncio","name":"P","coro":"p","parent":null,"site":null}'));
  assert.deepEqual(r2.roots, [4]);
  assert.deepEqual(r2.tasks.get(4)!.children, [5]);
});

test('live status: ready, waiting with currentWait, running; pendingAtClose', () => {
  const run = new TraceRun('k', 'live', { live: true, sourcePath: '/tmp/x.jsonl' });
  assert.equal(run.live, true);
  assert.equal(run.sourcePath, '/tmp/x.jsonl');
  run.ingest(lines(RUN,
    '{"type":"task","id":1,"ts":1,"kind":"asyncio","name":"M","coro":"main","parent":null,"site":null}',
    '{"type":"task","id":2,"ts":2,"kind":"asyncio","name":"W","coro":"w","parent":1,"site":null}'));
  assert.equal(run.tasks.get(2)!.status, 'ready');
  run.ingest('{"type":"step","task":2,"ts":10,"dur":5,"await":{"stack":[3,4],"on":{"kind":"event"}}}\n');
  const w = run.tasks.get(2)!;
  assert.equal(w.status, 'waiting');
  assert.deepEqual(w.currentWait, { since: 15, stack: [3, 4], on: { kind: 'event' } });
  assert.equal(w.awaitSites.get(4)!.count, 1);
  assert.equal(w.awaitSites.get(4)!.total, 0);
  assert.equal(w.awaitSites.has(3), false);
  run.ingest('{"type":"step","task":1,"ts":20,"dur":5}\n');
  assert.equal(run.tasks.get(1)!.status, 'running');
  assert.equal(run.counts.alive, 2);
  run.ingest('{"type":"loop","id":1,"ts":40,"state":"closed","pending":[2]}\n');
  run.finish();
  assert.equal(run.live, false);
  assert.equal(w.pendingAtClose, true);
  assert.equal(w.status, 'waiting'); // not ended: stays as it was
  assert.equal(run.tasks.get(1)!.pendingAtClose, undefined);
  assert.deepEqual(run.loops.get(1)!.pending, [2]);
});

test('statusAt reads running / ready (woke) / waiting / end state at a time', () => {
  const { run } = load(lines(RUN,
    '{"type":"task","id":1,"ts":0,"kind":"asyncio","name":"M","coro":"main","parent":null,"site":null}',
    '{"type":"step","task":1,"ts":10,"dur":10,"await":{"stack":[1],"on":{"kind":"sleep","delay":0.0001}}}',
    '{"type":"step","task":1,"ts":200,"dur":10,"woke":120}',
    '{"type":"end","task":1,"ts":215,"state":"done"}'));
  const t = run.tasks.get(1)!;
  assert.equal(run.steps.wokeNext[t.steps.at(0)], 120);
  assert.equal(statusAt(run, t, 5), 'ready');
  assert.equal(statusAt(run, t, 15), 'running');
  assert.equal(statusAt(run, t, 50), 'waiting');
  assert.equal(statusAt(run, t, 150), 'ready');
  assert.equal(statusAt(run, t, 205), 'running');
  assert.equal(statusAt(run, t, 300), 'done');
});

test('deltas: one per ingest with the new and changed ids; none for an incomplete line', () => {
  const run = new TraceRun('k', 'd', { live: true });
  const deltas: RunDelta[] = [];
  run.onDelta((d) => deltas.push(d));
  run.ingest(lines(RUN,
    '{"type":"site","id":1,"file":"/p/p.py","line":3,"func":"f"}',
    '{"type":"task","id":1,"ts":1,"kind":"asyncio","name":"M","coro":"main","parent":null,"site":null}',
    '{"type":"task","id":2,"ts":2,"kind":"asyncio","name":"A","coro":"a","parent":1,"site":1}',
    '{"type":"step","task":2,"ts":3,"dur":1,"await":{"stack":[1],"on":{"kind":"sleep","delay":1}}}'));
  assert.equal(deltas.length, 1);
  assert.deepEqual(deltas[0].newTasks, [1, 2]);
  assert.deepEqual(deltas[0].changedTasks.sort(), [1, 2]);
  assert.equal(deltas[0].stepsFrom, 0);
  assert.equal(deltas[0].newSites, 1);
  assert.equal(deltas[0].runChanged, true);
  run.ingest('{"type":"task","id":3,"ts":5,"kind":"asyncio","name":"B","coro":"b","parent":1,');
  assert.equal(deltas.length, 1, 'no delta without a complete line');
  run.ingest('"site":null}\n{"type":"step","task":2,"ts":1000004,"dur":2}\n{"type":"timeout","id":1,"task":3,"ts":6,"site":null,"delay":1,"state":"armed"}\n{"type":"block","task":2,"ts":1000004,"dur":2,"site":1}\n');
  assert.equal(deltas.length, 2);
  const d = deltas[1];
  assert.deepEqual(d.newTasks, [3]);
  assert.deepEqual([...d.changedTasks].sort(), [1, 2, 3]);
  assert.equal(d.stepsFrom, 1);
  assert.equal(run.steps.count, 2);
  assert.deepEqual(d.changedTimeouts, [1]);
  assert.equal(d.newBlocks, 1);
  assert.equal(d.newCancels, 0);
  assert.equal(d.runChanged, false);
  run.ingest('{"type":"cancel","task":3,"ts":7,"by":1,"site":null,"cause":"cancel"}\n{"type":"end","task":3,"ts":8,"state":"cancelled"}\n');
  assert.deepEqual(deltas[2].changedTasks, [3]);
  assert.deepEqual(deltas[2].newTasks, []);
  assert.equal(deltas[2].newCancels, 1);
  run.finish();
  assert.equal(deltas.length, 4);
  assert.equal(deltas[3].runChanged, true);
  assert.deepEqual(deltas[3].changedTasks, []);
  assert.equal(run.counts.events, 11);
  // Unsubscribe works.
  const off = run.onDelta(() => assert.fail('unsubscribed listener called'));
  off();
  run.ingestEvents([{ type: 'exit', ts: 9, code: 0, dropped: 0 }]);
  assert.equal(deltas.length, 5);
});

test('a listener that throws does not stop the others; the error reaches the caller', () => {
  const run = new TraceRun('k', 'x');
  const seen: number[] = [];
  run.onDelta(() => { throw new Error('view bug'); });
  run.onDelta(() => seen.push(1));
  assert.throws(() => run.ingest(RUN + '\n'), /view bug/);
  assert.deepEqual(seen, [1]);
  assert.equal(run.info?.v, 1);
});

test('parse issues are visible on the run', () => {
  const { run } = load('{"type":"site","id":1,"file":"a","line":1,"func":"f"}\nnot json\n{"type":"exit","ts":1,"code":0,"dropped":0}');
  assert.equal(run.issues.missingHeader, true);
  assert.equal(run.issues.badLines, 1);
  assert.equal(run.issues.firstBadLine, 2);
  assert.equal(run.issues.truncatedTail, true);
  assert.equal(run.exit?.code, 0);
});

test('filters: state chips and case-insensitive text keep ancestors', () => {
  const { run } = load(lines(RUN,
    '{"type":"task","id":1,"ts":1,"kind":"asyncio","name":"Main","coro":"main","parent":null,"site":null}',
    '{"type":"task","id":2,"ts":2,"kind":"asyncio","name":"Group","coro":"group","parent":1,"site":null}',
    '{"type":"task","id":3,"ts":3,"kind":"asyncio","name":"Fetcher-1","coro":"fetch_page","parent":2,"site":null}',
    '{"type":"task","id":4,"ts":3,"kind":"asyncio","name":"Other","coro":"idle","parent":1,"site":null}',
    '{"type":"task","id":5,"ts":3,"kind":"asyncio","name":"Lone","coro":"x","parent":null,"site":null}',
    '{"type":"end","task":3,"ts":9,"state":"failed","error":{"type":"E","message":""}}',
    '{"type":"end","task":4,"ts":9,"state":"done"}',
    '{"type":"end","task":5,"ts":9,"state":"cancelled"}'));
  const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);
  assert.deepEqual(sorted(visibleTaskIds(run, {})), [1, 2, 3, 4, 5]);
  assert.deepEqual(sorted(visibleTaskIds(run, { text: 'FETCH' })), [1, 2, 3]);
  assert.deepEqual(sorted(visibleTaskIds(run, { text: 'fetcher' })), [1, 2, 3]);
  assert.deepEqual(sorted(visibleTaskIds(run, { states: ['failedOrCancelled'] })), [1, 2, 3, 5]);
  assert.deepEqual(sorted(visibleTaskIds(run, { states: ['alive'] })), [1, 2]);
  assert.deepEqual(sorted(visibleTaskIds(run, { states: ['alive', 'failedOrCancelled'] })), [1, 2, 3, 5]);
  assert.deepEqual(sorted(visibleTaskIds(run, { states: ['failedOrCancelled'], text: 'lone' })), [5]);
  assert.deepEqual(sorted(visibleTaskIds(run, { text: 'nothing' })), []);
  assert.equal(taskMatches(run, run.tasks.get(4)!, { text: ' IDLE ' }), true);
  assert.equal(taskMatches(run, run.tasks.get(4)!, { states: ['alive'] }), false);
  assert.equal(isFilterActive({}), false);
  assert.equal(isFilterActive({ states: [], text: '  ' }), false);
  assert.equal(isFilterActive({ text: 'x' }), true);
});

test('synthetic trace: deterministic, well-formed, folds consistently; steps grow past the initial capacity', () => {
  const a = [...generateTrace({ tasks: 300, stepsPerTask: 8, seed: 42 })].join('');
  const b = [...generateTrace({ tasks: 300, stepsPerTask: 8, seed: 42 })].join('');
  const c = [...generateTrace({ tasks: 300, stepsPerTask: 8, seed: 43 })].join('');
  assert.equal(a, b);
  assert.notEqual(a, c);
  const run = new TraceRun('k', 'synthetic');
  const bytes = new TextEncoder().encode(a);
  for (let i = 0; i < bytes.length; i += 4096) run.ingest(bytes.subarray(i, i + 4096));
  run.finish();
  assert.deepEqual(run.issues, { badLines: 0, unknownTypes: 0, truncatedTail: false, missingHeader: false });
  assert.equal(run.counts.tasks, 300);
  assert.ok(run.steps.count > 1024, `${run.steps.count} steps`);
  let steps = 0;
  for (const t of run.tasks.values()) {
    steps += t.stepCount;
    for (let i = 0; i < t.steps.length; i++) {
      const s = t.steps.at(i);
      assert.equal(run.steps.task[s], t.id);
      if (i > 0) assert.ok(run.steps.ts[s] >= run.steps.ts[t.steps.at(i - 1)]);
    }
    if (t.id !== 1 && !t.pendingAtClose) assert.equal(t.stepCount, 8);
    if (t.parent !== null) assert.ok(run.tasks.get(t.parent)!.children.includes(t.id));
    for (const s of t.awaitSites.keys()) assert.ok(run.sites.has(s), `site ${s} declared`);
  }
  assert.equal(steps, run.steps.count);
  assert.deepEqual(run.roots, [1]);
  assert.ok(run.counts.failed > 0 && run.counts.cancelled > 0);
  assert.ok(run.exit !== undefined);
  const fired = [...run.timeouts.values()].filter((t) => t.state === 'fired');
  assert.ok(fired.length > 0);
  for (const t of fired) assert.equal(t.cancelled.length, 1, `timeout ${t.id} linked`);
  assert.ok(run.awaitCount < run.steps.count, `${run.awaitCount} await entries`);
});

test('the await table dedupes identical (stack, on) pairs, whatever the key order', () => {
  const step = (ts: number, aw: string) => `{"type":"step","task":1,"ts":${ts},"dur":1,"await":${aw}}`;
  const { run } = load(lines(RUN,
    '{"type":"task","id":1,"ts":0,"kind":"asyncio","name":"M","coro":"main","parent":null,"site":null}',
    step(1, '{"stack":[1,2],"on":{"kind":"sleep","delay":1}}'),
    step(3, '{"on":{"delay":1,"kind":"sleep"},"stack":[1,2]}'),
    step(5, '{"stack":[1,2],"on":{"kind":"sleep","delay":2}}'),
    step(7, '{"stack":[1],"on":{"kind":"sleep","delay":1}}'),
    step(9, '{"stack":[1,2]}'),
    step(11, '{"stack":[1,2],"on":{"kind":"lock"}}'),
    step(13, '{"stack":[1,2],"on":{"kind":"lock"}}'),
    step(15, '{"stack":[1,2],"on":{"kind":"gather","tasks":[3,4]}}'),
    step(17, '{"stack":[1,2],"on":{"kind":"gather","tasks":[3,4]}}'),
    step(19, '{"stack":[1,2],"on":{"kind":"custom","a":1,"b":[2]}}'),
    step(21, '{"stack":[1,2],"on":{"b":[2],"kind":"custom","a":1}}'),
    step(23, '{"stack":[1,2],"on":{"kind":"custom","a":2,"b":[2]}}')));
  const ids = Array.from({ length: run.steps.count }, (_, i) => run.steps.awaitId[i]);
  assert.deepEqual(ids, [0, 0, 1, 2, 3, 4, 4, 5, 5, 6, 6, 7]);
  assert.equal(run.awaitCount, 8);
  assert.deepEqual(run.awaitAt(3), { stack: [1, 2] });
  assert.deepEqual(run.tasks.get(1)!.awaitSites.get(2)!.count, 11);
});

test('internal tasks (asyncio.run shutdown, recorded on 3.12) are hidden and counted', () => {
  const text = fixture('03_create_task.internal.jsonl');
  for (const input of [text, text.toString('utf8')]) {
    const { run } = load(input);
    assert.deepEqual(run.roots, [1]);
    assert.deepEqual([...run.tasks.keys()].sort(), [1, 2, 3]);
    assert.equal(run.hiddenTasks, 2);
    assert.equal(run.counts.tasks, 3);
    assert.equal(run.counts.alive, 0);
    // Their steps (hand-scanned from bytes or strings alike) are not in the columns.
    const stepTasks = new Set(Array.from(run.steps.task.subarray(0, run.steps.count)));
    assert.deepEqual([...stepTasks].sort(), [1, 2, 3]);
    const steps = [1, 2, 3].reduce((n, id) => n + run.tasks.get(id)!.stepCount, 0);
    assert.equal(run.steps.count, steps);
    assert.deepEqual(run.loops.get(1)!.pending, []);
  }
});

test('lines naming an internal task are skipped, also ones that came before its task line', () => {
  const task = (id: number, extra = '') =>
    `{"type":"task","id":${id},"ts":10,"kind":"asyncio","name":"Task-${id}","coro":"c","parent":null,"site":null${extra}}`;
  const { run, deltas } = load(lines(
    RUN,
    task(1),
    '{"type":"step","task":7,"ts":5,"dur":1,"await":{"stack":[],"on":{"kind":"yield"}}}',
    task(7, ',"internal":true'),
    '{"type":"step","task":7,"ts":20,"dur":1}',
    '{"type":"name","task":7,"name":"x"}',
    '{"type":"timeout","id":1,"task":7,"ts":21,"site":null,"delay":1.0,"state":"armed"}',
    '{"type":"cancel","task":7,"ts":22,"by":1,"site":null,"cause":"cancel"}',
    '{"type":"block","task":7,"ts":22,"dur":200000,"site":null}',
    '{"type":"end","task":7,"ts":23,"state":"cancelled","error":{"type":"CancelledError","message":""}}',
    '{"type":"unretrieved","task":7,"ts":24}',
    '{"type":"loop","id":1,"ts":25,"state":"closed","pending":[1,7]}',
  ));
  assert.deepEqual([...run.tasks.keys()], [1]);
  assert.deepEqual(run.roots, [1]);
  assert.equal(run.hiddenTasks, 1);
  assert.deepEqual(run.counts, { tasks: 1, alive: 1, events: 12, failed: 0, cancelled: 0 });
  assert.equal(run.timeouts.size, 0);
  assert.equal(run.cancels.length, 0);
  assert.equal(run.blocks.length, 0);
  assert.deepEqual(run.loops.get(1)!.pending, [1]);
  assert.ok(deltas.every((d) => !d.newTasks.includes(7) && !d.changedTasks.includes(7)));
});

test('when a task was due again: at once after a yield, when its sleep was up; a woke in the trace wins', () => {
  const lines = [
    '{"type":"run","v":1,"pid":1,"python":"3.12.1","argv":["p.py"],"cwd":"/w","started":"2026-11-25T00:00:00.000Z"}',
    '{"type":"site","id":1,"file":"/w/p.py","line":3,"func":"f"}',
    '{"type":"task","id":1,"ts":0,"kind":"asyncio","name":"Task-1","coro":"f","parent":null,"site":null,"thread":7}',
    // a yield (sleep(0)): due at once, ran 300 us later (the loop was busy)
    '{"type":"step","task":1,"ts":100,"dur":50,"await":{"stack":[1],"on":{"kind":"sleep","delay":0}}}',
    // a 0.5 s sleep, run 20 ms late
    '{"type":"step","task":1,"ts":450,"dur":50,"await":{"stack":[1],"on":{"kind":"sleep","delay":0.5}}}',
    // a 10 s sleep cut short by a cancellation after 1 s: woken early, never late
    '{"type":"step","task":1,"ts":520500,"dur":10,"await":{"stack":[1],"on":{"kind":"sleep","delay":10}}}',
    // waiting on another task: what woke it is not in the trace
    '{"type":"step","task":1,"ts":1520510,"dur":10,"await":{"stack":[1],"on":{"kind":"task","task":2}}}',
    '{"type":"step","task":1,"ts":1600000,"dur":10,"await":{"stack":[1],"on":{"kind":"sleep","delay":0}}}',
    // the trace's own woke wins over the inference
    '{"type":"step","task":1,"ts":1700000,"dur":10,"woke":1650000}',
  ];
  const run = new TraceRun('due', 'due', { live: false });
  run.ingest(lines.join('\n') + '\n');
  run.finish();
  const s = run.tasks.get(1)!.steps;
  const woke = Array.from({ length: s.length }, (_, k) => run.steps.wokeNext[s.at(k)]);
  assert.equal(woke[0], 150);
  assert.equal(woke[1], 500 + 500000);
  assert.equal(woke[2], 1520510); // clamped to the next step's start
  assert.ok(Number.isNaN(woke[3]));
  assert.equal(woke[4], 1650000);
  assert.ok(Number.isNaN(woke[5])); // the last step: nothing after it
});
