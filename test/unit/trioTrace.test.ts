import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TraceRun } from '../../src/core/traceModel';
import { parseTrace } from '../../src/core/traceParser';
import { loopsText, partialLoopsMessage, plainLocalize as t, taskTooltipRows, runTooltipRows } from '../../src/core/taskTreeModel';
import { encodeTasks } from '../../src/extension/ganttData';
import { taskKindOf } from '../../src/core/ganttProtocol';

// A real trace of fixtures/trio_nursery.py (python -m asynctrace, trio 0.22; paths made neutral).
const FIXTURE = path.join(__dirname, 'fixtures', 'trio_nursery.jsonl');

function load(text: string | Buffer, chunk = 57): TraceRun {
  const run = new TraceRun('k', 'trio_nursery.py', { live: false });
  for (let i = 0; i < text.length; i += chunk) run.ingest(text.slice(i, i + chunk));
  run.finish();
  return run;
}

const L = (o: object): string => JSON.stringify(o) + '\n';
const RUN = L({ type: 'run', v: 1, pid: 1, python: '3.11', argv: ['p.py'], cwd: '/w', started: 'x', blockMs: 100 });

test('a trio trace loads: trio tasks under their nursery owner, trio plumbing hidden, deadlines and cancels', () => {
  const text = readFileSync(FIXTURE);
  const { issues } = parseTrace(text);
  assert.equal(issues.unknownTypes, 0);
  assert.equal(issues.badLines, 0);
  assert.equal(issues.droppedFields ?? 0, 0);
  const run = load(text);
  // trio's init task and run_sync_soon task are internal: the program's main task is the root.
  assert.deepEqual(run.roots.map((id) => run.tasks.get(id)!.coro), ['main']);
  const main = run.tasks.get(run.roots[0])!;
  assert.equal(main.kind, 'trio');
  assert.equal(run.sites.get(main.site!)!.line, 35);
  const children = main.children.map((id) => run.tasks.get(id)!);
  assert.deepEqual(children.map((c) => [c.coro, run.sites.get(c.site!)!.line]), [['producer', 25], ['consumer', 26], ['forever', 30]]);
  assert.ok(children.every((c) => c.kind === 'trio'));
  const victim = children[2];
  assert.equal(victim.name, 'victim');
  assert.equal(victim.endState, 'cancelled');
  assert.deepEqual(victim.cancels.map((c) => [c.by, run.sites.get(c.site!)!.line, c.cause]), [[main.id, 32, 'cancel']]);
  assert.equal(main.timeouts.length, 1);
  const producer = children[0];
  const sends = [...producer.awaitSites.values()].find((s) => run.sites.get(s.site)!.line === 8)!;
  assert.deepEqual(sends.lastOn, { kind: 'queue', op: 'put' });
  // Views: the kind in words, the run's loop, nothing partial to warn about.
  assert.deepEqual(taskTooltipRows(run, main, t).find(([k]) => k === 'Kind'), ['Kind', 'trio task']);
  assert.equal(loopsText(run, t), 'trio');
  assert.deepEqual(runTooltipRows(run, t).find(([k]) => k === 'Event loops'), ['Event loops', 'trio']);
  assert.equal(partialLoopsMessage(run, t), undefined);
  // The timeline gets the kind as its own code.
  const cols = encodeTasks([main, ...children]);
  assert.deepEqual([...new Uint8Array(cols.kind)].map(taskKindOf), ['trio', 'trio', 'trio', 'trio']);
});

test('a loop library the runtime does not record, and a trio run seen in part, are said', () => {
  const run = load(RUN
    + L({ type: 'loop', id: 1, ts: 5, state: 'running', thread: 1, class: 'curio', partial: true, unsupported: true })
    + L({ type: 'loop', id: 1, ts: 9, state: 'closed', pending: [] })
    + L({ type: 'loop', id: 2, ts: 10, state: 'running', thread: 1, class: 'trio', partial: true, unseen: ['deadlines', 'cancellations'] })
    + L({ type: 'loop', id: 3, ts: 11, state: 'running', thread: 1, class: 'uvloop.Loop', partial: true })
    + L({ type: 'exit', ts: 20, code: 0, dropped: 0 }));
  const message = partialLoopsMessage(run, t)!;
  assert.match(message, /^curio ran, but Async Trace does not record it/);
  assert.match(message, /This trio version hides part of its runs from Async Trace: not recorded: deadlines, cancellations\./);
  assert.match(message, /The event loop uvloop\.Loop runs its tasks itself/);
  assert.equal(loopsText(run, t), 'curio (not recorded), trio (recorded in part), asyncio (uvloop.Loop) (recorded in part)');
  // Ill-typed fields of an untrusted line are dropped, not believed.
  const bad = load(RUN + L({ type: 'loop', id: 1, ts: 5, state: 'running', class: 'x', unsupported: 'yes', unseen: 'all' }));
  assert.equal(bad.loops.get(1)!.unsupported, undefined);
  assert.equal(bad.loops.get(1)!.unseen, undefined);
  assert.equal(partialLoopsMessage(bad, t), undefined);
});

test('an unknown task kind reads as asyncio', () => {
  const run = load(RUN + L({ type: 'task', id: 1, ts: 1, kind: 'curio', name: 'n', coro: 'c', parent: null, site: null }));
  assert.equal(run.tasks.get(1)!.kind, 'asyncio');
  assert.equal(taskKindOf(99), 'asyncio');
});
