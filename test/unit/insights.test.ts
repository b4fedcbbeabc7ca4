import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/asyncTrace';
import { criticalPath, pathStages } from '../../src/core/criticalPath';
import { formatDuration } from '../../src/core/format';
import { describeOn } from '../../src/core/lineAnnotations';
import { blockingSteps } from '../../src/core/loopBlame';
import { reportLines, runReport, stuckText } from '../../src/core/runReport';
import { stuckProblems } from '../../src/core/stuckProblems';
import { stuckTasks } from '../../src/core/stuckTasks';
import { awaitOnText, plainLocalize as t } from '../../src/core/taskTreeModel';
import { TraceRun } from '../../src/core/traceModel';
import { siteWaits } from '../../src/core/waitDistributions';
import { byName, fixture, load } from './insightsFixtures';

test('lock-order deadlock (interrupted with Ctrl-C while it hung): both lock waiters stuck, nothing can wake them', () => {
  const run = load('lock_deadlock_hang');
  const found = stuckTasks(run);
  const left = byName(run, 'left');
  const right = byName(run, 'right');
  assert.deepEqual(found.map((f) => [f.kind, run.tasks.get(f.task)!.name]), [['quiescent', 'Task-1'], ['quiescent', 'left'], ['quiescent', 'right']]);
  // main waits on the gather, whose first open task waits on a lock at line 7.
  assert.deepEqual(found[0].chain.map((l) => [l.task, run.sites.get(l.site!)!.line, l.on?.kind]), [[1, 16, 'gather'], [left, 7, 'lock']]);
  assert.equal(stuckText(run, found[1], t),
    `Stuck for ${fmt(found[1].waited)}: left waits on lock at lock_deadlock_hang.py:7; nothing can wake it: every other live task waits too `
    + '(Task-1 waits on gather of 2 tasks at lock_deadlock_hang.py:16; right waits on lock at lock_deadlock_hang.py:7)');
  // The locks were waited on from 50 ms after the start until Ctrl-C (about 0.2 s later).
  assert.ok(found[1].waited > 150_000 && found[1].waited < 1_000_000, String(found[1].waited));
  assert.equal(found[2].task, right);
});

test('lock-order deadlock ended by asyncio.wait(timeout): the two waits cut by the shutdown are stuck', () => {
  const run = load('lock_deadlock');
  const found = stuckTasks(run);
  assert.deepEqual(found.map((f) => [f.kind, run.tasks.get(f.task)!.name, run.sites.get(f.wait!.site!)!.line]), [['quiescent', 'left', 7], ['quiescent', 'right', 7]]);
  assert.deepEqual(found[0].othersWaiting.map((l) => run.tasks.get(l.task)!.name), ['right']);
});

test('a queue whose producer died: the consumer is stuck, the producer failure is named and unretrieved', () => {
  const run = load('queue_dead_producer');
  const found = stuckTasks(run);
  assert.deepEqual(found.map((f) => [f.kind, run.tasks.get(f.task)!.name]), [['orphaned', 'consumer'], ['unretrieved', 'producer']]);
  assert.equal(stuckText(run, found[0], t),
    `Stuck for ${fmt(found[0].waited)}: consumer waits on queue at queue_dead_producer.py:12; no task is left that could wake it `
    + '(ended meanwhile: producer failed with RuntimeError at queue_dead_producer.py:7, Task-1 done)');
  assert.equal(stuckText(run, found[1], t), 'producer failed and nobody retrieved its exception (RuntimeError: sensor offline) at queue_dead_producer.py:7');
});

test('an event never set: the waiter is stuck after the only task that could set it returned', () => {
  const run = load('event_never_set');
  const found = stuckTasks(run);
  assert.equal(found.length, 1);
  assert.equal(stuckText(run, found[0], t),
    `Stuck for ${fmt(found[0].waited)}: waiter waits on event at event_never_set.py:5; no task is left that could wake it (ended meanwhile: starter done, Task-1 done)`);
  assert.ok(found[0].waited >= 300_000, String(found[0].waited));
});

