import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TraceRun } from '../../src/core/traceModel';
import { visibleTaskIds } from '../../src/core/taskFilter';
import type { RunDelta } from '../../src/core/modelTypes';
import {
  BlockIndex, PAGE_SIZE, RefreshPlanner, describeFilter, issueLines, limitToShow, pageOf, plainLocalize as t,
  programLabel, runDescription, runTooltipRows, siteLabel, taskDescription, taskDetails, taskHasContent,
  treeParent, visibleChildren,
} from '../../src/core/taskTreeModel';

const TRACES = path.join(__dirname, '..', 'e2e', 'workspace', 'traces');

function load(name: string, chunk = 37): TraceRun {
  const text = readFileSync(path.join(TRACES, name));
  const run = new TraceRun(name, name, { live: false });
  // Odd chunk sizes: lines split across chunks must still fold the same.
  for (let i = 0; i < text.length; i += chunk) run.ingest(text.subarray(i, i + chunk));
  run.finish();
  return run;
}

function details(run: TraceRun, id: number) {
  const blocks = new BlockIndex();
  blocks.update(run);
  return taskDetails(run, run.tasks.get(id)!, blocks.of(id), t);
}

test('run row: program, start, duration, exit code; tooltip rows', () => {
  const run = load('fetch_all.trace.jsonl');
  assert.equal(programLabel(run), 'fetch_all.py');
  assert.equal(runDescription(run, t, () => '15:00:00'), '15:00:00 \u00b7 1.25 s \u00b7 exit 0');
  const rows = new Map(runTooltipRows(run, t, '/tmp/x.jsonl'));
  assert.equal(rows.get('Command'), 'fetch_all.py --limit 3');
  assert.equal(rows.get('Python'), '3.12.3');
  assert.equal(rows.get('Process id'), '4242');
  assert.equal(rows.get('Tasks'), '4 (0 alive, 1 failed, 1 cancelled)');
  assert.equal(rows.get('Trace file'), '/tmp/x.jsonl');
  assert.equal(rows.has('Trace issue'), false);
});

test('tasks nest by creator and describe coroutine, lifetime and state', () => {
  const run = load('fetch_all.trace.jsonl');
  assert.deepEqual(visibleChildren(run, null, undefined), [1]);
  assert.deepEqual(visibleChildren(run, 1, undefined), [2, 3, 4]);
  assert.equal(treeParent(run, 3), 1);
  assert.equal(treeParent(run, 1), null);
  assert.equal(taskDescription(run, run.tasks.get(1)!, t), 'main \u00b7 1.25 s \u00b7 done');
  assert.equal(taskDescription(run, run.tasks.get(2)!, t), 'fetch \u00b7 500 ms \u00b7 done');
  assert.equal(taskDescription(run, run.tasks.get(3)!, t), 'fetch \u00b7 800 ms \u00b7 failed');
  assert.equal(taskDescription(run, run.tasks.get(4)!, t), 'fetch \u00b7 1.00 s \u00b7 cancelled');
  assert.equal(siteLabel(run, 6), 'fetch_all.py:12');
});

test('detail rows: await sites, timeout, cancellation, error, unretrieved, block', () => {
  const run = load('fetch_all.trace.jsonl');
  const main = details(run, 1);
  assert.deepEqual(main.map((r) => r.kind), ['await', 'block']);
  assert.equal(main[0].label, 'fetch_all.py:26');
  assert.match(main[0].description!, /^\u00d71 \u00b7 total 1.00 s \u00b7 longest 1.00 s \u00b7 gather of 3 tasks$/);
  assert.equal(main[0].site, 5);
  assert.equal(main[1].label, 'blocked the loop for 250 ms');
  assert.equal(main[1].site, 9);

  const beta = details(run, 3);
  assert.deepEqual(beta.map((r) => r.kind), ['await', 'error', 'unretrieved']);
  assert.equal(beta[1].label, 'ValueError: bad payload from beta');
  assert.equal(beta[1].description, 'fetch_all.py:14');
  assert.equal(beta[1].site, 8);

  const gamma = details(run, 4);
  assert.deepEqual(gamma.map((r) => r.kind), ['await', 'timeout', 'cancel']);
  assert.match(gamma[0].description!, /sleep 5\.0 s/);
  assert.equal(gamma[1].label, 'timeout 1.0 s \u00b7 fired');
  assert.equal(gamma[1].site, 7);
  assert.equal(gamma[1].description, 'fetch_all.py:11 \u00b7 cancelled slow-gamma');
  assert.equal(gamma[2].label, 'cancellation requested');
  assert.equal(gamma[2].description, 'fetch_all.py:11 \u00b7 timeout');
  // Error rows only for failures: a cancelled task's CancelledError is the cancel row's business.
  assert.equal(gamma.some((r) => r.kind === 'error'), false);
  assert.equal(taskHasContent(run.tasks.get(2)!, 0), true);
});

