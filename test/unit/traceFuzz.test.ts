// Fuzz test: thousands of generated hostile traces (random truncation and chunking, type
// confusion in every field, huge and deeply nested values, parent cycles, huge and duplicate ids,
// links and markup in every string field) through the real reader and the real builders of what
// the user sees (tree rows and tooltips, hover Markdown, source hints, Problems, issue lines,
// timeline columns). Asserts: no exception escapes, no ingest or build step takes longer than a
// bound, memory stays bounded, every string shown is neutral.
//
//   ASYNC_TRACE_FUZZ_TRACES=20000 npm run test:unit -- --test-name-pattern=fuzz   (default 3000)
//   ASYNC_TRACE_FUZZ_SEED=7                                                        (default 1)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Module from 'node:module';

class MarkdownString {
  value = '';
  isTrusted?: unknown;
  supportHtml?: boolean;
  constructor(value = '', public supportThemeIcons = false) { this.value = value; }
  appendText(s: string) { this.value += s.replace(/[\\`*_{}[\]()#+\-.!]/g, '\\$&'); return this; }
  appendMarkdown(s: string) { this.value += s; return this; }
}
const vscodeStub = {
  MarkdownString,
  l10n: { t: (m: string, ...a: unknown[]) => m.replace(/\{(\d+)\}/g, (_, i) => String(a[Number(i)])) },
};
const M = Module as unknown as { _load: (req: string, ...rest: unknown[]) => unknown };
const load = M._load;
M._load = function (req: string, ...rest: unknown[]) { return req === 'vscode' ? vscodeStub : load.call(this, req, ...rest); };

/* eslint-disable @typescript-eslint/no-require-imports */
const { TraceRun } = require('../../src/core/traceModel') as typeof import('../../src/core/traceModel');
const { hasLinkSyntax } = require('../../src/core/untrusted') as typeof import('../../src/core/untrusted');
const tree = require('../../src/core/taskTreeModel') as typeof import('../../src/core/taskTreeModel');
const ann = require('../../src/core/lineAnnotations') as typeof import('../../src/core/lineAnnotations');
const { collectProblems } = require('../../src/core/lineProblems') as typeof import('../../src/core/lineProblems');
const { visibleTaskIds } = require('../../src/core/taskFilter') as typeof import('../../src/core/taskFilter');
const { hoverMarkdown } = require('../../src/extension/annotationHovers') as typeof import('../../src/extension/annotationHovers');
const { markdownText } = require('../../src/extension/untrustedMarkdown') as typeof import('../../src/extension/untrustedMarkdown');
const { GanttEncoder } = require('../../src/extension/ganttData') as typeof import('../../src/extension/ganttData');

const TRACES = Number(process.env.ASYNC_TRACE_FUZZ_TRACES ?? 3000);
const SEED = Number(process.env.ASYNC_TRACE_FUZZ_SEED ?? 1);
/** One ingest, or all builders of one trace, must finish within this (generous: the machine is shared). */
const STEP_BOUND_MS = 3000;
/** Heap growth allowed over the run (every trace is dropped after its checks). */
const HEAP_BOUND_MB = 400;

/** mulberry32: small, seedable, good enough for fuzzing. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE_STRINGS = [
  '[click](command:workbench.action.terminal.new)', '[x](https://evil.example)', '[f](file:///etc/passwd)',
  'http://evil.example/a', 'https://evil.example', 'www.evil.example', 'mail@evil.example', '<b>bold</b><img src=x>',
  '![i](https://x/i.png)', '$(zap) $(bug)', '`code`', '*em* _u_ **b**', '\u202ecod.exe', 'line\nbreak\r\n[a](command:x)',
  '\u001b[31mred\u001b[0m', '', ' ', '\ud800', '../../../../etc/passwd', '/dev/zero', 'C:\\\\Windows\\\\x.py',
  '[a]\n(command:x)', '[[a](command:x)](command:y)', '<command:x>', '\\[a\\](command:x)', '[a]( command:x )',
];

function build(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const int = (n: number) => Math.floor(r() * n);
  const nTasks = 1 + int(12);
  const ids = Array.from({ length: nTasks }, (_, i) => (r() < 0.05 ? 2 ** 31 + i : r() < 0.02 ? 2 ** 53 + i : i + 1));
  const str = (): unknown => (r() < 0.6 ? pick(HOSTILE_STRINGS) : r() < 0.5 ? `name-${int(100)}` : value(2));
  const deep = (d: number): unknown => { let v: unknown = r() < 0.5 ? [] : {}; for (let i = 0; i < d; i++) v = r() < 0.5 ? [v] : { a: v }; return v; };
  function value(depth: number): unknown {
    switch (int(14)) {
      case 0: return null;
      case 1: return pick(HOSTILE_STRINGS);
      case 2: return -int(1e6);
      case 3: return 1e308 * (r() < 0.5 ? 10 : 1); // Infinity once serialized as 1e999? JSON gives null
      case 4: return r() < 0.5;
      case 5: return [];
      case 6: return depth > 0 ? [value(depth - 1), value(depth - 1)] : 0;
      case 7: return depth > 0 ? { kind: value(depth - 1), task: value(depth - 1) } : {};
      case 8: return int(100);
      case 9: return 2 ** 53 + int(10);
      case 10: return 0.5;
      // Very deep values are spliced in as text (JSON.stringify itself would overflow the stack).
      case 11: return r() < 0.9 ? deep(1 + int(80)) : `__DEEP_${3000 + int(20000)}__`;
      case 12: return 'x'.repeat(int(r() < 0.99 ? 300 : 100000));
      default: return pick(ids);
    }
  }
  /** The field's right value, or (sometimes) anything at all. */
  const f = (right: () => unknown, p = 0.15): unknown => (r() < p ? value(2) : right());
  const id = () => pick(ids);
  const ts = () => (r() < 0.03 ? pick([-5, 1e300, -1e300, 0.25]) : int(1e6));
  const site = () => 1 + int(4);
  const on = (): unknown => f(() => pick([
    { kind: 'sleep', delay: f(() => r()) }, { kind: 'task', task: f(id) }, { kind: 'gather', tasks: f(() => [id(), id()]) },
    { kind: 'io', op: f(str) }, { kind: 'switch', to: f(id) }, { kind: 'executor', item: f(id) }, { kind: f(str) },
    { kind: 'yield' }, { kind: 'queue', op: str() },
  ]));
  const lines: unknown[] = [];
  lines.push({ type: 'run', v: f(() => (r() < 0.9 ? 1 : 2)), pid: f(() => 1), python: f(str), argv: f(() => [str(), str()]), cwd: f(str), started: f(str), module: r() < 0.2 ? f(str) : undefined, blockMs: f(() => 100) });
  for (let s = 1; s <= 4; s++) lines.push({ type: 'site', id: f(() => s, 0.05), file: f(() => (r() < 0.5 ? `/w/${pick(HOSTILE_STRINGS)}.py` : pick(['/w/app.py', '/dev/zero', '/w/b.py']))), line: f(() => 1 + int(50)), func: f(str) });
  lines.push({ type: 'loop', id: 1, ts: ts(), state: f(() => 'running'), thread: f(() => 5), class: f(str), partial: f(() => r() < 0.5) });
  for (const i of ids) {
    lines.push({ type: 'task', id: f(() => i, 0.05), ts: ts(), kind: f(() => pick(['asyncio', 'greenlet'])), name: f(str), coro: f(str), parent: f(() => (r() < 0.3 ? null : id())), site: f(site), thread: f(() => 5), loop: f(() => 1), eager: f(() => r() < 0.1), internal: r() < 0.05 ? true : undefined });
    if (r() < 0.2) lines.push({ type: 'name', task: f(() => i), name: f(str) });
    for (let k = int(6); k > 0; k--) {
      lines.push({ type: 'step', task: f(() => i, 0.05), ts: ts(), dur: f(() => int(1000), 0.05), woke: r() < 0.2 ? f(ts) : undefined, await: r() < 0.9 ? f(() => ({ stack: f(() => [site(), site()]), on: on() }), 0.05) : undefined });
    }
    if (r() < 0.3) lines.push({ type: 'timeout', id: f(() => 1 + int(3)), task: f(() => i), ts: ts(), site: f(site), delay: f(() => r()), state: f(() => pick(['armed', 'fired', 'cleared'])) });
    if (r() < 0.3) lines.push({ type: 'cancel', task: f(() => i), ts: ts(), by: f(id), site: f(site), cause: f(() => pick(['timeout', 'cancel', 'kill', str()])), timeout: f(() => 1 + int(3)) });
    if (r() < 0.3) lines.push({ type: 'block', task: f(() => i), ts: ts(), dur: f(() => int(1e6)), site: f(site) });
    if (r() < 0.2) lines.push({ type: 'exec', id: f(() => int(5)), ts: ts(), state: f(() => pick(['submitted', 'started', 'finished', 'cancelled'])), task: f(id), site: f(site), func: f(str), def: f(site), module: f(str), executor: f(str), pool: f(() => pick(['thread', 'process'])), thread: f(str), ident: f(() => 3), error: f(() => ({ type: str(), message: str() })) });
    if (r() < 0.8) lines.push({ type: 'end', task: f(() => i), ts: ts(), state: f(() => pick(['done', 'cancelled', 'failed'])), error: f(() => ({ type: f(str), message: f(str), site: f(site) })) });
    if (r() < 0.1) lines.push({ type: 'unretrieved', task: f(() => i), ts: f(ts) });
  }
  lines.push({ type: 'loop', id: 1, ts: ts(), state: 'closed', pending: f(() => [id(), id(), 'x']) });
  if (r() < 0.5) lines.push({ type: 'exit', ts: ts(), code: f(() => 0), dropped: f(() => 0), error: f(() => ({ type: str(), message: str() })) });
  // Shuffle some lines (out of order traces), serialize, add junk, cut.
  for (let k = int(lines.length / 3); k > 0; k--) { const a = int(lines.length), b = int(lines.length); [lines[a], lines[b]] = [lines[b], lines[a]]; }
  const text: string[] = lines.map((l) => {
    let s = JSON.stringify(l).replace(/"__DEEP_(\d+)__"/g, (_, d: string) => '['.repeat(Number(d)) + ']'.repeat(Number(d)));
    if (r() < 0.02) s = s.replace(/1e\+?308/, '1e999'); // Infinity after JSON.parse
    if (r() < 0.02) s = s.slice(0, int(s.length));
    if (r() < 0.01) s = `${s}\u0000garbage`;
    return s;
  });
  if (r() < 0.02) text.splice(int(text.length), 0, 'y'.repeat(5 * 1024 * 1024)); // over the line bound
  let all = text.join(r() < 0.05 ? '\r\n' : '\n') + (r() < 0.8 ? '\n' : '');
  if (r() < 0.2) all = all.slice(0, int(all.length));
  return all;
}

function markdownHasLink(md: string): boolean {
  const own = /\[\$\([a-z-]+\)\]\(command:asyncTrace\.(revealTask|showTimeline)\?[^ )]*(?: "[^"]*")?\)/g;
  let text = md.replace(own, '');
  if (/`[^`]*\]\([^`]*`/.test(text)) return true;
  text = text.replace(/`[^`]*`/g, '').replace(/\\./g, '');
  return /\]\(|https?:\/\/|www\.|<[a-z!]|\$\(/i.test(text) || /[\u202a-\u202e\u2066-\u2069]/.test(text);
}

test(`fuzz: ${TRACES} hostile traces through the reader and every builder of what is shown (seed ${SEED})`, () => {
  const r = rng(SEED);
  const t = tree.plainLocalize;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  let maxHeap = 0;
  let slowest = 0;
  let checked = 0;
  const neutral = (s: unknown, where: string, seed: number) => {
    if (typeof s !== 'string') return;
    checked++;
    if (hasLinkSyntax(s)) assert.fail(`trace #${seed}: ${where} not neutral: ${JSON.stringify(s.slice(0, 200))}`);
  };
  for (let n = 0; n < TRACES; n++) {
    const text = build(r);
    const live = r() < 0.3;
    const run = new TraceRun(`k${n}`, r() < 0.5 ? 'fuzz' : '[l](command:x)', { live });
    const bytes = r() < 0.5;
    const data: string | Uint8Array = bytes ? Buffer.from(text) : text;
    let chunks: number[] = [];
    const timed = (what: string, fn: () => void) => {
      const t0 = performance.now();
      try {
        fn();
      } catch (err) {
        // ASYNC_TRACE_FUZZ_DUMP=file keeps the failing trace whole, to replay it.
        if (process.env.ASYNC_TRACE_FUZZ_DUMP) require('node:fs').writeFileSync(process.env.ASYNC_TRACE_FUZZ_DUMP, JSON.stringify({ text, chunks, bytes, live }));
        assert.fail(`trace #${n} (seed ${SEED}): ${what} threw ${(err as Error)?.stack ?? err}\n${text.slice(0, 2000)}`);
      }
      const ms = performance.now() - t0;
      if (ms > slowest) slowest = ms;
      assert.ok(ms < STEP_BOUND_MS, `trace #${n}: ${what} took ${ms.toFixed(0)} ms`);
    };
    let pos = 0;
    chunks = [];
    while (pos < data.length) {
      const len = 1 + Math.floor(r() * (r() < 0.5 ? 64 : 65536));
      chunks.push(len);
      const chunk = data.slice(pos, pos + len);
      pos += len;
      timed('ingest', () => run.ingest(chunk));
    }
    if (!live) timed('finish', () => run.finish());

    timed('builders', () => {
      neutral(tree.programLabel(run), 'program label', n);
      neutral(tree.runDescription(run, t, (iso) => iso), 'run description', n);
      for (const [k, v] of tree.runTooltipRows(run, t, '/x')) { neutral(k, 'run tooltip', n); neutral(v, 'run tooltip', n); }
      for (const l of tree.issueLines(run, t)) neutral(l, 'issue line', n);
      const blocks = new tree.BlockIndex();
      blocks.update(run);
      let k = 0;
      for (const task of run.tasks.values()) {
        if (k++ > 40) break;
        neutral(tree.taskName(run, task.id), 'task label', n);
        neutral(tree.taskDescription(run, task, t), 'task description', n);
        for (const [a, b] of tree.taskTooltipRows(run, task, t)) { neutral(a, 'task tooltip', n); neutral(b, 'task tooltip', n); }
        for (const row of tree.taskDetails(run, task, blocks.of(task.id), t)) {
          neutral(row.label, 'detail label', n);
          neutral(row.description, 'detail description', n);
          for (const l of row.tooltip) neutral(l, 'detail tooltip', n);
        }
        // Ancestor walks (reveal, filter) end.
        let depth = 0;
        for (let p: number | null = task.id; p !== null; p = tree.treeParent(run, p)) assert.ok(++depth <= run.tasks.size + 1, `trace #${n}: reveal walk loops`);
        assert.ok(!/[\]$]\(/.test(markdownText(task.name)) && !markdownHasLink(markdownText(task.name)), `trace #${n}: markdown of a name`);
      }
      visibleTaskIds(run, { text: 'a', states: ['alive'] });
      // Every task is reachable from the roots (no task hidden by a cycle).
      const reached = new Set<number>();
      const stack = [...tree.visibleChildren(run, null, undefined)];
      while (stack.length) {
        const id = stack.pop()!;
        if (reached.has(id)) continue;
        reached.add(id);
        stack.push(...tree.visibleChildren(run, id, undefined));
      }
      for (const id of reached) assert.ok(run.tasks.has(id), `trace #${n}: the tree lists task ${id}, which the model does not have`);
      if (reached.size !== run.tasks.size) {
        const missing = [...run.tasks.values()].filter((x) => !reached.has(x.id))
          .map((x) => ({ id: x.id, parent: x.parent, parentKnown: x.parent !== null && run.tasks.has(x.parent), roots: run.roots.includes(x.id) }));
        assert.fail(`trace #${n}: tasks missing from the tree: ${JSON.stringify(missing)} (roots ${JSON.stringify(run.roots)})`);
      }

      const annotator = new ann.LineAnnotator(run);
      annotator.update();
      const snap = annotator.snapshot();
      for (const f of snap.files.values()) {
        for (const [line, info] of f.lines) {
          for (const h of ann.lineHints(run, info)) neutral(h.text, 'source hint', n);
          const md = hoverMarkdown(run, info, info.await ? annotator.tasksAt(f.file, line) : []) as unknown as MarkdownString;
          assert.ok(!markdownHasLink(md.value), `trace #${n}: hover has a link: ${md.value.slice(0, 500)}`);
        }
      }
      for (const p of collectProblems(run, snap)) {
        neutral(p.message, 'problem', n);
        for (const rel of p.related) neutral(rel.message, 'related problem', n);
      }
      annotator.dispose();
      // The timeline's columns (ids as Float64, strings as given: the webview draws text only).
      new GanttEncoder(run).initial({} as never);
    });
    if (n % 100 === 99) {
      gc?.();
      const heap = process.memoryUsage().heapUsed - heap0;
      if (heap > maxHeap) maxHeap = heap;
      assert.ok(heap < HEAP_BOUND_MB * 1024 * 1024, `heap grew by ${(heap / 1048576).toFixed(0)} MB after ${n + 1} traces`);
    }
  }
  assert.ok(checked > TRACES, 'strings were checked');
  console.log(`# fuzz: ${TRACES} traces (seed ${SEED}), ${checked} shown strings checked, slowest step ${slowest.toFixed(0)} ms, heap growth max ${(maxHeap / 1048576).toFixed(0)} MB`);
});
