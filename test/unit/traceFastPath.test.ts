// TraceRun.ingest scans `step` lines by hand; ingestEvents folds what JSON.parse made of them.
// Both must give the same model, issues included, for well-formed and odd lines alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TraceRun } from '../../src/core/traceModel';
import { TraceParser, parseTrace } from '../../src/core/traceParser';
import { generateTrace } from '../../src/core/syntheticTrace';

const RUN = '{"type":"run","v":1,"pid":1,"python":"3.12.1","argv":["p.py"],"cwd":"/p","started":"2026-11-25T15:00:00.000Z"}';
const TASK = '{"type":"task","id":1,"ts":0,"kind":"asyncio","name":"M","coro":"main","parent":null,"site":null}';

/** Everything a view can read from a run, as plain data (typed columns cut to `count`). */
function snapshot(run: TraceRun): unknown {
  const c = run.steps;
  const cols = (a: Int32Array | Float64Array) => Array.from(a.subarray(0, c.count));
  const tasks = [...run.tasks.values()].map((t) => ({
    id: t.id, kind: t.kind, name: t.name, coro: t.coro, parent: t.parent, site: t.site, createdTs: t.createdTs,
    children: t.children, status: t.status, endTs: t.endTs, endState: t.endState, error: t.error,
    stepCount: t.stepCount, runTotal: t.runTotal, lastStepEnd: t.lastStepEnd, timeouts: t.timeouts, cancels: t.cancels,
    steps: Array.from({ length: t.steps.length }, (_, i) => t.steps.at(i)),
    awaitSites: [...t.awaitSites.values()], currentWait: t.currentWait, pendingAtClose: t.pendingAtClose,
  }));
  const awaits = Array.from({ length: run.awaitCount }, (_, i) => run.awaitAt(i));
  return {
    count: c.count, task: cols(c.task), ts: cols(c.ts), dur: cols(c.dur), wokeNext: cols(c.wokeNext),
    waitEnd: cols(c.waitEnd), awaitId: cols(c.awaitId), tasks, awaits, roots: run.roots, now: run.now,
    counts: run.counts, timeouts: [...run.timeouts.values()], cancels: run.cancels, blocks: run.blocks,
    sites: [...run.sites.values()], exit: run.exit, info: run.info, live: run.live,
  };
}

/** The same text folded both ways; `chunk` splits the fast path's input (bytes) anywhere. */
function both(text: string, chunk = 1 << 16): { fast: TraceRun; slow: TraceRun } {
  const fast = new TraceRun('f', 'fast');
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += chunk) fast.ingest(bytes.subarray(i, i + chunk));
  fast.finish();
  const slow = new TraceRun('s', 'slow');
  const parsed = parseTrace(text);
  slow.ingestEvents(parsed.events);
  slow.finish();
  assert.deepEqual(fast.issues, parsed.issues);
  assert.deepEqual(snapshot(fast), snapshot(slow));
  return { fast, slow };
}

test('synthetic trace: the hand-scanned fold equals the JSON.parse fold, whatever the chunking', () => {
  const text = [...generateTrace({ tasks: 400, stepsPerTask: 9, seed: 7 })].join('');
  for (const chunk of [1 << 16, 4093, 97]) {
    const { fast } = both(text, chunk);
    assert.ok(fast.steps.count > 3000);
    assert.equal(fast.issues.badLines, 0);
  }
});

