import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ancestors, layoutRows, type LayoutTask } from '../../src/core/ganttLayout';

const t = (id: number, parent: number | null, created: number): LayoutTask => ({ id, parent, created });

test('nests children under their creator, in creation order', () => {
  const tasks = [t(1, null, 0), t(3, 1, 20), t(2, 1, 10), t(4, 2, 30), t(5, null, 5)];
  const rows = layoutRows(tasks, new Set());
  assert.deepEqual(Array.from(rows.ids.subarray(0, rows.count)), [1, 2, 4, 3, 5]);
  assert.deepEqual(Array.from(rows.depth.subarray(0, rows.count)), [0, 1, 2, 1, 0]);
  assert.deepEqual(Array.from(rows.hasChildren.subarray(0, rows.count)), [1, 1, 0, 0, 0]);
  assert.equal(rows.rowOf.get(4), 2);
});

test('collapsed groups hide all descendants but keep the group row', () => {
  const tasks = [t(1, null, 0), t(2, 1, 10), t(3, 2, 20), t(4, 1, 30)];
  const rows = layoutRows(tasks, new Set([2]));
  assert.deepEqual(Array.from(rows.ids.subarray(0, rows.count)), [1, 2, 4]);
  assert.equal(rows.rowOf.has(3), false);
  const all = layoutRows(tasks, new Set([1]));
  assert.deepEqual(Array.from(all.ids.subarray(0, all.count)), [1]);
});

test('unknown parents become roots; parent cycles are still shown', () => {
  const tasks = [t(1, 99, 0), t(2, 3, 1), t(3, 2, 2), t(4, null, 3)];
  const rows = layoutRows(tasks, new Set());
  const ids = Array.from(rows.ids.subarray(0, rows.count));
  assert.equal(rows.count, 4);
  assert.deepEqual(ids.slice(0, 2), [1, 4]);
  assert.deepEqual(ids.slice(2).sort(), [2, 3]);
});

test('a 100,000-deep chain lays out without recursion', () => {
  const tasks: LayoutTask[] = [];
  for (let i = 1; i <= 100_000; i++) tasks.push(t(i, i === 1 ? null : i - 1, i));
  const rows = layoutRows(tasks, new Set());
  assert.equal(rows.count, 100_000);
  assert.equal(rows.depth[99_999], 99_999);
  const parentOf = (id: number): number | null => (id > 1 ? id - 1 : null);
  assert.deepEqual(ancestors(parentOf, 4), [3, 2, 1]);
});

import { formatTick, formatTime, timeTicks } from '../../src/core/ganttLayout';

test('axis ticks use 1-2-5 steps with enough room between them', () => {
  const { step, ticks } = timeTicks(0, 2_000_000, 1000, 90); // 2 s on 1000 px: raw 180 ms -> 200 ms
  assert.equal(step, 200_000);
  assert.equal(ticks[0], 0);
  assert.equal(ticks.length, 11);
  const fine = timeTicks(1_000_050, 1_000_150, 800, 90); // 100 us on 800 px: raw 11.25 us -> 20 us
  assert.equal(fine.step, 20);
  assert.equal(fine.ticks[0], 1_000_060);
});

test('tick labels pick the unit from the step', () => {
  assert.equal(formatTick(250, 50), '250 \u00b5s');
  assert.equal(formatTick(1_500, 500), '1.5 ms');
  assert.equal(formatTick(2_000_000, 1_000_000), '2 s');
  assert.equal(formatTick(1_250_000, 250_000), '1.25 s');
  assert.equal(formatTick(125_000_000, 60_000_000), '2 min 5 s');
  assert.equal(formatTick(0.5, 0.1), '0.5 \u00b5s');
  assert.equal(formatTime(1_234_567, 1000), '1.235 s');
});