test('a future nobody holds: the awaiting task is stuck with nobody left', () => {
  const run = load('future_orphan');
  const found = stuckTasks(run);
  assert.deepEqual(found.map((f) => [f.kind, run.tasks.get(f.task)!.name, f.wait!.on?.kind, run.sites.get(f.wait!.site!)!.line]), [['orphaned', 'wait_reply', 'future', 5]]);
});

test('gevent join cycle: the two greenlets joining each other (subscript receivers) are a deadlock, with both lines', () => {
  const run = load('gevent_join_cycle');
  const found = stuckTasks(run);
  assert.deepEqual(found.map((f) => [f.kind, f.chain.map((l) => [run.tasks.get(l.task)!.name, l.on?.kind, run.sites.get(l.site!)!.line])]),
    [['deadlock', [['ping', 'task', 8], ['pong', 'task', 13]]]]);
  assert.equal(stuckText(run, found[0], t),
    `Deadlock for ${fmt(found[0].waited)}: ping waits on task pong at gevent_join_cycle.py:8 → pong waits on task ping at gevent_join_cycle.py:13 → back to ping`);
});

test('gevent: a join cycle, and an AsyncResult and an Event nobody can set any more (every other greenlet waits too)', () => {
  const run = load('gevent_stuck');
  const found = stuckTasks(run);
  const name = (id: number) => run.tasks.get(id)!.name;
  assert.deepEqual(found.map((f) => [f.kind, name(f.task), f.wait!.on?.kind, run.sites.get(f.wait!.site!)!.line]), [
    ['deadlock', 'a', 'task', 11], ['quiescent', 'c', 'future', 24], ['quiescent', 'd', 'event', 28]]);
  assert.deepEqual(found[0].chain.map((l) => [name(l.task), run.sites.get(l.site!)!.line]), [['a', 11], ['b', 16]]);
  // The objects are named (obj ids of gevent's AsyncResult and Event) ...
  const objOf = (i: number) => run.objects.get((found[i].wait!.on as { obj?: number }).obj!)!;
  assert.deepEqual([objOf(1).className, objOf(2).className], ['gevent.event.AsyncResult', 'gevent.event.Event']);
  // ... but the runtime does not see gevent's sets: no "nobody ever set it" from missing set lines.
  assert.deepEqual([objOf(1).partial, objOf(2).partial, found[1].neverFed, found[2].neverFed], [true, true, undefined, undefined]);
  // The source annotations name the AsyncResult too (an asyncio future has no object: "future").
  assert.deepEqual([describeOn(run, found[1].wait!.on, t), describeOn(run, { kind: 'future' }, t)], ['future (AsyncResult)', 'future']);
  assert.equal(stuckText(run, found[1], t),
    `Stuck for ${fmt(found[1].waited)}: c waits on future (AsyncResult) at gevent_stuck.py:24; nothing can wake it: every other live task waits too `
    + '(a waits on task b at gevent_stuck.py:11; b waits on task a at gevent_stuck.py:16; d waits on event at gevent_stuck.py:28)');
  assert.equal(stuckText(run, found[2], t),
    `Stuck for ${fmt(found[2].waited)}: d waits on event at gevent_stuck.py:28; nothing can wake it: every other live task waits too `
    + '(a waits on task b at gevent_stuck.py:11; b waits on task a at gevent_stuck.py:16; c waits on future (AsyncResult) at gevent_stuck.py:24)');
  // In Problems: an error at a's join, the cycle's other join as related information.
  const problems = stuckProblems(run, t);
  assert.deepEqual(problems.map((p) => [p.severity, p.file.split('/').pop(), p.line, p.related.map((r) => [r.line, r.message])]), [
    ['error', 'gevent_stuck.py', 11, [[16, 'b waits here']]],
    ['error', 'gevent_stuck.py', 24, [[11, 'a waits here'], [16, 'b waits here'], [28, 'd waits here']]],
    ['error', 'gevent_stuck.py', 28, [[11, 'a waits here'], [16, 'b waits here'], [24, 'c waits here']]]]);
  // main's joinall names all four greenlets (its list holds subscripts).
  const main = run.tasks.get(byName(run, 'main'))!;
  const first = run.awaitAt(run.steps.awaitId[main.steps.at(0)])!.on as { tasks?: number[] };
  assert.deepEqual(first.tasks!.map(name), ['a', 'b', 'c', 'd']);
});

