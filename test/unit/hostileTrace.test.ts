// A trace is untrusted input (docs/trace-format.md): regression tests for what a hostile or
// corrupt trace did to the reader (issue: links in messages, hangs, throws, quadratic loads).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraceRun } from '../../src/core/traceModel';
import { MAX_LINE_CHARS } from '../../src/core/traceParser';
import { hasLinkSyntax, plainText } from '../../src/core/untrusted';
import { encodeTasks } from '../../src/extension/ganttData';
import { visibleTaskIds } from '../../src/core/taskFilter';
import {
  BlockIndex, issueLines, plainLocalize as t, programLabel, runDescription, runTooltipRows, taskDescription,
  taskDetails, taskTooltipRows, treeParent, visibleChildren,
} from '../../src/core/taskTreeModel';
import { computeLineAnnotations, describeOn, lineHints } from '../../src/core/lineAnnotations';
import { collectProblems } from '../../src/core/lineProblems';

const RUN = '{"type":"run","v":1,"pid":1,"python":"3.12","argv":["p.py"],"cwd":"/w","started":"2026-01-01T00:00:00Z"}';

function load(lines: string[], live = false): TraceRun {
  const run = new TraceRun('k', 'hostile', { live });
  run.ingest(lines.join('\n') + '\n');
  if (!live) run.finish();
  return run;
}

const LINK = '[click](command:workbench.action.terminal.new?%5B%5D "x")';

test('plainText: no link, command link or icon syntax survives; controls, bidi and length are tamed', () => {
  for (const s of [LINK, '[a](https://evil.example)', '[a](file:///etc/passwd)', '$(zap) boom', 'a\n[b](command:x)\r\nc',
    '\u202etxt.exe', 'x\u0000y', '](']) {
    const out = plainText(s);
    assert.ok(!hasLinkSyntax(out), `${JSON.stringify(s)} -> ${JSON.stringify(out)}`);
  }
  assert.equal(plainText('[click](command:x)'), '[click]\u200b(command:x)');
  assert.equal(plainText(42), '42');
  assert.equal(plainText({ a: 1 }), '');
  assert.equal(plainText(undefined), '');
  assert.equal(plainText('x'.repeat(5000)).length, 2000);
  assert.equal(plainText('ab\ud83d\ude00cd', 4), 'ab\u2026'); // never half a surrogate pair
});

test('trace strings with links are neutral in every tree text, tooltip, hint, problem and issue line', () => {
  const run = load([
    `{"type":"run","v":1,"pid":1,"python":${JSON.stringify(LINK)},"argv":[${JSON.stringify(LINK)}],"cwd":${JSON.stringify(LINK)},"started":${JSON.stringify(LINK)}}`,
    `{"type":"site","id":1,"file":${JSON.stringify('/w/' + LINK + '.py')},"line":3,"func":${JSON.stringify(LINK)}}`,
    `{"type":"loop","id":1,"ts":0,"state":"running","class":${JSON.stringify(LINK)},"partial":true}`,
    `{"type":"task","id":1,"ts":1,"kind":"asyncio","name":${JSON.stringify(LINK)},"coro":${JSON.stringify(LINK)},"parent":null,"site":1}`,
    `{"type":"task","id":2,"ts":1,"kind":"asyncio","name":"http://evil.example/x","coro":"c","parent":1,"site":1}`,
    `{"type":"step","task":1,"ts":2,"dur":1,"await":{"stack":[1],"on":{"kind":${JSON.stringify(LINK)},"op":${JSON.stringify(LINK)}}}}`,
    `{"type":"step","task":2,"ts":2,"dur":1,"await":{"stack":[1],"on":{"kind":"io","op":${JSON.stringify(LINK)}}}}`,
    `{"type":"timeout","id":1,"task":1,"ts":3,"site":1,"delay":1,"state":"armed"}`,
    `{"type":"timeout","id":1,"task":1,"ts":4,"state":"fired"}`,
    `{"type":"cancel","task":2,"ts":4,"by":1,"site":1,"cause":${JSON.stringify(LINK)}}`,
    `{"type":"end","task":2,"ts":5,"state":"failed","error":{"type":${JSON.stringify(LINK)},"message":${JSON.stringify(LINK)},"site":1}}`,
    `{"type":"unretrieved","task":2,"ts":6}`,
    `{"type":"block","task":1,"ts":6,"dur":200000,"site":1}`,
    `{"type":"loop","id":1,"ts":7,"state":"closed","pending":[1]}`,
  ]);
  const texts: string[] = [programLabel(run), runDescription(run, t, (iso) => iso), ...issueLines(run, t)];
  for (const [k, v] of runTooltipRows(run, t, '/x')) texts.push(k, v);
  const blocks = new BlockIndex();
  blocks.update(run);
  for (const task of run.tasks.values()) {
    texts.push(taskDescription(run, task, t));
    for (const [k, v] of taskTooltipRows(run, task, t)) texts.push(k, v);
    for (const r of taskDetails(run, task, blocks.of(task.id), t)) texts.push(r.label, r.description ?? '', ...r.tooltip);
    texts.push(describeOn(run, task.currentWait?.on, t));
  }
  const ann = computeLineAnnotations(run);
  for (const f of ann.files.values()) for (const info of f.lines.values()) for (const h of lineHints(run, info)) texts.push(h.text);
  for (const p of collectProblems(run, ann)) texts.push(p.message, ...p.related.map((r) => r.message));
  assert.ok(texts.some((s) => s.includes('click')), 'the trace strings are shown');
  for (const s of texts) assert.ok(!hasLinkSyntax(s), `not neutral: ${JSON.stringify(s)}`);
});