test('filter: matches keep their ancestors; description in words', () => {
  const run = load('fetch_all.trace.jsonl');
  const problems = visibleTaskIds(run, { states: ['failedOrCancelled'] });
  assert.deepEqual(visibleChildren(run, null, problems), [1]);
  assert.deepEqual(visibleChildren(run, 1, problems), [3, 4]);
  const text = visibleTaskIds(run, { text: 'ALPHA' });
  assert.deepEqual(visibleChildren(run, 1, text), [2]);
  assert.equal(describeFilter({ states: ['failedOrCancelled'], text: ' beta ' }, t), 'failed or cancelled, "beta"');
  assert.equal(describeFilter({ states: ['alive'] }, t), 'still running');
});

test('damaged trace: loads what it can and says what it skipped', () => {
  const run = load('damaged.trace.jsonl', 64);
  assert.equal(run.tasks.size, 4);
  assert.equal(run.issues.badLines, 2);
  assert.equal(run.issues.firstBadLine, 11);
  assert.equal(run.issues.truncatedTail, true);
  const lines = issueLines(run, t);
  assert.equal(lines[0], 'Skipped 2 malformed lines (first at line 11).');
  assert.match(lines[1], /last line was cut off/);
  assert.match(runDescription(run, t, () => 'x'), /no exit \(killed\?\)$/);
  // Never ended in a finished trace: said so instead of pretending it still waits.
  assert.match(taskDescription(run, run.tasks.get(4)!, t), /never ended$/);
});

test('newer format version is reported, unknown events ignored', () => {
  const run = load('newer.trace.jsonl');
  assert.equal(run.tasks.size, 4);
  assert.deepEqual(issueLines(run, t), ['Written by a newer Async Trace (format v3): some details may be missing.']);
});

test('a loop that runs its tasks itself (uvloop) is named in the issue lines', () => {
  const lines = [
    '{"type":"run","v":1,"pid":1,"python":"3.12.1","argv":["p.py"],"cwd":"/w","started":"2026-11-25T00:00:00.000Z"}',
    '{"type":"loop","id":1,"ts":10,"state":"running","thread":7,"class":"asyncio.unix_events._UnixSelectorEventLoop"}',
    '{"type":"loop","id":2,"ts":20,"state":"running","thread":7,"class":"uvloop.Loop","partial":true}',
    '{"type":"task","id":1,"ts":30,"kind":"asyncio","name":"Task-1","coro":"main","parent":null,"site":null,"thread":7,"loop":2}',
    '{"type":"exit","ts":40,"code":0,"dropped":0}',
  ];
  const run = new TraceRun('uv', 'uv', { live: false });
  let partialSeen = false;
  run.onDelta((d) => { if (d.runChanged && run.loops.get(2)?.partial) partialSeen = true; });
  run.ingest(lines.join('\n') + '\n');
  run.finish();
  assert.equal(partialSeen, true);
  assert.equal(run.loops.get(1)?.className, 'asyncio.unix_events._UnixSelectorEventLoop');
  assert.equal(run.loops.get(1)?.partial, undefined);
  assert.deepEqual(issueLines(run, t), [
    'The event loop uvloop.Loop runs its tasks itself (as uvloop does): only part of what they do is recorded. Run it on the standard asyncio loop to see everything.',
  ]);
  assert.ok(runTooltipRows(run, t).some(([k, v]) => k === 'Trace issue' && v.includes('uvloop.Loop')));
  // The standard loop alone: nothing to say.
  const plain = new TraceRun('std', 'std', { live: false });
  plain.ingest(lines.filter((l) => !l.includes('uvloop')).join('\n') + '\n');
  plain.finish();
  assert.deepEqual(issueLines(plain, t), []);
});