test('gevent lock-order deadlock (RLocks, recorded): a cycle through the holders, with the lines each took its lock at', () => {
  const run = load('gevent_lock_deadlock');
  const found = stuckTasks(run);
  const name = (id: number) => run.tasks.get(id)!.name;
  const line = (site: number | null | undefined) => run.sites.get(site!)!.line;
  assert.deepEqual(found.map((f) => [f.kind, name(f.task)]), [['deadlock', 'left']]);
  // Each waits at `with second:` (line 10) on the lock the other took at `with first:` (line 8).
  assert.deepEqual(found[0].chain.map((l) => [name(l.task), l.on?.kind, line(l.site), name(l.holder!), line(l.heldAt)]),
    [['left', 'lock', 10, 'right', 8], ['right', 'lock', 10, 'left', 8]]);
  // Held since it was taken, before the waits began.
  for (const l of found[0].chain) assert.ok(l.heldSince! < l.since, `${l.heldSince} < ${l.since}`);
  const objOf = (i: number) => run.objects.get((found[0].chain[i].on as { obj?: number }).obj!)!;
  assert.deepEqual([objOf(0).className, objOf(1).className, objOf(0).partial], ['gevent.lock.RLock', 'gevent.lock.RLock', undefined]);
  assert.notEqual(objOf(0).id, objOf(1).id);
  assert.equal(stuckText(run, found[0], t),
    `Deadlock for ${fmt(found[0].waited)}: left waits on lock at gevent_lock_deadlock.py:10 (held by right, taken at gevent_lock_deadlock.py:8) → `
    + 'right waits on lock at gevent_lock_deadlock.py:10 (held by left, taken at gevent_lock_deadlock.py:8) → back to left');
  const problems = stuckProblems(run, t);
  assert.deepEqual(problems.map((p) => [p.severity, p.file.split('/').pop(), p.line]), [['error', 'gevent_lock_deadlock.py', 10]]);
  assert.ok(found[0].waited > 400_000 && found[0].waited < 600_000, String(found[0].waited));
});

test('a gevent joinall listing 100 greenlets and `more`: counted as all of them; its listed tasks are followed', () => {
  const run = new TraceRun('more', 'more');
  run.ingest(['{"type":"run","v":1,"pid":1,"python":"3.11.2","argv":["p.py"],"cwd":"/w","started":"2026-12-05T00:00:00.000Z"}',
    '{"type":"site","id":1,"file":"/w/p.py","line":4,"func":"<module>"}',
    '{"type":"task","id":1,"ts":0,"kind":"greenlet","name":"main","coro":null,"parent":null,"site":null,"thread":1}',
    '{"type":"task","id":2,"ts":5,"kind":"greenlet","name":"w","coro":"w","parent":1,"site":1,"thread":1}',
    '{"type":"step","task":1,"ts":0,"dur":10,"await":{"stack":[1],"on":{"kind":"gather","tasks":[2],"more":149}}}',
    ''].join('\n'));
  run.finish();
  const main = run.tasks.get(1)!;
  const on = run.awaitAt(run.steps.awaitId[main.steps.at(0)])!.on;
  assert.equal(awaitOnText(run, on, t), 'gather of 150 tasks');
  assert.equal(awaitOnText(run, { kind: 'gather', tasks: [2], more: -3 } as never, t), 'gather of 1 tasks');
});

