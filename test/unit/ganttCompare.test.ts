import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TraceRun } from '../../src/core/traceModel';
import { GanttStore } from '../../src/webview/ganttStore';
import { GanttCompareEncoder } from '../../src/extension/ganttCompare';
import type { ToWebview } from '../../src/core/ganttProtocol';

// The timeline's compare mode: two runs renumbered into one id space, loaded by the webview's
// ordinary store, each run's tasks under its own root lane, times untouched (one clock).
const FIXTURES = path.join(__dirname, 'fixtures');

function load(name: string, key: string): TraceRun {
  const run = new TraceRun(key, name);
  run.ingest(readFileSync(path.join(FIXTURES, name)));
  run.finish();
  return run;
}

function feed(store: GanttStore, messages: Iterable<ToWebview>): ToWebview[] {
  const all: ToWebview[] = [];
  for (const m of messages) {
    all.push(m);
    switch (m.type) {
      case 'reset': store.reset(m.runKey, m.label, m.live, m.now, m.blockMs); break;
      case 'sites': store.addSites(m.sites); break;
      case 'awaits': store.addAwaits(m.from, m.entries); break;
      case 'tasks': store.upsertTasks(m.columns); break;
      case 'steps': store.addSteps(m.batch); break;
      case 'execs': store.upsertExecs(m.items); break;
      case 'markers': store.setMarkers(m.timeouts, m.cancelsFrom, m.cancels, m.blocksFrom, m.blocks); break;
      default: break;
    }
  }
  return all;
}

test('compare mode: both runs under their own root lane, every step, site and await kept apart', () => {
  const a = load('05_wait_for_timeout.jsonl', 'a');
  const b = load('04_gather.jsonl', 'b');
  const enc = new GanttCompareEncoder(a, b, { before: 'Before', after: 'After' });
  const store = new GanttStore();
  const messages = feed(store, enc.initialMessages({}));
  const reset = messages[0];
  assert.equal(reset.type, 'reset');
  assert.ok(reset.type === 'reset' && reset.compare && reset.compare.before === 'Before' && reset.compare.afterWall > 0);
  assert.ok(reset.type === 'reset' && reset.compare?.roots.join() === '1,2');
  assert.equal(store.name[store.index.get(2)!], 'After');
  assert.equal(messages[messages.length - 1].type, 'loaded');

  assert.equal(store.id.length, a.tasks.size + b.tasks.size + 2);
  assert.equal(store.n, a.steps.count + b.steps.count);
  const rootA = store.index.get(1)!;
  assert.equal(store.name[rootA], 'Before');
  // Every task of a run descends from that run's root lane.
  const rootOf = (id: number): number => {
    let i = store.index.get(id)!;
    while (store.parent[i] >= 0) i = store.index.get(store.parent[i])!;
    return store.id[i];
  };
  const originRoot = new Map<TraceRun, number>();
  for (const id of store.id) {
    const origin = enc.taskOrigin(id);
    if (!origin) continue;
    const root = rootOf(id);
    assert.equal(originRoot.get(origin.run as TraceRun) ?? root, root);
    originRoot.set(origin.run as TraceRun, root);
    // Same coroutine as in the run it came from.
    assert.equal(store.coro[store.index.get(id)!], origin.run.tasks.get(origin.taskId)!.coro);
  }
  assert.deepEqual([...originRoot.keys()].sort((x, y) => x.key.localeCompare(y.key)).map((r) => r.key), ['a', 'b']);
  assert.notEqual(originRoot.get(a), originRoot.get(b));
  // Sites of the later run map back to it; each chart site is the same place as its origin.
  for (const [id, s] of store.sites) {
    const o = enc.siteOrigin(id)!;
    const orig = o.run.sites.get(o.siteId)!;
    assert.deepEqual([orig.file, orig.line, orig.func], [s.file, s.line, s.func]);
  }
  // Times are each run's own (both start at 0 on one clock): the later run's steps keep their ts.
  const tsB = [...b.steps.ts.subarray(0, b.steps.count)].sort((x, y) => x - y);
  const stepMessages = messages.filter((m): m is Extract<ToWebview, { type: 'steps' }> => m.type === 'steps');
  const lastBatch = stepMessages[stepMessages.length - 1].batch;
  assert.equal(lastBatch.from, a.steps.count);
  assert.deepEqual([...new Float64Array(lastBatch.ts)].sort((x, y) => x - y), tsB);
  // Await entries point at the right run's sites.
  for (let i = 0; i < store.awaits.length; i++) assert.ok(store.awaits[i], `await ${i} missing`);
});
