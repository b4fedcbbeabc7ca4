// Wake links (docs/trace-format.md, "Wake links, objects and holders"): the parser takes a step's
// woke/wokeBy, the obj id in `on`, and obj/hold/use lines, on both of its paths, and rejects or
// drops untrusted values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraceParser, parseTrace, type TraceSink } from '../../src/core/traceParser';
import type { AwaitInfo, HoldEvent, ObjEvent, StepEvent, TraceEvent, UseEvent, WokeBy } from '../../src/core/traceEvents';

const RUN = '{"type":"run","v":1,"pid":1,"python":"3.12.1","argv":["p.py"],"cwd":"/p","started":"2026-11-25T15:00:00.000Z"}';
const LINES = [
  RUN,
  '{"type":"obj","id":2,"kind":"lock","class":"asyncio.locks.Lock","ts":5,"task":1,"site":8}',
  '{"type":"hold","obj":2,"task":3,"ts":1300,"state":"acquired","site":9}',
  '{"type":"use","obj":4,"task":3,"ts":1500,"op":"put","site":14}',
  '{"type":"step","task":5,"ts":1250,"dur":40,"woke":1210,"wokeBy":{"kind":"task","task":3},"await":{"stack":[9],"on":{"kind":"lock","obj":2}}}',
  '{"type":"step","task":5,"ts":2250,"dur":40,"woke":2210,"wokeBy":{"kind":"timer"}}',
  '{"type":"step","task":6,"ts":3250,"dur":4,"woke":3000,"wokeBy":{"kind":"thread","item":3},"await":{"stack":[9],"on":{"kind":"queue","op":"get","obj":4}}}',
  '{"type":"hold","obj":2,"task":3,"ts":2400,"state":"released","site":null}',
];
const TEXT = LINES.join('\n') + '\n';

interface Step { task: number; ts: number; dur: number; woke: number; awaitId: number; wokeBy?: WokeBy }

function sinkParse(text: string): { steps: Step[]; events: TraceEvent[]; awaits: AwaitInfo[]; p: TraceParser } {
  const steps: Step[] = [];
  const events: TraceEvent[] = [];
  const awaits: AwaitInfo[] = [];
  const sink: TraceSink = {
    event: (e) => { events.push(e); },
    awaitId: (a) => { awaits.push(a); return awaits.length - 1; },
    step: (task, ts, dur, woke, awaitId, wokeBy) => { steps.push({ task, ts, dur, woke, awaitId, wokeBy }); },
  };
  const p = new TraceParser();
  p.pushTo(text, sink);
  p.endTo(sink);
  return { steps, events, awaits, p };
}

test('wake links: step woke/wokeBy, on.obj and obj/hold/use lines are parsed (general path)', () => {
  const { events, issues } = parseTrace(TEXT);
  assert.deepEqual(issues, { badLines: 0, unknownTypes: 0, truncatedTail: false, missingHeader: false });
  assert.deepEqual(events.map((e) => e.type), ['run', 'obj', 'hold', 'use', 'step', 'step', 'step', 'hold']);
  const obj = events[1] as ObjEvent;
  assert.deepEqual([obj.id, obj.kind, obj.class, obj.task, obj.site], [2, 'lock', 'asyncio.locks.Lock', 1, 8]);
  const hold = events[2] as HoldEvent;
  assert.deepEqual([hold.obj, hold.task, hold.ts, hold.state, hold.site], [2, 3, 1300, 'acquired', 9]);
  const use = events[3] as UseEvent;
  assert.deepEqual([use.obj, use.task, use.op, use.site], [4, 3, 'put', 14]);
  const s = events[4] as StepEvent;
  assert.equal(s.woke, 1210);
  assert.deepEqual(s.wokeBy, { kind: 'task', task: 3 });
  assert.deepEqual(s.await?.on, { kind: 'lock', obj: 2 });
  assert.deepEqual((events[5] as StepEvent).wokeBy, { kind: 'timer' });
  assert.deepEqual((events[6] as StepEvent).wokeBy, { kind: 'thread', item: 3 });
  assert.equal((events[7] as HoldEvent).state, 'released');
});