test('a deadlock cycle through awaited tasks is found from the await graph', () => {
  const run = new TraceRun('c', 'c');
  run.ingest([
    '{"type":"run","v":1,"pid":1,"python":"3.12.1","argv":["c.py"],"cwd":"/p","started":"2026-11-25T15:00:00.000Z"}',
    '{"type":"site","id":1,"file":"/p/c.py","line":5,"func":"a"}',
    '{"type":"site","id":2,"file":"/p/c.py","line":9,"func":"b"}',
    '{"type":"task","id":1,"ts":0,"kind":"asyncio","name":"A","coro":"a","parent":null,"site":null}',
    '{"type":"task","id":2,"ts":0,"kind":"greenlet","name":"B","coro":"b","parent":null,"site":null}',
    '{"type":"step","task":1,"ts":10,"dur":5,"await":{"stack":[1],"on":{"kind":"task","task":2}}}',
    '{"type":"step","task":2,"ts":20,"dur":5,"await":{"stack":[2],"on":{"kind":"task","task":1}}}',
  ].join('\n') + '\n');
  run.now = 5_000_025;
  const found = stuckTasks(run);
  assert.deepEqual(found.map((f) => [f.kind, f.chain.map((l) => l.task)]), [['deadlock', [1, 2]]]);
  assert.equal(stuckText(run, found[0], t), 'Deadlock for 5.00 s: A waits on task B at c.py:5 → B waits on task A at c.py:9 → back to A');
});

test('critical path of a slow task runs through another task\'s blocking step; blame names the delayed task', () => {
  const run = load('blocking_critical_path');
  const fetch = byName(run, 'fetch');
  const compress = byName(run, 'compress');
  const cp = criticalPath(run)!;
  const stages = pathStages(cp);
  const ready = stages.filter((s) => s.kind === 'ready' && s.task === fetch).sort((a, b) => b.total - a.total)[0];
  assert.equal(ready.behind, compress);
  assert.ok(ready.total > 250_000, `fetch was ready for ${ready.total} us behind compress`);
  assert.deepEqual(stages.filter((s) => s.kind === 'wait').map((s) => [s.task, run.sites.get(s.site!)!.line, s.on?.kind]), [[fetch, 7, 'sleep'], [fetch, 7, 'sleep'], [fetch, 7, 'sleep']]);
  const blocks = blockingSteps(run);
  assert.equal(blocks.length, 1);
  assert.equal(blocks[0].task, compress);
  assert.equal(run.sites.get(blocks[0].site!)!.line, 13);
  assert.deepEqual(blocks[0].delayed.map((d) => [d.task, d.upTo]), [[fetch, false]]);
  assert.ok(Math.abs(blocks[0].delayed[0].delay - blocks[0].dur) < 20_000, 'fetch was delayed by (about) the whole blocking step');
  const lines = reportLines(run, runReport(run), t);
  assert.ok(lines.some((l) => /: fetch ready but not running, behind compress$/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /compress blocked the loop for .* at blocking_critical_path\.py:13; delayed 1 tasks: fetch /.test(l)), lines.join('\n'));
});

test('a server whose p99 comes from one blocking step: the slowest waits overlap that step', () => {
  const run = load('server_p99');
  const r = runReport(run);
  assert.equal(r.blocking.length, 1);
  const block = r.blocking[0];
  assert.equal(run.sites.get(block.site!)!.line, 9);
  assert.ok(block.dur >= 200_000);
  const read = siteWaits(run).find((s) => run.sites.get(s.site)!.line === 21)!; // the client's reader.readline()
  assert.equal(read.count, 100);
  assert.ok(read.p99 >= 200_000 && read.p50 < 100_000, `p50 ${read.p50} p99 ${read.p99}`);
  assert.equal(read.histogram.counts.reduce((a, b) => a + b, 0), 100);
  const blame = r.siteBlame.find((b) => b.site === read.site)!;
  assert.equal(blame.block, block);
  assert.ok(blame.overlap >= 0.9 * block.dur);
  const line = reportLines(run, r, t).find((l) => l.includes('server_p99.py:21 (I/O read): 100 waits'))!;
  assert.match(line, /the slowest wait overlapped .* of the blocking step of Task-\d+ at server_p99\.py:9$/);
});

