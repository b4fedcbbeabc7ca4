import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TraceRun } from '../../src/core/traceModel';
import { PROCESS_ID_STRIDE, localId, processOfId } from '../../src/core/processStreams';
import { processDescription } from '../../src/core/processText';

const DIR = path.join(__dirname, 'fixtures', 'processes');

function loadSubproc(chunk = 41): TraceRun {
  const run = new TraceRun('sub', 'sub', { live: true });
  const main = readFileSync(path.join(DIR, 'subproc.jsonl'));
  const child = readFileSync(path.join(DIR, 'subproc.child.jsonl'));
  // Interleaved, as two live connections deliver them.
  for (let i = 0; i < Math.max(main.length, child.length); i += chunk) {
    if (i < main.length) run.ingest(main.subarray(i, i + chunk));
    if (i < child.length) run.ingestProcess('child', child.subarray(i, i + chunk));
  }
  run.finishProcess('child');
  run.finish();
  return run;
}

test('a child process stream folds into the run: processes, their tasks, parents and sites', () => {
  const run = loadSubproc();
  assert.equal(run.processes.size, 2);
  const main = run.processes.get(0)!;
  const child = run.processes.get(1)!;
  assert.equal(main.start, 'main');
  assert.equal(main.exitCode, 0);
  assert.equal(child.start, 'exec');
  assert.equal(child.ppid, main.pid);
  assert.equal(child.exitCode, 5);
  assert.equal(child.live, false);
  assert.ok(child.startTs > 0 && child.startTs < main.endTs!, `${child.startTs} in 0..${main.endTs}`);
  assert.ok(child.endTs! > child.startTs && child.endTs! <= main.endTs!);

  const childTasks = [...run.tasks.values()].filter((t) => t.process === 1);
  const mainTasks = [...run.tasks.values()].filter((t) => t.process === undefined);
  assert.deepEqual(childTasks.map((t) => t.coro).sort(), ['main', 'tick', 'tick', 'tick']);
  assert.ok(mainTasks.some((t) => t.coro === 'main'));
  // Ids of the child live in its own stride: no collision with the main process's task 1.
  const childMain = childTasks.find((t) => t.coro === 'main')!;
  assert.equal(processOfId(childMain.id), 1);
  assert.equal(localId(childMain.id), 1);
  assert.ok(run.tasks.get(1)!.process === undefined);
  for (const t of childTasks.filter((x) => x.coro === 'tick')) {
    assert.equal(t.parent, childMain.id);
    assert.ok(childMain.children.includes(t.id));
    const site = run.sites.get(t.site!)!;
    assert.equal(site.file, '<string>');
    assert.equal(t.endState, 'done');
    // Its await sites are the child's, rewritten: the sleep line of the child's source.
    const lines = [...t.awaitSites.keys()].map((s) => run.sites.get(s)!.line);
    assert.ok(lines.includes(5), `await lines ${lines}`);
    // On the shared clock: inside the child's life.
    assert.ok(t.createdTs >= child.startTs - 5000 && t.endTs! <= child.endTs!, `${t.createdTs} ${child.startTs}`);
  }
  // gather's await names the child's own tasks.
  const on = childMain.awaitSites.values().next().value!.lastOn as { kind: string; tasks: number[] };
  assert.equal(on.kind, 'gather');
  for (const id of on.tasks) assert.equal(run.tasks.get(id)?.process, 1);
  assert.ok(run.roots.includes(childMain.id));
});

test('chunking does not change the result', () => {
  const a = loadSubproc(7);
  const b = loadSubproc(100000);
  const shape = (r: TraceRun) => [...r.tasks.values()].map((t) => [t.id, t.parent, t.process, t.createdTs, t.endTs, t.stepCount]);
  assert.deepEqual(shape(a), shape(b));
});

test('ids and clock of a child stream are rewritten, unknown fields kept', () => {
  const run = new TraceRun('k', 'k');
  run.ingest('{"type":"run","v":1,"pid":10,"python":"3.12.0","argv":["a.py"],"cwd":"/","started":"2026-01-01T00:00:00.000Z","t0":1767225600000000,"start":"main"}\n');
  run.ingestProcess('c', [
    '{"type":"run","v":1,"pid":11,"ppid":10,"python":"3.12.0","argv":["a.py"],"cwd":"/","started":"2026-01-01T00:00:00.500Z","t0":1767225600500000,"start":"fork"}',
    '{"type":"site","id":1,"file":"/a.py","line":3,"func":"f"}',
    '{"type":"task","id":1,"ts":10,"kind":"greenlet","name":"main","coro":"main","parent":null,"site":null}',
    '{"type":"task","id":2,"ts":20,"kind":"greenlet","name":"g","coro":"f","parent":1,"site":1}',
    '{"type":"step","task":2,"ts":30,"dur":5,"await":{"stack":[1],"on":{"kind":"task","task":1}}}',
    '{"type":"timeout","id":1,"task":2,"ts":40,"site":1,"delay":1,"state":"armed"}',
    '{"type":"cancel","task":2,"ts":50,"by":1,"site":1,"cause":"timeout","timeout":1}',
    '{"type":"end","task":2,"ts":60,"state":"failed","error":{"type":"E","message":"m","site":1}}',
    '',
  ].join('\n'));
  const b = PROCESS_ID_STRIDE;
  const g = run.tasks.get(b + 2)!;
  assert.equal(g.parent, b + 1);
  assert.equal(g.site, b + 1);
  assert.equal(g.process, 1);
  assert.equal(g.createdTs, 500020);
  assert.equal(g.endTs, 500060);
  assert.equal(g.error?.site, b + 1);
  assert.deepEqual(run.timeouts.get(b + 1)?.task, b + 2);
  assert.equal(run.cancels[0].by, b + 1);
  assert.equal(run.cancels[0].timeout, b + 1);
  const wait = g.awaitSites.get(b + 1)!;
  assert.deepEqual(wait.lastOn, { kind: 'task', task: b + 1 });
  const p = run.processes.get(1)!;
  assert.equal(p.start, 'fork');
  assert.equal(p.startTs, 500000);
  assert.equal(p.live, true);
  assert.equal(p.endTs, undefined);
});