test('a parent cycle (A under B under A, a task its own parent) hides no task and every ancestor walk ends', () => {
  for (const order of [[1, 2, 3], [3, 2, 1], [2, 1, 3]]) {
    const decl: Record<number, string> = {
      1: '{"type":"task","id":1,"ts":1,"kind":"asyncio","name":"A","coro":"a","parent":2,"site":null}',
      2: '{"type":"task","id":2,"ts":1,"kind":"asyncio","name":"B","coro":"b","parent":1,"site":null}',
      3: '{"type":"task","id":3,"ts":1,"kind":"asyncio","name":"C","coro":"c","parent":3,"site":null}',
    };
    // Steps first make placeholders: the case where the cycle closes on known tasks.
    const run = load([RUN, '{"type":"step","task":1,"ts":0,"dur":1}', '{"type":"step","task":2,"ts":0,"dur":1}', ...order.map((i) => decl[i])]);
    const listed = new Set<number>();
    const walk = (parent: number | null, depth: number): void => {
      assert.ok(depth < 10, 'the tree is finite');
      for (const id of visibleChildren(run, parent, undefined)) { listed.add(id); walk(id, depth + 1); }
    };
    walk(null, 0);
    assert.deepEqual([...listed].sort(), [1, 2, 3], `order ${order}`);
    for (const id of [1, 2, 3]) {
      let n = 0;
      for (let p: number | null = id; p !== null; p = treeParent(run, p)) assert.ok(++n < 10, 'reveal walk ends');
    }
    assert.equal(visibleTaskIds(run, { text: 'a' }).size >= 1, true);
    assert.ok((run.issues.parentCycles ?? 0) >= 2, `order ${order}: cycles counted`);
    assert.ok(issueLines(run, t).some((l) => l.includes('cycle')));
  }
});

test('a child declared before its parent, whose parent is then only a placeholder, is listed under it', () => {
  const run = load([RUN,
    '{"type":"task","id":2,"ts":1,"kind":"asyncio","name":"B","coro":"b","parent":1,"site":null}',
    '{"type":"step","task":1,"ts":2,"dur":1}']);
  assert.deepEqual(visibleChildren(run, null, undefined), [1]);
  assert.deepEqual(visibleChildren(run, 1, undefined), [2]);
  assert.equal(treeParent(run, 2), 1);
});

test('task lines after their steps: every task under its parent, roots right (no quadratic splice)', () => {
  const lines = [RUN];
  const n = 3000;
  for (let i = 1; i <= n; i++) lines.push(`{"type":"step","task":${i},"ts":${i},"dur":1}`);
  for (let i = 1; i <= n; i++) lines.push(`{"type":"task","id":${i},"ts":${i},"kind":"asyncio","name":"T${i}","coro":"c","parent":${i === 1 ? 'null' : i - 1 - ((i - 2) % 2)},"site":null}`);
  const run = load(lines);
  assert.deepEqual(run.roots, [1]);
  assert.equal(run.counts.tasks, n);
  assert.deepEqual(run.tasks.get(1)!.children, [2, 3]);
});