test('async-trace report: text, --json and --fail-on as a CI gate; zh-cn', async () => {
  const io = () => { const o = { out: '', err: '' }; return { o, io: { out: (s: string) => { o.out += `${s}\n`; }, err: (s: string) => { o.err += `${s}\n`; }, env: {} } }; };
  let c = io();
  assert.equal(await main(['report', fixture('queue_dead_producer.jsonl'), '--fail-on', 'stuck,unretrieved'], c.io), 1);
  assert.match(c.o.out, /Stuck tasks \(2\):/);
  assert.match(c.o.err, /FAIL: 2 problems match --fail-on stuck,unretrieved/);
  c = io();
  assert.equal(await main(['report', fixture('blocking_critical_path.jsonl'), '--fail-on', 'blocked>500ms'], c.io), 0);
  assert.match(c.o.err, /OK: nothing matches/);
  c = io();
  assert.equal(await main(['report', fixture('blocking_critical_path.jsonl'), '--json', '--fail-on', 'blocked>100ms'], c.io), 1);
  const j = JSON.parse(c.o.out);
  assert.equal(j.gate.failed, true);
  assert.equal(j.blocking.length, 1);
  assert.equal(j.siteInfo[j.blocking[0].site].line, 13);
  c = io();
  assert.equal(await main(['report', fixture('event_never_set.jsonl'), '--fail-on', 'nonsense'], c.io), 2);
  c = io();
  assert.equal(await main(['report', fixture('event_never_set.jsonl'), '--locale', 'zh-cn'], c.io), 0);
  assert.match(c.o.out, /卡住的任务（1）：/);
});

function fmt(us: number): string {
  return formatDuration(us);
}

