import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GanttStore } from '../../src/webview/ganttStore';
import { encodeTasks } from '../../src/extension/ganttData';
import type { TaskInfo } from '../../src/core/modelTypes';
import type { StepBatch } from '../../src/core/ganttProtocol';

function task(id: number, parent: number | null, created: number, name = `Task-${id}`, coro = 'work'): TaskInfo {
  return {
    id, kind: 'asyncio', name, coro, parent, site: null, createdTs: created, children: [], status: 'waiting',
    stepCount: 0, runTotal: 0, awaitSites: new Map(), timeouts: [], cancels: [], steps: { length: 0, at: () => 0 },
  };
}

function steps(from: number, rows: [task: number, ts: number, dur: number][]): StepBatch {
  return {
    from,
    task: Float64Array.from(rows.map((r) => r[0])).buffer,
    ts: Float64Array.from(rows.map((r) => r[1])).buffer,
    dur: Float64Array.from(rows.map((r) => r[2])).buffer,
    woke: new Float64Array(rows.length).fill(NaN).buffer,
    wait: new Int32Array(rows.length).fill(-1).buffer,
  };
}

test('steps arriving interleaved are sorted into per-lane ranges with prefix sums', () => {
  const s = new GanttStore();
  s.reset('k', 'p.py', true, 0, 100);
  s.upsertTasks(encodeTasks([task(1, null, 0), task(2, 1, 5)]));
  s.addSteps(steps(0, [[1, 0, 2], [2, 5, 1], [1, 10, 3]]));
  s.addSteps(steps(3, [[2, 20, 4]]));
  s.ensureSorted();
  const lane = (id: number): number[] => {
    const i = s.index.get(id)!;
    return Array.from(s.lTs.subarray(s.laneStart[i], s.laneStart[i + 1]));
  };
  assert.deepEqual(lane(1), [0, 10]);
  assert.deepEqual(lane(2), [5, 20]);
  const i2 = s.index.get(2)!;
  assert.equal(s.lCum[s.laneStart[i2 + 1]] - s.lCum[s.laneStart[i2]], 5);
  assert.equal(s.maxTs, 24);
  // A step of a task not announced yet gets a placeholder lane.
  s.addSteps(steps(4, [[9, 30, 1]]));
  s.ensureSorted();
  assert.equal(s.name[s.index.get(9)!], 'Task 9');
});

test('rows nest by creator; revealRow opens collapsed ancestors; search matches name and coroutine', () => {
  const s = new GanttStore();
  s.reset('k', 'p.py', false, 0, 100);
  s.upsertTasks(encodeTasks([task(1, null, 0, 'main', 'main'), task(2, 1, 1, 'fetcher', 'fetch'), task(3, 2, 2, 'Task-3', 'parse_page')]));
  assert.deepEqual(Array.from(s.rows().ids.subarray(0, 3)), [1, 2, 3]);
  s.toggle(1);
  assert.equal(s.rows().count, 1);
  s.revealRow(3);
  assert.equal(s.rows().count, 3);
  assert.deepEqual(s.search('parse').map((i) => s.id[i]), [3]);
  assert.deepEqual(s.search('fetch').map((i) => s.id[i]), [2]);
  // Renames reach the search index.
  s.upsertTasks(encodeTasks([task(3, 2, 2, 'parser-1', 'parse_page')]));
  assert.deepEqual(s.search('parser-1').map((i) => s.id[i]), [3]);
});
