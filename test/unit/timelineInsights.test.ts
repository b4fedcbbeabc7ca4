// What the timeline draws from the insights: the critical path overlay (segments as numbers, title
// and stages in words) and the event-loop lag lanes (lag samples, blocking steps with blame), from traces recorded from real programs (test/unit/fixtures/insights).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { criticalPath } from '../../src/core/criticalPath';
import { pathOverlay } from '../../src/core/criticalPathOverlay';
import { PATH_KINDS, PATH_STRIDE, waitKindCode } from '../../src/core/ganttProtocol';
import { loopLag, MIN_LAG_US } from '../../src/core/loopLag';
import { lagLaneEntries } from '../../src/core/loopLagOverlay';
import { timeSplitRows } from '../../src/core/timeSplitText';
import { plainLocalize as t } from '../../src/core/taskTreeModel';
import { byName, load } from './insightsFixtures';

test('critical path overlay: every segment in time order as (kind, task, from, to), with its title and stages', () => {
  const run = load('blocking_critical_path');
  const fetch = byName(run, 'fetch');
  const cp = criticalPath(run)!;
  const o = pathOverlay(run, cp, t);
  assert.equal(o.task, 1);
  assert.equal(o.segments.length, cp.segments.length * PATH_STRIDE);
  const segs: Array<{ kind: string; task: number; from: number; to: number; wait: number }> = [];
  for (let i = 0; i < o.segments.length; i += PATH_STRIDE) segs.push({ kind: PATH_KINDS[o.segments[i]], task: o.segments[i + 1], from: o.segments[i + 2], to: o.segments[i + 3], wait: o.segments[i + 4] });
  // fetch's waits are sleeps (drawn in the sleep colour); runs and ready gaps carry no wait kind.
  assert.ok(segs.some((s) => s.kind === 'wait' && s.task === fetch && s.wait === waitKindCode('sleep')));
  assert.ok(segs.every((s) => s.kind === 'wait' || s.wait === 0));
  // Contiguous from main's creation to its end: each segment starts where the previous one ended.
  assert.equal(segs[0].from, cp.from);
  assert.equal(segs[segs.length - 1].to, cp.to);
  for (let i = 1; i < segs.length; i++) assert.ok(Math.abs(segs[i].from - segs[i - 1].to) < 1, `gap before segment ${i}`);
  // The chain goes from main into fetch (the gather's last task) and back to main.
  const tasks = segs.map((s) => s.task).filter((id, i, a) => i === 0 || a[i - 1] !== id);
  assert.deepEqual(tasks, [1, fetch, 1]);
  // fetch ready but not running for about the 300 ms compress blocked the loop.
  const ready = segs.filter((s) => s.kind === 'ready' && s.task === fetch).reduce((m, s) => Math.max(m, s.to - s.from), 0);
  assert.ok(ready > 250_000, String(ready));
  assert.match(o.title, /^Critical path of Task-1: \d+ ms \(.+ running, \d+ ms ready but not running, \d+ ms waiting\)$/);
  assert.ok(o.stages.some((s) => /: fetch ready but not running, behind compress$/.test(s)), o.stages.join('\n'));
  assert.ok(o.stages.some((s) => /^50\.0 ms: fetch waits on sleep 50\.0 ms at blocking_critical_path\.py:7$/.test(s)), o.stages.join('\n'));
});

test('critical path overlay of one task: only that task\'s life', () => {
  const run = load('blocking_critical_path');
  const fetch = byName(run, 'fetch');
  const o = pathOverlay(run, criticalPath(run, fetch)!, t);
  assert.equal(o.task, fetch);
  for (let i = 0; i < o.segments.length; i += PATH_STRIDE) assert.equal(o.segments[i + 1], fetch);
  assert.match(o.title, /^Critical path of fetch: /);
});

test('loop lag lane: one loop; fetch ready ~300 ms behind compress\'s blocking step, which the lane blames', () => {
  const run = load('blocking_critical_path');
  const fetch = byName(run, 'fetch');
  const compress = byName(run, 'compress');
  const lanes = loopLag(run);
  assert.equal(lanes.length, 1);
  const l = lanes[0];
  assert.equal(l.isLoop, true);
  for (let i = 1; i < l.ts.length; i++) assert.ok(l.ts[i] >= l.ts[i - 1], 'samples in time order');
  assert.ok([...l.lag].every((x) => x >= MIN_LAG_US));
  // The largest lag: fetch, ready when its sleep ended during the blocking step, ran after it.
  let worst = 0;
  for (let i = 1; i < l.lag.length; i++) if (l.lag[i] > l.lag[worst]) worst = i;
  assert.equal(l.task[worst], fetch);
  const b = l.blocks[0];
  assert.equal(l.blocks.length, 1);
  assert.equal(b.task, compress);
  assert.ok(l.lag[worst] > 250_000 && l.lag[worst] < 2 * b.dur, `lag ${l.lag[worst]} block ${b.dur}`);
  assert.ok(l.ts[worst] >= b.ts + b.dur - 1 && l.ts[worst] - l.lag[worst] < b.ts + b.dur, 'ready during the block, ran right after it');
  const [entry] = lagLaneEntries(run, t);
  assert.equal(entry.label, 'Event loop lag');
  assert.equal(new Float64Array(entry.lag).length, l.lag.length);
  assert.deepEqual(entry.blocks.map((x) => [x.task, run.sites.get(x.site)!.line, x.delayed]), [[compress, 13, [fetch]]]);
  assert.match(entry.blocks[0].text, /^compress blocked the loop for \d+ ms at blocking_critical_path\.py:13; delayed 1 tasks: fetch \d+ ms$/);
});

test('loop lag lanes: a server whose p99 comes from one blocking step has that step and its delayed tasks on its loop\'s lane', () => {
  const run = load('server_p99');
  const lanes = loopLag(run);
  const withBlock = lanes.filter((l) => l.blocks.length);
  assert.equal(withBlock.length, 1);
  const b = withBlock[0].blocks[0];
  assert.equal(run.sites.get(b.site!)!.line, 9);
  assert.ok(b.delayed.length >= 1, 'it delayed the other tasks of its loop');
});

test('time split rows: fetch ran briefly, was ready ~300 ms behind compress, waited on its sleeps', () => {
  const run = load('blocking_critical_path');
  const fetch = run.tasks.get(byName(run, 'fetch'))!;
  const rows = Object.fromEntries(timeSplitRows(run, fetch, t));
  assert.match(rows['Time split'], /^[\d.]+ (µs|ms) running, \d+ ms ready but not running, \d+ ms waiting$/);
  assert.match(rows['Ready behind'], /^compress (\d+) ms/);
  assert.ok(Number(/^compress (\d+) ms/.exec(rows['Ready behind'])![1]) >= 250, rows['Ready behind']);
  assert.match(rows['Waiting on'], /^sleep \d+(\.\d+)? ms$/);
});