test('odd step lines take the general path and give the same values and issue counts', () => {
  const steps = [
    '{"type":"step","task":1,"ts":1,"dur":2,"await":{"stack":[1,2],"on":{"kind":"sleep","delay":1}}}',
    '{"type":"step","task":1,"ts":5,"dur":1,"woke":4,"await":{"stack":[1,2],"on":{"kind":"sleep","delay":1}}}',
    '{"type":"step","task":1,"ts":7,"dur":1,"await":{"stack":[1,2],"on":{"kind":"sleep","delay":1}},"woke":6}',
    '{"type":"step","task":1,"ts":9.5,"dur":1e1,"await":{"stack":[3]}}',
    '{"type":"step","task":1,"ts":30,"dur":0,"await":null}',
    '{"type":"step","task":1,"ts":31,"dur":-0,"woke":null,"await":{"stack":[1,2] ,"on":{"kind":"sleep","delay":1}} }',
    '{"type":"step","task":1,"ts":40,"dur":1,"await":{ "stack":[1,2],"on":{"kind":"sleep","delay":1}}}',
    '{"type":"step","task":1,"ts":50,"dur":1,"await":{"stack":[1,2],"on":{"kind":"sleep","delay":1}},"extra":{"a":1}}',
    '{"type":"step","task":1,"ts":60,"dur":1,"await":5}',
    '{"type":"step","task":1,"ts":61,"dur":1,"await":{"stack":[1],"on":null}}',
    '{"type":"step","task":1,"ts":62,"dur":1,"await":{"stack":[1]}',
    '{"type":"step","task":1,"ts":063,"dur":1}',
    '{"type":"step","task":1,"ts":-,"dur":1}',
    '{"type":"step","task":1,"ts":64}',
    '{"type":"step","task":1,"ts":65,"dur":1}}',
    '{"type":"step","task":1,"ts":66,"dur":"1"}',
    '{"type":"step","task":1,"ts":67,"dur":1,"await":{"stack":[1,2],"on":{"kind":"sleep","delay":1}}}x',
    '{"type":"step","task":1,"ts":12345678901234567,"dur":1}',
    '{"type":"step","task":-3,"ts":70,"dur":1}',
    '{"type":"step","task":2,"ts":80,"dur":1}',
    '{"type":"step","task":1,"ts":90,"dur":2,"await":{"stack":[1,2],"on":{"kind":"sleep","delay":1}}}',
    '{"type":"end","task":1,"ts":99,"state":"done"}',
  ];
  const { fast } = both([RUN, TASK, ...steps].join('\n') + '\n');
  // 9 rejected lines: `await` 5, `on` null, cut-off await, leading zero, lone minus, missing dur,
  // extra brace, string dur, trailing garbage; the extra field and the late woke are fine.
  assert.equal(fast.issues.badLines, 9);
  assert.equal(fast.issues.firstBadLine, 11);
  // A negative task id is well-formed but impossible: skipped and counted apart.
  assert.equal(fast.issues.invalidLines, 1);
  assert.equal(fast.steps.count, 11);
  const t = fast.tasks.get(1)!;
  assert.equal(fast.steps.wokeNext[t.steps.at(1)], 6);
  assert.equal(fast.steps.ts[t.steps.at(3)], 9.5);
  assert.equal(fast.steps.dur[t.steps.at(3)], 10);
  assert.equal(fast.steps.awaitId[t.steps.at(4)], -1);
  assert.equal(fast.awaitCount, 2);
  assert.equal(fast.steps.ts[t.steps.at(8)], 12345678901234567);
  assert.equal(fast.steps.waitEnd[t.steps.at(t.steps.length - 1)], 99);
});

test('a trace that starts with a step line is flagged as missing its header; a cut last step still loads', () => {
  const text = '{"type":"step","task":4,"ts":1,"dur":2,"await":{"stack":[9]}}\n{"type":"step","task":4,"ts":5,"dur":1}';
  const { fast } = both(text, 7);
  assert.equal(fast.issues.missingHeader, true);
  assert.equal(fast.issues.truncatedTail, true);
  assert.equal(fast.steps.count, 2);
  assert.equal(fast.counts.events, 2);
});

test('a raw await text seen again reuses its entry; differently written equal awaits share one too', () => {
  const step = (ts: number, aw: string) => `{"type":"step","task":1,"ts":${ts},"dur":1,"await":${aw}}`;
  const { fast } = both([RUN, TASK,
    step(1, '{"stack":[1,2],"on":{"kind":"io","op":"recv"}}'),
    step(3, '{"stack":[1,2],"on":{"kind":"io","op":"recv"}}'),
    step(5, '{"on":{"op":"recv","kind":"io"},"stack":[1,2]}'),
    step(7, '{"stack":[1,2],"on":{"kind":"io","op":"send"}}'),
  ].join('\n') + '\n');
  assert.deepEqual(Array.from(fast.steps.awaitId.subarray(0, 4)), [0, 0, 0, 1]);
});

test('raw await texts that never repeat (extra fields) keep mapping to the right entry past the memo limit', () => {
  const n = (1 << 17) + 500;
  const parts = [RUN, TASK];
  for (let i = 0; i < n; i++) {
    parts.push(`{"type":"step","task":1,"ts":${i * 2},"dur":1,"await":{"stack":[1],"on":{"kind":"lock","n":${i}}}}`);
  }
  const fast = new TraceRun('f', 'fast');
  fast.ingest(parts.join('\n') + '\n');
  fast.finish();
  assert.equal(fast.issues.badLines, 0);
  assert.equal(fast.steps.count, n);
  assert.equal(fast.awaitCount, 1);
  assert.equal(fast.steps.awaitId[n - 1], 0);
  assert.equal(fast.tasks.get(1)!.awaitSites.get(1)!.count, n);
});

test('recorded traces: every step line the runtime writes takes the hand scanner, and folds the same', () => {
  const dir = join(__dirname, 'fixtures');
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
  assert.ok(files.length > 0);
  for (const f of files) {
    const bytes = readFileSync(join(dir, f));
    let scanned = 0;
    let general = 0;
    new TraceParser().pushTo(bytes, {
      event: (e) => { if (e.type === 'step') general++; },
      awaitId: () => 0,
      step: () => { scanned++; },
    });
    assert.equal(general, 0, f);
    assert.ok(scanned > 0, f);
    both(bytes.toString('utf8'), 61);
  }
});
