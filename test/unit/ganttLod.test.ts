import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LodOut, lodLane, lowerBound, prefixSums, upperBound } from '../../src/core/ganttLod';

function lane(steps: [number, number][]): { ts: Float64Array; end: Float64Array; cum: Float64Array; n: number } {
  const ts = Float64Array.from(steps.map((s) => s[0]));
  const dur = Float64Array.from(steps.map((s) => s[1]));
  const end = Float64Array.from(steps.map((s) => s[0] + s[1]));
  return { ts, end, cum: prefixSums(dur, steps.length), n: steps.length };
}

test('binary searches', () => {
  const a = [1, 2, 2, 2, 5];
  assert.equal(lowerBound(a, 0, 5, 2), 1);
  assert.equal(upperBound(a, 0, 5, 2), 4);
  assert.equal(lowerBound(a, 0, 5, 6), 5);
  assert.equal(upperBound(a, 0, 5, 0), 0);
});

test('steps wider apart than a pixel are kept one by one', () => {
  const l = lane([[0, 10], [100, 10], [200, 10]]);
  const out = new LodOut();
  assert.equal(lodLane(l.ts, l.end, l.cum, 0, l.n, 0, 1000, 1, out), 3);
  assert.deepEqual(Array.from(out.first.subarray(0, 3)), [0, 1, 2]);
  assert.deepEqual(Array.from(out.last.subarray(0, 3)), [0, 1, 2]);
  assert.equal(out.busy[0], 1);
});

test('steps closer than a pixel merge into one bar with their busy fraction', () => {
  // 4 steps of 1 us every 2 us, then a lone step far away; 10 us per pixel.
  const l = lane([[0, 1], [2, 1], [4, 1], [6, 1], [1000, 5]]);
  const out = new LodOut();
  assert.equal(lodLane(l.ts, l.end, l.cum, 0, l.n, 0, 2000, 10, out), 2);
  assert.equal(out.start[0], 0);
  assert.equal(out.end[0], 7);
  assert.equal(out.first[0], 0);
  assert.equal(out.last[0], 3);
  assert.ok(Math.abs(out.busy[0] - 4 / 7) < 1e-6);
  assert.equal(out.first[1], 4);
});

test('only the visible range is emitted (binary search on both ends)', () => {
  const steps: [number, number][] = [];
  for (let i = 0; i < 1000; i++) steps.push([i * 100, 10]);
  const l = lane(steps);
  const out = new LodOut();
  const n = lodLane(l.ts, l.end, l.cum, 0, l.n, 50_005, 50_500, 1, out);
  assert.equal(n, 6); // steps at 50000 (ends 50010 >= t0) .. 50500 (starts at t1)
  assert.equal(out.first[0], 500);
  assert.equal(out.first[4], 504);
});

test('lane ranges inside shared arrays respect lo/hi', () => {
  const l = lane([[0, 1], [5, 1], [0, 2], [10, 2], [20, 2]]);
  const out = new LodOut();
  // Second lane is [2, 5): times restart at 0 there.
  assert.equal(lodLane(l.ts, l.end, l.cum, 2, 5, 0, 100, 1, out), 3);
  assert.deepEqual(Array.from(out.first.subarray(0, 3)), [2, 3, 4]);
});

test('work is bounded by pixels, not steps: a million dense steps at full zoom-out', () => {
  const n = 1_000_000;
  const ts = new Float64Array(n);
  const end = new Float64Array(n);
  const dur = new Float64Array(n);
  for (let i = 0; i < n; i++) { ts[i] = i * 10; dur[i] = 3 + (i % 5); end[i] = ts[i] + dur[i]; }
  const cum = prefixSums(dur, n);
  const out = new LodOut();
  const t = performance.now();
  // 10 s on 1000 px: every bar merges into one busy bar.
  const bars = lodLane(ts, end, cum, 0, n, 0, n * 10, (n * 10) / 1000, out);
  const ms = performance.now() - t;
  assert.equal(bars, 1);
  assert.ok(out.busy[0] > 0.4 && out.busy[0] < 0.6);
  assert.ok(ms < 50, `took ${ms} ms`);
  // Zoomed deep into the middle: only the handful of visible steps.
  out.reset();
  assert.equal(lodLane(ts, end, cum, 0, n, 5_000_000, 5_000_100, 0.1, out), 11);
});

test('LodOut grows', () => {
  const out = new LodOut();
  for (let i = 0; i < 1000; i++) out.push(i, i + 1, i, i, 1);
  assert.equal(out.count, 1000);
  assert.equal(out.end[999], 1000);
});