test('with wake links (obj/hold/use lines): a lock-order deadlock is a cycle through the holders, with the lines they took the locks at', () => {
  const run = new TraceRun('w', 'w');
  run.ingest([
    '{"type":"run","v":1,"pid":1,"python":"3.12.1","argv":["bank.py"],"cwd":"/p","started":"2026-11-25T15:00:00.000Z"}',
    '{"type":"site","id":1,"file":"/p/bank.py","line":5,"func":"transfer"}',
    '{"type":"site","id":2,"file":"/p/bank.py","line":7,"func":"transfer"}',
    '{"type":"site","id":3,"file":"/p/bank.py","line":6,"func":"transfer"}',
    '{"type":"task","id":2,"ts":0,"kind":"asyncio","name":"left","coro":"transfer","parent":null,"site":null}',
    '{"type":"task","id":3,"ts":0,"kind":"asyncio","name":"right","coro":"transfer","parent":null,"site":null}',
    '{"type":"obj","id":1,"kind":"lock","class":"asyncio.locks.Lock","ts":0,"task":null,"site":null}',
    '{"type":"obj","id":2,"kind":"lock","class":"asyncio.locks.Lock","ts":0,"task":null,"site":null}',
    '{"type":"hold","obj":1,"task":2,"ts":10,"state":"acquired","site":1}',
    '{"type":"step","task":2,"ts":5,"dur":10,"await":{"stack":[3],"on":{"kind":"sleep","delay":0.05}}}',
    '{"type":"hold","obj":2,"task":3,"ts":20,"state":"acquired","site":1}',
    '{"type":"step","task":3,"ts":15,"dur":10,"await":{"stack":[3],"on":{"kind":"sleep","delay":0.05}}}',
    '{"type":"step","task":2,"ts":50015,"dur":10,"await":{"stack":[2],"on":{"kind":"lock","obj":2}}}',
    '{"type":"step","task":3,"ts":50025,"dur":10,"await":{"stack":[2],"on":{"kind":"lock","obj":1}}}',
    '{"type":"obj","id":3,"kind":"queue","class":"asyncio.queues.Queue","ts":0,"task":null,"site":null}',
    '{"type":"task","id":4,"ts":0,"kind":"asyncio","name":"producer","coro":"producer","parent":null,"site":null}',
    '{"type":"task","id":5,"ts":0,"kind":"asyncio","name":"consumer","coro":"consumer","parent":null,"site":null}',
    '{"type":"use","obj":3,"task":4,"ts":30,"op":"put","site":3}',
    '{"type":"step","task":4,"ts":30,"dur":5}',
    '{"type":"end","task":4,"ts":35,"state":"failed","error":{"type":"OSError","message":"gone","site":3}}',
    '{"type":"step","task":5,"ts":40,"dur":5,"await":{"stack":[1],"on":{"kind":"queue","op":"get","obj":3}}}',
    '{"type":"task","id":6,"ts":0,"kind":"asyncio","name":"ticker","coro":"tick","parent":null,"site":null}',
    '{"type":"step","task":6,"ts":60000,"dur":5,"await":{"stack":[3],"on":{"kind":"sleep","delay":10}}}',
  ].join('\n') + '\n');
  run.now = 2_050_025;
  const found = stuckTasks(run);
  assert.deepEqual(found.map((f) => [f.kind, f.task]), [['deadlock', 2], ['orphaned', 5]]);
  assert.equal(stuckText(run, found[0], t),
    'Deadlock for 2.00 s: left waits on lock at bank.py:7 (held by right, taken at bank.py:5) → right waits on lock at bank.py:7 (held by left, taken at bank.py:5) → back to left');
  assert.deepEqual(found[1].producers, [4]);
  assert.equal(stuckText(run, found[1], t),
    `Stuck for ${fmt(found[1].waited)}: consumer waits on queue at bank.py:5; no live producer: every task that fed it has ended (producer failed with OSError at bank.py:6)`);
});

// The same programs recorded by the runtime with wake links (obj/hold/use lines, Python 3.11).
test('wake links, real program: the lock-order deadlock is a cycle through the holders, with the lines the locks were taken at', () => {
  const run = load('lock_deadlock_hang.wakes');
  const found = stuckTasks(run);
  assert.deepEqual(found.map((f) => [f.kind, run.tasks.get(f.task)!.name]), [['deadlock', 'left'], ['quiescent', 'Task-1']]);
  assert.equal(stuckText(run, found[0], t),
    `Deadlock for ${fmt(found[0].waited)}: left waits on lock at lock_deadlock_hang.py:7 (held by right, taken at lock_deadlock_hang.py:5) → `
    + 'right waits on lock at lock_deadlock_hang.py:7 (held by left, taken at lock_deadlock_hang.py:5) → back to left');
  assert.deepEqual(found[1].chain.map((l) => run.tasks.get(l.task)!.name), ['Task-1', 'left', 'right']);
});

test('wake links, real program: a queue whose only producer died has no live producer', () => {
  const run = load('queue_dead_producer.wakes');
  const found = stuckTasks(run);
  assert.equal(stuckText(run, found[0], t),
    `Stuck for ${fmt(found[0].waited)}: consumer waits on queue at queue_dead_producer.py:12; no live producer: every task that fed it has ended (producer failed with RuntimeError at queue_dead_producer.py:7)`);
});

test('wake links, real program: an event nobody ever set', () => {
  const run = load('event_never_set.wakes');
  const found = stuckTasks(run);
  assert.equal(found.length, 1);
  assert.equal(stuckText(run, found[0], t),
    `Stuck for ${fmt(found[0].waited)}: waiter waits on event at event_never_set.py:5; nobody ever set or fed it, and no task is left that could`);
});
