import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraceRun } from '../../src/core/traceModel';
import { compareRuns, matchSites, parseThreshold, percentText } from '../../src/core/runCompare';
import { comparisonLines, siteHint } from '../../src/core/compareText';
import { plainLocalize } from '../../src/core/taskTreeModel';

const RUN = '{"type":"run","v":1,"pid":1,"python":"3.12.1","argv":["p.py"],"cwd":"/p","started":"2026-11-25T15:00:00.000Z"}';

function load(lines: string[]): TraceRun {
  const run = new TraceRun('k', 'test');
  run.ingest([RUN, ...lines].join('\n') + '\n');
  run.finish();
  return run;
}

const site = (id: number, line: number, func: string, file = '/p/p.py') => JSON.stringify({ type: 'site', id, file, line, func });
const task = (id: number, ts: number, coro: string, parent: number | null, s: number | null) =>
  JSON.stringify({ type: 'task', id, ts, kind: 'asyncio', name: `Task-${id}`, coro, parent, site: s });
const step = (t: number, ts: number, dur: number, stack?: number[], on: object = { kind: 'sleep', delay: 1 }) =>
  JSON.stringify(stack ? { type: 'step', task: t, ts, dur, await: { stack, on } } : { type: 'step', task: t, ts, dur });
const end = (t: number, ts: number, state = 'done', error?: string) =>
  JSON.stringify(error ? { type: 'end', task: t, ts, state, error: { type: error, message: 'x' } } : { type: 'end', task: t, ts, state });
const exit = (ts: number) => JSON.stringify({ type: 'exit', ts, code: 0, dropped: 0 });

/**
 * main (created at site 1) creates `workers` worker tasks at site 2 (ids from `firstId`, in the
 * given order), each sleeping `sleep` us at site 3 (line `sleepLine`), and a fetch task at site 4.
 */
function program(o: { workers: number; sleep: number; firstId?: number; reverse?: boolean; sleepLine?: number; fetch?: boolean; fail?: boolean }): TraceRun {
  const l: string[] = [site(1, 30, '<module>'), site(2, 20, 'main'), site(3, o.sleepLine ?? 10, 'worker'), site(4, 21, 'main'), site(5, 15, 'fetch')];
  l.push(task(1, 0, 'main', null, 1), step(1, 0, 10, [2], { kind: 'gather', tasks: [] }));
  const first = o.firstId ?? 2;
  const ids = Array.from({ length: o.workers }, (_, i) => first + i);
  const order = o.reverse ? [...ids].reverse() : ids;
  let ts = 1;
  for (const id of order) l.push(task(id, ts++, 'worker', 1, 2));
  for (const id of ids) l.push(step(id, 20, 5, [3]), step(id, 25 + o.sleep, 5), end(id, 30 + o.sleep, o.fail && id === ids[0] ? 'failed' : 'done', o.fail && id === ids[0] ? 'ValueError' : undefined));
  if (o.fetch) l.push(task(99, 5, 'fetch', 1, 4), step(99, 40, 1, [5], { kind: 'io', op: 'recv' }), step(99, 500, 1), end(99, 501));
  l.push(step(1, 40 + o.sleep, 5), end(1, 45 + o.sleep), exit(50 + o.sleep));
  return load(l);
}

test('same program, other task ids and reordered creation: every group matches, nothing changed', () => {
  const a = program({ workers: 3, sleep: 1000 });
  const b = program({ workers: 3, sleep: 1000, firstId: 50, reverse: true });
  const c = compareRuns(a, b);
  assert.deepEqual(c.tasks, []);
  assert.equal(c.unchangedGroups, 2); // main, main > worker x3
  const s = c.sites.find((d) => d.site.line === 10)!;
  assert.equal(s.before!.count, 3);
  assert.equal(s.after!.count, 3);
  assert.equal(s.change, 0);
  assert.equal(s.ratio, 1);
});

test('added and removed tasks are new and gone; a loop of repeated tasks is one group with counts', () => {
  const a = program({ workers: 3, sleep: 1000 });
  const b = program({ workers: 5, sleep: 1000, fetch: true });
  const c = compareRuns(a, b);
  const workers = c.tasks.find((g) => g.coro === 'worker')!;
  assert.equal(workers.change, 'changed');
  assert.equal(workers.before!.count, 3);
  assert.equal(workers.after!.count, 5);
  assert.deepEqual(workers.path, ['main', 'worker']);
  const fetch = c.tasks.find((g) => g.coro === 'fetch')!;
  assert.equal(fetch.change, 'new');
  assert.equal(fetch.after!.count, 1);
  const back = compareRuns(b, a);
  assert.equal(back.tasks.find((g) => g.coro === 'fetch')!.change, 'gone');
  const io = c.sites.find((d) => d.site.func === 'fetch')!;
  assert.equal(io.before, undefined);
  assert.equal(io.after!.count, 1);
});