test('paging: long child lists are cut into pages; reveal grows the page to the index', () => {
  const ids = Array.from({ length: 1234 }, (_, i) => i + 1);
  const first = pageOf(ids, PAGE_SIZE);
  assert.equal(first.shown.length, PAGE_SIZE);
  assert.equal(first.hidden, 1234 - PAGE_SIZE);
  assert.equal(pageOf(ids, 2000).hidden, 0);
  assert.equal(limitToShow(10, PAGE_SIZE), PAGE_SIZE);
  assert.equal(limitToShow(PAGE_SIZE, PAGE_SIZE), 2 * PAGE_SIZE);
  assert.equal(limitToShow(2.5 * PAGE_SIZE, PAGE_SIZE), 3 * PAGE_SIZE);
});

function delta(partial: Partial<RunDelta>): RunDelta {
  return { newTasks: [], changedTasks: [], stepsFrom: 0, newSites: 0, changedTimeouts: [], newCancels: 0, newBlocks: 0, runChanged: false, ...partial };
}

test('refresh planner: new tasks refresh their parent row, changed tasks themselves', () => {
  const parents = new Map<number, number | null>([[1, null], [2, 1], [3, 1], [4, 2]]);
  const parentOf = (id: number) => parents.get(id) ?? null;
  const p = new RefreshPlanner();
  assert.equal(p.pending, false);
  p.add(delta({ newTasks: [4], changedTasks: [4, 3] }));
  p.add(delta({ changedTasks: [3] }));
  const plan = p.take(parentOf);
  assert.equal(plan.run, false);
  assert.deepEqual(plan.tasks.sort(), [2, 3]);
  assert.deepEqual(plan.changed.sort(), [3, 4]);
  assert.equal(p.pending, false);
  p.add(delta({ newTasks: [1], changedTasks: [1] }));
  assert.equal(p.take(parentOf).run, true);
  // Detail rows changing (a timeout fired, a cancel arrived) refresh the tasks they belong to.
  p.add(delta({ changedTimeouts: [7] }), [4]);
  assert.deepEqual(p.take(parentOf), { run: false, tasks: [4], changed: [4] });
  // Too many rows at once: one refresh of the whole run is cheaper.
  p.add(delta({ changedTasks: Array.from({ length: 1000 }, (_, i) => i + 10) }));
  const big = p.take(parentOf, 300);
  assert.equal(big.run, true);
  assert.equal(big.tasks.length, 0);
  assert.equal(big.changed.length, 1000);
});

test('10,000 tasks: shaping the visible rows stays cheap', () => {
  const lines = ['{"type":"run","v":1,"pid":1,"python":"3.12","argv":["many.py"],"cwd":"/","started":"2026-11-25T15:00:00Z"}',
    '{"type":"task","id":1,"ts":0,"kind":"asyncio","name":"Task-1","coro":"main","parent":null,"site":null}'];
  for (let i = 2; i <= 10_001; i++) {
    lines.push(`{"type":"task","id":${i},"ts":${i},"kind":"asyncio","name":"worker-${i}","coro":"work","parent":1,"site":null}`);
    lines.push(`{"type":"step","task":${i},"ts":${i},"dur":5,"await":{"stack":[],"on":{"kind":"sleep","delay":0.1}}}`);
  }
  const run = new TraceRun('many', 'many', { live: true });
  run.ingest(lines.join('\n') + '\n');
  const start = performance.now();
  const children = visibleChildren(run, 1, undefined);
  const page = pageOf(children, PAGE_SIZE);
  for (const id of page.shown) taskDescription(run, run.tasks.get(id)!, t);
  const filtered = visibleTaskIds(run, { text: 'worker-99' });
  const ms = performance.now() - start;
  assert.equal(children.length, 10_000);
  assert.equal(page.hidden, 10_000 - PAGE_SIZE);
  assert.equal(filtered.size, 1 + 111); // worker-99, -990..-999, -9900..-9999, plus Task-1
  assert.ok(ms < 200, `took ${ms.toFixed(1)} ms`);
});
