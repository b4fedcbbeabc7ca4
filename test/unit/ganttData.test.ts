import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraceRun } from '../../src/core/traceModel';
import { GanttEncoder } from '../../src/extension/ganttData';
import type { RunDelta } from '../../src/core/modelTypes';
import type { ToWebview } from '../../src/core/ganttProtocol';

const L = (o: object): string => JSON.stringify(o) + '\n';
const HEAD = [
  L({ type: 'run', v: 1, pid: 1, python: '3.12', argv: ['p.py'], cwd: '/w', started: 'x', blockMs: 50 }),
  L({ type: 'site', id: 1, file: '/w/p.py', line: 3, func: 'main' }),
  L({ type: 'site', id: 2, file: '/w/p.py', line: 7, func: 'worker' }),
  L({ type: 'task', id: 1, ts: 10, kind: 'asyncio', name: 'Task-1', coro: 'main', parent: null, site: null }),
  L({ type: 'task', id: 2, ts: 20, kind: 'greenlet', name: 'g', coro: 'worker', parent: 1, site: 1 }),
  L({ type: 'step', task: 1, ts: 10, dur: 15, await: { stack: [1], on: { kind: 'task', task: 2 } } }),
  L({ type: 'step', task: 2, ts: 30, dur: 5, await: { stack: [2], on: { kind: 'sleep', delay: 0.5 } } }),
].join('');
const MORE = [
  L({ type: 'timeout', id: 1, task: 1, ts: 40, site: 1, delay: 1.0, state: 'armed' }),
  L({ type: 'step', task: 2, ts: 500_040, dur: 5, woke: 500_035 }),
  L({ type: 'end', task: 2, ts: 500_050, state: 'failed', error: { type: 'ValueError', message: 'boom', site: 2 } }),
  L({ type: 'block', task: 2, ts: 500_040, dur: 60_000, site: 2 }),
].join('');

function byType<T extends ToWebview['type']>(msgs: ToWebview[], type: T): Extract<ToWebview, { type: T }>[] {
  return msgs.filter((m): m is Extract<ToWebview, { type: T }> => m.type === type);
}

test('initial load: header, sites, interned awaits, task and step columns', () => {
  const run = new TraceRun('k', 'p.py', { live: true });
  run.ingest(HEAD);
  const msgs = new GanttEncoder(run).initial({ running: 'Running' });
  assert.equal(msgs[0].type, 'reset');
  const reset = msgs[0] as Extract<ToWebview, { type: 'reset' }>;
  assert.equal(reset.blockMs, 50);
  assert.equal(reset.live, true);
  assert.equal(msgs[msgs.length - 1].type, 'loaded');
  assert.deepEqual(byType(msgs, 'sites')[0].sites.map((s) => s.line), [3, 7]);
  const awaits = byType(msgs, 'awaits')[0];
  assert.deepEqual(awaits.entries, [[1, 2, '', [2]], [2, 1, '500 ms', []]]);
  const tasks = byType(msgs, 'tasks')[0].columns;
  assert.deepEqual(Array.from(new Float64Array(tasks.id)), [1, 2]);
  assert.deepEqual(Array.from(new Float64Array(tasks.parent)), [-1, 1]);
  assert.deepEqual(Array.from(new Uint8Array(tasks.kind)), [0, 1]);
  assert.deepEqual(tasks.coro, ['main', 'worker']);
  const steps = byType(msgs, 'steps');
  assert.equal(steps.length, 1);
  assert.equal(steps[0].batch.from, 0);
  assert.deepEqual(Array.from(new Float64Array(steps[0].batch.task)), [1, 2]);
  assert.deepEqual(Array.from(new Int32Array(steps[0].batch.wait)), [0, 1]);
  // Messages hold only ArrayBuffers and plain data (what VS Code transfers efficiently).
  assert.ok(steps[0].batch.ts instanceof ArrayBuffer);
});

test('live deltas send only new steps, changed tasks and new markers; woke moves to the resumed step', () => {
  const run = new TraceRun('k', 'p.py', { live: true });
  run.ingest(HEAD);
  const enc = new GanttEncoder(run);
  enc.initial({});
  assert.equal(enc.pending, false);
  const off = run.onDelta((d: RunDelta) => enc.note(d));
  run.ingest(MORE);
  run.finish();
  off();
  assert.equal(enc.pending, true);
  const msgs = enc.flush();
  const steps = byType(msgs, 'steps');
  assert.equal(steps.length, 1);
  assert.equal(steps[0].batch.from, 2);
  assert.deepEqual(Array.from(new Float64Array(steps[0].batch.ts)), [500_040]);
  assert.deepEqual(Array.from(new Float64Array(steps[0].batch.woke)), [500_035]);
  assert.deepEqual(Array.from(new Int32Array(steps[0].batch.wait)), [-1]);
  const tasks = byType(msgs, 'tasks')[0].columns;
  const ids = Array.from(new Float64Array(tasks.id));
  const i2 = ids.indexOf(2);
  assert.ok(i2 >= 0);
  assert.equal(new Uint8Array(tasks.endState)[i2], 3);
  assert.equal(tasks.error[i2], 'ValueError: boom');
  assert.equal(new Float64Array(tasks.errorSite)[i2], 2);
  const markers = byType(msgs, 'markers')[0];
  assert.equal(markers.timeouts[0].state, 'armed');
  assert.equal(markers.timeouts[0].delay, 1.0);
  assert.deepEqual(markers.blocks, [{ task: 2, ts: 500_040, dur: 60_000, site: 2 }]);
  assert.equal(markers.blocksFrom, 0);
  const runMsg = byType(msgs, 'run')[0];
  assert.equal(runMsg.live, false);
  assert.equal(enc.pending, false);
  assert.deepEqual(enc.flush(), []);
});