test('await.on nesting 20,000 arrays: skipped and counted, in a file and live, nothing thrown', () => {
  const deep = '['.repeat(20000) + ']'.repeat(20000);
  for (const live of [false, true]) {
    const run = load([RUN, '{"type":"task","id":1,"ts":1,"kind":"asyncio","name":"A","coro":"a","parent":null,"site":null}',
      `{"type":"step","task":1,"ts":2,"dur":1,"await":{"stack":[],"on":{"kind":"x","v":${deep}}}}`,
      `{"type":"end","task":1,"ts":3,"state":"done","error":{"type":"E","message":${deep}}}`,
      '{"type":"step","task":1,"ts":4,"dur":1}'], live);
    assert.equal(run.issues.invalidLines, 2);
    assert.equal(run.steps.count, 1);
    assert.ok(issueLines(run, t).some((l) => l.includes('impossible values')));
  }
});

test('a live sender that never ends its line: memory stays bounded, the line is counted, later lines load', () => {
  const run = new TraceRun('k', 'live', { live: true });
  run.ingest(RUN + '\n');
  const chunk = Buffer.alloc(1 << 20, 0x61); // 1 MB of 'a', no newline
  for (let i = 0; i < 12; i++) run.ingest(chunk);
  const text = 'b'.repeat(1 << 20);
  for (let i = 0; i < 6; i++) run.ingest(text);
  run.ingest('tail\n{"type":"task","id":1,"ts":1,"kind":"asyncio","name":"A","coro":"a","parent":null,"site":null}\n');
  assert.equal(run.issues.longLines, 1);
  assert.equal(run.tasks.get(1)?.name, 'A');
  // The carried text never exceeded the bound (it would have held 18 MB).
  const carried = (run as unknown as { parser: { carry: string; byteCarryLength: number } }).parser;
  assert.ok(carried.carry.length <= MAX_LINE_CHARS && carried.byteCarryLength <= MAX_LINE_CHARS);
  run.finish();
});

test('ill-typed optional fields (run without argv, delay a string, message a number) never throw in the builders', () => {
  const run = load([
    '{"type":"run","v":1,"pid":"x","cwd":5}',
    '{"type":"site","id":1,"file":"/w/p.py","line":3,"func":7}',
    '{"type":"task","id":1,"ts":1,"kind":5,"name":"A","coro":"a","parent":null,"site":1,"thread":"t","loop":"l","eager":"yes"}',
    '{"type":"step","task":1,"ts":2,"dur":1,"woke":"soon","await":{"stack":[1],"on":{"kind":"sleep","delay":"1s"}}}',
    '{"type":"timeout","id":1,"task":1,"ts":3,"site":"s","delay":"1s","state":"armed"}',
    '{"type":"timeout","id":1,"task":1,"ts":4,"state":"fired"}',
    '{"type":"cancel","task":1,"ts":4,"by":"me","site":{},"cause":5,"timeout":"t"}',
    '{"type":"end","task":1,"ts":5,"state":"failed","error":{"type":["E"],"message":42,"site":"s"}}',
    '{"type":"block","task":1,"ts":6,"dur":200000,"site":[1]}',
    '{"type":"loop","id":1,"ts":7,"state":"closed","class":{},"pending":[1,"x",null]}',
    '{"type":"exit","ts":8,"code":"0","dropped":"many","error":"boom"}',
  ]);
  const task = run.tasks.get(1)!;
  assert.equal(task.error?.message, '42');
  assert.equal(run.timeouts.get(1)?.delay, null);
  assert.deepEqual(run.info?.argv, []);
  assert.ok((run.issues.droppedFields ?? 0) >= 10);
  const blocks = new BlockIndex();
  blocks.update(run);
  runTooltipRows(run, t);
  runDescription(run, t, (iso) => iso);
  taskTooltipRows(run, task, t);
  taskDescription(run, task, t);
  taskDetails(run, task, blocks.of(1), t);
  const ann = computeLineAnnotations(run);
  for (const f of ann.files.values()) for (const info of f.lines.values()) lineHints(run, info);
  collectProblems(run, ann);
  encodeTasks([...run.tasks.values()]);
  assert.ok(issueLines(run, t).some((l) => l.includes('wrong type')));
});