test('wake links: the fast step path hands woke and wokeBy to the sink, the same values', () => {
  const { steps, events, awaits, p } = sinkParse(TEXT);
  assert.equal(p.issues.badLines, 0);
  assert.deepEqual(events.map((e) => e.type), ['run', 'obj', 'hold', 'use', 'hold']);
  assert.equal(steps.length, 3);
  assert.deepEqual(steps.map((s) => [s.task, s.ts, s.dur, s.woke]), [[5, 1250, 40, 1210], [5, 2250, 40, 2210], [6, 3250, 4, 3000]]);
  assert.deepEqual(steps.map((s) => s.wokeBy), [{ kind: 'task', task: 3 }, { kind: 'timer' }, { kind: 'thread', item: 3 }]);
  assert.deepEqual(awaits.map((a) => a.on), [{ kind: 'lock', obj: 2 }, { kind: 'queue', op: 'get', obj: 4 }]);
  assert.equal(steps[1].awaitId, -1);
  // Equal texts share one (frozen) value.
  const again = sinkParse(TEXT + LINES[4] + '\n');
  assert.equal(again.steps[0].wokeBy, again.steps[3].wokeBy);
  assert.ok(Object.isFrozen(again.steps[0].wokeBy));
});

test('wake links: untrusted values are rejected or dropped, on both paths alike', () => {
  const bad = [
    RUN,
    // ill-typed wokeBy: dropped, the step kept
    '{"type":"step","task":1,"ts":10,"dur":1,"woke":5,"wokeBy":"timer"}',
    '{"type":"step","task":1,"ts":20,"dur":1,"woke":15,"wokeBy":{"kind":7,"task":3}}',
    // ids that are not ids are left out of wokeBy; other fields too
    '{"type":"step","task":1,"ts":30,"dur":1,"woke":25,"wokeBy":{"kind":"task","task":-3,"item":1e999,"x":"[a](command:y)"}}',
    // a nested value in wokeBy: the fast path declines, the general path keeps what is valid
    '{"type":"step","task":1,"ts":40,"dur":1,"wokeBy":{"kind":"io","task":{"a":1}}}',
    // on.obj that is not an id is left out
    '{"type":"step","task":1,"ts":50,"dur":1,"await":{"stack":[],"on":{"kind":"lock","obj":"x"}}}',
    // obj/hold/use lines: required fields missing or ill-typed -> bad; bad ids -> skipped
    '{"type":"hold","obj":2,"task":3,"ts":1,"state":"stolen"}',
    '{"type":"hold","task":3,"ts":1,"state":"acquired"}',
    '{"type":"hold","obj":-2,"task":3,"ts":1,"state":"acquired"}',
    '{"type":"use","obj":4,"task":"3","ts":1,"op":"put"}',
    '{"type":"use","obj":4,"task":3,"ts":1,"op":{"x":1}}',
    '{"type":"obj","id":9007199254740993,"kind":"lock"}',
    '{"type":"obj","id":3,"kind":"lock","class":["x"],"site":-1}',
  ].join('\n') + '\n';
  const { events, issues } = parseTrace(bad);
  const steps = events.filter((e): e is StepEvent => e.type === 'step');
  assert.equal(steps.length, 5);
  assert.equal(steps[0].wokeBy, undefined);
  assert.equal(steps[0].woke, 5);
  assert.equal(steps[1].wokeBy, undefined);
  assert.deepEqual(steps[2].wokeBy, { kind: 'task' });
  assert.deepEqual(steps[3].wokeBy, { kind: 'io' });
  assert.deepEqual(steps[4].await?.on, { kind: 'lock' });
  assert.deepEqual(events.filter((e) => e.type === 'hold' || e.type === 'use'), []);
  const objs = events.filter((e): e is ObjEvent => e.type === 'obj');
  assert.equal(objs.length, 1);
  assert.deepEqual(objs[0], { type: 'obj', id: 3, kind: 'lock' });
  assert.equal(issues.badLines, 4); // bad state, no obj, task a string, op an object
  assert.equal(issues.invalidLines, 2); // hold obj -2, obj id past 2^53
  // The fast path gives the steps the same woke and wokeBy.
  const fast = sinkParse(bad);
  assert.deepEqual(fast.p.issues.badLines, 4);
  const fastSteps = fast.steps.map((s) => [s.ts, s.woke, s.wokeBy]);
  const fromEvents = fast.events.filter((e): e is StepEvent => e.type === 'step').map((s) => [s.ts, s.woke ?? NaN, s.wokeBy]);
  const all = [...fastSteps, ...fromEvents].sort((a, b) => (a[0] as number) - (b[0] as number));
  assert.deepEqual(all, steps.map((s) => [s.ts, s.woke ?? NaN, s.wokeBy]));
});
