import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraceRun } from '../../src/core/traceModel';
import { awaitOnText, plainLocalize as t } from '../../src/core/taskTreeModel';
import { describeOn } from '../../src/core/lineAnnotations';

// Network waits as the runtime records them on aiohttp, httpx/anyio and uvicorn programs.
const TRACE = [
  '{"type":"run","v":1,"pid":1,"python":"3.11.2","argv":["app.py"],"cwd":"/w","started":"2026-01-01T00:00:00Z","blockMs":100}',
  '{"type":"site","id":1,"file":"/w/app.py","line":16,"func":"fetch"}',
  '{"type":"task","id":1,"ts":0,"kind":"asyncio","name":"Task-1","coro":"fetch","parent":null,"site":null,"thread":1,"loop":null}',
  '{"type":"step","task":1,"ts":10,"dur":5,"await":{"stack":[1],"on":{"kind":"io","op":"resolve"}}}',
  '{"type":"step","task":1,"ts":20,"dur":5,"await":{"stack":[1],"on":{"kind":"io","op":"connect"}}}',
  '{"type":"step","task":1,"ts":30,"dur":5,"await":{"stack":[1],"on":{"kind":"io","op":"read"}}}',
  '{"type":"end","task":1,"ts":40,"state":"done"}',
].join('\n') + '\n';

test('network waits read as DNS lookup, connect and read in the tree and the annotations', () => {
  const run = new TraceRun('k', 'app.py', { live: false });
  run.ingest(TRACE);
  run.finish();
  const ons = [{ kind: 'io', op: 'resolve' }, { kind: 'io', op: 'connect' }, { kind: 'io', op: 'read' }] as const;
  assert.deepEqual(ons.map((on) => awaitOnText(run, on, t)), ['DNS lookup', 'I/O connect', 'I/O read']);
  assert.deepEqual(ons.map((on) => describeOn(run, on, t)), ['DNS lookup', 'I/O connect', 'I/O read']);
  // A hostile op stays plain text.
  assert.equal(awaitOnText(run, { kind: 'io', op: '[x](command:evil)' }, t)?.includes('](command:'), false);
});