test('negative durations, infinite timestamps and duplicate ids are skipped and counted', () => {
  const run = load([RUN, RUN,
    '{"type":"site","id":1,"file":"/w/p.py","line":3,"func":"f"}',
    '{"type":"site","id":1,"file":"/etc/passwd","line":1,"func":"f"}',
    '{"type":"task","id":1,"ts":1,"kind":"asyncio","name":"A","coro":"a","parent":null,"site":1}',
    '{"type":"task","id":1,"ts":1,"kind":"asyncio","name":"A","coro":"a","parent":null,"site":1}',
    '{"type":"step","task":1,"ts":2,"dur":-5}',
    '{"type":"step","task":1,"ts":1e999,"dur":1}',
    '{"type":"block","task":1,"ts":3,"dur":-1}',
    '{"type":"step","task":1,"ts":4,"dur":1}',
    '{"type":"end","task":1,"ts":5,"state":"done"}',
    '{"type":"end","task":1,"ts":6,"state":"failed"}',
  ]);
  // 1e999 parses as Infinity: no longer a number the format allows, so a malformed line.
  assert.equal(run.issues.invalidLines, 2);
  assert.equal(run.issues.badLines, 1);
  assert.equal(run.issues.firstInvalidLine, 7);
  assert.equal(run.issues.duplicates, 4);
  assert.equal(run.sites.get(1)?.file, '/w/p.py');
  assert.equal(run.tasks.get(1)?.endState, 'done');
  assert.equal(run.steps.count, 1);
  assert.ok(Number.isFinite(run.now));
  const lines = issueLines(run, t);
  assert.ok(lines.some((l) => l.includes('impossible values')) && lines.some((l) => l.includes('repeated declarations')));
});

test('task ids past 2^31 stay distinct in the step column and the timeline columns', () => {
  const big = 2 ** 32 + 1;
  const run = load([RUN,
    '{"type":"task","id":1,"ts":1,"kind":"asyncio","name":"A","coro":"a","parent":null,"site":null}',
    `{"type":"task","id":${big},"ts":1,"kind":"asyncio","name":"B","coro":"b","parent":1,"site":null}`,
    '{"type":"step","task":1,"ts":2,"dur":1}',
    `{"type":"step","task":${big},"ts":3,"dur":1}`]);
  assert.deepEqual(Array.from(run.steps.task.subarray(0, 2)), [1, big]);
  const cols = encodeTasks([...run.tasks.values()]);
  assert.deepEqual(Array.from(new Float64Array(cols.id)), [1, big]);
  assert.deepEqual(Array.from(new Float64Array(cols.parent)), [-1, 1]);
  assert.deepEqual(visibleChildren(run, 1, undefined), [big]);
});

test('source files named by a trace: only regular files, bounded; /dev/zero and a FIFO neither hang nor fill memory', async () => {
  const { readSourceFile, isRegularFile } = await import('../../src/extension/sourceFiles');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { execFileSync } = await import('node:child_process');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(tmpdir(), 'asynctrace-src-'));
  try {
    const ok = path.join(dir, 'ok.py');
    writeFileSync(ok, 'print(1)\n');
    assert.equal(readSourceFile(ok), 'print(1)\n');
    assert.equal(isRegularFile(ok), true);
    const big = path.join(dir, 'big.py');
    writeFileSync(big, Buffer.alloc(4096, 0x61));
    assert.equal(readSourceFile(big, 1024), undefined);
    assert.equal(readSourceFile('/dev/zero'), undefined);
    assert.equal(isRegularFile('/dev/zero'), false);
    assert.equal(readSourceFile(dir), undefined);
    let fifo: string | undefined = path.join(dir, 'fifo');
    try { execFileSync('mkfifo', [fifo]); } catch { fifo = undefined; }
    if (fifo) {
      // No writer ever opens it: a blocking read would hang this test.
      assert.equal(readSourceFile(fifo), undefined);
      assert.equal(isRegularFile(fifo), false);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('markdownText: trace text in a hover or Markdown tooltip is never a link, autolink, image, HTML or icon', async () => {
  const { markdownText } = await import('../../src/extension/untrustedMarkdown');
  const md = markdownText(`${LINK} http://evil.example/x www.evil.example a@b.example <b>x</b> ![i](https://x/i.png) $(zap)`);
  // Every ASCII punctuation is escaped: no unescaped `[`, `(`, `:`, `<`, `.`, `@` or `$` is left.
  assert.ok(!/(^|[^\\])[[\]()<>:.@$!]/.test(md.replace(/\\\\/g, '')), md);
  assert.ok(md.includes('http\\:\\/\\/evil\\.example'));
});
