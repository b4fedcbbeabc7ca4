import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TraceRun } from '../../src/core/traceModel';
import { GanttEncoder } from '../../src/extension/ganttData';
import { GanttStore } from '../../src/webview/ganttStore';
import { groupLaneOf, isProcessGroupId, processGroupId, processGroups, timelineParent } from '../../src/core/ganttProcessGroups';
import { plainLocalize as t } from '../../src/core/taskTreeModel';
import type { RunDelta } from '../../src/core/modelTypes';
import type { ToWebview } from '../../src/core/ganttProtocol';

const DIR = path.join(__dirname, 'fixtures', 'processes');
const MAIN = readFileSync(path.join(DIR, 'subproc.jsonl'));
const CHILD = readFileSync(path.join(DIR, 'subproc.child.jsonl'));

function twoProcesses(): TraceRun {
  const run = new TraceRun('sub', 'sub');
  run.ingest(MAIN);
  run.ingestProcess('child', CHILD);
  run.finishProcess('child');
  run.finish();
  return run;
}

/** Feeds messages into a webview store as ganttMain does. */
function apply(store: GanttStore, msgs: readonly ToWebview[]): void {
  for (const m of msgs) {
    if (m.type === 'reset') store.reset(m.runKey, m.label, m.live, m.now, m.blockMs);
    else if (m.type === 'tasks') store.upsertTasks(m.columns);
    else if (m.type === 'processes') store.setProcessGroups(m.groups);
    else if (m.type === 'steps') store.addSteps(m.batch);
  }
}

function visible(store: GanttStore): { id: number; depth: number }[] {
  const rows = store.rows();
  return Array.from(rows.ids.subarray(0, rows.count), (id, r) => ({ id, depth: rows.depth[r] }));
}

test('group lanes: one per process, main first, named and described like the tree, states from exit codes', () => {
  const run = twoProcesses();
  const groups = processGroups(run, t);
  const main = run.processes.get(0)!, child = run.processes.get(1)!;
  assert.deepEqual(groups.map((g) => [g.id, g.key, g.label, g.state]), [
    [processGroupId(0), 0, `main pid ${main.pid}`, 'done'],
    [processGroupId(1), 1, `python -c pid ${child.pid}`, 'failed'],
  ]);
  assert.match(groups[1].description, /^\d+ ms · exit 5$/);
  assert.equal(groups[1].start, child.startTs);
  assert.equal(groups[1].end, child.endTs);
  assert.equal(groups[1].tooltip[0], groups[1].label);
  assert.ok(groups[1].tooltip.includes(`Parent: main pid ${main.pid}`), groups[1].tooltip.join('\n'));
  // Group ids are above every task id, child processes' included.
  for (const id of run.tasks.keys()) assert.equal(isProcessGroupId(id), false);
  assert.equal(isProcessGroupId(processGroupId(0)), true);
});

test('tasks hang under their creator in the same process, top-level tasks under their process', () => {
  const run = twoProcesses();
  for (const task of run.tasks.values()) {
    const p = timelineParent(run, task, true);
    const key = task.process ?? 0;
    if (task.parent === null) assert.equal(p, processGroupId(key), `${task.id}`);
    else assert.equal(p, task.parent, `${task.id}`);
    assert.equal(timelineParent(run, task, false), task.parent ?? -1);
  }
});

test('the timeline of a run with a child process: group rows, tasks nested, collapse hides a process\'s rows and expand shows them', () => {
  const run = twoProcesses();
  const msgs = new GanttEncoder(run, t).initial({});
  const kinds = msgs.map((m) => m.type);
  assert.ok(kinds.indexOf('processes') >= 0 && kinds.indexOf('processes') < kinds.indexOf('tasks'), kinds.join(','));
  const store = new GanttStore();
  apply(store, msgs);
  const rows = visible(store);
  assert.equal(rows.length, run.tasks.size + 2);
  assert.equal(store.taskCount, run.tasks.size);
  const g0 = processGroupId(0), g1 = processGroupId(1);
  assert.deepEqual(rows.filter((r) => r.depth === 0).map((r) => r.id), [g0, g1]);
  const at1 = rows.findIndex((r) => r.id === g1);
  const under1 = rows.slice(at1 + 1).map((r) => r.id);
  assert.deepEqual(under1.slice().sort(), [...run.tasks.values()].filter((x) => x.process === 1).map((x) => x.id).sort());
  assert.equal(store.name[store.index.get(g1)!], `python -c pid ${run.processes.get(1)!.pid}`);

  store.toggle(g1);
  assert.deepEqual(visible(store).slice(at1).map((r) => r.id), [g1]);
  assert.equal(visible(store).length, rows.length - under1.length);
  store.toggle(g1);
  assert.deepEqual(visible(store), rows);
});

