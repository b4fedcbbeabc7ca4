import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraceRun } from '../../src/core/traceModel';
import { LineAnnotator, computeLineAnnotations, heatOf, lineHints } from '../../src/core/lineAnnotations';
import { lineEditOf, mapTraceLine, type LineEdit } from '../../src/core/lineEdits';
import { collectProblems } from '../../src/core/lineProblems';

const F = '/proj/prog.py';
const G = '/proj/lib.py';

function run(events: object[], live = false): TraceRun {
  const r = new TraceRun('k', 'prog.py', { live });
  r.ingest(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  if (!live) r.finish();
  return r;
}

const header = { type: 'run', v: 1, pid: 1, python: '3.12.1', argv: ['prog.py'], cwd: '/proj', started: '2026-11-25T15:00:00.000Z' };
const site = (id: number, line: number, func = 'f', file = F) => ({ type: 'site', id, file, line, func });
const task = (id: number, ts: number, name: string, siteId: number | null = null, parent: number | null = null) =>
  ({ type: 'task', id, ts, kind: 'asyncio', name, coro: name, parent, site: siteId, loop: 1 });
const step = (t: number, ts: number, dur: number, stack?: number[], on?: object) =>
  ({ type: 'step', task: t, ts, dur, ...(stack ? { await: { stack, ...(on ? { on } : {}) } } : {}) });

test('awaits: counts, totals, max per innermost line; outer frames counted and marked', () => {
  // main (task 1) calls helper() at line 10 which sleeps at line 3; then sleeps at line 11 itself.
  const r = run([
    header, site(1, 10, 'main'), site(2, 3, 'helper'), site(3, 11, 'main'),
    task(1, 0, 'Task-1'),
    step(1, 0, 10, [1, 2], { kind: 'sleep', delay: 1 }),
    step(1, 1_000_010, 10, [1, 2], { kind: 'sleep', delay: 2 }),
    step(1, 3_000_020, 10, [3], { kind: 'sleep', delay: 0.5 }),
    step(1, 3_500_030, 10),
    { type: 'end', task: 1, ts: 3_500_040, state: 'done' },
  ]);
  const annotator = new LineAnnotator(r);
  annotator.update();
  const ann = annotator.snapshot();
  const lines = ann.files.get(F)!.lines;
  const inner = lines.get(3)!.await!;
  assert.equal(inner.count, 2);
  assert.equal(inner.total, 3_000_000);
  assert.equal(inner.max, 2_000_000);
  assert.equal(inner.outer, false);
  const perTask = annotator.tasksAt(F, 3);
  assert.deepEqual(perTask.map((t) => [t.task, t.count, t.total, t.max, t.outer]), [[1, 2, 3_000_000, 2_000_000, false]]);
  assert.deepEqual(perTask[0].on, { kind: 'sleep', delay: 2 }, 'the last thing awaited there');
  assert.deepEqual(annotator.tasksAt(F, 10).map((t) => [t.task, t.count, t.outer]), [[1, 2, true]]);
  assert.deepEqual(annotator.tasksAt(F, 99), []);

  const outer = lines.get(10)!.await!;
  assert.equal(outer.outer, true, 'line 10 is only an outer frame');
  assert.equal(outer.count, 2);
  assert.equal(outer.total, 3_000_000);

  assert.equal(ann.totalWait, 3_500_000, 'run total counts innermost waits once');
  assert.equal(lines.get(11)!.await!.total, 500_000);
  // Heat: 3.0/3.5 = 0.857 -> 3; 0.5/3.5 = 0.143 -> 1.
  assert.equal(inner.heat, 3);
  assert.equal(lines.get(11)!.await!.heat, 1);

  const hints = lineHints(r, lines.get(3)!);
  assert.deepEqual(hints.map((h) => h.text), ['await x2  total 3.00 s  max 2.00 s']);
  assert.match(lineHints(r, lines.get(10)!)[0].text, /^awaits in callee x2/);
});

test('heat thresholds are fixed', () => {
  assert.deepEqual([0, 0.049, 0.05, 0.19, 0.2, 0.49, 0.5, 1].map(heatOf), [0, 0, 1, 1, 2, 2, 3, 3]);
});

test('awaits across files and tasks, per-task breakdown sorted by total', () => {
  const r = run([
    header, site(1, 5, 'worker', G), site(2, 20, 'main'),
    task(1, 0, 'main'), task(2, 0, 'w1', 2, 1), task(3, 0, 'w2', 2, 1),
    step(2, 0, 10, [1], { kind: 'io', op: 'recv' }),
    step(3, 10, 10, [1], { kind: 'io', op: 'recv' }),
    step(2, 1010, 10), step(3, 5020, 10),
    { type: 'end', task: 2, ts: 1020, state: 'done' }, { type: 'end', task: 3, ts: 5030, state: 'done' },
  ]);
  const annotator = new LineAnnotator(r);
  annotator.update();
  const ann = annotator.snapshot();
  assert.equal(ann.files.get(G)!.lines.get(5)!.await!.total, 6000);
  assert.deepEqual(annotator.tasksAt(G, 5).map((t) => [t.task, t.total]), [[3, 5000], [2, 1000]]);
  const creates = ann.files.get(F)!.lines.get(20)!;
  assert.deepEqual(creates.creates, [2, 3]);
  assert.deepEqual(lineHints(r, creates).map((h) => h.text), ['creates 2 tasks']);
});

test('incremental: live steps fold once, open waits are unfinished until they end', () => {
  const r = new TraceRun('k', 'p', { live: true });
  const lines = (evs: object[]) => evs.map((e) => JSON.stringify(e) + '\n').join('');
  r.ingest(lines([header, site(1, 7, 'eternity'), task(1, 0, 'Task-1'), step(1, 0, 10, [1], { kind: 'sleep', delay: 3600 })]));
  const a = new LineAnnotator(r);
  a.update();
  let aw = a.snapshot().files.get(F)!.lines.get(7)!.await!;
  assert.equal(aw.count, 0);
  assert.equal(aw.unfinished, 1);
  assert.deepEqual(lineHints(r, a.snapshot().files.get(F)!.lines.get(7)!).map((h) => h.text), ['await  1 waiting now']);

  r.ingest(lines([step(1, 1_000_010, 5, [1], { kind: 'sleep', delay: 3600 })]));
  a.update();
  aw = a.snapshot().files.get(F)!.lines.get(7)!.await!;
  assert.equal(aw.count, 1);
  assert.equal(aw.total, 1_000_000);
  assert.equal(aw.unfinished, 1);
  assert.equal(a.folded, 2);

  r.ingest(lines([{ type: 'end', task: 1, ts: 1_500_015, state: 'done' }]));
  a.update();
  aw = a.snapshot().files.get(F)!.lines.get(7)!.await!;
  assert.equal(aw.count, 2);
  assert.equal(aw.total, 1_500_000);
  assert.equal(aw.unfinished, 0);
});

// The shape of examples/05_wait_for_timeout.py on Python 3.12 (wait_for without an inner task).
const waitForTrace = [
  header, site(1, 14, 'main'), site(2, 7, 'eternity'), site(3, 18, '<module>'),
  task(1, 0, 'Task-1', 3),
  { type: 'timeout', id: 1, task: 1, ts: 100, site: 1, delay: 1.0, state: 'armed' },
  step(1, 0, 120, [1, 2], { kind: 'sleep', delay: 3600 }),
  { type: 'timeout', id: 1, task: 1, ts: 1_000_100, state: 'fired' },
  { type: 'cancel', task: 1, ts: 1_000_100, by: null, site: 1, cause: 'timeout', timeout: 1 },
  step(1, 1_000_120, 50),
  { type: 'end', task: 1, ts: 1_000_170, state: 'done' },
];

test('timeouts: fired with whom they cancelled; problems point at the arming line', () => {
  const r = run(waitForTrace);
  const ann = computeLineAnnotations(r);
  const l14 = ann.files.get(F)!.lines.get(14)!;
  assert.equal(l14.timeout!.fired, 1);
  assert.deepEqual(l14.timeout!.cancelled, [1]);
  const texts = lineHints(r, l14).map((h) => h.text);
  assert.deepEqual(texts, ['timeout 1.0 s fired x1, cancelled Task-1', 'awaits in callee x1  total 1.00 s  max 1.00 s']);
  assert.equal(ann.files.get(F)!.lines.get(7)!.await!.count, 1);

  const problems = collectProblems(r, ann);
  assert.equal(problems.length, 1);
  assert.equal(problems[0].kind, 'timeoutFired');
  assert.equal(problems[0].line, 14);
  assert.equal(problems[0].severity, 'warning');
  assert.equal(problems[0].message, 'Timeout of 1.0 s fired and cancelled Task-1');
  assert.deepEqual(problems[0].related.map((x) => x.line), [18]);
});

test('timeouts always cleared report the closest call', () => {
  const r = run([
    header, site(1, 30, 'main'), task(1, 0, 'Task-1'),
    { type: 'timeout', id: 1, task: 1, ts: 0, site: 1, delay: 1.0, state: 'armed' },
    { type: 'timeout', id: 1, task: 1, ts: 400_000, state: 'cleared' },
    // Derived from a deadline by the runtime: shown as 1.0 s all the same.
    { type: 'timeout', id: 2, task: 1, ts: 500_000, site: 1, delay: 0.999962, state: 'armed' },
    { type: 'timeout', id: 2, task: 1, ts: 1_320_000, state: 'cleared' },
  ]);
  const l = computeLineAnnotations(r).files.get(F)!.lines.get(30)!;
  assert.equal(l.timeout!.cleared, 2);
  assert.ok(Math.abs(l.timeout!.closest!.ratio - 0.82 / 0.999962) < 1e-9);
  assert.deepEqual(lineHints(r, l).map((h) => [h.kind, h.text]), [['timeoutCleared', 'timeout 1.0 s cleared x2, closest: 820 ms of 1.0 s']]);
  assert.equal(collectProblems(r, computeLineAnnotations(r)).length, 0, 'cleared timeouts are not problems');
});

test('blocks, failures, unretrieved exceptions, cancel requests and pending tasks', () => {
  const r = run([
    header, site(1, 40, 'main'), site(2, 50, 'bad'), site(3, 60, 'cpu'), site(4, 41, 'main'),
    task(1, 0, 'main'), task(2, 10, 'boom', 1, 1), task(3, 20, 'stuck', 1, 1),
    { type: 'loop', id: 1, ts: 0, state: 'running' },
    { type: 'block', task: 1, ts: 100, dur: 250_000, site: 3 },
    { type: 'block', task: 1, ts: 300_000, dur: 120_000, site: 3 },
    { type: 'end', task: 2, ts: 500_000, state: 'failed', error: { type: 'ValueError', message: 'bad *value*', site: 2 } },
    { type: 'unretrieved', task: 2, ts: 600_000 },
    { type: 'cancel', task: 3, ts: 550_000, by: 1, site: 4, cause: 'cancel' },
    { type: 'loop', id: 1, ts: 700_000, state: 'closed', pending: [3] },
  ]);
  const ann = computeLineAnnotations(r);
  const lines = ann.files.get(F)!.lines;
  assert.deepEqual(lineHints(r, lines.get(60)!).map((h) => h.text), ['blocked the loop x2, longest 250 ms']);
  assert.deepEqual(lineHints(r, lines.get(50)!).map((h) => h.text), ['raised ValueError in boom']);
  assert.deepEqual(lineHints(r, lines.get(41)!).map((h) => h.text), ['cancel requested for stuck']);
  const problems = collectProblems(r, ann);
  const byKind = Object.fromEntries(problems.map((p) => [p.kind, p]));
  assert.equal(byKind.block.line, 60);
  assert.match(byKind.block.message, /2 times, longest 250 ms, total 370 ms/);
  assert.equal(byKind.unretrieved.line, 50);
  assert.equal(byKind.unretrieved.severity, 'error');
  assert.deepEqual(byKind.unretrieved.related.map((x) => x.line), [40], 'links the creation site');
  assert.equal(byKind.pending.line, 40);
  assert.equal(byKind.pending.task, 3);
});

test('edits: lines shift by inserted/removed line counts, edited lines drop', () => {
  const pos = (line: number, character: number) => ({ line, character });
  // Enter at the start of line index 2 (trace line 3): line 3 moves to 4.
  const a = lineEditOf({ start: pos(2, 0), end: pos(2, 0) }, '\n');
  assert.equal(mapTraceLine(3, [a]), 4);
  assert.equal(mapTraceLine(2, [a]), 2);
  assert.equal(mapTraceLine(9, [a]), 10);
  // Enter at the end of line index 2 (length 12): line stays.
  const b = lineEditOf({ start: pos(2, 12), end: pos(2, 12) }, '\n    ', 12);
  assert.equal(mapTraceLine(3, [b]), 3);
  assert.equal(mapTraceLine(4, [b]), 5);
  // Typing inside a line: that line is dropped, others stay.
  const c = lineEditOf({ start: pos(4, 3), end: pos(4, 3) }, 'x');
  assert.equal(mapTraceLine(5, [c]), undefined);
  assert.equal(mapTraceLine(6, [c]), 6);
  // Deleting two whole lines (indices 0-1): line 3 -> 1, lines 1-2 dropped.
  const d = lineEditOf({ start: pos(0, 0), end: pos(2, 0) }, '');
  assert.equal(mapTraceLine(1, [d]), undefined);
  assert.equal(mapTraceLine(2, [d]), undefined);
  assert.equal(mapTraceLine(3, [d]), 1);
  assert.equal(mapTraceLine(10, [d]), 8);
  // Pasting three lines in the middle of a line splits it: dropped; lines below shift by 3.
  const e = lineEditOf({ start: pos(1, 2), end: pos(1, 2) }, 'a\nb\nc\n', 10);
  assert.equal(mapTraceLine(2, [e]), undefined);
  assert.equal(mapTraceLine(3, [e]), 6);
  // A sequence composes.
  const edits: LineEdit[] = [a, d];
  assert.equal(mapTraceLine(9, edits), 8);
});

test('a million steps fold in well under a second', () => {
  const r = new TraceRun('big', 'big', { live: true });
  const sites = Array.from({ length: 50 }, (_, i) => site(i + 1, i + 1, 'f'));
  r.ingest([header, ...sites].map((e) => JSON.stringify(e) + '\n').join(''));
  const N = 1_000_000, TASKS = 1000;
  let ts = 0;
  const batch: string[] = [];
  for (let t = 1; t <= TASKS; t++) batch.push(JSON.stringify(task(t, 0, `T${t}`)));
  r.ingest(batch.join('\n') + '\n');
  for (let i = 0; i < N; i += 50_000) {
    const chunk: string[] = [];
    for (let j = i; j < i + 50_000; j++) {
      ts += 10;
      chunk.push(`{"type":"step","task":${(j % TASKS) + 1},"ts":${ts},"dur":5,"await":{"stack":[${(j % 7) + 1},${(j % 50) + 1}],"on":{"kind":"sleep","delay":0.001}}}`);
    }
    r.ingest(chunk.join('\n') + '\n');
  }
  assert.equal(r.steps.count, N);
  const a = new LineAnnotator(r);
  const t0 = performance.now();
  a.update();
  const t1 = performance.now();
  const snap = a.snapshot();
  const t2 = performance.now();
  // One more live update with 1000 new steps: only those are read.
  const more: string[] = [];
  for (let j = 0; j < 1000; j++) { ts += 10; more.push(`{"type":"step","task":${j + 1},"ts":${ts},"dur":5}`); }
  r.ingest(more.join('\n') + '\n');
  const t3 = performance.now();
  a.update();
  a.snapshot();
  const t4 = performance.now();
  console.log(`1,000,000 steps: fold ${(t1 - t0).toFixed(0)} ms, snapshot ${(t2 - t1).toFixed(1)} ms, incremental update+snapshot ${(t4 - t3).toFixed(1)} ms`);
  assert.ok(snap.files.get(F)!.lines.size === 50);
  // Loose bounds (CI machines are shared and noisy): they catch an accidental quadratic pass,
  // the log line above carries the actual figures (about 40 ms / 10 ms / 5 ms on a quiet core).
  assert.ok(t1 - t0 < 5000, `fold took ${t1 - t0} ms`);
  assert.ok(t4 - t3 < 1000, `incremental took ${t4 - t3} ms`);
});

test('incremental updates end where a single pass over the whole trace does', async () => {
  const { generateTrace } = await import('../../src/core/syntheticTrace');
  const text = [...generateTrace({ tasks: 3000, stepsPerTask: 6, seed: 7 })].join('');
  const full = new TraceRun('full', 'full');
  full.ingest(text);
  full.finish();
  const once = computeLineAnnotations(full);

  const live = new TraceRun('live', 'live', { live: true });
  const annotator = new LineAnnotator(live);
  // Uneven chunks, split anywhere (mid-line too), an update after each like the throttled refreshes.
  let pos = 0;
  let k = 0;
  while (pos < text.length) {
    const n = 1000 + ((k++ * 7919) % 50_000);
    live.ingest(text.slice(pos, pos + n));
    pos += n;
    if (k % 3 === 0) annotator.update();
  }
  live.finish();
  annotator.update();
  const inc = annotator.snapshot();
  annotator.dispose();

  const plain = (a: ReturnType<typeof computeLineAnnotations>) => JSON.stringify({
    totalWait: a.totalWait,
    unretrieved: [...a.unretrieved].sort((x, y) => x - y),
    pending: [...a.pendingAtClose].sort((x, y) => x - y),
    files: [...a.files.values()].sort((x, y) => x.file.localeCompare(y.file)).map((f) => [f.file, [...f.lines.values()]
      .sort((x, y) => x.line - y.line)
      .map((l) => ({
        ...l,
        creates: l.creates && [...l.creates].sort((x, y) => x - y),
        failures: l.failures && [...l.failures].sort((x, y) => x - y),
        cancels: l.cancels?.length,
        timeout: l.timeout && { ...l.timeout, timeouts: l.timeout.timeouts.map((x) => x.id).sort((x, y) => x - y), cancelled: [...l.timeout.cancelled].sort((x, y) => x - y) },
        block: l.block && { ...l.block, tasks: [...l.block.tasks].sort((x, y) => x - y) },
      }))]),
  });
  assert.ok(once.files.size > 0 && once.unretrieved.length > 0 && once.pendingAtClose.length >= 0);
  assert.equal(plain(inc), plain(once));
  assert.deepEqual(collectProblems(live, inc).map((p) => `${p.kind}${p.line}${p.message}`).sort(),
    collectProblems(full, once).map((p) => `${p.kind}${p.line}${p.message}`).sort());
});

test('a time-budgeted fold stops early and resumes where it left off', async () => {
  const { generateTrace } = await import('../../src/core/syntheticTrace');
  const r = new TraceRun('r', 'r');
  r.ingest([...generateTrace({ tasks: 8000, stepsPerTask: 10, seed: 3 })].join(''));
  r.finish();
  assert.ok(r.steps.count > 50_000);
  const a = new LineAnnotator(r);
  let calls = 0;
  while (!a.update(0)) {
    calls++;
    assert.ok(a.folded < r.steps.count);
  }
  assert.ok(calls >= 3, `folded in ${calls + 1} slices`);
  assert.equal(a.folded, r.steps.count);
  assert.equal(a.snapshot().totalWait, computeLineAnnotations(r).totalWait);
  a.dispose();
});
