import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TraceRun } from '../../src/core/traceModel';
import { parseTrace } from '../../src/core/traceParser';
import { awaitOnText, BlockIndex, plainLocalize as t, taskDetails, taskTooltipRows } from '../../src/core/taskTreeModel';
import { computeLineAnnotations, describeOn, lineHints } from '../../src/core/lineAnnotations';
import { execItemText, execLanes } from '../../src/core/executorText';
import type { RunDelta } from '../../src/core/modelTypes';

const FIXTURE = path.join(__dirname, 'fixtures', 'to_thread.jsonl');

function load(text: string | Buffer, chunk = 41): TraceRun {
  const run = new TraceRun('k', 'to_thread_app.py', { live: false });
  for (let i = 0; i < text.length; i += chunk) run.ingest(text.slice(i, i + chunk));
  run.finish();
  return run;
}

test('exec lines parse as known events and fold into work items linked to the awaiting task', () => {
  const text = readFileSync(FIXTURE);
  const { events, issues } = parseTrace(text);
  assert.equal(issues.unknownTypes, 0);
  assert.equal(issues.badLines, 0);
  assert.equal(events.filter((e) => e.type === 'exec').length, 3);
  const run = load(text);
  const x = run.execItems.get(1)!;
  assert.equal(x.task, 1);
  assert.equal(x.func, 'blocking_io');
  assert.equal(run.sites.get(x.site!)!.line, 18);
  assert.equal(run.sites.get(x.defSite!)!.line, 6);
  assert.equal(x.thread, 'asyncio_0');
  assert.equal(x.pool, 'thread');
  assert.equal(x.state, 'done');
  assert.ok(x.startedTs! >= x.submittedTs && x.endTs! - x.startedTs! >= 300_000);
  // The main task's first wait names the item.
  const main = run.tasks.get(1)!;
  const stats = [...main.awaitSites.values()].find((s) => run.sites.get(s.site)!.line === 18)!;
  assert.deepEqual(stats.lastOn, { kind: 'executor', item: 1 });
});

test('the tree, hovers and annotations say what ran where and for how long', () => {
  const run = load(readFileSync(FIXTURE));
  const on = { kind: 'executor', item: 1 };
  assert.equal(awaitOnText(run, on, t), 'blocking_io() in a worker thread (asyncio_0), 300 ms');
  assert.equal(describeOn(run, on, t), 'blocking_io() in a worker thread (asyncio_0), 300 ms');
  assert.equal(awaitOnText(run, { kind: 'executor', item: 99 }, t), 'work in an executor');
  const blocks = new BlockIndex();
  blocks.update(run);
  const rows = taskDetails(run, run.tasks.get(1)!, blocks.of(1), t);
  const row = rows.find((r) => r.kind === 'executor')!;
  assert.equal(row.label, 'waiting on blocking_io() in a worker thread (asyncio_0), 300 ms');
  assert.match(row.description!, /to_thread_app\.py:18/);
  assert.equal(row.site, run.execItems.get(1)!.site);
  assert.ok(row.tooltip.some((l) => /Defined at to_thread_app\.py:6/.test(l)), row.tooltip.join('\n'));
  // The await row of line 18 names the item too.
  const awaitRow = rows.find((r) => r.kind === 'await' && /:18/.test(r.label))!;
  assert.match(awaitRow.description!, /blocking_io\(\) in a worker thread \(asyncio_0\)/);
});

test('a live item: queued, running, failed, cancelled; the delta names changed items', () => {
  const run = new TraceRun('k', 'p', { live: true });
  const deltas: RunDelta[] = [];
  run.onDelta((d) => deltas.push(d));
  run.ingest('{"type":"run","v":1,"pid":1,"python":"3.12","argv":["p.py"],"cwd":"/","started":""}\n'
    + '{"type":"task","id":1,"ts":0,"kind":"asyncio","name":"Task-1","coro":"main","parent":null,"site":null}\n'
    + '{"type":"exec","id":1,"ts":10,"state":"submitted","task":1,"site":null,"func":"getaddrinfo","module":"socket","executor":"ThreadPoolExecutor","pool":"thread"}\n'
    + '{"type":"exec","id":2,"ts":10,"state":"submitted","task":1,"site":null,"func":"square","executor":"ProcessPoolExecutor","pool":"process"}\n');
  assert.deepEqual(deltas.at(-1)!.changedExecItems, [1, 2]);
  const a = run.execItems.get(1)!;
  run.now = 1000;
  assert.equal(execItemText(a, 1000, t), 'socket.getaddrinfo() queued in ThreadPoolExecutor, 990 µs+');
  run.ingest('{"type":"exec","id":1,"ts":20,"state":"started","thread":"asyncio_0","ident":7}\n');
  assert.equal(a.state, 'running');
  run.ingest('{"type":"exec","id":1,"ts":2020,"state":"finished","error":{"type":"OSError","message":"no","site":null}}\n'
    + '{"type":"exec","id":2,"ts":5010,"state":"finished"}\n'
    + '{"type":"exec","id":3,"ts":5020,"state":"cancelled"}\n'
    + '{"type":"exec","id":4,"ts":5030,"state":"paused-by-a-newer-runtime"}\n');
  assert.equal(a.state, 'failed');
  assert.equal(execItemText(a, run.now, t), 'socket.getaddrinfo() in a worker thread (asyncio_0), 2.00 ms, raised OSError');
  assert.equal(execItemText(run.execItems.get(2)!, run.now, t), 'square() in a worker process (ProcessPoolExecutor), 5.00 ms');
  // A line whose submission was lost still makes an item; an unknown state is ignored.
  assert.equal(execItemText(run.execItems.get(3)!, run.now, t), '?() cancelled before it ran');
  assert.equal(run.issues.badLines, 0);
  const bad = parseTrace('{"type":"exec","ts":1,"state":"submitted"}\n{"type":"exec","id":1,"ts":"x","state":"started"}\n');
  assert.equal(bad.issues.badLines, 2);
});