test('site deltas: count, total, p50/p95 before and after, the ratio, and the hint text', () => {
  const a = program({ workers: 3, sleep: 1_200_000 / 3 });
  const b = program({ workers: 3, sleep: 410_000 / 3 });
  const c = compareRuns(a, b);
  const s = c.sites[0];
  assert.equal(s.site.line, 10);
  // Each wait runs from the end of the first step (25) to the next step (25 + sleep).
  assert.equal(s.before!.total, 1_200_000);
  assert.equal(s.after!.total, 410_000);
  assert.equal(s.before!.p50, 400_000);
  assert.equal(s.before!.p95, 400_000);
  assert.ok(Math.abs(s.ratio! - 410 / 1200) < 1e-9);
  assert.equal(siteHint(s, plainLocalize), 'await x3 total 1.20 s \u2192 410 ms, \u221266 %');
  // Slower after, so the workers' group changed (lifetime fell by two thirds).
  assert.equal(c.tasks.find((g) => g.coro === 'worker')!.change, 'changed');
  assert.ok(c.slower < -0.6);
  const text = comparisonLines(c, plainLocalize).join('\n');
  assert.match(text, /wall time 400 ms \u2192 137 ms \(\u221266 %\)/);
  assert.match(text, /p\.py:10 worker/);
});

test('percentiles over a spread of waits', () => {
  const l: string[] = [site(1, 1, 'main')];
  l.push(task(1, 0, 'main', null, null));
  let ts = 0;
  for (let i = 1; i <= 100; i++) { l.push(step(1, ts, 0, [1])); ts += i * 1000; }
  l.push(step(1, ts, 0), end(1, ts));
  const r = load(l);
  const c = compareRuns(r, r);
  const s = c.sites[0];
  assert.equal(s.before!.count, 100 - 0);
  assert.equal(s.before!.p50, 50_000);
  assert.equal(s.before!.p95, 95_000);
  assert.equal(s.before!.max, 100_000);
});

test('an edit that moves lines: sites matched by function and rank, the old line kept', () => {
  const a = program({ workers: 2, sleep: 1000 });
  const b = program({ workers: 2, sleep: 1000, sleepLine: 12 });
  const c = compareRuns(a, b);
  assert.deepEqual(c.tasks, []);
  const s = c.sites.find((d) => d.site.func === 'worker')!;
  assert.equal(s.site.line, 12);
  assert.equal(s.lineBefore, 10);
  assert.ok(s.before && s.after);
  const m = matchSites(a.sites, b.sites);
  assert.equal(m.a.get(3), m.b.get(3));
});

test('timeouts that now fire or no longer fire; new failures', () => {
  const tmo = (state: 'fired' | 'cleared') => [
    JSON.stringify({ type: 'timeout', id: 1, task: 1, ts: 1, site: 2, delay: 0.5, state: 'armed' }),
    JSON.stringify({ type: 'timeout', id: 1, task: 1, ts: 9, state }),
  ];
  const base = [site(1, 30, '<module>'), site(2, 20, 'main'), task(1, 0, 'main', null, 1)];
  const a = load([...base, ...tmo('cleared'), step(1, 0, 10), end(1, 10), exit(10)]);
  const b = load([...base, ...tmo('fired'), step(1, 0, 10), end(1, 10, 'failed', 'TimeoutError'), exit(10)]);
  const c = compareRuns(a, b);
  assert.equal(c.timeouts[0].change, 'nowFires');
  assert.deepEqual(c.timeouts[0].after, { armed: 1, fired: 1 });
  assert.equal(compareRuns(b, a).timeouts[0].change, 'noLongerFires');
  assert.equal(c.newFailures.length, 1);
  assert.deepEqual(c.newFailures[0].after!.errors, { TimeoutError: 1 });
  const f = program({ workers: 2, sleep: 10, fail: true });
  const ok = program({ workers: 2, sleep: 10 });
  assert.equal(compareRuns(ok, f).newFailures[0].coro, 'worker');
});

test('thresholds and percentages', () => {
  assert.equal(parseThreshold('10%'), 0.1);
  assert.equal(parseThreshold('10 %'), 0.1);
  assert.equal(parseThreshold('0.25'), 0.25);
  assert.equal(parseThreshold('5'), 0.05);
  assert.equal(parseThreshold('ten'), undefined);
  assert.equal(percentText(1.5), '+50 %');
  assert.equal(percentText(1), '\u00b10 %');
});