test('a run of one process looks as it always did: no groups, the same task messages', () => {
  const run = new TraceRun('one', 'one');
  run.ingest(MAIN);
  run.finish();
  const grouped = new GanttEncoder(run, t).initial({});
  const plain = new GanttEncoder(run).initial({});
  assert.equal(grouped.some((m) => m.type === 'processes'), false);
  assert.deepEqual(grouped, plain);
});

test('live: a worker that appears mid-run turns grouping on; the main process\'s tasks move under their group', () => {
  const run = new TraceRun('live', 'live', { live: true });
  const enc = new GanttEncoder(run, t);
  const store = new GanttStore();
  apply(store, enc.initial({}));
  run.onDelta((d: RunDelta) => enc.note(d));
  run.ingest(MAIN);
  apply(store, enc.flush());
  assert.equal(store.groups.size, 0);
  const mainTasks = visible(store).length;
  assert.ok(mainTasks > 0);
  // The child's stream without its exit line yet: it is still running.
  const lines = CHILD.toString('utf8').split(/(?<=\n)/);
  const exitAt = lines.findIndex((l) => l.includes('"type":"exit"'));
  assert.ok(exitAt > 0);
  run.ingestProcess('child', lines.slice(0, exitAt).join(''));
  const msgs = enc.flush();
  assert.ok(msgs.some((m) => m.type === 'processes'));
  apply(store, msgs);
  assert.equal(store.groups.size, 2);
  const rows = visible(store);
  assert.deepEqual(rows.filter((r) => r.depth === 0).map((r) => r.id), [processGroupId(0), processGroupId(1)]);
  assert.equal(rows.length, run.tasks.size + 2);
  assert.equal(store.groups.get(processGroupId(1))!.state, 'running');
  assert.match(store.groups.get(processGroupId(1))!.description, /running/);
  // Its exit line arrives: the group is sent again, ended.
  run.ingestProcess('child', lines.slice(exitAt).join(''));
  run.finishProcess('child');
  run.finish();
  const end = enc.flush().find((m) => m.type === 'processes');
  assert.ok(end && end.type === 'processes');
  assert.deepEqual(end.groups.map((g) => g.state), ['done', 'failed']);
});

test('lag lanes of a run with child processes are named by their process', async () => {
  const { lagLaneEntries } = await import('../../src/core/loopLagOverlay');
  // A multiprocessing Pool of 2 forked workers, each running an asyncio job; the parent runs one after.
  const pool = path.join(DIR, 'pool');
  const run = new TraceRun('pool', 'pool');
  run.ingest(readFileSync(path.join(pool, 'main.jsonl')));
  for (const f of ['worker-2365.jsonl', 'worker-2366.jsonl']) { run.ingestProcess(f, readFileSync(path.join(pool, f))); run.finishProcess(f); }
  run.finish();
  const labels = lagLaneEntries(run, t).map((l) => l.label);
  const pids = [...run.processes.values()].map((p) => p.pid);
  assert.deepEqual(labels, [
    `Event loop lag (main pid ${pids[0]}, loop 1)`, `Event loop lag (worker pid ${pids[1]}, loop 1)`, `Event loop lag (worker pid ${pids[2]}, loop 1)`,
  ]);
  // And the timeline groups them: main first, then the workers as they started, each with work() and its two fetches.
  const groups = processGroups(run, t);
  assert.deepEqual(groups.map((g) => g.label.replace(/\d+/, 'N')), ['main pid N', 'worker pid N', 'worker pid N']);
  assert.ok(groups.every((g) => g.state === 'done' && / · exit 0$/.test(g.description)), JSON.stringify(groups));
  const store = new GanttStore();
  apply(store, new GanttEncoder(run, t).initial({}));
  const rows = visible(store);
  assert.deepEqual(rows.map((r) => r.depth), [0, 1, 0, 1, 2, 2, 0, 1, 2, 2]);
});

test('the group lane of a process: what selecting its tree row selects on the timeline', () => {
  const run = twoProcesses();
  const keys = [...run.processes!.keys()];
  assert.equal(keys.length, 2);
  // The very lanes the encoder sends.
  const groups = processGroups(run, t);
  for (const key of keys) {
    const id = groupLaneOf(run, key);
    assert.equal(id, groups.find((g) => g.key === key)?.id);
    assert.ok(id !== undefined && isProcessGroupId(id));
  }
  assert.equal(groupLaneOf(run, 12345), undefined);
  // A run of one process has no group lanes (drawn as it always was): nothing to select.
  const one = new TraceRun('one', 'one');
  one.ingest(MAIN);
  one.finish();
  assert.equal(groupLaneOf(one, 0), undefined);
});