test('a reader of the format before exec lines skips them: the rest of the trace still loads', () => {
  const text = readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => !l.includes('"type":"exec"')).join('\n');
  const run = load(text);
  assert.equal(run.execItems.size, 0);
  assert.equal(awaitOnText(run, { kind: 'executor', item: 1 }, t), 'work in an executor');
  assert.equal(run.tasks.get(1)!.endState, 'done');
  assert.ok(taskTooltipRows(run, run.tasks.get(1)!, t).length > 3);
});

test('executor lanes: one per worker thread, unknown threads packed without overlap', () => {
  const lanes = execLanes([
    { id: 1, thread: 'asyncio_1', executor: 'ThreadPoolExecutor', pool: 'thread', submitted: 0, started: 5, end: 50 },
    { id: 2, thread: 'asyncio_0', executor: 'ThreadPoolExecutor', pool: 'thread', submitted: 0, started: 2, end: 20 },
    { id: 3, thread: 'asyncio_0', executor: 'ThreadPoolExecutor', pool: 'thread', submitted: 1, started: 21, end: 40 },
    { id: 4, executor: 'ProcessPoolExecutor', pool: 'process', submitted: 0, end: 30 },
    { id: 5, executor: 'ProcessPoolExecutor', pool: 'process', submitted: 10 },
    { id: 6, executor: 'ProcessPoolExecutor', pool: 'process', submitted: 35, end: 40 },
    { id: 7, thread: 'asyncio_10', executor: 'ThreadPoolExecutor', pool: 'thread', submitted: 0, started: 1, end: 3 },
  ], 100);
  assert.deepEqual(lanes.map((l) => [l.name, l.items]), [
    ['asyncio_0', [2, 3]], ['asyncio_1', [1]], ['asyncio_10', [7]],
    ['ProcessPoolExecutor', [4, 6]], ['ProcessPoolExecutor #2', [5]],
  ]);
});

test('the submitting line gets an executor hint (one item: what ran where; many: a summary)', () => {
  const run = load(readFileSync(FIXTURE));
  const info = computeLineAnnotations(run).files.get('/home/dev/app/to_thread_app.py')!.lines.get(18)!;
  const hints = lineHints(run, info, t);
  assert.deepEqual(hints.map((h) => h.kind), ['await', 'executor']);
  assert.equal(hints[1].text, 'blocking_io() in a worker thread (asyncio_0), 300 ms');
  const x = run.execItems.get(1)!;
  const many = { ...info, execs: [x, { ...x, id: 2, func: 'other', error: { type: 'OSError', message: '' } }, { ...x, id: 3 }] };
  assert.equal(lineHints(run, many, t)[1].text, 'blocking_io(), other() in executors x3, total 901 ms, longest 300 ms, 1 raised');
});

test('trace text in executor items is neutral where VS Code shows it (no link, no icon, no control)', () => {
  const run = new TraceRun('k', 'p', { live: false });
  run.ingest('{"type":"run","v":1,"pid":1,"python":"3.12","argv":["p.py"],"cwd":"/","started":""}\n'
    + '{"type":"task","id":1,"ts":0,"kind":"asyncio","name":"Task-1","coro":"main","parent":null,"site":null}\n'
    + '{"type":"exec","id":1,"ts":10,"state":"submitted","task":1,"site":null,"func":"[x](https://evil.example)$(alert)","executor":"E","pool":"thread"}\n'
    + '{"type":"exec","id":1,"ts":20,"state":"started","thread":"t\\u001b[31m$(zap)"}\n'
    + '{"type":"exec","id":1,"ts":30,"state":"finished","error":{"type":"E$(x)","message":"[m](command:evil)"}}\n');
  run.finish();
  const blocks = new BlockIndex();
  blocks.update(run);
  const row = taskDetails(run, run.tasks.get(1)!, blocks.of(1), t).find((r) => r.kind === 'executor')!;
  for (const s of [row.label, ...row.tooltip]) {
    assert.doesNotMatch(s, /\]\(https?:|\]\(command:|\$\(\w+\)|\u001b/, s);
  }
});