test('a stream of another run (a stale file beside the trace) is ignored', () => {
  const run = new TraceRun('k', 'k');
  run.ingest('{"type":"run","v":1,"pid":10,"python":"3.12.0","argv":["a.py"],"cwd":"/","started":"2026-01-01T00:00:00.000Z","runId":"aa","t0":1767225600000000}\n');
  run.ingestProcess('old', '{"type":"run","v":1,"pid":9,"python":"3.12.0","argv":["a.py"],"cwd":"/","started":"2025-01-01T00:00:00.000Z","runId":"bb","t0":1}\n'
    + '{"type":"task","id":1,"ts":10,"kind":"asyncio","name":"x","coro":"x","parent":null,"site":null}\n');
  run.finishProcess('old');
  assert.equal(run.processes.size, 1);
  assert.equal(run.tasks.size, 0);
});

test('process rows: labels, descriptions and tooltips say who ran, how long and how it ended', async () => {
  const { hasChildProcesses, processDescription, processLabel, processTooltipRows, processesInOrder } = await import('../../src/core/processText');
  const { plainLocalize: t } = await import('../../src/core/taskTreeModel');
  const run = loadSubproc();
  assert.equal(hasChildProcesses(run), true);
  const [main, child] = processesInOrder(run);
  assert.equal(processLabel(main, t), `main pid ${main.pid}`);
  assert.equal(processLabel(child, t), `python -c pid ${child.pid}`);
  assert.match(processDescription(run, child, t), /^\d+ ms · exit 5$/);
  const rows = new Map(processTooltipRows(run, child, t));
  assert.equal(rows.get('Parent'), `main pid ${main.pid}`);
  assert.equal(rows.get('Tasks'), '4');
  assert.equal(rows.get('Started'), 'executed Python program');
  const worker = { ...child, start: 'fork', argv: ['app.py'], exitCode: undefined, endTs: undefined, live: false };
  assert.equal(processLabel(worker, t), `worker pid ${child.pid}`);
  assert.match(processDescription(run, worker, t), /no exit line/);
  const single = new TraceRun('s', 's');
  single.ingest(readFileSync(path.join(DIR, 'subproc.jsonl')));
  assert.equal(hasChildProcesses(single), false);
});

test('a child killed by a signal ends where its parent reaped it: exit 137, killed by SIGKILL; its own exit line would win', () => {
  const runLine = (pid: number, ppid: number, start: string) => JSON.stringify({
    type: 'run', v: 1, pid, ppid, start, runId: 'r1', t0: Date.parse('2026-12-05T12:00:00.000Z') * 1000, started: '2026-12-05T12:00:00.000Z',
    python: '3.11.2', argv: ['app.py'], cwd: '/w', blockMs: 100,
  });
  const build = (childLines: string[], reapedFirst: boolean): TraceRun => {
    const run = new TraceRun('k', 'k', { live: true });
    const main = [runLine(100, 1, 'main'), '{"type":"reaped","ts":600000,"pid":200,"code":137,"signal":"SIGKILL"}',
      '{"type":"exit","ts":700000,"code":0,"dropped":0}'].join('\n') + '\n';
    const child = [runLine(200, 100, 'fork'), ...childLines].join('\n') + '\n';
    if (reapedFirst) run.ingest(Buffer.from(main));
    run.ingestProcess('c', Buffer.from(child));
    if (!reapedFirst) run.ingest(Buffer.from(main));
    run.finishProcess('c');
    run.finish();
    return run;
  };
  for (const reapedFirst of [true, false]) {
    const run = build(['{"type":"site","id":1,"file":"/w/app.py","line":3,"func":"spin"}'], reapedFirst);
    const child = run.processes.get(1)!;
    assert.equal(child.exitCode, 137, `reaped line read ${reapedFirst ? 'before' : 'after'} the child's stream`);
    assert.equal(child.reaped, true);
    assert.equal(child.error?.type, 'SIGKILL');
    assert.equal(child.endTs, 600000);
    const t = (s: string, ...a: unknown[]) => s.replace(/\{(\d+)\}/g, (_, i) => String(a[Number(i)]));
    assert.match(processDescription(run, child, t), /exit 137 · killed by SIGKILL$/);
  }
  // A child that wrote its own exit line keeps it.
  const own = build(['{"type":"exit","ts":500000,"code":3,"dropped":0}'], true).processes.get(1)!;
  assert.equal(own.exitCode, 3);
  assert.equal(own.reaped, undefined);
  // A reaped pid of another parent is not this child.
  const other = new TraceRun('o', 'o', { live: true });
  other.ingest(Buffer.from([JSON.stringify({ type: 'run', v: 1, pid: 100, runId: 'r1', t0: 1, started: '2026-12-05T12:00:00.000Z', argv: [] }),
    '{"type":"reaped","ts":600000,"pid":999,"code":137,"signal":"SIGKILL"}'].join('\n') + '\n'));
  other.ingestProcess('c', Buffer.from(runLine(200, 100, 'fork') + '\n'));
  other.finishProcess('c');
  other.finish();
  assert.equal(other.processes.get(1)!.exitCode, undefined);
});
